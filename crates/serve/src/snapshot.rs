//! The rendered site as one immutable blob: every response's head and body, built once.
//!
//! [`Writer`] lays prepared responses out as bytes (the heads, gzip bodies and entity tags are
//! computed on the render side, `encode.rs`); [`Snapshot`] holds those bytes in a sealed memfd
//! mapped read-only and `MAP_SHARED`, so the parent's private memory stays small and `fork`
//! copies none of it, and every page of it a child touches costs that child a page fault.
//! Children find a path through an open-addressing hash table whose slots hold the whole entry
//! (the path's hash and where its strings lie), and each entry's path lies right before its
//! head: a lookup touches one table page and then the pages the response is read from, whatever
//! the size of the blog. The header is read once, when the snapshot is mapped (the parent's copy
//! of it is what a child's [`View`] holds), so a lookup does not touch it either. Nothing here
//! touches the filesystem, so no request can reach a file.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! 0    magic "FORKBLG3"
//! 8    u32 entry count (entry 0 is the 404 page)
//! 12   u32 published post count
//! 16   u64 render time in microseconds
//! 24   u32 hash table slots (a power of two, at least twice the entries)
//! 28   u32 offset of the render record (0: none)
//! 32   zeros, up to 64
//! 64   the 404 page's record
//! 128  the table: one record per slot
//! ..   each entry's path, head, body, gzip head, gzip body and tag, back to back
//! ..   the render record: u32 length, then what the next render reuses (`encode.rs`)
//! ```
//!
//! A record is 64 bytes, so none straddles a page: u32 path hash, u32 entry index (0: an empty
//! slot), then (offset, length) of the path, head, body, gzip head, gzip body and tag as u32
//! pairs (the gzip pairs zero when there is no gzip variant), then 8 bytes of zeros.
//!
//! Anything after the render record (the TLS material) is found from the end of the blob.
//!
//! A head is the status line and the fixed headers, each ending in CRLF, without the blank line:
//! the child adds `Date`, `Connection` and the final CRLF.

use std::borrow::Cow;
use std::io::{self, Seek, Write};
use std::os::fd::{AsFd, OwnedFd};

use nix::fcntl::{fcntl, FcntlArg, SealFlag};
use nix::sys::memfd::{memfd_create, MFdFlags};

use crate::sys::SharedMap;

const MAGIC: &[u8; 8] = b"FORKBLG3";
/// The header, padded so that the records after it lie on 64-byte boundaries.
const HEADER: usize = 64;
/// (offset, length) of the path, head, body, gzip head, gzip body and tag.
const FIELDS: usize = 12;
/// Hash, index, the fields and padding: 64 bytes, a divisor of any page size.
const RECORD: usize = 64;
/// Where the 404 page's record lies, and where the table starts.
const NOT_FOUND: usize = HEADER;
const TABLE: usize = HEADER + RECORD;

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
    /// The URL path (empty for the 404 page).
    pub path: &'a [u8],
    /// The identity-encoded response.
    pub plain: Variant<'a>,
    /// The gzip-encoded response, when the body compresses.
    pub gzip: Option<Variant<'a>>,
    /// The entity tag, quotes included (empty for the 404 page). The gzip variant's tag is this
    /// one with `-gz` before the closing quote.
    pub etag: &'a [u8],
}

/// A response's head and body, each borrowed (from the snapshot being replaced) or made.
pub type HeadAndBody<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

/// One resource, ready to lay out: everything the render side computed for it.
pub struct Prepared<'a> {
    /// The URL path (empty for the 404 page).
    pub path: &'a str,
    /// Status line and fixed headers of the identity response.
    pub head: Cow<'a, [u8]>,
    /// The identity body.
    pub body: &'a [u8],
    /// The gzip response's head and body, when the body compresses (the body borrowed from the
    /// previous snapshot when it is reused from there).
    pub gzip: Option<HeadAndBody<'a>>,
    /// The entity tag, quotes included (empty for the 404 page).
    pub etag: Cow<'a, str>,
    /// Where in the snapshot being replaced (the bytes given to [`Writer::new`]) this entry's
    /// path, head, body, gzip head and body, and tag lie, back to back, exactly as they are
    /// here: the writer copies them from there.
    pub old: Option<std::ops::Range<usize>>,
}

