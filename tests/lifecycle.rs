//! Lifecycle: SIGHUP re-exec under load, broken content on reload, single instance, SIGTERM
//! drain, inetd mode and systemd socket activation.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;

#[test]
fn twenty_reloads_under_load_refuse_nothing_and_leak_nothing() {
    let blog = TempSite::sample();
    let server = Server::start(blog.root(), &["--max-children", "16"]);
    let baseline = server.fd_count();
    let baseline_fds = fd_listing(server.pid());
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (stop, served, failed, addr) = (
                Arc::clone(&stop),
                Arc::clone(&served),
                Arc::clone(&failed),
                server.addr,
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let outcome = std::panic::catch_unwind(|| {
                        request(
                            addr,
                            "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                        )
                        .status
                    });
                    match outcome {
                        Ok(200) => served.fetch_add(1, Ordering::SeqCst),
                        _ => failed.fetch_add(1, Ordering::SeqCst),
                    };
                }
            })
        })
        .collect();
    for generation in 1..=20 {
        server.signal("HUP");
        let line = format!("generation {generation} serving");
        assert!(
            server.wait_for_log(&line, 1, Duration::from_secs(30)),
            "no {line}:\n{}",
            server.log_text()
        );
        let text = server.log_text();
        let same_pid = format!("as PID {}", server.pid());
        let announced = text.lines().find(|l| l.contains(&line)).unwrap();
        assert!(announced.contains(&same_pid), "PID changed: {announced}");
    }
    stop.store(true, Ordering::SeqCst);
    for t in load {
        t.join().unwrap();
    }
    let (served, failed) = (served.load(Ordering::SeqCst), failed.load(Ordering::SeqCst));
    eprintln!("served {served} requests across 20 reloads, {failed} failed");
    assert_eq!(failed, 0, "requests failed or were refused during reloads");
    assert!(
        served >= 100,
        "only {served} requests were served: the load did not run"
    );
    assert!(
        server.wait_settled(Duration::from_secs(20)),
        "children left: {:?}",
        server.children()
    );
    assert!(
        wait_until(Duration::from_secs(5), || server.fd_count() == baseline),
        "parent fds {} after 20 reloads, {baseline} before:\n{}\nbefore:\n{baseline_fds}",
        server.fd_count(),
        fd_listing(server.pid())
    );
    assert_eq!(server.stop().code(), Some(0));
}

const POST: &str =
    "---\ntitle: Reload me\ndate: 2026-06-01\ntags: [test]\n---\n\nThe first text.\n";

#[test]
fn reload_serves_edits_and_keeps_the_old_site_when_a_post_breaks() {
    let blog = TempSite::sample();
    blog.write_post("2026-06-01-reload-me.md", POST);
    let server = Server::start(blog.root(), &[]);
    let path = "/posts/reload-me/";
    assert!(server.get(path).text().contains("The first text."));

    blog.write_post(
        "2026-06-01-reload-me.md",
        &POST.replace("The first text.", "The second text."),
    );
    server.signal("HUP");
    assert!(
        server.wait_for_log("generation 1 serving", 1, Duration::from_secs(30)),
        "{}",
        server.log_text()
    );
    let page = server.get(path);
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("The second text."),
        "the edit is not served"
    );

    blog.write_post(
        "2026-06-01-reload-me.md",
        "---\ntitle: [unclosed\ndate: 2026-06-01\n---\nThe third text.\n",
    );
    server.signal("HUP");
    assert!(
        server.wait_for_log("reload failed", 1, Duration::from_secs(30)),
        "{}",
        server.log_text()
    );
    let log = server.log_text();
    assert!(
        log.contains("2026-06-01-reload-me.md"),
        "the log does not name the broken file:\n{log}"
    );
    assert!(!log.contains("generation 2 serving"));
    let page = server.get(path);
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("The second text."),
        "the old site is not served after a failed reload"
    );
    assert_eq!(server.get("/").status, 200);
}

