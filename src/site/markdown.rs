//! Markdown to HTML with pulldown-cmark: tables, footnotes, strikethrough, task lists, smart
//! punctuation and `{#id}` heading attributes; every heading gets a stable anchor id; code blocks
//! can be highlighted ([`super::highlight`]).

use std::collections::{HashSet, VecDeque};

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

use super::text::slugify;

/// A post body rendered to HTML, with what the listing pages need from it.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// The body as HTML.
    pub html: String,
    /// The plain text of the first heading, when `take_title` was asked for and one exists.
    pub title: Option<String>,
    /// Plain text of the first paragraph, shortened to about [`SUMMARY_CHARS`] characters.
    pub summary: String,
}

/// Roughly how long an automatic summary may be, in characters.
pub const SUMMARY_CHARS: usize = 280;

/// The pulldown-cmark extensions forkblog turns on.
pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// Renders `markdown`. With `take_title`, the first heading's text is returned as the title,
/// and when that heading opens the document it is left out of the HTML (the page template shows
/// the title itself). Heading ids come from `{#id}` when given, else from the heading text,
/// made unique within the document with `-1`, `-2`, ...
pub fn render(markdown: &str, take_title: bool) -> Rendered {
    render_with(markdown, take_title, false)
}

/// [`render`], with code blocks highlighted when `highlight` is set.
pub fn render_with(markdown: &str, take_title: bool, highlight: bool) -> Rendered {
    let mut events = Events {
        highlight,
        parser: Parser::new_ext(markdown, options()),
        queue: VecDeque::new(),
        used_ids: HashSet::new(),
        take_title,
        title: None,
        summary: String::new(),
        summary_state: SummaryState::Waiting,
        at_start: true,
    };
    let mut html = String::with_capacity(markdown.len() * 2);
    pulldown_cmark::html::push_html(&mut html, &mut events);
    Rendered {
        html,
        title: events.title,
        summary: shorten(events.summary.trim(), SUMMARY_CHARS),
    }
}

/// The parser's events, streamed to the HTML writer with heading ids filled in (only a heading's
/// own events are buffered), the title heading taken out, and the summary collected on the way.
struct Events<'a> {
    parser: Parser<'a>,
    /// Events of a rewritten heading, waiting to be handed out.
    queue: VecDeque<Event<'a>>,
    used_ids: HashSet<String>,
    take_title: bool,
    title: Option<String>,
    summary: String,
    summary_state: SummaryState,
    /// Nothing but (possibly) headings seen so far.
    at_start: bool,
    /// Code blocks go through [`super::highlight`].
    highlight: bool,
}

enum SummaryState {
    Waiting,
    Collecting,
    Done,
}

impl Events<'_> {
    /// Collects the plain text of the first paragraph.
    fn observe(&mut self, event: &Event) {
        match self.summary_state {
            SummaryState::Waiting => {
                if matches!(event, Event::Start(Tag::Paragraph)) {
                    self.summary_state = SummaryState::Collecting;
                }
            }
            SummaryState::Collecting => match event {
                Event::End(TagEnd::Paragraph) => self.summary_state = SummaryState::Done,
                Event::Text(t) | Event::Code(t) => self.summary.push_str(t),
                Event::SoftBreak | Event::HardBreak => self.summary.push(' '),
                _ => {}
            },
            SummaryState::Done => {}
        }
    }
}

