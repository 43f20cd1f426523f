//! The HTTP details peers' test suites found (h1spec, REDbot, http-garden payloads compared with
//! nginx; issue 23), as one table: each row a request's bytes, the status and the headers RFC
//! 9110, 9112 and 3986 ask for, and the section that asks.
//!
//! Rows go to the real binary over loopback: a server with plain HTTP only, and the plain door
//! of a server with HTTPS on (which redirects every page to HTTPS). `{name}` in a row is filled
//! in from the page as served (its tag, dates and length) and the HTTPS port. Every row is
//! checked and every mismatch reported together.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{request, set_mode, wait_until, Server, TempSite};

/// The page the rows ask for: an HTML post, long enough to have a gzip twin.
const POST: &str = "/posts/backpressure-max-children/";

/// Which listener a row is sent to.
#[derive(Debug, Clone, Copy)]
enum Door {
    /// A server with plain HTTP only.
    Plain,
    /// The plain listener of a server with HTTPS on.
    Redirect,
}
use Door::{Plain, Redirect};

/// `Some(value)`: the header is there with that value; `None`: it is absent.
type Expect = (&'static str, Option<&'static str>);

/// Section, door, request (without `Connection: close` and the final CRLF, which every row
/// gets), status, headers.
type Row = (&'static str, Door, &'static str, u16, &'static [Expect]);

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // A 206 carries the header fields a 200 would (Vary included), with its own length.
    ("9110 15.3.7", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\nRange: bytes=0-9\r\n",
        206, &[("vary", Some("Accept-Encoding")), ("etag", Some("{etag}")), ("content-range", Some("bytes 0-9/{len}")), ("content-length", Some("10"))]),
    ("9110 15.3.7", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nRange: bytes=-5\r\n",
        206, &[("vary", Some("Accept-Encoding")), ("last-modified", Some("{last_modified}"))]),

    // An escaped unreserved character is that character: `index%2ehtml` is `index.html`, and
    // its folder's page is where it leads, at the page's own path.
    ("3986 6.2.2.2", Plain, "GET {post}index%2ehtml HTTP/1.1\r\nHost: t\r\n",
        301, &[("location", Some("{post}"))]),
    ("3986 6.2.2.2", Plain, "GET /%69ndex.html HTTP/1.1\r\nHost: t\r\n",
        301, &[("location", Some("/"))]),
    ("3986 6.2.2.2", Plain, "GET {post}%69ndex%2Ehtml?a=1 HTTP/1.1\r\nHost: t\r\n",
        301, &[("location", Some("{post}?a=1"))]),
    ("3986 6.2.2.2", Plain, "GET {post}index.html HTTP/1.1\r\nHost: t\r\n",
        301, &[("location", Some("{post}"))]),
    // A path's case is its own (6.2.2.1 folds the scheme and host only): `iNDEX.html` is no index.
    ("3986 6.2.2.1", Plain, "GET {post}%69NDEX%2Ehtml?a=1 HTTP/1.1\r\nHost: t\r\n",
        404, &[("location", None)]),
    // ... but `%2F` is not `/` (a reserved character escaped is data): no folder there.
    ("3986 2.2", Plain, "GET {post_stem}%2Findex.html HTTP/1.1\r\nHost: t\r\n",
        404, &[("location", None)]),

    // If-Match: strong comparison with a current representation's tag, or `*`.
    ("9110 13.1.1", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nIf-Match: \"nope\"\r\n",
        412, &[("etag", None)]),
    ("9110 13.1.1", Plain, "HEAD {post} HTTP/1.1\r\nHost: t\r\nIf-Match: \"nope\"\r\n",
        412, &[]),
    ("9110 13.1.1", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nIf-Match: W/{etag}\r\n",
        412, &[]),
    ("9110 13.1.1", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nIf-Match: \"nope\", {etag}\r\n",
        200, &[("etag", Some("{etag}"))]),
    ("9110 13.1.1", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\nIf-Match: {gz_etag}\r\n",
        200, &[("etag", Some("{gz_etag}"))]),
    ("9110 13.1.1", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nIf-Match: *\r\n",
        200, &[]),

    // If-Unmodified-Since: modified after the date is a 412; a field that is no date is ignored.
    ("9110 13.1.4", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nIf-Unmodified-Since: {day_before}\r\n",
        412, &[]),
    ("9110 13.1.4", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nIf-Unmodified-Since: {asctime_day_before}\r\n",
        412, &[]),
    ("9110 13.1.4", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nIf-Unmodified-Since: {last_modified}\r\n",
        200, &[]),
    ("9110 13.1.4", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nIf-Unmodified-Since: yesterday\r\n",
        200, &[]),

    // The order of 13.2.2: If-Match, else If-Unmodified-Since; then If-None-Match, else
    // If-Modified-Since.
    ("9110 13.2.2", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nIf-Match: {etag}\r\nIf-Unmodified-Since: {day_before}\r\n",
        200, &[]),
    ("9110 13.2.2", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nIf-None-Match: {etag}\r\nIf-Match: \"nope\"\r\n",
        412, &[]),
    ("9110 13.2.2", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nIf-Match: {etag}\r\nIf-None-Match: {etag}\r\n",
        304, &[("etag", Some("{etag}")), ("vary", Some("Accept-Encoding"))]),
    ("9110 13.2.2", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"other\"\r\nIf-Modified-Since: {last_modified}\r\n",
        200, &[]),

    // If-Modified-Since in each of the three date forms a recipient must accept.
    ("9110 5.6.7", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: {last_modified}\r\n",
        304, &[("etag", Some("{etag}"))]),
    ("9110 5.6.7", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: {rfc850}\r\n",
        304, &[("etag", Some("{etag}"))]),
    ("9110 5.6.7", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: {asctime}\r\n",
        304, &[("etag", Some("{etag}"))]),
    ("9110 5.6.7", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: {rfc850_day_before}\r\n",
        200, &[]),
    ("9110 13.1.3", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: {day_after}\r\n",
        304, &[]),
    ("9110 13.1.3", Plain, "GET {post} HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: {last_modified}, {last_modified}\r\n",
        200, &[]),

    // The redirect to HTTPS: an absolute form's authority wins over Host.
    ("9112 3.2.2", Redirect, "GET http://right.example/x?q=1 HTTP/1.1\r\nHost: wrong.example\r\n",
        301, &[("location", Some("https://right.example:{tls_port}/x?q=1"))]),
    ("9112 3.2.2", Redirect, "GET http://[::1]:8080{post} HTTP/1.1\r\nHost: [::1]:8080\r\n",
        301, &[("location", Some("https://[::1]:{tls_port}{post}"))]),
    ("9112 3.2.2", Redirect, "GET {post} HTTP/1.1\r\nHost: blog.example:8080\r\n",
        301, &[("location", Some("https://blog.example:{tls_port}{post}"))]),
    ("9112 3.2.2", Redirect, "GET {post} HTTP/1.0\r\nHost: blog.example\r\n",
        301, &[("location", Some("https://blog.example:{tls_port}{post}"))]),
    // No host to redirect to: an empty Host, or none in HTTP/1.0, is refused, never served
    // over plain HTTP nor sent to `https://:443`.
    ("9112 3.3", Redirect, "GET {post} HTTP/1.1\r\nHost: \r\n",
        400, &[("location", None)]),
    ("9112 3.3", Redirect, "GET {post} HTTP/1.1\r\nHost: :8080\r\n",
        400, &[("location", None)]),
    ("9112 3.3", Redirect, "GET {post} HTTP/1.0\r\n",
        400, &[("location", None)]),
    // ACME's challenges stay on the plain door, host or not.
    ("9112 3.3", Redirect, "GET /.well-known/acme-challenge/none HTTP/1.0\r\n",
        404, &[("location", None)]),
    // An authority with user information, or with no host, is no http URI.
    ("9110 4.2.4", Redirect, "GET http://user@right.example/ HTTP/1.1\r\nHost: right.example\r\n",
        400, &[("location", None)]),
    ("9110 4.2.4", Plain, "GET http://user@right.example/ HTTP/1.1\r\nHost: right.example\r\n",
        400, &[]),
    ("9110 4.2.1", Plain, "GET http://:80/ HTTP/1.1\r\nHost: right.example\r\n",
        400, &[]),
];

