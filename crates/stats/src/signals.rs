//! The words in a user agent that tell a bot from a person, matched ignoring ASCII case and
//! with word boundaries, so that a device called `CUBOT` or `ViewSonic` is not a bot.
//!
//! The lists, from strongest to weakest:
//!
//! - [`bot_word`]: words only bots use (`bot`, `crawl`, `spider`, a URL, monitors, feed readers,
//!   scanners, attack strings sent as an agent, nouns for a tool's job such as `agent`, `probe`
//!   or `parser`, analytics trackers, `webmaster` or `contact`). Decides on its own.
//! - [`app_marker`]: markers of a person's app that embeds a browser or fetches for its user:
//!   in-app browsers and WebViews, Electron desktop apps, mail and office clients following a
//!   link, TV and console apps. It overrules a Crawlerdex pattern (whose plain-substring patterns
//!   such as `Code` or `Sonic` hit app names), never a [`bot_word`].
//! - [`human_marker`]: browser engines, operating systems, phone and TV platforms, media players:
//!   something a person runs.
//! - [`library_word`]: HTTP libraries and command-line tools, overruled by an [`app_marker`].
//!
//! A user agent with none of them is taken for a bot: browsers and apps name an engine or a
//! platform, scripts often name nothing.

use super::class::Class;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::ops::{ControlFlow, Range};
use std::sync::LazyLock;

/// Where a word must stand to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edge {
    /// Anywhere, even inside a longer word (`crawl` in `webcrawler`).
    Inside,
    /// At the end of a word (`bot` in `Googlebot/2.1`, not in `bottle`).
    End,
    /// At the start of a word (`feed` in `FeedFetcher`, not in `NewsFeedApp`).
    Start,
    /// A whole word (`curl` in `curl/8.5`, not in `libcurly`).
    Whole,
}

