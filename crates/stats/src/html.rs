//! `--html FILE`: one self-contained page (inline CSS and SVG, no scripts, no external assets)
//! with charts: requests per day stacked by class, share by class, top bots.
//!
//! Every chart element drawn for a class carries `data-class="KEY"` (the class's JSON key), so
//! the page can be checked by machine as well as looked at.

use super::class::Class;
use super::report::{human_bytes, thousands, Report};
use std::fmt::Write;

/// Page width of the charts, in SVG user units.
const WIDTH: f64 = 920.0;

/// Renders the report as a complete HTML document.
pub fn render(report: &Report) -> String {
    let mut page = String::with_capacity(64 * 1024);
    let names: Vec<&str> = report.sources.iter().map(|s| s.name.as_str()).collect();
    let title = format!("Traffic report: {}", names.join(", "));
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        escape(&title)
    );
    let _ = write!(
        page,
        "<h1>Who reads this blog?</h1>\n<p class=\"sub\">{}",
        escape(&names.join(", "))
    );
    if let (Some(first), Some(last)) = (report.days.first(), report.days.last()) {
        let _ = write!(page, " · {} to {}", first.date, last.date);
    }
    page.push_str("</p>\n");
    cards(&mut page, report);
    if report.requests == 0 {
        page.push_str("<p class=\"empty\">No requests were counted.</p>\n");
    } else {
        page.push_str("<section><h2>Requests per day</h2>\n");
        legend(&mut page, report);
        days_chart(&mut page, report);
        page.push_str("</section>\n<div class=\"two\">\n<section><h2>Share by class</h2>\n");
        share_chart(&mut page, report);
        page.push_str("</section>\n<section><h2>Top bots</h2>\n");
        bots_chart(&mut page, report);
        page.push_str("</section>\n</div>\n");
        class_table(&mut page, report);
        clients_table(&mut page, report);
        subscribers_table(&mut page, report);
        paths_table(&mut page, report);
    }
    malformed(&mut page, report);
    page.push_str(
        "<footer>Made by <code>forkblog stats</code>. Classes come from user agents (Crawlerdex \
         patterns through the iscrawl crate) and, for scanners, from probed paths.</footer>\n\
         </main>\n</body>\n</html>\n",
    );
    page
}

/// The headline numbers.
fn cards(page: &mut String, report: &Report) {
    let human = report.classes[Class::Human.index()].requests;
    let human_percent = if report.requests == 0 {
        0.0
    } else {
        human as f64 * 100.0 / report.requests as f64
    };
    let cards = [
        ("requests", thousands(report.requests)),
        ("made by bots", format!("{:.1}%", report.bot_percent())),
        ("made by people", format!("{human_percent:.1}%")),
        ("no user agent", format!("{:.1}%", report.no_agent_percent)),
        ("sent", human_bytes(report.bytes)),
        ("clients", thousands(report.distinct_clients)),
        ("answered 4xx", format!("{:.1}%", report.status_4xx_percent)),
        ("answered 5xx", format!("{:.1}%", report.status_5xx_percent)),
    ];
    page.push_str("<div class=\"cards\">\n");
    for (label, value) in cards {
        let _ = writeln!(
            page,
            "<div class=\"card\"><b>{}</b><span>{}</span></div>",
            escape(&value),
            escape(label)
        );
    }
    page.push_str("</div>\n");
}

/// The classes that have requests, in report order.
fn present(report: &Report) -> Vec<Class> {
    report
        .classes
        .iter()
        .filter(|row| row.requests > 0)
        .map(|row| row.class)
        .collect()
}

/// A colour key for the classes present.
fn legend(page: &mut String, report: &Report) {
    page.push_str("<ul class=\"legend\">");
    for class in present(report) {
        let _ = write!(
            page,
            "<li data-class=\"{}\"><i style=\"background:{}\"></i>{}</li>",
            class.key(),
            class.colour(),
            class.label()
        );
    }
    page.push_str("</ul>\n");
}

