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
    // 20.171.206.9 is in OpenAI's published GPTBot ranges, so its page request stays AI.
    let log = line("192.0.2.1", "/wp-login.php", 404, 0, googlebot)
        + &line("192.0.2.2", "/.env", 404, 0, gpt)
        + &line("20.171.206.9", "/posts/a/", 200, 10, gpt);
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

const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// The rows of `top_bots` named `name`, as (class, requests, verified requests).
fn bot_rows(v: &serde_json::Value, name: &str) -> Vec<(String, u64, u64)> {
    v["top_bots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["name"] == name)
        .map(|b| {
            (
                b["class"].as_str().unwrap().to_string(),
                b["requests"].as_u64().unwrap(),
                b["verified_requests"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn googlebot_from_its_range_is_verified_and_from_elsewhere_an_impostor() {
    // 66.249.66.1 is in Google's published googlebot.json (shipped); 203.0.113.7 is not.
    let mut log = line("66.249.66.1", "/posts/a/", 200, 500, GOOGLEBOT);
    for path in ["/", "/posts/a/", "/posts/b/"] {
        log += &line("203.0.113.7", path, 200, 100, GOOGLEBOT);
    }
    let v = json(&[], Some(log.as_bytes()));
    let mut rows = bot_rows(&v, "Googlebot");
    rows.sort();
    assert_eq!(
        rows,
        [("impostor".to_string(), 3, 0), ("search".to_string(), 1, 1)]
    );
    assert_eq!(class_requests(&v, "impostor"), 3);
    assert_eq!(class_requests(&v, "search"), 1);
    let first = &v["top_clients"][0];
    assert_eq!(first["address"], "203.0.113.7");
    assert_eq!(first["impostor"], true);
    assert_eq!(v["top_clients"][1]["impostor"], false);
    let text = String::from_utf8_lossy(&stats(&[], Some(log.as_bytes())).stdout).into_owned();
    assert!(text.contains("Googlebot (verified)"), "{text}");
    assert!(text.contains("Impostor"), "{text}");
}

#[test]
fn a_ranges_file_given_replaces_the_shipped_one() {
    let log = line("192.0.2.10", "/", 200, 1, GOOGLEBOT)
        + &line("2001:db8:1::5", "/", 200, 1, GOOGLEBOT)
        + &line("66.249.66.1", "/", 200, 1, GOOGLEBOT)
        // Only DNS could check YandexBot, and DNS is not asked for: unchecked, not an impostor.
        + &line("203.0.113.9", "/", 200, 1, "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)");
    let v = json(
        &["--crawler-ranges", "crawler-ranges.txt"],
        Some(log.as_bytes()),
    );
    let mut rows = bot_rows(&v, "Googlebot");
    rows.sort();
    assert_eq!(
        rows,
        [("impostor".to_string(), 1, 0), ("search".to_string(), 2, 2)]
    );
    assert_eq!(bot_rows(&v, "YandexBot"), [("search".to_string(), 1, 0)]);

    let out = stats(
        &["--crawler-ranges", "apache_common.log"],
        Some(log.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("crawler ranges apache_common.log: line 1"),
        "{err}"
    );
}

#[test]
fn robots_lists_each_crawler_seen_with_its_token_and_share() {
    let agents = [
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
        "CCBot/2.0 (https://commoncrawl.org/faq/)",
    ];
    // Each from an address its operator publishes (ClaudeBot's publishes none).
    let addresses = ["20.171.206.9", "198.51.100.9", "18.97.14.81"];
    let mut log = String::new();
    for (i, agent) in agents.iter().enumerate() {
        for _ in 0..=i {
            log += &line(addresses[i], "/posts/a/", 200, 1000, agent);
        }
    }
    log += &line("66.249.66.1", "/", 200, 1000, GOOGLEBOT);
    let out = stats(&["--robots"], Some(log.as_bytes()));
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for token in ["GPTBot", "ClaudeBot", "CCBot", "Google-Extended"] {
        assert!(
            text.lines().any(|l| l == format!("User-agent: {token}")),
            "no active group for {token}:\n{text}"
        );
    }
    // Search crawlers are offered commented out, with their share.
    assert!(text.contains("#User-agent: Googlebot"), "{text}");
    assert!(text.contains("# CCBot: 3 requests (42.9%)"), "{text}");
}

#[test]
fn feed_readers_announced_subscribers_are_summed_per_reader_and_feed() {
    let feedly = |n: u32| {
        format!("Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers; like FeedFetcher-Google)")
    };
    // The latest count per feed counts: 100 then 123 on /feed.xml, 5 on /atom.xml.
    let log = line("198.51.100.1", "/feed.xml", 200, 10, &feedly(100))
        + &line("198.51.100.1", "/feed.xml", 200, 10, &feedly(123))
        + &line("198.51.100.1", "/atom.xml", 200, 10, &feedly(5))
        + &line(
            "198.51.100.2",
            "/feed.xml",
            200,
            10,
            "Mozilla/5.0 (compatible; Inoreader/1.0; https://www.inoreader.com; 7 subscribers)",
        );
    let v = json(&[], Some(log.as_bytes()));
    let rows = v["feed_subscribers"].as_array().unwrap();
    assert_eq!(rows[0]["reader"], "Feedly");
    assert_eq!(rows[0]["subscribers"], 128);
    assert_eq!(rows[0]["feeds"], 2);
    assert_eq!(rows[1]["subscribers"], 7);
    assert_eq!(v["feed_subscribers_total"], 135);

    let one = line("198.51.100.1", "/feed.xml", 200, 10, &feedly(123));
    let v = json(&[], Some(one.as_bytes()));
    assert_eq!(v["feed_subscribers_total"], 123);
}

mod dns {
    use forkblog::stats::verify::{Ranges, Resolver, Status, Verifier};
    use std::cell::RefCell;
    use std::net::IpAddr;
    use std::rc::Rc;

    /// A resolver answering from fixed tables, counting the lookups it is asked for.
    struct Stub {
        ptr: Vec<(&'static str, &'static str)>,
        addr: Vec<(&'static str, &'static str)>,
        lookups: Rc<RefCell<Vec<String>>>,
    }

    impl Resolver for Stub {
        fn reverse(&mut self, ip: IpAddr) -> Vec<String> {
            self.lookups.borrow_mut().push(format!("PTR {ip}"));
            let ip = ip.to_string();
            self.ptr
                .iter()
                .filter(|(a, _)| *a == ip)
                .map(|(_, n)| n.to_string())
                .collect()
        }
        fn forward(&mut self, name: &str) -> Vec<IpAddr> {
            self.lookups.borrow_mut().push(format!("A {name}"));
            self.addr
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, a)| a.parse().unwrap())
                .collect()
        }
    }

    fn fixture() -> Ranges {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/stats/crawler-ranges.txt"
        ))
        .unwrap();
        Ranges::parse(&text).unwrap()
    }

    fn verifier() -> (Verifier, Rc<RefCell<Vec<String>>>) {
        let lookups = Rc::new(RefCell::new(Vec::new()));
        let stub = Stub {
            ptr: vec![
                ("203.0.113.5", "crawl-203-0-113-5.googlebot.com."),
                (
                    "203.0.113.6",
                    "crawl-203-0-113-6.googlebot.com.evil.example",
                ),
                ("203.0.113.7", "spoof.yandex.com"),
                ("198.51.100.1", "spider-198-51-100-1.yandex.com"),
            ],
            addr: vec![
                ("crawl-203-0-113-5.googlebot.com", "203.0.113.5"),
                ("spider-198-51-100-1.yandex.com", "198.51.100.1"),
                // The forward lookup of the spoofed name leads elsewhere.
                ("spoof.yandex.com", "192.0.2.99"),
            ],
            lookups: lookups.clone(),
        };
        (Verifier::new(fixture(), Some(Box::new(stub))), lookups)
    }

    #[test]
    fn reverse_then_forward_dns_verifies_and_unmasks() {
        let (mut v, lookups) = verifier();
        // In the published range: verified with no lookup at all.
        assert_eq!(v.check("Googlebot", b"192.0.2.1"), Some(Status::Verified));
        assert!(lookups.borrow().is_empty());
        // Outside the range but confirmed both ways in the operator's domain.
        assert_eq!(v.check("googlebot", b"203.0.113.5"), Some(Status::Verified));
        // A name that only contains the domain, and a name whose forward lookup leads elsewhere.
        assert_eq!(v.check("Googlebot", b"203.0.113.6"), Some(Status::Impostor));
        assert_eq!(v.check("YandexBot", b"203.0.113.7"), Some(Status::Impostor));
        assert_eq!(
            v.check("YandexBot", b"198.51.100.1"),
            Some(Status::Verified)
        );
        // No reverse name at all.
        assert_eq!(v.check("YandexBot", b"192.0.2.200"), Some(Status::Impostor));
        // A crawler with no documented check, and a client logged as a host name.
        assert_eq!(v.check("FooBot", b"192.0.2.1"), None);
        assert_eq!(
            v.check("YandexBot", b"host.example"),
            Some(Status::Unchecked)
        );
        // Cached per address: asking again looks nothing up.
        let before = lookups.borrow().len();
        for _ in 0..3 {
            assert_eq!(v.check("Googlebot", b"203.0.113.5"), Some(Status::Verified));
            assert_eq!(v.check("YandexBot", b"203.0.113.7"), Some(Status::Impostor));
        }
        assert_eq!(lookups.borrow().len(), before);
        assert_eq!(
            lookups
                .borrow()
                .iter()
                .filter(|l| *l == "PTR 203.0.113.5")
                .count(),
            1
        );
    }

    #[test]
    fn without_a_resolver_nothing_is_looked_up_and_dns_only_claims_stay_unchecked() {
        let mut v = Verifier::new(fixture(), None);
        assert_eq!(v.check("Googlebot", b"192.0.2.1"), Some(Status::Verified));
        assert_eq!(v.check("Googlebot", b"203.0.113.5"), Some(Status::Impostor));
        assert_eq!(
            v.check("YandexBot", b"198.51.100.1"),
            Some(Status::Unchecked)
        );
    }
}
