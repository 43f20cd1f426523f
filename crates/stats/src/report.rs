//! The numbers every output shows, computed once from a [`Tally`]: the terminal summary, the
//! JSON and the HTML page all render this one [`Report`], so they cannot disagree.

use super::class::Class;
use super::format::Format;
use super::parse::unescape;
use super::tally::Tally;
use serde::Serialize;
use std::collections::BTreeMap;

/// The version of the JSON layout (`docs/stats-json.md`): raised when a key changes meaning or
/// goes away, not when one is added.
pub const JSON_VERSION: u32 = 2;

/// A finished report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The JSON layout's version, [`JSON_VERSION`].
    pub version: u32,
    /// The sources read, in order (`stdin` for standard input), with the format of each.
    pub sources: Vec<SourceRow>,
    /// Lines read, well-formed or not.
    pub lines: u64,
    /// Well-formed requests counted (after filters): the sum over `classes`.
    pub requests: u64,
    /// Lines that did not parse.
    pub malformed: u64,
    /// Unfinished last lines of logs still being written: neither counted nor malformed.
    pub partial_lines: u64,
    /// Well-formed lines left out by `--since`, `--until` or `--class`.
    pub filtered_out: u64,
    /// Distinct user agents seen.
    pub distinct_agents: u64,
    /// Distinct client addresses among the counted requests.
    pub distinct_clients: u64,
    /// Body bytes sent for the counted requests.
    pub bytes: u64,
    /// Requests made by bots (every class but human and unknown).
    pub bot_requests: u64,
    /// Share of the counted requests made by bots, in percent.
    pub bot_percent: f64,
    /// Requests that carried no user agent (the `unknown` class).
    pub no_agent_requests: u64,
    /// Share of the counted requests that carried no user agent, in percent.
    pub no_agent_percent: f64,
    /// Share of the counted requests answered 4xx, in percent.
    pub status_4xx_percent: f64,
    /// Share of the counted requests answered 5xx, in percent.
    pub status_5xx_percent: f64,
    /// One row per class, in [`Class::ALL`] order, including empty ones.
    pub classes: Vec<ClassRow>,
    /// The busiest bots, most requests first.
    pub top_bots: Vec<BotRow>,
    /// The heaviest client addresses: impostors first, then most requests.
    pub top_clients: Vec<ClientRow>,
    /// robots.txt groups for every crawler seen, by class then requests.
    pub robots: Vec<RobotsRow>,
    /// Feed subscribers announced in feed readers' agents, per reader, most first.
    pub feed_subscribers: Vec<SubscribersRow>,
    /// Their sum over readers.
    pub feed_subscribers_total: u64,
    /// The pages humans read most (answered below 400, no asset extension), most first.
    pub top_human_paths: Vec<PathRow>,
    /// Human requests for assets (stylesheets, scripts, images, fonts), counted apart.
    pub human_assets: AssetTotals,
    /// Requests per day and class, oldest day first.
    pub days: Vec<DayRow>,
    /// The first few malformed lines.
    pub malformed_examples: Vec<MalformedRow>,
}

/// What was read from one source.
#[derive(Debug, Clone, Serialize)]
pub struct SourceRow {
    /// The source as given (`stdin` for standard input).
    pub name: String,
    /// The format most of its lines were in (a [`Format`] key), `null` when none was understood.
    pub format: Option<Format>,
    /// Lines understood per format key, formats with no line left out.
    pub formats: BTreeMap<Format, u64>,
    /// Lines read.
    pub lines: u64,
    /// Lines understood.
    pub well_formed: u64,
    /// Lines not understood.
    pub malformed: u64,
    /// An unfinished last line, neither counted nor malformed.
    pub partial_lines: u64,
}

/// Totals for one class.
#[derive(Debug, Clone, Serialize)]
pub struct ClassRow {
    /// The class.
    pub class: Class,
    /// Its label for people.
    pub label: &'static str,
    /// Requests.
    pub requests: u64,
    /// Share of all counted requests, in percent.
    pub percent: f64,
    /// Body bytes sent.
    pub bytes: u64,
    /// Distinct client addresses.
    pub clients: u64,
    /// Requests answered 4xx.
    pub status_4xx: u64,
    /// Requests answered 5xx.
    pub status_5xx: u64,
}

