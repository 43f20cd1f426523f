//! `forkblog stats --robots`: robots.txt lines for the crawlers seen, grouped by class, each
//! with the share of requests and bytes it took, so a blogger can pick what to block.
//!
//! AI crawlers (and the control tokens that govern AI use of a search crawler's pages) are
//! printed as active `Disallow: /` groups; the other classes are printed commented out, since
//! blocking a search engine or a feed reader is rarely what is meant.

use super::class::Class;
use super::report::{human_bytes, thousands, Report};
use std::io::{self, Write};

/// Writes the robots.txt groups of `report` to `out`.
pub fn write_robots(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "# robots.txt lines for the crawlers seen in {} requests (forkblog stats --robots).",
        thousands(report.requests)
    )?;
    writeln!(
        out,
        "# AI crawlers are blocked below; uncomment any other group to block it too."
    )?;
    if report.robots.is_empty() {
        writeln!(out, "# No crawler with a robots.txt token was seen.")?;
        return Ok(());
    }
    let mut class = None;
    for row in &report.robots {
        if class != Some(row.class) {
            class = Some(row.class);
            writeln!(out, "\n# {}", row.class.label())?;
        }
        match row.note {
            Some(note) => writeln!(out, "# {}: controls {note}", row.token)?,
            None => writeln!(
                out,
                "# {}: {} requests ({:.1}%), {} ({:.1}% of bytes)",
                row.token,
                thousands(row.requests),
                row.percent,
                human_bytes(row.bytes),
                row.bytes_percent
            )?,
        }
        let hash = if row.class == Class::Ai { "" } else { "#" };
        writeln!(out, "{hash}User-agent: {}", row.token)?;
        writeln!(out, "{hash}Disallow: /")?;
    }
    Ok(())
}
