//! Site settings from `forkblog.toml` at the root. Every setting has a default, and the file may
//! be absent: the sample blog is served untouched.
//!
//! ```toml
//! title = "My blog"
//! base_url = "https://blog.example.org"   # absolute URLs in the feed, sitemap and robots.txt;
//!                                         # a path (`https://example.org/notes`) serves the
//!                                         # whole site under it (see `Config::base_path`)
//! author = "Ada"
//! description = "Notes on small servers"
//! language = "en"
//! posts_per_page = 10                     # index pages
//! feed_entries = 20                       # newest posts in /feed.xml; 0 = all
//! unsafe_html = false                     # true: raw HTML in posts is published unsanitised
//! follow_symlinks = "never"               # "inside": follow links that stay in the site root
//! permalink = "/posts/:slug/"             # where posts are served (see site::permalink)
//! feed_paths = ["/feed.xml"]              # the feed's path, then other paths serving it too
//!                                         # (`.json` ones as a JSON Feed)
//! feed_ids = "url"                        # entry ids: "url", "jekyll" (jekyll-feed's ids), or
//!                                         # "jekyll-path" (theirs on a site without `url:`)
//! highlight = false                       # highlight code blocks (costs render time)
//! math = false                            # $...$ and $$...$$ rendered to MathML
//! toc = false                             # a table of contents atop each post (or `toc` in one)
//! section_feeds = [{ path = "/blog/index.xml", folder = "blog" }]  # feed of posts/blog/
//! ```
//!
//! Tables (`[server]`, ...) are left to other parts of forkblog; unknown top-level keys are
//! reported as problems so typos do not go unnoticed.

use std::path::Path;

use serde::Serialize;

use super::files::{self, Symlinks};
use super::text::line_of;
use super::Problem;

/// The settings file's name, at the site root.
pub const FILE_NAME: &str = "forkblog.toml";

/// Site settings, as templates see them under `site`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    /// The blog's name.
    pub title: String,
    /// Scheme and host (and port) the site is reached at, and the path it lives under if any,
    /// without a trailing `/`.
    pub base_url: String,
    /// Author named in the feed and page metadata.
    pub author: String,
    /// One-line description for the index and the feed.
    pub description: String,
    /// Language tag for `<html lang>` and the feed.
    pub language: String,
    /// Posts per index page (at least 1).
    pub posts_per_page: usize,
    /// How many of the newest posts the feed carries; 0 means all.
    pub feed_entries: usize,
    /// Whether raw HTML in posts is published as written; by default it is sanitised.
    #[serde(skip)]
    pub unsafe_html: bool,
    /// Whether a render follows symbolic links under the root.
    #[serde(skip)]
    pub follow_symlinks: Symlinks,
    /// Where posts are served, as a [`super::permalink`] pattern.
    pub permalink: String,
    /// The feed's path first, then other paths that serve the same feed (the names a previous
    /// generator used, so subscribers keep their subscription). Never empty.
    pub feed_paths: Vec<String>,
    /// How feed entry ids are made when a post sets no `entry_id`.
    pub feed_ids: FeedIds,
    /// Whether code blocks are highlighted. Off by default: syntect with its pure-Rust regex
    /// engine takes a few milliseconds a block, which a 10,000-post blog with code in every post
    /// feels (see `super::highlight`).
    pub highlight: bool,
    /// Whether `$...$` and `$$...$$` are TeX, rendered to MathML at render time. Off by
    /// default: a blog that writes prices in dollars should not grow formulas.
    pub math: bool,
    /// Whether posts get a table of contents from their headings (a post's `toc` decides for
    /// itself).
    pub toc: bool,
    /// Feeds of one folder's posts: (path, folder under `posts/`), as a previous generator
    /// published per section. Entry ids as in the main feed.
    pub section_feeds: Vec<(String, String)>,
    /// Not a setting: the site's own post and page URLs that start with [`Config::base_path`]
    /// (sorted), found once the posts are read. Links to them are put under it like any other.
    #[serde(skip)]
    pub own_under_base_path: Vec<String>,
}

