//! Front matter (YAML between `---`, TOML between `+++`): `frontmatter::parse` on any text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match forkblog::site::frontmatter::parse(&text) {
        Ok((_, body_offset)) => {
            // The offset is where the post body starts: inside the text, on a char boundary.
            assert!(
                body_offset <= text.len(),
                "offset {body_offset} of {}",
                text.len()
            );
            assert!(
                text.is_char_boundary(body_offset),
                "offset {body_offset} splits a char"
            );
        }
        Err(e) => {
            // The line named in `forkblog check` output must exist. YAML also breaks lines at a
            // lone CR (and NEL, LS, PS), so those are counted too, or every old-Mac file would
            // trip this: fuzz/crashes-found/front_matter-lone-cr-line-number is that finding.
            if let Some(line) = e.line {
                let breaks = text
                    .char_indices()
                    .filter(|&(i, c)| match c {
                        '\n' | '\u{85}' | '\u{2028}' | '\u{2029}' => true,
                        '\r' => !text[i + 1..].starts_with('\n'),
                        _ => false,
                    })
                    .count();
                assert!(
                    line >= 1 && line <= breaks + 1,
                    "line {line} of {}",
                    breaks + 1
                );
            }
        }
    }
});
