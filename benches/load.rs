//! Load, scaling, memory and reload benchmarks for forkblog, against its peers, on loopback.
//!
//! `cargo bench --bench load` runs every part; `cargo bench --bench load -- peers scaling`
//! runs some (parts: `peers`, `scaling`, `memory`, `reload`, `tls`, `held`). Each part prints its
//! table and replaces its own generated section of BENCHMARKS.md; the rest of that file is left
//! alone.
//!
//! - **peers**: one ~8 KB post page, the same bytes served by forkblog, a minimal
//!   fork-per-connection reference server (in this file's `load/refserver.rs`), nginx (1 worker,
//!   access_log off, sendfile on), lighttpd, busybox httpd and mini_httpd, whichever are
//!   installed; wrk with 16 connections on one thread, connection-per-request and keep-alive.
//!   `FORKBLOG_COMPARE=BIN` adds another forkblog binary to the same interleaved rounds.
//! - **scaling**: the same page from a 10-post and a 10,000-post blog, and the render times.
//! - **memory**: parent RSS/PSS idle, and per-child private/PSS with 256 idle keep-alive
//!   connections, from /proc/PID/smaps_rollup.
//! - **reload**: time from SIGHUP to the edited page being served.
//! - **tls**: the page over HTTPS against nginx (1 worker) and Caddy, full and resumed
//!   handshakes and keep-alive, and the parent's RSS with TLS and ACME configured
//!   (`load/tls.rs`).
//! - **held**: connection-per-request with and without 500 connections held open beside it
//!   (silent, stopped mid-head, idle keep-alive), against nginx (1 worker) (`load/held.rs`).
//!
//! Everything is bounded: each wrk run lasts `LOAD_BENCH_SECS` (default 3) seconds after a
//! 1 s warm-up, repeated `LOAD_BENCH_ROUNDS` (default 2) times with the servers interleaved;
//! the median is reported. Missing peers are skipped with a note; without wrk the throughput
//! parts are skipped and say so. Traffic goes to 127.0.0.1 only.

#[path = "load/blog.rs"]
mod blog;
#[path = "load/held.rs"]
mod held;
#[path = "load/peers.rs"]
mod peers;
#[path = "load/refserver.rs"]
mod refserver;
#[path = "load/report.rs"]
mod report;
#[path = "support/rng.rs"]
mod rng;
#[path = "load/tls.rs"]
mod tls;
#[path = "load/util.rs"]
mod util;
#[path = "load/wrk.rs"]
mod wrk;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use peers::Peer;
use util::{Server, TempDir};
use wrk::Mode;

const PARTS: [&str; 6] = ["peers", "scaling", "memory", "reload", "tls", "held"];

/// Settings read from the environment.
struct Settings {
    secs: u32,
    rounds: usize,
    wrk: Option<PathBuf>,
    forkblog: PathBuf,
}

