//! Every response forkblog sends, chosen and built in one place.
//!
//! [`Responder::respond`] turns a parsed request into a [`Response`]: a page from the snapshot
//! (200, gzip or identity), part of one (206/416), a redirect to the slash form (301), a
//! revalidation (304) or a failed precondition (412), the 404 page, the status endpoint, or a
//! refusal (405/501). The canned refusals of the parser and the child (400, 408, 413, 414, 431,
//! 505) and the parent's 503 live here too. Pure functions over the snapshot: no I/O, so the
//! fuzz target reaches this exactly.

use std::borrow::Cow;
use std::net::IpAddr;

use super::request::{self, trim, Request, Target};
use super::snapshot::{Entry, View};
use super::status::{Access, Counters};

/// The statuses forkblog answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 200
    Ok,
    /// 206: one byte range of the identity body.
    PartialContent,
    /// 301, to the same path with a trailing slash.
    MovedPermanently,
    /// 304
    NotModified,
    /// 400
    BadRequest,
    /// 404
    NotFound,
    /// 405: a defined method this site does not allow.
    MethodNotAllowed,
    /// 408
    RequestTimeout,
    /// 412: `If-Match` or `If-Unmodified-Since` does not hold.
    PreconditionFailed,
    /// 413: forkblog accepts no request bodies.
    ContentTooLarge,
    /// 414
    UriTooLong,
    /// 416: a range that starts past the end.
    RangeNotSatisfiable,
    /// 431
    HeaderFieldsTooLarge,
    /// 500: the snapshot is unreadable (never expected).
    InternalError,
    /// 501: an unknown method or transfer coding.
    NotImplemented,
    /// 503: no process could be started for the connection.
    ServiceUnavailable,
    /// 505
    VersionNotSupported,
}

