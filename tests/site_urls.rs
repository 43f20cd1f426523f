//! Old URLs keep answering: permalink patterns, per-post URLs, redirects from old addresses,
//! feeds at the names other generators used, and entry ids that do not change.

mod common;

use common::site::{get, text};
use common::TempSite;
use forkblog::site::redirect;

/// Whether `path` is answered: a page or file, or a redirect to one.
fn answers(site: &forkblog::site::Site, path: &str) -> Option<String> {
    let resource = get(site, path)?;
    match redirect::target(resource) {
        Some(to) => get(site, &to).map(|_| to),
        None => Some(path.to_string()),
    }
}

#[test]
fn per_post_permalink_redirect_from_and_aliases_all_answer() {
    let t = TempSite::new("urls");
    t.file(
        "posts/2009-05-19-t.md",
        "---\ntitle: T\npermalink: /2009/05/19/t.html\nredirect_from: [/old/]\naliases: [\"/older/\"]\n---\nBody.\n",
    );
    let site = t.site();
    let page = get(&site, "/2009/05/19/t.html").expect("served at its permalink");
    assert!(page.content_type.starts_with("text/html"));
    assert!(
        redirect::target(page).is_none(),
        "the post itself is no redirect"
    );
    assert!(std::str::from_utf8(&page.body)
        .unwrap()
        .contains("<h1>T</h1>"));
    for old in ["/old/", "/older/", "/2009/05/19/t"] {
        let r = get(&site, old).unwrap_or_else(|| panic!("{old} not answered"));
        assert_eq!(
            redirect::target(r).as_deref(),
            Some("/2009/05/19/t.html"),
            "{old} must redirect to the post"
        );
    }
    assert!(
        get(&site, "/posts/t/").is_none(),
        "no second copy at the default URL"
    );
    let redirects = site.redirects();
    assert!(redirects.contains(&("/old/", "/2009/05/19/t.html".to_string())));
    // The sitemap lists the post, not its redirects.
    let map = text(&site, "/sitemap.xml");
    assert!(map.contains("/2009/05/19/t.html</loc>"), "{map}");
    assert!(!map.contains("/old/"), "{map}");
    assert!(text(&site, "/").contains("href=\"/2009/05/19/t.html\""));
}

#[test]
fn site_permalink_pattern_places_every_post_and_equal_slugs_do_not_clash() {
    let t = TempSite::new("pattern");
    t.file(
        "forkblog.toml",
        "permalink = \"/:categories/:year/:month/:day/:title.html\"\n",
    )
    .file(
        "posts/2019-04-25-Hello-World.md",
        "---\ntitle: Hi\ncategories: [Code]\n---\nx\n",
    )
    .file("posts/2020-01-01-same.md", "---\ntitle: A\n---\nx\n")
    .file("posts/2021-01-01-same.md", "---\ntitle: B\n---\nx\n")
    .file(
        "posts/2021-02-01-pic/index.md",
        "---\ntitle: P\n---\n![](p.png)\n",
    )
    .file("posts/2021-02-01-pic/p.png", b"\x89PNG");
    let site = t.site();
    assert_eq!(site.post_count, 4);
    for path in [
        "/code/2019/04/25/Hello-World.html",
        "/2020/01/01/same.html",
        "/2021/01/01/same.html",
        "/2021/02/01/pic.html",
        "/2021/02/01/p.png",
    ] {
        assert_eq!(answers(&site, path).as_deref(), Some(path), "{path}");
    }
}

#[test]
fn two_posts_claiming_one_url_clash() {
    let t = TempSite::new("clash");
    t.file(
        "posts/a.md",
        "---\ntitle: A\ndate: 2020-01-02\nurl: /x/\n---\nx\n",
    )
    .file(
        "posts/b.md",
        "---\ntitle: B\ndate: 2020-01-01\npermalink: /x\n---\nx\n",
    );
    let build = t.build();
    assert_eq!(build.site.expect("site").post_count, 1);
    assert_eq!(build.problems.len(), 1, "{:#?}", build.problems);
    assert!(build.problems[0].message.contains("/x/"));
}

#[test]
fn zola_path_gives_url_and_date() {
    let t = TempSite::new("zola-path");
    t.file(
        "posts/a.md",
        "+++\ntitle = \"A\"\npath = \"2019/09/30/a\"\naliases = [\"old-a\"]\n+++\nx\n",
    );
    let site = t.site();
    let page = text(&site, "/2019/09/30/a/");
    assert!(page.contains("datetime=\"2019-09-30T00:00:00Z\""), "{page}");
    assert_eq!(answers(&site, "/old-a/").as_deref(), Some("/2019/09/30/a/"));
}

#[test]
fn feed_served_at_configured_paths_with_stable_ids() {
    let t = TempSite::new("feeds");
    t.file(
        "forkblog.toml",
        "base_url = \"https://b.example\"\npermalink = \"/:year/:month/:day/:title.html\"\nfeed_paths = [\"/atom.xml\", \"/feed.xml\"]\nfeed_ids = \"jekyll\"\n",
    )
    .file("posts/2009-05-19-t.md", "---\ntitle: T\n---\nx\n")
    .file(
        "posts/2009-05-20-u.md",
        "---\ntitle: U\nentry_id: tag:b.example,2009:u\n---\nx\n",
    );
    let site = t.site();
    let atom = text(&site, "/atom.xml");
    assert_eq!(atom, text(&site, "/feed.xml"));
    assert!(
        atom.contains("<id>https://b.example/2009/05/19/t</id>"),
        "{atom}"
    );
    assert!(atom.contains("<id>tag:b.example,2009:u</id>"), "{atom}");
    assert!(
        atom.contains("href=\"https://b.example/atom.xml\""),
        "{atom}"
    );
    assert!(text(&site, "/").contains("href=\"/atom.xml\""));
}

#[test]
fn undated_post_is_reported_by_name() {
    let t = TempSite::new("undated");
    t.file("posts/nodate.md", "# No date\n");
    let build = t.build();
    assert_eq!(build.site.expect("site").post_count, 1);
    assert_eq!(build.problems.len(), 1, "{:#?}", build.problems);
    assert!(build.problems[0].file.ends_with("posts/nodate.md"));
    assert!(build.problems[0].message.contains("no date"));
}
