//! The site: posts and templates rendered, once, into a list of ready responses.
//!
//! This is the contract the server relies on: [`build`] turns a root directory into a [`Site`]
//! (or a list of [`Problem`]s), and nothing here is ever called by a connection's child.
//!
//! Layout of a site root:
//! - `forkblog.toml`: settings ([`config`]); optional.
//! - `posts/`: Markdown posts (`*.md`, `*.markdown`), in sub-folders if wished. A folder holding
//!   exactly one post is its page bundle: the other files in it (and in its sub-folders) are
//!   served beside the post, at `/posts/<slug>/<name>`, so relative links such as
//!   `![](photo.png)` work. Other non-Markdown files under `posts/` are served at
//!   `/posts/<path under posts/>`.
//! - `templates/`: templates ([`templates`]); missing ones fall back to built-in defaults.
//! - `templates/static/`: served at `/static/...` (stylesheet, scripts, fonts, favicon).
//! - `templates/root/`: served at the site root; `templates/root/robots.txt` replaces the
//!   default `/robots.txt`.
//!
//! Resource paths are stored decoded: a tag `café` is served at the path `/tags/café/`, while
//! links in pages, the feed and the sitemap spell it `/tags/caf%C3%A9/`. The server
//! percent-decodes a request's path before the lookup.
//!
//! Nothing in this module writes to stdout (in the server's children it is the client socket);
//! diagnostics go through `log`.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use post::Post;

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

pub mod assets;
pub mod config;
pub mod date;
pub mod export;
pub mod feed;
pub mod files;
pub mod frontmatter;
pub mod markdown;
mod newpost;
pub mod pages;
pub(crate) mod par;
pub mod post;
pub mod sitemap;
pub mod templates;
pub mod text;

pub use export::export;
pub use newpost::new_post;

/// The folder of posts under the root.
pub const POSTS_DIR: &str = "posts";
/// The folder of templates under the root.
pub const TEMPLATES_DIR: &str = "templates";

/// Built-in static files served when `templates/static/` does not provide them.
pub const DEFAULT_STATIC: &[(&str, &[u8])] = &[
    (
        "style.css",
        include_bytes!("../../templates/static/style.css"),
    ),
    (
        "favicon.svg",
        include_bytes!("../../templates/static/favicon.svg"),
    ),
];

/// Renders the blog under `root` (`root/posts`, `root/templates`, `root/forkblog.toml`).
pub fn build(root: &Path) -> Build {
    build_including_drafts(root, false)
}

/// As [`build`]; with `drafts`, drafts are rendered too, each title marked "Draft: " so that a
/// preview (`serve --drafts`) is never mistaken for the published site.
pub fn build_including_drafts(root: &Path, drafts: bool) -> Build {
    let mut problems = Vec::new();
    let site = build_site(root, drafts, &mut problems);
    Build { site, problems }
}

