//! `serve --watch` and `--drafts`, the preview for writing: edits appear without a signal, a
//! broken edit is shown as an error page naming the file until the next good one, drafts appear
//! only when asked for, and the reload cycles leak no descriptor and leave no zombie.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

const PAGE: &str = "/posts/watched/";
const GENERATION: &str = "/.well-known/forkblog/generation";
const SCRIPT: &str = "/.well-known/forkblog/live.js";

fn post(text: &str) -> String {
    format!("---\ntitle: Watched\ndate: 2026-06-01\n---\n\n{text}\n")
}

/// Polls `path` until its body holds `needle` (status `status`), for up to 30 s; returns how
/// long that took.
fn wait_for(server: &Server, path: &str, status: u16, needle: &str) -> Duration {
    let started = Instant::now();
    let seen = wait_until(Duration::from_secs(30), || {
        let r = server.get(path);
        r.status == status && r.text().contains(needle)
    });
    let last = server.get(path);
    assert!(
        seen,
        "{path} never answered {status} with {needle:?}; last {}:\n{}\nlog:\n{}",
        last.status,
        last.text(),
        server.log_text()
    );
    started.elapsed()
}

#[test]
fn an_edit_appears_without_a_signal_and_the_page_asks_for_it() {
    let blog = TempSite::sample();
    blog.write_post("watched.md", &post("The first text."));
    let server = Server::start(blog.root(), &["--watch"]);
    let page = server.get(PAGE);
    assert_eq!(page.status, 200);
    assert!(page.text().contains("The first text."));
    assert!(
        page.text().contains(&format!("<script src=\"{SCRIPT}\"")),
        "no live-reload script in {}",
        page.text()
    );
    let script = server.get(SCRIPT);
    assert_eq!(script.status, 200);
    assert!(script.text().contains(GENERATION));
    let before = server.get(GENERATION);
    assert_eq!(before.status, 200);

    blog.write_post("watched.md", &post("The second text."));
    let took = wait_for(&server, PAGE, 200, "The second text.");
    eprintln!("edit to visible: {} ms", took.as_millis());
    assert_ne!(server.get(GENERATION).text(), before.text());
    assert!(server.log_text().contains("--watch: the site changed"));
}

#[test]
fn a_broken_edit_shows_an_error_page_naming_the_file_until_the_next_good_one() {
    let blog = TempSite::sample();
    blog.write_post("watched.md", &post("Good."));
    let server = Server::start(blog.root(), &["--watch"]);
    assert_eq!(server.get(PAGE).status, 200);

    blog.write_post("watched.md", "---\ntitle: [unclosed\n---\n\nBroken.\n");
    wait_for(&server, PAGE, 500, "watched.md");
    // Every page, not only the broken one; the script that brings the recovery still loads.
    let index = server.get("/");
    assert_eq!(index.status, 500);
    assert!(index.text().contains("watched.md:"), "{}", index.text());
    assert!(index.text().contains(SCRIPT));
    assert_eq!(server.get(SCRIPT).status, 200);

    blog.write_post("watched.md", &post("Fixed."));
    wait_for(&server, PAGE, 200, "Fixed.");
    assert_eq!(server.get("/").status, 200);
}

#[test]
fn a_draft_appears_only_with_drafts_and_is_marked() {
    let blog = TempSite::sample();
    blog.write_post(
        "secret.md",
        "---\ntitle: Secret plans\ndate: 2026-06-01\ndraft: true\n---\n\nNot yet.\n",
    );
    let published = Server::start(blog.root(), &[]);
    assert_eq!(published.get("/posts/secret/").status, 404);
    assert!(!published.get("/").text().contains("Secret plans"));
    // Without --watch, none of the preview exists either.
    assert!(!published.get("/").text().contains(SCRIPT));
    assert_eq!(published.get(GENERATION).status, 404);
    drop(published);

    let preview = Server::start(blog.root(), &["--drafts"]);
    let page = preview.get("/posts/secret/");
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(
        page.text().contains("Draft: Secret plans"),
        "{}",
        page.text()
    );
    assert!(preview.get("/").text().contains("Draft: Secret plans"));
}

#[test]
fn previews_refuse_a_public_address_without_force_public() {
    let out = Command::new(BIN)
        .args(["serve", "--listen", "0.0.0.0:0", "--watch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force-public"));
}

