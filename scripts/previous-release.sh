#!/usr/bin/env bash
# Builds the binary of the previous release (default: the revision below, the last build before
# the workspace) from this clone's history and prints its path, for the upgrade test in
# tests/reload.rs:
#   FORKBLOG_PREVIOUS_BINARY=$(bash scripts/previous-release.sh) cargo test --test reload
# Exits 3 when the clone lacks the revision (a shallow one).
set -euo pipefail
rev=${1:-44aa657}
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$repo/target/previous-$rev
bin=$out/debug/forkblog
if [ ! -x "$bin" ]; then
  if ! git -C "$repo" cat-file -e "$rev^{commit}" 2>/dev/null; then
    echo "previous-release.sh: revision $rev is not in this clone" >&2
    exit 3
  fi
  src=$(mktemp -d)
  trap 'rm -rf "$src"' EXIT
  git -C "$repo" archive "$rev" | tar -x -C "$src"
  cargo build --locked --quiet --manifest-path "$src/Cargo.toml" --target-dir "$out" --bin forkblog >&2
fi
echo "$bin"
