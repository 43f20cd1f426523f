//! The terminal summary: plain text tables, readable in 80 columns.

use super::class::Class;
use super::report::{human_bytes, Report};
use std::io::{self, Write};

/// Writes the summary of `report` to `out`.
pub fn write_summary(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let sources = if report.sources.is_empty() {
        "-".to_string()
    } else {
        report.sources.join(", ")
    };
    writeln!(out, "forkblog stats: {sources}")?;
    writeln!(
        out,
        "{} requests from {} clients, {} sent; {:.1}% by bots; {} distinct user agents",
        report.requests,
        report.distinct_clients,
        human_bytes(report.bytes),
        report.bot_percent(),
        report.distinct_agents
    )?;
    writeln!(
        out,
        "{} lines read, {} malformed, {} left out by filters; 4xx {:.1}%, 5xx {:.1}%",
        report.lines,
        report.malformed,
        report.filtered_out,
        report.status_4xx_percent,
        report.status_5xx_percent
    )?;

    writeln!(out, "\nBy class")?;
    writeln!(
        out,
        "  {:<16} {:>10} {:>7} {:>11} {:>8} {:>7} {:>7}",
        "class", "requests", "share", "bytes", "clients", "4xx", "5xx"
    )?;
    for row in report.classes.iter().filter(|r| r.requests > 0) {
        writeln!(
            out,
            "  {:<16} {:>10} {:>6.1}% {:>11} {:>8} {:>7} {:>7}",
            row.label,
            row.requests,
            row.percent,
            human_bytes(row.bytes),
            row.clients,
            row.status_4xx,
            row.status_5xx
        )?;
    }

    if !report.top_bots.is_empty() {
        writeln!(out, "\nTop bots")?;
        writeln!(
            out,
            "  {:<32} {:<16} {:>10} {:>7} {:>11}",
            "bot", "class", "requests", "share", "bytes"
        )?;
        for bot in &report.top_bots {
            writeln!(
                out,
                "  {:<32} {:<16} {:>10} {:>6.1}% {:>11}",
                truncate(&bot.name, 32),
                bot.class.label(),
                bot.requests,
                bot.percent,
                human_bytes(bot.bytes)
            )?;
        }
    }

    if !report.top_human_paths.is_empty() {
        writeln!(out, "\nTop paths for humans")?;
        for path in &report.top_human_paths {
            writeln!(out, "  {:>10}  {}", path.requests, truncate(&path.path, 64))?;
        }
    }

    if !report.days.is_empty() {
        let present: Vec<Class> = report
            .classes
            .iter()
            .filter(|r| r.requests > 0)
            .map(|r| r.class)
            .collect();
        writeln!(out, "\nRequests per day")?;
        write!(out, "  {:<10} {:>9}", "day", "total")?;
        for class in &present {
            write!(out, " {:>9}", short(class.key()))?;
        }
        writeln!(out)?;
        for day in &report.days {
            write!(out, "  {:<10} {:>9}", day.date, day.total)?;
            for class in &present {
                write!(
                    out,
                    " {:>9}",
                    day.by_class.get(class.key()).copied().unwrap_or(0)
                )?;
            }
            writeln!(out)?;
        }
    }

    if !report.malformed_examples.is_empty() {
        writeln!(
            out,
            "\nMalformed lines ({} in all, first {} shown)",
            report.malformed,
            report.malformed_examples.len()
        )?;
        for m in &report.malformed_examples {
            writeln!(out, "  {}:{}: {}: {}", m.source, m.line, m.reason, m.text)?;
        }
    }
    Ok(())
}

/// At most `width` characters of `text`, ending in `…` when cut.
fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// A class key short enough for a column.
fn short(key: &str) -> &str {
    key.get(..9).unwrap_or(key)
}
