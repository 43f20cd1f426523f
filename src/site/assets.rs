//! Files served as they are: the stylesheet and friends from `templates/static/`, files in
//! `templates/root/` (served at the site root, e.g. `robots.txt`), and images and other files
//! beside a post in its page bundle. All are read at build time; nothing maps to the filesystem
//! when serving.

use std::path::{Path, PathBuf};

use super::Problem;

/// How deep directory walks go, so a symlink loop cannot run forever.
const MAX_DEPTH: usize = 24;

/// The Content-Type for a file name, from its extension (case-insensitive);
/// `application/octet-stream` when unknown.
pub fn content_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "txt" | "md" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "atom" => "application/atom+xml",
        "rss" => "application/rss+xml",
        "csv" => "text/csv; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "bmp" => "image/bmp",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "wasm" => "application/wasm",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// Whether a directory entry is skipped by every walk: hidden files (`.git`, `.DS_Store`) and
/// editor leftovers (`x~`, `#x#`).
pub fn ignored(name: &str) -> bool {
    name.starts_with('.') || name.ends_with('~') || (name.starts_with('#') && name.ends_with('#'))
}

/// Every regular file under `dir` (following symlinks, skipping [`ignored`] names), sorted.
/// Unreadable directories are reported in `problems` and skipped.
pub fn walk(dir: &Path, problems: &mut Vec<Problem>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    walk_into(dir, 0, &mut files, problems);
    files.sort();
    files
}

fn walk_into(dir: &Path, depth: usize, files: &mut Vec<PathBuf>, problems: &mut Vec<Problem>) {
    if depth > MAX_DEPTH {
        problems.push(Problem {
            file: dir.to_path_buf(),
            line: None,
            message: format!(
                "directories nested more than {MAX_DEPTH} deep (a symlink loop?); skipped"
            ),
        });
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(Problem {
                file: dir.to_path_buf(),
                line: None,
                message: format!("cannot read directory: {e}"),
            });
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                problems.push(Problem {
                    file: dir.to_path_buf(),
                    line: None,
                    message: format!("cannot read directory: {e}"),
                });
                continue;
            }
        };
        let path = entry.path();
        if entry.file_name().to_str().is_none_or(ignored) {
            if entry.file_name().to_str().is_none() {
                problems.push(Problem {
                    file: path,
                    line: None,
                    message: "file name is not UTF-8; skipped".into(),
                });
            }
            continue;
        }
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => walk_into(&path, depth + 1, files, problems),
            Ok(m) if m.is_file() => files.push(path),
            Ok(_) => {}
            Err(e) => problems.push(Problem {
                file: path,
                line: None,
                message: format!("cannot read: {e}"),
            }),
        }
    }
}

/// The modification time of `path`, if it can be read.
pub fn modified(path: &Path) -> Option<jiff::Timestamp> {
    std::fs::metadata(path)
        .ok()?
        .modified()
        .ok()
        .and_then(|t| jiff::Timestamp::try_from(t).ok())
}

/// `file` relative to `base` as a URL path tail joined with `/` (`img/a.png`), or `None` if it
/// is not under `base`.
pub fn url_tail(base: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(base).ok()?;
    let parts: Option<Vec<&str>> = rel
        .components()
        .map(|c| match c {
            std::path::Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    Some(parts?.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types() {
        assert_eq!(content_type("style.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("A.PNG"), "image/png");
        assert_eq!(content_type("font.woff2"), "font/woff2");
        assert_eq!(content_type("logo.svg"), "image/svg+xml");
        assert_eq!(content_type("Makefile"), "application/octet-stream");
    }

    #[test]
    fn tails() {
        assert_eq!(
            url_tail(Path::new("/a/b"), Path::new("/a/b/c/d.png")).as_deref(),
            Some("c/d.png")
        );
        assert_eq!(url_tail(Path::new("/a/b"), Path::new("/x/d.png")), None);
        assert!(ignored(".DS_Store") && ignored("post.md~") && !ignored("post.md"));
    }
}
