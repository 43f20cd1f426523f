//! Throughput of `forkblog stats` on a generated, realistic 1M-line access log.
//!
//! `cargo bench --bench stats` writes the log to a temporary file (~80% bot requests, hundreds of
//! distinct user agents, 20,000 clients over two weeks), times the whole pipeline
//! (read, parse, classify, count, report) and prints lines/s. When `goaccess` is installed it is
//! run on the same file and the ratio printed. Nothing is asserted: these are figures to read.
//! `STATS_BENCH_LINES` changes the line count.

use forkblog::stats::verify::{Ranges, Verifier};
use forkblog::stats::{analyze_with, Filter, Report};
use std::io::{BufWriter, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

const BOTS: &[&str] = &[
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Chrome/{v}.0.6778.204 Safari/537.36",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.{m}; +https://openai.com/gptbot)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
    "CCBot/2.0 (https://commoncrawl.org/faq/)",
    "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)",
    "Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers; like FeedFetcher-Google)",
    "Miniflux/2.{m}.0 (https://miniflux.app)",
    "NetNewsWire (RSS Reader; https://netnewswire.com/)",
    "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
    "curl/8.{m}.0",
    "python-requests/2.{m}.1",
    "Go-http-client/1.1",
    "Wget/1.21.{m}",
    "Mozilla/5.0 zgrab/0.x",
    "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))",
    "Mozilla/5.0 (compatible; archive.org_bot +http://archive.org/details/archive.org_bot)",
    "-",
];

const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.{m} Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_{m} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.{m} Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36 Edg/{v}.0.0.0",
];

const PATHS: &[&str] = &[
    "/",
    "/feed.xml",
    "/atom.xml",
    "/robots.txt",
    "/sitemap.xml",
    "/favicon.ico",
    "/style.css",
    "/posts/",
    "/tags/rust/",
    "/about/",
];

const PROBES: &[&str] = &[
    "/wp-login.php",
    "/xmlrpc.php",
    "/.env",
    "/.git/config",
    "/cgi-bin/luci/;stok=/locale",
    "/wp-admin/setup-config.php",
];

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Expands `{v}`, `{m}` and `{n}` into version-like numbers, giving thousands of distinct agents.
fn agent(rng: &mut Rng, template: &str) -> String {
    template
        .replace("{v}", &(120 + rng.below(12)).to_string())
        .replace("{m}", &rng.below(8).to_string())
        .replace("{n}", &(1 + rng.below(300)).to_string())
}

/// Writes `lines` log lines to `path`.
fn generate(path: &std::path::Path, lines: usize) -> std::io::Result<()> {
    let mut rng = Rng(0x5eed);
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let clients: Vec<String> = (0..20_000)
        .map(|_| {
            format!(
                "{}.{}.{}.{}",
                1 + rng.below(223),
                rng.below(256),
                rng.below(256),
                1 + rng.below(254)
            )
        })
        .collect();
    let posts: Vec<String> = (0..300).map(|i| format!("/posts/post-{i}/")).collect();
    let start = jiff::civil::datetime(2026, 11, 8, 0, 0, 0, 0);
    let span_seconds = 14 * 86_400;
    for i in 0..lines {
        let seconds = (i as i64 * span_seconds) / lines as i64;
        let when = start
            .checked_add(jiff::Span::new().seconds(seconds))
            .unwrap_or(start);
        let bot = rng.below(100) < 80;
        let template = rng_pick_template(&mut rng, if bot { BOTS } else { BROWSERS });
        let ua = agent(&mut rng, template);
        let path: &str = match rng.below(100) {
            0..=4 => PROBES[rng.below(PROBES.len())],
            5..=49 => &posts[rng.below(posts.len())],
            _ => PATHS[rng.below(PATHS.len())],
        };
        let status = match rng.below(100) {
            0..=84 => 200,
            85..=89 => 304,
            90..=97 => 404,
            _ => 500,
        };
        let bytes = if status == 200 {
            500 + rng.below(40_000)
        } else {
            0
        };
        let bytes = if bytes == 0 {
            "-".to_string()
        } else {
            bytes.to_string()
        };
        writeln!(
            out,
            "{} - - [{:02}/{}/{}:{:02}:{:02}:{:02} +0000] \"GET {path} HTTP/1.1\" {status} {bytes} \"-\" \"{ua}\"",
            clients[rng.below(clients.len())],
            when.day(),
            MONTHS[(when.month() - 1) as usize],
            when.year(),
            when.hour(),
            when.minute(),
            when.second(),
        )?;
    }
    out.flush()
}

/// Picks a template, favouring the first entries as real traffic does (a few big crawlers).
fn rng_pick_template<'a>(rng: &mut Rng, templates: &'a [&'a str]) -> &'a str {
    let a = rng.below(templates.len());
    let b = rng.below(templates.len());
    templates[a.min(b)]
}

fn main() {
    let lines: usize = std::env::var("STATS_BENCH_LINES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("forkblog-stats-bench-{}", std::process::id()));
    if let Err(err) = std::fs::create_dir_all(&dir) {
        eprintln!("stats bench: cannot create {}: {err}", dir.display());
        std::process::exit(1);
    }
    let log = dir.join("access.log");
    let generated = Instant::now();
    if let Err(err) = generate(&log, lines) {
        eprintln!("stats bench: cannot write {}: {err}", log.display());
        std::process::exit(1);
    }
    let size = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    println!(
        "generated {lines} lines ({:.1} MiB) in {:.2?}: {}",
        size as f64 / 1048576.0,
        generated.elapsed(),
        log.display()
    );

    let sources = vec![log.to_string_lossy().into_owned()];
    let mut best = Duration::MAX;
    for run in 1..=3 {
        let started = Instant::now();
        // As `forkblog stats` runs by default: crawler claims checked against the shipped ranges.
        let verifier = Verifier::new(Ranges::shipped(), None);
        let tally = match analyze_with(
            &sources,
            Filter::default(),
            Default::default(),
            Some(verifier),
        ) {
            Ok(tally) => tally,
            Err(err) => {
                eprintln!("stats bench: {err}");
                std::process::exit(1);
            }
        };
        let report = Report::new(&tally, 10);
        let elapsed = started.elapsed();
        best = best.min(elapsed);
        println!(
            "run {run}: {:.3?}  {:.0} lines/s  ({} requests, {} malformed, {:.1}% bots, {} agents)",
            elapsed,
            lines as f64 / elapsed.as_secs_f64(),
            report.requests,
            report.malformed,
            report.bot_percent(),
            report.distinct_agents
        );
    }
    let ours = lines as f64 / best.as_secs_f64();
    println!("forkblog stats: best {best:.3?} = {ours:.0} lines/s");

    let out = dir.join("goaccess.html");
    let started = Instant::now();
    let goaccess = Command::new("goaccess")
        .arg(&log)
        .arg("--log-format=COMBINED")
        .arg("-o")
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match goaccess {
        Ok(status) if status.success() => {
            let elapsed = started.elapsed();
            let theirs = lines as f64 / elapsed.as_secs_f64();
            println!(
                "goaccess: {elapsed:.3?} = {theirs:.0} lines/s; forkblog stats is {:.1}x faster",
                ours / theirs
            );
        }
        Ok(status) => println!("goaccess: exited with {status}; no comparison"),
        Err(_) => println!("goaccess: not installed; no comparison"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
