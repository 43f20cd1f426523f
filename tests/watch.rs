//! The server watches itself and survives abuse: the status endpoint, the leak watchdog and
//! slowloris.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

const STATUS: &str = "/.well-known/forkblog/status";

/// A number field from the status JSON.
fn field(json: &str, name: &str) -> u64 {
    let at = json
        .find(&format!("\"{name}\":"))
        .unwrap_or_else(|| panic!("no {name} in {json}"));
    let rest = &json[at + name.len() + 3..];
    rest[..rest.find([',', '}']).unwrap()].parse().unwrap()
}

/// Opens a keep-alive connection, completes one request on it and leaves it idle.
fn idle_connection(addr: SocketAddr) -> TcpStream {
    let mut stream = connect(addr);
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut buf = Vec::new();
    assert_eq!(read_one(&mut stream, &mut buf, false).status, 200);
    stream
}

/// Requests the status from a chosen local address.
fn status_from(local: &str, addr: SocketAddr, query: &str) -> Response {
    let script = format!("GET {STATUS}{query} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let mut stream = bind_and_connect(local, addr);
    stream.write_all(script.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    parse_response(&bytes, false).expect("a response").0
}

/// Connects to `addr` from `local` (e.g. 127.0.0.2), using a socket bound before connect.
fn bind_and_connect(local: &str, addr: SocketAddr) -> TcpStream {
    // std has no bind-before-connect, so this uses nix's socket calls.
    use nix::sys::socket::{
        bind, connect as nix_connect, socket, AddressFamily, SockFlag, SockType, SockaddrIn,
    };
    use std::os::fd::AsRawFd;
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .unwrap();
    let local: std::net::SocketAddrV4 = format!("{local}:0").parse().unwrap();
    bind(fd.as_raw_fd(), &SockaddrIn::from(local)).unwrap();
    let SocketAddr::V4(remote) = addr else {
        panic!("IPv4 expected")
    };
    nix_connect(fd.as_raw_fd(), &SockaddrIn::from(remote)).unwrap();
    let stream = TcpStream::from(fd);
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

#[test]
fn status_reports_what_proc_shows_and_only_to_allowed_peers() {
    let blog = TempSite::sample();
    let server = Server::start(blog.root(), &["--watchdog", "1", "--idle-timeout", "30"]);
    let held: Vec<TcpStream> = (0..3).map(|_| idle_connection(server.addr)).collect();
    assert!(wait_until(Duration::from_secs(5), || server
        .children()
        .len()
        == 3));
    // The status child itself is a fourth child; the parent's fd figure is sampled every second.
    let matched = wait_until(Duration::from_secs(10), || {
        let json = server.get(STATUS).text();
        field(&json, "live_children") == 4
            && field(&json, "parent_open_fds") as usize == server.fd_count()
    });
    let json = server.get(STATUS).text();
    assert!(
        matched,
        "status {json} vs /proc: {} children, {} fds",
        server.children().len(),
        server.fd_count()
    );
    assert_eq!(field(&json, "pid"), server.pid() as u64);
    assert_eq!(field(&json, "max_children"), 64);
    assert!(field(&json, "posts") >= 3);
    assert!(field(&json, "connections_accepted") >= 4);
    assert!(field(&json, "2xx") >= 3, "{json}");
    assert!(field(&json, "parent_rss_bytes") > 0);
    drop(held);

    let prometheus = status_from("127.0.0.1", server.addr, "?format=prometheus");
    assert_eq!(prometheus.status, 200);
    assert!(
        prometheus
            .text()
            .contains(&format!("forkblog_pid {}", server.pid())),
        "{}",
        prometheus.text()
    );
    assert!(prometheus
        .text()
        .contains("forkblog_requests_total{status=\"2xx\"}"));

    // Another loopback address is not in the default allow list: the endpoint does not exist.
    let refused = status_from("127.0.0.2", server.addr, "");
    assert_eq!(refused.status, 404);
    assert!(!refused.text().contains("live_children"));

    let open = Server::start(blog.root(), &["--status-allow", "127.0.0.2"]);
    let allowed = status_from("127.0.0.2", open.addr, "");
    assert_eq!(allowed.status, 200);
    assert!(allowed.text().contains("\"live_children\":"));
    assert_eq!(
        status_from("127.0.0.1", open.addr, "").status,
        404,
        "the flag replaces the default list"
    );
}

#[test]
fn the_watchdog_kills_a_child_held_past_its_lifetime() {
    let blog = TempSite::sample();
    let server = Server::start(blog.root(), &["--lifetime", "1", "--watchdog", "1"]);
    let mut stream = connect(server.addr);
    stream.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n").unwrap(); // half a head
    assert!(wait_until(Duration::from_secs(5), || server
        .children()
        .len()
        == 1));
    let (child, _) = server.children()[0];
    // A stopped process keeps SIGALRM pending: its own lifetime alarm cannot end it.
    assert!(Command::new("kill")
        .args(["-STOP", &child.to_string()])
        .status()
        .unwrap()
        .success());
    assert!(
        server.wait_for_log(
            &format!("child {child} has lived"),
            1,
            Duration::from_secs(20)
        ),
        "no watchdog warning:\n{}",
        server.log_text()
    );
    assert!(
        server.wait_settled(Duration::from_secs(5)),
        "the overdue child was not killed and reaped"
    );
    let json = server.get(STATUS).text();
    assert!(field(&json, "watchdog_warnings") >= 1, "{json}");
}

#[test]
fn slowloris_cannot_starve_a_normal_client() {
    let blog = TempSite::sample();
    let head_timeout = 5;
    let server = Server::start(
        blog.root(),
        &[
            "--max-children",
            "8",
            "--head-timeout",
            &head_timeout.to_string(),
        ],
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // 50 connections that send a byte of a request head every 200 ms and never finish it.
    let slow: Vec<_> = (0..50)
        .map(|_| {
            let (addr, stop) = (server.addr, std::sync::Arc::clone(&stop));
            std::thread::spawn(move || {
                let Ok(mut stream) = TcpStream::connect(addr) else {
                    return;
                };
                for byte in b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ".iter().cycle() {
                    if stop.load(std::sync::atomic::Ordering::SeqCst)
                        || stream.write_all(&[*byte]).is_err()
                    {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
        })
        .collect();
    assert!(
        wait_until(Duration::from_secs(10), || server.children().len() == 8),
        "slow clients never filled the slots"
    );
    let started = Instant::now();
    let response = request(
        server.addr,
        "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    let waited = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(response.status, 200);
    assert!(
        waited < Duration::from_secs(head_timeout + 2),
        "a normal client waited {waited:?} behind 50 slow ones with 8 slots"
    );
    eprintln!("normal request answered in {waited:?} behind 50 slowloris connections");
    for t in slow {
        t.join().unwrap();
    }
    assert!(server.children().len() <= 8);
    assert!(server.wait_settled(Duration::from_secs(15)));
}

#[test]
fn idle_connections_do_not_delay_a_normal_reader() {
    let blog = TempSite::sample();
    let server = Server::start(blog.root(), &["--max-children", "8"]);
    // Connections that never send a byte wait in the kernel (TCP_DEFER_ACCEPT), not in children:
    // before, they took all 8 slots and a reader waited for ~300 evictions (about 20 s).
    let idle: Vec<TcpStream> = (0..300)
        .filter_map(|_| TcpStream::connect(server.addr).ok())
        .collect();
    assert!(
        idle.len() >= 250,
        "only {} idle connections opened",
        idle.len()
    );
    std::thread::sleep(Duration::from_millis(500));
    let held = server.children().len();
    assert!(
        held < 8,
        "idle connections took every slot ({held} children)"
    );
    let started = Instant::now();
    let response = request(
        server.addr,
        "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    let waited = started.elapsed();
    assert_eq!(response.status, 200);
    // Typically a few milliseconds (scripts/idle-flood.py); the bound leaves room for a
    // loaded machine while staying well under what evicting 300 connections takes.
    assert!(
        waited < Duration::from_secs(10),
        "a reader waited {waited:?} behind {} idle connections",
        idle.len()
    );
    eprintln!(
        "reader answered in {waited:?} behind {} idle connections ({held} children held)",
        idle.len()
    );
    drop(idle);
}
