//! The check that every internal link and image in a rendered post or page leads somewhere:
//! each `href` and `src` without a scheme is resolved against the page's own path and looked up
//! among the site's resources (a folder path without its `/` counts, since the server answers it
//! with a redirect). A broken one is reported against the post's file, at the line where the
//! target is written when it can be found there.
//!
//! Also the rewriting that puts a site under its `base_url`'s path ([`with_prefix`]): posts and
//! templates write root-relative links (`/about/`, `/img/x.png`) as if the site were at the
//! root of its host, and every page is served with them carrying the prefix.

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::Path;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use super::text::line_of;
use super::{Problem, Resource};

/// Reports every broken internal link of the page at `page_path`, written in `source`. `paths`
/// and the page's own path are the site's before it is put under `prefix` (the base path, see
/// [`with_prefix`]); the page's links already carry it.
pub(super) fn check(
    page: &Resource,
    source: &Path,
    paths: &HashSet<&str>,
    prefix: &str,
    problems: &mut Vec<Problem>,
) {
    let Ok(html) = std::str::from_utf8(&page.body) else {
        return;
    };
    let mut reported: Vec<String> = Vec::new();
    let mut broken: Vec<Problem> = Vec::new();
    let mut source_text: Option<String> = None;
    // Searchers built once: every page of the site is searched for both.
    static ATTRS: LazyLock<[Finder<'static>; 2]> =
        LazyLock::new(|| [Finder::new("href=\""), Finder::new("src=\"")]);
    for finder in ATTRS.iter() {
        let attr_len = finder.needle().len();
        for at in finder.find_iter(html.as_bytes()) {
            let rest = &html[at + attr_len..];
            let Some(end) = memchr::memchr(b'"', rest.as_bytes()) else {
                continue;
            };
            let raw = unescape(&rest[..end]);
            let Some(target) = resolve_under(&page.path, &raw, prefix) else {
                continue;
            };
            // A link that leaves the prefix leads out of the site.
            let inside = without_prefix(&target, prefix);
            let found = inside.is_some_and(|inside| {
                paths.contains(inside)
                    || (!inside.ends_with('/') && paths.contains(format!("{inside}/").as_str()))
            });
            if found || reported.iter().any(|r| *r == *target) {
                continue;
            }
            let text = source_text
                .get_or_insert_with(|| std::fs::read_to_string(source).unwrap_or_default());
            let written = raw.split(['#', '?']).next().unwrap_or("");
            // Written without the prefix the page's link was given.
            let line = [written, without_base_path(written, prefix)]
                .iter()
                .filter(|w| !w.is_empty())
                .find_map(|w| text.find(w))
                .map(|i| line_of(text, i));
            broken.push(Problem {
                file: source.to_path_buf(),
                line,
                message: format!("broken link: {raw} (no page or file at {target})"),
            });
            reported.push(target.into_owned());
        }
    }
    broken.sort_by_key(|p| p.line);
    problems.extend(broken);
}

/// As [`resolve`], for the page at `page_path` served under `prefix`: the served path the link
/// leads to.
fn resolve_under<'a>(page_path: &str, link: &'a str, prefix: &str) -> Option<Cow<'a, str>> {
    if prefix.is_empty() {
        return resolve(page_path, link);
    }
    resolve(&format!("{prefix}{page_path}"), link).map(|t| Cow::Owned(t.into_owned()))
}

/// `path` (a served path) as a path of the site under `prefix`, or `None` when it lies outside.
fn without_prefix<'p>(path: &'p str, prefix: &str) -> Option<&'p str> {
    if prefix.is_empty() {
        return Some(path);
    }
    match path.strip_prefix(prefix)? {
        "" => Some("/"),
        rest if rest.starts_with('/') => Some(rest),
        _ => None,
    }
}

/// `url` without `prefix` when it is a root-relative URL that carries it (`/notes/img/x.png`
/// gives `/img/x.png`, `/notes` gives `/`); any other URL as it is.
pub(super) fn without_base_path<'u>(url: &'u str, prefix: &str) -> &'u str {
    match url.starts_with('/') && !url.starts_with("//") {
        true => without_prefix(url, prefix).unwrap_or(url),
        false => url,
    }
}

