#!/usr/bin/env bash
# Soak test: the release binary serving the sample blog under mixed abuse and SIGHUPs for a
# bounded time, watched through /proc; fails on any drift. Opt-in: not part of .ci/run.
#
#   scripts/soak.sh [SECONDS]           default 60
#
# What it does, all on 127.0.0.1 and stopping by itself:
#  1. builds target/release/forkblog (CARGO_TARGET_DIR is honoured);
#  2. copies posts/, templates/ and forkblog.toml to a temp root and starts
#     `forkblog serve --listen 127.0.0.1:0` on it with a temp access log and short timeouts
#     (as root: `--user nobody`, temp dirs world-readable);
#  3. runs scripts/soak.py: SOAK_CLIENTS (default 16) client threads loop over mixed connections
#     until the deadline: GET with Connection: close, keep-alive and pipelined sequences (with
#     HEAD and If-None-Match), aborted mid-request (FIN or RST), malformed and hostile requests
#     (each must get its 4xx), silent connections (must get 408 after the head timeout) and
#     byte-at-a-time requests; SIGHUP every 5 s; a line every 2 s with the parent's open fds,
#     RSS, live children, zombies and generation;
#  4. sends SIGTERM and expects exit status 0 within the grace period.
#
# It fails (exit 1) when, comparing the idle parent after the load (every connection ended,
# at most SOAK_SETTLE s, default 30) with the idle parent before it:
#  - open fds grew by more than SOAK_FD_SLACK (default 2),
#  - VmRSS grew by more than SOAK_RSS_SLACK_KIB (default 2048 KiB),
#  - a child is still alive, or a zombie is there at the end or in two samples in a row (2 s),
#  - SIGHUPs were sent but the generation did not advance,
#  or when any client saw a 5xx, an unexpected status, a reset or a timeout; when the access
#  log holds a 5xx (other than the 505 that answers the HTTP/2 preface among the malformed
#  requests); when stderr holds a panic or an error; or when SIGTERM does not end it with 0.
#
# Needs: cargo, python3 (standard library only), Linux /proc.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

seconds="${1:-60}"
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
head_timeout=3
idle_timeout=2
grace=5

if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
echo "== building the release binary"
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-$repo/target}/release/forkblog"
[ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 1; }

work=$(mktemp -d /tmp/forkblog-soak.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

root="$work/root"
mkdir -p "$root"
cp -R posts templates forkblog.toml "$root/"
user_args=()
if [ "$(id -u)" -eq 0 ]; then
  # The server drops to nobody before reading a post: let it read the copy.
  chmod -R a+rX "$work"
  user_args=(--user nobody)
fi

echo "== starting forkblog serve on 127.0.0.1 (temp root $root)"
RUST_LOG=info "$bin" serve --root "$root" --listen 127.0.0.1:0 \
  --access-log "$work/access.log" --lock "$work/forkblog.lock" \
  --max-children 32 --head-timeout "$head_timeout" --idle-timeout "$idle_timeout" \
  --lifetime 30 --grace "$grace" "${user_args[@]}" 2>"$work/stderr.log" &
pid=$!

port=""
for _ in $(seq 100); do
  port=$(sed -n 's/.* on http:\/\/127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$work/stderr.log" | head -1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "forkblog did not start; stderr:" >&2
  cat "$work/stderr.log" >&2
  exit 1
fi

status=0
python3 scripts/soak.py --pid "$pid" --port "$port" --seconds "$seconds" \
  --clients "${SOAK_CLIENTS:-16}" --hup 5 --every 2 --head-timeout "$head_timeout" \
  --settle "${SOAK_SETTLE:-30}" --fd-slack "${SOAK_FD_SLACK:-2}" \
  --rss-slack-kib "${SOAK_RSS_SLACK_KIB:-2048}" ${SOAK_SEED:+--seed "$SOAK_SEED"} || status=1

echo "== SIGTERM"
kill -TERM "$pid"
rc=""
for _ in $(seq $(( (grace + 5) * 10 ))); do
  if ! kill -0 "$pid" 2>/dev/null; then
    set +e; wait "$pid"; rc=$?; set -e
    break
  fi
  sleep 0.1
done
if [ -z "$rc" ]; then
  echo "FAIL: still running $((grace + 5))s after SIGTERM" >&2
  status=1
elif [ "$rc" -ne 0 ]; then
  echo "FAIL: exit status $rc after SIGTERM (expected 0)" >&2
  status=1
else
  echo "exited with status 0"
fi
pid=""

# The access log: every line readable, no 5xx.
# The status is the field after the quoted request (whose quotes and backslashes are escaped).
sed -E 's/^[^"]*"([^"\\]|\\.)*" ([0-9]{3}) .*/\2/' "$work/access.log" >"$work/statuses"
lines=$(wc -l <"$work/access.log")
# 505 is the right answer to the HTTP/2 preface the clients send (they check each one got it).
fivexx=$(grep -cvE '^([1-4][0-9][0-9]|505)$' "$work/statuses" || true)
statuses=$(sort "$work/statuses" | uniq -c | sort -rn | awk '{printf "%s x%s, ", $2, $1}')
echo "access log: $lines lines; statuses: ${statuses%, }"
if [ "$fivexx" -ne 0 ]; then
  echo "FAIL: $fivexx access log line(s) with a 5xx or unreadable status:" >&2
  grep -nvE '^([1-4][0-9][0-9]|505)$' "$work/statuses" | head -5 >&2
  status=1
fi
reloads=$(grep -c "generation .* serving" "$work/stderr.log" || true)
problems=$(grep -ciE "panick|\berror\b" "$work/stderr.log" || true)
echo "server log: $reloads reload(s) completed, $problems error line(s)"
if [ "$problems" -ne 0 ]; then
  echo "FAIL: errors in the server's stderr:" >&2
  grep -iE "panick|\berror\b" "$work/stderr.log" | head -10 >&2
  status=1
fi

if [ "$status" -eq 0 ]; then echo "soak: PASS"; else echo "soak: FAIL"; fi
exit "$status"
