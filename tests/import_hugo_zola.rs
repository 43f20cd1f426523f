//! `forkblog import hugo` and `forkblog import zola` on the small sites under
//! `tests/data/import/`: every URL listed in each site's `expected-urls.txt` (worked out by hand
//! from the generator's rules) is answered after the move.

mod import_common;

use std::path::Path;

use forkblog::import::{import, Generator};
use forkblog::site;
use import_common::{unanswered, Scratch};

fn expected(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("expected-urls.txt"))
        .expect("expected-urls.txt")
        .lines()
        .filter(|l| l.starts_with('/'))
        .map(str::to_string)
        .collect()
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/import")
        .join(name)
}

#[test]
fn zola_site_keeps_every_url() {
    let src = fixture("zola");
    let s = Scratch::new("zola");
    let report = import(Generator::Zola, &src, &s.dest()).expect("import");
    let build = site::build(&s.dest());
    let site = build.site.expect("site builds");
    let urls = expected(&src);
    let missing = unanswered(&site, &urls);
    assert!(
        missing.is_empty(),
        "unanswered: {missing:?}\nproblems: {:#?}",
        build.problems
    );
    let notes: Vec<String> = report.notes.iter().map(|n| n.to_string()).collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("config.toml:6:") && n.contains("compile_sass")),
        "{notes:#?}"
    );
    assert!(notes.iter().any(|n| n.contains("templates")), "{notes:#?}");
    // Sections are not posts; the translation is not listed with the posts; `blog/2020/` is a
    // section of its own (not transparent, not sorted by date), so its page is a page.
    assert_eq!(site.post_count, 6);
}

#[test]
fn hugo_site_keeps_every_url() {
    let src = fixture("hugo");
    let s = Scratch::new("hugo");
    import(Generator::Hugo, &src, &s.dest()).expect("import");
    let build = site::build(&s.dest());
    let site = build.site.expect("site builds");
    let urls = expected(&src);
    let missing = unanswered(&site, &urls);
    assert!(
        missing.is_empty(),
        "unanswered: {missing:?}\nproblems: {:#?}",
        build.problems
    );
    let html = site
        .resources
        .iter()
        .find(|r| r.path == "/2020/07/html-title/")
        .unwrap();
    let html = std::str::from_utf8(&html.body).unwrap();
    assert!(
        html.contains("<p>Written in <em>HTML</em>.</p>") && !html.contains("title: HTML Title")
    );
}
