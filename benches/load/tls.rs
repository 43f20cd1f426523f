//! The `tls` part: HTTPS from forkblog against nginx (1 worker) and Caddy, with one ECDSA
//! P-256 certificate made for the run, and the parent's memory with TLS and ACME configured.
//!
//! Four ways of using a connection, each with its own load generator:
//! - **full handshakes**: `ab -c 16`, one request per connection; ab never offers a session
//!   back, so each connection is a full handshake;
//! - **resumed handshakes**: wrk with `Connection: close`, 16 connections; wrk offers the
//!   session it was last given, so the server resumes from a ticket;
//! - **keep-alive**: wrk over 16 long TLS connections;
//! - **one client at a time**: `openssl s_time -new` and `-reuse`, a few copies at once.
//!
//! nginx logs `$ssl_session_reused` for every request, and the part reports how many of each
//! generator's connections resumed, so the labels above are checked on every run. forkblog
//! keeps no server-side session cache (tickets only); nginx is left at its default, tickets
//! without a shared cache, so both resume the same way. Both speak TLS 1.2 and 1.3 and
//! negotiate TLS 1.3. Traffic goes to 127.0.0.1 only and every run is bounded in time.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{self, Server};
use crate::wrk::{self, Mode};
use crate::{blog, peers, report, Row, Settings};

/// Parallel `openssl s_time` clients.
const S_TIME_CLIENTS: usize = 4;

/// The certificate and key every server is given.
struct Cert {
    cert: PathBuf,
    key: PathBuf,
}

/// Makes a self-signed ECDSA P-256 certificate for 127.0.0.1 and localhost with openssl.
fn make_cert(dir: &Path) -> Result<Cert, String> {
    let openssl =
        util::which("openssl").ok_or("openssl is not installed (apt-get install openssl)")?;
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let mut cmd = Command::new(openssl);
    cmd.args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert);
    util::run_bounded(cmd, Duration::from_secs(30)).map_err(|e| format!("openssl req: {e}"))?;
    util::make_readable(dir);
    Ok(Cert { cert, key })
}

/// `GET url` over HTTPS with curl (certificate not verified: it is our own), the body.
fn https_get(url: &str) -> Result<Vec<u8>, String> {
    let curl = util::which("curl").ok_or("curl is not installed (apt-get install curl)")?;
    let out = Command::new(curl)
        .args(["-sk", "--max-time", "5", "--fail", url])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("curl {url}: {}", out.status));
    }
    Ok(out.stdout)
}

