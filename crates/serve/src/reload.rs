//! `forkblog reload`: signal the running server and wait for the outcome of its reload, and the
//! record of reloads the server keeps for that purpose.
//!
//! Why the lock file: it is the one file every server holds for its whole life under the same
//! PID, already open read-write before the privilege drop (so writing it needs no permission on
//! its directory), handed across every re-exec, and readable by whoever may signal the server.
//! Its first line is the PID to signal; the lines after it are the [`Record`]. The record
//! counts reloads begun and settled in the shared counters page, which survives re-exec, so a
//! waiting `forkblog reload` knows which outcome answers its own signal. The success of a reload
//! is written by the new image once it runs, so "ok" means the new binary really started.
//!
//! Polling the status endpoint instead would depend on `--status-path`, `--status-allow` and
//! the listening address, and could not carry the problem text of a failed render.

use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// What the last reload came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// No reload yet: the first generation started.
    Started,
    /// The new generation is serving.
    Ok,
    /// The old site is still served; why.
    Failed(String),
}

/// The reload record after the PID line of the lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Reloads begun since the first start.
    pub begun: u64,
    /// Reloads whose outcome is known; `begun - settled` is 0 or 1 (one in flight).
    pub settled: u64,
    /// The generation serving.
    pub generation: u64,
    /// The last settled reload's outcome.
    pub last: Outcome,
}

/// The last line of a complete record: a reader that does not see it read a partial write.
const END: &str = "end";

impl Record {
    /// The record as written into the lock file.
    pub fn text(&self) -> String {
        let (word, problems) = match &self.last {
            Outcome::Started => ("started", ""),
            Outcome::Ok => ("ok", ""),
            Outcome::Failed(problems) => ("failed", problems.as_str()),
        };
        let mut text = format!(
            "reload begun={} settled={} generation={} last={word}\n",
            self.begun, self.settled, self.generation
        );
        for line in problems.lines().filter(|l| !l.is_empty() && *l != END) {
            text.push_str(line);
            text.push('\n');
        }
        text.push_str(END);
        text.push('\n');
        text
    }

    /// Reads the lock file's text: the PID and the record, or `None` if it is incomplete.
    pub fn parse(text: &str) -> Option<(u32, Record)> {
        let mut lines = text.lines();
        let pid = lines.next()?.trim().parse().ok()?;
        let head = lines.next()?.strip_prefix("reload ")?;
        let rest: Vec<&str> = lines.collect();
        let (&end, problems) = rest.split_last()?;
        if end != END {
            return None;
        }
        let field = |key: &str| {
            head.split(' ')
                .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
        };
        let number = |key: &str| field(key)?.parse::<u64>().ok();
        let last = match field("last")? {
            "started" => Outcome::Started,
            "ok" => Outcome::Ok,
            "failed" => Outcome::Failed(problems.join("\n")),
            _ => return None,
        };
        Some((
            pid,
            Record {
                begun: number("begun")?,
                settled: number("settled")?,
                generation: number("generation")?,
                last,
            },
        ))
    }
}

/// Reads the lock file until it holds a complete record (a writer may be mid-way), for up to a
/// second. `Err` says why there is none.
fn read_record(path: &Path) -> Result<(u32, Record), String> {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        if let Some(found) = Record::parse(&text) {
            return Ok(found);
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{} holds no reload record (a server older than this command?); \
                 send SIGHUP to the PID on its first line and read the server's log",
                path.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether some process holds the lock at `path`: probed with a shared lock taken and
/// released at once, which never disturbs a holder of the exclusive lock.
fn held(path: &Path) -> Result<bool, String> {
    // Read-only is all this command ever needs of the file (see `lock.rs` for its mode).
    let file = File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::PermissionDenied => format!(
            "opening {}: {e} (run as root or as the server's user; a server of an older \
             version may have left it unreadable: restart it once)",
            path.display()
        ),
        _ => format!(
            "opening {}: {e} (is the server running, and is this its --lock?)",
            path.display()
        ),
    })?;
    match Flock::lock(file, FlockArg::LockSharedNonblock) {
        Ok(_released_on_drop) => Ok(false),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(true),
        Err((_, errno)) => Err(format!("probing the lock {}: {errno}", path.display())),
    }
}

/// `forkblog reload`: sends SIGHUP to the server holding `lock` and waits up to `timeout` for
/// the outcome. `Ok` with a one-line summary, or `Err` with the problems.
pub fn run(lock: &Path, timeout: Duration) -> Result<String, String> {
    if !held(lock)? {
        return Err(format!(
            "no server holds {}: nothing to reload (start it, or pass its --lock)",
            lock.display()
        ));
    }
    let (pid, before) = read_record(lock)?;
    let target = Pid::from_raw(pid as i32);
    kill(target, Signal::SIGHUP).map_err(|e| {
        format!("sending SIGHUP to PID {pid}: {e} (run as the server's user or root)")
    })?;
    // A reload in flight when the signal arrived is followed by another (the server renders
    // again), so the answer is the first outcome past everything begun so far.
    let wanted = before.begun + 1;
    let deadline = Instant::now() + timeout;
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let (now_pid, record) = read_record(lock)?;
        if now_pid != pid || kill(target, None).is_err() || !held(lock)? {
            return Err(format!(
                "the server (PID {pid}) exited during the reload; see its log"
            ));
        }
        if record.settled >= wanted {
            return match record.last {
                Outcome::Failed(problems) => Err(format!(
                    "reload failed; still serving generation {}:\n{problems}",
                    record.generation
                )),
                Outcome::Ok | Outcome::Started => Ok(format!(
                    "reloaded: generation {} serving as PID {pid}",
                    record.generation
                )),
            };
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "no outcome within {} s (a render may still be running; see the server's log)",
                timeout.as_secs()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_partial_writes_are_refused() {
        let failed = Record {
            begun: 4,
            settled: 4,
            generation: 2,
            last: Outcome::Failed("posts/a.md:3: bad date\nposts/b.md:1: no title".into()),
        };
        let text = format!("42\n{}", failed.text());
        assert_eq!(Record::parse(&text), Some((42, failed)));
        for cut in 0..text.len() - 1 {
            assert_eq!(Record::parse(&text[..cut]), None, "{cut}");
        }
        let ok = Record {
            begun: 1,
            settled: 1,
            generation: 1,
            last: Outcome::Ok,
        };
        assert_eq!(Record::parse(&format!("7\n{}", ok.text())), Some((7, ok)));
        assert_eq!(Record::parse("7\n"), None);
    }
}
