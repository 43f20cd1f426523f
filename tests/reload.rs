//! Reloads that never lose the server: `forkblog reload` reports the outcome (0 on a good
//! post, non-zero with every problem, file and line, on a broken post or template), a
//! truncated binary installed in place fails the render, not the server, and the service user
//! can reload a server root started under the units' umask.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::*;

const POST: &str = "---\ntitle: Reload me\ndate: 2026-06-01\n---\n\nThe first text.\n";
const PAGE: &str = "/posts/reload-me/";

fn reload(server: &Server) -> Output {
    let lock = format!("{}.lock", server.access_log.display());
    Command::new(BIN)
        .args(["reload", "--lock", &lock, "--timeout", "60"])
        .output()
        .expect("run forkblog reload")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn reload_command_reports_a_broken_post_and_a_good_one() {
    let blog = TempSite::sample();
    blog.write_post("2026-06-01-reload-me.md", POST);
    let server = Server::start(blog.root(), &[]);
    let pid = server.pid();

    blog.write_post(
        "2026-06-01-reload-me.md",
        "---\ntitle: [unclosed\ndate: 2026-06-01\n---\nThe broken text.\n",
    );
    let broken = reload(&server);
    assert!(!broken.status.success(), "{}", text(&broken));
    assert!(
        text(&broken).contains("2026-06-01-reload-me.md"),
        "the failure does not name the post: {}",
        text(&broken)
    );
    assert!(server.get(PAGE).text().contains("The first text."));

    blog.write_post(
        "2026-06-01-reload-me.md",
        &POST.replace("The first text.", "The second text."),
    );
    let good = reload(&server);
    assert!(good.status.success(), "{}", text(&good));
    assert!(text(&good).contains("generation 1"), "{}", text(&good));
    assert!(server.get(PAGE).text().contains("The second text."));
    assert_eq!(server.pid(), pid);

    // Twice in a row: each answers for its own signal.
    let again = reload(&server);
    assert!(
        again.status.success() && text(&again).contains("generation 2"),
        "{}",
        text(&again)
    );
}

/// Writes `templates/NAME` in `blog`.
fn write_template(blog: &TempSite, name: &str, text: &str) {
    let path = blog.root().join("templates").join(name);
    fs::write(&path, text).unwrap();
    set_mode(&path, 0o644);
}

#[test]
fn reload_command_names_every_broken_template_with_its_line() {
    let blog = TempSite::sample();
    blog.write_post("2026-06-01-reload-me.md", POST);
    let server = Server::start(blog.root(), &[]);
    let good_post = fs::read_to_string(blog.root().join("templates/post.html")).unwrap();

    // Line 5: an endblock inside an unclosed if. Line 4: where the variable opened on line 3
    // meets the next tag.
    write_template(
        &blog,
        "post.html",
        "{% extends \"base.html\" %}\n{% block content %}\n{% if post.title %}\n<p>x</p>\n{% endblock %}\n",
    );
    write_template(
        &blog,
        "tag.html",
        "{% extends \"base.html\" %}\n{% block content %}\n{{ tag.name \n{% endblock %}\n",
    );
    let out = reload(&server);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    for named in ["templates/post.html:5: ", "templates/tag.html:4: "] {
        assert!(said.contains(named), "{named:?} missing from: {said}");
    }
    assert!(server.get(PAGE).text().contains("The first text."));

    // One fixed: the other is still named, the fixed one no longer.
    write_template(&blog, "post.html", &good_post);
    let said = text(&reload(&server));
    assert!(said.contains("templates/tag.html:4: "), "{said}");
    assert!(!said.contains("templates/post.html"), "{said}");
}

#[test]
fn reload_command_without_a_server_says_so() {
    let dir = TempDir::new("no-server");
    let lock = dir.path().join("access.log.lock");
    fs::write(&lock, "12345\n").unwrap();
    let out = Command::new(BIN)
        .args(["reload", "--lock"])
        .arg(&lock)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("no server holds"), "{}", text(&out));
}

/// Replaces `bin` the way an upgrade does (a new file renamed over it), with only the first
/// `keep` bytes of the real binary.
fn install_truncated(bin: &Path, keep: usize) {
    let bytes = fs::read(BIN).unwrap();
    let new = bin.with_extension("new");
    fs::write(&new, &bytes[..keep]).unwrap();
    set_mode(&new, 0o755);
    fs::rename(&new, bin).unwrap();
}

