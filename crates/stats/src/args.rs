//! What a run of `forkblog stats` is asked to do. The binary's command line (`src/cli/stats.rs`)
//! declares the flags that fill it, with their help, and checks them together.

use super::class::Class;
use super::format::ClientChoice;
use super::tally::Filter;
use jiff::civil::Date;
use std::path::PathBuf;

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
