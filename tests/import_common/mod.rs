//! Helpers shared by the `import_*` tests: a scratch folder for a source site and a forkblog
//! root, and the check that an old URL is answered by the built site.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use forkblog::site::{redirect, Site};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The real-blog corpus, `../shared/realblogs` seen from the project (or from a worktree one
/// level down).
pub fn corpus() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = ["../shared/realblogs", "../../shared/realblogs"]
        .iter()
        .map(|rel| here.join(rel))
        .find(|p| p.is_dir());
    found.expect("../shared/realblogs is missing: the test needs the real-blog corpus")
}

/// A source folder and a destination root under the temporary directory, removed on drop.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("forkblog-import-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).expect("scratch");
        Scratch { dir }
    }

    pub fn src(&self) -> PathBuf {
        self.dir.join("src")
    }

    pub fn dest(&self) -> PathBuf {
        self.dir.join("dest")
    }

    /// Writes a file of the source site.
    pub fn file(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Scratch {
        let path = self.src().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, contents).expect("write");
        self
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether the site answers `path` as the server does: the resource itself (a redirect counts
/// when its target is served), or, for a path without a trailing `/`, the same path with one
/// (the server's own 301).
pub fn answered(site: &Site, path: &str) -> bool {
    let find = |p: &str| site.resources.iter().find(|r| r.path == p);
    let resolve = |p: &str| {
        find(p).is_some_and(|r| match redirect::target(r) {
            Some(to) => find(&to).is_some_and(|t| redirect::target(t).is_none()),
            None => true,
        })
    };
    resolve(path) || (!path.ends_with('/') && resolve(&format!("{path}/")))
}

/// Old URLs not answered, out of those given.
pub fn unanswered<'a>(site: &Site, urls: &'a [String]) -> Vec<&'a String> {
    urls.iter().filter(|u| !answered(site, u)).collect()
}

/// Every file under `dir`, relative, with its bytes.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("read");
                out.push((path.strip_prefix(dir).expect("under").to_path_buf(), bytes));
            }
        }
    }
    out.sort();
    out
}
