//! Raw HTML in posts: sanitised by default (no scripts, event handlers or `javascript:` URLs,
//! in pages and in the feed), published as written with `unsafe_html = true`; and the sample
//! blog, which uses no raw HTML, renders exactly as it did before sanitising existed.

mod common;

use std::path::Path;
use std::time::{Duration, SystemTime};

use common::site::text;
use common::TempSite;
use forkblog::site::Site;

/// A post carrying every kind of script injection the sanitiser must stop, next to Markdown
/// features it must keep.
const HOSTILE: &str = "---
title: Hostile
date: 2024-03-01
---
Intro with <script>alert('s1')</script> a script.

<img src=\"cat.png\" onerror=\"alert('s2')\">

[md link](javascript:alert('s3')) and <a href=\"JaVaScRiPt:alert('s4')\">raw link</a>
and <a href=\"java&#x09;script:alert('s5')\">tab link</a> and [ok](https://example.org/).

<iframe src=\"https://evil.example/\"></iframe><style>body{display:none}</style>

<div onclick=\"alert('s6')\" onmouseover=\"alert('s7')\">div text</div>

<svg onload=\"alert('s8')\"><circle r=\"1\"/></svg>

## Kept heading {#kept onclick=alert('s9')}

| left | right |
|:-----|------:|
| a    | b     |

- [x] done

```rust
fn main() {}
```

Note[^n].

[^n]: A footnote.
";

/// Every marker of an injection that got through. (The text between `<script>` tags is
/// Markdown text to pulldown-cmark, so it reaches the plain-text summary, escaped; in markup it
/// must not appear at all.)
const MARKERS: &[&str] = &[
    "s1",
    "s2",
    "s3",
    "s4",
    "s5",
    "s6",
    "s7",
    "s8",
    "s9",
    "<script",
    "onerror",
    "onclick",
    "onload",
    "onmouseover",
    "javascript:",
    "<iframe",
    "<style",
    "evil.example",
    "<svg",
];

/// The post's own HTML within its page.
fn article(page: &str) -> &str {
    let start = page.find("<article>").expect("an article");
    let end = page.find("</article>").expect("its end");
    &page[start..end]
}

fn hostile_site(settings: Option<&str>) -> (TempSite, Site) {
    let t = TempSite::new("html");
    t.file("posts/hostile.md", HOSTILE);
    // The image the post shows, beside it (a link to nothing would be a problem of its own).
    t.file("posts/cat.png", b"\x89PNG\r\n\x1a\n");
    if let Some(settings) = settings {
        t.file("forkblog.toml", settings);
    }
    let site = t.site();
    (t, site)
}

/// The feed's entry content, unescaped (what a feed reader renders).
fn feed_content(site: &Site) -> String {
    let feed = text(site, "/feed.xml");
    let doc = roxmltree::Document::parse(feed).expect("feed is XML");
    doc.descendants()
        .filter(|n| n.has_tag_name("content"))
        .map(|n| n.text().unwrap_or("").to_string())
        .collect()
}

#[test]
fn scripts_handlers_and_javascript_urls_are_removed_from_pages_and_feed() {
    let (_t, site) = hostile_site(None);
    let page = article(text(&site, "/posts/hostile/"));
    let feed = feed_content(&site);
    assert!(
        feed.contains("div text"),
        "the feed carries the post: {feed}"
    );
    for (what, html) in [("page", page), ("feed", feed.as_str())] {
        let lower = html.to_ascii_lowercase();
        for marker in MARKERS {
            assert!(!lower.contains(marker), "{marker} in the {what}:\n{html}");
        }
        // What is safe stays: text, links, images, and what Markdown itself writes.
        for kept in [
            "Intro with",
            "a script.",
            "<img src=\"cat.png\">",
            ">md link<",
            ">raw link<",
            "<a href=\"https://example.org/\">ok</a>",
            "div text",
            "<h2 id=\"kept\">Kept heading</h2>",
            "style=\"text-align:right\"",
            "type=\"checkbox\"",
            "class=\"language-rust\"",
            "class=\"footnote-definition\"",
        ] {
            assert!(
                html.contains(kept),
                "{kept:?} missing from the {what}:\n{html}"
            );
        }
    }
    // No page (index, tags, archive, the post's own head) carries any markup of it either.
    for r in site
        .resources
        .iter()
        .filter(|r| r.content_type.starts_with("text/html"))
    {
        let body = String::from_utf8_lossy(&r.body).to_ascii_lowercase();
        for marker in [
            "<script",
            "onerror",
            "onclick",
            "javascript:",
            "<iframe",
            "<svg",
        ] {
            assert!(!body.contains(marker), "{} carries {marker}", r.path);
        }
    }
}

