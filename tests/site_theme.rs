//! The default theme's promises that need no browser: the sitemap dates posts as the feed
//! does, one `<h1>` per page, named navigation, labelled task-list boxes. (tests/browser.rs
//! runs axe-core on the sample blog in chromium.)

mod common;

use common::site::{text, TempSite};

fn blog() -> TempSite {
    let t = TempSite::new("theme");
    t.file(
        "forkblog.toml",
        "title = \"Theme\"\nbase_url = \"https://blog.example\"\n",
    )
    .file(
        "posts/2021-01-01-first.md",
        "---\ntitle: First\ntags: [a]\n---\n- [x] done\n- [ ] to do\n",
    )
    .file(
        "posts/2021-02-01-second.md",
        "---\ntitle: Second\nupdated: 2021-03-05T12:00:00Z\n---\nText.\n",
    );
    t
}

#[test]
fn the_sitemap_dates_posts_by_updated_else_date_not_the_file() {
    let t = blog();
    let site = t.site();
    let map = text(&site, "/sitemap.xml");
    let entry = |path: &str| {
        let loc = format!("<loc>https://blog.example{path}</loc>");
        let at = map
            .find(&loc)
            .unwrap_or_else(|| panic!("{path} not in {map}"));
        map[at..map[at..].find("</url>").unwrap() + at].to_string()
    };
    assert!(
        entry("/posts/first/").contains("<lastmod>2021-01-01T"),
        "{map}"
    );
    assert!(
        entry("/posts/second/").contains("<lastmod>2021-03-05T12:00:00"),
        "{map}"
    );
}

#[test]
fn every_page_has_one_h1_and_named_navigation() {
    let t = blog();
    let site = t.site();
    for path in ["/", "/posts/first/", "/archive/", "/tags/", "/tags/a/"] {
        let page = text(&site, path);
        assert_eq!(page.matches("<h1").count(), 1, "{path}:\n{page}");
        let navs: Vec<&str> = page
            .match_indices("<nav")
            .map(|(at, _)| &page[at..at + page[at..].find('>').unwrap()])
            .collect();
        let named = navs
            .iter()
            .filter(|tag| tag.contains("aria-label=\""))
            .count();
        assert!(!navs.is_empty() && named == navs.len(), "{path}: {navs:?}");
    }
}

#[test]
fn task_list_boxes_are_labelled() {
    let t = blog();
    let site = t.site();
    let page = text(&site, "/posts/first/");
    assert!(page.contains("checked=\"\" aria-label=\"Done\""), "{page}");
    assert!(
        page.contains("disabled=\"\" aria-label=\"To do\""),
        "{page}"
    );
}
