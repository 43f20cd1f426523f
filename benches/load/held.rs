//! The `held` part: a normal connection-per-request load with and without 500 connections held
//! open beside it (a third silent, a third stopped in the middle of a request head, a third idle
//! after one keep-alive request), forkblog against nginx (1 worker) with an equivalent
//! configuration, in the same interleaved rounds (issue 28).
//!
//! The held connections are kept at 500: a holder thread looks at each every 100 ms and opens
//! again, the same way, those the server closed (an idle one sends its request again, a head its
//! first half), at most [`REOPEN_PER_SEC`] a second, as a slowloris tool does (slowhttptest's
//! default connection rate is 50 a second). The silent third is opened first, [`SILENT_LEAD`] before the load starts: a
//! server that defers accept (both do here) keeps them in the kernel for about its head timeout
//! and then releases them together, and the lead puts that wave in the middle of the run.
//! Everything goes to 127.0.0.1 and is bounded in time.

use std::fmt::Write as _;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::util::{self, Server};
use crate::wrk::{self, Mode};
use crate::{blog, peers, report, Settings};

/// Connections held beside the load, a third of each kind.
const HELD: usize = 500;
/// How long the normal load runs, with and without them.
const SECS: u32 = 15;
/// How long before the load the silent third is opened (see the file's header).
const SILENT_LEAD: Duration = Duration::from_secs(8);
/// How often the holder looks for held connections the server closed.
const SWEEP: Duration = Duration::from_millis(100);
/// How many closed ones it opens again a second, at most, unless `LOAD_BENCH_HELD_REOPEN` says
/// otherwise (0: every one at once, a client that reconnects as soon as it is closed).
const REOPEN_PER_SEC: usize = 50;

fn reopen_per_sec() -> usize {
    std::env::var("LOAD_BENCH_HELD_REOPEN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(REOPEN_PER_SEC)
}

/// How a held connection is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Silent,
    MidHead,
    Idle,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Silent, Kind::MidHead, Kind::Idle];

    /// What it sends on a new connection to a server of `path`.
    fn opening(self, path: &str) -> String {
        match self {
            Kind::Silent => String::new(),
            Kind::MidHead => {
                format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: held\r\n")
            }
            Kind::Idle => format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        }
    }
}

/// What the holder did.
#[derive(Debug, Default, Clone)]
struct Held {
    /// Connections the server closed and the holder opened again, per kind.
    reopened: [usize; 3],
    /// Connections that could not be opened when asked.
    failed: usize,
    /// How many were open, summed over the sweeps once all were first opened, and the sweeps.
    open_sum: usize,
    sweeps: usize,
}

impl Held {
    /// How many were open on average.
    fn mean_open(&self) -> f64 {
        self.open_sum as f64 / self.sweeps.max(1) as f64
    }
}

struct Holder {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Held>,
}

impl Holder {
    /// Opens the silent third on `port`, then, after `lead`, the rest (asking for `path`), and
    /// keeps them open.
    fn start(port: u16, path: &str, lead: Duration) -> Holder {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let stop = Arc::clone(&stop);
            let path = path.to_string();
            move || hold(port, &path, lead, &stop)
        });
        Holder { stop, thread }
    }

    fn finish(self) -> Held {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap_or_default()
    }
}

fn open(port: u16, path: &str, kind: Kind) -> Option<TcpStream> {
    let addr = ([127, 0, 0, 1], port).into();
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    stream.write_all(kind.opening(path).as_bytes()).ok()?;
    stream.set_nonblocking(true).ok()?;
    Some(stream)
}

/// Whether the server closed `stream` (what it sent before is read and dropped).
fn closed(stream: &mut TcpStream) -> bool {
    let mut sink = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return true,
        }
    }
}