/// How feed entry ids are made, so that readers do not see old posts as new after a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedIds {
    /// The post's absolute URL (Hugo, Zola and forkblog's own).
    Url,
    /// jekyll-feed's: the absolute URL of the post's folder joined with its slug, no extension.
    Jekyll,
    /// jekyll-feed's on a site without `url:` (its `absolute_url` then gives a path): as
    /// [`FeedIds::Jekyll`] without scheme and host, so `/notes/2024/01/02/hello`.
    #[serde(rename = "jekyll-path")]
    JekyllPath,
}

impl FeedIds {
    /// The setting's value in `forkblog.toml`.
    pub fn name(self) -> &'static str {
        match self {
            FeedIds::Url => "url",
            FeedIds::Jekyll => "jekyll",
            FeedIds::JekyllPath => "jekyll-path",
        }
    }
}

impl Config {
    /// The path of `base_url` (`/notes` for `https://example.org/notes`), or `""` for a site at
    /// the root of its host. Every resource is served under it and root-relative links carry it;
    /// the site's own paths (permalinks, `templates/root/`, links written in posts) leave it out.
    pub fn base_path(&self) -> &str {
        base_path_of(&self.base_url)
    }

    /// `html` with its root-relative links under [`Config::base_path`] (see
    /// [`super::links::with_prefix`]).
    pub fn under_base_path<'h>(&self, html: &'h str) -> std::borrow::Cow<'h, str> {
        super::links::with_prefix(html, self.base_path(), &self.own_under_base_path)
    }
}

/// The path part of an absolute URL without a trailing `/`: `""` when there is none.
fn base_path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    match rest.find('/') {
        Some(at) => rest[at..].trim_end_matches('/'),
        None => "",
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            title: "forkblog".into(),
            base_url: "http://127.0.0.1:8080".into(),
            author: String::new(),
            description: String::new(),
            language: "en".into(),
            posts_per_page: 10,
            feed_entries: 20,
            unsafe_html: false,
            follow_symlinks: Symlinks::Never,
            permalink: super::permalink::DEFAULT.into(),
            feed_paths: vec!["/feed.xml".into()],
            feed_ids: FeedIds::Url,
            highlight: false,
            math: false,
            toc: false,
            section_feeds: Vec::new(),
            own_under_base_path: Vec::new(),
        }
    }
}

/// What loading the settings gave: the settings (defaults if the file is absent), the file's
/// modification time, and non-fatal problems (unknown keys).
#[derive(Debug)]
pub struct Loaded {
    /// The settings.
    pub config: Config,
    /// When the file last changed, if it exists.
    pub modified: Option<jiff::Timestamp>,
    /// Problems that do not stop the build.
    pub warnings: Vec<Problem>,
}

/// Reads `root/forkblog.toml`. A missing file gives the defaults; a file that cannot be read or
/// parsed, or a value out of range, is an error that stops the build.
pub fn load(root: &Path) -> Result<Loaded, Problem> {
    let path = root.join(FILE_NAME);
    let Some(read) = files::read_settings(root, FILE_NAME)? else {
        return Ok(Loaded {
            config: Config::default(),
            modified: None,
            warnings: Vec::new(),
        });
    };
    let modified = Some(read.modified);
    let text = String::from_utf8(read.bytes).map_err(|_| Problem {
        file: path.clone(),
        line: None,
        message: "cannot read settings: not UTF-8 text".into(),
    })?;
    let (config, warnings) = parse(&text).map_err(|(line, message)| Problem {
        file: path.clone(),
        line,
        message,
    })?;
    let warnings = warnings
        .into_iter()
        .map(|(line, message)| Problem {
            file: path.clone(),
            line,
            message,
        })
        .collect();
    Ok(Loaded {
        config,
        modified,
        warnings,
    })
}

type Located = (Option<usize>, String);

