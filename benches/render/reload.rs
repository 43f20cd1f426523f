//! Reload and cold-render figures on the generated 10,000-post blog (the load benchmark's
//! generator): `cargo bench --bench render -- --reload [POSTS]`.
//!
//! - **cold render**: `forkblog render-worker` run alone (as the server runs it at start-up),
//!   its snapshot written to a file: wall time, the worker's own "with encoding" figure, and
//!   its peak RSS (`/usr/bin/time -v`).
//! - **reload, one post edited**: `bench-post` rewritten (temporary file, rename), SIGHUP, the
//!   page polled every 2 ms until the new paragraph is served.
//! - **reload, a template edited**: a comment added to `templates/base.html`, likewise.
//!
//! For each reload, the peak RSS of the server's children (the render worker is the big one)
//! is sampled from `/proc/PID/status` while polling. `FORKBLOG_BIN` picks the binary (to compare
//! another build under the same conditions); the default is this package's release build.
//! Talks only to 127.0.0.1; every wait has a deadline.

use crate::blog;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const EDITS: usize = 5;
const TEMPLATE_EDITS: usize = 3;

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `FORKBLOG_BENCH_DROP_CACHES=1` (root only): the post files read from disk, as after days of
/// serving on a small machine, rather than from the page cache (the snapshot, in shared memory,
/// stays).
fn drop_page_cache() {
    let _ = std::process::Command::new("sync").status();
    if let Err(e) = std::fs::write("/proc/sys/vm/drop_caches", "1") {
        eprintln!("FORKBLOG_BENCH_DROP_CACHES: {e}");
    }
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn make_readable(dir: &Path) {
    let _ = Command::new("chmod").args(["-R", "a+rX"]).arg(dir).status();
}

fn get(port: u16, path: &str) -> Option<Vec<u8>> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    Some(out)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

/// The largest peak RSS (VmHWM, KiB) among the children of `pid` right now, and the largest
/// private (anonymous) RSS: the worker's peak counts the pages of the old snapshot it reads,
/// which are shared with the server and cost no memory of their own.
fn children_hwm(pid: u32) -> (u64, u64) {
    let list =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    let field = |status: &str, name: &str| -> u64 {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0)
    };
    list.split_whitespace()
        .filter_map(|c| std::fs::read_to_string(format!("/proc/{c}/status")).ok())
        .map(|status| (field(&status, "VmHWM:"), field(&status, "RssAnon:")))
        .fold((0, 0), |(h, a), (h2, a2)| (h.max(h2), a.max(a2)))
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.0.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The worker's "N ms with encoding" from its log.
fn with_encoding(log: &str) -> Option<f64> {
    let line = log.lines().rev().find(|l| l.contains("ms with encoding"))?;
    let at = line.rfind(" ms with encoding")?;
    let start = line[..at].rfind('(')? + 1;
    line[start..at].parse().ok()
}

fn cold(bin: &Path, root: &Path, work: &Path) {
    let out = work.join("cold.snapshot");
    let script = format!(
        "exec {} render-worker {} skip-broken-posts published 3>{}",
        bin.display(),
        root.display(),
        out.display()
    );
    for _ in 0..3 {
        let t = Instant::now();
        let run = Command::new("/usr/bin/time")
            .args(["-v", "sh", "-c", &script])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .output()
            .expect("run the render worker");
        let wall = t.elapsed();
        let err = String::from_utf8_lossy(&run.stderr);
        let rss = err
            .lines()
            .find(|l| l.contains("Maximum resident set size"))
            .and_then(|l| l.rsplit(':').next()?.trim().parse::<u64>().ok())
            .unwrap_or(0);
        let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        println!(
            "cold render: wall {:.0} ms, worker says {:.0} ms with encoding, peak RSS {} MB, snapshot {:.1} MB, exit {:?}; load {}",
            wall.as_secs_f64() * 1000.0,
            with_encoding(&err).unwrap_or(-1.0),
            rss / 1024,
            size as f64 / 1e6,
            run.status.code(),
            load()
        );
    }
    let _ = std::fs::remove_file(out);
}

fn reloads(bin: &Path, root: &Path, work: &Path) {
    let port = free_port();
    let log = work.join("serve.log");
    let mut cmd = Command::new(bin);
    cmd.arg("serve")
        .arg("--root")
        .arg(root)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--access-log", "/dev/null"])
        .arg("--lock")
        .arg(work.join("serve.lock"))
        .args(["--grace", "1"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"));
    if is_root() {
        cmd.args(["--user", "nobody"]);
    }
    let server = Server(cmd.spawn().expect("start the server"));
    let pid = server.0.id();
    let deadline = Instant::now() + Duration::from_secs(120);
    while get(port, blog::PAGE).is_none_or(|r| !r.starts_with(b"HTTP/1.1 200")) {
        assert!(
            Instant::now() < deadline,
            "server not ready; see {}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let template = root.join("templates/base.html");
    let template_text = std::fs::read_to_string(&template).expect("base.html");
    let kinds: [(&str, usize); 2] = [
        ("one post edited", EDITS),
        ("a template edited", TEMPLATE_EDITS),
    ];
    for (kind, tries) in kinds {
        let mut times = Vec::new();
        let (mut hwm, mut anon) = (0, 0);
        for n in 0..tries {
            let marker = format!("r{n}x{}", std::process::id());
            let needle = match kind {
                "one post edited" => {
                    blog::write_bench_post(root, Some(&marker)).expect("edit the post");
                    format!("Revision {marker}.")
                }
                _ => {
                    let tmp = root.join("base.html.tmp");
                    std::fs::write(&tmp, format!("{template_text}<!-- {marker} -->\n"))
                        .expect("edit the template");
                    std::fs::rename(&tmp, &template).expect("rename");
                    format!("<!-- {marker} -->")
                }
            };
            // Only the file just written: a `chmod -R` of the whole blog would change every
            // file's status-change time, which no edit does, and make the render read them all.
            make_readable(&match kind {
                "one post edited" => root.join("posts/bench-post.md"),
                _ => template.clone(),
            });
            if std::env::var_os("FORKBLOG_BENCH_DROP_CACHES").is_some() {
                drop_page_cache();
            }
            let t = Instant::now();
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGHUP,
            )
            .expect("SIGHUP");
            let deadline = t + Duration::from_secs(60);
            loop {
                let (h, a) = children_hwm(pid);
                (hwm, anon) = (hwm.max(h), anon.max(a));
                if get(port, blog::PAGE).is_some_and(|r| contains(&r, needle.as_bytes())) {
                    times.push(t.elapsed().as_secs_f64() * 1000.0);
                    break;
                }
                assert!(Instant::now() < deadline, "{kind}: not live after 60 s");
                std::thread::sleep(Duration::from_millis(2));
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        let mut sorted = times.clone();
        sorted.sort_by(f64::total_cmp);
        let each: Vec<String> = times.iter().map(|t| format!("{t:.0}")).collect();
        println!(
            "reload, {kind}: SIGHUP to live median {:.0} ms (each: {} ms); worker peak RSS sampled {} MB (anonymous {} MB); load {}",
            sorted[sorted.len() / 2],
            each.join(", "),
            hwm / 1024,
            anon / 1024,
            load()
        );
    }
    std::fs::write(&template, template_text).expect("restore the template");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    for line in text
        .lines()
        .filter(|l| l.contains("as they were") || l.contains("ms with encoding"))
        .rev()
        .take(4)
    {
        println!("  log: {line}");
    }
}

/// Runs the part for `posts` posts.
pub fn run(posts: usize) {
    let bin = std::env::var_os("FORKBLOG_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_forkblog")));
    let work = std::env::temp_dir().join(format!("forkblog-bench-reload-{}", std::process::id()));
    let root = work.join("blog");
    std::fs::create_dir_all(&root).expect("work dir");
    blog::generate(&root, posts).expect("generate the blog");
    make_readable(&work);
    println!(
        "{} with {posts} posts; {} threads; load {}",
        bin.display(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        load()
    );
    cold(&bin, &root, &work);
    reloads(&bin, &root, &work);
    if std::env::var_os("FORKBLOG_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
}
