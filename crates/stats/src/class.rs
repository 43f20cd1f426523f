//! The traffic classes a request can fall in.

use serde::Serialize;

/// Who made a request, as told by its user agent (and, for probes, its path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// A person with a web browser.
    Human,
    /// A search-engine crawler (Googlebot, bingbot, YandexBot, ...).
    Search,
    /// A crawler or fetcher for an AI model or assistant (GPTBot, ClaudeBot, CCBot, ...).
    Ai,
    /// A link-preview fetcher of a social network or chat app (facebookexternalhit, Slackbot, ...).
    Social,
    /// A feed reader or aggregator (Feedly, NetNewsWire, Miniflux, ...).
    Feed,
    /// An uptime monitor or site checker (UptimeRobot, Pingdom, ...).
    Monitor,
    /// A vulnerability scanner or probe, by user agent or by the paths it asks for.
    Scanner,
    /// A request naming a crawler whose operator documents a check (published address ranges,
    /// reverse-then-forward DNS), from an address that fails it.
    Impostor,
    /// Any other bot: SEO crawlers, archivers, HTTP libraries and command-line tools.
    OtherBot,
    /// No user agent at all (empty, `-`, or a Common Log Format line).
    Unknown,
}

impl Class {
    /// Every class, in report order.
    pub const ALL: [Class; 10] = [
        Class::Human,
        Class::Search,
        Class::Ai,
        Class::Social,
        Class::Feed,
        Class::Monitor,
        Class::Scanner,
        Class::Impostor,
        Class::OtherBot,
        Class::Unknown,
    ];

    /// The number of classes.
    pub const COUNT: usize = Self::ALL.len();

    /// A dense index into arrays of [`Class::COUNT`] entries.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The short name used on the command line and in JSON (`human`, `ai`, `other-bot`, ...).
    pub fn key(self) -> &'static str {
        match self {
            Class::Human => "human",
            Class::Search => "search",
            Class::Ai => "ai",
            Class::Social => "social",
            Class::Feed => "feed",
            Class::Monitor => "monitor",
            Class::Scanner => "scanner",
            Class::Impostor => "impostor",
            Class::OtherBot => "other-bot",
            Class::Unknown => "unknown",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Class::Human => "Human",
            Class::Search => "Search crawler",
            Class::Ai => "AI crawler",
            Class::Social => "Social preview",
            Class::Feed => "Feed reader",
            Class::Monitor => "Monitor/uptime",
            Class::Scanner => "Scanner/probe",
            Class::Impostor => "Impostor",
            Class::OtherBot => "Other bot",
            Class::Unknown => "Unknown agent",
        }
    }

    /// A colour for charts, distinct for each class.
    pub fn colour(self) -> &'static str {
        match self {
            Class::Human => "#2e7d32",
            Class::Search => "#1565c0",
            Class::Ai => "#8e24aa",
            Class::Social => "#00897b",
            Class::Feed => "#f9a825",
            Class::Monitor => "#6d4c41",
            Class::Scanner => "#c62828",
            Class::Impostor => "#ad1457",
            Class::OtherBot => "#ef6c00",
            Class::Unknown => "#9e9e9e",
        }
    }

    /// True for every class but [`Class::Human`] and [`Class::Unknown`].
    pub fn is_bot(self) -> bool {
        !matches!(self, Class::Human | Class::Unknown)
    }

    /// The class with this [`Class::key`] (a few aliases are accepted too).
    pub fn from_key(key: &str) -> Option<Class> {
        let key = key.trim().to_ascii_lowercase();
        Class::ALL
            .into_iter()
            .find(|c| c.key() == key)
            .or(match key.as_str() {
                "humans" | "browser" => Some(Class::Human),
                "ai-crawler" => Some(Class::Ai),
                "bot" | "other" | "otherbot" => Some(Class::OtherBot),
                "probe" => Some(Class::Scanner),
                _ => None,
            })
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}
