//! For the `site_*` tests, which build a site in-process: throw-away site roots and lookups
//! into a built site.

use std::path::{Path, PathBuf};

use forkblog::site::{self, Build, Resource, Site};

use super::TempDir;

/// A site root in a fresh temporary directory, removed on drop.
pub struct TempSite {
    pub root: PathBuf,
    _dir: TempDir,
}

impl TempSite {
    /// An empty root with an empty `posts/` folder (and no templates: the built-in ones apply).
    pub fn new(name: &str) -> TempSite {
        let dir = TempDir::new(name);
        let root = dir.path().to_path_buf();
        std::fs::create_dir_all(root.join("posts")).expect("create temp site");
        TempSite { root, _dir: dir }
    }

    /// Writes `contents` to `rel` under the root, creating folders.
    pub fn file(&self, rel: &str, contents: impl AsRef<[u8]>) -> &TempSite {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create dirs");
        std::fs::write(&path, contents).expect("write file");
        self
    }

    /// A path under the root.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Builds the site.
    pub fn build(&self) -> Build {
        site::build(&self.root)
    }

    /// Builds the site and insists on no problems.
    pub fn site(&self) -> Site {
        let build = self.build();
        assert!(
            build.problems.is_empty(),
            "unexpected problems: {:#?}",
            build.problems
        );
        build.site.expect("site builds")
    }
}

/// The resource at `path`, if served.
pub fn get<'a>(site: &'a Site, path: &str) -> Option<&'a Resource> {
    site.resources.iter().find(|r| r.path == path)
}

/// The body of the resource at `path` as text; panics if it is not served.
pub fn text<'a>(site: &'a Site, path: &str) -> &'a str {
    let resource = get(site, path).unwrap_or_else(|| {
        let paths: Vec<&str> = site.resources.iter().map(|r| r.path.as_str()).collect();
        panic!("{path} is not served; served: {paths:?}")
    });
    std::str::from_utf8(&resource.body).expect("body is UTF-8")
}

/// Whether any resource path contains `needle`.
pub fn serves_any(site: &Site, needle: &str) -> bool {
    site.resources.iter().any(|r| r.path.contains(needle))
}

/// A problem's file name ends with `name`.
pub fn names(file: &Path, name: &str) -> bool {
    file.to_string_lossy().ends_with(name)
}
