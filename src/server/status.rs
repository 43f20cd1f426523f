//! The status endpoint and the shared counters behind it.
//!
//! One page of 64-bit atomics in a memfd mapped `MAP_SHARED`: children add to the request
//! counters (one atomic add per response), the parent stores what only it knows (live children,
//! connections accepted, its own fds and RSS, sampled by the watchdog). A child answering the
//! status path reads the page and formats it, so the parent never formats or serves anything.
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
}

const WORDS: usize = 512;

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

    /// Counts one response with `code`.
    pub fn count_response(&self, code: u16) {
        let class = (code / 100).clamp(1, 5) as usize - 1;
        self.map.words()[Counter::Status1xx as usize + class].fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self, site: View<'_>) -> Vec<(&'static str, &'static str, u64)> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let started = self.get(Counter::Started);
        vec![
            (
                "uptime_seconds",
                "Seconds since the first generation started.",
                now.saturating_sub(started),
            ),
            (
                "pid",
                "The server's PID (stable across reloads).",
                u64::from(std::os::unix::process::parent_id()),
            ),
            (
                "generation",
                "Reloads since start.",
                self.get(Counter::Generation),
            ),
            (
                "live_children",
                "Connections being served now.",
                self.get(Counter::LiveChildren),
            ),
            (
                "max_children",
                "The cap on concurrent connections.",
                self.get(Counter::MaxChildren),
            ),
            (
                "connections_accepted",
                "Connections accepted since start.",
                self.get(Counter::Accepted),
            ),
            (
                "parent_open_fds",
                "Open descriptors of the parent at the last sample.",
                self.get(Counter::ParentFds),
            ),
            (
                "parent_rss_bytes",
                "Resident memory of the parent at the last sample.",
                self.get(Counter::ParentRssKib) * 1024,
            ),
            (
                "watchdog_warnings",
                "Leak watchdog warnings since start.",
                self.get(Counter::WatchdogWarnings),
            ),
            (
                "evicted_connections",
                "Idle or slow connections closed to make room.",
                self.get(Counter::Evicted),
            ),
            (
                "posts",
                "Published posts in the site being served.",
                site.post_count() as u64,
            ),
            (
                "render_microseconds",
                "How long the site took to render.",
                site.render_micros(),
            ),
        ]
    }

    /// The status as JSON.
    pub fn json(&self, site: View<'_>) -> Vec<u8> {
        let mut out = String::from("{");
        for (name, _, value) in self.snapshot(site) {
            let _ = write!(out, "\"{name}\":{value},");
        }
        out.push_str("\"requests_by_status\":{");
        for (i, class) in ["1xx", "2xx", "3xx", "4xx", "5xx"].iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let n = self.map.words()[Counter::Status1xx as usize + i].load(Ordering::Relaxed);
            let _ = write!(out, "{sep}\"{class}\":{n}");
        }
        out.push_str("}}\n");
        out.into_bytes()
    }

    /// The status in the Prometheus text exposition format.
    pub fn prometheus(&self, site: View<'_>) -> Vec<u8> {
        let mut out = String::new();
        for (name, help, value) in self.snapshot(site) {
            let _ = write!(out, "# HELP forkblog_{name} {help}\n# TYPE forkblog_{name} gauge\nforkblog_{name} {value}\n");
        }
        out.push_str("# HELP forkblog_requests_total Responses sent, by status class.\n# TYPE forkblog_requests_total counter\n");
        for (i, class) in ["1xx", "2xx", "3xx", "4xx", "5xx"].iter().enumerate() {
            let n = self.map.words()[Counter::Status1xx as usize + i].load(Ordering::Relaxed);
            let _ = writeln!(out, "forkblog_requests_total{{status=\"{class}\"}} {n}");
        }
        out.into_bytes()
    }
}
