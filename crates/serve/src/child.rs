//! The child: one connection on stdin/stdout, served from the snapshot, then `_exit`.
//!
//! [`start`] runs right after `fork()`: it moves the connection onto fd 0 and fd 1, closes every
//! other descriptor it does not need, restores signal dispositions, arms the lifetime alarm and
//! serves. [`serve`] is the same loop for `--inetd`, where the connection already is stdin/stdout.
//!
//! stdout IS the client here: nothing in this file, or anything it calls, prints to stdout.
//!
//! `child-text.ld` beside this file names the code a child runs, so that the static build
//! (build.rs) lays it out together and a child faults in few pages of it.

use std::io::IoSlice;
use std::net::{IpAddr, TcpStream};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::client::{self, ProxyHeader, Trust};
use super::limits::{Limits, MAX_HEAD};
use super::request::{self, Parsed, Request};
use super::response::{self, Responder, Response, Status};
use super::status::{Counter, Counters, WaitSlot};
use super::stream::{Plain, Read, Stream};
#[cfg(feature = "https")]
use super::tls::stream::TlsStream;
use super::tls::Https;
use crate::clock;
use crate::logs::{format_line, AccessLog, LineBuffer, LogEntry};
use crate::sys;

/// What a child needs to serve, all of it inherited from the parent at fork.
pub(crate) struct Context<'a> {
    /// Chooses responses from the snapshot and the status counters.
    pub responder: Responder<'a>,
    /// The access log descriptor, the only one kept besides 0, 1 and 2.
    pub log: BorrowedFd<'a>,
    /// Timeouts and sizes.
    pub limits: &'a Limits,
    /// The peer's address, as `accept` gave it.
    pub peer: Option<IpAddr>,
    /// For a connection that came in through the HTTPS listener: the TLS configuration.
    pub tls: Option<&'a Https>,
    /// Which peers may name the client (PROXY header, forwarding headers): see `client.rs`.
    pub trust: &'a Trust,
    /// What the snapshot and answers this child inherited are current for.
    pub current: Current,
}

/// What a child's answers are current for, read by the parent before it forks: the generation
/// (the snapshot it maps), and under `--watch` the count of settled reloads instead (a failed
/// one turns every page into the failure page, which a child learns only at fork).
///
/// When it changes, the parent sends every child SIGUSR2 (see `Supervisor::retire_children`),
/// the signal that already ends a wait for the client: an outdated child then closes its
/// connection when it owes nothing (RFC 9112 9.3.1: a client retries a request on a reused
/// connection that closes without an answer, and opens a new one, served by the new generation)
/// and answers a request already under way with `Connection: close`. The check is one load from
/// the counters page, which every response touches anyway, so the hot path gains no page.
#[derive(Clone, Copy)]
pub(crate) struct Current {
    counter: Counter,
    value: u64,
}

impl Current {
    /// As the counters say now; `live` under `--watch`.
    pub(crate) fn read(counters: &Counters, live: bool) -> Current {
        let counter = match live {
            true => Counter::ReloadsSettled,
            false => Counter::Generation,
        };
        Current {
            counter,
            value: counters.get(counter),
        }
    }

    /// For a server without shared counters (`--inetd`): never outdated.
    pub(crate) const ALWAYS: Current = Current {
        counter: Counter::Generation,
        value: u64::MAX,
    };

    /// Whether a reload since made this child's answers outdated.
    fn outdated(self, counters: Option<&Counters>) -> bool {
        self.value != u64::MAX && counters.is_some_and(|c| c.get(self.counter) != self.value)
    }
}

/// The buffers a child writes into, allocated by the parent once, before it forks: a child
/// that allocates its own pays for malloc's code and bookkeeping pages, each a page fault in
/// every fresh child; these cost only the pages actually written.
///
/// Page-aligned, everything inline, the head buffer last: the log line, the response's header
/// lines, the dates and the first ~3 KiB of the request share one page, which a child serving
/// a small request then writes: one copy-on-write fault, where buffers allocated on their own
/// cost one each.
#[repr(C, align(4096))]
pub(crate) struct Scratch {
    /// The access-log line.
    line: Inline<LINE_INLINE>,
    /// The response's per-request header lines (Date, HSTS, Connection: at most ~110 bytes).
    dynamic: Inline<DYNAMIC_INLINE>,
    /// The request path, decoded.
    path: Vec<u8>,
    /// The current second, formatted: set by the parent before it forks (see [`Stamp`]), and
    /// by a keep-alive child after each wait.
    date: Stamp,
    /// The child's wait slot, set by the parent before it forks (see [`Scratch::assign`]).
    wait_slot: Option<WaitSlot>,
    /// The request head as read.
    head: [u8; MAX_HEAD],
}

