//! A site under a path: with `base_url = "https://example.org/notes"` every resource is served
//! under `/notes` and `/` answers with a redirect to `/notes/`.
//!
//! The build works on the site's own paths (`/`, `/posts/x/`, as permalinks and links written in
//! posts name them) and the prefix is put on at the edge, so nothing else needs to know of it:
//! - pages are rendered with their root-relative links carrying it (`Config::under_base_path`,
//!   called where a template's output is made, before the place of a post's HTML in it is
//!   recorded, and on each feed entry), links already written with it left as they are unless
//!   they name one of the site's own URLs that start with it ([`own_under`]);
//! - [`Stream`] puts every resource's path under it as the site is handed on, and the redirect
//!   of `/`;
//! - [`Previous`] lets the incremental render find, by the site's own paths, the bodies of the
//!   snapshot it replaces, which are stored under the prefix.
//!
//! Absolute URLs (canonical links, the feed, the sitemap) are made from `base_url`, which holds
//! the prefix already.

use std::borrow::Cow;

use super::post::Post;
use super::{incremental, links, redirect, PageStream, Resource, Site};

/// The URLs of `posts` that start with `prefix` (`/notes/x/` on a site under `/notes`): rare,
/// and the links to them are put under the prefix although they look as if they were already.
pub(super) fn own_under<'p>(prefix: &str, posts: impl Iterator<Item = &'p Post>) -> Vec<String> {
    if prefix.is_empty() {
        return Vec::new();
    }
    let mut own: Vec<String> = posts
        .filter(|post| links::without_base_path(&post.url, prefix) != post.url)
        .map(|post| post.url.clone())
        .collect();
    own.sort();
    own
}

/// A [`PageStream`] that hands the site on with every path under `prefix`.
pub(super) struct Stream<'s> {
    /// Where the site goes.
    pub inner: &'s mut dyn PageStream,
    /// The base path, `/notes`: not empty, without a trailing `/`.
    pub prefix: &'s str,
    /// The site's own URLs that start with it ([`own_under`]).
    pub own: &'s [String],
}

impl PageStream for Stream<'_> {
    fn begin(&mut self, site: &mut Site, later: &[bool]) {
        for resource in &mut site.resources {
            put_under(resource, self.prefix, self.own);
        }
        let home = format!("{}/", self.prefix);
        let modified = site
            .resources
            .iter()
            .find(|r| r.path == home)
            .map_or(jiff::Timestamp::UNIX_EPOCH, |r| r.last_modified);
        // `/` sorts before every path under the prefix: the order stays sorted.
        site.resources
            .insert(0, redirect::resource("/", &home, modified));
        let later: Vec<bool> = std::iter::once(false)
            .chain(later.iter().copied())
            .collect();
        self.inner.begin(site, &later);
    }

    fn pages(&mut self, mut pages: Vec<Resource>) {
        for page in &mut pages {
            page.path = format!("{}{}", self.prefix, page.path);
        }
        self.inner.pages(pages);
    }
}

/// Puts `resource` under `prefix`: its path, a redirect's destination, and the root-relative
/// links of an HTML file served as it is (pages rendered from templates carry them already,
/// and the rewriting leaves a link under the prefix as it is).
fn put_under(resource: &mut Resource, prefix: &str, own: &[String]) {
    if let Some(to) = redirect::target(resource) {
        *resource = redirect::resource(
            &format!("{prefix}{}", resource.path),
            &format!("{prefix}{to}"),
            resource.last_modified,
        );
        return;
    }
    resource.path = format!("{prefix}{}", resource.path);
    if resource.content_type.starts_with("text/html") {
        if let Ok(html) = std::str::from_utf8(&resource.body) {
            if let Cow::Owned(rewritten) = links::with_prefix(html, prefix, own) {
                resource.body = rewritten.into_bytes().into();
            }
        }
    }
}

/// The snapshot an incremental render replaces, seen by the site's own paths.
pub(super) struct Previous<'e> {
    /// The snapshot, by served paths.
    pub inner: &'e dyn incremental::Previous,
    /// The base path it was served under (the record is void when it was another: the
    /// settings are part of its fingerprint).
    pub prefix: &'e str,
}

impl incremental::Previous for Previous<'_> {
    fn record(&self) -> &[u8] {
        self.inner.record()
    }

    fn body(&self, path: &str) -> Option<Cow<'_, [u8]>> {
        self.inner.body(&format!("{}{path}", self.prefix))
    }

    fn shared_body(&self, path: &str) -> Option<bytes::Bytes> {
        self.inner.shared_body(&format!("{}{path}", self.prefix))
    }
}
