//! Reading a Jekyll site: `_config.yml`, posts in `_posts/` (and `CATEGORY/_posts/`), pages
//! (Markdown or HTML with front matter outside `_` folders), and every other file served as it
//! is. Old URLs follow Jekyll's rules: the post's own `permalink`, else the site's pattern
//! (`date` style by default) filled from the file name, front matter and folder categories.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{dest, front_of, has_front_matter, is_markdown, read_settings, text_of, Item, Plan};
use render::site::config::FeedIds;
use render::site::date::PostDate;
use render::site::permalink::{self, Facts};
use render::site::post::name_parts;
use render::site::text::slugify;

/// Jekyll's named permalink styles.
fn style(name: &str) -> Option<&'static str> {
    match name {
        "date" => Some("/:categories/:year/:month/:day/:title:output_ext"),
        "pretty" => Some("/:categories/:year/:month/:day/:title/"),
        "none" => Some("/:categories/:title:output_ext"),
        _ => None,
    }
}

/// Files at the top of a Jekyll site that are tooling, not content.
const TOOLING: &[&str] = &[
    "Gemfile",
    "Gemfile.lock",
    "Rakefile",
    "README.md",
    "README",
    "LICENSE",
    "LICENSE.md",
    "CNAME",
    "package.json",
    "package-lock.json",
    "node_modules",
    "vendor",
];

/// Settings read from `_config.yml` (the rest is noted as not carried).
const USED: &[&str] = &[
    "title",
    "description",
    "author",
    "url",
    "baseurl",
    "permalink",
    "lang",
    "locale",
    "paginate",
    "plugins",
    "gems",
    "feed",
    "timezone",
];

