//! `serve --watch`: the open page follows the site as it is written.
//!
//! - At render time (in the render worker), every HTML page gets a `<script src>` for
//!   [`SCRIPT_PATH`], and the script itself is added to the site: the Content-Security-Policy
//!   allows scripts from the site only, so it is a file rather than inline code.
//! - The script asks [`GENERATION_PATH`] once a second and reloads the page when the answer
//!   changes: the generation serving and the count of settled reloads, so a failed reload (which
//!   keeps the generation) is seen too. Polling suits fork-per-connection better than a pushed
//!   event stream: a stream would hold a child (a process, a slot under `--max-children`) per
//!   open tab for as long as the tab is open, cut by `--lifetime`, and the child would need
//!   telling about each reload; a poll is one short request on a keep-alive connection.
//! - While the last reload failed, every page is a 500 naming the problems ([`failure_page`]),
//!   so a broken edit is seen in the browser rather than only in the terminal, until the next
//!   good render replaces it.
//!
//! None of this exists without `--watch`: no script, no endpoint, old content on failure.

use super::response::{uncached, Response, Status};
use super::status::{Counter, Counters};
use crate::site::{Resource, Site};

/// What `--watch` gives a child: why the last reload failed, if it did.
#[derive(Debug, Clone, Copy)]
pub struct Live<'a> {
    /// The problems of the last reload, while it is the latest outcome.
    pub failure: Option<&'a str>,
}

/// The live-reload script's path.
pub const SCRIPT_PATH: &str = "/.well-known/forkblog/live.js";

/// The path the script polls.
pub const GENERATION_PATH: &[u8] = b"/.well-known/forkblog/generation";

/// The script: poll the generation, reload on a change; keep quiet while the server is away.
const SCRIPT: &str = r#"// forkblog serve --watch: reload this page when the site changes.
(function () {
  var seen = null;
  function check() {
    fetch("/.well-known/forkblog/generation", { cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (now) {
        if (seen !== null && now !== seen) { location.reload(); return; }
        seen = now;
        setTimeout(check, 1000);
      })
      .catch(function () { setTimeout(check, 1000); });
  }
  check();
})();
"#;

/// The tag added to each HTML page.
fn script_tag() -> String {
    format!("<script src=\"{SCRIPT_PATH}\" defer></script>")
}

/// Adds the script to every HTML page of `site` (before `</head>` where there is one, else at
/// the end) and the script itself as a resource. Runs in the render worker.
pub fn add_to(site: &mut Site) {
    add_script(site);
    for page in site
        .resources
        .iter_mut()
        .chain(std::iter::once(&mut site.not_found))
    {
        tag_page(page);
    }
}

/// Adds the script itself to `site`, in its place among the resources sorted by path; returns
/// that place. (Each HTML page also needs [`tag_page`].)
pub fn add_script(site: &mut Site) -> usize {
    let last_modified = site
        .resources
        .iter()
        .map(|r| r.last_modified)
        .max()
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let at = site
        .resources
        .partition_point(|r| r.path.as_str() < SCRIPT_PATH);
    site.resources.insert(
        at,
        Resource {
            path: SCRIPT_PATH.into(),
            content_type: "text/javascript; charset=utf-8".into(),
            last_modified,
            body: bytes::Bytes::from_static(SCRIPT.as_bytes()),
        },
    );
    at
}

/// Adds the script's tag to `page` when it is an HTML page.
pub fn tag_page(page: &mut Resource) {
    if page.content_type.starts_with("text/html") {
        let mut body = Vec::from(std::mem::take(&mut page.body));
        inject(&mut body, script_tag().as_bytes());
        page.body = body.into();
    }
}

fn inject(body: &mut Vec<u8>, tag: &[u8]) {
    let at = memchr::memmem::rfind(body, b"</head>").unwrap_or(body.len());
    body.splice(at..at, tag.iter().copied());
}

/// What `--watch` answers itself: the generation endpoint always, and the failure page for
/// everything but the script while the last reload failed. `None`: the site answers.
pub fn respond<'a>(
    path: &[u8],
    counters: Option<&Counters>,
    failure: Option<&str>,
    head_only: bool,
    close: bool,
) -> Option<Response<'a>> {
    if path == GENERATION_PATH {
        let body = match counters {
            Some(c) => format!(
                "{}.{}\n",
                c.get(Counter::Generation),
                c.get(Counter::ReloadsSettled)
            ),
            None => "0.0\n".into(),
        };
        return Some(uncached(
            Status::Ok,
            "text/plain; charset=utf-8",
            body.into_bytes(),
            head_only,
            close,
        ));
    }
    let failure = failure.filter(|_| path != SCRIPT_PATH.as_bytes())?;
    Some(uncached(
        Status::InternalError,
        "text/html; charset=utf-8",
        failure_page(failure).into_bytes(),
        head_only,
        close,
    ))
}

/// The page shown while the last reload failed: the problems, each `file:line: message`.
pub fn failure_page(problems: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Render failed</title>{}</head>\n<body>\n<h1>The last edit did not render</h1>\n\
         <p>Still broken; this page reloads by itself once the site renders again.</p>\n\
         <pre>{}</pre>\n</body></html>\n",
        script_tag(),
        crate::site::text::xml_escape(problems)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_goes_into_the_head_or_at_the_end() {
        let mut page = b"<html><head><title>x</title></head><body></body></html>".to_vec();
        inject(&mut page, b"<s>");
        assert_eq!(
            page,
            b"<html><head><title>x</title><s></head><body></body></html>"
        );
        let mut bare = b"<p>no head</p>".to_vec();
        inject(&mut bare, b"<s>");
        assert_eq!(bare, b"<p>no head</p><s>");
    }

    #[test]
    fn the_failure_page_escapes_the_problems_and_the_script_stays_reachable() {
        let page = failure_page("posts/<a>.md:3: bad & wrong");
        assert!(
            page.contains("posts/&lt;a&gt;.md:3: bad &amp; wrong"),
            "{page}"
        );
        let failed = Some("posts/a.md:1: broken");
        let r = respond(b"/", None, failed, false, false).unwrap();
        assert_eq!(r.status, Status::InternalError);
        assert!(respond(SCRIPT_PATH.as_bytes(), None, failed, false, false).is_none());
        assert!(respond(b"/", None, None, false, false).is_none());
        let r = respond(GENERATION_PATH, None, failed, false, false).unwrap();
        assert_eq!(r.status, Status::Ok);
    }
}
