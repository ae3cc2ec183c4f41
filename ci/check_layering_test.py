#!/usr/bin/python3
"""Tests of ci/check_layering.py: that it passes a clean tree and fails each kind of violation.

Each test builds a small tree in a temporary directory and runs the script on it as `make
test` runs it (a separate process, its exit status and its messages). The last test copies
this repository's real sources and README, plants one upward include and expects the check
to name it. Python 3 standard library only; run with /usr/bin/python3 ci/check_layering_test.py.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "check_layering.py")
REPOSITORY = os.path.dirname(HERE)

BLOCK = """# Sluice engine

```layering
# lowest first
common
types
expr formats
plan
allow plan/binder.cc -> runtime/job_runner.h   # tolerated until the registry lands
runtime
```
"""


def write(root, path, text):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8") as out:
        out.write(text)


def run_check(root):
    result = subprocess.run(
        [sys.executable, SCRIPT, "--root", root], capture_output=True, text=True, check=False
    )
    return result.returncode, result.stdout + result.stderr


class CheckLayeringTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="check_layering_test.")
        write(self.root, "engine/README.md", BLOCK)
        write(self.root, "engine/src/common/status.h", "#include <string>\n#include \"absl/status/status.h\"\n")
        write(self.root, "engine/src/types/value.h", '#include "common/status.h"\n')
        write(self.root, "engine/src/expr/expression.h", '#include "types/value.h"\n#include "expression_helper.h"\n')
        write(self.root, "engine/src/expr/expression_helper.h", "")
        write(self.root, "engine/src/formats/json.h", '#include "types/value.h"\n')
        write(self.root, "engine/src/plan/plan.h", '#include "expr/expression.h"\n#include "formats/json.h"\n')
        write(self.root, "engine/src/plan/binder.cc", '#include "plan/plan.h"\n#include "runtime/job_runner.h"\n')
        write(self.root, "engine/src/runtime/job_runner.h", '#include "plan/plan.h"\n')

    def tearDown(self):
        shutil.rmtree(self.root)

    def test_clean_tree_passes(self):
        status, output = run_check(self.root)
        self.assertEqual(status, 0, output)

    def test_upward_include_fails_with_file_line_and_rule(self):
        write(self.root, "engine/src/types/value.h", '#include "common/status.h"\n\n#include "plan/plan.h"\n')
        status, output = run_check(self.root)
        self.assertEqual(status, 1, output)
        self.assertIn('engine/src/types/value.h:3: #include "plan/plan.h"', output)
        self.assertIn("module 'types' may not include 'plan', which is above it", output)

    def test_angle_bracket_include_of_a_repository_header_is_checked(self):
        write(self.root, "engine/src/common/strings.h", "#include <runtime/job_runner.h>\n")
        status, output = run_check(self.root)
        self.assertEqual(status, 1, output)
        self.assertIn("module 'common' may not include 'runtime'", output)

    def test_peer_include_fails(self):
        write(self.root, "engine/src/formats/json.h", '#include "expr/expression.h"\n')
        status, output = run_check(self.root)
        self.assertEqual(status, 1, output)
        self.assertIn("module 'formats' may not include 'expr', which is a peer of it", output)

    def test_folder_of_no_module_fails(self):
        write(self.root, "engine/src/storage/table.h", '#include "common/status.h"\n')
        status, output = run_check(self.root)
        self.assertEqual(status, 1, output)
        self.assertIn("engine/src/storage/table.h: belongs to no module", output)

    def test_stale_exception_fails(self):
        write(self.root, "engine/src/plan/binder.cc", '#include "plan/plan.h"\n')
        status, output = run_check(self.root)
        self.assertEqual(status, 1, output)
        self.assertIn("allow plan/binder.cc -> runtime/job_runner.h: no such upward include any more", output)

    def test_exception_covers_only_its_own_include(self):
        write(self.root, "engine/src/runtime/metrics.h", "")
        write(
            self.root,
            "engine/src/plan/binder.cc",
            '#include "runtime/job_runner.h"\n#include "runtime/metrics.h"\n',
        )
        status, output = run_check(self.root)
        self.assertEqual(status, 1, output)
        self.assertIn('engine/src/plan/binder.cc:2: #include "runtime/metrics.h"', output)
        self.assertNotIn("binder.cc:1:", output)

    def test_exception_without_a_reason_is_refused(self):
        write(self.root, "engine/README.md", BLOCK.replace("   # tolerated until the registry lands", ""))
        status, output = run_check(self.root)
        self.assertEqual(status, 2, output)
        self.assertIn("needs a comment", output)

    def test_missing_block_is_refused(self):
        write(self.root, "engine/README.md", "# no block\n")
        status, output = run_check(self.root)
        self.assertEqual(status, 2, output)


class RepositoryTest(unittest.TestCase):
    """This repository's own sources and module order: clean, then failing on a plant."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="check_layering_test.")
        for folder in ["engine/src", "datagen/src", "harness/src", "include"]:
            source = os.path.join(REPOSITORY, folder)
            if os.path.isdir(source):
                shutil.copytree(source, os.path.join(self.root, folder))
        shutil.copy(os.path.join(REPOSITORY, "engine/README.md"), os.path.join(self.root, "engine/README.md"))

    def tearDown(self):
        shutil.rmtree(self.root)

    def test_passes_as_it_is_and_fails_with_a_planted_upward_include(self):
        status, output = run_check(self.root)
        self.assertEqual(status, 0, "the copy of the repository should pass before the plant:\n" + output)

        strings = os.path.join(self.root, "engine/src/common/strings.h")
        with open(strings, encoding="utf-8") as source:
            lines = source.read().split("\n")
        pragma = lines.index("#pragma once")
        lines.insert(pragma + 1, '#include "runtime/job_runner.h"')
        with open(strings, "w", encoding="utf-8") as out:
            out.write("\n".join(lines))
        status, output = run_check(self.root)
        self.assertEqual(status, 1, output)
        self.assertIn(
            f'engine/src/common/strings.h:{pragma + 2}: #include "runtime/job_runner.h": '
            "module 'common' may not include 'runtime', which is above it",
            output,
        )


if __name__ == "__main__":
    unittest.main()
