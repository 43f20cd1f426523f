//! The leak watchdog: the parent samples itself every few seconds and says so the moment a
//! figure drifts, so a slow leak is a warning within minutes rather than an outage after days.
//!
//! [`sample`] reads /proc (the parent's fds and RSS, each child's state); [`Watchdog::assess`]
//! is a pure function of the samples, so its rules are unit-tested without a leaking server.

use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, Instant};

use nix::unistd::Pid;

use super::children::Children;

/// Descriptors the parent may hold above its baseline before the watchdog warns (a render
/// worker's memfd, the /proc directory being read, a connection between accept and close).
pub(crate) const FD_SLACK: usize = 4;

/// How far past its lifetime a child may run before it counts as overdue (its own alarm should
/// have ended it at the lifetime).
pub(crate) const OVERDUE_SLACK: Duration = Duration::from_secs(5);

/// One reading of the parent's figures.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sample {
    /// Open descriptors of the parent.
    pub fds: usize,
    /// Resident set of the parent, in KiB.
    pub rss_kib: u64,
    /// Children in state Z (exited, not yet reaped).
    pub zombies: Vec<Pid>,
    /// Children older than the lifetime plus slack, with their age.
    pub overdue: Vec<(Pid, Duration)>,
}

/// Something the watchdog reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Warning {
    /// More descriptors than the baseline allows.
    Descriptors {
        /// Open now.
        fds: usize,
        /// The most expected.
        limit: usize,
    },
    /// A child outlived its lifetime; it is killed.
    Overdue {
        /// The child.
        pid: Pid,
        /// Its age.
        age: Duration,
    },
    /// A child stayed a zombie across two samples: reaping is broken.
    Zombie {
        /// The child.
        pid: Pid,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Descriptors { fds, limit } => {
                write!(f, "watchdog: the parent has {fds} open fds, more than the {limit} expected: a descriptor leak?")
            }
            Warning::Overdue { pid, age } => {
                write!(
                    f,
                    "watchdog: child {pid} has lived {:.0} s, past its lifetime; killing it",
                    age.as_secs_f64()
                )
            }
            Warning::Zombie { pid } => write!(
                f,
                "watchdog: child {pid} is still a zombie after a reap: reaping is broken?"
            ),
        }
    }
}

/// The watchdog's state between samples.
#[derive(Debug)]
pub(crate) struct Watchdog {
    interval: Duration,
    next: Instant,
    baseline: Option<usize>,
    zombies_seen: HashSet<Pid>,
}

impl Watchdog {
    /// A watchdog sampling every `interval`; the first sample sets the fd baseline.
    pub(crate) fn new(interval: Duration) -> Watchdog {
        Watchdog {
            interval,
            next: Instant::now(),
            baseline: None,
            zombies_seen: HashSet::new(),
        }
    }

    /// Whether a sample is due; if so, schedules the next one.
    pub(crate) fn due(&mut self, now: Instant) -> bool {
        if now < self.next {
            return false;
        }
        self.next = now + self.interval;
        true
    }

    /// The time left until the next sample.
    pub(crate) fn until_next(&self, now: Instant) -> Duration {
        self.next.saturating_duration_since(now)
    }

    /// Judges a sample. The parent's fds may not exceed the first sample's count plus
    /// [`FD_SLACK`] (the parent closes each connection at once, so live children add nothing);
    /// a zombie counts only if it was already one at the previous sample; every overdue child
    /// is reported.
    pub(crate) fn assess(&mut self, sample: &Sample) -> Vec<Warning> {
        let mut warnings = Vec::new();
        let baseline = *self.baseline.get_or_insert(sample.fds);
        let limit = baseline + FD_SLACK;
        if sample.fds > limit {
            warnings.push(Warning::Descriptors {
                fds: sample.fds,
                limit,
            });
        }
        let now: HashSet<Pid> = sample.zombies.iter().copied().collect();
        for pid in now.intersection(&self.zombies_seen) {
            warnings.push(Warning::Zombie { pid: *pid });
        }
        self.zombies_seen = now;
        for &(pid, age) in &sample.overdue {
            warnings.push(Warning::Overdue { pid, age });
        }
        warnings
    }
}

/// Reads the parent's figures from /proc. `children` are the live children with their start.
pub(crate) fn sample(children: &Children, lifetime: Duration) -> Sample {
    let fds = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count().saturating_sub(1))
        .unwrap_or(0);
    let page_kib = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .map(|p| p as u64 / 1024)
        .unwrap_or(4);
    let rss_kib = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map(|pages| pages * page_kib)
        .unwrap_or(0);
    let now = Instant::now();
    let mut zombies = Vec::new();
    let mut overdue = Vec::new();
    for (pid, started) in children.iter() {
        if state_of(pid) == Some('Z') {
            zombies.push(pid);
        }
        let age = now.saturating_duration_since(started);
        if age > lifetime + OVERDUE_SLACK {
            overdue.push((pid, age));
        }
    }
    Sample {
        fds,
        rss_kib,
        zombies,
        overdue,
    }
}

/// The state letter of a process from /proc/PID/stat.
fn state_of(pid: Pid) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.get(stat.rfind(')')? + 2..)?.chars().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_fds(fds: usize) -> Sample {
        Sample {
            fds,
            ..Sample::default()
        }
    }

    #[test]
    fn fd_growth_past_the_slack_warns() {
        let mut dog = Watchdog::new(Duration::from_secs(1));
        assert!(
            dog.assess(&with_fds(12)).is_empty(),
            "the first sample sets the baseline"
        );
        assert!(dog.assess(&with_fds(12 + FD_SLACK)).is_empty());
        assert_eq!(
            dog.assess(&with_fds(13 + FD_SLACK)),
            vec![Warning::Descriptors {
                fds: 13 + FD_SLACK,
                limit: 12 + FD_SLACK
            }]
        );
    }

    #[test]
    fn a_zombie_warns_only_when_it_persists() {
        let mut dog = Watchdog::new(Duration::from_secs(1));
        let pid = Pid::from_raw(4242);
        let zombie = Sample {
            fds: 10,
            zombies: vec![pid],
            ..Sample::default()
        };
        assert!(
            dog.assess(&zombie).is_empty(),
            "one sight may be a child that just exited"
        );
        assert_eq!(dog.assess(&zombie), vec![Warning::Zombie { pid }]);
        assert!(dog.assess(&with_fds(10)).is_empty());
    }

    #[test]
    fn overdue_children_are_reported() {
        let mut dog = Watchdog::new(Duration::from_secs(1));
        let pid = Pid::from_raw(7);
        let sample = Sample {
            fds: 10,
            overdue: vec![(pid, Duration::from_secs(99))],
            ..Sample::default()
        };
        assert_eq!(
            dog.assess(&sample),
            vec![Warning::Overdue {
                pid,
                age: Duration::from_secs(99)
            }]
        );
    }

    #[test]
    fn sampling_this_process_reads_proc() {
        let sample = sample(
            &Children::with_capacity(1).unwrap(),
            Duration::from_secs(60),
        );
        assert!(sample.fds >= 3, "{sample:?}");
        assert!(sample.rss_kib > 0, "{sample:?}");
    }
}