/// Polls `url` until it answers with `body`, or `limit` passes.
fn wait_https(url: &str, body: &[u8], limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    let mut last = String::from("no answer");
    while Instant::now() < deadline {
        match https_get(url) {
            Ok(b) if b == body => return Ok(()),
            Ok(b) => last = format!("{} bytes, not the page's {}", b.len(), body.len()),
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("{url}: {last}"))
}

/// nginx, one worker, HTTPS on `port` with `cert`, logging `$ssl_session_reused` to
/// `WORK/nginx-tls/access.log` when `log_reuse` is set.
fn nginx(work: &Path, docroot: &Path, cert: &Cert, port: u16) -> Result<Server, String> {
    let bin = util::which("nginx").ok_or("nginx not installed (apt-get install nginx)")?;
    let dir = work.join("nginx-tls");
    fs::create_dir_all(dir.join("tmp")).map_err(|e| e.to_string())?;
    let d = dir.display();
    let user = if util::is_root() {
        format!("user nobody {};\n", util::nobody_group())
    } else {
        String::new()
    };
    let conf = format!(
        "daemon off;\nworker_processes 1;\n{user}pid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  sendfile on;\n  types {{ text/html html; }}\n\
         \x20 log_format reuse '$ssl_session_reused';\n  access_log {d}/access.log reuse;\n\
         \x20 client_body_temp_path {d}/tmp/body;\n  proxy_temp_path {d}/tmp/proxy;\n\
         \x20 fastcgi_temp_path {d}/tmp/fastcgi;\n  uwsgi_temp_path {d}/tmp/uwsgi;\n\
         \x20 scgi_temp_path {d}/tmp/scgi;\n\
         \x20 server {{\n    listen 127.0.0.1:{port} ssl;\n    root {root};\n\
         \x20   ssl_certificate {c};\n    ssl_certificate_key {k};\n\
         \x20   ssl_protocols TLSv1.2 TLSv1.3;\n  }}\n}}\n",
        root = docroot.display(),
        c = cert.cert.display(),
        k = cert.key.display(),
    );
    fs::write(dir.join("nginx.conf"), conf).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(bin);
    cmd.args(["-p", &d.to_string(), "-e", &format!("{d}/error.log")])
        .args(["-c", &format!("{d}/nginx.conf")]);
    Server::spawn("nginx (1 worker)", port, cmd, &work.join("nginx-tls.log"))
}

/// Caddy serving `docroot` over HTTPS on `port` with `cert` (no ACME, no admin endpoint).
fn caddy(work: &Path, docroot: &Path, cert: &Cert, port: u16) -> Result<Server, String> {
    let bin = util::which("caddy").ok_or("caddy not installed (apt-get install caddy)")?;
    let dir = work.join("caddy");
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let conf = format!(
        "{{\n  admin off\n  auto_https off\n}}\n\
         https://127.0.0.1:{port} {{\n  tls {} {}\n  root * {}\n  file_server\n}}\n",
        cert.cert.display(),
        cert.key.display(),
        docroot.display()
    );
    let file = dir.join("Caddyfile");
    fs::write(&file, conf).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(bin);
    cmd.args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&file)
        .env("HOME", &dir)
        .env("XDG_DATA_HOME", &dir)
        .env("XDG_CONFIG_HOME", &dir);
    Server::spawn("Caddy", port, cmd, &work.join("caddy.log"))
}

/// Starts `forkblog serve` on `root` with `extra` flags, like `peers::forkblog`, ready once
/// the plain listener answers at all: with HTTPS served it redirects pages there (301).
fn start_forkblog(
    s: &Settings,
    root: &Path,
    work: &Path,
    name: &str,
    extra: &[&str],
) -> Result<Server, String> {
    let port = util::free_port();
    let mut cmd = Command::new(&s.forkblog);
    cmd.arg("serve")
        .args(["--root", &root.display().to_string()])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--access-log", "/dev/null"])
        .args([
            "--lock",
            &work.join(format!("{name}.lock")).display().to_string(),
        ])
        .args(["--grace", "1"])
        .args(extra)
        .env("RUST_LOG", "info");
    if util::is_root() {
        cmd.args(["--user", "nobody"]);
    }
    let log = work.join(format!("{name}.log"));
    let mut server = Server::spawn(name, port, cmd, &log)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match util::get(port, blog::PAGE) {
            Ok(r) if r.status == 200 || r.status == 301 => break,
            _ if Instant::now() > deadline => {
                return Err(format!(
                    "{name}: not ready after 30 s; see {}",
                    log.display()
                ))
            }
            _ => std::thread::sleep(Duration::from_millis(25)),
        }
    }
    server.check_alive()?;
    Ok(server)
}

/// One `openssl s_time` measurement: connections per wall-clock second summed over
/// [`S_TIME_CLIENTS`] parallel clients, and how many connections resumed a session.
#[derive(Debug, Default, Clone, Copy)]
struct STime {
    per_sec: f64,
    connections: u64,
    resumed: u64,
}

