//! Counting requests as lines stream by: the only state kept is per class, per day, per bot
//! name, per client address and per human path, never the lines themselves.

use super::cache::{AgentCache, NameId};
use super::class::Class;
use super::format::{caddy_client, parse_any, text_client, AnyLine, ClientChoice, Format};
use super::parse::{month_number, LogLine, ParseError};
use super::probe::is_probe_path;
use super::verify::{Status, Verifier};
use jiff::civil::Date;
use std::collections::HashMap;

/// How many malformed lines are kept to show.
pub const MALFORMED_EXAMPLES: usize = 5;

/// Which requests to count.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Count only requests on or after this day (the day as written in the log).
    pub since: Option<Date>,
    /// Count only requests on or before this day.
    pub until: Option<Date>,
    /// Count only requests of these classes; empty means all.
    pub classes: Vec<Class>,
}

/// Totals for one class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClassTotals {
    /// Requests.
    pub requests: u64,
    /// Body bytes sent.
    pub bytes: u64,
    /// Requests answered 4xx.
    pub status_4xx: u64,
    /// Requests answered 5xx.
    pub status_5xx: u64,
}

/// One malformed line, kept to show where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// The source it came from (`-` for stdin).
    pub source: String,
    /// Its 1-based line number in that source.
    pub line: u64,
    /// Why it was rejected.
    pub reason: ParseError,
    /// Its first bytes, with anything unprintable escaped.
    pub text: String,
}

/// What was read from one source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceTotals {
    /// The source as shown to people (`stdin` for `-`).
    pub name: String,
    /// Lines read.
    pub lines: u64,
    /// Lines understood, in each format, indexed by [`Format::index`].
    pub formats: [u64; Format::ALL.len()],
    /// Lines not understood.
    pub malformed: u64,
    /// An unfinished last line (a log still being written), neither counted nor malformed.
    pub partial_lines: u64,
}

impl SourceTotals {
    /// Lines understood, in any format.
    pub fn well_formed(&self) -> u64 {
        self.formats.iter().sum()
    }

    /// The format most of its lines were in; `None` when no line was understood.
    pub fn main_format(&self) -> Option<Format> {
        Format::ALL
            .into_iter()
            .filter(|f| self.formats[f.index()] > 0)
            .max_by_key(|f| (self.formats[f.index()], std::cmp::Reverse(f.index())))
    }
}

/// Requests and bytes for one bot name within one class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BotTotals {
    /// Requests.
    pub requests: u64,
    /// Body bytes sent.
    pub bytes: u64,
    /// Requests from addresses its operator's check verified.
    pub verified: u64,
}

/// What one client address did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientTotals {
    /// A bit for each class it made requests in, by [`Class::index`].
    pub classes: u16,
    /// Requests.
    pub requests: u64,
    /// Body bytes sent.
    pub bytes: u64,
}

/// Everything counted so far.
#[derive(Debug, Default)]
pub struct Tally {
    filter: Filter,
    class_mask: u16,
    /// The classification cache, and the bot names it interned.
    pub agents: AgentCache,
    /// Lines read, well-formed or not.
    pub lines: u64,
    /// Lines that did not parse.
    pub malformed: u64,
    /// Unfinished last lines of sources still being written: not counted, not malformed.
    pub partial_lines: u64,
    /// What was read from each source, in the order read.
    pub sources: Vec<SourceTotals>,
    /// Which address counts as the client.
    pub client_choice: ClientChoice,
    /// Well-formed lines left out by the filter.
    pub filtered_out: u64,
    /// The first few malformed lines.
    pub malformed_examples: Vec<Malformed>,
    /// Totals per class, indexed by [`Class::index`].
    pub classes: [ClassTotals; Class::COUNT],
    /// Per bot name and class: `bots[name][class]`.
    pub bots: Vec<[BotTotals; Class::COUNT]>,
    /// Requests per day (as written in the log) and class, in order of first appearance.
    pub days: Vec<(Date, [u64; Class::COUNT])>,
    /// Per client address: its classes, requests and bytes.
    pub clients: HashMap<Box<[u8]>, ClientTotals>,
    /// The latest subscriber count each feed reader (by name) gave for each feed (by path).
    pub feed_subscribers: HashMap<(NameId, Box<[u8]>), u32>,
    /// Checks crawler claims against their operators' ranges (and DNS, when asked).
    pub verifier: Option<Verifier>,
    /// Requests per page (without query string, escapes kept) that humans read: answered below
    /// 400, with no asset extension ([`is_asset`]).
    pub human_paths: HashMap<Box<[u8]>, u64>,
    /// Human requests for assets (stylesheets, scripts, images, fonts, media).
    pub human_assets: BotTotals,
    day_index: HashMap<Date, usize>,
    last_day: Option<([u8; 11], Option<Date>)>,
    probe_names: [Option<NameId>; Class::COUNT],
    /// Per bot name: whether its operator documents a check (`None`: not asked yet).
    checked_names: Vec<Option<bool>>,
}

