//! `Type=notify`: READY=1 and STATUS= on a NOTIFY_SOCKET the test binds, after the first render
//! and again from the next generation after a reload; STOPPING=1 on SIGTERM.

mod common;

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use common::*;

/// Every datagram received until one contains `needle`, or panics after 30 s.
fn until(socket: &UnixDatagram, needle: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        if let Ok(n) = socket.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            let done = text.contains(needle);
            seen.push(text);
            if done {
                return seen;
            }
        }
    }
    panic!("no notification with {needle:?}; got {seen:?}");
}

#[test]
fn readiness_and_status_reach_the_notify_socket() {
    let blog = TempSite::sample();
    let dir = TempDir::new("notify");
    let path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    set_mode(&path, 0o777); // the server sends after dropping to nobody when the test is root
    let env = format!("NOTIFY_SOCKET={}", path.display());
    let server = Server::start_wrapped(&["env", &env], blog.root(), &[]);

    let first = until(&socket, "READY=1");
    let ready = first.last().unwrap();
    assert!(
        ready.contains("STATUS=serving") && ready.contains("generation 0"),
        "{ready}"
    );
    assert_eq!(server.get("/").status, 200);

    server.signal("HUP");
    let reload = until(&socket, "READY=1");
    assert!(
        reload.iter().any(|m| m.contains("STATUS=re-rendering")),
        "{reload:?}"
    );
    assert!(
        reload.last().unwrap().contains("generation 1"),
        "{reload:?}"
    );

    server.signal("TERM");
    let stop = until(&socket, "STOPPING=1");
    assert!(stop.last().unwrap().contains("STATUS=draining"), "{stop:?}");
}
