//! A TLS connection as a [`Stream`]: the child's request loop reads and writes plaintext, this
//! file turns it into records on the plain socket.
//!
//! The handshake happens inside the first reads, under the same deadline as a request head, so
//! a client that stalls or sends garbage instead of a ClientHello costs one child for at most
//! the head timeout. Large bodies go out a record's worth at a time, so a child never holds an
//! encrypted copy of a whole page. rustls reads the socket into its own buffer: a buffer here
//! would be one more copy, and ~17 KB of stack a fresh child faults in page by page.

use std::io::{self, IoSlice, Read as _, Write as _};
use std::time::Instant;

use rustls::ServerConnection;

use crate::stream::{Plain, Read, Stream};

/// Plaintext written per round: one maximum-size TLS record.
const CHUNK: usize = 16 * 1024;

/// One client's TLS session over its socket.
pub(crate) struct TlsStream<'a> {
    tls: ServerConnection,
    socket: Plain<'a>,
}

impl<'a> TlsStream<'a> {
    /// Wraps `socket` in a server-side TLS session.
    pub(crate) fn new(tls: ServerConnection, socket: Plain<'a>) -> TlsStream<'a> {
        TlsStream { tls, socket }
    }

    /// Sends every TLS byte rustls has queued (handshake messages, records, alerts).
    fn flush(&mut self) -> bool {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut self.socket) {
                Ok(0) => return false,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }
}

/// The socket as rustls reads it: one wait of [`Plain`]'s, bounded by the deadline; a wait that
/// ends without data reads as the end of input, and says why in `ended`.
struct Wait<'s, 'a> {
    socket: &'s mut Plain<'a>,
    deadline: Instant,
    idle: bool,
    ended: Option<Read>,
}

impl io::Read for Wait<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.socket.read(buf, self.deadline, self.idle) {
            Read::Data(n) => Ok(n),
            other => {
                self.ended = Some(other);
                Ok(0)
            }
        }
    }
}

impl Stream for TlsStream<'_> {
    fn read(&mut self, buf: &mut [u8], deadline: Instant, idle: bool) -> Read {
        loop {
            match self.tls.reader().read(buf) {
                Ok(0) => return Read::Closed, // close_notify
                Ok(n) => return Read::Data(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return Read::Closed,
            }
            if !self.flush() {
                return Read::Closed;
            }
            let mut wait = Wait {
                socket: &mut self.socket,
                deadline,
                idle,
                ended: None,
            };
            match self.tls.read_tls(&mut wait) {
                Ok(0) => return wait.ended.unwrap_or(Read::Closed),
                Ok(_) => {}
                Err(_) => return Read::Closed,
            }
            if self.tls.process_new_packets().is_err() {
                let _ = self.flush(); // the alert that says why
                return Read::Closed;
            }
        }
    }

    /// Sends a record's worth at a time (one `writev` of its records), and the rest at the end:
    /// a response's head, header lines and a small body leave in one system call.
    fn write_all(&mut self, slices: &mut [IoSlice<'_>]) -> bool {
        let mut pending = 0;
        for slice in slices.iter() {
            for chunk in slice.chunks(CHUNK) {
                if self.tls.writer().write_all(chunk).is_err() {
                    return false;
                }
                pending += chunk.len();
                if pending >= CHUNK {
                    if !self.flush() {
                        return false;
                    }
                    pending = 0;
                }
            }
        }
        self.flush()
    }

    fn close(&mut self) {
        self.tls.send_close_notify();
        let _ = self.flush();
        self.socket.close();
    }
}
