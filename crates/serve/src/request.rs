//! Reading a request head: what the client asked for, or why it is refused.
//!
//! Pure functions over byte slices, so the fuzz target and the unit tests reach exactly the code
//! a child runs. Choosing the answer is `response.rs`'s job; the socket, buffers and timeouts are
//! the child's.

use super::response::Status;

/// The most header lines a request may carry.
pub const MAX_HEADERS: usize = 64;

/// A parsed request head. Every slice borrows the connection's read buffer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'b> {
    /// The method token as sent.
    pub method: &'b str,
    /// The request target as sent (origin-form or absolute-form).
    pub target: &'b [u8],
    /// 0 for HTTP/1.0, 1 for HTTP/1.1 and later 1.x.
    pub minor: u8,
    /// Whether the client asked to keep the connection open (after HTTP version defaults).
    pub keep_alive: bool,
    /// `If-Match`, if sent.
    pub if_match: Option<&'b [u8]>,
    /// `If-Unmodified-Since`, if sent.
    pub if_unmodified_since: Option<&'b [u8]>,
    /// `If-None-Match`, if sent.
    pub if_none_match: Option<&'b [u8]>,
    /// `If-Modified-Since`, if sent.
    pub if_modified_since: Option<&'b [u8]>,
    /// Whether the client takes a gzip body, after every `Accept-Encoding` line.
    pub gzip: bool,
    /// `Range`, if sent.
    pub range: Option<&'b [u8]>,
    /// `If-Range`, if sent.
    pub if_range: Option<&'b [u8]>,
    /// `Host`, if sent.
    pub host: Option<&'b [u8]>,
    /// `Referer`, if sent.
    pub referer: Option<&'b [u8]>,
    /// `User-Agent`, if sent.
    pub user_agent: Option<&'b [u8]>,
    /// The last `X-Forwarded-For` line, if sent (believed only from a trusted front:
    /// `client.rs`).
    pub forwarded_for: Option<&'b [u8]>,
    /// The last `Forwarded` line, if sent (likewise).
    pub forwarded: Option<&'b [u8]>,
    /// The last `X-Real-IP` line, if sent (likewise).
    pub real_ip: Option<&'b [u8]>,
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

/// The methods RFC 9110 defines (plus PATCH): a known method the site does not allow is a 405;
/// any other token is a 501.
const KNOWN_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// Whether the method is one this server answers.
pub fn is_readable(method: &str) -> bool {
    method == "GET" || method == "HEAD"
}

/// Whether the method is defined at all (405 rather than 501 when it is not allowed).
pub fn is_known(method: &str) -> bool {
    KNOWN_METHODS.contains(&method)
}

