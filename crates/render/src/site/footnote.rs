//! Footnotes that lead back, at the end of the article: each reference gets an id, and each
//! definition ends with a link back to where it was first referenced (pulldown-cmark writes
//! neither). pulldown-cmark leaves a definition where it is written; Jekyll (kramdown) and Hugo
//! (goldmark) gather them after the text, which is where a moved post's readers find them, so
//! they are gathered there, in the order of their numbers.
//!
//! An adapter over the Markdown events: references and definitions become HTML written here,
//! numbered by first reference (an unreferenced definition after those, in the order written),
//! everything else passes through. Spelt as the sanitiser writes it, so a post's HTML is the
//! same whether it needed sanitising or not.

use std::collections::HashMap;

use pulldown_cmark::{CowStr, Event, Tag, TagEnd};

use super::text::xml_escape;

/// The events of `inner`, footnotes rewritten and their definitions moved to the end.
pub(super) struct BackLinks<'a, I> {
    inner: I,
    /// Each footnote's number and how often it has been referenced so far.
    numbers: HashMap<String, (usize, usize)>,
    /// The definition being read: its name and its events.
    open: Option<(String, Vec<Event<'a>>)>,
    /// The definitions read, as written.
    definitions: Vec<(String, Vec<Event<'a>>)>,
    /// Once `inner` is done: the definitions' events, to hand out last.
    end: Option<std::vec::IntoIter<Event<'a>>>,
}

impl<'a, I> BackLinks<'a, I> {
    /// Wraps `inner`.
    pub(super) fn new(inner: I) -> BackLinks<'a, I> {
        BackLinks {
            inner,
            numbers: HashMap::new(),
            open: None,
            definitions: Vec::new(),
            end: None,
        }
    }

    /// The footnote's number, given one now if it has none.
    fn number(&mut self, name: &str) -> &mut (usize, usize) {
        let next = self.numbers.len() + 1;
        self.numbers.entry(name.to_string()).or_insert((next, 0))
    }

    /// The reference to footnote `name`, as HTML.
    fn reference(&mut self, name: &str) -> Event<'a> {
        let entry = self.number(name);
        entry.1 += 1;
        let (n, seen) = *entry;
        let id = match seen {
            1 => format!("fnref-{name}"),
            _ => format!("fnref-{name}-{seen}"),
        };
        Event::InlineHtml(CowStr::from(format!(
            "<sup class=\"footnote-reference\" id=\"{}\"><a href=\"#{}\">{n}</a></sup>",
            xml_escape(&id),
            xml_escape(name)
        )))
    }

    /// Every definition read, numbered, in the order of their numbers.
    fn gathered(&mut self) -> Vec<Event<'a>> {
        let definitions = std::mem::take(&mut self.definitions);
        let mut numbered: Vec<(usize, String, Vec<Event<'a>>)> = definitions
            .into_iter()
            .map(|(name, body)| (self.number(&name).0, name, body))
            .collect();
        numbered.sort_by_key(|(n, _, _)| *n);
        let mut out = Vec::new();
        for (n, name, body) in numbered {
            out.push(html(format!(
                "<div class=\"footnote-definition\" id=\"{}\">\
                 <sup class=\"footnote-definition-label\">{n}</sup>\n",
                xml_escape(&name)
            )));
            out.extend(body);
            let referenced = self.numbers.get(&name).is_some_and(|e| e.1 > 0);
            let back = match referenced {
                true => format!(
                    "<p class=\"footnote-back\"><a href=\"#{}\" class=\"footnote-backref\">\
                     ↩ Back to the text</a></p>\n",
                    xml_escape(&format!("fnref-{name}"))
                ),
                false => String::new(),
            };
            out.push(html(format!("{back}</div>\n")));
        }
        out
    }
}

fn html<'a>(text: String) -> Event<'a> {
    Event::Html(CowStr::from(text))
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for BackLinks<'a, I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            if let Some(end) = &mut self.end {
                return end.next();
            }
            let Some(event) = self.inner.next() else {
                self.end = Some(self.gathered().into_iter());
                continue;
            };
            let event = match event {
                Event::FootnoteReference(name) => self.reference(&name),
                Event::Start(Tag::FootnoteDefinition(name)) => {
                    self.open = Some((name.to_string(), Vec::new()));
                    continue;
                }
                Event::End(TagEnd::FootnoteDefinition) => {
                    self.definitions.extend(self.open.take());
                    continue;
                }
                other => other,
            };
            match &mut self.open {
                Some((_, body)) => body.push(event),
                None => return Some(event),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(markdown: &str) -> String {
        let parser = pulldown_cmark::Parser::new_ext(markdown, super::super::markdown::options());
        let mut out = String::new();
        pulldown_cmark::html::push_html(&mut out, BackLinks::new(parser));
        out
    }

    #[test]
    fn references_have_ids_and_definitions_link_back_numbered_in_reference_order() {
        let out =
            render("One[^b] two[^a] again[^b].\n\n[^a]: First.\n[^b]: Second.\n[^c]: Unused.\n");
        assert!(
            out.contains(
                "<sup class=\"footnote-reference\" id=\"fnref-b\"><a href=\"#b\">1</a></sup>"
            ),
            "{out}"
        );
        assert!(out.contains("id=\"fnref-a\"><a href=\"#a\">2</a>"), "{out}");
        assert!(
            out.contains("id=\"fnref-b-2\"><a href=\"#b\">1</a>"),
            "{out}"
        );
        assert!(out.contains("<div class=\"footnote-definition\" id=\"a\"><sup class=\"footnote-definition-label\">2</sup>"), "{out}");
        assert!(
            out.contains("<a href=\"#fnref-b\" class=\"footnote-backref\">"),
            "{out}"
        );
        // Unreferenced: numbered after the rest, nothing to go back to.
        let c = &out[out.find("id=\"c\"").unwrap()..];
        assert!(
            c.contains(">3</sup>") && !c.contains("footnote-backref"),
            "{out}"
        );
    }

    #[test]
    fn definitions_are_gathered_after_the_text_in_the_order_of_their_numbers() {
        let out = render(
            "[^z]: Written first, referenced second.\n\nOne[^a] two[^z].\n\n[^a]: Mid-text.\n\n\
             The end of the text.\n",
        );
        let end_of_text = out.find("The end of the text.").unwrap();
        let a = out.find("id=\"a\"").unwrap();
        let z = out.find("id=\"z\"").unwrap();
        assert!(end_of_text < a && a < z, "{out}");
        assert!(out[a..].starts_with("id=\"a\"><sup class=\"footnote-definition-label\">1</sup>"));
        assert!(out[z..].starts_with("id=\"z\"><sup class=\"footnote-definition-label\">2</sup>"));
        assert!(out.contains("<p>Mid-text.</p>"), "{out}");
        assert!(out.trim_end().ends_with("</div>"), "{out}");
        assert_eq!(render("No notes.\n"), "<p>No notes.</p>\n");
    }
}
