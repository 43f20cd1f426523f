//! `forkblog stats`: how much of the traffic in an access log is bots.
//!
//! The pipeline, one concern per module: [`input`] opens files, gzip and stdin and splits lines;
//! [`format`] tells a line's format and picks the client address; [`parse`] reads a
//! Combined/Common-family line and [`caddy`] a Caddy JSON one; [`classify`] (through the per-agent
//! [`cache`], with [`probe`] for scanner paths) says which [`class`] a request is; [`tally`]
//! counts as the lines stream by; [`report`] turns the counts into the numbers that [`terminal`],
//! [`json`] and [`html`] show.

// `pub` only where another crate (or an integration test) needs it.
#![warn(unreachable_pub)]

pub mod args;
pub mod cache;
pub mod caddy;
pub mod class;
pub mod classify;
pub mod crawlerdex;
pub mod format;
pub mod html;
pub mod input;
pub mod json;
pub mod naming;
pub mod parse;
pub mod probe;
pub mod report;
pub mod robots;
pub mod signals;
pub mod tally;
pub mod terminal;
pub mod verify;

pub use class::Class;
pub use parse::{parse_line, LogLine};
pub use report::Report;
pub use tally::{Filter, Tally};

use std::io::{self, Write};
use std::process::ExitCode;

/// An error that stops `forkblog stats`, with the file it concerns.
#[derive(Debug)]
pub enum StatsError {
    /// A log source could not be opened.
    Open {
        /// The source as given on the command line.
        source_name: String,
        /// What went wrong.
        error: io::Error,
    },
    /// A log source failed part way through (a corrupt gzip file, a read error).
    Read {
        /// The source as given on the command line.
        source_name: String,
        /// Lines read from it before the error.
        after_line: u64,
        /// What went wrong.
        error: io::Error,
    },
    /// Lines were read from a source but none was in a format this reads.
    NoFormat {
        /// The source as given on the command line.
        source_name: String,
        /// Lines read from it.
        lines: u64,
    },
    /// The crawler ranges file could not be read.
    Ranges {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        error: String,
    },
    /// The HTML report could not be written.
    WriteHtml {
        /// Where it was to be written.
        path: std::path::PathBuf,
        /// What went wrong.
        error: io::Error,
    },
}

impl std::fmt::Display for StatsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StatsError::Open { source_name, error } => {
                write!(f, "cannot open {}: {error}", display_source(source_name))
            }
            StatsError::Read {
                source_name,
                after_line,
                error,
            } => write!(
                f,
                "cannot read {} after line {after_line}: {error}",
                display_source(source_name)
            ),
            StatsError::WriteHtml { path, error } => {
                write!(f, "cannot write {}: {error}", path.display())
            }
            StatsError::Ranges { path, error } => {
                write!(f, "crawler ranges {}: {error}", path.display())
            }
            StatsError::NoFormat { source_name, lines } => write!(
                f,
                "{}: none of its {lines} lines is in a format this reads ({}); \
                 see the malformed lines above",
                display_source(source_name),
                format::all_labels()
            ),
        }
    }
}

impl std::error::Error for StatsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StatsError::Open { error, .. }
            | StatsError::Read { error, .. }
            | StatsError::WriteHtml { error, .. } => Some(error),
            StatsError::NoFormat { .. } | StatsError::Ranges { .. } => None,
        }
    }
}

/// `-` shown as `stdin`, anything else as given.
fn display_source(name: &str) -> &str {
    if name == "-" {
        "stdin"
    } else {
        name
    }
}

/// Reads every source (`-` is stdin) in order and counts its lines into a new [`Tally`].
///
/// Every source is opened before any is read, so a missing file is reported at once.
pub fn analyze(sources: &[String], filter: Filter) -> Result<Tally, StatsError> {
    analyze_with(sources, filter, format::ClientChoice::Auto, None)
}

