//! The default theme's promises that need no browser: the sitemap dates posts as the feed
//! does, one `<h1>` per page, named navigation, labelled task-list boxes. (tests/browser.rs
//! runs axe-core on the sample blog in chromium.)

mod common;

use common::site::text;
use common::TempSite;

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

#[test]
fn pages_carry_open_graph_and_twitter_card_tags() {
    let t = blog();
    let site = t.site();
    let post = text(&site, "/posts/second/");
    for tag in [
        "<meta property=\"og:type\" content=\"article\">",
        "<meta property=\"og:title\" content=\"Second\">",
        "<meta property=\"og:description\" content=\"Text.\">",
        "<meta property=\"og:url\" content=\"https://blog.example/posts/second/\">",
        "<meta property=\"og:site_name\" content=\"Theme\">",
        "<meta name=\"twitter:card\" content=\"summary\">",
    ] {
        assert!(post.contains(tag), "{tag} not in\n{post}");
    }
    let home = text(&site, "/");
    assert!(home.contains("<meta property=\"og:type\" content=\"website\">"));
    // No description set: none claimed, and no empty one.
    assert!(!home.contains("og:description"), "{home}");
    assert!(!home.contains("name=\"description\""), "{home}");
    assert!(post.contains("<meta name=\"description\" content=\"Text.\">"));
}

#[test]
fn footnotes_link_back_to_their_reference() {
    let t = blog();
    t.file(
        "posts/2021-04-01-notes.md",
        "---\ntitle: Notes\n---\nA claim.[^1]\n\n[^1]: The source.\n",
    );
    let site = t.site();
    let page = text(&site, "/posts/notes/");
    assert!(
        page.contains("id=\"fnref-1\"><a href=\"#1\">1</a>"),
        "{page}"
    );
    assert!(
        page.contains("<a href=\"#fnref-1\" class=\"footnote-backref\">"),
        "{page}"
    );
}

#[test]
fn pages_are_listed_in_the_navigation_by_weight_then_title() {
    let t = blog();
    t.file("pages/about.md", "---\ntitle: About\nweight: 2\n---\nMe.\n")
        .file(
            "pages/contact.md",
            "---\ntitle: Contact\nweight: 1\n---\nMail.\n",
        )
        .file("pages/colophon.md", "---\ntitle: Colophon\n---\nTools.\n");
    let site = t.site();
    for path in ["/", "/posts/first/", "/about/"] {
        let page = text(&site, path);
        let nav = &page[page.find("<nav aria-label=\"Site\">").unwrap()..];
        let nav = &nav[..nav.find("</nav>").unwrap()];
        let order: Vec<usize> = [
            "/contact/\">Contact",
            "/about/\">About",
            "/colophon/\">Colophon",
        ]
        .iter()
        .map(|link| {
            nav.find(link)
                .unwrap_or_else(|| panic!("{link} not in {nav}"))
        })
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{path}: {nav}");
    }
    let broken = TempSite::new("theme-weight");
    broken.file("pages/x.md", "---\ntitle: X\nweight: first\n---\n");
    let problems = broken.build().problems;
    assert!(
        problems
            .iter()
            .any(|p| p.to_string().contains("x.md:3: `weight`")),
        "{problems:?}"
    );
}

#[test]
fn a_table_of_contents_only_when_asked_for() {
    let body =
        "Intro.\n\n## First part\n\nText.\n\n### A detail\n\nMore.\n\n## Second part\n\nEnd.\n";
    let t = blog();
    t.file(
        "posts/2021-05-01-long.md",
        format!("---\ntitle: Long\ntoc: true\n---\n{body}"),
    )
    .file(
        "posts/2021-05-02-plain.md",
        format!("---\ntitle: Plain\n---\n{body}"),
    );
    let site = t.site();
    let long = text(&site, "/posts/long/");
    let toc = &long[long
        .find("<nav class=\"toc\" aria-label=\"Contents\">")
        .expect("a toc")..];
    let toc = &toc[..toc.find("</nav>").unwrap()];
    for link in [
        "#first-part\">First part",
        "#a-detail\">A detail",
        "#second-part\">Second part",
    ] {
        assert!(toc.contains(link), "{link} not in {toc}");
    }
    assert!(long.contains("id=\"first-part\""));
    assert!(!text(&site, "/posts/plain/").contains("class=\"toc\""));

    // The setting turns it on for every post; a post's `toc: false` still wins.
    let all = blog();
    all.file(
        "forkblog.toml",
        "title = \"T\"\nbase_url = \"https://blog.example\"\ntoc = true\n",
    )
    .file(
        "posts/2021-05-01-long.md",
        format!("---\ntitle: Long\n---\n{body}"),
    )
    .file(
        "posts/2021-05-02-plain.md",
        format!("---\ntitle: Plain\ntoc: false\n---\n{body}"),
    );
    let site = all.site();
    assert!(text(&site, "/posts/long/").contains("class=\"toc\""));
    assert!(!text(&site, "/posts/plain/").contains("class=\"toc\""));
}

#[test]
fn images_beside_a_post_get_their_width_and_height() {
    let t = blog();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let svg = std::fs::read(repo.join("posts/2026-02-02-reaping-zombies/lifecycle.svg")).unwrap();
    t.file(
        "posts/2021-06-01-bundle/index.md",
        "---\ntitle: Bundle\n---\n![Life](lifecycle.svg)\n",
    )
    .file("posts/2021-06-01-bundle/lifecycle.svg", svg);
    let site = t.site();
    let page = text(&site, "/posts/bundle/");
    assert!(
        page.contains("<img width=\"560\" height=\"120\" src=\"lifecycle.svg\" alt=\"Life\""),
        "{page}"
    );
}

#[test]
fn a_post_with_an_image_previews_it() {
    let t = blog();
    t.file(
        "posts/2021-07-01-photo/index.md",
        "---\ntitle: Photo\n---\nText.\n\n![A view](view.png)\n",
    )
    .file("posts/2021-07-01-photo/view.png", b"not really a png");
    let site = t.site();
    let page = text(&site, "/posts/photo/");
    assert!(
        page.contains(
            "<meta property=\"og:image\" content=\"https://blog.example/posts/photo/view.png\">"
        ),
        "{page}"
    );
    assert!(page.contains("<meta name=\"twitter:card\" content=\"summary_large_image\">"));
    assert!(!text(&site, "/posts/second/").contains("og:image"));
}
