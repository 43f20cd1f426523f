//! Opening log sources (files, gzip-rotated files, stdin) and splitting them into lines.

use flate2::bufread::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

/// Read buffer size: large enough that splitting lines costs little per line.
const BUFFER: usize = 256 * 1024;

/// Lines longer than this are malformed; reading skips the rest instead of growing a buffer.
pub const MAX_LINE: usize = 64 * 1024;

/// The gzip magic bytes: compressed input is found by content, not by file name.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Opens a log source: `-` is standard input, anything else a file path. Gzip input (by its
/// magic bytes) is decompressed, including concatenated members as `logrotate` may write.
pub fn open(name: &str) -> io::Result<Box<dyn BufRead>> {
    if name == "-" {
        return wrap(BufReader::with_capacity(BUFFER, io::stdin().lock()));
    }
    let file = File::open(Path::new(name))?;
    if file.metadata()?.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "is a directory",
        ));
    }
    wrap(BufReader::with_capacity(BUFFER, file))
}

/// Wraps a buffered reader in a gzip decoder when its first bytes are gzip's magic.
fn wrap<R: BufRead + 'static>(mut reader: R) -> io::Result<Box<dyn BufRead>> {
    let head = reader.fill_buf()?;
    if head.starts_with(&GZIP_MAGIC) {
        Ok(Box::new(BufReader::with_capacity(
            BUFFER,
            MultiGzDecoder::new(reader),
        )))
    } else {
        Ok(Box::new(reader))
    }
}

/// Calls `each(line)` for every line of `reader`, without its `\n`, and returns the number of
/// lines. Lines are handed out straight from the read buffer when they fit in it; a line longer
/// than [`MAX_LINE`] is cut there (the rest is skipped), so memory stays bounded on any input.
pub fn for_each_line(reader: &mut dyn BufRead, mut each: impl FnMut(&[u8])) -> io::Result<u64> {
    for_each_line_ended(reader, |line, _| each(line))
}

/// Like [`for_each_line`], telling `each` whether the line ended with `\n` (only the last line
/// of the input may not: a log still being written ends mid-line).
pub fn for_each_line_ended(
    reader: &mut dyn BufRead,
    mut each: impl FnMut(&[u8], bool),
) -> io::Result<u64> {
    let mut carry: Vec<u8> = Vec::new();
    let mut skipping = false;
    let mut lines = 0u64;
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        if buf.is_empty() {
            if !carry.is_empty() || skipping {
                lines += 1;
                each(&carry, false);
            }
            return Ok(lines);
        }
        let mut start = 0;
        let len = buf.len();
        while let Some(offset) = memchr::memchr(b'\n', &buf[start..]) {
            let end = start + offset;
            lines += 1;
            if carry.is_empty() && !skipping {
                each(&buf[start..end], true);
            } else {
                append_capped(&mut carry, &buf[start..end]);
                each(&carry, true);
                carry.clear();
                skipping = false;
            }
            start = end + 1;
        }
        if start < len {
            let rest = &buf[start..];
            skipping |= append_capped(&mut carry, rest);
        }
        reader.consume(len);
    }
}

/// Appends to `carry` up to [`MAX_LINE`] bytes in all; true when some bytes were dropped.
fn append_capped(carry: &mut Vec<u8>, bytes: &[u8]) -> bool {
    let room = MAX_LINE.saturating_sub(carry.len());
    let take = room.min(bytes.len());
    carry.extend_from_slice(&bytes[..take]);
    take < bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn lines_of(data: &[u8], capacity: usize) -> Vec<Vec<u8>> {
        let mut reader: Box<dyn BufRead> = Box::new(BufReader::with_capacity(
            capacity,
            Cursor::new(data.to_vec()),
        ));
        let mut out = Vec::new();
        let n = for_each_line(&mut *reader, |l| out.push(l.to_vec())).unwrap();
        assert_eq!(n as usize, out.len());
        out
    }

    #[test]
    fn splits_lines_across_buffer_edges() {
        let data = b"one\ntwo two\n\nthree";
        for capacity in [1, 2, 3, 5, 64] {
            assert_eq!(
                lines_of(data, capacity),
                vec![
                    b"one".to_vec(),
                    b"two two".to_vec(),
                    vec![],
                    b"three".to_vec()
                ]
            );
        }
    }

    #[test]
    fn caps_long_lines() {
        let mut data = vec![b'a'; MAX_LINE * 3];
        data.extend_from_slice(b"\nshort\n");
        let lines = lines_of(&data, 4096);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), MAX_LINE);
        assert_eq!(lines[1], b"short");
    }
}
