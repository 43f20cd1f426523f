//! HTTP/1.x: parsing a request head and choosing the response from the snapshot.
//!
//! Pure functions over byte slices, so the fuzz target and the unit tests reach exactly the code
//! a child runs. The child (`child.rs`) owns the socket, the buffers and the timeouts.

use std::borrow::Cow;

use super::snapshot::View;

/// The most header lines a request may carry.
pub const MAX_HEADERS: usize = 64;

/// A parsed request head. Every slice borrows the connection's read buffer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'b> {
    /// The method token as sent.
    pub method: &'b str,
    /// The request target as sent (origin-form or absolute-form).
    pub target: &'b [u8],
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    /// Whether the client asked to keep the connection open (after HTTP version defaults).
    pub keep_alive: bool,
    /// `If-None-Match`, if sent.
    pub if_none_match: Option<&'b [u8]>,
    /// `If-Modified-Since`, if sent.
    pub if_modified_since: Option<&'b [u8]>,
    /// Whether `Accept-Encoding` allows gzip.
    pub gzip: bool,
    /// `Referer`, if sent.
    pub referer: Option<&'b [u8]>,
    /// `User-Agent`, if sent.
    pub user_agent: Option<&'b [u8]>,
}

/// What [`parse`] made of the bytes received so far.
#[derive(Debug)]
pub enum Parsed<'b> {
    /// The head is not complete yet.
    Partial,
    /// A complete, acceptable head of `len` bytes.
    Complete {
        /// Bytes the head took, to be consumed from the buffer.
        len: usize,
        /// The request.
        request: Request<'b>,
    },
    /// A head that must be refused; the connection closes after the answer. `request` carries
    /// whatever could be read of it, for the access log.
    Reject {
        /// The status to answer with.
        status: Status,
        /// What could be parsed, for the access log.
        request: Request<'b>,
    },
}

/// The statuses forkblog answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 200
    Ok,
    /// 301, to the same path with a trailing slash.
    MovedPermanently,
    /// 304
    NotModified,
    /// 400
    BadRequest,
    /// 404
    NotFound,
    /// 405
    MethodNotAllowed,
    /// 408
    RequestTimeout,
    /// 413: forkblog accepts no request bodies.
    ContentTooLarge,
    /// 414
    UriTooLong,
    /// 431
    HeaderFieldsTooLarge,
    /// 500: the snapshot is unreadable (never expected).
    InternalError,
    /// 505
    VersionNotSupported,
}

