//! Combined Log Format lines and the O_APPEND file they go to.
//!
//! Each child formats its line into a reused buffer and writes it with one `write()` to a file
//! opened with `O_APPEND`: the kernel appends each such write whole, so lines from concurrent
//! children never interleave.
//!
//! A line is in the log whole or not at all. On a full disk `write()` can be short: it appends
//! as much of the line as fits and returns that count. Left there, the fragment would glue onto
//! the next line written once space returns, corrupting both. [`AccessLog::append_line`] removes
//! the fragment again, and reports the line as [`LineLost`] so the caller can count it. Nothing
//! latches: the next line is tried as if nothing happened, so logging resumes by itself as soon
//! as there is room.
//!
//! Removing the fragment means cutting the file back with `ftruncate`, which is only sound if
//! nobody appended after the fragment in the meantime. So each append holds a POSIX write lock
//! on the whole file for the length of its `write()` (readers take no locks and are not held
//! up). POSIX locks belong to processes, which is what is wanted here: every writer is a separate
//! forked child sharing one open file, and a child killed while holding the lock releases it as
//! it dies. The lock costs two `fcntl` calls per line; the kernel already serialises O_APPEND
//! writes to one file, so it adds little waiting of its own. Writing a newline after a short
//! write instead would leave a garbled half line in the log, and on a full disk the newline
//! itself would not fit; checking the file's last byte before each write would cost as many
//! calls and still leave half lines.

use std::fs::{File, OpenOptions};
use std::io;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering::Relaxed};

use nix::errno::Errno;
use nix::fcntl::FcntlArg;

/// Where access log lines go.
#[derive(Debug)]
pub enum AccessLog {
    /// An append-only file that SIGUSR1 reopens (for logrotate).
    File {
        /// The path, reopened on SIGUSR1.
        path: PathBuf,
        /// The open file (O_APPEND, close-on-exec).
        file: File,
    },
    /// Standard error (`--access-log -`).
    Stderr(io::Stderr),
}

/// The descriptor of the open access log when it is a pipe or a character device (a terminal,
/// `/dev/null`), or -1. Lines of up to `PIPE_BUF` bytes are appended to it without the record
/// lock: the kernel writes such a line to a pipe in one piece, a terminal takes each write
/// whole under its own lock, and nothing can be cut back off either, while the lock costs every
/// request two system calls on a lock all children share. Longer lines, sockets (journald's
/// stdout) and files keep the lock. Set by the parent when it opens the log, inherited by every
/// child.
static UNGUARDED: AtomicI32 = AtomicI32::new(-1);

impl AccessLog {
    /// Opens `spec`: `-` for standard error, otherwise a file created if missing (mode 0640).
    pub fn open(spec: &str) -> io::Result<AccessLog> {
        if spec == "-" {
            return Ok(AccessLog::Stderr(io::stderr()).noted());
        }
        let path = PathBuf::from(spec);
        let file = open_append(&path)?;
        Ok(AccessLog::File { path, file }.noted())
    }

    /// Adopts an already open log file (handed across a re-exec) that was opened from `spec`.
    pub fn adopt(spec: &str, file: File) -> AccessLog {
        if spec == "-" {
            return AccessLog::Stderr(io::stderr()).noted();
        }
        AccessLog::File {
            path: PathBuf::from(spec),
            file,
        }
        .noted()
    }

    /// Records whether lines to this log need the lock (see [`UNGUARDED`]).
    fn noted(self) -> AccessLog {
        let fd = self.fd();
        if writes_whole_lines(fd) {
            UNGUARDED.store(fd.as_raw_fd(), Relaxed);
        } else {
            let _ = UNGUARDED.compare_exchange(fd.as_raw_fd(), -1, Relaxed, Relaxed);
        }
        self
    }

    /// Reopens the file at its path (after logrotate moved it). On failure the old file stays.
    pub fn reopen(&mut self) -> io::Result<()> {
        if let AccessLog::File { path, file } = self {
            let old = file.as_raw_fd();
            *file = open_append(path)?;
            let _ = UNGUARDED.compare_exchange(old, -1, Relaxed, Relaxed);
            let fd = self.fd();
            if writes_whole_lines(fd) {
                UNGUARDED.store(fd.as_raw_fd(), Relaxed);
            }
        }
        Ok(())
    }

