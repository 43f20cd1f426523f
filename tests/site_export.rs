//! `build --out`: files byte-identical to the served bodies; and `new` posts.

mod common;

use common::TempSite;
use forkblog::site;

#[test]
fn export_writes_every_resource_byte_for_byte() {
    let t = TempSite::new("export");
    t.file(
        "posts/2020-01-01-a.md",
        "---\ntitle: A\ntags: [x]\n---\nA\n",
    )
    .file("posts/2020-01-02-b/index.md", "# B\n\n![](pic.png)\n")
    .file("posts/2020-01-02-b/pic.png", b"\x89PNG\x00\x01binary")
    .file("templates/static/site.js", "console.log(1)\n");
    let s = t.site();
    let out = t.path("out");
    site::export(&s, &out).expect("export");
    for (path, file) in [
        ("/", "index.html"),
        ("/posts/a/", "posts/a/index.html"),
        ("/feed.xml", "feed.xml"),
        ("/posts/b/pic.png", "posts/b/pic.png"),
    ] {
        assert!(out.join(file).is_file(), "{path} not exported as {file}");
    }
    for resource in &s.resources {
        let name = site::export::file_name(&resource.path).expect("exportable path");
        let written =
            std::fs::read(out.join(&name)).unwrap_or_else(|e| panic!("{}: {e}", name.display()));
        assert!(
            written == resource.body,
            "{} differs from the served body",
            resource.path
        );
    }
    assert_eq!(
        std::fs::read(out.join("404.html")).unwrap(),
        s.not_found.body
    );
    let files = walk_count(&out);
    assert_eq!(
        files,
        s.resources.len() + 1,
        "exactly one file per resource plus 404.html"
    );
    // Exporting again over the old output works.
    site::export(&s, &out).expect("export again");
}

fn walk_count(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| if p.is_dir() { walk_count(&p) } else { 1 })
        .sum()
}

#[test]
fn new_post_creates_a_dated_draft_and_refuses_to_overwrite() {
    let t = TempSite::new("new");
    let title = "Hello: \"World\" # 1";
    let path = site::new_post(&t.root, title).expect("created");
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let today = jiff::Zoned::now().date().to_string();
    assert_eq!(name, format!("{today}-hello-world-1.md"));
    let source = std::fs::read_to_string(&path).unwrap();
    let (front, _) = site::frontmatter::parse(&source).expect("front matter parses");
    assert_eq!(front.title.as_deref(), Some(title));
    assert_eq!(front.date.map(|d| d.day.to_string()), Some(today));
    assert!(front.draft, "new posts start as drafts");
    let again = site::new_post(&t.root, title).expect_err("must not overwrite");
    assert!(again.message.contains("already exists"), "{again}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), source);
    assert!(site::new_post(&t.root, "   ").is_err());
    // The new post builds (as an unpublished draft).
    let build = t.build();
    assert!(build.problems.is_empty(), "{:#?}", build.problems);
    assert_eq!(build.site.unwrap().post_count, 0);
}