impl Status {
    /// The numeric code.
    pub fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::MovedPermanently => 301,
            Status::NotModified => 304,
            Status::BadRequest => 400,
            Status::NotFound => 404,
            Status::MethodNotAllowed => 405,
            Status::RequestTimeout => 408,
            Status::ContentTooLarge => 413,
            Status::UriTooLong => 414,
            Status::HeaderFieldsTooLarge => 431,
            Status::InternalError => 500,
            Status::VersionNotSupported => 505,
        }
    }

    /// The canned response for an error status: head lines (without the final CRLF) and body.
    /// Error responses always close the connection.
    pub fn canned(self) -> (&'static [u8], &'static [u8]) {
        // The lengths are checked by a unit test below.
        match self {
            Status::BadRequest => (b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 12\r\n", b"Bad Request\n"),
            Status::MethodNotAllowed => (b"HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 19\r\n", b"Method Not Allowed\n"),
            Status::RequestTimeout => (b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 16\r\n", b"Request Timeout\n"),
            Status::ContentTooLarge => (b"HTTP/1.1 413 Content Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 37\r\n", b"Request bodies are not accepted here\n"),
            Status::UriTooLong => (b"HTTP/1.1 414 URI Too Long\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\n", b"URI Too Long\n"),
            Status::HeaderFieldsTooLarge => (b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 32\r\n", b"Request Header Fields Too Large\n"),
            Status::VersionNotSupported => (b"HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 27\r\n", b"HTTP Version Not Supported\n"),
            Status::Ok | Status::MovedPermanently | Status::NotModified | Status::NotFound | Status::InternalError => {
                (b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 22\r\n", b"Internal Server Error\n")
            }
        }
    }
}

/// Parses one request head from the start of `buf`.
///
/// Refuses, with the status a careful server gives: malformed syntax (400), an HTTP/1.1 request
/// without exactly one Host (400), conflicting or invalid Content-Length (400), any body
/// (Content-Length above 0 or Transfer-Encoding: 413), versions other than 1.0/1.1 (505).
pub fn parse(buf: &[u8]) -> Parsed<'_> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(e) => {
            let status = match e {
                httparse::Error::TooManyHeaders => Status::HeaderFieldsTooLarge,
                httparse::Error::Version if names_a_version(buf) => Status::VersionNotSupported,
                _ => Status::BadRequest,
            };
            return Parsed::Reject {
                status,
                request: Request::default(),
            };
        }
    };
    let mut request = Request {
        method: parsed.method.unwrap_or(""),
        target: parsed.path.unwrap_or("").as_bytes(),
        minor: parsed.version.unwrap_or(1),
        ..Request::default()
    };
    let mut hosts = 0;
    let mut content_length: Option<&[u8]> = None;
    let mut has_body = false;
    let mut transfer_encoding = false;
    let mut bad = false;
    let mut connection_close = false;
    let mut connection_keep_alive = false;
    for header in parsed.headers.iter() {
        let name = header.name;
        let value = trim(header.value);
        if name.eq_ignore_ascii_case("host") {
            hosts += 1;
        } else if name.eq_ignore_ascii_case("content-length") {
            match content_length {
                Some(previous) if previous != value => bad = true,
                _ => content_length = Some(value),
            }
            match parse_decimal(value) {
                Some(0) => {}
                Some(_) => has_body = true,
                None => bad = true,
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            has_body = true;
            transfer_encoding = true;
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(|&b| b == b',').map(trim) {
                connection_close |= token.eq_ignore_ascii_case(b"close");
                connection_keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name.eq_ignore_ascii_case("if-none-match") {
            request.if_none_match = Some(value);
        } else if name.eq_ignore_ascii_case("if-modified-since") {
            request.if_modified_since = Some(value);
        } else if name.eq_ignore_ascii_case("accept-encoding") {
            request.gzip = accepts_gzip(value);
        } else if name.eq_ignore_ascii_case("referer") {
            request.referer = Some(value);
        } else if name.eq_ignore_ascii_case("user-agent") {
            request.user_agent = Some(value);
        }
    }
    // Both framings at once is the classic request-smuggling shape: refuse, never pick one.
    bad |= transfer_encoding && content_length.is_some();
    request.keep_alive = match request.minor {
        0 => connection_keep_alive && !connection_close,
        _ => !connection_close,
    };
    let reject = |status| Parsed::Reject { status, request };
    if bad || (request.minor == 1 && hosts != 1) || hosts > 1 {
        return reject(Status::BadRequest);
    }
    if has_body {
        return reject(Status::ContentTooLarge);
    }
    Parsed::Complete { len, request }
}

/// Whether the request line's third word has the shape of an HTTP version (`HTTP/` and a
/// digit), as `HTTP/2.0` (the HTTP/2 preface), `HTTP/1.2` or `HTTP/3.0` do: httparse refuses every
/// version but 1.0 and 1.1, and a well-formed other version is a 505, not a malformed request.
fn names_a_version(buf: &[u8]) -> bool {
    let start = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buf.len());
    let line = &buf[start..];
    let end = line
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(line.len());
    line[..end]
        .splitn(3, |&b| b == b' ')
        .nth(2)
        .is_some_and(|v| v.len() > 5 && v.starts_with(b"HTTP/") && v[5].is_ascii_digit())
}

/// Trims ASCII spaces and tabs.
fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')))
}

/// `Accept-Encoding` allows gzip unless it is absent or given `q=0`.
fn accepts_gzip(value: &[u8]) -> bool {
    value.split(|&b| b == b',').any(|item| {
        let mut parts = item.split(|&b| b == b';').map(trim);
        let coding = parts.next().unwrap_or(b"");
        if !(coding.eq_ignore_ascii_case(b"gzip") || coding == b"*") {
            return false;
        }
        !parts.any(|p| {
            p.len() >= 2
                && p[..2].eq_ignore_ascii_case(b"q=")
                && p[2..].iter().all(|&b| b == b'0' || b == b'.')
        })
    })
}

/// The response to a request: head lines (without Date, Connection and the final CRLF), extra
/// header lines, and the body to send.
#[derive(Debug)]
pub struct Response<'a> {
    /// What to log and count.
    pub status: Status,
    /// Status line and fixed headers.
    pub head: Cow<'a, [u8]>,
    /// The body (not sent for HEAD, but counted in Content-Length).
    pub body: &'a [u8],
    /// Whether the body is sent (false for HEAD and 304).
    pub send_body: bool,
    /// Whether the connection must close after this response.
    pub close: bool,
}

