//! The render worker: `forkblog render-worker`, the process a render runs in.
//!
//! The server starts it (`serve::render_job`, which owns the protocol: command line and
//! descriptors); it renders the site, writes the encoded snapshot into the memfd it was given
//! and exits, so that all the allocation of rendering vanishes with it. On a reload it takes
//! from the snapshot being replaced what did not change: posts, pages, gzip bodies and entity
//! tags (`site/incremental.rs`, `encode.rs`).

use std::io::Seek;
use std::path::Path;
use std::time::Instant;

use serve::render_job::{self, Preview, Strictness, WORKER_COMMAND};
use serve::snapshot::{self, View};

use crate::encode;
use crate::site;

/// Renders `root` in this process and encodes the snapshot, logging every problem. What
/// `previous` (the snapshot being replaced) holds for inputs that did not change is reused.
pub fn render_bytes(
    root: &Path,
    strictness: Strictness,
    preview: Preview,
    previous: Option<View<'_>>,
) -> Result<Vec<u8>, String> {
    // About the size of the snapshot it replaces: growing 100 MB by doubling copies it again.
    let mut bytes = std::io::Cursor::new(Vec::with_capacity(
        previous.map_or(0, |v| v.raw().len() + v.raw().len() / 8),
    ));
    render_into(root, strictness, preview, None, previous, None, &mut bytes)
        .map_err(|e| e.text())?;
    Ok(bytes.into_inner())
}

/// Why [`render_into`] failed.
#[derive(Debug)]
pub enum RenderError {
    /// Nothing was written: the site has problems (the text lists them).
    Site(String),
    /// Writing the snapshot failed part way.
    Write(String),
}

impl RenderError {
    /// What went wrong, for the log or the parent.
    pub fn text(self) -> String {
        match self {
            RenderError::Site(text) | RenderError::Write(text) => text,
        }
    }
}

/// As [`render_bytes`], writing the snapshot to `out` as the site is rendered (post pages a
/// batch at a time, see [`site::PageStream`]), so that the worker never holds the whole site.
/// On an error, part of the snapshot may have been written: the caller drops it. Returns what
/// is left of the rendered site, its bodies written and let go (a worker about to exit need
/// not spend time freeing the rest). Pages kept from `previous` are shared rather than copied
/// when it can share them.
///
/// `older_parent_tls` is only ever given by a worker run by a server of an older version
/// during an upgrade (its `CERT KEY MISSING` arguments): that server finds the certificate at
/// the end of the snapshot, so it is read, checked and carried there. This version keeps the
/// certificate apart from the site (`tls::Certificate`).
fn render_into(
    root: &Path,
    strictness: Strictness,
    preview: Preview,
    older_parent_tls: Option<&[std::ffi::OsString; 3]>,
    previous: Option<View<'_>>,
    shared: Option<&bytes::Bytes>,
    out: &mut dyn snapshot::Sink,
) -> Result<site::Site, RenderError> {
    let previous = previous.and_then(encode::Previous::new);
    let started = Instant::now();
    // The certificate first: a bad key fails the render before the work of rendering.
    let material = older_parent_certificate(older_parent_tls)?;
    let reusable = previous.map(|p| Previous::new(p, preview.live, shared));
    let mut encoder = encode::Encoder::new(&mut *out, previous, preview.live);
    let (build, site_record) = site::build_streamed(
        root,
        preview.drafts,
        reusable
            .as_ref()
            .map(|p| p as &dyn site::incremental::Previous),
        &mut encoder,
    );
    for problem in &build.problems {
        log::error!("{problem}");
    }
    // Every problem goes into the error, not only the log: it is what `forkblog reload` and a
    // failed start print. Anything already written is dropped by the caller with the error.
    let listed = |headline: String| {
        let mut text = headline;
        for problem in &build.problems {
            text.push_str(&format!("\n{problem}"));
        }
        RenderError::Site(text)
    };
    let count = build.problems.len();
    let site = match build.site {
        None if count == 0 => {
            return Err(listed(format!("nothing to serve from {}", root.display())));
        }
        None => {
            return Err(listed(format!(
                "nothing to serve from {}: {count} problem(s):",
                root.display()
            )));
        }
        Some(_) if strictness == Strictness::AllOrNothing && count > 0 => {
            return Err(listed(format!("{count} problem(s) in {}:", root.display())));
        }
        Some(site) => site,
    };
    let opening = encode::record_opening();
    let record: [&[u8]; 2] = match &opening {
        Some(opening) => [opening, &site_record],
        None => [&[], &[]],
    };
    let encoding = encoder.busy;
    // Rendering and encoding interleave: the render time is what the encoder did not take.
    let render_micros = started.elapsed().saturating_sub(encoding).as_micros() as u64;
    let mut len = encoder
        .finish(site.post_count, render_micros, &record)
        .map_err(|e| RenderError::Write(format!("encoding the site: {e}")))?;
    if !material.is_empty() {
        out.write_all(&material)
            .map_err(|e| RenderError::Write(format!("writing the certificate: {e}")))?;
        len += material.len();
    }
    out.flush()
        .map_err(|e| RenderError::Write(format!("writing the rendered site: {e}")))?;
    log::info!(
        "rendered {} posts, {} resources, {} KiB in {:.1} ms ({:.1} ms with encoding)",
        site.post_count,
        site.resources.len(),
        len / 1024,
        render_micros as f64 / 1000.0,
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(site)
}

/// The snapshot being replaced, as the site renderer sees the previous render: its record, and
/// its bodies as the renderer made them (without the live-reload script, in preview).
struct Previous<'a> {
    encoded: encode::Previous<'a>,
    live_tag: Option<Vec<u8>>,
    /// The snapshot's bytes, when bodies may be slices of them.
    shared: Option<&'a bytes::Bytes>,
}

