//! Incremental rendering: what a render takes from the one before it, and the record it leaves
//! for the next.
//!
//! Two things are reused, each only when its inputs are the same:
//! - a post (its front matter, URL, summary, HTML...): when its file has the same bytes and
//!   modification time and the settings are the same. A file whose [`Identity`] (what `stat`
//!   says of it) is the one recorded is known to be so without being read. Its HTML is not stored twice: it
//!   is found again inside its own page of the earlier render, where the record says it sits.
//! - a page rendered through a template: when its key is the same. A key hashes everything the
//!   template is given (see `pages.rs`: the site's settings, the post views listed, the body).
//!
//! The posts' fingerprint covers the settings (every field of the parsed `forkblog.toml`), the
//! drafts flag and the root; the pages' adds the site's own templates. A change to the settings
//! renders everything; a template change renders every page, from posts read as they were.
//! The built-in templates and the code belong to the binary, which the snapshot's encoder
//! checks (`encode::Previous`) before handing an earlier render over at all.
//!
//! The record is a flat little-endian byte string; a record that does not parse is ignored
//! (everything is rendered), never trusted in part.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use jiff::Timestamp;

use super::date::PostDate;
use super::post::Post;

/// What the previous render offers: its record and its bodies.
pub trait Previous: Sync {
    /// The site record the earlier render left ([`Record::encode`]); empty when none.
    fn record(&self) -> &[u8];
    /// The body at `path` as the site renderer made it (before anything the server adds).
    fn body(&self, path: &str) -> Option<Cow<'_, [u8]>>;
    /// As [`Previous::body`], as a body the new site can hold: a copy unless the earlier render
    /// can share its bytes (the render worker's mapping of the snapshot it replaces), which
    /// spares a reload copying every page it keeps.
    fn shared_body(&self, path: &str) -> Option<bytes::Bytes> {
        self.body(path)
            .map(|body| bytes::Bytes::copy_from_slice(&body))
    }
}

/// The record's opening; any other version is ignored.
const VERSION: &[u8; 8] = b"FBSITE03";

/// A stable 64-bit hash (FNV constants a word at a time, then an avalanche): the same bytes
/// give the same hash in every process and every version, which the record needs and the
/// entity tags (`encode.rs`) rely on; change it and every client's cache revalidates once.
pub fn hash(bytes: &[u8]) -> u64 {
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

/// The record's maps, keyed by the site's own paths (no one else's input, so no flooding to
/// fear): hashed with [`hash`], a word at a time, rather than SipHash a byte at a time.
type Map<K, V> = HashMap<K, V, Fast>;
type Set<K> = std::collections::HashSet<K, Fast>;

/// Builds [`FastHasher`]s.
#[derive(Default, Clone, Copy)]
struct Fast;

impl std::hash::BuildHasher for Fast {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(0)
    }
}

/// Folds each piece written through [`hash`].
struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = (self.0.rotate_left(5) ^ hash(bytes)).wrapping_mul(0x100_0000_01b3);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Hashes a sequence of words and byte strings, each delimited, so that no two different
/// sequences are the same stream.
#[derive(Default)]
pub struct Key(Vec<u8>);

impl Key {
    /// A key for one kind of thing (`"post"`, `"index"`...).
    pub fn new(kind: &str) -> Key {
        let mut key = Key(Vec::with_capacity(128));
        key.bytes(kind.as_bytes());
        key
    }

    /// Adds a word.
    pub fn word(&mut self, n: u64) -> &mut Key {
        self.0.extend_from_slice(&n.to_le_bytes());
        self
    }