/// Chooses the response for a parsed request. `path_buf` is scratch space for percent-decoding.
pub fn respond<'a>(request: &Request<'_>, site: View<'a>, path_buf: &mut Vec<u8>) -> Response<'a> {
    let head_only = request.method == "HEAD";
    if request.method != "GET" && !head_only {
        return canned(Status::MethodNotAllowed, !request.keep_alive);
    }
    let Some(path) = decode_target(request.target, path_buf) else {
        return canned_for(Status::BadRequest, head_only);
    };
    let close = !request.keep_alive;
    let Some(entry) = site.lookup(path) else {
        if !path.ends_with(b"/") {
            path_buf.push(b'/');
            if site.lookup(path_buf).is_some() {
                // The target as the client wrote it (still percent-encoded), a slash after the
                // path, and the query kept.
                let (raw_path, query) = split_target(request.target).unwrap_or((b"/", b""));
                let mut head = b"HTTP/1.1 301 Moved Permanently\r\nLocation: ".to_vec();
                head.extend_from_slice(raw_path);
                head.push(b'/');
                head.extend_from_slice(query);
                head.extend_from_slice(b"\r\nContent-Length: 0\r\n");
                return Response {
                    status: Status::MovedPermanently,
                    head: Cow::Owned(head),
                    body: b"",
                    send_body: false,
                    close,
                };
            }
        }
        return match site.not_found() {
            Some(entry) => {
                let variant = entry.plain;
                Response {
                    status: Status::NotFound,
                    head: Cow::Borrowed(variant.head),
                    body: variant.body,
                    send_body: !head_only,
                    close,
                }
            }
            None => canned_for(Status::InternalError, head_only),
        };
    };
    // If-None-Match wins when both are sent (RFC 9110 13.1.3). If-Modified-Since matches when
    // it repeats our Last-Modified exactly, as clients do (nginx's default rule): parsing
    // dates in every child to compare them buys nothing a client would notice.
    let not_modified = match request.if_none_match {
        Some(tags) => etag_matches(tags, entry.etag),
        None => request
            .if_modified_since
            .is_some_and(|since| Some(since) == header_value(entry.plain.head, b"Last-Modified")),
    };
    if not_modified {
        let mut head = b"HTTP/1.1 304 Not Modified\r\nETag: ".to_vec();
        let tag = if request.gzip && entry.gzip.is_some() {
            gz_tag(entry.etag)
        } else {
            entry.etag.to_vec()
        };
        head.extend_from_slice(&tag);
        head.extend_from_slice(b"\r\n");
        if entry.gzip.is_some() {
            head.extend_from_slice(b"Vary: Accept-Encoding\r\n");
        }
        return Response {
            status: Status::NotModified,
            head: Cow::Owned(head),
            body: b"",
            send_body: false,
            close,
        };
    }
    let variant = match (request.gzip, entry.gzip) {
        (true, Some(gz)) => gz,
        _ => entry.plain,
    };
    Response {
        status: Status::Ok,
        head: Cow::Borrowed(variant.head),
        body: variant.body,
        send_body: !head_only,
        close,
    }
}

/// A canned error response.
pub fn canned(status: Status, close: bool) -> Response<'static> {
    let (head, body) = status.canned();
    Response {
        status,
        head: Cow::Borrowed(head),
        body,
        send_body: true,
        close,
    }
}

/// A canned error response that closes, without its body when the request is a HEAD
/// (RFC 9110 9.3.2: no content in a response to HEAD, errors included).
pub fn canned_for(status: Status, head_only: bool) -> Response<'static> {
    Response {
        send_body: !head_only,
        ..canned(status, true)
    }
}

/// Whether the bytes received so far start a HEAD request (after the empty lines a request may
/// be preceded by), so that a refusal before or without a full parse still sends no body.
pub fn starts_head(buf: &[u8]) -> bool {
    let start = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buf.len());
    buf[start..].starts_with(b"HEAD ")
}

fn gz_tag(etag: &[u8]) -> Vec<u8> {
    let mut tag = etag[..etag.len().saturating_sub(1)].to_vec();
    tag.extend_from_slice(b"-gz\"");
    tag
}

