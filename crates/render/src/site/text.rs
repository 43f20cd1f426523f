//! Small text helpers shared by the site modules: slugs and line numbers; URL path encoding and
//! XML escaping are the server's too (`serve::escape`).

use std::fmt::Write as _;

pub use serve::escape::{encode_path, xml_escape};

/// Turns `text` into a URL-safe slug: lowercase letters and digits (any script) joined by
/// single `-`. Never empty: text with no letters or digits becomes `x` followed by the hex of
/// its bytes, so distinct inputs keep distinct slugs.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    let mut pending_dash = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if pending_dash && !slug.is_empty() {
                slug.push('-');
            }
            pending_dash = false;
            // ASCII, the usual case, without the general case mapping's lookup.
            match c.is_ascii() {
                true => slug.push(c.to_ascii_lowercase()),
                false => slug.extend(c.to_lowercase()),
            }
        } else if c == '\'' || c == '\u{2019}' {
            // "don't" -> "dont", not "don-t".
        } else {
            pending_dash = true;
        }
    }
    if slug.is_empty() {
        slug.push('x');
        for b in text.bytes() {
            let _ = write!(slug, "{b:02x}");
        }
    }
    slug
}

/// The 1-based line number of byte `offset` in `text` (offsets past the end count as the
/// last line).
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("Hello, World!"), "hello-world");
        assert_eq!(slugify("  Fork & exec  "), "fork-exec");
        assert_eq!(slugify("Don't panic"), "dont-panic");
        assert_eq!(slugify("Café crème"), "café-crème");
        assert_eq!(slugify("C++"), "c");
        assert_eq!(slugify("!!"), "x2121");
        assert_eq!(slugify(""), "x");
    }

    #[test]
    fn lines() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