/// One word to look for, the edge it must stand at, and the class it suggests.
type Word = (&'static str, Edge, Option<Class>);

/// Words only bots use. The class is given where the word alone says it; otherwise the class
/// comes from [`keyword_class`].
const BOT_WORDS: &[Word] = &[
    ("bot", Edge::End, None),
    ("bots", Edge::End, None),
    ("crawl", Edge::Inside, None),
    ("spider", Edge::Inside, None),
    ("slurp", Edge::Inside, None),
    ("scrape", Edge::Inside, None),
    ("scrapy", Edge::Inside, None),
    ("archiver", Edge::Inside, None),
    ("indexer", Edge::Inside, None),
    ("fetcher", Edge::Inside, None),
    ("harvest", Edge::Start, None),
    ("preview", Edge::Inside, Some(Class::Social)),
    ("linkexpand", Edge::Inside, Some(Class::Social)),
    ("unfurl", Edge::Inside, Some(Class::Social)),
    ("embedly", Edge::Inside, Some(Class::Social)),
    ("facebookexternal", Edge::Start, Some(Class::Social)),
    ("headless", Edge::Inside, None),
    ("phantomjs", Edge::Inside, None),
    ("selenium", Edge::Inside, None),
    ("puppeteer", Edge::Inside, None),
    ("playwright", Edge::Inside, None),
    ("lighthouse", Edge::Inside, None),
    ("pagespeed", Edge::Inside, None),
    ("gtmetrix", Edge::Inside, None),
    ("prerender", Edge::Inside, None),
    ("weblight", Edge::Inside, None),
    ("pageburst", Edge::Inside, None),
    ("taginspector", Edge::Inside, None),
    ("validator", Edge::Inside, None),
    ("checker", Edge::Inside, Some(Class::Monitor)),
    ("monitor", Edge::Inside, Some(Class::Monitor)),
    ("uptime", Edge::Start, Some(Class::Monitor)),
    ("pingdom", Edge::Inside, Some(Class::Monitor)),
    ("synthetic", Edge::Inside, Some(Class::Monitor)),
    ("site24x7", Edge::Inside, Some(Class::Monitor)),
    ("statuscake", Edge::Inside, Some(Class::Monitor)),
    ("datadog", Edge::Inside, Some(Class::Monitor)),
    ("newrelic", Edge::Inside, Some(Class::Monitor)),
    ("mediapartners", Edge::Start, None),
    ("feed", Edge::Start, Some(Class::Feed)),
    ("like gecko;", Edge::Inside, None),
    ("downloader", Edge::Inside, None),
    ("observatory", Edge::Inside, None),
    ("transcoder", Edge::Inside, None),
    ("analyzer", Edge::Inside, None),
    ("analyser", Edge::Inside, None),
    ("seeker", Edge::End, None),
    ("findlinks", Edge::Inside, None),
    ("tester", Edge::End, None),
    ("extractor", Edge::End, None),
    ("thumbnail", Edge::Inside, None),
    ("internal dummy connection", Edge::Inside, None),
    ("searchengine", Edge::Inside, Some(Class::Search)),
    ("archive", Edge::Start, None),
    // Words addressed to the site's owner: a browser has nothing to tell them.
    ("webmaster", Edge::Start, None),
    ("abuse", Edge::Whole, None),
    ("mailto", Edge::Whole, None),
    ("contact", Edge::Whole, None),
    ("please", Edge::Whole, None),
    // Analytics trackers sending hits from an app or a server, not a person reading a page.
    ("matomo", Edge::Start, Some(Class::OtherBot)),
    ("piwik", Edge::Start, Some(Class::OtherBot)),
    ("tracker", Edge::Inside, Some(Class::OtherBot)),
    ("http://", Edge::Inside, None),
    ("; +", Edge::Inside, None),
    ("https://", Edge::Inside, None),
    // Feed readers, counted as feed bots whether they run on a server or a desktop.
    ("reeder", Edge::Start, Some(Class::Feed)),
    ("readkit", Edge::Start, Some(Class::Feed)),
    ("newsbeuter", Edge::Start, Some(Class::Feed)),
    ("newsboat", Edge::Start, Some(Class::Feed)),
    ("akregator", Edge::Start, Some(Class::Feed)),
    ("liferea", Edge::Start, Some(Class::Feed)),
    ("netnewswire", Edge::Start, Some(Class::Feed)),
    ("rssbandit", Edge::Start, Some(Class::Feed)),
    ("rssowl", Edge::Start, Some(Class::Feed)),
    ("quiterss", Edge::Start, Some(Class::Feed)),
    ("miniflux", Edge::Start, Some(Class::Feed)),
    ("freshrss", Edge::Start, Some(Class::Feed)),
    ("inoreader", Edge::Start, Some(Class::Feed)),
    ("newsblur", Edge::Start, Some(Class::Feed)),
    ("feedbin", Edge::Start, Some(Class::Feed)),
    ("rss", Edge::Whole, Some(Class::Feed)),
    ("cursor", Edge::Whole, Some(Class::Ai)),
    ("downcast", Edge::Start, Some(Class::Feed)),
    // Products that announce themselves by name alone, with no generic word to go by.
    ("dejaclick", Edge::Start, Some(Class::Monitor)),
    ("catchpoint", Edge::Start, Some(Class::Monitor)),
    ("clamav", Edge::Start, None),
    ("swcd", Edge::Whole, None),
    ("watchtowr", Edge::Start, Some(Class::Scanner)),
    // Scanners, and attack strings sent as the agent itself.
    ("nmap", Edge::Inside, Some(Class::Scanner)),
    ("masscan", Edge::Inside, Some(Class::Scanner)),
    ("zgrab", Edge::Inside, Some(Class::Scanner)),
    ("nuclei", Edge::Inside, Some(Class::Scanner)),
    ("sqlmap", Edge::Inside, Some(Class::Scanner)),
    ("nikto", Edge::Inside, Some(Class::Scanner)),
    ("wpscan", Edge::Inside, Some(Class::Scanner)),
    ("acunetix", Edge::Inside, Some(Class::Scanner)),
    ("netsparker", Edge::Inside, Some(Class::Scanner)),
    ("burpcollaborator", Edge::Inside, Some(Class::Scanner)),
    ("oastify", Edge::Inside, Some(Class::Scanner)),
    ("interact.sh", Edge::Inside, Some(Class::Scanner)),
    ("dnslog", Edge::Inside, Some(Class::Scanner)),
    ("() {", Edge::Inside, Some(Class::Scanner)),
    ("() :", Edge::Inside, Some(Class::Scanner)),
    ("${jndi", Edge::Inside, Some(Class::Scanner)),
    ("${", Edge::Inside, Some(Class::Scanner)),
    ("<script", Edge::Inside, Some(Class::Scanner)),
    ("<?php", Edge::Inside, Some(Class::Scanner)),
    ("select ", Edge::Inside, Some(Class::Scanner)),
    ("(select", Edge::Inside, Some(Class::Scanner)),
    ("load_file", Edge::Inside, Some(Class::Scanner)),
    ("union all", Edge::Inside, Some(Class::Scanner)),
    ("sleep(", Edge::Inside, Some(Class::Scanner)),
    ("waitfor delay", Edge::Inside, Some(Class::Scanner)),
    ("/etc/passwd", Edge::Inside, Some(Class::Scanner)),
    ("/bin/", Edge::Inside, Some(Class::Scanner)),
    ("' or ", Edge::Inside, Some(Class::Scanner)),
    ("'||", Edge::Inside, Some(Class::Scanner)),
    ("eval(", Edge::Inside, Some(Class::Scanner)),
];

/// Nouns for a tool's job, which a browser never calls itself (none of them appears in the tune
/// half of the browser corpora). Weaker than [`BOT_WORDS`]: a person's app (a WebView, an
/// in-app browser) may carry one in its own name (`CamScanner`, `MozacFetch`), so an
/// [`APP_MARKERS`] word overrules them.
const WEAK_WORDS: &[Word] = &[
    ("agent", Edge::End, None),
    ("check", Edge::Inside, Some(Class::Monitor)),
    ("health", Edge::Start, Some(Class::Monitor)),
    ("probe", Edge::Inside, Some(Class::Monitor)),
    ("jiankong", Edge::Inside, Some(Class::Monitor)),
    ("scan", Edge::Inside, Some(Class::Scanner)),
    ("scanner", Edge::Inside, Some(Class::Scanner)),
    ("audit", Edge::Inside, None),
    ("inspector", Edge::Inside, None),
    ("detector", Edge::Inside, None),
    ("verifier", Edge::Inside, None),
    ("lookup", Edge::Inside, None),
    ("resolver", Edge::Inside, None),
    ("exporter", Edge::Inside, None),
    ("parser", Edge::Inside, None),
    ("fetch", Edge::Inside, None),
    ("research", Edge::Inside, None),
    ("survey", Edge::Start, None),
    ("seo", Edge::End, None),
    ("sitemap", Edge::Inside, None),
    ("snapshot", Edge::Inside, None),
    ("screenshot", Edge::Inside, None),
    ("favicon", Edge::Inside, None),
    ("whois", Edge::Inside, None),
    ("webhook", Edge::Inside, None),
    ("generator", Edge::Inside, None),
    ("profiler", Edge::Inside, None),
    ("sniffer", Edge::Inside, None),
    ("analytics", Edge::Inside, None),
    ("metadata", Edge::Inside, None),
    ("indexing", Edge::Inside, None),
    ("getter", Edge::End, None),
];

/// HTTP libraries and command-line tools. Feature phones name `Java` and text browsers `libwww`,
/// so an [`app_marker`] overrules these.
const LIBRARY_WORDS: &[Word] = &[
    ("curl", Edge::Whole, None),
    ("libcurl", Edge::Whole, None),
    ("wget", Edge::Whole, None),
    ("python", Edge::Start, None),
    ("aiohttp", Edge::Whole, None),
    ("httpx", Edge::Whole, None),
    ("urllib", Edge::Start, None),
    ("java", Edge::Whole, None),
    ("perl", Edge::Whole, None),
    ("libwww", Edge::Start, None),
    ("lwp", Edge::Start, None),
    ("ruby", Edge::Whole, None),
    ("php", Edge::Whole, None),
    ("guzzle", Edge::Start, None),
    ("go-http-client", Edge::Whole, None),
    ("okhttp", Edge::Whole, None),
    ("httpclient", Edge::Inside, None),
    ("http-client", Edge::Inside, None),
    ("http_client", Edge::Inside, None),
    ("axios", Edge::Whole, None),
    ("node-fetch", Edge::Whole, None),
    ("undici", Edge::Whole, None),
    ("reqwest", Edge::Whole, None),
    ("grpc", Edge::Start, None),
    ("firephp", Edge::Start, None),
    ("powershell", Edge::Inside, None),
    ("postman", Edge::Start, None),
    ("httpie", Edge::Whole, None),
    ("restsharp", Edge::Whole, None),
    ("+http", Edge::Inside, None),
];

/// Markers of a person's app, which overrule a Crawlerdex pattern (see the module header).
const APP_MARKERS: &[Word] = &[
    ("electron", Edge::Start, None),
    ("fban", Edge::Start, None),
    ("fbav", Edge::Start, None),
    ("fb_iab", Edge::Inside, None),
    ("instagram", Edge::Start, None),
    ("micromessenger", Edge::Start, None),
    ("viber", Edge::Start, None),
    ("device/", Edge::Start, None),
    ("; wv)", Edge::Inside, None),
    ("sogoumobilebrowser", Edge::Inside, None),
    ("sogoumse", Edge::Inside, None),
    ("sogousearch", Edge::Inside, None),
    ("daumapps", Edge::Inside, None),
    ("searchlite", Edge::Inside, None),
    ("gsa/", Edge::Start, None),
    ("ucbrowser", Edge::Inside, None),
    ("ucweb", Edge::Inside, None),
    ("cfnetwork", Edge::Start, None),
    ("dalvik", Edge::Start, None),
    ("microsoft office", Edge::Inside, None),
    ("microsoft outlook", Edge::Inside, None),
    ("ms-office", Edge::Inside, None),
    ("msoffice", Edge::Inside, None),
    ("hbbtv", Edge::Inside, None),
    ("smarttv", Edge::Inside, None),
    ("smart-tv", Edge::Inside, None),
    ("upnp", Edge::Inside, None),
    ("dlna", Edge::Inside, None),
    ("midp", Edge::Start, None),
    ("cldc", Edge::Start, None),
    ("obigo", Edge::Start, None),
    ("teleca", Edge::Start, None),
    ("lynx", Edge::Start, None),
    ("elinks", Edge::Start, None),
    ("mosaic", Edge::Inside, None),
    // Mail clients following a link a person clicked, and Firefox for Android's own fetcher.
    ("outlook", Edge::Start, None),
    ("mozac", Edge::Start, None),
    ("(java; android)", Edge::Inside, None),
    ("technology%20preview", Edge::Inside, None),
    ("technology preview", Edge::Inside, None),
];

/// Markers of software people run: engines, systems, platforms, players, mail clients.
const HUMAN_MARKERS: &[Word] = &[
    // Engines and browsers.
    ("gecko", Edge::Inside, None),
    ("webkit", Edge::Inside, None),
    ("khtml", Edge::Start, None),
    ("trident", Edge::Start, None),
    ("presto", Edge::Start, None),
    ("msie", Edge::Start, None),
    ("goanna", Edge::Start, None),
    ("netfront", Edge::Start, None),
    ("opera", Edge::Start, None),
    ("konqueror", Edge::Start, None),
    ("lynx", Edge::Start, None),
    ("links", Edge::Whole, None),
    ("w3m", Edge::Start, None),
    ("icab", Edge::Start, None),
    ("netsurf", Edge::Start, None),
    ("mosaic", Edge::Inside, None),
    ("dillo", Edge::Start, None),
    ("chrome", Edge::Start, None),
    ("firefox", Edge::Start, None),
    ("safari", Edge::Start, None),
    ("internet explorer", Edge::Start, None),
    ("iceweasel", Edge::Start, None),
    ("seamonkey", Edge::Start, None),
    // Systems and platforms.
    ("windows", Edge::Start, None),
    ("win95", Edge::Start, None),
    ("win98", Edge::Start, None),
    ("winnt", Edge::Start, None),
    ("win7", Edge::Start, None),
    ("win8", Edge::Start, None),
    ("win10", Edge::Start, None),
    ("win11", Edge::Start, None),
    ("macintosh", Edge::Start, None),
    ("mac os", Edge::Start, None),
    ("mac_powerpc", Edge::Start, None),
    ("x11", Edge::Start, None),
    ("linux", Edge::Start, None),
    ("android", Edge::Start, None),
    ("iphone", Edge::Inside, None),
    ("ipad", Edge::Inside, None),
    ("ipod", Edge::Inside, None),
    ("ios", Edge::Start, None),
    ("cros", Edge::Whole, None),
    ("darwin", Edge::Start, None),
    ("dalvik", Edge::Start, None),
    ("cfnetwork", Edge::Start, None),
    ("cronet", Edge::Start, None),
    ("symbian", Edge::Inside, None),
    ("series40", Edge::Start, None),
    ("series60", Edge::Start, None),
    ("s60", Edge::Whole, None),
    ("blackberry", Edge::Inside, None),
    ("bb10", Edge::Whole, None),
    ("midp", Edge::Start, None),
    ("cldc", Edge::Start, None),
    ("profile/", Edge::Start, None),
    ("up.browser", Edge::Start, None),
    ("up.link", Edge::Start, None),
    ("wap", Edge::Whole, None),
    ("obigo", Edge::Start, None),
    ("teleca", Edge::Start, None),
    ("maui", Edge::Whole, None),
    ("brew", Edge::Whole, None),
    ("nucleus", Edge::Whole, None),
    ("nokia", Edge::Start, None),
    ("samsung", Edge::Start, None),
    ("sonyericsson", Edge::Start, None),
    ("sony", Edge::Start, None),
    ("alcatel", Edge::Start, None),
    ("sie-", Edge::Start, None),
    ("mot-", Edge::Start, None),
    ("lg-", Edge::Start, None),
    ("lge", Edge::Whole, None),
    ("lg", Edge::Whole, None),
    ("htc", Edge::Whole, None),
    ("zte", Edge::Start, None),
    ("huawei", Edge::Inside, None),
    ("kddi", Edge::Start, None),
    ("docomo", Edge::Start, None),
    ("vodafone", Edge::Start, None),
    ("ucweb", Edge::Inside, None),
    ("ucbrowser", Edge::Inside, None),
    ("tizen", Edge::Start, None),
    ("webos", Edge::Start, None),
    ("web0s", Edge::Start, None),
    ("kaios", Edge::Start, None),
    ("sailfish", Edge::Start, None),
    ("ubuntu", Edge::Start, None),
    ("fedora", Edge::Start, None),
    ("amiga", Edge::Inside, None),
    ("aweb", Edge::Inside, None),
    ("ibrowse", Edge::Start, None),
    ("voyager", Edge::Inside, None),
    ("risc os", Edge::Start, None),
    ("acorn", Edge::Start, None),
    ("beos", Edge::Start, None),
    ("haiku", Edge::Start, None),
    ("os/2", Edge::Start, None),
    ("sunos", Edge::Start, None),
    ("irix", Edge::Start, None),
    ("hp-ux", Edge::Start, None),
    ("osf1", Edge::Start, None),
    ("palm", Edge::Start, None),
    ("inferno", Edge::Start, None),
    // TVs, consoles, players, mail and office clients, desktop apps.
    ("smarttv", Edge::Inside, None),
    ("smart-tv", Edge::Inside, None),
    ("hbbtv", Edge::Inside, None),
    ("roku", Edge::Start, None),
    ("playstation", Edge::Start, None),
    ("xbox", Edge::Start, None),
    ("nintendo", Edge::Start, None),
    ("appletv", Edge::Start, None),
    ("apple tv", Edge::Start, None),
    ("tvos", Edge::Start, None),
    ("watchos", Edge::Start, None),
    ("watch os", Edge::Start, None),
    ("vizio", Edge::Start, None),
    ("bravia", Edge::Start, None),
    ("kodi", Edge::Start, None),
    ("xbmc", Edge::Start, None),
    ("vlc", Edge::Inside, None),
    ("mpv", Edge::Whole, None),
    ("upnp", Edge::Inside, None),
    ("dlna", Edge::Inside, None),
    ("sonos", Edge::Start, None),
    ("itunes", Edge::Start, None),
    ("quicktime", Edge::Start, None),
    ("nsplayer", Edge::Start, None),
    ("windows-media", Edge::Start, None),
    ("exoplayer", Edge::Inside, None),
    ("stagefright", Edge::Start, None),
    ("gstreamer", Edge::Start, None),
    ("mplayer", Edge::Start, None),
    ("lavf", Edge::Start, None),
    ("microsoft office", Edge::Start, None),
    ("ms-office", Edge::Start, None),
    ("msoffice", Edge::Start, None),
    ("outlook", Edge::Start, None),
    ("thunderbird", Edge::Start, None),
    ("electron", Edge::Start, None),
    ("fban", Edge::Start, None),
    ("instagram", Edge::Start, None),
];

/// The list a word comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Bot,
    Weak,
    App,
    Library,
    Human,
}

