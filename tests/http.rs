//! HTTP behaviour of the real binary over loopback (issue 2): methods, headers, conditional
//! requests, gzip, keep-alive and pipelining, HTTP/1.0 rules, error statuses, timeouts, the
//! rendered pages, the access log, and the command line's start-up failures.
//!
//! Every test starts its own server (tests run in parallel) and polls with deadlines.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{connect, read_one, request, user_args, wait_until, Server, TempSite, BIN};

/// The newest post of the sample blog and its page.
const POST: &str = "/posts/backpressure-max-children/";
/// A post with a code block and a table.
const RICH_POST: &str = "/posts/why-fork-per-connection/";

fn start(blog: &TempSite) -> Server {
    Server::start(blog.root(), &["--max-children", "4"])
}

/// A GET on a keep-alive connection with extra header lines (each ending in CRLF).
fn get_with(path: &str, extra: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\n{extra}\r\n")
}

/// Reads until the server closes (or resets after its answer) and returns what arrived.
fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return bytes,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return bytes,
            Err(e) => panic!(
                "read failed before close: {e}; got {:?}",
                String::from_utf8_lossy(&bytes)
            ),
        }
    }
}

/// Asserts the server closes `stream` within `within`, sending nothing more; returns when.
fn assert_closes_within(stream: &mut TcpStream, within: Duration) -> Duration {
    let started = Instant::now();
    stream.set_read_timeout(Some(within)).unwrap();
    let rest = read_to_close(stream);
    let took = started.elapsed();
    assert!(
        rest.is_empty(),
        "unexpected bytes before close: {:?}",
        String::from_utf8_lossy(&rest)
    );
    assert!(took <= within, "connection still open after {took:?}");
    took
}

fn http_date(value: &str) -> jiff::Timestamp {
    jiff::fmt::strtime::parse("%a, %d %b %Y %H:%M:%S GMT", value)
        .and_then(|t| t.to_datetime())
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC))
        .map(|z| z.timestamp())
        .unwrap_or_else(|e| panic!("not an HTTP date: {value:?}: {e}"))
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

#[test]
fn get_has_the_representation_headers() {
    let blog = TempSite::sample();
    let server = start(&blog);
    for (path, content_type) in [
        ("/", "text/html; charset=utf-8"),
        (POST, "text/html; charset=utf-8"),
        ("/static/style.css", "text/css; charset=utf-8"),
    ] {
        let r = server.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some(content_type), "{path}");
        let length: usize = r
            .header("content-length")
            .expect("Content-Length")
            .parse()
            .unwrap();
        assert_eq!(
            length,
            r.body.len(),
            "{path}: Content-Length does not match the body"
        );
        assert!(!r.body.is_empty(), "{path}: empty body");
        let date = http_date(r.header("date").expect("Date"));
        let skew = (jiff::Timestamp::now() - date).get_seconds().abs();
        assert!(skew < 60, "{path}: Date is {skew}s off");
        http_date(r.header("last-modified").expect("Last-Modified"));
        let etag = r.header("etag").expect("ETag");
        assert!(
            etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'),
            "{path}: ETag {etag:?} is not a quoted string"
        );
        assert_eq!(
            r.header("connection"),
            Some("close"),
            "{path}: Connection: close not acknowledged"
        );
    }
}

