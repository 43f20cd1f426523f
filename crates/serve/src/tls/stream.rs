//! A TLS connection as a [`Stream`]: the child's request loop reads and writes plaintext, this
//! file turns it into records on the plain socket.
//!
//! The handshake happens inside the first reads, under the same deadline as a request head, so
//! a client that stalls or sends garbage instead of a ClientHello costs one child for at most
//! the head timeout. Large bodies go out a record's worth at a time, so a child never holds an
//! encrypted copy of a whole page.

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

impl Stream for TlsStream<'_> {
    fn read(&mut self, buf: &mut [u8], deadline: Instant, idle: bool) -> Read {
        let mut raw = [0u8; CHUNK + 512];
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
            let n = match self.socket.read(&mut raw, deadline, idle) {
                Read::Data(n) => n,
                other => return other,
            };
            let mut ciphertext = &raw[..n];
            while !ciphertext.is_empty() {
                if self.tls.read_tls(&mut ciphertext).is_err() {
                    return Read::Closed;
                }
                if self.tls.process_new_packets().is_err() {
                    let _ = self.flush(); // the alert that says why
                    return Read::Closed;
                }
            }
        }
    }

    fn write_all(&mut self, slices: &mut [IoSlice<'_>]) -> bool {
        for slice in slices.iter() {
            for chunk in slice.chunks(CHUNK) {
                if self.tls.writer().write_all(chunk).is_err() || !self.flush() {
                    return false;
                }
            }
        }
        true
    }

    fn close(&mut self) {
        self.tls.send_close_notify();
        let _ = self.flush();
        self.socket.close();
    }
}