impl Status {
    /// The numeric code.
    pub fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::PartialContent => 206,
            Status::MovedPermanently => 301,
            Status::NotModified => 304,
            Status::BadRequest => 400,
            Status::NotFound => 404,
            Status::MethodNotAllowed => 405,
            Status::RequestTimeout => 408,
            Status::PreconditionFailed => 412,
            Status::ContentTooLarge => 413,
            Status::UriTooLong => 414,
            Status::RangeNotSatisfiable => 416,
            Status::HeaderFieldsTooLarge => 431,
            Status::InternalError => 500,
            Status::NotImplemented => 501,
            Status::ServiceUnavailable => 503,
            Status::VersionNotSupported => 505,
        }
    }

    /// The canned response for an error status: head lines (without the final CRLF) and body.
    fn canned(self) -> (&'static [u8], &'static [u8]) {
        // The lengths are checked by a unit test below.
        match self {
            Status::BadRequest => (b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 12\r\n", b"Bad Request\n"),
            Status::MethodNotAllowed => (b"HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 19\r\n", b"Method Not Allowed\n"),
            Status::RequestTimeout => (b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 16\r\n", b"Request Timeout\n"),
            Status::PreconditionFailed => (b"HTTP/1.1 412 Precondition Failed\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 20\r\n", b"Precondition Failed\n"),
            Status::ContentTooLarge => (b"HTTP/1.1 413 Content Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 37\r\n", b"Request bodies are not accepted here\n"),
            Status::UriTooLong => (b"HTTP/1.1 414 URI Too Long\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\n", b"URI Too Long\n"),
            Status::HeaderFieldsTooLarge => (b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 32\r\n", b"Request Header Fields Too Large\n"),
            Status::NotImplemented => (b"HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 16\r\n", b"Not Implemented\n"),
            Status::ServiceUnavailable => (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 20\r\nRetry-After: 1\r\n", b"Service Unavailable\n"),
            Status::VersionNotSupported => (b"HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 27\r\n", b"HTTP Version Not Supported\n"),
            Status::Ok | Status::PartialContent | Status::MovedPermanently | Status::NotModified
            | Status::NotFound | Status::RangeNotSatisfiable | Status::InternalError => {
                (b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 22\r\n", b"Internal Server Error\n")
            }
        }
    }
}

/// A response: head lines (without Date, Connection and the final CRLF) and the body.
#[derive(Debug)]
pub struct Response<'a> {
    /// What to log and count.
    pub status: Status,
    /// Status line and fixed headers, each ending in CRLF.
    pub head: Cow<'a, [u8]>,
    /// The body (not sent for HEAD, but counted in Content-Length).
    pub body: Cow<'a, [u8]>,
    /// Whether the body is sent (false for HEAD, 304 and 301).
    pub send_body: bool,
    /// Whether the connection closes after this response.
    pub close: bool,
}

/// A canned error response. `close` is forced for refusals whose request left bytes unread.
pub fn canned(status: Status, head_only: bool, close: bool) -> Response<'static> {
    let (head, body) = status.canned();
    Response {
        status,
        head: Cow::Borrowed(head),
        body: Cow::Borrowed(body),
        send_body: !head_only,
        close,
    }
}

/// The whole 503 the parent writes when it cannot fork for a connection: the one response the
/// parent ever sends, built once.
pub fn service_unavailable() -> Vec<u8> {
    let (head, body) = Status::ServiceUnavailable.canned();
    [head, b"Connection: close\r\n\r\n", body].concat()
}

/// What a response is chosen from: the snapshot and the status endpoint.
#[derive(Clone, Copy)]
pub struct Responder<'a> {
    /// The rendered site.
    pub site: View<'a>,
    /// Where the status endpoint is and who may read it.
    pub status: &'a Access,
    /// The shared counters the status endpoint reports (none under `--inetd`).
    pub counters: Option<&'a Counters>,
    /// On the plain listener while HTTPS is served: its port, for the redirect every page
    /// request gets (ACME challenges and the status endpoint excepted).
    pub https_port: Option<u16>,
    /// Under `--watch`: the generation endpoint and the failure page (see `live.rs`).
    pub live: Option<super::live::Live<'a>>,
}

impl<'a> Responder<'a> {
    /// Chooses the response to `request` from `client`. `scratch` holds the decoded path when
    /// decoding changes it, and always for a path with no resource.
    pub fn respond(
        &self,
        request: &Request<'_>,
        client: Option<IpAddr>,
        scratch: &mut Vec<u8>,
    ) -> Response<'a> {
        let head_only = request.method == "HEAD";
        let close = !request.keep_alive;
        if !request::is_readable(request.method) {
            let status = match request::is_known(request.method) {
                true => Status::MethodNotAllowed,
                false => Status::NotImplemented,
            };
            return canned(status, false, close);
        }
        let Some(target) = Target::split(request.target) else {
            return canned(Status::BadRequest, head_only, true);
        };
        let Some(path) = target.decode_path(scratch) else {
            return canned(Status::BadRequest, head_only, true);
        };
        if let Some(prometheus) = self.status.route(path, target.query, client) {
            return self.status_page(prometheus, head_only, close);
        }
        if let Some(live) = self.live {
            let answer = super::live::respond(path, self.counters, live.failure, head_only, close);
            if let Some(answer) = answer {
                return answer;
            }
        }
        if let (Some(token), Some(counters)) = (path.strip_prefix(ACME_CHALLENGES), self.counters) {
            if let Some(answer) = crate::challenge::answer(counters, token) {
                return challenge_answer(answer, head_only, close);
            }
        }
        if let Some(port) = self.https_port {
            if !path.starts_with(ACME_CHALLENGES) {
                // RFC 9112 3.2.2: an absolute form's authority wins over Host.
                let authority = match target.authority {
                    b"" => request.host.unwrap_or_default(),
                    authority => authority,
                };
                return to_https(authority, port, target, head_only, close);
            }
        }
        let Some(entry) = self.site.lookup(path) else {
            if !target.is_escaped() {
                // Decoding left the buffer alone; `missing` works on the path in it.
                scratch.clear();
                scratch.extend_from_slice(target.path);
            }
            return self.missing(target, scratch, head_only, close);
        };
        if let Some(location) = redirect_location(&entry) {
            return moved(location, b"", target.query, close);
        }
        match preconditions(request, &entry) {
            Precondition::Hold => {}
            Precondition::NotModified => return revalidated(request, &entry, close),
            Precondition::Failed => return canned(Status::PreconditionFailed, head_only, close),
        }
        if request.method == "GET" {
            if let Some(range) = request.range.filter(|_| range_applies(request, &entry)) {
                match byte_range(range, entry.plain.body.len()) {
                    Ranged::Whole => {}
                    Ranged::Part(first, last) => return partial(&entry, first, last, close),
                    Ranged::Unsatisfiable => return unsatisfiable(&entry, close),
                }
            }
        }
        let variant = match (request.gzip, entry.gzip) {
            (true, Some(gz)) => gz,
            _ => entry.plain,
        };
        Response {
            status: Status::Ok,
            head: Cow::Borrowed(variant.head),
            body: Cow::Borrowed(variant.body),
            send_body: !head_only,
            close,
        }
    }

    /// No resource at the path (decoded, in `scratch`): a 301 to the slash form if that
    /// exists, else the 404 page.
    fn missing(
        &self,
        target: Target<'_>,
        scratch: &mut Vec<u8>,
        head_only: bool,
        close: bool,
    ) -> Response<'a> {
        // `/x/index.html`, as static hosts answered it: the page at `/x/`. Decoded, since an
        // escaped unreserved character is that character (RFC 3986 6.2.2.2: `index%2ehtml` is
        // `index.html`), but behind a slash sent as one: `%2F` is not `/` (2.2), so
        // `/x%2Findex.html` names no folder. The location is the page's own path, encoded.
        if let Some(dir) = scratch
            .strip_suffix(INDEX)
            .filter(|d| d.ends_with(b"/") && slash_sent_before(target.path, INDEX.len()))
        {
            if let Some(dir) = self
                .site
                .lookup(dir)
                .and_then(|e| std::str::from_utf8(e.path).ok())
            {
                let location = crate::escape::encode_path(dir);
                return moved(location.as_bytes(), b"", target.query, close);
            }
        }
        if !scratch.ends_with(b"/") {
            scratch.push(b'/');
            if let Some(entry) = self.site.lookup(scratch) {
                // An old address with a slash: straight to where it leads, in one hop.
                if let Some(location) = redirect_location(&entry) {
                    return moved(location, b"", target.query, close);
                }
                // The path as the client wrote it (still percent-encoded), a slash, the query.
                return moved(target.path, b"/", target.query, close);
            }
        }
        match self.site.not_found() {
            Some(entry) => Response {
                status: Status::NotFound,
                head: Cow::Borrowed(entry.plain.head),
                body: Cow::Borrowed(entry.plain.body),
                send_body: !head_only,
                close,
            },
            None => canned(Status::InternalError, head_only, true),
        }
    }

    /// The status endpoint: never cached, never compressed.
    fn status_page(&self, prometheus: bool, head_only: bool, close: bool) -> Response<'a> {
        let body = match (self.counters, prometheus) {
            (Some(c), true) => c.prometheus(self.site),
            (Some(c), false) => c.json(self.site),
            (None, _) => b"{}\n".to_vec(),
        };
        let content_type = match prometheus {
            true => "text/plain; version=0.0.4; charset=utf-8",
            false => "application/json",
        };
        uncached(Status::Ok, content_type, body, head_only, close)
    }
}

