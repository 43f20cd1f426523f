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
//! - `templates/shortcodes/`: templates posts call as `{{ name(arg=value) }}` ([`shortcodes`]).
//! - `templates/static/`: served at `/static/...` (stylesheet, scripts, fonts, favicon).
//! - `templates/root/`: served at the site root (a folder's `index.html` at the folder's path,
//!   `/about/`); `templates/root/robots.txt` replaces the default `/robots.txt`.
//! - `pages/`: pages outside the post list, `pages/about.md` at `/about/` (or its own
//!   `permalink`), rendered with `page.html`; other files in it served at their path.
//! - Zola/Hugo `_index*.md` files are sections, not posts, and are skipped; a translation
//!   (`index.ca.md`, `post.ca.md`, in a language other than the site's `language`) is served
//!   under `/ca/...` and not listed; HTML files under `posts/` that open with front matter are
//!   posts whose body is used as it is (Hugo content).
//!
//! With a path in `base_url` (`https://example.org/notes`) the site is built on its own paths
//! and every resource is handed on under that path, `/` redirecting to it (`prefix.rs`).
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
    /// The body, byte for byte: shared, so that a reload can take a body from the snapshot it
    /// replaces without copying it (`incremental.rs`).
    pub body: bytes::Bytes,
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

impl Problem {
    /// Whether the site still renders whole despite this problem (a post dated by its file,
    /// leftover template syntax, a link or URL setting that leads nowhere): a warning, which
    /// `check --strict` makes fatal. Anything else (a post or template that cannot render, a
    /// clash, an unreadable file) is an error.
    pub fn is_warning(&self) -> bool {
        const WARNINGS: &[&str] = &[
            "no date in front matter, file name or URL",
            "it would show as raw text",
            "broken link: ",
            "names no post or page",
            "; ignored",
            "no redirect made",
        ];
        WARNINGS.iter().any(|w| self.message.contains(w))
    }
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
    /// How many posts were taken from the earlier render ([`build_incremental`]).
    pub reused_posts: usize,
    /// How many pages were taken from the earlier render.
    pub reused_pages: usize,
    /// How many of the reused posts were known by their file's identity, without reading it.
    pub unread_posts: usize,
}

mod assets;
pub mod config;
pub mod date;
pub mod export;
mod feed;
pub mod files;
mod footnote;
pub mod frontmatter;
mod highlight;
mod imagesize;
pub mod incremental;
mod links;
mod liquid;
pub mod markdown;
mod newpost;
pub(crate) mod pages;
pub(crate) mod par;
pub mod permalink;
pub mod post;
mod prefix;
pub mod redirect;
pub mod shortcodes;
mod sitemap;
mod social;
pub mod templates;
pub mod text;
mod toc;

pub use export::export;
pub use newpost::new_post;

/// How many post pages are rendered at a time when they are streamed (see [`PageStream`]):
/// enough to keep every core busy, few enough that a batch weighs little.
const POST_PAGE_BATCH: usize = 1024;

/// The folder of posts under the root.
pub const POSTS_DIR: &str = "posts";
/// The folder of pages (`about.md` at `/about/`) under the root; optional.
pub const PAGES_DIR: &str = "pages";
/// The folder of templates under the root.
pub const TEMPLATES_DIR: &str = "templates";

/// What `serve --watch` watches: every input of a render.
pub const SOURCES: serve::watch::Sources = serve::watch::Sources {
    folders: &[POSTS_DIR, PAGES_DIR, TEMPLATES_DIR],
    files: &[config::FILE_NAME],
};

/// Built-in static files served when `templates/static/` does not provide them.
pub const DEFAULT_STATIC: &[(&str, &[u8])] = &[
    (
        "style.css",
        include_bytes!("../../../../templates/static/style.css"),
    ),
    (
        "favicon.svg",
        include_bytes!("../../../../templates/static/favicon.svg"),
    ),
];

/// Renders the blog under `root` (`root/posts`, `root/templates`, `root/forkblog.toml`).
pub fn build(root: &Path) -> Build {
    build_including_drafts(root, false)
}

/// As [`build`]; with `drafts`, drafts are rendered too, each title marked "Draft: " so that a
/// preview (`serve --drafts`) is never mistaken for the published site.
pub fn build_including_drafts(root: &Path, drafts: bool) -> Build {
    build_incremental(root, drafts, None).0
}

