//! The terminal summary: plain text tables that fit in 80 columns, counts with thousands
//! separators.

use super::class::Class;
use super::report::{human_bytes, thousands, Report};
use std::io::{self, Write};

/// Writes the summary of `report` to `out`.
pub fn write_summary(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "forkblog stats")?;
    for source in &report.sources {
        let format = source.format.map_or("no line understood", |f| f.label());
        let mut line = format!(
            "  {}: {}, {} lines",
            truncate(&source.name, 36),
            format,
            thousands(source.lines)
        );
        if source.partial_lines > 0 {
            line.push_str(", unfinished last line left out");
        }
        writeln!(out, "{line}")?;
    }
    writeln!(
        out,
        "{} requests from {} clients, {} sent",
        thousands(report.requests),
        thousands(report.distinct_clients),
        human_bytes(report.bytes),
    )?;
    writeln!(
        out,
        "{:.1}% by bots, {:.1}% by people, {:.1}% with no user agent",
        report.bot_percent(),
        report.classes[Class::Human.index()].percent,
        report.no_agent_percent,
    )?;
    writeln!(
        out,
        "{} lines, {} malformed, {} filtered out; {} user agents; 4xx {:.1}%, 5xx {:.1}%",
        thousands(report.lines),
        thousands(report.malformed),
        thousands(report.filtered_out),
        thousands(report.distinct_agents),
        report.status_4xx_percent,
        report.status_5xx_percent
    )?;

    writeln!(out, "\nBy class")?;
    writeln!(
        out,
        "  {:<15} {:>11} {:>6} {:>10} {:>9} {:>9} {:>9}",
        "class", "requests", "share", "bytes", "clients", "4xx", "5xx"
    )?;
    for row in report.classes.iter().filter(|r| r.requests > 0) {
        writeln!(
            out,
            "  {:<15} {:>11} {:>5.1}% {:>10} {:>9} {:>9} {:>9}",
            row.label,
            thousands(row.requests),
            row.percent,
            human_bytes(row.bytes),
            thousands(row.clients),
            thousands(row.status_4xx),
            thousands(row.status_5xx)
        )?;
    }

    if !report.top_bots.is_empty() {
        writeln!(out, "\nTop bots")?;
        writeln!(
            out,
            "  {:<28} {:<15} {:>11} {:>6} {:>10}",
            "bot", "class", "requests", "share", "bytes"
        )?;
        for bot in &report.top_bots {
            let name = if bot.verified_requests == bot.requests {
                format!("{} (verified)", bot.name)
            } else {
                bot.name.clone()
            };
            writeln!(
                out,
                "  {:<28} {:<15} {:>11} {:>5.1}% {:>10}",
                truncate(&name, 28),
                bot.class.label(),
                thousands(bot.requests),
                bot.percent,
                human_bytes(bot.bytes)
            )?;
        }
    }

    if !report.top_clients.is_empty() {
        writeln!(out, "\nHeaviest clients (impostors first)")?;
        writeln!(
            out,
            "  {:<32} {:>9} {:>6} {:>10}  classes",
            "address", "requests", "share", "bytes"
        )?;
        for client in &report.top_clients {
            let classes: Vec<&str> = client.classes.iter().map(|c| c.key()).collect();
            writeln!(
                out,
                "  {:<32} {:>9} {:>5.1}% {:>10}  {}",
                truncate(&client.address, 32),
                thousands(client.requests),
                client.percent,
                human_bytes(client.bytes),
                truncate(&classes.join(","), 14)
            )?;
        }
    }

    if !report.feed_subscribers.is_empty() {
        writeln!(
            out,
            "\nFeed subscribers: {} in all (latest count per reader and feed)",
            thousands(report.feed_subscribers_total)
        )?;
        for row in &report.feed_subscribers {
            writeln!(
                out,
                "  {:<28} {:>11} subscribers, {} feeds",
                truncate(&row.reader, 28),
                thousands(row.subscribers),
                thousands(row.feeds)
            )?;
        }
    }

    if !report.top_human_paths.is_empty() {
        writeln!(out, "\nWhat people read (pages)")?;
        for path in &report.top_human_paths {
            writeln!(
                out,
                "  {:>11}  {}",
                thousands(path.requests),
                truncate(&path.path, 64)
            )?;
        }
    }
    if report.human_assets.requests > 0 {
        writeln!(
            out,
            "  {:>11}  assets (styles, scripts, images, fonts), {}",
            thousands(report.human_assets.requests),
            human_bytes(report.human_assets.bytes)
        )?;
    }

    if !report.days.is_empty() {
        days(report, out)?;
    }

    if !report.malformed_examples.is_empty() {
        writeln!(
            out,
            "\nMalformed lines ({} in all, first {} shown)",
            thousands(report.malformed),
            report.malformed_examples.len()
        )?;
        for m in &report.malformed_examples {
            let head = format!("  {}:{}: {}: ", m.source, m.line, m.reason);
            let room = 78usize.saturating_sub(head.chars().count()).max(20);
            writeln!(out, "{head}{}", truncate(&m.text, room))?;
        }
    }
    Ok(())
}

/// Requests per day: total, bots, humans, and the biggest bot class that day, so that the table
/// stays within 80 columns however many classes there are.
fn days(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "\nRequests per day")?;
    writeln!(
        out,
        "  {:<10} {:>11} {:>11} {:>11}  most bot requests",
        "day", "total", "bots", "humans"
    )?;
    for day in &report.days {
        let count = |class: Class| day.by_class.get(class.key()).copied().unwrap_or(0);
        let bots: u64 = Class::ALL
            .into_iter()
            .filter(|c| c.is_bot())
            .map(count)
            .sum();
        let top = Class::ALL
            .into_iter()
            .filter(|c| c.is_bot() && count(*c) > 0)
            .max_by_key(|c| count(*c))
            .map_or(String::new(), |c| {
                format!("{} {}", c.label(), thousands(count(c)))
            });
        writeln!(
            out,
            "  {:<10} {:>11} {:>11} {:>11}  {}",
            day.date,
            thousands(day.total),
            thousands(bots),
            thousands(count(Class::Human)),
            truncate(&top, 29)
        )?;
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