/// Where ACME's HTTP-01 challenges are asked for: served on the plain listener even when every
/// other page redirects to HTTPS.
/// What an HTML page may load: its own site's scripts, styles and frames; images and media
/// from anywhere (posts embed them); inline styles (templates use them); no plugins, no inline
/// or foreign scripts, so markup that slipped into a post cannot run code.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src * data:; media-src *; style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'";

pub const ACME_CHALLENGES: &[u8] = b"/.well-known/acme-challenge/";

/// The file name static hosts serve a folder's page as.
const INDEX: &[u8] = b"index.html";

/// Whether the last `decoded` characters of the raw (still percent-encoded) `path` come right
/// after a `/` sent as such. Walks back one character at a time: a `%` two bytes before the
/// end starts an escape (hex digits are never `%`), anything else is one byte.
fn slash_sent_before(path: &[u8], decoded: usize) -> bool {
    let mut end = path.len();
    for _ in 0..decoded {
        let step = match end.checked_sub(3).map(|at| path[at]) {
            Some(b'%') => 3,
            _ => 1,
        };
        let Some(before) = end.checked_sub(step) else {
            return false;
        };
        end = before;
    }
    path[..end].ends_with(b"/")
}

/// Where a redirect resource (an old address of a moved page) leads, from its prebuilt head.
fn redirect_location<'a>(entry: &Entry<'a>) -> Option<&'a [u8]> {
    if !entry.plain.head.starts_with(b"HTTP/1.1 301 ") {
        return None;
    }
    header_value(entry.plain.head, b"Location")
}

