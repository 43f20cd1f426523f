//! Files served as they are: the stylesheet and friends from `templates/static/`, files in
//! `templates/root/` (served at the site root, e.g. `robots.txt`), and images and other files
//! beside a post in its page bundle: their Content-Type and URL. All are read at build time
//! (through [`super::files`]); nothing maps to the filesystem when serving.

use std::path::Path;

/// The Content-Type for a file name, from its extension (case-insensitive);
/// `application/octet-stream` when unknown.
pub(super) fn content_type(name: &str) -> &'static str {
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
pub(super) fn ignored(name: &str) -> bool {
    name.starts_with('.') || name.ends_with('~') || (name.starts_with('#') && name.ends_with('#'))
}

/// `file` relative to `base` as a URL path tail joined with `/` (`img/a.png`), or `None` if it
/// is not under `base`.
pub(super) fn url_tail(base: &Path, file: &Path) -> Option<String> {
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
