//! Writing results into BENCHMARKS.md, between markers, leaving everything else as it is.

use std::fs;
use std::path::PathBuf;

/// BENCHMARKS.md at the repository root (or `FORKBLOG_BENCH_REPORT`).
pub fn path() -> PathBuf {
    std::env::var_os("FORKBLOG_BENCH_REPORT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md"))
}

fn markers(name: &str) -> (String, String) {
    (
        format!(
            "<!-- BEGIN GENERATED {name}: written by `cargo bench --bench load`, do not edit -->"
        ),
        format!("<!-- END GENERATED {name} -->"),
    )
}

/// Replaces the generated section `name` with `body` (appending the section if it is missing).
pub fn replace_section(name: &str, body: &str) -> std::io::Result<()> {
    let path = path();
    let old = fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".to_string());
    let (begin, end) = markers(name);
    let block = format!("{begin}\n{}\n{end}", body.trim_end());
    let new = match (old.find(&begin), old.find(&end)) {
        (Some(b), Some(e)) if e > b => format!("{}{block}{}", &old[..b], &old[e + end.len()..]),
        _ => format!("{}\n{block}\n", old.trim_end()),
    };
    fs::write(&path, new)
}

/// "1.23x"
pub fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}x", a / b)
    } else {
        "n/a".into()
    }
}

/// "met" / "NOT met"
pub fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**NOT met**"
    }
}