impl Tally {
    /// An empty tally that counts only what `filter` lets through.
    pub fn new(filter: Filter) -> Self {
        let class_mask = if filter.classes.is_empty() {
            u16::MAX
        } else {
            filter
                .classes
                .iter()
                .fold(0, |mask, c| mask | 1 << c.index())
        };
        Tally {
            filter,
            class_mask,
            ..Tally::default()
        }
    }

    /// The same tally, checking crawler claims with `verifier`.
    pub fn with_verifier(mut self, verifier: Verifier) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// The same tally, taking the client address as `choice` says.
    pub fn with_client_choice(mut self, choice: ClientChoice) -> Self {
        self.client_choice = choice;
        self
    }

    /// Counts one complete line read from `source` at 1-based `line_no`.
    pub fn add_line(&mut self, source: &str, line_no: u64, line: &[u8]) {
        self.add_line_ended(source, line_no, line, true);
    }

    /// Counts one line; `ended` is false for a last line with no line ending, which a log still
    /// being written has: when it is cut short it is counted as partial, not malformed.
    pub fn add_line_ended(&mut self, source: &str, line_no: u64, line: &[u8], ended: bool) {
        self.lines += 1;
        let slot = self.source_slot(source);
        self.sources[slot].lines += 1;
        let counted = match parse_any(line) {
            Ok(AnyLine::Text(parsed, format)) => {
                let client = text_client(&parsed, self.client_choice);
                self.add_request_from(&parsed, client).map(|()| format)
            }
            Ok(AnyLine::Caddy(caddy)) => {
                let client = caddy_client(&caddy, self.client_choice);
                let parsed = caddy.as_log_line(client);
                self.add_request_from(&parsed, parsed.client)
                    .map(|()| Format::CaddyJson)
            }
            Err(reason) => Err(reason),
        };
        match counted {
            Ok(format) => self.sources[slot].formats[format.index()] += 1,
            Err(ParseError::Truncated) if !ended => {
                self.partial_lines += 1;
                self.sources[slot].partial_lines += 1;
            }
            Err(reason) => {
                self.sources[slot].malformed += 1;
                self.add_malformed(source, line_no, line, reason);
            }
        }
    }

    /// Lists `source` among the sources read, even if it turns out to hold no line.
    pub fn add_source(&mut self, source: &str) {
        self.source_slot(source);
    }

    /// The index in [`Tally::sources`] for `source`, adding it when new.
    fn source_slot(&mut self, source: &str) -> usize {
        if let Some(last) = self.sources.last() {
            if last.name == source {
                return self.sources.len() - 1;
            }
        }
        match self.sources.iter().position(|s| s.name == source) {
            Some(i) => i,
            None => {
                self.sources.push(SourceTotals {
                    name: source.to_string(),
                    ..SourceTotals::default()
                });
                self.sources.len() - 1
            }
        }
    }

    /// Counts one malformed line, keeping the first few.
    fn add_malformed(&mut self, source: &str, line_no: u64, line: &[u8], reason: ParseError) {
        self.malformed += 1;
        if self.malformed_examples.len() < MALFORMED_EXAMPLES {
            self.malformed_examples.push(Malformed {
                source: source.to_string(),
                line: line_no,
                reason,
                text: preview(line),
            });
        }
    }

    /// Counts one parsed request from its logged client; an impossible date (31 Feb) is an error.
    pub fn add_request(&mut self, line: &LogLine<'_>) -> Result<(), ParseError> {
        self.add_request_from(line, line.client)
    }