/// Word lists compiled into one automaton, so one pass over an agent finds them all.
struct Words {
    automaton: AhoCorasick,
    words: Vec<(Word, List)>,
}

impl Words {
    fn new(lists: &[(&[Word], List)]) -> Option<Words> {
        let words: Vec<(Word, List)> = lists
            .iter()
            .flat_map(|&(words, list)| words.iter().map(move |&w| (w, list)))
            .collect();
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(words.iter().map(|(w, _)| w.0))
            .ok()?;
        Some(Words { automaton, words })
    }

    /// Every word found at its edge in `text`, in the order the automaton reports them, until
    /// `each` breaks.
    fn scan(&self, text: &[u8], mut each: impl FnMut(Word, List, Range<usize>) -> ControlFlow<()>) {
        for m in self.automaton.find_overlapping_iter(text) {
            let (word, list) = self.words[m.pattern().as_usize()];
            if fits(word, text, m.range()) && each(word, list, m.range()).is_break() {
                return;
            }
        }
    }
}

/// True when `word`, found at `at` in `text`, stands at the edge it needs.
fn fits(word: Word, text: &[u8], at: Range<usize>) -> bool {
    // A whole word has no letter or digit beside it (`RSS` in `Build/S1RSS32` is no word);
    // a word's start or end only needs no letter (`mj12bot`).
    let edge = |b: u8| {
        if word.1 == Edge::Whole {
            !b.is_ascii_alphanumeric()
        } else {
            !b.is_ascii_alphabetic()
        }
    };
    let starts = at.start == 0 || edge(text[at.start - 1]);
    let ends = at.end == text.len() || edge(text[at.end]);
    // `User-Agent:` pasted in front of a browser's agent is not an agent word.
    if word.0 == "agent" && after_user(&text[..at.start]) {
        return false;
    }
    match word.1 {
        Edge::Inside => true,
        Edge::End => ends,
        Edge::Start => starts,
        Edge::Whole => starts && ends,
    }
}