    /// Adds a byte string (length first).
    pub fn bytes(&mut self, b: &[u8]) -> &mut Key {
        self.word(b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }

    /// The hash of everything added.
    pub fn finish(&self) -> u64 {
        hash(&self.0)
    }
}

/// A file as `stat` identifies it: device, inode, size, and modification and status-change
/// times to the nanosecond.
///
/// Equal identities mean equal bytes because of the status-change time (ctime): the kernel
/// sets it to the current time on every write, truncation, rename, link or chmod of the inode,
/// and no system call lets a user set it (`utimensat` can restore the modification time, not
/// the ctime). A file edited in place, or replaced by a rename (another inode), therefore never
/// comes back with the identity it had. One gap remains: the kernel stamps times from a clock
/// that ticks coarsely, so a write in the same tick as the ctime recorded would leave it
/// unchanged. An identity is therefore only recorded when its ctime is older than the render
/// by a margin far above a tick ([`Identity::of`]); a file changed so recently is read again
/// next time, like Git's "racily clean" entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity([u64; 7]);

/// How much older than the render a file's ctime must be for its identity to be trusted: at
/// least the coarsest timestamp a file system keeps (2 s on FAT, 1 s on ext4 with small inodes,
/// HFS+ or some NFS servers; ticks of 1-10 ms elsewhere). A second same-size write within one
/// such step would leave the identity unchanged, and it can only come after the render that
/// recorded the identity if that render ran less than one step after the stamp.
const RACY_MARGIN: std::time::Duration = std::time::Duration::from_secs(2);

impl Identity {
    /// The identity of the file at `path` (`follow`: of what a link there leads to), when it
    /// can be taken and its last change is older than `render_started` by the margin above.
    /// Without links followed, a link has its own inode, so a file swapped for a link never
    /// matches and is read (and refused) through the site's rules.
    pub fn of(
        path: &Path,
        follow: bool,
        render_started: std::time::SystemTime,
    ) -> Option<Identity> {
        use std::os::unix::fs::MetadataExt;
        let m = if follow {
            std::fs::metadata(path)
        } else {
            std::fs::symlink_metadata(path)
        }
        .ok()?;
        let changed = std::time::UNIX_EPOCH.checked_add(std::time::Duration::new(
            u64::try_from(m.ctime()).ok()?,
            u32::try_from(m.ctime_nsec()).ok()?,
        ))?;
        if changed.checked_add(RACY_MARGIN)? >= render_started {
            return None;
        }
        Some(Identity([
            m.dev(),
            m.ino(),
            m.size(),
            m.mtime() as u64,
            m.mtime_nsec() as u64,
            m.ctime() as u64,
            m.ctime_nsec() as u64,
        ]))
    }
}

/// What the record says of one post.
#[derive(Debug, Clone)]
struct Cached<'e> {
    /// Hash of the file's bytes and modification time.
    source_key: u64,
    /// The file's identity when that hash was taken, if it was old enough to be trusted.
    identity: Option<Identity>,
    /// Where the HTML sits in the post's page body: offset and length.
    html_at: Option<(usize, usize)>,
    /// The hash of the HTML, which the post's page key takes (`pages.rs`): known without
    /// reading the HTML, so a post whose page is kept never has it copied out.
    html_hash: u64,
    /// The post's source file, as recorded.
    source: &'e str,
    /// The post's URL.
    url: &'e str,
    /// The post without its HTML, as written by `write_post`: read only when reused, and
    /// carried into the next record as it is.
    raw: &'e [u8],
}

/// A post of this render, for the record (what a kept post had, borrowed from the record).
struct Kept<'e> {
    source: Cow<'e, Path>,
    url: Cow<'e, str>,
    source_key: u64,
    html_hash: u64,
    identity: Option<Identity>,
    raw: Cow<'e, [u8]>,
}

/// The earlier render's record, parsed, and the record of this render being collected.
pub struct Record<'e> {
    earlier: Option<&'e dyn Previous>,
    fingerprints: (u64, u64),
    /// Keyed by source path; a path that is not UTF-8 is never reused (the record holds it
    /// lossily).
    posts: Map<&'e str, Cached<'e>>,
    pages: Map<String, u64>,
    /// The hash of every resource path of the earlier render.
    paths: u64,
    /// The pages of the earlier render with a broken link.
    broken: Set<String>,
    /// This render's: the pages taken over, the hash of its paths, the pages with broken links.
    new_reused: Mutex<Set<String>>,
    new_paths: std::sync::atomic::AtomicU64,
    new_broken: Mutex<Vec<String>>,
    /// This render's posts: source, key, HTML place (filled in once pages are rendered).
    new_posts: Mutex<Vec<Kept<'e>>>,
    new_html_at: Mutex<Map<std::ffi::OsString, (usize, usize)>>,
    new_pages: Mutex<Vec<(String, u64)>>,
    /// The posts taken from the earlier render whose HTML is still in its page there (their
    /// `html` is empty until [`Record::fill_html`] or [`Record::whole_html`] fetches it).
    unfilled: Mutex<Set<std::ffi::OsString>>,
    /// How much was reused, for the log.
    pub reused_posts: std::sync::atomic::AtomicUsize,
    /// How many pages were taken from the earlier render.
    pub reused_pages: std::sync::atomic::AtomicUsize,
    /// How many posts were taken by their file's identity alone.
    pub unread_posts: std::sync::atomic::AtomicUsize,
}