/// One named bot within one class.
#[derive(Debug, Clone, Serialize)]
pub struct BotRow {
    /// The bot's stable name.
    pub name: String,
    /// The class its requests were counted in.
    pub class: Class,
    /// Requests.
    pub requests: u64,
    /// Share of all counted requests, in percent.
    pub percent: f64,
    /// Body bytes sent.
    pub bytes: u64,
    /// Requests from addresses its operator's check verified (published ranges, or DNS with
    /// `--verify-dns`); 0 when no check is documented or none passed.
    pub verified_requests: u64,
}

/// One client address among the heaviest.
#[derive(Debug, Clone, Serialize)]
pub struct ClientRow {
    /// The address as logged.
    pub address: String,
    /// True when it claimed to be a crawler whose operator's check it failed.
    pub impostor: bool,
    /// The classes of its requests.
    pub classes: Vec<Class>,
    /// Requests.
    pub requests: u64,
    /// Share of all counted requests, in percent.
    pub percent: f64,
    /// Body bytes sent.
    pub bytes: u64,
}

/// One robots.txt group for a crawler seen.
#[derive(Debug, Clone, Serialize)]
pub struct RobotsRow {
    /// The robots.txt `User-agent` token its operator documents.
    pub token: String,
    /// The class its requests were counted in.
    pub class: Class,
    /// Requests (0 for a control token with no crawler of its own, such as `Google-Extended`).
    pub requests: u64,
    /// Share of all counted requests, in percent.
    pub percent: f64,
    /// Body bytes sent.
    pub bytes: u64,
    /// Share of all bytes sent, in percent.
    pub bytes_percent: f64,
    /// What the token controls when it is not a crawler of its own.
    pub note: Option<&'static str>,
}

/// Feed subscribers one reader announced, the latest count per feed summed.
#[derive(Debug, Clone, Serialize)]
pub struct SubscribersRow {
    /// The feed reader's name.
    pub reader: String,
    /// Subscribers over all feeds.
    pub subscribers: u64,
    /// Feeds it fetched with a count.
    pub feeds: u64,
}

/// One path and how often humans asked for it.
#[derive(Debug, Clone, Serialize)]
pub struct PathRow {
    /// The path, unescaped, without query string.
    pub path: String,
    /// Requests.
    pub requests: u64,
}

/// Requests and bytes for assets.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct AssetTotals {
    /// Requests.
    pub requests: u64,
    /// Body bytes sent.
    pub bytes: u64,
}

/// Requests on one day.
#[derive(Debug, Clone, Serialize)]
pub struct DayRow {
    /// The day as written in the log, `YYYY-MM-DD`.
    pub date: String,
    /// All requests that day.
    pub total: u64,
    /// Requests per class key (every class is present).
    pub by_class: BTreeMap<&'static str, u64>,
}

/// One malformed line.
#[derive(Debug, Clone, Serialize)]
pub struct MalformedRow {
    /// The source it came from.
    pub source: String,
    /// Its 1-based line number.
    pub line: u64,
    /// Why it was rejected.
    pub reason: String,
    /// Its first bytes, unprintable ones escaped.
    pub text: String,
}