impl<'a> Iterator for Events<'a> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        if let Some(event) = self.queue.pop_front() {
            return Some(event);
        }
        loop {
            let event = self.parser.next()?;
            if let (true, Event::Start(Tag::CodeBlock(kind))) = (self.highlight, &event) {
                self.at_start = false;
                return Some(super::highlight::code_block(kind, &mut self.parser));
            }
            self.observe(&event);
            let Event::Start(start @ Tag::Heading { .. }) = event else {
                self.at_start = false;
                return Some(event);
            };
            let mut inner = Vec::new();
            let end = loop {
                match self.parser.next() {
                    None => break None,
                    Some(end @ Event::End(TagEnd::Heading(_))) => break Some(end),
                    Some(other) => {
                        self.observe(&other);
                        inner.push(other);
                    }
                }
            };
            let text = plain_text(&inner);
            let opening_title = self.take_title && self.title.is_none() && self.at_start;
            if self.take_title && self.title.is_none() {
                self.title = Some(text.clone());
            }
            self.at_start = false;
            if opening_title {
                continue;
            }
            let start = match start {
                Tag::Heading {
                    level,
                    id,
                    classes,
                    attrs,
                } => {
                    let id = match id {
                        Some(id) => {
                            self.used_ids.insert(id.to_string());
                            id
                        }
                        None => CowStr::from(unique_id(&text, &mut self.used_ids)),
                    };
                    Tag::Heading {
                        level,
                        id: Some(id),
                        classes,
                        attrs,
                    }
                }
                other => other,
            };
            self.queue.extend(inner);
            self.queue.extend(end);
            return Some(Event::Start(start));
        }
    }
}

/// The text content of inline events.
fn plain_text(events: &[Event]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) => text.push_str(t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            _ => {}
        }
    }
    text.trim().to_string()
}

/// A heading id from its text, not yet in `used` (then recorded there).
fn unique_id(text: &str, used: &mut HashSet<String>) -> String {
    let base = if text.chars().any(char::is_alphanumeric) {
        slugify(text)
    } else {
        "section".to_string()
    };
    let mut id = base.clone();
    let mut n = 0;
    while used.contains(&id) {
        n += 1;
        id = format!("{base}-{n}");
    }
    used.insert(id.clone());
    id
}

/// `text` cut at a word boundary to at most about `max` characters, with an ellipsis if cut.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => {
            let head = &text[..cut];
            let head = match head.rfind(char::is_whitespace) {
                Some(space) if space > cut / 2 => &head[..space],
                _ => head,
            };
            format!(
                "{}…",
                head.trim_end_matches(|c: char| c.is_whitespace() || c.is_ascii_punctuation())
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_and_ids() {
        let md = "# Intro\n\nSome \"quoted\" text[^1] and ~~gone~~.\n\n## Intro\n\n## Custom {#mine}\n\n\
                  | a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n\n```rust\nfn main() {}\n```\n\n\
                  [ext](https://example.com/a?b=c&d)\n\n[^1]: A note.\n";
        let r = render(md, false);
        assert!(r.html.contains("<h1 id=\"intro\">Intro</h1>"), "{}", r.html);
        assert!(r.html.contains("<h2 id=\"intro-1\">Intro</h2>"));
        assert!(r.html.contains("<h2 id=\"mine\">Custom</h2>"));
        assert!(r.html.contains("<table>"));
        assert!(r.html.contains("<del>gone</del>"));
        assert!(r.html.contains("\u{201c}quoted\u{201d}"));
        assert!(r.html.contains("type=\"checkbox\""));
        assert!(r.html.contains("class=\"language-rust\""));
        assert!(r.html.contains("href=\"https://example.com/a?b=c&amp;d\""));
        assert!(r.html.contains("footnote-definition"));
        assert_eq!(r.title, None);
        assert!(
            r.summary.starts_with("Some \u{201c}quoted\u{201d} text"),
            "{}",
            r.summary
        );
    }

    #[test]
    fn title_from_first_heading() {
        let r = render("My Setext Title\n===============\n\nBody text.\n", true);
        assert_eq!(r.title.as_deref(), Some("My Setext Title"));
        assert!(!r.html.contains("<h1"), "{}", r.html);
        let r = render("Intro paragraph.\n\n# Later *heading*\n", true);
        assert_eq!(r.title.as_deref(), Some("Later heading"));
        assert!(r.html.contains("<h1 id=\"later-heading\">"));
    }

    #[test]
    fn summaries_are_short() {
        let long = "word ".repeat(200);
        let s = shorten(long.trim(), 50);
        assert!(s.chars().count() <= 51 && s.ends_with('…'), "{s}");
        assert_eq!(shorten("short", 50), "short");
    }
}
