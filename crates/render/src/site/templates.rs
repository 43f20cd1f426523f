//! The minijinja environment: templates from `templates/` (any `.html` file outside `static/`
//! and `root/`), over built-in copies of the defaults for any the site does not provide.
//! Autoescaping is on for `.html` templates.
//!
//! Templates the site renders, and what they get besides `site` (the settings, plus
//! `feed_url`):
//! - `index.html`: `posts` (summaries), `pagination` (`page`, `pages`, `prev_url`, `next_url`);
//! - `post.html`: `post` (a summary plus `content`, safe HTML), `newer`, `older`;
//! - `page.html`: `post`, for pages from `pages/` (`/about/`), which have no date;
//! - `tag.html`: `tag` (`name`, `url`, `count`), `posts`;
//! - `tags.html`: `tags`;
//! - `archive.html`: `years` (`year`, `posts`);
//! - `404.html`: nothing more.
//!
//! Each page also gets `page_path` (its own URL path) and `canonical_url` (absolute).

use std::path::{Path, PathBuf};

use minijinja::{Environment, Value};

use super::assets;
use super::files::SiteFiles;
use super::Problem;

/// The default templates, built in so a site without a `templates/` folder still renders.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("base.html", include_str!("../../../../templates/base.html")),
    (
        "_macros.html",
        include_str!("../../../../templates/_macros.html"),
    ),
    (
        "index.html",
        include_str!("../../../../templates/index.html"),
    ),
    ("post.html", include_str!("../../../../templates/post.html")),
    ("page.html", include_str!("../../../../templates/page.html")),
    ("tag.html", include_str!("../../../../templates/tag.html")),
    ("tags.html", include_str!("../../../../templates/tags.html")),
    (
        "archive.html",
        include_str!("../../../../templates/archive.html"),
    ),
    ("404.html", include_str!("../../../../templates/404.html")),
];