impl Scratch {
    /// Buffers of the sizes a typical request needs (they grow if one needs more), on the
    /// heap, so that a child writing them (and their lengths) dirties few pages and none of
    /// the parent's stack.
    pub(crate) fn new() -> Box<Scratch> {
        Box::new(Scratch {
            line: Inline::default(),
            dynamic: Inline::default(),
            path: Vec::with_capacity(256),
            date: Stamp::default(),
            wait_slot: None,
            head: [0; MAX_HEAD],
        })
    }

    /// Dates the next child's first response: `secs` is now, read by the parent as it forks.
    pub(crate) fn stamp(&mut self, secs: i64) {
        self.date.set(secs);
    }

    /// Gives the next child its wait slot: the child says there, in the shared page, when it
    /// waits for its client, which tells the parent it may give way to readers queued behind
    /// it (see `Supervisor::evict_if_others_wait`). `None`: the child never says.
    pub(crate) fn assign(&mut self, wait_slot: Option<WaitSlot>) {
        self.wait_slot = wait_slot;
    }
}

/// A log line longer than this (a long User-Agent or Referer, escaped) spills to the heap.
const LINE_INLINE: usize = 512;
/// More than the longest set of per-request header lines, so they never spill.
const DYNAMIC_INLINE: usize = 160;

/// Bytes kept inline up to `N`, spilling to the heap beyond: a buffer that lives in the page
/// the child writes anyway (see [`Scratch`]) and still takes any length.
pub(crate) struct Inline<const N: usize> {
    bytes: [u8; N],
    len: usize,
    /// Everything, once it no longer fits inline; empty until then.
    spill: Vec<u8>,
}

impl<const N: usize> Default for Inline<N> {
    fn default() -> Self {
        Inline {
            bytes: [0; N],
            len: 0,
            spill: Vec::new(),
        }
    }
}

impl<const N: usize> Inline<N> {
    /// The bytes written since the last `clear`.
    fn as_bytes(&self) -> &[u8] {
        match self.spill.is_empty() {
            true => &self.bytes[..self.len],
            false => &self.spill,
        }
    }
}

// Always inlined: called through the trait, these would be functions of their own, laid out
// where `child-text.ld` cannot gather them (a trait impl's mangled name does not spell the
// path as the patterns expect), and every literal passed to them a constant in `.rodata`.
impl<const N: usize> LineBuffer for Inline<N> {
    #[inline(always)]
    fn clear(&mut self) {
        self.len = 0;
        self.spill.clear();
    }

    #[inline(always)]
    fn extend_from_slice(&mut self, more: &[u8]) {
        if self.spill.is_empty() {
            if let Some(room) = self.bytes.get_mut(self.len..self.len + more.len()) {
                room.copy_from_slice(more);
                self.len += more.len();
                return;
            }
            self.spill.extend_from_slice(&self.bytes[..self.len]);
        }
        self.spill.extend_from_slice(more);
    }

    #[inline(always)]
    fn push(&mut self, byte: u8) {
        if self.spill.is_empty() && self.len < N {
            self.bytes[self.len] = byte;
            self.len += 1;
        } else {
            self.extend_from_slice(&[byte]);
        }
    }
}

/// The current second as a child writes it: the Date header's IMF-fixdate and the access log's
/// date, formatted only when the second changes. The parent sets it before forking, so a child
/// that serves one request which was already there uses it instead of the clock and the
/// formatting code, whose pages it would otherwise fault in; a keep-alive child sets it again
/// after each wait, one clock read per request.
#[derive(Default)]
pub(crate) struct Stamp {
    secs: i64,
    http: Vec<u8>,
    clf: Vec<u8>,
}

