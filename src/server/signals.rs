//! Signals, as flags plus a self-pipe the accept loop polls: no work happens in a handler.

use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM, SIGUSR1};

/// The signals the parent handles. They are blocked across a re-exec (see `handover.rs`) so
/// that none of them meets the default action, which for HUP, TERM, INT and USR1 is death.
pub const HANDLED: [Signal; 5] = [
    Signal::SIGHUP,
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGUSR1,
    Signal::SIGCHLD,
];

/// What arrived since the last [`Signals::take`].
#[derive(Debug, Default, Clone, Copy)]
pub struct Pending {
    /// SIGHUP: re-render and re-exec.
    pub reload: bool,
    /// SIGTERM or SIGINT: drain and exit.
    pub stop: bool,
    /// SIGUSR1: reopen the access log.
    pub reopen: bool,
    /// SIGCHLD: reap.
    pub child: bool,
}

/// Installed signal handlers and the read end of their wake-up pipe.
pub struct Signals {
    wake: UnixStream,
    reload: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    reopen: Arc<AtomicBool>,
    child: Arc<AtomicBool>,
}

impl Signals {
    /// Installs handlers for HUP, TERM, INT, USR1 and CHLD, then unblocks them (a previous
    /// image blocked them before exec; anything that arrived meanwhile is delivered now).
    pub fn install() -> io::Result<Signals> {
        let (wake, notify) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        let signals = Signals {
            wake,
            reload: Arc::default(),
            stop: Arc::default(),
            reopen: Arc::default(),
            child: Arc::default(),
        };
        for (signal, flag) in [
            (SIGHUP, &signals.reload),
            (SIGTERM, &signals.stop),
            (SIGINT, &signals.stop),
            (SIGUSR1, &signals.reopen),
            (SIGCHLD, &signals.child),
        ] {
            signal_hook::flag::register(signal, Arc::clone(flag))?;
            signal_hook::low_level::pipe::register(signal, notify.try_clone()?)?;
        }
        set_blocked(false)?;
        // SIGUSR2 is for children (eviction, see child.rs). Blocked here, every child is born
        // with it blocked, so one signalled in its first microseconds cannot meet the default
        // action (death) before it installs its own handling.
        let usr2 = SigSet::from(Signal::SIGUSR2);
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&usr2), None)?;
        Ok(signals)
    }

    /// The descriptor that becomes readable when a signal arrives.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.wake.as_fd()
    }

    /// Empties the wake-up pipe and returns (and clears) what arrived.
    pub fn take(&self) -> Pending {
        let mut sink = [0u8; 64];
        while matches!((&self.wake).read(&mut sink), Ok(n) if n > 0) {}
        Pending {
            reload: self.reload.swap(false, Ordering::SeqCst),
            stop: self.stop.swap(false, Ordering::SeqCst),
            reopen: self.reopen.swap(false, Ordering::SeqCst),
            child: self.child.swap(false, Ordering::SeqCst),
        }
    }
}

/// Blocks or unblocks the handled signals for this (single-threaded) process.
pub fn set_blocked(blocked: bool) -> io::Result<()> {
    let mut set = SigSet::empty();
    HANDLED.iter().for_each(|&s| set.add(s));
    let how = if blocked {
        SigmaskHow::SIG_BLOCK
    } else {
        SigmaskHow::SIG_UNBLOCK
    };
    nix::sys::signal::sigprocmask(how, Some(&set), None).map_err(io::Error::from)
}
