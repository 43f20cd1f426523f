//! The Atom 1.0 feed (at `/feed.xml` unless `feed_paths` says otherwise): the newest posts with
//! full content, absolute URLs from `base_url`, everything XML-escaped. Entry ids are the post's
//! `entry_id`, else made as `feed_ids` says, so a blog that moves in keeps its readers' state.
//! A feed path ending in `.json` (an old site's `feed.json`) is a JSON Feed 1.1 of the same
//! posts with the same ids instead: its readers expect JSON there, not Atom.

use std::fmt::Write as _;

use jiff::Timestamp;

use super::config::{Config, FeedIds};
use super::pages::rfc3339;
use super::post::Post;
use super::text::{encode_path, xml_escape};

/// The feed's Content-Type.
pub(super) const CONTENT_TYPE: &str = "application/atom+xml; charset=utf-8";

/// A JSON Feed's Content-Type.
pub(super) const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// The feed at `path` of `posts` with its Content-Type: what `atom` gives (the [`atom`] feed of
/// them, which the caller may have made once for every path), or [`json`] for a `.json` path.
pub(super) fn at_path(
    path: &str,
    config: &Config,
    posts: &[Post],
    atom: impl FnOnce() -> String,
) -> (&'static str, String) {
    match path.ends_with(".json") {
        true => (JSON_CONTENT_TYPE, json(config, path, posts)),
        false => (CONTENT_TYPE, atom()),
    }
}

/// The newest `config.feed_entries` of `posts` (all when 0).
fn newest<'p>(config: &Config, posts: &'p [Post]) -> &'p [Post] {
    match config.feed_entries {
        0 => posts,
        n => &posts[..n.min(posts.len())],
    }
}

/// A JSON Feed 1.1 (jsonfeed.org) at `path` of `posts` (published, newest first), entries as
/// [`atom`] has them.
pub(super) fn json(config: &Config, path: &str, posts: &[Post]) -> String {
    let base = &config.base_url;
    let items: Vec<serde_json::Value> = newest(config, posts)
        .iter()
        .map(|post| {
            let mut item = serde_json::json!({
                "id": entry_id(config, post),
                "url": format!("{base}{}", encode_path(&post.path())),
                "title": post.title,
                "content_html": config.under_base_path(&post.html),
                "date_published": rfc3339(post.date.timestamp),
                "date_modified": rfc3339(post.updated_or_date()),
            });
            if !post.summary.is_empty() {
                item["summary"] = post.summary.clone().into();
            }
            if !post.tags.is_empty() {
                item["tags"] = post.tags.clone().into();
            }
            item
        })
        .collect();
    let author = if config.author.trim().is_empty() {
        &config.title
    } else {
        &config.author
    };
    let mut feed = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": config.title,
        "home_page_url": format!("{base}/"),
        "feed_url": format!("{base}{}", encode_path(path)),
        "language": config.language,
        "authors": [{ "name": author }],
        "items": items,
    });
    if !config.description.trim().is_empty() {
        feed["description"] = config.description.clone().into();
    }
    let mut out = serde_json::to_string_pretty(&feed).unwrap_or_default();
    out.push('\n');
    out
}

/// Renders the feed for `posts` (published, newest first), keeping the first
/// `config.feed_entries` (all when 0). `fallback_updated` is the feed's `<updated>` when there
/// are no posts.
pub(super) fn atom(config: &Config, posts: &[Post], fallback_updated: Timestamp) -> String {
    let posts = newest(config, posts);
    let base = &config.base_url;
    let updated = posts
        .iter()
        .map(Post::updated_or_date)
        .max()
        .unwrap_or(fallback_updated);
    let author = if config.author.trim().is_empty() {
        &config.title
    } else {
        &config.author
    };
    let mut out = String::with_capacity(
        1024 + posts
            .iter()
            .map(|p| p.html.len() * 5 / 4 + 512)
            .sum::<usize>(),
    );
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let _ = writeln!(
        out,
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">",
        xml_escape(&config.language)
    );
    let _ = writeln!(out, "  <title>{}</title>", xml_escape(&config.title));
    if !config.description.trim().is_empty() {
        let _ = writeln!(
            out,
            "  <subtitle>{}</subtitle>",
            xml_escape(&config.description)
        );
    }
    let _ = writeln!(out, "  <id>{}</id>", xml_escape(&format!("{base}/")));
    let _ = writeln!(
        out,
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
        xml_escape(&format!("{base}/"))
    );
    let _ = writeln!(
        out,
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>",
        xml_escape(&format!(
            "{base}{}",
            encode_path(
                config
                    .feed_paths
                    .first()
                    .map_or("/feed.xml", String::as_str)
            )
        ))
    );
    let _ = writeln!(out, "  <updated>{}</updated>", rfc3339(updated));
    let _ = writeln!(
        out,
        "  <author><name>{}</name></author>",
        xml_escape(author)
    );
    out.push_str("  <generator>forkblog</generator>\n");
    for post in posts {
        let url = xml_escape(&format!("{base}{}", encode_path(&post.path())));
        out.push_str("  <entry>\n");
        let _ = writeln!(
            out,
            "    <title type=\"text\">{}</title>",
            xml_escape(&post.title)
        );
        let _ = writeln!(
            out,
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{url}\"/>"
        );
        let _ = writeln!(out, "    <id>{}</id>", xml_escape(&entry_id(config, post)));
        let _ = writeln!(
            out,
            "    <published>{}</published>",
            rfc3339(post.date.timestamp)
        );
        let _ = writeln!(
            out,
            "    <updated>{}</updated>",
            rfc3339(post.updated_or_date())
        );
        for tag in &post.tags {
            let _ = writeln!(out, "    <category term=\"{}\"/>", xml_escape(tag));
        }
        if !post.summary.is_empty() {
            let _ = writeln!(
                out,
                "    <summary type=\"text\">{}</summary>",
                xml_escape(&post.summary)
            );
        }
        // xml:base makes the relative links of page bundles (`photo.png`) resolve in readers.
        let _ = writeln!(
            out,
            "    <content type=\"html\" xml:base=\"{url}\">{}</content>",
            xml_escape(&config.under_base_path(&post.html))
        );
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

/// The id of `post`'s feed entry: its `entry_id`, else as `config.feed_ids` says.
pub(super) fn entry_id(config: &Config, post: &Post) -> String {
    if let Some(id) = post.entry_id.as_deref().filter(|id| !id.trim().is_empty()) {
        return id.trim().to_string();
    }
    let base = &config.base_url;
    let path = post.path();
    match config.feed_ids {
        FeedIds::Url => format!("{base}{}", encode_path(&path)),
        FeedIds::Jekyll | FeedIds::JekyllPath => {
            // jekyll-feed: `post.id | absolute_url`, the post's folder (its URL up to the last
            // `/`, a trailing one dropped first) joined with its slug; without the site's `url`,
            // `absolute_url` gives the path under `baseurl` alone.
            let trimmed = path.strip_suffix('/').unwrap_or(&path);
            let folder = &trimmed[..trimmed.rfind('/').unwrap_or(0)];
            let site = match config.feed_ids {
                FeedIds::JekyllPath => config.base_path(),
                _ => base,
            };
            format!(
                "{site}{}",
                encode_path(&format!("{folder}/{}", post.name_slug))
            )
        }
    }
}