/// The attributes whose values are URLs that a prefix is put into.
const URL_ATTRIBUTES: &[&str] = &["href", "src", "srcset", "poster", "action", "data-src"];

/// `html` with every root-relative URL in an attribute that holds one (`href`, `src`, `srcset`,
/// ...) put under `prefix` (`/notes`): `/about/` becomes `/notes/about/`. A URL already under
/// it (`/notes/...`, as written for the old site) is left as it is, so the rewriting can run
/// over a page more than once, unless its path is one of `own` (sorted): the site's own URLs
/// that start with the prefix. `//host/x` and relative URLs are left alone.
pub(super) fn with_prefix<'h>(html: &'h str, prefix: &str, own: &[String]) -> Cow<'h, str> {
    if prefix.is_empty() {
        return Cow::Borrowed(html);
    }
    let bytes = html.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    // Every `=` followed by a quote: cheap to find, and rare outside attributes.
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'=', &bytes[from..]).map(|i| from + i) {
        from = i + 1;
        let Some(&quote) = bytes.get(i + 1).filter(|q| matches!(q, b'"' | b'\'')) else {
            continue;
        };
        let name_start = html[..i]
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-'))
            .map_or(0, |(at, c)| at + c.len_utf8());
        let name = &html[name_start..i];
        let preceded = name_start > 0 && bytes[name_start - 1].is_ascii_whitespace();
        if !preceded || !URL_ATTRIBUTES.iter().any(|a| a.eq_ignore_ascii_case(name)) {
            continue;
        }
        let value_start = i + 2;
        let Some(len) = memchr::memchr(quote, &bytes[value_start..]) else {
            continue;
        };
        let value = &html[value_start..value_start + len];
        let srcset = name.eq_ignore_ascii_case("srcset");
        let new_value = if srcset {
            let candidates: Vec<String> = value
                .split(',')
                .map(|c| {
                    let lead = c.len() - c.trim_start().len();
                    format!("{}{}", &c[..lead], prefixed(&c[lead..], prefix, own))
                })
                .collect();
            Some(candidates.join(","))
        } else {
            needs_prefix(value, prefix, own).then(|| prefixed(value, prefix, own))
        };
        if let Some(new_value) = new_value.filter(|v| v != value) {
            out.push_str(&html[copied..value_start]);
            out.push_str(&new_value);
            copied = value_start + len;
        }
        from = value_start + len;
    }
    if copied == 0 {
        return Cow::Borrowed(html);
    }
    out.push_str(&html[copied..]);
    Cow::Owned(out)
}

/// Whether `url` is root-relative and not yet under `prefix` (or names one of `own`).
fn needs_prefix(url: &str, prefix: &str, own: &[String]) -> bool {
    let url = url.trim_start();
    if !url.starts_with('/') || url.starts_with("//") {
        return false;
    }
    let path = &url[..url.find(['?', '#']).unwrap_or(url.len())];
    match path.strip_prefix(prefix) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            !own.is_empty() && own.binary_search_by(|o| o.as_str().cmp(path)).is_ok()
        }
        _ => true,
    }
}

/// `url` under `prefix` if it needs it (see [`needs_prefix`]).
fn prefixed(url: &str, prefix: &str, own: &[String]) -> String {
    match needs_prefix(url, prefix, own) {
        true => {
            let lead = url.len() - url.trim_start().len();
            format!("{}{prefix}{}", &url[..lead], &url[lead..])
        }
        false => url.to_string(),
    }
}

