//! Where a post is served: the `permalink` pattern of `forkblog.toml` (default
//! [`DEFAULT`]), or the post's own `permalink` / `url` / `path`, and the old addresses it also
//! answers (`redirect_from`, `aliases`).
//!
//! A pattern is a URL path with placeholders, as Jekyll, Hugo and Zola write them:
//! `:year :month :day :i_month :i_day :short_year :hour :minute :second` (from the post's
//! date as written), `:slug` (front matter `slug`, else the file name without its date),
//! `:title` (the same, but with the case and punctuation Jekyll keeps in file names),
//! `:categories` (lower-cased, joined with `/`), `:section` (the first folder under `posts/`)
//! and `:output_ext` (`.html`). A pattern ends in `/` (served as a folder) or `.html`.
//!
//! Paths here are decoded (`/tags/café/`), like every resource path.

use super::date::PostDate;

/// The pattern used when `forkblog.toml` sets none.
pub const DEFAULT: &str = "/posts/:slug/";

/// Placeholders a pattern may use, longest first so `:i_month` is not read as `:i`.
const PLACEHOLDERS: &[&str] = &[
    ":output_ext",
    ":categories",
    ":short_year",
    ":section",
    ":i_month",
    ":minute",
    ":second",
    ":i_day",
    ":month",
    ":title",
    ":year",
    ":slug",
    ":hour",
    ":day",
];

/// What a pattern's placeholders are filled from.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The URL-safe slug.
    pub slug: &'a str,
    /// The Jekyll `:title`: the file name's slug with its case kept.
    pub title: &'a str,
    /// The post's date.
    pub date: PostDate,
    /// Categories, as written.
    pub categories: &'a [String],
    /// The first folder under `posts/`, or empty.
    pub section: &'a str,
}

/// Checks a pattern: it starts with `/`, ends with `/` or `.html` (or `:output_ext`), and uses
/// only known placeholders. The error says what is wrong and what is accepted.
pub fn validate(pattern: &str) -> Result<(), String> {
    if !pattern.starts_with('/') {
        return Err(format!("permalink {pattern:?} must start with `/`"));
    }
    if !(pattern.ends_with('/') || pattern.ends_with(".html") || pattern.ends_with(":output_ext")) {
        return Err(format!(
            "permalink {pattern:?} must end with `/` or `.html` (as in /posts/:slug/ or \
             /:year/:month/:day/:title.html)"
        ));
    }
    let mut rest = pattern;
    while let Some(at) = rest.find(':') {
        rest = &rest[at..];
        match PLACEHOLDERS.iter().find(|p| rest.starts_with(**p)) {
            Some(p) => rest = &rest[p.len()..],
            None => {
                let word: String = rest.chars().take_while(|c| *c != '/').collect();
                return Err(format!(
                    "permalink {pattern:?}: unknown placeholder `{word}`; known: {}",
                    PLACEHOLDERS.join(" ")
                ));
            }
        }
    }
    if !pattern.contains(":slug") && !pattern.contains(":title") {
        return Err(format!(
            "permalink {pattern:?} needs :slug or :title, or every post would share one URL"
        ));
    }
    Ok(())
}

/// Fills `pattern` (already [`validate`]d) from `facts`: a decoded path with empty segments
/// (an empty `:section`, no categories) closed up.
pub fn expand(pattern: &str, facts: &Facts) -> String {
    let day = facts.date.day;
    let time = facts
        .date
        .timestamp
        .to_zoned(jiff::tz::TimeZone::UTC)
        .datetime();
    let categories: Vec<String> = facts
        .categories
        .iter()
        .map(|c| c.trim().to_lowercase())
        .filter(|c| !c.is_empty())
        .collect();
    let mut out = String::with_capacity(pattern.len() + 32);
    let mut rest = pattern;
    while let Some(at) = rest.find(':') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(p) = PLACEHOLDERS.iter().find(|p| rest.starts_with(**p)) else {
            out.push(':');
            rest = &rest[1..];
            continue;
        };
        rest = &rest[p.len()..];
        let value = match *p {
            ":year" => format!("{:04}", day.year()),
            ":short_year" => format!("{:02}", day.year().rem_euclid(100)),
            ":month" => format!("{:02}", day.month()),
            ":i_month" => day.month().to_string(),
            ":day" => format!("{:02}", day.day()),
            ":i_day" => day.day().to_string(),
            ":hour" => format!("{:02}", time.hour()),
            ":minute" => format!("{:02}", time.minute()),
            ":second" => format!("{:02}", time.second()),
            ":slug" => facts.slug.to_string(),
            ":title" => facts.title.to_string(),
            ":categories" => categories.join("/"),
            ":section" => facts.section.to_string(),
            ":output_ext" => ".html".to_string(),
            _ => String::new(),
        };
        out.push_str(&value);
    }
    out.push_str(rest);
    close_up(&out)
}

