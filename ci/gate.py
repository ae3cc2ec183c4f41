#!/usr/bin/python3
"""The performance gate: instructions per record, counted by valgrind's callgrind, for the
scenarios at core level on a small input (100,000 records, one thread), against ci/baseline.json;
and a correctness check of each of those runs.

Instruction counts do not depend on what else the machine is doing, so the gate is
deterministic where wall time is not.

What is counted: the query's run only, i.e. JobRunner::Run() on one thread: the memory source
handing out pre-generated batches, the query's operators, and the engine's calls into its sink.
sluice-bench --gate switches callgrind's collection on around the run and off again inside the
checking sink's Push(). What is not counted: data generation, parsing and binding, SQLite's
expected result, and the checking sink's own work (fingerprinting each output row; for EMIT
CHANGES also logging it and reducing the log to the last row per key after the run). The two
collection toggles per output batch are a few instructions each and are counted.

What is checked: every gate run is checked against SQLite like any lab run (same fingerprint,
computed outside the collection), and sluice-bench prints its output row count beside SQLite's.
The gate fails when a check fails, when the result's row count differs from SQLite's, or when
the output row count (the rows the sink received; for EMIT CHANGES every change, not only the
last row per key) or SQLite's row count differs from the one recorded in ci/baseline.json (data
and batch size are fixed: a different count is a different answer, e.g. a skipped change).

Two bounds on instructions per record:
  - the last baseline (`scenarios` in ci/baseline.json): at most +5%. `make gate-update`
    rewrites it (a deliberate change, in a commit of its own);
  - a fixed reference (`reference`): the figures measured at one commit, recorded with it, at
    most +10%. `make gate-update` never rewrites an existing reference figure (it only adds one
    for a scenario that has none); only `ci/gate.py BINARY --reset-reference` does, which should
    be rare and said in its commit message. So a series of baseline updates cannot move the
    cost more than 10% away from the reference without that being visible.

usage: ci/gate.py BENCH_BINARY [--update] [--reset-reference] [--scenarios A,B]
  fails (exit 1) on a failed check, a wrong row count, or a cost above either bound;
  --update rewrites the baseline (and row counts) with the measured figures instead of failing
  on cost; --reset-reference rewrites the reference with the measured figures and this commit;
  --scenarios runs only those (by hand; not with --update or --reset-reference).
Generated data and SQLite's expected results are cached in gate-data/ beside BENCH_BINARY.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINE = os.path.join(ROOT, "ci", "baseline.json")
SCENARIOS = ["s0_select_filter", "s1_rows_window", "s2_group_by", "s3a_tumbling_final", "s5_long_keys"]
RECORDS = 100000
TOLERANCE = 0.05
REFERENCE_TOLERANCE = 0.10
GATE_LINE = re.compile(r"^gate (\S+) records=(\d+) output_rows=(\d+) result_rows=(\d+) expected_rows=(\d+) "
                       r"check=(\w+)$")


def run_scenario(binary, scenario, workdir, data_dir):
    """Returns (instructions, rows, problem or None); rows: output_rows (what the sink received:
    for EMIT CHANGES every change), result_rows (the rows checked: the last per key) and
    expected_rows (SQLite's)."""
    out_file = os.path.join(workdir, f"callgrind.{scenario}.out")
    command = ["valgrind", "--tool=callgrind", "--collect-atstart=no", f"--callgrind-out-file={out_file}",
               binary, "--gate", "--scenarios", scenario, "--records", str(RECORDS), "--source-dir", ROOT,
               "--data-dir", data_dir]
    result = subprocess.run(command, capture_output=True, text=True)
    match = None
    for line in result.stdout.splitlines():
        match = GATE_LINE.match(line.strip()) or match
    if match is None or match.group(1) != scenario:
        return None, None, (f"sluice-bench printed no gate line (exit {result.returncode}):\n"
                            f"{result.stderr[-2000:]}")
    rows = {"output_rows": int(match.group(3)), "result_rows": int(match.group(4)),
            "expected_rows": int(match.group(5))}
    problem = None
    if match.group(6) != "passed" or result.returncode != 0:
        problem = f"check FAILED against SQLite (exit {result.returncode}):\n{result.stderr[-2000:]}"
    elif rows["result_rows"] != rows["expected_rows"]:
        problem = f"{rows['result_rows']:,} result rows, SQLite has {rows['expected_rows']:,}"
    totals = None
    if os.path.exists(out_file):
        with open(out_file) as f:
            for line in f:
                if line.startswith("totals:") or line.startswith("summary:"):
                    totals = int(line.split()[1])
    if totals is None and problem is None:
        problem = f"no instruction total in {out_file}"
    return totals, rows, problem


def current_commit():
    def git(*args):
        return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True)
    commit = git("rev-parse", "--short=12", "HEAD").stdout.strip() or "unknown"
    if git("diff", "--quiet", "HEAD", "--", ".", ":!ci/baseline.json").returncode != 0:
        commit += "-dirty"
    return commit


def change_text(now, then, tolerance):
    if not then:
        return f"{'-':>10} {'':>7}", "none"
    change = now / then - 1
    return f"{then:>10.1f} {change:>+7.1%}", ("FAIL" if change > tolerance else "ok")


