//! The check that every internal link and image in a rendered post or page leads somewhere:
//! each `href` and `src` without a scheme is resolved against the page's own path and looked up
//! among the site's resources (a folder path without its `/` counts, since the server answers it
//! with a redirect). A broken one is reported against the post's file, at the line where the
//! target is written when it can be found there.

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::Path;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use super::text::line_of;
use super::{Problem, Resource};

/// Reports every broken internal link of the page at `page_path`, written in `source`.
pub fn check(page: &Resource, source: &Path, paths: &HashSet<&str>, problems: &mut Vec<Problem>) {
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
            let Some(target) = resolve(&page.path, &raw) else {
                continue;
            };
            let found = paths.contains(&*target)
                || (!target.ends_with('/') && paths.contains(format!("{target}/").as_str()));
            if found || reported.iter().any(|r| *r == *target) {
                continue;
            }
            let text = source_text
                .get_or_insert_with(|| std::fs::read_to_string(source).unwrap_or_default());
            let written = raw.split(['#', '?']).next().unwrap_or("");
            let line = text
                .find(written)
                .filter(|_| !written.is_empty())
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
