//! The status endpoint and the shared counters behind it.
//!
//! One page of 64-bit atomics in a memfd mapped `MAP_SHARED`: children add to the request
//! counters (one atomic add per response), the parent stores what only it knows (live children,
//! connections accepted, its own fds and RSS, sampled by the watchdog). A child answering the
//! status path reads the page and formats it, so the parent never formats or serves anything.
//! The parent also stores when the certificate in service expires and when and how the last
//! ACME attempt and the last reload ended; what has not happened yet is left out of both forms.
//! The memfd is handed across re-exec, so counters survive reloads.

use std::fmt::Write as _;
use std::io;
use std::net::IpAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use nix::sys::memfd::{memfd_create, MFdFlags};

use super::snapshot::View;
use crate::sys::SharedCounters;

/// The default path of the status endpoint.
pub const DEFAULT_PATH: &str = "/.well-known/forkblog/status";

/// Who may read the status endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readers {
    /// Any client (`--status-allow any`).
    Anyone,
    /// Only these client addresses.
    Only(Vec<IpAddr>),
}

/// Where the status endpoint is and who may read it.
#[derive(Debug, Clone)]
pub struct Access {
    /// The endpoint's path; `None` turns it off.
    pub path: Option<String>,
    /// Who may read it; to everyone else the path is an ordinary missing page.
    pub readers: Readers,
}

impl Default for Access {
    fn default() -> Access {
        Access {
            path: Some(DEFAULT_PATH.to_string()),
            readers: Readers::Only(vec![
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            ]),
        }
    }
}

impl Access {
    /// Whether a request for the decoded `path` with `query` from `client` is for the status
    /// endpoint and may read it; if so, whether it asks for the Prometheus format.
    pub fn route(&self, path: &[u8], query: &[u8], client: Option<IpAddr>) -> Option<bool> {
        let ours = self.path.as_deref()?.as_bytes();
        (path == ours && self.allows(client)).then_some(query == b"format=prometheus")
    }

    /// Whether `client` may read it.
    pub fn allows(&self, client: Option<IpAddr>) -> bool {
        match &self.readers {
            Readers::Anyone => true,
            Readers::Only(list) => client.is_some_and(|ip| list.contains(&ip.to_canonical())),
        }
    }
}

/// The counters, by index into the shared page.
#[derive(Debug, Clone, Copy)]
#[repr(usize)]
pub enum Counter {
    /// Unix time the first generation started.
    Started,
    /// Reload count.
    Generation,
    /// The configured cap.
    MaxChildren,
    /// Live connection children (parent).
    LiveChildren,
    /// Connections accepted since the first start (parent).
    Accepted,
    /// Responses with status 1xx..5xx (children), five consecutive counters.
    Status1xx,
    /// 2xx responses.
    Status2xx,
    /// 3xx responses.
    Status3xx,
    /// 4xx responses.
    Status4xx,
    /// 5xx responses.
    Status5xx,
    /// The parent's open descriptors at the last watchdog sample.
    ParentFds,
    /// The parent's resident set in KiB at the last watchdog sample.
    ParentRssKib,
    /// Watchdog warnings so far.
    WatchdogWarnings,
    /// Idle or slow connections closed because the server was full and others waited.
    Evicted,
    /// Non-zero once SIGTERM/SIGINT arrived (parent): an eviction then means "close if idle".
    Draining,
    /// Reloads begun (parent): a render worker started, or failed to.
    ReloadsBegun,
    /// Reloads whose outcome is recorded in the lock file (see `reload.rs`).
    ReloadsSettled,
    /// Access-log lines that could not be written whole (a full disk, an I/O error) and were
    /// left out rather than written in part.
    AccessLogLinesLost,
    /// The errno of the last line left out, for the parent's log message.
    AccessLogLastErrno,
    /// When the certificate in service expires (Unix seconds; 0: none).
    TlsCertificateExpiry,
    /// When the parent last warned that it expires soon (Unix seconds), so that it warns once a
    /// day across re-execs.
    TlsExpiryWarned,
    /// When the last ACME attempt ended (Unix seconds; 0: none yet).
    AcmeLastAttempt,
    /// How it ended: an [`Ended`] word.
    AcmeLastOutcome,
    /// When the next certificate check is due (Unix seconds).
    AcmeNextCheck,
    /// When the last reload settled (Unix seconds; 0: none yet).
    ReloadLast,
    /// How it ended: an [`Ended`] word.
    ReloadLastOutcome,
}