/// Where a snapshot is written: the render worker's memfd, or a `Cursor` over a `Vec`.
pub trait Sink: Write + Seek {}

impl<T: Write + Seek> Sink for T {}

/// Writes a snapshot one entry at a time, so that no more than one batch of gzip bodies (and no
/// copy of the whole site) is held: the index is left blank and written last, once every
/// offset is known; then each entry's path, head, body, gzip head and body, and tag (the path
/// first, so that the page a lookup compares it on is the page the response is read from).
pub struct Writer<'w> {
    out: &'w mut dyn Sink,
    /// The snapshot being replaced (empty when none), which [`Prepared::old`] points into.
    old: &'w [u8],
    /// Bytes of `old` due at the end of what is written so far, not yet written: entries
    /// unchanged in a row lie in a row there too, and are written together.
    run: std::ops::Range<usize>,
    fields: Vec<[u32; FIELDS]>,
    hashes: Vec<u32>,
    slots: usize,
    /// The offset the next string goes to.
    at: usize,
    /// Which entries are written, and how many.
    pushed: Vec<bool>,
    next: usize,
}

impl<'w> Writer<'w> {
    /// Starts a snapshot of the entries at `paths` (the first is the 404 page's, unused),
    /// refusing a path given twice. `old` is the snapshot being replaced, if any (else empty).
    pub fn new(out: &'w mut dyn Sink, paths: &[&str], old: &'w [u8]) -> io::Result<Writer<'w>> {
        let mut seen = std::collections::HashSet::with_capacity(paths.len());
        if let Some(twice) = paths.iter().skip(1).find(|p| !seen.insert(**p)) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("two resources claim the path {twice}"),
            ));
        }
        let count = paths.len();
        let slots = (count * 2).next_power_of_two();
        let strings_at = TABLE + slots * RECORD;
        let mut writer = Writer {
            out,
            old,
            run: 0..0,
            fields: vec![[0u32; FIELDS]; count],
            hashes: vec![0; count],
            slots,
            at: strings_at,
            pushed: vec![false; count],
            next: 0,
        };
        writer.out.write_all(&vec![0; strings_at])?;
        for (index, path) in paths.iter().enumerate().skip(1) {
            writer.hashes[index] = path_hash(path.as_bytes());
        }
        Ok(writer)
    }

    fn string(&mut self, field: &mut [u32], bytes: &[u8]) -> io::Result<()> {
        self.write_run()?;
        field[0] = u32_of(self.at)?;
        field[1] = u32_of(bytes.len())?;
        self.out.write_all(bytes)?;
        self.at += bytes.len();
        Ok(())
    }

    /// Writes the entry for the path at `index` of the paths given to [`Writer::new`] (in any
    /// order; each once), which must be `prepared.path`.
    pub fn push(&mut self, index: usize, prepared: &Prepared<'_>) -> io::Result<()> {
        if self.pushed.get(index) != Some(&false) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("entry {index} written twice or not in the index"),
            ));
        }
        // The 404 page is found without a path.
        let path = if index == 0 {
            &b""[..]
        } else {
            prepared.path.as_bytes()
        };
        if index != 0 && path_hash(path) != self.hashes[index] {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("entry {index} is not at the path {}", prepared.path),
            ));
        }
        self.pushed[index] = true;
        let mut f = self.fields[index];
        if let Some(old) = prepared.old.clone().filter(|r| r.end <= self.old.len()) {
            let gzip = prepared.gzip.as_ref();
            let lens = [
                path.len(),
                prepared.head.len(),
                prepared.body.len(),
                gzip.map_or(0, |(head, _)| head.len()),
                gzip.map_or(0, |(_, body)| body.len()),
                prepared.etag.len(),
            ];
            if lens.iter().sum::<usize>() == old.len() {
                if self.run.end != old.start {
                    self.write_run()?;
                    self.run = old.clone();
                } else {
                    self.run.end = old.end;
                }
                for (i, len) in lens.into_iter().enumerate() {
                    let (at, n) = (u32_of(self.at)?, u32_of(len)?);
                    // No gzip variant: its fields stay zero, as when written.
                    if !(gzip.is_none() && (i == 3 || i == 4)) {
                        f[2 * i..2 + 2 * i].copy_from_slice(&[at, n]);
                    }
                    self.at += len;
                }
                self.fields[index] = f;
                self.next += 1;
                return Ok(());
            }
        }
        self.string(&mut f[0..2], path)?;
        self.string(&mut f[2..4], &prepared.head)?;
        self.string(&mut f[4..6], prepared.body)?;
        if let Some((gz_head, gz)) = &prepared.gzip {
            self.string(&mut f[6..8], gz_head)?;
            self.string(&mut f[8..10], gz)?;
        }
        self.string(&mut f[10..12], prepared.etag.as_bytes())?;
        self.fields[index] = f;
        self.next += 1;
        Ok(())
    }

    /// Writes the pending run of the old snapshot's bytes.
    fn write_run(&mut self) -> io::Result<()> {
        let run = std::mem::replace(&mut self.run, 0..0);
        self.out.write_all(&self.old[run])
    }

    /// Writes the render record and then the index at the start; leaves `out` at the end.
    /// Returns the snapshot's length.
    pub fn finish(
        mut self,
        post_count: usize,
        render_micros: u64,
        record: &[&[u8]],
    ) -> io::Result<usize> {
        self.write_run()?;
        let count = self.fields.len();
        if self.next != count {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "fewer entries than paths",
            ));
        }
        let record_at = u32_of(self.at)?;
        let record_len = record.iter().map(|part| part.len()).sum::<usize>();
        self.out.write_all(&u32_of(record_len)?.to_le_bytes())?;
        for part in record {
            self.out.write_all(part)?;
        }
        let total = self.at + 4 + record_len;
        u32_of(total)?;
        let slots = self.slots;
        let mut index = Vec::with_capacity(TABLE + slots * RECORD);
        index.extend_from_slice(MAGIC);
        index.extend_from_slice(&u32_of(count)?.to_le_bytes());
        index.extend_from_slice(&u32_of(post_count)?.to_le_bytes());
        index.extend_from_slice(&render_micros.to_le_bytes());
        index.extend_from_slice(&u32_of(slots)?.to_le_bytes());
        index.extend_from_slice(&record_at.to_le_bytes());
        index.resize(TABLE + slots * RECORD, 0);
        let place = |index: &mut [u8], at: usize, hash: u32, i: u32, f: &[u32; FIELDS]| {
            let words = [hash, i].into_iter().chain(f.iter().copied());
            for (n, word) in words.enumerate() {
                index[at + 4 * n..at + 4 * n + 4].copy_from_slice(&word.to_le_bytes());
            }
        };
        place(&mut index, NOT_FOUND, 0, 0, &self.fields[0]);
        for (i, &hash) in self.hashes.iter().enumerate().skip(1) {
            let mut slot = hash as usize & (slots - 1);
            loop {
                let at = TABLE + slot * RECORD;
                if index[at + 4..at + 8] == [0; 4] {
                    place(&mut index, at, hash, u32_of(i)?, &self.fields[i]);
                    break;
                }
                slot = (slot + 1) & (slots - 1);
            }
        }
        self.out.seek(io::SeekFrom::Start(0))?;
        self.out.write_all(&index)?;
        self.out.seek(io::SeekFrom::End(0))?;
        Ok(total)
    }
}

