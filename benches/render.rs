//! Render time for generated blogs: `cargo bench --bench render [-- POSTS...]`; with
//! `--reload [POSTS]`, reload and cold-render figures through the server instead
//! (`render/reload.rs`).
//!
//! Writes blogs of 10 and 10,000 posts (a few KB each, with code blocks, a table, a list and
//! tags) under the temporary directory, then times `forkblog::site::build` on each, three runs,
//! and prints the times with the peak resident memory of this process.

#[path = "load/blog.rs"]
#[allow(dead_code)]
mod blog;
#[path = "render/reload.rs"]
mod reload;
#[path = "support/rng.rs"]
#[allow(dead_code)]
mod rng;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const TAGS: &[&str] = &[
    "unix",
    "rust",
    "http",
    "design",
    "performance",
    "memory",
    "signals",
    "fds",
    "zombies",
    "testing",
    "ops",
    "notes",
];

fn post(i: usize) -> String {
    let year = 2000 + i % 25;
    let month = 1 + i % 12;
    let day = 1 + i % 28;
    let tags = [
        TAGS[i % TAGS.len()],
        TAGS[(i / 7) % TAGS.len()],
        TAGS[(i / 31) % TAGS.len()],
    ];
    let mut s = format!(
        "---\ntitle: \"Generated post number {i}: notes on <forks> & descriptors\"\ndate: {year}-{month:02}-{day:02} {h:02}:{m:02}:00 +0100\ntags: [{}]\ndescription: A generated post for the render benchmark.\n---\n\n",
        tags.join(", "),
        h = i % 24,
        m = i % 60,
    );
    s.push_str("This post exists to measure rendering. It has *emphasis*, **strong text**, `inline code`, \"smart quotes\" and a [link](https://example.com/a?b=c&d=e).\n\n");
    for section in 0..5 {
        s.push_str(&format!("## Section {section} of post {i}\n\n"));
        s.push_str("A paragraph of ordinary prose about file descriptors, processes and the small decisions that keep a server boring. ");
        s.push_str("Every connection is a process; every process is reaped; every descriptor is closed exactly once.[^n]\n\n");
        s.push_str("```rust\nfn serve(conn: OwnedFd) -> io::Result<()> {\n    let mut buf = [0u8; 8192];\n    loop {\n        let n = read(&conn, &mut buf)?;\n        if n == 0 { return Ok(()); }\n        write_all(&conn, respond(&buf[..n]))?;\n    }\n}\n```\n\n");
        s.push_str("| Metric | Before | After |\n|---|---:|---:|\n| fds | 12 | 12 |\n| zombies | 0 | 0 |\n| RSS (MB) | 3.1 | 3.1 |\n\n");
        s.push_str("- [x] accept\n- [x] fork\n- [ ] ~~thread~~\n\n");
    }
    s.push_str("[^n]: A footnote.\n");
    s
}

