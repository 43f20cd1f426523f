//! Every log format `forkblog stats` reads, through the real binary, on fixture lines written for
//! this project (tests/data/stats): the format it reports, the client it counts, and the exit
//! status when no line is understood.

mod common;

use common::stats::{class_requests, json, stats, DATA};

/// The source's format key, well-formed lines and malformed lines.
fn read_as(v: &serde_json::Value) -> (String, u64, u64) {
    let source = &v["sources"][0];
    (
        source["format"].as_str().unwrap_or("null").to_string(),
        source["well_formed"].as_u64().unwrap(),
        source["malformed"].as_u64().unwrap(),
    )
}

#[test]
fn each_format_is_told_and_read_whole() {
    let cases = [
        ("nginx_combined.log", "combined"),
        ("apache_combined.log", "combined"),
        ("forkblog.log", "combined"),
        ("forkblog.log.2.gz", "combined"),
        ("apache_common.log", "common"),
        ("apache_vhost_combined.log", "vhost-combined"),
        ("apache_forwarded_client.log", "combined-forwarded-client"),
        ("nginx_forwarded.log", "combined-forwarded"),
        ("lighttpd.log", "lighttpd"),
        ("caddy.log", "caddy-json"),
    ];
    for (file, format) in cases {
        let v = json(&[file], None);
        let (seen, well_formed, malformed) = read_as(&v);
        assert_eq!(seen, format, "{file}");
        assert_eq!(malformed, 0, "{file}: {}", v["malformed_examples"]);
        assert!(well_formed >= 2, "{file}");
        assert_eq!(v["requests"].as_u64(), Some(well_formed), "{file}");
        assert_eq!(v["version"], 2);
    }
}

#[test]
fn caddy_unfinished_last_line_is_partial_not_malformed() {
    let v = json(&["caddy.log"], None);
    assert_eq!(v["sources"][0]["partial_lines"], 1);
    assert_eq!(v["partial_lines"], 1);
    assert_eq!(v["malformed"], 0);
    assert_eq!(v["requests"], 3);
    // Googlebot, and curl asking for /.env counted as a scanner.
    assert_eq!(v["bot_requests"], 2);
}

#[test]
fn forwarded_client_is_counted_unless_peer_is_asked_for() {
    // Three requests through one proxy (10.0.0.2) from three clients.
    let auto = json(&["nginx_forwarded.log"], None);
    assert_eq!(auto["distinct_clients"], 3);
    let forwarded = json(&["--client", "forwarded", "nginx_forwarded.log"], None);
    assert_eq!(forwarded["distinct_clients"], 3);
    let peer = json(&["--client", "peer", "nginx_forwarded.log"], None);
    assert_eq!(peer["distinct_clients"], 1);
    let caddy_peer = json(&["--client", "peer", "caddy.log"], None);
    assert_eq!(caddy_peer["distinct_clients"], 1);
    let caddy_auto = json(&["caddy.log"], None);
    assert_eq!(caddy_auto["distinct_clients"], 3);
}

#[test]
fn agents_from_the_issue_are_counted_right() {
    // CUBOT phone and Outlook following a link: people; Miniflux: a feed reader.
    let v = json(&["apache_forwarded_client.log"], None);
    assert_eq!(class_requests(&v, "human"), 2);
    assert_eq!(class_requests(&v, "feed"), 1);
    // Lower-case copies of known bots.
    let v = json(&["apache_vhost_combined.log", "nginx_forwarded.log"], None);
    assert_eq!(v["bot_requests"], 3);
}

#[test]
fn a_file_with_no_line_understood_exits_3_naming_the_formats() {
    let out = stats(&["unknown_format.log"], None);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown_format.log"), "{err}");
    for label in ["combined", "vhost_combined", "lighttpd", "Caddy JSON"] {
        assert!(err.contains(label), "{label} not named in: {err}");
    }
    // Alongside a good file it still fails, and still reports the good one.
    let out = stats(&["--json", "lighttpd.log", "unknown_format.log"], None);
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["requests"], 2);
}

#[test]
fn terminal_fits_80_columns_with_separators_and_names_stdin() {
    let log = std::fs::read(format!("{DATA}/nginx_combined.log")).unwrap();
    let mut big = Vec::new();
    for _ in 0..400 {
        big.extend_from_slice(&log);
    }
    let out = stats(&["-"], Some(&big));
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "{} wide: {line}", line.len());
    }
    assert!(text.contains("stdin: combined"), "{text}");
    assert!(text.contains("1,"), "no thousands separator in:\n{text}");
}
