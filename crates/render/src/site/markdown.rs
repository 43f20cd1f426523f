//! Markdown to HTML with pulldown-cmark: tables, footnotes, strikethrough, task lists, smart
//! punctuation and `{#id}` heading attributes; every heading gets a stable anchor id; code blocks
//! can be highlighted ([`super::highlight`]). Then, unless the site sets `unsafe_html = true`,
//! [`sanitize`] cleans the HTML with ammonia.

use std::collections::{HashSet, VecDeque};
use std::sync::LazyLock;

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
    /// Whether the HTML holds anything pulldown-cmark passes through as written: raw HTML,
    /// `{key=value}` heading attributes, or a link or image URL that is not plainly relative,
    /// `http`, `https` or `mailto`. Only then does [`sanitize`] have anything to remove:
    /// everything else pulldown-cmark writes is escaped by construction.
    pub needs_sanitizing: bool,
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
    render_with(markdown, take_title, Extras::default())
}

/// What a site may turn on beyond plain CommonMark and its usual extensions.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras {
    /// Code blocks highlighted ([`super::highlight`]).
    pub highlight: bool,
    /// `$...$` and `$$...$$` rendered to MathML ([`math`]).
    pub math: bool,
    /// A table of contents before the text, from its headings ([`super::toc`]).
    pub toc: bool,
}

/// [`render`], with the `extras` the site turns on.
pub fn render_with(markdown: &str, take_title: bool, extras: Extras) -> Rendered {
    let mut options = options();
    if extras.math {
        options |= Options::ENABLE_MATH;
    }
    let mut events = Events {
        highlight: extras.highlight,
        parser: Parser::new_ext(markdown, options),
        queue: VecDeque::new(),
        used_ids: HashSet::new(),
        take_title,
        title: None,
        summary: String::new(),
        summary_state: SummaryState::Waiting,
        at_start: true,
        needs_sanitizing: false,
        headings: Vec::new(),
    };
    let mut html = String::with_capacity(markdown.len() * 2);
    pulldown_cmark::html::push_html(&mut html, super::footnote::BackLinks::new(&mut events));
    if extras.toc {
        html.insert_str(0, &super::toc::contents(&events.headings));
    }
    Rendered {
        html,
        title: events.title,
        summary: shorten(events.summary.trim(), SUMMARY_CHARS),
        needs_sanitizing: events.needs_sanitizing,
    }
}

/// MathML Core's elements, which the math renderer writes and the sanitiser lets through.
const MATHML_TAGS: [&str; 27] = [
    "math",
    "semantics",
    "annotation",
    "mrow",
    "mi",
    "mn",
    "mo",
    "mtext",
    "mspace",
    "ms",
    "msup",
    "msub",
    "msubsup",
    "mfrac",
    "msqrt",
    "mroot",
    "mover",
    "munder",
    "munderover",
    "mtable",
    "mtr",
    "mtd",
    "mstyle",
    "mpadded",
    "mphantom",
    "menclose",
    "merror",
];

/// The sanitiser: ammonia's defaults (no scripts, styles, event handlers, frames or forms, and
/// only well-known URL schemes, so no `javascript:` links), plus what pulldown-cmark itself
/// writes and the defaults lack: heading ids and classes (anchors, footnotes, code languages),
/// task-list checkboxes, and table-cell alignment (the `text-align` style and nothing else).
/// Links keep their `rel` as written: a post linking out is not a reason to rewrite it.
static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .add_generic_attributes(["id", "class"])
        .add_tags(["input"])
        .add_tag_attributes("input", ["checked", "disabled", "aria-label"])
        .add_tag_attributes("nav", ["aria-label"])
        .add_tag_attribute_values("input", "type", ["checkbox"])
        .add_tag_attributes("th", ["style"])
        .add_tag_attributes("td", ["style"])
        // Links to other posts are still markers when a post is sanitised; they become paths
        // once every post is known (see `super::liquid::MARKER_PREFIX`).
        .add_url_schemes(["forkblog-link"])
        .add_tags(MATHML_TAGS)
        .add_tag_attributes("math", ["display", "xmlns"])
        .add_tag_attributes(
            "mo",
            [
                "stretchy",
                "fence",
                "separator",
                "form",
                "lspace",
                "rspace",
                "largeop",
                "movablelimits",
                "symmetric",
                "minsize",
                "maxsize",
            ],
        )
        .add_tag_attributes("mi", ["mathvariant"])
        .add_tag_attributes("mstyle", ["displaystyle", "scriptlevel", "mathcolor"])
        .add_tag_attributes("mspace", ["width"])
        .add_tag_attributes("mpadded", ["width", "lspace", "voffset"])
        .add_tag_attributes("mfrac", ["linethickness"])
        .add_tag_attributes("mtd", ["columnspan", "rowspan"])
        .add_tag_attributes("annotation", ["encoding"])
        .filter_style_properties(HashSet::from(["text-align"]))
        .link_rel(None)
        // Video embeds from well-known players (blogs moving in carry them): an `<iframe>` keeps
        // its `src` only when it points at one of them.
        .add_tags(["iframe"])
        .add_tag_attributes(
            "iframe",
            [
                "src",
                "width",
                "height",
                "title",
                "allowfullscreen",
                "frameborder",
            ],
        )
        .attribute_filter(|element, attribute, value| {
            if element == "iframe" && attribute == "src" && !is_video_player(value) {
                None
            } else {
                Some(value.into())
            }
        });
    builder
});

