#!/usr/bin/python3
"""Tests of reports/make_report.py's nexmark level: the verdict rows, the summary section and
the plot, from a run folder holding only a hand-written nexmark.json.

A query at 10x Flink's per-core figure or above passes, one below fails, one without a
published figure gets no ratio and no pass, a refused query is SKIPPED with its message listed,
and a failed one fails. Needs matplotlib, as the report does; run with
/usr/bin/python3 reports/make_report_test.py.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "make_report.py")
sys.path.insert(0, HERE)
import make_report  # noqa: E402


def ran(query, file_rate, memory_rate, flink_per_core):
    entry = {"query": query, "outcome": "ran", "message": "", "events": 1000, "output_rows": 10,
             "memory_sources": "bid: memory"}
    for mode, rate in (("file", file_rate), ("memory", memory_rate)):
        entry[mode] = {"seconds": [1.0], "events_per_second_per_core": {"median": rate, "min": rate, "max": rate},
                       "ratio_to_flink": rate / flink_per_core if flink_per_core else None}
    if flink_per_core:
        entry["flink_published"] = {"events": 100, "cores": 1, "seconds": 100 / flink_per_core,
                                    "events_per_second_per_core": flink_per_core, "printed": "?"}
    else:
        entry["flink_published"] = None
        entry["flink_missing"] = "not in the table"
    return entry


NEXMARK = {
    "run_id": "20260101T000000Z-test", "level": "nexmark", "generated_events": 1000,
    "event_time_events_per_second": 1e7, "parallelism": 1, "runs": 1, "warmup_runs": 0, "batch_size": 1024,
    "flink": {"source": "the table", "flink_version": "1.13", "machines": "some"},
    "queries": [
        ran("q0", 2_000_000, 9_000_000, 100_000),   # 20x
        ran("q1", 900_000, 9_000_000, 100_000),     # 9x
        ran("q2", 500_000, 600_000, None),          # no figure
        {"query": "q3", "outcome": "refused", "message": "line 1, column 1: unknown function 'X'\nX(y)\n^",
         "flink_published": None, "flink_missing": "Flink does not run it"},
        {"query": "q4", "outcome": "failed", "message": "file run 1 of 2 failed: boom",
         "flink_published": {"events": 100, "cores": 1, "seconds": 1, "events_per_second_per_core": 100}},
    ],
}


class NexmarkReportTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.run_dir = os.path.join(self.dir, "run")
        os.makedirs(self.run_dir)
        with open(os.path.join(self.run_dir, "nexmark.json"), "w", encoding="utf-8") as f:
            json.dump(NEXMARK, f)

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.dir], check=True)

    def test_verdict_rows(self):
        run = make_report.Run(self.run_dir, [])
        rows = {r["scenario"]: r for r in make_report.nexmark_verdict_rows(run)}
        self.assertEqual([r for r in rows], ["nexmark q0", "nexmark q1", "nexmark q2", "nexmark q3", "nexmark q4"])
        self.assertEqual(rows["nexmark q0"]["verdict"], "PASS")
        self.assertEqual(rows["nexmark q0"]["flink"], "20.0x")
        self.assertEqual(rows["nexmark q0"]["goal"], "1M")
        self.assertEqual(rows["nexmark q1"]["verdict"], "FAIL")
        self.assertEqual(rows["nexmark q1"]["flink"], "9.0x")
        self.assertEqual(rows["nexmark q2"]["verdict"], "no figure")
        self.assertEqual(rows["nexmark q2"]["flink"], "—")
        self.assertEqual(rows["nexmark q3"]["verdict"], "SKIPPED")
        self.assertEqual(rows["nexmark q4"]["verdict"], "FAIL")

    def test_a_run_with_only_the_nexmark_level_renders(self):
        out = os.path.join(self.dir, "out")
        result = subprocess.run([sys.executable, SCRIPT, self.run_dir, out], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("nexmark q0", result.stdout)
        self.assertTrue(os.path.getsize(os.path.join(out, "nexmark.png")) > 10000)
        with open(os.path.join(out, "summary.md"), encoding="utf-8") as f:
            summary = f.read()
        self.assertIn("## Nexmark", summary)
        self.assertIn("- q3: refused at bind: `line 1, column 1: unknown function 'X'` (Flink: Flink does not run it)",
                      summary)
        self.assertIn("- q4: FAILED: `file run 1 of 2 failed: boom`", summary)


if __name__ == "__main__":
    unittest.main()