def main():
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    flags = sys.argv[2:]
    update = "--update" in flags
    reset_reference = "--reset-reference" in flags
    global SCENARIOS
    if "--scenarios" in flags:
        if update or reset_reference or flags.index("--scenarios") + 1 == len(flags):
            sys.exit("gate: --scenarios takes a list, and not with --update or --reset-reference")
        SCENARIOS = flags[flags.index("--scenarios") + 1].split(",")
    data = {}
    if os.path.exists(BASELINE):
        with open(BASELINE) as f:
            data = json.load(f)
    elif not update:
        sys.exit(f"gate: {BASELINE} is missing; create it with `make gate-update`")
    baseline = data.get("scenarios", {})
    reference = data.get("reference", {})
    reference_scenarios = reference.get("scenarios", {})
    data_dir = os.path.join(os.path.dirname(binary), "gate-data")
    measured, rows, problems = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="sluice-gate-") as workdir:
        for scenario in SCENARIOS:
            totals, counts, problem = run_scenario(binary, scenario, workdir, data_dir)
            for key in ["output_rows", "expected_rows"]:
                recorded = baseline.get(scenario, {}).get(key)
                if problem is None and recorded is not None and counts[key] != recorded and not update:
                    problem = f"{key} {counts[key]:,}, but ci/baseline.json records {recorded:,}"
            if problem:
                problems[scenario] = problem
            if totals is not None:
                measured[scenario] = totals / RECORDS
                rows[scenario] = counts
    failed = []
    print(f"instructions per record (callgrind, {RECORDS:,} records, core level, one thread; "
          f"the checking sink's work not counted)")
    print(f"{'scenario':<20} {'measured':>10} {'baseline':>10} {'change':>7}  {'':4} {'reference':>10} "
          f"{'change':>7}  {'':4} {'output rows':>12} {'result rows':>12}  check")
    for scenario in SCENARIOS:
        if scenario not in measured:
            print(f"{scenario:<20} {'-':>10}  FAILED: {problems.get(scenario, '?')}")
            failed.append(scenario)
            continue
        now = measured[scenario]
        base_text, base_verdict = change_text(now, baseline.get(scenario, {}).get("instructions_per_record"),
                                              TOLERANCE)
        ref_text, ref_verdict = change_text(
            now, reference_scenarios.get(scenario, {}).get("instructions_per_record"), REFERENCE_TOLERANCE)
        check = "FAILED" if scenario in problems else "passed"
        print(f"{scenario:<20} {now:>10.1f} {base_text}  {base_verdict:<4} {ref_text}  {ref_verdict:<4} "
              f"{rows[scenario]['output_rows']:>12,} {rows[scenario]['result_rows']:>12,}  {check}")
        if scenario in problems:
            failed.append(scenario)
        elif not update and (base_verdict != "ok" or ref_verdict == "FAIL"):
            failed.append(scenario)
        elif update and ref_verdict == "FAIL" and not reset_reference:
            failed.append(scenario)
    for scenario, problem in problems.items():
        print(f"gate: {scenario}: {problem}", file=sys.stderr)
    if reference.get("commit"):
        print(f"reference: measured at {reference['commit']} (bound +{REFERENCE_TOLERANCE:.0%}); "
              f"baseline bound +{TOLERANCE:.0%}")
    if update or reset_reference:
        if problems:
            sys.exit(f"gate: not writing {os.path.relpath(BASELINE, ROOT)}: "
                     f"{', '.join(problems)} failed its check")
        if update:
            data["scenarios"] = {s: {"instructions_per_record": round(v, 2),
                                     "output_rows": rows[s]["output_rows"],
                                     "expected_rows": rows[s]["expected_rows"]} for s, v in measured.items()}
        commit = current_commit()
        if reset_reference or not reference:
            reference = {"commit": commit, "tolerance": REFERENCE_TOLERANCE, "scenarios": {}}
            reference_scenarios = reference["scenarios"]
        for s, v in measured.items():
            if reset_reference or s not in reference_scenarios:
                reference_scenarios[s] = {"instructions_per_record": round(v, 2)}
                if commit != reference["commit"]:
                    reference_scenarios[s]["commit"] = commit
        reference["note"] = ("instructions per record measured at `commit` (an entry's own `commit` when it "
                             "was added later); make gate-update never rewrites these; "
                             "ci/gate.py BINARY --reset-reference does")
        data["records"] = RECORDS
        data["tolerance"] = TOLERANCE
        data["note"] = ("instructions per record at core level, one thread, checking sink excluded, portable "
                        "build (make gate), and output row counts; rewrite deliberately with make gate-update")
        data["reference"] = reference
        with open(BASELINE, "w") as f:
            json.dump({k: data[k] for k in ["records", "tolerance", "note", "scenarios", "reference"]}, f,
                      indent=2)
            f.write("\n")
        print(f"gate: wrote {os.path.relpath(BASELINE, ROOT)}")
        if failed:
            sys.exit(f"gate: FAILED: {', '.join(failed)} cost more than {REFERENCE_TOLERANCE:.0%} over the "
                     f"reference (baseline written; the reference bound still applies)")
        return
    if failed:
        sys.exit(f"gate: FAILED: {', '.join(failed)}: a failed check or row count, or a cost above "
                 f"+{TOLERANCE:.0%} over the baseline or +{REFERENCE_TOLERANCE:.0%} over the reference "
                 f"(a deliberate cost change updates ci/baseline.json with `make gate-update` in its own commit)")
    print("gate: passed")


if __name__ == "__main__":
    main()
