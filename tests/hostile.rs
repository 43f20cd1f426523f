//! The hostile-request corpus (issue 6): malformed, ambiguous and malicious request heads, each
//! sent on a fresh connection to the real binary, each with the status RFC 9110/9112 and the
//! server's design call for, and after each one: the server still serves, the parent's
//! descriptor count is back at its baseline, and nothing outside the site was ever served.
//!
//! An expectation is a list of statuses in order and what happens next: `Close` (the server must
//! close after them; an empty list means "closed without any response"), or `Open` (the
//! connection must stay usable: a follow-up request on it gets the stylesheet, which shows that
//! no smuggled bytes were taken as a request and the framing is intact).

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use common::{connect, parse_response, wait_until, Response, Server, TempSite};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Then {
    /// The server closes the connection after the statuses.
    Close,
    /// The connection stays open and serves a follow-up request.
    Open,
}
use Then::{Close, Open};

struct Case {
    name: &'static str,
    raw: Vec<u8>,
    statuses: &'static [u16],
    then: Then,
    /// Responses are to HEAD: no body whatever Content-Length says.
    head: bool,
    /// Shut down our sending side after the bytes (a client that is done talking).
    half_close: bool,
    /// Text the (first) body must contain.
    body_has: Option<&'static str>,
}

fn case(name: &'static str, raw: impl Into<Vec<u8>>, statuses: &'static [u16], then: Then) -> Case {
    Case {
        name,
        raw: raw.into(),
        statuses,
        then,
        head: false,
        half_close: false,
        body_has: None,
    }
}

impl Case {
    fn head(mut self) -> Case {
        self.head = true;
        self
    }
    fn half_close(mut self) -> Case {
        self.half_close = true;
        self
    }
    fn body_has(mut self, text: &'static str) -> Case {
        self.body_has = Some(text);
        self
    }
}

