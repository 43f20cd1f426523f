//! Footnotes that lead back: each reference gets an id, and each definition ends with a link
//! back to where it was first referenced (pulldown-cmark writes neither).
//!
//! An adapter over the Markdown events: references and definitions become HTML written here,
//! numbered as pulldown-cmark numbers them (by first reference, an unreferenced definition
//! after those), everything else passes through. Spelt as the sanitiser writes it, so a post's
//! HTML is the same whether it needed sanitising or not.

use std::collections::HashMap;

use pulldown_cmark::{CowStr, Event, Tag, TagEnd};

use super::text::xml_escape;

/// The events of `inner`, footnotes rewritten.
pub struct BackLinks<I> {
    inner: I,
    /// Each footnote's number and how often it has been referenced so far.
    numbers: HashMap<String, (usize, usize)>,
    /// The definitions being written (a definition can hold none, but keep a stack anyway).
    open: Vec<String>,
}

impl<I> BackLinks<I> {
    /// Wraps `inner`.
    pub fn new(inner: I) -> BackLinks<I> {
        BackLinks {
            inner,
            numbers: HashMap::new(),
            open: Vec::new(),
        }
    }

    /// The footnote's number, given one now if it has none.
    fn number(&mut self, name: &str) -> &mut (usize, usize) {
        let next = self.numbers.len() + 1;
        self.numbers.entry(name.to_string()).or_insert((next, 0))
    }
}

fn html<'a>(text: String) -> Event<'a> {
    Event::Html(CowStr::from(text))
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for BackLinks<I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        let event = self.inner.next()?;
        Some(match event {
            Event::FootnoteReference(name) => {
                let entry = self.number(&name);
                entry.1 += 1;
                let (n, seen) = *entry;
                let id = match seen {
                    1 => format!("fnref-{name}"),
                    _ => format!("fnref-{name}-{seen}"),
                };
                Event::InlineHtml(CowStr::from(format!(
                    "<sup class=\"footnote-reference\" id=\"{}\"><a href=\"#{}\">{n}</a></sup>",
                    xml_escape(&id),
                    xml_escape(&name)
                )))
            }
            Event::Start(Tag::FootnoteDefinition(name)) => {
                let (n, _) = *self.number(&name);
                self.open.push(name.to_string());
                html(format!(
                    "<div class=\"footnote-definition\" id=\"{}\">\
                     <sup class=\"footnote-definition-label\">{n}</sup>\n",
                    xml_escape(&name)
                ))
            }
            Event::End(TagEnd::FootnoteDefinition) => {
                let name = self.open.pop().unwrap_or_default();
                let referenced = self.numbers.get(&name).is_some_and(|e| e.1 > 0);
                let back = match referenced {
                    true => format!(
                        "<p class=\"footnote-back\"><a href=\"#{}\" class=\"footnote-backref\">\
                         ↩ Back to the text</a></p>\n",
                        xml_escape(&format!("fnref-{name}"))
                    ),
                    false => String::new(),
                };
                html(format!("{back}</div>\n"))
            }
            other => other,
        })
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
}
