//! Width and height for a post's images whose files sit beside it (a bundle's `photo.png`),
//! read from the files' headers at render time, so that the page does not shift as they load.
//!
//! PNG, GIF, JPEG, WebP and SVG (its `width`/`height` in pixels, else its `viewBox`); anything
//! else, or a file that cannot be read, keeps its `<img>` as written.

use std::io::Read;
use std::path::Path;

/// How much of a file is read for its size: a JPEG's frame header can follow a large EXIF block.
const HEAD: u64 = 1 << 20;

/// `html` with `width` and `height` added to each `<img>` whose `src` is a relative path to a
/// readable image under `dir` and that sets neither; `None` when nothing changed.
pub(super) fn add_sizes(html: &str, dir: &Path) -> Option<String> {
    let mut out = String::new();
    let mut copied = 0;
    for (at, _) in html.match_indices("<img ") {
        let tag_end = at + html[at..].find('>')?;
        let tag = &html[at..tag_end];
        if tag.contains(" width=") || tag.contains(" height=") {
            continue;
        }
        let Some((width, height)) = src_of(tag)
            .filter(|s| relative(s))
            .and_then(|s| read_size(&dir.join(s)))
        else {
            continue;
        };
        out.push_str(&html[copied..at + 4]);
        out.push_str(&format!(" width=\"{width}\" height=\"{height}\""));
        copied = at + 4;
    }
    (copied > 0).then(|| {
        out.push_str(&html[copied..]);
        out
    })
}

fn src_of(tag: &str) -> Option<&str> {
    let rest = &tag[tag.find(" src=\"")? + 6..];
    Some(rest[..rest.find('"')?].trim_start_matches("./"))
}

/// A path under the post's folder: no scheme, no root, no way up, nothing escaped.
fn relative(src: &str) -> bool {
    !src.is_empty()
        && !src.starts_with(['/', '#', '?', '.'])
        && !src.contains([':', '&', '?', '#', '%'])
        && !src.split('/').any(|part| part == "..")
}

fn read_size(path: &Path) -> Option<(u32, u32)> {
    // A symbolic link is not followed: the site's `follow_symlinks` decides what is served.
    if !std::fs::symlink_metadata(path).ok()?.is_file() {
        return None;
    }
    let mut head = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(HEAD)
        .read_to_end(&mut head)
        .ok()?;
    size_of(&head)
}

/// The pixel size an image's header gives.
pub(super) fn size_of(b: &[u8]) -> Option<(u32, u32)> {
    let be32 = |i: usize| Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?));
    let le16 = |i: usize| Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?) as u32);
    let le24 = |i: usize| {
        let s = b.get(i..i + 3)?;
        Some(s[0] as u32 | (s[1] as u32) << 8 | (s[2] as u32) << 16)
    };
    let size = if b.starts_with(b"\x89PNG\r\n\x1a\n") && b.get(12..16) == Some(b"IHDR") {
        (be32(16)?, be32(20)?)
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        (le16(6)?, le16(8)?)
    } else if b.starts_with(b"\xff\xd8") {
        jpeg(b)?
    } else if b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WEBP") {
        match b.get(12..16)? {
            b"VP8X" => (le24(24)? + 1, le24(27)? + 1),
            b"VP8 " => (le16(26)? & 0x3fff, le16(28)? & 0x3fff),
            b"VP8L" => {
                let bits = u32::from_le_bytes(b.get(21..25)?.try_into().ok()?);
                ((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1)
            }
            _ => return None,
        }
    } else {
        svg(std::str::from_utf8(b).ok()?)?
    };
    (size.0 > 0 && size.1 > 0).then_some(size)
}

/// A JPEG's size from its first frame header (SOF0..SOF15 but DHT, JPG and DAC).
fn jpeg(b: &[u8]) -> Option<(u32, u32)> {
    let be16 = |i: usize| Some(u16::from_be_bytes(b.get(i..i + 2)?.try_into().ok()?) as u32);
    let mut i = 2;
    loop {
        while *b.get(i)? != 0xff {
            i += 1;
        }
        while *b.get(i)? == 0xff {
            i += 1;
        }
        let marker = *b.get(i)?;
        i += 1;
        if matches!(marker, 0xd8 | 0x01 | 0xd0..=0xd7) {
            continue; // no length
        }
        let len = be16(i)? as usize;
        if matches!(marker, 0xc0..=0xcf) && !matches!(marker, 0xc4 | 0xc8 | 0xcc) {
            return Some((be16(i + 5)?, be16(i + 3)?));
        }
        i += len;
    }
}

/// An SVG's size: `width` and `height` on its root in pixels (or unitless), else its `viewBox`.
fn svg(text: &str) -> Option<(u32, u32)> {
    let start = text.find("<svg")?;
    let tag = &text[start..start + text[start..].find('>')?];
    let attr = |name: &str| {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(&tag[at..at + tag[at..].find('"')?])
    };
    let pixels = |v: &str| -> Option<u32> {
        let n: f64 = v.trim().trim_end_matches("px").parse().ok()?;
        (1.0..100_000.0).contains(&n).then_some(n.round() as u32)
    };
    if let (Some(w), Some(h)) = (
        attr("width").and_then(pixels),
        attr("height").and_then(pixels),
    ) {
        return Some((w, h));
    }
    let view: Vec<&str> = attr("viewBox")?
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .collect();
    match view[..] {
        [_, _, w, h] => Some((pixels(w)?, pixels(h)?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_from_each_format_header() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        assert_eq!(size_of(&png), Some((640, 480)));
        assert_eq!(size_of(b"GIF89a\x20\x00\x10\x00"), Some((32, 16)));
        let jpeg = b"\xff\xd8\xff\xe0\x00\x04ab\xff\xc0\x00\x11\x08\x00\x64\x00\xc8\x03";
        assert_eq!(size_of(jpeg), Some((200, 100)));
        assert_eq!(
            size_of(b"<svg width=\"560\" height=\"120px\">"),
            Some((560, 120))
        );
        assert_eq!(size_of(b"<svg viewBox=\"0 0 300 150\">"), Some((300, 150)));
        assert_eq!(size_of(b"<svg width=\"100%\">"), None);
        assert_eq!(size_of(b"not an image"), None);
    }

    #[test]
    fn only_relative_images_that_set_no_size_get_one() {
        let dir = std::env::temp_dir().join(format!("forkblog-imagesize-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.svg"), "<svg width=\"20\" height=\"10\"></svg>").unwrap();
        let html = "<p><img src=\"a.svg\" alt=\"x\" /> <img src=\"/a.svg\" alt=\"y\" /> \
                    <img src=\"a.svg\" width=\"5\" alt=\"z\" /> <img src=\"gone.png\" alt=\"w\" /></p>";
        let sized = add_sizes(html, &dir).unwrap();
        assert_eq!(
            sized,
            "<p><img width=\"20\" height=\"10\" src=\"a.svg\" alt=\"x\" /> <img src=\"/a.svg\" \
             alt=\"y\" /> <img src=\"a.svg\" width=\"5\" alt=\"z\" /> <img src=\"gone.png\" alt=\"w\" /></p>"
        );
        assert_eq!(add_sizes("<p>no images</p>", &dir), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
