//! Parsing one access-log line of the Combined/Common Log Format family.
//!
//! Accepts forkblog's own log, nginx's `combined`, Apache's `combined`, `common` and
//! `vhost_combined` (a leading `host:port` field), lighttpd's default (the host where the ident
//! goes), an X-Forwarded-For list in place of the client (`1.2.3.4, 10.0.0.1 - - [...]`) and a
//! trailing quoted X-Forwarded-For field after the user agent (nginx `"$http_x_forwarded_for"`):
//!
//! ```text
//! 127.0.0.1 - - [22/Nov/2026:10:00:00 +0000] "GET /posts/hello/ HTTP/1.1" 200 5120 "https://example.com/" "Mozilla/5.0 ..."
//! 127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326
//! example.com:443 127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 2326 "-" "curl/8.5"
//! ```
//!
//! Caddy's JSON log is read by [`super::caddy`].
//!
//! Nothing is copied: every field of [`LogLine`] borrows from the input, and quoted fields keep
//! their escapes (`\"`, `\\`, `\xHH`); [`unescape`] decodes one when it is needed.

use memchr::memchr2;

/// One parsed access-log line; every slice borrows from the line given to [`parse_line`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLine<'a> {
    /// The client address (`%h`, `$remote_addr`): an IP address or a host name.
    pub client: &'a [u8],
    /// The identd user (`%l`), almost always `-`.
    pub ident: &'a [u8],
    /// The authenticated user (`%u`, `$remote_user`), `-` when none.
    pub user: &'a [u8],
    /// The text between the brackets, e.g. `22/Nov/2026:10:00:00 +0000`; checked by [`parse_line`].
    pub time: &'a [u8],
    /// The request line as logged, escapes kept (e.g. `GET /posts/ HTTP/1.1`, or `-`).
    pub request: &'a [u8],
    /// The method: the request line's first word (empty when the request line is empty or `-`).
    pub method: &'a [u8],
    /// The request target: the request line's second word, escapes kept (may be empty).
    pub target: &'a [u8],
    /// The HTTP status code.
    pub status: u16,
    /// Bytes sent in the body (`-` counts as 0).
    pub bytes: u64,
    /// The Referer header, escapes kept; `None` in Common Log Format.
    pub referer: Option<&'a [u8]>,
    /// The User-Agent header, escapes kept; `None` in Common Log Format.
    pub user_agent: Option<&'a [u8]>,
    /// The virtual host of Apache's `vhost_combined` (`%v:%p`), when the line has one.
    pub vhost: Option<&'a [u8]>,
    /// A quoted field after the user agent (nginx `"$http_x_forwarded_for"`), escapes kept.
    pub forwarded: Option<&'a [u8]>,
    /// True when the client field was an X-Forwarded-For list (`a, b`); `client` is its first.
    pub client_was_list: bool,
}

impl<'a> LogLine<'a> {
    /// The first address of the trailing X-Forwarded-For field, when it names one.
    pub fn forwarded_client(&self) -> Option<&'a [u8]> {
        let field = self.forwarded?;
        let first = field.split(|&b| b == b',').next()?;
        let first = first.trim_ascii();
        (!first.is_empty() && first != b"-" && printable(first)).then_some(first)
    }
}

impl LogLine<'_> {
    /// The date part of [`LogLine::time`], as written: `22/Nov/2026` (always 11 bytes).
    pub fn date_text(&self) -> &[u8] {
        &self.time[..11]
    }

    /// The path of the request target, without query string or fragment.
    pub fn path(&self) -> &[u8] {
        let end = memchr2(b'?', b'#', self.target).unwrap_or(self.target.len());
        &self.target[..end]
    }
}

