#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (default 30) from its seed corpus, prints one line per target and
# exits non-zero if any target crashed or failed. New inputs go to a scratch directory, so that runs never
# add files to the checked-in corpus.
set -euo pipefail
cd "$(dirname "$0")/.."

# cargo-fuzz needs nightly's -Z flags. A machine with only the stable toolchain (nightly cannot be fetched
# everywhere) gets them through RUSTC_BOOTSTRAP. (grep without -q reads all, so pipefail sees no SIGPIPE.)
if rustup toolchain list | grep '^nightly' >/dev/null; then
  cargo=(cargo +nightly)
else
  echo "fuzz: no nightly toolchain; using stable with RUSTC_BOOTSTRAP=1"
  export RUSTC_BOOTSTRAP=1
  cargo=(cargo)
fi
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz

"${cargo[@]}" fuzz build
targets=$("${cargo[@]}" fuzz list)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

failed=0
for target in $targets; do
  mkdir "$scratch/$target"
  log="$scratch/$target.log"
  # -timeout: an input that takes 10 s is a hang, reported like a crash.
  if "${cargo[@]}" fuzz run "$target" "$scratch/$target" "fuzz/corpus/$target" -- \
    -max_total_time="${FUZZ_SECONDS:-30}" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    result=ok
  else
    failed=1
    # What went wrong (above the long stack trace), then the input, its Base64 and how to reproduce it.
    grep -m1 -A1 -E 'panicked at|ERROR:|ALARM:' "$log" || true
    tail -n 40 "$log"
    result="FAILED: $(grep -m1 -o 'Test unit written to .*' "$log" || echo "no crash input saved; see the log above")"
  fi
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  printf 'fuzz: %-16s %12s executions  %s\n' "$target" "$execs" "$result"
done
exit "$failed"
