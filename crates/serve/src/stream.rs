//! The byte stream a child serves: reads bounded by a deadline, whole writes, a graceful close.
//!
//! The child's request loop speaks only to [`Stream`], so a transport that wraps the socket
//! (TLS) changes this file's neighbours, not the loop. [`Plain`] is the connection itself on
//! stdin/stdout.

use std::io::IoSlice;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{ppoll, PollFd, PollFlags};
use nix::sys::signal::SigSet;
use nix::sys::socket::{
    getpeername, recv, setsockopt, shutdown, sockopt, MsgFlags, Shutdown, SockaddrStorage,
};
use nix::sys::time::{TimeSpec, TimeVal, TimeValLike};

use crate::sys;

/// What a read brought.
#[derive(Debug)]
pub(crate) enum Read {
    /// This many bytes.
    Data(usize),
    /// The client closed (or the connection broke).
    Closed,
    /// The deadline passed first.
    TimedOut,
    /// SIGUSR2 interrupted the wait: the server is full and others are waiting, or it is
    /// shutting down.
    Evicted,
}

/// A connection as the child's request loop sees it.
pub(crate) trait Stream {
    /// Reads what is available into `buf`, waiting until `deadline` at most; `idle` when the
    /// client owes nothing (between requests), where eviction may end the wait at any moment.
    fn read(&mut self, buf: &mut [u8], deadline: Instant, idle: bool) -> Read;
    /// Reads what has already arrived, without waiting: `None` if nothing has (or this
    /// transport cannot tell), and the caller then waits with [`Stream::read`]. A request that
    /// is already there (the usual case: the listener defers accept until the first bytes) is
    /// read without a `poll` and without looking at the clock for a deadline.
    fn read_ready(&mut self, _buf: &mut [u8]) -> Option<Read> {
        None
    }
    /// Writes every slice, in order. False if the client went away.
    fn write_all(&mut self, slices: &mut [IoSlice<'_>]) -> bool;
    /// Closes so that a response in flight is not destroyed by a reset.
    fn close(&mut self);
}

/// The TCP connection itself, on stdin and stdout.
pub(crate) struct Plain<'a> {
    input: BorrowedFd<'a>,
    output: BorrowedFd<'a>,
    /// The receive timeout set on the socket, once one is.
    timeout: Option<Duration>,
    /// False once the input proved not to be a socket (`--inetd` on a pipe).
    socket: bool,
}

impl Plain<'static> {
    /// The connection the child moved onto fds 0 and 1 (or that inetd put there).
    pub(crate) fn stdio() -> Plain<'static> {
        Plain {
            input: sys::stdin_fd(),
            output: sys::stdout_fd(),
            timeout: None,
            socket: true,
        }
    }
}

impl Plain<'_> {
    /// Sets the socket's receive timeout for a wait of `left` at most, unless the one set is
    /// at most that and not much shorter (it then ends the wait a little early, and the loop
    /// waits again for the rest): a keep-alive client's every wait is the same idle timeout,
    /// so it is set once, not once a request. False if the input is not a socket.
    fn arm(&mut self, left: Duration) -> bool {
        let close_enough = |set: Duration| set <= left && left - set <= left / 8;
        if self.timeout.is_some_and(close_enough) {
            return true;
        }
        // Zero would mean no timeout at all.
        let wait = left.max(Duration::from_millis(1));
        let time = TimeVal::microseconds(wait.as_micros().min(i64::MAX as u128) as i64);
        match setsockopt(&self.input, sockopt::ReceiveTimeout, &time) {
            Ok(()) => {
                self.timeout = Some(wait);
                true
            }
            Err(_) => false,
        }
    }
}

