//! One post: a Markdown file read, its front matter applied, its body rendered.
//!
//! Where values come from when front matter does not give them:
//! - slug: Jekyll's `YYYY-MM-DD-slug.md` file name (date prefix dropped), the file stem, or the
//!   folder name for a page bundle's `index.md`;
//! - date: the file name's `YYYY-MM-DD-` prefix, else a `/YYYY/MM/DD/` in the post's own URL
//!   (Zola blogs keep dates in `path`), else the file's modification time, which `build`
//!   reports as a problem;
//! - title: the first heading (ATX `#` or setext `===`), else the slug;
//! - URL: the front matter's `permalink` / `url` / `path`, else the site's permalink pattern.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use memchr::memmem::Finder;

use jiff::Timestamp;

use super::date::PostDate;
use super::files::SiteFiles;
use super::frontmatter;
use super::liquid;
use super::markdown;
use super::permalink;
use super::text::slugify;
use super::Problem;

/// A post ready for the templates.
#[derive(Debug, Clone)]
pub struct Post {
    /// The Markdown file.
    pub source: PathBuf,
    /// URL-safe name: the page is `/posts/<slug>/`.
    pub slug: String,
    /// Title as written (templates escape it).
    pub title: String,
    /// Publication date.
    pub date: PostDate,
    /// Last update, if given.
    pub updated: Option<PostDate>,
    /// Tags and categories together, in the order written, without duplicates.
    pub tags: Vec<String>,
    /// The URL-safe name of each tag, in the same order.
    pub tag_slugs: Vec<String>,
    /// The description from front matter, if any.
    pub description: Option<String>,
    /// The description, or the start of the first paragraph.
    pub summary: String,
    /// The body as HTML. (`build` moves it into the post's page once the feed is written.)
    pub html: String,
    /// Drafts and `published: false` posts are not served.
    pub draft: bool,
    /// Whether `html` holds raw HTML or unusual URLs ([`markdown::Rendered::needs_sanitizing`]).
    pub needs_sanitizing: bool,
    /// The file's modification time.
    pub modified: Timestamp,
    /// The decoded URL path the post is served at (`/posts/x/`, `/2009/05/19/x.html`).
    pub url: String,
    /// Decoded old paths that redirect to the post.
    pub aliases: Vec<String>,
    /// The feed entry id set in front matter.
    pub entry_id: Option<String>,
    /// The slug as Jekyll knows it (front matter `slug`, else the file name without its date,
    /// as written), for jekyll-feed's entry ids.
    pub name_slug: String,
    /// No date was found anywhere: the date is the file's modification time.
    pub undated: bool,
    /// Front matter URLs (`permalink`, `aliases`...) that could not be used, with the reason.
    pub url_problems: Vec<String>,
    /// The language of a translation (`index.ca.md`) other than the site's.
    pub lang: Option<String>,
    /// A page's place in the navigation (front matter `weight`).
    pub weight: Option<i64>,
    /// Relative `src`/`href` targets in the body (`photo.png`, `./img/a.jpg`), without `./`.
    pub relative_links: Vec<String>,
    /// Links to other posts and pages still to resolve (see [`super::liquid`]), with the line
    /// in the file.
    pub links: Vec<(String, usize)>,
    /// Other generators' template syntax left in the body: line in the file and what it is.
    pub leftovers: Vec<(usize, String)>,
}

/// What a post's URL is made from besides the post itself.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The `posts/` folder, for `:section`.
    pub posts_dir: &'a Path,
    /// The site's permalink pattern (already validated).
    pub permalink: &'a str,
    /// The site's language: a translation in it gets no language prefix.
    pub language: &'a str,
    /// `{{ site.url }}` in bodies: the site's `base_url`.
    pub site_url: &'a str,
    /// Whether code blocks are highlighted (the site's `highlight` setting).
    pub highlight: bool,
    /// Whether `$...$` / `$$...$$` are TeX rendered to MathML (the site's `math` setting).
    pub math: bool,
    /// Whether posts get a table of contents unless their front matter says (`toc`).
    pub toc: bool,
    /// For pages (not posts): the `pages/` folder; a page's URL is its path under it
    /// (`pages/about.md` at `/about/`) unless it sets its own.
    pub page_root: Option<&'a Path>,
    /// The site's shortcode templates, carried out in bodies; `None` leaves calls as written.
    pub shortcodes: Option<&'a super::shortcodes::Shortcodes>,
}

impl Default for Context<'_> {
    fn default() -> Self {
        Context {
            posts_dir: Path::new(super::POSTS_DIR),
            permalink: super::permalink::DEFAULT,
            language: "en",
            site_url: "",
            highlight: false,
            math: false,
            toc: false,
            page_root: None,
            shortcodes: None,
        }
    }
}