fn u32_of(n: usize) -> io::Result<u32> {
    u32::try_from(n).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "the rendered site is over 4 GiB",
        )
    })
}

/// FNV-1a, 32 bits, for the path table (paths are short; this is all a lookup hashes).
fn path_hash(path: &[u8]) -> u32 {
    path.iter().fold(0x811c_9dc5, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
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
    /// The header as read when mapped: what a lookup needs of it, in the parent's memory.
    index: Index,
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
        let index = validate(&fd, len)?;
        let map = SharedMap::new(fd.as_fd(), len)
            .map_err(|e| io::Error::other(format!("mapping the site: {e}")))?;
        Ok(Snapshot { map, fd, index })
    }

    /// The memfd behind the mapping.
    pub fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    /// A view for lookups (made without touching the mapping).
    pub fn view(&self) -> View<'_> {
        View {
            bytes: self.map.bytes(),
            index: self.index,
        }
    }
}

impl AsRef<[u8]> for Snapshot {
    fn as_ref(&self) -> &[u8] {
        self.map.bytes()
    }
}

/// Checks that the snapshot of `len` bytes in `fd` is of this layout and that every entry lies
/// within it. The index is read from the file, not through a mapping, so that the parent does
/// not keep (and count in its resident size) the table pages it read.
fn validate(fd: &OwnedFd, len: usize) -> io::Result<Index> {
    use std::os::unix::fs::FileExt;
    let bad =
        |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("site snapshot: {what}"));
    let file = std::fs::File::from(fd.try_clone()?);
    let mut head = [0u8; TABLE];
    if len < TABLE || file.read_exact_at(&mut head, 0).is_err() || head[..8] != MAGIC[..] {
        return Err(bad("bad magic"));
    }
    let index = Index::read(&head, len).ok_or_else(|| bad("index out of bounds"))?;
    let fits = |record: &[u8]| {
        (0..FIELDS / 2).all(|f| {
            let off = word(record, 8 + 8 * f);
            off.checked_add(word(record, 12 + 8 * f))
                .is_some_and(|end| end <= len)
        })
    };
    if !fits(&head[NOT_FOUND..TABLE]) {
        return Err(bad("entry out of bounds"));
    }
    const BATCH: usize = 1024;
    let mut batch = vec![0u8; RECORD * BATCH.min(index.slots)];
    let mut found = 1;
    for first in (0..index.slots).step_by(BATCH) {
        let records = &mut batch[..RECORD * BATCH.min(index.slots - first)];
        file.read_exact_at(records, (TABLE + first * RECORD) as u64)
            .map_err(|e| io::Error::other(format!("reading the site's index: {e}")))?;
        for record in records.chunks_exact(RECORD) {
            let entry = word(record, 4);
            if entry == 0 {
                continue;
            }
            if entry >= index.count || !fits(record) {
                return Err(bad("entry out of bounds"));
            }
            found += 1;
        }
    }
    if found != index.count {
        return Err(bad("entry count does not match the table"));
    }
    Ok(index)
}