/// A 301 to `path` + `suffix`, with the request's query kept.
fn moved<'a>(path: &[u8], suffix: &[u8], query: &[u8], close: bool) -> Response<'a> {
    let mut head = b"HTTP/1.1 301 Moved Permanently\r\nLocation: ".to_vec();
    head.extend_from_slice(path);
    head.extend_from_slice(suffix);
    if !query.is_empty() {
        head.push(b'?');
        head.extend_from_slice(query);
    }
    head.extend_from_slice(b"\r\nContent-Length: 0\r\n");
    Response {
        status: Status::MovedPermanently,
        head: Cow::Owned(head),
        body: Cow::Borrowed(b""),
        send_body: false,
        close,
    }
}

/// The answer to an ACME HTTP-01 challenge (the key authorization, as text).
fn challenge_answer<'a>(answer: Vec<u8>, head_only: bool, close: bool) -> Response<'a> {
    uncached(
        Status::Ok,
        "application/octet-stream",
        answer,
        head_only,
        close,
    )
}

/// A response made per request (the status endpoint, ACME answers, watch mode's pages): never
/// cached, never compressed; with the safety headers the prebuilt heads carry.
pub fn uncached<'a>(
    status: Status,
    content_type: &str,
    body: Vec<u8>,
    head_only: bool,
    close: bool,
) -> Response<'a> {
    let reason = match status {
        Status::Ok => "OK",
        _ => "Internal Server Error",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n",
        status.code(),
        body.len()
    );
    if content_type.starts_with("text/html") {
        head.push_str(&format!(
            "Content-Security-Policy: {}\r\n",
            CONTENT_SECURITY_POLICY
        ));
    }
    Response {
        status,
        head: Cow::Owned(head.into_bytes()),
        body: Cow::Owned(body),
        send_body: !head_only,
        close,
    }
}

/// A 301 to the same path and query over HTTPS, on `port` (omitted when 443), at the host of
/// `authority` (`host[:port]`). With no host to name (an empty `Host`, or none in HTTP/1.0)
/// there is no URI to send the client to: RFC 9112 3.3 lets a server reject a request whose
/// authority is empty, and a 400 is also what HTTP/1.1 gets for a missing Host. Guessing a
/// name instead would be guessing: `base_url` defaults to a loopback address, and a
/// certificate from `--tls-cert` may name many hosts.
fn to_https<'a>(
    authority: &[u8],
    port: u16,
    target: Target<'_>,
    head_only: bool,
    close: bool,
) -> Response<'a> {
    let name = request::host_name(authority);
    if name.is_empty() {
        return canned(Status::BadRequest, head_only, true);
    }
    let mut head = b"HTTP/1.1 301 Moved Permanently\r\nLocation: https://".to_vec();
    head.extend_from_slice(name);
    if port != 443 {
        head.extend_from_slice(format!(":{port}").as_bytes());
    }
    head.extend_from_slice(target.path);
    if !target.query.is_empty() {
        head.push(b'?');
        head.extend_from_slice(target.query);
    }
    head.extend_from_slice(b"\r\nContent-Length: 0\r\n");
    Response {
        status: Status::MovedPermanently,
        head: Cow::Owned(head),
        body: Cow::Borrowed(b""),
        send_body: false,
        close,
    }
}

/// What a request's preconditions say about `entry`.
#[derive(Debug, PartialEq, Eq)]
enum Precondition {
    /// Go on: range, then the representation.
    Hold,
    /// 304.
    NotModified,
    /// 412.
    Failed,
}