impl Stamp {
    /// Brings the stamp to `secs` (seconds since the epoch), formatting only when it changed.
    pub(crate) fn set(&mut self, secs: i64) {
        if secs == self.secs && !self.http.is_empty() {
            return;
        }
        self.secs = secs;
        self.http.clear();
        clock::http_date(&mut self.http, secs);
        self.clf.clear();
        clock::clf_date(&mut self.clf, secs);
    }
}

/// Serves `conn` in a freshly forked child and exits; never returns. `scratch` comes from the
/// parent (see [`Scratch`]), its date set just before forking: it dates a first response that
/// needed no waiting.
pub(crate) fn start(conn: TcpStream, ctx: &Context<'_>, scratch: &mut Scratch) -> ! {
    // The connection becomes stdin and stdout; the original descriptor is then closed with
    // everything else (listening socket, signal pipe, lock, snapshot memfd, the parent's copy).
    if nix::unistd::dup2_stdin(&conn).is_err() || nix::unistd::dup2_stdout(&conn).is_err() {
        sys::exit_now(1);
    }
    let log_fd = ctx.log.as_raw_fd();
    sys::close_range(3, log_fd.max(3) - 1);
    sys::close_range(log_fd.max(2) + 1, i32::MAX);
    std::mem::forget(conn); // its descriptor is closed above; dropping would close a stranger's

    // The parent's handlers (see `signals.rs`) would write to a pipe this process no longer
    // has. HUP and INT are ignored so that a terminal's Ctrl-C or hangup lets in-flight
    // responses finish (the parent drains); TERM and USR1 go back to their defaults.
    // Inherited as they should be: PIPE ignored (Rust's runtime did that at start-up, so a
    // vanished client is an EPIPE error), ALRM at its default (the lifetime alarm kills), CHLD
    // blocked (this process has no children), and USR2's handler, blocked until the first wait
    // for the client. USR2 asks for eviction when the server is full (see
    // `Supervisor::evict_if_others_wait`): it ends a wait for the client (`stream.rs`), so it can
    // end an idle or slow connection but never a response half-written (other calls are
    // restarted).
    sys::set_signal_dispositions(
        &[Signal::SIGTERM, Signal::SIGUSR1],
        &[Signal::SIGHUP, Signal::SIGINT],
    );
    let lifetime = ctx.limits.lifetime.as_secs().clamp(1, u32::MAX as u64) as u32;
    nix::unistd::alarm::set(lifetime);

    match ctx.tls {
        Some(https) => serve_tls(ctx, https, scratch),
        None => serve_stream(ctx, &mut Plain::stdio(), scratch, true),
    }
    sys::exit_now(0)
}

/// Serves a connection that came in through the HTTPS listener: the handshake happens in the
/// first reads of the request loop, under the head timeout.
///
/// PROXY protocol is read on the plain listener only (`Trust::inside_tls`).
///
/// Not inlined: its TLS state is large, and a plain child should not probe (and so fault in)
/// the stack pages it would take.
#[cfg(feature = "https")]
#[inline(never)]
fn serve_tls(ctx: &Context<'_>, https: &Https, scratch: &mut Scratch) {
    // rustls warns about what a client sent (an IP address as SNI, as scanners and benchmarks
    // send): a client's quirk, not the operator's, and in every such child a formatted line and
    // a write. Errors still go out.
    if log::max_level() > log::LevelFilter::Error {
        log::set_max_level(log::LevelFilter::Error);
    }
    let trust = ctx.trust.inside_tls();
    let ctx = Context {
        trust: &trust,
        responder: ctx.responder,
        ..*ctx
    };
    match https.acceptor.accept() {
        Ok(session) => serve_stream(
            &ctx,
            &mut TlsStream::new(session, Plain::stdio()),
            scratch,
            false,
        ),
        Err(e) => log::error!("TLS session: {e}"),
    }
}

/// Without HTTPS built in there is no HTTPS listener, so no `Https` to serve with.
#[cfg(not(feature = "https"))]
fn serve_tls(_: &Context<'_>, https: &Https, _: &mut Scratch) {
    https.never();
}