/// As [`build_including_drafts`], taking from `earlier` (the render this one replaces) every
/// post and page whose inputs did not change (see [`incremental`]); also returns the record
/// the next render takes from this one. The site is byte for byte what a full build makes.
pub fn build_incremental(
    root: &Path,
    drafts: bool,
    earlier: Option<&dyn incremental::Previous>,
) -> (Build, Vec<u8>) {
    let mut collect = Collect::default();
    let (mut build, record) = build_streamed(root, drafts, earlier, &mut collect);
    if let Some(site) = &mut build.site {
        collect.fill(site);
    }
    (build, record)
}

/// Where a build sends its post pages as they are rendered, so that a process writing the site
/// out never holds all of them at once: the post pages are rendered last, a batch at a time,
/// once every other resource and every path is known.
pub trait PageStream {
    /// Called once, before any post page is rendered: `site` holds every resource, sorted by
    /// path, the post pages among them (where `later[i]`) still without their bodies.
    fn begin(&mut self, site: &mut Site, later: &[bool]);
    /// A batch of rendered post pages, each at the path of one of the resources `begin` was
    /// told come later; every such page comes exactly once.
    fn pages(&mut self, pages: Vec<Resource>);
}

/// The stream of a build that returns the whole site: the pages are put in their place.
#[derive(Default)]
struct Collect {
    pages: Vec<Resource>,
}

impl PageStream for Collect {
    fn begin(&mut self, _: &mut Site, _: &[bool]) {}

    fn pages(&mut self, pages: Vec<Resource>) {
        self.pages.extend(pages);
    }
}

impl Collect {
    /// Gives each collected page's body to the resource at its path.
    fn fill(self, site: &mut Site) {
        for page in self.pages {
            if let Ok(at) = site
                .resources
                .binary_search_by(|r| r.path.as_str().cmp(&page.path))
            {
                site.resources[at].body = page.body;
            }
        }
    }
}

/// As [`build_incremental`], with the post pages sent to `stream` as they are rendered (see
/// [`PageStream`]) rather than kept in the site returned, whose post pages have empty bodies.
pub fn build_streamed(
    root: &Path,
    drafts: bool,
    earlier: Option<&dyn incremental::Previous>,
    stream: &mut dyn PageStream,
) -> (Build, Vec<u8>) {
    let mut problems = Vec::new();
    let mut done = Done::default();
    let site = build_site(root, drafts, earlier, stream, &mut done, &mut problems);
    let build = Build {
        site,
        problems,
        reused_posts: done.reused_posts,
        reused_pages: done.reused_pages,
        unread_posts: done.unread_posts,
    };
    (build, done.record)
}

/// What an incremental build leaves besides the site.
#[derive(Default)]
struct Done {
    record: Vec<u8>,
    reused_posts: usize,
    reused_pages: usize,
    unread_posts: usize,
}