/// The preconditions in RFC 9110 13.2.2's order. `If-Match` (strong comparison, 13.1.1) or,
/// without it, `If-Unmodified-Since` (13.1.4) failing is a 412; then `If-None-Match` (weak,
/// 13.1.2) or, without it, `If-Modified-Since` (13.1.3) failing is a 304. A date that is not
/// an HTTP-date in one of its three forms is ignored, as those sections ask; dates compare as
/// instants, so a client's date later than Last-Modified also means "not modified".
fn preconditions(request: &Request<'_>, entry: &Entry<'_>) -> Precondition {
    let last_modified =
        || crate::clock::parse_http_date(header_value(entry.plain.head, b"Last-Modified")?);
    let since =
        |field: Option<&[u8]>| Some((crate::clock::parse_http_date(field?)?, last_modified()?));
    let failed = match request.if_match {
        Some(tags) => !strong_match(tags, entry),
        None => since(request.if_unmodified_since).is_some_and(|(date, lm)| lm > date),
    };
    if failed {
        return Precondition::Failed;
    }
    let not_modified = match request.if_none_match {
        Some(tags) => etag_matches(tags, entry.etag),
        None => since(request.if_modified_since).is_some_and(|(date, lm)| lm <= date),
    };
    match not_modified {
        true => Precondition::NotModified,
        false => Precondition::Hold,
    }
}

/// `If-Match` (RFC 9110 13.1.1): `*`, or a listed strong tag identical to the tag of a current
/// representation of the resource: the identity body's or, when there is one, the gzip body's.
/// A weak tag never matches.
fn strong_match(list: &[u8], entry: &Entry<'_>) -> bool {
    list.split(|&b| b == b',').map(trim).any(|tag| {
        tag == b"*"
            || (!entry.etag.is_empty()
                && (tag == entry.etag || (entry.gzip.is_some() && is_gz_tag(tag, entry.etag))))
    })
}

fn revalidated<'a>(request: &Request<'_>, entry: &Entry<'_>, close: bool) -> Response<'a> {
    let mut head = b"HTTP/1.1 304 Not Modified\r\nETag: ".to_vec();
    match (request.gzip, entry.gzip) {
        (true, Some(_)) => head.extend_from_slice(&gz_tag(entry.etag)),
        _ => head.extend_from_slice(entry.etag),
    }
    head.extend_from_slice(b"\r\n");
    if entry.gzip.is_some() {
        head.extend_from_slice(b"Vary: Accept-Encoding\r\n");
    }
    Response {
        status: Status::NotModified,
        head: Cow::Owned(head),
        body: Cow::Borrowed(b""),
        send_body: false,
        close,
    }
}

/// A range is honoured unless `If-Range` names another version (RFC 9110 13.1.5): an entity
/// tag must match ours strongly, a date must repeat our Last-Modified.
fn range_applies(request: &Request<'_>, entry: &Entry<'_>) -> bool {
    match request.if_range {
        None => true,
        Some(tag) if tag.starts_with(b"\"") => !entry.etag.is_empty() && tag == entry.etag,
        Some(tag) if tag.starts_with(b"W/") => false,
        Some(date) => {
            let last_modified = header_value(entry.plain.head, b"Last-Modified");
            crate::clock::parse_http_date(date)
                .is_some_and(|d| last_modified.and_then(crate::clock::parse_http_date) == Some(d))
        }
    }
}

/// What a `Range` header asks of a body of `len` bytes.
#[derive(Debug, PartialEq, Eq)]
enum Ranged {
    /// No range this server answers (absent, malformed, other units, several ranges): 200.
    Whole,
    /// Bytes `first..=last`.
    Part(usize, usize),
    /// Starts past the end: 416.
    Unsatisfiable,
}

/// Reads `bytes=a-b`, `bytes=a-` or `bytes=-n`. Several ranges get the whole body (a 200 is
/// always a valid answer to a Range request); so does anything malformed, as RFC 9110 14.2
/// asks.
fn byte_range(spec: &[u8], len: usize) -> Ranged {
    let Some(eq) = spec.iter().position(|&b| b == b'=') else {
        return Ranged::Whole;
    };
    if !trim(&spec[..eq]).eq_ignore_ascii_case(b"bytes") {
        return Ranged::Whole;
    }
    let set = trim(&spec[eq + 1..]);
    if set.contains(&b',') {
        return Ranged::Whole;
    }
    let Some(dash) = set.iter().position(|&b| b == b'-') else {
        return Ranged::Whole;
    };
    let number = |s: &[u8]| -> Option<usize> {
        let s = trim(s);
        if s.is_empty() || s.len() > 18 || !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(s.iter().fold(0, |n, &d| n * 10 + usize::from(d - b'0')))
    };
    let (first, last) = (trim(&set[..dash]), trim(&set[dash + 1..]));
    if first.is_empty() {
        // bytes=-n: the last n bytes.
        return match number(last) {
            None => Ranged::Whole,
            Some(0) => Ranged::Unsatisfiable,
            Some(_) if len == 0 => Ranged::Unsatisfiable,
            Some(n) => Ranged::Part(len.saturating_sub(n), len - 1),
        };
    }
    let Some(first) = number(first) else {
        return Ranged::Whole;
    };
    let last = match last {
        b"" => None,
        digits => match number(digits) {
            Some(last) if last >= first => Some(last),
            _ => return Ranged::Whole,
        },
    };
    if first >= len {
        return Ranged::Unsatisfiable;
    }
    Ranged::Part(first, last.map_or(len - 1, |last| last.min(len - 1)))
}

