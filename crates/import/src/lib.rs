//! `forkblog import jekyll|hugo|zola SRC --root DEST`: a Jekyll, Hugo or Zola site moved into a
//! forkblog root without breaking a link.
//!
//! Each generator's module reads its own settings and lays out a [`Plan`]: the settings for
//! `forkblog.toml`, and every post, page and file with where it goes and, for posts and pages,
//! the URL the old site served it at. Carrying the plan out ([`carry_out`]) copies the files and
//! checks each post against forkblog's own URL rules (the same code `build` runs): a post whose
//! old URL the new pattern does not give gets that URL written into its front matter, so every
//! old URL answers. Bodies are copied as written: Liquid, shortcodes and highlight blocks are
//! handled (or reported) when the site is built.

// `pub` only where another crate (or an integration test) needs it.
#![warn(unreachable_pub)]

pub mod args;
mod content;
mod dest;
mod hugo;
mod jekyll;
mod shortcodes;
mod zola;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dest::{Dest, Outcome};
use render::site::{self, post, Problem};

/// The generators `import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generator {
    /// Jekyll: `_config.yml`, `_posts/`.
    Jekyll,
    /// Hugo: `hugo.toml` / `config.toml` / YAML, `content/`, `static/`.
    Hugo,
    /// Zola: `config.toml`, `content/`, `static/`.
    Zola,
}

impl Generator {
    /// The generator called `name` on the command line.
    pub fn from_name(name: &str) -> Option<Generator> {
        match name.to_ascii_lowercase().as_str() {
            "jekyll" => Some(Generator::Jekyll),
            "hugo" => Some(Generator::Hugo),
            "zola" => Some(Generator::Zola),
            _ => None,
        }
    }
}

/// Settings carried into `forkblog.toml`; `None` leaves forkblog's default.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `title`.
    pub title: Option<String>,
    /// `base_url`.
    pub base_url: Option<String>,
    /// `author`.
    pub author: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `language`.
    pub language: Option<String>,
    /// `posts_per_page`.
    pub posts_per_page: Option<usize>,
    /// `permalink` (a valid forkblog pattern).
    pub permalink: Option<String>,
    /// `feed_paths`.
    pub feed_paths: Vec<String>,
    /// `feed_ids`, when not the default.
    pub feed_ids: Option<render::site::config::FeedIds>,
    /// `math = true`: the old site loaded MathJax or KaTeX.
    pub math: bool,
    /// `section_feeds`: (feed path, folder under `posts/`).
    pub section_feeds: Vec<(String, String)>,
}

/// A post or page to copy: source file (under SRC), destination (under DEST), and the decoded
/// path the old site served it at.
#[derive(Debug, Clone)]
pub struct Item {
    /// Relative to SRC.
    pub from: PathBuf,
    /// Relative to DEST.
    pub to: PathBuf,
    /// The old URL path, decoded; `None` when the old site did not publish it.
    pub old_url: Option<String>,
}

/// Everything an import will do.
#[derive(Debug, Default)]
pub struct Plan {
    /// For `forkblog.toml`.
    pub settings: Settings,
    /// Posts (to `posts/`) and pages (to `pages/`).
    pub items: Vec<Item>,
    /// Other files: (relative to SRC, relative to DEST).
    pub files: Vec<(PathBuf, PathBuf)>,
    /// What could not be carried, with file and line (relative to SRC).
    pub notes: Vec<Problem>,
    /// What a Hugo site's shortcodes need: they are written out in its posts.
    pub hugo: Option<shortcodes::Hugo>,
}