/// Collapses `//` runs and makes sure the path starts with `/`.
fn close_up(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 1);
    out.push('/');
    for c in path.chars() {
        if c == '/' && out.ends_with('/') {
            continue;
        }
        out.push(c);
    }
    out
}

/// A URL as written in front matter (`permalink`, `url`, Zola's `path`, `redirect_from`,
/// `aliases`) made into a decoded site path: a scheme and host are dropped, a query or fragment
/// is dropped, percent-escapes are decoded, a missing leading `/` is added, and a path whose last
/// segment has no extension gets a trailing `/` (as generators write `/about` for the folder
/// `/about/`). `None` for a path that climbs (`..`) or is empty or not text.
pub fn normalize(url: &str) -> Option<String> {
    let url = url.trim();
    let url = match url.find("://") {
        Some(at) if !url[..at].contains('/') => {
            let after = &url[at + 3..];
            &after[after.find('/').unwrap_or(after.len())..]
        }
        _ => url,
    };
    let url = url.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_decode(url)?;
    let path = close_up(&decoded);
    if path
        .split('/')
        .any(|s| s == ".." || s == "." || s.contains('\0'))
    {
        return None;
    }
    if path == "/" {
        return Some(path);
    }
    let last = path.rsplit('/').next().unwrap_or("");
    if last.is_empty() || last.contains('.') {
        Some(path)
    } else {
        Some(format!("{path}/"))
    }
}

/// Decodes `%XX` escapes; `None` if the result is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Jekyll's `:title`: the file-name slug with its case kept, runs of characters other than
/// letters, digits and `._~!$&'()+,;=@` turned into one `-`, and `-` trimmed from both ends.
pub fn jekyll_title(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.chars() {
        if c.is_alphanumeric() || "._~!$&'()+,;=@".contains(c) {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else {
            dash = true;
        }
    }
    out
}

/// The paths that answer for a post served at `path` without being it: for `/a/b.html`, the
/// extension-less `/a/b` that static hosts also answer.
pub fn implied_aliases(path: &str) -> Vec<String> {
    match path.strip_suffix(".html") {
        Some(stem) if !stem.ends_with('/') && !stem.ends_with("/index") => {
            vec![stem.to_string()]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(categories: &'a [String], section: &'a str) -> Facts<'a> {
        Facts {
            slug: "hello-world",
            title: "Hello-World",
            date: super::super::date::parse("2009-05-19 23:30:00 +0200").unwrap(),
            categories,
            section,
        }
    }

    #[test]
    fn patterns_expand() {
        let none: Vec<String> = Vec::new();
        let cats = vec!["Code".to_string(), "Rust Lang".to_string()];
        let f = facts(&none, "");
        assert_eq!(expand(DEFAULT, &f), "/posts/hello-world/");
        assert_eq!(
            expand("/:year/:month/:day/:title.html", &f),
            "/2009/05/19/Hello-World.html"
        );
        assert_eq!(
            expand("/:categories/:year/:i_month/:i_day/:slug:output_ext", &f),
            "/2009/5/19/hello-world.html"
        );
        let f = facts(&cats, "blog");
        assert_eq!(
            expand("/:categories/:title/", &f),
            "/code/rust lang/Hello-World/"
        );
        assert_eq!(expand("/:section/:slug/", &f), "/blog/hello-world/");
        assert_eq!(expand("/:short_year/:slug/", &f), "/09/hello-world/");
    }

    #[test]
    fn patterns_checked() {
        assert!(validate(DEFAULT).is_ok());
        assert!(validate("/:year/:month/:day/:title.html").is_ok());
        assert!(validate("/:categories/:year/:month/:day/:title:output_ext").is_ok());
        assert!(validate("posts/:slug/").is_err());
        assert!(validate("/posts/:slug").is_err());
        assert!(validate("/:year/:nope/:slug/")
            .unwrap_err()
            .contains(":nope"));
        assert!(validate("/:year/").is_err());
    }

    #[test]
    fn urls_normalized() {
        assert_eq!(normalize("/old/").as_deref(), Some("/old/"));
        assert_eq!(normalize("/old").as_deref(), Some("/old/"));
        assert_eq!(normalize("2019/09/30/a").as_deref(), Some("/2019/09/30/a/"));
        assert_eq!(normalize("/a/b.html").as_deref(), Some("/a/b.html"));
        assert_eq!(
            normalize("https://x.org/caf%C3%A9/?q#f").as_deref(),
            Some("/café/")
        );
        assert_eq!(normalize("//a//b/").as_deref(), Some("/a/b/"));
        assert_eq!(normalize("/a/../b/"), None);
        assert_eq!(normalize("").as_deref(), Some("/"));
        assert_eq!(normalize("%").as_deref(), Some("/%/"));
        assert_eq!(jekyll_title("My Post, Again!"), "My-Post,-Again!");
        assert_eq!(implied_aliases("/a/b.html"), ["/a/b"]);
        assert!(implied_aliases("/a/b/").is_empty());
    }
}
