#!/usr/bin/env bash
# Edit-to-visible latency of `serve --watch`: how long from saving a post until the server
# answers with the new text. Opt-in, not part of .ci/run; talks to 127.0.0.1 only and stops by
# itself.
#
#   scripts/watch-latency.sh [TRIALS]     default 20
#
# Builds target/release/forkblog, serves a copy of the sample blog with --watch, then TRIALS
# times: writes a post with a new marker and polls the page (curl, every 5 ms) until the marker
# is there. Prints each latency and the median and worst. The open page itself would see the
# change up to one poll interval (1 s) later: the live script asks once a second.
#
# Needs: cargo, curl.
set -euo pipefail
trials=${1:-20}
repo=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
(cd "$repo" && cargo build --release --quiet)
bin=$target/release/forkblog

root=$(mktemp -d)
state=$(mktemp -d)
chmod 755 "$root" && chmod 777 "$state"
cp -r "$repo/posts" "$repo/templates" "$repo/forkblog.toml" "$root/"
chmod -R a+rX "$root"
user=()
[ "$(id -u)" = 0 ] && user=(--user nobody)
"$bin" serve --watch --root "$root" --listen 127.0.0.1:0 --access-log "$state/access.log" \
    "${user[@]}" 2>"$state/stderr" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$root" "$state"' EXIT
for _ in $(seq 200); do
    addr=$(grep -o 'on http://[^ ]*' "$state/stderr" | head -1 | cut -c11-) && [ -n "$addr" ] && break
    sleep 0.05
done
[ -n "${addr:-}" ] || { echo "server did not start"; cat "$state/stderr"; exit 1; }

now_ms() { date +%s%3N; }
results=()
for i in $(seq "$trials"); do
    marker="marker-$i-$RANDOM"
    printf -- '---\ntitle: Latency\ndate: 2026-06-01\n---\n\n%s\n' "$marker" >"$root/posts/latency.md"
    chmod 644 "$root/posts/latency.md"
    start=$(now_ms)
    until curl -s "http://$addr/posts/latency/" | grep -q "$marker"; do
        [ $(( $(now_ms) - start )) -lt 10000 ] || { echo "trial $i: not visible after 10 s"; exit 1; }
        sleep 0.005
    done
    took=$(( $(now_ms) - start ))
    results+=("$took")
    echo "trial $i: $took ms"
    sleep 0.3 # let the re-exec settle before the next edit
done
sorted=$(printf '%s\n' "${results[@]}" | sort -n)
median=$(echo "$sorted" | sed -n "$(( (trials + 1) / 2 ))p")
worst=$(echo "$sorted" | tail -1)
echo "edit to visible over $trials edits on the sample blog: median $median ms, worst $worst ms"
