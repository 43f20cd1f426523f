//! The site as a closed world: every file a render reads is found ([`SiteFiles::walk`]) and
//! opened ([`SiteFiles::read`]) here, and nothing outside the site root is ever read.
//!
//! A render publishes what it reads, so a symbolic link in `templates/static/` to `/etc/passwd`
//! or `/proc/self/environ` would publish that file. The rules:
//! - Symbolic links are not followed. With `follow_symlinks = "inside"` in `forkblog.toml` they
//!   are, but only when they resolve to a place inside the site root. A link that is refused
//!   (or dangles, or loops) is skipped and reported as a [`Problem`] naming it.
//! - Only regular files are read: FIFOs, sockets and devices are skipped and reported. A FIFO
//!   would otherwise block the render; a device could be anything.
//! - `forkblog.toml` itself is read before its settings are known, so it is never a link.
//!
//! The walk only decides what to list; the read is the gate that holds under races. It opens
//! the file one path component at a time from a descriptor of the root, every component with
//! `O_NOFOLLOW`, so a folder swapped for a link between the walk and the read is refused by the
//! kernel, not by a check that came too early. The file is opened `O_NONBLOCK` (opening a FIFO
//! returns at once instead of waiting for a writer) and its type is taken with `fstat` on the
//! opened descriptor, so what is checked is what is read.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::FileTypeExt;
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{fstat, Mode, SFlag};

use super::assets::ignored;
use super::Problem;

/// How deep directory walks go, so a folder linked into itself cannot run forever.
const MAX_DEPTH: usize = 24;

/// Whether a render follows symbolic links (`follow_symlinks` in `forkblog.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Symlinks {
    /// `"never"`: every link is skipped and reported.
    #[default]
    Never,
    /// `"inside"`: a link is followed when its target lies inside the site root.
    Inside,
}

impl Symlinks {
    /// The setting from its value in `forkblog.toml`, or a message saying what is accepted.
    pub fn parse(value: &str) -> Result<Symlinks, String> {
        match value {
            "never" => Ok(Symlinks::Never),
            "inside" => Ok(Symlinks::Inside),
            other => Err(format!(
                "follow_symlinks must be \"never\" or \"inside\", found {other:?}"
            )),
        }
    }
}

/// A file's bytes and modification time, from one open descriptor.
#[derive(Debug)]
pub struct FileRead {
    /// The whole content.
    pub bytes: Vec<u8>,
    /// The modification time, from `fstat` on the descriptor that was read.
    pub modified: jiff::Timestamp,
}

/// The site root, held open, and the rule for links: everything a render reads goes through it.
#[derive(Debug)]
pub struct SiteFiles {
    /// The root as given (`--root`); walked paths start with it.
    root: PathBuf,
    /// The root with every link resolved, to tell whether a link's target lies inside.
    real_root: PathBuf,
    /// The root, opened once: every read starts from this descriptor.
    root_fd: OwnedFd,
    symlinks: Symlinks,
}

/// What a walk found at a path.
enum Kind {
    Folder,
    File,
}

impl SiteFiles {
    /// Opens `root`. The root itself may be a link (it is what the administrator chose).
    pub fn open(root: &Path, symlinks: Symlinks) -> Result<SiteFiles, Problem> {
        let problem = |e: &dyn std::fmt::Display| Problem {
            file: root.to_path_buf(),
            line: None,
            message: format!("site root is not a readable directory: {e}"),
        };
        let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let root_fd = nix::fcntl::open(root, flags, Mode::empty()).map_err(|e| problem(&e))?;
        let real_root = std::fs::canonicalize(root).map_err(|e| problem(&e))?;
        Ok(SiteFiles {
            root: root.to_path_buf(),
            real_root,
            root_fd,
            symlinks,
        })
    }