/// Parses settings text: the settings and warnings, or the error that makes it unusable.
pub fn parse(text: &str) -> Result<(Config, Vec<Located>), Located> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        (
            e.span().map(|s| line_of(text, s.start)),
            format!("invalid settings: {}", e.message()),
        )
    })?;
    let key_line = |key: &str| {
        text.lines()
            .position(|l| {
                let l = l.trim_start();
                let rest = l.strip_prefix(key).or_else(|| {
                    l.strip_prefix('"')
                        .and_then(|l| l.strip_prefix(key))
                        .and_then(|l| l.strip_prefix('"'))
                });
                rest.is_some_and(|r| r.trim_start().starts_with('='))
            })
            .map(|i| i + 1)
    };
    let mut config = Config::default();
    let mut warnings = Vec::new();
    for (key, value) in &table {
        let text_value = |target: &mut String| match value.as_str() {
            Some(s) => {
                *target = s.to_string();
                Ok(())
            }
            None => Err((
                key_line(key),
                format!("`{key}` must be text in quotes, found {}", value.type_str()),
            )),
        };
        let count =
            |target: &mut usize| match value.as_integer().and_then(|i| usize::try_from(i).ok()) {
                Some(n) => {
                    *target = n;
                    Ok(())
                }
                None => Err((
                    key_line(key),
                    format!("`{key}` must be a whole number, 0 or more"),
                )),
            };
        match key.as_str() {
            "title" => text_value(&mut config.title)?,
            "base_url" => text_value(&mut config.base_url)?,
            "author" => text_value(&mut config.author)?,
            "description" => text_value(&mut config.description)?,
            "language" => text_value(&mut config.language)?,
            "posts_per_page" => count(&mut config.posts_per_page)?,
            "feed_entries" => count(&mut config.feed_entries)?,
            "unsafe_html" => match value.as_bool() {
                Some(b) => config.unsafe_html = b,
                None => return Err((key_line(key), "`unsafe_html` must be true or false".into())),
            },
            "follow_symlinks" => {
                config.follow_symlinks = value
                    .as_str()
                    .ok_or_else(|| "follow_symlinks must be text in quotes".to_string())
                    .and_then(Symlinks::parse)
                    .map_err(|m| (key_line(key), m))?
            }
            "permalink" => {
                text_value(&mut config.permalink)?;
                super::permalink::validate(&config.permalink)
                    .map_err(|message| (key_line(key), message))?;
            }
            "feed_paths" => {
                let paths: Option<Vec<String>> = value.as_array().and_then(|items| {
                    items
                        .iter()
                        .map(|v| v.as_str().and_then(super::permalink::normalize))
                        .collect()
                });
                match paths {
                    Some(paths) if !paths.is_empty() && paths.iter().all(|p| !p.ends_with('/')) => {
                        config.feed_paths = paths
                    }
                    _ => {
                        return Err((
                            key_line(key),
                            "`feed_paths` must be a list of file paths such as                              [\"/atom.xml\", \"/feed.xml\"]"
                                .into(),
                        ))
                    }
                }
            }
            "section_feeds" => {
                let feeds: Option<Vec<(String, String)>> = value.as_array().and_then(|items| {
                    items
                        .iter()
                        .map(|v| {
                            let path = v
                                .get("path")?
                                .as_str()
                                .and_then(super::permalink::normalize)?;
                            let folder = v.get("folder")?.as_str()?.trim_matches('/').to_string();
                            (!path.ends_with('/')).then_some((path, folder))
                        })
                        .collect()
                });
                match feeds {
                    Some(feeds) => config.section_feeds = feeds,
                    None => return Err((
                        key_line(key),
                        "`section_feeds` must be a list such as [{ path = \"/blog/index.xml\", \
                             folder = \"blog\" }]"
                            .into(),
                    )),
                }
            }
            "math" => match value.as_bool() {
                Some(on) => config.math = on,
                None => return Err((key_line(key), "`math` must be true or false".into())),
            },
            "toc" => match value.as_bool() {
                Some(on) => config.toc = on,
                None => return Err((key_line(key), "`toc` must be true or false".into())),
            },
            "highlight" => match value.as_bool() {
                Some(on) => config.highlight = on,
                None => return Err((key_line(key), "`highlight` must be true or false".into())),
            },
            "feed_ids" => {
                let all = [FeedIds::Url, FeedIds::Jekyll, FeedIds::JekyllPath];
                config.feed_ids = match all.into_iter().find(|i| value.as_str() == Some(i.name())) {
                    Some(ids) => ids,
                    None => {
                        return Err((
                            key_line(key),
                            "`feed_ids` must be \"url\", \"jekyll\" or \"jekyll-path\"".into(),
                        ))
                    }
                }
            }
            _ if value.is_table() => {}
            _ => warnings.push((key_line(key), format!("unknown setting `{key}` (ignored)"))),
        }
    }
    config.base_url = config.base_url.trim_end_matches('/').to_string();
    let base = &config.base_url;
    let host = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"));
    if host.is_none_or(|h| h.is_empty() || h.contains(char::is_whitespace)) {
        return Err((
            key_line("base_url"),
            format!("base_url {base:?} must be an absolute http:// or https:// URL"),
        ));
    }
    // The path is a prefix of resource paths (stored decoded) and of links (written encoded):
    // plain segments are both at once.
    let path = config.base_path();
    let plain = |segment: &str| {
        !segment.is_empty()
            && segment != "."
            && segment != ".."
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
    };
    if !path.is_empty() && !path[1..].split('/').all(plain) {
        return Err((
            key_line("base_url"),
            format!(
                "base_url {base:?}: its path {path:?} may hold only letters, digits, `-`, `.`, \
                 `_` and `~` between slashes"
            ),
        ));
    }
    if config.posts_per_page == 0 {
        return Err((
            key_line("posts_per_page"),
            "posts_per_page must be at least 1".into(),
        ));
    }
    Ok((config, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let (c, w) = parse("").unwrap();
        assert_eq!(c, Config::default());
        assert!(w.is_empty());
        let (c, w) = parse("title = \"T\"\nbase_url = \"https://x.org/\"\nposts_per_page = 3\ntitel = 1\n[server]\nlisten = \"x\"\n").unwrap();
        assert_eq!(c.title, "T");
        assert_eq!(c.base_url, "https://x.org");
        assert_eq!(c.base_path(), "");
        assert_eq!(c.posts_per_page, 3);
        assert_eq!(
            w,
            vec![(Some(4), "unknown setting `titel` (ignored)".to_string())]
        );
        let (c, _) = parse("base_url = \"https://x.org/notes/en/\"").unwrap();
        assert_eq!(c.base_url, "https://x.org/notes/en");
        assert_eq!(c.base_path(), "/notes/en");
    }

    #[test]
    fn errors() {
        assert_eq!(parse("a = 1\nposts_per_page = 0\n").unwrap_err().0, Some(2));
        assert_eq!(parse("base_url = \"example.org\"").unwrap_err().0, Some(1));
        let (line, msg) = parse("title = 1\n").unwrap_err();
        assert_eq!(line, Some(1), "{msg}");
        assert!(parse("title = \n").is_err());
        assert_eq!(parse("\npermalink = \"/:nope/\"").unwrap_err().0, Some(2));
        assert!(parse("feed_paths = []").is_err());
        assert!(parse("base_url = \"https://x.org/a b\"").is_err());
        assert!(parse("base_url = \"https://x.org/a?q\"").is_err());
        assert!(parse("base_url = \"https://x.org/a//b\"").is_err());
        assert!(parse("feed_ids = \"guid\"").is_err());
        assert!(parse("highlight = \"yes\"").is_err());
        assert!(parse("highlight = true").unwrap().0.highlight);
        assert!(!Config::default().highlight);
    }

    #[test]
    fn urls_and_feeds() {
        let (c, w) = parse(
            "permalink = \"/:year/:month/:day/:title.html\"\nfeed_paths = [\"/atom.xml\", \"feed.xml\"]\nfeed_ids = \"jekyll\"\n",
        )
        .unwrap();
        assert!(w.is_empty());
        assert_eq!(c.permalink, "/:year/:month/:day/:title.html");
        assert_eq!(c.feed_paths, ["/atom.xml", "/feed.xml"]);
        assert_eq!(c.feed_ids, FeedIds::Jekyll);
        let (c, _) = parse("feed_ids = \"jekyll-path\"").unwrap();
        assert_eq!(c.feed_ids, FeedIds::JekyllPath);
    }
}