/// Serves HTTP/1.x on stdin/stdout until the client closes, a timeout fires, or a response
/// closes the connection.
pub(crate) fn serve(ctx: &Context<'_>) {
    serve_stream(ctx, &mut Plain::stdio(), &mut Scratch::new(), false);
}

/// When the current wait for the client ends. A timeout starts as a duration and becomes an
/// instant only when the child first has to wait: a request that is already there is served
/// without reading the clock.
#[derive(Clone, Copy)]
enum Deadline {
    In(Duration),
    At(Instant),
}

impl Deadline {
    fn at(&mut self) -> Instant {
        let at = match *self {
            Deadline::In(timeout) => Instant::now() + timeout,
            Deadline::At(at) => at,
        };
        *self = Deadline::At(at);
        at
    }
}

/// The request loop over any [`Stream`]: read a head, answer it, log it, until done.
/// `dated`: the scratch's date (the time of the fork) dates the first response if it needed no
/// waiting.
fn serve_stream<S: Stream>(ctx: &Context<'_>, stream: &mut S, scratch: &mut Scratch, dated: bool) {
    let limits = ctx.limits;
    let counters = ctx.responder.counters;
    let Scratch {
        head: buf,
        line,
        dynamic,
        path,
        date,
        wait_slot,
    } = scratch;
    // Says in the shared page that this child waits for its client, for the length of a wait.
    let wait_slot = counters.zip(*wait_slot);
    let mut out = Out {
        stream,
        hsts: ctx.tls.is_some_and(|https| https.hsts),
        log: ctx.log,
        counters,
        conn: ctx.peer,
        line,
        dynamic,
        dated: dated && !date.http.is_empty(),
        date,
    };
    let mut filled = 0;
    // The first request has `head_timeout` from accept; later ones `idle_timeout` for their
    // first byte, then `head_timeout` for the rest of the head.
    let mut deadline = Deadline::In(limits.head_timeout);
    let mut idle = false;
    // A trusted front that promised PROXY headers sends one before the first head, within the
    // same head timeout; nobody else may send one at all.
    let mut proxy_pending = ctx.trust.expects_proxy_header(ctx.peer);
    let mut first_head = true;
    let mut first_read = true;
    loop {
        if filled > 0 && proxy_pending {
            match client::proxy_header(&buf[..filled]) {
                ProxyHeader::Complete { len, source } => {
                    out.conn = source.client(out.conn);
                    buf.copy_within(len..filled, 0);
                    filled -= len;
                    proxy_pending = false;
                    continue;
                }
                ProxyHeader::Invalid => return out.refuse(Status::BadRequest, None, false),
                ProxyHeader::Partial => {}
            }
        } else if filled > 0 {
            if first_head && client::starts_proxy_header(&buf[..filled]) {
                return out.refuse(Status::BadRequest, None, false);
            }
            request::accept_later_minors(&mut buf[..filled]);
            match request::parse(&buf[..filled]) {
                Parsed::Complete { len, request } => {
                    let outdated = ctx.current.outdated(counters);
                    if outdated && !first_head {
                        // A reused connection: closed unanswered, the request is retried on a
                        // new one (see [`Current`]), never answered from the old site.
                        return out.stream.close();
                    }
                    first_head = false;
                    let client = client::from_headers(out.conn, &request, ctx.trust);
                    let mut response = ctx.responder.respond(&request, client, path);
                    response.close |= outdated;
                    let sent = out.send(&response, request.minor == 0);
                    out.log(client, Some(&request), response.status, sent);
                    // Any later request comes after an unknown wait: ask the clock.
                    out.dated = false;
                    if response.close || sent.is_none() {
                        return out.stream.close();
                    }
                    buf.copy_within(len..filled, 0);
                    filled -= len;
                    idle = filled == 0;
                    let wait = if idle {
                        limits.idle_timeout
                    } else {
                        limits.head_timeout
                    };
                    deadline = Deadline::In(wait);
                    continue;
                }
                Parsed::Reject { status, request } => {
                    let parsed = (!request.method.is_empty()).then_some(&request);
                    return out.refuse(status, parsed, request::starts_head(&buf[..filled]));
                }
                Parsed::Partial if filled == buf.len() => {
                    let status = match buf.contains(&b'\n') {
                        true => Status::HeaderFieldsTooLarge,
                        false => Status::UriTooLong,
                    };
                    return out.refuse(status, None, request::starts_head(&buf[..filled]));
                }
                Parsed::Partial => {}
            }
        }
        // Only the first read looks before it waits: the listener defers accept until a
        // request's first bytes are in, so they usually are. A keep-alive connection's next
        // request usually is not yet, and looking would cost a system call for nothing.
        let ready = match std::mem::take(&mut first_read) {
            true => out.stream.read_ready(&mut buf[filled..]),
            false => None,
        };
        let read = match ready {
            Some(read) => read,
            None => {
                out.dated = false; // waited: the fork's second may be past
                                   // Owing nothing: between requests, or not one byte yet (on a listener that
                                   // defers accept, a connection silent for the whole head timeout). Over TLS,
                                   // no plaintext yet may be a handshake under way: that wait counts as a head's.
                if let Some((counters, slot)) = wait_slot {
                    counters.begin_wait(slot, idle || (filled == 0 && ctx.tls.is_none()));
                }
                let read = out.stream.read(&mut buf[filled..], deadline.at(), idle);
                if let Some((counters, slot)) = wait_slot {
                    counters.end_wait(slot);
                }
                read
            }
        };
        let evicted = matches!(read, Read::Evicted);
        let outdated = evicted && ctx.current.outdated(counters);
        let draining = evicted && counters.is_some_and(|c| c.get(Counter::Draining) != 0);
        if let (true, Some(counters), false) = (evicted, counters, draining || outdated) {
            counters.add(Counter::Evicted, 1);
        }
        match read {
            // A new generation: a connection that asked nothing yet, or only part of a later
            // request, closes (its client retries on a new connection); a first request on its
            // way is answered, with `Connection: close`.
            Read::Evicted if outdated && (filled == 0 || !first_head) => return,
            // A shutdown closes idle connections; a request on its way is still served.
            Read::Evicted if (draining || outdated) && !idle => {}
            Read::Data(n) => {
                filled += n;
                if idle {
                    idle = false;
                    deadline = Deadline::In(limits.head_timeout);
                }
            }
            Read::Closed => return,
            Read::TimedOut | Read::Evicted if idle => return,
            Read::TimedOut | Read::Evicted => {
                return out.refuse(
                    Status::RequestTimeout,
                    None,
                    request::starts_head(&buf[..filled]),
                )
            }
        }
    }
}