#[test]
fn watch_reload_cycles_leave_no_descriptor_and_no_zombie() {
    let blog = TempSite::sample();
    blog.write_post("watched.md", &post("Round 0."));
    let server = Server::start(blog.root(), &["--watch", "--drafts", "--idle-timeout", "1"]);
    assert!(server.wait_settled(Duration::from_secs(20)));
    let baseline = server.fd_count();
    let baseline_fds = fd_listing(server.pid());
    for round in 1..=4 {
        // A good edit, a broken one, a good one again: reloads that succeed and that fail.
        let text = match round % 2 {
            0 => "---\ntitle: [unclosed\n---\n".to_string(),
            _ => post(&format!("Round {round}.")),
        };
        blog.write_post("watched.md", &text);
        match round % 2 {
            0 => wait_for(&server, PAGE, 500, "watched.md"),
            _ => wait_for(&server, PAGE, 200, &format!("Round {round}.")),
        };
        // Pollers as open pages make them: keep-alive requests for the generation.
        for _ in 0..5 {
            let mut stream = connect(server.addr);
            let mut buf = Vec::new();
            for _ in 0..3 {
                use std::io::Write;
                let ask = format!("GET {GENERATION} HTTP/1.1\r\nHost: t\r\n\r\n");
                stream.write_all(ask.as_bytes()).unwrap();
                assert_eq!(read_one(&mut stream, &mut buf, false).status, 200);
            }
        }
        assert!(
            server.wait_settled(Duration::from_secs(20)),
            "round {round}: children left {:?}",
            server.children()
        );
        let settled = wait_until(Duration::from_secs(5), || server.fd_count() == baseline);
        assert!(
            settled,
            "round {round}: parent fds {} now, {baseline} at start:\n{}\nat start:\n{baseline_fds}",
            server.fd_count(),
            fd_listing(server.pid())
        );
    }
    eprintln!("4 watch reloads: parent fds {baseline} at start and after each");
    assert_eq!(server.stop().code(), Some(0));
}

#[test]
fn a_folder_made_after_the_start_is_watched_too() {
    let blog = TempSite::sample();
    let server = Server::start(blog.root(), &["--watch"]);
    let before = server.get(GENERATION).text();
    let folder = blog.root().join("posts/later");
    std::fs::create_dir(&folder).unwrap();
    set_mode(&folder, 0o755);
    // The new folder alone reloads; only after that is the post written into it, so that it
    // appears only if the generation after the reload watches the new folder.
    assert!(
        wait_until(Duration::from_secs(30), || server.get(GENERATION).text()
            != before),
        "creating a folder did not reload:\n{}",
        server.log_text()
    );
    assert!(server.wait_settled(Duration::from_secs(20)));
    blog.write_post("later/later.md", &post("Written in a new folder."));
    wait_for(&server, "/posts/later/", 200, "Written in a new folder.");
}

/// A client like a browser's open page: one keep-alive connection, reopened only when the
/// server closes it (a browser retries a request on a reused connection that closes without
/// an answer).
struct Tab {
    addr: std::net::SocketAddr,
    stream: std::net::TcpStream,
}

impl Tab {
    fn new(addr: std::net::SocketAddr) -> Tab {
        Tab {
            addr,
            stream: connect(addr),
        }
    }

    /// GET `path` on the kept connection; on a close before the answer, once more on a new one.
    fn get(&mut self, path: &str) -> Response {
        use std::io::{Read, Write};
        let ask = format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n");
        for _ in 0..2 {
            let _ = self.stream.write_all(ask.as_bytes());
            let mut bytes = Vec::new();
            let mut chunk = [0u8; 16384];
            loop {
                if let Some((response, _)) = parse_response(&bytes, false) {
                    if response.header("connection") == Some("close") {
                        self.stream = connect(self.addr);
                    }
                    return response;
                }
                match self.stream.read(&mut chunk) {
                    Ok(n) if n > 0 => bytes.extend_from_slice(&chunk[..n]),
                    _ => break,
                }
            }
            assert!(bytes.is_empty(), "closed mid-response");
            self.stream = connect(self.addr);
        }
        panic!("{path}: closed twice without an answer");
    }

