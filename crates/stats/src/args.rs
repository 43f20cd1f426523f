//! The command line of `forkblog stats`, parsed with `lexopt`.

use super::class::Class;
use super::format::ClientChoice;
use super::tally::Filter;
use jiff::civil::Date;
use std::ffi::OsString;
use std::path::PathBuf;

/// The usage text, printed by `--help` and after a bad argument.
pub const USAGE: &str = "\
Usage: forkblog stats [OPTIONS] [FILE...]

Counts bot and human traffic in access logs: nginx/Apache combined and common, Apache
vhost_combined, lighttpd, Caddy JSON, each with or without X-Forwarded-For; the format is
told per line and shown per file. FILEs may be gzip-compressed; with no FILE, or '-', reads
stdin. Exits 3 when a file has lines but none in a format this reads.

Options:
  --json             print the numbers as JSON instead of the summary
  --html FILE        also write a self-contained HTML report with charts to FILE
  --since DATE       count only requests on or after DATE (YYYY-MM-DD, the log's own day)
  --until DATE       count only requests on or before DATE
  --class LIST       count only these classes (comma-separated, option may repeat):
                     human, search, ai, social, feed, monitor, scanner, impostor,
                     other-bot, unknown
  --top N            rows in the top bots, clients and pages lists (default 10)
  --client WHICH     the client address behind a proxy: forwarded (first X-Forwarded-For
                     address), peer (the connection), or auto (forwarded when logged; default)
  --verify-dns       also check crawlers by reverse-then-forward DNS (Googlebot, bingbot,
                     Applebot, Amazonbot, YandexBot, ...): a few queries per address, cached,
                     2 s each, 60 s in all; without it only published address ranges are used
  --crawler-ranges FILE
                     crawler address ranges to check claims against, instead of the shipped
                     ones (same format; scripts/stats-ranges.sh refreshes them)
  --robots           print robots.txt lines for the crawlers seen instead of the summary
  -h, --help         show this help
";

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Log sources; `-` is stdin. Empty means stdin.
    pub files: Vec<String>,
    /// Print JSON instead of the terminal summary.
    pub json: bool,
    /// Where to write the HTML report.
    pub html: Option<PathBuf>,
    /// Which requests to count.
    pub since: Option<Date>,
    /// Which requests to count.
    pub until: Option<Date>,
    /// Which classes to count; empty means all.
    pub classes: Vec<Class>,
    /// Rows in top lists.
    pub top: usize,
    /// `--help` was given.
    pub help: bool,
    /// Which address counts as the client.
    pub client: ClientChoice,
    /// Check crawler claims by DNS too.
    pub verify_dns: bool,
    /// A ranges file to use instead of the shipped one.
    pub crawler_ranges: Option<PathBuf>,
    /// Print robots.txt lines instead of the summary.
    pub robots: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            files: Vec::new(),
            json: false,
            html: None,
            since: None,
            until: None,
            classes: Vec::new(),
            top: 10,
            help: false,
            client: ClientChoice::Auto,
            verify_dns: false,
            crawler_ranges: None,
            robots: false,
        }
    }
}

impl Options {
    /// The filter these options ask for.
    pub fn filter(&self) -> Filter {
        Filter {
            since: self.since,
            until: self.until,
            classes: self.classes.clone(),
        }
    }
}

/// Parses the arguments after `forkblog stats`; the error is a message for the user.
pub fn parse_args(args: Vec<OsString>) -> Result<Options, String> {
    use lexopt::prelude::*;
    let mut options = Options::default();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Short('h') | Long("help") => options.help = true,
            Long("json") => options.json = true,
            Long("verify-dns") => options.verify_dns = true,
            Long("robots") => options.robots = true,
            Long("crawler-ranges") => {
                options.crawler_ranges = Some(PathBuf::from(value(&mut parser)?));
            }
            Long("html") => options.html = Some(PathBuf::from(value(&mut parser)?)),
            Long("since") => options.since = Some(parse_date(&value(&mut parser)?)?),
            Long("until") => options.until = Some(parse_date(&value(&mut parser)?)?),
            Long("class") => {
                for key in value(&mut parser)?
                    .split(',')
                    .filter(|k| !k.trim().is_empty())
                {
                    let class = Class::from_key(key)
                        .ok_or_else(|| format!("unknown class '{key}' for --class"))?;
                    if !options.classes.contains(&class) {
                        options.classes.push(class);
                    }
                }
            }
            Long("top") => {
                let text = value(&mut parser)?;
                options.top = text
                    .parse()
                    .map_err(|_| format!("--top wants a number, not '{text}'"))?;
            }
            Long("client") => {
                let text = value(&mut parser)?;
                options.client = ClientChoice::from_name(&text).ok_or_else(|| {
                    format!("--client wants forwarded, peer or auto, not '{text}'")
                })?;
            }
            Value(file) => options.files.push(
                file.into_string()
                    .map_err(|f| format!("file name is not UTF-8: {}", f.to_string_lossy()))?,
            ),
            _ => return Err(arg.unexpected().to_string()),
        }
    }
    if let (Some(since), Some(until)) = (options.since, options.until) {
        if since > until {
            return Err(format!("--since {since} is after --until {until}"));
        }
    }
    Ok(options)
}

/// The value of the option just read, as UTF-8 text.
fn value(parser: &mut lexopt::Parser) -> Result<String, String> {
    let value = parser.value().map_err(|e| e.to_string())?;
    value
        .into_string()
        .map_err(|v| format!("option value is not UTF-8: {}", v.to_string_lossy()))
}

/// A `YYYY-MM-DD` date.
fn parse_date(text: &str) -> Result<Date, String> {
    text.parse::<Date>()
        .map_err(|e| format!("'{text}' is not a date (want YYYY-MM-DD): {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        parse_args(args.iter().map(OsString::from).collect())
    }

    #[test]
    fn parses_everything() {
        let o = parse(&[
            "--json",
            "--since",
            "2026-11-01",
            "--until=2026-11-30",
            "--class",
            "ai,search",
            "--class=human",
            "--html",
            "out.html",
            "--top",
            "5",
            "a.log",
            "-",
        ])
        .unwrap();
        assert!(o.json);
        assert_eq!(o.classes, vec![Class::Ai, Class::Search, Class::Human]);
        assert_eq!(o.files, vec!["a.log", "-"]);
        assert_eq!(o.top, 5);
        assert_eq!(o.html, Some(PathBuf::from("out.html")));
        assert_eq!(o.since, Some(jiff::civil::date(2026, 11, 1)));
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--since", "yesterday"]).is_err());
        assert!(parse(&["--class", "robots"]).is_err());
        assert!(parse(&["--top", "x"]).is_err());
        assert!(parse(&["--client", "proxy"]).is_err());
        assert_eq!(
            parse(&["--client", "peer"]).unwrap().client,
            ClientChoice::Peer
        );
        assert!(parse(&["--html"]).is_err());
        assert!(parse(&["--crawler-ranges"]).is_err());
        let o = parse(&["--verify-dns", "--robots", "--crawler-ranges", "r.txt"]).unwrap();
        assert!(o.verify_dns && o.robots);
        assert_eq!(o.crawler_ranges, Some(PathBuf::from("r.txt")));
        assert!(parse(&["--since", "2026-02-02", "--until", "2026-01-01"]).is_err());
    }
}
