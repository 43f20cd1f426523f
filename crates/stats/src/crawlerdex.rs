//! Looking a user agent up in the Crawlerdex database bundled with the `iscrawl` crate, with two
//! corrections the crate does not make:
//!
//! - Word-aware: many patterns are plain substrings (`Sonic`, `ACHE`, `Exabot`), which match
//!   inside other words (`ViewSonic`, `APACHE`, `Alexabot`). A match counts only when it starts
//!   and ends at a word edge; otherwise it is blanked out and the lookup tried again, so another
//!   pattern may still match elsewhere in the agent.
//! - Case-insensitive: patterns are case-sensitive, so `mediapartners-google` (a lower-case copy
//!   of `Mediapartners-Google`) is missed. An agent with no upper-case letter is tried again with
//!   each word capitalised.

use iscrawl::CrawlerInfo;
use regex::Regex;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

/// How many word-internal matches are blanked before giving up on an agent.
const MAX_RETRIES: usize = 4;

/// Compiled patterns, by pattern text: a pattern is compiled the first time it matches.
static COMPILED: LazyLock<Mutex<HashMap<&'static str, Option<Regex>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The database entry for `ua`, matched at word edges; the agent as given first, then (when it
/// has no upper-case letter) with each word capitalised.
pub fn lookup(ua: &str) -> Option<&'static CrawlerInfo> {
    lookup_at_word_edges(ua).or_else(|| {
        if ua.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        lookup_at_word_edges(&capitalised(ua))
    })
}

/// The first database entry that matches `ua` at word edges.
fn lookup_at_word_edges(ua: &str) -> Option<&'static CrawlerInfo> {
    let mut text = Cow::Borrowed(ua);
    for _ in 0..MAX_RETRIES {
        let info = iscrawl::crawler_info(&text)?;
        let Some(range) = match_range(info.pattern.as_str(), &text) else {
            // The crate matched but the pattern does not compile here: trust the crate.
            return Some(info);
        };
        if at_word_edges(text.as_bytes(), range.clone()) {
            return Some(info);
        }
        let mut blanked = text.into_owned().into_bytes();
        for b in &mut blanked[range] {
            *b = b'x';
        }
        // Only ASCII was written over whole matches (char boundaries), so this stays UTF-8.
        text = Cow::Owned(String::from_utf8(blanked).ok()?);
    }
    None
}

/// Where `pattern` matches `text`, compiling it once.
fn match_range(pattern: &'static str, text: &str) -> Option<std::ops::Range<usize>> {
    let mut compiled = COMPILED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let regex = compiled
        .entry(pattern)
        .or_insert_with(|| Regex::new(pattern).ok())
        .as_ref()?;
    regex.find(text).map(|m| m.range())
}

/// True when the match starts at a word's start and ends at a word's end. A match that begins
/// or ends on punctuation (`(^| )sentry\/`) carries its own edge.
fn at_word_edges(text: &[u8], range: std::ops::Range<usize>) -> bool {
    if range.is_empty() {
        return true;
    }
    let letter = |i: usize| text.get(i).is_some_and(u8::is_ascii_alphabetic);
    let starts = range.start == 0 || !letter(range.start) || !letter(range.start - 1);
    let ends = !letter(range.end - 1) || !letter(range.end);
    starts && ends
}

/// `ua` with the first letter of every word in upper case (`mediapartners-google` →
/// `Mediapartners-Google`).
fn capitalised(ua: &str) -> String {
    let mut out = String::with_capacity(ua.len());
    let mut after_letter = false;
    for c in ua.chars() {
        out.push(if after_letter {
            c
        } else {
            c.to_ascii_uppercase()
        });
        after_letter = c.is_ascii_alphanumeric();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_edges() {
        assert!(at_word_edges(b"a Sonic b", 2..7));
        assert!(!at_word_edges(b"ViewSonic b", 4..9));
        assert!(!at_word_edges(b"ACHEETAHI", 0..4));
        assert!(at_word_edges(b"x/Googlebot/2.1", 2..11));
    }

    #[test]
    fn capitalises_words() {
        assert_eq!(capitalised("mediapartners-google"), "Mediapartners-Google");
        assert_eq!(capitalised("site24x7"), "Site24x7");
    }

    #[test]
    fn lower_case_copies_are_found() {
        assert!(lookup("mediapartners-google").is_some());
        assert!(lookup("Alexabot/1.0").is_none_or(|i| !i.pattern.contains("Exabot")));
    }
}
