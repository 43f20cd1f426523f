//! Writing the imported site: only under DEST, never through a symlink, never over a file that
//! differs (so a second run changes nothing and hand edits survive).

use std::io;
use std::path::{Component, Path, PathBuf};

/// What writing one file did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The file was new and is written.
    Written,
    /// The file was already there with the same bytes.
    Unchanged,
    /// A different file is there; left alone.
    Kept,
}

/// The forkblog root being written.
pub(crate) struct Dest {
    root: PathBuf,
}

impl Dest {
    /// A destination at `root` (created if missing; it must not be a symlink).
    pub(crate) fn new(root: &Path) -> io::Result<Dest> {
        if let Ok(meta) = std::fs::symlink_metadata(root) {
            if meta.file_type().is_symlink() {
                return Err(io::Error::other(format!(
                    "{} is a symlink; give the real folder",
                    root.display()
                )));
            }
        }
        std::fs::create_dir_all(root)?;
        Ok(Dest {
            root: root.to_path_buf(),
        })
    }

    /// Writes `bytes` at `rel` (a relative path of plain names) unless a file is there already.
    pub(crate) fn write(&self, rel: &Path, bytes: &[u8]) -> io::Result<Outcome> {
        let names: Vec<&std::ffi::OsStr> = rel
            .components()
            .map(|c| match c {
                Component::Normal(name) => Ok(name),
                _ => Err(io::Error::other(format!(
                    "{} is not a plain relative path; not written",
                    rel.display()
                ))),
            })
            .collect::<io::Result<_>>()?;
        let Some((file_name, dirs)) = names.split_last() else {
            return Err(io::Error::other("empty path; not written"));
        };
        let mut at = self.root.clone();
        for dir in dirs {
            at.push(dir);
            match std::fs::symlink_metadata(&at) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => {
                    return Err(io::Error::other(format!(
                        "{} is in the way (not a folder, or a symlink); not written",
                        at.display()
                    )))
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => std::fs::create_dir(&at)?,
                Err(e) => return Err(e),
            }
        }
        at.push(file_name);
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.is_file() => {
                let existing = std::fs::read(&at)?;
                Ok(if existing == bytes {
                    Outcome::Unchanged
                } else {
                    Outcome::Kept
                })
            }
            Ok(_) => Err(io::Error::other(format!(
                "{} is in the way (not a regular file); not written",
                at.display()
            ))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // create_new: a file or symlink appearing meanwhile is not written through.
                use std::io::Write;
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&at)?;
                file.write_all(bytes)?;
                Ok(Outcome::Written)
            }
            Err(e) => Err(e),
        }
    }
}

/// A file of the source tree: its path relative to the tree and that path's names as strings.
pub(crate) struct SourceFile {
    pub rel: PathBuf,
    pub parts: Vec<String>,
}

/// Every regular file under `dir`, relative to it, sorted, hidden names (`.git`) skipped;
/// symlinks, special files and folders that cannot be read are not followed but noted in `plan`.
pub(crate) fn walk(dir: &Path, plan: &mut super::Plan) -> Vec<SourceFile> {
    let mut files = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let entries = match std::fs::read_dir(dir.join(&rel)) {
            Ok(entries) => entries,
            Err(e) => {
                plan.note(&rel, None, format!("folder not read ({e}); not copied"));
                continue;
            }
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let child = rel.join(&name);
            match entry.file_type() {
                Ok(t) if t.is_dir() && stack.len() + child.components().count() < 64 => {
                    stack.push(child)
                }
                Ok(t) if t.is_file() => files.push(child),
                _ => plan.note(
                    &child,
                    None,
                    "symlink or special file; not followed, not copied",
                ),
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|rel| SourceFile {
            parts: rel
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect(),
            rel,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_only_inside_and_never_over() {
        let root = std::env::temp_dir().join(format!("forkblog-dest-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dest = Dest::new(&root).unwrap();
        assert_eq!(
            dest.write(Path::new("a/b.md"), b"x").unwrap(),
            Outcome::Written
        );
        assert_eq!(
            dest.write(Path::new("a/b.md"), b"x").unwrap(),
            Outcome::Unchanged
        );
        assert_eq!(
            dest.write(Path::new("a/b.md"), b"y").unwrap(),
            Outcome::Kept
        );
        assert_eq!(std::fs::read(root.join("a/b.md")).unwrap(), b"x");
        assert!(dest.write(Path::new("../escape"), b"x").is_err());
        assert!(dest.write(Path::new("/etc/x"), b"x").is_err());
        std::os::unix::fs::symlink("/tmp", root.join("link")).unwrap();
        assert!(dest.write(Path::new("link/x"), b"x").is_err());
        let mut plan = super::super::Plan::default();
        let files = walk(&root, &mut plan);
        let rels: Vec<&Path> = files.iter().map(|f| f.rel.as_path()).collect();
        assert_eq!(rels, [Path::new("a/b.md")]);
        assert_eq!(files[0].parts, ["a", "b.md"]);
        let noted: Vec<&Path> = plan.notes.iter().map(|n| n.file.as_path()).collect();
        assert_eq!(noted, [Path::new("link")]);
        let _ = std::fs::remove_dir_all(&root);
    }
}
