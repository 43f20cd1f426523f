//! `forkblog init DIR`: a new site, ready to serve and to write in.
//!
//! It writes `forkblog.toml` (title, base URL and author from the flags, asked for on a terminal
//! when a flag is missing, defaults otherwise), one example post, and with `--templates` the
//! built-in templates and static files, to edit. It never writes into a directory that already
//! holds something: a site half-overwritten is worse than a refusal.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::site::{self, config};

/// What `init` was told on the command line; `None` means ask (on a terminal) or default.
#[derive(Debug, Default)]
pub struct Options {
    /// The new site's directory.
    pub dir: PathBuf,
    /// `--title`.
    pub title: Option<String>,
    /// `--base-url`.
    pub base_url: Option<String>,
    /// `--author`.
    pub author: Option<String>,
    /// `--templates`: copy the built-in templates out to edit.
    pub templates: bool,
}

/// The name of the example post under `posts/`.
pub const EXAMPLE_POST: &str = "hello-world.md";

/// The example post's URL path.
pub const EXAMPLE_PATH: &str = "/posts/hello-world/";

/// The answers `init` settled on.
struct Answers {
    title: String,
    base_url: String,
    author: String,
}

/// Creates the site. `Ok` holds the next steps to print; `Err` says what stopped it.
pub fn run(options: &Options) -> Result<String, String> {
    let dir = &options.dir;
    refuse_non_empty(dir)?;
    let answers = answers(options);
    write_site(dir, &answers, options.templates)?;
    Ok(next_steps(dir))
}

/// An existing directory with anything in it is refused, named, with what to do instead.
fn refuse_non_empty(dir: &Path) -> Result<(), String> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(format!(
                "{} is not empty; init makes a new site in a new or empty directory \
                 (to add a post to an existing site: forkblog new \"Title\" --root {})",
                dir.display(),
                dir.display()
            )),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Err(format!(
            "{} is a file; init makes a new site in a new or empty directory",
            dir.display()
        )),
        Err(e) => Err(format!("reading {}: {e}", dir.display())),
    }
}

/// The flags, else answers typed on a terminal, else the defaults.
fn answers(options: &Options) -> Answers {
    let defaults = config::Config::default();
    let interactive = std::io::stdin().is_terminal();
    let pick = |given: &Option<String>, question: &str, default: String| match given {
        Some(value) => value.trim().to_string(),
        None if interactive => ask(question, &default),
        None => default,
    };
    let title = pick(&options.title, "Title", defaults.title);
    let base_url = pick(
        &options.base_url,
        "Base URL (where readers will reach it)",
        defaults.base_url,
    );
    let author = pick(
        &options.author,
        "Author",
        std::env::var("USER").unwrap_or_default(),
    );
    Answers {
        title,
        base_url: base_url.trim_end_matches('/').to_string(),
        author,
    }
}

/// Asks one question on stderr (stdout stays for the next steps) and reads the answer; an empty
/// answer or a closed terminal takes the default.
fn ask(question: &str, default: &str) -> String {
    eprint!("{question} [{default}]: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(n) if n > 0 && !line.trim().is_empty() => line.trim().to_string(),
        _ => default.to_string(),
    }
}

/// A TOML basic string: quotes, backslashes and control characters escaped.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

fn settings_text(answers: &Answers) -> String {
    format!(
        "# Site settings for forkblog (every line is optional).\n\
         title = {}\n\
         # Where readers reach the site: absolute URLs in /feed.xml, /sitemap.xml and /robots.txt.\n\
         base_url = {}\n\
         author = {}\n\
         # A sentence about the site, for search results and link previews (none if unset).\n\
         # description = \"\"\n\
         language = \"en\"\n\
         # Raw HTML in posts is sanitised (scripts, event handlers and unknown tags removed).\n\
         # Set to true only if every post's author is trusted to publish scripts on this site.\n\
         unsafe_html = false\n",
        quoted(&answers.title),
        quoted(&answers.base_url),
        quoted(&answers.author),
    )
}

fn example_post() -> String {
    let now = jiff::Zoned::now();
    format!(
        "---\ntitle: \"Hello, world\"\ndate: {}\ntags: [meta]\n---\n\n\
         This is the first post. Edit it in `posts/{EXAMPLE_POST}`, or start another with\n\
         `forkblog new \"Title\"`: new posts begin as drafts (`draft: true`), shown by\n\
         `forkblog serve --watch --drafts` and published once the line says `draft: false`.\n\n\
         Posts are Markdown with front matter: a `title`, a `date`, optional `tags` and a\n\
         `description`.\n",
        now.strftime("%Y-%m-%d %H:%M:%S %z")
    )
}

/// Writes every file, world-readable (the server drops to `nobody` when started as root).
fn write_site(dir: &Path, answers: &Answers, templates: bool) -> Result<(), String> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = vec![
        (
            PathBuf::from(config::FILE_NAME),
            settings_text(answers).into_bytes(),
        ),
        (
            Path::new(site::POSTS_DIR).join(EXAMPLE_POST),
            example_post().into_bytes(),
        ),
    ];
    if templates {
        let into = Path::new(site::TEMPLATES_DIR);
        for (name, text) in site::templates::DEFAULTS {
            files.push((into.join(name), text.as_bytes().to_vec()));
        }
        for (name, bytes) in site::DEFAULT_STATIC {
            files.push((into.join("static").join(name), bytes.to_vec()));
        }
    }
    for (relative, bytes) in files {
        let path = dir.join(&relative);
        if let Some(parent) = path.parent() {
            create_dirs(parent)?;
        }
        std::fs::write(&path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))?;
        set_mode(&path, 0o644)?;
    }
    Ok(())
}

/// Creates `dir` and its missing parents, each readable and traversable by everyone.
fn create_dirs(dir: &Path) -> Result<(), String> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dirs(parent)?;
    }
    std::fs::create_dir(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    set_mode(dir, 0o755)
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("setting the mode of {}: {e}", path.display()))
}

/// The two commands to run next, ready to paste.
fn next_steps(dir: &Path) -> String {
    let root = shell_word(&dir.display().to_string());
    let serve = format!("forkblog serve --watch --drafts --root {root}");
    let new = format!("forkblog new \"My first post\" --root {root}");
    let width = serve.len().max(new.len());
    format!(
        "created a new site in {}\n\nnext:\n  {serve:<width$}  # preview at http://{}/, live\n  \
         {new:<width$}  # a new post in {root}/posts/\n",
        dir.display(),
        crate::server::DEFAULT_LISTEN,
    )
}

/// `text` as one shell word: as is when it holds nothing a shell would split or expand.
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:@%".contains(&b));
    match plain {
        true => text.to_string(),
        false => format!("'{}'", text.replace('\'', r"'\''")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_quote_what_they_are_given() {
        let text = settings_text(&Answers {
            title: "A \"quoted\" \\ title".into(),
            base_url: "https://example.org".into(),
            author: "Ada".into(),
        });
        let parsed: toml::Table = text.parse().unwrap();
        assert_eq!(parsed["title"].as_str(), Some("A \"quoted\" \\ title"));
        assert_eq!(parsed["unsafe_html"].as_bool(), Some(false));
    }

    #[test]
    fn shell_words_survive_spaces_and_quotes() {
        assert_eq!(shell_word("/srv/blog"), "/srv/blog");
        assert_eq!(shell_word("my blog"), "'my blog'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