impl<'e> Record<'e> {
    /// Reads `earlier`'s record: its posts are usable under the same `posts_fingerprint`,
    /// its pages under the same `pages_fingerprint` too.
    pub fn new(
        earlier: Option<&'e dyn Previous>,
        posts_fingerprint: u64,
        pages_fingerprint: u64,
    ) -> Record<'e> {
        let fingerprints = (posts_fingerprint, pages_fingerprint);
        let mut record = Record {
            earlier: None,
            fingerprints,
            posts: Map::default(),
            pages: Map::default(),
            paths: 0,
            broken: Default::default(),
            new_reused: Default::default(),
            new_paths: Default::default(),
            new_broken: Default::default(),
            new_posts: Mutex::new(Vec::new()),
            new_html_at: Default::default(),
            new_pages: Mutex::new(Vec::new()),
            unfilled: Default::default(),
            reused_posts: Default::default(),
            reused_pages: Default::default(),
            unread_posts: Default::default(),
        };
        if let Some(earlier) = earlier {
            match decode(earlier.record(), fingerprints) {
                Some(Decoded {
                    posts,
                    pages,
                    paths,
                    broken,
                }) => {
                    record.earlier = Some(earlier);
                    record.paths = paths;
                    record.broken = broken.into_iter().collect();
                    record.posts = posts;
                    record.pages = pages;
                }
                None => log::debug!("no usable record of the earlier render: rendering all"),
            }
        }
        record
    }

    /// The key of a post file's content: its bytes and modification time.
    pub fn source_key(bytes: &[u8], modified: Timestamp) -> u64 {
        Key::new("source")
            .bytes(bytes)
            .word(modified.as_second() as u64)
            .word(u64::from(modified.subsec_nanosecond() as u32))
            .finish()
    }

    /// The post at `source` as the earlier render had it, without reading its file, when the
    /// file's `identity` is the one recorded (see [`Identity`]).
    pub fn post_by_identity(&self, source: &Path, identity: Identity) -> Option<Post> {
        let cached = self.cached(source)?;
        if cached.identity != Some(identity) {
            return None;
        }
        let post = self.post(source, cached.source_key, Some(identity))?;
        self.unread_posts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(post)
    }

    /// The post at `source` as the earlier render had it, when its file's `source_key` is the
    /// same and its HTML can be found again; it is kept for the next record as it was, with the
    /// file's `identity` taken before it was read.
    ///
    /// Its `html` is left empty, to be fetched from the earlier page only where it is needed
    /// ([`Record::fill_html`], [`Record::whole_html`]); its hash is known ([`Record::html_key`]).
    /// A reload that keeps most pages thus copies almost no post's HTML.
    pub fn post(&self, source: &Path, source_key: u64, identity: Option<Identity>) -> Option<Post> {
        let cached = self.cached(source)?;
        if cached.source_key != source_key {
            return None;
        }
        let post = read_post(&mut Reader(cached.raw))?;
        // Links to other posts are resolved into the HTML: theirs may have moved.
        if !post.links.is_empty() || post.source.as_os_str() != source.as_os_str() {
            return None;
        }
        let (at, len) = cached.html_at?;
        let body = self.earlier?.body(cached.url)?;
        // Where the page says; its bytes are checked as text when fetched.
        let end = at.checked_add(len)?;
        let starts_char = |i: usize| body.get(i).is_none_or(|&b| !(0x80..0xc0).contains(&b));
        if end > body.len() || !starts_char(at) || !starts_char(end) {
            return None;
        }
        self.reused_posts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.lock(&self.new_posts).push(Kept {
            source: Cow::Borrowed(Path::new(cached.source)),
            url: Cow::Borrowed(cached.url),
            source_key,
            html_hash: cached.html_hash,
            identity,
            raw: Cow::Borrowed(cached.raw),
        });
        self.lock(&self.unfilled)
            .insert(post.source.as_os_str().to_owned());
        Some(post)
    }

    /// What the earlier render's record says of the post read from `source`.
    fn cached(&self, source: &Path) -> Option<&Cached<'e>> {
        self.posts.get(source.to_str()?)
    }

    /// Whether `post` came from the earlier render without its HTML, which is still to fetch.
    fn unfilled(&self, post: &Post) -> bool {
        self.lock(&self.unfilled).contains(post.source.as_os_str())
    }

    /// The whole HTML of `post`: `html` (its field, taken out), or the HTML in its earlier page
    /// when it came from there without it.
    pub fn whole_html<'h>(&self, post: &Post, html: &'h str) -> Cow<'h, str>
    where
        'e: 'h,
    {
        match html.is_empty() && self.unfilled(post) {
            true => self.fetch_html(&post.source).unwrap_or_default(),
            false => Cow::Borrowed(html),
        }
    }

    /// The hash of `post`'s whole HTML, which its page's key takes, with `html` as in
    /// [`Record::whole_html`]: recorded for a post that came without it.
    pub fn html_key(&self, post: &Post, html: &str) -> u64 {
        let cached = || self.cached(&post.source).map(|c| c.html_hash);
        match html.is_empty() && self.unfilled(post) {
            true => cached().unwrap_or_else(|| hash(html.as_bytes())),
            false => hash(html.as_bytes()),
        }
    }

    /// Fetches the HTML of each of `posts` that came from the earlier render without it (the
    /// feed's and the translations', which are used whole).
    pub fn fill_html(&self, posts: &mut [Post]) {
        for post in posts.iter_mut().filter(|p| p.html.is_empty()) {
            if self.lock(&self.unfilled).remove(post.source.as_os_str()) {
                post.html = self
                    .fetch_html(&post.source)
                    .unwrap_or_default()
                    .into_owned();
            }
        }
    }

    /// The HTML of the post read from `source` in its earlier page, where [`Record::post`]
    /// found its place. The earlier snapshot is sealed and was written with its record by
    /// this same binary (`encode::Previous`), so the place holds the text recorded;
    /// were it ever not text, the bytes are taken with replacement characters rather than
    /// failing the render half-way.
    fn fetch_html(&self, source: &Path) -> Option<Cow<'e, str>> {
        let cached = self.cached(source)?;
        let (at, len) = cached.html_at?;
        let place = at..at.checked_add(len)?;
        // Borrowed from the earlier snapshot when it is there as it is (not in a preview).
        Some(match self.earlier?.body(cached.url)? {
            Cow::Borrowed(body) => String::from_utf8_lossy(body.get(place)?),
            Cow::Owned(body) => Cow::Owned(String::from_utf8_lossy(body.get(place)?).into_owned()),
        })
    }

    /// Remembers a post of this render read from its file (its HTML is not kept), its
    /// source key and its file's identity taken before it was read.
    pub fn keep_post(&self, post: &Post, source_key: u64, identity: Option<Identity>) {
        let mut w = Writer(Vec::with_capacity(512));
        write_post(&mut w, post);
        // Held until the record is written: without the slack of doubling.
        w.0.shrink_to_fit();
        self.lock(&self.new_posts).push(Kept {
            source: Cow::Owned(post.source.clone()),
            url: Cow::Owned(post.url.clone()),
            source_key,
            html_hash: hash(post.html.as_bytes()),
            identity,
            raw: Cow::Owned(w.0),
        });
    }

    /// Records where the HTML of the post read from `source` sits in its page body. Keyed by
    /// the source, not the URL: a post that lost its URL to another (a clash) or was left out
    /// (a draft) has no page of its own, so no place is recorded for it and the next render
    /// reads it again rather than cutting its HTML out of another post's page.
    pub fn keep_html_at(&self, source: &Path, at: usize, len: usize) {
        self.lock(&self.new_html_at)
            .insert(source.as_os_str().to_owned(), (at, len));
    }

    /// The earlier body of the page at `path` when it was rendered from the same `key`; the
    /// key is recorded for the next render either way.
    pub fn page(&self, path: &str, key: u64) -> Option<bytes::Bytes> {
        self.lock(&self.new_pages).push((path.to_string(), key));
        if self.pages.get(path) != Some(&key) {
            return None;
        }
        let body = self.earlier?.shared_body(path)?;
        self.reused_pages
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.lock(&self.new_reused).insert(path.to_string());
        Some(body)
    }

    /// Notes the hash of this render's resource paths, all of them, in order.
    pub fn keep_paths(&self, paths: u64) {
        self.new_paths
            .store(paths, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the links of the page at `path` need no check: the page was taken over
    /// unchanged, the site has exactly the paths it had, and none of its links was broken.
    /// (A check depends on nothing else; call after [`Record::keep_paths`].)
    pub fn links_known_good(&self, path: &str) -> bool {
        self.earlier.is_some()
            && self.paths == self.new_paths.load(std::sync::atomic::Ordering::Relaxed)
            && !self.broken.contains(path)
            && self.lock(&self.new_reused).contains(path)
    }

    /// Notes that the page at `path` has a broken link.
    pub fn keep_broken_links(&self, path: &str) {
        self.lock(&self.new_broken).push(path.to_string());
    }

    /// Where the earlier render found the HTML of the post read from `source` in its page, for
    /// a page taken over unchanged.
    pub fn earlier_html_at(&self, source: &Path) -> Option<(usize, usize)> {
        self.cached(source)?.html_at
    }

    fn lock<'a, T>(&self, m: &'a Mutex<T>) -> std::sync::MutexGuard<'a, T> {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// This render's record, for the next one.
    pub fn encode(&self) -> Vec<u8> {
        // Sorted: threads add in any order, and the record must not differ from run to run.
        let mut posts = self.lock(&self.new_posts);
        posts.sort_unstable_by(|a, b| a.source.as_os_str().cmp(b.source.as_os_str()));
        let html_at = self.lock(&self.new_html_at);
        let mut pages = self.lock(&self.new_pages);
        pages.sort();
        // Sized up front (at most the words written below): a record of megabytes grown
        // by doubling is copied again each time.
        let words = |n: usize| 8 * n;
        let size = VERSION.len()
            + words(3)
            + posts
                .iter()
                .map(|k| words(16) + k.source.as_os_str().len() + k.url.len() + k.raw.len())
                .sum::<usize>()
            + words(1)
            + pages
                .iter()
                .map(|(path, _)| words(2) + path.len())
                .sum::<usize>()
            + words(2)
            + self
                .lock(&self.new_broken)
                .iter()
                .map(|b| words(1) + b.len())
                .sum::<usize>();
        let mut w = Writer(Vec::with_capacity(size));
        w.0.extend_from_slice(VERSION);
        w.u64(self.fingerprints.0);
        w.u64(self.fingerprints.1);
        w.u64(posts.len() as u64);
        for kept in posts.iter() {
            w.str(&kept.source.to_string_lossy());
            w.str(&kept.url);
            w.u64(kept.source_key);
            w.u64(kept.html_hash);
            match kept.identity {
                Some(Identity(words)) => {
                    w.u64(1);
                    words.iter().for_each(|&n| w.u64(n));
                }
                None => w.u64(0),
            }
            match html_at.get(kept.source.as_os_str()) {
                Some(&(at, len)) => {
                    w.u64(1);
                    w.u64(at as u64);
                    w.u64(len as u64);
                }
                None => w.u64(0),
            }
            w.u64(kept.raw.len() as u64);
            w.0.extend_from_slice(&kept.raw);
        }
        w.u64(pages.len() as u64);
        for (path, key) in pages.iter() {
            w.str(path);
            w.u64(*key);
        }
        w.u64(self.new_paths.load(std::sync::atomic::Ordering::Relaxed));
        let mut broken = self.lock(&self.new_broken);
        broken.sort();
        w.strs(&broken);
        w.0
    }
}

