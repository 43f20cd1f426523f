//! The status endpoint's Prometheus output follows the text exposition format: base units,
//! counters named `_total` and typed counter, a build_info with the version; `promtool check
//! metrics` accepts it where promtool is installed. The JSON carries the version too.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

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
    let blog = Blog::sample();
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

    match Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Err(_) => eprintln!(
            "SKIPPED promtool: not installed (Debian package 'prometheus'); the format checks above ran"
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
