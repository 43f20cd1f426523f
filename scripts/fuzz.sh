#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time. Opt-in: not part of .ci/run.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     default: 60 s, every target
#
# Targets (fuzz/fuzz_targets/): http_head (request parsing, response choice, the access-log
# line round trip), front_matter, access_log_line, post (front matter + Markdown of one post).
#
# Each target starts from its seeds in fuzz/corpus/<target>/ (read, never written: what libFuzzer
# finds goes to a scratch corpus, kept only if FUZZ_CORPUS_DIR names a directory). A crash, a
# failed assertion, a hang (an input taking over FUZZ_INPUT_TIMEOUT s, default 10) or an
# out-of-memory leaves the input in fuzz/artifacts/<target>/ and makes this script exit 1.
# Reproduce one with:  RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/<file>
#
# Needs: cargo (any channel: on stable, RUSTC_BOOTSTRAP=1 unlocks the nightly flags cargo-fuzz
# passes) and cargo-fuzz, installed from crates.io if missing. The sanitizer is AddressSanitizer
# unless FUZZ_SANITIZER says otherwise (`none` if ASan cannot run on a machine). The first build
# takes a few minutes; fuzz/target/ holds it (not CARGO_TARGET_DIR, whose flags differ).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2; }
shift || true
all_targets=(http_head front_matter access_log_line post)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi
sanitizer="${FUZZ_SANITIZER:-address}"
input_timeout="${FUZZ_INPUT_TIMEOUT:-10}"

if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install --locked cargo-fuzz
fi
# cargo-fuzz passes -Z flags; a stable toolchain accepts them with RUSTC_BOOTSTRAP.
if ! rustc --version | grep -q nightly; then
  export RUSTC_BOOTSTRAP=1
fi
unset CARGO_TARGET_DIR

# Longest input worth trying per target: a request head is at most 8 KiB (crates/serve/src/limits.rs).
max_len() {
  case "$1" in
    http_head) echo 9000 ;;
    access_log_line) echo 4096 ;;
    *) echo 16384 ;;
  esac
}

echo "== building ${#targets[@]} target(s) (sanitizer: $sanitizer)"
for t in "${targets[@]}"; do
  cargo fuzz build -s "$sanitizer" "$t"
done

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
summary=()
for t in "${targets[@]}"; do
  corpus="${FUZZ_CORPUS_DIR:+$FUZZ_CORPUS_DIR/$t}"
  corpus="${corpus:-$scratch/corpus/$t}"
  artifacts="fuzz/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  before=$(find "$artifacts" -type f | wc -l)
  log="$scratch/$t.log"
  touch "$scratch/$t.stamp"
  dict=()
  [ -f "fuzz/dict/$t.dict" ] && dict=("-dict=fuzz/dict/$t.dict")
  echo "== $t: ${seconds}s"
  set +e
  cargo fuzz run -s "$sanitizer" "$t" "$corpus" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -timeout="$input_timeout" -max_len="$(max_len "$t")" \
    -print_final_stats=1 "${dict[@]}" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  after=$(find "$artifacts" -type f | wc -l)
  if [ "$rc" -ne 0 ] || [ "$after" -gt "$before" ]; then
    status=1
    verdict="FAILED (exit $rc)"
    echo "-- $t failed; the end of libFuzzer's output:"
    grep -v '^#[0-9]' "$log" | tail -60
    find "$artifacts" -type f -newer "$scratch/$t.stamp" -printf '   new input: %p\n' 2>/dev/null || true
  else
    verdict="ok"
  fi
  line=$(printf '%-16s %-16s runs %-10s exec/s %-7s cov %s' "$t" "$verdict" "${runs:-?}" "${rate:-?}" "${cov:-?}")
  echo "$line"
  summary+=("$line")
done

echo "== summary (${seconds}s per target, sanitizer $sanitizer)"
printf '%s\n' "${summary[@]}"
exit "$status"