/// Why a line could not be parsed; shown next to the line's number for malformed lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// The line ended before all the Common Log Format fields were read.
    Truncated,
    /// The client, ident or user field is missing or is not printable text.
    BadClient,
    /// The `[timestamp]` is missing or not in `dd/Mon/yyyy:HH:MM:SS +zzzz` form.
    BadTime,
    /// The quoted request line is missing or not closed.
    BadRequest,
    /// The status is not a three-digit number.
    BadStatus,
    /// The byte count is neither a number nor `-`.
    BadBytes,
    /// The referer or user agent is not a closed quoted string.
    BadQuoted,
    /// A line starting with `{` is not a Caddy JSON access-log entry.
    BadJson,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ParseError::Truncated => "line ends early",
            ParseError::BadClient => "bad client/ident/user field",
            ParseError::BadTime => "bad [timestamp]",
            ParseError::BadRequest => "bad quoted request line",
            ParseError::BadStatus => "bad status code",
            ParseError::BadBytes => "bad byte count",
            ParseError::BadQuoted => "bad quoted referer or user agent",
            ParseError::BadJson => "JSON, but not a Caddy access-log entry",
        })
    }
}

impl std::error::Error for ParseError {}

/// Parses one log line (without its line ending; a trailing `\r` is ignored).
///
/// Returns `None` for anything that is not a Combined or Common Log Format line. Never panics,
/// whatever the input; see [`parse_line_detailed`] for the reason a line was rejected.
pub fn parse_line(line: &[u8]) -> Option<LogLine<'_>> {
    parse_line_detailed(line).ok()
}

/// Parses one log line like [`parse_line`], telling why a line was rejected.
pub fn parse_line_detailed(line: &[u8]) -> Result<LogLine<'_>, ParseError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut cur = Cursor { rest: line };

    let mut client = cur.word().ok_or(ParseError::Truncated)?;
    // An X-Forwarded-For list logged as the client: `1.2.3.4, 10.0.0.1 - - [...]`.
    let client_was_list = client.ends_with(b",");
    if client_was_list {
        let mut word = client;
        while word.ends_with(b",") {
            word = cur.word().ok_or(ParseError::Truncated)?;
        }
        client = &client[..client.len() - 1];
    }
    let mut ident = cur.word().ok_or(ParseError::Truncated)?;
    let mut user = cur.word().ok_or(ParseError::Truncated)?;
    let mut vhost = None;
    cur.skip_spaces();
    if !cur.rest.is_empty() && !cur.rest.starts_with(b"[") && client.contains(&b':') {
        // Apache `vhost_combined`: `%v:%p %h %l %u [...]`.
        vhost = Some(client);
        client = ident;
        ident = user;
        user = cur.word().ok_or(ParseError::Truncated)?;
    }
    if !printable(client) || !printable(ident) || !printable(user) {
        return Err(ParseError::BadClient);
    }

    let time = cur
        .bracketed()
        .ok_or_else(|| cur.err(ParseError::BadTime))?;
    if !valid_time(time) {
        return Err(ParseError::BadTime);
    }

    let request = cur.quoted(ParseError::BadRequest)?;
    let (method, target) = split_request(request);

    let status = cur.word().ok_or(ParseError::Truncated)?;
    let status = parse_status(status).ok_or(ParseError::BadStatus)?;

    let bytes = cur.word().ok_or(ParseError::Truncated)?;
    let bytes = parse_bytes(bytes).ok_or(ParseError::BadBytes)?;

    let (referer, user_agent) = if cur.rest.is_empty() {
        (None, None)
    } else {
        let referer = cur.quoted(ParseError::BadQuoted)?;
        let user_agent = cur.quoted(ParseError::BadQuoted)?;
        (Some(referer), Some(user_agent))
    };
    // A quoted field right after the user agent is taken for X-Forwarded-For (nginx's common
    // `combined` + `"$http_x_forwarded_for"`). Anything else after it (`$request_time`, ...) is
    // allowed and ignored: people often append fields to `combined`.
    cur.skip_spaces();
    let forwarded = if cur.rest.starts_with(b"\"") {
        cur.quoted(ParseError::BadQuoted).ok()
    } else {
        None
    };

    Ok(LogLine {
        client,
        ident,
        user,
        time,
        request,
        method,
        target,
        status,
        bytes,
        referer,
        user_agent,
        vhost,
        forwarded,
        client_was_list,
    })
}

