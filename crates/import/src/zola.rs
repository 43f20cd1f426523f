//! Reading a Zola site: `config.toml`, `content/` and `static/`. Old URLs follow Zola's rules:
//! the page's `path`, else `/<section folders>/<slug>/` where the slug is the front matter's
//! `slug` or the file (or bundle folder) name without a date prefix; translations sit under
//! `/<lang>/`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{content, read_settings, text_of, Plan};
use render::site::frontmatter::FrontMatter;
use render::site::permalink;
use render::site::post::{language_of, name_parts};
use render::site::text::slugify;

const USED: &[&str] = &[
    "base_url",
    "title",
    "description",
    "default_language",
    "generate_feed",
    "generate_feeds",
    "feed_filename",
    "feed_filenames",
    "author",
    "taxonomies",
];

/// Lays out the import of the Zola site at `src`.
pub(crate) fn plan(src: &Path) -> Result<Plan, String> {
    let mut plan = Plan::default();
    let config_name = Path::new("config.toml");
    let (text, config) = read_settings(&src.join(config_name))?
        .ok_or_else(|| format!("{}: no config.toml; is this a Zola site?", src.display()))?;
    super::note_unused_keys(&mut plan, config_name, &text, &config, USED);
    let language = text_of(&config, "default_language").unwrap_or_else(|| "en".into());
    let s = &mut plan.settings;
    s.title = text_of(&config, "title");
    s.description = text_of(&config, "description");
    s.author = text_of(&config, "author");
    s.base_url = text_of(&config, "base_url").map(|u| u.trim_end_matches('/').to_string());
    s.language = Some(language.clone());
    s.permalink = Some("/:section/:slug/".into());
    let feeds: Vec<String> = match (config.get("feed_filenames"), config.get("feed_filename")) {
        (Some(Value::Array(names)), _) => names
            .iter()
            .filter_map(|n| n.as_str().map(str::to_string))
            .collect(),
        (_, Some(Value::String(name))) => vec![name.clone()],
        _ => vec!["atom.xml".into()],
    };
    let feeds_on = ["generate_feed", "generate_feeds"]
        .iter()
        .any(|k| config.get(*k).and_then(Value::as_bool) == Some(true));
    if feeds_on {
        s.feed_paths = feeds.iter().map(|f| format!("/{f}")).collect();
    }
    let old_url = move |rel: &Path, front: &FrontMatter| old_url(rel, front, &language);
    let content_dir = src.join("content");
    // A site with no section sorted by date keeps the plain rule: a page in a section is a post.
    let any_dated =
        walk_sections(&content_dir).any(|dir| sorts_by_date(&section_front(&content_dir, &dir)));
    let is_post = move |rel: &Path| {
        Some(if any_dated {
            listed_by_date(&content_dir, rel)
        } else {
            rel.components().count() > 1
        })
    };
    content::add(
        &mut plan,
        src,
        is_source,
        &is_post,
        &old_url,
        &["templates", "themes", "sass"],
    );
    add_shortcodes(&mut plan, src, text_of(&config, "theme").as_deref());
    // A section with `generate_feeds = true` has its own feeds beside its page.
    let content_dir = src.join("content");
    for dir in walk_sections(&content_dir) {
        let front = section_front(&content_dir, &dir);
        if dir.as_os_str().is_empty()
            || ["generate_feeds", "generate_feed"]
                .iter()
                .all(|k| front.get(*k).and_then(|v| v.as_bool()) != Some(true))
        {
            continue;
        }
        let folder = dir.to_string_lossy().into_owned();
        for name in &feeds {
            plan.settings
                .section_feeds
                .push((format!("/{folder}/{name}"), folder.clone()));
        }
    }
    Ok(plan)
}

fn is_source(rel: &Path) -> bool {
    super::is_markdown(rel)
}

