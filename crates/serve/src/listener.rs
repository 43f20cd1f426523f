//! The listening socket: bound here, inherited from systemd, or handed over across a re-exec.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsFd, OwnedFd};

use nix::sys::socket::{
    bind, listen, setsockopt, socket, sockopt, AddressFamily, Backlog, SockFlag, SockType,
    SockaddrStorage,
};

use crate::sys;

/// Binds `addr` with SO_REUSEADDR, close-on-exec and non-blocking. An IPv6 address listens on
/// IPv6 only, so `[::1]:8080` and `127.0.0.1:8080` can be served by two instances.
pub(crate) fn bind_to(addr: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    let context =
        |what: &str, e: nix::errno::Errno| io::Error::other(format!("{what} {addr}: {e}"));
    let family = if addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let fd = socket(
        family,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        None,
    )
    .map_err(|e| context("socket for", e))?;
    setsockopt(&fd, sockopt::ReuseAddr, &true).map_err(|e| context("SO_REUSEADDR on", e))?;
    no_delay(&fd);
    if addr.is_ipv6() {
        setsockopt(&fd, sockopt::Ipv6V6Only, &true).map_err(|e| context("IPV6_V6ONLY on", e))?;
    }
    bind(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &SockaddrStorage::from(addr),
    )
    .map_err(|e| context("cannot bind", e))?;
    let backlog = Backlog::new(backlog).unwrap_or(Backlog::MAXCONN);
    listen(&fd, backlog).map_err(|e| context("cannot listen on", e))?;
    Ok(TcpListener::from(fd))
}

/// How many sockets systemd passed this process (`LISTEN_PID` is us, `LISTEN_FDS` = N: fds
/// 3..3+N), or 0.
pub(crate) fn systemd_fd_count() -> u32 {
    let pid = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok());
    let fds = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.parse::<u32>().ok());
    match (pid, fds) {
        (Some(pid), Some(n)) if pid == std::process::id() => n,
        _ => 0,
    }
}

/// The socket systemd passed (fd 3), if any.
pub(crate) fn from_systemd() -> io::Result<Option<TcpListener>> {
    match systemd_fd_count() {
        0 => Ok(None),
        n => {
            if n > 1 {
                log::warn!("systemd passed {n} sockets; serving the first (fd 3) only");
            }
            adopt(sys::adopt_inherited_fd(3)?).map(Some)
        }
    }
}

/// Wraps an inherited descriptor after checking that it is a listening TCP socket, and makes
/// it close-on-exec and non-blocking like one bound here.
pub(crate) fn adopt(fd: OwnedFd) -> io::Result<TcpListener> {
    let listening = nix::sys::socket::getsockopt(&fd, sockopt::AcceptConn)
        .map_err(|e| io::Error::other(format!("inherited fd is not a socket: {e}")))?;
    if !listening {
        return Err(io::Error::other("inherited fd is not a listening socket"));
    }
    set_cloexec(&fd, true)?;
    no_delay(&fd);
    let listener = TcpListener::from(fd);
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Has the kernel keep a connection until its first bytes arrive, for at most about `wait`
/// (TCP_DEFER_ACCEPT). A client that connects and sends nothing then costs no child: a flood
/// of idle connections waits in the kernel while readers who send a request are accepted at
/// once. One that stays silent past `wait` is accepted anyway and meets the head timeout.
pub(crate) fn defer_until_data(listener: &TcpListener, wait: std::time::Duration) {
    let seconds = wait.as_secs().clamp(1, u64::from(u32::MAX)) as u32;
    if let Err(e) = sys::defer_accept(listener.as_fd(), seconds) {
        log::warn!("TCP_DEFER_ACCEPT on the listener: {e}; idle connections will hold children");
    }
}

/// Sets TCP_NODELAY on the listening socket, which accepted sockets inherit on Linux: each
/// response leaves in one `writev`, so Nagle's algorithm could only delay its last segment,
/// and setting it here costs no syscall per connection.
fn no_delay(fd: &impl AsFd) {
    if let Err(e) = setsockopt(fd, sockopt::TcpNoDelay, &true) {
        log::debug!("TCP_NODELAY on the listener: {e}");
    }
}

/// Sets or clears FD_CLOEXEC.
pub(crate) fn set_cloexec(fd: &impl AsFd, on: bool) -> io::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    let flags = if on {
        FdFlag::FD_CLOEXEC
    } else {
        FdFlag::empty()
    };
    fcntl(fd.as_fd(), FcntlArg::F_SETFD(flags))
        .map(drop)
        .map_err(io::Error::from)
}
