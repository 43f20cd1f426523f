//! Render-time encoding: every response's head, gzip body and entity tag, computed once in the
//! render worker so that a child only copies bytes.
//!
//! The heads carry what never changes between requests for a resource: Content-Type, length,
//! Last-Modified, ETag, `Accept-Ranges`, `Vary`, and the safety headers (`nosniff` everywhere,
//! a Content-Security-Policy on HTML). The child adds `Date` and `Connection`.

use std::borrow::Cow;
use std::io;

use serve::response::CONTENT_SECURITY_POLICY;
use serve::snapshot::{self, Prepared, View};

use crate::site::{par, PageStream, Resource, Site};

/// The render record's opening (see [`Previous`]); a record of any other version is ignored.
const RECORD_MAGIC: &[u8; 8] = b"FBINC01\n";

/// Bodies smaller than this are not worth compressing.
const GZIP_MIN: usize = 256;

/// The snapshot a reload replaces, as far as this binary may reuse what it holds.
///
/// Its render record opens with [`RECORD_MAGIC`] and the fingerprint of the encoder that wrote
/// it (this binary's identity: a gzip level or tag formula changed by an upgrade must not be
/// carried over). What follows is the site's own record (`site::incremental`).
#[derive(Clone, Copy)]
pub struct Previous<'a> {
    view: View<'a>,
    site_record: &'a [u8],
}

impl<'a> Previous<'a> {
    /// What `view` offers for reuse: nothing (`None`) when it was written by another binary or
    /// another record version, or carries no record (older images).
    pub fn new(view: View<'a>) -> Option<Previous<'a>> {
        let record = view.record()?;
        let rest = record.strip_prefix(RECORD_MAGIC.as_slice())?;
        let (fingerprint, site_record) = rest.split_at_checked(8)?;
        (fingerprint == encoder_fingerprint().to_le_bytes())
            .then_some(Previous { view, site_record })
    }

    /// The snapshot.
    pub fn view(&self) -> View<'a> {
        self.view
    }

    /// The site's part of the render record.
    pub fn site_record(&self) -> &'a [u8] {
        self.site_record
    }
}

/// This binary's identity, for [`Previous`]: the executable's device, inode, size and
/// modification time (any rebuild or upgrade changes one of them), 0 when unknown (then no two
/// binaries that cannot tell themselves apart reuse each other's work: 0 is never written).
fn encoder_fingerprint() -> u64 {
    static FINGERPRINT: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *FINGERPRINT.get_or_init(|| {
        use std::os::unix::fs::MetadataExt;
        std::env::current_exe()
            .and_then(std::fs::metadata)
            .map(|m| {
                let mut words = Vec::with_capacity(40);
                for n in [
                    m.dev(),
                    m.ino(),
                    m.size(),
                    m.mtime() as u64,
                    m.mtime_nsec() as u64,
                ] {
                    words.extend_from_slice(&n.to_le_bytes());
                }
                content_hash(&words) | 1
            })
            .unwrap_or(0)
    })
}

/// The opening of a snapshot's render record (this encoder's, see [`Previous`]), which the
/// site's record follows: `None` when this binary cannot tell itself apart from others, and
/// then no record is left at all. Written as a part of its own, it spares copying a record of
/// megabytes to prefix it.
pub fn record_opening() -> Option<[u8; 16]> {
    match encoder_fingerprint() {
        0 => None,
        fingerprint => {
            let mut opening = [0; 16];
            opening[..8].copy_from_slice(RECORD_MAGIC);
            opening[8..].copy_from_slice(&fingerprint.to_le_bytes());
            Some(opening)
        }
    }
}

/// Encodes `site` as a snapshot blob, with nothing to reuse and no render record.
pub fn encode(site: &Site, render_micros: u64) -> io::Result<Vec<u8>> {
    let mut out = io::Cursor::new(Vec::new());
    let mut site = site.clone();
    let mut encoder = Encoder::new(&mut out, None, false);
    let later = vec![false; site.resources.len()];
    encoder.begin(&mut site, &later);
    encoder.finish(site.post_count, render_micros, &[])?;
    Ok(out.into_inner())
}

/// How many resources are prepared (compressed) at a time before they are written: enough to
/// keep every core busy, few enough that their gzip bodies take little memory.
const BATCH: usize = 256;