impl Post {
    /// The page's decoded path, e.g. `/posts/<slug>/`.
    pub fn path(&self) -> String {
        self.url.clone()
    }

    /// The folder the post's relative links resolve against: its path if that ends in `/`,
    /// else the path up to its last `/` (for `/2009/05/19/x.html`, `/2009/05/19/`).
    pub fn folder(&self) -> &str {
        &self.url[..self.url.rfind('/').map_or(0, |i| i + 1)]
    }

    /// When the post last changed: its `updated` date, else its date.
    pub fn updated_or_date(&self) -> Timestamp {
        self.updated
            .map(|u| u.timestamp)
            .unwrap_or(self.date.timestamp)
    }
}

/// Reads (through `files`) and renders the post at `path`.
pub fn load(files: &SiteFiles, path: &Path, context: &Context) -> Result<Post, Problem> {
    let problem = |line: Option<usize>, message: String| Problem {
        file: path.to_path_buf(),
        line,
        message,
    };
    let read = files
        .read(path)
        .map_err(|e| problem(None, format!("cannot read post: {e}")))?;
    from_read(path, read, context)
}

/// Renders the post at `path` from what was read of it.
pub fn from_read(
    path: &Path,
    read: super::files::FileRead,
    context: &Context,
) -> Result<Post, Problem> {
    let problem = |line: Option<usize>, message: String| Problem {
        file: path.to_path_buf(),
        line,
        message,
    };
    let (bytes, modified) = (read.bytes, read.modified);
    let source = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
        problem(Some(line), "not UTF-8 text".into())
    })?;
    from_source_in(path, &source, modified, context)
}

/// Builds a post from its text with the default URL settings; `path` gives the file-name
/// defaults and names the file in problems.
pub fn from_source(path: &Path, source: &str, modified: Timestamp) -> Result<Post, Problem> {
    from_source_in(path, source, modified, &Context::default())
}

