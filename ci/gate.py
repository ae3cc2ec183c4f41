#!/usr/bin/python3
"""The performance gate: instructions per record, counted by valgrind's callgrind, for the
scenarios at core level on a small input, against ci/baseline.json.

Instruction counts do not depend on what else the machine is doing, so the gate is
deterministic where wall time is not. Only the query's run is counted (sluice-bench --gate
switches collection on around it): data generation, parsing and binding are not.

usage: ci/gate.py BENCH_BINARY [--update]
  fails (exit 1) when a scenario costs more than 5% more instructions per record than its
  baseline; --update rewrites ci/baseline.json with the measured figures instead.
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINE = os.path.join(ROOT, "ci", "baseline.json")
SCENARIOS = ["s0_select_filter", "s1_rows_window", "s2_group_by", "s3a_tumbling_final"]
RECORDS = 100000
TOLERANCE = 0.05


def count_instructions(binary, scenario, workdir):
    out_file = os.path.join(workdir, f"callgrind.{scenario}.out")
    command = ["valgrind", "--tool=callgrind", "--collect-atstart=no", f"--callgrind-out-file={out_file}",
               binary, "--gate", "--scenarios", scenario, "--records", str(RECORDS), "--source-dir", ROOT,
               "--data-dir", os.path.join(workdir, "data")]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"gate: {scenario}: sluice-bench failed under valgrind (exit {result.returncode}):\n"
                 f"{result.stderr[-2000:]}")
    totals = None
    with open(out_file) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                totals = int(line.split()[1])
    if totals is None:
        sys.exit(f"gate: {scenario}: no instruction total in {out_file}")
    return totals


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = sys.argv[1]
    update = "--update" in sys.argv[2:]
    baseline = {}
    if os.path.exists(BASELINE):
        with open(BASELINE) as f:
            baseline = json.load(f).get("scenarios", {})
    elif not update:
        sys.exit(f"gate: {BASELINE} is missing; create it with `make gate-update`")
    measured = {}
    with tempfile.TemporaryDirectory(prefix="sluice-gate-") as workdir:
        for scenario in SCENARIOS:
            measured[scenario] = count_instructions(binary, scenario, workdir) / RECORDS
    failed = []
    print(f"{'scenario':<22} {'baseline':>12} {'measured':>12} {'change':>8}  instructions per record "
          f"(callgrind, {RECORDS:,} records, core level)")
    for scenario in SCENARIOS:
        now = measured[scenario]
        base = baseline.get(scenario, {}).get("instructions_per_record")
        if base:
            change = now / base - 1
            verdict = "FAIL" if change > TOLERANCE else "ok"
            if change > TOLERANCE:
                failed.append(scenario)
            print(f"{scenario:<22} {base:>12.1f} {now:>12.1f} {change:>+7.1%}  {verdict}")
        else:
            print(f"{scenario:<22} {'-':>12} {now:>12.1f} {'':>8}  no baseline")
            if not update:
                failed.append(scenario)
    if update:
        with open(BASELINE, "w") as f:
            json.dump({"records": RECORDS, "tolerance": TOLERANCE,
                       "note": "instructions per record at core level, portable build (make gate); "
                               "rewrite deliberately with make gate-update",
                       "scenarios": {s: {"instructions_per_record": round(v, 2)} for s, v in measured.items()}},
                      f, indent=2)
            f.write("\n")
        print(f"gate: wrote {os.path.relpath(BASELINE, ROOT)}")
        return
    if failed:
        sys.exit(f"gate: FAILED: {', '.join(failed)} cost more than {TOLERANCE:.0%} over the baseline "
                 f"(a deliberate change updates ci/baseline.json with `make gate-update` in its own commit)")
    print("gate: passed")


if __name__ == "__main__":
    main()
