//! `serve --watch` at render time: every HTML page gets a `<script src>` for [`SCRIPT_PATH`],
//! and the script itself is added to the site. The Content-Security-Policy allows scripts from
//! the site only, so it is a file rather than inline code. The script polls the generation the
//! child answers (`serve::live`) and reloads the page when it changes.

use serve::live::{script_tag, SCRIPT_PATH};

use crate::site::{Resource, Site};

/// The script: poll the generation, reload on a change; keep quiet while the server is away.
/// A visible page asks every 150 ms, so an edit shows within a few frames of the render; a
/// hidden one every 2 s.
const SCRIPT: &str = r#"// forkblog serve --watch: reload this page when the site changes.
(function () {
  var seen = null;
  function later() {
    setTimeout(check, document.visibilityState === "hidden" ? 2000 : 150);
  }
  function check() {
    fetch("/.well-known/forkblog/generation", { cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (now) {
        if (seen !== null && now !== seen) { location.reload(); return; }
        seen = now;
        later();
      })
      .catch(later);
  }
  check();
})();
"#;

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
    fn the_script_polls_the_path_the_child_answers() {
        let path = std::str::from_utf8(serve::live::GENERATION_PATH).unwrap();
        assert!(SCRIPT.contains(&format!("fetch(\"{path}\"")));
    }
}
