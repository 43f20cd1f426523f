//! Posts as other blog engines write them: Jekyll, Zola/Hugo, plain Markdown, page bundles.

mod common;

use common::site::{get, serves_any, text};
use common::TempSite;

#[test]
fn jekyll_post_renders_with_title_date_and_url_from_its_file_name() {
    let t = TempSite::new("jekyll");
    t.file(
        "posts/2015-03-01-some-title.md",
        "---\nlayout: post\ntitle: \"Some Title\"\npublished: true\ncomments: true\ncategories: notes\n---\n\nHello from **Jekyll**.\n",
    );
    let site = t.site();
    assert_eq!(site.post_count, 1);
    let page = text(&site, "/posts/some-title/");
    assert!(page.contains("<h1>Some Title</h1>"), "{page}");
    assert!(page.contains("datetime=\"2015-03-01T00:00:00Z\""), "{page}");
    assert!(page.contains("1 March 2015"));
    assert!(page.contains("<strong>Jekyll</strong>"));
    // Jekyll categories become tags too.
    assert!(text(&site, "/tags/notes/").contains("/posts/some-title/"));
    assert!(text(&site, "/").contains("href=\"/posts/some-title/\""));
}

#[test]
fn jekyll_date_with_zone_in_front_matter_wins_over_file_name() {
    let t = TempSite::new("jekyll-zone");
    t.file(
        "posts/2015-03-01-x.md",
        "---\ntitle: X\ndate: 2015-03-02 10:00:00 +0100\n---\nx\n",
    );
    let site = t.site();
    let page = text(&site, "/posts/x/");
    assert!(page.contains("datetime=\"2015-03-02T09:00:00Z\""), "{page}");
    assert!(page.contains("2 March 2015"));
}

#[test]
fn zola_toml_post_renders_with_title_date_tags_and_slug() {
    let t = TempSite::new("zola");
    t.file(
        "posts/zola-post.md",
        "+++\ntitle = \"From Zola\"\ndate = 2020-05-01T10:00:00+02:00\nupdated = 2020-06-01\nslug = \"custom-slug\"\n\n[taxonomies]\ntags = [\"static\", \"toml\"]\n\n[extra]\nlayout = \"x\"\n+++\n\nBody.\n",
    );
    let site = t.site();
    assert!(
        get(&site, "/posts/zola-post/").is_none(),
        "slug from front matter must win"
    );
    let page = text(&site, "/posts/custom-slug/");
    assert!(page.contains("<h1>From Zola</h1>"));
    assert!(page.contains("datetime=\"2020-05-01T08:00:00Z\""), "{page}");
    assert!(page.contains("Updated"));
    assert!(text(&site, "/tags/toml/").contains("/posts/custom-slug/"));
}

#[test]
fn drafts_and_unpublished_posts_are_nowhere() {
    let t = TempSite::new("drafts");
    t.file(
        "posts/public.md",
        "---\ntitle: Public\ndate: 2020-01-01\ntags: [t]\n---\nok\n",
    )
    .file(
        "posts/draft.md",
        "---\ntitle: Secret Draft\ndate: 2020-01-02\ntags: [t]\ndraft: true\n---\nno\n",
    )
    .file(
        "posts/2020-01-03-hidden.md",
        "---\ntitle: Secret Hidden\npublished: false\ntags: [t]\n---\nno\n",
    )
    .file(
        "posts/bundled-draft/index.md",
        "---\ntitle: Secret Bundle\ndraft: true\n---\n![](pic.png)\n",
    )
    .file("posts/bundled-draft/pic.png", b"\x89PNG");
    let site = t.site();
    assert_eq!(site.post_count, 1);
    for path in ["draft", "hidden", "bundled-draft", "pic.png"] {
        assert!(!serves_any(&site, path), "{path} is served");
    }
    for resource in &site.resources {
        let body = String::from_utf8_lossy(&resource.body);
        assert!(
            !body.contains("Secret"),
            "{} mentions a draft",
            resource.path
        );
    }
    assert!(text(&site, "/feed.xml").contains("Public"));
}

#[test]
fn post_without_front_matter_takes_its_setext_title() {
    let t = TempSite::new("setext");
    t.file(
        "posts/2020-01-01-plain-notes.md",
        "Plain Notes & Thoughts\n======================\n\nNo front matter here.\n\n## Section\n",
    );
    let site = t.site();
    let page = text(&site, "/posts/plain-notes/");
    assert!(
        page.contains("<h1>Plain Notes &amp; Thoughts</h1>"),
        "{page}"
    );
    assert!(page.contains("<title>Plain Notes &amp; Thoughts — forkblog</title>"));
    assert_eq!(
        page.matches("<h1").count(),
        1,
        "title heading must not be repeated in the body"
    );
    assert!(page.contains("<h2 id=\"section\">Section</h2>"));
    assert!(text(&site, "/").contains("Plain Notes &amp; Thoughts"));
}

#[test]
fn post_without_front_matter_takes_an_atx_title() {
    let t = TempSite::new("atx");
    t.file("posts/2020-01-01-atx.md", "# ATX *Title*\n\nText.\n");
    let site = t.site();
    assert!(text(&site, "/posts/atx/").contains("<h1>ATX Title</h1>"));
}

