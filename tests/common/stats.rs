//! Running the real `forkblog stats` on the fixtures in tests/data/stats.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// The stats fixtures; the runs below start in this folder.
pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/stats");

/// `forkblog stats ARGS`, with `stdin` fed to it when given.
pub fn stats(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(super::BIN)
        .arg("stats")
        .args(args)
        .current_dir(DATA)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("forkblog runs");
    if let Some(input) = stdin {
        // A run that fails early (a bad flag or file) may exit before reading its input.
        match child.stdin.take().unwrap().write_all(input) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            written => written.unwrap(),
        }
    }
    child.wait_with_output().expect("forkblog finishes")
}

/// `forkblog stats --json ARGS`, which must succeed, parsed.
pub fn json(args: &[&str], stdin: Option<&[u8]>) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = stats(&all, stdin);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints JSON")
}

/// The requests a `--json` report counts in class `key` (`human`, `search`, ...).
pub fn class_requests(v: &serde_json::Value, key: &str) -> u64 {
    v["classes"]
        .as_array()
        .expect("classes")
        .iter()
        .find(|c| c["class"] == key)
        .unwrap_or_else(|| panic!("no class {key}"))["requests"]
        .as_u64()
        .expect("requests")
}