/// How an ACME attempt or a reload ended, as stored in the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Ended {
    /// None yet.
    None = 0,
    /// It succeeded (a new site; a new certificate in service).
    Succeeded = 1,
    /// It failed; the log says why.
    Failed = 2,
}

impl Ended {
    fn of(word: u64) -> Ended {
        match word {
            1 => Ended::Succeeded,
            2 => Ended::Failed,
            _ => Ended::None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Ended::None => "none",
            Ended::Succeeded => "succeeded",
            Ended::Failed => "failed",
        }
    }
}

/// Words in the shared page.
pub const WORDS: usize = 512;

/// Where the session-ticket keys start in the page (`tls/tickets.rs`); counters stay below.
pub const TICKET_KEYS_AT: usize = 256;

/// Where the children's wait slots start: four bits per child, which say whether it is waiting
/// for its client and how (see [`Counters::begin_wait`]), up to the ticket keys. Counters stay
/// below.
const WAITS_AT: usize = 32;

/// Wait slots per generation. The slots come in two halves and a generation uses the half of
/// its parity, so a child a re-exec handed over (which keeps writing the slot its own image gave
/// it) never shares one with a child of the next image.
pub const WAIT_SLOTS: usize = WAIT_WORDS / 2 * 16;

/// The words the wait slots take, a whole number of cache lines.
const WAIT_WORDS: usize = TICKET_KEYS_AT - WAITS_AT;
const _: () = assert!(WAIT_WORDS % 8 == 0 && WAITS_AT % 8 == 0);

/// A slot's bits: waiting with nothing owed (an idle keep-alive, or a connection that never sent
/// a byte); waiting in the middle of a request head; and, set with the latter, two "a wait for
/// the head began since" bits, which the parent clears in turn (see
/// [`Counters::forget_fresh_waits`]).
const IDLE: u64 = 1;
const MID_HEAD: u64 = 2;
const FRESH: [u64; 2] = [4, 8];

const _: () = assert!((Counter::ReloadLastOutcome as usize) < WAITS_AT);

/// Where the HTTP-01 challenge answers start (`acme/challenge.rs`), to the end of the page.
pub const CHALLENGES_AT: usize = 384;

/// This build's version, in the status JSON and `forkblog_build_info`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Whether a figure only grows (a Prometheus counter) or goes up and down (a gauge).
#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
}

/// A figure as stored, and so how each format writes it.
#[derive(Clone, Copy)]
enum Value {
    /// A count, or a figure already in its base unit.
    Whole(u64),
    /// Microseconds: JSON keeps them (`_microseconds`), Prometheus writes seconds.
    Micros(u64),
}

/// One figure of the status: its JSON key, its Prometheus name (without `forkblog_`), its kind,
/// its help text and its value.
struct Metric {
    json: &'static str,
    prometheus: &'static str,
    kind: Kind,
    help: &'static str,
    value: Value,
}

/// A child's wait slot in the page: slot `n` (below [`WAIT_SLOTS`]) of a generation's half.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitSlot(usize);

impl WaitSlot {
    /// Slot `n` of `generation`'s half.
    pub fn new(generation: u64, n: usize) -> WaitSlot {
        WaitSlot((generation % 2) as usize * WAIT_SLOTS + n % WAIT_SLOTS)
    }

    /// Its place among the slots of both halves: below `2 * WAIT_SLOTS`.
    pub fn index(self) -> usize {
        self.0
    }

    /// The slot at `index` (see [`WaitSlot::index`]).
    pub fn at(index: usize) -> WaitSlot {
        WaitSlot(index % (2 * WAIT_SLOTS))
    }