/// Like [`analyze`], taking the client address as `client` says, checking crawler claims with
/// `verifier` when given.
pub fn analyze_with(
    sources: &[String],
    filter: Filter,
    client: format::ClientChoice,
    verifier: Option<verify::Verifier>,
) -> Result<Tally, StatsError> {
    let mut readers = Vec::with_capacity(sources.len());
    for name in sources {
        let reader = input::open(name).map_err(|error| StatsError::Open {
            source_name: name.clone(),
            error,
        })?;
        readers.push((name, reader));
    }
    let mut tally = Tally::new(filter).with_client_choice(client);
    if let Some(verifier) = verifier {
        tally = tally.with_verifier(verifier);
    }
    for (name, mut reader) in readers {
        let mut line_no = 0u64;
        tally.add_source(display_source(name));
        input::for_each_line_ended(&mut *reader, |line, ended| {
            line_no += 1;
            tally.add_line_ended(display_source(name), line_no, line, ended);
        })
        .map_err(|error| StatsError::Read {
            source_name: name.clone(),
            after_line: line_no,
            error,
        })?;
    }
    Ok(tally)
}

/// The crawler-claim checker the options ask for: the shipped ranges or `--crawler-ranges`,
/// and the system's resolver only with `--verify-dns`.
fn verifier(options: &args::Options) -> Result<verify::Verifier, StatsError> {
    let ranges = match &options.crawler_ranges {
        None => verify::Ranges::shipped(),
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| verify::Ranges::parse(&text))
            .map_err(|error| StatsError::Ranges {
                path: path.clone(),
                error,
            })?,
    };
    let resolver: Option<Box<dyn verify::Resolver>> = if options.verify_dns {
        match verify::SystemResolver::from_system() {
            Some(r) => Some(Box::new(r)),
            None => {
                log::warn!("--verify-dns: /etc/resolv.conf names no nameserver; ranges only");
                None
            }
        }
    } else {
        None
    };
    Ok(verify::Verifier::new(ranges, resolver))
}

/// Runs `forkblog stats` as `options` (parsed and checked by the binary's command line) say.
///
/// Exit status: 0 on success, 1 when a file cannot be read or written, 3 when a source has lines
/// but none in a format this reads (the report is still printed). A bad argument (2) never gets
/// here.
pub fn run(options: args::Options) -> ExitCode {
    let sources = if options.files.is_empty() {
        vec!["-".to_string()]
    } else {
        options.files.clone()
    };
    let verifier = match verifier(&options) {
        Ok(verifier) => verifier,
        Err(err) => {
            eprintln!("forkblog stats: {err}");
            return ExitCode::from(1);
        }
    };
    let tally = match analyze_with(&sources, options.filter(), options.client, Some(verifier)) {
        Ok(tally) => tally,
        Err(err) => {
            eprintln!("forkblog stats: {err}");
            return ExitCode::from(1);
        }
    };
    let report = Report::new(&tally, options.top);
    let unreadable: Vec<StatsError> = tally
        .sources
        .iter()
        .filter(|s| s.well_formed() == 0 && s.malformed > 0)
        .map(|s| StatsError::NoFormat {
            source_name: s.name.clone(),
            lines: s.lines,
        })
        .collect();

    if let Some(path) = &options.html {
        let written = std::fs::write(path, html::render(&report));
        if let Err(error) = written {
            let err = StatsError::WriteHtml {
                path: path.clone(),
                error,
            };
            eprintln!("forkblog stats: {err}");
            return ExitCode::from(1);
        }
    }

    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written = if options.robots {
        robots::write_robots(&report, &mut out)
    } else if options.json {
        json::write_json(&report, &mut out)
    } else {
        terminal::write_summary(&report, &mut out)
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) if !unreadable.is_empty() => {
            for err in &unreadable {
                eprintln!("forkblog stats: {err}");
            }
            ExitCode::from(3)
        }
        Ok(()) => ExitCode::SUCCESS,
        // `forkblog stats big.log | head` is not an error.
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe && unreadable.is_empty() => {
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("forkblog stats: cannot write to standard output: {err}");
            ExitCode::from(1)
        }
    }
}