/// A position in the line being parsed.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    /// The error for a missing field: `Truncated` when the line simply ended.
    fn err(&self, otherwise: ParseError) -> ParseError {
        if self.rest.is_empty() {
            ParseError::Truncated
        } else {
            otherwise
        }
    }

    /// Skips single spaces before a field (tolerating runs of them).
    fn skip_spaces(&mut self) {
        while let [b' ', rest @ ..] = self.rest {
            self.rest = rest;
        }
    }

    /// A space-delimited word, or `None` at the end of the line.
    fn word(&mut self) -> Option<&'a [u8]> {
        self.skip_spaces();
        if self.rest.is_empty() {
            return None;
        }
        let end = memchr::memchr(b' ', self.rest).unwrap_or(self.rest.len());
        let (word, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(word)
    }

    /// The text between `[` and `]`.
    fn bracketed(&mut self) -> Option<&'a [u8]> {
        self.skip_spaces();
        let inner = self.rest.strip_prefix(b"[")?;
        let end = memchr::memchr(b']', inner)?;
        self.rest = &inner[end + 1..];
        Some(&inner[..end])
    }

    /// The text between double quotes, escapes kept; the closing quote is the first `"` not
    /// escaped by a backslash. The field must be followed by a space or the end of the line.
    /// `Truncated` when the line ends inside the field, `otherwise` for any other fault.
    fn quoted(&mut self, otherwise: ParseError) -> Result<&'a [u8], ParseError> {
        self.skip_spaces();
        if self.rest.is_empty() {
            return Err(ParseError::Truncated);
        }
        let inner = self.rest.strip_prefix(b"\"").ok_or(otherwise)?;
        let mut i = 0;
        loop {
            let rest = inner.get(i..).ok_or(ParseError::Truncated)?;
            let found = i + memchr2(b'"', b'\\', rest).ok_or(ParseError::Truncated)?;
            if inner[found] == b'\\' {
                i = found + 2; // skip the escaped byte, whatever it is
                continue;
            }
            let after = &inner[found + 1..];
            if !after.is_empty() && after[0] != b' ' {
                return Err(otherwise);
            }
            self.rest = after;
            return Ok(&inner[..found]);
        }
    }
}

/// True when every byte is printable ASCII or UTF-8 (no controls, no spaces, no quotes).
fn printable(field: &[u8]) -> bool {
    !field.is_empty() && field.iter().all(|&b| b > b' ' && b != 0x7f && b != b'"')
}

/// Checks `dd/Mon/yyyy:HH:MM:SS +zzzz` shape (digits where digits go, a known month).
fn valid_time(time: &[u8]) -> bool {
    let Ok(t) = <&[u8; 26]>::try_from(time) else {
        return false;
    };
    let digits = [0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 18, 19, 22, 23, 24, 25];
    digits.iter().all(|&i| t[i].is_ascii_digit())
        && t[2] == b'/'
        && t[6] == b'/'
        && t[11] == b':'
        && t[14] == b':'
        && t[17] == b':'
        && t[20] == b' '
        && (t[21] == b'+' || t[21] == b'-')
        && month_number(&t[3..6]).is_some()
}

/// The month number (1-12) for an English three-letter month abbreviation.
pub(crate) fn month_number(name: &[u8]) -> Option<i8> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let index = MONTHS.iter().position(|m| m.as_slice() == name)?;
    i8::try_from(index + 1).ok()
}

/// Splits a request line into method and target (both may be empty).
fn split_request(request: &[u8]) -> (&[u8], &[u8]) {
    let mut words = request.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let method = words.next().unwrap_or_default();
    if method == b"-" {
        return (b"", b"");
    }
    let target = words.next().unwrap_or_default();
    (method, target)
}

