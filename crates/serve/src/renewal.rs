//! Certificates renewed by a worker the parent forks on a schedule. The worker's code belongs
//! to another crate (`acme`), which this one knows only through [`Renewal`]: the parent decides
//! when a check is due and serves what the worker hands over; it never speaks ACME itself, and
//! no child does. [`Schedule`] is when.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::sys::wait::WaitStatus;
use nix::unistd::{ForkResult, Gid, Pid, Uid};

use crate::status::Counters;
use crate::sys;
use crate::tls::{Certificate, Files};

/// Where certificates come from when the server gets its own (`--acme-domain`).
pub trait Renewal: std::fmt::Debug + Send + Sync {
    /// The certificate and key files it keeps, which a first start serves from.
    fn files(&self) -> Files;
    /// The names the certificate covers, for the log.
    fn names(&self) -> String;
    /// Who issues it (the ACME directory), for the log.
    fn issuer(&self) -> &str;
    /// Before the privilege drop: its state, made for `owner` (the service account).
    fn prepare(&self, owner: Option<(Uid, Gid)>) -> Result<(), String>;
    /// At a first start: what an earlier run left, put where [`Renewal::files`] says.
    fn tidy(&self) -> Result<(), String>;
    /// In the forked worker: compares what it keeps with `in_service`, renews if due, answering
    /// challenges through `counters`' shared page; on [`Checked::ToLoad`] the certificate is
    /// written into `handed` ([`Certificate::write_into`]).
    fn check(
        &self,
        counters: &Counters,
        in_service: Option<&Certificate>,
        handed: &OwnedFd,
    ) -> Checked;
}

/// The worker's exit status when the certificate is still good.
const NOTHING_DUE: i32 = 3;

/// What the worker's exit status says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// A certificate not in service is on disk (just ordered, or left by an earlier image).
    ToLoad,
    /// The certificate in service is good for a while yet.
    NothingDue,
    /// The attempt failed; the worker logged why.
    Failed,
}

impl Checked {
    /// The worker's exit status for this outcome, read back by [`Checked::from_exit_code`].
    fn exit_code(self) -> i32 {
        match self {
            Checked::ToLoad => 0,
            Checked::NothingDue => NOTHING_DUE,
            Checked::Failed => 1,
        }
    }

    /// The outcome of a worker that exited with `code`.
    pub fn from_exit_code(code: i32) -> Checked {
        match code {
            0 => Checked::ToLoad,
            NOTHING_DUE => Checked::NothingDue,
            _ => Checked::Failed,
        }
    }
}

/// Forks the worker, which runs [`Renewal::check`]. The parent reaps it like any child and
/// reads its exit status ([`Checked::from_exit_code`]); on [`Checked::ToLoad`], the
/// certificate from the memfd returned with its PID ([`Certificate::from_memfd`]).
pub fn spawn(
    renewal: &dyn Renewal,
    counters: &Counters,
    in_service: Option<&Certificate>,
) -> std::io::Result<(Pid, OwnedFd)> {
    let handed = Certificate::memfd()?;
    match sys::fork().map_err(|e| std::io::Error::other(format!("fork for ACME: {e}")))? {
        ForkResult::Child => {
            // Keep only stderr and `handed`; the counters page stays mapped after its
            // descriptor closes.
            let kept = handed.as_raw_fd();
            sys::close_range(3, kept - 1);
            sys::close_range(kept + 1, i32::MAX);
            sys::set_signal_dispositions(
                &[
                    Signal::SIGTERM,
                    Signal::SIGINT,
                    Signal::SIGHUP,
                    Signal::SIGUSR1,
                    Signal::SIGCHLD,
                ],
                &[],
            );
            let checked = renewal.check(counters, in_service, &handed);
            crate::challenge::clear(counters);
            sys::exit_now(checked.exit_code())
        }
        ForkResult::Parent { child } => Ok((child, handed)),
    }
}

/// When the parent forks the renewal worker, and what it knows of the one in flight.
pub struct Schedule {
    /// What the worker runs.
    pub renewal: Arc<dyn Renewal>,
    /// The worker in flight.
    pub worker: Option<Pid>,
    /// The memfd it hands a certificate over in, from its start until its exit is read.
    pub handed: Option<std::os::fd::OwnedFd>,
    /// Its exit status, once reaped.
    pub done: Option<WaitStatus>,
    /// When to check next.
    pub next: Instant,
    /// How long to wait after the next failure.
    pub backoff: Duration,
}

impl Schedule {
    pub const FIRST_BACKOFF: Duration = Duration::from_secs(60);

    /// A schedule whose first check is due now.
    pub fn new(renewal: Arc<dyn Renewal>) -> Schedule {
        Schedule {
            renewal,
            worker: None,
            handed: None,
            done: None,
            next: Instant::now(),
            backoff: Schedule::FIRST_BACKOFF,
        }
    }
    const MAX_BACKOFF: Duration = Duration::from_secs(3600);
    /// The longest between two checks when all is well.
    const RECHECK: Duration = Duration::from_secs(3600);
    /// The shortest wait after a failure when the certificate in service is about to expire.
    const MIN_RETRY: Duration = Duration::from_secs(10);

    /// How long until the next check, set by the certificate in service (never by one on
    /// disk that is not serving): its renewal time when all is well; after a failure, the
    /// back-off, but at most half the time it has left, so a failing CA is asked again
    /// before it expires.
    pub fn wait(&mut self, failed: bool, in_service: Option<&Certificate>, now: i64) -> Duration {
        let until = |at: i64| Duration::from_secs(at.saturating_sub(now).max(0) as u64);
        if !failed {
            self.backoff = Schedule::FIRST_BACKOFF;
            let due = in_service.map_or(Schedule::RECHECK, |c| until(c.renew_at()));
            return due.clamp(Duration::from_secs(1), Schedule::RECHECK);
        }
        let wait = self.backoff;
        self.backoff = (self.backoff * 2).min(Schedule::MAX_BACKOFF);
        match in_service.filter(|c| c.not_after > now) {
            Some(c) => wait.min((until(c.not_after) / 2).max(Schedule::MIN_RETRY)),
            None => wait,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_reads_each_outcome_the_worker_exits_with() {
        for checked in [Checked::ToLoad, Checked::NothingDue, Checked::Failed] {
            assert_eq!(Checked::from_exit_code(checked.exit_code()), checked);
        }
    }
}