fn main() {
    if let Ok(spec) = std::env::var(refserver::ENV) {
        refserver::run(&spec);
    }
    let mut parts: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if parts.is_empty() {
        parts = PARTS.iter().map(|s| s.to_string()).collect();
    }
    if let Some(bad) = parts.iter().find(|p| !PARTS.contains(&p.as_str())) {
        eprintln!("unknown part {bad:?}; parts: {}", PARTS.join(", "));
        std::process::exit(2);
    }
    let env_num = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let forkblog = match peers::forkblog_bin() {
        Ok(bin) => bin,
        Err(e) => {
            eprintln!("cannot find or build forkblog: {e}");
            std::process::exit(1);
        }
    };
    let settings = Settings {
        secs: env_num("LOAD_BENCH_SECS", 3).clamp(1, 60) as u32,
        rounds: env_num("LOAD_BENCH_ROUNDS", 2).clamp(1, 10) as usize,
        wrk: wrk::find(),
        forkblog,
    };
    if settings.wrk.is_none() {
        println!(
            "NOTE: wrk is not installed (apt-get install wrk): the throughput parts (peers, \
             scaling requests/s) are skipped; memory, render and reload times still run."
        );
    }
    let started = Instant::now();
    let work = TempDir::new("load");
    let blog10 = work.path().join("blog-10");
    let blog10k = work.path().join("blog-10000");
    let need_10k = parts.iter().any(|p| p == "scaling" || p == "reload");
    let t = Instant::now();
    blog::generate(&blog10, 10).expect("generating the 10-post blog");
    if need_10k {
        blog::generate(&blog10k, 10_000).expect("generating the 10,000-post blog");
    }
    util::make_readable(work.path());
    println!(
        "generated blogs in {:.1} s under {}",
        t.elapsed().as_secs_f64(),
        work.path().display()
    );

    let mut sections = vec![("environment", environment(&settings))];
    for part in &parts {
        let result = match part.as_str() {
            "peers" => part_peers(&settings, work.path(), &blog10),
            "scaling" => part_scaling(&settings, work.path(), &blog10, &blog10k),
            "memory" => part_memory(&settings, work.path(), &blog10),
            "reload" => part_reload(&settings, work.path(), &blog10k),
            "tls" => tls::part(&settings, work.path(), &blog10),
            "held" => held::part(&settings, work.path(), &blog10),
            _ => unreachable!(),
        };
        match result {
            Ok(md) => sections.push((part.as_str(), md)),
            Err(e) => {
                println!("\n{part}: FAILED: {e}");
                sections.push((
                    part.as_str(),
                    format!("### {part}\n\nThis part failed: {e}\n"),
                ));
            }
        }
    }
    for (name, md) in &sections {
        if let Err(e) = report::replace_section(name, md) {
            eprintln!("writing {}: {e}", report::path().display());
        }
    }
    println!(
        "\nwrote {} ({}) in {:.0} s",
        report::path().display(),
        parts.join(", "),
        started.elapsed().as_secs_f64()
    );
}

fn environment(s: &Settings) -> String {
    let (kernel, cores, date) = util::machine();
    let version = |bin: &str, args: &[&str]| -> String {
        let Some(path) = util::which(bin) else {
            return "not installed".into();
        };
        Command::new(path)
            .args(args)
            .output()
            .map(|o| {
                let text = String::from_utf8_lossy(&o.stdout).to_string()
                    + &String::from_utf8_lossy(&o.stderr);
                text.lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("?")
                    .trim()
                    .to_string()
            })
            .unwrap_or_else(|e| e.to_string())
    };
    let mut md = String::new();
    let _ = writeln!(
        md,
        "Last run: {date}; `nproc` = {cores}; kernel {kernel}.  "
    );
    let _ = writeln!(
        md,
        "wrk: {} connections, 1 thread, {} s per measurement after a 1 s warm-up, {} interleaved \
         round(s), median reported.  ",
        wrk::CONNECTIONS,
        s.secs,
        s.rounds
    );
    let _ = writeln!(md, "Versions:");
    for (name, bin, args) in [
        ("wrk", "wrk", &["-v"][..]),
        ("nginx", "nginx", &["-v"][..]),
        ("lighttpd", "lighttpd", &["-v"][..]),
        ("busybox", "busybox", &[][..]),
        ("mini_httpd", "mini_httpd", &["-V"][..]),
        ("openssl", "openssl", &["version"][..]),
        ("caddy", "caddy", &["version"][..]),
    ] {
        let _ = writeln!(md, "- {name}: `{}`", version(bin, args));
    }
    md
}

/// One row of a results table.
struct Row {
    name: String,
    runs: Vec<wrk::Run>,
}

impl Row {
    fn rps(&self) -> f64 {
        util::median(&self.runs.iter().map(|r| r.rps).collect::<Vec<_>>())
    }
    fn avg(&self) -> f64 {
        util::median(&self.runs.iter().map(|r| r.avg_ms).collect::<Vec<_>>())
    }
    fn p99(&self) -> f64 {
        util::median(&self.runs.iter().map(|r| r.p99_ms).collect::<Vec<_>>())
    }
    fn errors(&self) -> Vec<String> {
        self.runs.iter().filter_map(|r| r.errors.clone()).collect()
    }
}

