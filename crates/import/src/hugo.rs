//! Reading a Hugo site: `hugo.toml` / `config.toml` (or YAML / JSON), or the configuration
//! folder `config/_default/` (one file per key, `hugo.toml` / `params.toml` ...) merged with
//! `config/production/`; `content/` (or each language's `contentDir`) and `static/`. Old URLs
//! follow Hugo's rules: the page's `url`, else the section's pattern in `[permalinks]`, else
//! `/<folders>/<slug or file name>/` (`.html` with `uglyURLs`), lower-cased, under `/<lang>/`
//! for a language other than the default; disabled languages are not published.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::shortcodes::{logical, site_value, Hugo};
use super::{content, read_settings, text_of, Plan};
use render::site::date::PostDate;
use render::site::frontmatter::FrontMatter;
use render::site::permalink;

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
    "uglyURLs",
    "languages",
    "disableLanguages",
    "defaultContentLanguageInSubdir",
    "contentDir",
    "theme",
    "frontmatter",
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
pub(crate) fn plan(src: &Path) -> Result<Plan, String> {
    let mut plan = Plan::default();
    let mut found = None;
    for name in CONFIG_NAMES {
        if let Some(read) = read_settings(&src.join(name))? {
            found = Some((PathBuf::from(name), read));
            break;
        }
    }
    if let Some(merged) = config_folder(src)? {
        found = Some(match found {
            // Both: the folder's keys win over the root file's, as in Hugo.
            Some((name, (text, mut root))) => {
                merge(&mut root, merged.1);
                (name, (text, root))
            }
            None => (merged.0, (String::new(), merged.1)),
        });
    }
    let (config_name, (text, config)) = found.ok_or_else(|| {
        format!(
            "{}: no hugo.toml, config.toml or config/_default/; is this a Hugo site?",
            src.display()
        )
    })?;
    let config_name = config_name.as_path();
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
    let ugly = config.get("uglyURLs").and_then(Value::as_bool) == Some(true);
    let languages = Languages::of(&config);
    // `[frontmatter] date = [":filename", ...]`: a `2024-07-15-title.md` name gives the date
    // and, without its date, the slug.
    let filename_dates = config
        .get("frontmatter")
        .and_then(|f| f.get("date"))
        .and_then(Value::as_array)
        .is_some_and(|list| list.iter().any(|v| v.as_str() == Some(":filename")));
    let rules = Rules {
        filename_dates,
        patterns,
        lower,
        ugly,
        languages: languages.clone(),
    };
    let old_url = move |rel: &Path, front: &FrontMatter| old_url(rel, front, &rules);
    let feed_languages = languages.clone();
    let content_dir = src.join("content");
    let is_post = move |rel: &Path| {
        // A regular page in a section (Hugo's home feed lists every regular page); a file at the
        // top of a language's content folder is a page.
        let (lang, under) = languages.split(rel);
        languages.prefix(lang.as_deref())?;
        if !rendered(&content_dir.join(rel)) {
            return None;
        }
        Some(under.components().count() > 1)
    };
    content::add(
        &mut plan,
        src,
        is_source,
        &is_post,
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
    plan.hugo = Some(shortcode_site(
        src,
        &config,
        &plan.items,
        &feed_languages,
        lower,
    ));
    // Hugo publishes an RSS feed per section at `/SECTION/index.xml`.
    for item in &plan.items {
        let Ok(to) = item.to.strip_prefix(render::site::POSTS_DIR) else {
            continue;
        };
        let Ok(rel) = item.from.strip_prefix("content") else {
            continue;
        };
        let (lang, under) = feed_languages.split(rel);
        let Some(prefix) = feed_languages.prefix(lang.as_deref()) else {
            continue;
        };
        let Some(section) = under.iter().next().and_then(|s| s.to_str()) else {
            continue;
        };
        let depth = under.components().count();
        let folder: Vec<String> = to
            .iter()
            .take(to.components().count().saturating_sub(depth - 1))
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let feed = (
            format!("{prefix}/{}/index.xml", section.to_lowercase()),
            folder.join("/"),
        );
        if !plan.settings.section_feeds.contains(&feed) {
            plan.settings.section_feeds.push(feed);
        }
    }
    Ok(plan)
}

fn is_source(rel: &Path) -> bool {
    super::is_markdown(rel) || rel.extension().is_some_and(|e| e == "html")
}

/// The site's languages: each one's content folder (under `content/` or the site), which are
/// disabled, the default, and whether the default is served under its own prefix too.
#[derive(Debug, Clone, Default)]
struct Languages {
    /// (language, content folder relative to `content/`, disabled); a folder of "" is
    /// `content/` itself.
    list: Vec<(String, String, bool)>,
    default: String,
    default_in_subdir: bool,
}

impl Languages {
    fn of(config: &Value) -> Languages {
        let default = text_of(config, "defaultContentLanguage").unwrap_or_else(|| "en".into());
        let disabled: Vec<String> = config
            .get("disableLanguages")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let mut list = Vec::new();
        if let Some(map) = config.get("languages").and_then(Value::as_object) {
            for (lang, settings) in map {
                let dir = text_of(settings, "contentDir").unwrap_or_default();
                let dir = dir.trim_matches('/');
                let dir = dir.strip_prefix("content").unwrap_or(dir).trim_matches('/');
                let off = disabled.contains(lang)
                    || settings.get("disabled").and_then(Value::as_bool) == Some(true);
                list.push((lang.to_ascii_lowercase(), dir.to_string(), off));
            }
        }
        Languages {
            list,
            default,
            default_in_subdir: config
                .get("defaultContentLanguageInSubdir")
                .and_then(Value::as_bool)
                == Some(true),
        }
    }

    /// The language of the file at `rel` (under `content/`), from its content folder or its
    /// name (`post.zh.md`), and its path under that language's content folder.
    fn split(&self, rel: &Path) -> (Option<String>, PathBuf) {
        // A language in the file name wins over the folder's.
        let (named, _) = render::site::post::language_of(rel);
        for (lang, dir, _) in &self.list {
            if !dir.is_empty() {
                if let Ok(under) = rel.strip_prefix(dir) {
                    return (named.or(Some(lang.clone())), under.to_path_buf());
                }
            }
        }
        (named, rel.to_path_buf())
    }

    /// The URL prefix of `lang`, or `None` when the language is not published.
    fn prefix(&self, lang: Option<&str>) -> Option<String> {
        let lang = lang.unwrap_or(&self.default);
        let known = self.list.iter().find(|(l, _, _)| l == lang);
        if known.is_some_and(|(_, _, off)| *off)
            || (known.is_none() && !self.list.is_empty() && lang != self.default)
        {
            return None;
        }
        Some(if lang == self.default && !self.default_in_subdir {
            String::new()
        } else {
            format!("/{lang}")
        })
    }
}

/// How the site made its URLs.
struct Rules {
    filename_dates: bool,
    patterns: HashMap<String, String>,
    lower: bool,
    ugly: bool,
    languages: Languages,
}

/// Hugo's `urlize` of a title: spaces as `-`, letters, digits and `._-~+#%/` kept, the rest
/// dropped.
fn urlize(text: &str) -> String {
    let mut out = String::new();
    for c in text.trim().chars() {
        if c.is_whitespace() {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else if c.is_alphanumeric() || "._-~+#%".contains(c) {
            out.push(c);
        }
    }
    out
}

/// The URL Hugo gave the page at `rel` under `content/`; `None` when it was not published
/// (a disabled language).
fn old_url(rel: &Path, front: &FrontMatter, rules: &Rules) -> Option<String> {
    let (lang, rel) = rules.languages.split(rel);
    let prefix = rules.languages.prefix(lang.as_deref())?;
    if let Some(url) = &front.url {
        return permalink::normalize(&format!("{prefix}/{}", url.trim_start_matches('/')));
    }
    let (stem, dirs) = content::stem_and_dirs(&rel);
    let mut date = front.date;
    let stem = match render::site::post::name_parts(Path::new(&format!("{stem}.md"))) {
        (Some(named), rest) if rules.filename_dates => {
            date = Some(named);
            rest
        }
        _ => stem,
    };
    let title_slug = front
        .title
        .as_deref()
        .map(urlize)
        .unwrap_or_else(|| urlize(&stem));
    let slug = front.slug.clone().filter(|s| !s.trim().is_empty());
    let section = dirs.first().cloned().unwrap_or_default();
    let mut url = match (rules.patterns.get(&section), date) {
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
    if rules.ugly && url.ends_with('/') && url.len() > 1 {
        url.pop();
        url.push_str(".html");
    }
    let url = format!("{prefix}{url}");
    let url = if rules.lower { url.to_lowercase() } else { url };
    permalink::normalize(&url)
}

/// Whether Hugo writes the page at `path`: not when its front matter's `build` (`_build` before
/// Hugo 0.145) says `render = "never"` or `"link"` (a page that only appears in menus and lists).
fn rendered(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return true;
    };
    let value = front_value(&text);
    let render = value.as_ref().and_then(|v| {
        ["build", "_build"]
            .iter()
            .find_map(|k| v.get(*k))
            .and_then(|b| b.get("render"))
            .cloned()
    });
    !matches!(render, Some(Value::Bool(false)))
        && !matches!(
            render.as_ref().and_then(Value::as_str),
            Some("never" | "link" | "false")
        )
}

/// A content file's front matter (YAML or TOML) as a JSON value, when it has one that parses.
pub(super) fn front_value(text: &str) -> Option<Value> {
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let (delimiter, yaml) = match text.get(..3) {
        Some("---") => ("\n---", true),
        Some("+++") => ("\n+++", false),
        _ => return None,
    };
    let front = text[3..].split(delimiter).next()?;
    if yaml {
        serde_yaml_ng::from_str(front).ok()
    } else {
        front
            .parse::<toml::Table>()
            .ok()
            .and_then(|t| serde_json::to_value(t).ok())
    }
}

/// What carrying the site's shortcodes needs: `[params]`, every page's and section's old URL
/// by the path `ref` names it with, and the site's own shortcodes (its `layouts/` or its
/// theme's) whose template only prints a site value.
fn shortcode_site(
    src: &Path,
    config: &Value,
    items: &[super::Item],
    languages: &Languages,
    lower: bool,
) -> Hugo {
    let mut hugo = Hugo {
        params: config.get("params").cloned().unwrap_or(Value::Null),
        ..Hugo::default()
    };
    for item in items {
        let Ok(rel) = item.from.strip_prefix("content") else {
            continue;
        };
        let (_, under) = languages.split(rel);
        let dir = under.parent().map(|d| d.to_string_lossy().to_lowercase());
        hugo.dirs.insert(item.from.clone(), dir.unwrap_or_default());
        if let Some(url) = &item.old_url {
            hugo.pages
                .push((logical(&under.to_string_lossy()), url.clone()));
        }
    }
    // Sections (`_index.md`) are not carried, but `ref` names them: their old URL is their
    // folder's, under their language.
    let content = src.join("content");
    let mut stack = vec![PathBuf::new()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(content.join(&dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let rel = dir.join(entry.file_name());
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                if stack.len() < 10_000 {
                    stack.push(rel);
                }
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with("_index.") {
                continue;
            }
            let (lang, under) = languages.split(&rel);
            let Some(prefix) = languages.prefix(lang.as_deref()) else {
                continue;
            };
            let front = std::fs::read_to_string(entry.path())
                .ok()
                .and_then(|t| front_value(&t));
            let folder = under
                .parent()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            let url = match front.as_ref().and_then(|f| text_of(f, "url")) {
                Some(url) => format!("{prefix}/{}", url.trim_matches('/')),
                None if folder.is_empty() => prefix.clone(),
                None => format!("{prefix}/{folder}"),
            };
            let url = if lower { url.to_lowercase() } else { url };
            if let Some(url) = permalink::normalize(&format!("{}/", url.trim_end_matches('/'))) {
                hugo.pages.push((logical(&folder), url));
            }
        }
    }
    // Hugo's own built-ins come first: a template of the same name is the site's override.
    let theme = text_of(config, "theme");
    let mut folders = vec![
        PathBuf::from("layouts/shortcodes"),
        PathBuf::from("layouts/_shortcodes"),
    ];
    if let Some(theme) = theme.filter(|t| !t.contains(['/', '\\'])) {
        folders.push(Path::new("themes").join(&theme).join("layouts/shortcodes"));
        folders.push(Path::new("themes").join(&theme).join("layouts/_shortcodes"));
    }
    for folder in folders {
        for entry in std::fs::read_dir(src.join(folder))
            .into_iter()
            .flatten()
            .flatten()
        {
            let path = entry.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".html"))
            else {
                continue;
            };
            let value = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| site_value(&t, config));
            if let Some(value) = value {
                hugo.values.entry(name.to_string()).or_insert(value);
            }
        }
    }
    hugo
}