/// Encodes a site into a snapshot as its resources come, as the [`PageStream`] of its build:
/// every resource but the post pages when all paths are known, then the post pages a batch at
/// a time as they are rendered. Each body is let go once written, so the render worker never
/// holds the whole site. Compression and hashing, most of the work, run on every core (this
/// runs in the render worker, never in the serving parent); a resource whose type and body are
/// those of the same path in `previous` takes its gzip body and entity tag from there instead,
/// byte for byte what they would be computed to (both depend on nothing else).
///
/// A write error stops the encoding; it is kept and returned by [`Encoder::finish`].
pub struct Encoder<'a, 'w> {
    out: Option<&'w mut dyn snapshot::Sink>,
    writer: Option<snapshot::Writer<'w>>,
    previous: Option<View<'a>>,
    /// Whether pages get the live-reload script (`serve --watch`).
    live: bool,
    /// Every path of the site, sorted: where each resource goes (its place + 1; 0 is the 404).
    paths: Vec<String>,
    error: Option<io::Error>,
    /// Time spent here, for the log's split of render and encoding time.
    pub busy: std::time::Duration,
}

impl<'a: 'w, 'w> Encoder<'a, 'w> {
    /// An encoder writing to `out`, reusing what it can of `previous`, adding the live-reload
    /// script when `live`.
    pub fn new(
        out: &'w mut dyn snapshot::Sink,
        previous: Option<Previous<'a>>,
        live: bool,
    ) -> Encoder<'a, 'w> {
        Encoder {
            out: Some(out),
            writer: None,
            previous: previous.map(|p| p.view),
            live,
            paths: Vec::new(),
            error: None,
            busy: std::time::Duration::ZERO,
        }
    }

    /// Prepares `resources` (each with its place in the snapshot) on every core and writes them.
    fn write(&mut self, resources: &[(usize, &Resource)]) {
        let Some(writer) = self.writer.as_mut().filter(|_| self.error.is_none()) else {
            return;
        };
        let old = self.previous;
        let prepared = par::map(resources, |&(index, r)| {
            let same = old.filter(|_| index != 0).and_then(|view| {
                let entry = view.lookup(r.path.as_bytes())?;
                reusable(r, entry).then_some((view, entry))
            });
            let mut prepared = prepare(r, index == 0, same.map(|(_, entry)| entry))?;
            // Every byte of the entry as it was: written as a copy of the old entry's bytes,
            // which the writer joins with its neighbours' into a few large writes.
            if let Some((view, entry)) = same {
                prepared.old = unchanged(&prepared, entry)
                    .then(|| view.block(&entry))
                    .flatten();
            }
            Ok::<_, io::Error>(prepared)
        });
        for (one, &(index, _)) in prepared.into_iter().zip(resources) {
            if let Err(e) = one.and_then(|p| writer.push(index, &p)) {
                self.error = Some(e);
                return;
            }
        }
    }

    /// Finishes the snapshot, carrying `record` (in pieces) for the next render; returns its
    /// length, or the first error met.
    pub fn finish(
        mut self,
        post_count: usize,
        render_micros: u64,
        record: &[&[u8]],
    ) -> io::Result<usize> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        let writer = self
            .writer
            .take()
            .ok_or_else(|| io::Error::other("the site was never encoded"))?;
        writer.finish(post_count, render_micros, record)
    }
}

