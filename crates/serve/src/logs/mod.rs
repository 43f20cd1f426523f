//! The access log: one Combined Log Format line per request, appended with a single `write()`,
//! whole or not at all (a line that did not fit is reported as [`LineLost`], to be counted).

mod access;

pub use access::{format_line, AccessLog, LineBuffer, LineLost, LogEntry};
