//! A classification cache: each distinct user agent is classified once per run.
//!
//! Logs repeat a few hundred or thousand user agents millions of times, so the hot path is one
//! hash lookup on the user agent's raw (still escaped) bytes, with no allocation; only a miss
//! unescapes the text and runs the pattern matchers.

use super::class::Class;
use super::classify::{announced_subscribers, classify_agent};
use super::parse::unescape;
use std::collections::HashMap;

/// A dense id for a bot name, an index into [`AgentCache::names`].
pub type NameId = u32;

/// The cached verdict for one user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// The class of the agent.
    pub class: Class,
    /// The bot's name, for bots.
    pub name: Option<NameId>,
    /// The subscriber count a feed reader's agent announces.
    pub subscribers: Option<u32>,
}

/// Maps raw user-agent bytes to verdicts, and bot names to dense ids.
#[derive(Debug, Default)]
pub struct AgentCache {
    verdicts: HashMap<Box<[u8]>, Verdict>,
    names: Vec<String>,
    name_ids: HashMap<String, NameId>,
}

impl AgentCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The verdict for a user agent as logged (escapes kept); `None` means no user agent field.
    pub fn lookup(&mut self, raw: Option<&[u8]>) -> Verdict {
        let raw = raw.unwrap_or_default();
        if let Some(verdict) = self.verdicts.get(raw) {
            return *verdict;
        }
        let text = unescape(raw);
        let agent = classify_agent(&text);
        let name = agent.name.map(|name| self.intern(&name));
        let verdict = Verdict {
            class: agent.class,
            name,
            subscribers: agent
                .class
                .is_bot()
                .then(|| announced_subscribers(&text))
                .flatten(),
        };
        self.verdicts.insert(raw.into(), verdict);
        verdict
    }

    /// The id for a name, adding it when new.
    pub fn intern(&mut self, name: &str) -> NameId {
        if let Some(&id) = self.name_ids.get(name) {
            return id;
        }
        let id = NameId::try_from(self.names.len()).unwrap_or(NameId::MAX);
        self.names.push(name.to_string());
        self.name_ids.insert(name.to_string(), id);
        id
    }

    /// Every name seen so far, indexed by [`NameId`].
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// How many distinct user agents have been classified.
    pub fn distinct_agents(&self) -> usize {
        self.verdicts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches_and_names() {
        let mut cache = AgentCache::new();
        let bot = cache.lookup(Some(
            b"Mozilla/5.0 (compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        ));
        assert_eq!(bot.class, Class::Ai);
        let again = cache.lookup(Some(b"GPTBot/1.0"));
        assert_eq!(again.name, bot.name);
        assert_eq!(cache.names()[bot.name.unwrap() as usize], "GPTBot");
        assert_eq!(cache.lookup(None).class, Class::Unknown);
        assert_eq!(cache.lookup(Some(b"-")).class, Class::Unknown);
        assert_eq!(cache.distinct_agents(), 4);
    }
}