impl<'a: 'w, 'w> PageStream for Encoder<'a, 'w> {
    fn begin(&mut self, site: &mut Site, later: &[bool]) {
        let started = std::time::Instant::now();
        let mut later = later.to_vec();
        if self.live {
            let at = super::live::add_script(site);
            later.insert(at.min(later.len()), false);
            for (page, _) in site.resources.iter_mut().zip(&later).filter(|(_, &l)| !l) {
                super::live::tag_page(page);
            }
            super::live::tag_page(&mut site.not_found);
        }
        self.paths = site.resources.iter().map(|r| r.path.clone()).collect();
        let Some(out) = self.out.take() else { return };
        let paths: Vec<&str> = std::iter::once("")
            .chain(self.paths.iter().map(String::as_str))
            .collect();
        let old = self.previous.map_or(&[][..], |v| v.raw());
        match snapshot::Writer::new(out, &paths, old) {
            Ok(writer) => self.writer = Some(writer),
            Err(e) => self.error = Some(e),
        }
        let now: Vec<(usize, &Resource)> = std::iter::once((0, &site.not_found))
            .chain(
                site.resources
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| !later.get(i).copied().unwrap_or(false))
                    .map(|(i, r)| (i + 1, r)),
            )
            .collect();
        for batch in now.chunks(BATCH) {
            self.write(batch);
        }
        drop(now);
        // Written: the bodies are not needed again in this process.
        for (r, _) in site.resources.iter_mut().zip(&later).filter(|(_, &l)| !l) {
            r.body = bytes::Bytes::new();
        }
        self.busy += started.elapsed();
    }

    fn pages(&mut self, mut pages: Vec<Resource>) {
        let started = std::time::Instant::now();
        if self.live {
            pages.iter_mut().for_each(super::live::tag_page);
        }
        let placed: Vec<(usize, &Resource)> = pages
            .iter()
            .filter_map(|r| {
                let at = self.paths.binary_search(&r.path).ok()?;
                Some((at + 1, r))
            })
            .collect();
        if placed.len() != pages.len() && self.error.is_none() {
            self.error = Some(io::Error::other(
                "a page came that has no place in the site",
            ));
        }
        self.write(&placed);
        self.busy += started.elapsed();
    }
}

/// Whether `prepared` is `entry` byte for byte: heads, bodies and tag.
fn unchanged(prepared: &Prepared<'_>, entry: snapshot::Entry<'_>) -> bool {
    let gzip_same = match (&prepared.gzip, entry.gzip) {
        (None, None) => true,
        (Some((head, body)), Some(old)) => same_bytes(head, old.head) && same_bytes(body, old.body),
        _ => false,
    };
    gzip_same
        && same_bytes(&prepared.head, entry.plain.head)
        && same_bytes(prepared.etag.as_bytes(), entry.etag)
        && same_bytes(prepared.body, entry.plain.body)
}

/// `a == b`, at once when they are the same bytes in memory (a page kept from the snapshot
/// being replaced is a slice of it).
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    (a.as_ptr() == b.as_ptr() && a.len() == b.len()) || a == b
}

/// An earlier entry's tag and gzip body, when they are what `resource` would get: the same
/// Content-Type and body, and a tag (which redirects and the 404 page lack).
fn reusable(resource: &Resource, entry: snapshot::Entry<'_>) -> bool {
    let tagged = std::str::from_utf8(entry.etag).is_ok_and(|t| t.len() > 2);
    tagged
        && entry.plain.head.starts_with(b"HTTP/1.1 200 ")
        && header(entry.plain.head, b"Content-Type") == Some(resource.content_type.as_bytes())
        && same_bytes(entry.plain.body, &resource.body)
}

/// The value of header `name` in a head built by [`head`].
fn header<'h>(head: &'h [u8], name: &[u8]) -> Option<&'h [u8]> {
    head.split(|&b| b == b'\n').find_map(|line| {
        let line = line.strip_suffix(b"\r")?;
        let rest = line.strip_prefix(name)?.strip_prefix(b": ")?;
        Some(rest)
    })
}

