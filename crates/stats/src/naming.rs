//! Stable, readable names for bots: from a Crawlerdex pattern, or from the user agent's own
//! product tokens when no pattern names it.

/// A readable, stable name for a Crawlerdex pattern: its leading literal text, with
/// case classes such as `[bB]` written in upper case and optional parts left out
/// (`[cC]laude[bB]ot` → `ClaudeBot`, `Feedspot(?:bot)?\/` → `Feedspot`,
/// `Ahrefs(Bot|SiteAudit)` → `AhrefsBot`). `None` when fewer than two characters remain.
pub fn pattern_name(pattern: &str) -> Option<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    literal_prefix(&chars, &mut out);
    let name = out
        .trim_matches(|c: char| c.is_whitespace() || "/-_:;,(.+".contains(c))
        .to_string();
    (name.chars().count() >= 2).then_some(name)
}

/// Appends the leading literal text of `chars` (a regex) to `out`, stopping at the first
/// construct that is not a plain character, a case class or a group.
fn literal_prefix(chars: &[char], out: &mut String) {
    let mut i = 0;
    while i < chars.len() {
        let start_len = out.len();
        let next_i;
        match chars[i] {
            '^' | '$' => {
                i += 1;
                continue;
            }
            '|' => return,
            '\\' => {
                let Some(&c) = chars.get(i + 1) else { return };
                if c.is_ascii_alphanumeric() {
                    return; // \d, \s, \w, \b: a class or an assertion
                }
                out.push(c);
                next_i = i + 2;
            }
            '[' => {
                let Some(len) = chars[i..].iter().position(|&c| c == ']') else {
                    return;
                };
                let inner = &chars[i + 1..i + len];
                match case_class(inner) {
                    Some(c) => out.push(c),
                    None => return,
                }
                next_i = i + len + 1;
            }
            '(' => {
                let Some(len) = group_len(&chars[i..]) else {
                    return;
                };
                let mut inner = &chars[i + 1..i + len];
                if let Some(rest) = inner.strip_prefix(&['?', ':']) {
                    inner = rest;
                }
                if inner.first() == Some(&'?') {
                    return; // look-around or flags
                }
                let mut alternative = String::new();
                literal_prefix(first_alternative(inner), &mut alternative);
                if alternative.trim().is_empty() {
                    // `(^| )` and the like: an anchor, nothing to name
                } else {
                    out.push_str(&alternative);
                }
                next_i = i + len + 1;
            }
            '.' if matches!(chars.get(i + 1), Some('*' | '+' | '?' | '{')) => return,
            '*' | '+' | '?' | '{' | ')' | ']' => return,
            c => {
                out.push(c);
                next_i = i + 1;
            }
        }
        match chars.get(next_i) {
            Some('?' | '*') => {
                out.truncate(start_len); // optional: leave it out, and stop
                return;
            }
            Some('{') => return,
            Some('+') => {
                i = next_i + 1;
                continue;
            }
            _ => {}
        }
        i = next_i;
    }
}

/// For `[xX]` (one letter in both cases) the upper-case letter; for a single character, itself.
fn case_class(inner: &[char]) -> Option<char> {
    match inner {
        [c] if *c != '^' => Some(*c),
        [a, b] if a.eq_ignore_ascii_case(b) && a != b => Some(a.to_ascii_uppercase()),
        _ => None,
    }
}

/// The length of the group starting at `chars[0] == '('`, up to its closing parenthesis.
fn group_len(chars: &[char]) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The part of a group before its first top-level `|`.
fn first_alternative(inner: &[char]) -> &[char] {
    let mut depth = 0usize;
    let mut i = 0;
    while i < inner.len() {
        match inner[i] {
            '\\' => i += 1,
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '|' if depth == 0 => return &inner[..i],
            _ => {}
        }
        i += 1;
    }
    inner
}

