//! Log formats parse; broken lines are malformed, never a panic.

use forkblog::stats::parse::{parse_line_detailed, unescape, ParseError};
use forkblog::stats::{parse_line, Filter, Tally};

#[test]
fn nginx_combined_default_parses() {
    let line = br#"93.184.216.34 - - [21/Nov/2026:06:25:24 +0100] "GET /posts/hello/ HTTP/2.0" 200 4821 "https://duckduckgo.com/" "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0""#;
    let parsed = parse_line(line).expect("nginx line parses");
    assert_eq!(parsed.target, b"/posts/hello/");
    assert_eq!(parsed.referer, Some(&b"https://duckduckgo.com/"[..]));
    assert_eq!(parsed.bytes, 4821);
}

#[test]
fn nginx_hex_escapes_parse() {
    let line = br#"1.2.3.4 - - [21/Nov/2026:06:27:12 +0100] "\x16\x03\x01\x00" 400 157 "-" "Mozilla/5.0 (\x22quoted\x22 bot/1.0)""#;
    let parsed = parse_line(line).expect("escaped request line parses");
    assert_eq!(parsed.status, 400);
    assert_eq!(
        unescape(parsed.user_agent.unwrap()),
        "Mozilla/5.0 (\"quoted\" bot/1.0)"
    );
}

#[test]
fn apache_common_and_combined_parse() {
    let common =
        br#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#;
    let parsed = parse_line(common).expect("common line parses");
    assert_eq!(parsed.user, b"frank");
    assert_eq!(parsed.user_agent, None);
    let combined = br#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#;
    assert!(parse_line(combined).is_some());
    let timeout = br#"::1 - - [10/Oct/2000:13:56:00 -0700] "-" 408 -"#;
    let parsed = parse_line(timeout).expect("a '-' request parses");
    assert_eq!(parsed.method, b"");
    assert_eq!(parsed.bytes, 0);
}

#[test]
fn escaped_quote_in_user_agent_parses() {
    let line = br#"192.0.2.9 - - [10/Oct/2026:13:57:02 -0700] "GET / HTTP/1.1" 200 9 "-" "Evil \"quoted\" \\back\\ agent""#;
    let parsed = parse_line(line).expect("escaped quote parses");
    assert_eq!(
        unescape(parsed.user_agent.unwrap()),
        r#"Evil "quoted" \back\ agent"#
    );
}

#[test]
fn truncated_and_garbage_lines_are_malformed() {
    let truncated = br#"203.0.113.8 - - [22/Nov/2026:10:00:01 +0000] "GET /posts/hel"#;
    assert_eq!(parse_line_detailed(truncated), Err(ParseError::Truncated));
    let mut tally = Tally::new(Filter::default());
    tally.add_line("t", 1, truncated);
    tally.add_line("t", 2, b"\x00\x01\xff\xfe garbage \x1b[31m");
    tally.add_line("t", 3, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
    assert_eq!(tally.malformed, 3);
    assert_eq!(tally.requests(), 0);
    let lines: Vec<u64> = tally.malformed_examples.iter().map(|m| m.line).collect();
    assert_eq!(lines, [1, 2, 3]);
}

#[test]
fn parse_line_never_panics() {
    // A deterministic stream of random and mutated lines: every prefix of a good line, and
    // every single-byte change of it, plus random bytes.
    let good: &[u8] = br#"127.0.0.1 - - [22/Nov/2026:10:00:00 +0000] "GET /a\"b HTTP/1.1" 200 5120 "https://e.com/" "Mozilla/5.0 \\x\x41""#;
    for end in 0..=good.len() {
        let _ = parse_line(&good[..end]);
    }
    let specials = [b'"', b'\\', b' ', b'[', b']', 0, 0xff, b'-', b'x'];
    for i in 0..good.len() {
        for &b in &specials {
            let mut line = good.to_vec();
            line[i] = b;
            let _ = parse_line(&line);
        }
    }
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = (state % 200) as usize;
        let line: Vec<u8> = (0..len)
            .map(|i| {
                let byte = (state >> (i % 8 * 8)) as u8;
                specials.get(byte as usize % 16).copied().unwrap_or(byte)
            })
            .collect();
        let _ = parse_line(&line);
        let _ = unescape(&line);
    }
}