/// Whether `src` is an embedded player of an allowed video provider.
fn is_video_player(src: &str) -> bool {
    const PLAYERS: &[&str] = &[
        "https://www.youtube.com/embed/",
        "https://www.youtube-nocookie.com/embed/",
        "https://youtube.com/embed/",
        "https://player.vimeo.com/video/",
        "https://www.dailymotion.com/embed/video/",
        "https://player.twitch.tv/",
        "https://www.loom.com/embed/",
    ];
    PLAYERS.iter().any(|p| src.starts_with(p)) && !src.contains(['"', '<', '>', ' '])
}

/// `html` with everything that could run script removed: `<script>`, `<style>`, `<iframe>` (but
/// for video players, see [`is_video_player`]),
/// `on*=` handlers, `javascript:` and other unknown-scheme URLs, and any tag or attribute not on
/// the allowed list (their text stays). Safe for a page and, escaped, for the feed.
pub fn sanitize(html: &str) -> String {
    let clean = SANITIZER.clean(html).to_string();
    if clean.contains("<iframe") {
        drop_bare_iframes(&clean)
    } else {
        clean
    }
}

/// `html` (the sanitiser's output) without the `<iframe>`s whose `src` it removed.
fn drop_bare_iframes(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find("<iframe") {
        out.push_str(&rest[..at]);
        let tag_end = rest[at..].find('>').map_or(rest.len(), |e| at + e + 1);
        let close = rest[at..]
            .find("</iframe>")
            .map_or(rest.len(), |e| at + e + "</iframe>".len());
        if rest[at..tag_end].contains(" src=\"") {
            out.push_str(&rest[at..close]);
        }
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// TeX as MathML Core, rendered at render time (no JavaScript in the page). Commands the
/// renderer does not know are shown in red within the formula, as TeX engines do.
pub fn math(tex: &str, display: bool) -> String {
    use pulldown_latex::config::DisplayMode;
    let storage = pulldown_latex::Storage::new();
    let parser = pulldown_latex::Parser::new(tex, &storage);
    let config = pulldown_latex::RenderConfig {
        display_mode: match display {
            true => DisplayMode::Block,
            false => DisplayMode::Inline,
        },
        ..Default::default()
    };
    let mut mathml = String::new();
    match pulldown_latex::push_mathml(&mut mathml, parser, config) {
        Ok(()) => mathml,
        Err(_) => format!("<code>{}</code>", super::text::xml_escape(tex)),
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
    /// See [`Rendered::needs_sanitizing`].
    needs_sanitizing: bool,
    /// Code blocks go through [`super::highlight`].
    highlight: bool,
    /// Every heading written (not the one taken as the title): level, id, text.
    headings: Vec<(u8, String, String)>,
}

enum SummaryState {
    Waiting,
    Collecting,
    Done,
}

impl Events<'_> {
    /// Collects the plain text of the first paragraph, and notes whether `event` passes anything
    /// through unescaped.
    fn observe(&mut self, event: &Event) {
        self.needs_sanitizing |= match event {
            Event::Html(_) | Event::InlineHtml(_) => true,
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                !plainly_safe_url(dest_url)
            }
            Event::Start(Tag::Heading { attrs, .. }) => !attrs.is_empty(),
            _ => false,
        };
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
            // TeX becomes MathML written by forkblog itself: trusted, so not counted as raw HTML
            // (the sanitiser allows MathML all the same).
            if let Event::InlineMath(tex) | Event::DisplayMath(tex) = &event {
                self.at_start = false;
                let display = matches!(event, Event::DisplayMath(_));
                return Some(Event::InlineHtml(math(tex, display).into()));
            }
            if let Event::TaskListMarker(done) = event {
                self.at_start = false;
                return Some(Event::InlineHtml(task_box(done).into()));
            }
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
                    self.headings
                        .push((level as u8, id.to_string(), text.clone()));
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

/// A task list's checkbox, named for assistive technology (a box without a name is announced
/// as a bare "checkbox"), which pulldown-cmark writes without one. Spelt as the sanitiser
/// writes it, so a post's HTML is the same whether it needed sanitising or not.
fn task_box(done: bool) -> &'static str {
    match done {
        true => "<input type=\"checkbox\" disabled=\"\" checked=\"\" aria-label=\"Done\"> ",
        false => "<input type=\"checkbox\" disabled=\"\" aria-label=\"To do\"> ",
    }
}

/// Whether a link's URL can only be relative or `http:`, `https:` or `mailto:` however a
/// browser reads it. Anything unusual (a control character, a space, non-ASCII, another scheme)
/// is left for the sanitiser to judge.
fn plainly_safe_url(url: &str) -> bool {
    if url.bytes().any(|b| b <= b' ' || b >= 0x7f) {
        return false;
    }
    match url.find([':', '/', '?', '#']) {
        Some(at) if url.as_bytes()[at] == b':' => {
            let scheme = &url[..at];
            ["http", "https", "mailto"]
                .iter()
                .any(|s| scheme.eq_ignore_ascii_case(s))
        }
        _ => true,
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
    fn only_what_passes_through_unescaped_needs_sanitizing() {
        for plain in [
            "# T {#id .class}\n\nText & 1 < 2 in `<code>`, **bold**.",
            "[a](/x) [b](https://e.org/?q=1) [c](mailto:a@b.c) [d](#top) [e](x/y:z) ![i](p.png)",
            "| a |\n|--:|\n| 1 |\n\n- [x] done\n\nNote[^n].\n\n[^n]: Foot.",
        ] {
            assert!(!render(plain, false).needs_sanitizing, "{plain}");
        }
        for raw in [
            "<div>x</div>",
            "a <span>b</span>",
            "<!-- comment -->",
            "# T {onclick=x}",
            "[a](javascript:alert(1))",
            "[a](JavaScript:alert(1))",
            "[a](java&#x09;script:alert(1))",
            "[a](<java script:x>)",
            "<javascript:alert(1)>",
            "![i](data:image/svg+xml,x)",
            "[a](vbscript:x)",
        ] {
            assert!(render(raw, false).needs_sanitizing, "{raw}");
        }
    }

    #[test]
    fn summaries_are_short() {
        let long = "word ".repeat(200);
        let s = shorten(long.trim(), 50);
        assert!(s.chars().count() <= 51 && s.ends_with('…'), "{s}");
        assert_eq!(shorten("short", 50), "short");
    }

    #[test]
    fn tex_becomes_mathml_only_when_asked() {
        let source = "Euler: $e^{i\\pi} + 1 = 0$\n\n$$\\frac{a}{b}$$\n\nPrice: $5 and $6.";
        let on = Extras {
            math: true,
            ..Extras::default()
        };
        let html = render_with(source, false, on).html;
        assert!(html.contains("<math"), "{html}");
        assert!(html.contains("<mfrac>"), "{html}");
        assert!(html.contains("display=\"block\""), "{html}");
        assert!(!render_with(source, false, on).needs_sanitizing);
        let off = render(source, false).html;
        assert!(
            !off.contains("<math") && off.contains("$e^{i\\pi} + 1 = 0$"),
            "{off}"
        );
        // The sanitiser keeps MathML when a post also holds raw HTML.
        let mixed = render_with("$x^2$ <script>alert(1)</script>", false, on).html;
        let clean = sanitize(&mixed);
        assert!(
            clean.contains("<msup>") && !clean.contains("<script"),
            "{clean}"
        );
    }
}
