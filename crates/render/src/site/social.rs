//! What link previews (Open Graph, Twitter cards) show of a post besides its title and summary:
//! its first image.

/// The first `<img>` of `html` as an absolute URL or a path from the site's root, for a page
/// whose relative links resolve against `folder` (`Post::folder`); `None` without one, or with a
/// `src` that is neither (a `data:` URL).
pub(super) fn first_image(html: &str, folder: &str) -> Option<String> {
    let tag = &html[html.find("<img ")?..];
    let tag = &tag[..tag.find('>')?];
    let src = &tag[tag.find(" src=\"")? + 6..];
    let src = &src[..src.find('"')?];
    if src.starts_with("https://") || src.starts_with("http://") || src.starts_with('/') {
        return Some(src.to_string());
    }
    if src.is_empty() || src.contains(':') {
        return None;
    }
    Some(format!("{folder}{}", src.trim_start_matches("./")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_image_resolved_against_the_page() {
        let html = "<p>x</p><img width=\"1\" src=\"photo.png\" alt=\"\"><img src=\"/b.png\">";
        assert_eq!(
            first_image(html, "/posts/a/").as_deref(),
            Some("/posts/a/photo.png")
        );
        assert_eq!(
            first_image("<img src=\"https://cdn.example/p.jpg\">", "/a/").as_deref(),
            Some("https://cdn.example/p.jpg")
        );
        assert_eq!(
            first_image("<img src=\"data:image/png;base64,AA\">", "/a/"),
            None
        );
        assert_eq!(first_image("<p>none</p>", "/a/"), None);
    }
}