#[cfg(test)]
impl Post {
    /// A copy of everything but the HTML.
    fn clone_without_html(&self) -> Post {
        Post {
            source: self.source.clone(),
            slug: self.slug.clone(),
            title: self.title.clone(),
            date: self.date,
            updated: self.updated,
            tags: self.tags.clone(),
            tag_slugs: self.tag_slugs.clone(),
            description: self.description.clone(),
            summary: self.summary.clone(),
            html: String::new(),
            draft: self.draft,
            needs_sanitizing: self.needs_sanitizing,
            modified: self.modified,
            url: self.url.clone(),
            aliases: self.aliases.clone(),
            entry_id: self.entry_id.clone(),
            name_slug: self.name_slug.clone(),
            undated: self.undated,
            url_problems: self.url_problems.clone(),
            lang: self.lang.clone(),
            weight: self.weight,
            relative_links: self.relative_links.clone(),
            links: self.links.clone(),
            leftovers: self.leftovers.clone(),
        }
    }
}

struct Decoded<'e> {
    posts: Map<&'e str, Cached<'e>>,
    pages: Map<String, u64>,
    paths: u64,
    broken: Vec<String>,
}

/// The most entries a record's count reserves room for before they are read.
const PRESIZE_AT_MOST: usize = 1 << 16;