fn build_site(
    root: &Path,
    drafts: bool,
    earlier: Option<&dyn incremental::Previous>,
    stream: &mut dyn PageStream,
    done: &mut Done,
    problems: &mut Vec<Problem>,
) -> Option<Site> {
    let started = std::time::Instant::now();
    let tmark = |what: &str| {
        log::trace!(
            "{what}: {:?}, peak RSS {} KiB",
            started.elapsed(),
            peak_rss_kib()
        )
    };
    let Inputs {
        mut config,
        settings_warnings,
        files,
        templates,
        shortcodes,
        templates_dir,
        posts_dir,
        site_modified,
    } = read_inputs(root, problems)?;
    problems.extend(settings_warnings);
    // A site under a path is built on its own paths and put under the path as it is handed on
    // (the stream, below), reading the snapshot it replaces through it.
    let base_path = config.base_path().to_string();
    let earlier_under = match base_path.as_str() {
        "" => None,
        prefix => earlier.map(|inner| prefix::Previous { inner, prefix }),
    };
    let earlier = match &earlier_under {
        Some(under) => Some(under as &dyn incremental::Previous),
        None => earlier,
    };
    tmark("settings and templates");
    // Posts depend on the settings; pages on the templates too.
    // Every field of the settings, including those templates do not see (`unsafe_html`
    // decides what a post's HTML is).
    let posts_fingerprint = incremental::Key::new("site")
        .bytes(format!("{config:?}").as_bytes())
        .word(u64::from(drafts))
        .bytes(root.as_os_str().as_encoded_bytes())
        .word(shortcodes.fingerprint)
        .finish();
    let fingerprint = incremental::Key::new("pages")
        .word(posts_fingerprint)
        .word(templates.fingerprint)
        .finish();
    let record = incremental::Record::new(earlier, posts_fingerprint, fingerprint);
    tmark("record read");

    // Posts: read and rendered in parallel; broken ones reported and skipped.
    let context = post::Context {
        posts_dir: &posts_dir,
        permalink: &config.permalink,
        language: &config.language,
        site_url: &config.base_url,
        highlight: config.highlight,
        math: config.math,
        toc: config.toc,
        page_root: None,
        shortcodes: Some(&shortcodes),
    };
    let (all_posts, sources, others) = load_posts(
        &files, &posts_dir, &context, &config, drafts, &record, problems,
    );
    // Translations are served under their language's prefix but not listed with the posts.
    let (translations, mut posts): (Vec<Post>, Vec<Post>) =
        all_posts.into_iter().partition(|p| p.lang.is_some());
    let pages_dir = root.join(PAGES_DIR);
    let (mut standalone, page_files) =
        load_pages(&files, &pages_dir, &config, &shortcodes, problems);
    let mut translations = translations;
    config.own_under_base_path = prefix::own_under(
        &base_path,
        posts.iter().chain(&translations).chain(&standalone),
    );
    resolve_links(
        &mut [&mut posts[..], &mut translations[..], &mut standalone[..]],
        &posts_dir,
        &pages_dir,
        problems,
    );
    log::debug!(
        "read and rendered {} posts in {:?}",
        posts.len(),
        started.elapsed()
    );

    // The feed, before the post bodies move into their pages. Posts taken from the earlier
    // render come without their HTML: the feed's and the translations' are used whole.
    let in_feed = match config.feed_entries {
        0 => posts.len(),
        n => n.min(posts.len()),
    };
    record.fill_html(&mut posts[..in_feed]);
    record.fill_html(&mut translations);
    let feed_resources = feeds(&config, &posts_dir, &mut posts, &record, site_modified);
    let bodies: Vec<String> = posts
        .iter_mut()
        .map(|p| std::mem::take(&mut p.html))
        .collect();

    // Pages. A template error stops the build: every page would be wrong in the same way.
    tmark("feed");
    let tags = pages::tags(&posts);
    // Which links are put under the base path depends on those URLs too.
    let fingerprint = match config.own_under_base_path.as_slice() {
        [] => fingerprint,
        own => incremental::Key::new("own")
            .word(fingerprint)
            .bytes(own.join("\n").as_bytes())
            .finish(),
    };
    let pages = pages::Pages::new(
        &config,
        &templates,
        &posts,
        &standalone,
        &tags,
        site_modified,
        &record,
        fingerprint,
    );
    tmark("views");
    let (mut site, not_found, later_posts) =
        match render_pages(&pages, &translations, &standalone, problems) {
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
    let served: Vec<&Post> = posts.iter().chain(&translations).collect();
    add_post_files(
        &mut site, &files, &posts_dir, &served, &sources, &others, problems,
    );
    for file in &page_files {
        if let Some(tail) = assets::url_tail(&pages_dir, file) {
            site.add_file(&files, file, format!("/{tail}"), problems);
        }
    }

    // Old addresses, after every page and file so none can take a real page's place.
    add_redirects(
        &mut site,
        served.iter().copied().chain(&standalone),
        problems,
    );

    // The feed, robots.txt and the sitemap (which lists every page added above).
    for feed_resource in feed_resources {
        site.add(feed_resource, None, problems);
    }
    tmark("files");
    let modified = (site_modified, all_modified);
    add_robots_and_sitemap(&mut site, &config, &served, has_robots, modified, problems);
    let mut resources = site.list;
    resources.sort_by(|a, b| a.path.cmp(&b.path));
    tmark("sitemap");

    // Every internal link and image of every post and page leads somewhere.
    let path_list: Vec<String> = resources.iter().map(|r| r.path.clone()).collect();
    let paths: HashSet<&str> = path_list.iter().map(String::as_str).collect();
    let sources: HashMap<&str, &Path> = served
        .iter()
        .copied()
        .chain(&standalone)
        .map(|p| (p.url.as_str(), p.source.as_path()))
        .collect();
    // A page taken over unchanged, among the same paths, whose links were all found before,
    // has them all found again: only the others are checked.
    let mut all_paths = incremental::Key::new("paths");
    for path in &path_list {
        all_paths.bytes(path.as_bytes());
    }
    record.keep_paths(all_paths.finish());
    let check_links = |pages: &[&Resource], problems: &mut Vec<Problem>| {
        let checked = par::map(pages, |resource| {
            let mut found = Vec::new();
            if let Some(source) = sources.get(resource.path.as_str()) {
                if !record.links_known_good(&resource.path) {
                    links::check(resource, source, &paths, &base_path, &mut found);
                }
            }
            found
        });
        for (resource, found) in pages.iter().zip(checked) {
            if !found.is_empty() {
                record.keep_broken_links(&resource.path);
            }
            problems.extend(found);
        }
    };
    let later_paths: HashSet<String> = later_posts.iter().map(|&i| posts[i].path()).collect();
    let later: Vec<bool> = path_list.iter().map(|p| later_paths.contains(p)).collect();
    let now: Vec<&Resource> = resources
        .iter()
        .zip(&later)
        .filter_map(|(r, &later)| (!later).then_some(r))
        .collect();
    check_links(&now, problems);
    drop(now);
    tmark("links checked");

    // The post pages, last and a batch at a time, into the stream.
    let mut site = Site {
        resources,
        not_found,
        post_count: posts.len(),
    };
    let mut under;
    let stream: &mut dyn PageStream = match base_path.as_str() {
        "" => stream,
        prefix => {
            under = prefix::Stream {
                inner: stream,
                prefix,
                own: &config.own_under_base_path,
            };
            &mut under
        }
    };
    stream.begin(&mut site, &later);
    let mut bodies: Vec<Option<String>> = bodies.into_iter().map(Some).collect();
    let mut template_problems: Vec<Problem> = Vec::new();
    for batch in later_posts.chunks(POST_PAGE_BATCH) {
        let work: Vec<(usize, String)> = batch
            .iter()
            .filter_map(|&i| Some((i, bodies.get_mut(i)?.take()?)))
            .collect();
        let mut rendered = Vec::with_capacity(work.len());
        for page in pages.posts(work) {
            match page {
                Ok(page) => rendered.push(page),
                Err(problem) if !template_problems.contains(&problem) => {
                    template_problems.push(problem)
                }
                Err(_) => {}
            }
        }
        check_links(&rendered.iter().collect::<Vec<_>>(), problems);
        stream.pages(rendered);
    }
    if !template_problems.is_empty() {
        problems.extend(template_problems);
        return None;
    }
    tmark("post pages");
    let load = |n: &std::sync::atomic::AtomicUsize| n.load(std::sync::atomic::Ordering::Relaxed);
    let (reused_posts, unread_posts, reused_pages) = (
        load(&record.reused_posts),
        load(&record.unread_posts),
        load(&record.reused_pages),
    );
    // Said only when there was an earlier render to take from.
    let reuse = match reused_posts + reused_pages {
        0 => String::new(),
        _ => format!(
            "; {reused_posts} posts ({unread_posts} of them unread) and {reused_pages} pages as they were"
        ),
    };
    log::info!(
        "rendered {} posts into {} resources in {:?}{reuse}",
        posts.len(),
        site.resources.len(),
        started.elapsed(),
    );
    done.record = record.encode();
    (done.reused_posts, done.reused_pages, done.unread_posts) =
        (reused_posts, reused_pages, unread_posts);
    if LEAVE_TO_EXIT.load(std::sync::atomic::Ordering::Relaxed) {
        // Hundreds of thousands of small allocations: freeing them one by one takes tens of
        // milliseconds that the process's exit does at once.
        std::mem::forget((sources, paths, served));
        std::mem::forget(path_list);
        std::mem::forget(pages);
        std::mem::forget(record);
        std::mem::forget((posts, translations, standalone, tags));
    }
    Some(site)
}

/// Every feed the site publishes: at each of its feed paths (Atom, or a JSON Feed at a `.json`
/// path) and each section's own.
fn feeds(
    config: &config::Config,
    posts_dir: &Path,
    posts: &mut [Post],
    record: &incremental::Record,
    site_modified: jiff::Timestamp,
) -> Vec<Resource> {
    let feed = feed::atom(config, posts, site_modified);
    let feed_modified = posts
        .iter()
        .take(if config.feed_entries == 0 {
            usize::MAX
        } else {
            config.feed_entries
        })
        .map(|p| p.modified)
        .fold(site_modified, jiff::Timestamp::max);
    let feed_resources: Vec<Resource> = config
        .feed_paths
        .iter()
        .map(|path| {
            let (content_type, body) = feed::at_path(path, config, posts, || feed.clone());
            Resource {
                path: path.clone(),
                content_type: content_type.into(),
                last_modified: feed_modified,
                body: body.into_bytes().into(),
            }
        })
        .collect();
    let mut feed_resources = feed_resources;
    feed_resources.extend(section_feeds(
        config,
        posts_dir,
        posts,
        record,
        site_modified,
    ));
    feed_resources
}

/// robots.txt (unless the site has its own) and the sitemap, which lists every page added so
/// far: last, after every page and file.
fn add_robots_and_sitemap(
    site: &mut Resources,
    config: &config::Config,
    served: &[&Post],
    has_robots: bool,
    (site_modified, all_modified): (jiff::Timestamp, jiff::Timestamp),
    problems: &mut Vec<Problem>,
) {
    if !has_robots {
        let robots = sitemap::robots(config);
        site.add(
            Resource {
                path: "/robots.txt".into(),
                content_type: "text/plain; charset=utf-8".into(),
                last_modified: site_modified,
                body: robots.into_bytes().into(),
            },
            None,
            problems,
        );
    }
    // A post's page changed when its `updated` (else `date`) says, as the feed has it; its
    // file's mtime changes on every checkout.
    let post_dates: std::collections::HashMap<&str, jiff::Timestamp> = served
        .iter()
        .map(|p| (p.url.as_str(), p.updated_or_date()))
        .collect();
    let map = sitemap::sitemap(config, &site.list, |r| {
        post_dates.get(r.path.as_str()).copied()
    });
    site.add(
        Resource {
            path: "/sitemap.xml".into(),
            content_type: sitemap::CONTENT_TYPE.into(),
            last_modified: all_modified,
            body: map.into_bytes().into(),
        },
        None,
        problems,
    );
}

/// What a build reads before any post: the settings (and their warnings), the site's files,
/// its templates and shortcodes. `None` when one of them stops the build (the problem said).
struct Inputs {
    config: config::Config,
    settings_warnings: Vec<Problem>,
    files: files::SiteFiles,
    templates: templates::Templates,
    shortcodes: shortcodes::Shortcodes,
    templates_dir: PathBuf,
    posts_dir: PathBuf,
    site_modified: jiff::Timestamp,
}

fn read_inputs(root: &Path, problems: &mut Vec<Problem>) -> Option<Inputs> {
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
    let shortcodes = match shortcodes::load(
        &files,
        &templates_dir,
        shortcodes::SiteValues {
            base_url: &config.base_url,
            title: &config.title,
            description: &config.description,
            author: &config.author,
            language: &config.language,
        },
    ) {
        Ok(shortcodes) => shortcodes,
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
    let site_modified = settings
        .modified
        .max(templates.modified)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    Some(Inputs {
        config,
        settings_warnings: settings.warnings,
        files,
        templates,
        shortcodes,
        templates_dir,
        posts_dir,
        site_modified,
    })
}

static LEAVE_TO_EXIT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// For a process that exits once the site is encoded (the render worker): the build's working
/// data (posts, views, the render record) is left for the exit to free instead of freed at the
/// end of each build.
pub fn leave_working_data_to_exit() {
    LEAVE_TO_EXIT.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// This process's peak RSS so far (for trace logs), 0 when unknown.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

/// Finds and loads every post under `posts_dir` (in parallel), reporting broken ones and slug
/// clashes. Returns the published posts, newest first, with the post files and the other files.
/// Unless `config.unsafe_html`, a post's HTML is sanitised as it is loaded when it holds anything
/// pulldown-cmark did not escape itself (most posts hold nothing of the kind).
fn load_posts(
    files: &files::SiteFiles,
    posts_dir: &Path,
    context: &post::Context,
    config: &config::Config,
    drafts: bool,
    record: &incremental::Record<'_>,
    problems: &mut Vec<Problem>,
) -> (Vec<Post>, Vec<PathBuf>, Vec<PathBuf>) {
    let found = files.walk(posts_dir, problems);
    let (sources, others): (Vec<PathBuf>, Vec<PathBuf>) =
        found.into_iter().partition(|f| is_post_source(f));
    let sources: Vec<PathBuf> = sources
        .into_iter()
        .filter(|f| {
            let section = f
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("_index."));
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
    // A post whose file is as it was comes from the earlier render: known by its identity
    // without reading it, or else by its content once read. The others are rendered.
    let started = std::time::SystemTime::now();
    let follow_links = config.follow_symlinks == files::Symlinks::Inside;
    let load = |f: &PathBuf| {
        let identity = incremental::Identity::of(f, follow_links, started);
        if let Some(post) = identity.and_then(|id| record.post_by_identity(f, id)) {
            return Ok(post);
        }
        let read = files.read(f).map_err(|e| Problem {
            file: f.clone(),
            line: None,
            message: format!("cannot read post: {e}"),
        })?;
        let source_key = incremental::Record::source_key(&read.bytes, read.modified);
        if let Some(post) = record.post(f, source_key, identity) {
            return Ok(post);
        }
        let mut post = post::from_read(f, read, context)?;
        if post.needs_sanitizing && !config.unsafe_html {
            post.html = markdown::sanitize(&post.html);
        }
        // Held until its page is rendered: without the slack of a String grown by doubling.
        post.html.shrink_to_fit();
        record.keep_post(&post, source_key, identity);
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
    for post in &posts {
        if post.undated {
            problems.push(Problem {
                file: post.source.clone(),
                line: None,
                message: "no date in front matter, file name or URL; dated by the file's \
                          modification time (add `date: YYYY-MM-DD`)"
                    .into(),
            });
        }
        for message in &post.url_problems {
            problems.push(Problem {
                file: post.source.clone(),
                line: None,
                message: format!("{message}; ignored"),
            });
        }
    }
    posts.sort_by(|a, b| {
        b.date
            .timestamp
            .cmp(&a.date.timestamp)
            .then_with(|| a.slug.cmp(&b.slug))
    });
    // Only two posts claiming one URL clash: equal slugs under dated URLs are fine.
    let mut urls: HashMap<String, PathBuf> = HashMap::with_capacity(posts.len());
    posts.retain(|p| match urls.get(&p.url) {
        Some(first) => {
            problems.push(Problem {
                file: p.source.clone(),
                line: None,
                message: format!(
                    "URL {} is already used by {}; post skipped (set `slug:` or `permalink:` \
                     to tell them apart)",
                    p.url,
                    first.display()
                ),
            });
            false
        }
        None => {
            urls.insert(p.url.clone(), p.source.clone());
            true
        }
    });
    (posts, sources, others)
}

/// Replaces the link markers [`liquid`] left in bodies with the URL of the post or page they
/// name (`{% post_url NAME %}`, `{% link PATH %}`, Zola's `@/PATH.md`), reports those that name
/// nothing, and reports template syntax left in any body.
fn resolve_links(
    groups: &mut [&mut [Post]],
    posts_dir: &Path,
    pages_dir: &Path,
    problems: &mut Vec<Problem>,
) {
    let mut by_source: HashMap<PathBuf, String> = HashMap::new();
    let mut by_stem: HashMap<String, String> = HashMap::new();
    for post in groups.iter().flat_map(|g| g.iter()) {
        by_source.insert(post.source.clone(), post.url.clone());
        if let Some(stem) = post.source.file_stem().and_then(|s| s.to_str()) {
            by_stem
                .entry(stem.to_string())
                .or_insert_with(|| post.url.clone());
        }
    }
    let find = |key: &str| -> Option<String> {
        let (kind, target) = key.split_once(':')?;
        let target = target.trim_start_matches('/');
        match kind {
            "post" => {
                let name = target.rsplit('/').next().unwrap_or(target);
                by_stem.get(name).cloned()
            }
            _ => {
                // Jekyll names posts by their place in the old site (`_posts/x.md`,
                // `blog/_posts/x.md`); Zola by their place under `content/`.
                let under_posts = target
                    .strip_prefix("_posts/")
                    .map(str::to_string)
                    .unwrap_or_else(|| target.replace("/_posts/", "/"));
                [
                    posts_dir.join(&under_posts),
                    pages_dir.join(target),
                    posts_dir.join(target),
                ]
                .iter()
                .find_map(|p| by_source.get(p).cloned())
            }
        }
    };
    for post in groups.iter_mut().flat_map(|g| g.iter_mut()) {
        for (line, what) in &post.leftovers {
            // A shortcode whose template failed is an error, told as it is.
            let message = match what.strip_prefix(shortcodes::ERROR) {
                Some(error) => error.to_string(),
                None => format!("{what}: it would show as raw text (remove it or write it out)"),
            };
            problems.push(Problem {
                file: post.source.clone(),
                line: Some(*line),
                message,
            });
        }
        if post.links.is_empty() {
            continue;
        }
        for (key, line) in &post.links {
            let marker = liquid::marker(key);
            let url = find(key);
            if url.is_none() {
                problems.push(Problem {
                    file: post.source.clone(),
                    line: Some(*line),
                    message: format!(
                        "link to {:?} names no post or page",
                        key.split_once(':').map_or(key.as_str(), |(_, t)| t)
                    ),
                });
            }
            let url = text::encode_path(url.as_deref().unwrap_or("/"));
            post.html = post.html.replace(&marker, &url);
        }
    }
}

/// Reads `pages/` (optional): its Markdown files as pages, and the other files to serve at
/// their path under it.
fn load_pages(
    files: &files::SiteFiles,
    pages_dir: &Path,
    config: &config::Config,
    shortcodes: &shortcodes::Shortcodes,
    problems: &mut Vec<Problem>,
) -> (Vec<Post>, Vec<PathBuf>) {
    if !pages_dir.is_dir() {
        return (Vec::new(), Vec::new());
    }
    let context = post::Context {
        posts_dir: pages_dir,
        permalink: &config.permalink,
        language: &config.language,
        site_url: &config.base_url,
        highlight: config.highlight,
        math: config.math,
        toc: config.toc,
        page_root: Some(pages_dir),
        shortcodes: Some(shortcodes),
    };
    let (sources, others): (Vec<PathBuf>, Vec<PathBuf>) = files
        .walk(pages_dir, problems)
        .into_iter()
        .partition(|f| is_post_source(f));
    let mut pages = Vec::new();
    for loaded in par::map(&sources, |f| post::load(files, f, &context)) {
        match loaded {
            Ok(mut page) if !page.draft => {
                if page.needs_sanitizing && !config.unsafe_html {
                    page.html = markdown::sanitize(&page.html);
                }
                pages.push(page)
            }
            Ok(_) => {}
            Err(problem) => problems.push(problem),
        }
    }
    (pages, others)
}

/// Renders every page but the posts' own: the resources (with each post's page still without
/// its body), the 404 page, and the indexes of the posts whose page has its place among them
/// (the others were refused, reported). Or the template problems (each reported once) that
/// stop the build.
fn render_pages(
    pages: &pages::Pages,
    translations: &[Post],
    standalone: &[Post],
    problems: &mut Vec<Problem>,
) -> Result<(Resources, Resource, Vec<usize>), Vec<Problem>> {
    let mut rendered = Vec::new();
    rendered.extend(translations.iter().map(|p| pages.single(p, "post.html")));
    rendered.extend(standalone.iter().map(|p| pages.single(p, "page.html")));
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
    // The posts' pages first, as everywhere: none of the other pages may take their place.
    let later = (0..pages.posts.len())
        .filter(|&i| site.add(pages.post_unrendered(i), None, problems))
        .collect();
    for page in done {
        site.add(page, None, problems);
    }
    Ok((site, not_found, later))
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
                // `about/index.html` answers at `/about/`, as on any static host.
                let path = match tail.strip_suffix("/index.html") {
                    Some(dir) => format!("/{dir}/"),
                    None => format!("/{tail}"),
                };
                site.add_file(files, &file, path, problems);
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
                body: bytes::Bytes::from_static(body),
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
    posts: &[&Post],
    sources: &[PathBuf],
    others: &[PathBuf],
    problems: &mut Vec<Problem>,
) {
    let owners = bundle_owners(posts_dir, sources, others);
    let folder_of: HashMap<&Path, &str> = posts
        .iter()
        .map(|p| (p.source.as_path(), p.folder()))
        .collect();
    for (file, owner) in others.iter().zip(owners) {
        let path = match owner {
            Some((source, tail)) => match folder_of.get(source.as_path()) {
                Some(folder) => format!("{folder}{tail}"),
                None => continue,
            },
            None => match assets::url_tail(posts_dir, file) {
                Some(tail) => format!("/posts/{tail}"),
                None => continue,
            },
        };
        site.add_file(files, file, path, problems);
    }
    // A file beside a single-file post (not in a bundle of its own) that the post links to
    // relatively is served in the post's folder too, where the link resolves.
    let other_files: HashSet<&Path> = others.iter().map(PathBuf::as_path).collect();
    for post in posts {
        let Some(dir) = post.source.parent() else {
            continue;
        };
        for link in &post.relative_links {
            let file = dir.join(link);
            let is_other = other_files.contains(file.as_path());
            let in_own_bundle = is_other
                && folder_of
                    .get(post.source.as_path())
                    .is_some_and(|folder| site.paths.contains(&format!("{folder}{link}")));
            if in_own_bundle || !is_other {
                continue;
            }
            let path = format!("{}{link}", post.folder());
            if !site.paths.contains(&path) {
                site.add_file(files, &file, path, problems);
            }
        }
    }
}

/// Adds a redirect page for each post's aliases and for the extension-less twin of each `.html`
/// post (`/x/index.html` cannot be a resource beside `/x/`: both are one exported file). An
/// alias that is already a page or file is reported and left alone; implied twins are added
/// only where free.
fn add_redirects<'a>(
    site: &mut Resources,
    posts: impl Iterator<Item = &'a Post>,
    problems: &mut Vec<Problem>,
) {
    for post in posts {
        let mut wanted: Vec<(String, bool)> = Vec::new();
        for alias in &post.aliases {
            wanted.push((alias.clone(), true));
        }
        for twin in permalink::implied_aliases(&post.url) {
            wanted.push((twin, false));
        }
        for (from, asked) in wanted {
            let taken = site.paths.contains(&from)
                || export::file_name(&from).is_none_or(|f| site.files.contains(&f));
            if taken {
                if asked {
                    problems.push(Problem {
                        file: post.source.clone(),
                        line: None,
                        message: format!(
                            "alias {from} is already a page or file; no redirect made"
                        ),
                    });
                }
                continue;
            }
            site.add(
                redirect::resource(&from, &post.url, post.modified),
                Some(&post.source),
                problems,
            );
        }
    }
}

/// Whether a file is a post: `.md` or `.markdown`, any case, or HTML that opens with front
/// matter (Hugo content); other HTML is served as it is.
fn is_post_source(path: &Path) -> bool {
    let markdown = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"));
    markdown || (post::is_html(path) && opens_with_front_matter(path))
}

/// Whether the file's first line is `---` or `+++`.
fn opens_with_front_matter(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 8];
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let n = file.read(&mut head).unwrap_or(0);
    let head = &head[..n];
    let head = head
        .strip_prefix(b"\xef\xbb\xbf".as_slice())
        .unwrap_or(head);
    head.starts_with(b"---") || head.starts_with(b"+++")
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
    // A translation (`index.ca.md`) shares its original's bundle.
    for source in sources.iter().filter(|s| post::language_of(s).0.is_none()) {
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
    /// against `source` (the file it came from) when known; says whether it was added.
    fn add(
        &mut self,
        resource: Resource,
        source: Option<&Path>,
        problems: &mut Vec<Problem>,
    ) -> bool {
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
            return false;
        }
        self.paths.insert(resource.path.clone());
        if let Some(file) = file {
            self.files.insert(file);
        }
        self.list.push(resource);
        true
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
                    body: read.bytes.into(),
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

/// The feeds of `config.section_feeds`: each folder's newest posts (`posts` newest first).
fn section_feeds(
    config: &config::Config,
    posts_dir: &Path,
    posts: &mut [Post],
    record: &incremental::Record,
    site_modified: jiff::Timestamp,
) -> Vec<Resource> {
    if config.section_feeds.is_empty() {
        return Vec::new();
    }
    // A section's posts may lie past the main feed's: their HTML is needed too.
    record.fill_html(posts);
    let take = if config.feed_entries == 0 {
        usize::MAX
    } else {
        config.feed_entries
    };
    config
        .section_feeds
        .iter()
        .map(|(path, folder)| {
            let dir = posts_dir.join(folder);
            let chosen: Vec<Post> = posts
                .iter()
                .filter(|p| p.source.starts_with(&dir))
                .take(take)
                .cloned()
                .collect();
            let modified = chosen
                .iter()
                .map(|p| p.modified)
                .fold(site_modified, jiff::Timestamp::max);
            let atom = || feed::atom(config, &chosen, site_modified);
            let (content_type, body) = feed::at_path(path, config, &chosen, atom);
            Resource {
                path: path.clone(),
                content_type: content_type.into(),
                last_modified: modified,
                body: body.into_bytes().into(),
            }
        })
        .collect()
}
