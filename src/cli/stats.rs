//! `forkblog stats`'s flags and FILE operands, declared like every other command's, filling
//! the stats crate's [`Options`]; the checks that need several flags at once; and the command's
//! longer help.

use std::process::ExitCode;

use lexopt::ValueExt;

use crate::stats::args::Options;
use crate::stats::format::{self, ClientChoice};
use crate::stats::Class;

use super::{flag, parse, set, Args, Flag, Usage, Word};

impl Args for Options {
    fn flags() -> Vec<Flag<Options>> {
        // Fixes the arguments' type once, for every closure below.
        let flag = flag::<Self>;
        let d = Options::default();
        vec![
            flag(
                "json",
                None,
                "print the numbers as JSON instead of the summary",
                |a, _| set(&mut a.json, true),
            ),
            flag(
                "html",
                Some("FILE"),
                "also write a self-contained HTML report with charts to FILE",
                |a, p| set(&mut a.html, Some(p.value()?.into())),
            ),
            flag(
                "since",
                Some("DATE"),
                "count only requests on or after DATE (YYYY-MM-DD, the log's own day)",
                |a, p| set(&mut a.since, Some(date(p)?)),
            ),
            flag(
                "until",
                Some("DATE"),
                "count only requests on or before DATE",
                |a, p| set(&mut a.until, Some(date(p)?)),
            ),
            flag(
                "class",
                Some("LIST"),
                "count only these classes, comma-separated (repeatable; see CLASSES)",
                |a, p| {
                    for key in p.value()?.string()?.split(',') {
                        if key.trim().is_empty() {
                            continue;
                        }
                        let class = Class::from_key(key)
                            .ok_or_else(|| Usage(format!("unknown class '{key}' for --class")))?;
                        if !a.classes.contains(&class) {
                            a.classes.push(class);
                        }
                    }
                    Ok(())
                },
            ),
            flag(
                "top",
                Some("N"),
                "rows in the top bots, clients and pages lists",
                |a, p| {
                    let text = p.value()?.string()?;
                    let top = text
                        .parse()
                        .map_err(|_| Usage(format!("--top wants a number, not '{text}'")))?;
                    set(&mut a.top, top)
                },
            )
            .or(d.top),
            flag(
                "client",
                Some("WHICH"),
                "the client behind a proxy: forwarded (first X-Forwarded-For address), peer, auto",
                |a, p| {
                    let text = p.value()?.string()?;
                    let client = ClientChoice::from_name(&text).ok_or_else(|| {
                        Usage(format!(
                            "--client wants forwarded, peer or auto, not '{text}'"
                        ))
                    })?;
                    set(&mut a.client, client)
                },
            )
            .or("auto, forwarded where logged"),
            flag(
                "verify-dns",
                None,
                "also check crawlers by reverse-then-forward DNS (see CRAWLERS)",
                |a, _| set(&mut a.verify_dns, true),
            ),
            flag(
                "crawler-ranges",
                Some("FILE"),
                "crawler address ranges to check claims against, instead of the shipped ones",
                |a, p| set(&mut a.crawler_ranges, Some(p.value()?.into())),
            ),
            flag(
                "robots",
                None,
                "print robots.txt lines for the crawlers seen instead of the summary",
                |a, _| set(&mut a.robots, true),
            ),
        ]
    }
}

/// A `YYYY-MM-DD` date.
fn date(parser: &mut lexopt::Parser) -> Result<jiff::civil::Date, Usage> {
    let text = parser.value()?.string()?;
    text.parse()
        .map_err(|e| Usage(format!("'{text}' is not a date (want YYYY-MM-DD): {e}")))
}

/// A FILE operand: a log to read, `-` for stdin.
const FILE: Word<Options> = |a, v| {
    let file = v
        .into_string()
        .map_err(|f| Usage(format!("file name is not UTF-8: {}", f.to_string_lossy())))?;
    a.files.push(file);
    Ok(())
};

