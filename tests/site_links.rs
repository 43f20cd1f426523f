//! The site is a closed world: a render reads nothing outside the site root. Symbolic links
//! (to a file, a folder, /etc/passwd, /proc/self/environ), links in page bundles, FIFOs and link
//! loops are skipped and reported with the file named, and none of their targets' bytes reach
//! any page, file or feed. Links that stay inside the root are followed only when
//! `follow_symlinks = "inside"` says so.

mod common;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use common::site::{get, names};
use common::TempSite;
use forkblog::site::files::{SiteFiles, Symlinks};
use forkblog::site::{Build, Problem, Site};

/// Bytes that exist only in the file outside the root.
const SECRET: &str = "secret-3f9c1e-outside-the-root";

/// A folder outside every site root, holding a secret file, a secret post and a secret folder.
struct Outside {
    dir: PathBuf,
}

impl Outside {
    fn new(name: &str) -> Outside {
        let dir =
            std::env::temp_dir().join(format!("forkblog-outside-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("folder")).expect("outside dir");
        std::fs::write(dir.join("secret.txt"), SECRET).expect("secret");
        std::fs::write(dir.join("folder/inner.txt"), SECRET).expect("secret");
        std::fs::write(
            dir.join("secret.md"),
            format!("---\ntitle: Secret\n---\n{SECRET}\n"),
        )
        .expect("secret post");
        Outside { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }
}

impl Drop for Outside {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A small site with one post, one page bundle and a stylesheet of its own.
fn site(name: &str) -> TempSite {
    let t = TempSite::new(name);
    t.file(
        "posts/hello.md",
        "---\ntitle: Hello\ndate: 2024-01-01\n---\nHi.\n",
    )
    .file(
        "posts/trip/index.md",
        "---\ntitle: Trip\ndate: 2024-02-01\n---\n![](photo.png)\n",
    )
    .file("posts/trip/photo.png", b"\x89PNG-photo")
    .file("templates/static/style.css", "body { color: teal }\n");
    t
}

fn link(target: impl AsRef<Path>, t: &TempSite, rel: &str) {
    let at = t.path(rel);
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    symlink(target, at).expect("make symlink");
}

/// Builds on another thread so that a render blocked on a FIFO fails the test instead of
/// hanging it.
fn build_within_deadline(t: &TempSite) -> Build {
    let root = t.root.clone();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(forkblog::site::build(&root));
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the render finished (a FIFO or a link loop must not block it)")
}

/// Fails if any served body (or the 404 page) contains `needle`.
fn assert_no_leak(site: &Site, needle: &[u8], what: &str) {
    assert!(!needle.is_empty());
    for r in site
        .resources
        .iter()
        .chain(std::iter::once(&site.not_found))
    {
        assert!(
            !r.body.windows(needle.len()).any(|w| w == needle),
            "{what} leaked into {}",
            r.path
        );
    }
}

/// The one problem about the file `rel`; fails if there is none.
fn problem_for<'a>(build: &'a Build, rel: &str) -> &'a Problem {
    build
        .problems
        .iter()
        .find(|p| names(&p.file, rel))
        .unwrap_or_else(|| panic!("no problem names {rel}: {:#?}", build.problems))
}

#[test]
fn links_out_of_the_root_are_skipped_reported_and_leak_nothing() {
    let outside = Outside::new("escape");
    let t = site("escape");
    link(
        outside.path("secret.txt"),
        &t,
        "templates/static/secret.txt",
    );
    link(outside.path("folder"), &t, "templates/static/folder");
    link(outside.path("secret.txt"), &t, "templates/root/humans.txt");
    link(outside.path("secret.txt"), &t, "posts/trip/notes.txt");
    link(outside.path("secret.md"), &t, "posts/secret.md");
    link("/etc/passwd", &t, "templates/static/passwd.txt");
    link("/proc/self/environ", &t, "templates/static/environ.txt");

    let build = build_within_deadline(&t);
    let site = build.site.as_ref().expect("the rest of the site renders");
    assert_eq!(site.post_count, 2, "the linked post is not published");
    assert!(get(site, "/posts/hello/").is_some() && get(site, "/posts/trip/photo.png").is_some());
    assert!(get(site, "/static/style.css").is_some());

    assert_no_leak(site, SECRET.as_bytes(), "a linked file");
    let passwd = std::fs::read("/etc/passwd").unwrap();
    assert_no_leak(site, &passwd[..passwd.len().min(64)], "/etc/passwd");
    let environ = std::fs::read("/proc/self/environ").unwrap();
    if environ.len() >= 16 {
        assert_no_leak(
            site,
            &environ[..environ.len().min(64)],
            "/proc/self/environ",
        );
    }
    for path in [
        "/static/secret.txt",
        "/static/folder/inner.txt",
        "/humans.txt",
        "/posts/trip/notes.txt",
        "/posts/secret/",
        "/static/passwd.txt",
        "/static/environ.txt",
    ] {
        assert!(get(site, path).is_none(), "{path} is served");
    }

    for rel in [
        "templates/static/secret.txt",
        "templates/static/folder",
        "templates/root/humans.txt",
        "posts/trip/notes.txt",
        "posts/secret.md",
        "templates/static/passwd.txt",
        "templates/static/environ.txt",
    ] {
        let p = problem_for(&build, rel);
        assert!(p.message.contains("symbolic link"), "{p}");
        assert!(
            p.message.contains("follow_symlinks"),
            "says how to allow: {p}"
        );
    }
    assert_eq!(build.problems.len(), 7, "{:#?}", build.problems);
    // Each problem names the link, never what it points at beyond the target's path.
    assert!(build
        .problems
        .iter()
        .all(|p| !p.to_string().contains(SECRET)));
}

#[test]
fn special_files_are_skipped_and_reported_without_blocking_the_render() {
    let t = site("fifo");
    for rel in ["posts/trip/pipe.png", "templates/static/pipe.css"] {
        let status = std::process::Command::new("mkfifo")
            .arg(t.path(rel))
            .status()
            .expect("run mkfifo");
        assert!(status.success());
    }
    let build = build_within_deadline(&t);
    let site = build.site.as_ref().expect("site renders");
    assert!(get(site, "/posts/trip/pipe.png").is_none());
    assert!(get(site, "/static/pipe.css").is_none());
    for rel in ["posts/trip/pipe.png", "templates/static/pipe.css"] {
        let p = problem_for(&build, rel);
        assert!(p.message.contains("FIFO"), "{p}");
    }
    assert_eq!(build.problems.len(), 2, "{:#?}", build.problems);
}

#[test]
fn links_inside_the_root_need_the_setting_and_then_work() {
    let outside = Outside::new("inside");
    let t = site("inside");
    t.file("posts/shared/logo.png", b"logo");
    link("style.css", &t, "templates/static/alias.css");
    link("../shared", &t, "posts/trip/shared");
    link("../hello.md", &t, "posts/more/hello-again.md");

    // Without the setting, inside links are refused like any other.
    let build = build_within_deadline(&t);
    let site = build.site.as_ref().expect("site renders");
    assert!(get(site, "/static/alias.css").is_none());
    assert!(get(site, "/posts/trip/shared/logo.png").is_none());
    assert!(get(site, "/posts/hello-again/").is_none());
    for rel in [
        "templates/static/alias.css",
        "posts/trip/shared",
        "posts/more/hello-again.md",
    ] {
        let p = problem_for(&build, rel);
        assert!(p.message.contains("follow_symlinks = \"inside\""), "{p}");
    }
    assert_eq!(build.problems.len(), 3, "{:#?}", build.problems);

    // With it, they are followed; links out stay refused.
    t.file("forkblog.toml", "follow_symlinks = \"inside\"\n");
    link(
        outside.path("secret.txt"),
        &t,
        "templates/static/secret.txt",
    );
    link("/etc/passwd", &t, "templates/static/passwd.txt");
    link("/proc/self/environ", &t, "posts/trip/environ.txt");
    let build = build_within_deadline(&t);
    let site = build.site.as_ref().expect("site renders");
    assert_eq!(
        get(site, "/static/alias.css")
            .expect("file link followed")
            .body
            .as_ref(),
        b"body { color: teal }\n"
    );
    assert_eq!(
        get(site, "/posts/trip/shared/logo.png")
            .expect("folder link in a bundle followed")
            .body
            .as_ref(),
        b"logo"
    );
    assert!(get(site, "/posts/hello-again/").is_some(), "linked post");
    assert_no_leak(site, SECRET.as_bytes(), "a linked file");
    let passwd = std::fs::read("/etc/passwd").unwrap();
    assert_no_leak(site, &passwd[..passwd.len().min(64)], "/etc/passwd");
    for rel in [
        "templates/static/secret.txt",
        "templates/static/passwd.txt",
        "posts/trip/environ.txt",
    ] {
        let p = problem_for(&build, rel);
        assert!(p.message.contains("outside the site root"), "{p}");
    }
    assert_eq!(build.problems.len(), 3, "{:#?}", build.problems);
}

#[test]
fn link_loops_are_reported_not_followed_forever() {
    let t = site("loop");
    link("b.md", &t, "posts/a.md");
    link("a.md", &t, "posts/b.md");
    link("..", &t, "posts/trip/up");
    let build = build_within_deadline(&t);
    assert_eq!(build.site.as_ref().expect("site").post_count, 2);
    for rel in ["posts/a.md", "posts/b.md", "posts/trip/up"] {
        problem_for(&build, rel);
    }

    t.file("forkblog.toml", "follow_symlinks = \"inside\"\n");
    let build = build_within_deadline(&t);
    assert_eq!(build.site.as_ref().expect("site").post_count, 2);
    for rel in ["posts/a.md", "posts/b.md"] {
        let p = problem_for(&build, rel);
        assert!(p.message.contains("cannot be resolved"), "{p}");
    }
    let up = problem_for(&build, "posts/trip/up");
    assert!(up.message.contains("folder above it"), "{up}");
    assert_eq!(build.problems.len(), 3, "{:#?}", build.problems);
}

#[test]
fn linked_settings_posts_or_templates_folders_stop_the_build() {
    let outside = Outside::new("folders");
    std::fs::write(outside.path("forkblog.toml"), "title = \"Outside\"\n").unwrap();

    let t = site("linked-settings");
    link(outside.path("forkblog.toml"), &t, "forkblog.toml");
    let build = build_within_deadline(&t);
    assert!(build.site.is_none());
    assert!(problem_for(&build, "forkblog.toml")
        .message
        .contains("symbolic link"));

    let t = TempSite::new("linked-posts");
    std::fs::remove_dir(t.path("posts")).unwrap();
    link(outside.path("folder"), &t, "posts");
    let build = build_within_deadline(&t);
    assert!(build.site.is_none(), "no site from a linked posts folder");
    assert!(problem_for(&build, "posts")
        .message
        .contains("symbolic link"));

    let t = site("linked-templates");
    std::fs::remove_dir_all(t.path("templates")).unwrap();
    link(outside.path("folder"), &t, "templates");
    let build = build_within_deadline(&t);
    assert!(
        build.site.is_none(),
        "no site from a linked templates folder"
    );
    problem_for(&build, "templates");
}

#[test]
fn the_reader_refuses_links_even_where_the_walk_did_not_look() {
    // The walk lists files; the read is the gate. A file or folder swapped for a link after the
    // walk is refused by the read itself.
    let outside = Outside::new("reader");
    let t = site("reader");
    link(outside.path("secret.txt"), &t, "posts/trip/swapped.png");
    link(outside.path("folder"), &t, "posts/swapped");
    std::fs::write(t.path("posts/regular.png"), b"fine").unwrap();
    let fifo = t.path("posts/trip/fifo.png");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo")
        .success());
    for rule in [Symlinks::Never, Symlinks::Inside] {
        let files = SiteFiles::open(&t.root, rule).expect("open root");
        let read = files
            .read(&t.path("posts/regular.png"))
            .expect("a plain file reads");
        assert_eq!(read.bytes, b"fine");
        for rel in ["posts/trip/swapped.png", "posts/swapped/inner.txt"] {
            let err = files
                .read(&t.path(rel))
                .expect_err("a link out is never read");
            assert!(
                err.to_string().contains("symbolic link"),
                "{rule:?} {rel}: {err}"
            );
        }
        // Opened without blocking for a writer, then refused by its type.
        let err = files.read(&fifo).expect_err("a FIFO is never read");
        assert!(err.to_string().contains("FIFO"), "{err}");
    }
}

#[test]
fn check_fails_and_names_the_link() {
    let outside = Outside::new("check");
    let t = site("check");
    link(
        outside.path("secret.txt"),
        &t,
        "templates/static/secret.txt",
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_forkblog"))
        .args(["check", "--root", t.root.to_str().unwrap()])
        .output()
        .expect("run forkblog check");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("templates/static/secret.txt: a symbolic link"),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET) && !String::from_utf8_lossy(&out.stdout).contains(SECRET));
}