#[test]
fn page_bundles_serve_their_files_beside_the_post() {
    let t = TempSite::new("bundle");
    t.file(
        "posts/2021/2021-05-01-trip/index.md",
        "---\ntitle: Trip\ndate: 2021-07-01\n---\n![photo](photo.png) ![map](img/map.jpg)\n",
    )
    .file(
        "posts/2021/2021-05-01-trip/photo.png",
        b"\x89PNG\r\n\x1a\nfake",
    )
    .file("posts/2021/2021-05-01-trip/img/map.jpg", b"\xff\xd8\xff")
    .file("posts/loose/2020-01-01-one.md", "# One\n")
    .file("posts/loose/2020-01-02-two.md", "# Two\n")
    .file("posts/loose/shared.gif", b"GIF89a");
    let site = t.site();
    let page = text(&site, "/posts/trip/");
    assert!(page.contains("src=\"photo.png\""));
    let photo = get(&site, "/posts/trip/photo.png").expect("bundle image served");
    assert_eq!(photo.content_type, "image/png");
    assert_eq!(&photo.body[..], b"\x89PNG\r\n\x1a\nfake");
    assert_eq!(
        get(&site, "/posts/trip/img/map.jpg")
            .expect("nested")
            .content_type,
        "image/jpeg"
    );
    // A folder with two posts is no bundle: its files keep their place under /posts/.
    assert_eq!(
        get(&site, "/posts/loose/shared.gif")
            .expect("shared file")
            .content_type,
        "image/gif"
    );
}

#[test]
fn index_is_paginated_newest_first() {
    let t = TempSite::new("pages");
    t.file("forkblog.toml", "posts_per_page = 2\n");
    for day in 1..=5 {
        t.file(
            &format!("posts/2020-01-0{day}-post-{day}.md"),
            format!("---\ntitle: Post number {day}\n---\nx\n"),
        );
    }
    let site = t.site();
    let first = text(&site, "/");
    assert!(first.find("Post number 5").unwrap() < first.find("Post number 4").unwrap());
    assert!(!first.contains("Post number 3"));
    assert!(first.contains("href=\"/page/2/\""));
    assert!(text(&site, "/page/2/").contains("Post number 3"));
    let last = text(&site, "/page/3/");
    assert!(last.contains("Post number 1") && !last.contains("Post number 2"));
    assert!(get(&site, "/page/4/").is_none());
    assert!(get(&site, "/page/1/").is_none(), "page 1 is /");
    let archive = text(&site, "/archive/");
    assert!(archive.contains("2020") && archive.matches("/posts/post-").count() == 5);
}

#[test]
fn settings_file_is_optional_and_used_when_present() {
    let t = TempSite::new("settings");
    t.file("posts/2020-01-01-a.md", "# A\n");
    assert!(text(&t.site(), "/").contains("<title>forkblog</title>"));
    t.file(
        "forkblog.toml",
        "title = \"Ada's <Notes>\"\nbase_url = \"https://notes.example/\"\nauthor = \"Ada\"\n",
    );
    let site = t.site();
    assert!(text(&site, "/").contains("<title>Ada&#39;s &lt;Notes&gt;</title>"));
    assert!(text(&site, "/robots.txt").contains("Sitemap: https://notes.example/sitemap.xml"));
}

#[test]
fn static_files_get_their_content_types() {
    let t = TempSite::new("static");
    t.file("posts/2020-01-01-a.md", "# A\n");
    for (name, body) in [
        ("app.js", "x"),
        ("font.woff2", "x"),
        ("favicon.ico", "x"),
        ("doc.pdf", "x"),
        ("pic.webp", "x"),
        ("style.css", "body{}"),
    ] {
        t.file(&format!("templates/static/{name}"), body);
    }
    let site = t.site();
    let ct = |p: &str| {
        get(&site, p)
            .map(|r| r.content_type.clone())
            .unwrap_or_default()
    };
    assert_eq!(ct("/static/app.js"), "text/javascript; charset=utf-8");
    assert_eq!(ct("/static/font.woff2"), "font/woff2");
    assert_eq!(ct("/static/favicon.ico"), "image/x-icon");
    assert_eq!(ct("/static/doc.pdf"), "application/pdf");
    assert_eq!(ct("/static/pic.webp"), "image/webp");
    assert_eq!(
        text(&site, "/static/style.css"),
        "body{}",
        "the site's stylesheet replaces the built-in one"
    );
}

#[test]
fn unicode_tags_get_encoded_links() {
    let t = TempSite::new("unicode");
    t.file(
        "posts/a.md",
        "---\ntitle: Café\ndate: 2020-01-01\ntags: [Café, café]\n---\nx\n",
    );
    let site = t.site();
    assert!(text(&site, "/tags/café/").contains("/posts/a/"));
    assert!(text(&site, "/posts/a/").contains("href=\"/tags/caf%C3%A9/\""));
    assert_eq!(
        text(&site, "/tags/").matches("/tags/caf%C3%A9/").count(),
        1,
        "Café and café are one tag"
    );
}