impl Report {
    /// Builds the report, keeping `top` rows in the top-bots and top-paths lists.
    pub fn new(tally: &Tally, top: usize) -> Report {
        let requests = tally.requests();
        let percent = |n: u64| {
            if requests == 0 {
                0.0
            } else {
                (n as f64 * 10_000.0 / requests as f64).round() / 100.0
            }
        };

        let mut clients_per_class = [0u64; Class::COUNT];
        for mask in tally.clients.values().map(|c| c.classes) {
            for (i, n) in clients_per_class.iter_mut().enumerate() {
                *n += u64::from(mask >> i & 1);
            }
        }
        let classes: Vec<ClassRow> = Class::ALL
            .iter()
            .map(|&class| {
                let t = tally.classes[class.index()];
                ClassRow {
                    class,
                    label: class.label(),
                    requests: t.requests,
                    percent: percent(t.requests),
                    bytes: t.bytes,
                    clients: clients_per_class[class.index()],
                    status_4xx: t.status_4xx,
                    status_5xx: t.status_5xx,
                }
            })
            .collect();

        let names = tally.agents.names();
        let mut top_bots: Vec<BotRow> = tally
            .bots
            .iter()
            .enumerate()
            .flat_map(|(id, per_class)| {
                Class::ALL.iter().filter_map(move |&class| {
                    let t = per_class[class.index()];
                    (t.requests > 0).then_some((id, class, t))
                })
            })
            .map(|(id, class, t)| BotRow {
                name: names.get(id).cloned().unwrap_or_default(),
                class,
                requests: t.requests,
                percent: percent(t.requests),
                bytes: t.bytes,
                verified_requests: t.verified,
            })
            .collect();
        top_bots.sort_by(|a, b| {
            b.requests
                .cmp(&a.requests)
                .then_with(|| a.name.cmp(&b.name))
        });
        let total_bytes: u64 = classes.iter().map(|c| c.bytes).sum();
        let robots = robots_rows(&top_bots, &percent, total_bytes);
        top_bots.truncate(top);

        let mut top_clients: Vec<ClientRow> = tally
            .clients
            .iter()
            .map(|(address, c)| ClientRow {
                address: String::from_utf8_lossy(address).into_owned(),
                impostor: c.classes >> Class::Impostor.index() & 1 == 1,
                classes: Class::ALL
                    .into_iter()
                    .filter(|k| c.classes >> k.index() & 1 == 1)
                    .collect(),
                requests: c.requests,
                percent: percent(c.requests),
                bytes: c.bytes,
            })
            .collect();
        top_clients.sort_by(|a, b| {
            b.impostor
                .cmp(&a.impostor)
                .then(b.requests.cmp(&a.requests))
                .then_with(|| a.address.cmp(&b.address))
        });
        top_clients.truncate(top);

        let (feed_subscribers, feed_subscribers_total) = subscriber_rows(tally);

        let mut paths: Vec<(&[u8], u64)> =
            tally.human_paths.iter().map(|(p, &n)| (&**p, n)).collect();
        paths.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let top_human_paths = paths
            .into_iter()
            .take(top)
            .map(|(path, requests)| PathRow {
                path: unescape(path),
                requests,
            })
            .collect();

        let mut days: Vec<DayRow> = tally
            .days
            .iter()
            .map(|(date, counts)| DayRow {
                date: date.to_string(),
                total: counts.iter().sum(),
                by_class: Class::ALL
                    .iter()
                    .map(|c| (c.key(), counts[c.index()]))
                    .collect(),
            })
            .collect();
        days.sort_by(|a, b| a.date.cmp(&b.date));

        let bot_requests = classes
            .iter()
            .filter(|c| c.class.is_bot())
            .map(|c| c.requests)
            .sum();
        let no_agent_requests = classes[Class::Unknown.index()].requests;
        let status_4xx = classes.iter().map(|c| c.status_4xx).sum();
        let status_5xx = classes.iter().map(|c| c.status_5xx).sum();
        let sources = tally
            .sources
            .iter()
            .map(|s| SourceRow {
                name: s.name.clone(),
                format: s.main_format(),
                formats: Format::ALL
                    .into_iter()
                    .filter(|f| s.formats[f.index()] > 0)
                    .map(|f| (f, s.formats[f.index()]))
                    .collect(),
                lines: s.lines,
                well_formed: s.well_formed(),
                malformed: s.malformed,
                partial_lines: s.partial_lines,
            })
            .collect();
        Report {
            version: JSON_VERSION,
            sources,
            lines: tally.lines,
            requests,
            malformed: tally.malformed,
            partial_lines: tally.partial_lines,
            filtered_out: tally.filtered_out,
            distinct_agents: tally.agents.distinct_agents() as u64,
            distinct_clients: tally.clients.len() as u64,
            bytes: classes.iter().map(|c| c.bytes).sum(),
            bot_requests,
            bot_percent: percent(bot_requests),
            no_agent_requests,
            no_agent_percent: percent(no_agent_requests),
            human_assets: AssetTotals {
                requests: tally.human_assets.requests,
                bytes: tally.human_assets.bytes,
            },
            status_4xx_percent: percent(status_4xx),
            status_5xx_percent: percent(status_5xx),
            classes,
            top_bots,
            top_clients,
            robots,
            feed_subscribers,
            feed_subscribers_total,
            top_human_paths,
            days,
            malformed_examples: tally
                .malformed_examples
                .iter()
                .map(|m| MalformedRow {
                    source: m.source.clone(),
                    line: m.line,
                    reason: m.reason.to_string(),
                    text: m.text.clone(),
                })
                .collect(),
        }
    }