/// The configuration folder: `config/_default/*`, then `config/production/*` over it (what
/// `hugo` builds by default). A file named after a key (`params.toml`, `menus.en.toml`) holds
/// that key; `hugo.*` and `config.*` hold top-level keys.
fn config_folder(src: &Path) -> Result<Option<(PathBuf, Value)>, String> {
    let mut merged = Value::Object(Default::default());
    let mut first = None;
    for env in ["_default", "production"] {
        let dir = Path::new("config").join(env);
        let Ok(entries) = std::fs::read_dir(src.join(&dir)) else {
            continue;
        };
        let mut names: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        names.sort();
        for path in names {
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let Some((_, value)) = read_settings(&path)? else {
                continue;
            };
            first.get_or_insert_with(|| dir.join(path.file_name().unwrap_or_default()));
            // `menus.en.toml`: the key is the part before the first dot.
            let key = stem.split('.').next().unwrap_or(stem);
            let value = if key == "hugo" || key == "config" {
                value
            } else {
                let mut map = serde_json::Map::new();
                map.insert(key.to_string(), value);
                Value::Object(map)
            };
            merge(&mut merged, value);
        }
    }
    Ok(first.map(|name| (name, merged)))
}

/// Merges `over` into `base`, tables key by key.
fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (key, value) in over {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, over) => *base = over,
    }
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