/// Builds a post from its text; `path` gives the file-name defaults and names the file in
/// problems, `context` the site's URL settings.
pub fn from_source_in(
    path: &Path,
    source: &str,
    modified: Timestamp,
    context: &Context,
) -> Result<Post, Problem> {
    let (front, body_offset) = frontmatter::parse(source).map_err(|e| Problem {
        file: path.to_path_buf(),
        line: e.line,
        message: e.message,
    })?;
    let body = source.get(body_offset..).unwrap_or("");
    let (name_lang, unlanguaged) = language_of(path);
    let (name_date, name_slug) = name_parts(&unlanguaged);
    let file_slug = name_slug.clone();
    let body_line = super::text::line_of(source, body_offset);
    let slug = match &front.slug {
        Some(s) if !s.trim().is_empty() => slugify(s),
        _ => slugify(&name_slug),
    };
    let mut url_problems = Vec::new();
    let own_url = front.url.as_deref().and_then(|u| {
        let normal = permalink::normalize(u);
        if normal.is_none() {
            url_problems.push(format!(
                "`permalink`/`url`/`path` {u:?} is not a usable path"
            ));
        }
        normal
    });
    let date = front
        .date
        .or(name_date)
        .or_else(|| own_url.as_deref().and_then(date_in_path));
    let undated = date.is_none();
    let date = date.unwrap_or_else(|| PostDate::from_timestamp(modified));
    let name_slug = front
        .slug
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| name_slug.clone());
    // Only a file name marks a translation (as in Zola and Hugo): a post that says `lang:` in
    // its front matter (Jekyll sites written in several languages) is a post of its own.
    let lang = name_lang.filter(|l| !l.eq_ignore_ascii_case(context.language));
    let page_url = context.page_root.and_then(|root| {
        let rel = unlanguaged.strip_prefix(root).ok()?.with_extension("");
        let mut parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
        if parts.last() == Some(&"index") {
            parts.pop();
        }
        let joined = parts.join("/");
        Some(if joined.is_empty() {
            "/".to_string()
        } else {
            format!("/{joined}/")
        })
    });
    let url = own_url.or(page_url).unwrap_or_else(|| {
        let section = section_of(context.posts_dir, path);
        let title = permalink::jekyll_title(&name_slug);
        let url = permalink::expand(
            context.permalink,
            &permalink::Facts {
                slug: &slug,
                title: &title,
                date,
                categories: &front.categories,
                section: &section,
            },
        );
        // Zola serves a translation under its language's prefix: /ca/blog/p/.
        match &lang {
            Some(lang) => format!("/{lang}{url}"),
            None => url,
        }
    });
    // Shortcodes first (Zola's order: before the Markdown), with the post's URL known.
    let expanded = context.shortcodes.map(|shortcodes| {
        let date = date.day.to_string();
        let page = super::shortcodes::PageValues {
            title: front.title.as_deref().unwrap_or(""),
            path: &url,
            slug: &slug,
            date: &date,
            lang: lang.as_deref().unwrap_or(context.language),
        };
        shortcodes.expand(body, &page)
    });
    let source_line = |line: usize| {
        let line = expanded.as_ref().map_or(line, |e| e.source_line(line));
        line + body_line - 1
    };
    let processed = liquid::process(
        expanded.as_ref().map_or(body, |e| e.text.as_str()),
        &liquid::Values {
            site_url: context.site_url,
            title: front.title.as_deref().unwrap_or(""),
        },
    );
    let links = processed
        .links
        .iter()
        .map(|(key, line)| (key.clone(), source_line(*line)))
        .collect();
    let mut leftovers: Vec<(usize, String)> = processed
        .leftovers
        .iter()
        .map(|(line, what)| (source_line(*line), what.clone()))
        .collect();
    if let Some(expanded) = &expanded {
        leftovers.extend(
            expanded
                .problems
                .iter()
                .map(|(line, what)| (line + body_line - 1, what.clone())),
        );
        leftovers.sort_by_key(|(line, _)| *line);
    }
    let mut rendered = if is_html(path) {
        // Hugo content written as HTML: the body is the page, as it is.
        markdown::Rendered {
            html: processed.text,
            title: None,
            summary: String::new(),
            needs_sanitizing: true,
        }
    } else {
        markdown::render_with(
            &processed.text,
            front.title.is_none(),
            markdown::Extras {
                highlight: context.highlight,
                math: context.math,
                toc: front.toc.unwrap_or(context.toc),
            },
        )
    };
    if let Some(expanded) = expanded.as_ref().filter(|e| e.has_html()) {
        rendered.html = expanded.fill(&rendered.html);
        rendered.summary = expanded.strip(&rendered.summary);
        rendered.title = rendered.title.map(|t| expanded.strip(&t));
        rendered.needs_sanitizing = true;
    }
    let title = front
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .or(rendered.title)
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| file_slug.replace(['-', '_'], " "));
    let mut tags = front.tags;
    for c in front.categories.clone() {
        if !tags.contains(&c) {
            tags.push(c);
        }
    }
    let summary = match &front.description {
        Some(d) if !d.trim().is_empty() => markdown::shorten(d.trim(), markdown::SUMMARY_CHARS),
        _ => rendered.summary,
    };
    if let Some(sized) = path
        .parent()
        .and_then(|dir| super::imagesize::add_sizes(&rendered.html, dir))
    {
        rendered.html = sized;
    }
    let relative_links = relative_links(&rendered.html);
    let mut aliases = Vec::new();
    for alias in &front.aliases {
        match permalink::normalize(alias) {
            Some(a) if a != url && !aliases.contains(&a) => aliases.push(a),
            Some(_) => {}
            None => url_problems.push(format!("alias {alias:?} is not a usable path")),
        }
    }
    Ok(Post {
        source: path.to_path_buf(),
        slug,
        title,
        date,
        url,
        aliases,
        entry_id: front.entry_id,
        name_slug,
        undated,
        url_problems,
        lang,
        weight: front.weight,
        relative_links,
        links,
        leftovers,
        updated: front.updated,
        tag_slugs: tags.iter().map(|t| slugify(t)).collect(),
        tags,
        description: front.description,
        summary,
        html: rendered.html,
        needs_sanitizing: rendered.needs_sanitizing,
        draft: front.draft,
        modified,
    })
}

/// Whether a post file is HTML (Hugo content) rather than Markdown.
pub fn is_html(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
}

/// The language a file name carries (`index.ca.md`, `post.pt-br.md`: Zola's and Hugo's
/// translations) and the path without it (`index.md`).
pub fn language_of(path: &Path) -> (Option<String>, PathBuf) {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let ext = path.extension().and_then(|s| s.to_str()).unwrap_or("");
    if let Some((base, lang)) = stem.rsplit_once('.') {
        let (primary, region) = lang.split_once('-').unwrap_or((lang, ""));
        let is_lang = (2..=3).contains(&primary.len())
            && primary.bytes().all(|b| b.is_ascii_lowercase())
            && (region.is_empty()
                || (region.len() == 2 && region.bytes().all(|b| b.is_ascii_alphabetic())));
        if is_lang && !base.is_empty() {
            return (
                Some(lang.to_string()),
                path.with_file_name(format!("{base}.{ext}")),
            );
        }
    }
    (None, path.to_path_buf())
}