/// True when `before` ends with `user`, maybe followed by one separator (`User-Agent`,
/// `useragent`, `user_agent`, `User Agent`).
fn after_user(before: &[u8]) -> bool {
    let before = match before.last() {
        Some(b' ' | b'-' | b'_') => &before[..before.len() - 1],
        _ => before,
    };
    before.len() >= 4 && before[before.len() - 4..].eq_ignore_ascii_case(b"user")
}

/// The bot, app and library lists together: the classifier reads all three from every agent.
static SIGNALS: LazyLock<Option<Words>> = LazyLock::new(|| {
    Words::new(&[
        (BOT_WORDS, List::Bot),
        (WEAK_WORDS, List::Weak),
        (APP_MARKERS, List::App),
        (LIBRARY_WORDS, List::Library),
    ])
});
/// Human markers are read from the agent as sent (device model kept), so they stay apart.
static HUMAN: LazyLock<Option<Words>> =
    LazyLock::new(|| Words::new(&[(HUMAN_MARKERS, List::Human)]));

/// What one pass of the bot, app and library lists finds in an agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signals {
    /// The first [`bot_word`]: the class it suggests and, when the word is made of letters
    /// (not a URL or an attack string), where it stands, so the bot can be named by the
    /// token holding it.
    pub bot: Option<(Option<Class>, Option<Range<usize>>)>,
    /// The first [`WEAK_WORDS`] noun, in the same form: a bot unless an app marker is found.
    pub weak: Option<(Option<Class>, Option<Range<usize>>)>,
    /// An [`app_marker`] was found.
    pub app: bool,
    /// A [`library_word`] was found.
    pub library: bool,
}