#[test]
fn a_truncated_binary_fails_the_reload_not_the_server() {
    let blog = TempSite::sample();
    blog.write_post("2026-06-01-reload-me.md", POST);
    let dir = TempDir::new("bin");
    let bin = dir.path().join("forkblog");
    fs::copy(BIN, &bin).unwrap();
    set_mode(&bin, 0o755);
    let server = Server::start_binary(&bin, blog.root(), &[]);
    let pid = server.pid();
    blog.write_post(
        "2026-06-01-reload-me.md",
        &POST.replace("The first text.", "The new text."),
    );

    for keep in [4096, 0] {
        install_truncated(&bin, keep);
        let failures = server.log_text().matches("reload failed").count();
        let out = reload(&server);
        assert!(!out.status.success(), "{}", text(&out));
        assert!(
            server.wait_for_log("reload failed", failures + 1, Duration::from_secs(30)),
            "{}",
            server.log_text()
        );
        assert_eq!(server.pid(), pid);
        assert!(
            server.child.id() == pid && fs::metadata(format!("/proc/{pid}")).is_ok(),
            "the server is gone"
        );
        let page = server.get(PAGE);
        assert_eq!(page.status, 200);
        assert!(page.text().contains("The first text."), "old content lost");
    }
    let log = server.log_text();
    assert!(!log.contains("generation 1 serving"), "{log}");

    // The real binary back: the same server reloads.
    fs::copy(BIN, bin.with_extension("new")).unwrap();
    set_mode(&bin.with_extension("new"), 0o755);
    fs::rename(bin.with_extension("new"), &bin).unwrap();
    let out = reload(&server);
    assert!(out.status.success(), "{}", text(&out));
    assert!(server.get(PAGE).text().contains("The new text."));
    assert_eq!(server.pid(), pid);
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The units' `UMask=0027`, then the rest of the command.
const UNIT_UMASK: [&str; 3] = ["sh", "-c", "umask 0027 && exec \"$0\" \"$@\""];

#[test]
fn reload_as_the_service_user_under_the_units_umask() {
    if !is_root() {
        eprintln!("SKIPPED: needs root (a server started as root, reloaded as nobody)");
        return;
    }
    let blog = TempSite::sample();
    blog.write_post("2026-06-01-reload-me.md", POST);
    // As systemd starts forkblog-https: root, under the unit's umask; it drops to nobody.
    let server = Server::start_wrapped(&UNIT_UMASK, blog.root(), &["--user", "nobody"]);
    let lock = format!("{}.lock", server.access_log.display());
    let meta = {
        use std::os::unix::fs::MetadataExt;
        let m = fs::metadata(&lock).unwrap();
        (m.uid(), m.mode() & 0o777)
    };
    assert_eq!(meta, (65534, 0o644), "the lock's owner and mode");

    blog.write_post(
        "2026-06-01-reload-me.md",
        &POST.replace("The first text.", "The second text."),
    );
    // As ExecReload= runs it: the service user, the same umask.
    let out = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .args(UNIT_UMASK)
        .args([BIN, "reload", "--lock", &lock, "--timeout", "60"])
        .output()
        .expect("setpriv (util-linux) is needed for this test");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("generation 1"), "{}", text(&out));
    assert!(server.get(PAGE).text().contains("The second text."));
}

/// The binary of the previous release, to upgrade from: `FORKBLOG_PREVIOUS_BINARY`, which
/// .ci/run (or scripts/upgrade-check.sh) builds from the revision it names.
fn previous_release() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("FORKBLOG_PREVIOUS_BINARY")?;
    Some(std::path::PathBuf::from(path))
}

#[test]
fn a_server_of_the_previous_release_upgrades_in_place() {
    let Some(previous) = previous_release() else {
        // Not `skipped`: a clone without the revision's history cannot build it anywhere.
        eprintln!("SKIPPED: set FORKBLOG_PREVIOUS_BINARY (scripts/upgrade-check.sh) to run it");
        return;
    };
    let blog = TempSite::sample();
    blog.write_post("2026-06-01-reload-me.md", POST);
    let dir = TempDir::new("bin");
    let bin = dir.path().join("forkblog");
    fs::copy(&previous, &bin).unwrap();
    set_mode(&bin, 0o755);
    let root = write_certificate(dir.path(), "handed over");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let tls = [
        "--tls-listen",
        "127.0.0.1:0",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ];
    let server = Server::start_binary(&bin, blog.root(), &tls);
    let pid = server.pid();
    let client = tls_client(&[root]);
    let (page, _) = https_get(&client, server.https_addr(), "localhost", PAGE);
    assert!(page.text().contains("The first text."));
    // A reader's keep-alive connection, open across the upgrade in the old image's child.
    let mut held = connect(server.addr);
    let mut buffered = Vec::new();
    let ask = format!("GET {PAGE} HTTP/1.1\r\nHost: x\r\n\r\n");
    std::io::Write::write_all(&mut held, ask.as_bytes()).unwrap();
    // Plain HTTP sends readers to HTTPS.
    assert_eq!(read_one(&mut held, &mut buffered, false).status, 301);

    // The upgrade: the new binary renamed over the old, then a reload.
    blog.write_post(
        "2026-06-01-reload-me.md",
        &POST.replace("The first text.", "The new text."),
    );
    let new = bin.with_extension("new");
    fs::copy(BIN, &new).unwrap();
    set_mode(&new, 0o755);
    fs::rename(&new, &bin).unwrap();
    server.signal("HUP");
    assert!(
        server.wait_for_log("generation 1 serving", 1, Duration::from_secs(60)),
        "{}",
        server.log_text()
    );
    assert_eq!(server.pid(), pid, "the same process, re-executed");
    let exe = fs::read_link(format!("/proc/{pid}/exe")).unwrap();
    assert_eq!(
        fs::read(&exe).unwrap(),
        fs::read(BIN).unwrap(),
        "not running the new binary"
    );
    let (page, _) = https_get(&client, server.https_addr(), "localhost", PAGE);
    assert!(
        page.text().contains("The new text."),
        "HTTPS lost in the upgrade"
    );
    // The certificate came across in the old image's memfd, read as it was written.
    assert!(
        !server.log_text().contains("unusable"),
        "{}",
        server.log_text()
    );
    // The old image's child, idle between requests, gives way to the new generation: its
    // reader sees the connection closed cleanly (no half response), as an idle keep-alive
    // connection may be at any time (RFC 9112, 9.3.1), and asks again on a new one.
    held.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut rest = Vec::new();
    let _ = std::io::Read::read_to_end(&mut held, &mut rest);
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    drop(held);
    // And the new image reloads itself, reporting through the lock file the old one made.
    let out = reload(&server);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(server.pid(), pid);
    assert!(
        wait_until(Duration::from_secs(10), || server.children().is_empty()),
        "children left: {:?}",
        server.children()
    );
}