/// A three-digit status code.
fn parse_status(word: &[u8]) -> Option<u16> {
    match word {
        [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9'] => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

/// A byte count: digits, or `-` for zero.
fn parse_bytes(word: &[u8]) -> Option<u64> {
    if word == b"-" {
        return Some(0);
    }
    if word.is_empty() || word.len() > 19 {
        return None;
    }
    word.iter().try_fold(0u64, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
    })
}

/// Decodes a quoted field's escapes (`\"`, `\\`, `\xHH`, and `\n`, `\t`, `\r`) into text,
/// replacing bytes that are not UTF-8 with U+FFFD.
pub fn unescape(field: &[u8]) -> String {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let b = field[i];
        if b != b'\\' || i + 1 >= field.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let next = field[i + 1];
        match next {
            b'x' => match field.get(i + 2..i + 4).and_then(hex_byte) {
                Some(byte) => {
                    out.push(byte);
                    i += 4;
                }
                None => {
                    out.extend_from_slice(b"\\x");
                    i += 2;
                }
            },
            b'n' => {
                out.push(b'\n');
                i += 2;
            }
            b't' => {
                out.push(b'\t');
                i += 2;
            }
            b'r' => {
                out.push(b'\r');
                i += 2;
            }
            _ => {
                out.push(next);
                i += 2;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(text) => text,
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    }
}

/// Two hex digits as a byte.
fn hex_byte(digits: &[u8]) -> Option<u8> {
    let text = std::str::from_utf8(digits).ok()?;
    u8::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forkblog_line() {
        let line = br#"127.0.0.1 - - [22/Nov/2026:10:00:00 +0000] "GET /posts/hello/?x=1 HTTP/1.1" 200 5120 "https://example.com/" "Mozilla/5.0 (X11)""#;
        let parsed = parse_line(line).unwrap();
        assert_eq!(parsed.client, b"127.0.0.1");
        assert_eq!(parsed.method, b"GET");
        assert_eq!(parsed.path(), b"/posts/hello/");
        assert_eq!(parsed.status, 200);
        assert_eq!(parsed.bytes, 5120);
        assert_eq!(parsed.user_agent, Some(&b"Mozilla/5.0 (X11)"[..]));
        assert_eq!(parsed.date_text(), b"22/Nov/2026");
    }

    #[test]
    fn escaped_quote_and_backslash() {
        let line = br#"::1 - - [22/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 404 - "-" "Evil \"quoted\\\" agent""#;
        let parsed = parse_line(line).unwrap();
        let ua = parsed.user_agent.unwrap();
        assert_eq!(unescape(ua), r#"Evil "quoted\" agent"#);
        assert_eq!(parsed.bytes, 0);
    }

    #[test]
    fn hex_escapes_decode() {
        assert_eq!(unescape(br"a\x41\xzz"), "aA\\xzz");
        assert_eq!(unescape(br"\xff"), "\u{fffd}");
        assert_eq!(unescape(b"trailing\\"), "trailing\\");
    }

    #[test]
    fn vhost_and_forwarded_fields() {
        let line = br#"blog.example:443 192.0.2.1 - - [22/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8""#;
        let parsed = parse_line(line).unwrap();
        assert_eq!(parsed.vhost, Some(&b"blog.example:443"[..]));
        assert_eq!(parsed.client, b"192.0.2.1");
        let line = br#"203.0.113.9, 10.0.0.2 - - [22/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8""#;
        let parsed = parse_line(line).unwrap();
        assert!(parsed.client_was_list);
        assert_eq!(parsed.client, b"203.0.113.9");
        let line = br#"10.0.0.2 - - [22/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8" "203.0.113.9, 10.0.0.1""#;
        let parsed = parse_line(line).unwrap();
        assert_eq!(parsed.forwarded_client(), Some(&b"203.0.113.9"[..]));
        let ipv6 = br#"::1 - - [22/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5"#;
        assert_eq!(parse_line(ipv6).unwrap().vhost, None);
    }

    #[test]
    fn rejects_bad_lines() {
        assert_eq!(
            parse_line_detailed(b"1.2.3.4 - - [22/Nov/2026:10:00:00 +0000] \"GET / HT"),
            Err(ParseError::Truncated)
        );
        assert!(parse_line(b"").is_none());
        assert!(parse_line(b"\x00\xff\x16\x03\x01").is_none());
        assert!(parse_line(b"1 - - [22/Foo/2026:10:00:00 +0000] \"GET /\" 200 1").is_none());
        assert!(parse_line(b"1 - - [22/Nov/2026:10:00:00 +0000] \"GET /\" 20x 1").is_none());
    }
}
