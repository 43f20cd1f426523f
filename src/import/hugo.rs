//! Reading a Hugo site: `hugo.toml` / `config.toml` (or YAML / JSON), `content/` and
//! `static/`. Old URLs follow Hugo's rules: the page's `url`, else the section's pattern in
//! `[permalinks]`, else `/<folders>/<slug or file name>/`, lower-cased.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::{content, read_settings, text_of, Plan};
use crate::site::date::PostDate;
use crate::site::frontmatter::FrontMatter;
use crate::site::permalink;
use crate::site::text::slugify;

const USED: &[&str] = &[
    "baseURL",
    "baseurl",
    "title",
    "languageCode",
    "defaultContentLanguage",
    "permalinks",
    "params",
    "author",
    "paginate",
    "disablePathToLower",
];

const CONFIG_NAMES: &[&str] = &[
    "hugo.toml",
    "hugo.yaml",
    "hugo.yml",
    "hugo.json",
    "config.toml",
    "config.yaml",
    "config.yml",
    "config.json",
];

/// Lays out the import of the Hugo site at `src`.
pub fn plan(src: &Path) -> Result<Plan, String> {
    let mut plan = Plan::default();
    let mut found = None;
    for name in CONFIG_NAMES {
        if let Some(read) = read_settings(&src.join(name))? {
            found = Some((Path::new(name), read));
            break;
        }
    }
    let (config_name, (text, config)) = found.ok_or_else(|| {
        format!(
            "{}: no hugo.toml or config.toml; is this a Hugo site?",
            src.display()
        )
    })?;
    super::note_unused_keys(&mut plan, config_name, &text, &config, USED);
    let s = &mut plan.settings;
    s.title = text_of(&config, "title");
    s.base_url = text_of(&config, "baseURL")
        .or_else(|| text_of(&config, "baseurl"))
        .map(|u| u.trim_end_matches('/').to_string());
    s.language =
        text_of(&config, "languageCode").or_else(|| text_of(&config, "defaultContentLanguage"));
    let params = config.get("params").cloned().unwrap_or(Value::Null);
    s.description = text_of(&params, "description");
    s.author = text_of(&config, "author").or_else(|| text_of(&params, "author"));
    s.posts_per_page = config
        .get("paginate")
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n > 0);
    s.permalink = Some("/:section/:slug/".into());
    s.feed_paths = vec!["/index.xml".into(), "/feed.xml".into()];
    let patterns: HashMap<String, String> = config
        .get("permalinks")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let lower = config.get("disablePathToLower").and_then(Value::as_bool) != Some(true);
    let old_url = move |rel: &Path, front: &FrontMatter| old_url(rel, front, &patterns, lower);
    content::add(
        &mut plan,
        src,
        is_source,
        &old_url,
        &[
            "layouts",
            "themes",
            "assets",
            "archetypes",
            "resources",
            "public",
            "data",
            "i18n",
        ],
    );
    Ok(plan)
}

fn is_source(rel: &Path) -> bool {
    super::is_markdown(rel) || rel.extension().is_some_and(|e| e == "html")
}

/// The URL Hugo gave the page at `rel` under `content/`.
fn old_url(
    rel: &Path,
    front: &FrontMatter,
    patterns: &HashMap<String, String>,
    lower: bool,
) -> Option<String> {
    if let Some(url) = &front.url {
        return permalink::normalize(url);
    }
    let (stem, dirs) = content::stem_and_dirs(rel);
    let title_slug = front
        .title
        .as_deref()
        .map(slugify)
        .unwrap_or_else(|| slugify(&stem));
    let slug = front.slug.clone().filter(|s| !s.trim().is_empty());
    let section = dirs.first().cloned().unwrap_or_default();
    let url = match (patterns.get(&section), front.date) {
        (Some(pattern), Some(date)) => {
            hugo_pattern(pattern, &stem, slug.as_deref(), &title_slug, &section, date)
        }
        _ => {
            let mut url = String::new();
            for dir in &dirs {
                url.push('/');
                url.push_str(dir);
            }
            url.push('/');
            url.push_str(&slug.unwrap_or(stem).replace(' ', "-"));
            url.push('/');
            url
        }
    };
    let url = if lower { url.to_lowercase() } else { url };
    permalink::normalize(&url)
}

/// Fills a Hugo `[permalinks]` pattern.
fn hugo_pattern(
    pattern: &str,
    stem: &str,
    slug: Option<&str>,
    title_slug: &str,
    section: &str,
    date: PostDate,
) -> String {
    let day = date.day;
    let pairs = [
        (":year", format!("{:04}", day.year())),
        (":month", format!("{:02}", day.month())),
        (":day", format!("{:02}", day.day())),
        (
            ":slugorfilename",
            slug.map(str::to_string).unwrap_or_else(|| stem.to_string()),
        ),
        (
            ":slug",
            slug.map(str::to_string)
                .unwrap_or_else(|| title_slug.to_string()),
        ),
        (":title", title_slug.to_string()),
        (":filename", stem.to_string()),
        (":contentbasename", stem.to_string()),
        (":section", section.to_string()),
    ];
    let mut out = pattern.to_string();
    for (key, value) in pairs {
        out = out.replace(key, &value);
    }
    if !out.ends_with('/') && !out.contains('.') {
        out.push('/');
    }
    out
}