fn partial<'a>(entry: &Entry<'a>, first: usize, last: usize, close: bool) -> Response<'a> {
    let body = &entry.plain.body[first..=last];
    let total = entry.plain.body.len();
    let mut head = b"HTTP/1.1 206 Partial Content\r\n".to_vec();
    for line in header_lines(entry.plain.head).skip(1) {
        // RFC 9110 15.3.7: everything a 200 would carry (Vary and ETag included) but its length.
        if !starts_with_name(line, b"Content-Length") {
            head.extend_from_slice(line);
            head.extend_from_slice(b"\r\n");
        }
    }
    head.extend_from_slice(
        format!(
            "Content-Range: bytes {first}-{last}/{total}\r\nContent-Length: {}\r\n",
            body.len()
        )
        .as_bytes(),
    );
    Response {
        status: Status::PartialContent,
        head: Cow::Owned(head),
        body: Cow::Borrowed(body),
        send_body: true,
        close,
    }
}

fn unsatisfiable<'a>(entry: &Entry<'a>, close: bool) -> Response<'a> {
    const BODY: &[u8] = b"Range Not Satisfiable\n";
    let head = format!(
        "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n",
        entry.plain.body.len(),
        BODY.len()
    );
    Response {
        status: Status::RangeNotSatisfiable,
        head: Cow::Owned(head.into_bytes()),
        body: Cow::Borrowed(BODY),
        send_body: true,
        close,
    }
}

/// The lines of a prebuilt head, without their CRLF.
fn header_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.is_empty())
}

fn starts_with_name(line: &[u8], name: &[u8]) -> bool {
    line.len() > name.len()
        && line[..name.len()].eq_ignore_ascii_case(name)
        && line[name.len()] == b':'
}

/// The value of header `name` in a prebuilt head, if present.
fn header_value<'h>(head: &'h [u8], name: &[u8]) -> Option<&'h [u8]> {
    header_lines(head)
        .find_map(|line| starts_with_name(line, name).then(|| trim(&line[name.len() + 1..])))
}

fn gz_tag(etag: &[u8]) -> Vec<u8> {
    let mut tag = etag[..etag.len().saturating_sub(1)].to_vec();
    tag.extend_from_slice(b"-gz\"");
    tag
}

/// Whether `tag` is [`gz_tag`] of `etag`, without making it.
fn is_gz_tag(tag: &[u8], etag: &[u8]) -> bool {
    let stem = &etag[..etag.len().saturating_sub(1)];
    tag.len() == etag.len() + 3 && tag.starts_with(stem) && tag.ends_with(b"-gz\"")
}

