//! The render worker writes post pages into the snapshot as they are rendered (a batch at a
//! time, `site::PageStream`): what it serves must be exactly the site a whole build makes, and
//! a failure met half-way must not leave half a site.

mod common;

use common::TempSite;
use forkblog::render::worker::render_bytes;
use forkblog::server::render_job::{Preview, Strictness};
use forkblog::server::snapshot::View;

const POST_TEMPLATE: &str = "<!doctype html><html><head><title>{{ post.title }}</title></head>\
<body>{% if post.title == \"Poison\" %}{{ no_such_function() }}{% endif %}{{ post.content }}\
{% if newer %}<a href=\"{{ newer.url }}\">newer</a>{% endif %}</body></html>\n";

/// A site with more posts than one batch (1,024), links between them (some broken), tags and a
/// page.
fn site(posts: usize) -> TempSite {
    let site = TempSite::new("streamed");
    for i in 0..posts {
        let link = match i % 50 {
            0 => "[gone](/posts/no-such-post/)".to_string(),
            _ => format!("[previous](/posts/post-{:04}/)", i.saturating_sub(1)),
        };
        site.file(
            &format!("posts/post-{i:04}.md"),
            format!(
                "---\ntitle: Post {i}\ndate: 2024-01-{:02}\ntags: [t{}]\n---\nBody of {i}. {link}\n",
                1 + i % 28,
                i % 7
            ),
        );
    }
    site.file("pages/about.md", "---\ntitle: About\n---\nAbout.\n");
    site
}

fn snapshot(site: &TempSite) -> Result<Vec<u8>, String> {
    render_bytes(
        &site.root,
        Strictness::SkipBrokenPosts,
        Preview::default(),
        None,
    )
}

#[test]
fn the_streamed_snapshot_serves_exactly_the_whole_build() {
    let site = site(1100);
    let build = site.build();
    let whole = build.site.expect("builds");
    let broken = build
        .problems
        .iter()
        .filter(|p| p.message.contains("no-such-post"))
        .count();
    assert_eq!(
        broken, 22,
        "each broken link reported once: {:#?}",
        build.problems
    );
    let bytes = snapshot(&site).expect("renders");
    let view = View::new(&bytes);
    for resource in &whole.resources {
        let entry = view
            .lookup(resource.path.as_bytes())
            .unwrap_or_else(|| panic!("{} is not in the snapshot", resource.path));
        assert!(!resource.body.is_empty(), "{} has a body", resource.path);
        assert_eq!(entry.plain.body, resource.body, "{}", resource.path);
    }
    assert_eq!(
        view.not_found().expect("a 404 page").plain.body,
        whole.not_found.body
    );
    // Nothing more: the snapshot's index has one entry per resource and the 404 page.
    let count = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
    assert_eq!(count, whole.resources.len() + 1);
}

#[test]
fn a_template_error_on_a_late_post_page_fails_the_whole_render() {
    let site = site(1100);
    site.file("templates/post.html", POST_TEMPLATE);
    assert!(snapshot(&site).is_ok(), "renders before the poisoned post");
    // The oldest post's page is rendered in the last batch, after the rest of the site has
    // been written.
    site.file(
        "posts/poison.md",
        "---\ntitle: Poison\ndate: 2001-01-01\n---\nBad.\n",
    );
    let build = site.build();
    assert!(build.site.is_none(), "no site with a broken template");
    assert!(
        build
            .problems
            .iter()
            .any(|p| p.file.ends_with("post.html") || p.message.contains("no_such_function")),
        "the template problem is reported: {:#?}",
        build.problems
    );
    let failed = snapshot(&site).expect_err("the render fails");
    assert!(failed.contains("nothing to serve"), "{failed}");
}