impl Plan {
    /// Records something not carried.
    pub fn note(&mut self, file: &Path, line: Option<usize>, message: impl Into<String>) {
        self.notes.push(Problem {
            file: file.to_path_buf(),
            line,
            message: message.into(),
        });
    }
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Report {
    /// Files written.
    pub written: usize,
    /// Files already there, identical.
    pub unchanged: usize,
    /// Posts and pages given their old URL in front matter.
    pub pinned: usize,
    /// Every post and page's old URL with its new path under DEST (for checking).
    pub old_urls: Vec<(String, PathBuf)>,
    /// Posts, pages and other files carried.
    pub posts: usize,
    pub pages: usize,
    pub files: usize,
    /// The paths the feed answers at.
    pub feeds: Vec<String>,
    /// Whether math rendering was turned on.
    pub math: bool,
    /// What was not carried or not written, with file and line.
    pub notes: Vec<Problem>,
}

/// Runs `forkblog import` as `options` (parsed and checked by the binary's command line) say:
/// exit status 0, or 1 when the import failed.
pub fn run(options: args::Options) -> ExitCode {
    match import(options.generator, &options.source, &options.root) {
        Ok(report) => {
            for note in &report.notes {
                eprintln!("{note}");
            }
            print!("{}", summary(&report, &options.root));
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("forkblog import: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What an import did, for a person to read in ten seconds.
fn summary(report: &Report, root: &Path) -> String {
    let mut out = format!("imported into {}\n", root.display());
    out.push_str(&format!(
        "  {} posts, {} pages, {} other files ({} written, {} already there)\n",
        report.posts, report.pages, report.files, report.written, report.unchanged
    ));
    out.push_str(&format!(
        "  {} old URLs kept: {} by the permalink pattern, {} pinned in front matter\n",
        report.old_urls.len(),
        report.old_urls.len().saturating_sub(report.pinned),
        report.pinned
    ));
    if !report.feeds.is_empty() {
        out.push_str(&format!("  feed at {}\n", report.feeds.join(", ")));
    }
    if report.math {
        out.push_str("  math on (the old site loaded MathJax or KaTeX)\n");
    }
    if report.notes.is_empty() {
        out.push_str("  nothing needs a hand\n");
    } else {
        out.push_str(&format!(
            "  {} things need a hand (listed above as file:line), first:\n",
            report.notes.len()
        ));
        for note in report.notes.iter().take(5) {
            out.push_str(&format!("    {note}\n"));
        }
    }
    out.push_str(&format!("next: forkblog check --root {}\n", root.display()));
    out
}

/// Imports the `generator` site at `source` into the forkblog root `root`.
pub fn import(generator: Generator, source: &Path, root: &Path) -> Result<Report, String> {
    if !source.is_dir() {
        return Err(format!("{} is not a folder", source.display()));
    }
    let plan = match generator {
        Generator::Jekyll => jekyll::plan(source)?,
        Generator::Hugo => hugo::plan(source)?,
        Generator::Zola => zola::plan(source)?,
    };
    carry_out(plan, source, root)
}

/// Writes the plan's files under `root`.
fn carry_out(plan: Plan, source: &Path, root: &Path) -> Result<Report, String> {
    let dest = Dest::new(root).map_err(|e| format!("cannot write {}: {e}", root.display()))?;
    let mut report = Report {
        notes: plan
            .notes
            .into_iter()
            .map(|mut n| {
                n.file = source.join(&n.file);
                n
            })
            .collect(),
        ..Report::default()
    };
    let record = |report: &mut Report, rel: &Path, outcome: std::io::Result<Outcome>| match outcome
    {
        Ok(Outcome::Written) => report.written += 1,
        Ok(Outcome::Unchanged) => report.unchanged += 1,
        Ok(Outcome::Kept) => report.notes.push(Problem {
            file: root.join(rel),
            line: None,
            message: "already there with other content; left alone".into(),
        }),
        Err(e) => report.notes.push(Problem {
            file: root.join(rel),
            line: None,
            message: e.to_string(),
        }),
    };
    let mut settings = plan.settings.clone();
    // MathJax or KaTeX loaded by a post, a page or the settings: render math here too.
    settings.math = settings.math
        || plan.items.iter().any(|item| {
            std::fs::read_to_string(source.join(&item.from)).is_ok_and(|t| loads_math(&t))
        });
    report.math = settings.math;
    report.feeds = settings.feed_paths.clone();
    report
        .feeds
        .extend(settings.section_feeds.iter().map(|(path, _)| path.clone()));
    if settings.feed_paths.is_empty() {
        report.feeds.insert(0, "/feed.xml".into());
    }
    let settings = &settings;
    let config_text = config_text(settings);
    let outcome = dest.write(Path::new(site::config::FILE_NAME), config_text.as_bytes());
    record(&mut report, Path::new(site::config::FILE_NAME), outcome);
    // Make sure a site with no posts still has its posts folder.
    let posts_dir = root.join(site::POSTS_DIR);
    let pages_dir = root.join(site::PAGES_DIR);
    let permalink = settings
        .permalink
        .clone()
        .unwrap_or_else(|| site::permalink::DEFAULT.to_string());
    let language = settings.language.clone().unwrap_or_else(|| "en".into());
    for item in &plan.items {
        let from = source.join(&item.from);
        let text = match std::fs::read(&from) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => {
                    // Not text: copied as it is; `check` will name it.
                    let outcome = dest.write(&item.to, e.as_bytes());
                    record(&mut report, &item.to, outcome);
                    continue;
                }
            },
            Err(e) => {
                report.notes.push(Problem {
                    file: from,
                    line: None,
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        let target = root.join(&item.to);
        let is_page = item.to.starts_with(site::PAGES_DIR);
        if is_page {
            report.pages += 1;
        } else {
            report.posts += 1;
        }
        let context = post::Context {
            posts_dir: &posts_dir,
            permalink: &permalink,
            language: &language,
            site_url: "",
            highlight: false,
            math: false,
            toc: false,
            page_root: is_page.then_some(pages_dir.as_path()),
            shortcodes: None,
        };
        let mut text = text;
        if let Some(hugo) = &plan.hugo {
            let (written, left) = shortcodes::carry(&text, hugo, &item.from);
            text = written;
            for (line, name) in left {
                report.notes.push(Problem {
                    file: from.clone(),
                    line: Some(line),
                    message: format!(
                        "Hugo shortcode `{name}` has no equivalent; left as written \
                         (`check` names it)"
                    ),
                });
            }
        }
        if let Some(fixed) = last_key_wins(&text) {
            // YAML as Ruby and Go read it: a key written twice keeps its last value.
            report.notes.push(Problem {
                file: from.clone(),
                line: None,
                message: "front matter sets a key twice; the last value kept, as the old site did"
                    .into(),
            });
            text = fixed;
        }
        if let Some(old) = &item.old_url {
            let new = post::from_source_in(&target, &text, jiff::Timestamp::UNIX_EPOCH, &context)
                .map(|p| p.url)
                .ok();
            if new.as_deref() != Some(old.as_str()) && new.is_some() {
                text = pin_url(&text, old);
                report.pinned += 1;
            }
            report.old_urls.push((old.clone(), item.to.clone()));
        }
        let outcome = dest.write(&item.to, text.as_bytes());
        record(&mut report, &item.to, outcome);
    }
    report.files = plan.files.len();
    for (from, to) in &plan.files {
        match std::fs::read(source.join(from)) {
            Ok(bytes) => {
                let outcome = dest.write(to, &bytes);
                record(&mut report, to, outcome);
            }
            Err(e) => report.notes.push(Problem {
                file: source.join(from),
                line: None,
                message: format!("cannot read: {e}"),
            }),
        }
    }
    if !posts_dir.exists() {
        std::fs::create_dir_all(&posts_dir)
            .map_err(|e| format!("cannot create {}: {e}", posts_dir.display()))?;
    }
    Ok(report)
}

/// `forkblog.toml` for `settings`.
fn config_text(settings: &Settings) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let mut out =
        String::from("# Written by `forkblog import`; see README.md for every setting.\n");
    // The old site highlighted its code blocks; so does this one.
    out.push_str("highlight = true\n");
    for (key, value) in [
        ("title", &settings.title),
        ("base_url", &settings.base_url),
        ("author", &settings.author),
        ("description", &settings.description),
        ("language", &settings.language),
        ("permalink", &settings.permalink),
    ] {
        if let Some(value) = value {
            out.push_str(&format!("{key} = {}\n", quote(value)));
        }
    }
    if let Some(n) = settings.posts_per_page {
        out.push_str(&format!("posts_per_page = {n}\n"));
    }
    if !settings.feed_paths.is_empty() {
        let list: Vec<String> = settings.feed_paths.iter().map(|p| quote(p)).collect();
        out.push_str(&format!("feed_paths = [{}]\n", list.join(", ")));
    }
    if let Some(ids) = settings.feed_ids {
        out.push_str(&format!("feed_ids = {}\n", quote(ids.name())));
    }
    if settings.math {
        out.push_str("math = true\n");
    }
    if !settings.section_feeds.is_empty() {
        let list: Vec<String> = settings
            .section_feeds
            .iter()
            .map(|(path, folder)| {
                format!("{{ path = {}, folder = {} }}", quote(path), quote(folder))
            })
            .collect();
        out.push_str(&format!("section_feeds = [{}]\n", list.join(", ")));
    }
    out
}

/// Whether a source loads MathJax or KaTeX (a `<script>` or a link naming either).
fn loads_math(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["<script", "<link"].iter().any(|tag| {
        lower.match_indices(tag).any(|(at, _)| {
            let end = lower[at..].find('>').map_or(lower.len(), |e| at + e);
            lower[at..end].contains("mathjax") || lower[at..end].contains("katex")
        })
    })
}

/// `text` with its front matter's URL set to `url`: any `permalink`, `url` or `path` key
/// replaced (a YAML `permalink:` or TOML `path =` line right after the opening delimiter), or
/// YAML front matter added when there is none.
pub fn pin_url(text: &str, url: &str) -> String {
    let quoted = serde_json::to_string(url).unwrap_or_default();
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    };
    let first = body.lines().next().unwrap_or("").trim_end();
    let (delimiter, line) = match first {
        "---" => ("---", format!("permalink: {quoted}")),
        "+++" => ("+++", format!("path = {quoted}")),
        _ => return format!("{bom}---\npermalink: {quoted}\n---\n{body}"),
    };
    let mut out = String::with_capacity(text.len() + line.len() + 2);
    out.push_str(bom);
    let mut lines = body.split_inclusive('\n');
    if let Some(open) = lines.next() {
        out.push_str(open);
    }
    out.push_str(&line);
    out.push('\n');
    let mut in_front = true;
    for l in lines {
        let trimmed = l.trim_end();
        // Past the closing delimiter, or inside a TOML table: not the top-level key.
        if in_front
            && (trimmed == delimiter
                || (delimiter == "---" && trimmed == "...")
                || (delimiter == "+++" && trimmed.starts_with('[')))
        {
            in_front = false;
        }
        let is_url_key = in_front && !l.starts_with([' ', '\t']) && {
            let lower = l.to_ascii_lowercase();
            ["permalink", "url", "path"].iter().any(|k| {
                lower
                    .strip_prefix(k)
                    .is_some_and(|r| r.trim_start().starts_with([':', '=']))
            })
        };
        if !is_url_key {
            out.push_str(l);
        }
    }
    out
}

/// `text` without the earlier of two top-level keys of the same name in its YAML front matter
/// (each with its indented lines), or `None` when no key repeats.
fn last_key_wins(text: &str) -> Option<String> {
    let body = text.strip_prefix("---\n")?;
    let end = body.find("\n---")? + 1;
    let front: Vec<&str> = body[..end].split_inclusive('\n').collect();
    let key_of = |line: &str| -> Option<String> {
        if line.starts_with([' ', '\t', '#', '-']) {
            return None;
        }
        let (key, _) = line.split_once(':')?;
        Some(key.trim().to_string())
    };
    let mut drop = vec![false; front.len()];
    let mut any = false;
    for (i, line) in front.iter().enumerate() {
        let Some(key) = key_of(line) else { continue };
        if front[i + 1..]
            .iter()
            .any(|l| key_of(l).as_deref() == Some(key.as_str()))
        {
            any = true;
            drop[i] = true;
            for (j, next) in front.iter().enumerate().skip(i + 1) {
                if next.starts_with([' ', '\t', '-']) {
                    drop[j] = true;
                } else {
                    break;
                }
            }
        }
    }
    if !any {
        return None;
    }
    let mut out = String::from("---\n");
    for (line, dropped) in front.iter().zip(&drop) {
        if !dropped {
            out.push_str(line);
        }
    }
    out.push_str(&body[end..]);
    Some(out)
}

/// The 1-based line where the top-level `key` is written in a settings file, if found.
pub fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let rest = l.strip_prefix(key).or_else(|| {
                l.strip_prefix('"')
                    .and_then(|l| l.strip_prefix(key))
                    .and_then(|l| l.strip_prefix('"'))
            });
            rest.is_some_and(|r| r.trim_start().starts_with([':', '=']))
        })
        .map(|i| i + 1)
}

/// Settings files and front matter read as JSON values, whatever they were written in.
pub fn read_settings(path: &Path) -> Result<Option<(String, serde_json::Value)>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
    };
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let value = match ext {
        "toml" => text
            .parse::<toml::Table>()
            .map_err(|e| format!("{}: {}", path.display(), e.message()))
            .and_then(|t| serde_json::to_value(t).map_err(|e| e.to_string()))?,
        "json" => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?,
        _ => serde_yaml_ng::from_str::<serde_json::Value>(&text)
            .map_err(|e| format!("{}: {e}", path.display()))?,
    };
    Ok(Some((text, value)))
}

