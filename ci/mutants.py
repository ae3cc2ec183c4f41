#!/usr/bin/python3
"""Mutation check (make mutants): plants deliberate bugs in the engine one at a time and
proves that the checks catch each one.

For every mutant below: the snippet `find` must occur exactly once in `file`; it is replaced
by `replace`, the tests are rebuilt in build-mutants/ (a Release tree of its own, so build/
is left alone), and the test suite runs with --gtest_fail_fast. The mutant is caught when the
suite fails (a failing test, a crash or a timeout). With --bench, a mutant the tests miss
also goes through the lab (sluice-bench --quick, every scenario, checked against SQLite), and
is caught when the lab's checks fail. The file is restored after each mutant, whatever
happens (also on Ctrl-C).

Prints a table (mutant, what it plants, caught by, seconds) and exits 1 when any mutant
survives. Usage:
  ci/mutants.py                  every mutant, tests only
  ci/mutants.py --bench          the lab too, for mutants the tests miss
  ci/mutants.py --only NAME,...  some mutants
  ci/mutants.py --list           the mutants and what each plants
"""
import argparse
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build-mutants")

# name, file, what the bug is, the exact snippet, its replacement.
MUTANTS = [
    dict(name="interner-long-by-tag",
         file="engine/src/state/key_table.cc",
         what="strings over 16 bytes interned by hash tag and length only",
         find="if (stored.size() == text.size() && EqualBytes(stored.data(), text.data(), text.size())) return id;",
         replace="if (stored.size() == text.size() && (text.size() > 16 || "
                 "EqualBytes(stored.data(), text.data(), text.size()))) return id;"),
    dict(name="late-at-watermark-on-time",
         file="engine/src/ops/aggregate_operator.cc",
         what="a row whose window closes exactly at the watermark is not late",
         find="return watermark != INT64_MIN && close <= watermark;",
         replace="return watermark != INT64_MIN && close < watermark;"),
    dict(name="exchange-long-by-address",
         file="engine/src/runtime/exchange.cc",
         what="the keyed exchange routes strings over 16 bytes by their address",
         find="if (n > 16) return HashString(text);",
         replace="if (n > 16) return reinterpret_cast<uintptr_t>(p);"),
    dict(name="count-skips-a-row",
         file="engine/src/ops/accumulator.cc",
         what="COUNT(*) misses the last row of each batch of more than one row",
         find="ForEachActiveRow(selection, count, [&](size_t row) { ++counts[groups[row]]; });",
         replace="ForEachActiveRow(selection, count - (count > 1), [&](size_t row) { ++counts[groups[row]]; });"),
    dict(name="window-end-inclusive",
         file="engine/src/ops/aggregate_operator.cc",
         what="a row exactly at a window's end belongs to that window (start exclusive, end inclusive)",
         find="const int64_t newest_start = row_window.Floor(times[row]);",
         replace="const int64_t newest_start = row_window.Floor(times[row] - 1);"),
    dict(name="rows-frame-one-too-long",
         file="engine/src/ops/rows_window_operator.cc",
         what="the ROWS window frame holds one row more than declared",
         find="frame_rows_(static_cast<size_t>(std::min(spec_.frame_rows, spec_.buffer_rows))),",
         replace="frame_rows_(static_cast<size_t>(std::min(spec_.frame_rows + 1, spec_.buffer_rows))),"),
    dict(name="greater-as-greater-equal",
         file="engine/src/expr/functions/operator_functions.cc",
         what="`>` evaluates as `>=`",
         find="struct Greater {\n  static constexpr bool kCanBeNull = false;\n  template <typename T>\n"
              "  static uint8_t Apply(T a, T b) {\n    return a > b;",
         replace="struct Greater {\n  static constexpr bool kCanBeNull = false;\n  template <typename T>\n"
                 "  static uint8_t Apply(T a, T b) {\n    return a >= b;"),
    dict(name="emit-changes-update-skipped",
         file="engine/src/ops/aggregate_operator.cc",
         what="EMIT CHANGES never clears a key's dirty flag, so a key's later updates are not emitted",
         find="    for (uint32_t group : dirty_list_) dirty_[group] = 0;\n    dirty_list_.clear();",
         replace="    dirty_list_.clear();"),
    dict(name="timestamp-off-by-a-second",
         file="engine/src/types/number_format.cc",
         what="a parsed timestamp is one second late",
         find="second * kMillisPerSecond + fraction_millis;",
         replace="(second + 1) * kMillisPerSecond + fraction_millis;"),
    dict(name="json-backslash-unescaped",
         file="engine/src/formats/json_string.h",
         what="the JSON encoder writes a backslash in a string unescaped",
         find="    escape[static_cast<unsigned char>('\\\\')] = '\\\\';\n",
         replace=""),
    dict(name="csv-quote-not-doubled",
         file="engine/src/formats/csv_encoder.cc",
         what="the CSV encoder does not double a quote inside a quoted field",
         find="      if (c == '\"') *out++ = '\"';\n",
         replace=""),
    dict(name="watermark-merge-maximum",
         file="engine/src/time/watermark_merger.cc",
         what="a multi-partition watermark is the maximum over its partitions, not the minimum",
         find="slowest = std::min(slowest.value_or(INT64_MAX), p.watermark);",
         replace="slowest = std::max(slowest.value_or(INT64_MIN), p.watermark);"),
    dict(name="session-touching-apart",
         file="engine/src/ops/session_window_operator.cc",
         what="two events exactly `gap` apart start separate sessions",
         find="while (last < sessions.size() && sessions[last].start <= end) ++last;",
         replace="while (last < sessions.size() && sessions[last].start < end) ++last;"),
    dict(name="ttl-evicts-one-tick-late",
         file="engine/src/ops/aggregate_operator.cc",
         what="state.ttl keeps a key one millisecond past its time to live",
         find="expiry_[expiry_head_].first <= watermark - ttl) {",
         replace="expiry_[expiry_head_].first < watermark - ttl) {"),
    dict(name="nexmark-bid-proportion",
         file="datagen/src/nexmark_generator.h",
         what="Nexmark's generator makes 45 bids in every 49 events instead of 46 in 50",
         find="int64_t bid_proportion = 46;",
         replace="int64_t bid_proportion = 45;"),
    dict(name="nexmark-hot-auctions",
         file="datagen/src/nexmark_generator.h",
         what="two bids in three, not one in two, go to the hot auction",
         find="int64_t hot_auction_ratio = 2;",
         replace="int64_t hot_auction_ratio = 3;"),
    dict(name="nexmark-time-rounds-up",
         file="datagen/src/nexmark_generator.cc",
         what="an event's time rounds its microseconds up to the millisecond instead of down",
         find="return options_.start_millis + micros / 1000;",
         replace="return options_.start_millis + (micros + 999) / 1000;"),
    dict(name="nexmark-seed-ignored",
         file="datagen/src/nexmark_generator.cc",
         what="the Nexmark events' field draws ignore --seed (only the url and extra tables follow it)",
         find="field_stream_(StreamFor(options.seed, kNexmarkFieldsSalt))",
         replace="field_stream_(StreamFor(42, kNexmarkFieldsSalt))"),
]