/// The decoded site path a link leads to, or `None` for links that leave the site or stay on
/// the page (`https:`, `mailto:`, `//host`, `#top`).
fn resolve<'a>(page_path: &str, link: &'a str) -> Option<Cow<'a, str>> {
    let link = link.trim();
    let without_fragment = link.split(['#', '?']).next().unwrap_or("");
    if without_fragment.is_empty() || link.starts_with("//") {
        return None;
    }
    if let Some(colon) = without_fragment.find(':') {
        if !without_fragment[..colon].contains('/') {
            return None; // a scheme
        }
    }
    if is_plain_path(without_fragment) {
        // Decoding and normalising would give it back unchanged.
        return Some(Cow::Borrowed(without_fragment));
    }
    let joined = if without_fragment.starts_with('/') {
        without_fragment.to_string()
    } else {
        let folder = &page_path[..page_path.rfind('/').map_or(0, |i| i + 1)];
        format!("{folder}{without_fragment}")
    };
    let decoded = decode(&joined)?;
    let mut parts: Vec<&str> = Vec::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut path = format!("/{}", parts.join("/"));
    if (decoded.ends_with('/') || decoded.ends_with("/.") || decoded.ends_with("/.."))
        && path != "/"
    {
        path.push('/');
    }
    Some(Cow::Owned(path))
}

/// Whether `path` is already a decoded, normal site path: it starts with `/`, holds no `%`, and
/// has no empty, `.` or `..` segment (but may end in `/`).
fn is_plain_path(path: &str) -> bool {
    if path == "/" {
        return true;
    }
    let Some(inner) = path.strip_prefix('/') else {
        return false;
    };
    let inner = inner.strip_suffix('/').unwrap_or(inner);
    !path.contains('%')
        && inner
            .split('/')
            .all(|segment| !matches!(segment, "" | "." | ".."))
}

fn unescape(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    Cow::Owned(unescape_entities(text))
}