#[test]
fn a_second_instance_is_refused_until_the_first_dies() {
    let blog = TempSite::sample();
    let first = Server::start(blog.root(), &[]);
    let lock = format!("{}.lock", first.access_log.display());
    let second = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--access-log"])
        .arg(&first.access_log)
        .arg("--root")
        .arg(blog.root())
        .args(user_args())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(3), "stderr: {stderr}");
    assert!(
        stderr.contains(&format!("already running as PID {}", first.pid())),
        "stderr: {stderr}"
    );

    // kill -9 leaves no stale lock: the kernel drops flock with the process.
    let status = Command::new("kill")
        .args(["-9", &first.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut first = first;
    first.child.wait().unwrap();
    let third = Server::start(blog.root(), &["--lock", &lock]);
    assert_eq!(third.get("/").status, 200);
}

#[test]
fn sigterm_lets_a_slow_client_finish_then_exits_zero() {
    let blog = TempSite::sample();
    // A page far larger than the socket buffers, so the child is blocked mid-response.
    let big = "All work and no play makes a large post.\n\n".repeat(200_000);
    blog.write_post(
        "2026-06-02-big.md",
        &format!("---\ntitle: Big\ndate: 2026-06-02\n---\n{big}"),
    );
    let server = Server::start(blog.root(), &["--grace", "30"]);
    let mut stream = connect(server.addr);
    stream
        .write_all(b"GET /posts/big/ HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 1024];
    stream.read_exact(&mut first).unwrap(); // the response has started
    assert!(wait_until(Duration::from_secs(5), || server
        .children()
        .len()
        == 1));
    server.signal("TERM");
    assert!(server.wait_for_log("shutting down", 1, Duration::from_secs(10)));
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    let mut bytes = first.to_vec();
    bytes.extend_from_slice(&rest);
    let (response, _) = parse_response(&bytes, false).expect("a complete response");
    assert_eq!(response.status, 200);
    assert!(
        response.body.len() > 8_000_000,
        "body cut short at {} bytes",
        response.body.len()
    );
    assert!(response.text().trim_end().ends_with("</html>"));
    assert_eq!(server.stop().code(), Some(0));
}

#[test]
fn inetd_mode_serves_the_connection_on_stdin_and_stdout() {
    let blog = TempSite::sample();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = std::thread::spawn(move || {
        request(
            addr,
            "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
    });
    let (conn, _) = listener.accept().unwrap();
    let out = OwnedFd::from(conn.try_clone().unwrap());
    let output = Command::new(BIN)
        .args(["serve", "--inetd", "--access-log", "-", "--root"])
        .arg(blog.root())
        .args(user_args())
        .stdin(Stdio::from(OwnedFd::from(conn)))
        .stdout(Stdio::from(out))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let response = client.join().unwrap();
    assert_eq!(response.status, 200);
    assert!(response.text().contains("</html>"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("\"GET / HTTP/1.1\" 200"),
        "no access log line on stderr: {stderr}"
    );
}

#[test]
fn a_socket_passed_by_systemd_is_used() {
    let blog = TempSite::sample();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let state = TempDir::new("sd");
    // fd 3 = the listening socket and LISTEN_PID = the server's own PID, as systemd does it.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("exec 3<&0 0</dev/null; LISTEN_PID=$$ LISTEN_FDS=1 exec \"$@\"")
        .arg("sh")
        .arg(BIN)
        .args(["serve", "--listen", "127.0.0.1:1", "--access-log"])
        .arg(state.path().join("access.log"))
        .arg("--root")
        .arg(blog.root())
        .args(user_args())
        .stdin(Stdio::from(OwnedFd::from(listener)))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ok = wait_until(Duration::from_secs(30), || {
        std::net::TcpStream::connect(addr).is_ok_and(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            let mut bytes = Vec::new();
            let _ = s.read_to_end(&mut bytes);
            bytes.starts_with(b"HTTP/1.1 200")
        })
    });
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(ok, "no 200 on the systemd socket; stderr:\n{stderr}");
    assert!(stderr.contains("passed by systemd"), "{stderr}");
    assert_eq!(status.code(), Some(0), "{stderr}");
}

#[test]
fn usr1_reopens_the_access_log_after_rotation() {
    let blog = TempSite::sample();
    let server = Server::start(blog.root(), &[]);
    assert_eq!(server.get("/?before").status, 200);
    let rotated = server.access_log.with_extension("log.1");
    let logged = |path: &std::path::Path, needle: &str| {
        std::fs::read_to_string(path).is_ok_and(|text| text.contains(needle))
    };
    assert!(wait_until(Duration::from_secs(5), || logged(
        &server.access_log,
        "GET /?before "
    )));
    std::fs::rename(&server.access_log, &rotated).unwrap();
    server.signal("USR1");
    assert!(
        server.wait_for_log("access log reopened", 1, Duration::from_secs(10)),
        "{}",
        server.log_text()
    );
    assert_eq!(server.get("/?after").status, 200);
    assert!(
        wait_until(Duration::from_secs(5), || logged(
            &server.access_log,
            "GET /?after "
        )),
        "no line in the reopened log"
    );
    assert!(
        !logged(&rotated, "GET /?after "),
        "the rotated file still got the new line"
    );
}

#[test]
fn classic_inetd_with_stderr_on_the_socket_gets_a_clean_response() {
    let blog = TempSite::sample();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = std::thread::spawn(move || {
        let mut stream = connect(addr);
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut bytes = Vec::new();
        stream.read_to_end(&mut bytes).unwrap();
        bytes
    });
    let (conn, _) = listener.accept().unwrap();
    let out = OwnedFd::from(conn.try_clone().unwrap());
    let err = OwnedFd::from(conn.try_clone().unwrap());
    let status = Command::new(BIN)
        .args(["serve", "--inetd", "--root"])
        .arg(blog.root())
        .args(["--access-log", "-"])
        .args(user_args())
        .env("RUST_LOG", "info")
        .stdin(Stdio::from(OwnedFd::from(conn)))
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = client.join().unwrap();
    assert!(
        bytes.starts_with(b"HTTP/1.1 200 OK\r\n"),
        "{:?}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
    );
}

#[test]
fn descriptors_left_open_by_the_launcher_are_closed_at_start() {
    let blog = TempSite::sample();
    let state = TempDir::new("stray");
    // fd 7 is a stray the shell leaves open across exec, as a careless launcher would.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("exec 7</dev/null; exec \"$@\"")
        .arg("sh")
        .arg(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--access-log"])
        .arg(state.path().join("access.log"))
        .arg("--root")
        .arg(blog.root())
        .args(user_args())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let fd7 = format!("/proc/{pid}/fd/7");
    // Serving means the start-up (and its clean-up) is done: the lock file exists by then.
    let up = wait_until(Duration::from_secs(30), || {
        fd_listing(pid).contains("access.log.lock")
    });
    let stray = std::fs::read_link(&fd7).ok();
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let _ = child.wait();
    assert!(up, "the server did not start");
    assert!(
        stray.as_ref().is_none_or(|t| !t.ends_with("null")),
        "fd 7 (/dev/null from the launcher) is still open: {stray:?}"
    );
}

#[test]
fn sigterm_closes_idle_keep_alives_but_serves_a_request_on_its_way() {
    let blog = TempSite::sample();
    let server = Server::start(blog.root(), &["--grace", "20", "--idle-timeout", "30"]);
    // One idle keep-alive connection, and one client that has sent the start of its request
    // (one that has sent nothing is not accepted yet: TCP_DEFER_ACCEPT keeps it in the kernel,
    // where a shutdown refuses it like any connection still in the backlog).
    let mut idle = connect(server.addr);
    idle.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut buf = Vec::new();
    assert_eq!(read_one(&mut idle, &mut buf, false).status, 200);
    let mut late = connect(server.addr);
    late.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    assert!(wait_until(Duration::from_secs(5), || server
        .children()
        .len()
        == 2));
    server.signal("TERM");
    assert!(server.wait_for_log("shutting down", 1, Duration::from_secs(10)));
    // The idle keep-alive is closed at once (not after --grace).
    let mut rest = Vec::new();
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(
        idle.read_to_end(&mut rest).map(|_| rest.len()).ok(),
        Some(0),
        "idle connection not closed"
    );
    // The late client still gets its page.
    late.write_all(b"Host: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut bytes = Vec::new();
    late.read_to_end(&mut bytes).unwrap();
    assert!(
        bytes.starts_with(b"HTTP/1.1 200 OK"),
        "{:?}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
    );
    assert_eq!(server.stop().code(), Some(0));
}
