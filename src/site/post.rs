//! One post: a Markdown file read, its front matter applied, its body rendered.
//!
//! Where values come from when front matter does not give them:
//! - slug: Jekyll's `YYYY-MM-DD-slug.md` file name (date prefix dropped), the file stem, or the
//!   folder name for a page bundle's `index.md`;
//! - date: the file name's `YYYY-MM-DD-` prefix, else the file's modification time;
//! - title: the first heading (ATX `#` or setext `===`), else the slug.

use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::date::PostDate;
use super::files::SiteFiles;
use super::frontmatter;
use super::markdown;
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
}

impl Post {
    /// The page's path: `/posts/<slug>/`.
    pub fn path(&self) -> String {
        format!("/posts/{}/", self.slug)
    }

    /// When the post last changed: its `updated` date, else its date.
    pub fn updated_or_date(&self) -> Timestamp {
        self.updated
            .map(|u| u.timestamp)
            .unwrap_or(self.date.timestamp)
    }
}

/// Reads (through `files`) and renders the post at `path`.
pub fn load(files: &SiteFiles, path: &Path) -> Result<Post, Problem> {
    let problem = |line: Option<usize>, message: String| Problem {
        file: path.to_path_buf(),
        line,
        message,
    };
    let read = files
        .read(path)
        .map_err(|e| problem(None, format!("cannot read post: {e}")))?;
    let (bytes, modified) = (read.bytes, read.modified);
    let source = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
        problem(Some(line), "not UTF-8 text".into())
    })?;
    from_source(path, &source, modified)
}

/// Builds a post from its text; `path` gives the file-name defaults and names the file in
/// problems.
pub fn from_source(path: &Path, source: &str, modified: Timestamp) -> Result<Post, Problem> {
    let (front, body_offset) = frontmatter::parse(source).map_err(|e| Problem {
        file: path.to_path_buf(),
        line: e.line,
        message: e.message,
    })?;
    let body = source.get(body_offset..).unwrap_or("");
    let (name_date, name_slug) = name_parts(path);
    let rendered = markdown::render(body, front.title.is_none());
    let slug = match &front.slug {
        Some(s) if !s.trim().is_empty() => slugify(s),
        _ => slugify(&name_slug),
    };
    let title = front
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .or(rendered.title)
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| name_slug.replace(['-', '_'], " "));
    let mut tags = front.tags;
    for c in front.categories {
        if !tags.contains(&c) {
            tags.push(c);
        }
    }
    let summary = match &front.description {
        Some(d) if !d.trim().is_empty() => markdown::shorten(d.trim(), markdown::SUMMARY_CHARS),
        _ => rendered.summary,
    };
    Ok(Post {
        source: path.to_path_buf(),
        slug,
        title,
        date: front
            .date
            .or(name_date)
            .unwrap_or_else(|| PostDate::from_timestamp(modified)),
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