/// Weak comparison (RFC 9110 13.1.2): `*`, or any listed tag equal to ours or its gzip twin,
/// ignoring `W/`.
fn etag_matches(list: &[u8], etag: &[u8]) -> bool {
    if etag.is_empty() {
        return false;
    }
    let gz = gz_tag(etag);
    list.split(|&b| b == b',').map(trim).any(|tag| {
        let tag = tag.strip_prefix(b"W/").unwrap_or(tag);
        tag == b"*" || tag == etag || tag == gz.as_slice()
    })
}

/// The path (as sent) and the query (with its `?`, or empty) of an origin-form or
/// absolute-form target.
fn split_target(target: &[u8]) -> Option<(&[u8], &[u8])> {
    let path = if target.starts_with(b"/") {
        target
    } else {
        let scheme = [&b"http://"[..], b"https://"]
            .into_iter()
            .find(|p| target.len() >= p.len() && target[..p.len()].eq_ignore_ascii_case(p))?;
        let rest = &target[scheme.len()..];
        match rest.iter().position(|&b| b == b'/' || b == b'?') {
            Some(at) if rest[at] == b'/' => &rest[at..],
            _ if rest.is_empty() => return None,
            _ => {
                return Some((
                    b"",
                    rest.iter()
                        .position(|&b| b == b'?')
                        .map_or(&b""[..], |q| &rest[q..]),
                ))
            }
        }
    };
    let end = path
        .iter()
        .position(|&b| b == b'?' || b == b'#')
        .unwrap_or(path.len());
    let query_end = path.iter().position(|&b| b == b'#').unwrap_or(path.len());
    Some((&path[..end], &path[end.min(query_end)..query_end]))
}

/// The value of header `name` in a prebuilt head, if present.
fn header_value<'h>(head: &'h [u8], name: &[u8]) -> Option<&'h [u8]> {
    head.split(|&b| b == b'\n').find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let (key, value) = line.split_at(line.iter().position(|&b| b == b':')?);
        key.eq_ignore_ascii_case(name).then(|| trim(&value[1..]))
    })
}