/// Measures every server in every mode: `rounds` rounds, the order rotated each round, a
/// warm-up before a server's first measurement in each mode.
fn measure(
    s: &Settings,
    targets: &[(String, String)],
    modes: &[Mode],
) -> HashMap<(usize, Mode), Row> {
    let wrk = s.wrk.as_ref().expect("wrk");
    let mut rows: HashMap<(usize, Mode), Row> = HashMap::new();
    for round in 0..s.rounds {
        for &mode in modes {
            for k in 0..targets.len() {
                let i = (k + round) % targets.len();
                let (name, url) = &targets[i];
                if round == 0 {
                    let _ = wrk::run(wrk, url, 1, mode);
                }
                let row = rows.entry((i, mode)).or_insert_with(|| Row {
                    name: name.clone(),
                    runs: Vec::new(),
                });
                match wrk::run(wrk, url, s.secs, mode) {
                    Ok(run) => {
                        println!(
                            "  round {} {:<24} {:<22} {:>9.0} req/s  avg {:>6.2} ms  p99 {:>6.2} ms{}",
                            round + 1,
                            mode.label(),
                            name,
                            run.rps,
                            run.avg_ms,
                            run.p99_ms,
                            run.errors
                                .as_deref()
                                .map(|e| format!("  ({e})"))
                                .unwrap_or_default()
                        );
                        row.runs.push(run);
                    }
                    Err(e) => println!("  {name}: wrk failed: {e}"),
                }
            }
        }
    }
    rows
}

