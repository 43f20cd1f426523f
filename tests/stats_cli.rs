//! End to end: the real `forkblog stats` binary on the fixtures in tests/data/stats.

mod common;

use common::stats::{class_requests, json, stats, DATA};

/// Well-formed lines in a file, counted independently of the binary.
fn well_formed(name: &str) -> u64 {
    let text = std::fs::read(format!("{DATA}/{name}")).unwrap();
    text.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter(|l| forkblog::stats::parse_line(l).is_some())
        .count() as u64
}

#[test]
fn json_totals_equal_well_formed_lines() {
    let files = [
        "forkblog.log",
        "nginx_combined.log",
        "apache_common.log",
        "apache_combined.log",
        "malformed.log",
    ];
    let v = json(&files, None);
    let expected: u64 = files.iter().map(|f| well_formed(f)).sum();
    assert_eq!(v["requests"], expected);
    let by_class: u64 = v["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(by_class, expected);
    let per_day: u64 = v["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["total"].as_u64().unwrap())
        .sum();
    assert_eq!(per_day, expected);
    assert_eq!(v["malformed"], 2);
    assert_eq!(v["lines"].as_u64().unwrap(), expected + 2);
    let examples = v["malformed_examples"].as_array().unwrap();
    assert_eq!(examples[0]["source"], "malformed.log");
    assert_eq!(examples[0]["line"], 2);
    assert_eq!(examples[1]["line"], 3);
}

#[test]
fn gzip_input_is_read_by_content() {
    let v = json(&["forkblog.log.2.gz"], None);
    assert_eq!(v["requests"], 120);
    assert_eq!(v["malformed"], 0);
    // The same bytes under a name that does not say gzip.
    let tmp = std::env::temp_dir().join(format!("forkblog-stats-gz-{}", std::process::id()));
    std::fs::copy(format!("{DATA}/forkblog.log.2.gz"), &tmp).unwrap();
    let v2 = json(&[tmp.to_str().unwrap()], None);
    std::fs::remove_file(&tmp).ok();
    assert_eq!(v2["requests"], 120);
}

#[test]
fn stdin_works_plain_and_gzipped() {
    let plain = std::fs::read(format!("{DATA}/forkblog.log")).unwrap();
    assert_eq!(json(&[], Some(&plain))["requests"], 120);
    assert_eq!(json(&["-"], Some(&plain))["requests"], 120);
    let gz = std::fs::read(format!("{DATA}/forkblog.log.2.gz")).unwrap();
    assert_eq!(json(&["-"], Some(&gz))["requests"], 120);
}

#[test]
fn classes_and_filters() {
    // The fixture's crawlers come from documentation addresses: with the shipped ranges the
    // ones whose operators publish ranges are impostors.
    let checked = json(&["forkblog.log", "forkblog.log.2.gz"], None);
    assert!(class_requests(&checked, "impostor") > 0);
    // Without ranges every claim stays unchecked, so every class has traffic.
    let unchecked = ["--crawler-ranges", "no-crawler-ranges.txt"];
    let all = json(
        &[&unchecked[..], &["forkblog.log", "forkblog.log.2.gz"]].concat(),
        None,
    );
    assert_eq!(class_requests(&all, "impostor"), 0);
    for key in [
        "human",
        "search",
        "ai",
        "social",
        "feed",
        "monitor",
        "scanner",
        "other-bot",
        "unknown",
    ] {
        assert!(class_requests(&all, key) > 0, "fixture has {key} traffic");
    }
    let ai = json(
        &[
            &unchecked[..],
            &["--class", "ai", "forkblog.log", "forkblog.log.2.gz"],
        ]
        .concat(),
        None,
    );
    assert_eq!(ai["requests"].as_u64().unwrap(), class_requests(&all, "ai"));
    let bots: Vec<&str> = ai["top_bots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert!(
        bots.contains(&"GPTBot") && bots.contains(&"ClaudeBot"),
        "{bots:?}"
    );
    let day = json(
        &[
            "--since",
            "2026-11-21",
            "--until",
            "2026-11-21",
            "forkblog.log",
            "forkblog.log.2.gz",
        ],
        None,
    );
    assert_eq!(day["days"].as_array().unwrap().len(), 1);
    assert_eq!(day["days"][0]["date"], "2026-11-21");
    assert_eq!(
        day["requests"].as_u64().unwrap() + day["filtered_out"].as_u64().unwrap(),
        240
    );
}

#[test]
fn terminal_summary_names_classes_and_bots() {
    let out = stats(&["forkblog.log", "malformed.log"], None);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "By class",
        "AI crawler",
        "GPTBot",
        "What people read (pages)",
        "Requests per day",
        "malformed.log:2",
    ] {
        assert!(text.contains(needle), "summary lacks {needle:?}:\n{text}");
    }
}

#[test]
fn html_report_is_self_contained_with_a_chart_element_per_class() {
    let html = std::env::temp_dir().join(format!("forkblog-stats-{}.html", std::process::id()));
    let out = stats(
        &[
            "--json",
            "--html",
            html.to_str().unwrap(),
            "forkblog.log",
            "forkblog.log.2.gz",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    std::fs::remove_file(&html).ok();
    assert!(page.starts_with("<!doctype html>"));
    for forbidden in [
        "<script", "<link", "src=", "url(", "@import", "http://", "https://",
    ] {
        assert!(
            !page.contains(forbidden),
            "page refers outside itself: {forbidden}"
        );
    }
    for id in ["id=\"days\"", "id=\"share\"", "id=\"bots\""] {
        assert!(page.contains(id), "page lacks chart {id}");
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for class in v["classes"].as_array().unwrap() {
        let key = class["class"].as_str().unwrap();
        let marker = format!("class=\"seg\" data-class=\"{key}\"");
        let slice = format!("class=\"slice\" data-class=\"{key}\"");
        let present = class["requests"].as_u64().unwrap() > 0;
        assert_eq!(page.contains(&marker), present, "day bars for {key}");
        assert_eq!(page.contains(&slice), present, "share slice for {key}");
    }
}

#[test]
fn usage_errors_and_unreadable_files() {
    let help = stats(&["--help"], None);
    assert_eq!(help.status.code(), Some(0));
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("USAGE:\n    forkblog stats [OPTIONS] [FILE...]"));
    // The log formats it reads are said, as the report names them.
    assert!(
        help.contains("vhost_combined") && help.contains("Caddy JSON"),
        "{help}"
    );

    let bad = stats(&["--no-such-flag"], None);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.starts_with("forkblog stats: unknown option '--no-such-flag'"),
        "{err}"
    );
    assert!(err.contains("USAGE:\n    forkblog stats"), "{err}");
    assert!(bad.stdout.is_empty());

    let backwards = stats(&["--since", "2026-02-02", "--until", "2026-01-01"], None);
    assert_eq!(backwards.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&backwards.stderr)
        .contains("--since 2026-02-02 is after --until 2026-01-01"));
    assert!(backwards.stdout.is_empty());

    let missing = stats(&["forkblog.log", "no-such-file.log"], None);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no-such-file.log"));

    let corrupt =
        std::env::temp_dir().join(format!("forkblog-stats-corrupt-{}.gz", std::process::id()));
    let mut bytes = std::fs::read(format!("{DATA}/forkblog.log.2.gz")).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&corrupt, bytes).unwrap();
    let out = stats(&[corrupt.to_str().unwrap()], None);
    std::fs::remove_file(&corrupt).ok();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("forkblog-stats-corrupt"));
}
