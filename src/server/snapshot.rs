//! The rendered site as one immutable blob: every response's head and body, built once.
//!
//! [`encode`] lays a [`Site`] out as bytes; [`Snapshot`] holds those bytes in a sealed memfd
//! mapped read-only and `MAP_SHARED`, so the parent's private memory stays small and `fork`
//! copies none of it. Children look paths up with a binary search over a fixed-size index;
//! nothing here touches the filesystem, so no request can ever reach a file.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! 0   magic "FORKBLG1"
//! 8   u32 entry count (entry 0 is the 404 page, entries 1.. are sorted by path)
//! 12  u32 published post count
//! 16  u64 render time in microseconds
//! 24  entries, 12 x u32 each: path, head, body, gzip head, gzip body, etag (offset, length)
//! ..  strings and bodies
//! ```
//!
//! A head is the status line and the fixed headers, each ending in CRLF, without the blank line:
//! the child adds `Date`, `Connection` and the final CRLF.

use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};

use nix::fcntl::{fcntl, FcntlArg, SealFlag};
use nix::sys::memfd::{memfd_create, MFdFlags};

use crate::site::{Resource, Site};
use crate::sys::SharedMap;

const MAGIC: &[u8; 8] = b"FORKBLG1";
const HEADER: usize = 24;
const FIELDS: usize = 12;
const ENTRY: usize = FIELDS * 4;

/// Bodies smaller than this are not worth compressing.
const GZIP_MIN: usize = 256;

/// One response variant: the head (without Date/Connection/final CRLF) and the body.
#[derive(Debug, Clone, Copy)]
pub struct Variant<'a> {
    /// Status line and fixed headers, each line ending in CRLF.
    pub head: &'a [u8],
    /// The body.
    pub body: &'a [u8],
}

/// A resource as the child sees it.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// The identity-encoded response.
    pub plain: Variant<'a>,
    /// The gzip-encoded response, when the body compresses.
    pub gzip: Option<Variant<'a>>,
    /// The entity tag, quotes included (empty for the 404 page). The gzip variant's tag is this
    /// one with `-gz` before the closing quote.
    pub etag: &'a [u8],
}

/// Lays out `site` as a snapshot blob. `render_micros` is recorded for the status endpoint.
pub fn encode(site: &Site, render_micros: u64) -> io::Result<Vec<u8>> {
    let mut resources: Vec<&Resource> = site.resources.iter().collect();
    resources.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    if let Some(pair) = resources.windows(2).find(|w| w[0].path == w[1].path) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("two resources claim the path {}", pair[0].path),
        ));
    }
    let count = resources.len() + 1;
    let mut out = Vec::with_capacity(HEADER + count * ENTRY);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&u32_of(count)?.to_le_bytes());
    out.extend_from_slice(&u32_of(site.post_count)?.to_le_bytes());
    out.extend_from_slice(&render_micros.to_le_bytes());
    out.resize(HEADER + count * ENTRY, 0);

    let mut fields = [0u32; FIELDS];
    for (index, resource) in std::iter::once(&site.not_found)
        .chain(resources)
        .enumerate()
    {
        let not_found = index == 0;
        let path: &[u8] = if not_found {
            b""
        } else {
            resource.path.as_bytes()
        };
        let etag = if not_found {
            String::new()
        } else {
            format!("\"{:016x}\"", fnv1a(&resource.body))
        };
        let gzip = compressed(resource)?;
        let plain_head = head(
            resource,
            not_found,
            &etag,
            resource.body.len(),
            gzip.is_some(),
            false,
        );
        push(&mut out, &mut fields[0..2], path)?;
        push(&mut out, &mut fields[2..4], plain_head.as_bytes())?;
        push(&mut out, &mut fields[4..6], &resource.body)?;
        if let Some(gz) = &gzip {
            let gz_etag = if etag.is_empty() {
                etag.clone()
            } else {
                format!("{}-gz\"", &etag[..etag.len() - 1])
            };
            let gz_head = head(resource, not_found, &gz_etag, gz.len(), true, true);
            push(&mut out, &mut fields[6..8], gz_head.as_bytes())?;
            push(&mut out, &mut fields[8..10], gz)?;
        } else {
            fields[6..10].fill(0);
        }
        push(&mut out, &mut fields[10..12], etag.as_bytes())?;
        let at = HEADER + index * ENTRY;
        for (i, field) in fields.iter().enumerate() {
            out[at + i * 4..at + i * 4 + 4].copy_from_slice(&field.to_le_bytes());
        }
    }
    u32_of(out.len())?;
    Ok(out)
}

fn head(r: &Resource, not_found: bool, etag: &str, len: usize, vary: bool, gzip: bool) -> String {
    let status = if not_found { "404 Not Found" } else { "200 OK" };
    let mut h = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {}\r\nContent-Length: {len}\r\n",
        r.content_type
    );
    if !not_found {
        h.push_str(&format!(
            "Last-Modified: {}\r\nETag: {etag}\r\n",
            r.last_modified.strftime("%a, %d %b %Y %H:%M:%S GMT")
        ));
    }
    if gzip {
        h.push_str("Content-Encoding: gzip\r\n");
    }
    if vary {
        h.push_str("Vary: Accept-Encoding\r\n");
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

fn push(out: &mut Vec<u8>, field: &mut [u32], bytes: &[u8]) -> io::Result<()> {
    field[0] = u32_of(out.len())?;
    field[1] = u32_of(bytes.len())?;
    out.extend_from_slice(bytes);
    Ok(())
}

fn u32_of(n: usize) -> io::Result<u32> {
    u32::try_from(n).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "the rendered site is over 4 GiB",
        )
    })
}

