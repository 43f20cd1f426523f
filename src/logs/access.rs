//! Combined Log Format lines and the O_APPEND file they go to.
//!
//! Each child formats its line into a reused buffer and writes it with one `write()` to a file
//! opened with `O_APPEND`: the kernel appends each such write whole, so lines from concurrent
//! children never interleave.

use std::fs::{File, OpenOptions};
use std::io;
use std::net::IpAddr;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

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

impl AccessLog {
    /// Opens `spec`: `-` for standard error, otherwise a file created if missing (mode 0640).
    pub fn open(spec: &str) -> io::Result<AccessLog> {
        if spec == "-" {
            return Ok(AccessLog::Stderr(io::stderr()));
        }
        let path = PathBuf::from(spec);
        let file = open_append(&path)?;
        Ok(AccessLog::File { path, file })
    }

    /// Adopts an already open log file (handed across a re-exec) that was opened from `spec`.
    pub fn adopt(spec: &str, file: File) -> AccessLog {
        if spec == "-" {
            return AccessLog::Stderr(io::stderr());
        }
        AccessLog::File {
            path: PathBuf::from(spec),
            file,
        }
    }

    /// Reopens the file at its path (after logrotate moved it). On failure the old file stays.
    pub fn reopen(&mut self) -> io::Result<()> {
        if let AccessLog::File { path, file } = self {
            *file = open_append(path)?;
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

    /// Appends one complete line with a single `write()`.
    pub fn write_line(fd: BorrowedFd<'_>, line: &[u8]) {
        // A short write to a regular file only happens when the disk is full; the line is
        // dropped rather than retried in pieces, which could interleave with other children.
        let _ = nix::unistd::write(fd, line);
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

/// Formats `entry` as one Combined Log Format line, newline included, into `out` (cleared
/// first). Quoted fields escape `"` and `\` with a backslash and every byte outside printable
/// ASCII as `\xHH`, as nginx does, so a hostile header can neither break the line nor forge one.
pub fn format_line(out: &mut Vec<u8>, entry: &LogEntry<'_>) {
    use std::io::Write;
    out.clear();
    match entry.remote {
        Some(ip) => {
            let _ = write!(out, "{}", ip.to_canonical());
        }
        None => out.push(b'-'),
    }
    out.extend_from_slice(b" - - [");
    crate::clock::clf_date(out, entry.time);
    out.extend_from_slice(b"] \"");
    match entry.request {
        Some((method, target, minor)) => {
            escape(out, method.as_bytes());
            out.push(b' ');
            escape(out, target);
            let _ = write!(out, " HTTP/1.{minor}");
        }
        None => out.push(b'-'),
    }
    let _ = write!(out, "\" {} ", entry.status);
    if entry.bytes == 0 {
        out.push(b'-');
    } else {
        let _ = write!(out, "{}", entry.bytes);
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

fn escape(out: &mut Vec<u8>, bytes: &[u8]) {
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
}
