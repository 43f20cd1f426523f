//! The site: posts and templates rendered, once, into a list of ready responses.
//!
//! This is the contract the server relies on: [`build`] turns a root directory into a [`Site`]
//! (or a list of [`Problem`]s), and nothing here is ever called by a connection's child.

use std::fmt;
use std::path::{Path, PathBuf};

/// One response the server can give, rendered ahead of time.
#[derive(Debug, Clone)]
pub struct Resource {
    /// URL path, beginning with `/`. Page-like resources end in `/` (`/`, `/posts/hello/`);
    /// files keep their name (`/feed.xml`, `/static/style.css`).
    pub path: String,
    /// The Content-Type header value, e.g. `text/html; charset=utf-8`.
    pub content_type: String,
    /// When the inputs that produced this resource last changed.
    pub last_modified: jiff::Timestamp,
    /// The body, byte for byte.
    pub body: Vec<u8>,
}

/// A rendered site.
#[derive(Debug, Clone)]
pub struct Site {
    /// Every servable resource; paths are unique.
    pub resources: Vec<Resource>,
    /// The 404 page (its `path` is unused).
    pub not_found: Resource,
    /// How many posts are published.
    pub post_count: usize,
}

/// Something wrong with an input file, reported as `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file at fault.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// The outcome of a build: a site when one could be made, and every problem found on the way.
///
/// A broken post is skipped and reported, leaving `site` set; broken templates or an unreadable
/// root leave `site` as `None`.
#[derive(Debug)]
pub struct Build {
    /// The rendered site, if one could be made.
    pub site: Option<Site>,
    /// Every problem found, in a stable order.
    pub problems: Vec<Problem>,
}

/// Renders the blog under `root` (`root/posts`, `root/templates`, `root/forkblog.toml`).
pub fn build(root: &Path) -> Build {
    let _ = root;
    unimplemented!("site::build")
}

/// Writes every resource of `site` under `out` as static files.
pub fn export(site: &Site, out: &Path) -> std::io::Result<()> {
    let _ = (site, out);
    unimplemented!("site::export")
}

/// Creates a dated post file titled `title` under `root/posts` and returns its path.
pub fn new_post(root: &Path, title: &str) -> Result<PathBuf, Problem> {
    let _ = (root, title);
    unimplemented!("site::new_post")
}