/// Prepares `resource`, taking its tag and gzip body from `reused`, an earlier entry that
/// [`reusable`] accepted, when there is one.
fn prepare<'a>(
    resource: &'a Resource,
    not_found: bool,
    reused: Option<snapshot::Entry<'a>>,
) -> io::Result<Prepared<'a>> {
    if not_found {
        return Ok(Prepared {
            path: "",
            head: head(resource, Kind::NotFound, resource.body.len())
                .into_bytes()
                .into(),
            body: &resource.body,
            gzip: None,
            etag: Cow::Borrowed(""),
            old: None,
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
            )
            .into_bytes()
            .into(),
            body: b"",
            gzip: None,
            etag: Cow::Borrowed(""),
            old: None,
        });
    }
    let reused = reused.and_then(|e| Some((std::str::from_utf8(e.etag).ok()?, e)));
    if let Some((etag, entry)) = reused {
        // Of what a head says, only Last-Modified can differ from the earlier entry's when the
        // type, body and tag (hence length, gzip twin and Vary) are the same: with the same
        // date, both heads are the earlier ones, byte for byte (this binary wrote them).
        let mut date = Vec::with_capacity(32);
        serve::clock::http_date(&mut date, resource.last_modified.as_second());
        if header(entry.plain.head, b"Last-Modified") == Some(&date[..]) {
            return Ok(Prepared {
                path: &resource.path,
                head: Cow::Borrowed(entry.plain.head),
                body: &resource.body,
                gzip: entry
                    .gzip
                    .map(|g| (Cow::Borrowed(g.head), Cow::Borrowed(g.body))),
                etag: Cow::Borrowed(etag),
                old: None,
            });
        }
    }
    let (etag, gz) = match reused {
        Some((etag, entry)) => (
            Cow::Borrowed(etag),
            entry.gzip.map(|g| Cow::Borrowed(g.body)),
        ),
        None => (
            Cow::Owned(format!("\"{:016x}\"", content_hash(&resource.body))),
            compressed(resource)?.map(Cow::Owned),
        ),
    };
    let gzip = match gz {
        Some(gz) => {
            let gz_etag = format!("{}-gz\"", &etag[..etag.len() - 1]);
            let kind = Kind::Found {
                etag: &gz_etag,
                vary: true,
                gzip: true,
            };
            Some((head(resource, kind, gz.len()).into_bytes().into(), gz))
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
        head: head(resource, kind, resource.body.len())
            .into_bytes()
            .into(),
        body: &resource.body,
        gzip,
        etag,
        old: None,
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
        serve::clock::http_date(&mut date, r.last_modified.as_second());
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
    let gz = gzip(&r.body)?;
    Ok((gz.len() * 10 < r.body.len() * 9).then_some(gz))
}

/// The deflate level of gzip bodies: compressed once, served many times.
pub const GZIP_LEVEL: i32 = 6;

/// `body` as a gzip member at [`GZIP_LEVEL`] (libdeflate: whole-buffer, deterministic, with no
/// file name or time in the header). One compressor per thread: each holds ~1 MB of tables.
pub fn gzip(body: &[u8]) -> io::Result<Vec<u8>> {
    thread_local! {
        static COMPRESSOR: std::cell::RefCell<Option<libdeflater::Compressor>> =
            const { std::cell::RefCell::new(None) };
    }
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let compressor = match &mut *slot {
            Some(c) => c,
            None => {
                let level = libdeflater::CompressionLvl::new(GZIP_LEVEL)
                    .map_err(|e| io::Error::other(format!("gzip level: {e:?}")))?;
                slot.insert(libdeflater::Compressor::new(level))
            }
        };
        let mut out = vec![0; compressor.gzip_compress_bound(body.len())];
        let len = compressor
            .gzip_compress(body, &mut out)
            .map_err(|e| io::Error::other(format!("gzip: {e:?}")))?;
        // Made for the worst case (a little over the body's size): the rest is given back, or
        // every gzip body held until it is written would weigh as much as its plain one.
        out.truncate(len);
        out.shrink_to_fit();
        Ok(out)
    })
}