/// The bot word, app marker and library word in `text`, in one pass. A bot word decides on
/// its own, so the pass stops at the first one.
pub fn signals(text: &[u8]) -> Signals {
    let mut found = Signals::default();
    if let Some(words) = SIGNALS.as_ref() {
        words.scan(text, |word, list, at| {
            match list {
                List::Bot => {
                    let letters = word.0.bytes().all(|b| b.is_ascii_alphabetic());
                    found.bot = Some((word.2, letters.then_some(at)));
                    return ControlFlow::Break(());
                }
                List::Weak => {
                    if found.weak.is_none() {
                        found.weak = Some((word.2, Some(at)));
                    }
                }
                List::App => found.app = true,
                List::Library => found.library = true,
                List::Human => {}
            }
            ControlFlow::Continue(())
        });
    }
    found
}

/// A bot word in `text`, with the class it suggests (`None`: decide by [`keyword_class`]).
pub fn bot_word(text: &[u8]) -> Option<Option<Class>> {
    let found = signals(text);
    found.bot.or(found.weak).map(|(class, _)| class)
}

/// True when `text` names an app a person uses that embeds a browser or follows links for them.
/// (Only before any bot word: a bot word ends the search.)
pub fn app_marker(text: &[u8]) -> bool {
    signals(text).app
}