/// Requests per day as bars stacked by class, humans at the bottom.
fn days_chart(page: &mut String, report: &Report) {
    let (height, left, bottom, top) = (280.0, 56.0, 28.0, 10.0);
    let plot_w = WIDTH - left - 8.0;
    let plot_h = height - bottom - top;
    let max = report.days.iter().map(|d| d.total).max().unwrap_or(0);
    let scale_max = nice_ceiling(max);
    let n = report.days.len().max(1) as f64;
    let slot = plot_w / n;
    let bar = (slot * 0.8).max(1.0);
    let _ = writeln!(
        page,
        "<svg class=\"chart\" id=\"days\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" \
         aria-label=\"Requests per day, stacked by class\">"
    );
    for step in 0..=4 {
        let value = scale_max * step / 4;
        let y = top + plot_h - plot_h * value as f64 / scale_max.max(1) as f64;
        let _ = writeln!(
            page,
            "<line class=\"grid\" x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
             <text class=\"axis\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            WIDTH - 8.0,
            left - 6.0,
            y + 4.0,
            short_number(value)
        );
    }
    let label_every = (report.days.len() / 12).max(1);
    for (i, day) in report.days.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = top + plot_h;
        for class in Class::ALL {
            let count = day.by_class.get(class.key()).copied().unwrap_or(0);
            if count == 0 {
                continue;
            }
            let h = plot_h * count as f64 / scale_max.max(1) as f64;
            y -= h;
            let _ = writeln!(
                page,
                "<rect class=\"seg\" data-class=\"{}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" \
                 height=\"{h:.2}\" fill=\"{}\"><title>{} · {}: {}</title></rect>",
                class.key(),
                class.colour(),
                day.date,
                class.label(),
                thousands(count)
            );
        }
        if i % label_every == 0 {
            let _ = writeln!(
                page,
                "<text class=\"axis\" x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                x + bar / 2.0,
                height - 8.0,
                day.date.get(5..).unwrap_or(&day.date)
            );
        }
    }
    page.push_str("</svg>\n");
}

/// Share of requests per class: a donut, with the numbers beside it.
fn share_chart(page: &mut String, report: &Report) {
    let (r, stroke) = (70.0, 34.0);
    let circumference = 2.0 * std::f64::consts::PI * r;
    page.push_str("<div class=\"share\">\n<svg class=\"chart\" id=\"share\" viewBox=\"0 0 200 200\" role=\"img\" aria-label=\"Share of requests by class\">\n");
    let mut offset = 0.0;
    for row in report.classes.iter().filter(|row| row.requests > 0) {
        let fraction = row.requests as f64 / report.requests.max(1) as f64;
        let length = fraction * circumference;
        let _ = writeln!(
            page,
            "<circle class=\"slice\" data-class=\"{}\" cx=\"100\" cy=\"100\" r=\"{r}\" fill=\"none\" \
             stroke=\"{}\" stroke-width=\"{stroke}\" stroke-dasharray=\"{length:.3} {:.3}\" \
             stroke-dashoffset=\"{:.3}\" transform=\"rotate(-90 100 100)\"><title>{}: {} ({:.1}%)</title></circle>",
            row.class.key(),
            row.class.colour(),
            circumference - length,
            -offset,
            row.label,
            thousands(row.requests),
            row.percent
        );
        offset += length;
    }
    let _ = writeln!(
        page,
        "<text x=\"100\" y=\"98\" text-anchor=\"middle\" class=\"big\">{:.0}%</text>\
         <text x=\"100\" y=\"118\" text-anchor=\"middle\" class=\"axis\">bots</text>\n</svg>",
        report.bot_percent()
    );
    page.push_str("<ul class=\"shares\">\n");
    for row in report.classes.iter().filter(|row| row.requests > 0) {
        let _ = writeln!(
            page,
            "<li data-class=\"{}\"><i style=\"background:{}\"></i><span>{}</span><b>{:.1}%</b></li>",
            row.class.key(),
            row.class.colour(),
            row.label,
            row.percent
        );
    }
    page.push_str("</ul>\n</div>\n");
}

