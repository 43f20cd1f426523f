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
            // The line named in `forkblog check` output must exist in the file.
            if let Some(line) = e.line {
                let lines = text.matches('\n').count() + 1;
                assert!(line >= 1 && line <= lines, "line {line} of {lines}");
            }
        }
    }
});
