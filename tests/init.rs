//! `forkblog init`: a new site that checks clean and serves, a refusal to write into a directory
//! that holds anything, and the templates copied out on request.

mod common;

use std::process::{Command, Output, Stdio};

use common::*;

fn init(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("init")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run forkblog init")
}

#[test]
fn a_new_site_checks_clean_and_serves_its_example_post() {
    let parent = TempDir::new("init");
    let dir = parent.path().join("blog");
    let dir_text = dir.to_str().unwrap();
    let out = init(&[
        dir_text,
        "--title",
        "Notes \"from\" here",
        "--author",
        "Ada",
    ]);
    assert!(out.status.success(), "{out:?}");
    let steps = String::from_utf8_lossy(&out.stdout);
    assert!(
        steps.contains(&format!(
            "forkblog serve --watch --drafts --root {dir_text}"
        )),
        "{steps}"
    );
    assert!(steps.contains("forkblog new"), "{steps}");

    let settings = std::fs::read_to_string(dir.join("forkblog.toml")).unwrap();
    assert!(settings.contains("unsafe_html = false"), "{settings}");
    assert!(settings.contains("author = \"Ada\""), "{settings}");

    let check = Command::new(BIN)
        .args(["check", "--root", dir_text])
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(
        said.contains("1 posts") && said.contains("no problems"),
        "{said}"
    );

    let server = Server::start(&dir, &[]);
    let post = server.get("/posts/hello-world/");
    assert_eq!(post.status, 200, "{}", post.text());
    assert!(post.text().contains("Hello, world"), "{}", post.text());
    let index = server.get("/");
    assert!(
        index.text().contains("Notes &quot;from&quot; here")
            || index.text().contains("Notes &#34;from&#34; here"),
        "{}",
        index.text()
    );
    // No description was given: none is written, so the home page claims no empty one.
    assert!(
        !settings.lines().any(|l| l.starts_with("description")),
        "{settings}"
    );
    assert!(
        !index.text().contains("name=\"description\""),
        "{}",
        index.text()
    );
}

#[test]
fn init_refuses_a_directory_that_holds_anything() {
    let dir = TempDir::new("init-full");
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let out = init(&[dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(dir.path().to_str().unwrap()) && said.contains("not empty"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(!dir.path().join("forkblog.toml").exists());
}

#[test]
fn templates_are_copied_out_on_request_and_used() {
    let parent = TempDir::new("init-templates");
    let dir = parent.path().join("blog");
    let out = init(&[dir.to_str().unwrap(), "--templates"]);
    assert!(out.status.success(), "{out:?}");
    for name in [
        "base.html",
        "post.html",
        "index.html",
        "404.html",
        "static/style.css",
    ] {
        assert!(
            dir.join("templates").join(name).is_file(),
            "templates/{name} missing"
        );
    }
    // The copies are the ones served: an edit shows.
    let base = dir.join("templates/base.html");
    let text = std::fs::read_to_string(&base).unwrap();
    std::fs::write(
        &base,
        text.replacen("<body", "<!-- edited copy --><body", 1),
    )
    .unwrap();
    let server = Server::start(&dir, &[]);
    assert!(server.get("/").text().contains("<!-- edited copy -->"));
    let without = parent.path().join("plain");
    assert!(init(&[without.to_str().unwrap()]).status.success());
    assert!(!without.join("templates").exists());
}
