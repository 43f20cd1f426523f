//! Request heads: `request::parse` on arbitrary bytes, then, like a child on a keep-alive
//! connection, `Responder::respond` for each complete head and the parse of whatever follows it
//! (pipelining). Each answered request is also formatted as an access-log line, which must stay
//! one line that `forkblog stats` can read back.
#![no_main]

use std::sync::OnceLock;

use forkblog::logs::{format_line, LogEntry};
use forkblog::render::encode;
use forkblog::server::request::{self, Parsed, Request};
use forkblog::server::response::{self, Responder};
use forkblog::server::snapshot::View;
use forkblog::server::status::Access;
use forkblog::site::{Resource, Site};
use libfuzzer_sys::fuzz_target;

/// A tiny site: pages with and without a trailing slash, a file, a gzip-able body, a 404 page.
fn snapshot() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let at = jiff::Timestamp::from_second(1_767_225_600).unwrap();
        let resource = |path: &str, content_type: &str, body: Vec<u8>| Resource {
            path: path.into(),
            content_type: content_type.into(),
            last_modified: at,
            body: body.into(),
        };
        let html = "text/html; charset=utf-8";
        let long = "<p>fork, close, reap</p>\n".repeat(64).into_bytes();
        let site = Site {
            resources: vec![
                resource("/", html, long.clone()),
                resource("/posts/hello/", html, b"<h1>hello</h1>".to_vec()),
                resource("/posts/a b/", html, b"space".to_vec()),
                resource("/feed.xml", "application/atom+xml", long),
                resource("/static/style.css", "text/css", b"body{}".to_vec()),
                resource("/img.png", "image/png", vec![0x89, b'P', b'N', b'G']),
            ],
            not_found: resource("", html, b"<h1>not found</h1>".to_vec()),
            post_count: 2,
        };
        encode::encode(&site, 0).expect("the tiny site encodes")
    })
}

fuzz_target!(|data: &[u8]| {
    let status = Access::default();
    let responder = Responder {
        site: View::new(snapshot()),
        status: &status,
        counters: None,
        https_port: None,
        live: None,
    };
    let client = Some("127.0.0.1".parse().unwrap());
    let mut path = Vec::new();
    let mut line = Vec::new();
    let mut owned = data.to_vec();
    request::accept_later_minors(&mut owned);
    let mut rest = &owned[..];
    // A child parses at most a buffer's worth of pipelined heads; bound the loop the same way.
    for _ in 0..64 {
        match request::parse(rest) {
            Parsed::Complete { len, request } => {
                assert!(
                    len > 0 && len <= rest.len(),
                    "head length {len} of {}",
                    rest.len()
                );
                let response = responder.respond(&request, client, &mut path);
                assert!(response.head.starts_with(b"HTTP/1.1 "));
                assert!(response.head.ends_with(b"\r\n"));
                // The plain door of a server with HTTPS on.
                let https = Responder {
                    https_port: Some(8443),
                    ..responder
                };
                let redirect = https.respond(&request, client, &mut path);
                assert!(redirect.head.starts_with(b"HTTP/1.1 "));
                // Never `https://:PORT/` nor `https:///`: a redirect names a host.
                let to = b"Location: https://";
                if let Some(at) = redirect.head.windows(to.len()).position(|w| w == to) {
                    let host = redirect.head[at + to.len()..].first();
                    assert!(!matches!(host, Some(b':' | b'/' | b'\r') | None));
                }
                check_log_line(&mut line, Some(&request), response.status.code());
                if response.close {
                    return;
                }
                rest = &rest[len..];
            }
            Parsed::Reject { status, request } => {
                let refusal = response::canned(status, false, true);
                assert!(
                    refusal.head.starts_with(b"HTTP/1.1 4") || refusal.head.starts_with(b"HTTP/1.1 5")
                );
                let parsed = (!request.method.is_empty()).then_some(&request);
                check_log_line(&mut line, parsed, status.code());
                return;
            }
            Parsed::Partial => return,
        }
    }
});

/// What the child logs for a request must be one line, and `forkblog stats` must read it back.
fn check_log_line(line: &mut Vec<u8>, request: Option<&Request<'_>>, status: u16) {
    let entry = LogEntry {
        remote: Some("127.0.0.1".parse().unwrap()),
        time: 1_767_225_600,
        date: None,
        request: request.map(|r| (r.method, r.target, r.minor)),
        status,
        bytes: 0,
        referer: request.and_then(|r| r.referer),
        user_agent: request.and_then(|r| r.user_agent),
    };
    format_line(line, &entry);
    let body = line
        .strip_suffix(b"\n")
        .expect("a log line ends in a newline");
    assert!(
        !body.contains(&b'\n'),
        "a request broke the log line: {line:?}"
    );
    let parsed = forkblog::stats::parse_line(body);
    assert!(
        parsed.is_some(),
        "stats cannot read a line forkblog wrote: {line:?}"
    );
    assert_eq!(parsed.unwrap().status, status);
}
