//! Small text helpers shared by the site modules: slugs, URL path encoding and XML escaping.

use std::fmt::Write as _;

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

/// Percent-encodes a URL path (which must already start with `/`): every byte outside the
/// RFC 3986 unreserved set and `/` is encoded, so non-ASCII slugs give valid URLs in HTML,
/// Atom and sitemaps.
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Escapes `text` for XML character data and attribute values, dropping the control
/// characters XML 1.0 does not allow at all (a stray form feed would make a feed invalid).
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
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
    fn encoding() {
        assert_eq!(encode_path("/tags/café/"), "/tags/caf%C3%A9/");
        assert_eq!(encode_path("/a b/"), "/a%20b/");
        assert_eq!(
            xml_escape("<a href=\"x\">&'\u{c}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
    }

    #[test]
    fn lines() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