impl<'a> Previous<'a> {
    fn new(
        encoded: encode::Previous<'a>,
        live: bool,
        shared: Option<&'a bytes::Bytes>,
    ) -> Previous<'a> {
        Previous {
            encoded,
            live_tag: live.then(live_tag),
            shared,
        }
    }
}

/// The bytes `live::add_to` puts into a page: learnt from what it does to a page that is only
/// `</head>`, so that taking them out again cannot drift from putting them in.
fn live_tag() -> Vec<u8> {
    let page = site::Resource {
        path: "/".into(),
        content_type: site::pages::HTML.into(),
        last_modified: jiff::Timestamp::UNIX_EPOCH,
        body: bytes::Bytes::from_static(b"</head>"),
    };
    let mut probe = site::Site {
        resources: vec![page.clone()],
        not_found: page,
        post_count: 0,
    };
    crate::live::add_to(&mut probe);
    let mut body = Vec::from(probe.not_found.body);
    body.truncate(body.len().saturating_sub(b"</head>".len()));
    body
}

/// `body` without the tag `live::add_to` put in (before the last `</head>`, else at the end);
/// `None` unless putting it back would give `body` again exactly.
fn without_tag(body: &[u8], tag: &[u8]) -> Option<Vec<u8>> {
    let at = memchr::memmem::rfind(body, tag)?;
    let mut bare = body[..at].to_vec();
    bare.extend_from_slice(&body[at + tag.len()..]);
    let put_at = memchr::memmem::rfind(&bare, b"</head>").unwrap_or(bare.len());
    (put_at == at).then_some(bare)
}

impl site::incremental::Previous for Previous<'_> {
    fn record(&self) -> &[u8] {
        self.encoded.site_record()
    }

    fn body(&self, path: &str) -> Option<std::borrow::Cow<'_, [u8]>> {
        let entry = self.encoded.view().lookup(path.as_bytes())?;
        match &self.live_tag {
            None => Some(std::borrow::Cow::Borrowed(entry.plain.body)),
            Some(tag) => without_tag(entry.plain.body, tag).map(std::borrow::Cow::Owned),
        }
    }

    fn shared_body(&self, path: &str) -> Option<bytes::Bytes> {
        match (self.shared, &self.live_tag) {
            (Some(shared), None) => {
                let entry = self.encoded.view().lookup(path.as_bytes())?;
                Some(shared.slice_ref(entry.plain.body))
            }
            _ => self
                .body(path)
                .map(|body| bytes::Bytes::copy_from_slice(&body)),
        }
    }
}