/// The writing side of a connection and its reusable buffers.
struct Out<'a, S: Stream> {
    stream: &'a mut S,
    /// Whether responses carry Strict-Transport-Security (HTTPS with `--hsts`).
    hsts: bool,
    log: BorrowedFd<'a>,
    counters: Option<&'a Counters>,
    /// The connection's client: the peer, or whom a trusted PROXY header named. A request's
    /// forwarding headers may name another (`client::from_headers`).
    conn: Option<IpAddr>,
    line: &'a mut Inline<LINE_INLINE>,
    dynamic: &'a mut Inline<DYNAMIC_INLINE>,
    /// The current second, formatted (see [`Stamp`]).
    date: &'a mut Stamp,
    /// Whether `date` dates the response being made: until the child first waits or answers
    /// a request, and then once set again for the next.
    dated: bool,
}

impl<S: Stream> Out<'_, S> {
    /// Brings the date up to now unless it already dates this response.
    fn date_now(&mut self) {
        if !self.dated {
            self.date.set(clock::now());
            self.dated = true;
        }
    }

    /// Answers with a canned error (without its body to a HEAD), logs it and closes.
    fn refuse(&mut self, status: Status, request: Option<&Request<'_>>, head: bool) {
        let sent = self.send(&response::canned(status, head, true), false);
        self.log(self.conn, request, status, sent);
        self.stream.close();
    }

    /// Writes the response with one vectored write (more only if the socket takes it in
    /// parts). Returns the body bytes sent, or `None` if the client went away.
    fn send(&mut self, response: &Response<'_>, http10: bool) -> Option<usize> {
        self.dynamic.clear();
        self.dynamic.extend_from_slice(b"Date: ");
        self.date_now();
        self.dynamic.extend_from_slice(&self.date.http);
        self.dynamic.extend_from_slice(b"\r\n");
        if self.hsts {
            self.dynamic
                .extend_from_slice(b"Strict-Transport-Security: max-age=31536000\r\n");
        }
        if response.close {
            self.dynamic.extend_from_slice(b"Connection: close\r\n");
        } else if http10 {
            self.dynamic
                .extend_from_slice(b"Connection: keep-alive\r\n");
        }
        self.dynamic.extend_from_slice(b"\r\n");
        let body: &[u8] = if response.send_body {
            &response.body
        } else {
            b""
        };
        let mut slices = [
            IoSlice::new(&response.head),
            IoSlice::new(self.dynamic.as_bytes()),
            IoSlice::new(body),
        ];
        self.stream.write_all(&mut slices).then_some(body.len())
    }

    fn log(
        &mut self,
        client: Option<IpAddr>,
        request: Option<&Request<'_>>,
        status: Status,
        sent: Option<usize>,
    ) {
        if let Some(counters) = self.counters {
            counters.count_response(status.code());
        }
        self.date_now();
        let entry = LogEntry {
            remote: client,
            time: self.date.secs,
            date: Some(&self.date.clf),
            request: request.map(|r| (r.method, r.target, r.minor)),
            status: status.code(),
            bytes: sent.unwrap_or(0),
            referer: request.and_then(|r| r.referer),
            user_agent: request.and_then(|r| r.user_agent),
        };
        format_line(self.line, &entry);
        // A line is written whole or not at all; one left out is counted, never lost silently.
        if let Err(lost) = AccessLog::append_line(self.log, self.line.as_bytes()) {
            if let Some(counters) = self.counters {
                counters.set(Counter::AccessLogLastErrno, lost.errno as u64);
                counters.add(Counter::AccessLogLinesLost, 1);
            }
        }
    }
}

