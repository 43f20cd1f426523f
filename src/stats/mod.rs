//! `forkblog stats`: how much of the traffic in an access log is bots.

use std::ffi::OsString;
use std::process::ExitCode;

/// Runs `forkblog stats` with the arguments that follow the subcommand.
pub fn run(args: Vec<OsString>) -> ExitCode {
    let _ = args;
    eprintln!("forkblog stats: not implemented yet");
    ExitCode::from(2)
}