/// The busiest bots as horizontal bars, coloured by class.
fn bots_chart(page: &mut String, report: &Report) {
    if report.top_bots.is_empty() {
        page.push_str("<p class=\"empty\">No bots.</p>\n");
        return;
    }
    let row_h = 26.0;
    let (label_w, width) = (170.0, 440.0);
    let height = row_h * report.top_bots.len() as f64 + 4.0;
    let max = report
        .top_bots
        .iter()
        .map(|b| b.requests)
        .max()
        .unwrap_or(1)
        .max(1);
    let _ = writeln!(
        page,
        "<svg class=\"chart\" id=\"bots\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"Top bots by requests\">"
    );
    for (i, bot) in report.top_bots.iter().enumerate() {
        let y = i as f64 * row_h + 2.0;
        let w = (width - label_w - 70.0) * bot.requests as f64 / max as f64;
        let mut name: String = bot.name.chars().take(22).collect();
        if bot.name.chars().count() > 22 {
            name.push('…');
        }
        let _ = writeln!(
            page,
            "<g class=\"bot\" data-class=\"{}\"><text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{label_w}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{:.1}\" rx=\"3\" fill=\"{}\"/>\
             <text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\">{}</text>\
             <title>{} ({}): {} requests, {}</title></g>",
            bot.class.key(),
            label_w - 8.0,
            y + row_h * 0.62,
            escape(&name),
            row_h - 6.0,
            bot.class.colour(),
            label_w + w + 6.0,
            y + row_h * 0.62,
            short_number(bot.requests),
            escape(&bot.name),
            bot.class.label(),
            thousands(bot.requests),
            human_bytes(bot.bytes)
        );
    }
    page.push_str("</svg>\n");
}

/// The per-class numbers as a table.
fn class_table(page: &mut String, report: &Report) {
    page.push_str(
        "<section><h2>By class</h2>\n<table><thead><tr><th>Class</th><th>Requests</th><th>Share</th>\
         <th>Bytes</th><th>Clients</th><th>4xx</th><th>5xx</th></tr></thead><tbody>\n",
    );
    for row in report.classes.iter().filter(|row| row.requests > 0) {
        let _ = writeln!(
            page,
            "<tr data-class=\"{}\"><td><i style=\"background:{}\"></i>{}</td><td>{}</td><td>{:.1}%</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            row.class.key(),
            row.class.colour(),
            row.label,
            thousands(row.requests),
            row.percent,
            human_bytes(row.bytes),
            row.clients,
            row.status_4xx,
            row.status_5xx
        );
    }
    page.push_str("</tbody></table>\n</section>\n");
}

/// The heaviest client addresses, impostors first.
fn clients_table(page: &mut String, report: &Report) {
    if report.top_clients.is_empty() {
        return;
    }
    page.push_str("<section><h2>Heaviest clients</h2>\n<table><thead><tr><th>Address</th><th>Classes</th><th>Requests</th><th>Bytes</th></tr></thead><tbody>\n");
    for client in &report.top_clients {
        let classes: Vec<&str> = client.classes.iter().map(|c| c.label()).collect();
        let _ = writeln!(
            page,
            "<tr{}><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if client.impostor {
                " class=\"impostor\""
            } else {
                ""
            },
            escape(&client.address),
            escape(&classes.join(", ")),
            thousands(client.requests),
            human_bytes(client.bytes)
        );
    }
    page.push_str("</tbody></table>\n</section>\n");
}

/// Feed subscribers per reader.
fn subscribers_table(page: &mut String, report: &Report) {
    if report.feed_subscribers.is_empty() {
        return;
    }
    let _ = writeln!(
        page,
        "<section><h2>Feed subscribers: {}</h2>\n<table><thead><tr><th>Reader</th><th>Subscribers</th><th>Feeds</th></tr></thead><tbody>",
        thousands(report.feed_subscribers_total)
    );
    for row in &report.feed_subscribers {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&row.reader),
            thousands(row.subscribers),
            thousands(row.feeds)
        );
    }
    page.push_str("</tbody></table>\n</section>\n");
}

/// What people read.
fn paths_table(page: &mut String, report: &Report) {
    if report.top_human_paths.is_empty() && report.human_assets.requests == 0 {
        return;
    }
    page.push_str("<section><h2>What people read</h2>\n<table><thead><tr><th>Page</th><th>Requests</th></tr></thead><tbody>\n");
    for path in &report.top_human_paths {
        let _ = writeln!(
            page,
            "<tr><td><code>{}</code></td><td>{}</td></tr>",
            escape(&path.path),
            thousands(path.requests)
        );
    }
    if report.human_assets.requests > 0 {
        let _ = writeln!(
            page,
            "<tr><td>assets (styles, scripts, images, fonts), {}</td><td>{}</td></tr>",
            human_bytes(report.human_assets.bytes),
            thousands(report.human_assets.requests)
        );
    }
    page.push_str("</tbody></table>\n</section>\n");
}

