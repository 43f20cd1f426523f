//! The child's code layout (crates/serve/src/child-text.ld) holds: every pattern of the script places
//! something, and every function of the modules it names lands in the section it was meant for:
//! the plain child's code, the code only a TLS child runs (rustls, ring, forkblog's TLS
//! stream), and what a child never runs.
//! A pattern that matches nothing is silent at link time (a renamed module, a moved function),
//! and a child then faults its code in from all over `.text`: this test is where that shows.
//!
//! It reads the built binary with binutils' `readelf` and `nm` (mangled names: the script's
//! patterns are written against them).

use std::ops::Range;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_forkblog");
const SCRIPT: &str = include_str!("../crates/serve/src/child-text.ld");

/// The address range of each named section of the binary.
fn section(name: &str) -> Option<Range<u64>> {
    let out = Command::new("readelf")
        .args(["-SW", BIN])
        .output()
        .expect("run readelf (binutils)");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().find_map(|line| {
        let fields: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == '[' || c == ']')
            .filter(|f| !f.is_empty())
            .collect();
        let at = fields.iter().position(|f| *f == name)?;
        let start = u64::from_str_radix(fields.get(at + 2)?, 16).ok()?;
        let size = u64::from_str_radix(fields.get(at + 4)?, 16).ok()?;
        Some(start..start + size)
    })
}

/// Every defined code symbol: (address, mangled name).
fn code_symbols() -> Vec<(u64, String)> {
    let out = Command::new("nm")
        .args(["--defined-only", BIN])
        .output()
        .expect("run nm (binutils)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let address = u64::from_str_radix(fields.next()?, 16).ok()?;
            let kind = fields.next()?;
            let name = fields.next()?;
            matches!(kind, "t" | "T").then(|| (address, name.to_string()))
        })
        .collect()
}

/// The Rust path patterns of one output section of the script, in order: the part between
/// `.text.*` and the closing `*` of each `*(.text.*PATTERN*)` line.
fn patterns(output_section: &str) -> Vec<String> {
    let start = SCRIPT
        .find(&format!("{output_section} "))
        .unwrap_or_else(|| panic!("{output_section} is not in child-text.ld"));
    let block = &SCRIPT[start..];
    let block = &block[..block.find('}').unwrap()];
    block
        .lines()
        .filter_map(|line| line.trim().strip_prefix("*(.text.*")?.strip_suffix("*)"))
        .map(str::to_string)
        .collect()
}

/// Whether a mangled name matches a pattern whose parts are separated by `*`.
fn matches(name: &str, pattern: &str) -> bool {
    let mut rest = name;
    for part in pattern.split('*') {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

#[test]
fn the_code_a_child_runs_is_where_the_script_puts_it() {
    if option_env!("FORKBLOG_CHILD_LAYOUT").is_none() {
        // build.rs warned at build time: a dynamic link (FORKBLOG_DYNAMIC, no static C
        // libraries) has no layout to check. CI builds the static binary unless told not to:
        // there a link that fell back fails here instead of passing unseen.
        let why = "the child's code layout was not applied to this build (static C libraries \
                   missing? Debian packages libc6-dev and libgcc-12-dev)";
        let dynamic_wanted = std::env::var_os("FORKBLOG_DYNAMIC").is_some();
        assert!(std::env::var_os("CI").is_none() || dynamic_wanted, "{why}");
        eprintln!("SKIPPED: {why}");
        return;
    }
    let symbols = code_symbols();
    assert!(symbols.len() > 1000, "nm listed {} symbols", symbols.len());
    // An input section goes to the first pattern that matches it, in the script's order.
    let sections: Vec<(Vec<String>, Range<u64>)> =
        [".text.child.cold", ".text.child.tls", ".text.child"]
            .into_iter()
            .map(|name| {
                let range = section(name).unwrap_or_else(|| panic!("{name} is missing"));
                (patterns(name), range)
            })
            .collect();
    assert!(sections[1].0.iter().any(|p| p.contains("6rustls")));
    assert!(sections[2].0.iter().any(|p| p.contains("5serve5child")));

    let mut problems = Vec::new();
    for (at, (patterns, range)) in sections.iter().enumerate() {
        let earlier = &sections[..at];
        for pattern in patterns.iter() {
            let matched: Vec<&(u64, String)> = symbols
                .iter()
                .filter(|(_, name)| matches(name, pattern))
                .filter(|(_, name)| {
                    !earlier
                        .iter()
                        .any(|(o, _)| o.iter().any(|p| matches(name, p)))
                })
                .collect();
            if matched.is_empty() {
                problems.push(format!("{pattern}: matches no function of the binary"));
            }
            for (address, name) in matched {
                if !range.contains(address) {
                    problems.push(format!("{pattern}: {name} at {address:#x} is outside"));
                }
            }
        }
    }
    // ring's C and assembly, placed by name and by object file rather than by Rust path.
    let tls = &sections[1].1;
    let ring_c: Vec<&(u64, String)> = symbols
        .iter()
        .filter(|(_, name)| name.starts_with("ring_core_"))
        .collect();
    if ring_c.len() < 20 {
        problems.push(format!("only {} of ring's C functions found", ring_c.len()));
    }
    for (address, name) in ring_c {
        if !tls.contains(address) {
            problems.push(format!(
                "ring's {name} at {address:#x} is outside .text.child.tls"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "the child's code layout does not hold ({} problems):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