/// The certificate an older server wants at the end of the snapshot (see [`render_into`]):
/// read and checked, as the bytes to append; nothing when none was asked for.
#[cfg(feature = "https")]
fn older_parent_certificate(
    files: Option<&[std::ffi::OsString; 3]>,
) -> Result<Vec<u8>, RenderError> {
    let Some([cert, key, missing]) = files else {
        return Ok(Vec::new());
    };
    let files = serve::tls::Files {
        cert: cert.into(),
        key: key.into(),
        missing_ok: missing == "missing-ok",
    };
    let mut tail = Vec::new();
    if let Some(material) = serve::tls::Material::load(&files).map_err(RenderError::Site)? {
        material.append_to(&mut tail);
    }
    Ok(tail)
}

/// Without HTTPS built in, a server of an older version asking for its certificate is refused.
#[cfg(not(feature = "https"))]
fn older_parent_certificate(
    files: Option<&[std::ffi::OsString; 3]>,
) -> Result<Vec<u8>, RenderError> {
    match files {
        None => Ok(Vec::new()),
        Some(_) => Err(RenderError::Site(
            "this forkblog is built without HTTPS (feature `https`)".into(),
        )),
    }
}

/// `forkblog render-worker ROOT STRICTNESS PREVIEW`: renders into the memfd on fd 3 and exits
/// 0, or writes the problems there and exits 1 (see `serve::render_job::worker_args`).
pub fn worker(args: &[std::ffi::OsString]) -> std::process::ExitCode {
    let asked = match render_job::worker_args(args) {
        Ok(asked) => asked,
        Err(e) => {
            eprintln!("forkblog: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    // Of the server's processes this is the one whose loss costs only a reload (the old site
    // keeps serving): the OOM killer takes it first, not the parent or a reader's child.
    // Raising one's own score needs no privilege; a failure changes nothing else.
    let _ = std::fs::write("/proc/self/oom_score_adj", "1000");
    let ends = match render_job::worker_ends() {
        Ok(ends) => ends,
        Err(e) => {
            eprintln!("forkblog: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    // This process ends once the snapshot is written: the exit frees the build's data at once.
    site::leave_working_data_to_exit();
    // Shared bytes: the pages the new site keeps are slices of this mapping, not copies.
    let previous = ends.previous.map(bytes::Bytes::from_owner);

    let file = match ends.memfd.try_clone() {
        Ok(fd) => std::fs::File::from(fd),
        Err(e) => {
            eprintln!("forkblog: {WORKER_COMMAND}: fd 3: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    // Large writes go straight through; the buffer gathers the many small heads and paths.
    let mut out = std::io::BufWriter::with_capacity(1 << 20, &file);
    let rendered = render_into(
        &asked.root,
        asked.strictness,
        asked.preview,
        asked.older_parent_tls.as_ref(),
        previous.as_deref().map(View::new),
        previous.as_ref(),
        &mut out,
    );
    drop(out);
    match rendered {
        // Freeing ~100 MB of small allocations takes a while; the exit frees it at once.
        Ok(site) => {
            std::mem::forget(site);
            // The server may switch to the snapshot now, without waiting for this exit.
            if let Some(pipe) = ends.rendered {
                let _ = nix::unistd::write(&pipe, b"1");
            }
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            let text = error.text();
            log::error!("{}", text.lines().next().unwrap_or(""));
            // The parent reads a failed worker's memfd as its report: drop any part written
            // (the site is written as it is rendered, so a failure can come after much of it).
            let _ = file.set_len(0);
            let _ = (&file).rewind();
            let _ = snapshot::write_into(&ends.memfd, text.as_bytes());
            std::process::ExitCode::FAILURE
        }
    }
}