/// A loaded set of templates.
pub struct Templates {
    env: Environment<'static>,
    dir: PathBuf,
    /// The newest modification time among the site's own template files.
    pub modified: Option<jiff::Timestamp>,
    /// The hash of the site's own templates (names and text): any edit renders every page.
    pub fingerprint: u64,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Loads `dir` (which may be absent) over the defaults. Every template that fails to compile is
/// reported.
pub fn load(files: &SiteFiles, dir: &Path) -> Result<Templates, Vec<Problem>> {
    let mut env = Environment::new();
    env.set_keep_trailing_newline(true);
    env.set_formatter(html_formatter);
    let mut problems = Vec::new();
    let mut modified = None;
    let mut own: Vec<String> = Vec::new();
    let mut texts: Vec<(String, u64)> = Vec::new();
    if dir.is_dir() {
        // static/ and root/ are published files, walked (and their problems reported) apart.
        for file in files.walk_except(dir, &["static", "root"], &mut problems) {
            let Some(name) = assets::url_tail(dir, &file) else {
                continue;
            };
            if name.starts_with("static/") || name.starts_with("root/") || !name.ends_with(".html")
            {
                continue;
            }
            let read = files.read(&file).and_then(|read| {
                let modified = read.modified;
                String::from_utf8(read.bytes)
                    .map(|source| (source, modified))
                    .map_err(|_| std::io::Error::other("not UTF-8 text"))
            });
            let (source, file_modified) = match read {
                Ok(read) => read,
                Err(e) => {
                    problems.push(Problem {
                        file: file.clone(),
                        line: None,
                        message: format!("cannot read template: {e}"),
                    });
                    continue;
                }
            };
            modified = modified.max(Some(file_modified));
            texts.push((name.clone(), super::incremental::hash(source.as_bytes())));
            if let Err(e) = env.add_template_owned(name.clone(), source) {
                problems.push(problem(dir, &name, &e));
            }
            own.push(name);
        }
    } else if dir.exists() {
        problems.push(Problem {
            file: dir.to_path_buf(),
            line: None,
            message: "templates path is not a directory".into(),
        });
    }
    for (name, source) in DEFAULTS {
        if !own.iter().any(|n| n == name) {
            if let Err(e) = env.add_template(name, source) {
                problems.push(problem(dir, name, &e));
            }
        }
    }
    texts.sort();
    let mut fingerprint = super::incremental::Key::new("templates");
    for (name, text) in &texts {
        fingerprint.bytes(name.as_bytes()).word(*text);
    }
    if problems.is_empty() {
        Ok(Templates {
            env,
            dir: dir.to_path_buf(),
            modified,
            fingerprint: fingerprint.finish(),
        })
    } else {
        Err(problems)
    }
}

impl Templates {
    /// Renders template `name` with `context`; an error names the template file and line.
    pub fn render(&self, name: &str, context: Value) -> Result<String, Problem> {
        let template = self
            .env
            .get_template(name)
            .map_err(|e| problem(&self.dir, name, &e))?;
        template
            .render(context)
            .map_err(|e| problem(&self.dir, name, &e))
    }
}

/// Autoescaping that escapes `&`, `<`, `>`, `"` and `'` in text but leaves `/` alone (minijinja's
/// default writes every `/` in a URL as `&#x2f;`: valid, but noisy in the page source).
pub(crate) fn html_formatter(
    out: &mut minijinja::Output,
    state: &minijinja::State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    if state.auto_escape() == minijinja::AutoEscape::Html && !value.is_safe() {
        if let Some(text) = value.as_str() {
            // The five are ASCII, which never occurs inside a multi-byte character: found with
            // two vectorised byte searches, each run again only past the byte it found.
            let bytes = text.as_bytes();
            let markup =
                |from: usize| memchr::memchr3(b'&', b'<', b'>', &bytes[from..]).map(|i| from + i);
            let quote =
                |from: usize| memchr::memchr2(b'"', b'\'', &bytes[from..]).map(|i| from + i);
            let (mut next_markup, mut next_quote) = (markup(0), quote(0));
            let mut start = 0;
            while let Some(i) = match (next_markup, next_quote) {
                (Some(m), Some(q)) => Some(m.min(q)),
                (one, None) | (None, one) => one,
            } {
                let entity = match bytes[i] {
                    b'&' => "&amp;",
                    b'<' => "&lt;",
                    b'>' => "&gt;",
                    b'"' => "&quot;",
                    _ => "&#39;",
                };
                out.write_str(&text[start..i])?;
                out.write_str(entity)?;
                start = i + 1;
                if next_markup == Some(i) {
                    next_markup = markup(start);
                } else {
                    next_quote = quote(start);
                }
            }
            out.write_str(&text[start..])?;
            return Ok(());
        }
    }
    minijinja::escape_formatter(out, state, value)
}

/// A minijinja error's kind, detail and causes, on one line.
pub(crate) fn describe(err: &minijinja::Error) -> String {
    let mut message = err.kind().to_string();
    if let Some(detail) = err.detail() {
        message.push_str(": ");
        message.push_str(detail);
    }
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        message.push_str(&format!(" (caused by: {inner})"));
        source = inner.source();
    }
    message
}

/// A minijinja error as a problem naming the template file (the innermost template the error
/// happened in) and line.
fn problem(dir: &Path, fallback_name: &str, err: &minijinja::Error) -> Problem {
    let name = err.name().unwrap_or(fallback_name);
    let mut message = describe(err);
    let file = dir.join(name);
    if DEFAULTS.iter().any(|(n, _)| *n == name) && !file.exists() {
        message.push_str(" (in the built-in default template, which this site does not override)");
    }
    Problem {
        file,
        line: err.line(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autoescaping_escapes_the_five_and_nothing_else() {
        let mut env = Environment::new();
        env.set_formatter(html_formatter);
        env.add_template("t.html", "{{ a }}|{{ b }}|{{ c }}")
            .unwrap();
        let text = "<a href=\"/x/\">Tom & 'Jerry'</a> é>\"\"&&";
        let html = env
            .get_template("t.html")
            .unwrap()
            .render(minijinja::context! { a => text, b => "", c => "plain/é" })
            .unwrap();
        assert_eq!(
            html,
            "&lt;a href=&quot;/x/&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt; \
             é&gt;&quot;&quot;&amp;&amp;||plain/é"
        );
    }
}
