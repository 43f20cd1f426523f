//! Reading a Zola site: `config.toml`, `content/` and `static/`. Old URLs follow Zola's rules:
//! the page's `path`, else `/<section folders>/<slug>/` where the slug is the front matter's
//! `slug` or the file (or bundle folder) name without a date prefix; translations sit under
//! `/<lang>/`.

use std::path::Path;

use serde_json::Value;

use super::{content, read_settings, text_of, Plan};
use crate::site::frontmatter::FrontMatter;
use crate::site::permalink;
use crate::site::post::{language_of, name_parts};
use crate::site::text::slugify;

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
pub fn plan(src: &Path) -> Result<Plan, String> {
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
    content::add(
        &mut plan,
        src,
        is_source,
        &old_url,
        &["templates", "themes", "sass"],
    );
    Ok(plan)
}

fn is_source(rel: &Path) -> bool {
    super::is_markdown(rel)
}

/// The URL Zola gave the page at `rel` under `content/`.
fn old_url(rel: &Path, front: &FrontMatter, default_language: &str) -> Option<String> {
    let (lang, _) = language_of(rel);
    let lang = lang.filter(|l| l != default_language);
    let prefix = lang.map(|l| format!("/{l}")).unwrap_or_default();
    if let Some(path) = &front.url {
        return permalink::normalize(&format!("{prefix}/{}", path.trim_start_matches('/')));
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