    /// The share of counted requests made by bots, in percent.
    pub fn bot_percent(&self) -> f64 {
        self.bot_percent
    }
}

/// robots.txt tokens for the control groups that govern AI use of a search crawler's pages,
/// offered when that crawler is seen.
const AI_CONTROLS: &[(&str, &str, &str)] = &[
    (
        "googlebot",
        "Google-Extended",
        "use of Googlebot's crawl for Google's AI models (no crawler of its own)",
    ),
    (
        "applebot",
        "Applebot-Extended",
        "use of Applebot's crawl for Apple's AI models (no crawler of its own)",
    ),
];

/// One robots.txt row per crawler seen (not impostors, scanners or unnamed fetchers), grouped
/// by class, with the AI control tokens of the search crawlers seen.
fn robots_rows(bots: &[BotRow], percent: &dyn Fn(u64) -> f64, total_bytes: u64) -> Vec<RobotsRow> {
    let bytes_percent = |b: u64| {
        if total_bytes == 0 {
            0.0
        } else {
            (b as f64 * 10_000.0 / total_bytes as f64).round() / 100.0
        }
    };
    let mut rows: Vec<RobotsRow> = Vec::new();
    for bot in bots {
        let token_like = !bot.name.is_empty()
            && bot
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !token_like || matches!(bot.class, Class::Impostor | Class::Scanner) {
            continue;
        }
        match rows
            .iter_mut()
            .find(|r| r.token.eq_ignore_ascii_case(&bot.name) && r.class == bot.class)
        {
            Some(row) => {
                row.requests += bot.requests;
                row.bytes += bot.bytes;
            }
            None => rows.push(RobotsRow {
                token: bot.name.clone(),
                class: bot.class,
                requests: bot.requests,
                percent: 0.0,
                bytes: bot.bytes,
                bytes_percent: 0.0,
                note: None,
            }),
        }
    }
    for &(crawler, token, note) in AI_CONTROLS {
        if rows.iter().any(|r| r.token.eq_ignore_ascii_case(crawler)) {
            rows.push(RobotsRow {
                token: token.to_string(),
                class: Class::Ai,
                requests: 0,
                percent: 0.0,
                bytes: 0,
                bytes_percent: 0.0,
                note: Some(note),
            });
        }
    }
    for row in &mut rows {
        row.percent = percent(row.requests);
        row.bytes_percent = bytes_percent(row.bytes);
    }
    rows.sort_by(|a, b| {
        a.class
            .cmp(&b.class)
            .then(b.requests.cmp(&a.requests))
            .then_with(|| a.token.cmp(&b.token))
    });
    rows
}

/// Subscribers per feed reader (the latest count it gave for each feed, summed), most first,
/// and their total.
fn subscriber_rows(tally: &Tally) -> (Vec<SubscribersRow>, u64) {
    let mut per_reader: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    for (&(reader, _), &count) in &tally.feed_subscribers {
        let entry = per_reader.entry(reader).or_default();
        entry.0 += u64::from(count);
        entry.1 += 1;
    }
    let names = tally.agents.names();
    let mut rows: Vec<SubscribersRow> = per_reader
        .into_iter()
        .map(|(id, (subscribers, feeds))| SubscribersRow {
            reader: names.get(id as usize).cloned().unwrap_or_default(),
            subscribers,
            feeds,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.subscribers
            .cmp(&a.subscribers)
            .then_with(|| a.reader.cmp(&b.reader))
    });
    let total = rows.iter().map(|r| r.subscribers).sum();
    (rows, total)
}

/// A count with thousands separators: `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A byte count for people: `512 B`, `3.4 KiB`, `1.2 GiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn bytes_for_people() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(2048), "2.0 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }
}