    /// Slots are spread so that consecutive ones sit in different cache lines: every waiting
    /// child writes its own at each keep-alive wait, and children packed into one line would
    /// pass it between cores on every request. Slot `s` is word `(s % LINES) * 8 + (s / LINES)
    /// % 8` of the slots' words, nibble `s / WAIT_WORDS`: one slot for each (word, nibble).
    fn word(self) -> usize {
        const LINES: usize = WAIT_WORDS / 8;
        (self.0 % LINES) * 8 + (self.0 / LINES) % 8
    }

    fn shift(self) -> u32 {
        (self.0 / WAIT_WORDS * 4) as u32
    }
}

/// The shared counters page.
pub struct Counters {
    map: SharedCounters,
    fd: OwnedFd,
}

impl Counters {
    /// Creates a zeroed page (close-on-exec memfd).
    pub fn create() -> io::Result<Counters> {
        let fd = memfd_create("forkblog-status", MFdFlags::MFD_CLOEXEC)
            .map_err(|e| io::Error::other(format!("memfd_create for counters: {e}")))?;
        nix::unistd::ftruncate(&fd, (WORDS * 8) as i64)
            .map_err(|e| io::Error::other(format!("sizing the counters: {e}")))?;
        Counters::adopt(fd)
    }

    /// Maps a page handed over by the previous generation.
    pub fn adopt(fd: OwnedFd) -> io::Result<Counters> {
        let map = SharedCounters::new(fd.as_fd(), WORDS)
            .map_err(|e| io::Error::other(format!("mapping the counters: {e}")))?;
        Ok(Counters { map, fd })
    }

    /// The memfd, for the handover.
    pub fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    /// The whole page, for what keeps its own words in it (the ticket keys).
    pub fn words(&self) -> &[std::sync::atomic::AtomicU64] {
        self.map.words()
    }

    /// Reads a counter.
    pub fn get(&self, c: Counter) -> u64 {
        self.map.words()[c as usize].load(Ordering::Relaxed)
    }

    /// Sets a counter.
    pub fn set(&self, c: Counter, value: u64) {
        self.map.words()[c as usize].store(value, Ordering::Relaxed);
    }