/// The site's shortcode templates (`templates/shortcodes/*.html` and `.md`), and its theme's
/// where the site has none of that name, copied to forkblog's `templates/shortcodes/`: posts
/// call them with the same syntax.
fn add_shortcodes(plan: &mut Plan, src: &Path, theme: Option<&str>) {
    let own = Path::new("templates").join("shortcodes");
    let mut folders = vec![own];
    if let Some(theme) = theme.filter(|t| !t.contains(['/', '\\']) && *t != "..") {
        folders.push(Path::new("themes").join(theme).join("templates/shortcodes"));
    }
    let mut taken: Vec<std::ffi::OsString> = Vec::new();
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(src.join(&folder)) else {
            continue;
        };
        let mut names: Vec<std::ffi::OsString> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.file_name())
            .collect();
        names.sort();
        for name in names {
            let shortcode = Path::new(&name)
                .extension()
                .is_some_and(|e| e == "html" || e == "md");
            if !shortcode || taken.contains(&name) {
                continue;
            }
            let to = Path::new(render::site::TEMPLATES_DIR)
                .join(render::site::shortcodes::DIR)
                .join(&name);
            plan.files.push((folder.join(&name), to));
            taken.push(name);
        }
    }
}

/// A section's front matter (`DIR/_index.md` under `content`), empty when there is none.
fn section_front(content: &Path, dir: &Path) -> toml::Table {
    let text = std::fs::read_to_string(content.join(dir).join("_index.md")).unwrap_or_default();
    let text = text.trim_start();
    text.strip_prefix("+++")
        .and_then(|rest| rest.split("\n+++").next())
        .and_then(|front| front.parse().ok())
        .unwrap_or_default()
}

fn sorts_by_date(front: &toml::Table) -> bool {
    front.get("sort_by").and_then(|v| v.as_str()) == Some("date")
}

/// Every folder under `content` (relative, the top one as ""), depth-first.
fn walk_sections(content: &Path) -> impl Iterator<Item = PathBuf> + '_ {
    let mut stack = vec![PathBuf::new()];
    std::iter::from_fn(move || {
        let dir = stack.pop()?;
        for entry in std::fs::read_dir(content.join(&dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            if entry.file_type().is_ok_and(|t| t.is_dir()) && stack.len() < 10_000 {
                stack.push(dir.join(entry.file_name()));
            }
        }
        Some(dir)
    })
}

/// Whether the page at `rel` (under `content`) is listed by a section sorted by date (Zola's
/// blog shape): the nearest section above it that is not `transparent` (a transparent section
/// hands its pages to its parent) has `sort_by = "date"`.
fn listed_by_date(content: &Path, rel: &Path) -> bool {
    let mut dir = rel.parent().map(Path::to_path_buf).unwrap_or_default();
    // A bundle (`post/index.md`) belongs to the section above its folder.
    if rel
        .file_stem()
        .and_then(|s| s.to_str())
        .is_some_and(|s| s == "index" || s.starts_with("index."))
    {
        dir.pop();
    }
    loop {
        let front = section_front(content, &dir);
        let transparent = front.get("transparent").and_then(|v| v.as_bool()) == Some(true);
        if !transparent || !dir.pop() {
            return sorts_by_date(&front);
        }
    }
}

/// The URL Zola gave the page at `rel` under `content/`.
fn old_url(rel: &Path, front: &FrontMatter, default_language: &str) -> Option<String> {
    let (lang, _) = language_of(rel);
    let lang = lang.filter(|l| l != default_language);
    let prefix = lang.map(|l| format!("/{l}")).unwrap_or_default();
    if let Some(path) = &front.url {
        // Zola ends every page's path with `/`, a dot in its last segment or not.
        let url = permalink::normalize(&format!("{prefix}/{}", path.trim_start_matches('/')))?;
        return Some(if url.ends_with('/') {
            url
        } else {
            format!("{url}/")
        });
    }
    let (stem, dirs) = content::stem_and_dirs(rel);
    let (_, undated) = name_parts(Path::new(&format!("{stem}.md")));
    let slug = front
        .slug
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(undated);
    let mut url = prefix;
    for dir in &dirs {
        url.push('/');
        url.push_str(dir);
    }
    url.push('/');
    url.push_str(&slugify(&slug));
    url.push('/');
    permalink::normalize(&url)
}