/// Parses one request head from the start of `buf`.
///
/// Refuses, with the status a careful server gives: malformed syntax (400), a Host that is
/// missing (HTTP/1.1), repeated or not a host (400), conflicting or invalid Content-Length (400),
/// an unknown transfer coding (501), a body on a method the site does not allow (405 or 501),
/// any other body (413), versions other than 1.x (505). Call [`accept_later_minors`] on the
/// buffer first so that HTTP/1.2 and later minors are read as 1.1.
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
    let mut host_ok = true;
    let mut content_length: Option<&[u8]> = None;
    let mut has_body = false;
    let mut transfer_encoding = false;
    let mut unknown_coding = false;
    let mut bad = false;
    let mut connection_close = false;
    let mut connection_keep_alive = false;
    let mut encodings = Encodings::default();
    for header in parsed.headers.iter() {
        let name = header.name;
        let value = trim(header.value);
        if name.eq_ignore_ascii_case("host") {
            hosts += 1;
            host_ok &= is_host(value);
            request.host = Some(value);
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
            unknown_coding |= list(value).any(|coding| !is_known_coding(coding));
        } else if name.eq_ignore_ascii_case("connection") {
            for token in list(value) {
                connection_close |= token.eq_ignore_ascii_case(b"close");
                connection_keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name.eq_ignore_ascii_case("if-none-match") {
            request.if_none_match = Some(value);
        } else if name.eq_ignore_ascii_case("if-modified-since") {
            request.if_modified_since = Some(value);
        } else if name.eq_ignore_ascii_case("if-match") {
            request.if_match = Some(value);
        } else if name.eq_ignore_ascii_case("if-unmodified-since") {
            request.if_unmodified_since = Some(value);
        } else if name.eq_ignore_ascii_case("accept-encoding") {
            encodings.add(value);
        } else if name.eq_ignore_ascii_case("range") {
            request.range = Some(value);
        } else if name.eq_ignore_ascii_case("if-range") {
            request.if_range = Some(value);
        } else if name.eq_ignore_ascii_case("referer") {
            request.referer = Some(value);
        } else if name.eq_ignore_ascii_case("user-agent") {
            request.user_agent = Some(value);
        } else if name.eq_ignore_ascii_case("x-forwarded-for") {
            request.forwarded_for = Some(value);
        } else if name.eq_ignore_ascii_case("forwarded") {
            request.forwarded = Some(value);
        } else if name.eq_ignore_ascii_case("x-real-ip") {
            request.real_ip = Some(value);
        }
    }
    request.gzip = encodings.gzip();
    // Both framings at once is the classic request-smuggling shape: refuse, never pick one.
    bad |= transfer_encoding && content_length.is_some();
    request.keep_alive = match request.minor {
        0 => connection_keep_alive && !connection_close,
        _ => !connection_close,
    };
    let reject = |status| Parsed::Reject { status, request };
    if bad || (request.minor == 1 && hosts != 1) || hosts > 1 || !host_ok {
        return reject(Status::BadRequest);
    }
    if unknown_coding {
        return reject(Status::NotImplemented);
    }
    if has_body {
        // The body is never read, so the connection cannot go on: the refusal closes it.
        return reject(match request.method {
            m if is_readable(m) => Status::ContentTooLarge,
            m if is_known(m) => Status::MethodNotAllowed,
            _ => Status::NotImplemented,
        });
    }
    Parsed::Complete { len, request }
}

/// Rewrites the version of a complete request line from `HTTP/1.x` (x from 2 to 9) to
/// `HTTP/1.1` in place: RFC 9110 2.5 has a server treat a later minor version of its major
/// version as the highest it supports, and httparse knows only 1.0 and 1.1.
pub fn accept_later_minors(buf: &mut [u8]) {
    let start = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buf.len());
    let Some(end) = buf[start..].iter().position(|&b| b == b'\r' || b == b'\n') else {
        return; // the request line is not complete yet
    };
    let line = &mut buf[start..start + end];
    let n = line.len();
    if n >= 9 && &line[n - 9..n - 1] == b" HTTP/1." && (b'2'..=b'9').contains(&line[n - 1]) {
        line[n - 1] = b'1';
    }
}

/// Whether the request line's third word has the shape of an HTTP version (`HTTP/` and a
/// digit), as `HTTP/2.0` (the HTTP/2 preface) or `HTTP/3.0` do: a well-formed other version is
/// a 505, not a malformed request.
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