fn part_peers(s: &Settings, work: &Path, blog10: &Path) -> Result<String, String> {
    println!("\n== peers: forkblog and its peers on the same ~8 KB page");
    let Some(_) = &s.wrk else {
        return Ok(
            "### Throughput against peers\n\nSkipped: wrk is not installed \
                   (`apt-get install wrk`).\n"
                .into(),
        );
    };
    let forkblog = peers::forkblog(&s.forkblog, blog10, work, "forkblog-peers", &[])?;
    let page = util::get(forkblog.port, blog::PAGE).map_err(|e| e.to_string())?;
    if page.status != 200 {
        return Err(format!(
            "forkblog answered {} for {}",
            page.status,
            blog::PAGE
        ));
    }
    let docroot = work.join("docroot");
    let dir = docroot.join(&blog::PAGE[1..]);
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    fs::write(dir.join("index.html"), &page.body).map_err(|e| e.to_string())?;
    util::make_readable(&docroot);
    println!(
        "page {}: {} bytes of HTML (identity), written to {}",
        blog::PAGE,
        page.body.len(),
        dir.join("index.html").display()
    );

    let mut notes = Vec::new();
    let mut servers: Vec<Server> = Vec::new();
    let mut targets = vec![(
        "**forkblog**".to_string(),
        format!("http://127.0.0.1:{}{}", forkblog.port, blog::PAGE),
    )];
    // FORKBLOG_COMPARE=BIN: another forkblog binary (say, the one before a change) measured
    // in the same interleaved rounds, so that before and after share the machine's load.
    let compare = match std::env::var_os("FORKBLOG_COMPARE") {
        Some(bin) => {
            let bin = PathBuf::from(bin);
            let server = peers::forkblog(&bin, blog10, work, "forkblog-compare", &[])?;
            targets.push((
                format!("forkblog `{}`", bin.display()),
                format!("http://127.0.0.1:{}{}", server.port, blog::PAGE),
            ));
            Some(server)
        }
        None => None,
    };
    for peer in Peer::ALL {
        match peer.start(&docroot, work) {
            Ok(server) => {
                let check = util::get(server.port, &peer.path());
                match check {
                    Ok(r) if r.body == page.body => {
                        targets.push((
                            peer.name().to_string(),
                            format!("http://127.0.0.1:{}{}", server.port, peer.path()),
                        ));
                        servers.push(server);
                    }
                    Ok(r) => notes.push(format!(
                        "{} skipped: it served {} bytes (status {}), not the page's {}",
                        peer.name(),
                        r.body.len(),
                        r.status,
                        page.body.len()
                    )),
                    Err(e) => notes.push(format!("{} skipped: {e}", peer.name())),
                }
            }
            Err(e) => notes.push(format!("{} skipped: {e}", peer.name())),
        }
    }
    for n in &notes {
        println!("NOTE: {n}");
    }
    let rows = measure(s, &targets, &Mode::ALL);
    drop(servers);
    drop(compare);
    drop(forkblog);

    let mut md = String::new();
    let _ = writeln!(
        md,
        "### Throughput against peers\n\nThe page `{}`: {} bytes of HTML, the same bytes from \
         every server (forkblog's own response, saved as `{}index.html` for the others, which \
         are asked for that file directly so they do no directory-index lookup). forkblog runs \
         with `--access-log /dev/null` (it still formats and writes a line per request); the \
         peers keep their default logging (nginx: `access_log off`). busybox httpd and \
         mini_httpd close the connection after each response, so in keep-alive mode wrk \
         reconnects to them for every request.\n",
        blog::PAGE,
        page.body.len(),
        blog::PAGE
    );
    let get = |name: &str, mode: Mode| -> Option<f64> {
        let i = targets.iter().position(|(n, _)| n == name)?;
        rows.get(&(i, mode)).map(|r| r.rps()).filter(|&r| r > 0.0)
    };
    for mode in Mode::ALL {
        let fb = get("**forkblog**", mode).unwrap_or(0.0);
        let _ = writeln!(
            md,
            "#### {}\n\n| server | requests/s | avg latency | p99 latency | forkblog / server |\n\
             | --- | ---: | ---: | ---: | ---: |",
            mode.label()
        );
        for i in 0..targets.len() {
            let Some(row) = rows.get(&(i, mode)) else {
                continue;
            };
            let _ = writeln!(
                md,
                "| {} | {:.0} | {:.2} ms | {:.2} ms | {} |",
                row.name,
                row.rps(),
                row.avg(),
                row.p99(),
                if i == 0 {
                    "—".to_string()
                } else {
                    report::ratio(fb, row.rps())
                }
            );
        }
        let errs: Vec<String> = (0..targets.len())
            .filter_map(|i| rows.get(&(i, mode)))
            .flat_map(|r| {
                r.errors()
                    .into_iter()
                    .map(move |e| format!("{}: {e}", r.name))
            })
            .collect();
        if !errs.is_empty() {
            let _ = writeln!(md, "\nwrk reported: {}", errs.join("; "));
        }
        md.push('\n');
    }
    for n in &notes {
        let _ = writeln!(md, "- Note: {n}");
    }
    let _ = writeln!(md, "\nTargets:\n");
    let mut target = |label: &str, peer: &str, mode: Mode, min: f64| {
        let fb = get("**forkblog**", mode);
        match (fb, get(peer, mode)) {
            (Some(fb), Some(p)) => {
                let _ = writeln!(
                    md,
                    "- {label}: {:.2}x (target >= {min}x): {}",
                    fb / p,
                    report::verdict(fb / p >= min)
                );
            }
            _ => {
                let _ = writeln!(md, "- {label}: not measured ({peer} missing)");
            }
        }
    };
    target(
        "connection-per-request vs busybox httpd",
        Peer::Busybox.name(),
        Mode::Close,
        1.3,
    );
    target(
        "connection-per-request vs the fork reference",
        Peer::ForkRef.name(),
        Mode::Close,
        0.9,
    );
    target(
        "keep-alive vs nginx (1 worker)",
        Peer::Nginx.name(),
        Mode::KeepAlive,
        1.1,
    );
    target(
        "keep-alive vs lighttpd",
        Peer::Lighttpd.name(),
        Mode::KeepAlive,
        0.9,
    );
    println!("\n{md}");
    Ok(md)
}

/// "rendered N posts, R resources, K KiB in X ms (Y ms with encoding)" from a server's log.
#[derive(Debug, Clone, Copy, Default)]
struct Render {
    posts: u64,
    resources: u64,
    kib: u64,
    render_ms: f64,
    total_ms: f64,
}

