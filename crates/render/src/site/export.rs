//! `forkblog build --out DIR`: the site written as plain files for any static host, each body
//! byte-identical to what the server answers for the same path.

use std::io;
use std::path::{Path, PathBuf};

use super::Site;

/// The file (relative to the output directory) that holds the resource at URL `path`:
/// `/` → `index.html`, `/posts/x/` → `posts/x/index.html`, `/feed.xml` → `feed.xml`.
/// `None` for paths that do not start with `/` or have empty, `.` or `..` segments (never
/// produced by [`super::build`], refused anyway so nothing is written outside the directory).
pub fn file_name(path: &str) -> Option<PathBuf> {
    let rest = path.strip_prefix('/')?;
    let (dirs, file) = match rest.strip_suffix('/') {
        Some(dir) => (dir, "index.html"),
        None if rest.is_empty() => ("", "index.html"),
        None => match rest.rsplit_once('/') {
            Some((dirs, file)) => (dirs, file),
            None => ("", rest),
        },
    };
    let mut out = PathBuf::new();
    for segment in dirs
        .split('/')
        .filter(|_| !dirs.is_empty())
        .chain(std::iter::once(file))
    {
        if segment.is_empty() || segment == "." || segment == ".." || segment.contains('\0') {
            return None;
        }
        out.push(segment);
    }
    Some(out)
}

/// Writes every resource of `site` under `out` (created if needed), plus `404.html`. Existing
/// files with the same names are replaced; other files in `out` are left alone.
pub fn export(site: &Site, out: &Path) -> io::Result<()> {
    std::fs::create_dir_all(out).map_err(|e| with_path(e, out))?;
    let not_found = std::iter::once(("/404.html", &site.not_found.body));
    for (path, body) in site
        .resources
        .iter()
        .map(|r| (r.path.as_str(), &r.body))
        .chain(not_found)
    {
        let name = file_name(path).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("cannot export resource path {path:?}"),
            )
        })?;
        let target = out.join(name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| with_path(e, parent))?;
        }
        std::fs::write(&target, body).map_err(|e| with_path(e, &target))?;
    }
    Ok(())
}

fn with_path(err: io::Error, path: &Path) -> io::Error {
    io::Error::new(err.kind(), format!("{}: {err}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let name = |p| file_name(p).map(|p| p.to_string_lossy().into_owned());
        assert_eq!(name("/").as_deref(), Some("index.html"));
        assert_eq!(name("/posts/x/").as_deref(), Some("posts/x/index.html"));
        assert_eq!(name("/feed.xml").as_deref(), Some("feed.xml"));
        assert_eq!(
            name("/posts/x/img/a.png").as_deref(),
            Some("posts/x/img/a.png")
        );
        assert_eq!(name("/404.html").as_deref(), Some("404.html"));
        assert_eq!(name("/../etc/passwd"), None);
        assert_eq!(name("/a//b"), None);
        assert_eq!(name("relative"), None);
        assert_eq!(name("/a/./"), None);
    }
}