/// A name for a bot the database does not know, from its product tokens, never from a generic
/// word of its agent:
///
/// - an agent that starts with its own name gives its leading words up to the first version or
///   comment (`Digg Feed Fetcher 1.0 (...)` → `Digg Feed Fetcher`, `curl/8.5` → `curl`);
/// - otherwise (a `Mozilla/` agent) the first bot-like product token (`FooBot/1.0`), else the
///   first product token that is not a browser's (`... Firefox/27.0 FirePHP/0.7` → `FirePHP`),
///   else the first bot-like word, else the first word that is not a browser's or a platform's.
pub fn token_name(ua: &str) -> String {
    if let Some(name) = leading_name(ua) {
        return name;
    }
    let separator = |c: char| c.is_whitespace() || "();,+[]{}\"'".contains(c);
    let tokens = || {
        ua.split(separator)
            .map(|t| match t.split_once('/') {
                Some((name, _)) => (name, true),
                None => (t, false),
            })
            .map(|(t, product)| (t.trim_matches(|c: char| !c.is_alphanumeric()), product))
            .filter(|(t, _)| t.chars().any(|c| c.is_alphabetic()) && !t.contains(':'))
    };
    let botlike = |t: &str| {
        let lower = t.to_ascii_lowercase();
        [
            "bot", "crawl", "spider", "scan", "fetch", "check", "monitor", "feed", "reader",
        ]
        .iter()
        .any(|w| lower.contains(w))
            && !lower.starts_with("http")
            && !lower.contains('.')
    };
    let plain = |t: &str| {
        let language_tag = t.len() == 5 && t.as_bytes()[2] == b'-';
        t.len() > 2 && !language_tag && !t.contains("://") && !browser_word(t)
    };
    let name = tokens()
        .find(|&(t, product)| product && botlike(t))
        .or_else(|| tokens().find(|&(t, product)| product && plain(t)))
        .or_else(|| tokens().find(|&(t, _)| botlike(t)))
        .or_else(|| tokens().find(|&(t, _)| plain(t)))
        .map_or("unnamed", |(t, _)| t);
    name.chars().take(40).collect()
}

/// True for the words of a browser's own agent: engines, browsers, platforms.
fn browser_word(t: &str) -> bool {
    const WORDS: &[&str] = &[
        "mozilla",
        "compatible",
        "khtml",
        "like",
        "gecko",
        "http",
        "https",
        "windows",
        "linux",
        "x11",
        "macintosh",
        "iphone",
        "ipad",
        "android",
        "win64",
        "wow64",
        "x86_64",
        "intel",
        "applewebkit",
        "safari",
        "chrome",
        "version",
        "mobile",
        "firefox",
        "trident",
        "msie",
        "browser",
    ];
    WORDS.iter().any(|w| t.eq_ignore_ascii_case(w))
}

/// The leading words of an agent that starts with its own name, up to the first version, comment
/// or separator (`eZ Publish Link Validator`, `LiveJournal.com (...)` → `LiveJournal.com`);
/// `None` for `Mozilla/` agents and agents that start with no letter.
fn leading_name(ua: &str) -> Option<String> {
    let ua = ua.trim();
    if !ua.starts_with(|c: char| c.is_ascii_alphabetic())
        || ua
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("mozilla/"))
    {
        return None;
    }
    let mut words = Vec::new();
    for word in ua.split_whitespace().take(5) {
        let end = word.find(['/', '(', ';', ',', ')']).unwrap_or(word.len());
        let cut = &word[..end];
        if cut.starts_with(|c: char| c.is_ascii_digit()) || (cut.is_empty() && end == 0) {
            break;
        }
        words.push(cut);
        if end < word.len() {
            break;
        }
    }
    let name = words.join(" ");
    let name = name.trim_matches(|c: char| !c.is_alphanumeric());
    (name.chars().any(char::is_alphabetic)).then(|| name.chars().take(40).collect())
}