fn s_time(port: u16, path: &str, secs: u32, reuse: bool) -> Result<STime, String> {
    let openssl = util::which("openssl").ok_or("openssl is not installed")?;
    let mut clients = Vec::new();
    for _ in 0..S_TIME_CLIENTS {
        let mut cmd = Command::new(&openssl);
        cmd.args(["s_time", "-connect", &format!("127.0.0.1:{port}")])
            .args(["-www", path, "-time", &secs.to_string()])
            .arg(if reuse { "-reuse" } else { "-new" })
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        clients.push(cmd.spawn().map_err(|e| format!("openssl s_time: {e}"))?);
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs as u64 + 20);
    let mut total = STime::default();
    for mut child in clients {
        while child.try_wait().map_err(|e| e.to_string())?.is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err("openssl s_time ran past its time".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        let wall = started.elapsed().as_secs_f64();
        let text = String::from_utf8_lossy(&out.stdout);
        // "N connections in T real seconds, B bytes read per connection", T in whole seconds,
        // so the rate uses the wall time measured here; s_time prints one character per
        // connection in -reuse mode, 'r' when the session was resumed.
        let line = text
            .lines()
            .rev()
            .find(|l| l.contains("real seconds"))
            .ok_or_else(|| {
                format!(
                    "cannot read s_time's report: {}{}",
                    text.trim(),
                    String::from_utf8_lossy(&out.stderr).trim()
                )
            })?;
        let words: Vec<&str> = line.split_whitespace().collect();
        let n: f64 = words.first().and_then(|w| w.parse().ok()).unwrap_or(0.0);
        total.per_sec += n / wall.max(1e-3);
        total.connections += n as u64;
        // Progress lines hold only those characters ('r', or the protocol of a new session:
        // '*', 't', 's'); "starting" and the report lines hold others.
        total.resumed += text
            .lines()
            .filter(|l| !l.is_empty() && l.chars().all(|c| "rts*".contains(c)))
            .map(|l| l.matches('r').count() as u64)
            .sum::<u64>();
    }
    Ok(total)
}

/// `ab -c 16` for `secs` seconds, one request per connection: requests/s, mean latency (ms),
/// and failed requests when there were any.
fn ab(url: &str, secs: u32) -> Result<wrk::Run, String> {
    let ab = util::which("ab").ok_or("ab is not installed (apt-get install apache2-utils)")?;
    let mut cmd = Command::new(ab);
    // -n after -t: -t alone caps the run at 50,000 requests.
    cmd.args(["-q", "-t", &secs.to_string(), "-n", "10000000", "-s", "5"])
        .args(["-c", &wrk::CONNECTIONS.to_string(), url]);
    let out = util::run_bounded(cmd, Duration::from_secs(secs as u64 + 20))?;
    let mut run = wrk::Run::default();
    for line in out.lines() {
        let (key, value) = match line.split_once(':') {
            Some((k, v)) => (k.trim(), v.split_whitespace().next().unwrap_or("")),
            None => continue,
        };
        match key {
            "Requests per second" => run.rps = value.parse().unwrap_or(0.0),
            "Time per request" if run.avg_ms == 0.0 => run.avg_ms = value.parse().unwrap_or(0.0),
            "Failed requests" | "Non-2xx responses" if value != "0" => {
                run.errors = Some(format!("{key}: {value}"))
            }
            _ => {}
        }
        if let Some(rest) = line.trim().strip_prefix("99%") {
            run.p99_ms = rest.trim().parse().unwrap_or(0.0);
        }
    }
    if run.rps > 0.0 {
        Ok(run)
    } else {
        Err(format!("cannot read ab's report:\n{out}"))
    }
}

/// `ab` against every target, `rounds` rounds with the order rotated, a 1 s warm-up first.
fn measure_ab(s: &Settings, targets: &[(String, String)]) -> HashMap<usize, Row> {
    let mut rows: HashMap<usize, Row> = HashMap::new();
    for round in 0..s.rounds {
        for k in 0..targets.len() {
            let i = (k + round) % targets.len();
            let (name, url) = &targets[i];
            if round == 0 {
                let _ = ab(url, 1);
            }
            match ab(url, s.secs) {
                Ok(run) => {
                    println!(
                        "  round {} ab full handshakes {:<22} {:>7.0} req/s  avg {:>6.2} ms{}",
                        round + 1,
                        name,
                        run.rps,
                        run.avg_ms,
                        run.errors
                            .as_deref()
                            .map(|e| format!("  ({e})"))
                            .unwrap_or_default()
                    );
                    rows.entry(i)
                        .or_insert_with(|| Row {
                            name: name.clone(),
                            runs: Vec::new(),
                        })
                        .runs
                        .push(run);
                }
                Err(e) => println!("  {name}: ab failed: {e}"),
            }
        }
    }
    rows
}

/// Lines in nginx's `$ssl_session_reused` log: (resumed, all).
fn nginx_reuse(log: &Path) -> (usize, usize) {
    let text = fs::read_to_string(log).unwrap_or_default();
    (
        text.lines().filter(|l| l.trim() == "r").count(),
        text.lines().count(),
    )
}

/// The TLS library wrk is linked with, from `ldd`.
fn wrk_tls(wrk: &Path) -> String {
    Command::new("ldd")
        .arg(wrk)
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find(|l| l.contains("libssl"))
                .map(|l| l.split_whitespace().next().unwrap_or("?").to_string())
        })
        .unwrap_or_else(|| "?".into())
}