fn renders_in(log: &Path) -> Vec<Render> {
    let text = fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let rest = &line[line.find("rendered ")? + 9..];
            let nums: Vec<f64> = rest
                .split(|c: char| !(c.is_ascii_digit() || c == '.'))
                .filter(|w| !w.is_empty() && *w != ".")
                .filter_map(|w| w.parse().ok())
                .collect();
            match nums.as_slice() {
                [posts, resources, kib, render, total, ..] => Some(Render {
                    posts: *posts as u64,
                    resources: *resources as u64,
                    kib: *kib as u64,
                    render_ms: *render,
                    total_ms: *total,
                }),
                _ => None,
            }
        })
        .collect()
}

fn part_scaling(
    s: &Settings,
    work: &Path,
    blog10: &Path,
    blog10k: &Path,
) -> Result<String, String> {
    println!("\n== scaling: the same page from 10 posts and from 10,000 posts");
    let small = peers::forkblog(&s.forkblog, blog10, work, "forkblog-10", &[])?;
    let large = peers::forkblog(&s.forkblog, blog10k, work, "forkblog-10000", &[])?;
    let mut md = String::from("### Scaling: 10 posts vs 10,000 posts\n\n");
    let mut info = Vec::new();
    for (server, name, dir) in [
        (&small, "forkblog-10", blog10),
        (&large, "forkblog-10000", blog10k),
    ] {
        let render = renders_in(&work.join(format!("{name}.log")))
            .last()
            .copied()
            .unwrap_or_default();
        let page = util::get(server.port, blog::PAGE).map_err(|e| e.to_string())?;
        let mem = util::mem_of(server.pid()).unwrap_or_default();
        let t = Instant::now();
        let mut check = Command::new(&s.forkblog);
        check.args(["check", "--root", &dir.display().to_string()]);
        let check_ms = util::run_bounded(check, Duration::from_secs(120))
            .map(|_| t.elapsed().as_secs_f64() * 1000.0)
            .map_err(|e| format!("forkblog check: {e}"))?;
        info.push((render, page.body.len(), mem, check_ms));
    }
    let rows = match &s.wrk {
        Some(_) => {
            let targets = vec![
                (
                    "10 posts".to_string(),
                    format!("http://127.0.0.1:{}{}", small.port, blog::PAGE),
                ),
                (
                    "10,000 posts".to_string(),
                    format!("http://127.0.0.1:{}{}", large.port, blog::PAGE),
                ),
            ];
            Some(measure(s, &targets, &Mode::ALL))
        }
        None => None,
    };
    drop(small);
    drop(large);
    let rps = |i: usize, mode: Mode| {
        rows.as_ref()
            .and_then(|r| r.get(&(i, mode)))
            .map(|r| r.rps())
            .unwrap_or(0.0)
    };
    let _ = writeln!(
        md,
        "| blog | posts rendered | resources | snapshot | render | render + encode | `forkblog check` (wall) | page bytes | parent RSS idle | conn-per-request req/s | keep-alive req/s |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for (i, name) in ["10 posts", "10,000 posts"].iter().enumerate() {
        let (r, bytes, mem, check_ms) = info[i];
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} KiB | {:.0} ms | {:.0} ms | {:.0} ms | {bytes} | {} KiB | {:.0} | {:.0} |",
            r.posts, r.resources, r.kib, r.render_ms, r.total_ms, check_ms, mem.rss,
            rps(i, Mode::Close),
            rps(i, Mode::KeepAlive)
        );
    }
    let _ = writeln!(md, "\nTargets:\n");
    if rows.is_some() {
        for mode in Mode::ALL {
            let ratio = rps(1, mode) / rps(0, mode).max(1e-9);
            let _ = writeln!(
                md,
                "- 10,000 vs 10 posts, {}: {ratio:.2} (target >= 0.9): {}",
                mode.label(),
                report::verdict(ratio >= 0.9)
            );
        }
    } else {
        let _ = writeln!(
            md,
            "- requests/s ratio: not measured (wrk is not installed)"
        );
    }
    let total = info[1].0.total_ms;
    let _ = writeln!(
        md,
        "- render 10,000 posts: {:.0} ms ({:.0} ms before encoding the snapshot) (target <= 1000 ms): {}",
        total,
        info[1].0.render_ms,
        report::verdict(total <= 1000.0)
    );
    println!("\n{md}");
    Ok(md)
}

