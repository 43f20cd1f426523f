//! The heart of the suite: the parent must not leak descriptors or leave zombies, whatever
//! clients do, across reloads; and it must never have more than `--max-children` children.

mod common;

#[path = "held/kinds.rs"]
mod kinds;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;

/// Connections per kind in one round of mixed load.
const PER_KIND: usize = 250;
/// Client threads.
const THREADS: usize = 6;

#[derive(Default)]
struct Tally {
    ok: AtomicUsize,
    bad_request: AtomicUsize,
    failures: AtomicUsize,
}

impl Tally {
    /// Counts an expected answer in `hit`, anything else as a failure.
    fn count(&self, expected: bool, hit: &AtomicUsize) {
        let counter = if expected { hit } else { &self.failures };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// One client of each abusive kind, `n` times per thread; returns the tally.
fn mixed_load(addr: SocketAddr, n: usize) -> Tally {
    let tally = Arc::new(Tally::default());
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let tally = Arc::clone(&tally);
            std::thread::spawn(move || {
                for i in 0..n {
                    match (t + i) % 6 {
                        0 => single(addr, &tally),
                        1 => keep_alive(addr, &tally, 5),
                        2 => aborted_mid_request(addr),
                        3 => malformed(addr, &tally),
                        4 => silent(addr),
                        _ => unread_response(addr),
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    Arc::try_unwrap(tally).unwrap_or_default()
}

fn single(addr: SocketAddr, tally: &Tally) {
    let r = request(
        addr,
        "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    tally.count(r.status == 200, &tally.ok);
}

fn keep_alive(addr: SocketAddr, tally: &Tally, n: usize) {
    let mut stream = connect(addr);
    let mut buf = Vec::new();
    for i in 0..n {
        let close = if i + 1 == n {
            "Connection: close\r\n"
        } else {
            ""
        };
        let path = if i % 2 == 0 { "/" } else { "/feed.xml" };
        write!(stream, "GET {path} HTTP/1.1\r\nHost: t\r\n{close}\r\n").unwrap();
        let r = read_one(&mut stream, &mut buf, false);
        tally.count(r.status == 200, &tally.ok);
    }
}

fn aborted_mid_request(addr: SocketAddr) {
    let mut stream = connect(addr);
    stream
        .write_all(b"GET /posts/ HTTP/1.1\r\nHost: t\r\nUser-Ag")
        .unwrap();
    drop(stream);
}

fn malformed(addr: SocketAddr, tally: &Tally) {
    let r = request(addr, "GARBAGE\0 / HTTP/9\r\n\r\n");
    tally.count(r.status == 400, &tally.bad_request);
}

fn silent(addr: SocketAddr) {
    let stream = connect(addr);
    let _ = stream.shutdown(Shutdown::Write);
    let mut sink = Vec::new();
    let _ = (&stream).read_to_end(&mut sink);
}

fn unread_response(addr: SocketAddr) {
    let mut stream = connect(addr);
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    drop(stream); // close with the response unread: the child sees a reset
}

fn assert_clean(server: &Server, baseline: usize, baseline_fds: &str, round: &str) {
    assert!(
        server.wait_settled(Duration::from_secs(20)),
        "{round}: children still present: {:?}",
        server.children()
    );
    let zombies: Vec<_> = server
        .children()
        .into_iter()
        .filter(|c| c.1 == 'Z')
        .collect();
    assert!(zombies.is_empty(), "{round}: zombies {zombies:?}");
    // Descriptors: polled briefly, since the parent closes its copy right after fork.
    let settled = wait_until(Duration::from_secs(5), || server.fd_count() == baseline);
    assert!(
        settled,
        "{round}: parent fds {} after load, {baseline} before:\n{}\nbefore:\n{baseline_fds}",
        server.fd_count(),
        fd_listing(server.pid())
    );
}

#[test]
fn no_fd_growth_and_no_zombies_under_mixed_load_across_reloads() {
    let blog = TempSite::sample();
    let server = Server::start(
        blog.root(),
        &[
            "--max-children",
            "32",
            "--head-timeout",
            "2",
            "--idle-timeout",
            "1",
        ],
    );
    let baseline = server.fd_count();
    let baseline_fds = fd_listing(server.pid());
    assert!(baseline > 3, "cannot read /proc/{}/fd", server.pid());

    let mut total = 0;
    for round in 0..3 {
        if round > 0 {
            server.signal("HUP");
            assert!(
                server.wait_for_log(
                    &format!("generation {round} serving"),
                    1,
                    Duration::from_secs(30)
                ),
                "reload {round} did not happen:\n{}",
                server.log_text()
            );
            // The worker's pipe (its fd 5) told the parent the snapshot was written; the
            // worker, still exiting then, is reaped like any child (checked below).
            assert!(
                server.wait_for_log("not waiting for its exit", round, Duration::from_secs(5)),
                "reload {round}: no word from the render worker's pipe:\n{}",
                server.log_text()
            );
        }
        let tally = mixed_load(server.addr, PER_KIND);
        let ok = tally.ok.load(Ordering::Relaxed);
        let bad = tally.bad_request.load(Ordering::Relaxed);
        assert_eq!(
            tally.failures.load(Ordering::Relaxed),
            0,
            "round {round}: unexpected statuses"
        );
        assert!(
            ok >= PER_KIND * THREADS / 6 * 6,
            "round {round}: only {ok} successful requests"
        );
        assert!(
            bad >= PER_KIND * THREADS / 6,
            "round {round}: only {bad} 400s"
        );
        total += PER_KIND * THREADS;
        assert_clean(&server, baseline, &baseline_fds, &format!("round {round}"));
    }
    assert!(total >= 4500, "drove {total} connections");
    eprintln!(
        "{total} connections over 3 generations: parent fds {baseline} before, {} after",
        server.fd_count()
    );
    assert_eq!(server.stop().code(), Some(0));
}

/// Held connections made to give way at the cap (silent ones released together by the
/// deferred accept, heads stopped half-way, idle keep-alives), across a reload, leave no
/// descriptor and no zombie, and the cap holds throughout.
#[test]
fn held_connections_that_give_way_leave_no_fd_and_no_zombie() {
    use kinds::{ended, evicted, open, timed_get, Held};
    let blog = TempSite::sample();
    let server = Server::start(
        blog.root(),
        &[
            "--max-children",
            "16",
            "--head-timeout",
            "2",
            "--idle-timeout",
            "60",
        ],
    );
    let baseline = server.fd_count();
    let baseline_fds = fd_listing(server.pid());
    for round in 0..2 {
        if round > 0 {
            server.signal("HUP");
            assert!(
                server.wait_for_log("generation 1 serving", 1, Duration::from_secs(30)),
                "no reload:\n{}",
                server.log_text()
            );
        }
        let before = evicted(&server);
        let mut held = Vec::new();
        for n in 0..120 {
            let how = [Held::Silent, Held::MidHead, Held::Idle][n % 3];
            held.push((how, open(server.addr, how)));
        }
        // Normal requests until every held connection has given way (the silent ones once the
        // kernel releases them), or timed out.
        let mut normal = 0;
        let all_ended = wait_until(Duration::from_secs(30), || {
            let (status, _) = timed_get(server.addr);
            assert_eq!(status, 200, "round {round}: a normal request");
            normal += 1;
            assert!(server.children().len() <= 16, "round {round}: past the cap");
            held.retain_mut(|(_, s)| ended(s, Duration::from_millis(1)).is_none());
            held.is_empty()
        });
        let kinds: Vec<Held> = held.iter().map(|(how, _)| *how).collect();
        assert!(all_ended, "round {round}: still held: {kinds:?}");
        let gave_way = evicted(&server) - before;
        assert!(gave_way >= 60, "round {round}: only {gave_way} gave way");
        eprintln!("round {round}: {normal} normal requests, {gave_way} held connections gave way");
        assert_clean(&server, baseline, &baseline_fds, &format!("round {round}"));
    }
    assert_eq!(server.stop().code(), Some(0));
}

#[test]
fn at_most_max_children_and_every_slow_client_is_answered() {
    let blog = TempSite::sample();
    let server = Server::start(blog.root(), &["--max-children", "4", "--head-timeout", "3"]);
    let pid = server.pid();
    let stop = Arc::new(AtomicBool::new(false));
    let most = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (stop, most) = (Arc::clone(&stop), Arc::clone(&most));
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let live = children_of(pid).len();
                most.fetch_max(live, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let started = Instant::now();
    let clients: Vec<_> = (0..20)
        .map(|_| {
            let addr = server.addr;
            std::thread::spawn(move || {
                let mut stream = connect(addr);
                // Byte by byte, 30 ms apart: about 0.9 s per request head.
                for byte in b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".chunks(2) {
                    if stream.write_all(byte).is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(30));
                }
                let mut bytes = Vec::new();
                let _ = stream.read_to_end(&mut bytes);
                parse_response(&bytes, false).map(|(r, _)| r.status)
            })
        })
        .collect();
    let statuses: Vec<Option<u16>> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    stop.store(true, Ordering::SeqCst);
    sampler.join().unwrap();
    let most = most.load(Ordering::SeqCst);
    assert!(most <= 4, "saw {most} children with --max-children 4");
    assert!(
        most >= 2,
        "the sampler never saw concurrent children ({most}); the test proves nothing"
    );
    for status in &statuses {
        assert!(
            matches!(status, Some(200 | 408)),
            "a client got {status:?}: {statuses:?}"
        );
    }
    assert!(
        statuses.iter().filter(|s| **s == Some(200)).count() >= 16,
        "{statuses:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(server.wait_settled(Duration::from_secs(10)));
}

/// A `GET /` with `Connection: close` on its own thread; joins to the status.
fn get_in_background(addr: SocketAddr) -> std::thread::JoinHandle<u16> {
    std::thread::spawn(move || {
        request(
            addr,
            "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .status
    })
}

/// CPU time (user + system) of a process in clock ticks, from /proc/PID/stat.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the state field: utime is field 14 and stime 15 of the whole line (1-based).
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// Sets the soft RLIMIT_NOFILE of `pid` with prlimit(1), run as the target's own user (setpriv)
/// because changing another user's limits needs CAP_SYS_RESOURCE, which containers often lack.
fn prlimit_nofile(pid: u32, n: usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let id = |key: &str| {
        let line = status.lines().find(|l| l.starts_with(key)).unwrap();
        line.split_whitespace().nth(1).unwrap().to_string()
    };
    let mut command = std::process::Command::new("setpriv");
    command
        .arg(format!("--reuid={}", id("Uid:")))
        .arg(format!("--regid={}", id("Gid:")))
        .arg("--clear-groups")
        .arg("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--nofile={n}:")); // the soft limit only, so it can be raised again
    let status = command
        .status()
        .expect("setpriv and prlimit (util-linux) are needed for this test");
    assert!(status.success(), "prlimit --nofile={n}: failed for {pid}");
}

#[test]
fn emfile_does_not_spin_and_serving_resumes() {
    let blog = TempSite::sample();
    let server = Server::start(blog.root(), &[]);
    assert_eq!(server.get("/").status, 200);
    let pid = server.pid();
    // The limit bounds descriptor numbers: set it to the lowest free number in the parent, so
    // the next accept fails with EMFILE.
    let open: Vec<usize> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    let lowest_free = (0..).find(|n| !open.contains(n)).unwrap();
    prlimit_nofile(pid, lowest_free);
    let waiting: Vec<_> = (0..3).map(|_| get_in_background(server.addr)).collect();
    assert!(
        server.wait_for_log("accept failed", 1, Duration::from_secs(10)),
        "{}",
        server.log_text()
    );
    let before = cpu_ticks(pid);
    let window = Instant::now();
    std::thread::sleep(Duration::from_secs(3)); // measuring CPU over a window, not synchronising
    let used = cpu_ticks(pid) - before;
    let elapsed = window.elapsed().as_secs_f64();
    // A spinning accept loop burns ~100 ticks/s; backing off costs a few ticks in all.
    assert!(
        used < 30,
        "parent used {used} ticks in {elapsed:.1}s while accept failed"
    );
    assert!(
        server.children().is_empty(),
        "no child can exist while accept fails"
    );
    prlimit_nofile(pid, 1024);
    for w in waiting {
        assert_eq!(
            w.join().unwrap(),
            200,
            "a client queued during EMFILE was not served"
        );
    }
    assert_eq!(server.get("/").status, 200);
}

/// A wrapper that runs the server as an unused uid under RLIMIT_NPROC 2 (counted per user, so
/// it sees only this server: the parent and one more process; once a child is alive, every
/// further fork fails with EAGAIN). `None` unless running as root. Each caller gets its own uid.
fn one_child_only() -> Option<Vec<String>> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let root = std::fs::read_to_string("/proc/self/status")
        .is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:\t0\t")));
    if !root {
        return None;
    }
    let uid = 41999 - NEXT.fetch_add(1, Ordering::SeqCst);
    let words = [
        "setpriv".to_string(),
        format!("--reuid={uid}"),
        format!("--regid={uid}"),
        "--clear-groups".into(),
        "prlimit".into(),
        "--nproc=2".into(),
        "--".into(),
    ];
    Some(words.into())
}

#[test]
fn fork_failure_answers_503_and_keeps_the_rest_queued() {
    let Some(wrapper) = one_child_only() else {
        eprintln!("skipped: needs root to run the server as an otherwise unused uid");
        return;
    };
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let blog = TempSite::sample();
    let server = Server::start_wrapped(&wrapper, blog.root(), &["--head-timeout", "2"]);
    let holder = std::thread::spawn({
        let addr = server.addr;
        move || {
            // Holds the one child for a while with half a request head.
            let mut stream = connect(addr);
            stream.write_all(b"GET / HTTP/1.1\r\n").unwrap();
            let mut sink = Vec::new();
            let _ = stream.read_to_end(&mut sink);
        }
    });
    assert!(wait_until(Duration::from_secs(5), || server
        .children()
        .len()
        == 1));
    let statuses: Vec<u16> = (0..6)
        .map(|_| get_in_background(server.addr))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| {
            t.join()
                .expect("every client gets a response, none is dropped silently")
        })
        .collect();
    holder.join().unwrap();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "{statuses:?}"
    );
    assert!(statuses.contains(&503), "no fork ever failed: {statuses:?}");
    assert!(
        server.wait_for_log("fork failed", 1, Duration::from_secs(5)),
        "{}",
        server.log_text()
    );
    assert!(server.wait_settled(Duration::from_secs(10)));
}

#[test]
fn fork_failure_evicts_a_slow_client_for_those_waiting() {
    let Some(wrapper) = one_child_only() else {
        eprintln!("skipped: needs root to run the server as an otherwise unused uid");
        return;
    };
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let blog = TempSite::sample();
    // A long head timeout, so only eviction can free the one slot.
    let server = Server::start_wrapped(&wrapper, blog.root(), &["--head-timeout", "60"]);
    let holder = std::thread::spawn({
        let addr = server.addr;
        move || {
            let started = Instant::now();
            let mut stream = connect(addr);
            stream.write_all(b"GET / HTTP/1.1\r\n").unwrap();
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
            (started.elapsed(), answer)
        }
    });
    assert!(wait_until(Duration::from_secs(5), || server
        .children()
        .len()
        == 1));
    std::thread::sleep(Duration::from_millis(600)); // old enough to be evicted
    let waiting: Vec<_> = (0..3).map(|_| get_in_background(server.addr)).collect();
    let (held, answer) = holder.join().unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 408"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    assert!(
        held < Duration::from_secs(20),
        "the slow client held its slot for {held:?}"
    );
    let statuses: Vec<u16> = waiting.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&200),
        "nobody was served after the eviction: {statuses:?}"
    );
    assert!(server.wait_settled(Duration::from_secs(10)));
}

/// A launcher may leave SIGCHLD ignored (the disposition survives exec). Then the kernel reaps
/// children by itself and never queues the signal, so a parent that only waits for SIGCHLD
/// would think every child still alive and stop accepting at the cap. Twenty connections in a
/// row through a cap of two show that exits are still seen.
#[test]
fn sigchld_ignored_by_the_launcher_still_frees_every_slot() {
    let blog = TempSite::sample();
    let wrapper = ["env", "--ignore-signal=CHLD"];
    let user = user_args();
    let mut extra = vec!["--max-children", "2"];
    extra.extend(user.iter().map(String::as_str));
    let server = Server::start_wrapped(&wrapper, blog.root(), &extra);
    for n in 0..20 {
        let response = request(
            server.addr,
            "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(
            response.status,
            200,
            "connection {n}:\n{}",
            server.log_text()
        );
    }
    assert!(server.wait_settled(Duration::from_secs(10)));
    assert_eq!(server.stop().code(), Some(0));
}

/// Reads until the server closes or a whole response is in; `None` for a close. Panics if
/// neither happens within `within`.
fn response_or_close(stream: &mut std::net::TcpStream, within: Duration) -> Option<Response> {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        if let Some((response, _)) = parse_response(&bytes, false) {
            return Some(response);
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
            Err(e) => panic!("no response and no close within {within:?}: {e}"),
        }
    }
}

