//! The feed, the sitemap, robots.txt, tag pages, and escaping everywhere.

mod common;

use common::site::{get, text};
use common::TempSite;

const ATOM: &str = "http://www.w3.org/2005/Atom";

fn blog() -> TempSite {
    let t = TempSite::new("feed");
    t.file("forkblog.toml", "title = \"Feed test\"\nbase_url = \"https://blog.example\"\nauthor = \"Ada\"\n")
        .file("posts/2021-01-01-first.md", "---\ntitle: First\ntags: [alpha, beta]\n---\nFirst post.\n")
        .file("posts/2021-02-01-second.md", "---\ntitle: Second\ntags: [alpha]\nupdated: 2021-03-01T12:00:00Z\n---\nSecond <em>post</em> & more.\n")
        .file("posts/2021-03-01-third.md", "---\ntitle: Third\ntags: beta\n---\nThird post.\n")
        .file("posts/2021-04-01-draft.md", "---\ntitle: Draft\ntags: [alpha]\ndraft: true\n---\nno\n");
    t
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|n| n.has_tag_name((ATOM, name)))
}

#[test]
fn feed_is_atom_with_one_entry_per_published_post() {
    let t = blog();
    let site = t.site();
    let feed = get(&site, "/feed.xml").expect("feed served");
    assert_eq!(feed.content_type, "application/atom+xml; charset=utf-8");
    let xml = std::str::from_utf8(&feed.body).unwrap();
    let doc = roxmltree::Document::parse(xml).expect("feed is well-formed XML");
    let root = doc.root_element();
    assert!(root.has_tag_name((ATOM, "feed")), "root is an Atom feed");
    for required in ["id", "title", "updated", "author"] {
        assert!(child(root, required).is_some(), "feed has no <{required}>");
    }
    assert_eq!(child(root, "title").unwrap().text(), Some("Feed test"));
    let entries: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name((ATOM, "entry")))
        .collect();
    assert_eq!(entries.len(), 3, "one entry per published post");
    let titles: Vec<_> = entries
        .iter()
        .map(|e| child(*e, "title").and_then(|t| t.text()).unwrap_or(""))
        .collect();
    assert_eq!(
        titles,
        ["Third", "Second", "First"],
        "newest first, no draft"
    );
    for entry in &entries {
        let id = child(*entry, "id").and_then(|n| n.text()).unwrap_or("");
        assert!(
            id.starts_with("https://blog.example/posts/"),
            "absolute id: {id}"
        );
        let link = child(*entry, "link")
            .and_then(|n| n.attribute("href"))
            .unwrap_or("");
        assert_eq!(link, id);
        let updated = child(*entry, "updated")
            .and_then(|n| n.text())
            .unwrap_or("");
        assert!(
            updated.parse::<jiff::Timestamp>().is_ok(),
            "updated is RFC 3339: {updated}"
        );
    }
    let second = entries[1];
    assert_eq!(
        child(second, "updated").and_then(|n| n.text()),
        Some("2021-03-01T12:00:00Z")
    );
    assert_eq!(
        child(second, "published").and_then(|n| n.text()),
        Some("2021-02-01T00:00:00Z")
    );
    let content = child(second, "content").expect("content");
    assert_eq!(content.attribute("type"), Some("html"));
    // The HTML is escaped in the XML and comes back intact from the parser.
    assert!(
        content
            .text()
            .unwrap_or("")
            .contains("<p>Second <em>post</em> &amp; more.</p>"),
        "{:?}",
        content.text()
    );
    assert_eq!(
        child(root, "updated").and_then(|n| n.text()),
        Some("2021-03-01T12:00:00Z"),
        "feed updated = newest entry"
    );
}

#[test]
fn feed_keeps_the_configured_number_of_entries() {
    let t = blog();
    t.file(
        "forkblog.toml",
        "base_url = \"https://blog.example\"\nfeed_entries = 2\n",
    );
    let site = t.site();
    let doc = roxmltree::Document::parse(text(&site, "/feed.xml")).unwrap();
    assert_eq!(
        doc.root_element()
            .children()
            .filter(|n| n.has_tag_name((ATOM, "entry")))
            .count(),
        2
    );
}