/// Lays out the import of the Jekyll site at `src`.
pub(crate) fn plan(src: &Path) -> Result<Plan, String> {
    let mut plan = Plan::default();
    let config_name = Path::new("_config.yml");
    let (text, config) = read_settings(&src.join(config_name))?
        .or(read_settings(&src.join("_config.yaml"))?)
        .unwrap_or_else(|| (String::new(), Value::Null));
    super::note_unused_keys(&mut plan, config_name, &text, &config, USED);
    let s = &mut plan.settings;
    s.title = text_of(&config, "title");
    s.description = text_of(&config, "description");
    s.author = text_of(&config, "author");
    s.language = text_of(&config, "lang").or_else(|| text_of(&config, "locale"));
    s.posts_per_page = config
        .get("paginate")
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n > 0);
    let baseurl = text_of(&config, "baseurl")
        .map(|b| format!("/{}", b.trim_matches('/')))
        .filter(|b| b != "/");
    // The site lives under `baseurl` (Jekyll serves its output there and `relative_url` adds
    // it): forkblog's base_url holds it, and puts every page, file and link under it; the
    // paths below are the site's own, without it. Without `url:`, the loopback default's.
    let url = text_of(&config, "url").map(|u| u.trim_end_matches('/').to_string());
    plan.settings.base_url = match (url, &baseurl) {
        (url, Some(base)) => Some(format!(
            "{}{base}",
            url.unwrap_or_else(|| render::site::config::Config::default().base_url)
        )),
        (url, None) => url,
    };
    // A `posts` collection's own pattern wins over the site's.
    let collection_pattern = config
        .get("collections")
        .and_then(|c| c.get("posts"))
        .and_then(|p| p.get("permalink"))
        .and_then(Value::as_str);
    let jekyll_pattern =
        match collection_pattern.or(config.get("permalink").and_then(Value::as_str)) {
            Some(p) => style(p)
                .map(str::to_string)
                .unwrap_or_else(|| p.to_string()),
            None => style("date").unwrap_or_default().to_string(),
        };
    if permalink::validate(&jekyll_pattern).is_ok() {
        plan.settings.permalink = Some(jekyll_pattern.clone());
    } else {
        plan.note(
            config_name,
            super::key_line(&text, "permalink"),
            format!(
                "permalink {jekyll_pattern:?} has no forkblog equivalent; each post keeps its \
                 old URL in its own front matter"
            ),
        );
    }
    // Pages follow the site's permalink style too: `pretty` (or a pattern ending in `/`)
    // gives `about.md` the URL `/about/`, the others `/about.html`.
    let pretty_pages = match config.get("permalink").and_then(Value::as_str) {
        Some("pretty") => true,
        None | Some("date" | "ordinal" | "weekdate" | "none") => false,
        Some(pattern) => pattern.ends_with('/'),
    };
    // Jekyll reads dates into the site's `timezone` (else the build machine's: UTC on the usual
    // hosts).
    let zone = match text_of(&config, "timezone") {
        None => jiff::tz::TimeZone::UTC,
        Some(name) => jiff::tz::TimeZone::get(&name).unwrap_or_else(|_| {
            plan.note(
                config_name,
                super::key_line(&text, "timezone"),
                format!("timezone {name} unknown here: post URL days taken in UTC"),
            );
            jiff::tz::TimeZone::UTC
        }),
    };
    let plugins: Vec<String> = ["plugins", "gems"]
        .iter()
        .filter_map(|k| config.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    if plugins.iter().any(|p| p == "jekyll-feed") {
        let path = config
            .get("feed")
            .and_then(|f| f.get("path"))
            .and_then(Value::as_str)
            .unwrap_or("/feed.xml");
        plan.settings
            .feed_paths
            .push(format!("/{}", path.trim_start_matches('/')));
        // Its ids are `absolute_url`s: paths alone when the site set no `url`.
        plan.settings.feed_ids = Some(match text_of(&config, "url") {
            Some(_) => FeedIds::Jekyll,
            None => FeedIds::JekyllPath,
        });
    }
    for plugin in &plugins {
        if ![
            "jekyll-feed",
            "jekyll-redirect-from",
            "jekyll-sitemap",
            "jekyll-seo-tag",
        ]
        .contains(&plugin.as_str())
        {
            plan.note(
                config_name,
                super::key_line(&text, "plugins").or(super::key_line(&text, "gems")),
                format!("plugin {plugin} not carried"),
            );
        }
    }

    let mut noted_dirs: Vec<String> = Vec::new();
    for dest::SourceFile { rel, parts } in dest::walk(src, &mut plan) {
        if let Some(at) = parts.iter().position(|p| p == "_posts") {
            let categories: Vec<String> = parts[..at].to_vec();
            let under: PathBuf = parts[at + 1..].iter().collect();
            let mut to = PathBuf::from(render::site::POSTS_DIR);
            to.extend(&categories);
            to.push(&under);
            let full = src.join(&rel);
            if is_markdown(&rel)
                || (has_front_matter(&full) && rel.extension().is_some_and(|e| e == "html"))
            {
                let old_url = old_post_url(&full, &jekyll_pattern, &categories, &zone);
                if old_url.is_none() {
                    plan.note(
                        &rel,
                        None,
                        "Jekyll did not publish it (no date in its file name)",
                    );
                }
                plan.items.push(Item {
                    from: rel,
                    to,
                    old_url,
                });
            } else {
                plan.files.push((rel, to));
            }
            continue;
        }
        let top = parts.first().cloned().unwrap_or_default();
        if TOOLING.contains(&top.as_str()) || rel == config_name || rel == Path::new("_config.yaml")
        {
            continue;
        }
        if top.starts_with('_') {
            if !noted_dirs.contains(&top) {
                noted_dirs.push(top.clone());
                let what = match top.as_str() {
                    "_drafts" => "drafts are not published; not carried",
                    "_layouts" | "_includes" | "_sass" => {
                        "theme files not carried: forkblog's templates apply (see templates/)"
                    }
                    "_data" | "_plugins" => "not carried (no forkblog equivalent)",
                    "_site" => "Jekyll's output; not needed",
                    _ => "collection or folder not carried",
                };
                plan.note(Path::new(&top), None, what);
            }
            continue;
        }
        let full = src.join(&rel);
        let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let front = has_front_matter(&full);
        // A `feed.json` is a JSON Feed: forkblog serves one of the same posts there.
        let feed_names = ["feed.xml", "atom.xml", "rss.xml", "index.xml", "feed.json"];
        if front && feed_names.contains(&name) {
            let path = format!("/{}", parts.join("/"));
            if !plan.settings.feed_paths.contains(&path) {
                plan.settings.feed_paths.push(path);
            }
            plan.note(
                &rel,
                None,
                "feed template replaced by forkblog's feed at this path",
            );
            continue;
        }
        if front && (name == "index.html" || name == "index.md") && parts.len() == 1 {
            plan.note(&rel, None, "home page replaced by forkblog's index");
            continue;
        }
        if front && (is_markdown(&rel) || name.ends_with(".html")) {
            let old_url = old_page_url(&full, &parts, pretty_pages);
            let mut to = PathBuf::from(render::site::PAGES_DIR);
            to.push(&rel);
            plan.items.push(Item {
                from: rel,
                to,
                old_url: Some(old_url),
            });
            continue;
        }
        if front {
            if let Some(folder) = section_feed_folder(src, &parts) {
                plan.settings
                    .section_feeds
                    .push((format!("/{}", parts.join("/")), folder));
                plan.note(
                    &rel,
                    None,
                    "feed template replaced by forkblog's Atom feed of the same posts at this path",
                );
                continue;
            }
            plan.note(
                &rel,
                None,
                "file with front matter (Liquid or Sass) not carried",
            );
            continue;
        }
        let mut to = PathBuf::from(render::site::TEMPLATES_DIR).join("root");
        to.push(&rel);
        plan.files.push((rel, to));
    }
    Ok(plan)
}

