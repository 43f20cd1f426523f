//! `serve --watch`: notice edits to `posts/`, `pages/`, `templates/` and `forkblog.toml`, and
//! say when a reload is due.
//!
//! One inotify descriptor, held by the parent and polled in its loop beside the signal pipe.
//! That is simpler than a watcher process sending SIGHUP: no extra child to track across
//! re-execs, reap, or keep out of `--lifetime`, and a reload is then exactly what SIGHUP starts.
//! The descriptor is opened close-on-exec before the watchdog's first sample, so it is part of
//! the parent's baseline, and each generation after a re-exec opens its own (the old one closes
//! at exec): the count stays the same across reloads.
//!
//! inotify watches one directory at a time, so every directory under those folders is watched.
//! A folder created later (one of them under the root, or any folder below them) is a change
//! like any other, and is watched from the moment it is noticed, so that a file written into it
//! before the reload's render ends is noticed too; the next generation watches the tree as it
//! then is anyway. Edits arrive as bursts (an editor
//! writes a temporary file, renames it, touches a backup), so a reload is due [`DEBOUNCE`] after
//! the last event of a burst; editors' scratch files do not count.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

/// The site's folders under its root, each watched with everything below it.
/// What a site is made of under its root: the folders and files whose edits re-render it.
/// The site's own crate names them (`render::site::SOURCES`); this one only watches.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sources {
    /// Folders, watched with every folder below them.
    pub folders: &'static [&'static str],
    /// Files directly under the root.
    pub files: &'static [&'static str],
}

/// How long after the last change of a burst the reload starts.
pub const DEBOUNCE: Duration = Duration::from_millis(100);

/// The inotify descriptor and what it watches.
pub struct Watcher {
    inotify: Inotify,
    /// The site root's own watch: only the site's [`Sources`] count there (the access log and
    /// lock may live beside them).
    root: Option<WatchDescriptor>,
    /// The site root, and the directory each other watch is on: where a new folder is.
    root_dir: PathBuf,
    sources: Sources,
    dirs: HashMap<WatchDescriptor, PathBuf>,
    /// When the reload is due, once something changed.
    due: Option<Instant>,
}

/// Changes that count: a file written and closed, created, moved or deleted.
fn interesting() -> AddWatchFlags {
    AddWatchFlags::IN_CLOSE_WRITE
        | AddWatchFlags::IN_CREATE
        | AddWatchFlags::IN_MOVED_TO
        | AddWatchFlags::IN_MOVED_FROM
        | AddWatchFlags::IN_DELETE
}

impl Watcher {
    /// Watches the site under `root`.
    pub fn new(root: &Path, sources: Sources) -> io::Result<Watcher> {
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)?;
        let root_watch = inotify.add_watch(root, interesting())?;
        let mut watcher = Watcher {
            inotify,
            root: Some(root_watch),
            root_dir: root.to_path_buf(),
            sources,
            dirs: Default::default(),
            due: None,
        };
        let mut count = 1;
        for dir in sources.folders {
            count += watcher.watch_tree(&root.join(dir));
        }
        log::info!(
            "--watch: {count} directories under {} watched; edits reload the site",
            root.display()
        );
        Ok(watcher)
    }

    /// Watches `dir` and every directory below it; returns how many. A directory that cannot be
    /// watched is logged and skipped: the rest still reloads.
    fn watch_tree(&mut self, dir: &Path) -> usize {
        if !dir.is_dir() {
            return 0;
        }
        let mut pending: Vec<PathBuf> = vec![dir.to_path_buf()];
        let mut seen = HashSet::new();
        let mut count = 0;
        while let Some(dir) = pending.pop() {
            if !seen.insert(dir.clone()) {
                continue;
            }
            match self.inotify.add_watch(&dir, interesting()) {
                Ok(wd) => {
                    count += 1;
                    self.dirs.insert(wd, dir.clone());
                }
                Err(e) => log::warn!("--watch: cannot watch {}: {e}", dir.display()),
            }
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            // Symbolic links are not followed: a loop would never end.
            pending.extend(
                entries
                    .flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path()),
            );
        }
        count
    }

    /// The descriptor to poll.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.inotify.as_fd()
    }

    /// Reads what arrived; a change that counts makes a reload due [`DEBOUNCE`] from `now`.
    pub fn read(&mut self, now: Instant) {
        loop {
            let events = match self.inotify.read_events() {
                Ok(events) => events,
                Err(nix::errno::Errno::EAGAIN) => return,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => {
                    log::error!("--watch: reading inotify: {e}");
                    return;
                }
            };
            for event in events {
                if event.mask.contains(AddWatchFlags::IN_IGNORED) {
                    self.dirs.remove(&event.wd); // its directory is gone
                }
                let Some(name) = event.name.as_deref() else {
                    continue;
                };
                let dir = if Some(event.wd) == self.root {
                    let ours = (self.sources.files.iter())
                        .chain(self.sources.folders)
                        .any(|f| name == OsStr::new(f));
                    if !ours {
                        continue;
                    }
                    Some(self.root_dir.clone())
                } else if is_scratch(name) {
                    continue;
                } else {
                    self.dirs.get(&event.wd).cloned()
                };
                let made = AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO;
                if event.mask.contains(AddWatchFlags::IN_ISDIR) && event.mask.intersects(made) {
                    if let Some(dir) = dir {
                        self.watch_tree(&dir.join(name));
                    }
                }
                self.due = Some(now + DEBOUNCE);
            }
        }
    }

    /// How long until the reload is due, if one is pending.
    pub fn until_due(&self, now: Instant) -> Option<Duration> {
        self.due.map(|at| at.saturating_duration_since(now))
    }

    /// Whether a reload is due now (and then no longer pending).
    pub fn take_due(&mut self, now: Instant) -> bool {
        match self.due {
            Some(at) if now >= at => {
                self.due = None;
                true
            }
            _ => false,
        }
    }
}

/// Editors' scratch files: hidden files, backups, vim's swap files and its write probe.
fn is_scratch(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with('.')
        || name.starts_with('#')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name == "4913"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_files_do_not_count() {
        for name in [".post.md.swp", "post.md~", "#post.md#", "4913", ".hidden"] {
            assert!(is_scratch(OsStr::new(name)), "{name}");
        }
        for name in ["post.md", "base.html", "photo.png"] {
            assert!(!is_scratch(OsStr::new(name)), "{name}");
        }
    }
}
