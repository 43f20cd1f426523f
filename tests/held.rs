//! Held connections at the cap: children that only wait for their clients give way as soon as
//! a reader waits (issue 28). Silent connections released together by the deferred accept, heads
//! stopped half-way and idle keep-alive connections must not stall a normal request.
//!
//! No timing assertion beyond a generous bound: the figures are in BENCHMARKS.md (`cargo bench
//! --bench load -- held`). Everything on 127.0.0.1, bounded in count and time.

mod common;

#[path = "held/kinds.rs"]
mod kinds;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use kinds::{ended, evicted, open, timed_get, Held};

/// What a normal request may take while connections are held: far more than the milliseconds
/// it takes, far less than a head timeout.
const BOUND: Duration = Duration::from_secs(2);

/// Requests `GET /` one after another until `stop`; every status and the longest wait.
fn reader(addr: std::net::SocketAddr, stop: Arc<AtomicBool>) -> (Vec<u16>, Duration) {
    let mut statuses = Vec::new();
    let mut longest = Duration::ZERO;
    while !stop.load(Ordering::SeqCst) && statuses.len() < 5000 {
        let (status, took) = timed_get(addr);
        statuses.push(status);
        longest = longest.max(took);
        std::thread::sleep(Duration::from_millis(5));
    }
    (statuses, longest)
}

#[test]
fn a_reader_is_answered_while_300_silent_connections_are_released_at_a_cap_of_64() {
    let blog = TempSite::sample();
    // The kernel holds a silent connection for about the head timeout (TCP_DEFER_ACCEPT), then
    // releases it without a byte: 300 opened together come out together, at a cap of 64.
    let server = Server::start(
        blog.root(),
        &["--max-children", "64", "--head-timeout", "3"],
    );
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (addr, stop) = (server.addr, Arc::clone(&stop));
            std::thread::spawn(move || reader(addr, stop))
        })
        .collect();
    let mut silent: Vec<_> = (0..300).map(|_| open(server.addr, Held::Silent)).collect();
    let released = wait_until(Duration::from_secs(30), || evicted(&server) >= 200);
    stop.store(true, Ordering::SeqCst);
    let mut answered = 0;
    let mut longest = Duration::ZERO;
    for r in readers {
        let (statuses, took) = r.join().unwrap();
        assert!(
            statuses.iter().all(|s| *s == 200),
            "a reader got {statuses:?}"
        );
        answered += statuses.len();
        longest = longest.max(took);
    }
    assert!(
        released,
        "the silent connections never reached children and gave way: evicted {}\n{}",
        evicted(&server),
        server.log_text()
    );
    assert!(
        answered >= 10,
        "only {answered} normal requests during the wave"
    );
    assert!(
        longest < BOUND,
        "a normal request waited {longest:?} behind the silent wave"
    );
    eprintln!("{answered} normal requests during the silent wave; the longest took {longest:?}");
    // Each silent connection ended with a 408, at once or at its own head timeout.
    let mut timed_out = 0;
    for stream in &mut silent {
        let bytes = ended(stream, Duration::from_secs(10)).expect("a silent connection is held");
        timed_out += usize::from(bytes.starts_with(b"HTTP/1.1 408"));
    }
    assert_eq!(
        timed_out,
        silent.len(),
        "every silent connection gets its 408"
    );
    assert!(server.wait_settled(Duration::from_secs(10)));
}

#[test]
fn held_heads_and_idle_keep_alives_give_way_to_a_reader() {
    let blog = TempSite::sample();
    // Timeouts far longer than the test: only giving way can free a slot.
    let server = Server::start(
        blog.root(),
        &[
            "--max-children",
            "16",
            "--head-timeout",
            "60",
            "--idle-timeout",
            "60",
        ],
    );
    // Each one opened beyond the cap waits for an earlier one to give way.
    let mut idle: Vec<_> = (0..24).map(|_| open(server.addr, Held::Idle)).collect();
    let mut heads: Vec<_> = (0..24).map(|_| open(server.addr, Held::MidHead)).collect();
    assert!(
        wait_until(Duration::from_secs(10), || server.children().len() == 16),
        "the held connections did not fill the 16 slots: {:?}",
        server.children()
    );
    for n in 0..10 {
        let (status, took) = timed_get(server.addr);
        assert_eq!(status, 200, "request {n}");
        assert!(took < BOUND, "request {n} waited {took:?} behind held ones");
    }
    assert!(server.children().len() <= 16);
    // The idle ones that gave way were closed without a word; the heads got a 408.
    let idle_closed = idle
        .iter_mut()
        .filter_map(|s| ended(s, Duration::from_millis(200)))
        .inspect(|bytes| assert!(bytes.is_empty(), "an idle connection got {bytes:?}"))
        .count();
    let heads_ended: Vec<Vec<u8>> = heads
        .iter_mut()
        .filter_map(|s| ended(s, Duration::from_millis(200)))
        .collect();
    for bytes in &heads_ended {
        assert!(
            bytes.starts_with(b"HTTP/1.1 408"),
            "a held head got {:?}",
            String::from_utf8_lossy(bytes)
        );
    }
    assert!(
        idle_closed >= 8 && !heads_ended.is_empty(),
        "{idle_closed} idle connections and {} heads gave way",
        heads_ended.len()
    );
    eprintln!(
        "{idle_closed} of 24 idle keep-alives and {} of 24 held heads gave way",
        heads_ended.len()
    );
    assert!(evicted(&server) >= (idle_closed + heads_ended.len()) as u64);
    drop((idle, heads));
    assert!(server.wait_settled(Duration::from_secs(10)));
}

/// A slow client that keeps sending is not a held one: it keeps its slot and gets its answer
/// while others queue.
#[test]
fn a_slow_head_that_keeps_coming_is_answered_at_the_cap() {
    let blog = TempSite::sample();
    let server = Server::start(
        blog.root(),
        &["--max-children", "2", "--head-timeout", "30"],
    );
    let slow = std::thread::spawn({
        let addr = server.addr;
        move || {
            use std::io::Write;
            let mut stream = connect(addr);
            let head = b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
            for pair in head.chunks(2) {
                stream.write_all(pair).unwrap();
                std::thread::sleep(Duration::from_millis(20));
            }
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut stream, &mut bytes).unwrap();
            parse_response(&bytes, false).map(|(r, _)| r.status)
        }
    });
    // Others keep queueing while the slow head comes in.
    let started = Instant::now();
    while !slow.is_finished() && started.elapsed() < Duration::from_secs(20) {
        let (status, _) = timed_get(server.addr);
        assert_eq!(status, 200);
    }
    assert_eq!(slow.join().unwrap(), Some(200));
}
