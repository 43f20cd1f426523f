//! Text made safe for where it goes: a URL path percent-encoded, text escaped for HTML and XML.
//! Shared by the responses a child builds and the site the render worker builds.

use std::fmt::Write as _;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding() {
        assert_eq!(encode_path("/tags/café/"), "/tags/caf%C3%A9/");
        assert_eq!(encode_path("/a b/"), "/a%20b/");
        assert_eq!(
            xml_escape("<a href=\"x\">&'\u{c}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
    }
}