    /// Counts one parsed request made by `client`.
    pub fn add_request_from(
        &mut self,
        line: &LogLine<'_>,
        client: &[u8],
    ) -> Result<(), ParseError> {
        let date = self.date_of(line).ok_or(ParseError::BadTime)?;
        if self.filter.since.is_some_and(|since| date < since)
            || self.filter.until.is_some_and(|until| date > until)
        {
            self.filtered_out += 1;
            return Ok(());
        }

        let verdict = self.agents.lookup(line.user_agent);
        // Whatever the agent claims, a request for a probe path is scanning.
        let (class, name) = match verdict.class {
            Class::Scanner => (verdict.class, verdict.name),
            _ if is_probe_path(line.target) => (
                Class::Scanner,
                Some(self.probe_name(verdict.class, verdict.name)),
            ),
            _ => (verdict.class, verdict.name),
        };
        let mut verified = false;
        let class = match (class, name, self.verifier.as_mut()) {
            (Class::Scanner | Class::Human | Class::Unknown, _, _)
            | (_, None, _)
            | (_, _, None) => class,
            (_, Some(id), Some(verifier)) => {
                let id = id as usize;
                if self.checked_names.len() <= id {
                    self.checked_names.resize(id + 1, None);
                }
                let name = &self.agents.names()[id];
                let checks = *self.checked_names[id].get_or_insert_with(|| verifier.checks(name));
                match checks.then(|| verifier.check(name, client)).flatten() {
                    Some(Status::Impostor) => Class::Impostor,
                    Some(Status::Verified) => {
                        verified = true;
                        class
                    }
                    _ => class,
                }
            }
        };
        if self.class_mask & (1 << class.index()) == 0 {
            self.filtered_out += 1;
            return Ok(());
        }

        let i = class.index();
        let totals = &mut self.classes[i];
        totals.requests += 1;
        totals.bytes += line.bytes;
        match line.status {
            400..=499 => totals.status_4xx += 1,
            500..=599 => totals.status_5xx += 1,
            _ => {}
        }

        if let Some(name) = name {
            let name = name as usize;
            if self.bots.len() <= name {
                self.bots
                    .resize(name + 1, [BotTotals::default(); Class::COUNT]);
            }
            let bot = &mut self.bots[name][i];
            bot.requests += 1;
            bot.bytes += line.bytes;
            bot.verified += u64::from(verified);
        }

        if let (Some(count), Some(reader)) = (verdict.subscribers, name) {
            self.feed_subscribers
                .insert((reader, line.path().into()), count);
        }

        let day = self.day_slot(date);
        self.days[day].1[i] += 1;

        let bit = 1u16 << i;
        let totals = match self.clients.get_mut(client) {
            Some(totals) => totals,
            None => self.clients.entry(client.into()).or_default(),
        };
        totals.classes |= bit;
        totals.requests += 1;
        totals.bytes += line.bytes;

        if class == Class::Human && is_asset(line.path()) {
            self.human_assets.requests += 1;
            self.human_assets.bytes += line.bytes;
        } else if class == Class::Human && line.status < 400 {
            match self.human_paths.get_mut(line.path()) {
                Some(n) => *n += 1,
                None => {
                    self.human_paths.insert(line.path().into(), 1);
                }
            }
        }
        Ok(())
    }

    /// The name under which a path probe is counted: the bot's own, or one saying what the
    /// agent claimed to be.
    fn probe_name(&mut self, class: Class, name: Option<NameId>) -> NameId {
        if let Some(name) = name {
            return name;
        }
        if let Some(id) = self.probe_names[class.index()] {
            return id;
        }
        let id = self.agents.intern(match class {
            Class::Human => "path probe (browser agent)",
            _ => "path probe (no agent)",
        });
        self.probe_names[class.index()] = Some(id);
        id
    }

    /// The day of a request, cached for runs of lines from the same day.
    fn date_of(&mut self, line: &LogLine<'_>) -> Option<Date> {
        let text = <[u8; 11]>::try_from(line.date_text()).ok()?;
        if let Some((last, date)) = self.last_day {
            if last == text {
                return date;
            }
        }
        let date = parse_day(&text);
        self.last_day = Some((text, date));
        date
    }

    /// The index in [`Tally::days`] for a day, adding it when new.
    fn day_slot(&mut self, date: Date) -> usize {
        if let Some(&(last, _)) = self.days.last() {
            if last == date {
                return self.days.len() - 1;
            }
        }
        *self.day_index.entry(date).or_insert_with(|| {
            self.days.push((date, [0; Class::COUNT]));
            self.days.len() - 1
        })
    }