    /// Adds to a counter.
    pub fn add(&self, c: Counter, n: u64) {
        self.map.words()[c as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// Records that an ACME attempt or a reload ended now (`when`), and how (`how`).
    pub fn record(&self, when: Counter, how: Counter, ended: Ended) {
        self.set(how, ended as u64);
        self.set(when, crate::clock::now() as u64);
    }

    /// The child holding `slot` begins to wait for its client: owing nothing (`idle`), or in
    /// the middle of a request head. One atomic operation on this page, which the child touches
    /// for its responses anyway.
    pub fn begin_wait(&self, slot: WaitSlot, idle: bool) {
        let bits = match idle {
            true => IDLE,
            false => MID_HEAD | FRESH[0] | FRESH[1],
        };
        self.wait_word(slot)
            .fetch_or(bits << slot.shift(), Ordering::Relaxed);
    }

    /// The wait of the child holding `slot` is over.
    pub fn end_wait(&self, slot: WaitSlot) {
        let bits = (IDLE | MID_HEAD) << slot.shift();
        self.wait_word(slot).fetch_and(!bits, Ordering::Relaxed);
    }

    /// Whether the child holding `slot` may give way now: it waits owing nothing, or it waits
    /// in the middle of a head and began no new wait since [`Counters::forget_fresh_waits`]
    /// last cleared fresh bit `stalled_since` (if given), so no byte came since. Clears what it
    /// found, so that a child is asked once per wait.
    pub fn take_waiting(&self, slot: WaitSlot, stalled_since: Option<usize>) -> bool {
        let word = self.wait_word(slot);
        let shift = slot.shift();
        let mut seen = word.load(Ordering::Relaxed);
        loop {
            let bits = seen >> shift;
            let stalled = |fresh: usize| bits & (MID_HEAD | FRESH[fresh]) == MID_HEAD;
            let clear = match bits {
                b if b & IDLE != 0 => IDLE,
                _ if stalled_since.is_some_and(stalled) => MID_HEAD,
                _ => return false,
            };
            let new = seen & !(clear << shift);
            match word.compare_exchange(seen, new, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(now) => seen = now,
            }
        }
    }

    /// Whether the child holding `slot` waits in the middle of a request head.
    pub fn waits_in_head(&self, slot: WaitSlot) -> bool {
        self.wait_word(slot).load(Ordering::Relaxed) >> slot.shift() & MID_HEAD != 0
    }

    /// Clears fresh bit `which` (0 or 1) of every slot: a child still waiting in the middle of a
    /// head with that bit clear later began no wait since, so got no byte in between.
    pub fn forget_fresh_waits(&self, which: usize) {
        let fresh = (0..16).fold(0u64, |m, n| m | FRESH[which % 2] << (4 * n));
        for word in &self.map.words()[WAITS_AT..TICKET_KEYS_AT] {
            if word.load(Ordering::Relaxed) & fresh != 0 {
                word.fetch_and(!fresh, Ordering::Relaxed);
            }
        }
    }

    /// A slot is cleared before it is lent to a child (one killed while it waited left it set).
    pub fn clear_wait(&self, slot: WaitSlot) {
        let bits = (IDLE | MID_HEAD | FRESH[0] | FRESH[1]) << slot.shift();
        self.wait_word(slot).fetch_and(!bits, Ordering::Relaxed);
    }

    fn wait_word(&self, slot: WaitSlot) -> &std::sync::atomic::AtomicU64 {
        &self.map.words()[WAITS_AT + slot.word()]
    }

    /// Counts one response with `code`.
    pub fn count_response(&self, code: u16) {
        let class = (code / 100).clamp(1, 5) as usize - 1;
        self.map.words()[Counter::Status1xx as usize + class].fetch_add(1, Ordering::Relaxed);
    }

    fn metrics(&self, site: View<'_>) -> Vec<Metric> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let started = self.get(Counter::Started);
        use Kind::{Counter as Total, Gauge};
        let m = |json, prometheus, kind, help, value| Metric {
            json,
            prometheus,
            kind,
            help,
            value,
        };
        let mut figures = vec![
            m(
                "uptime_seconds",
                "uptime_seconds",
                Gauge,
                "Seconds since the first generation started.",
                Value::Whole(now.saturating_sub(started)),
            ),
            m(
                "pid",
                "pid",
                Gauge,
                "The server's PID (stable across reloads).",
                Value::Whole(u64::from(std::os::unix::process::parent_id())),
            ),
            m(
                "generation",
                "reloads_total",
                Total,
                "Reloads since start (the generation serving).",
                Value::Whole(self.get(Counter::Generation)),
            ),
            m(
                "live_children",
                "live_children",
                Gauge,
                "Connections being served now.",
                Value::Whole(self.get(Counter::LiveChildren)),
            ),
            m(
                "max_children",
                "max_children",
                Gauge,
                "The cap on concurrent connections.",
                Value::Whole(self.get(Counter::MaxChildren)),
            ),
            m(
                "connections_accepted",
                "connections_accepted_total",
                Total,
                "Connections accepted since start.",
                Value::Whole(self.get(Counter::Accepted)),
            ),
            m(
                "parent_open_fds",
                "parent_open_fds",
                Gauge,
                "Open descriptors of the parent at the last sample.",
                Value::Whole(self.get(Counter::ParentFds)),
            ),
            m(
                "parent_rss_bytes",
                "parent_rss_bytes",
                Gauge,
                "Resident memory of the parent at the last sample.",
                Value::Whole(self.get(Counter::ParentRssKib) * 1024),
            ),
            m(
                "watchdog_warnings",
                "watchdog_warnings_total",
                Total,
                "Leak watchdog warnings since start.",
                Value::Whole(self.get(Counter::WatchdogWarnings)),
            ),
            m(
                "evicted_connections",
                "evicted_connections_total",
                Total,
                "Idle or slow connections closed to make room.",
                Value::Whole(self.get(Counter::Evicted)),
            ),
            m(
                "access_log_lines_lost",
                "access_log_lines_lost_total",
                Total,
                "Access-log lines that could not be written whole.",
                Value::Whole(self.get(Counter::AccessLogLinesLost)),
            ),
            m(
                "posts",
                "posts",
                Gauge,
                "Published posts in the site being served.",
                Value::Whole(site.post_count() as u64),
            ),
            m(
                "render_microseconds",
                "render_duration_seconds",
                Gauge,
                "How long the site being served took to render.",
                Value::Micros(site.render_micros()),
            ),
        ];
        // Times of what has not happened are left out rather than shown as 1970.
        let times = [
            m(
                "tls_certificate_expiry_seconds",
                "tls_certificate_expiry_seconds",
                Gauge,
                "Unix time the certificate being served expires.",
                Value::Whole(self.get(Counter::TlsCertificateExpiry)),
            ),
            m(
                "acme_last_attempt_seconds",
                "acme_last_attempt_timestamp_seconds",
                Gauge,
                "Unix time the last ACME attempt ended.",
                Value::Whole(self.get(Counter::AcmeLastAttempt)),
            ),
            m(
                "acme_next_check_seconds",
                "acme_next_check_timestamp_seconds",
                Gauge,
                "Unix time the certificate is checked next.",
                Value::Whole(self.get(Counter::AcmeNextCheck)),
            ),
            m(
                "reload_last_seconds",
                "reload_last_timestamp_seconds",
                Gauge,
                "Unix time the last reload settled.",
                Value::Whole(self.get(Counter::ReloadLast)),
            ),
        ];
        figures.extend(
            times
                .into_iter()
                .filter(|m| !matches!(m.value, Value::Whole(0))),
        );
        figures
    }

    /// The outcome of the last ACME attempt and of the last reload, once there was one: JSON
    /// key, Prometheus name (a 0/1 gauge), help text, outcome.
    fn outcomes(&self) -> impl Iterator<Item = (&'static str, &'static str, &'static str, Ended)> {
        [
            (
                "acme_last_attempt_outcome",
                "acme_last_attempt_success",
                "Whether the last ACME attempt put a new certificate in service.",
                Ended::of(self.get(Counter::AcmeLastOutcome)),
            ),
            (
                "reload_last_outcome",
                "reload_last_success",
                "Whether the last reload put a new site in service.",
                Ended::of(self.get(Counter::ReloadLastOutcome)),
            ),
        ]
        .into_iter()
        .filter(|o| o.3 != Ended::None)
    }

    /// The status as JSON.
    pub fn json(&self, site: View<'_>) -> Vec<u8> {
        let mut out = format!("{{\"version\":\"{VERSION}\",");
        for metric in self.metrics(site) {
            let value = match metric.value {
                Value::Whole(n) | Value::Micros(n) => n,
            };
            let _ = write!(out, "\"{}\":{value},", metric.json);
        }
        for (json, _, _, outcome) in self.outcomes() {
            let _ = write!(out, "\"{json}\":\"{}\",", outcome.as_str());
        }
        out.push_str("\"requests_by_status\":{");
        for (i, class) in CLASSES.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let n = self.map.words()[Counter::Status1xx as usize + i].load(Ordering::Relaxed);
            let _ = write!(out, "{sep}\"{class}\":{n}");
        }
        out.push_str("}}\n");
        out.into_bytes()
    }

    /// The status in the Prometheus text exposition format (version 0.0.4): base units
    /// (seconds, bytes), counters named `_total` and typed counter, everything else a gauge.
    pub fn prometheus(&self, site: View<'_>) -> Vec<u8> {
        let mut out = String::new();
        let _ = write!(
            out,
            "# HELP forkblog_build_info The running forkblog's version.\n\
             # TYPE forkblog_build_info gauge\n\
             forkblog_build_info{{version=\"{VERSION}\"}} 1\n"
        );
        for metric in self.metrics(site) {
            let kind = match metric.kind {
                Kind::Counter => "counter",
                Kind::Gauge => "gauge",
            };
            let name = metric.prometheus;
            let _ = write!(
                out,
                "# HELP forkblog_{name} {}\n# TYPE forkblog_{name} {kind}\nforkblog_{name} ",
                metric.help
            );
            let _ = match metric.value {
                Value::Whole(n) => writeln!(out, "{n}"),
                Value::Micros(n) => writeln!(out, "{}.{:06}", n / 1_000_000, n % 1_000_000),
            };
        }
        for (_, name, help, outcome) in self.outcomes() {
            let value = u8::from(outcome == Ended::Succeeded);
            let _ = write!(
                out,
                "# HELP forkblog_{name} {help}\n# TYPE forkblog_{name} gauge\nforkblog_{name} {value}\n"
            );
        }
        out.push_str("# HELP forkblog_requests_total Responses sent, by status class.\n# TYPE forkblog_requests_total counter\n");
        for (i, class) in CLASSES.iter().enumerate() {
            let n = self.map.words()[Counter::Status1xx as usize + i].load(Ordering::Relaxed);
            let _ = writeln!(out, "forkblog_requests_total{{status=\"{class}\"}} {n}");
        }
        out.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An idle wait gives way at once; a wait in a head only once the fresh bit looked at was
    /// cleared after it began; each is found once; a neighbour's slot in the same word is left
    /// alone.
    #[test]
    fn each_slot_has_its_own_bits_and_neighbours_their_own_cache_lines() {
        let mut seen = std::collections::HashSet::new();
        for index in 0..2 * WAIT_SLOTS {
            let slot = WaitSlot::at(index);
            assert!(slot.word() < WAIT_WORDS && slot.shift() < 64);
            assert!(
                seen.insert((slot.word(), slot.shift())),
                "slot {index} shared"
            );
        }
        for generation in [0, 1] {
            let lines: std::collections::HashSet<usize> = (0..WAIT_WORDS / 8)
                .map(|n| (WAITS_AT + WaitSlot::new(generation, n).word()) / 8)
                .collect();
            assert_eq!(lines.len(), WAIT_WORDS / 8);
        }
    }

    #[test]
    fn waits_are_found_once_and_heads_only_when_stalled() {
        let counters = Counters::create().unwrap();
        let (idle, head, other) = (
            WaitSlot::new(3, 0),
            WaitSlot::new(3, 1),
            WaitSlot::new(3, 2),
        );
        counters.begin_wait(idle, true);
        counters.begin_wait(head, false);
        counters.begin_wait(other, false);
        assert!(!counters.take_waiting(head, Some(0)), "a fresh head wait");
        assert!(counters.take_waiting(idle, None));
        assert!(!counters.take_waiting(idle, Some(0)), "asked twice");
        counters.forget_fresh_waits(0);
        assert!(!counters.take_waiting(head, None), "not looking at heads");
        assert!(
            !counters.take_waiting(head, Some(1)),
            "bit 1 not cleared since"
        );
        counters.end_wait(other); // a byte came
        counters.begin_wait(other, false);
        counters.forget_fresh_waits(1);
        assert!(
            counters.take_waiting(head, Some(0)),
            "stalled since bit 0 was cleared"
        );
        assert!(!counters.take_waiting(head, Some(0)), "asked twice");
        assert!(
            !counters.take_waiting(other, Some(0)),
            "began a new wait since"
        );
        assert!(
            counters.take_waiting(other, Some(1)),
            "but none since bit 1 was cleared"
        );
        counters.clear_wait(other);
        assert!(counters.words()[WAITS_AT..TICKET_KEYS_AT]
            .iter()
            .all(|w| w.load(Ordering::Relaxed) == 0));
        assert_ne!(WaitSlot::new(0, 5), WaitSlot::new(1, 5), "halves overlap");
    }
}