    /// Reads the file at `path` (a path under the root, as [`walk`](Self::walk) gives them),
    /// refusing links (unless allowed and inside), anything outside the root, and anything that
    /// is not a regular file. The error says why, in words fit for a [`Problem`].
    pub fn read(&self, path: &Path) -> io::Result<FileRead> {
        let inside = match self.symlinks {
            Symlinks::Never => path
                .strip_prefix(&self.root)
                .map(Path::to_path_buf)
                .map_err(|_| refused("not under the site root"))?,
            Symlinks::Inside => {
                let real = std::fs::canonicalize(path)?;
                match real.strip_prefix(&self.real_root) {
                    Ok(inside) => inside.to_path_buf(),
                    Err(_) => return Err(outside(&real)),
                }
            }
        };
        let fd = self.open_beneath(&inside)?;
        let stat = fstat(&fd)?;
        let kind = SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits());
        if kind != SFlag::S_IFREG {
            return Err(refused(&format!(
                "{}; not read (only regular files are)",
                kind_name(kind)
            )));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(stat.st_size).unwrap_or(0));
        File::from(fd).read_to_end(&mut bytes)?;
        let modified = jiff::Timestamp::new(stat.st_mtime, stat.st_mtime_nsec as i32)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        Ok(FileRead { bytes, modified })
    }

    /// Opens `inside` (relative to the root) one component at a time, never following a link.
    fn open_beneath(&self, inside: &Path) -> io::Result<OwnedFd> {
        let parts: Vec<&OsStr> = inside
            .components()
            .map(|c| match c {
                Component::Normal(part) => Ok(part),
                _ => Err(refused("not a plain path under the site root")),
            })
            .collect::<io::Result<_>>()?;
        let Some((name, folders)) = parts.split_last() else {
            return Err(refused("is the site root, not a file"));
        };
        let mut dir: Option<OwnedFd> = None;
        for folder in folders {
            let at = dir.as_ref().map_or(self.root_fd.as_fd(), |d| d.as_fd());
            let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            let next = openat(at, *folder, flags, Mode::empty()).map_err(|e| match e {
                // O_PATH|O_NOFOLLOW opens a link itself, which O_DIRECTORY then refuses.
                Errno::ENOTDIR | Errno::ELOOP => refused(&format!(
                    "the folder {:?} on its path is a symbolic link or not a folder; not followed",
                    folder
                )),
                other => io::Error::from(other),
            })?;
            dir = Some(next);
        }
        let at = dir.as_ref().map_or(self.root_fd.as_fd(), |d| d.as_fd());
        let flags = OFlag::O_RDONLY
            | OFlag::O_NOFOLLOW
            | OFlag::O_NONBLOCK
            | OFlag::O_NOCTTY
            | OFlag::O_CLOEXEC;
        openat(at, *name, flags, Mode::empty()).map_err(|e| match e {
            Errno::ELOOP => refused("a symbolic link; not followed"),
            other => io::Error::from(other),
        })
    }

    /// Every regular file under `dir` (skipping [`ignored`] names), sorted. Links, special files
    /// and unreadable folders are reported in `problems` and skipped.
    pub fn walk(&self, dir: &Path, problems: &mut Vec<Problem>) -> Vec<PathBuf> {
        self.walk_except(dir, &[], problems)
    }

    /// [`walk`](Self::walk), leaving out the folders directly under `dir` named in `skip`.
    pub fn walk_except(
        &self,
        dir: &Path,
        skip: &[&str],
        problems: &mut Vec<Problem>,
    ) -> Vec<PathBuf> {
        let mut files = Vec::new();
        match self.check_folder(dir) {
            Ok(()) => {
                let mut walk = Walk {
                    site: self,
                    files: &mut files,
                    problems,
                    ancestors: HashSet::new(),
                };
                walk.folder(dir, 0, skip);
            }
            Err(message) => problems.push(Problem {
                file: dir.to_path_buf(),
                line: None,
                message,
            }),
        }
        files.sort();
        files
    }

    /// Checks that `dir`, a folder under the root, may be walked: it exists, is a folder, and
    /// no component between the root and it is a link that the rule refuses.
    pub fn check_folder(&self, dir: &Path) -> Result<(), String> {
        let real = match self.symlinks {
            Symlinks::Never => {
                let inside = dir
                    .strip_prefix(&self.root)
                    .map_err(|_| "not under the site root".to_string())?;
                let mut at = self.root.clone();
                for part in inside.components() {
                    at.push(part);
                    match std::fs::symlink_metadata(&at) {
                        Ok(m) if m.file_type().is_symlink() => {
                            return Err(link_refused(&at));
                        }
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {
                            return Err("not found (is --root right?)".into())
                        }
                        Err(e) => return Err(format!("cannot read directory: {e}")),
                    }
                }
                dir.to_path_buf()
            }
            Symlinks::Inside => match std::fs::canonicalize(dir) {
                Ok(real) if real.starts_with(&self.real_root) => real,
                Ok(real) => return Err(outside(&real).to_string()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err("not found (is --root right?)".into())
                }
                Err(e) => return Err(format!("cannot be resolved: {e}")),
            },
        };
        match std::fs::metadata(&real) {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err("not a folder".into()),
            Err(e) => Err(format!("cannot read directory: {e}")),
        }
    }

    /// What `path` is, given its own (not followed) type; a refusal in words otherwise.
    fn classify(&self, path: &Path, file_type: std::fs::FileType) -> Result<Kind, String> {
        if file_type.is_dir() {
            return Ok(Kind::Folder);
        }
        if file_type.is_file() {
            return Ok(Kind::File);
        }
        if !file_type.is_symlink() {
            return Err(format!(
                "{}; not read (only regular files are)",
                kind_name(file_kind(file_type))
            ));
        }
        if self.symlinks == Symlinks::Never {
            return Err(link_refused(path));
        }
        let real = std::fs::canonicalize(path)
            .map_err(|e| format!("a symbolic link that cannot be resolved ({e}); not read"))?;
        if !real.starts_with(&self.real_root) {
            return Err(outside(&real).to_string());
        }
        let meta = std::fs::metadata(&real).map_err(|e| format!("cannot read: {e}"))?;
        if meta.is_dir() {
            Ok(Kind::Folder)
        } else if meta.is_file() {
            Ok(Kind::File)
        } else {
            Err(format!(
                "a symbolic link to {}, {}; not read (only regular files are)",
                real.display(),
                kind_name(file_kind(meta.file_type()))
            ))
        }
    }
}

