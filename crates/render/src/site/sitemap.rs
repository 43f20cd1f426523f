//! `/sitemap.xml` (sitemaps.org 0.9) and the default `/robots.txt` that points to it.

use std::fmt::Write as _;

use super::config::Config;
use super::pages::rfc3339;
use super::text::{encode_path, xml_escape};
use super::Resource;

/// The sitemap's Content-Type.
pub(super) const CONTENT_TYPE: &str = "application/xml; charset=utf-8";

/// Lists every page (resources whose path ends in `/`, and HTML files such as
/// `/2009/05/19/x.html`, but no redirect) with its last modification: what `dated` says for a
/// page (a post's `updated` or `date`), else the resource's own time.
pub(super) fn sitemap<'a>(
    config: &Config,
    pages: impl IntoIterator<Item = &'a Resource>,
    dated: impl Fn(&Resource) -> Option<jiff::Timestamp>,
) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    let is_page = |r: &Resource| {
        let html_file = r.path.ends_with(".html")
            && r.content_type.starts_with("text/html")
            && !r.path.ends_with("/404.html");
        (r.path.ends_with('/') || html_file) && super::redirect::target(r).is_none()
    };
    for page in pages.into_iter().filter(|r| is_page(r)) {
        let loc = format!("{}{}", config.base_url, encode_path(&page.path));
        let _ = writeln!(
            out,
            "  <url><loc>{}</loc><lastmod>{}</lastmod></url>",
            xml_escape(&loc),
            rfc3339(dated(page).unwrap_or(page.last_modified))
        );
    }
    out.push_str("</urlset>\n");
    out
}

/// The default robots.txt: everything allowed, and where the sitemap is. A site overrides it
/// with its own `templates/root/robots.txt`.
pub(super) fn robots(config: &Config) -> String {
    format!(
        "User-agent: *\nAllow: /\n\nSitemap: {}/sitemap.xml\n",
        config.base_url
    )
}
