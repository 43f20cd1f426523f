//! `forkblog stats`: how much of the traffic in an access log is bots.

pub mod class;
pub mod classify;
pub mod parse;

pub use class::Class;
pub use parse::{parse_line, LogLine};

use std::ffi::OsString;
use std::process::ExitCode;

/// Runs `forkblog stats` with the arguments that follow the subcommand.
pub fn run(args: Vec<OsString>) -> ExitCode {
    let _ = args;
    eprintln!("forkblog stats: not implemented yet");
    ExitCode::from(2)
}