#[test]
fn head_has_the_headers_of_get_and_no_body() {
    let blog = TempSite::sample();
    let server = start(&blog);
    let get = server.get(POST);
    assert_eq!(get.status, 200);
    // HEAD, then a GET on the same connection: if HEAD sent any body, the second response
    // would not start right after the HEAD's head.
    let mut stream = connect(server.addr);
    let raw = format!("HEAD {POST} HTTP/1.1\r\nHost: test\r\n\r\nGET /static/style.css HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(raw.as_bytes()).unwrap();
    let bytes = read_to_close(&mut stream);
    let (head, used) = common::parse_response(&bytes, true).expect("a HEAD response");
    assert_eq!(head.status, 200);
    for name in ["content-type", "content-length", "last-modified", "etag"] {
        assert_eq!(
            head.header(name),
            get.header(name),
            "HEAD and GET differ in {name}"
        );
    }
    assert!(head.header("date").is_some(), "HEAD without Date");
    assert!(
        bytes[used..].starts_with(b"HTTP/1.1 200 "),
        "HEAD sent a body: {:?}",
        String::from_utf8_lossy(&bytes[used..used + 80.min(bytes.len() - used)])
    );
    let (css, used2) = common::parse_response(&bytes[used..], false).unwrap();
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(
        used + used2,
        bytes.len(),
        "trailing bytes after the second response"
    );
}

#[test]
fn if_none_match_gives_304_without_body() {
    let blog = TempSite::sample();
    let server = start(&blog);
    let etag = server.get(POST).header("etag").expect("ETag").to_string();
    let weak = format!("W/{etag}");
    let list = format!("\"nope\", {weak}, \"other\"");
    let mut stream = connect(server.addr);
    let mut buf = Vec::new();
    for value in [etag.as_str(), weak.as_str(), list.as_str(), "*"] {
        stream
            .write_all(get_with(POST, &format!("If-None-Match: {value}\r\n")).as_bytes())
            .unwrap();
        let r = read_one(&mut stream, &mut buf, false);
        assert_eq!(r.status, 304, "If-None-Match: {value}");
        assert_eq!(
            r.header("etag"),
            Some(etag.as_str()),
            "304 for {value} lacks the ETag"
        );
        assert!(r.header("date").is_some());
        // A body would show up before the next response: the buffer must be empty.
        assert!(
            buf.is_empty(),
            "bytes after a 304 head: {:?}",
            String::from_utf8_lossy(&buf)
        );
    }
    stream
        .write_all(
            get_with(
                POST,
                "If-None-Match: \"not-the-tag\"\r\nConnection: close\r\n",
            )
            .as_bytes(),
        )
        .unwrap();
    let r = read_one(&mut stream, &mut buf, false);
    assert_eq!(r.status, 200, "a different ETag must give the page");
    assert!(!r.body.is_empty());
}

#[test]
fn gzip_when_accepted_and_identity_otherwise() {
    let blog = TempSite::sample();
    let server = start(&blog);
    let identity = server.get(RICH_POST);
    assert_eq!(identity.status, 200);
    assert_eq!(identity.header("content-encoding"), None);
    let gz = request(
        server.addr,
        &get_with(
            RICH_POST,
            "Accept-Encoding: gzip, deflate, br\r\nConnection: close\r\n",
        ),
    );
    assert_eq!(gz.status, 200);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(gz.header("vary"), Some("Accept-Encoding"));
    assert_eq!(
        gz.header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap(),
        gz.body.len()
    );
    assert!(gz.body.len() < identity.body.len(), "gzip is not smaller");
    assert_ne!(
        gz.header("etag"),
        identity.header("etag"),
        "both encodings share one ETag"
    );
    assert_eq!(
        gunzip(&gz.body),
        identity.body,
        "gunzipped body differs from identity body"
    );
    for refusal in ["gzip;q=0", "gzip; q=0.0, identity", "identity"] {
        let r = request(
            server.addr,
            &get_with(
                RICH_POST,
                &format!("Accept-Encoding: {refusal}\r\nConnection: close\r\n"),
            ),
        );
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("content-encoding"),
            None,
            "Accept-Encoding: {refusal} got gzip"
        );
        assert_eq!(r.body, identity.body, "Accept-Encoding: {refusal}");
    }
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let blog = TempSite::sample();
    let server = start(&blog);
    let mut stream = connect(server.addr);
    let mut buf = Vec::new();
    for path in ["/", POST, "/static/style.css", "/missing"] {
        stream.write_all(get_with(path, "").as_bytes()).unwrap();
        let r = read_one(&mut stream, &mut buf, false);
        let expected = if path == "/missing" { 404 } else { 200 };
        assert_eq!(r.status, expected, "{path}");
        assert_eq!(
            r.header("connection"),
            None,
            "{path}: keep-alive response says Connection: {:?}",
            r.header("connection")
        );
    }
    stream
        .write_all(get_with("/", "Connection: close\r\n").as_bytes())
        .unwrap();
    let r = read_one(&mut stream, &mut buf, false);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(buf.is_empty());
    assert_closes_within(&mut stream, Duration::from_secs(5));
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let blog = TempSite::sample();
    let server = start(&blog);
    let mut stream = connect(server.addr);
    let paths = [POST, "/nope", "/static/style.css", RICH_POST, "/"];
    let mut raw = String::new();
    for (i, path) in paths.iter().enumerate() {
        let method = if i == 2 { "HEAD" } else { "GET" };
        let close = if i == paths.len() - 1 {
            "Connection: close\r\n"
        } else {
            ""
        };
        raw.push_str(&format!(
            "{method} {path} HTTP/1.1\r\nHost: test\r\n{close}\r\n"
        ));
    }
    stream.write_all(raw.as_bytes()).unwrap(); // one write
    let bytes = read_to_close(&mut stream);
    let mut at = 0;
    let mut got = Vec::new();
    for i in 0..paths.len() {
        let (r, used) = common::parse_response(&bytes[at..], i == 2)
            .unwrap_or_else(|| panic!("response {i} missing"));
        at += used;
        got.push(r);
    }
    assert_eq!(at, bytes.len(), "extra bytes after the pipelined responses");
    let statuses: Vec<u16> = got.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 404, 200, 200, 200]);
    assert!(
        got[0].text().contains("Back-pressure"),
        "first response is not {POST}"
    );
    assert!(
        got[1].text().contains("Not found"),
        "second response is not the 404 page"
    );
    assert_eq!(
        got[2].header("content-type"),
        Some("text/css; charset=utf-8")
    );
    assert!(
        got[3].text().contains("Why fork per connection"),
        "fourth response is not {RICH_POST}"
    );
    assert_eq!(got[4].header("connection"), Some("close"));
}