fn decode(bytes: &[u8], fingerprints: (u64, u64)) -> Option<Decoded<'_>> {
    let mut r = Reader(bytes.strip_prefix(VERSION.as_slice())?);
    if r.u64()? != fingerprints.0 {
        return None;
    }
    let same_pages = r.u64()? == fingerprints.1;
    let count = r.count()?;
    // Sized from the record only up to a bound: a damaged count must not reserve gigabytes.
    let mut posts = Map::with_capacity_and_hasher(count.min(PRESIZE_AT_MOST), Fast);
    for _ in 0..count {
        let source = r.str_ref()?;
        let url = r.str_ref()?;
        let source_key = r.u64()?;
        let html_hash = r.u64()?;
        let identity = match r.u64()? {
            0 => None,
            _ => {
                let mut words = [0; 7];
                for n in &mut words {
                    *n = r.u64()?;
                }
                Some(Identity(words))
            }
        };
        let html_at = match r.u64()? {
            0 => None,
            _ => Some((r.usize()?, r.usize()?)),
        };
        let raw = r.take()?;
        posts.insert(
            source,
            Cached {
                source,
                source_key,
                html_hash,
                identity,
                html_at,
                url,
                raw,
            },
        );
    }
    let count = r.count()?;
    let mut pages = Map::with_capacity_and_hasher(count.min(PRESIZE_AT_MOST), Fast);
    for _ in 0..count {
        let path = r.str()?;
        pages.insert(path, r.u64()?);
    }
    let paths = r.u64()?;
    let broken = r.strs()?;
    if !same_pages {
        pages.clear();
    }
    r.0.is_empty().then_some(Decoded {
        posts,
        pages,
        paths,
        broken,
    })
}