/// One walk in progress.
struct Walk<'a> {
    site: &'a SiteFiles,
    files: &'a mut Vec<PathBuf>,
    problems: &'a mut Vec<Problem>,
    /// The resolved folders from the start down to the current one (only kept when links are
    /// followed), so a link back up is reported instead of walked until [`MAX_DEPTH`].
    ancestors: HashSet<PathBuf>,
}

impl Walk<'_> {
    fn problem(&mut self, file: &Path, message: String) {
        self.problems.push(Problem {
            file: file.to_path_buf(),
            line: None,
            message,
        });
    }

    fn folder(&mut self, dir: &Path, depth: usize, skip: &[&str]) {
        if depth > MAX_DEPTH {
            let message = format!("folders nested more than {MAX_DEPTH} deep; skipped");
            return self.problem(dir, message);
        }
        let real = match self.site.symlinks {
            Symlinks::Never => None,
            Symlinks::Inside => match std::fs::canonicalize(dir) {
                Ok(real) if self.ancestors.contains(&real) => {
                    let message = format!(
                        "a symbolic link back to {}, a folder above it; not walked again",
                        real.display()
                    );
                    return self.problem(dir, message);
                }
                Ok(real) => Some(real),
                Err(e) => return self.problem(dir, format!("cannot be resolved: {e}")),
            },
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return self.problem(dir, format!("cannot read directory: {e}")),
        };
        if let Some(real) = &real {
            self.ancestors.insert(real.clone());
        }
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    self.problem(dir, format!("cannot read directory: {e}"));
                    continue;
                }
            };
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                self.problem(&path, "file name is not UTF-8; skipped".into());
                continue;
            };
            if ignored(&name) || (depth == 0 && skip.contains(&name.as_str())) {
                continue;
            }
            let kind = entry
                .file_type()
                .map_err(|e| format!("cannot read: {e}"))
                .and_then(|t| self.site.classify(&path, t));
            match kind {
                Ok(Kind::Folder) => self.folder(&path, depth + 1, &[]),
                Ok(Kind::File) => self.files.push(path),
                Err(message) => self.problem(&path, message),
            }
        }
        if let Some(real) = &real {
            self.ancestors.remove(real);
        }
    }
}

/// Reads `root/name` on its own, before the site's rule for links is known: it must be a regular
/// file, not a link. `Ok(None)` when there is no such file.
pub fn read_settings(root: &Path, name: &str) -> Result<Option<FileRead>, Problem> {
    let path = root.join(name);
    let problem = |e: &dyn std::fmt::Display| Problem {
        file: path.clone(),
        line: None,
        message: format!("cannot read settings: {e}"),
    };
    let files = SiteFiles::open(root, Symlinks::Never)?;
    match files.read(&path) {
        Ok(read) => Ok(Some(read)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(problem(&e)),
    }
}

fn refused(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, why.to_string())
}

fn outside(real: &Path) -> io::Error {
    refused(&format!(
        "a symbolic link to {}, outside the site root; not read",
        real.display()
    ))
}

fn link_refused(path: &Path) -> String {
    let target = std::fs::read_link(path)
        .map(|t| format!(" to {}", t.display()))
        .unwrap_or_default();
    format!(
        "a symbolic link{target}; not read (forkblog follows no links unless forkblog.toml sets \
         follow_symlinks = \"inside\", and then only to files inside the site root)"
    )
}

fn file_kind(file_type: std::fs::FileType) -> SFlag {
    if file_type.is_fifo() {
        SFlag::S_IFIFO
    } else if file_type.is_socket() {
        SFlag::S_IFSOCK
    } else if file_type.is_char_device() {
        SFlag::S_IFCHR
    } else if file_type.is_block_device() {
        SFlag::S_IFBLK
    } else if file_type.is_symlink() {
        SFlag::S_IFLNK
    } else if file_type.is_dir() {
        SFlag::S_IFDIR
    } else {
        SFlag::S_IFREG
    }
}

fn kind_name(kind: SFlag) -> &'static str {
    match kind {
        SFlag::S_IFIFO => "a FIFO (named pipe)",
        SFlag::S_IFSOCK => "a socket",
        SFlag::S_IFCHR => "a character device",
        SFlag::S_IFBLK => "a block device",
        SFlag::S_IFDIR => "a folder",
        SFlag::S_IFLNK => "a symbolic link",
        _ => "not a regular file",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_values() {
        assert_eq!(Symlinks::parse("never"), Ok(Symlinks::Never));
        assert_eq!(Symlinks::parse("inside"), Ok(Symlinks::Inside));
        assert!(Symlinks::parse("always")
            .unwrap_err()
            .contains("\"inside\""));
    }
}