fn hold(port: u16, path: &str, lead: Duration, stop: &AtomicBool) -> Held {
    let mut held = Held::default();
    let per_kind = HELD / 3;
    let mut conns: Vec<(Kind, Option<TcpStream>)> = Vec::with_capacity(HELD);
    let started = Instant::now();
    for kind in Kind::ALL {
        if kind != Kind::Silent {
            while started.elapsed() < lead && !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let count = match kind {
            Kind::Idle => HELD - 2 * per_kind,
            _ => per_kind,
        };
        for _ in 0..count {
            let stream = open(port, path, kind);
            held.failed += usize::from(stream.is_none());
            conns.push((kind, stream));
        }
    }
    let per_sweep = match reopen_per_sec() {
        0 => usize::MAX,
        n => n * SWEEP.as_millis() as usize / 1000,
    };
    // Where the next sweep starts reopening, so that every kind gets its turn.
    let mut first = 0;
    while !stop.load(Ordering::SeqCst) {
        let sweep = Instant::now();
        for (_, stream) in conns.iter_mut() {
            if stream.as_mut().is_some_and(closed) {
                *stream = None;
            }
        }
        held.open_sum += conns.iter().filter(|(_, s)| s.is_some()).count();
        held.sweeps += 1;
        let mut budget = per_sweep;
        let count = conns.len();
        for at in (first..count).chain(0..first) {
            let (kind, stream) = &mut conns[at];
            if stream.is_none() && budget > 0 {
                budget -= 1;
                first = (at + 1) % count;
                held.reopened[*kind as usize] += 1;
                *stream = open(port, path, *kind);
                held.failed += usize::from(stream.is_none());
            }
        }
        std::thread::sleep(SWEEP.saturating_sub(sweep.elapsed()));
    }
    held
}

/// One measurement: the load, with or without held connections.
struct Measured {
    run: wrk::Run,
    held: Option<Held>,
    load: String,
}

/// Runs the load on `path` of the server on `port`, with held connections beside it or none.
fn measure_one(wrk: &PathBuf, port: u16, path: &str, with_held: bool) -> Result<Measured, String> {
    let holder = with_held.then(|| Holder::start(port, path, SILENT_LEAD));
    if with_held {
        // The rest of the held connections open at the end of the lead: let them settle.
        std::thread::sleep(SILENT_LEAD + Duration::from_millis(500));
    }
    let url = format!("http://127.0.0.1:{port}{path}");
    let run = wrk::run(wrk, &url, SECS, Mode::Close);
    let held = holder.map(Holder::finish);
    let load = util::loadavg();
    // Let the server close what the holder dropped before the next measurement.
    std::thread::sleep(Duration::from_secs(2));
    Ok(Measured {
        run: run?,
        held,
        load,
    })
}

pub fn part(s: &Settings, work: &Path, blog10: &Path) -> Result<String, String> {
    println!("\n== held: {HELD} held connections beside a connection-per-request load");
    let Some(wrk) = &s.wrk else {
        return Ok("### Held connections\n\nSkipped: wrk is not installed.\n".into());
    };
    let load_before = util::loadavg();
    // The same page for every server, as a static file for nginx.
    let mut servers: Vec<(String, Server, String)> = Vec::new();
    let fb = peers::forkblog(&s.forkblog, blog10, work, "forkblog-held", &[])?;
    let page = util::get(fb.port, blog::PAGE).map_err(|e| e.to_string())?;
    let docroot = work.join("held-docroot");
    std::fs::create_dir_all(&docroot).map_err(|e| e.to_string())?;
    std::fs::write(docroot.join("bench.html"), &page.body).map_err(|e| e.to_string())?;
    util::make_readable(&docroot);
    servers.push(("**forkblog**".into(), fb, blog::PAGE.into()));
    if let Some(bin) = std::env::var_os("FORKBLOG_COMPARE") {
        let bin = PathBuf::from(bin);
        let server = peers::forkblog(&bin, blog10, work, "forkblog-held-compare", &[])?;
        servers.push((
            format!("forkblog `{}`", bin.display()),
            server,
            blog::PAGE.into(),
        ));
    }
    let mut notes = Vec::new();
    // nginx as forkblog is configured by default: deferred accept, a 10 s head timeout, a 5 s
    // idle timeout; 1024 connections per worker is room for the 500 and the load.
    let port = util::free_port();
    let nginx = peers::nginx_command(
        &docroot,
        &work.join("nginx-held"),
        port,
        " deferred",
        "  client_header_timeout 10s;\n  keepalive_timeout 5s;\n",
    )
    .and_then(|cmd| Server::spawn("nginx (1 worker)", port, cmd, &work.join("nginx-held.log")));
    match nginx {
        Ok(server) => match util::wait_ready(port, "/bench.html", Duration::from_secs(10)) {
            Ok(_) => servers.push(("nginx (1 worker)".into(), server, "/bench.html".into())),
            Err(e) => notes.push(format!("nginx skipped: {e}")),
        },
        Err(e) => notes.push(format!("nginx skipped: {e}")),
    }
    let mut rows: Vec<[Vec<Measured>; 2]> = servers.iter().map(|_| [vec![], vec![]]).collect();
    for round in 0..s.rounds {
        for k in 0..servers.len() {
            let i = (k + round) % servers.len();
            let (name, server, path) = &servers[i];
            for with_held in [false, true] {
                let m = measure_one(wrk, server.port, path, with_held)?;
                println!(
                    "  round {} {:<28} {:<13} {:>7.0} req/s  p50 {:>7.2} ms  p99 {:>8.2} ms  max {:>8.2} ms  over 2 s: {}  reopened {:?}  held on average {:.0}  load {}",
                    round + 1,
                    name,
                    if with_held { "500 held" } else { "none held" },
                    m.run.rps,
                    m.run.p50_ms,
                    m.run.p99_ms,
                    m.run.max_ms,
                    m.run.timeouts,
                    m.held.as_ref().map(|h| h.reopened),
                    m.held.as_ref().map_or(0.0, Held::mean_open),
                    m.load
                );
                rows[i][usize::from(with_held)].push(m);
            }
        }
    }
    let load_after = util::loadavg();
    let names: Vec<String> = servers.iter().map(|(n, ..)| n.clone()).collect();
    drop(servers);

    let med = |ms: &[Measured], f: fn(&wrk::Run) -> f64| {
        util::median(&ms.iter().map(|m| f(&m.run)).collect::<Vec<_>>())
    };
    let mut md = String::from("### Held connections\n\n");
    let _ = writeln!(
        md,
        "wrk `-t1 -c16 -d{SECS}s --timeout 2s -H 'Connection: close'` on the page, alone and \
         with {HELD} connections held open beside it: a third silent (opened {} s before the \
         load, so that the deferred accept releases them together mid-run), a third stopped \
         half-way through a request head, a third idle after one keep-alive request; each one \
         the server closes is opened again the same way, at most {} a second (0: all at once; \
         looked for every {} ms). forkblog runs with its \
         defaults (`--max-children 64`, head timeout 10 s, idle timeout 5 s); nginx with one \
         worker, `listen ... deferred`, `client_header_timeout 10s`, `keepalive_timeout 5s`, \
         `worker_connections 1024`. {} interleaved round(s), medians; a request over 2 s is a \
         wrk timeout and is left out of its latencies. Load average before the part: {}; \
         after: {}.\n",
        SILENT_LEAD.as_secs(),
        reopen_per_sec(),
        SWEEP.as_millis(),
        s.rounds,
        load_before,
        load_after
    );
    let _ = writeln!(
        md,
        "| server | held | requests/s | p50 | p99 | max | over 2 s, each round | held open on average; reopened (silent, head, idle), each round |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"
    );
    for (i, name) in names.iter().enumerate() {
        for with_held in [false, true] {
            let ms = &rows[i][usize::from(with_held)];
            let timeouts: Vec<String> = ms.iter().map(|m| m.run.timeouts.to_string()).collect();
            let reopened: Vec<String> = ms
                .iter()
                .filter_map(|m| m.held.as_ref())
                .map(|h| format!("{:.0}; {:?}", h.mean_open(), h.reopened))
                .collect();
            let _ = writeln!(
                md,
                "| {name} | {} | {:.0} | {:.2} ms | {:.2} ms | {:.0} ms | {} | {} |",
                if with_held {
                    HELD.to_string()
                } else {
                    "0".into()
                },
                med(ms, |r| r.rps),
                med(ms, |r| r.p50_ms),
                med(ms, |r| r.p99_ms),
                med(ms, |r| r.max_ms),
                timeouts.join(", "),
                reopened.join(", ")
            );
        }
    }
    let _ = writeln!(md, "\nTargets (forkblog, with {HELD} held):\n");
    let none = &rows[0][0];
    let held = &rows[0][1];
    let over: u64 = held.iter().map(|m| m.run.timeouts).sum();
    let p99 = med(held, |r| r.p99_ms);
    let p99_none = med(none, |r| r.p99_ms);
    let _ = writeln!(
        md,
        "- requests over 2 s: {over} in all rounds (target 0): {}",
        report::verdict(over == 0)
    );
    let _ = writeln!(
        md,
        "- p99: {p99:.2} ms (target <= 100 ms): {}",
        report::verdict(p99 <= 100.0)
    );
    let _ = writeln!(
        md,
        "- p99 with / without: {} (target <= 2x): {}",
        report::ratio(p99, p99_none),
        report::verdict(p99 <= 2.0 * p99_none)
    );
    for n in &notes {
        let _ = writeln!(md, "- Note: {n}");
    }
    println!("\n{md}");
    Ok(md)
}
