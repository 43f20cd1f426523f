//! For the `site_*` tests, which build a site in-process: lookups into a built site (the site
//! roots are `super::TempSite`).

use std::path::Path;

use forkblog::site::{Resource, Site};

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
