//! The access log: one Combined Log Format line per request, appended with a single `write()`.

mod access;

pub use access::{format_line, AccessLog, LogEntry};