fn generate(n: usize) -> PathBuf {
    let root = std::env::temp_dir().join(format!("forkblog-bench-{n}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let posts = root.join("posts");
    std::fs::create_dir_all(&posts).expect("create bench root");
    for i in 0..n {
        std::fs::write(posts.join(format!("post-{i:05}.md")), post(i)).expect("write post");
    }
    root
}

fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time (user + system) this process has used so far, from /proc/self/stat.
fn cpu_time() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn run(root: &Path, n: usize) {
    let bytes: u64 = std::fs::read_dir(root.join("posts"))
        .map(|d| {
            d.filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    let mut times: Vec<Duration> = Vec::new();
    let mut cpu: Vec<Duration> = Vec::new();
    let mut summary = String::new();
    for _ in 0..3 {
        let start = Instant::now();
        let cpu_start = cpu_time();
        let build = forkblog::site::build(root);
        times.push(start.elapsed());
        cpu.push(cpu_time().saturating_sub(cpu_start));
        assert!(build.problems.is_empty(), "{:?}", build.problems.first());
        let site = build.site.expect("site");
        assert_eq!(site.post_count, n);
        let body: usize = site.resources.iter().map(|r| r.body.len()).sum();
        summary = format!(
            "{} resources, {:.1} MB of bodies",
            site.resources.len(),
            body as f64 / 1e6
        );
    }
    times.sort();
    cpu.sort();
    println!(
        "{n:>6} posts ({:.1} MB of Markdown): wall best {:.3} s, median {:.3} s; CPU (user+sys) best {:.2} s; {summary}; peak RSS so far {} MB",
        bytes as f64 / 1e6,
        times[0].as_secs_f64(),
        times[1].as_secs_f64(),
        cpu[0].as_secs_f64(),
        peak_rss_kb().map(|k| k / 1024).unwrap_or(0),
    );
}

/// Single-threaded CPU cost of the per-post steps, to see where the time goes.
fn phases(n: usize) {
    let sources: Vec<String> = (0..n).map(post).collect();
    let start = Instant::now();
    let mut offsets = Vec::with_capacity(n);
    for s in &sources {
        offsets.push(
            forkblog::site::frontmatter::parse(s)
                .expect("front matter")
                .1,
        );
    }
    let front = start.elapsed();
    let start = Instant::now();
    let mut html = 0;
    for (s, offset) in sources.iter().zip(&offsets) {
        html += forkblog::site::markdown::render(&s[*offset..], false)
            .html
            .len();
    }
    let markdown = start.elapsed();
    let start = Instant::now();
    for (s, offset) in sources.iter().zip(&offsets) {
        let mut out = String::new();
        let parser =
            pulldown_cmark::Parser::new_ext(&s[*offset..], forkblog::site::markdown::options());
        pulldown_cmark::html::push_html(&mut out, parser);
    }
    let raw = start.elapsed();
    println!(
        "{n:>6} posts, one thread: front matter {:.3} s, Markdown {:.3} s ({:.1} MB of HTML; bare pulldown-cmark {:.3} s)",
        front.as_secs_f64(),
        markdown.as_secs_f64(),
        html as f64 / 1e6,
        raw.as_secs_f64()
    );
}

/// Render plus encoding in this process, as the render worker does it, on the generated
/// 10,000-post blog: cold, then after one post edited and after `base.html` edited, each reusing
/// the snapshot before it. Wall and CPU time (CPU time is what the machine's load does not
/// change), five runs each.
fn incremental() {
    use forkblog::render::worker::render_bytes;
    use forkblog::server::render_job::{Preview, Strictness};
    use forkblog::server::snapshot::View;
    let work = std::env::temp_dir().join(format!("forkblog-bench-incr-{}", std::process::id()));
    blog::generate(&work, 10_000).expect("generate");
    let render = |previous: Option<&[u8]>| {
        let (t, c) = (Instant::now(), cpu_time());
        let bytes = render_bytes(
            &work,
            Strictness::AllOrNothing,
            Preview::default(),
            previous.map(View::new),
        )
        .expect("renders");
        (bytes, t.elapsed(), cpu_time().saturating_sub(c))
    };
    let report = |what: &str, runs: &mut Vec<(Duration, Duration)>| {
        runs.sort();
        let cpu: Vec<String> = runs
            .iter()
            .map(|r| format!("{:.0}", r.1.as_secs_f64() * 1000.0))
            .collect();
        println!(
            "{what}: wall median {:.0} ms (best {:.0}); CPU {} ms; load {}",
            runs[runs.len() / 2].0.as_secs_f64() * 1000.0,
            runs[0].0.as_secs_f64() * 1000.0,
            cpu.join(", "),
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .trim()
        );
    };
    let mut cold = Vec::new();
    let mut previous = Vec::new();
    for _ in 0..3 {
        let (bytes, wall, cpu) = render(None);
        cold.push((wall, cpu));
        previous = bytes;
    }
    report("cold render + encoding", &mut cold);
    let mut edits = Vec::new();
    for n in 0..5 {
        blog::write_bench_post(&work, Some(&format!("e{n}"))).expect("edit");
        let (bytes, wall, cpu) = render(Some(&previous));
        edits.push((wall, cpu));
        previous = bytes;
    }
    report("one post edited, reusing the previous snapshot", &mut edits);
    let base = work.join("templates/base.html");
    let text = std::fs::read_to_string(&base).expect("base.html");
    let mut templates = Vec::new();
    for n in 0..3 {
        std::fs::write(&base, format!("{text}<!-- t{n} -->\n")).expect("edit");
        let (bytes, wall, cpu) = render(Some(&previous));
        templates.push((wall, cpu));
        previous = bytes;
    }
    report(
        "base.html edited, reusing the previous snapshot",
        &mut templates,
    );
    println!(
        "peak RSS of this process: {} MB",
        peak_rss_kb().unwrap_or(0) / 1024
    );
    let _ = std::fs::remove_dir_all(&work);
}

/// Single-threaded gzip of every compressible body of the generated 10,000-post blog: zlib-rs
/// (flate2) against libdeflate at a few levels, time and total size.
fn gzip_levels() {
    use std::io::Write as _;
    let work = std::env::temp_dir().join(format!("forkblog-bench-gzip-{}", std::process::id()));
    blog::generate(&work, 10_000).expect("generate");
    let site = forkblog::site::build(&work).site.expect("site");
    let _ = std::fs::remove_dir_all(&work);
    let bodies: Vec<&[u8]> = site
        .resources
        .iter()
        .filter(|r| r.body.len() >= 256 && !r.content_type.starts_with("image/"))
        .map(|r| &r.body[..])
        .collect();
    let total: usize = bodies.iter().map(|b| b.len()).sum();
    println!(
        "{} bodies, {:.1} MB; load {}",
        bodies.len(),
        total as f64 / 1e6,
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    for level in [1, 6] {
        let t = Instant::now();
        let mut size = 0;
        for b in &bodies {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
            e.write_all(b).expect("gzip");
            size += e.finish().expect("gzip").len();
        }
        println!(
            "zlib-rs level {level}: {:.0} ms, {:.2} MB",
            t.elapsed().as_secs_f64() * 1000.0,
            size as f64 / 1e6
        );
    }
    for level in [1, 4, 5, 6, 7] {
        let t = Instant::now();
        let mut c =
            libdeflater::Compressor::new(libdeflater::CompressionLvl::new(level).expect("level"));
        let mut size = 0;
        for b in &bodies {
            let mut out = vec![0; c.gzip_compress_bound(b.len())];
            size += c.gzip_compress(b, &mut out).expect("gzip");
        }
        println!(
            "libdeflate level {level}: {:.0} ms, {:.2} MB",
            t.elapsed().as_secs_f64() * 1000.0,
            size as f64 / 1e6
        );
    }
}

fn main() {
    env_logger::init();
    if std::env::args().any(|a| a == "--reload") {
        let posts = std::env::args()
            .skip(1)
            .find_map(|a| a.parse().ok())
            .unwrap_or(10_000);
        reload::run(posts);
        return;
    }
    if std::env::args().any(|a| a == "--incremental") {
        incremental();
        return;
    }
    if std::env::args().any(|a| a == "--gzip") {
        gzip_levels();
        return;
    }
    if std::env::args().any(|a| a == "--phases") {
        phases(10_000);
        return;
    }
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let counts = if counts.is_empty() {
        vec![10, 10_000]
    } else {
        counts
    };
    println!(
        "threads available: {}; load average before: {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    for n in counts {
        let root = generate(n);
        run(&root, n);
        let _ = std::fs::remove_dir_all(&root);
    }
}
