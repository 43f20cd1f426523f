//! The other commands: check, build, new, and usage errors.

mod common;

use std::process::Command;

use common::*;

fn forkblog(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).output().expect("run forkblog")
}

#[test]
fn check_passes_on_the_sample_and_names_file_and_line_of_a_broken_post() {
    let blog = Blog::sample();
    let root = blog.root().to_str().unwrap();
    let ok = forkblog(&["check", "--root", root]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("no problems"));

    blog.write_post(
        "2026-07-01-broken.md",
        "---\ntitle: Broken\ndate: 2026-13-45\n---\nText.\n",
    );
    let bad = forkblog(&["check", "--root", root]);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("2026-07-01-broken.md:3:"),
        "no file:line in: {stderr}"
    );
}

#[test]
fn build_writes_the_bytes_serve_answers() {
    let blog = Blog::sample();
    let out = TempDir::new("export");
    let root = blog.root().to_str().unwrap();
    let built = forkblog(&[
        "build",
        "--root",
        root,
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let server = Server::start(blog.root(), &[]);
    let mut compared = 0;
    for (url, file) in [
        ("/", "index.html"),
        ("/feed.xml", "feed.xml"),
        ("/sitemap.xml", "sitemap.xml"),
        ("/static/style.css", "static/style.css"),
    ] {
        let served = server.get(url);
        assert_eq!(served.status, 200, "{url}");
        let exported =
            std::fs::read(out.path().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(served.body == exported, "{url} differs from {file}");
        compared += 1;
    }
    // Every post page too: find them in the exported tree.
    let posts = out.path().join("posts");
    for entry in std::fs::read_dir(&posts).unwrap().flatten() {
        let page = entry.path().join("index.html");
        if page.exists() {
            let url = format!("/posts/{}/", entry.file_name().to_str().unwrap());
            assert!(
                server.get(&url).body == std::fs::read(&page).unwrap(),
                "{url} differs"
            );
            compared += 1;
        }
    }
    assert!(compared >= 8, "only {compared} files compared");
}

#[test]
fn new_creates_a_post_that_checks_clean() {
    let blog = Blog::sample();
    let root = blog.root().to_str().unwrap();
    let made = forkblog(&["new", "A Fresh Start", "--root", root]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let path = String::from_utf8_lossy(&made.stdout).trim().to_string();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(text.contains("A Fresh Start"), "{text}");
    assert!(
        path.ends_with(".md") && path.contains("a-fresh-start"),
        "{path}"
    );
    assert!(forkblog(&["check", "--root", root]).status.success());
    let again = forkblog(&["new", "A Fresh Start", "--root", root]);
    assert!(
        !again.status.success(),
        "a second post with the same name must not overwrite the first"
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["bogus"][..],
        &[][..],
        &["serve", "--listen", "nowhere"][..],
        &["build"][..],
        &["serve", "--max-children", "0"][..],
        &["serve", "--watchdog", "18446744073709551615"][..],
        &["serve", "--head-timeout", "0"][..],
    ] {
        let output = forkblog(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("USAGE"),
            "{args:?}"
        );
    }
    let help = forkblog(&["--help"]);
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("SIGNALS"));
}
