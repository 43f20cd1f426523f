//! Running wrk and reading its report.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::util;

/// Connections, as the issue asks: 16 on one wrk thread.
pub const CONNECTIONS: u32 = 16;

/// How connections are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `Connection: close` on every request: one TCP connection (and one fork) per request.
    Close,
    /// HTTP/1.1 keep-alive: 16 long connections.
    KeepAlive,
}

impl Mode {
    pub const ALL: [Mode; 2] = [Mode::Close, Mode::KeepAlive];

    pub fn label(self) -> &'static str {
        match self {
            Mode::Close => "connection-per-request",
            Mode::KeepAlive => "keep-alive",
        }
    }
}

/// One wrk run.
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub rps: f64,
    pub avg_ms: f64,
    pub p99_ms: f64,
    /// The median and the longest request that finished (wrk leaves out those past its
    /// `--timeout`, which it counts in `timeouts`).
    pub p50_ms: f64,
    pub max_ms: f64,
    /// Requests that took longer than wrk's `--timeout` (2 s).
    pub timeouts: u64,
    /// Socket errors and non-2xx responses, when there were any.
    pub errors: Option<String>,
}

/// wrk, if installed.
pub fn find() -> Option<PathBuf> {
    util::which("wrk")
}

/// Runs wrk for `secs` seconds against `url`.
pub fn run(wrk: &PathBuf, url: &str, secs: u32, mode: Mode) -> Result<Run, String> {
    let mut cmd = Command::new(wrk);
    cmd.args(["-t1", &format!("-c{CONNECTIONS}"), &format!("-d{secs}s")])
        .args(["--timeout", "2s", "--latency"]);
    if mode == Mode::Close {
        cmd.args(["-H", "Connection: close"]);
    }
    cmd.arg(url);
    let out = util::run_bounded(cmd, Duration::from_secs(secs as u64 + 15))?;
    parse(&out).ok_or_else(|| format!("cannot read wrk's report:\n{out}"))
}

/// Reads requests/s, the average latency and the 99th percentile from wrk's report.
pub fn parse(out: &str) -> Option<Run> {
    let mut run = Run::default();
    let mut errors = Vec::new();
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", v, ..] => run.rps = v.parse().ok()?,
            ["Latency", avg, _stdev, max, ..] if avg.starts_with(|c: char| c.is_ascii_digit()) => {
                run.avg_ms = millis(avg)?;
                run.max_ms = millis(max)?;
            }
            ["50%", v, ..] => run.p50_ms = millis(v)?,
            ["99%", v, ..] => run.p99_ms = millis(v)?,
            ["Socket", "errors:", ..] => {
                // "Socket errors: connect 0, read 0, write 0, timeout 16"
                let timeout = line.split("timeout").nth(1).map(str::trim);
                run.timeouts = timeout.and_then(|t| t.parse().ok()).unwrap_or(0);
                errors.push(line.trim().to_string());
            }
            ["Non-2xx", ..] => errors.push(line.trim().to_string()),
            _ => {}
        }
    }
    if !errors.is_empty() {
        run.errors = Some(errors.join("; "));
    }
    (run.rps > 0.0).then_some(run)
}

/// "812.00us", "1.20ms", "2.01s", "1.00m" -> milliseconds.
fn millis(v: &str) -> Option<f64> {
    let split = v.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        "h" => n * 3_600_000.0,
        _ => return None,
    })
}