fn unescape_entities(text: &str) -> String {
    text.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolving() {
        assert_eq!(
            resolve("/posts/a/", "pic.png").as_deref(),
            Some("/posts/a/pic.png")
        );
        assert_eq!(
            resolve("/2009/05/t.html", "../img/x.png").as_deref(),
            Some("/2009/img/x.png")
        );
        assert_eq!(
            resolve("/a/", "/tags/caf%C3%A9/#x").as_deref(),
            Some("/tags/café/")
        );
        assert_eq!(resolve("/a/", "https://x.org/"), None);
        assert_eq!(resolve("/a/", "mailto:x@y"), None);
        assert_eq!(resolve("/a/", "//cdn.example/x.js"), None);
        assert_eq!(resolve("/a/", "#top"), None);
        assert_eq!(resolve("/a/", "../../../.."), Some("/".into()));
        assert_eq!(resolve("/a/", "/").as_deref(), Some("/"));
        assert_eq!(resolve("/a/", "/x//y/").as_deref(), Some("/x/y/"));
        assert_eq!(resolve("/a/", "/x/./y").as_deref(), Some("/x/y"));
        assert_eq!(resolve("/a/", "/x/y/..").as_deref(), Some("/x/"));
        assert_eq!(resolve("/a/", "/x/%79/?q").as_deref(), Some("/x/y/"));
    }

    #[test]
    fn root_relative_links_take_the_prefix() {
        let html = "<a href=\"/about/\">a</a> <img src='/img/x.png' alt=\"/no\"> \
                    <a href=\"/notes/kept/\">k</a> <a href=\"/notes\">h</a> \
                    <a href=\"/notesy/\">y</a> <a href=\"//cdn.example/x\">c</a> \
                    <a href=\"rel/x\">r</a> <a href=\"https://x.org/a\">x</a> \
                    <img srcset=\"/a.png 1x, /notes/b.png 2x, c.png 3x\"> x=\"/y\" \
                    <a data-href=\"/z\">z</a> <a href=\"/?q#f\">q</a>";
        let once = with_prefix(html, "/notes", &[]);
        assert_eq!(
            once,
            "<a href=\"/notes/about/\">a</a> <img src='/notes/img/x.png' alt=\"/no\"> \
             <a href=\"/notes/kept/\">k</a> <a href=\"/notes\">h</a> \
             <a href=\"/notes/notesy/\">y</a> <a href=\"//cdn.example/x\">c</a> \
             <a href=\"rel/x\">r</a> <a href=\"https://x.org/a\">x</a> \
             <img srcset=\"/notes/a.png 1x, /notes/b.png 2x, c.png 3x\"> x=\"/y\" \
             <a data-href=\"/z\">z</a> <a href=\"/notes/?q#f\">q</a>"
        );
        assert_eq!(
            with_prefix(&once, "/notes", &[]),
            once,
            "rewriting twice changes nothing"
        );
        assert!(matches!(with_prefix(html, "", &[]), Cow::Borrowed(_)));
        assert!(matches!(
            with_prefix("<a href=\"x\">", "/notes", &[]),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn any_text_is_rewritten_without_a_panic() {
        let pieces = [
            "é", "href", "=", "\"", "'", "/", "/notes", " ", "src", "srcset", ",", "x", "\n",
            "<a ", ">", "?", "#", "日本",
        ];
        let mut seed: u64 = 7;
        for _ in 0..2000 {
            let mut text = String::new();
            for _ in 0..(seed % 24) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            let once = with_prefix(&text, "/notes", &[]).into_owned();
            assert_eq!(with_prefix(&once, "/notes", &[]), once, "{text:?}");
        }
        assert_eq!(
            with_prefix("<a éhref=\"/a\" é href=\"/b\">", "/notes", &[]),
            "<a éhref=\"/a\" é href=\"/notes/b\">"
        );
    }

    #[test]
    fn the_sites_own_urls_under_the_prefix_take_it_too() {
        let own = ["/notes/x/".to_string()];
        assert_eq!(
            with_prefix(
                "<a href=\"/notes/x/\"><a href=\"/notes/y/\">",
                "/notes",
                &own
            ),
            "<a href=\"/notes/notes/x/\"><a href=\"/notes/y/\">"
        );
    }

    #[test]
    fn a_url_carrying_the_prefix_is_taken_back_to_the_sites_own() {
        assert_eq!(
            without_base_path("/notes/img/x.png", "/notes"),
            "/img/x.png"
        );
        assert_eq!(without_base_path("/notes", "/notes"), "/");
        assert_eq!(without_base_path("/notesy/x", "/notes"), "/notesy/x");
        assert_eq!(without_base_path("/img/x.png", "/notes"), "/img/x.png");
        assert_eq!(
            without_base_path("https://x.org/notes/a", "/notes"),
            "https://x.org/notes/a"
        );
        assert_eq!(without_base_path("/notes/a", ""), "/notes/a");
    }

    #[test]
    fn links_under_a_prefix_are_checked_inside_it() {
        let paths: HashSet<&str> = ["/", "/about/", "/posts/a/", "/posts/a/pic.png"].into();
        let page = |html: &str| Resource {
            path: "/posts/a/".into(),
            content_type: "text/html".into(),
            last_modified: jiff::Timestamp::UNIX_EPOCH,
            body: html.to_string().into_bytes().into(),
        };
        let broken = |html: &str| {
            let mut problems = Vec::new();
            check(
                &page(html),
                Path::new("/nonexistent"),
                &paths,
                "/notes",
                &mut problems,
            );
            problems.len()
        };
        assert_eq!(broken("<a href=\"/notes/about/\"><img src=\"pic.png\">"), 0);
        assert_eq!(broken("<a href=\"/notes\"><a href=\"../../about\">"), 0);
        assert_eq!(broken("<a href=\"/about/\">"), 1, "outside the prefix");
        assert_eq!(
            broken("<a href=\"../../../about/\">"),
            1,
            "climbs out of it"
        );
        assert_eq!(broken("<a href=\"/notes/nope/\">"), 1);
    }

    #[test]
    fn plain_paths_resolve_as_the_general_rule_does() {
        // The general rule, for paths taken as they are by the shortcut.
        let general = |path: &str| {
            let parts: Vec<&str> = path
                .split('/')
                .filter(|s| !s.is_empty() && *s != ".")
                .collect();
            let mut normal = format!("/{}", parts.join("/"));
            if path.ends_with('/') && normal != "/" {
                normal.push('/');
            }
            normal
        };
        for path in ["/", "/a", "/a/", "/a/b.c/", "/a..b/", "/.a/", "/tags/café/"] {
            assert!(is_plain_path(path), "{path}");
            assert_eq!(general(path), path);
        }
        for path in [
            "", "a/", "//", "/a//b", "/./", "/a/..", "/a/../", "/%41", "/a/./b",
        ] {
            assert!(!is_plain_path(path), "{path}");
        }
    }
}
