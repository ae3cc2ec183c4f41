#!/usr/bin/env bash
# Runs each fuzz target for a bounded time on a scratch copy of its committed corpus (make fuzz,
# make fuzz-ci). Usage: engine/fuzz/run_targets.sh BUILD_DIR SECONDS TARGET...
#
# Per target: BUILD_DIR/fuzz-work/TARGET/ holds the corpus copy (new inputs land there, the
# committed corpus is not touched), libFuzzer's log and any crash file. One line per target
# gives libFuzzer's final statistics; a crash prints the crash file's path and the end of the
# log, and the script exits 1 once every target has run.
set -uo pipefail
build_dir="$1"
seconds="$2"
shift 2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Longest input per target: a snapshot, a job file, a file of records or a poll batch. Small
# inputs keep each execution short (records and messages: a kilobyte still spans several
# batches; longer inputs cut the execution rate threefold and found nothing more); every seed
# fits.
max_len() {
  case "$1" in
    fuzz_snapshot) echo 8192 ;;
    fuzz_sql) echo 2048 ;;
    *) echo 1024 ;;
  esac
}

failed=()
for target in "$@"; do
  binary="$build_dir/$target"
  work="$build_dir/fuzz-work/$target"
  rm -rf "$work"
  mkdir -p "$work/corpus"
  cp "$root/engine/fuzz/corpus/$target/"* "$work/corpus/"
  # -malloc_limit_mb: no input of a few KiB may make the engine ask for half a GiB at once.
  "$binary" -max_total_time="$seconds" -print_final_stats=1 -max_len="$(max_len "$target")" -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=512 -artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1
  status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -1)
  corpus=$(find "$work/corpus" -type f | wc -l)
  if [ "$status" -eq 0 ]; then
    printf 'fuzz: %-20s %12s executions  %7s exec/s  corpus %d  ok\n' "$target" "${executions:-?}" "${rate:-?}" "$corpus"
  else
    crash=$(sed -n 's/.*Test unit written to //p' "$work/log" | tail -1)
    printf 'fuzz: %-20s %12s executions  %7s exec/s  FAILED (exit %d)\n' "$target" "${executions:-?}" "${rate:-?}" "$status"
    echo "fuzz: $target: crash input: ${crash:-none written; see $work/log}"
    echo "fuzz: $target: reproduce: $binary ${crash:-<input>}"
    echo "----- $work/log (last 40 lines)"
    tail -n 40 "$work/log"
    echo "-----"
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: every target ran ${seconds}s without a crash"
