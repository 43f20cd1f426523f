//! Which class and which bot a user agent is.
//!
//! The decision, in order (the word lists are in [`super::signals`]):
//!
//! 1. Empty or `-`: unknown.
//! 2. A bot word (`bot`, `crawl`, `spider`, a URL, an e-mail address, a monitor, a scanner, an
//!    attack string, a noun for a tool's job such as `agent`, `check` or `probe`, an analytics
//!    tracker, words addressed to the site's owner), matched ignoring case at word edges: a bot.
//! 3. A Crawlerdex pattern from the `iscrawl` crate ([`super::crawlerdex`], word-aware and
//!    case-insensitive): a bot named and classed by the database, unless the agent is a person's
//!    app (in-app browser, WebView, Electron app, mail or office client, TV app).
//! 4. An HTTP library or command-line tool (`curl`, `python-requests`, `Java/1.8`), unless the
//!    agent is a person's app (feature phones name `Java`, Lynx names `libwww`): a bot.
//! 5. A browser engine, operating system, phone or TV platform or media player: a person.
//! 6. Anything else: a bot.
//!
//! Device model names in Android agents are blanked before steps 2 and 3, so a phone called
//! `CUBOT` or `Spider 8` is not a bot. `benches/stats_accuracy.rs` measures the result against
//! public corpora of bot and browser user agents, tuned on one half and measured on the other.

use super::class::Class;
use super::crawlerdex;
use super::signals::{email_address, human_marker, keyword_class, signals, without_device_model};
use std::borrow::Cow;

pub use super::naming::{pattern_name, token_at, token_name};

/// What a user agent is: a class and, for bots, a stable name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// The class of the agent.
    pub class: Class,
    /// The bot's name (`Googlebot`, `GPTBot`, `curl`, ...); `None` for humans and unknown agents.
    pub name: Option<Cow<'static, str>>,
}

/// Classifies a user agent given as text (already unescaped).
pub fn classify_agent(user_agent: &str) -> Agent {
    let ua = user_agent.trim();
    if ua.is_empty() || ua == "-" {
        return Agent {
            class: Class::Unknown,
            name: None,
        };
    }
    let masked = without_device_model(ua);
    let text = masked.as_deref().unwrap_or(ua);

    let found = signals(text.as_bytes());
    // An app's name alone (`Viber`, `WhatsApp`), with no version or platform, is the app's
    // link-preview fetcher announcing itself, not the app a person holds.
    let bare = !ua.contains(|c: char| c.is_whitespace() || c == '/' || c == '(');
    let app = found.app && !bare;
    let word = found
        .bot
        .or(if app { None } else { found.weak })
        .or_else(|| email_address(text.as_bytes()).then_some((None, None)))
        .or_else(|| unnamed_platform(ua).map(|at| (None, Some(at))));
    if word.is_some() || !app {
        if let Some(info) = crawlerdex::lookup(text) {
            return Agent {
                class: class_from_tags(&info.tags),
                name: Some(Cow::Owned(
                    pattern_name(&info.pattern).unwrap_or_else(|| token_name(ua)),
                )),
            };
        }
    }
    if let Some((class, at)) = word {
        // Masking keeps every byte offset, so the word stands at the same place in `ua`.
        let name = at.and_then(|at| token_at(ua, at));
        return Agent {
            class: class.unwrap_or_else(|| keyword_class(ua)),
            name: Some(Cow::Owned(name.unwrap_or_else(|| token_name(ua)))),
        };
    }
    if !app && found.library {
        return bot(ua, None);
    }
    if app || human_marker(ua.as_bytes()) {
        return Agent {
            class: Class::Human,
            name: None,
        };
    }
    // Nothing says a person runs it: a script, a tool, or a bot naming only itself.
    bot(ua, None)
}

/// Where the name stands in a `Mozilla/` agent whose system comment is one product name and
/// no platform (`Mozilla/5.0 (Mixnode) AppleWebKit/537.36`): browsers put their system there
/// (`Windows NT 10.0; ...`, `X11; ...`, `Linux; ...`), and devices a platform or a model in
/// capitals (`(DTV)`, `(Java; U; ...)`).
fn unnamed_platform(ua: &str) -> Option<std::ops::Range<usize>> {
    let rest = ua.strip_prefix("Mozilla/")?;
    let open = rest.find('(')?;
    if rest[..open].trim_end().contains(' ') {
        return None;
    }
    let start = "Mozilla/".len() + open + 1;
    let comment = &ua[start..];
    let len = comment.find([';', ')'])?;
    let field = comment[..len].trim();
    let one_name = comment.as_bytes().get(len) == Some(&b')')
        && field.starts_with(|c: char| c.is_ascii_uppercase())
        && field.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && field.chars().any(|c| c.is_ascii_lowercase());
    let generic = ["compatible", "mobile", "tablet", "unknown"];
    if !one_name
        || human_marker(field.as_bytes())
        || generic.iter().any(|g| field.eq_ignore_ascii_case(g))
    {
        return None;
    }
    let skip = comment.len() - comment.trim_start().len();
    Some(start + skip..start + skip + field.len())
}

/// A bot the database does not know, classed by `class` or else by its words.
fn bot(ua: &str, class: Option<Class>) -> Agent {
    Agent {
        class: class.unwrap_or_else(|| keyword_class(ua)),
        name: Some(Cow::Owned(token_name(ua))),
    }
}

/// The class for a Crawlerdex entry's tags; when an entry has two tags, the more specific wins.
pub fn class_from_tags<S: AsRef<str>>(tags: &[S]) -> Class {
    let has = |tag: &str| tags.iter().any(|t| t.as_ref() == tag);
    if has("scanner") {
        Class::Scanner
    } else if has("ai-crawler") || has("ai-fetcher") {
        Class::Ai
    } else if has("search-engine") {
        Class::Search
    } else if has("social-preview") {
        Class::Social
    } else if has("feed-reader") {
        Class::Feed
    } else if has("monitoring") {
        Class::Monitor
    } else {
        // seo, advertising, academic, archiver, http-library, browser-automation
        Class::OtherBot
    }
}

/// The subscriber count a feed reader announces in its agent (`Feedly/1.0 (...; 123
/// subscribers; ...)`, `NewsBlur Feed Fetcher - 45 subscribers - ...`, `LiveJournal.com (...;
/// 1 readers)`): the number right before the word `subscribers` or `readers`.
pub fn announced_subscribers(ua: &str) -> Option<u32> {
    let lower = ua.to_ascii_lowercase();
    ["subscriber", "reader"].iter().find_map(|word| {
        lower.match_indices(word).find_map(|(at, _)| {
            let before = lower[..at].trim_end();
            let digits = before.len()
                - before
                    .trim_end_matches(|c: char| c.is_ascii_digit() || c == ',')
                    .len();
            if digits == 0
                || lower[at + word.len()..].starts_with(|c: char| c.is_alphabetic() && c != 's')
            {
                return None;
            }
            before[before.len() - digits..]
                .replace(',', "")
                .parse()
                .ok()
        })
    })
}