struct Writer(Vec<u8>);

impl Writer {
    fn u64(&mut self, n: u64) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn strs(&mut self, list: &[String]) {
        self.u64(list.len() as u64);
        for s in list {
            self.str(s);
        }
    }
    fn opt(&mut self, s: &Option<String>) {
        match s {
            Some(s) => {
                self.u64(1);
                self.str(s);
            }
            None => self.u64(0),
        }
    }
    fn time(&mut self, t: Timestamp) {
        self.u64(t.as_second() as u64);
        self.u64(u64::from(t.subsec_nanosecond() as u32));
    }
    fn date(&mut self, d: &PostDate) {
        self.time(d.timestamp);
        self.u64(d.day.year() as u64);
        self.u64(d.day.month() as u64);
        self.u64(d.day.day() as u64);
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// A length-prefixed byte string, borrowed.
    fn take(&mut self) -> Option<&'a [u8]> {
        let len = self.usize()?;
        let (bytes, rest) = self.0.split_at_checked(len)?;
        self.0 = rest;
        Some(bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        let (word, rest) = self.0.split_first_chunk::<8>()?;
        self.0 = rest;
        Some(u64::from_le_bytes(*word))
    }
    fn usize(&mut self) -> Option<usize> {
        usize::try_from(self.u64()?).ok()
    }
    /// A count of items, each at least 8 bytes: never more than the bytes left could hold.
    fn count(&mut self) -> Option<usize> {
        self.usize().filter(|&n| n <= self.0.len() / 8)
    }
    /// A length-prefixed string, borrowed.
    fn str_ref(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.take()?).ok()
    }
    fn str(&mut self) -> Option<String> {
        let len = self.usize()?;
        let (text, rest) = self.0.split_at_checked(len)?;
        self.0 = rest;
        String::from_utf8(text.to_vec()).ok()
    }
    fn strs(&mut self) -> Option<Vec<String>> {
        let n = self.count()?;
        (0..n).map(|_| self.str()).collect()
    }
    fn opt(&mut self) -> Option<Option<String>> {
        match self.u64()? {
            0 => Some(None),
            _ => self.str().map(Some),
        }
    }
    fn bool(&mut self) -> Option<bool> {
        Some(self.u64()? != 0)
    }
    fn time(&mut self) -> Option<Timestamp> {
        let seconds = self.u64()? as i64;
        let nanos = i32::try_from(self.u64()?).ok()?;
        Timestamp::new(seconds, nanos).ok()
    }
    fn date(&mut self) -> Option<PostDate> {
        let timestamp = self.time()?;
        let year = i16::try_from(self.u64()?).ok()?;
        let month = i8::try_from(self.u64()?).ok()?;
        let day = i8::try_from(self.u64()?).ok()?;
        Some(PostDate {
            timestamp,
            day: jiff::civil::Date::new(year, month, day).ok()?,
        })
    }
}