#[test]
fn http10_closes_unless_keep_alive_is_asked_for() {
    let blog = TempSite::sample();
    let server = start(&blog);
    // Plain HTTP/1.0 (no Host needed): answered, then closed.
    let mut stream = connect(server.addr);
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let r = read_one(&mut stream, &mut buf, false);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert_closes_within(&mut stream, Duration::from_secs(5));

    // HTTP/1.0 with Connection: keep-alive: echoed, and the connection takes another request.
    let mut stream = connect(server.addr);
    let mut buf = Vec::new();
    stream
        .write_all(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
        .unwrap();
    let r = read_one(&mut stream, &mut buf, false);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("connection")
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("keep-alive")
    );
    stream
        .write_all(format!("GET {POST} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").as_bytes())
        .unwrap();
    let r = read_one(&mut stream, &mut buf, false);
    assert_eq!(r.status, 200);
    assert!(r.text().contains("Back-pressure"));
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let r = read_one(&mut stream, &mut buf, false);
    assert_eq!(r.header("connection"), Some("close"));
    assert_closes_within(&mut stream, Duration::from_secs(5));
}

#[test]
fn unknown_paths_get_the_rendered_404_page() {
    let blog = TempSite::sample();
    let server = start(&blog);
    for path in [
        "/no/such/page",
        "/posts/notes-on-keep-alive/",
        "/posts/keep-alive-notes/",
    ] {
        let r = server.get(path);
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        let text = r.text();
        assert!(
            text.contains("<html") && text.contains("<h1>Not found</h1>"),
            "{path}: not the rendered 404 page: {text}"
        );
        assert!(
            text.contains("forkblog"),
            "404 page lacks the site's layout"
        );
    }
}

#[test]
fn other_methods_get_405_with_allow() {
    let blog = TempSite::sample();
    let server = start(&blog);
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        let r = request(
            server.addr,
            &format!("{method} / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"),
        );
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"), "{method}");
    }
    // Also without Connection: close; the server stays usable on the same connection.
    let mut stream = connect(server.addr);
    let mut buf = Vec::new();
    stream.write_all(b"DELETE /posts/ HTTP/1.1\r\nHost: test\r\n\r\nGET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").unwrap();
    assert_eq!(read_one(&mut stream, &mut buf, false).status, 405);
    assert_eq!(read_one(&mut stream, &mut buf, false).status, 200);
}

#[test]
fn malformed_requests_get_400() {
    let blog = TempSite::sample();
    let server = start(&blog);
    for raw in [
        "GET\r\n\r\n",
        "GET / HTTP/1.1 extra\r\nHost: test\r\n\r\n",
        "GET /a b HTTP/1.1\r\nHost: test\r\n\r\n",
        "/ GET HTTP/1.1\r\nHost: test\r\n\r\n",
        "GET / HTTX/1.1\r\nHost: test\r\n\r\n",
        "GET /%zz HTTP/1.1\r\nHost: test\r\n\r\n",
        "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
        // HTTP/1.1 needs exactly one Host.
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    ] {
        let r = request(server.addr, raw);
        assert_eq!(r.status, 400, "{raw:?}");
        assert_eq!(r.header("connection"), Some("close"), "{raw:?}");
    }
}

