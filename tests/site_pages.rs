//! What other generators' sites hold besides dated posts: pages, folder index files,
//! Zola sections and translations, Hugo HTML content, files beside single-file posts, and the
//! dates those generators accept.

mod common;

use common::site::{get, text};
use common::TempSite;

#[test]
fn pages_folder_and_root_folder_index_answer_at_folder_paths() {
    let t = TempSite::new("pages");
    t.file("posts/2020-01-01-a.md", "# A\n")
        .file("pages/about.md", "---\ntitle: About me\n---\nHello.\n")
        .file("pages/projects/index.md", "# Projects\n\nList.\n")
        .file("pages/cv.pdf", b"%PDF")
        .file(
            "pages/contact.md",
            "---\ntitle: Contact\npermalink: /contact.html\n---\nMail.\n",
        )
        .file("templates/root/now/index.html", "<p>now</p>");
    let site = t.site();
    assert_eq!(site.post_count, 1, "pages are not posts");
    let about = text(&site, "/about/");
    assert!(
        about.contains("<h1>About me</h1>") && about.contains("Hello."),
        "{about}"
    );
    assert!(!about.contains("<time"), "pages carry no date: {about}");
    assert!(text(&site, "/projects/").contains("<h1>Projects</h1>"));
    assert!(text(&site, "/contact.html").contains("Mail."));
    assert!(get(&site, "/cv.pdf").is_some());
    assert_eq!(text(&site, "/now/"), "<p>now</p>");
    // Not among the posts (the navigation links them: see site_theme.rs).
    let home = text(&site, "/");
    let posts = &home[home.find("<main>").unwrap()..];
    assert!(!posts.contains("About me"), "pages are not listed");
}

#[test]
fn zola_sections_and_translations() {
    let t = TempSite::new("zola-i18n");
    t.file("posts/_index.md", "+++\ntitle = \"TempSite\"\n+++\n")
        .file("posts/_index.ca.md", "+++\ntitle = \"Bloc\"\n+++\n")
        .file(
            "posts/p/index.md",
            "+++\ntitle = \"Post\"\ndate = 2020-01-01\n+++\n![](pic.png)\n",
        )
        .file(
            "posts/p/index.ca.md",
            "+++\ntitle = \"Entrada\"\ndate = 2020-01-01\n+++\nHola.\n",
        )
        .file("posts/p/pic.png", b"\x89PNG");
    let site = t.site();
    assert_eq!(
        site.post_count, 1,
        "sections are no posts, translations not listed"
    );
    assert!(text(&site, "/posts/p/").contains("<h1>Post</h1>"));
    assert!(text(&site, "/ca/posts/p/").contains("<h1>Entrada</h1>"));
    assert!(
        get(&site, "/posts/p/pic.png").is_some(),
        "the bundle's file stays beside it"
    );
    assert!(!text(&site, "/").contains("Bloc"));
}

#[test]
fn hugo_html_content_is_a_post_without_its_front_matter() {
    let t = TempSite::new("hugo-html");
    t.file(
        "posts/page.html",
        "---\ntitle: From HTML\ndate: 2018-02-03\n---\n<p>Raw <b>html</b></p>\n\n<p>two</p>\n",
    )
    .file("posts/plain.html", "<p>served as it is</p>");
    let site = t.site();
    let page = text(&site, "/posts/page/");
    assert!(page.contains("<p>Raw <b>html</b></p>"), "{page}");
    assert!(!page.contains("title: From HTML"), "{page}");
    assert_eq!(text(&site, "/posts/plain.html"), "<p>served as it is</p>");
}

#[test]
fn image_beside_a_single_file_post_is_served_where_its_link_points() {
    let t = TempSite::new("beside");
    t.file("posts/2020-01-01-one.md", "# One\n\n![](shot.png)\n")
        .file("posts/2020-01-02-two.md", "# Two\n")
        .file("posts/shot.png", b"\x89PNG");
    let site = t.site();
    assert!(get(&site, "/posts/one/shot.png").is_some());
    assert!(get(&site, "/posts/shot.png").is_some());
}

#[test]
fn jekyll_date_with_single_digit_hour() {
    let t = TempSite::new("date-hour");
    t.file(
        "posts/x.md",
        "---\ntitle: X\ndate: 2019-04-25 9:00:00\n---\nx\n",
    )
    .file(
        "posts/y.md",
        "---\ntitle: Y\ndate: 2023-01-29 18:30:22 2023 -0800\n---\ny\n",
    );
    let site = t.site();
    assert!(text(&site, "/posts/x/").contains("datetime=\"2019-04-25T09:00:00Z\""));
    assert!(text(&site, "/posts/y/").contains("datetime=\"2023-01-30T02:30:22Z\""));
}

#[test]
fn zola_path_date_wins_over_a_fresh_mtime() {
    let t = TempSite::new("zola-mtime");
    t.file(
        "posts/a.md",
        "+++\ntitle = \"A\"\npath = \"2019/09/30/a\"\n+++\nx\n",
    )
    .file(
        "posts/b.md",
        "+++\ntitle = \"B\"\npath = \"2018/01/02/b\"\n+++\nx\n",
    );
    // Written just now: a fresh mtime that must not be used.
    let site = t.site();
    let index = text(&site, "/");
    let (a, b) = (
        index.find("/2019/09/30/a/").unwrap(),
        index.find("/2018/01/02/b/").unwrap(),
    );
    assert!(a < b, "newest first by the path's date");
    assert!(text(&site, "/2019/09/30/a/").contains("30 September 2019"));
}

#[test]
fn check_reports_broken_internal_links_and_images_with_lines() {
    let t = TempSite::new("broken-links");
    t.file(
        "posts/2020-01-01-a.md",
        "---\ntitle: A\n---\nFine: [b](/posts/b/), [b again](../b), [tags](/tags/), [out](https://x.org/missing).\n\n![gone](missing.png)\n\n[nowhere](/no/such/page/#part)\n",
    )
    .file("posts/2020-01-02-b.md", "# B\n");
    let build = t.build();
    let found: Vec<String> = build.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].ends_with("posts/2020-01-01-a.md:6: broken link: missing.png (no page or file at /posts/a/missing.png)"), "{found:#?}");
    assert!(
        found[1].contains("2020-01-01-a.md:8: broken link: /no/such/page/#part"),
        "{found:#?}"
    );
}