/// A text field of a settings map.
pub fn text_of(value: &serde_json::Value, key: &str) -> Option<String> {
    match value.get(key)? {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        serde_json::Value::Object(map) => {
            map.get("name").and_then(|n| n.as_str()).map(str::to_string)
        }
        _ => None,
    }
}

/// Notes each top-level key of a settings file that `used` does not list.
pub fn note_unused_keys(
    plan: &mut Plan,
    file: &Path,
    text: &str,
    value: &serde_json::Value,
    used: &[&str],
) {
    if let Some(map) = value.as_object() {
        for key in map.keys() {
            if !used.contains(&key.as_str()) {
                plan.note(
                    file,
                    key_line(text, key),
                    format!("setting `{key}` not carried (forkblog has no such setting)"),
                );
            }
        }
    }
}

/// The front matter of a source file, when it has any that parses.
pub fn front_of(path: &Path) -> Option<site::frontmatter::FrontMatter> {
    let text = std::fs::read_to_string(path).ok()?;
    site::frontmatter::parse(&text).ok().map(|(f, _)| f)
}

/// Whether a file is Markdown.
pub fn is_markdown(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"))
}

/// Whether a file opens with a front matter delimiter.
pub fn has_front_matter(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| {
        let b = b.strip_prefix(b"\xef\xbb\xbf".as_slice()).unwrap_or(&b);
        // The whole first line, as Jekyll and Hugo read it: `-----BEGIN PGP SIGNED MESSAGE`
        // opens no front matter.
        let first = b.split(|&c| c == b'\n').next().unwrap_or(b);
        matches!(first.trim_ascii_end(), b"---" | b"+++")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn math_loaders_found() {
        assert!(loads_math(
            "x\n<script src=\"https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js\"></script>"
        ));
        assert!(loads_math(
            "<link rel=stylesheet href=\"/katex/katex.min.css\">"
        ));
        assert!(!loads_math("MathJax is mentioned in prose only"));
    }

    #[test]
    fn a_key_written_twice_keeps_its_last_value() {
        assert_eq!(
            last_key_wins("---\ntitle: a\ntags:\n  - x\ntitle: b\ntags: y\n---\nbody\n").as_deref(),
            Some("---\ntitle: b\ntags: y\n---\nbody\n")
        );
        assert_eq!(last_key_wins("---\ntitle: a\n---\ntitle: a\n"), None);
    }

    #[test]
    fn urls_pinned_in_front_matter() {
        assert_eq!(
            pin_url(
                "---\ntitle: a\npermalink: /:year/x/\n---\nbody\npermalink: kept\n",
                "/2019/x/"
            ),
            "---\npermalink: \"/2019/x/\"\ntitle: a\n---\nbody\npermalink: kept\n"
        );
        assert_eq!(
            pin_url("+++\ntitle = \"a\"\n[extra]\npath = 1\n+++\nb", "/a/"),
            "+++\npath = \"/a/\"\ntitle = \"a\"\n[extra]\npath = 1\n+++\nb"
        );
        assert_eq!(
            pin_url("# x\n", "/x/"),
            "---\npermalink: \"/x/\"\n---\n# x\n"
        );
    }
}
