//! Incremental rendering: after every kind of change, a render that reuses the snapshot before
//! it is byte for byte the snapshot a full render makes, and it does reuse what did not change.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use forkblog::render::worker::render_bytes;
use forkblog::server::render_job::{Preview, Strictness};
use forkblog::server::snapshot::View;
use forkblog::site::{self, incremental::Previous, Site};

/// A site root in a fresh temporary directory, removed on drop.
struct TempRoot(PathBuf);

impl TempRoot {
    fn new(name: &str) -> TempRoot {
        let root =
            std::env::temp_dir().join(format!("forkblog-incr-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("posts")).expect("create root");
        TempRoot(root)
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    fn remove(&self, rel: &str) {
        std::fs::remove_file(self.0.join(rel)).expect("remove");
    }

    fn rename(&self, from: &str, to: &str) {
        std::fs::rename(self.0.join(from), self.0.join(to)).expect("rename");
    }
}

impl Drop for TempRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn post(title: &str, date: &str, tags: &[&str], body: &str) -> String {
    format!(
        "---\ntitle: \"{title}\"\ndate: {date}\ntags: [{}]\n---\n{body}\n\n```rust\nfn main() {{}}\n```\n",
        tags.join(", ")
    )
}

/// A site with paginated listings, tags, a draft, a page, a page bundle and links between posts.
fn seed(root: &TempRoot) {
    root.write(
        "forkblog.toml",
        "title = \"Incremental\"\nbase_url = \"https://example.org\"\nposts_per_page = 3\nfeed_entries = 4\n",
    );
    for i in 0..14 {
        let tags: &[&str] = match i % 3 {
            0 => &["rust", "unix"],
            1 => &["unix"],
            _ => &["notes"],
        };
        root.write(
            &format!("posts/2024-01-{:02}-post-{i}.md", i + 1),
            &post(
                &format!("Post {i}"),
                &format!("2024-01-{:02}", i + 1),
                tags,
                &format!("Body of post {i}, *with* words."),
            ),
        );
    }
    root.write(
        "posts/2024-02-01-linker.md",
        &post(
            "Linker",
            "2024-02-01",
            &["rust"],
            "See [five]({% post_url 2024-01-06-post-5 %}).",
        ),
    );
    root.write(
        "posts/2024-02-03-pointer.md",
        &post(
            "Pointer",
            "2024-02-03",
            &["notes"],
            "Read [nine](/posts/post-9/).",
        ),
    );
    root.write(
        "posts/draft.md",
        "---\ntitle: Draft\ndate: 2024-03-01\ndraft: true\n---\nNot yet.\n",
    );
    root.write(
        "posts/bundle/index.md",
        &post("Bundle", "2024-02-02", &["photos"], "![p](photo.txt)"),
    );
    root.write("posts/bundle/photo.txt", "not really a photo\n");
    root.write(
        "pages/about.md",
        "---\ntitle: About\n---\nAbout this site.\n",
    );
}

/// The snapshot with its render time zeroed and its render record left out: the record holds
/// post files' identities, taken only once a file is two seconds old, so two renders a moment
/// apart may record different ones. Everything served is compared; the record shows in what
/// the next render of the series makes.
fn comparable(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes[16..24].fill(0);
    let at = u32::from_le_bytes(bytes[28..32].try_into().expect("4 bytes")) as usize;
    if at != 0 {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        bytes.drain(at..at + 4 + len);
    }
    bytes
}

fn render(root: &Path, preview: Preview, previous: Option<&[u8]>) -> Vec<u8> {
    render_bytes(
        root,
        Strictness::SkipBrokenPosts,
        preview,
        previous.map(View::new),
    )
    .expect("renders")
}

/// Each change, then an incremental render compared with a full one.
/// A named change to a site.
type Change = (&'static str, fn(&TempRoot));

fn changes() -> Vec<Change> {
    vec![
        ("nothing", |_: &TempRoot| {}),
        ("a body edited", |r: &TempRoot| {
            r.write(
                "posts/2024-01-08-post-7.md",
                &post("Post 7", "2024-01-08", &["unix"], "A new body."),
            );
        }),
        ("a title edited", |r: &TempRoot| {
            r.write(
                "posts/2024-01-03-post-2.md",
                &post(
                    "Post two",
                    "2024-01-03",
                    &["notes"],
                    "Body of post 2, *with* words.",
                ),
            );
        }),
        ("a post renamed", |r: &TempRoot| {
            r.rename("posts/2024-01-04-post-3.md", "posts/2024-01-04-renamed.md")
        }),
        ("the linked post renamed", |r: &TempRoot| {
            r.rename("posts/2024-01-06-post-5.md", "posts/2024-01-06-five.md")
        }),
        ("the link fixed", |r: &TempRoot| {
            r.write(
                "posts/2024-02-01-linker.md",
                &post(
                    "Linker",
                    "2024-02-01",
                    &["rust"],
                    "See [five]({% post_url 2024-01-06-five %}).",
                ),
            );
        }),
        ("a post deleted", |r: &TempRoot| {
            r.remove("posts/2024-01-10-post-9.md")
        }),
        ("a date changed", |r: &TempRoot| {
            r.write(
                "posts/2024-01-02-post-1.md",
                &post(
                    "Post 1",
                    "2024-05-01",
                    &["unix"],
                    "Body of post 1, *with* words.",
                ),
            );
        }),
        ("tags changed", |r: &TempRoot| {
            r.write(
                "posts/2024-01-12-post-11.md",
                &post(
                    "Post 11",
                    "2024-01-12",
                    &["brand-new", "rust"],
                    "Body of post 11, *with* words.",
                ),
            );
        }),
        ("a post added", |r: &TempRoot| {
            r.write(
                "posts/2024-01-20-added.md",
                &post("Added", "2024-01-20", &["unix"], "New here."),
            );
        }),
        ("a file touched", |r: &TempRoot| {
            let path = r.0.join("posts/2024-01-14-post-13.md");
            let file = std::fs::File::options()
                .write(true)
                .open(path)
                .expect("open");
            file.set_modified(std::time::SystemTime::now() - Duration::from_secs(3600))
                .expect("touch");
        }),
        ("a bundle file edited", |r: &TempRoot| {
            r.write("posts/bundle/photo.txt", "another photo\n")
        }),
        ("a second post claims a URL", |r: &TempRoot| {
            r.write(
                "posts/2024-01-30-clash.md",
                "---\ntitle: Clash\ndate: 2024-01-30\nslug: post-4\n---\nThe newer claim wins.\n",
            );
        }),
        ("the clash resolved", |r: &TempRoot| {
            r.write(
                "posts/2024-01-30-clash.md",
                "---\ntitle: Clash\ndate: 2024-01-30\n---\nThe newer claim wins.\n",
            );
        }),
        ("a post with raw HTML added", |r: &TempRoot| {
            r.write(
                "posts/2024-01-31-raw.md",
                "---\ntitle: Raw\ndate: 2024-01-31\n---\n<b onclick=\"steal()\">bold</b> and <script>x()</script>\n",
            );
        }),
        ("raw HTML allowed", |r: &TempRoot| {
            r.write(
                "forkblog.toml",
                "title = \"Incremental\"\nbase_url = \"https://example.org\"\nposts_per_page = 3\nfeed_entries = 4\nunsafe_html = true\n",
            );
        }),
        ("raw HTML sanitised again", |r: &TempRoot| {
            r.write(
                "forkblog.toml",
                "title = \"Incremental\"\nbase_url = \"https://example.org\"\nposts_per_page = 3\nfeed_entries = 4\n",
            );
        }),
        ("a template edited", |r: &TempRoot| {
            r.write(
                "templates/post.html",
                "{% extends \"base.html\" %}{% block content %}<article><h1>{{ post.title }}</h1>{{ post.content }}<p>{{ newer.title }} / {{ older.title }}</p></article>{% endblock %}\n",
            );
        }),
        ("a body edited under the new template", |r: &TempRoot| {
            r.write(
                "posts/2024-01-08-post-7.md",
                &post("Post 7", "2024-01-08", &["unix"], "Yet another body."),
            );
        }),
        ("settings edited", |r: &TempRoot| {
            r.write(
                "forkblog.toml",
                "title = \"Renamed\"\nbase_url = \"https://example.org\"\nposts_per_page = 4\nfeed_entries = 4\n",
            );
        }),
        ("the draft published", |r: &TempRoot| {
            r.write(
                "posts/draft.md",
                "---\ntitle: Draft\ndate: 2024-03-01\n---\nNow out.\n",
            );
        }),
        ("the template removed", |r: &TempRoot| {
            r.remove("templates/post.html")
        }),
    ]
}

fn series(name: &str, preview: Preview) {
    let root = TempRoot::new(name);
    seed(&root);
    // Old enough for their identities to be recorded: unchanged posts are then taken unread.
    wait_until_settled(&root.0);
    let mut previous = render(&root.0, preview, None);
    for (what, change) in changes() {
        change(&root);
        let incremental = render(&root.0, preview, Some(&previous));
        let full = render(&root.0, preview, None);
        assert!(
            comparable(incremental.clone()) == comparable(full),
            "after '{what}' the incremental render differs from the full one"
        );
        previous = incremental;
    }
}

#[test]
fn incremental_renders_equal_full_renders_after_every_change() {
    series("published", Preview::default());
}

#[test]
fn incremental_renders_equal_full_renders_in_preview() {
    series(
        "preview",
        Preview {
            live: true,
            drafts: true,
        },
    );
}

/// The earlier render as a site: its record and its bodies.
struct Before {
    record: Vec<u8>,
    bodies: HashMap<String, Vec<u8>>,
}

impl Previous for Before {
    fn record(&self) -> &[u8] {
        &self.record
    }
    fn body(&self, path: &str) -> Option<Cow<'_, [u8]>> {
        self.bodies.get(path).map(|b| Cow::Borrowed(&b[..]))
    }
}

fn before(site: &Site, record: Vec<u8>) -> Before {
    Before {
        record,
        bodies: site
            .resources
            .iter()
            .map(|r| (r.path.clone(), r.body.to_vec()))
            .collect(),
    }
}

#[test]
fn an_edit_reuses_every_other_post_and_page() {
    let root = TempRoot::new("reuse");
    seed(&root);
    let (build, record) = site::build_incremental(&root.0, false, None);
    let first = build.site.expect("builds");
    let earlier = before(&first, record);
    // Nothing changed: every post and every page comes back.
    let (again, record) = site::build_incremental(&root.0, false, Some(&earlier));
    assert_eq!(again.reused_posts, 16, "all but the linking post");
    let pages = first
        .resources
        .iter()
        .filter(|r| r.content_type.starts_with("text/html") && site::redirect::target(r).is_none())
        .count();
    assert_eq!(
        again.reused_pages, pages,
        "every page (the 404 page is not among them)"
    );
    // One body edited: that post is read again, and the pages its summary shows on are made
    // again: its own, its two neighbours' (which show it as newer/older), its index page, its
    // tag's page and the archive.
    root.write(
        "posts/2024-01-08-post-7.md",
        &post("Post 7", "2024-01-08", &["unix"], "A new body."),
    );
    let earlier = before(&again.site.expect("builds"), record);
    let (edited, _) = site::build_incremental(&root.0, false, Some(&earlier));
    assert_eq!(edited.reused_posts, 15);
    assert_eq!(edited.reused_pages, pages - 6);
    // A template change: every page is made again, from posts as they were.
    root.write(
        "templates/tags.html",
        "{% extends \"base.html\" %}{% block content %}tags{% endblock %}\n",
    );
    let (templated, _) = site::build_incremental(&root.0, false, Some(&earlier));
    assert_eq!((templated.reused_posts, templated.reused_pages), (15, 0));
    // A settings change reuses nothing.
    root.write("forkblog.toml", "title = \"Other\"\nposts_per_page = 3\n");
    let (settings, _) = site::build_incremental(&root.0, false, Some(&earlier));
    assert_eq!((settings.reused_posts, settings.reused_pages), (0, 0));
}

/// Waits until every file under `root` was last changed longer ago than a render trusts a
/// file's identity for (two seconds), so that the next render records identities.
fn wait_until_settled(root: &Path) {
    fn newest(dir: &Path, mut best: std::time::SystemTime) -> std::time::SystemTime {
        use std::os::unix::fs::MetadataExt;
        for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let m = entry.metadata().expect("metadata");
            let changed =
                std::time::UNIX_EPOCH + Duration::new(m.ctime() as u64, m.ctime_nsec() as u32);
            best = best.max(changed);
            if m.is_dir() {
                best = newest(&entry.path(), best);
            }
        }
        best
    }
    // Past the render's margin for trusting a file's identity (2 s, `RACY_MARGIN`).
    let settled = newest(root, std::time::UNIX_EPOCH) + Duration::from_millis(2200);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::SystemTime::now() < settled {
        assert!(
            std::time::Instant::now() < deadline,
            "clock does not advance"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_unchanged_file_is_not_read_and_a_same_size_edit_with_its_time_restored_is_seen() {
    let root = TempRoot::new("identity");
    seed(&root);
    wait_until_settled(&root.0);
    let (build, record) = site::build_incremental(&root.0, false, None);
    let earlier = before(&build.site.expect("builds"), record);
    let (again, record) = site::build_incremental(&root.0, false, Some(&earlier));
    assert_eq!(
        (again.reused_posts, again.unread_posts),
        (16, 16),
        "every post but the linking one, none of them read"
    );
    let earlier = before(&again.site.expect("builds"), record);
    // Same length, same inode, modification time put back as it was: only the status-change
    // time tells.
    let path = root.0.join("posts/2024-01-08-post-7.md");
    let meta = std::fs::metadata(&path).expect("stat");
    let text = std::fs::read_to_string(&path).expect("read");
    let edited = text.replace("Body of post 7", "Body of pest 7");
    assert_ne!(edited, text);
    assert_eq!(edited.len(), text.len());
    std::fs::write(&path, &edited).expect("write");
    let times = |t: std::io::Result<std::time::SystemTime>| {
        let d = t
            .expect("time")
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970");
        nix::sys::time::TimeSpec::new(d.as_secs() as i64, i64::from(d.subsec_nanos()))
    };
    nix::sys::stat::utimensat(
        nix::fcntl::AT_FDCWD,
        &path,
        &times(meta.accessed()),
        &times(meta.modified()),
        nix::sys::stat::UtimensatFlags::FollowSymlink,
    )
    .expect("restore the times");
    assert_eq!(
        std::fs::metadata(&path).expect("stat").modified().ok(),
        meta.modified().ok()
    );
    wait_until_settled(&root.0);
    let (incremental, _) = site::build_incremental(&root.0, false, Some(&earlier));
    assert_eq!(
        (incremental.reused_posts, incremental.unread_posts),
        (15, 15)
    );
    let full = site::build(&root.0);
    let bodies = |site: &Site| {
        site.resources
            .iter()
            .map(|r| (r.path.clone(), r.body.clone()))
            .collect::<Vec<_>>()
    };
    let incremental = bodies(&incremental.site.expect("builds"));
    assert_eq!(incremental, bodies(&full.site.expect("builds")));
    assert!(incremental
        .iter()
        .any(|(_, body)| memchr::memmem::find(body, b"Body of pest 7").is_some()));
}

#[test]
fn problems_are_those_of_a_full_build() {
    let root = TempRoot::new("problems");
    seed(&root);
    let (build, mut record) = site::build_incremental(&root.0, false, None);
    let mut earlier = before(&build.site.expect("builds"), record);
    for (what, change) in changes() {
        change(&root);
        let (incremental, next) = site::build_incremental(&root.0, false, Some(&earlier));
        let full = site::build(&root.0);
        assert_eq!(incremental.problems, full.problems, "after '{what}'");
        if what == "a post deleted" {
            assert!(
                full.problems
                    .iter()
                    .any(|p| p.message.contains("/posts/post-9/")),
                "the unchanged page that links to the deleted post is reported: {:?}",
                full.problems
            );
        }
        record = next;
        earlier = before(&incremental.site.expect("builds"), record);
    }
}