fn build_site(root: &Path, drafts: bool, problems: &mut Vec<Problem>) -> Option<Site> {
    if !root.is_dir() {
        problems.push(Problem {
            file: root.to_path_buf(),
            line: None,
            message: "site root is not a readable directory".into(),
        });
        return None;
    }
    let settings = match config::load(root) {
        Ok(settings) => settings,
        Err(problem) => {
            problems.push(problem);
            return None;
        }
    };
    problems.extend(settings.warnings);
    let config = settings.config;
    let files = match files::SiteFiles::open(root, config.follow_symlinks) {
        Ok(files) => files,
        Err(problem) => {
            problems.push(problem);
            return None;
        }
    };
    let templates_dir = root.join(TEMPLATES_DIR);
    let templates = match templates::load(&files, &templates_dir) {
        Ok(templates) => templates,
        Err(found) => {
            problems.extend(found);
            return None;
        }
    };
    let posts_dir = root.join(POSTS_DIR);
    if !posts_dir.is_dir() {
        problems.push(Problem {
            file: posts_dir,
            line: None,
            message: "posts folder not found (is --root right?)".into(),
        });
        return None;
    }
    if let Err(message) = files.check_folder(&posts_dir) {
        problems.push(Problem {
            file: posts_dir,
            line: None,
            message,
        });
        return None;
    }
    let started = std::time::Instant::now();
    let site_modified = settings
        .modified
        .max(templates.modified)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);

    let tmark = |what: &str| log::trace!("{what}: {:?}", started.elapsed());

    // Posts: read and rendered in parallel; broken ones reported and skipped.
    let (mut posts, sources, others) =
        load_posts(&files, &posts_dir, config.unsafe_html, drafts, problems);
    log::debug!(
        "read and rendered {} posts in {:?}",
        posts.len(),
        started.elapsed()
    );

    // The feed, before the post bodies move into their pages.
    let feed = feed::atom(&config, &posts, site_modified);
    let feed_modified = posts
        .iter()
        .take(if config.feed_entries == 0 {
            usize::MAX
        } else {
            config.feed_entries
        })
        .map(|p| p.modified)
        .fold(site_modified, jiff::Timestamp::max);
    let feed_resource = Resource {
        path: "/feed.xml".into(),
        content_type: feed::CONTENT_TYPE.into(),
        last_modified: feed_modified,
        body: feed.into_bytes(),
    };
    let bodies: Vec<String> = posts
        .iter_mut()
        .map(|p| std::mem::take(&mut p.html))
        .collect();

    // Pages. A template error stops the build: every page would be wrong in the same way.
    tmark("feed");
    let tags = pages::tags(&posts);
    let pages = pages::Pages::new(&config, &templates, &posts, &tags, site_modified);
    tmark("views");
    let (mut site, not_found) = match render_pages(&pages, bodies, problems) {
        Ok(rendered) => rendered,
        Err(template_problems) => {
            problems.extend(template_problems);
            return None;
        }
    };

    log::debug!(
        "rendered {} pages after {:?}",
        site.list.len(),
        started.elapsed()
    );

    // Files: static assets, root files, page bundles.
    let all_modified = posts
        .iter()
        .map(|p| p.modified)
        .fold(site_modified, jiff::Timestamp::max);
    let has_robots = add_template_files(&mut site, &files, &templates_dir, site_modified, problems);
    add_post_files(
        &mut site, &files, &posts_dir, &posts, &sources, &others, problems,
    );

    // The feed, robots.txt and the sitemap (which lists every page added above).
    site.add(feed_resource, None, problems);
    if !has_robots {
        let robots = sitemap::robots(&config);
        site.add(
            Resource {
                path: "/robots.txt".into(),
                content_type: "text/plain; charset=utf-8".into(),
                last_modified: site_modified,
                body: robots.into_bytes(),
            },
            None,
            problems,
        );
    }
    tmark("files");
    let map = sitemap::sitemap(&config, &site.list);
    site.add(
        Resource {
            path: "/sitemap.xml".into(),
            content_type: sitemap::CONTENT_TYPE.into(),
            last_modified: all_modified,
            body: map.into_bytes(),
        },
        None,
        problems,
    );

    let mut resources = site.list;
    resources.sort_by(|a, b| a.path.cmp(&b.path));
    log::info!(
        "rendered {} posts into {} resources in {:?}",
        posts.len(),
        resources.len(),
        started.elapsed()
    );
    Some(Site {
        resources,
        not_found,
        post_count: posts.len(),
    })
}