    /// Polls the generation as the live-reload script does until it changes, then reloads the
    /// page on the same connection, as the script does.
    fn reload_on_change(&mut self, before: &str) -> Response {
        let changed = wait_until(Duration::from_secs(30), || {
            self.get(GENERATION).text() != before
        });
        assert!(changed, "the generation never changed");
        self.get(PAGE)
    }
}

#[test]
fn the_page_an_open_tab_reloads_is_always_the_new_one() {
    let blog = TempSite::sample();
    blog.write_post("watched.md", &post("Version 0."));
    // An idle timeout longer than the test: the tab's connection lasts unless the server ends it.
    let server = Server::start(blog.root(), &["--watch", "--idle-timeout", "60"]);
    let mut tab = Tab::new(server.addr);
    assert!(tab.get(PAGE).text().contains("Version 0."));
    for round in 1..=3 {
        let before = tab.get(GENERATION).text();
        blog.write_post("watched.md", &post(&format!("Version {round}.")));
        let page = tab.reload_on_change(&before);
        assert_eq!(page.status, 200);
        assert!(
            page.text().contains(&format!("Version {round}.")),
            "round {round}: the reload got {}",
            page.text()
        );
    }
    // A broken edit: the reload shows the failure; the fix: the reload shows the page again.
    let before = tab.get(GENERATION).text();
    blog.write_post("watched.md", "---\ntitle: [unclosed\n---\n");
    let page = tab.reload_on_change(&before);
    assert_eq!(page.status, 500, "{}", page.text());
    assert!(page.text().contains("watched.md"));
    let before = tab.get(GENERATION).text();
    blog.write_post("watched.md", &post("Fixed."));
    let page = tab.reload_on_change(&before);
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Fixed."));
}

#[test]
fn a_broken_template_shows_its_file_line_and_source_until_fixed() {
    let blog = TempSite::sample();
    blog.write_post("watched.md", &post("Good."));
    let server = Server::start(blog.root(), &["--watch"]);
    let template = blog.root().join("templates/post.html");
    let good = std::fs::read_to_string(&template).unwrap();
    let line = good
        .lines()
        .position(|l| l.contains("{{ post.title }}</h1>"))
        .unwrap()
        + 1;
    std::fs::write(
        &template,
        good.replace("{{ post.title }}</h1>", "{{ post.title </h1>"),
    )
    .unwrap();
    wait_for(&server, PAGE, 500, &format!("post.html:{line}</code>"));
    let page = server.get(PAGE).text();
    // The failing line, marked, with its neighbours.
    assert!(
        page.contains(&format!("<span class=\"hit\"><b>{line}</b>")),
        "{page}"
    );
    assert!(page.contains("{{ post.title &lt;/h1&gt;"), "{page}");
    assert!(page.contains(&format!("<b>{}</b>", line - 1)));
    std::fs::write(&template, good).unwrap();
    wait_for(&server, PAGE, 200, "Good.");
}

#[test]
fn site_folders_made_after_the_start_are_watched() {
    let blog = TempSite::sample();
    let server = Server::start(blog.root(), &["--watch"]);
    assert_eq!(server.get("/about/").status, 404);
    // pages/ did not exist: made while serving, with a page written into it at once.
    let pages = blog.root().join("pages");
    std::fs::create_dir(&pages).unwrap();
    set_mode(&pages, 0o755);
    let about = pages.join("about.md");
    std::fs::write(
        &about,
        "---\ntitle: About\n---\nWritten into a new folder.\n",
    )
    .unwrap();
    set_mode(&about, 0o644);
    wait_for(&server, "/about/", 200, "Written into a new folder.");
    // A folder under it, then an edit there: noticed without touching anything else.
    let deeper = pages.join("projects");
    std::fs::create_dir(&deeper).unwrap();
    set_mode(&deeper, 0o755);
    let index = deeper.join("index.md");
    std::fs::write(&index, "# Projects\n\nFirst list.\n").unwrap();
    set_mode(&index, 0o644);
    wait_for(&server, "/projects/", 200, "First list.");
    std::fs::write(&index, "# Projects\n\nSecond list.\n").unwrap();
    wait_for(&server, "/projects/", 200, "Second list.");
}