    /// The descriptor lines are written to.
    pub fn fd(&self) -> BorrowedFd<'_> {
        match self {
            AccessLog::File { file, .. } => file.as_fd(),
            AccessLog::Stderr(stderr) => stderr.as_fd(),
        }
    }

    /// Appends one complete line (see [`append_line`](Self::append_line)), not saying whether it
    /// was written.
    pub fn write_line(fd: BorrowedFd<'_>, line: &[u8]) {
        let _ = AccessLog::append_line(fd, line);
    }

    /// Appends `line` (newline included) whole, or not at all and says so. A short write to a
    /// file (the disk filled up mid-line) is undone under the append lock, so no fragment stays
    /// behind for the next line to glue onto. To a pipe, socket or terminal (`--access-log -`)
    /// a short write only means a signal cut it short, so the rest follows, still under the lock,
    /// which also keeps lines longer than a pipe's atomic size from interleaving.
    pub fn append_line(fd: BorrowedFd<'_>, line: &[u8]) -> Result<(), LineLost> {
        let unguarded = fd.as_raw_fd() == UNGUARDED.load(Relaxed) && line.len() <= libc::PIPE_BUF;
        let lock = match unguarded {
            true => None,
            false => AppendLock::take(fd),
        };
        let mut written = 0;
        while written < line.len() {
            match nix::unistd::write(fd, &line[written..]) {
                Ok(0) => return Err(undo(fd, lock, written, Errno::ENOSPC)),
                Ok(n) => written += n,
                Err(Errno::EINTR) => {}
                Err(errno) => return Err(undo(fd, lock, written, errno)),
            }
            // A file takes a write whole unless it has no room for the rest, so writing the
            // rest would only fail. (Checked only here: `fstat` on every line would cost a
            // system call for a case that needs none.)
            if written < line.len() && is_regular_file(fd) {
                return Err(undo(fd, lock, written, Errno::ENOSPC));
            }
        }
        Ok(())
    }
}

/// A pipe or a character device: see [`UNGUARDED`].
fn writes_whole_lines(fd: BorrowedFd<'_>) -> bool {
    nix::sys::stat::fstat(fd)
        .is_ok_and(|s| matches!(s.st_mode & libc::S_IFMT, libc::S_IFIFO | libc::S_IFCHR))
}

fn is_regular_file(fd: BorrowedFd<'_>) -> bool {
    nix::sys::stat::fstat(fd).is_ok_and(|s| s.st_mode & libc::S_IFMT == libc::S_IFREG)
}

/// A line that is not in the log: it did not fit (`ENOSPC`, `EDQUOT`, `EFBIG`) or the write
/// failed otherwise. Each one should be counted (the status endpoint's lost log lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineLost {
    /// Why: the error of the `write()` that failed, or `ENOSPC` for a short one.
    pub errno: Errno,
    /// Bytes of the line that had been written before the write stopped short (0 when it
    /// failed outright); they are cut off again unless `fragment_left`.
    pub partial: usize,
    /// Whether those bytes could not be cut off (no lock to be had on this file system, or
    /// `ftruncate` failed), so a fragment stays in the file.
    pub fragment_left: bool,
}

impl std::fmt::Display for LineLost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "access log line lost: {}", self.errno.desc())?;
        if self.fragment_left {
            write!(f, " ({} bytes of it left in the log)", self.partial)?;
        }
        Ok(())
    }
}

/// Cuts off the `written` bytes of a line that could not be written whole (only done under the
/// lock), and says what was lost.
fn undo(
    fd: BorrowedFd<'_>,
    lock: Option<AppendLock<'_>>,
    written: usize,
    errno: Errno,
) -> LineLost {
    let mut fragment_left = written > 0;
    if written > 0 && lock.is_some() {
        // Under the lock nobody has appended since our write: the file ends with the fragment.
        if let (Ok(stat), Ok(written)) = (nix::sys::stat::fstat(fd), i64::try_from(written)) {
            let cut_to = stat.st_size - written;
            fragment_left = cut_to < 0 || nix::unistd::ftruncate(fd, cut_to).is_err();
        }
    }
    drop(lock);
    LineLost {
        errno,
        partial: written,
        fragment_left,
    }
}