/// Finds and loads every post under `posts_dir` (in parallel), reporting broken ones and slug
/// clashes. Returns the published posts, newest first, with the post files and the other files.
/// Unless `unsafe_html`, a post's HTML is sanitised as it is loaded when it holds anything
/// pulldown-cmark did not escape itself (most posts hold nothing of the kind).
fn load_posts(
    files: &files::SiteFiles,
    posts_dir: &Path,
    unsafe_html: bool,
    drafts: bool,
    problems: &mut Vec<Problem>,
) -> (Vec<Post>, Vec<PathBuf>, Vec<PathBuf>) {
    let found = files.walk(posts_dir, problems);
    let (sources, others): (Vec<PathBuf>, Vec<PathBuf>) =
        found.into_iter().partition(|f| is_markdown(f));
    let sources: Vec<PathBuf> = sources
        .into_iter()
        .filter(|f| {
            let section = f.file_name().is_some_and(|n| n == "_index.md");
            if section {
                log::info!(
                    "{}: section file (Zola/Hugo _index.md), not a post; skipped",
                    f.display()
                );
            }
            !section
        })
        .collect();
    let mut posts = Vec::with_capacity(sources.len());
    let load = |f: &PathBuf| {
        let mut post = post::load(files, f)?;
        if post.needs_sanitizing && !unsafe_html {
            post.html = markdown::sanitize(&post.html);
        }
        Ok(post)
    };
    for loaded in par::map(&sources, load) {
        match loaded {
            Ok(post) => posts.push(post),
            Err(problem) => problems.push(problem),
        }
    }
    posts.retain(|p| drafts || !p.draft);
    for draft in posts.iter_mut().filter(|p| p.draft) {
        draft.title = format!("Draft: {}", draft.title);
    }
    posts.sort_by(|a, b| {
        b.date
            .timestamp
            .cmp(&a.date.timestamp)
            .then_with(|| a.slug.cmp(&b.slug))
    });
    let mut slugs: HashMap<String, PathBuf> = HashMap::with_capacity(posts.len());
    posts.retain(|p| match slugs.get(&p.slug) {
        Some(first) => {
            problems.push(Problem {
                file: p.source.clone(),
                line: None,
                message: format!(
                    "slug {:?} is already used by {}; post skipped (set `slug:` to tell them apart)",
                    p.slug,
                    first.display()
                ),
            });
            false
        }
        None => {
            slugs.insert(p.slug.clone(), p.source.clone());
            true
        }
    });
    (posts, sources, others)
}

/// Renders every page: the resources and the 404 page, or the template problems (each reported
/// once) that stop the build.
fn render_pages(
    pages: &pages::Pages,
    bodies: Vec<String>,
    problems: &mut Vec<Problem>,
) -> Result<(Resources, Resource), Vec<Problem>> {
    let mut rendered = pages.posts(bodies);
    rendered.extend(pages.lists());
    rendered.push(pages.not_found());
    let mut template_problems: Vec<Problem> = Vec::new();
    let mut done = Vec::with_capacity(rendered.len());
    for page in rendered {
        match page {
            Ok(page) => done.push(page),
            Err(problem) if !template_problems.contains(&problem) => {
                template_problems.push(problem)
            }
            Err(_) => {}
        }
    }
    if !template_problems.is_empty() {
        return Err(template_problems);
    }
    let not_found = done.pop().ok_or_else(Vec::new)?;
    let mut site = Resources::default();
    // The 404 page is exported as 404.html: nothing else may take that file.
    site.files.insert(PathBuf::from("404.html"));
    for page in done {
        site.add(page, None, problems);
    }
    Ok((site, not_found))
}

/// Adds `templates/root/` (at the site root) and `templates/static/` (at `/static/`), then the
/// built-in static files the site does not replace. Returns whether the site has its own
/// `robots.txt`.
fn add_template_files(
    site: &mut Resources,
    files: &files::SiteFiles,
    templates_dir: &Path,
    site_modified: jiff::Timestamp,
    problems: &mut Vec<Problem>,
) -> bool {
    let mut has_robots = false;
    let root_dir = templates_dir.join("root");
    if root_dir.is_dir() {
        for file in files.walk(&root_dir, problems) {
            if let Some(tail) = assets::url_tail(&root_dir, &file) {
                has_robots |= tail == "robots.txt";
                site.add_file(files, &file, format!("/{tail}"), problems);
            }
        }
    }
    let static_dir = templates_dir.join("static");
    if static_dir.is_dir() {
        for file in files.walk(&static_dir, problems) {
            if let Some(tail) = assets::url_tail(&static_dir, &file) {
                site.add_file(files, &file, format!("/static/{tail}"), problems);
            }
        }
    }
    for (name, body) in DEFAULT_STATIC {
        let path = format!("/static/{name}");
        if !site.paths.contains(&path) {
            let resource = Resource {
                path,
                content_type: assets::content_type(name).into(),
                last_modified: site_modified,
                body: body.to_vec(),
            };
            site.add(resource, None, problems);
        }
    }
    has_robots
}