/// Whether a Host value is `host[:port]` (RFC 9112 3.2, RFC 3986 3.2.2): a registered name or
/// IPv4 address, or an IP literal in brackets, and a numeric port. No spaces, no lists.
fn is_host(value: &[u8]) -> bool {
    let (host, port) = match value.strip_prefix(b"[") {
        Some(rest) => match rest.iter().position(|&b| b == b']') {
            Some(close) => {
                let literal = &rest[..close];
                let ok = !literal.is_empty()
                    && literal
                        .iter()
                        .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
                if !ok {
                    return false;
                }
                (&b""[..], &rest[close + 1..])
            }
            None => return false,
        },
        None => match value.iter().position(|&b| b == b':') {
            Some(colon) => (&value[..colon], &value[colon..]),
            None => (value, &b""[..]),
        },
    };
    let name_ok = host.iter().all(|&b| {
        b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~' | b'%' | b'!' | b'$' | b'&')
            || matches!(b, b'\'' | b'(' | b')' | b'*' | b'+' | b';' | b'=')
    });
    let port_ok = match port {
        b"" => true,
        [b':', digits @ ..] => digits.len() <= 5 && digits.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    name_ok && port_ok
}

/// The host of a `host[:port]` value that [`is_host`] accepted, without its port: an IP
/// literal keeps its brackets. Empty when there is no host (`Host:` sent empty, or `:80`).
pub fn host_name(value: &[u8]) -> &[u8] {
    let end = match value.first() {
        Some(b'[') => value
            .iter()
            .position(|&b| b == b']')
            .map_or(value.len(), |e| e + 1),
        _ => value.iter().position(|&b| b == b':').unwrap_or(value.len()),
    };
    &value[..end]
}

/// Transfer codings this server can at least recognise (it reads no bodies either way).
fn is_known_coding(coding: &[u8]) -> bool {
    let name = coding
        .split(|&b| b == b';')
        .next()
        .map(trim)
        .unwrap_or_default();
    [
        &b"chunked"[..],
        b"gzip",
        b"x-gzip",
        b"deflate",
        b"compress",
        b"identity",
    ]
    .iter()
    .any(|known| name.eq_ignore_ascii_case(known))
}

/// What every `Accept-Encoding` line said about gzip and about `*` (RFC 9110 12.5.3): the
/// lines are one list, a coding named explicitly is not covered by `*`, and q=0 refuses.
#[derive(Default)]
struct Encodings {
    gzip: Option<bool>,
    any: Option<bool>,
}

impl Encodings {
    fn add(&mut self, value: &[u8]) {
        for item in list(value) {
            let mut parts = item.split(|&b| b == b';').map(trim);
            let coding = parts.next().unwrap_or(b"");
            let accepted = !parts.any(is_q_zero);
            if coding.eq_ignore_ascii_case(b"gzip") || coding.eq_ignore_ascii_case(b"x-gzip") {
                // Two listings of one coding: a refusal wins.
                self.gzip = Some(self.gzip.unwrap_or(true) && accepted);
            } else if coding == b"*" {
                self.any = Some(self.any.unwrap_or(true) && accepted);
            }
        }
    }

    fn gzip(&self) -> bool {
        self.gzip.or(self.any).unwrap_or(false)
    }
}

/// `q=0`, `q=0.`, `q=0.000` (with any case and spacing): "not acceptable".
fn is_q_zero(param: &[u8]) -> bool {
    let Some(eq) = param.iter().position(|&b| b == b'=') else {
        return false;
    };
    let (name, value) = (trim(&param[..eq]), trim(&param[eq + 1..]));
    name.eq_ignore_ascii_case(b"q")
        && value.first() == Some(&b'0')
        && value[1..].iter().all(|&b| b == b'0' || b == b'.')
}

/// The comma-separated elements of a header value, trimmed, empty ones skipped.
fn list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim)
        .filter(|s| !s.is_empty())
}

/// Trims ASCII spaces and tabs.
pub fn trim(mut s: &[u8]) -> &[u8] {
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

/// Whether the bytes received so far start a HEAD request (after the empty lines a request may
/// be preceded by), so that a refusal before or without a full parse still sends no body.
pub fn starts_head(buf: &[u8]) -> bool {
    let start = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buf.len());
    buf[start..].starts_with(b"HEAD ")
}

/// A request target split once, for routing and for redirects alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'t> {
    /// The authority of an absolute-form target (`host[:port]`), empty for the origin form.
    pub authority: &'t [u8],
    /// The path as sent, still percent-encoded, beginning with `/`.
    pub path: &'t [u8],
    /// The query without its `?` (empty when there is none).
    pub query: &'t [u8],
}