/// The product token of `ua` that holds the bytes at `at` (`CybaaAgent` for the `agent` in
/// `... Safari/537.36 CybaaAgent`), without its version; `None` when that token is not a name
/// (a URL, an address, or no letters).
pub fn token_at(ua: &str, at: std::ops::Range<usize>) -> Option<String> {
    let separator = |c: char| c.is_whitespace() || "();,+[]{}\"'".contains(c);
    let before = ua.get(..at.start)?;
    let after = ua.get(at.end..)?;
    let start = before.rfind(separator).map_or(0, |i| i + 1);
    let end = at.end + after.find(separator).unwrap_or(after.len());
    let token = ua.get(start..end)?;
    // The version follows the name's `/`; a `/` before the word is part of a path or a URL.
    let slash = token.get(at.start - start..)?.find('/');
    let name = slash.map_or(token, |i| &token[..at.start - start + i]);
    let name = name.trim_matches(|c: char| !c.is_alphanumeric());
    // The word alone is generic, not a name, when it stands in a comment's phrase (`check` in
    // `(...; Domain check for viruses)`) or among an agent's leading words (`Feed` in `Digg Feed
    // Fetcher`); a product token of its own after a browser's (`... Safari/537.36 pageburst`)
    // is a name.
    let in_comment = before.matches('(').count() > before.matches(')').count();
    let generic = name.len() == at.len() && (in_comment || leading_name(ua).is_some());
    let plain = !generic
        && !name.contains(['/', '@', ':', '='])
        && !name.to_ascii_lowercase().starts_with("http")
        && name.chars().any(char::is_alphabetic);
    plain.then(|| name.chars().take(40).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_patterns() {
        let cases = [
            ("Googlebot\\/", "Googlebot"),
            ("[cC]laude[bB]ot", "ClaudeBot"),
            ("Feedspot(?:bot)?\\/", "Feedspot"),
            ("Ahrefs(Bot|SiteAudit)", "AhrefsBot"),
            ("(^| )sentry\\/", "sentry"),
            ("^curl", "curl"),
            ("AdsBot-Google([^-]|$)", "AdsBot-Google"),
            ("Mediapartners \\(Googlebot\\)", "Mediapartners (Googlebot)"),
            ("S[eE][mM]rushBot", "SEMrushBot"),
            ("^pip/[0-9]", "pip"),
            ("Go-http-client", "Go-http-client"),
        ];
        for (pattern, name) in cases {
            assert_eq!(pattern_name(pattern).as_deref(), Some(name), "{pattern}");
        }
        assert_eq!(pattern_name("[0-9]+"), None);
        assert_eq!(pattern_name("(a"), None);
    }

    #[test]
    fn names_from_tokens() {
        assert_eq!(
            token_name("Mozilla/5.0 (compatible; FooBot/1.0; +http://x.y)"),
            "FooBot"
        );
        assert_eq!(token_name("my-fetcher 2.0"), "my-fetcher");
        assert_eq!(token_name("Wget/1.21"), "Wget");
        assert_eq!(token_name("()"), "unnamed");
        let ua = "Mozilla/5.0 (X11) Chrome/140.0.0.0 Safari/537.36 CybaaAgent";
        let at = ua.find("Agent").unwrap();
        assert_eq!(token_at(ua, at..at + 5).as_deref(), Some("CybaaAgent"));
        let ua = "x (Watch7,8; watchOS 11.4) MatomoTrackerSDK/7.7.0";
        let at = ua.find("Matomo").unwrap();
        assert_eq!(
            token_at(ua, at..at + 6).as_deref(),
            Some("MatomoTrackerSDK")
        );
        let ua = "Mozilla/5.0 (+https://example.com/checker)";
        let at = ua.find("checker").unwrap();
        assert_eq!(token_at(ua, at..at + 7), None);
        assert_eq!(
            token_name("Mozilla/5.0 (Windows; U; en-GB) AppleWebKit/523.15 QtWeb Browser/1.2"),
            "QtWeb"
        );
    }
}