/// FNV-1a, 64 bits: a stable content hash for entity tags (same bytes, same tag, across reloads).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// Creates an empty memfd for a snapshot (close-on-exec, sealable).
pub fn memfd() -> io::Result<OwnedFd> {
    memfd_create(
        "forkblog-site",
        MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
    )
    .map_err(|e| io::Error::other(format!("memfd_create: {e}")))
}

/// The site, mapped read-only from a sealed memfd.
pub struct Snapshot {
    map: SharedMap,
    fd: OwnedFd,
}

impl Snapshot {
    /// Seals `fd` (no more writes, no resizing, no further seals) and maps it. The fd is kept so
    /// that it can be handed to the next generation across a re-exec.
    pub fn seal_and_map(fd: OwnedFd) -> io::Result<Snapshot> {
        let seals = SealFlag::F_SEAL_SHRINK
            | SealFlag::F_SEAL_GROW
            | SealFlag::F_SEAL_WRITE
            | SealFlag::F_SEAL_SEAL;
        match fcntl(fd.as_fd(), FcntlArg::F_GET_SEALS) {
            Ok(current) if SealFlag::from_bits_truncate(current).contains(seals) => {}
            _ => {
                fcntl(fd.as_fd(), FcntlArg::F_ADD_SEALS(seals))
                    .map_err(|e| io::Error::other(format!("sealing the site: {e}")))?;
            }
        }
        let len = nix::sys::stat::fstat(fd.as_fd())
            .map_err(|e| io::Error::other(format!("fstat of the site: {e}")))?
            .st_size as usize;
        let map = SharedMap::new(fd.as_fd(), len)
            .map_err(|e| io::Error::other(format!("mapping the site: {e}")))?;
        let snapshot = Snapshot { map, fd };
        snapshot.validate()?;
        Ok(snapshot)
    }

    /// The memfd behind the mapping.
    pub fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    /// A view for lookups.
    pub fn view(&self) -> View<'_> {
        View {
            bytes: self.map.bytes(),
        }
    }

    fn validate(&self) -> io::Result<()> {
        let view = self.view();
        let bad = |what: &str| {
            io::Error::new(io::ErrorKind::InvalidData, format!("site snapshot: {what}"))
        };
        if view.bytes.len() < HEADER || &view.bytes[..8] != MAGIC {
            return Err(bad("bad magic"));
        }
        let count = view.count();
        if count == 0 || HEADER + count * ENTRY > view.bytes.len() {
            return Err(bad("index out of bounds"));
        }
        for i in 0..count {
            if view.entry(i).is_none() {
                return Err(bad("entry out of bounds"));
            }
        }
        Ok(())
    }
}

/// Read access to snapshot bytes, whether mapped or in a Vec (inetd mode, tests).
#[derive(Clone, Copy)]
pub struct View<'a> {
    bytes: &'a [u8],
}

impl<'a> View<'a> {
    /// Wraps bytes produced by [`encode`].
    pub fn new(bytes: &'a [u8]) -> View<'a> {
        View { bytes }
    }

    fn u32_at(&self, at: usize) -> Option<usize> {
        let b = self.bytes.get(at..at + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    fn count(&self) -> usize {
        self.u32_at(8).unwrap_or(0)
    }

    /// The number of published posts.
    pub fn post_count(&self) -> usize {
        self.u32_at(12).unwrap_or(0)
    }

    /// How long rendering took, in microseconds.
    pub fn render_micros(&self) -> u64 {
        self.bytes
            .get(16..24)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            .unwrap_or(0)
    }

    fn field(&self, entry: usize, field: usize) -> Option<&'a [u8]> {
        let at = HEADER + entry * ENTRY + field * 8;
        let off = self.u32_at(at)?;
        let len = self.u32_at(at + 4)?;
        self.bytes.get(off..off.checked_add(len)?)
    }

    fn entry(&self, i: usize) -> Option<Entry<'a>> {
        let plain = Variant {
            head: self.field(i, 1)?,
            body: self.field(i, 2)?,
        };
        let gz_head = self.field(i, 3)?;
        let gzip = (!gz_head.is_empty()).then_some(Variant {
            head: gz_head,
            body: self.field(i, 4)?,
        });
        Some(Entry {
            plain,
            gzip,
            etag: self.field(i, 5)?,
        })
    }

    /// The resource at exactly `path`.
    pub fn lookup(&self, path: &[u8]) -> Option<Entry<'a>> {
        let (mut lo, mut hi) = (1, self.count());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.field(mid, 0)?.cmp(path) {
                std::cmp::Ordering::Equal => return self.entry(mid),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        None
    }

    /// The 404 page.
    pub fn not_found(&self) -> Option<Entry<'a>> {
        self.entry(0)
    }
}

/// Writes `bytes` into the memfd `fd` (used by the render worker before the parent seals it).
pub fn write_into(fd: &OwnedFd, bytes: &[u8]) -> io::Result<()> {
    let mut file = std::fs::File::from(fd.try_clone()?);
    file.write_all(bytes)
}