/// A GET of `target` with `headers` (each ending in CRLF).
fn get(target: &str, headers: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: test\r\n{headers}\r\n").into_bytes()
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn corpus() -> Vec<Case> {
    let many_headers = |n: usize| {
        let mut raw = b"GET / HTTP/1.1\r\nHost: test\r\n".to_vec();
        for i in 0..n {
            raw.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
        }
        raw.extend_from_slice(b"\r\n");
        raw
    };
    vec![
        // Line endings. RFC 9112 2.2: a recipient MAY take a bare LF as a line terminator; a
        // bare CR MUST be rejected or replaced, and forkblog rejects it.
        case(
            "bare LF everywhere",
            "GET / HTTP/1.1\nHost: test\n\n",
            &[200],
            Open,
        ),
        case(
            "bare LF mixed with CRLF",
            "GET / HTTP/1.1\r\nHost: test\n\r\n",
            &[200],
            Open,
        ),
        case("bare CR", "GET / HTTP/1.1\rHost: test\r\r\n", &[400], Close),
        // RFC 9112 5.2: obs-fold in a request: 400 (or unfold); never a second header.
        case(
            "obs-fold",
            "GET / HTTP/1.1\r\nHost: test\r\nX-Long: a\r\n b\r\n\r\n",
            &[400],
            Close,
        ),
        case(
            "obs-fold hiding Transfer-Encoding",
            "GET / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
            &[400],
            Close,
        ),
        // RFC 9112 2.2: whitespace between the start-line and the first field: reject.
        case(
            "whitespace before the first header",
            "GET / HTTP/1.1\r\n Host: test\r\n\r\n",
            &[400],
            Close,
        ),
        // Sizes: the head limit is 8 KiB and 64 header lines.
        case(
            "huge header line (10 KB)",
            get("/", &format!("Cookie: {}\r\n", "c".repeat(10_000))),
            &[431],
            Close,
        ),
        case(
            "100 KB header",
            get("/", &format!("X-Big: {}\r\n", "b".repeat(100_000))),
            &[431],
            Close,
        ),
        case(
            "64 header lines (the limit)",
            many_headers(63),
            &[200],
            Open,
        ),
        case("65 header lines", many_headers(64), &[431], Close),
        case("200 header lines", many_headers(200), &[431], Close),
        case(
            "huge request line",
            format!("GET /{} HTTP/1.1\r\nHost: test\r\n\r\n", "a".repeat(9000)),
            &[414],
            Close,
        ),
        case(
            "huge method",
            format!("{} / HTTP/1.1\r\nHost: test\r\n\r\n", "A".repeat(9000)),
            &[414],
            Close,
        ),
        // NUL and other control bytes.
        case(
            "NUL in the target",
            &b"GET /\0 HTTP/1.1\r\nHost: test\r\n\r\n"[..],
            &[400],
            Close,
        ),
        case(
            "NUL in the target, encoded",
            "GET /%00 HTTP/1.1\r\nHost: test\r\n\r\n",
            &[400],
            Close,
        ),
        case(
            "NUL in a header value",
            &b"GET / HTTP/1.1\r\nHost: test\r\nX-A: a\0b\r\n\r\n"[..],
            &[400],
            Close,
        ),
        case(
            "NUL in a header name",
            &b"GET / HTTP/1.1\r\nHost: test\r\nX\0A: a\r\n\r\n"[..],
            &[400],
            Close,
        ),
        case(
            "control byte in a header value",
            &b"GET / HTTP/1.1\r\nHost: test\r\nX-A: a\x01b\r\n\r\n"[..],
            &[400],
            Close,
        ),
        case(
            "DEL in the target",
            &b"GET /\x7f HTTP/1.1\r\nHost: test\r\n\r\n"[..],
            &[400],
            Close,
        ),
        // Non-ASCII: raw octets are not a valid request-target (RFC 9112 3.2); encoded ones are
        // just a path that does not exist.
        case(
            "invalid UTF-8 in the path",
            &b"GET /\xff\xfe/\xc0\xaf HTTP/1.1\r\nHost: test\r\n\r\n"[..],
            &[400],
            Close,
        ),
        case(
            "invalid UTF-8 in the path, encoded",
            get("/%ff%fe/%c0%af", ""),
            &[404],
            Open,
        ),
        // Traversal: every one a 404 from the table, never a file.
        case("../ traversal", get("/../../etc/passwd", ""), &[404], Open),
        case(
            "%2e%2e traversal",
            get("/%2e%2e/%2e%2e/etc/passwd", ""),
            &[404],
            Open,
        ),
        case(
            "%2e%2e%2f traversal",
            get("/%2e%2e%2f%2e%2e%2fetc%2fpasswd", ""),
            &[404],
            Open,
        ),
        case(
            "traversal out of /static/",
            get("/static/../../Cargo.toml", ""),
            &[404],
            Open,
        ),
        case(
            "encoded traversal out of /static/",
            get("/static/%2e%2e/%2e%2e/Cargo.toml", ""),
            &[404],
            Open,
        ),
        case(
            "..%2f traversal",
            get("/static/..%2f..%2fCargo.toml", ""),
            &[404],
            Open,
        ),
        case("double slash", get("//etc/passwd", ""), &[404], Open),
        case(
            "backslash traversal",
            get("/static/..\\..\\Cargo.toml", ""),
            &[404],
            Open,
        ),
        case(
            "absolute-form traversal",
            get("http://example.com/../../etc/passwd", ""),
            &[404],
            Open,
        ),
        // Request-target forms (RFC 9112 3.2): absolute-form is served by its path, whatever
        // the host; asterisk- and authority-form only go with OPTIONS / CONNECT.
        case(
            "absolute-form",
            "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
            &[200],
            Open,
        )
        .body_has("Back-pressure"),
        case(
            "absolute-form to a post",
            get(
                "HTTP://other.example:8080/posts/backpressure-max-children/",
                "",
            ),
            &[200],
            Open,
        )
        .body_has("Back-pressure"),
        case(
            "absolute-form without Host",
            "GET http://example.com/ HTTP/1.1\r\n\r\n",
            &[400],
            Close,
        ),
        case(
            "absolute-form, other scheme",
            get("ftp://example.com/", ""),
            &[400],
            Close,
        ),
        case("asterisk-form with GET", get("*", ""), &[400], Close),
        case(
            "authority-form with GET",
            get("example.com:80", ""),
            &[400],
            Close,
        ),
        // Framing: duplicate Content-Length, CL + TE, Transfer-Encoding shapes (RFC 9112 6).
        case(
            "duplicate Content-Length, equal zeros",
            get("/", "Content-Length: 0\r\nContent-Length: 0\r\n"),
            &[200],
            Open,
        ),
        case(
            "duplicate Content-Length, different",
            cat(&[
                &get("/", "Content-Length: 0\r\nContent-Length: 5\r\n"),
                b"hello",
            ]),
            &[400],
            Close,
        ),
        case(
            "Content-Length list",
            get("/", "Content-Length: 0, 5\r\n"),
            &[400],
            Close,
        ),
        case(
            "Content-Length with a sign",
            get("/", "Content-Length: +0\r\n"),
            &[400],
            Close,
        ),
        case(
            "Content-Length negative",
            get("/", "Content-Length: -1\r\n"),
            &[400],
            Close,
        ),
        case(
            "Content-Length overflowing",
            get("/", "Content-Length: 184467440737095516160\r\n"),
            &[400],
            Close,
        ),
        case(
            "Content-Length with a body",
            cat(&[&get("/", "Content-Length: 5\r\n"), b"hello"]),
            &[413],
            Close,
        ),
        case(
            "CL + TE",
            cat(&[
                &get("/", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
                b"0\r\n\r\n",
            ]),
            &[400],
            Close,
        ),
        case(
            "TE + CL",
            cat(&[
                &get("/", "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n"),
                b"8\r\nSMUGGLED\r\n0\r\n\r\n",
            ]),
            &[400],
            Close,
        ),
        case(
            "Transfer-Encoding: chunked",
            cat(&[&get("/", "Transfer-Encoding: chunked\r\n"), b"0\r\n\r\n"]),
            &[413],
            Close,
        ),
        case(
            "Transfer-Encoding: xchunked",
            cat(&[&get("/", "Transfer-Encoding: xchunked\r\n"), b"0\r\n\r\n"]),
            &[501],
            Close,
        ),
        case(
            "Transfer-Encoding: tab chunked",
            cat(&[&get("/", "Transfer-Encoding:\tchunked\r\n"), b"0\r\n\r\n"]),
            &[413],
            Close,
        ),
        case(
            "Transfer-Encoding: chunked, chunked",
            cat(&[
                &get("/", "Transfer-Encoding: chunked, chunked\r\n"),
                b"0\r\n\r\n",
            ]),
            &[413],
            Close,
        ),
        case(
            "lowercase transfer-encoding",
            cat(&[&get("/", "transfer-encoding: CHUNKED\r\n"), b"0\r\n\r\n"]),
            &[413],
            Close,
        ),
        // RFC 9112 5.1: whitespace between a field name and the colon MUST be a 400.
        case(
            "Transfer-Encoding space colon",
            cat(&[&get("/", "Transfer-Encoding : chunked\r\n"), b"0\r\n\r\n"]),
            &[400],
            Close,
        ),
        case(
            "Content-Length space colon",
            cat(&[&get("/", "Content-Length : 5\r\n"), b"hello"]),
            &[400],
            Close,
        ),
        case(
            "HTTP/1.0 with Transfer-Encoding",
            "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            &[413],
            Close,
        ),
        // Pipelining: legitimate, and with a second request smuggled in a body.
        case(
            "pipelined, three in one write",
            cat(&[
                &get("/", ""),
                &get("/nope", ""),
                &get("/posts/backpressure-max-children", ""),
            ]),
            &[200, 404, 301],
            Open,
        ),
        case(
            "pipelined, the second one malformed",
            cat(&[&get("/", ""), b"GET / HTTP/1.1\r\n\r\n", &get("/", "")]),
            &[200, 400],
            Close,
        ),
        case("request, then EOF", get("/", ""), &[200], Close).half_close(),
        case(
            "pipelined after Connection: close",
            cat(&[&get("/", "Connection: close\r\n"), &get("/smuggled", "")]),
            &[200],
            Close,
        ),
        case(
            "pipelined after HTTP/1.0",
            cat(&[b"GET / HTTP/1.0\r\n\r\n", &get("/smuggled", "")]),
            &[200],
            Close,
        ),
        case(
            "NUL bytes after a request",
            cat(&[&get("/", ""), b"\0\0\0\r\n\r\n"]),
            &[200, 400],
            Close,
        ),
        case(
            "300 pipelined requests, more than the 8 KiB buffer",
            get("/robots.txt", "").repeat(300),
            Box::leak(vec![200; 300].into_boxed_slice()),
            Open,
        ),
        case(
            "Upgrade is ignored",
            get("/", "Connection: Upgrade\r\nUpgrade: websocket\r\n"),
            &[200],
            Open,
        ),
        case(
            "smuggled in a Content-Length body",
            cat(&[&get("/", "Content-Length: 42\r\n"), &get("/smuggled", "")]),
            &[413],
            Close,
        ),
        case(
            "smuggled after a chunked body",
            cat(&[
                &get("/", "Transfer-Encoding: chunked\r\n"),
                b"0\r\n\r\n",
                &get("/smuggled", ""),
            ]),
            &[413],
            Close,
        ),
        case(
            "smuggled CL.TE",
            cat(&[
                &get("/", "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n"),
                b"0\r\n\r\nG",
                &get("/smuggled", ""),
            ]),
            &[400],
            Close,
        ),
        case(
            "smuggled after duplicate Content-Length",
            cat(&[
                &get("/", "Content-Length: 0\r\nContent-Length: 44\r\n"),
                &get("/smuggled", ""),
            ]),
            &[400],
            Close,
        ),
        // Versions (RFC 9112 2.3, RFC 9110 6.2): 1.0 and 1.1 only; other well-formed versions
        // get 505, the HTTP/2 preface included; HTTP/0.9 has no version and is malformed here.
        case(
            "HTTP/2 preface",
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            &[505],
            Close,
        ),
        case("HTTP/2.0 GET", get_version("HTTP/2.0"), &[505], Close),
        // RFC 9110 2.5: a later minor version of HTTP/1 is answered as 1.1.
        case("HTTP/1.2", get_version("HTTP/1.2"), &[200], Open),
        case("HTTP/1.9", get_version("HTTP/1.9"), &[200], Open),
        // RFC 9112 3.2: a Host that is not one host is a 400.
        case(
            "Host with a space",
            "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
            &[400],
            Close,
        ),
        case(
            "Host list",
            "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n",
            &[400],
            Close,
        ),
        // RFC 9110 15.5.6 / 15.6.2: a defined method not allowed is 405, an unknown one 501.
        case(
            "POST with a body",
            "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\nabc",
            &[405],
            Close,
        ),
        case(
            "unknown method",
            "BREW / HTTP/1.1\r\nHost: test\r\n\r\n",
            &[501],
            Open,
        ),
        case(
            "bodiless POST to the status path",
            "POST /.well-known/forkblog/status HTTP/1.1\r\nHost: test\r\n\r\n",
            &[405],
            Open,
        ),
        // The absolute form's path ends at `?`: this asks for `/`, not for the post.
        case(
            "absolute form with ? before /",
            "GET http://localhost?/posts/x/ HTTP/1.1\r\nHost: localhost\r\n\r\n",
            &[200],
            Open,
        ),
        case("HTTP/3.0", get_version("HTTP/3.0"), &[505], Close),
        case("HTTP/0.9 GET /", "GET /\r\n", &[400], Close),
        case("lowercase http/1.1", get_version("http/1.1"), &[400], Close),
        case(
            "HTTP/1.0 without Host",
            "GET / HTTP/1.0\r\n\r\n",
            &[200],
            Close,
        ),
        case(
            "HTTP/1.1 without Host",
            "GET / HTTP/1.1\r\n\r\n",
            &[400],
            Close,
        ),
        case(
            "two Hosts",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            &[400],
            Close,
        ),
        case(
            "empty Host",
            "GET / HTTP/1.1\r\nHost:\r\n\r\n",
            &[200],
            Open,
        ),
        // Request-line shape (RFC 9112 3: single SP; forkblog does not parse leniently).
        case(
            "tabs in the request line",
            "GET\t/\tHTTP/1.1\r\nHost: test\r\n\r\n",
            &[400],
            Close,
        ),
        case(
            "multiple spaces in the request line",
            "GET  /  HTTP/1.1\r\nHost: test\r\n\r\n",
            &[400],
            Close,
        ),
        case(
            "trailing space in the request line",
            "GET / HTTP/1.1 \r\nHost: test\r\n\r\n",
            &[400],
            Close,
        ),
        // Nothing, or only empty lines (RFC 9112 2.2: empty lines before a request are ignored).
        case("empty request", "", &[], Close).half_close(),
        case("only CRLFs, then EOF", "\r\n\r\n\r\n\r\n", &[], Close).half_close(),
        case(
            "only CRLFs, then silence",
            "\r\n\r\n\r\n\r\n",
            &[408],
            Close,
        ),
        case(
            "CRLF before the request line",
            cat(&[b"\r\n", &get("/", "")]),
            &[200],
            Open,
        ),
        // Methods: case-sensitive tokens (RFC 9110 9.1); only GET and HEAD are served.
        case(
            "non-ASCII method",
            "G\u{c9}T / HTTP/1.1\r\nHost: test\r\n\r\n",
            &[400],
            Close,
        ),
        case(
            "lowercase get",
            "get / HTTP/1.1\r\nHost: test\r\n\r\n",
            &[501],
            Open,
        ),
        case(
            "OPTIONS *",
            "OPTIONS * HTTP/1.1\r\nHost: test\r\n\r\n",
            &[405],
            Open,
        ),
        case(
            "CONNECT host:443",
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
            &[405],
            Open,
        ),
        case(
            "TRACE",
            "TRACE / HTTP/1.1\r\nHost: test\r\n\r\n",
            &[405],
            Open,
        ),
        // HEAD refused: no body after the head (RFC 9110 9.3.2).
        case(
            "HEAD with a body",
            "HEAD / HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\nabc",
            &[413],
            Close,
        )
        .head(),
        case(
            "HEAD without Host",
            "HEAD / HTTP/1.1\r\n\r\n",
            &[400],
            Close,
        )
        .head(),
        case(
            "HEAD with HTTP/3.0",
            "HEAD / HTTP/3.0\r\nHost: test\r\n\r\n",
            &[505],
            Close,
        )
        .head(),
    ]
}

fn get_version(version: &str) -> String {
    format!("GET / {version}\r\nHost: test\r\n\r\n")
}

/// Reads until the server closes or resets (after its answer) or `timeout`; returns the bytes
/// and whether it closed.
fn read_until_close(stream: &mut TcpStream, bytes: &mut Vec<u8>, timeout: Duration) -> bool {
    stream.set_read_timeout(Some(timeout)).unwrap();
    let mut chunk = [0u8; 16384];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return true,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false
            }
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// Parses every complete response at the front of `bytes`; returns them and the bytes left.
fn parse_all(mut bytes: &[u8], head: bool) -> (Vec<Response>, Vec<u8>) {
    let mut responses = Vec::new();
    while let Some((r, used)) = parse_response(bytes, head) {
        responses.push(r);
        bytes = &bytes[used..];
    }
    (responses, bytes.to_vec())
}

/// Sends one case on a fresh connection; returns a description of what went wrong, if anything.
fn run(server: &Server, case: &Case) -> Result<(), String> {
    let mut stream = connect(server.addr);
    // A huge head may be cut short by the server's answer: a failed write is not a failure.
    let _ = stream.write_all(&case.raw);
    if case.half_close {
        stream.shutdown(Shutdown::Write).unwrap();
    }
    let mut bytes = Vec::new();
    let mut responses;
    let rest;
    match case.then {
        Close => {
            if !read_until_close(&mut stream, &mut bytes, Duration::from_secs(10)) {
                let got = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
                return Err(format!("not closed within 10 s (hang?); got {got:?}"));
            }
            (responses, rest) = parse_all(&bytes, case.head);
        }
        Open => {
            // Read until the expected responses are in, then use the connection once more.
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut chunk = [0u8; 16384];
            loop {
                let (parsed, _) = parse_all(&bytes, case.head);
                if parsed.len() >= case.statuses.len() {
                    break;
                }
                match stream.read(&mut chunk) {
                    Ok(0) => return Err(format!("closed after {:?}", statuses(&parsed))),
                    Ok(n) => bytes.extend_from_slice(&chunk[..n]),
                    Err(e) => return Err(format!("read after {:?}: {e}", statuses(&parsed))),
                }
            }
            let follow_up =
                b"GET /static/style.css HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
            if let Err(e) = stream.write_all(follow_up) {
                return Err(format!("follow-up not sent: {e}"));
            }
            if !read_until_close(&mut stream, &mut bytes, Duration::from_secs(10)) {
                return Err("follow-up: not closed after Connection: close".into());
            }
            (responses, rest) = parse_all(&bytes, case.head);
            match responses.pop() {
                Some(last)
                    if last.status == 200
                        && last.header("content-type") == Some("text/css; charset=utf-8") => {}
                other => {
                    return Err(format!(
                        "follow-up on the same connection not served: {:?}",
                        other.map(|r| r.status)
                    ))
                }
            }
        }
    }
    let got = statuses(&responses);
    if got != case.statuses {
        return Err(format!("statuses {got:?}, expected {:?}", case.statuses));
    }
    if !rest.is_empty() {
        return Err(format!(
            "bytes after the responses: {:?}",
            String::from_utf8_lossy(&rest[..rest.len().min(200)])
        ));
    }
    for r in &responses {
        let text = r.text();
        if text.contains("root:") || text.contains("[package]") {
            return Err(format!("{} with a file from outside the site", r.status));
        }
        if r.status >= 400
            && r.status != 404
            && case.then == Close
            && r.header("connection") != Some("close")
        {
            return Err(format!(
                "{} closes without saying Connection: close",
                r.status
            ));
        }
    }
    if let (Some(text), Some(first)) = (case.body_has, responses.first()) {
        if !first.text().contains(text) {
            return Err(format!("body lacks {text:?}"));
        }
    }
    Ok(())
}

fn statuses(responses: &[Response]) -> Vec<u16> {
    responses.iter().map(|r| r.status).collect()
}

#[test]
fn hostile_corpus_gets_the_expected_answers() {
    let blog = TempSite::sample();
    // Short head and idle timeouts keep the waiting cases quick.
    let mut server = Server::start(
        blog.root(),
        &[
            "--max-children",
            "4",
            "--head-timeout",
            "1",
            "--idle-timeout",
            "1",
        ],
    );
    assert_eq!(server.get("/").status, 200);
    assert!(
        server.wait_settled(Duration::from_secs(10)),
        "children left after the warm-up"
    );
    let baseline = server.fd_count();
    assert!(baseline > 0, "cannot read the parent's fds");
    let mut failures = Vec::new();
    let cases = corpus();
    for case in &cases {
        if let Err(e) = run(&server, case) {
            failures.push(format!("{}: {e}", case.name));
        }
        // Still serving, and the parent holds no extra descriptor.
        let r = server.get("/");
        assert_eq!(
            r.status, 200,
            "after {:?} the server stopped serving",
            case.name
        );
        assert!(
            wait_until(Duration::from_secs(10), || server.fd_count() <= baseline),
            "after {:?} the parent has {} fds, baseline {baseline}",
            case.name,
            server.fd_count()
        );
    }
    assert!(
        server.wait_settled(Duration::from_secs(10)),
        "children still alive: {:?}",
        server.children()
    );
    assert_eq!(server.fd_count(), baseline, "parent fd count drifted");
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the parent exited"
    );
}

#[test]
fn traversal_never_reaches_a_file_outside_the_site() {
    // Every spelling of a way out, as GET and HEAD, in origin- and absolute-form: always a 404
    // (or a 400 for what cannot be a path), never a 200, never file content.
    let blog = TempSite::sample();
    std::fs::write(
        blog.root().join("secret.txt"),
        "root:x:0:0 [package] secret",
    )
    .unwrap();
    let server = Server::start(blog.root(), &["--max-children", "4"]);
    let outside = [
        "/secret.txt",
        "/../secret.txt",
        "/posts/../secret.txt",
        "/posts/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/posts/%2e%2e/secret.txt",
        "/posts%2f..%2fsecret.txt",
        "/static/../secret.txt",
        "/static/..%2fsecret.txt",
        "/static/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/templates/base.html",
        "/static/../../templates/base.html",
        "/posts/2026-01-05-why-fork-per-connection.md",
        "/posts/reaping-zombies/../../posts/2026-02-02-reaping-zombies/index.md",
        "/forkblog.toml",
        "/../forkblog.toml",
        "/.%2e/forkblog.toml",
        "//forkblog.toml",
        "/etc/passwd",
        "/../../../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/%252e%252e/%252e%252e/etc/passwd",
        "/proc/self/environ",
        "http://example.com/../../etc/passwd",
    ];
    for target in outside {
        for method in ["GET", "HEAD"] {
            let r = common::request(
                server.addr,
                &format!("{method} {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"),
            );
            assert!(
                r.status == 404 || r.status == 400,
                "{method} {target}: {}",
                r.status
            );
            let text = r.text();
            assert!(
                !text.contains("root:") && !text.contains("[package]") && !text.contains("secret"),
                "{method} {target} leaked a file"
            );
        }
    }
    // The site's own files are reachable only by their URLs.
    assert_eq!(server.get("/static/style.css").status, 200);
}
