//! The status endpoint's Prometheus output follows the text exposition format: base units,
//! counters named `_total` and typed counter, a build_info with the version; `promtool check
//! metrics` accepts it where promtool is installed. The JSON carries the version too. With HTTPS,
//! the certificate's expiry and the last reload's outcome are there, in both forms.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

const STATUS: &str = "/.well-known/forkblog/status";

/// Checks `text` against the exposition format's rules as forkblog uses them; returns each
/// family's type.
fn check_exposition(text: &str) -> HashMap<String, String> {
    let mut types: HashMap<String, String> = HashMap::new();
    let mut helped: Vec<String> = Vec::new();
    let valid_name = |name: &str| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    assert!(
        text.ends_with('\n'),
        "the last line must end with a newline"
    );
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap().to_string();
            assert!(!helped.contains(&name), "HELP twice for {name}");
            helped.push(name);
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut words = rest.split(' ');
            let name = words.next().unwrap().to_string();
            let kind = words.next().unwrap_or("").to_string();
            assert!(
                ["counter", "gauge"].contains(&kind.as_str()),
                "{line}: unexpected type"
            );
            assert!(
                helped.last() == Some(&name),
                "{line}: TYPE must follow its HELP"
            );
            if kind == "counter" {
                assert!(
                    name.ends_with("_total"),
                    "{line}: a counter must end in _total"
                );
            } else {
                assert!(
                    !name.ends_with("_total"),
                    "{line}: a gauge named like a counter"
                );
            }
            assert!(types.insert(name, kind).is_none(), "{line}: TYPE twice");
        } else {
            assert!(
                !line.starts_with('#') && !line.is_empty(),
                "stray line {line:?}"
            );
            let (series, value) = line.rsplit_once(' ').expect("name and value");
            let name = series.split('{').next().unwrap();
            assert!(valid_name(name), "{line}: bad metric name");
            assert!(
                types.contains_key(name),
                "{line}: sample before its TYPE line"
            );
            assert!(value.parse::<f64>().is_ok(), "{line}: bad value");
            for unit in ["micro", "milli", "kib", "kilo"] {
                assert!(
                    !name.to_ascii_lowercase().contains(unit),
                    "{line}: not a base unit"
                );
            }
            if let Some(labels) = series.strip_prefix(name) {
                if !labels.is_empty() {
                    assert!(
                        labels.starts_with('{') && labels.ends_with('}') && labels.contains("=\""),
                        "{line}: bad labels"
                    );
                }
            }
        }
    }
    types
}

#[test]
fn prometheus_output_follows_the_exposition_format() {
    let blog = TempSite::sample();
    let server = Server::start(blog.root(), &[]);
    assert_eq!(server.get("/").status, 200);
    let response = server.get(&format!("{STATUS}?format=prometheus"));
    assert_eq!(response.status, 200);
    let text = response.text();
    let types = check_exposition(&text);
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        text.contains(&format!("forkblog_build_info{{version=\"{version}\"}} 1\n")),
        "{text}"
    );
    for (name, kind) in [
        ("forkblog_requests_total", "counter"),
        ("forkblog_connections_accepted_total", "counter"),
        ("forkblog_reloads_total", "counter"),
        ("forkblog_live_children", "gauge"),
        ("forkblog_render_duration_seconds", "gauge"),
        ("forkblog_parent_rss_bytes", "gauge"),
    ] {
        assert_eq!(types.get(name).map(String::as_str), Some(kind), "{name}");
    }
    let render: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("forkblog_render_duration_seconds "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(render > 0.0 && render < 300.0, "render took {render} s?");

    let json = server.get(STATUS).text();
    assert!(
        json.contains(&format!("\"version\":\"{version}\"")),
        "{json}"
    );

    promtool_accepts(&text);
}

/// `promtool check metrics` accepts `text`, where promtool is installed.
fn promtool_accepts(text: &str) {
    match Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Err(_) => skipped(
            "promtool is not installed (Debian package 'prometheus'); the format checks above ran",
        ),
        Ok(mut promtool) => {
            promtool
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            let out = promtool.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "promtool check metrics rejects the output:\n{}{}\n{text}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn the_certificate_and_the_last_reload_are_in_both_forms() {
    let blog = TempSite::sample();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.not_after = rcgen::date_time_ymd(2040, 1, 2);
    let cert = params.self_signed(&key).unwrap();
    let (cert_path, key_path) = (blog.root().join("cert.pem"), blog.root().join("key.pem"));
    for (path, text) in [(&cert_path, cert.pem()), (&key_path, key.serialize_pem())] {
        std::fs::write(path, text).unwrap();
        set_mode(path, 0o644);
    }
    let server = Server::start(
        blog.root(),
        &[
            "--tls-listen",
            "127.0.0.1:0",
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ],
    );
    // 2040-01-02T00:00:00Z.
    let expiry = "2209075200";
    let prometheus = || server.get(&format!("{STATUS}?format=prometheus")).text();
    let text = prometheus();
    check_exposition(&text);
    assert!(
        text.contains(&format!(
            "forkblog_tls_certificate_expiry_seconds {expiry}\n"
        )),
        "{text}"
    );
    assert!(
        !text.contains("forkblog_reload_last_success"),
        "no reload yet:\n{text}"
    );

    server.signal("HUP");
    assert!(server.wait_for_log("generation 1 serving", 1, Duration::from_secs(30)));
    let text = prometheus();
    let types = check_exposition(&text);
    assert_eq!(
        types
            .get("forkblog_reload_last_success")
            .map(String::as_str),
        Some("gauge")
    );
    assert!(text.contains("forkblog_reload_last_success 1\n"), "{text}");
    assert!(text.contains(&format!(
        "forkblog_tls_certificate_expiry_seconds {expiry}\n"
    )));

    blog.write_post("broken.md", "---\ntitle: [unclosed\n---\nbody\n");
    server.signal("HUP");
    assert!(server.wait_for_log("reload failed", 1, Duration::from_secs(30)));
    let text = prometheus();
    check_exposition(&text);
    assert!(text.contains("forkblog_reload_last_success 0\n"), "{text}");
    let json = server.get(STATUS).text();
    for field in [
        format!("\"tls_certificate_expiry_seconds\":{expiry}"),
        "\"reload_last_outcome\":\"failed\"".to_string(),
    ] {
        assert!(json.contains(&field), "{field} in {json}");
    }
    promtool_accepts(&text);
    assert_eq!(server.stop().code(), Some(0));
}

#[test]
fn the_format_check_catches_what_promtool_rejects() {
    let bad = [
        "# HELP x_total a\n# TYPE x_total gauge\nx_total 1\n",
        "# HELP x a\n# TYPE x counter\nx 1\n",
        "# HELP x_microseconds a\n# TYPE x_microseconds gauge\nx_microseconds 5\n",
        "x 1\n",
    ];
    for text in bad {
        let caught = std::panic::catch_unwind(|| check_exposition(text)).is_err();
        assert!(caught, "not caught: {text:?}");
    }
    check_exposition("# HELP x_total a\n# TYPE x_total counter\nx_total{k=\"v\"} 1\n");
}