/// True when `text` names a browser engine, a system or a platform people use.
pub fn human_marker(text: &[u8]) -> bool {
    let mut found = false;
    if let Some(words) = HUMAN.as_ref() {
        words.scan(text, |_, _, _| {
            found = true;
            ControlFlow::Break(())
        });
    }
    found
}

/// An HTTP library or command-line tool named in `text` (only before any bot word).
pub fn library_word(text: &[u8]) -> bool {
    signals(text).library
}

/// True when `text` holds an e-mail address (`bot@example.com`, not Ecosia's `android@150.0`).
pub fn email_address(text: &[u8]) -> bool {
    text.iter().enumerate().any(|(at, &b)| {
        if b != b'@' {
            return false;
        }
        let domain = &text[at + 1..];
        let label = domain
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-')
            .count();
        label > 0
            && domain.get(label) == Some(&b'.')
            && domain.get(label + 1).is_some_and(u8::is_ascii_alphabetic)
    })
}

/// A class for a bot the database does not know, from words in its user agent.
pub fn keyword_class(ua: &str) -> Class {
    let lower = ua.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if has(&["scan", "nuclei", "sqlmap", "nikto", "masscan", "zgrab"]) {
        Class::Scanner
    } else if has(&[
        "gpt",
        "openai",
        "anthropic",
        "claude",
        "llm",
        "perplexity",
        "cohere",
    ]) {
        Class::Ai
    } else if has(&["rss", "atom", "feed", "podcast", "subscriber", " readers"]) {
        Class::Feed
    } else if has(&[
        "monitor",
        "uptime",
        "status",
        "health",
        "ping",
        "check",
        "synthetic",
    ]) {
        Class::Monitor
    } else if has(&["preview", "embed", "unfurl", "link expand"]) {
        Class::Social
    } else if has(&["search"]) {
        Class::Search
    } else {
        Class::OtherBot
    }
}