#[test]
fn connections_opened_before_a_reload_never_get_the_old_site_after_it() {
    let blog = TempSite::sample();
    let post = "2026-01-05-why-fork-per-connection.md";
    let path = blog.root().join("posts").join(post);
    let page = "/posts/why-fork-per-connection/";
    // Timeouts far longer than the test: any close it sees comes from the new generation.
    let server = Server::start(
        blog.root(),
        &["--idle-timeout", "60", "--head-timeout", "60"],
    );
    let baseline = server.fd_count();
    let baseline_fds = fd_listing(server.pid());
    let ask = format!("GET {page} HTTP/1.1\r\nHost: t\r\n\r\n");

    // Idle keep-alive connections, each having had one answer from generation 0.
    let mut idle: Vec<_> = (0..4)
        .map(|_| {
            let mut stream = connect(server.addr);
            stream.write_all(ask.as_bytes()).unwrap();
            let r = read_one(&mut stream, &mut Vec::new(), false);
            assert_eq!(r.status, 200);
            assert!(!r.text().contains("Appended after the reload"));
            stream
        })
        .collect();
    // A first request on its way: half a head sent before the reload, the rest after.
    let mut half = connect(server.addr);
    half.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n").unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || server.children().len() == 5),
        "children: {:?}",
        server.children()
    );

    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("\nAppended after the reload.\n");
    std::fs::write(&path, text).unwrap();
    server.signal("HUP");
    assert!(
        server.wait_for_log("generation 1 serving", 1, Duration::from_secs(60)),
        "no reload:\n{}",
        server.log_text()
    );
    let live = Instant::now();

    // The idle ones: closed promptly (nothing to wait for), long before any timeout; one that
    // asks first gets the new page or a close, never the old page.
    let mut asking = idle.pop().unwrap();
    let _ = asking.write_all(ask.as_bytes());
    if let Some(r) = response_or_close(&mut asking, Duration::from_secs(10)) {
        assert!(r.text().contains("Appended after the reload"), "old page");
    }
    for mut stream in idle {
        let closed = response_or_close(&mut stream, Duration::from_secs(10));
        assert!(closed.is_none(), "an idle connection got {closed:?}");
    }
    let waited = live.elapsed();
    assert!(waited < Duration::from_secs(5), "closed after {waited:?}");

    // The request on its way is answered, and told the connection ends.
    half.write_all(b"\r\n").unwrap();
    let r = response_or_close(&mut half, Duration::from_secs(10)).expect("an answer");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));

    // A new connection: the new site.
    assert!(server
        .get(page)
        .text()
        .contains("Appended after the reload"));
    assert_clean(&server, baseline, &baseline_fds, "after the reload");
    assert_eq!(server.stop().code(), Some(0));
}
