//! Code blocks highlighted once, at render time: syntect's syntax definitions turn a fenced
//! block into `<span class="hl-...">` runs named after the scopes (`hl-keyword`, `hl-string`,
//! `hl-comment`), and the stylesheet gives them colours for light and dark schemes. A block in
//! a language syntect does not know (or that fails to parse) is written plain, escaped.
//!
//! Cost: with the pure-Rust regex engine a short block takes a few milliseconds (the render
//! benchmark's posts went from about 0.05 to 7.8 ms each, one thread), which is why sites turn
//! it on with `highlight = true` rather than paying it by default.

//!
//! Built without the `highlight` feature, every block is written plain, escaped.

use pulldown_cmark::{CodeBlockKind, Event, Parser, TagEnd};
use serve::escape::xml_escape;
#[cfg(feature = "highlight")]
use syntect::{
    html::{ClassStyle, ClassedHTMLGenerator},
    parsing::SyntaxSet,
    util::LinesWithEndings,
};

/// The prefix of every highlighting class, so they cannot clash with a site's own.
#[cfg(feature = "highlight")]
const CLASS_PREFIX: &str = "hl-";

/// Blocks longer than this are written plain: highlighting is worth little there and costs
/// render time in proportion.
#[cfg(feature = "highlight")]
const MAX_HIGHLIGHTED_BYTES: usize = 256 * 1024;

#[cfg(feature = "highlight")]
fn syntaxes() -> &'static SyntaxSet {
    static SET: std::sync::OnceLock<SyntaxSet> = std::sync::OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

/// Names writers use that syntect knows under another token.
#[cfg(feature = "highlight")]
fn alias(lang: &str) -> &str {
    match lang {
        "sh" | "shell" | "console" | "zsh" | "shell-session" => "bash",
        "js" | "javascript" | "jsx" => "js",
        "ts" | "typescript" => "js",
        "yml" => "yaml",
        "c++" => "cpp",
        "golang" => "go",
        "py" | "python3" => "python",
        "rb" => "ruby",
        "rs" => "rust",
        other => other,
    }
}

/// Consumes the events of the code block just opened (up to its end) and returns the block as
/// one HTML event, highlighted when its language is known.
pub(super) fn code_block<'a>(kind: &CodeBlockKind, parser: &mut Parser<'a>) -> Event<'a> {
    let mut code = String::new();
    for event in parser.by_ref() {
        match event {
            Event::End(TagEnd::CodeBlock) => break,
            Event::Text(text) => code.push_str(&text),
            _ => {}
        }
    }
    let lang = match kind {
        CodeBlockKind::Fenced(info) => info.split([' ', ',', '{']).next().unwrap_or("").trim(),
        CodeBlockKind::Indented => "",
    };
    let class = if lang.is_empty() {
        String::new()
    } else {
        format!(" class=\"language-{}\"", xml_escape(lang))
    };
    let body = highlight(lang, &code).unwrap_or_else(|| xml_escape(&code));
    Event::Html(format!("<pre><code{class}>{body}</code></pre>\n").into())
}

/// `code` as highlighted spans, or `None` when `lang` is unknown or parsing fails.
#[cfg(feature = "highlight")]
pub(super) fn highlight(lang: &str, code: &str) -> Option<String> {
    if lang.is_empty() || code.len() > MAX_HIGHLIGHTED_BYTES {
        return None;
    }
    let set = syntaxes();
    let token = alias(&lang.to_ascii_lowercase()).to_string();
    let syntax = set.find_syntax_by_token(&token)?;
    let mut generator = ClassedHTMLGenerator::new_with_class_style(
        syntax,
        set,
        ClassStyle::SpacedPrefixed {
            prefix: CLASS_PREFIX,
        },
    );
    for line in LinesWithEndings::from(code) {
        generator
            .parse_html_for_line_which_includes_newline(line)
            .ok()?;
    }
    Some(generator.finalize())
}

/// Without the `highlight` feature: every block plain.
#[cfg(not(feature = "highlight"))]
pub(super) fn highlight(_lang: &str, _code: &str) -> Option<String> {
    None
}

#[cfg(all(test, feature = "highlight"))]
mod tests {
    use super::*;

    #[test]
    fn known_languages_get_spans() {
        let html = highlight("rust", "fn main() { let s = \"<a>\"; } // done\n").unwrap();
        assert!(
            html.contains("hl-keyword") || html.contains("hl-storage"),
            "{html}"
        );
        assert!(html.contains("hl-string"), "{html}");
        assert!(html.contains("hl-comment"), "{html}");
        assert!(html.contains("&lt;a&gt;"), "{html}");
        assert!(highlight("rb", "p(\"a\")\n").unwrap().contains("hl-"));
        assert!(highlight("no-such-language", "x").is_none());
        assert!(highlight("", "x").is_none());
    }
}