impl<'t> Target<'t> {
    /// Splits an origin-form (`/p?q`) or absolute-form (`http://host/p?q`) target. The
    /// authority of an absolute form ends at the first `/`, `?` or `#`; a fragment is dropped.
    /// Anything else (`*`, authority-form, other schemes) is `None`, and so is an authority
    /// that is not a host: user information (RFC 9110 4.2.4 has a recipient treat it as an
    /// error) or an empty host (4.2.1: such a URI is invalid).
    pub fn split(target: &'t [u8]) -> Option<Target<'t>> {
        let (authority, rest) = if target.starts_with(b"/") {
            (&b""[..], target)
        } else {
            let scheme = [&b"http://"[..], b"https://"]
                .into_iter()
                .find(|p| target.len() >= p.len() && target[..p.len()].eq_ignore_ascii_case(p))?;
            let after = &target[scheme.len()..];
            let authority_end = after
                .iter()
                .position(|&b| matches!(b, b'/' | b'?' | b'#'))
                .unwrap_or(after.len());
            let authority = &after[..authority_end];
            if !is_host(authority) || host_name(authority).is_empty() {
                return None;
            }
            (authority, &after[authority_end..])
        };
        let without_fragment = &rest[..rest.iter().position(|&b| b == b'#').unwrap_or(rest.len())];
        let (path, query) = match without_fragment.iter().position(|&b| b == b'?') {
            Some(q) => (&without_fragment[..q], &without_fragment[q + 1..]),
            None => (without_fragment, &b""[..]),
        };
        // An absolute form with no path (`http://h` or `http://h?q`) asks for `/`.
        let path = if path.is_empty() { &b"/"[..] } else { path };
        Some(Target {
            authority,
            path,
            query,
        })
    }

    /// Whether the path has percent-escapes (otherwise it is its own decoding).
    pub fn is_escaped(&self) -> bool {
        self.path.contains(&b'%')
    }

    /// Percent-decodes the path into `out`. `None` for a bad escape or a decoded NUL. A path
    /// without escapes (most of them) is returned as it is, and `out` is not written: in a
    /// fresh child, the first write to that buffer's page is a page fault.
    pub fn decode_path<'o>(&self, out: &'o mut Vec<u8>) -> Option<&'o [u8]>
    where
        't: 'o,
    {
        let path = self.path;
        if !self.is_escaped() {
            return Some(path);
        }
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
    fn forwarding_headers_keep_their_last_line() {
        let r = complete("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\nx-forwarded-for:  2.2.2.2, 3.3.3.3 \r\nForwarded: for=4.4.4.4\r\n\r\n");
        assert_eq!(r.forwarded_for, Some(&b"2.2.2.2, 3.3.3.3"[..]));
        assert_eq!(r.forwarded, Some(&b"for=4.4.4.4"[..]));
        let plain = complete("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!((plain.forwarded_for, plain.forwarded), (None, None));
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

    /// RFC 9110 / 9112 cases, each with the status a careful server gives.
    #[test]
    fn rfc_cases() {
        let cases: &[(&[u8], u16)] = &[
            (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a:80x\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
            (
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
                405,
            ),
            (
                b"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
                405,
            ),
            (
                b"BREW / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
                501,
            ),
            (
                b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: sparkly\r\n\r\n",
                501,
            ),
            (
                b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                413,
            ),
        ];
        for &(raw, code) in cases {
            assert_eq!(rejected(raw), code, "{:?}", String::from_utf8_lossy(raw));
        }
        for host in [
            "a",
            "example.com:8080",
            "[::1]:80",
            "127.0.0.1",
            "xn--caf-dma.example",
            "",
        ] {
            let raw = format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
            complete(&raw);
        }
        // A bodiless POST is complete: the response says 405 and the connection may go on.
        assert_eq!(
            complete("POST / HTTP/1.1\r\nHost: a\r\n\r\n").method,
            "POST"
        );
    }

    #[test]
    fn later_minor_versions_are_read_as_1_1() {
        let mut raw = *b"GET / HTTP/1.2\r\nHost: a\r\n\r\n";
        accept_later_minors(&mut raw);
        assert_eq!(complete(std::str::from_utf8(&raw).unwrap()).minor, 1);
        let mut partial = *b"GET / HTTP/1.9";
        accept_later_minors(&mut partial);
        assert_eq!(
            &partial, b"GET / HTTP/1.9",
            "an unfinished line is left alone"
        );
        let mut other = *b"GET / HTTP/2.0\r\nHost: a\r\n\r\n";
        accept_later_minors(&mut other);
        assert_eq!(rejected(&other), 505);
    }

    #[test]
    fn other_versions_get_505_and_garbage_400() {
        for raw in [
            &b"GET / HTTP/2.0\r\nHost: a\r\n\r\n"[..],
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
    }

    #[test]
    fn zero_content_length_is_fine() {
        let r = complete("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(r.target, b"/");
    }

    fn gzip(lines: &[&str]) -> bool {
        let mut e = Encodings::default();
        for line in lines {
            e.add(line.as_bytes());
        }
        e.gzip()
    }

    #[test]
    fn gzip_acceptance_follows_rfc_9110() {
        assert!(gzip(&["gzip, deflate, br"]));
        assert!(gzip(&["br;q=1.0, gzip;q=0.8"]));
        assert!(!gzip(&["gzip;q=0"]));
        assert!(!gzip(&["gzip; Q=0.000"]));
        assert!(gzip(&["gzip;q=0.001"]));
        assert!(!gzip(&["identity"]));
        assert!(gzip(&["*"]));
        assert!(!gzip(&["*;q=0"]));
        assert!(
            !gzip(&["gzip;q=0, *"]),
            "* does not cover a coding listed by name"
        );
        assert!(gzip(&["*;q=0, gzip"]));
        assert!(!gzip(&[]));
        assert!(gzip(&["br", "gzip"]), "lines are combined");
        assert!(!gzip(&["gzip", "gzip;q=0"]));
    }

    #[test]
    fn targets_split_once_for_routing_and_redirects() {
        let split = |t: &'static [u8]| Target::split(t).map(|t| (t.path, t.query));
        assert_eq!(split(b"/a%20b?x=1#f"), Some((&b"/a%20b"[..], &b"x=1"[..])));
        assert_eq!(split(b"/posts/x"), Some((&b"/posts/x"[..], &b""[..])));
        assert_eq!(split(b"http://h/p?q"), Some((&b"/p"[..], &b"q"[..])));
        assert_eq!(split(b"HTTP://example.com"), Some((&b"/"[..], &b""[..])));
        // A `/` after `?` belongs to the query, not the path.
        assert_eq!(
            split(b"http://localhost?/posts/x/"),
            Some((&b"/"[..], &b"/posts/x/"[..]))
        );
        assert_eq!(split(b"http://h#/x"), Some((&b"/"[..], &b""[..])));
        assert_eq!(split(b"*"), None);
        assert_eq!(split(b"http://"), None);
        assert_eq!(split(b"%2e%2e%2f"), None);
        assert_eq!(split(b"ftp://h/x"), None);
    }

    #[test]
    fn absolute_forms_keep_their_authority_and_refuse_what_is_no_host() {
        let authority = |t: &'static [u8]| Target::split(t).map(|t| t.authority);
        assert_eq!(authority(b"/x"), Some(&b""[..]));
        assert_eq!(authority(b"http://h:8080/x"), Some(&b"h:8080"[..]));
        assert_eq!(authority(b"https://[::1]?q"), Some(&b"[::1]"[..]));
        for refused in [
            &b"http://user@h/"[..],
            b"http://u:p@h/",
            b"http://:80/",
            b"http://[::1/",
            b"http://h h/",
        ] {
            assert_eq!(
                authority(refused),
                None,
                "{:?}",
                String::from_utf8_lossy(refused)
            );
        }
        for (value, name) in [
            (&b"h"[..], &b"h"[..]),
            (b"h:80", b"h"),
            (b"[::1]:80", b"[::1]"),
            (b":80", b""),
            (b"", b""),
        ] {
            assert_eq!(host_name(value), name);
        }
    }

    #[test]
    fn paths_decode() {
        let mut buf = Vec::new();
        let decode = |t: &'static [u8], buf: &mut Vec<u8>| {
            Target::split(t)?.decode_path(buf).map(|p| p.to_vec())
        };
        assert_eq!(decode(b"/a%20b?x=1", &mut buf), Some(b"/a b".to_vec()));
        assert_eq!(
            decode(b"http://example.com/x/", &mut buf),
            Some(b"/x/".to_vec())
        );
        assert_eq!(
            decode(b"/%2e%2e%2fetc", &mut buf),
            Some(b"/../etc".to_vec())
        );
        assert_eq!(decode(b"/%zz", &mut buf), None);
        assert_eq!(decode(b"/%00", &mut buf), None);
        assert_eq!(decode(b"/%4", &mut buf), None);
    }
}