def run(command, timeout=None, log=None):
    """Runs `command` (a list) from the repository root; returns (exit code, output)."""
    try:
        result = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                timeout=timeout, text=True, errors="replace")
        output, code = result.stdout, result.returncode
    except subprocess.TimeoutExpired as expired:
        output = (expired.stdout or "") if isinstance(expired.stdout, str) else ""
        code = "timeout"
    if log is not None:
        with open(log, "a") as f:
            f.write(f"$ {' '.join(command)}\n{output}\n")
    return code, output


def configure():
    if not os.path.exists(os.path.join(BUILD, "build.ninja")):
        code, output = run(["cmake", "-S", ".", "-B", BUILD, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release"])
        if code != 0:
            sys.exit(f"mutants: cmake failed:\n{output}")


def build(log):
    return run(["cmake", "--build", BUILD, "-j", os.environ.get("JOBS", "2"),
                "--target", "sluice_tests", "sluice", "sluice-bench"], log=log)


def first_failure(output):
    for line in output.splitlines():
        m = re.match(r"\[  FAILED  \] ([^\s,]+)", line)
        if m:
            return m.group(1)
    if "Sanitizer" in output or "Segmentation" in output or "Aborted" in output:
        return "a crash"
    return None


def check_tests(log):
    code, output = run([os.path.join(BUILD, "sluice_tests"), "--gtest_brief=1", "--gtest_fail_fast=1"],
                       timeout=1800, log=log)
    if code == 0:
        return None
    if code == "timeout":
        return "make test (timeout)"
    return "make test: " + (first_failure(output) or f"exit {code}")


def check_bench(log):
    code, output = run([os.path.join(BUILD, "sluice-bench"), "--quick", "--runs", "1", "--warmup", "0",
                        "--no-peer", "--results", os.path.join(BUILD, "mutant-results"),
                        "--data-dir", os.path.join(ROOT, "build", "bench-data")], timeout=3600, log=log)
    if code == 0:
        return None
    failed = [line.strip() for line in output.splitlines() if "FAILED" in line or "check failed" in line]
    return "bench-quick: " + (failed[0][:80] if failed else f"exit {code}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", action="store_true", help="run the lab for mutants the tests miss")
    parser.add_argument("--only", help="comma-separated mutant names")
    parser.add_argument("--list", action="store_true", help="list the mutants")
    args = parser.parse_args()
    mutants = MUTANTS
    if args.only:
        wanted = args.only.split(",")
        unknown = [w for w in wanted if w not in {m["name"] for m in MUTANTS}]
        if unknown:
            sys.exit(f"mutants: unknown mutant(s): {', '.join(unknown)} (see --list)")
        mutants = [m for m in MUTANTS if m["name"] in wanted]
    if args.list:
        for m in mutants:
            print(f"{m['name']:30} {m['file']}: {m['what']}")
        return 0
    # Every snippet must be there exactly once before anything is touched.
    for m in mutants:
        with open(os.path.join(ROOT, m["file"])) as f:
            occurrences = f.read().count(m["find"])
        if occurrences != 1:
            sys.exit(f"mutants: {m['name']}: the snippet occurs {occurrences} times in {m['file']} "
                     "(the code moved: update ci/mutants.py)")
    configure()
    os.makedirs(BUILD, exist_ok=True)
    log = os.path.join(BUILD, "mutants.log")
    open(log, "w").close()
    code, output = build(log)
    if code != 0:
        sys.exit(f"mutants: the unmutated tree does not build:\n{output[-3000:]}")
    rows = []
    for m in mutants:
        path = os.path.join(ROOT, m["file"])
        with open(path) as f:
            original = f.read()
        started = time.time()
        try:
            with open(path, "w") as f:
                f.write(original.replace(m["find"], m["replace"]))
            code, output = build(log)
            if code != 0:
                caught = "the build (the mutant does not compile: fix ci/mutants.py)"
            else:
                caught = check_tests(log)
                if caught is None and args.bench:
                    caught = check_bench(log)
        finally:
            with open(path, "w") as f:
                f.write(original)
            # The restored file must be newer than the mutant's object for the next build.
            os.utime(path, None)
        seconds = time.time() - started
        rows.append((m["name"], m["what"], caught or "SURVIVED", seconds))
        print(f"mutants: {m['name']}: {caught or 'SURVIVED'} ({seconds:.0f} s)", flush=True)
    build(log)  # leave build-mutants/ matching the tree
    print()
    print("| mutant | planted bug | caught by | seconds |")
    print("|---|---|---|---|")
    for name, what, caught, seconds in rows:
        print(f"| `{name}` | {what} | {caught} | {seconds:.0f} |")
    survived = [r[0] for r in rows if r[2] == "SURVIVED"]
    print()
    if survived:
        print(f"mutants: {len(survived)} of {len(rows)} survived: {', '.join(survived)}")
        return 1
    print(f"mutants: all {len(rows)} caught")
    return 0


if __name__ == "__main__":
    sys.exit(main())