/// VmRSS and RssAnon of `pid`, in KiB, from /proc/PID/status.
fn rss_of(pid: i32) -> (u64, u64) {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| {
                l.strip_prefix(name)?
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()
            })
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("RssAnon:"))
}

pub fn part(s: &Settings, work: &Path, blog10: &Path) -> Result<String, String> {
    println!("\n== tls: HTTPS against nginx (1 worker), one ECDSA P-256 certificate");
    let load_before = util::loadavg();
    let certs = work.join("tls-cert");
    fs::create_dir_all(&certs).map_err(|e| e.to_string())?;
    let cert = make_cert(&certs)?;
    let cert_arg = cert.cert.display().to_string();
    let key_arg = cert.key.display().to_string();

    // Memory first, on a quiet machine: the parent with and without TLS, and with ACME
    // pointed at a directory nobody answers on, so no certificate ever arrives.
    let tls_port = util::free_port();
    let tls_listen = format!("127.0.0.1:{tls_port}");
    let plain = peers::forkblog(&s.forkblog, blog10, work, "forkblog-plain-rss", &[])?;
    let fb = start_forkblog(
        s,
        blog10,
        work,
        "forkblog-tls",
        &[
            "--tls-listen",
            &tls_listen,
            "--tls-cert",
            &cert_arg,
            "--tls-key",
            &key_arg,
        ],
    )?;
    let page = util::get(plain.port, blog::PAGE).map_err(|e| e.to_string())?;
    let fb_url = format!("https://127.0.0.1:{tls_port}{}", blog::PAGE);
    wait_https(&fb_url, &page.body, Duration::from_secs(10))?;
    let acme_state = work.join("acme-state");
    let acme_port = util::free_port();
    let acme = start_forkblog(
        s,
        blog10,
        work,
        "forkblog-acme",
        &[
            "--tls-listen",
            &format!("127.0.0.1:{acme_port}"),
            "--acme-domain",
            "blog.invalid",
            "--acme-email",
            "bench@blog.invalid",
            "--acme-directory",
            "https://127.0.0.1:9/directory",
            "--state-dir",
            &acme_state.display().to_string(),
        ],
    )?;
    for _ in 0..10 {
        util::get(plain.port, blog::PAGE).map_err(|e| e.to_string())?;
        util::get(acme.port, blog::PAGE).map_err(|e| format!("forkblog-acme: {e}"))?;
        https_get(&fb_url)?;
    }
    std::thread::sleep(Duration::from_millis(500));
    let rss = [
        ("plain HTTP only", rss_of(plain.pid())),
        ("`--tls-listen --tls-cert --tls-key`", rss_of(fb.pid())),
        (
            "`--tls-listen --acme-domain` (directory unreachable, no certificate yet)",
            rss_of(acme.pid()),
        ),
    ];
    drop(plain);
    drop(acme);

    // The page as static files for the peers.
    let docroot = work.join("docroot-tls");
    let dir = docroot.join(&blog::PAGE[1..]);
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    fs::write(dir.join("index.html"), &page.body).map_err(|e| e.to_string())?;
    util::make_readable(&docroot);
    let peer_path = format!("{}index.html", blog::PAGE);

    let mut notes = Vec::new();
    let mut servers = Vec::new();
    let mut targets = vec![("**forkblog**".to_string(), fb_url.clone())];
    let nginx_port = util::free_port();
    match nginx(work, &docroot, &cert, nginx_port) {
        Ok(server) => {
            let url = format!("https://127.0.0.1:{nginx_port}{peer_path}");
            match wait_https(&url, &page.body, Duration::from_secs(10)) {
                Ok(()) => {
                    targets.push(("nginx (1 worker)".to_string(), url));
                    servers.push(server);
                }
                Err(e) => notes.push(format!("nginx skipped: {e}")),
            }
        }
        Err(e) => notes.push(format!("nginx skipped: {e}")),
    }
    let caddy_port = util::free_port();
    match caddy(work, &docroot, &cert, caddy_port) {
        Ok(server) => {
            let url = format!("https://127.0.0.1:{caddy_port}{peer_path}");
            match wait_https(&url, &page.body, Duration::from_secs(15)) {
                Ok(()) => {
                    targets.push(("Caddy".to_string(), url));
                    servers.push(server);
                }
                Err(e) => notes.push(format!("Caddy skipped: {e}")),
            }
        }
        Err(e) => notes.push(format!("Caddy skipped: {e}")),
    }
    for n in &notes {
        println!("NOTE: {n}");
    }

    // Each generator in turn, nginx's reuse log read between them.
    let reuse_log = work.join("nginx-tls/access.log");
    let mut reuse = vec![nginx_reuse(&reuse_log)];
    let full = measure_ab(s, &targets);
    reuse.push(nginx_reuse(&reuse_log));
    let resumed = s
        .wrk
        .as_ref()
        .map(|_| crate::measure(s, &targets, &[Mode::Close]));
    reuse.push(nginx_reuse(&reuse_log));
    let keep_alive = s
        .wrk
        .as_ref()
        .map(|_| crate::measure(s, &targets, &[Mode::KeepAlive]));
    reuse.push(nginx_reuse(&reuse_log));
    let seen = |k: usize| {
        let (r, n) = (reuse[k + 1].0 - reuse[k].0, reuse[k + 1].1 - reuse[k].1);
        if n == 0 {
            "nginx not measured".to_string()
        } else {
            format!("nginx saw {r} of {n} requests on resumed sessions")
        }
    };
    let (ab_seen, wrk_close_seen, wrk_keep_seen) = (seen(0), seen(1), seen(2));

    // openssl s_time: full vs resumed handshakes, a few clients at a time.
    let mut s_rows: Vec<(String, Option<STime>, Option<STime>)> = Vec::new();
    for round in 0..s.rounds {
        for k in 0..targets.len() {
            let i = (k + round) % targets.len();
            let (name, url) = &targets[i];
            let port: u16 = url
                .trim_start_matches("https://127.0.0.1:")
                .split('/')
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            let path = &url[url.find(':').map(|c| c + 3).unwrap_or(0)..];
            let path = &path[path.find('/').unwrap_or(0)..];
            if s_rows.len() <= i {
                s_rows.resize(targets.len(), (String::new(), None, None));
            }
            s_rows[i].0 = name.clone();
            for reuse in [false, true] {
                match s_time(port, path, s.secs, reuse) {
                    Ok(r) => {
                        println!(
                            "  round {} s_time {:<6} {:<22} {:>7.0} conn/s ({} connections, {} resumed)",
                            round + 1,
                            if reuse { "-reuse" } else { "-new" },
                            name,
                            r.per_sec,
                            r.connections,
                            r.resumed
                        );
                        let slot = if reuse {
                            &mut s_rows[i].2
                        } else {
                            &mut s_rows[i].1
                        };
                        // Keep the better of the rounds: s_time has no warm-up of its own.
                        if slot.is_none_or(|old| r.per_sec > old.per_sec) {
                            *slot = Some(r);
                        }
                    }
                    Err(e) => println!("  {name}: s_time failed: {e}"),
                }
            }
        }
    }
    drop(servers);
    drop(fb);
    let load_after = util::loadavg();

    let mut md = String::from("### HTTPS against nginx\n\n");
    let _ = writeln!(
        md,
        "The same page (`{}`, {} bytes) over HTTPS from forkblog (`--tls-listen --tls-cert \
         --tls-key`, rustls with ring), nginx (1 worker, `ssl_protocols TLSv1.2 TLSv1.3`, \
         otherwise its defaults) and Caddy when installed, all with one self-signed ECDSA P-256 \
         certificate made by `openssl req` for the run; TLS 1.3 is negotiated with every \
         client. Caddy runs with its defaults (Go uses every core; nginx one). Load average (1, 5, 15 min) before the part: {load_before}; after: \
         {load_after}. Compare only within this table.\n",
        blog::PAGE,
        page.body.len()
    );
    if let Some(w) = &s.wrk {
        let _ = writeln!(md, "wrk's TLS library: `{}`.\n", wrk_tls(w));
    }
    let mut tables: Vec<(String, Vec<Option<&Row>>)> = Vec::new();
    tables.push((
        format!(
            "connection-per-request, full handshakes (`ab -c {}`; {ab_seen})",
            wrk::CONNECTIONS
        ),
        (0..targets.len()).map(|i| full.get(&i)).collect(),
    ));
    if let (Some(close), Some(keep)) = (&resumed, &keep_alive) {
        tables.push((
            format!(
                "connection-per-request, resumed sessions (wrk `Connection: close`; {wrk_close_seen})"
            ),
            (0..targets.len())
                .map(|i| close.get(&(i, Mode::Close)))
                .collect(),
        ));
        tables.push((
            format!("keep-alive over TLS (wrk; {wrk_keep_seen})"),
            (0..targets.len())
                .map(|i| keep.get(&(i, Mode::KeepAlive)))
                .collect(),
        ));
    } else {
        md.push_str("wrk is not installed: the resumed and keep-alive tables are skipped.\n\n");
    }
    let rate = |table: usize, server: usize| -> Option<f64> {
        tables
            .get(table)?
            .1
            .get(server)
            .copied()
            .flatten()
            .map(|r| r.rps())
            .filter(|&r| r > 0.0)
    };
    for (t, (label, rows)) in tables.iter().enumerate() {
        let _ = writeln!(
            md,
            "#### {label}\n\n| server | requests/s | avg latency | p99 latency | forkblog / server |\n\
             | --- | ---: | ---: | ---: | ---: |"
        );
        for (i, row) in rows.iter().enumerate() {
            let Some(row) = row else { continue };
            let _ = writeln!(
                md,
                "| {} | {:.0} | {:.2} ms | {} | {} |",
                targets[i].0,
                row.rps(),
                row.avg(),
                if row.p99() > 0.0 {
                    format!("{:.2} ms", row.p99())
                } else {
                    "—".into()
                },
                if i == 0 {
                    "—".to_string()
                } else {
                    report::ratio(rate(t, 0).unwrap_or(0.0), row.rps())
                }
            );
        }
        let errs: Vec<String> = rows
            .iter()
            .flatten()
            .flat_map(|r| {
                r.errors()
                    .into_iter()
                    .map(move |e| format!("{}: {e}", r.name))
            })
            .collect();
        if !errs.is_empty() {
            let _ = writeln!(md, "\nreported: {}", errs.join("; "));
        }
        md.push('\n');
    }
    let _ = writeln!(
        md,
        "#### Full vs resumed handshakes (`openssl s_time`, {S_TIME_CLIENTS} clients at once, \
         one HTTP/1.0 GET per connection, the better of {} round(s))\n\n\
         | server | `-new`: connections/s | `-reuse`: connections/s | resumed in `-reuse` | forkblog / server, new | forkblog / server, reuse |\n\
         | --- | ---: | ---: | ---: | ---: | ---: |",
        s.rounds
    );
    let fb_s = s_rows.first().cloned();
    for (i, (name, new, reuse)) in s_rows.iter().enumerate() {
        let rate =
            |t: &Option<STime>| t.map_or("failed".to_string(), |t| format!("{:.0}", t.per_sec));
        let resumed = reuse.map_or("—".to_string(), |t| {
            format!("{} of {}", t.resumed, t.connections)
        });
        let vs = |mine: Option<STime>, theirs: &Option<STime>| match (mine, theirs) {
            (Some(a), Some(b)) if i > 0 => report::ratio(a.per_sec, b.per_sec),
            _ => "—".to_string(),
        };
        let (fb_new, fb_reuse) = fb_s.as_ref().map_or((None, None), |(_, n, r)| (*n, *r));
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {resumed} | {} | {} |",
            rate(new),
            rate(reuse),
            vs(fb_new, new),
            vs(fb_reuse, reuse)
        );
    }
    md.push('\n');
    for n in &notes {
        let _ = writeln!(md, "- Note: {n}");
    }
    let _ = writeln!(
        md,
        "\n#### Parent memory with TLS\n\n`grep -E 'VmRSS|RssAnon' /proc/PID/status` of the \
         parent after 10 requests, this benchmark's forkblog binary (`{}`).\n\n\
         | forkblog serve ... | VmRSS | RssAnon |\n| --- | ---: | ---: |",
        s.forkblog.display()
    );
    for (label, (vm, anon)) in &rss {
        let _ = writeln!(md, "| {label} | {vm} KiB | {anon} KiB |");
    }
    let _ = writeln!(md, "\nTargets:\n");
    let nginx_at = targets.iter().position(|(n, _)| n == "nginx (1 worker)");
    let mut target = |label: &str, table: usize, min: f64| match (
        rate(table, 0),
        nginx_at.and_then(|n| rate(table, n)),
    ) {
        (Some(fb), Some(p)) if min > 0.0 => {
            let _ = writeln!(
                md,
                "- {label}: {:.2}x (target >= {min}x): {}",
                fb / p,
                report::verdict(fb / p >= min)
            );
        }
        (Some(fb), Some(p)) => {
            let _ = writeln!(md, "- {label}: {:.2}x (no target)", fb / p);
        }
        _ => {
            let _ = writeln!(md, "- {label}: not measured (a tool or nginx missing)");
        }
    };
    target("keep-alive over TLS vs nginx", 2, 0.9);
    target("connection-per-request, full handshake, vs nginx", 0, 0.7);
    target("connection-per-request, resumed, vs nginx", 1, 0.0);
    let worst = rss[1..].iter().map(|r| r.1 .0).max().unwrap_or(0);
    let _ = writeln!(
        md,
        "- parent VmRSS with TLS or ACME, this binary: at most {worst} KiB (target <= 5120 KiB): {} \
         (the static non-PIE build is measured by hand under \"HTTPS\" below)",
        report::verdict(worst > 0 && worst <= 5120)
    );
    println!("\n{md}");
    Ok(md)
}