fn write_post(w: &mut Writer, p: &Post) {
    w.str(&p.source.to_string_lossy());
    w.str(&p.slug);
    w.str(&p.title);
    w.date(&p.date);
    match &p.updated {
        Some(u) => {
            w.u64(1);
            w.date(u);
        }
        None => w.u64(0),
    }
    w.strs(&p.tags);
    w.strs(&p.tag_slugs);
    w.opt(&p.description);
    w.str(&p.summary);
    w.u64(u64::from(p.draft));
    w.u64(u64::from(p.needs_sanitizing));
    w.time(p.modified);
    w.str(&p.url);
    w.strs(&p.aliases);
    w.opt(&p.entry_id);
    w.str(&p.name_slug);
    w.u64(u64::from(p.undated));
    w.strs(&p.url_problems);
    w.opt(&p.lang);
    w.strs(&p.relative_links);
    w.u64(p.links.len() as u64);
    for (key, line) in &p.links {
        w.str(key);
        w.u64(*line as u64);
    }
    w.u64(p.leftovers.len() as u64);
    for (line, what) in &p.leftovers {
        w.u64(*line as u64);
        w.str(what);
    }
}

fn read_post(r: &mut Reader<'_>) -> Option<Post> {
    let source = r.str()?;
    // A path that was not valid UTF-8 came back changed: such a post is never reused.
    let source = PathBuf::from(source);
    let slug = r.str()?;
    let title = r.str()?;
    let date = r.date()?;
    let updated = match r.u64()? {
        0 => None,
        _ => Some(r.date()?),
    };
    let tags = r.strs()?;
    let tag_slugs = r.strs()?;
    let description = r.opt()?;
    let summary = r.str()?;
    let draft = r.bool()?;
    let needs_sanitizing = r.bool()?;
    let modified = r.time()?;
    let url = r.str()?;
    let aliases = r.strs()?;
    let entry_id = r.opt()?;
    let name_slug = r.str()?;
    let undated = r.bool()?;
    let url_problems = r.strs()?;
    let lang = r.opt()?;
    let relative_links = r.strs()?;
    let n = r.count()?;
    let links = (0..n)
        .map(|_| Some((r.str()?, r.usize()?)))
        .collect::<Option<Vec<_>>>()?;
    let n = r.count()?;
    let leftovers = (0..n)
        .map(|_| Some((r.usize()?, r.str()?)))
        .collect::<Option<Vec<_>>>()?;
    Some(Post {
        source,
        slug,
        title,
        date,
        updated,
        tags,
        tag_slugs,
        description,
        summary,
        html: String::new(),
        draft,
        needs_sanitizing,
        modified,
        url,
        aliases,
        entry_id,
        name_slug,
        undated,
        url_problems,
        lang,
        // Only pages have a place in the navigation, and pages are always read.
        weight: None,
        relative_links,
        links,
        leftovers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Old {
        record: Vec<u8>,
        bodies: HashMap<String, Vec<u8>>,
    }

    impl Previous for Old {
        fn record(&self) -> &[u8] {
            &self.record
        }
        fn body(&self, path: &str) -> Option<Cow<'_, [u8]>> {
            self.bodies.get(path).map(|b| Cow::Borrowed(b.as_slice()))
        }
    }

    fn sample() -> Post {
        let mut post = super::super::post::from_source(
            Path::new("posts/2024-03-01-hello.md"),
            "---\ntitle: Hello\ntags: [a, B]\nupdated: 2024-04-01\naliases: [/old/]\n---\nSome *text*, [[x]].\n",
            Timestamp::from_second(1_700_000_000).unwrap(),
        )
        .unwrap();
        post.leftovers.push((4, "{% raw %}".into()));
        post
    }

    #[test]
    fn a_post_that_links_to_others_is_read_again() {
        let mut post = sample();
        post.links.push(("post:x".into(), 3));
        let record = Record::new(None, 7, 7);
        record.keep_post(&post, 42, None);
        record.keep_html_at(&post.source, 0, post.html.len());
        let old = Old {
            record: record.encode(),
            bodies: HashMap::from([(post.url.clone(), post.html.clone().into_bytes())]),
        };
        let next = Record::new(Some(&old), 7, 7);
        let kept = read_post(&mut Reader(next.posts[post.source.to_str().unwrap()].raw)).unwrap();
        assert_eq!(
            format!("{kept:?}"),
            format!("{:?}", post.clone_without_html())
        );
        assert!(
            next.post(&post.source, 42, None).is_none(),
            "its links may lead elsewhere now"
        );
    }

    #[test]
    fn a_post_comes_back_whole_when_its_source_is_the_same() {
        let post = sample();
        let record = Record::new(None, 7, 7);
        record.keep_post(&post, 42, None);
        let page = format!("<main>{}</main>", post.html);
        record.keep_html_at(&post.source, 6, post.html.len());
        assert_eq!(record.page(&post.url, 9), None);
        let old = Old {
            record: record.encode(),
            bodies: HashMap::from([(post.url.clone(), page.into_bytes())]),
        };
        let next = Record::new(Some(&old), 7, 7);
        let mut back = next.post(&post.source, 42, None).expect("reused");
        assert!(
            back.html.is_empty(),
            "its HTML stays in its page until needed"
        );
        assert_eq!(next.html_key(&back, ""), hash(post.html.as_bytes()));
        assert_eq!(next.whole_html(&back, ""), post.html);
        next.fill_html(std::slice::from_mut(&mut back));
        assert_eq!(format!("{back:?}"), format!("{post:?}"));
        assert!(
            next.post(&post.source, 43, None).is_none(),
            "source changed"
        );
        assert_eq!(
            next.page(&post.url, 9).as_deref(),
            old.bodies.get(&post.url).map(|b| &b[..])
        );
        assert_eq!(next.page(&post.url, 10), None, "key changed");
        // Another fingerprint (settings, templates) reuses nothing.
        // Other templates: the post comes back, its page does not.
        let templates = Record::new(Some(&old), 7, 9);
        assert!(templates.post(&post.source, 42, None).is_some());
        assert_eq!(templates.page(&post.url, 9), None);
        let other = Record::new(Some(&old), 8, 8);
        assert!(other.post(&post.source, 42, None).is_none());
        assert_eq!(other.page(&post.url, 9), None);
    }

    #[test]
    fn a_post_comes_back_unread_only_under_its_recorded_identity() {
        let post = sample();
        let id = Identity([1, 2, 3, 4, 5, 6, 7]);
        let record = Record::new(None, 7, 7);
        record.keep_post(&post, 42, Some(id));
        record.keep_html_at(&post.source, 0, post.html.len());
        let old = Old {
            record: record.encode(),
            bodies: HashMap::from([(post.url.clone(), post.html.clone().into_bytes())]),
        };
        let next = Record::new(Some(&old), 7, 7);
        assert!(next.post_by_identity(&post.source, id).is_some());
        for i in 0..7 {
            let mut other = id;
            other.0[i] += 1;
            assert!(next.post_by_identity(&post.source, other).is_none(), "{i}");
        }
        // Kept for the next record with its identity.
        next.keep_html_at(&post.source, 0, post.html.len());
        let again = Old {
            record: next.encode(),
            bodies: old.bodies.clone(),
        };
        assert!(Record::new(Some(&again), 7, 7)
            .post_by_identity(&post.source, id)
            .is_some());
        // Without a recorded identity, only the content key reuses it.
        let record = Record::new(None, 7, 7);
        record.keep_post(&post, 42, None);
        record.keep_html_at(&post.source, 0, post.html.len());
        let old = Old {
            record: record.encode(),
            bodies: old.bodies,
        };
        let next = Record::new(Some(&old), 7, 7);
        assert!(next.post_by_identity(&post.source, id).is_none());
        assert!(next.post(&post.source, 42, Some(id)).is_some());
    }

    #[test]
    fn a_file_changed_just_now_has_no_identity_yet() {
        let dir = std::env::temp_dir().join(format!("forkblog-identity-{}", std::process::id()));
        std::fs::write(&dir, b"x").unwrap();
        let now = std::time::SystemTime::now();
        assert_eq!(Identity::of(&dir, false, now), None, "racily clean");
        let later = now + std::time::Duration::from_secs(2);
        let id = Identity::of(&dir, false, later).expect("old enough");
        assert_eq!(Identity::of(&dir, true, later), Some(id));
        std::fs::write(&dir, b"yy").unwrap();
        assert_ne!(
            Identity::of(&dir, false, later + std::time::Duration::from_secs(2)),
            Some(id)
        );
        let _ = std::fs::remove_file(&dir);
    }

    #[test]
    fn a_damaged_record_is_ignored_whole() {
        let post = sample();
        let record = Record::new(None, 7, 7);
        record.keep_post(&post, 42, None);
        record.keep_html_at(&post.source, 0, post.html.len());
        let full = record.encode();
        for cut in [0, 8, 16, 40, full.len() / 2, full.len() - 1] {
            let old = Old {
                record: full[..cut].to_vec(),
                bodies: HashMap::from([(post.url.clone(), post.html.clone().into_bytes())]),
            };
            assert!(
                Record::new(Some(&old), 7, 7)
                    .post(&post.source, 42, None)
                    .is_none(),
                "{cut}"
            );
        }
        let mut longer = full.clone();
        longer.push(0);
        let old = Old {
            record: longer,
            bodies: HashMap::new(),
        };
        assert!(Record::new(Some(&old), 7, 7).posts.is_empty());
    }
}
