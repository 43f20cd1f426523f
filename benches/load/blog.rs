//! Generated blogs: the repository's templates and settings, with deterministic, realistic posts
//! (~1-2 KB of Markdown each: headings, paragraphs, lists, code, links, 2-3 tags) and one long
//! post, `/posts/bench-post/`, whose page is ~8 KB of HTML: the page every benchmark requests.

use crate::rng::Rng;
use std::fs;
use std::path::Path;

/// The page every benchmark requests.
pub const PAGE: &str = "/posts/bench-post/";

const WORDS: &[&str] = &[
    "process",
    "socket",
    "kernel",
    "fork",
    "page",
    "memory",
    "server",
    "request",
    "response",
    "header",
    "latency",
    "buffer",
    "descriptor",
    "signal",
    "child",
    "parent",
    "table",
    "cache",
    "snapshot",
    "render",
    "template",
    "post",
    "blog",
    "byte",
    "stream",
    "queue",
    "backlog",
    "limit",
    "timeout",
    "connection",
    "client",
    "reader",
    "writer",
    "file",
    "system",
    "call",
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "that",
    "is",
    "for",
    "it",
    "with",
    "as",
    "on",
    "this",
    "when",
    "every",
    "each",
    "one",
    "before",
    "after",
    "never",
    "always",
    "only",
    "still",
    "quickly",
    "quietly",
    "simple",
    "small",
    "careful",
    "shared",
    "private",
    "sealed",
    "mapped",
    "copied",
    "closed",
    "reaped",
    "served",
    "measured",
    "written",
    "read",
    "counted",
    "kept",
    "dropped",
    "held",
    "waits",
    "returns",
    "answers",
    "accepts",
    "exits",
    "grows",
    "stays",
];

const TAGS: &[&str] = &[
    "unix",
    "design",
    "http",
    "performance",
    "rust",
    "linux",
    "memory",
    "debugging",
    "networking",
    "operations",
    "testing",
    "security",
    "markdown",
    "templates",
    "processes",
    "signals",
    "tcp",
    "logging",
    "deploy",
    "notes",
    "history",
    "tools",
    "benchmarks",
    "writing",
];

/// A random word of the generated posts.
trait Words {
    fn word(&mut self) -> &'static str;
}

impl Words for Rng {
    fn word(&mut self) -> &'static str {
        WORDS[self.below(WORDS.len())]
    }
}

fn sentence(rng: &mut Rng) -> String {
    let n = 8 + rng.below(9);
    let mut s = String::new();
    for i in 0..n {
        let w = rng.word();
        match (i, rng.below(14)) {
            (0, _) => {
                let mut c = w.chars();
                s.extend(c.next().map(|c| c.to_ascii_uppercase()));
                s.push_str(c.as_str());
            }
            (_, 0) => s.push_str(&format!(" *{w}*")),
            (_, 1) => s.push_str(&format!(" `{w}()`")),
            (_, 2) => s.push_str(&format!(" [{w}](https://example.org/{w}/)")),
            _ => {
                s.push(' ');
                s.push_str(w);
            }
        }
    }
    s.push('.');
    s
}

fn paragraph(rng: &mut Rng) -> String {
    let n = 3 + rng.below(3);
    (0..n).map(|_| sentence(rng)).collect::<Vec<_>>().join(" ")
}

fn title(rng: &mut Rng, i: usize) -> String {
    let mut t = String::new();
    for j in 0..(3 + rng.below(4)) {
        if j > 0 {
            t.push(' ');
        }
        t.push_str(rng.word());
    }
    format!("{} {t} (part {i})", "Notes on")
}

/// A post body of about `paragraphs` paragraphs, with a heading, a list and a code block.
fn body(rng: &mut Rng, paragraphs: usize) -> String {
    let mut md = String::new();
    for p in 0..paragraphs {
        if p == 1 || (p > 0 && p % 4 == 0) {
            md.push_str(&format!("## {} {}\n\n", rng.word(), rng.word()));
        }
        md.push_str(&paragraph(rng));
        md.push_str("\n\n");
        if p == 1 {
            for _ in 0..3 {
                md.push_str(&format!("- {}\n", sentence(rng)));
            }
            md.push('\n');
        }
        if p == 2 && rng.below(2) == 0 {
            md.push_str(&format!(
                "```rust\nfn {}(fd: RawFd) -> io::Result<usize> {{\n    let n = {}(fd)?;\n    Ok(n)\n}}\n```\n\n",
                rng.word(),
                rng.word()
            ));
        }
    }
    md
}

fn front_matter(title: &str, date: &str, tags: &[&str]) -> String {
    format!(
        "---\ntitle: \"{title}\"\ndate: {date}\ntags: [{}]\n---\n\n",
        tags.join(", ")
    )
}

/// Writes a blog of `posts` posts (the last one is `bench-post`) into `dir`.
pub fn generate(dir: &Path, posts: usize) -> std::io::Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&repo.join("templates"), &dir.join("templates"))?;
    fs::copy(repo.join("forkblog.toml"), dir.join("forkblog.toml"))?;
    let posts_dir = dir.join("posts");
    fs::create_dir_all(&posts_dir)?;
    let start = jiff::civil::datetime(1990, 1, 1, 8, 0, 0, 0);
    let mut rng = Rng(7);
    for i in 1..posts {
        let date = start
            .checked_add(jiff::SignedDuration::from_hours(13 * i as i64))
            .map_err(std::io::Error::other)?;
        let ntags = 2 + rng.below(2);
        let tags: Vec<&str> = (0..ntags).map(|_| TAGS[rng.below(TAGS.len())]).collect();
        let paragraphs = 3 + rng.below(4);
        let text = front_matter(
            &title(&mut rng, i),
            &date.strftime("%Y-%m-%d %H:%M:%S +0000").to_string(),
            &tags,
        ) + &body(&mut rng, paragraphs);
        fs::write(posts_dir.join(format!("post-{i:05}.md")), text)?;
    }
    write_bench_post(dir, None)?;
    Ok(())
}

/// (Re)writes `bench-post`, the newest post; `marker` adds a last paragraph (for reloads).
pub fn write_bench_post(dir: &Path, marker: Option<&str>) -> std::io::Result<()> {
    let mut rng = Rng(42);
    let mut text = front_matter(
        "Benchmark post: what a fork costs",
        "2010-06-01 12:00:00 +0000",
        &["performance", "unix", "benchmarks"],
    ) + &body(&mut rng, 11);
    if let Some(m) = marker {
        text.push_str(&format!("Revision {m}.\n"));
    }
    let path = dir.join("posts").join("bench-post.md");
    // Write a sibling then rename, as an editor would: a reload never sees half a file.
    let tmp = dir.join("bench-post.md.tmp");
    fs::write(&tmp, text)?;
    fs::rename(&tmp, &path)
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for e in fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            fs::copy(e.path(), &target)?;
        }
    }
    Ok(())
}