impl Stream for Plain<'_> {
    /// One blocking `read` per wait (a `poll` first would double the system calls of a
    /// keep-alive request), bounded by the socket's receive timeout. Eviction (SIGUSR2, see
    /// [`sys::evict_on`]) interrupts the read, or, for an idle client, shuts the reading side
    /// down so that even a read that had not begun yet ends at once.
    fn read(&mut self, buf: &mut [u8], deadline: Instant, idle: bool) -> Read {
        if !self.socket {
            return read_until(self.input, buf, deadline);
        }
        sys::unblock_eviction();
        loop {
            sys::waiting_for_idle_client(idle);
            if sys::eviction_asked() {
                sys::waiting_for_idle_client(false);
                return Read::Evicted;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                sys::waiting_for_idle_client(false);
                return Read::TimedOut;
            }
            if !self.arm(left) {
                sys::waiting_for_idle_client(false);
                self.socket = false;
                return read_until(self.input, buf, deadline);
            }
            let read = nix::unistd::read(self.input, buf);
            sys::waiting_for_idle_client(false);
            return match read {
                Ok(0) if sys::eviction_asked() => Read::Evicted,
                Ok(0) => Read::Closed,
                Ok(n) => Read::Data(n),
                Err(Errno::EINTR) if sys::eviction_asked() => Read::Evicted,
                // The receive timeout (the loop decides whether the deadline passed), or
                // another signal.
                Err(Errno::EAGAIN | Errno::EINTR) => continue,
                Err(_) => Read::Closed,
            };
        }
    }

    fn read_ready(&mut self, buf: &mut [u8]) -> Option<Read> {
        match recv(self.input.as_raw_fd(), buf, MsgFlags::MSG_DONTWAIT) {
            Ok(0) => Some(Read::Closed),
            Ok(n) => Some(Read::Data(n)),
            // Nothing yet (EAGAIN), or not a socket (`--inetd` on a pipe): wait in `read`,
            // which also reports any lasting error.
            Err(_) => None,
        }
    }

    fn write_all(&mut self, mut slices: &mut [IoSlice<'_>]) -> bool {
        while !slices.is_empty() {
            match nix::sys::uio::writev(self.output, slices) {
                Ok(0) => return false,
                Ok(n) => IoSlice::advance_slices(&mut slices, n),
                Err(Errno::EINTR) => {}
                Err(_) => return false,
            }
        }
        true
    }

    /// With nothing unread, exiting is enough: the kernel sends FIN after the response. With
    /// request bytes still unread, closing would make the kernel answer with a reset that can
    /// destroy the response in flight, so: stop sending, then drain what the client still
    /// sends for a moment.
    fn close(&mut self) {
        let mut probe = [0u8; 1];
        let peek = MsgFlags::MSG_PEEK | MsgFlags::MSG_DONTWAIT;
        if !matches!(recv(self.input.as_raw_fd(), &mut probe, peek), Ok(n) if n > 0) {
            return; // nothing pending (EAGAIN), or the client already closed (0)
        }
        linger(self.input, self.output);
    }
}

/// Stops sending, then drains what the client still sends for a moment (at most 64 KiB or two
/// seconds), so that the response is not destroyed by a reset. Out of line: its buffer would
/// add a stack page to every child, and few ever come here.
#[cold]
#[inline(never)]
fn linger(input: BorrowedFd<'_>, output: BorrowedFd<'_>) {
    if shutdown(output.as_raw_fd(), Shutdown::Write).is_err() {
        return;
    }
    let mut scratch = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut drained = 0;
    while drained < 64 * 1024 {
        match read_until(input, &mut scratch, deadline) {
            Read::Data(n) => drained += n,
            Read::Closed | Read::TimedOut | Read::Evicted => return,
        }
    }
}

/// Plain byte writes to the socket, for a transport layered on it (TLS records).
impl std::io::Write for Plain<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        loop {
            match nix::unistd::write(self.output, bytes) {
                Ok(n) => return Ok(n),
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// One `writev` for everything queued: rustls hands a handshake flight over as several
    /// messages, which would otherwise be a system call each.
    fn write_vectored(&mut self, slices: &[IoSlice<'_>]) -> std::io::Result<usize> {
        loop {
            match nix::sys::uio::writev(self.output, slices) {
                Ok(n) => return Ok(n),
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads what is available into `buf`, waiting until `deadline` at most.
pub(crate) fn read_until(input: BorrowedFd<'_>, buf: &mut [u8], deadline: Instant) -> Read {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Read::TimedOut;
        }
        if sys::eviction_asked() {
            return Read::Evicted;
        }
        let mut fds = [PollFd::new(input, PollFlags::POLLIN)];
        // An empty mask: SIGUSR2 (eviction), blocked until a plain read first waits, arrives
        // here at the latest.
        match ppoll(
            &mut fds,
            Some(TimeSpec::from_duration(left)),
            Some(SigSet::empty()),
        ) {
            Ok(0) => return Read::TimedOut,
            Ok(_) => {}
            Err(Errno::EINTR) => {
                sys::eviction_asked();
                return Read::Evicted;
            }
            Err(_) => return Read::Closed,
        }
        return match nix::unistd::read(input, buf) {
            Ok(0) => Read::Closed,
            Ok(n) => Read::Data(n),
            Err(Errno::EINTR | Errno::EAGAIN) => continue,
            Err(_) => Read::Closed,
        };
    }
}

/// The peer's address, when stdin is a socket (for `--inetd`, where no `accept` told us).
pub(crate) fn peer_of_stdin() -> Option<IpAddr> {
    let addr: SockaddrStorage = getpeername(sys::stdin_fd().as_raw_fd()).ok()?;
    if let Some(v4) = addr.as_sockaddr_in() {
        return Some(IpAddr::V4(v4.ip()));
    }
    addr.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
}
