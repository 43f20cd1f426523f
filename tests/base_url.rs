//! A loopback (or default) `base_url` is called out where it would reach readers: by `check`,
//! and by `serve` on a public address or behind a front.

mod common;

use std::fs;
use std::process::Command;
use std::time::Duration;

use common::*;

fn set_base_url(blog: &TempSite, url: &str) {
    let path = blog.root().join("forkblog.toml");
    let text = fs::read_to_string(&path).unwrap_or_default();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("base_url"))
        .collect();
    fs::write(
        &path,
        format!("base_url = \"{url}\"\n{}\n", kept.join("\n")),
    )
    .unwrap();
    set_mode(&path, 0o644);
}

fn check_stderr(blog: &TempSite) -> String {
    let out = Command::new(BIN)
        .arg("check")
        .arg("--root")
        .arg(blog.root())
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn check_warns_about_a_loopback_base_url() {
    let blog = TempSite::sample();
    set_base_url(&blog, "http://127.0.0.1:8080");
    let text = check_stderr(&blog);
    assert!(
        text.contains("base_url is http://127.0.0.1:8080") && text.contains("forkblog.toml"),
        "{text}"
    );
    set_base_url(&blog, "https://blog.example.com");
    let text = check_stderr(&blog);
    assert!(!text.contains("base_url"), "{text}");
}

#[test]
fn serve_warns_behind_a_front_but_not_for_a_local_preview() {
    let blog = TempSite::sample();
    set_base_url(&blog, "http://localhost:8080");
    let front = Server::start(blog.root(), &["--trusted-proxy", "127.0.0.1"]);
    assert!(
        front.wait_for_log(
            "base_url is http://localhost:8080",
            1,
            Duration::from_secs(5)
        ),
        "{}",
        front.log_text()
    );
    drop(front);
    let preview = Server::start(blog.root(), &[]);
    assert_eq!(preview.get("/").status, 200);
    assert!(
        !preview.log_text().contains("base_url"),
        "{}",
        preview.log_text()
    );
    drop(preview);
    set_base_url(&blog, "https://blog.example.com");
    let fine = Server::start(blog.root(), &["--trusted-proxy", "127.0.0.1"]);
    assert_eq!(fine.get("/").status, 200);
    assert!(!fine.log_text().contains("base_url"), "{}", fine.log_text());
}