/// Adds the non-post files under `posts/`: a page bundle's files beside its post
/// (`/posts/<slug>/<path in bundle>`), others at `/posts/<path under posts/>`. Files of drafts
/// and broken posts are not served.
fn add_post_files(
    site: &mut Resources,
    files: &files::SiteFiles,
    posts_dir: &Path,
    posts: &[Post],
    sources: &[PathBuf],
    others: &[PathBuf],
    problems: &mut Vec<Problem>,
) {
    let owners = bundle_owners(posts_dir, sources, others);
    let slug_of: HashMap<&Path, &str> = posts
        .iter()
        .map(|p| (p.source.as_path(), p.slug.as_str()))
        .collect();
    for (file, owner) in others.iter().zip(owners) {
        let path = match owner {
            Some((source, tail)) => match slug_of.get(source.as_path()) {
                Some(slug) => format!("/posts/{slug}/{tail}"),
                None => continue,
            },
            None => match assets::url_tail(posts_dir, file) {
                Some(tail) => format!("/posts/{tail}"),
                None => continue,
            },
        };
        site.add_file(files, file, path, problems);
    }
}

/// Whether a file is a post: `.md` or `.markdown`, any case.
fn is_markdown(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"))
}

/// For each non-post file under `posts_dir`, the post whose page bundle holds it and its path
/// within the bundle: the nearest folder (its own or an ancestor below `posts_dir`) that holds
/// posts owns it if it holds exactly one.
fn bundle_owners(
    posts_dir: &Path,
    sources: &[PathBuf],
    others: &[PathBuf],
) -> Vec<Option<(PathBuf, String)>> {
    let mut by_dir: HashMap<&Path, Vec<&PathBuf>> = HashMap::new();
    for source in sources {
        if let Some(dir) = source.parent() {
            by_dir.entry(dir).or_default().push(source);
        }
    }
    others
        .iter()
        .map(|file| {
            let mut dir = file.parent()?;
            while dir != posts_dir && dir.starts_with(posts_dir) {
                if let Some(found) = by_dir.get(dir) {
                    return match found.as_slice() {
                        [only] => assets::url_tail(dir, file).map(|tail| ((*only).clone(), tail)),
                        _ => None,
                    };
                }
                dir = dir.parent()?;
            }
            None
        })
        .collect()
}

/// Resources being collected, with the checks that keep paths (and exported file names) unique.
#[derive(Default)]
struct Resources {
    list: Vec<Resource>,
    paths: HashSet<String>,
    files: HashSet<PathBuf>,
}

impl Resources {
    /// Adds `resource` unless its path (or exported file name) is taken, which is reported
    /// against `source` (the file it came from) when known.
    fn add(&mut self, resource: Resource, source: Option<&Path>, problems: &mut Vec<Problem>) {
        let file = export::file_name(&resource.path);
        let clash = self.paths.contains(&resource.path)
            || file.as_ref().is_none_or(|f| self.files.contains(f));
        if clash {
            problems.push(Problem {
                file: source
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| PathBuf::from(&resource.path)),
                line: None,
                message: format!(
                    "{} is already taken by another page or file; not served",
                    resource.path
                ),
            });
            return;
        }
        self.paths.insert(resource.path.clone());
        if let Some(file) = file {
            self.files.insert(file);
        }
        self.list.push(resource);
    }

    /// Reads `file` and adds it at `path`.
    fn add_file(
        &mut self,
        files: &files::SiteFiles,
        file: &Path,
        path: String,
        problems: &mut Vec<Problem>,
    ) {
        match files.read(file) {
            Ok(read) => {
                let resource = Resource {
                    content_type: assets::content_type(&path).into(),
                    last_modified: read.modified,
                    path,
                    body: read.bytes,
                };
                self.add(resource, Some(file), problems);
            }
            Err(e) => problems.push(Problem {
                file: file.to_path_buf(),
                line: None,
                message: format!("cannot read: {e}"),
            }),
        }
    }
}
