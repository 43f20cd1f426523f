//! systemd's readiness protocol (`Type=notify`): one datagram per state change to the socket
//! named by `NOTIFY_SOCKET`, when there is one.
//!
//! `READY=1` goes out once the first render is mapped and the parent is about to accept (and
//! again from each new generation after a reload), `STATUS=` lines say what the server is doing,
//! `STOPPING=1` when it drains. A plain `UnixDatagram` is all it takes: no crate, no thread.
//! Failures are logged at debug level and otherwise ignored: readiness is a courtesy to the
//! service manager, never a reason to stop serving.

use std::os::unix::net::{SocketAddr, UnixDatagram};

/// The environment variable systemd sets for `Type=notify` services.
const VAR: &str = "NOTIFY_SOCKET";

/// Sends `state` (newline-separated `KEY=value` lines) if `NOTIFY_SOCKET` is set.
pub(crate) fn notify(state: &str) {
    let Some(path) = std::env::var_os(VAR) else {
        return;
    };
    let sent = (|| -> std::io::Result<()> {
        let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
        // A leading '@' names a socket in the abstract namespace.
        let addr = match bytes.strip_prefix(b"@") {
            Some(name) => {
                use std::os::linux::net::SocketAddrExt;
                SocketAddr::from_abstract_name(name)?
            }
            None => SocketAddr::from_pathname(&path)?,
        };
        let socket = UnixDatagram::unbound()?;
        socket.send_to_addr(state.as_bytes(), &addr)?;
        Ok(())
    })();
    if let Err(e) = sent {
        log::debug!("notifying systemd ({VAR}={}): {e}", path.to_string_lossy());
    }
}