fn part_memory(s: &Settings, work: &Path, blog10: &Path) -> Result<String, String> {
    println!("\n== memory: parent idle, then 256 idle keep-alive connections");
    const CONNS: usize = 256;
    let server = peers::forkblog(
        &s.forkblog,
        blog10,
        work,
        "forkblog-memory",
        &["--max-children", "300", "--idle-timeout", "60"],
    )?;
    for _ in 0..10 {
        util::get(server.port, blog::PAGE).map_err(|e| e.to_string())?;
    }
    std::thread::sleep(Duration::from_millis(300));
    let parent = server.pid();
    let idle = util::mem_of(parent).ok_or("cannot read the parent's smaps_rollup")?;
    let mut conns = Vec::with_capacity(CONNS);
    for _ in 0..CONNS {
        let mut c = TcpStream::connect(("127.0.0.1", server.port)).map_err(|e| e.to_string())?;
        c.set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        write!(c, "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", blog::PAGE)
            .map_err(|e| e.to_string())?;
        let r = util::read_response(&mut c).map_err(|e| e.to_string())?;
        if r.status != 200 {
            return Err(format!("status {} on a held connection", r.status));
        }
        conns.push(c);
    }
    std::thread::sleep(Duration::from_millis(500));
    let kids = util::children_of(parent);
    let busy = util::mem_of(parent).unwrap_or_default();
    let mems: Vec<util::Mem> = kids.iter().filter_map(|&p| util::mem_of(p)).collect();
    drop(conns);
    drop(server);
    if mems.is_empty() {
        return Err("no children found".into());
    }
    let n = mems.len() as f64;
    let avg = |f: fn(&util::Mem) -> u64| mems.iter().map(f).sum::<u64>() as f64 / n;
    let child_pss: u64 = mems.iter().map(|m| m.pss).sum();
    let total = busy.pss + child_pss;
    let mut md = String::from("### Memory\n\n");
    let _ = writeln!(
        md,
        "forkblog on the 10-post blog, `--max-children 300 --idle-timeout 60`; figures from \
         `/proc/PID/smaps_rollup` (page tables from `VmPTE` in `/proc/PID/status`, not \
         included in RSS/PSS).\n\n\
         | process | RSS | PSS | private | page tables |\n| --- | ---: | ---: | ---: | ---: |\n\
         | parent, idle | {} KiB | {} KiB | {} KiB | {} KiB |\n\
         | parent, {CONNS} connections open | {} KiB | {} KiB | {} KiB | {} KiB |\n\
         | child, average of {} | {:.0} KiB | {:.0} KiB | {:.0} KiB | {:.0} KiB |\n\
         | total PSS: parent + {} children | | {} KiB ({:.1} MiB) | | |",
        idle.rss,
        idle.pss,
        idle.private,
        idle.page_tables,
        busy.rss,
        busy.pss,
        busy.private,
        busy.page_tables,
        mems.len(),
        avg(|m| m.rss),
        avg(|m| m.pss),
        avg(|m| m.private),
        avg(|m| m.page_tables),
        mems.len(),
        total,
        total as f64 / 1024.0
    );
    let child_private = avg(|m| m.private);
    let _ = writeln!(
        md,
        "\nTargets:\n\n\
         - parent RSS idle: {} KiB (target <= 3072 KiB): {}\n\
         - private memory per child: {:.0} KiB (target <= 64 KiB): {}\n\
         - {} connections in total (PSS): {:.1} MiB (target < 64 MiB): {}{}",
        idle.rss,
        report::verdict(idle.rss <= 3072),
        child_private,
        report::verdict(child_private <= 64.0),
        mems.len(),
        total as f64 / 1024.0,
        report::verdict(total < 64 * 1024 && mems.len() >= CONNS),
        if mems.len() < CONNS {
            format!(
                " (only {} children were found for {CONNS} connections)",
                mems.len()
            )
        } else {
            String::new()
        }
    );
    println!("\n{md}");
    Ok(md)
}