/// A POSIX write lock on the whole log file (including whatever is appended later), held by this
/// process for one append and released on drop.
struct AppendLock<'fd> {
    fd: BorrowedFd<'fd>,
}

impl<'fd> AppendLock<'fd> {
    /// Waits for the lock; `None` if none is to be had (ENOLCK, some network file systems): the
    /// line is then appended unguarded, and a short write leaves a fragment (reported).
    fn take(fd: BorrowedFd<'fd>) -> Option<AppendLock<'fd>> {
        loop {
            match nix::fcntl::fcntl(fd, FcntlArg::F_SETLKW(&whole_file(libc::F_WRLCK))) {
                Ok(_) => return Some(AppendLock { fd }),
                Err(Errno::EINTR) => {}
                Err(_) => return None,
            }
        }
    }
}

impl Drop for AppendLock<'_> {
    fn drop(&mut self) {
        let _ = nix::fcntl::fcntl(self.fd, FcntlArg::F_SETLK(&whole_file(libc::F_UNLCK)));
    }
}

/// A record lock description covering the whole file, from offset 0 to whatever its end becomes.
fn whole_file(kind: libc::c_int) -> libc::flock {
    libc::flock {
        l_type: kind as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    }
}

fn open_append(path: &PathBuf) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("opening access log {}: {e}", path.display()),
            )
        })
}

/// What one access log line says.
#[derive(Debug, Clone, Copy)]
pub struct LogEntry<'a> {
    /// The client's address.
    pub remote: Option<IpAddr>,
    /// When the request was answered, in seconds since the Unix epoch.
    pub time: i64,
    /// The same time already formatted as the log writes it (`22/Nov/2026:10:00:00 +0000`),
    /// when the caller has it at hand (a child gets it from its parent); `time` otherwise.
    pub date: Option<&'a [u8]>,
    /// Method, target and minor version, when the request line could be parsed.
    pub request: Option<(&'a str, &'a [u8], u8)>,
    /// The status sent.
    pub status: u16,
    /// Body bytes sent.
    pub bytes: usize,
    /// The Referer header.
    pub referer: Option<&'a [u8]>,
    /// The User-Agent header.
    pub user_agent: Option<&'a [u8]>,
}

/// Where a line is formatted: a `Vec`, or a connection child's buffer that lives next to the
/// request it reads (see `child::Scratch`), so that writing a line dirties no page of its own.
pub trait LineBuffer {
    /// Empties the buffer.
    fn clear(&mut self);
    /// Appends `bytes`.
    fn extend_from_slice(&mut self, bytes: &[u8]);
    /// Appends one byte.
    fn push(&mut self, byte: u8) {
        self.extend_from_slice(&[byte]);
    }
}

impl LineBuffer for Vec<u8> {
    fn clear(&mut self) {
        Vec::clear(self);
    }
    fn extend_from_slice(&mut self, bytes: &[u8]) {
        Vec::extend_from_slice(self, bytes);
    }
    fn push(&mut self, byte: u8) {
        Vec::push(self, byte);
    }
}