/// The options, once the flags that only make sense together have been checked.
fn finish(options: Options) -> Result<Options, Usage> {
    if let (Some(since), Some(until)) = (options.since, options.until) {
        if since > until {
            return Err(Usage(format!("--since {since} is after --until {until}")));
        }
    }
    Ok(options)
}

pub(super) fn run(mut parser: lexopt::Parser) -> Result<ExitCode, Usage> {
    let Some(options) = parse(&mut parser, "stats", Some(FILE))? else {
        return Ok(ExitCode::SUCCESS);
    };
    Ok(crate::stats::run(finish(options)?))
}

pub(super) fn options() -> String {
    super::flag_lines::<Options>()
}

/// What the flag lines have no room for: the formats read, the classes, how crawlers are
/// checked, the exit status.
pub(super) fn details() -> String {
    let classes: Vec<&str> = Class::ALL.iter().map(|c| c.key()).collect();
    super::wrap(&format!(
        "Counts bot and human traffic in access logs, in any of these formats: {}; the format \
         is told per line and shown per file. FILEs may be gzip-compressed; with no \
         FILE, or '-', reads stdin.\n\n\
         CLASSES: {}.\n\n\
         CRAWLERS: a client naming a crawler whose operator publishes its addresses is checked \
         against the shipped ranges (scripts/stats-ranges.sh refreshes them; --crawler-ranges \
         FILE, in the same format, replaces them). --verify-dns also checks Googlebot, bingbot, \
         Applebot, Amazonbot, YandexBot, ... by reverse-then-forward DNS: a few queries per \
         address, cached, 2 s each, 60 s in all.\n\n\
         EXIT STATUS: 0 success, 1 a file cannot be read or written, 2 usage error, 3 a file has \
         lines but none in a format this reads (the report is still printed).",
        format::all_labels(),
        classes.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn parse(argv: &[&str]) -> Result<Options, Usage> {
        let mut parser = lexopt::Parser::from_args(argv);
        super::parse(&mut parser, "stats", Some(FILE))?
            .map(finish)
            .expect("no --help here")
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
        assert_eq!(o.until, Some(jiff::civil::date(2026, 11, 30)));
    }

    #[test]
    fn rejects_bad_arguments_saying_why() {
        let refused = |argv: &[&str], why: &str| {
            let message = parse(argv).expect_err(why).0;
            assert!(message.contains(why), "{argv:?}: {message}");
        };
        refused(&["--bogus"], "--bogus");
        refused(&["--since", "yesterday"], "'yesterday' is not a date");
        refused(&["--class", "robots"], "unknown class 'robots'");
        refused(&["--top", "x"], "--top wants a number");
        refused(&["--client", "proxy"], "forwarded, peer or auto");
        refused(&["--html"], "--html");
        refused(&["--crawler-ranges"], "--crawler-ranges");
        refused(
            &["--since", "2026-02-02", "--until", "2026-01-01"],
            "--since 2026-02-02 is after --until 2026-01-01",
        );
    }

    #[test]
    fn switches_and_choices() {
        assert_eq!(
            parse(&["--client", "peer"]).unwrap().client,
            ClientChoice::Peer
        );
        let o = parse(&["--verify-dns", "--robots", "--crawler-ranges", "r.txt"]).unwrap();
        assert!(o.verify_dns && o.robots);
        assert_eq!(o.crawler_ranges, Some(PathBuf::from("r.txt")));
        assert_eq!(parse(&[]).unwrap(), Options::default());
    }

    #[test]
    fn help_names_every_format_and_class() {
        // As a reader sees it, whatever the line breaks.
        let help = details().split_whitespace().collect::<Vec<_>>().join(" ");
        for f in format::Format::ALL {
            assert!(help.contains(f.label()), "{}", f.label());
        }
        for c in Class::ALL {
            assert!(help.contains(c.key()), "{}", c.key());
        }
    }
}