fn part_reload(s: &Settings, work: &Path, blog10k: &Path) -> Result<String, String> {
    println!("\n== reload: SIGHUP to new content live");
    const TRIES: usize = 3;
    // The sample blog: the repository's own posts and templates, copied.
    let sample = work.join("sample");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["posts", "templates"] {
        let mut cp = Command::new("cp");
        cp.args(["-r", &repo.join(sub).display().to_string()])
            .arg(sample.join(sub));
        fs::create_dir_all(&sample).map_err(|e| e.to_string())?;
        util::run_bounded(cp, Duration::from_secs(30))?;
    }
    fs::copy(repo.join("forkblog.toml"), sample.join("forkblog.toml"))
        .map_err(|e| e.to_string())?;
    util::make_readable(&sample);
    let sample_post = sample.join("posts/2026-01-05-why-fork-per-connection.md");
    let sample_text = fs::read_to_string(&sample_post).map_err(|e| e.to_string())?;
    let sample_page = "/posts/why-fork-per-connection/";

    let mut md = String::from(
        "### Reload: SIGHUP to new content live\n\nOne post edited (a paragraph appended, \
         written to a temporary file and renamed), then `kill -HUP`; the page is polled every \
         2 ms until the new paragraph is served.\n\n\
         | blog | SIGHUP to live, median | each try | render in the worker (last) |\n\
         | --- | ---: | --- | ---: |\n",
    );
    for (label, root, page) in [
        ("sample blog (5 posts)", sample.as_path(), sample_page),
        ("10,000 posts", blog10k, blog::PAGE),
    ] {
        let name = format!(
            "forkblog-reload-{}",
            if page == blog::PAGE {
                "10000"
            } else {
                "sample"
            }
        );
        // --lifetime bounds the polling children; the page is fetched with Connection: close.
        let mut server = peers::forkblog_at(&s.forkblog, root, work, &name, page)?;
        let mut times = Vec::new();
        for n in 0..TRIES {
            let marker = format!("r{n}x{}", std::process::id());
            if page == blog::PAGE {
                blog::write_bench_post(root, Some(&marker)).map_err(|e| e.to_string())?;
            } else {
                let tmp = root.join("edit.tmp");
                fs::write(&tmp, format!("{sample_text}\nRevision {marker}.\n"))
                    .map_err(|e| e.to_string())?;
                fs::rename(&tmp, &sample_post).map_err(|e| e.to_string())?;
            }
            util::make_readable(&root.join("posts"));
            let t = Instant::now();
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(server.pid()),
                nix::sys::signal::Signal::SIGHUP,
            )
            .map_err(|e| e.to_string())?;
            let deadline = t + Duration::from_secs(60);
            let needle = format!("Revision {marker}.");
            loop {
                if let Ok(r) = util::get(server.port, page) {
                    if r.status == 200 && contains(&r.body, needle.as_bytes()) {
                        times.push(t.elapsed().as_secs_f64() * 1000.0);
                        break;
                    }
                }
                if Instant::now() > deadline {
                    return Err(format!("{label}: the edit was not live after 60 s"));
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            server.check_alive()?;
            std::thread::sleep(Duration::from_millis(200));
        }
        let render = renders_in(&work.join(format!("{name}.log")))
            .last()
            .copied()
            .unwrap_or_default();
        let each: Vec<String> = times.iter().map(|t| format!("{t:.0} ms")).collect();
        let _ = writeln!(
            md,
            "| {label} | {:.0} ms | {} | {:.0} ms ({:.0} ms with encoding) |",
            util::median(&times),
            each.join(", "),
            render.render_ms,
            render.total_ms
        );
        drop(server);
    }
    println!("\n{md}");
    Ok(md)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