/// A self-signed certificate for `localhost`, as cert.pem and key.pem in `dir` (readable by
/// the user the server drops to).
fn certificate_in(dir: &std::path::Path) -> [String; 2] {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let files = [
        ("cert.pem", made.cert.pem()),
        ("key.pem", made.key_pair.serialize_pem()),
    ];
    files.map(|(name, text)| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        set_mode(&path, 0o644);
        path.to_str().unwrap().to_string()
    })
}

/// A date from the page's Last-Modified, `days` later, in `format` (jiff's strftime).
fn date(last_modified: &str, days: i64, format: &str) -> String {
    let at = jiff::fmt::strtime::parse("%a, %d %b %Y %H:%M:%S GMT", last_modified)
        .and_then(|t| t.to_datetime())
        .unwrap_or_else(|e| panic!("Last-Modified {last_modified:?}: {e}"));
    let at = at + jiff::Span::new().days(days);
    at.strftime(format).to_string()
}

/// Replaces every `{name}` in `text` by its value.
fn fill(text: &str, vars: &HashMap<&str, String>) -> String {
    vars.iter().fold(text.to_string(), |t, (name, value)| {
        t.replace(&format!("{{{name}}}"), value)
    })
}

#[test]
fn each_detail_is_answered_as_the_rfc_says() {
    let blog = TempSite::sample();
    let plain = Server::start(blog.root(), &[]);
    let [cert, key] = certificate_in(blog.root());
    let tls = Server::start(
        blog.root(),
        &[
            "--tls-listen",
            "127.0.0.1:0",
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
        ],
    );
    let mut tls_port = None;
    assert!(
        wait_until(Duration::from_secs(10), || {
            tls_port = tls.log_text().lines().find_map(|line| {
                let at = line.find("on https://")?;
                let addr: std::net::SocketAddr =
                    line[at + 11..].split_whitespace().next()?.parse().ok()?;
                Some(addr.port())
            });
            tls_port.is_some()
        }),
        "no HTTPS listener: {}",
        tls.log_text()
    );

    // The page as served: what the rows' `{name}`s stand for.
    let page = plain.get(POST);
    assert_eq!(page.status, 200);
    let gz = request(
        plain.addr,
        &format!(
            "GET {POST} HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(gz.header("content-encoding"), Some("gzip"), "no gzip twin");
    let last_modified = page.header("last-modified").unwrap().to_string();
    let imf = "%a, %d %b %Y %H:%M:%S GMT";
    let rfc850 = "%A, %d-%b-%y %H:%M:%S GMT";
    let asctime = "%a %b %e %H:%M:%S %Y";
    let vars: HashMap<&str, String> = [
        ("post", POST.to_string()),
        ("post_stem", POST.trim_end_matches('/').to_string()),
        ("etag", page.header("etag").unwrap().to_string()),
        ("gz_etag", gz.header("etag").unwrap().to_string()),
        ("len", page.body.len().to_string()),
        ("rfc850", date(&last_modified, 0, rfc850)),
        ("asctime", date(&last_modified, 0, asctime)),
        ("day_before", date(&last_modified, -1, imf)),
        ("day_after", date(&last_modified, 1, imf)),
        ("rfc850_day_before", date(&last_modified, -1, rfc850)),
        ("asctime_day_before", date(&last_modified, -1, asctime)),
        ("last_modified", last_modified),
        ("tls_port", tls_port.unwrap().to_string()),
    ]
    .into_iter()
    .collect();

    let mut wrong = Vec::new();
    for &(section, door, raw, status, headers) in ROWS {
        let raw = fill(raw, &vars) + "Connection: close\r\n\r\n";
        let addr = match door {
            Plain => plain.addr,
            Redirect => tls.addr,
        };
        let r = request(addr, &raw);
        let mut problems = Vec::new();
        if r.status != status {
            problems.push(format!("status {} (want {status})", r.status));
        }
        for &(name, want) in headers {
            let want = want.map(|w| fill(w, &vars));
            if r.header(name) != want.as_deref() {
                problems.push(format!("{name}: {:?} (want {want:?})", r.header(name)));
            }
        }
        if !problems.is_empty() {
            wrong.push(format!(
                "RFC {section}, {door:?} door, {raw:?}: {}",
                problems.join("; ")
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} rows wrong:\n{}",
        wrong.len(),
        ROWS.len(),
        wrong.join("\n")
    );
}
