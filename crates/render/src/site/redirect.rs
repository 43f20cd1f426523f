//! Old addresses that lead to a page: a post's `redirect_from` / `aliases`, and the
//! extension-less twin of a `.html` post.
//!
//! A redirect is a resource of its own, so it needs no new field in [`super::Site`]: an HTML page
//! whose body is exactly [`page`]`(to)`, with an instant `<meta http-equiv="refresh">` and a
//! canonical link. Served as it is (and written by `forkblog build`) it works the way Jekyll's,
//! Hugo's and Zola's alias pages do on a static host; a server that knows it — [`target`]
//! returns the destination — answers `301 Moved Permanently` with `Location:` instead.

use super::pages::HTML;
use super::text::encode_path;
use super::{Resource, Site};

const HEAD: &str = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Moved</title>\
<meta name=\"robots\" content=\"noindex\"><meta http-equiv=\"refresh\" content=\"0; url=";

/// The body of a redirect page to the decoded site path `to`.
pub fn page(to: &str) -> String {
    let href = encode_path(to);
    format!(
        "{HEAD}{href}\"><link rel=\"canonical\" href=\"{href}\"></head>\n<body><p>Moved to \
         <a href=\"{href}\">{href}</a>.</p></body></html>\n"
    )
}

/// A redirect resource at `from` leading to `to` (both decoded site paths).
pub fn resource(from: &str, to: &str, modified: jiff::Timestamp) -> Resource {
    Resource {
        path: from.to_string(),
        content_type: HTML.into(),
        last_modified: modified,
        body: page(to).into_bytes().into(),
    }
}

/// The decoded path a redirect resource leads to, or `None` for any other resource. Only a
/// body byte-for-byte equal to [`page`]`(to)` counts.
pub fn target(resource: &Resource) -> Option<String> {
    // Cheap refusals first: this runs over every page when the sitemap is written.
    if resource.content_type != HTML || !resource.body.starts_with(HEAD.as_bytes()) {
        return None;
    }
    let body = std::str::from_utf8(&resource.body).ok()?;
    let rest = body.strip_prefix(HEAD)?;
    let encoded = &rest[..rest.find('"')?];
    let decoded = decode(encoded)?;
    (page(&decoded) == body).then_some(decoded)
}

/// Decodes the `%XX` escapes [`encode_path`] writes.
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl Site {
    /// Every redirect in the site: `(from, to)`, both decoded paths; `to` is always a resource
    /// of the site.
    pub fn redirects(&self) -> Vec<(&str, String)> {
        self.resources
            .iter()
            .filter_map(|r| target(r).map(|to| (r.path.as_str(), to)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let r = resource(
            "/old/",
            "/2009/05/19/café.html",
            jiff::Timestamp::UNIX_EPOCH,
        );
        assert_eq!(target(&r).as_deref(), Some("/2009/05/19/café.html"));
        let body = String::from_utf8(r.body.to_vec()).unwrap();
        assert!(body.contains("url=/2009/05/19/caf%C3%A9.html\""), "{body}");
        let mut edited = r.clone();
        edited.body = [&r.body[..], b"<p>more</p>"].concat().into();
        assert_eq!(target(&edited), None);
        let mut other = r;
        other.content_type = "text/plain".into();
        assert_eq!(target(&other), None);
    }
}