/// A stable content hash for entity tags: the same bytes give the same tag across reloads and
/// versions, which is what a cache revalidating with If-None-Match needs.
fn content_hash(bytes: &[u8]) -> u64 {
    crate::site::incremental::hash(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serve::snapshot::View;

    fn resource(path: &str, body: &str) -> Resource {
        Resource {
            path: path.to_string(),
            content_type: "text/html; charset=utf-8".to_string(),
            last_modified: jiff::Timestamp::from_second(1_795_341_600).unwrap(),
            body: body.as_bytes().to_vec().into(),
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

    /// The whole of `site` through an [`Encoder`], carrying `record`.
    fn encode_into<'a>(
        site: &Site,
        micros: u64,
        previous: Option<Previous<'a>>,
        record: &[u8],
        out: &mut dyn snapshot::Sink,
    ) -> io::Result<usize> {
        let mut site = site.clone();
        let mut encoder = Encoder::new(out, previous, false);
        let later = vec![false; site.resources.len()];
        encoder.begin(&mut site, &later);
        encoder.finish(site.post_count, micros, &[record])
    }

    /// This encoder's record around `site_record`.
    fn record(site_record: &[u8]) -> Vec<u8> {
        match record_opening() {
            Some(opening) => [&opening[..], site_record].concat(),
            None => Vec::new(),
        }
    }

    #[test]
    fn a_mapped_snapshot_is_checked_and_served_from_its_header_read_once() {
        use serve::snapshot::{memfd, write_into, Snapshot};
        let resources: Vec<Resource> = (0..2000)
            .map(|i| resource(&format!("/p{i}/"), &format!("page {i}")))
            .collect();
        let site = Site {
            resources,
            not_found: resource("", "gone"),
            post_count: 2000,
        };
        let bytes = encode(&site, 1).unwrap();
        let map = |bytes: &[u8]| {
            let fd = memfd().unwrap();
            write_into(&fd, bytes).unwrap();
            Snapshot::seal_and_map(fd)
        };
        let snapshot = map(&bytes).expect("a whole snapshot maps");
        let view = snapshot.view();
        assert_eq!(view.lookup(b"/p1999/").unwrap().plain.body, b"page 1999");
        assert_eq!(view.lookup(b"/p7/").unwrap().path, b"/p7/");
        assert!(view.lookup(b"/p2000/").is_none());
        assert_eq!(view.not_found().unwrap().plain.body, b"gone");
        // Another layout, a cut-off table, an entry pointing past the end: refused.
        let mut other = bytes.clone();
        other[..8].copy_from_slice(b"FORKBLG2");
        assert!(map(&other).is_err());
        assert!(map(&bytes[..bytes.len() / 100]).is_err());
        let slot = (64..bytes.len() - 4)
            .step_by(64)
            .find(|&at| at >= 128 && bytes[at + 4..at + 8] != [0; 4])
            .expect("an occupied slot");
        let mut past = bytes.clone();
        past[slot + 12..slot + 16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(map(&past).is_err());
        assert!(map(&bytes[..0]).is_err());
    }

    #[test]
    fn only_a_record_of_this_encoder_is_reused() {
        let site = Site {
            resources: vec![resource("/a/", &"words ".repeat(100))],
            not_found: resource("", "gone"),
            post_count: 1,
        };
        let encode_with = |record: &[u8]| {
            let mut out = io::Cursor::new(Vec::new());
            encode_into(&site, 0, None, record, &mut out).unwrap();
            out.into_inner()
        };
        // An image whose header word is 0 (as older ones wrote), or with an empty record:
        // nothing to reuse.
        let mut older = encode(&site, 0).unwrap();
        assert_eq!(View::new(&older).record(), Some(&b""[..]));
        assert!(Previous::new(View::new(&older)).is_none());
        older[28..32].fill(0);
        assert!(View::new(&older).record().is_none());
        assert!(Previous::new(View::new(&older)).is_none());
        assert!(View::new(&older).lookup(b"/a/").is_some(), "still served");
        // An image of another layout (an older binary's, handed over on an upgrade) is not
        // read at all: nothing in it is found, and its record is not reused.
        let mut layout = encode_with(&record(b"site"));
        layout[..8].copy_from_slice(b"FORKBLG2");
        assert!(View::new(&layout).record().is_none());
        assert!(View::new(&layout).lookup(b"/a/").is_none());
        assert!(View::new(&layout).not_found().is_none());
        assert!(Previous::new(View::new(&layout)).is_none());
        // A record of another version or another binary: ignored.
        let other = encode_with(b"FBINC99\n\0\0\0\0\0\0\0\0site");
        assert!(Previous::new(View::new(&other)).is_none());
        let mut foreign = record(b"site");
        foreign[8] ^= 1;
        assert!(Previous::new(View::new(&encode_with(&foreign))).is_none());
        // This binary's own record: its site part comes back, and the gzip body is reused as it is.
        let own = encode_with(&record(b"site"));
        let previous = Previous::new(View::new(&own)).expect("reusable");
        assert_eq!(previous.site_record(), b"site");
        let mut again = io::Cursor::new(Vec::new());
        encode_into(&site, 0, Some(previous), &record(b"site"), &mut again).unwrap();
        assert_eq!(again.into_inner(), own);
    }

    #[test]
    fn gzip_bodies_decompress_to_the_body() {
        use std::io::Read;
        for body in [
            &b""[..],
            b"x",
            &b"<p>a page of words, words and words</p>\n".repeat(500),
        ] {
            let gz = gzip(body).unwrap();
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, body);
            assert_eq!(gzip(body).unwrap(), gz, "the same bytes every time");
        }
    }

    #[test]
    fn entity_tags_follow_content() {
        assert_eq!(content_hash(b"same bytes"), content_hash(b"same bytes"));
        assert_ne!(content_hash(b"same bytes"), content_hash(b"same bytez"));
        assert_ne!(content_hash(b""), content_hash(b"\0"));
    }
}