/// Formats `entry` as one Combined Log Format line, newline included, into `out` (cleared
/// first). Quoted fields escape `"` and `\` with a backslash and every byte outside printable
/// ASCII as `\xHH`, as nginx does, so a hostile header can neither break the line nor forge one.
pub fn format_line(out: &mut impl LineBuffer, entry: &LogEntry<'_>) {
    out.clear();
    match entry.remote.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V4(v4)) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                decimal(out, u64::from(octet));
            }
        }
        Some(ip) => {
            // IPv6 text (RFC 5952 zero compression) through the standard formatter: rare
            // enough here that its pages are not worth keeping out of a child. Into a stack
            // buffer, not a String: a child that allocates pays for malloc's pages too.
            use std::io::Write;
            let mut text = [0u8; 64]; // the longest IPv6 text is 45 bytes
            let mut cursor = std::io::Cursor::new(&mut text[..]);
            let _ = write!(cursor, "{ip}");
            let len = cursor.position() as usize;
            out.extend_from_slice(&text[..len]);
        }
        None => out.push(b'-'),
    }
    out.extend_from_slice(b" - - [");
    match entry.date {
        Some(date) => out.extend_from_slice(date),
        None => {
            let mut date = Vec::with_capacity(32);
            crate::clock::clf_date(&mut date, entry.time);
            out.extend_from_slice(&date);
        }
    }
    out.extend_from_slice(b"] \"");
    match entry.request {
        Some((method, target, minor)) => {
            escape(out, method.as_bytes());
            out.push(b' ');
            escape(out, target);
            out.extend_from_slice(b" HTTP/1.");
            decimal(out, u64::from(minor));
        }
        None => out.push(b'-'),
    }
    out.extend_from_slice(b"\" ");
    decimal(out, u64::from(entry.status));
    out.push(b' ');
    if entry.bytes == 0 {
        out.push(b'-');
    } else {
        decimal(out, entry.bytes as u64);
    }
    for field in [entry.referer, entry.user_agent] {
        out.extend_from_slice(b" \"");
        match field {
            Some(value) => escape(out, value),
            None => out.push(b'-'),
        }
        out.push(b'"');
    }
    out.push(b'\n');
}

/// Appends `n` in decimal. By hand rather than through `core::fmt`: a child formats a line per
/// request, and the formatting machinery's pages would be faulted in again by every child.
fn decimal(out: &mut impl LineBuffer, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

fn escape(out: &mut impl LineBuffer, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        match b {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(&[
                b'\\',
                b'x',
                HEX[(b >> 4) as usize],
                HEX[(b & 15) as usize],
            ]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_format_with_escapes() {
        let mut out = Vec::new();
        let entry = LogEntry {
            remote: Some("::ffff:127.0.0.1".parse().unwrap()),
            time: 1_795_341_600, // 2026-11-22T10:00:00Z
            date: None,
            request: Some(("GET", b"/a\"b", 1)),
            status: 200,
            bytes: 512,
            referer: None,
            user_agent: Some(b"x\\y\n\xff"),
        };
        format_line(&mut out, &entry);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "127.0.0.1 - - [22/Nov/2026:10:00:00 +0000] \"GET /a\\\"b HTTP/1.1\" 200 512 \"-\" \"x\\\\y\\x0A\\xFF\"\n"
        );
    }

    #[test]
    fn unparsed_request_and_empty_body() {
        let mut out = Vec::new();
        let entry = LogEntry {
            remote: None,
            time: 1_767_323_045, // 2026-01-02T03:04:05Z
            date: None,
            request: None,
            status: 400,
            bytes: 0,
            referer: None,
            user_agent: None,
        };
        format_line(&mut out, &entry);
        assert_eq!(
            out,
            b"- - - [02/Jan/2026:03:04:05 +0000] \"-\" 400 - \"-\" \"-\"\n"
        );
    }

    #[test]
    fn numbers_and_addresses_match_the_standard_formatter() {
        for n in [0, 7, 9, 10, 99, 100, 512, 4_294_967_296, u64::MAX] {
            let mut out = Vec::new();
            decimal(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
        for ip in [
            "0.0.0.0",
            "10.20.255.1",
            "2001:db8::1",
            "1111:2222:3333:4444:5555:6666:7777:8888",
            "::1",
            "::ffff:192.0.2.7",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            let mut out = Vec::new();
            let entry = LogEntry {
                remote: Some(ip),
                time: 0,
                date: None,
                request: Some(("GET", b"/", 0)),
                status: 304,
                bytes: 1,
                referer: None,
                user_agent: None,
            };
            format_line(&mut out, &entry);
            let want = format!(
                "{} - - [01/Jan/1970:00:00:00 +0000] \"GET / HTTP/1.0\" 304 1 \"-\" \"-\"\n",
                ip.to_canonical()
            );
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
    }
}
