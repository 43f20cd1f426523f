//! Signals, as readiness the accept loop polls: no work happens in a handler.
//!
//! SIGCHLD, which comes once per connection, is kept blocked and read from a `signalfd`: a
//! child's exit then costs the parent no signal frame on its stack (a copy-on-write fault after
//! every fork), no handler and no `rt_sigreturn`, and exits that come together are one read.
//! The rare ones (HUP, TERM, INT, USR1) are caught by signal-hook handlers that set a flag and
//! write a byte to a self-pipe.

use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};

/// The signals the parent catches with a handler. They are blocked across a re-exec (see
/// `handover.rs`) so that none of them meets the default action, which for all four is death.
pub(crate) const HANDLED: [Signal; 4] = [
    Signal::SIGHUP,
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGUSR1,
];

/// What arrived since the last [`Signals::take`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Pending {
    /// SIGHUP: re-render and re-exec.
    pub reload: bool,
    /// SIGTERM or SIGINT: drain and exit.
    pub stop: bool,
    /// SIGUSR1: reopen the access log.
    pub reopen: bool,
    /// SIGCHLD: reap.
    pub child: bool,
}

/// Which of the two descriptors `poll` found readable (or, after EINTR, may be).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Woken {
    /// The handlers' pipe.
    pub pipe: bool,
    /// The SIGCHLD signalfd.
    pub exits: bool,
}

/// Installed signal handlers, the read end of their wake-up pipe, and the SIGCHLD signalfd.
pub(crate) struct Signals {
    wake: UnixStream,
    exits: SignalFd,
    reload: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    reopen: Arc<AtomicBool>,
}

impl Signals {
    /// Blocks SIGCHLD for good and opens its signalfd, installs handlers for HUP, TERM, INT and
    /// USR1, then unblocks those (a previous image blocked them before exec; anything that
    /// arrived meanwhile is delivered now, and a SIGCHLD left pending is read from the signalfd).
    pub(crate) fn install() -> io::Result<Signals> {
        // Inherited as ignored (some supervisors do that), SIGCHLD would make the kernel reap
        // children itself and never queue the signal: exits would go unseen and the children
        // map would only grow.
        crate::sys::set_signal_dispositions(&[Signal::SIGCHLD], &[]);
        let chld = SigSet::from(Signal::SIGCHLD);
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&chld), None)?;
        let exits = SignalFd::with_flags(&chld, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        let (wake, notify) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        let signals = Signals {
            wake,
            exits,
            reload: Arc::default(),
            stop: Arc::default(),
            reopen: Arc::default(),
        };
        for (signal, flag) in [
            (SIGHUP, &signals.reload),
            (SIGTERM, &signals.stop),
            (SIGINT, &signals.stop),
            (SIGUSR1, &signals.reopen),
        ] {
            signal_hook::flag::register(signal, Arc::clone(flag))?;
            signal_hook::low_level::pipe::register(signal, notify.try_clone()?)?;
        }
        set_blocked(false)?;
        // SIGUSR2 is for children (eviction, see child.rs). Its handler is installed here, where
        // it stays blocked, so that every child is born with both: no system call in the child
        // to install it, and no window in which one signalled in its first microseconds meets
        // the default action (death).
        crate::sys::evict_on(Signal::SIGUSR2);
        let usr2 = SigSet::from(Signal::SIGUSR2);
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&usr2), None)?;
        Ok(signals)
    }

    /// The descriptor that becomes readable when HUP, TERM, INT or USR1 arrives.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.wake.as_fd()
    }

    /// The descriptor that becomes readable when a child exits.
    pub(crate) fn exits_fd(&self) -> BorrowedFd<'_> {
        self.exits.as_fd()
    }

    /// Returns (and clears) what arrived. Only a descriptor `poll` found readable is read, so a
    /// quiet loop turn costs no system call here. The pipe is emptied before the flags are
    /// taken, so a signal that comes in between leaves its byte for the next `poll`; the
    /// signalfd is read before the caller reaps, so an exit after the reaping leaves SIGCHLD
    /// pending for the next `poll`.
    pub(crate) fn take(&self, woken: Woken) -> Pending {
        if woken.pipe {
            let mut sink = [0u8; 64];
            while matches!((&self.wake).read(&mut sink), Ok(n) if n > 0) {}
        }
        if woken.exits {
            // Exits that came together are one pending SIGCHLD, read at once. Nothing to do
            // on an error: the caller reaps all the same, and so does every tick.
            let _ = self.exits.read_signal();
        }
        Pending {
            reload: take_flag(&self.reload),
            stop: take_flag(&self.stop),
            reopen: take_flag(&self.reopen),
            child: woken.exits,
        }
    }
}

/// Clears `flag` and says whether it was set. Read first: an atomic swap writes even when the
/// flag is already clear, and a write to the flags' heap page after each fork is a
/// copy-on-write fault for the parent.
fn take_flag(flag: &AtomicBool) -> bool {
    flag.load(Ordering::SeqCst) && flag.swap(false, Ordering::SeqCst)
}

/// Blocks or unblocks the signals caught with handlers, for this (single-threaded) process.
/// SIGCHLD stays blocked either way: it is only ever read from the signalfd.
pub(crate) fn set_blocked(blocked: bool) -> io::Result<()> {
    let mut set = SigSet::empty();
    HANDLED.iter().for_each(|&s| set.add(s));
    let how = if blocked {
        SigmaskHow::SIG_BLOCK
    } else {
        SigmaskHow::SIG_UNBLOCK
    };
    nix::sys::signal::sigprocmask(how, Some(&set), None).map_err(io::Error::from)
}
