#!/usr/bin/env bash
# Measures how well `forkblog stats` tells bots from browsers, on public user-agent corpora that
# ship inside registry packages. Opt-in (needs the npm and PyPI registries); nothing is committed.
#
#   bots:     npm crawler-user-agents (example `instances` of each pattern),
#             the crawler fixture lists shipped in the iscrawl crate (crawler-user-agents, loadkpi, pgts)
#   browsers: PyPI fake-useragent (browsers.jsonl), npm user-agents (dist/user-agents.json),
#             npm top-user-agents, the browser fixture list shipped in the iscrawl crate
#
# Usage: scripts/stats-accuracy.sh [--verbose]   (prints every misclassified user agent)
# Set STATS_CORPORA_DIR to keep the extracted corpora (one user agent per line) in that directory.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
corpora="${STATS_CORPORA_DIR:-$work/corpora}"
mkdir -p "$corpora" "$work/dl"

(cd "$work/dl" && npm pack --silent crawler-user-agents user-agents top-user-agents >/dev/null)
pip download --quiet --no-deps -d "$work/dl" fake-useragent
for tgz in "$work"/dl/*.tgz; do
    mkdir -p "${tgz%.tgz}" && tar xzf "$tgz" -C "${tgz%.tgz}"
done
(cd "$work/dl" && python3 -m zipfile -e fake_useragent-*.whl fua)

iscrawl_dir=$(cargo metadata --format-version 1 | python3 -c '
import json, sys, os
meta = json.load(sys.stdin)
print(next(os.path.dirname(p["manifest_path"]) for p in meta["packages"] if p["name"] == "iscrawl"))')

python3 - "$work/dl" "$iscrawl_dir" "$corpora" <<'PY'
import glob, json, os, shutil, sys
dl, iscrawl, out = sys.argv[1:]
def write(name, uas):
    with open(os.path.join(out, name), "w") as f:
        f.write("\n".join(sorted(set(u.replace("\n", " ") for u in uas if u.strip()))) + "\n")
cua = json.load(open(glob.glob(f"{dl}/crawler-user-agents-*/package/crawler-user-agents.json")[0]))
write("npm-crawler-user-agents.bots.txt", [i for e in cua for i in e.get("instances", [])])
ua = json.load(open(glob.glob(f"{dl}/user-agents-*/package/dist/user-agents.json")[0]))
write("npm-user-agents.browsers.txt", [e["userAgent"] for e in ua])
top = json.load(open(glob.glob(f"{dl}/top-user-agents-*/package/src/index.json")[0]))
write("npm-top-user-agents.browsers.txt", top)
fua = [json.loads(l)["useragent"] for l in open(f"{dl}/fua/fake_useragent/data/browsers.jsonl")]
write("pypi-fake-useragent.browsers.txt", fua)
fx = f"{iscrawl}/tests/fixtures"
for name, kind in [("crawler_user_agents", "bots"), ("loadkpi_crawlers", "bots"),
                   ("crawler_user_agents_pgts", "bots"), ("browser_user_agents", "browsers")]:
    write(f"crate-iscrawl-{name}.{kind}.txt", open(f"{fx}/{name}.txt", errors="replace").read().splitlines())
PY

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
if [ "${1:-}" = "--verbose" ]; then export STATS_ACCURACY_VERBOSE=1; fi
STATS_CORPORA="$corpora" cargo bench --quiet --bench stats_accuracy
