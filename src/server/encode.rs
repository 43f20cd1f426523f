//! Render-time encoding: every response's head, gzip body and entity tag, computed once in the
//! render worker so that a child only copies bytes.
//!
//! The heads carry what never changes between requests for a resource: Content-Type, length,
//! Last-Modified, ETag, `Accept-Ranges`, `Vary`, and the safety headers (`nosniff` everywhere,
//! a Content-Security-Policy on HTML). The child adds `Date` and `Connection`.

use std::io::{self, Write};

use super::snapshot::{self, Prepared};
use crate::site::{par, Resource, Site};

/// Bodies smaller than this are not worth compressing.
const GZIP_MIN: usize = 256;

/// What an HTML page may load: its own site's scripts, styles and frames; images and media
/// from anywhere (posts embed them); inline styles (templates use them); no plugins, no inline
/// or foreign scripts, so markup that slipped into a post cannot run code.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src * data:; media-src *; style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'";

/// Encodes `site` as a snapshot blob. Compression and hashing, most of the work, run on every
/// core (this runs in the render worker, never in the serving parent).
pub fn encode(site: &Site, render_micros: u64) -> io::Result<Vec<u8>> {
    let all: Vec<&Resource> = std::iter::once(&site.not_found)
        .chain(&site.resources)
        .collect();
    let prepared: Vec<Prepared<'_>> =
        par::map(&all, |r| prepare(r, std::ptr::eq(*r, &site.not_found)))
            .into_iter()
            .collect::<io::Result<_>>()?;
    snapshot::lay_out(&prepared, site.post_count, render_micros)
}

fn prepare(resource: &Resource, not_found: bool) -> io::Result<Prepared<'_>> {
    if not_found {
        return Ok(Prepared {
            path: "",
            head: head(resource, Kind::NotFound, resource.body.len()),
            body: &resource.body,
            gzip: None,
            etag: String::new(),
        });
    }
    if let Some(to) = crate::site::redirect::target(resource) {
        // An old address (`redirect_from`, `aliases`): a permanent redirect, no body. The child
        // adds the request's query to the Location.
        return Ok(Prepared {
            path: &resource.path,
            head: format!(
                "HTTP/1.1 301 Moved Permanently\r\nLocation: {}\r\nContent-Length: 0\r\n",
                crate::site::text::encode_path(&to)
            ),
            body: b"",
            gzip: None,
            etag: String::new(),
        });
    }
    let etag = format!("\"{:016x}\"", content_hash(&resource.body));
    let gzip = match compressed(resource)? {
        Some(gz) => {
            let gz_etag = format!("{}-gz\"", &etag[..etag.len() - 1]);
            let kind = Kind::Found {
                etag: &gz_etag,
                vary: true,
                gzip: true,
            };
            Some((head(resource, kind, gz.len()), gz))
        }
        None => None,
    };
    let kind = Kind::Found {
        etag: &etag,
        vary: gzip.is_some(),
        gzip: false,
    };
    Ok(Prepared {
        path: &resource.path,
        head: head(resource, kind, resource.body.len()),
        body: &resource.body,
        gzip,
        etag,
    })
}

/// Which head to build.
enum Kind<'t> {
    /// The 404 page.
    NotFound,
    /// A resource: its tag, whether a gzip twin exists (Vary), whether this is the gzip one.
    Found {
        etag: &'t str,
        vary: bool,
        gzip: bool,
    },
}

fn head(r: &Resource, kind: Kind<'_>, len: usize) -> String {
    let status = match kind {
        Kind::NotFound => "404 Not Found",
        Kind::Found { .. } => "200 OK",
    };
    let mut h = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {}\r\nContent-Length: {len}\r\nX-Content-Type-Options: nosniff\r\n",
        r.content_type
    );
    if r.content_type.starts_with("text/html") {
        h.push_str(&format!(
            "Content-Security-Policy: {CONTENT_SECURITY_POLICY}\r\n"
        ));
    }
    if let Kind::Found { etag, vary, gzip } = kind {
        let mut date = Vec::new();
        crate::clock::http_date(&mut date, r.last_modified.as_second());
        h.push_str(&format!(
            "Last-Modified: {}\r\nETag: {etag}\r\nAccept-Ranges: bytes\r\n",
            String::from_utf8_lossy(&date)
        ));
        if gzip {
            h.push_str("Content-Encoding: gzip\r\n");
        }
        if vary {
            h.push_str("Vary: Accept-Encoding\r\n");
        }
    }
    h
}

/// The gzip body for compressible content when it saves at least a tenth.
fn compressed(r: &Resource) -> io::Result<Option<Vec<u8>>> {
    let ct = r.content_type.as_str();
    let textual = ct.starts_with("text/")
        || ct.contains("xml")
        || ct.contains("json")
        || ct.contains("javascript");
    if !textual || r.body.len() < GZIP_MIN {
        return Ok(None);
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    encoder.write_all(&r.body)?;
    let gz = encoder.finish()?;
    Ok((gz.len() * 10 < r.body.len() * 9).then_some(gz))
}

/// A stable content hash for entity tags (same bytes, same tag, across reloads and versions):
/// FNV-1a's constants applied a word at a time, then a final avalanche.
fn content_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        h = (h ^ w).wrapping_mul(0x100_0000_01b3).rotate_left(29);
    }
    for &b in words.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::snapshot::View;

    fn resource(path: &str, body: &str) -> Resource {
        Resource {
            path: path.to_string(),
            content_type: "text/html; charset=utf-8".to_string(),
            last_modified: jiff::Timestamp::from_second(1_795_341_600).unwrap(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn every_path_is_found_and_nothing_else() {
        let resources: Vec<Resource> = (0..3000)
            .map(|i| resource(&format!("/posts/p{i}/"), &format!("post {i} ").repeat(60)))
            .collect();
        let site = Site {
            resources,
            not_found: resource("", "gone"),
            post_count: 3000,
        };
        let bytes = encode(&site, 1).unwrap();
        let view = View::new(&bytes);
        for i in 0..3000 {
            let entry = view
                .lookup(format!("/posts/p{i}/").as_bytes())
                .expect("present");
            assert_eq!(entry.plain.body, format!("post {i} ").repeat(60).as_bytes());
            assert!(
                entry.gzip.is_some(),
                "a 480-byte repetitive page compresses"
            );
            let head = std::str::from_utf8(entry.plain.head).unwrap();
            assert!(head.contains("Last-Modified: Sun, 22 Nov 2026 10:00:00 GMT\r\n"));
            assert!(head.contains("Accept-Ranges: bytes\r\n"));
            assert!(head.contains("X-Content-Type-Options: nosniff\r\n"));
            assert!(head.contains("Content-Security-Policy: default-src 'self'"));
        }
        for missing in ["/posts/p3000/", "/posts/p1", "", "/", "/posts/p1//"] {
            assert!(view.lookup(missing.as_bytes()).is_none(), "{missing}");
        }
        assert_eq!(view.not_found().unwrap().plain.body, b"gone");
        assert_eq!(view.post_count(), 3000);
    }

    #[test]
    fn duplicate_paths_are_refused() {
        let site = Site {
            resources: vec![resource("/a/", "x"), resource("/a/", "y")],
            not_found: resource("", "gone"),
            post_count: 0,
        };
        assert!(encode(&site, 0).is_err());
    }

    #[test]
    fn entity_tags_follow_content() {
        assert_eq!(content_hash(b"same bytes"), content_hash(b"same bytes"));
        assert_ne!(content_hash(b"same bytes"), content_hash(b"same bytez"));
        assert_ne!(content_hash(b""), content_hash(b"\0"));
    }
}