/// Lines that could not be read, if any.
fn malformed(page: &mut String, report: &Report) {
    if report.malformed == 0 {
        return;
    }
    let _ = writeln!(
        page,
        "<section><h2>Malformed lines</h2>\n<p>{} of {} lines could not be read; the first {} are:</p>\n<ul class=\"malformed\">",
        thousands(report.malformed),
        thousands(report.lines),
        report.malformed_examples.len()
    );
    for m in &report.malformed_examples {
        let _ = writeln!(
            page,
            "<li><b>{}:{}</b> {} <code>{}</code></li>",
            escape(&m.source),
            m.line,
            escape(&m.reason),
            escape(&m.text)
        );
    }
    page.push_str("</ul>\n</section>\n");
}

/// The smallest of 1, 2, 2.5 or 5 times a power of ten that is at least `value`.
fn nice_ceiling(value: u64) -> u64 {
    let mut power = 1u64;
    loop {
        for step in [10, 20, 25, 50] {
            let candidate = power.saturating_mul(step) / 10;
            if candidate >= value.max(1) {
                return candidate.max(1);
            }
        }
        if power > u64::MAX / 100 {
            return value;
        }
        power *= 10;
    }
}

/// `1234567` as `1.2M`, `12345` as `12k`.
fn short_number(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{}k", n / 1000),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// Text escaped for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page's stylesheet: system fonts, light and dark.
const CSS: &str = "
:root{--fg:#1d2327;--muted:#5f6b76;--bg:#f6f7f9;--card:#fff;--line:#e3e6ea}
@media (prefers-color-scheme:dark){:root{--fg:#e8eaed;--muted:#9aa4ad;--bg:#15181c;--card:#1f2429;--line:#30363d}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}
main{max-width:980px;margin:0 auto;padding:28px 20px 40px}
h1{margin:0;font-size:28px}h2{font-size:17px;margin:0 0 12px}
.sub{color:var(--muted);margin:4px 0 20px;overflow-wrap:anywhere}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;margin:0 0 18px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(118px,1fr));gap:12px;margin-bottom:18px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px}
.card b{display:block;font-size:22px;white-space:nowrap}.card span{color:var(--muted);font-size:13px}
.two{display:grid;grid-template-columns:1fr 1.4fr;gap:18px}.two section{margin:0 0 18px}
@media (max-width:760px){.two{grid-template-columns:1fr}}
svg.chart{width:100%;height:auto;display:block}
.grid{stroke:var(--line);stroke-width:1}
.axis{fill:var(--muted);font-size:11px}.label{fill:var(--fg);font-size:12px}.big{fill:var(--fg);font-size:28px;font-weight:700}
rect.seg:hover,g.bot:hover rect,circle.slice:hover{opacity:.8}
.legend,.shares{list-style:none;padding:0;margin:0 0 10px;display:flex;flex-wrap:wrap;gap:6px 16px;font-size:13px}
.shares{flex-direction:column;gap:4px;margin:0}.shares li{display:flex;gap:8px;align-items:center}.shares b{margin-left:auto}
.share{display:grid;grid-template-columns:180px 1fr;gap:16px;align-items:center}
i{display:inline-block;width:11px;height:11px;border-radius:3px;margin-right:6px;vertical-align:-1px}
table{border-collapse:collapse;width:100%;font-size:14px}th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:right}
th:first-child,td:first-child{text-align:left}th{color:var(--muted);font-weight:600}
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
.malformed{font-size:13px;padding-left:18px}.empty{color:var(--muted)}
footer{color:var(--muted);font-size:12px;margin-top:8px}
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_numbers() {
        assert_eq!(nice_ceiling(0), 1);
        assert_eq!(nice_ceiling(7), 10);
        assert_eq!(nice_ceiling(11), 20);
        assert_eq!(nice_ceiling(2400), 2500);
        assert_eq!(nice_ceiling(u64::MAX), u64::MAX);
        assert_eq!(short_number(1_500_000), "1.5M");
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
