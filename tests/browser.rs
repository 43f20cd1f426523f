//! The preview and the theme in a real browser: Debian's `chromium`, driven through the
//! DevTools protocol by `tests/browser/run.js` (playwright-core; axe-core for accessibility).
//! `npm install --prefix tests/browser` fetches both (.ci/run does).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

/// The post the preview test edits, and its page.
const POST: &str = "posts/2026-01-05-why-fork-per-connection.md";
const PAGE: &str = "/posts/why-fork-per-connection/";

fn driver_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Runs `node run.js ARGS...` (at most `within`, then killed) and returns its JSON answer.
fn drive(args: &[&str], within: Duration) -> serde_json::Value {
    let dir = driver_dir();
    assert!(
        dir.join("node_modules/playwright-core").is_dir()
            && dir.join("node_modules/axe-core").is_dir(),
        "the browser driver is not installed: run `npm install --prefix tests/browser`"
    );
    let out_path = std::env::temp_dir().join(format!(
        "forkblog-browser-{}-{}.json",
        std::process::id(),
        args[0]
    ));
    let mut child = Command::new("node")
        .arg(dir.join("run.js"))
        .args(args)
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node (Debian: apt-get install nodejs npm)");
    let mut status = None;
    let finished = wait_until(within, || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    if !finished {
        let _ = child.kill();
        let _ = child.wait();
    }
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        use std::io::Read;
        let _ = pipe.read_to_string(&mut stderr);
    }
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    assert!(finished, "run.js {args:?} still running after {within:?}");
    assert!(
        status.is_some_and(|s| s.success()),
        "run.js {args:?} failed:\n{stderr}"
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn an_open_page_follows_saves_shows_a_broken_template_and_recovers() {
    let blog = TempSite::sample();
    let server = Server::start(blog.root(), &["--watch"]);
    let base = format!("http://{}", server.addr);
    let root = blog.root().display().to_string();
    let post = blog.root().join(POST).display().to_string();
    let report = drive(
        &["preview", &base, &root, &post, PAGE],
        Duration::from_secs(180),
    );
    eprintln!(
        "save to visible: {} ms; broken template shown: {} ms; recovered: {} ms",
        report["visible_ms"], report["broken_ms"], report["recovered_ms"]
    );
    // run.js waited for each of these; what the failure page showed is checked here too.
    let shown = report["broken_text"].as_str().unwrap();
    assert!(shown.contains("templates/post.html:"), "{shown}");
    assert!(
        shown.contains("{{ post.title </h1>"),
        "no source line in:\n{shown}"
    );
    for key in ["visible_ms", "broken_ms", "recovered_ms"] {
        assert!(report[key].as_u64().is_some(), "{key}: {report}");
    }
    assert_eq!(server.stop().code(), Some(0));
}

#[test]
fn the_sample_blog_has_no_axe_violations_in_light_or_dark() {
    let blog = TempSite::sample();
    let server = Server::start(blog.root(), &[]);
    let base = format!("http://{}", server.addr);
    let pages = [
        "/",
        PAGE,
        "/posts/reaping-zombies/",
        "/archive/",
        "/tags/design/",
    ];
    for page in pages {
        assert_eq!(server.get(page).status, 200, "{page}");
    }
    let mut args = vec!["axe", base.as_str()];
    args.extend(pages);
    let report = drive(&args, Duration::from_secs(240));
    let checked = report["pages"].as_array().unwrap();
    assert_eq!(checked.len(), pages.len() * 2, "{report}");
    let violations: Vec<String> = checked
        .iter()
        .flat_map(|page| {
            page["violations"].as_array().unwrap().iter().map(move |v| {
                format!(
                    "{} ({}): {} {}: {}",
                    page["path"], page["colorScheme"], v["impact"], v["id"], v["nodes"]
                )
            })
        })
        .collect();
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    assert_eq!(server.stop().code(), Some(0));
}