/// `ua` with the device model of an Android user agent blanked out (`CUBOT ECHO` in
/// `(Linux; Android 6.0; CUBOT ECHO Build/MRA58K)`, or after `Android (` in app agents), so that
/// a model name is never read as a bot's name. Blanked bytes become `_`, which no list matches
/// and which keeps the words around it apart. Returns `None` when there is nothing to blank.
pub fn without_device_model(ua: &str) -> Option<String> {
    let bytes = ua.as_bytes();
    // Most agents name no Android: find out before copying the agent in lower case.
    bytes
        .windows("android".len())
        .position(|w| w.eq_ignore_ascii_case(b"android"))?;
    let lower = ua.to_ascii_lowercase();
    let at = lower.find("android")?;
    let mut out = bytes.to_vec();
    let mut changed = false;
    let mut i = at + "android".len();
    if bytes.get(i) == Some(&b' ') && bytes.get(i + 1) == Some(&b'(') {
        // `Instagram ... Android (28/9; 480dpi; 1080x2115; CUBOT; X20; ...)`
        let end = bytes[i..]
            .iter()
            .position(|&b| b == b')')
            .map_or(bytes.len(), |p| i + p);
        for b in &mut out[i + 2..end] {
            *b = b'_';
            changed = true;
        }
    } else {
        // `Android 6.0; [xx-xx; ]MODEL[ Build/...])`: skip the version, then an optional locale.
        i += bytes[i..]
            .iter()
            .take_while(|&&b| b == b' ' || b.is_ascii_digit() || b == b'.')
            .count();
        if bytes.get(i) != Some(&b';') {
            return None;
        }
        i += 1;
        let rest = &lower[i..];
        let field_end = |s: &str| s.find([';', ')']).unwrap_or(s.len());
        let first = rest[..field_end(rest)].trim();
        let locale = first.len() == 5 && first.as_bytes()[2] == b'-' || first == "u";
        if locale && rest.as_bytes().get(field_end(rest)) == Some(&b';') {
            i += field_end(rest) + 1;
        }
        let rest = &lower[i..];
        let mut end = i + field_end(rest);
        if let Some(build) = rest[..end - i].find("build/") {
            end = i + build;
        }
        for b in &mut out[i..end] {
            if *b != b' ' {
                *b = b'_';
                changed = true;
            }
        }
    }
    if !changed {
        return None;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_respect_their_edges() {
        assert!(bot_word(b"Googlebot/2.1").is_some());
        assert!(bot_word(b"mj12bot/v1.4").is_some());
        assert!(bot_word(b"Botswana bottle").is_none());
        assert!(!library_word(b"libcurly/1"));
        assert!(library_word(b"curl/8.5"));
        assert!(email_address(b"FooBot (+bot@example.com)"));
        assert!(!email_address(b"(Ecosia android@150.0.0.0)"));
        assert!(bot_word(b"NewsFeedApp/1").is_none());
        assert_eq!(
            bot_word(b"'+(select load_file('x'))+'"),
            Some(Some(Class::Scanner))
        );
    }

    #[test]
    fn tool_nouns_are_bot_words() {
        let cyba = b"Mozilla/5.0 (Windows NT 10.0) Chrome/140.0 Safari/537.36 CybaaAgent";
        assert!(bot_word(cyba).is_some());
        assert!(
            bot_word(b"Darwin/24.5.0 (Watch7,8; watchOS 11.4) MatomoTrackerSDK/7.7.0").is_some()
        );
        assert_eq!(
            bot_word(b"ELB-HealthChecker/2.0"),
            Some(Some(Class::Monitor))
        );
        // `User-Agent:` pasted before a browser's agent, and words that only contain a noun.
        assert!(bot_word(b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0").is_none());
        assert!(bot_word(b"useragent Mozilla/5.0 Gecko").is_none());
        assert!(bot_word(b"Mozilla/5.0 (Linux; Android 7.0; Seoul 5 Plus) Chrome/83.0").is_none());
        assert!(bot_word(
            b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36 Edg/120.0"
        )
        .is_none());
    }

    #[test]
    fn device_models_are_blanked() {
        let ua = "Mozilla/5.0 (Linux; Android 7.0; CUBOT H3) AppleWebKit/537.36";
        let masked = without_device_model(ua).unwrap();
        assert_eq!(
            masked,
            "Mozilla/5.0 (Linux; Android 7.0; _____ __) AppleWebKit/537.36"
        );
        let ua = "Mozilla/5.0 (Linux; U; Android 4.2.2; es-es; CUBOT GT72E Build/JDQ39) X";
        let masked = without_device_model(ua).unwrap();
        assert!(
            masked.contains("es-es; _____ _____ Build/JDQ39"),
            "{masked}"
        );
        let ua = "x Instagram 237.0 Android (28/9; 480dpi; CUBOT; X20) y";
        assert!(!without_device_model(ua).unwrap().contains("CUBOT"));
        assert_eq!(without_device_model("Googlebot/2.1"), None);
    }
}