    /// Well-formed requests counted (after filters).
    pub fn requests(&self) -> u64 {
        self.classes.iter().map(|c| c.requests).sum()
    }
}

/// File extensions of what a page loads rather than what a person reads.
const ASSET_EXTENSIONS: &[&str] = &[
    "css", "js", "mjs", "map", "json", "png", "jpg", "jpeg", "gif", "svg", "ico", "webp", "avif",
    "bmp", "woff", "woff2", "ttf", "otf", "eot", "mp3", "mp4", "webm", "ogg", "wav", "m4a",
];

/// True when `path` (escapes kept, no query) ends in an asset's extension (`/favicon.ico`,
/// `/css/site.css`); a page is anything else (`/`, `/posts/a/`, `/about.html`).
pub fn is_asset(path: &[u8]) -> bool {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or_default();
    let Some(dot) = name.iter().rposition(|&b| b == b'.') else {
        return false;
    };
    let ext = &name[dot + 1..];
    ASSET_EXTENSIONS
        .iter()
        .any(|e| e.as_bytes().eq_ignore_ascii_case(ext))
}

/// `22/Nov/2026` as a date.
fn parse_day(text: &[u8; 11]) -> Option<Date> {
    let num = |bytes: &[u8]| -> Option<i16> { std::str::from_utf8(bytes).ok()?.parse().ok() };
    let day = i8::try_from(num(&text[0..2])?).ok()?;
    let month = month_number(&text[3..6])?;
    let year = num(&text[7..11])?;
    Date::new(year, month, day).ok()
}

/// The first 160 bytes of a line, printable: other bytes are written `\xHH`.
fn preview(line: &[u8]) -> String {
    let mut out = String::new();
    for &b in line.iter().take(160) {
        if (0x20..0x7f).contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    if line.len() > 160 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HUMAN: &[u8] = br#"10.0.0.1 - - [22/Nov/2026:10:00:00 +0000] "GET /posts/a/?q=1 HTTP/1.1" 200 100 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0""#;
    const PROBE: &[u8] = br#"10.0.0.2 - - [23/Nov/2026:10:00:00 +0000] "GET /wp-login.php HTTP/1.1" 404 10 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0""#;
    const BOT: &[u8] =
        br#"10.0.0.3 - - [23/Nov/2026:11:00:00 +0000] "GET / HTTP/1.1" 503 0 "-" "curl/8.5.0""#;

    #[test]
    fn counts_classes_days_and_probes() {
        let mut tally = Tally::new(Filter::default());
        for (n, line) in [HUMAN, PROBE, BOT, b"garbage" as &[u8]].iter().enumerate() {
            tally.add_line("test.log", n as u64 + 1, line);
        }
        assert_eq!(tally.lines, 4);
        assert_eq!(tally.malformed, 1);
        assert_eq!(tally.malformed_examples[0].line, 4);
        assert_eq!(tally.requests(), 3);
        assert_eq!(tally.classes[Class::Human.index()].requests, 1);
        assert_eq!(tally.classes[Class::Scanner.index()].status_4xx, 1);
        assert_eq!(tally.classes[Class::OtherBot.index()].status_5xx, 1);
        assert_eq!(tally.days.len(), 2);
        assert_eq!(tally.human_paths.get(&b"/posts/a/"[..]), Some(&1));
        assert_eq!(tally.clients.len(), 3);
    }

    #[test]
    fn filters_by_date_and_class() {
        let filter = Filter {
            since: Some(jiff::civil::date(2026, 11, 23)),
            until: None,
            classes: vec![Class::OtherBot],
        };
        let mut tally = Tally::new(filter);
        for line in [HUMAN, PROBE, BOT] {
            tally.add_line("-", 1, line);
        }
        assert_eq!(tally.requests(), 1);
        assert_eq!(tally.filtered_out, 2);
    }

    #[test]
    fn impossible_date_is_malformed() {
        let mut tally = Tally::new(Filter::default());
        tally.add_line(
            "-",
            1,
            br#"1 - - [31/Feb/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1"#,
        );
        assert_eq!(tally.malformed, 1);
    }
}