/// For a feed template (`.rss`, `.xml`, `.atom` with front matter) at `DIR/feeds/NAME.rss` or
/// `DIR/NAME.xml`, the folder of the posts it lists when `DIR/NAME/_posts/` exists (the shape
/// of a site with a news feed per language): that folder under `posts/`.
fn section_feed_folder(src: &Path, parts: &[String]) -> Option<String> {
    let (name, dirs) = parts.split_last()?;
    let (stem, ext) = name.rsplit_once('.')?;
    if !["rss", "xml", "atom"].contains(&ext) {
        return None;
    }
    let dirs = match dirs.split_last() {
        Some((last, above)) if last == "feeds" => above,
        _ => dirs,
    };
    let mut folder: Vec<&str> = dirs.iter().map(String::as_str).collect();
    folder.push(stem);
    let joined = folder.join("/");
    src.join(&joined).join("_posts").is_dir().then_some(joined)
}

/// The URL Jekyll gave the post at `path`, or `None` if it was not published.
fn old_post_url(
    path: &Path,
    pattern: &str,
    folder_categories: &[String],
    zone: &jiff::tz::TimeZone,
) -> Option<String> {
    let front = front_of(path).unwrap_or_default();
    if front.draft {
        return None;
    }
    let (name_date, name) = name_parts(path);
    let date: PostDate = front.date.or(name_date)?;
    // A date written with an offset lands on the site zone's day; one without is the zone's
    // own time, its day as written.
    let date = if front.date.is_some() && date_has_offset(path) {
        PostDate {
            timestamp: date.timestamp,
            day: date.timestamp.to_zoned(zone.clone()).date(),
        }
    } else {
        date
    };
    let name = front
        .slug
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(name);
    let mut categories: Vec<String> = folder_categories.to_vec();
    for c in &front.categories {
        if !categories.contains(c) {
            categories.push(c.clone());
        }
    }
    let slug = slugify(&name);
    let title = permalink::jekyll_title(&name);
    let facts = Facts {
        slug: &slug,
        title: &title,
        date,
        categories: &categories,
        section: "",
    };
    let own = front.url.as_deref().map(|u| {
        if u.contains(':') {
            permalink::expand(u, &facts)
        } else {
            u.to_string()
        }
    });
    let url = own.unwrap_or_else(|| permalink::expand(pattern, &facts));
    permalink::normalize(&url)
}

/// Whether the front matter's `date:` is written with a UTC offset or `Z` after its time.
fn date_has_offset(path: &Path) -> bool {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let Some(value) = text
        .lines()
        .skip(1)
        .take_while(|l| l.trim_end() != "---")
        .find_map(|l| l.strip_prefix("date:"))
    else {
        return false;
    };
    let value = value.trim().trim_matches(['"', '\'']);
    // After `YYYY-MM-DD`, a time, then `Z`, `+hh...` or `-hh...`.
    value.get(10..).is_some_and(|time| {
        let time = time.trim_start_matches(['T', ' ']);
        time.contains(['Z', '+']) || time.get(1..).is_some_and(|t| t.contains('-'))
    })
}

/// The URL Jekyll gave a page: its own `permalink`, else its path with `.md` as `.html`, or
/// with `pretty` the path's folder and name (`about.md`, `about.html`: `/about/`).
fn old_page_url(path: &Path, parts: &[String], pretty: bool) -> String {
    let front = front_of(path).unwrap_or_default();
    let own = front.url.filter(|u| !u.contains(':'));
    let url = match own {
        Some(u) => u,
        None => {
            let joined = parts.join("/");
            let joined = match joined.rsplit_once('.') {
                Some((stem, ext))
                    if ext.eq_ignore_ascii_case("md") || ext.eq_ignore_ascii_case("markdown") =>
                {
                    format!("{stem}.html")
                }
                _ => joined,
            };
            let joined = match joined.strip_suffix("index.html") {
                Some(folder) => folder.to_string(),
                None if pretty => match joined.strip_suffix(".html") {
                    Some(name) => format!("{name}/"),
                    None => joined,
                },
                None => joined,
            };
            format!("/{joined}")
        }
    };
    permalink::normalize(&url).unwrap_or_else(|| "/".into())
}
