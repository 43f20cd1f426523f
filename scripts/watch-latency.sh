#!/usr/bin/env bash
# Save-to-visible latency of `serve --watch`, measured in the open page of a real browser:
# from writing a post until its new text shows in the page, with no action on the page.
# Opt-in, not part of .ci/run; talks to 127.0.0.1 only and stops by itself.
#
#   scripts/watch-latency.sh [SAVES]     default 10
#   FORKBLOG_BIN=path/to/forkblog scripts/watch-latency.sh   an existing build instead
#
# Builds target/release/forkblog, serves a copy of the sample blog with --watch, opens a post
# in Debian's chromium (tests/browser/run.js, driven through the DevTools protocol), then SAVES
# times appends a paragraph to the post and polls the page's text (every 5 ms) until the new
# paragraph is there. Prints each time, the median and the worst.
#
# Needs: cargo, node, chromium, `npm install --prefix tests/browser`.
set -euo pipefail
saves=${1:-10}
repo=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
[ -d "$repo/tests/browser/node_modules/playwright-core" ] ||
    { echo "run: npm install --prefix tests/browser"; exit 1; }
bin=${FORKBLOG_BIN:-}
if [ -z "$bin" ]; then
    (cd "$repo" && cargo build --release --quiet)
    bin=$target/release/forkblog
fi

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

post=posts/2026-01-05-why-fork-per-connection.md
result=$(node "$repo/tests/browser/run.js" latency "http://$addr" "$root" "$root/$post" \
    /posts/why-fork-per-connection/ "$saves")
node -e '
const r = JSON.parse(process.argv[1]);
r.times_ms.forEach((t, i) => console.log(`save ${i + 1}: ${t} ms`));
console.log(`save to visible in the open page, ${r.times_ms.length} saves on the sample blog: median ${r.median_ms} ms, max ${r.max_ms} ms`);
' "$result"