/// Runs the child's code paths once in the parent before the first fork: one request parsed
/// and answered from the snapshot, dates and a log line formatted, into scratch buffers.
/// Everything lazily initialised on the way (CPU feature detection for httparse's and memchr's
/// SIMD, which traps to the hypervisor in a VM) is then inherited by every child instead of
/// being redone in each.
pub(crate) fn warm_up(responder: Responder<'_>) {
    let request = b"GET / HTTP/1.1\r\nHost: warm.up\r\nAccept-Encoding: gzip\r\n\r\n";
    let mut path = Vec::new();
    let mut scratch = Vec::new();
    if let Parsed::Complete { request, .. } = request::parse(request) {
        let response = responder.respond(&request, None, &mut path);
        clock::http_date(&mut scratch, clock::now());
        let entry = LogEntry {
            remote: None,
            time: clock::now(),
            date: None,
            request: Some((request.method, request.target, request.minor)),
            status: response.status.code(),
            bytes: response.body.len(),
            referer: None,
            user_agent: Some(b"warm-up"),
        };
        format_line(&mut scratch, &entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Short contents stay inline; a long one spills whole and reads back in order; a cleared
    /// buffer is inline again.
    #[test]
    fn inline_buffer_spills_past_its_size_and_keeps_every_byte() {
        let mut buffer = Inline::<8>::default();
        let mut expected = Vec::new();
        for piece in [&b"GET "[..], b"/a", b"", b"bcdefghij", b"k"] {
            buffer.extend_from_slice(piece);
            expected.extend_from_slice(piece);
            buffer.push(b'.');
            expected.push(b'.');
            assert_eq!(buffer.as_bytes(), &expected[..]);
        }
        assert!(!buffer.spill.is_empty(), "18 bytes in 8 stayed inline?");
        buffer.clear();
        buffer.extend_from_slice(b"12345678");
        assert_eq!(buffer.as_bytes(), b"12345678");
        assert!(buffer.spill.is_empty(), "8 bytes in 8 spilled");
        buffer.push(b'9');
        assert_eq!(buffer.as_bytes(), b"123456789");
    }
}
