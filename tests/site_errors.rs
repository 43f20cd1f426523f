//! Broken inputs: reported with file and line, and never taking the rest of the site down
//! (broken posts) or producing a half-rendered site (broken templates or settings).

mod common;

use common::site::{get, names, serves_any};
use common::TempSite;

fn good_posts(t: &TempSite) {
    t.file(
        "posts/good-one.md",
        "---\ntitle: Good one\ndate: 2020-01-01\n---\nFine.\n",
    )
    .file(
        "posts/good-two.md",
        "+++\ntitle = \"Good two\"\ndate = 2020-01-02\n+++\nFine.\n",
    );
}

#[test]
fn bad_yaml_is_reported_with_file_and_line_and_the_rest_renders() {
    let t = TempSite::new("bad-yaml");
    good_posts(&t);
    t.file(
        "posts/broken.md",
        "---\ntitle: Broken\ntags: [a, b\ndate: 2020-01-01\n---\nBody\n",
    );
    let build = t.build();
    let site = build.site.expect("other posts still render");
    assert_eq!(site.post_count, 2);
    assert!(get(&site, "/posts/good-one/").is_some() && get(&site, "/posts/good-two/").is_some());
    assert!(!serves_any(&site, "broken"));
    assert_eq!(build.problems.len(), 1, "{:#?}", build.problems);
    let p = &build.problems[0];
    assert!(names(&p.file, "posts/broken.md"), "{p}");
    let line = p.line.expect("a line number");
    assert!(
        (3..=5).contains(&line),
        "line {line} should point into the tags list: {p}"
    );
    assert!(p.message.contains("YAML"), "{p}");
    assert!(p
        .to_string()
        .starts_with(&format!("{}:{line}: ", p.file.display())));
}

#[test]
fn unknown_date_format_points_at_the_date_line() {
    let t = TempSite::new("bad-date");
    good_posts(&t);
    t.file(
        "posts/bad-date.md",
        "---\ntitle: Bad date\nlayout: post\ndate: 01/03/2015\n---\nBody\n",
    );
    let build = t.build();
    assert_eq!(build.site.expect("site").post_count, 2);
    let p = &build.problems[0];
    assert!(names(&p.file, "bad-date.md"));
    assert_eq!(p.line, Some(4));
    assert!(p.message.contains("unknown date format"), "{p}");
}

#[test]
fn bad_toml_and_unclosed_front_matter_are_located() {
    let t = TempSite::new("bad-toml");
    t.file(
        "posts/toml.md",
        "+++\ntitle = \"T\"\ndate = 2020-13-45\n+++\nBody\n",
    )
    .file(
        "posts/open.md",
        "---\ntitle: Open\n\nBody without the closing line\n",
    );
    let build = t.build();
    assert!(build.site.is_some());
    let toml = build
        .problems
        .iter()
        .find(|p| names(&p.file, "toml.md"))
        .expect("toml problem");
    assert_eq!(toml.line, Some(3), "{toml}");
    let open = build
        .problems
        .iter()
        .find(|p| names(&p.file, "open.md"))
        .expect("unclosed problem");
    assert_eq!(open.line, Some(1));
    assert!(open.message.contains("never closed"));
}

#[test]
fn template_syntax_error_names_template_and_line() {
    let t = TempSite::new("bad-template");
    good_posts(&t);
    t.file("templates/post.html", "{% extends \"base.html\" %}\n{% block content %}\n{% if post.title %}\n<h1>{{ post.title }}</h1>\n{% endblock %}\n");
    let build = t.build();
    assert!(
        build.site.is_none(),
        "a broken template must not produce a site"
    );
    let p = build
        .problems
        .iter()
        .find(|p| names(&p.file, "templates/post.html"))
        .unwrap_or_else(|| panic!("{:#?}", build.problems));
    assert!(p.line.is_some_and(|l| (3..=5).contains(&l)), "{p}");
    assert!(p.message.contains("syntax"), "{p}");
}

#[test]
fn template_render_error_names_template_and_line() {
    let t = TempSite::new("render-error");
    good_posts(&t);
    t.file("templates/tags.html", "{% extends \"base.html\" %}\n{% block content %}\n\n{% include \"missing.html\" %}\n{% endblock %}\n");
    let build = t.build();
    assert!(build.site.is_none());
    assert_eq!(build.problems.len(), 1, "{:#?}", build.problems);
    let p = &build.problems[0];
    assert!(names(&p.file, "tags.html"), "{p}");
    assert_eq!(p.line, Some(4), "{p}");
    assert!(p.message.contains("missing.html"), "{p}");
}

#[test]
fn broken_settings_stop_the_build_with_a_line() {
    let t = TempSite::new("bad-settings");
    good_posts(&t);
    t.file("forkblog.toml", "title = \"x\"\nposts_per_page = \"ten\"\n");
    let build = t.build();
    assert!(build.site.is_none());
    assert!(names(&build.problems[0].file, "forkblog.toml"));
    assert_eq!(build.problems[0].line, Some(2));
    t.file("forkblog.toml", "title = \"x\"\ntitel = \"typo\"\n");
    let build = t.build();
    assert!(
        build.site.is_some(),
        "an unknown key is reported but does not stop the site"
    );
    assert_eq!(build.problems[0].line, Some(2));
    assert!(build.problems[0].message.contains("titel"));
}

#[test]
fn missing_root_or_posts_folder_gives_no_site() {
    let build = forkblog::site::build(std::path::Path::new("/nonexistent/forkblog/root"));
    assert!(build.site.is_none());
    assert_eq!(build.problems.len(), 1);
    let t = TempSite::new("no-posts");
    std::fs::remove_dir(t.path("posts")).unwrap();
    let build = t.build();
    assert!(build.site.is_none());
    assert!(names(&build.problems[0].file, "posts"));
}

#[test]
fn duplicate_slugs_keep_the_first_and_report_the_other() {
    let t = TempSite::new("dup");
    t.file(
        "posts/a/same.md",
        "---\ntitle: Newer\ndate: 2020-02-01\n---\nx\n",
    )
    .file(
        "posts/b/same.md",
        "---\ntitle: Older\ndate: 2020-01-01\n---\nx\n",
    );
    let build = t.build();
    let site = build.site.expect("site");
    assert_eq!(site.post_count, 1);
    assert_eq!(build.problems.len(), 1);
    assert!(names(&build.problems[0].file, "b/same.md"));
    assert!(build.problems[0].message.contains("same"));
}

#[test]
fn non_utf8_post_is_reported_not_fatal() {
    let t = TempSite::new("latin1");
    good_posts(&t);
    t.file("posts/latin1.md", b"---\ntitle: Caf\xe9\n---\n");
    let build = t.build();
    assert_eq!(build.site.expect("site").post_count, 2);
    assert_eq!(build.problems[0].line, Some(2));
}