#[test]
fn sitemap_lists_every_public_page_and_nothing_else() {
    let t = blog();
    let site = t.site();
    let doc =
        roxmltree::Document::parse(text(&site, "/sitemap.xml")).expect("sitemap is well-formed");
    let ns = "http://www.sitemaps.org/schemas/sitemap/0.9";
    assert!(doc.root_element().has_tag_name((ns, "urlset")));
    let mut locs: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name((ns, "loc")))
        .filter_map(|n| n.text().map(String::from))
        .collect();
    let mut pages: Vec<String> = site
        .resources
        .iter()
        .filter(|r| r.path.ends_with('/'))
        .map(|r| format!("https://blog.example{}", r.path))
        .collect();
    locs.sort();
    pages.sort();
    assert_eq!(locs, pages);
    for expected in [
        "/",
        "/posts/first/",
        "/posts/second/",
        "/posts/third/",
        "/tags/",
        "/tags/alpha/",
        "/tags/beta/",
        "/archive/",
    ] {
        assert!(
            locs.contains(&format!("https://blog.example{expected}")),
            "{expected} missing from sitemap"
        );
    }
    assert!(!locs.iter().any(|l| l.contains("draft")));
}

#[test]
fn robots_txt_points_to_the_sitemap_unless_the_site_has_its_own() {
    let t = blog();
    let site = t.site();
    let robots = get(&site, "/robots.txt").expect("robots.txt");
    assert_eq!(robots.content_type, "text/plain; charset=utf-8");
    assert!(std::str::from_utf8(&robots.body)
        .unwrap()
        .contains("Sitemap: https://blog.example/sitemap.xml"));
    t.file("templates/root/robots.txt", "User-agent: *\nDisallow: /\n");
    let site = t.site();
    assert_eq!(text(&site, "/robots.txt"), "User-agent: *\nDisallow: /\n");
}

#[test]
fn tag_pages_list_exactly_their_posts() {
    let t = blog();
    let site = t.site();
    let alpha = text(&site, "/tags/alpha/");
    assert!(alpha.contains("/posts/first/") && alpha.contains("/posts/second/"));
    assert!(!alpha.contains("/posts/third/") && !alpha.contains("draft"));
    let beta = text(&site, "/tags/beta/");
    assert!(beta.contains("/posts/first/") && beta.contains("/posts/third/"));
    assert!(!beta.contains("/posts/second/"));
    let tags = text(&site, "/tags/");
    assert!(
        tags.contains("href=\"/tags/alpha/\">alpha</a> <span class=\"count\">(2)</span>"),
        "{tags}"
    );
    let tag_pages = site
        .resources
        .iter()
        .filter(|r| r.path.starts_with("/tags/") && r.path != "/tags/")
        .count();
    assert_eq!(tag_pages, 2);
}

#[test]
fn titles_and_tags_are_escaped_in_html_and_xml() {
    let t = TempSite::new("escape");
    let title = "<script>alert(\"x\")</script> & 'quotes'";
    t.file(
        "posts/evil.md",
        format!("---\ntitle: {}\ndate: 2020-01-01\ntags: [\"a<b & \\\"c\\\"\"]\ndescription: \"<img src=x onerror=alert(1)>\"\n---\nBody.\n", serde_json::to_string(title).unwrap()),
    );
    let site = t.site();
    for resource in site
        .resources
        .iter()
        .chain(std::iter::once(&site.not_found))
    {
        let body = String::from_utf8_lossy(&resource.body);
        assert!(
            !body.contains("<script>"),
            "{} has an unescaped title",
            resource.path
        );
        assert!(
            !body.contains("<img src=x"),
            "{} has an unescaped description",
            resource.path
        );
        assert!(
            !body.contains("a<b"),
            "{} has an unescaped tag",
            resource.path
        );
    }
    let page = text(&site, "/posts/evil/");
    assert!(
        page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;"),
        "{page}"
    );
    assert!(text(&site, "/tags/").contains("a&lt;b &amp; &quot;c&quot;"));
    let feed =
        roxmltree::Document::parse(text(&site, "/feed.xml")).expect("feed stays well-formed");
    let entry_title = feed
        .descendants()
        .find(|n| n.has_tag_name((ATOM, "entry")))
        .and_then(|e| child(e, "title"))
        .and_then(|n| n.text());
    assert_eq!(entry_title, Some(title));
    let term = feed
        .descendants()
        .find(|n| n.has_tag_name((ATOM, "category")))
        .and_then(|n| n.attribute("term"));
    assert_eq!(term, Some("a<b & \"c\""));
}