/// Weak comparison (RFC 9110 13.1.2): `*`, or any listed tag equal to ours or its gzip twin,
/// ignoring `W/`.
fn etag_matches(list: &[u8], etag: &[u8]) -> bool {
    if etag.is_empty() {
        return false;
    }
    list.split(|&b| b == b',').map(trim).any(|tag| {
        let tag = tag.strip_prefix(b"W/").unwrap_or(tag);
        tag == b"*" || tag == etag || is_gz_tag(tag, etag)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_lengths_match_bodies() {
        for status in [
            Status::BadRequest,
            Status::MethodNotAllowed,
            Status::RequestTimeout,
            Status::PreconditionFailed,
            Status::ContentTooLarge,
            Status::UriTooLong,
            Status::HeaderFieldsTooLarge,
            Status::NotImplemented,
            Status::ServiceUnavailable,
            Status::VersionNotSupported,
            Status::InternalError,
        ] {
            let (head, body) = status.canned();
            let head = std::str::from_utf8(head).unwrap();
            assert!(
                head.contains(&format!("Content-Length: {}\r\n", body.len())),
                "{head}"
            );
            assert!(
                head.starts_with(&format!("HTTP/1.1 {} ", status.code())),
                "{head}"
            );
        }
        assert!(!canned(Status::BadRequest, true, true).send_body);
        assert!(canned(Status::BadRequest, false, true).send_body);
    }

    #[test]
    fn byte_ranges() {
        use Ranged::*;
        let cases: &[(&str, usize, Ranged)] = &[
            ("bytes=0-1023", 5_000_000, Part(0, 1023)),
            ("bytes=0-0", 10, Part(0, 0)),
            ("bytes=5-", 10, Part(5, 9)),
            ("bytes=-3", 10, Part(7, 9)),
            ("bytes=-30", 10, Part(0, 9)),
            ("bytes=3-100", 10, Part(3, 9)),
            ("Bytes = 1-2", 10, Part(1, 2)),
            ("bytes=10-", 10, Unsatisfiable),
            ("bytes=10-20", 10, Unsatisfiable),
            ("bytes=-0", 10, Unsatisfiable),
            ("bytes=0-", 0, Unsatisfiable),
            ("bytes=5-3", 10, Whole),
            ("bytes=0-1,5-6", 10, Whole),
            ("items=0-1", 10, Whole),
            ("bytes=a-b", 10, Whole),
            ("bytes=-", 10, Whole),
            ("bytes", 10, Whole),
            ("bytes=99999999999999999999-", 10, Whole),
        ];
        for (spec, len, want) in cases {
            assert_eq!(&byte_range(spec.as_bytes(), *len), want, "{spec} of {len}");
        }
    }

    #[test]
    fn header_values_come_from_prebuilt_heads() {
        let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nLast-Modified: Sun, 22 Nov 2026 10:00:00 GMT\r\n";
        assert_eq!(
            header_value(head, b"last-modified"),
            Some(&b"Sun, 22 Nov 2026 10:00:00 GMT"[..])
        );
        assert_eq!(header_value(head, b"ETag"), None);
        assert_eq!(header_value(head, b"Content"), None);
    }

    #[test]
    fn index_html_follows_a_slash_sent_as_one() {
        for (path, slash) in [
            (&b"/x/index.html"[..], true),
            (b"/x/index%2ehtml", true),
            (b"/%69ndex.html", true),
            (b"/%69%6E%64%65%78%2E%68%74%6D%6C", true),
            (b"/x%2Findex.html", false),
            (b"/x%2findex%2ehtml", false),
            (b"index.html", false),
            (b"%2e", false),
            (b"", false),
        ] {
            assert_eq!(
                slash_sent_before(path, INDEX.len()),
                slash,
                "{:?}",
                String::from_utf8_lossy(path)
            );
        }
    }

    #[test]
    fn etags_compare_strongly_for_if_match() {
        let entry = |gzip| Entry {
            path: b"/a/",
            plain: crate::snapshot::Variant {
                head: b"HTTP/1.1 200 OK\r\n",
                body: b"",
            },
            gzip,
            etag: b"\"abc\"",
        };
        let (plain, both) = (entry(None), entry(Some(entry(None).plain)));
        assert!(strong_match(b"\"abc\"", &plain));
        assert!(strong_match(b"\"x\", *", &plain));
        assert!(!strong_match(b"W/\"abc\"", &plain));
        assert!(
            !strong_match(b"\"abc-gz\"", &plain),
            "no gzip body, no gzip tag"
        );
        assert!(strong_match(b"\"abc-gz\"", &both));
        assert!(!strong_match(b"\"abd\"", &both));
        assert!(!strong_match(b"", &both));
    }

    #[test]
    fn etags_compare_weakly() {
        assert!(etag_matches(b"\"abc\"", b"\"abc\""));
        assert!(etag_matches(b"W/\"abc\", \"x\"", b"\"abc\""));
        assert!(etag_matches(b"\"abc-gz\"", b"\"abc\""));
        assert!(etag_matches(b"*", b"\"abc\""));
        assert!(!etag_matches(b"\"abd\"", b"\"abc\""));
    }
}
