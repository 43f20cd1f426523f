//! The `forkblog` binary: make stdio safe, start diagnostics, run the command line (`cli.rs`).

use std::process::ExitCode;

/// Makes sure descriptors 0, 1 and 2 are open (on /dev/null if they were closed), so that no
/// socket or log file ever lands on them: a child moves its connection onto 0 and 1, and a
/// server started with them closed would otherwise clobber its own listener or log.
fn standard_fds_open() {
    use std::os::fd::{AsRawFd, IntoRawFd};
    while let Ok(file) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        if file.as_raw_fd() > 2 {
            return; // the lowest free number is past stderr: all three are open (file closes)
        }
        let _ = file.into_raw_fd(); // keep it as the missing 0, 1 or 2
    }
}

fn main() -> ExitCode {
    standard_fds_open();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .target(env_logger::Target::Stderr)
        .init();
    forkblog::cli::run(std::env::args_os().skip(1).collect())
}
