//! `--json`: the report's numbers for scripts.

use super::report::Report;
use std::io::{self, Write};

/// Writes `report` as pretty-printed JSON, ending with a newline.
pub fn write_json(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}
