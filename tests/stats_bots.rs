//! What a blogger acts on: the headline counts every request, probes are scanners whatever the
//! agent claims, pages apart from assets, impostors apart from verified crawlers, robots.txt
//! lines, the heaviest clients and feed subscribers. Logs are built here and fed on stdin.

mod common;

use common::stats::{class_requests, json, stats};

/// One Combined Log Format line.
fn line(client: &str, path: &str, status: u16, bytes: u64, agent: &str) -> String {
    format!(
        "{client} - - [22/Nov/2026:10:00:00 +0000] \"GET {path} HTTP/1.1\" {status} {bytes} \"-\" \"{agent}\"\n"
    )
}

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

#[test]
fn requests_with_no_agent_are_a_headline_share_of_their_own() {
    let mut log = String::new();
    for i in 0..9 {
        log += &line(&format!("203.0.113.{i}"), "/", 400, 0, "-");
    }
    log += &line("198.51.100.1", "/", 200, 10, FIREFOX);
    let v = json(&[], Some(log.as_bytes()));
    assert_eq!(v["no_agent_requests"], 9);
    assert_eq!(v["no_agent_percent"], 90.0);
    assert_eq!(v["bot_percent"], 0.0);
    let out = stats(&[], Some(log.as_bytes()));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("90.0% with no user agent"), "{text}");
}

#[test]
fn a_bot_named_agent_probing_for_weak_spots_is_a_scanner() {
    let googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    let gpt = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)";
    let log = line("192.0.2.1", "/wp-login.php", 404, 0, googlebot)
        + &line("192.0.2.2", "/.env", 404, 0, gpt)
        + &line("192.0.2.3", "/posts/a/", 200, 10, gpt);
    let v = json(&[], Some(log.as_bytes()));
    assert_eq!(class_requests(&v, "scanner"), 2);
    assert_eq!(class_requests(&v, "ai"), 1);
}

#[test]
fn what_people_read_lists_pages_and_counts_assets_apart() {
    let mut log = String::new();
    for path in [
        "/favicon.ico",
        "/css/site.css",
        "/css/print.css",
        "/img/a.png",
    ] {
        for _ in 0..5 {
            log += &line("198.51.100.1", path, 200, 100, FIREFOX);
        }
    }
    log += &line("198.51.100.1", "/posts/hello/", 200, 1000, FIREFOX);
    log += &line("198.51.100.1", "/about.html", 200, 1000, FIREFOX);
    log += &line("198.51.100.1", "/missing/", 404, 10, FIREFOX);
    let v = json(&[], Some(log.as_bytes()));
    let pages: Vec<&str> = v["top_human_paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(pages, ["/about.html", "/posts/hello/"]);
    assert_eq!(v["human_assets"]["requests"], 20);
    assert_eq!(v["human_assets"]["bytes"], 2000);
}
