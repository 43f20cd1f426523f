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
pub const JSON_VERSION: u32 = 1;

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
        for mask in tally.clients.values() {
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
            })
            .collect();
        top_bots.sort_by(|a, b| {
            b.requests
                .cmp(&a.requests)
                .then_with(|| a.name.cmp(&b.name))
        });
        top_bots.truncate(top);

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
