//! The sample blog shipped in the repository builds cleanly and has the pages it promises.

use std::path::Path;

use forkblog::site;

fn sample() -> site::Site {
    let build = site::build(Path::new(env!("CARGO_MANIFEST_DIR")));
    assert!(
        build.problems.is_empty(),
        "sample blog has problems: {:#?}",
        build.problems
    );
    build.site.expect("sample blog builds")
}

fn body<'a>(site: &'a site::Site, path: &str) -> &'a str {
    let r = site
        .resources
        .iter()
        .find(|r| r.path == path)
        .unwrap_or_else(|| panic!("{path} not served"));
    std::str::from_utf8(&r.body).expect("utf-8")
}

#[test]
fn sample_blog_builds_with_every_kind_of_page() {
    let site = sample();
    assert_eq!(site.post_count, 5);
    for path in [
        "/",
        "/archive/",
        "/tags/",
        "/tags/unix/",
        "/feed.xml",
        "/sitemap.xml",
        "/robots.txt",
        "/static/style.css",
        "/static/favicon.svg",
        "/posts/why-fork-per-connection/",
        "/posts/reaping-zombies/",
        "/posts/reaping-zombies/lifecycle.svg",
        "/posts/rendering-before-the-first-request/",
    ] {
        assert!(
            site.resources.iter().any(|r| r.path == path),
            "{path} missing"
        );
    }
    let svg = site
        .resources
        .iter()
        .find(|r| r.path.ends_with(".svg"))
        .unwrap();
    assert_eq!(svg.content_type, "image/svg+xml");
    let css = site
        .resources
        .iter()
        .find(|r| r.path == "/static/style.css")
        .unwrap();
    assert_eq!(css.content_type, "text/css; charset=utf-8");
}

#[test]
fn sample_index_is_newest_first_without_the_draft() {
    let site = sample();
    let index = body(&site, "/");
    let newest = index.find("Back-pressure").expect("newest post listed");
    let oldest = index
        .find("Why fork per connection")
        .expect("oldest post listed");
    assert!(newest < oldest, "index is not newest first");
    assert!(
        !index.contains("keep-alive (draft)"),
        "draft listed on the index"
    );
    assert!(
        !site.resources.iter().any(|r| r.path.contains("keep-alive")),
        "draft served"
    );
}

#[test]
fn sample_post_has_rendered_markdown() {
    let site = sample();
    let post = body(&site, "/posts/file-descriptors-leak-quietly/");
    assert!(post.contains("<table>"));
    assert!(post.contains("class=\"language-rust\""));
    assert!(
        post.contains("<h2 id=\"count-them\">Count them</h2>"),
        "{post}"
    );
    assert!(post.contains("footnote-definition"));
    let bundle = body(&site, "/posts/reaping-zombies/");
    assert!(bundle.contains("src=\"lifecycle.svg\""));
    assert!(bundle.contains("type=\"checkbox\""));
}