#[test]
fn unsafe_html_publishes_raw_html_as_written() {
    let t = TempSite::new("html");
    t.file("posts/hostile.md", HOSTILE);
    t.file("posts/cat.png", b"\x89PNG\r\n\x1a\n");
    t.file("forkblog.toml", "unsafe_html = true\n");
    let build = t.build();
    // Published as written, the obfuscated `javascript:` link is also a link to nowhere, which
    // `check` names; nothing else is wrong.
    assert!(
        build
            .problems
            .iter()
            .all(|p| p.message.starts_with("broken link: java")),
        "{:#?}",
        build.problems
    );
    let site = build.site.expect("site builds");
    let page = text(&site, "/posts/hostile/");
    assert!(page.contains("<script>alert("), "{page}");
    assert!(page.contains("onerror=\"alert('s2')\""), "{page}");
    assert!(
        page.contains("<iframe src=\"https://evil.example/\">"),
        "{page}"
    );
    assert!(feed_content(&site).contains("<script>alert("));

    let t = TempSite::new("html-bad-setting");
    t.file("forkblog.toml", "unsafe_html = \"yes\"\n");
    let build = t.build();
    assert!(build.site.is_none());
    assert!(build.problems[0].to_string().contains("unsafe_html"));
}

/// The sample blog rendered with `unsafe_html` set to `flag`, its settings file dated `mtime`
/// so that both renders carry the same dates.
fn sample(flag: bool, mtime: SystemTime) -> Site {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let t = TempSite::new("html-sample");
    for folder in ["posts", "templates"] {
        copy_tree(&repo.join(folder), &t.path(folder));
    }
    let settings = std::fs::read_to_string(repo.join("forkblog.toml")).unwrap();
    t.file(
        "forkblog.toml",
        format!("{settings}\nunsafe_html = {flag}\n"),
    );
    std::fs::File::options()
        .write(true)
        .open(t.path("forkblog.toml"))
        .and_then(|f| f.set_modified(mtime))
        .unwrap();
    t.site()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
            let mtime = entry.metadata().unwrap().modified().unwrap();
            std::fs::File::options()
                .write(true)
                .open(&target)
                .and_then(|f| f.set_modified(mtime))
                .unwrap();
        }
    }
}

#[test]
fn the_sample_blog_renders_byte_for_byte_as_before() {
    // It holds no raw HTML, so the sanitiser has nothing to do and does not run: the pages are
    // what pulldown-cmark wrote, exactly as with `unsafe_html = true`.
    let mtime = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    let raw = sample(true, mtime);
    let clean = sample(false, mtime);
    assert_eq!(raw.resources.len(), clean.resources.len());
    for (a, b) in raw.resources.iter().zip(&clean.resources) {
        assert_eq!(a.path, b.path);
        assert!(a.body == b.body, "{} differs", a.path);
    }
    // As pulldown-cmark spells them (the sanitiser would write `<input ...>` and `text-align:right`).
    for written in [
        "type=\"checkbox\" disabled=\"\" aria-label=",
        "style=\"text-align: right\"",
    ] {
        assert!(
            clean
                .resources
                .iter()
                .any(|r| String::from_utf8_lossy(&r.body).contains(written)),
            "{written}"
        );
    }
}
