//! Connections that are opened and then held, as bots and broken clients hold them: silent,
//! stopped in the middle of a request head, or idle between keep-alive requests. Shared by
//! `tests/held.rs` (a reader is not stalled by them) and `tests/leaks.rs` (they leave nothing
//! behind).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::common::{connect, read_one, Server};

/// How a held connection is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// Connected; not one byte sent.
    Silent,
    /// Half a request head sent, then nothing.
    MidHead,
    /// One request answered, then nothing (keep-alive).
    Idle,
}

/// Opens one connection held as `how`; an idle one has had its first request answered.
pub fn open(addr: SocketAddr, how: Held) -> TcpStream {
    let mut stream = connect(addr);
    match how {
        Held::Silent => {}
        Held::MidHead => stream
            .write_all(b"GET / HTTP/1.1\r\nHost: t\r\nUser-Agent: held\r\n")
            .unwrap(),
        Held::Idle => {
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                .unwrap();
            let response = read_one(&mut stream, &mut Vec::new(), false);
            assert_eq!(response.status, 200, "the idle connection's first request");
        }
    }
    stream
}

/// How the server ended a held connection, read within `within`: `Some(bytes)` once it closed
/// (the bytes it sent first: a 408, or nothing for an idle one), `None` if it is still open.
pub fn ended(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let deadline = Instant::now() + within;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut chunk) {
            Ok(0) => return Some(bytes),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Some(bytes),
            Err(_) => return None,
        }
    }
}

/// One `GET /` on a new connection; its status and how long it took.
pub fn timed_get(addr: SocketAddr) -> (u16, Duration) {
    let started = Instant::now();
    let response = crate::common::request(
        addr,
        "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    (response.status, started.elapsed())
}

/// The status endpoint's count of connections that gave way to others.
pub fn evicted(server: &Server) -> u64 {
    let json = server.get("/.well-known/forkblog/status").text();
    let value: serde_json::Value = serde_json::from_str(&json).expect("status JSON");
    let found = value
        .pointer("/evicted_connections")
        .and_then(|v| v.as_u64());
    found.unwrap_or_else(|| panic!("no evicted_connections in {json}"))
}
