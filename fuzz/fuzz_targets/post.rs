//! A whole post: front matter, Markdown rendering, title, slug and summary, through
//! `post::from_source`, the function `forkblog check`/`serve` call for every file in posts/.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Deeply nested Markdown is legitimately slow to render; keep inputs post-sized.
    if data.len() > 64 * 1024 {
        return;
    }
    let text = String::from_utf8_lossy(data);
    let path = Path::new("posts/2026-01-05-fuzzed-post.md");
    if let Ok(post) = forkblog::site::post::from_source(path, &text, jiff::Timestamp::UNIX_EPOCH) {
        assert!(
            !post.slug.is_empty() && !post.slug.contains('/'),
            "slug {:?}",
            post.slug
        );
        let _ = post.path();
    }
});