/// The little-endian u32 at `at` of `bytes` (0 past the end).
fn word(bytes: &[u8], at: usize) -> usize {
    bytes
        .get(at..at + 4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

/// What a lookup needs of the header; all zero for bytes that are not a snapshot of this
/// layout (then nothing is found in them).
#[derive(Clone, Copy, Default)]
struct Index {
    count: usize,
    slots: usize,
}

impl Index {
    /// The index of a snapshot of `len` bytes that starts with `header`.
    fn read(header: &[u8], len: usize) -> Option<Index> {
        if header.len() < TABLE || header.get(..8)? != MAGIC {
            return None;
        }
        let count = word(header, 8);
        let slots = word(header, 24);
        let fits = slots
            .checked_mul(RECORD)
            .and_then(|n| n.checked_add(TABLE))
            .is_some_and(|end| end <= len);
        (count > 0 && count <= slots && slots.is_power_of_two() && fits)
            .then_some(Index { count, slots })
    }
}

/// Read access to snapshot bytes, whether mapped or in a Vec (inetd mode, tests).
#[derive(Clone, Copy)]
pub struct View<'a> {
    bytes: &'a [u8],
    index: Index,
}

impl<'a> View<'a> {
    /// Wraps bytes produced by [`encode`]; bytes of another layout (an older snapshot) look
    /// empty: no entry and no render record.
    pub fn new(bytes: &'a [u8]) -> View<'a> {
        View {
            bytes,
            index: Index::read(bytes, bytes.len()).unwrap_or_default(),
        }
    }

    /// Every byte of the snapshot, including what follows its tables (the TLS material).
    pub fn raw(&self) -> &'a [u8] {
        self.bytes
    }

    fn u32_at(&self, at: usize) -> Option<usize> {
        let b = self.bytes.get(at..at + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
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

    /// Field `field` of the record at `record`.
    fn field(&self, record: usize, field: usize) -> Option<&'a [u8]> {
        let at = record + 8 + field * 8;
        let off = self.u32_at(at)?;
        let len = self.u32_at(at + 4)?;
        self.bytes.get(off..off.checked_add(len)?)
    }

    /// The entry whose record lies at `record`.
    fn entry_at(&self, record: usize) -> Option<Entry<'a>> {
        let plain = Variant {
            head: self.field(record, 1)?,
            body: self.field(record, 2)?,
        };
        let gz_head = self.field(record, 3)?;
        let gzip = (!gz_head.is_empty()).then_some(Variant {
            head: gz_head,
            body: self.field(record, 4)?,
        });
        Some(Entry {
            path: self.field(record, 0)?,
            plain,
            gzip,
            etag: self.field(record, 5)?,
        })
    }

    /// The render record the renderer left for the next render, if any (see `encode.rs`).
    pub fn record(&self) -> Option<&'a [u8]> {
        if self.index.count == 0 {
            return None;
        }
        let at = self.u32_at(28)?;
        if at == 0 {
            return None;
        }
        let len = self.u32_at(at)?;
        self.bytes.get(at + 4..(at + 4).checked_add(len)?)
    }

    /// The resource at exactly `path`.
    pub fn lookup(&self, path: &[u8]) -> Option<Entry<'a>> {
        let slots = self.index.slots;
        if slots == 0 {
            return None;
        }
        let hash = path_hash(path) as usize;
        let mut slot = hash & (slots - 1);
        for _ in 0..slots {
            let at = TABLE + slot * RECORD;
            if self.u32_at(at + 4)? == 0 {
                return None;
            }
            if self.u32_at(at)? == hash && self.field(at, 0)? == path {
                return self.entry_at(at);
            }
            slot = (slot + 1) & (slots - 1);
        }
        None
    }

    /// Where `entry` (of this snapshot) lies: its path, head, body, gzip head and body, and tag
    /// back to back, as [`Writer`] lays them out; `None` if they are not.
    pub fn block(&self, entry: &Entry<'a>) -> Option<std::ops::Range<usize>> {
        let base = self.bytes.as_ptr() as usize;
        let at = |part: &[u8]| (part.as_ptr() as usize).checked_sub(base);
        let mut parts = vec![entry.path, entry.plain.head, entry.plain.body];
        if let Some(gzip) = entry.gzip {
            parts.extend([gzip.head, gzip.body]);
        }
        parts.push(entry.etag);
        let start = at(parts[0])?;
        let mut end = start;
        for part in parts {
            if at(part)? != end {
                return None;
            }
            end += part.len();
        }
        (end <= self.bytes.len()).then_some(start..end)
    }

    /// The 404 page.
    pub fn not_found(&self) -> Option<Entry<'a>> {
        if self.index.count == 0 {
            return None;
        }
        self.entry_at(NOT_FOUND)
    }
}

/// Writes `bytes` into the memfd `fd` (used by the render worker before the parent seals it).
pub fn write_into(fd: &OwnedFd, bytes: &[u8]) -> io::Result<()> {
    let mut file = std::fs::File::from(fd.try_clone()?);
    file.write_all(bytes)
}