/// Relative link targets in rendered HTML: `src="x"` and `href="x"` values with no scheme, no
/// leading `/`, `#`, `?` or `..`, and `./` dropped.
fn relative_links(html: &str) -> Vec<String> {
    // Searchers built once: every post's HTML is searched for both.
    static ATTRS: LazyLock<[Finder<'static>; 2]> =
        LazyLock::new(|| [Finder::new("src=\""), Finder::new("href=\"")]);
    let mut found: Vec<String> = Vec::new();
    for finder in ATTRS.iter() {
        for at in finder.find_iter(html.as_bytes()) {
            let rest = &html[at + finder.needle().len()..];
            let Some(end) = memchr::memchr(b'"', rest.as_bytes()) else {
                continue;
            };
            let value = rest[..end].trim_start_matches("./");
            let value = value.split(['#', '?']).next().unwrap_or("");
            let relative = !value.is_empty()
                && !value.starts_with(['/', '#', '?', '.'])
                && !value.contains(':')
                && !value.contains("&");
            if relative && !found.iter().any(|f| f == value) {
                found.push(value.to_string());
            }
        }
    }
    found
}

/// A date written as `/YYYY/MM/DD/` in a URL path (Zola blogs keep dates in `path`).
fn date_in_path(path: &str) -> Option<PostDate> {
    let parts: Vec<&str> = path.split('/').collect();
    parts.windows(3).find_map(|w| {
        let ok = w[0].len() == 4 && w[1].len() == 2 && w[2].len() == 2;
        let all_digits = w.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()));
        if ok && all_digits {
            super::date::parse(&format!("{}-{}-{}", w[0], w[1], w[2])).ok()
        } else {
            None
        }
    })
}

/// The `:section` of a post: the first folder under `posts/`, unless that folder is the post's
/// own page bundle (`posts/trip/index.md`).
fn section_of(posts_dir: &Path, path: &Path) -> String {
    let Ok(rel) = path.strip_prefix(posts_dir) else {
        return String::new();
    };
    let parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
    let is_bundle_of_first = parts.len() == 2
        && path
            .file_stem()
            .and_then(|s| s.to_str())
            .is_some_and(|s| s == "index" || s.starts_with("index."));
    if parts.len() < 2 || is_bundle_of_first {
        String::new()
    } else {
        parts[0].to_string()
    }
}

/// The date and slug a file name gives: `2015-03-01-some-title.md` gives 2015-03-01 and
/// `some-title`; a bundle's `index.md` uses its folder's name the same way.
pub fn name_parts(path: &Path) -> (Option<PostDate>, String) {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let name = if stem == "index" {
        path.parent()
            .and_then(|p| p.file_name())
            .and_then(|s| s.to_str())
            .unwrap_or(stem)
    } else {
        stem
    };
    let dated = name.get(..10).and_then(|d| super::date::parse(d).ok());
    match (dated, name.get(10..)) {
        (Some(date), Some(rest)) if rest.starts_with(['-', '_']) && rest.len() > 1 => {
            (Some(date), rest[1..].to_string())
        }
        (Some(date), Some("")) => (Some(date), name.to_string()),
        _ => (None, name.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        let (d, s) = name_parts(Path::new("posts/2015-03-01-some-title.md"));
        assert_eq!(d.unwrap().day.to_string(), "2015-03-01");
        assert_eq!(s, "some-title");
        let (d, s) = name_parts(Path::new("posts/trip/index.md"));
        assert!(d.is_none());
        assert_eq!(s, "trip");
        let (d, s) = name_parts(Path::new("posts/2020-01-01-trip/index.md"));
        assert!(d.is_some());
        assert_eq!(s, "trip");
        let (d, s) = name_parts(Path::new("posts/plain.md"));
        assert!(d.is_none());
        assert_eq!(s, "plain");
    }

    #[test]
    fn defaults_from_name_and_heading() {
        let p = from_source(
            Path::new("posts/2015-03-01-x.md"),
            "Setext\n======\n\nHello.",
            Timestamp::UNIX_EPOCH,
        )
        .unwrap();
        assert_eq!(p.title, "Setext");
        assert_eq!(p.slug, "x");
        assert_eq!(p.date.day.to_string(), "2015-03-01");
        assert_eq!(p.summary, "Hello.");
        let p = from_source(
            Path::new("posts/a.md"),
            "---\ntitle: T\nslug: My Slug\ncategories: [c]\ntags: [t, c]\n---\n# Kept\n",
            Timestamp::UNIX_EPOCH,
        )
        .unwrap();
        assert_eq!(p.slug, "my-slug");
        assert_eq!(p.tags, ["t", "c"]);
        assert!(p.html.contains("<h1"));
    }
}