/// Extracts and percent-decodes the path of an origin-form or absolute-form target into `out`.
/// Returns `None` for anything else, bad escapes, or a decoded NUL.
fn decode_target<'o>(target: &[u8], out: &'o mut Vec<u8>) -> Option<&'o [u8]> {
    let path = if target.starts_with(b"/") {
        target
    } else {
        let lower = |p: &[u8]| target.len() >= p.len() && target[..p.len()].eq_ignore_ascii_case(p);
        let rest = if lower(b"http://") {
            &target[7..]
        } else if lower(b"https://") {
            &target[8..]
        } else {
            return None;
        };
        match rest.iter().position(|&b| b == b'/') {
            Some(slash) => &rest[slash..],
            None if !rest.is_empty() => b"/",
            None => return None,
        }
    };
    let path = &path[..path
        .iter()
        .position(|&b| b == b'?' || b == b'#')
        .unwrap_or(path.len())];
    out.clear();
    let mut i = 0;
    while i < path.len() {
        let b = path[i];
        if b == b'%' {
            let hex = |c: u8| (c as char).to_digit(16);
            let hi = hex(*path.get(i + 1)?)?;
            let lo = hex(*path.get(i + 2)?)?;
            let byte = (hi * 16 + lo) as u8;
            if byte == 0 {
                return None;
            }
            out.push(byte);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Some(&out[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(raw: &str) -> Request<'_> {
        match parse(raw.as_bytes()) {
            Parsed::Complete { request, len } => {
                assert_eq!(len, raw.len());
                request
            }
            other => panic!("{raw:?} gave {other:?}"),
        }
    }

    fn rejected(raw: &[u8]) -> u16 {
        match parse(raw) {
            Parsed::Reject { status, .. } => status.code(),
            other => panic!("{raw:?} gave {other:?}"),
        }
    }

    #[test]
    fn canned_lengths_match_bodies() {
        for status in [
            Status::BadRequest,
            Status::MethodNotAllowed,
            Status::RequestTimeout,
            Status::ContentTooLarge,
            Status::UriTooLong,
            Status::HeaderFieldsTooLarge,
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
    }

    #[test]
    fn keep_alive_follows_version_rules() {
        assert!(complete("GET / HTTP/1.1\r\nHost: a\r\n\r\n").keep_alive);
        assert!(!complete("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").keep_alive);
        assert!(!complete("GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(complete("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
    }

    #[test]
    fn bodies_and_smuggling_shapes_are_refused() {
        assert_eq!(
            rejected(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"),
            413
        );
        assert_eq!(
            rejected(b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"),
            413
        );
        assert_eq!(
            rejected(
                b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n"
            ),
            400
        );
        assert_eq!(rejected(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
        assert_eq!(
            rejected(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"),
            400
        );
        assert_eq!(rejected(b"GET / HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(
            rejected(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            400
        );
        assert_eq!(
            rejected(b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n"),
            400
        );
        assert_eq!(rejected(b"GET / HTTP/1.1\r\nHo\0st: a\r\n\r\n"), 400);
        assert_eq!(rejected(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505);
    }

    #[test]
    fn other_versions_get_505_and_garbage_400() {
        for raw in [
            &b"GET / HTTP/1.2\r\nHost: a\r\n\r\n"[..],
            b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
            b"GET / HTTP/3.0\r\nHost: a\r\n\r\n",
            b"\r\nGET / HTTP/9.9\r\n\r\n",
        ] {
            assert_eq!(rejected(raw), 505, "{:?}", String::from_utf8_lossy(raw));
        }
        for raw in [
            &b"GET /\r\n"[..],
            b"GET / HTTX/1.1\r\nHost: a\r\n\r\n",
            b"GET / HTTP/x\r\nHost: a\r\n\r\n",
            b"GET / http/1.1\r\nHost: a\r\n\r\n",
        ] {
            assert_eq!(rejected(raw), 400, "{:?}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn head_requests_are_recognised_before_parsing() {
        assert!(starts_head(b"HEAD / HTTP/1.1\r\nHo"));
        assert!(starts_head(b"\r\n\r\nHEAD /"));
        assert!(!starts_head(b"GET / HTTP/1.1\r\n"));
        assert!(!starts_head(b"HEADER / HTTP/1.1\r\n"));
        assert!(!starts_head(b"head / HTTP/1.1\r\n"));
        assert!(!canned_for(Status::BadRequest, true).send_body);
        assert!(canned_for(Status::BadRequest, false).send_body);
    }

    #[test]
    fn zero_content_length_is_fine() {
        let r = complete("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(r.target, b"/");
    }

    #[test]
    fn gzip_acceptance() {
        assert!(accepts_gzip(b"gzip, deflate, br"));
        assert!(accepts_gzip(b"br;q=1.0, gzip;q=0.8"));
        assert!(!accepts_gzip(b"gzip;q=0"));
        assert!(!accepts_gzip(b"identity"));
        assert!(accepts_gzip(b"*"));
    }

    #[test]
    fn targets_decode() {
        let mut buf = Vec::new();
        assert_eq!(decode_target(b"/a%20b?x=1", &mut buf), Some(&b"/a b"[..]));
        assert_eq!(
            decode_target(b"http://example.com/x/", &mut buf),
            Some(&b"/x/"[..])
        );
        assert_eq!(
            decode_target(b"HTTP://example.com", &mut buf),
            Some(&b"/"[..])
        );
        assert_eq!(decode_target(b"%2e%2e%2f", &mut buf), None);
        assert_eq!(
            decode_target(b"/%2e%2e%2fetc", &mut buf),
            Some(&b"/../etc"[..])
        );
        assert_eq!(decode_target(b"/%zz", &mut buf), None);
        assert_eq!(decode_target(b"/%00", &mut buf), None);
        assert_eq!(decode_target(b"/%4", &mut buf), None);
        assert_eq!(decode_target(b"*", &mut buf), None);
    }

    #[test]
    fn targets_split_into_raw_path_and_query() {
        assert_eq!(
            split_target(b"/a%20b?x=1#f"),
            Some((&b"/a%20b"[..], &b"?x=1"[..]))
        );
        assert_eq!(
            split_target(b"/posts/x"),
            Some((&b"/posts/x"[..], &b""[..]))
        );
        assert_eq!(
            split_target(b"http://h/p?q"),
            Some((&b"/p"[..], &b"?q"[..]))
        );
        assert_eq!(split_target(b"*"), None);
    }

    #[test]
    fn header_values_come_from_prebuilt_heads() {
        let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nLast-Modified: Sun, 22 Nov 2026 10:00:00 GMT\r\n";
        assert_eq!(
            header_value(head, b"last-modified"),
            Some(&b"Sun, 22 Nov 2026 10:00:00 GMT"[..])
        );
        assert_eq!(header_value(head, b"ETag"), None);
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
