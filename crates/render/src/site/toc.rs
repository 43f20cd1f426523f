//! The opt-in table of contents (`toc = true` in a post's front matter or in the settings): a
//! list of the post's headings, linked to their ids, put before its text.

use super::text::xml_escape;

/// The headings a post needs before it gets a table of contents.
const AT_LEAST: usize = 2;

/// The table of contents for `headings` (level, id, text, in order), or nothing for a post with
/// fewer than [`AT_LEAST`]. Nested by level: a heading deeper than the one before opens a list
/// within it, whatever the jump (an `h2` then an `h4` nests once).
pub(super) fn contents(headings: &[(u8, String, String)]) -> String {
    if headings.len() < AT_LEAST {
        return String::new();
    }
    let mut out = String::from("<nav class=\"toc\" aria-label=\"Contents\">\n<ol>\n");
    // The levels of the lists open now, the outermost first.
    let mut open: Vec<u8> = vec![headings[0].0];
    for (i, (level, id, text)) in headings.iter().enumerate() {
        if i > 0 {
            if *level > *open.last().unwrap_or(&0) {
                out.push_str("\n<ol>\n");
                open.push(*level);
            } else {
                out.push_str("</li>\n");
                while open.len() > 1 && *level < *open.last().unwrap_or(&0) {
                    open.pop();
                    out.push_str("</ol>\n</li>\n");
                }
            }
        }
        out.push_str(&format!(
            "<li><a href=\"#{}\">{}</a>",
            xml_escape(id),
            xml_escape(text)
        ));
    }
    out.push_str("</li>\n");
    for _ in 1..open.len() {
        out.push_str("</ol>\n</li>\n");
    }
    out.push_str("</ol>\n</nav>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(level: u8, id: &str) -> (u8, String, String) {
        (level, id.to_string(), id.to_uppercase())
    }

    #[test]
    fn headings_nest_by_level_and_a_short_post_gets_none() {
        assert_eq!(contents(&[h(2, "only")]), "");
        let toc = contents(&[h(2, "a"), h(3, "b"), h(4, "c"), h(2, "d"), h(3, "e")]);
        let expected = "<nav class=\"toc\" aria-label=\"Contents\">\n<ol>\n\
            <li><a href=\"#a\">A</a>\n<ol>\n<li><a href=\"#b\">B</a>\n<ol>\n\
            <li><a href=\"#c\">C</a></li>\n</ol>\n</li>\n</ol>\n</li>\n\
            <li><a href=\"#d\">D</a>\n<ol>\n<li><a href=\"#e\">E</a></li>\n</ol>\n</li>\n\
            </ol>\n</nav>\n";
        assert_eq!(toc, expected);
        assert_eq!(toc.matches("<ol>").count(), toc.matches("</ol>").count());
    }
}