#[test]
fn oversized_request_line_gets_414_and_headers_431() {
    let blog = TempSite::sample();
    let server = start(&blog);
    // The head limit is 8 KiB: a 9000-byte target cannot fit.
    let long_target = format!("/{}", "a".repeat(9000));
    let r = request(
        server.addr,
        &format!("GET {long_target} HTTP/1.1\r\nHost: test\r\n\r\n"),
    );
    assert_eq!(r.status, 414);
    // A target just under the limit is fine (a 404, not a 414).
    let fits = format!("/{}", "b".repeat(7000));
    assert_eq!(
        request(
            server.addr,
            &format!("GET {fits} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        )
        .status,
        404
    );
    // Headers over 8 KiB in total, each line short.
    let mut raw = "GET / HTTP/1.1\r\nHost: test\r\n".to_string();
    for i in 0..4 {
        raw.push_str(&format!("X-Filler-{i}: {}\r\n", "c".repeat(2500)));
    }
    raw.push_str("\r\n");
    assert_eq!(request(server.addr, &raw).status, 431);
    // One header line longer than the limit.
    let r = request(
        server.addr,
        &format!(
            "GET / HTTP/1.1\r\nHost: test\r\nCookie: {}\r\n\r\n",
            "d".repeat(10_000)
        ),
    );
    assert_eq!(r.status, 431);
}

#[test]
fn request_bodies_get_413_or_405() {
    let blog = TempSite::sample();
    let server = start(&blog);
    for (raw, status) in [
        ("GET / HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello", 413),
        ("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 11\r\n\r\nhello=world", 405),
        ("GET / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 413),
        ("PUT /x HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 405),
    ] {
        let r = request(server.addr, raw);
        assert_eq!(r.status, status, "{raw:?}");
        assert_eq!(r.header("connection"), Some("close"), "{raw:?}");
    }
    // Content-Length: 0 is no body.
    let r = request(
        server.addr,
        "GET / HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 200);
}

#[test]
fn post_without_trailing_slash_redirects() {
    let blog = TempSite::sample();
    let server = start(&blog);
    for slug in [
        "backpressure-max-children",
        "why-fork-per-connection",
        "reaping-zombies",
    ] {
        let r = server.get(&format!("/posts/{slug}"));
        assert_eq!(r.status, 301, "{slug}");
        assert_eq!(
            r.header("location"),
            Some(format!("/posts/{slug}/").as_str())
        );
        assert_eq!(server.get(&format!("/posts/{slug}/")).status, 200);
    }
    // Only for pages that exist.
    assert_eq!(server.get("/posts/no-such-post").status, 404);
}

#[test]
fn half_a_head_gets_408_and_the_connection_closes() {
    let blog = TempSite::sample();
    let server = Server::start(
        blog.root(),
        &[
            "--max-children",
            "4",
            "--head-timeout",
            "1",
            "--idle-timeout",
            "10",
        ],
    );
    let mut stream = connect(server.addr);
    let started = Instant::now();
    stream.write_all(b"GET / HTTP/1.1\r\nHost: te").unwrap();
    let bytes = read_to_close(&mut stream);
    let took = started.elapsed();
    let (r, used) = common::parse_response(&bytes, false)
        .unwrap_or_else(|| panic!("no 408: {:?}", String::from_utf8_lossy(&bytes)));
    assert_eq!(r.status, 408);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(used, bytes.len(), "bytes after the 408");
    assert!(
        took >= Duration::from_millis(900),
        "408 after only {took:?}: before the head timeout"
    );
    assert!(
        took < Duration::from_secs(4),
        "408 took {took:?} with --head-timeout 1"
    );

    // A client that connects and sends nothing is timed out the same way.
    let mut stream = connect(server.addr);
    let bytes = read_to_close(&mut stream);
    assert_eq!(
        common::parse_response(&bytes, false).map(|(r, _)| r.status),
        Some(408)
    );
    assert!(server.get("/").status == 200, "server stopped serving");
}

#[test]
fn idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let blog = TempSite::sample();
    let server = Server::start(
        blog.root(),
        &[
            "--max-children",
            "4",
            "--head-timeout",
            "10",
            "--idle-timeout",
            "1",
        ],
    );
    let mut stream = connect(server.addr);
    let mut buf = Vec::new();
    stream.write_all(get_with("/", "").as_bytes()).unwrap();
    assert_eq!(read_one(&mut stream, &mut buf, false).status, 200);
    // Closed silently (no 408 for an idle connection), after --idle-timeout, not --head-timeout.
    let took = assert_closes_within(&mut stream, Duration::from_secs(5));
    assert!(
        took >= Duration::from_millis(900),
        "closed after {took:?}: sooner than the idle timeout"
    );
    assert!(
        took < Duration::from_secs(4),
        "idle connection lived {took:?} with --idle-timeout 1"
    );
}

#[test]
fn post_page_has_rendered_html_and_escaped_title() {
    let blog = TempSite::sample();
    blog.write_post(
        "2026-03-10-escaping.md",
        "---\ntitle: \"Tags <script>alert(1)</script> & friends\"\ndate: 2026-03-10\ntags: [test]\n---\n\nSome *emphasis*.\n\n```rust\nfn main() { println!(\"<hi>\"); }\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
    );
    let server = start(&blog);
    let r = server.get("/posts/escaping/");
    assert_eq!(r.status, 200);
    let page = r.text();
    assert!(page.contains("<em>emphasis</em>"), "Markdown not rendered");
    assert!(
        page.contains("<pre") && page.contains("<code"),
        "no code block"
    );
    assert!(page.contains("&lt;hi&gt;"), "code not escaped");
    assert!(
        page.contains("<table>") && page.contains("<td>2</td>"),
        "no table"
    );
    assert!(
        page.contains("Tags &lt;script&gt;alert(1)&lt;/script&gt; &amp; friends"),
        "title not escaped: {page}"
    );
    assert!(
        !page.contains("<script>alert(1)"),
        "raw script tag in the page"
    );
    // The sample post with a table and a code block.
    let page = server.get(RICH_POST).text();
    assert!(
        page.contains("<table>") && page.contains("<pre"),
        "sample post not rendered"
    );
    assert!(
        page.contains("Why fork per connection, still"),
        "sample title missing"
    );
    // The index shows the escaped title too, never the raw tag.
    let index = server.get("/").text();
    assert!(
        index.contains("Tags &lt;script&gt;"),
        "escaped title missing from the index"
    );
    assert!(!index.contains("<script>alert(1)"));
}

#[test]
fn index_lists_posts_newest_first_and_hides_drafts() {
    let blog = TempSite::sample();
    let server = start(&blog);
    let index = server.get("/").text();
    // Dates from the sample posts: 2026-03-02, 02-16, 02-02, 01-19, 01-05.
    let titles = [
        "Back-pressure: when to stop accepting",
        "Rendering before the first request",
        "Reaping zombies without a busy loop",
        "File descriptors leak quietly",
        "Why fork per connection, still",
    ];
    let positions: Vec<usize> = titles
        .iter()
        .map(|t| {
            index
                .find(t)
                .unwrap_or_else(|| panic!("{t:?} not on the index"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "index is not newest first: {positions:?}"
    );
    // The draft (2026-03-16, newer than all) is neither listed nor served.
    assert!(
        !index.contains("keep-alive (draft)") && !index.contains("keep-alive-notes"),
        "draft on the index"
    );
    assert_eq!(server.get("/posts/keep-alive-notes/").status, 404);
    // A new post dated after the others goes first.
    drop(server);
    blog.write_post(
        "2026-04-01-newest.md",
        "---\ntitle: Brand new\ndate: 2026-04-01\n---\nHi.\n",
    );
    blog.write_post(
        "2026-05-01-later-draft.md",
        "---\ntitle: Secret draft\ndate: 2026-05-01\ndraft: true\n---\nNo.\n",
    );
    let server = start(&blog);
    let index = server.get("/").text();
    let new = index.find("Brand new").expect("new post listed");
    assert!(
        new < index.find(titles[0]).unwrap(),
        "newest post not first"
    );
    assert!(!index.contains("Secret draft"), "draft listed");
}

#[test]
fn access_log_gets_one_combined_line_per_request() {
    let blog = TempSite::sample();
    let server = start(&blog);
    let agent = format!("http-test/{} (log check)", std::process::id());
    let mut stream = connect(server.addr);
    let mut buf = Vec::new();
    let sent = [("/", 200), ("/nothing-here", 404), (POST, 200)];
    for (path, _) in sent {
        stream
            .write_all(
                get_with(
                    path,
                    &format!("User-Agent: {agent}\r\nReferer: http://ref.example/\r\n"),
                )
                .as_bytes(),
            )
            .unwrap();
        read_one(&mut stream, &mut buf, false);
    }
    drop(stream);
    let lines = || -> Vec<String> {
        std::fs::read_to_string(&server.access_log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(&agent))
            .map(String::from)
            .collect()
    };
    assert!(
        wait_until(Duration::from_secs(10), || lines().len() >= sent.len()),
        "access log lines: {:?}",
        lines()
    );
    let lines = lines();
    assert_eq!(lines.len(), sent.len(), "one line per request: {lines:#?}");
    for (line, (path, status)) in lines.iter().zip(sent) {
        // 127.0.0.1 - - [22/Nov/2026:04:51:59 +0000] "GET / HTTP/1.1" 200 3830 "referer" "agent"
        assert!(line.starts_with("127.0.0.1 - - ["), "{line}");
        let time = &line[line.find('[').unwrap() + 1..line.find(']').unwrap()];
        jiff::fmt::strtime::parse("%d/%b/%Y:%H:%M:%S %z", time)
            .unwrap_or_else(|e| panic!("bad time {time:?}: {e}"));
        let rest = &line[line.find(']').unwrap() + 2..];
        let expected = format!("\"GET {path} HTTP/1.1\" {status} ");
        assert!(rest.starts_with(&expected), "{line}: wanted {expected}");
        let bytes: usize = rest[expected.len()..]
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("bytes field: {line}"));
        assert!(bytes > 0);
        assert!(
            line.ends_with(&format!("\"http://ref.example/\" \"{agent}\"")),
            "{line}"
        );
    }
}

#[test]
fn help_documents_every_serve_flag() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success(), "--help exit {:?}", out.status);
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--root",
        "--listen",
        "--access-log",
        "--lock",
        "--max-children",
        "--head-timeout",
        "--idle-timeout",
        "--lifetime",
        "--grace",
        "--user",
        "--inetd",
    ] {
        assert!(text.contains(flag), "--help does not mention {flag}");
    }
    assert!(text.contains("serve"));
}

#[test]
fn unknown_flag_prints_usage_and_exits_2() {
    let out = Command::new(BIN)
        .args(["serve", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "exit status");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--bogus"),
        "stderr does not name the flag: {err}"
    );
    assert!(
        err.contains("USAGE") && err.contains("--max-children"),
        "no usage on stderr: {err}"
    );
    assert!(out.stdout.is_empty(), "usage error wrote to stdout");
}

#[test]
fn malformed_post_is_reported_and_the_rest_served() {
    let blog = TempSite::sample();
    blog.write_post(
        "2026-03-05-broken.md",
        "---\ntitle: [unclosed\ndate: 2026-03-05\n  tags: : :\n---\nBody\n",
    );
    let server = start(&blog);
    assert!(
        server.wait_for_log("2026-03-05-broken.md", 1, Duration::from_secs(10)),
        "stderr does not name the broken post:\n{}",
        server.log_text()
    );
    assert_eq!(server.get(POST).status, 200);
    let index = server.get("/").text();
    assert!(index.contains("Back-pressure"), "other posts not listed");
    assert_eq!(server.get("/posts/broken/").status, 404);
}

/// Runs `forkblog serve` on `root`, expecting it to exit by itself; returns (status, stderr).
fn serve_expecting_exit(root: &Path) -> (Option<i32>, String) {
    let state = common::TempDir::new("http-exit");
    let mut child = Command::new(BIN)
        .arg("serve")
        .arg("--root")
        .arg(root)
        .args(["--listen", "127.0.0.1:0", "--access-log"])
        .arg(state.path().join("access.log"))
        .args(user_args())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut exited = None;
    let ok = wait_until(Duration::from_secs(30), || {
        exited = child.try_wait().unwrap();
        exited.is_some()
    });
    if !ok {
        let _ = child.kill();
        let _ = child.wait();
        panic!("forkblog serve {} kept running", root.display());
    }
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (exited.unwrap().code(), err)
}

#[test]
fn nothing_to_serve_exits_non_zero_naming_the_problem() {
    // No posts folder.
    let blog = TempSite::sample();
    std::fs::remove_dir_all(blog.root().join("posts")).unwrap();
    let (code, err) = serve_expecting_exit(blog.root());
    assert_eq!(code, Some(1), "stderr: {err}");
    assert!(err.contains("posts folder not found"), "{err}");
    assert!(err.contains("cannot serve"), "{err}");

    // templates/ is not a directory.
    let blog = TempSite::sample();
    let templates = blog.root().join("templates");
    std::fs::remove_dir_all(&templates).unwrap();
    std::fs::write(&templates, "not a directory").unwrap();
    let (code, err) = serve_expecting_exit(blog.root());
    assert_eq!(code, Some(1), "stderr: {err}");
    assert!(err.contains("templates path is not a directory"), "{err}");

    // The root itself is missing.
    let missing =
        std::env::temp_dir().join(format!("forkblog-no-such-root-{}", std::process::id()));
    let (code, err) = serve_expecting_exit(&missing);
    assert_eq!(code, Some(1), "stderr: {err}");
    assert!(err.contains(&missing.display().to_string()), "{err}");
}

#[test]
fn missing_templates_dir_falls_back_to_the_built_in_templates() {
    // By design (crates/render/src/site/templates.rs) a site without templates/ renders with the defaults
    // compiled into the binary: it is not "nothing to serve".
    let blog = TempSite::sample();
    std::fs::remove_dir_all(blog.root().join("templates")).unwrap();
    let server = start(&blog);
    let r = server.get(RICH_POST);
    assert_eq!(r.status, 200);
    assert!(r.text().contains("Why fork per connection, still"));
    assert_eq!(server.get("/nope").status, 404);
}

#[test]
fn error_responses_to_head_have_no_body() {
    // RFC 9110 9.3.2: the server MUST NOT send content in a response to HEAD, errors included.
    let blog = TempSite::sample();
    let server = Server::start(blog.root(), &["--max-children", "4", "--head-timeout", "1"]);
    for (raw, status) in [
        ("HEAD / HTTP/1.1\r\n\r\n", 400),
        ("HEAD /%zz HTTP/1.1\r\nHost: test\r\n\r\n", 400),
        (
            "HEAD / HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\nabc",
            413,
        ),
        (
            "HEAD / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            413,
        ),
        ("HEAD / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("HEAD / HTTP/1.1\r\nHost: te", 408),
    ] {
        let mut stream = connect(server.addr);
        stream.write_all(raw.as_bytes()).unwrap();
        let bytes = read_to_close(&mut stream);
        let (r, used) =
            common::parse_response(&bytes, true).unwrap_or_else(|| panic!("{raw:?}: no response"));
        assert_eq!(r.status, status, "{raw:?}");
        assert_eq!(r.header("connection"), Some("close"), "{raw:?}");
        assert_eq!(&bytes[used..], b"", "{raw:?}: a body after the head");
    }
    assert_eq!(server.get("/").status, 200);
}

#[test]
fn redirects_keep_the_query_and_the_encoding() {
    let blog = TempSite::sample();
    let server = start(&blog);
    let r = server.get("/posts/why-fork-per-connection?utm=x&y=1");
    assert_eq!(r.status, 301);
    assert_eq!(
        r.header("location"),
        Some("/posts/why-fork-per-connection/?utm=x&y=1")
    );
    // A percent-encoded path stays encoded in Location (decoded bytes may not be a valid header).
    let r = server.get("/posts/why-fork-per-%63onnection");
    assert_eq!(r.status, 301);
    assert_eq!(
        r.header("location"),
        Some("/posts/why-fork-per-%63onnection/")
    );
}

#[test]
fn if_modified_since_with_the_last_modified_value_gives_304() {
    let blog = TempSite::sample();
    let server = start(&blog);
    let first = server.get("/");
    let last_modified = first
        .header("last-modified")
        .expect("Last-Modified")
        .to_string();
    let raw = format!("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nIf-Modified-Since: {last_modified}\r\n\r\n");
    let r = request(server.addr, &raw);
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    let other = raw.replace(&last_modified, "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_eq!(request(server.addr, &other).status, 200);
    // If-None-Match decides when both are sent.
    let both = raw.replace("\r\n\r\n", "\r\nIf-None-Match: \"nope\"\r\n\r\n");
    assert_eq!(request(server.addr, &both).status, 200);
}

#[test]
fn serves_on_ipv6_loopback() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: no IPv6 loopback on this machine");
        return;
    }
    let blog = TempSite::sample();
    let server = Server::start_on("[::1]:0", blog.root(), &[]);
    assert!(server.addr.is_ipv6(), "{}", server.addr);
    let r = server.get("/");
    assert_eq!(r.status, 200);
    // The access log records the IPv6 client address.
    let logged = wait_until(Duration::from_secs(5), || {
        std::fs::read_to_string(&server.access_log).is_ok_and(|t| t.starts_with("::1 - - ["))
    });
    assert!(logged, "{:?}", std::fs::read_to_string(&server.access_log));
}

/// A blog with a 5 MB binary asset, for ranges.
fn blog_with_big_asset() -> (TempSite, Vec<u8>) {
    let blog = TempSite::sample();
    let bytes: Vec<u8> = (0..5_000_000u32).map(|i| (i % 251) as u8).collect();
    let path = blog.root().join("templates/static/big.pdf");
    std::fs::write(&path, &bytes).unwrap();
    common::set_mode(&path, 0o644);
    (blog, bytes)
}

#[test]
fn range_requests_get_206_416_or_the_whole_body() {
    let (blog, bytes) = blog_with_big_asset();
    let server = start(&blog);
    let ask = |extra: &str| {
        request(
            server.addr,
            &format!(
                "GET /static/big.pdf HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{extra}\r\n"
            ),
        )
    };
    let whole = ask("");
    assert_eq!(whole.status, 200);
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    let etag = whole.header("etag").unwrap().to_string();

    let r = ask("Range: bytes=0-1023\r\n");
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &bytes[..1024]);
    assert_eq!(r.header("content-range"), Some("bytes 0-1023/5000000"));
    assert_eq!(r.header("content-length"), Some("1024"));

    let r = ask("Range: bytes=-100\r\n");
    assert_eq!((r.status, r.body.as_slice()), (206, &bytes[4_999_900..]));
    let r = ask("Range: bytes=4999999-\r\n");
    assert_eq!((r.status, r.body.as_slice()), (206, &bytes[4_999_999..]));

    let r = ask("Range: bytes=5000000-\r\n");
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some("bytes */5000000"));

    // Several ranges are answered with the whole body (said in response.rs).
    assert_eq!(ask("Range: bytes=0-1,10-20\r\n").status, 200);
    // If-Range: the current tag gets the part, another tag the whole.
    let r = ask(&format!("Range: bytes=10-19\r\nIf-Range: {etag}\r\n"));
    assert_eq!((r.status, r.body.as_slice()), (206, &bytes[10..20]));
    let r = ask("Range: bytes=10-19\r\nIf-Range: \"old\"\r\n");
    assert_eq!((r.status, r.body.len()), (200, bytes.len()));
    // A range on a gzip-able page applies to the identity body.
    let page = request(
        server.addr,
        &format!("GET {POST} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nAccept-Encoding: gzip\r\nRange: bytes=0-14\r\n\r\n"),
    );
    assert_eq!(page.status, 206);
    assert_eq!(page.header("content-encoding"), None);
    assert_eq!(page.text(), "<!doctype html>");
}

#[test]
fn accept_encoding_follows_rfc_9110() {
    let blog = TempSite::sample();
    let server = start(&blog);
    let encoding = |lines: &str| {
        request(
            server.addr,
            &format!("GET {POST} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{lines}\r\n"),
        )
        .header("content-encoding")
        .map(str::to_string)
    };
    assert_eq!(encoding("Accept-Encoding: gzip;q=0, *\r\n"), None);
    assert_eq!(encoding("Accept-Encoding: *\r\n").as_deref(), Some("gzip"));
    assert_eq!(
        encoding("Accept-Encoding: br\r\nAccept-Encoding: gzip\r\n").as_deref(),
        Some("gzip"),
        "two header lines are one list"
    );
    assert_eq!(
        encoding("Accept-Encoding: gzip\r\nAccept-Encoding: gzip;q=0\r\n"),
        None
    );
}

#[test]
fn absolute_form_targets_split_at_the_query() {
    let blog = TempSite::sample();
    let server = start(&blog);
    let index = server.get("/");
    let r = request(
        server.addr,
        &format!(
            "GET http://localhost?{POST} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, index.body, "the path is /, the rest is the query");
    let slug = POST.trim_end_matches('/');
    let r = request(
        server.addr,
        &format!("GET http://localhost{slug}?a=/b HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
    );
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some(format!("{POST}?a=/b").as_str()));
}

#[test]
fn pages_carry_the_safety_headers() {
    let blog = TempSite::sample();
    let server = start(&blog);
    let page = server.get(POST);
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("object-src 'none'"),
        "{csp}"
    );
    let feed = server.get("/feed.xml");
    assert_eq!(feed.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(feed.header("content-security-policy"), None);
}

#[test]
fn old_addresses_of_a_moved_post_answer_301_to_where_it_lives() {
    let blog = TempSite::sample();
    blog.write_post(
        "moved.md",
        "---\ntitle: Moved\ndate: 2009-05-19\npermalink: /2009/05/19/t.html\nredirect_from: [/old/]\naliases: [\"/older/\"]\n---\nHere now.\n",
    );
    let server = start(&blog);
    let page = server.get("/2009/05/19/t.html");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Here now."));
    for (old, query) in [
        ("/old/", ""),
        ("/older/", "?a=1"),
        ("/old", ""),
        ("/older", "?b=2"),
    ] {
        let r = server.get(&format!("{old}{query}"));
        assert_eq!(r.status, 301, "{old}");
        assert_eq!(
            r.header("location"),
            Some(format!("/2009/05/19/t.html{query}").as_str()),
            "{old}{query}: one hop, the query kept"
        );
        assert!(r.body.is_empty());
    }
    // A page's folder with index.html, as old static hosts answered it.
    let r = server.get(&format!("{POST}index.html"));
    assert_eq!((r.status, r.header("location")), (301, Some(POST)));
}

/// A keep-alive child dates each response when it makes it, in the Date header and in the
/// access log, not with the second it was forked in (which only dates a first response that
/// needed no waiting).
#[test]
fn keep_alive_dates_each_response_when_it_is_made() {
    let blog = TempSite::sample();
    let server = start(&blog);
    let mut stream = connect(server.addr);
    let mut buf = Vec::new();
    let mut dates = Vec::new();
    for n in 0..2 {
        if n > 0 {
            // The next second, by the clock the server shares with this test.
            let after = dates[0];
            assert!(wait_until(Duration::from_secs(5), || {
                jiff::Timestamp::now().as_second() > after
            }));
        }
        stream.write_all(get_with(POST, "").as_bytes()).unwrap();
        let r = read_one(&mut stream, &mut buf, false);
        assert_eq!(r.status, 200);
        dates.push(http_date(r.header("date").expect("Date")).as_second());
    }
    assert!(dates[1] > dates[0], "the same Date twice: {dates:?}");
    drop(stream);
    let logged = |line: &str| {
        let at = line.find('[').expect("a CLF date") + 1;
        let date = &line[at..at + 26];
        jiff::fmt::strtime::parse("%d/%b/%Y:%H:%M:%S %z", date)
            .and_then(|t| t.to_timestamp())
            .unwrap_or_else(|e| panic!("not a CLF date: {date:?}: {e}"))
            .as_second()
    };
    let mut times = Vec::new();
    assert!(
        wait_until(Duration::from_secs(5), || {
            let text = std::fs::read_to_string(&server.access_log).unwrap_or_default();
            times = text
                .lines()
                .filter(|l| l.contains(POST))
                .map(logged)
                .collect();
            times.len() == 2
        }),
        "two log lines expected, got {times:?}"
    );
    assert_eq!(times, dates, "the log's times and the Date headers differ");
}

/// A path without escapes is looked up as sent, without being copied; when it has no page, the
/// slash-form check must still see that path, not an escaped one decoded for an earlier
/// request on the same connection.
#[test]
fn a_missing_path_is_judged_by_itself_after_an_escaped_one() {
    let blog = TempSite::sample();
    let server = start(&blog);
    let mut stream = connect(server.addr);
    let mut buf = Vec::new();
    let mut ask = |path: &str| {
        stream.write_all(get_with(path, "").as_bytes()).unwrap();
        read_one(&mut stream, &mut buf, false)
    };
    let escaped = ask("/posts/reaping%2Dzombies");
    assert_eq!(escaped.status, 301);
    assert_eq!(
        escaped.header("location"),
        Some("/posts/reaping%2Dzombies/")
    );
    assert_eq!(ask("/posts/no-such-post").status, 404);
    let plain = ask("/posts/backpressure-max-children");
    assert_eq!(plain.status, 301);
    assert_eq!(
        plain.header("location"),
        Some("/posts/backpressure-max-children/")
    );
}
