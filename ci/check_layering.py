#!/usr/bin/python3
"""The layering check: no module includes a module above it.

The module order is the fenced ```layering block of engine/README.md, so the documentation and
the check cannot drift apart. Its lines, lowest module first:

    common                      a module: the folder engine/src/common/
    expr state datagen=datagen/src
                                peers: each may include modules of earlier lines, none of
                                each other; `name=folder` names a folder outside engine/src/
    allow plan/binder.cc -> connectors/file_source.h   # why, and what removes it
                                a known violation, tolerated until the work named removes it

Every `#include "…"` (and `#include <…>`) of every .h/.cc under the scanned folders is resolved
the way the build resolves it: a quoted include next to the including file first, then under
each include root (engine/src, datagen/src, harness/src, include). An include that resolves to
no file of the repository (the standard library, Abseil, simdjson) is not checked. A file in a
scanned folder that belongs to no module is an error, so a new folder must be placed in the
order; so is an `allow` line that no longer matches an include, so exceptions are deleted once
their reason is gone.

Exit status: 0 clean, 1 violations (each printed as file:line, the include and the rule),
2 a malformed layering block. Python 3 standard library only.
"""

import argparse
import os
import re
import sys

INCLUDE_ROOTS = ["engine/src", "datagen/src", "harness/src", "include"]
SCANNED = ["engine/src", "datagen/src", "harness/src", "include"]
INCLUDE_LINE = re.compile(r'^\s*#\s*include\s*(?:"([^"]+)"|<([^>]+)>)')


class LayeringError(Exception):
    pass


class Layering:
    """The parsed block: modules with their folder and level, and the allowed exceptions."""

    def __init__(self):
        self.level = {}  # module -> index of its line
        self.folder = {}  # module -> folder relative to the repository root
        self.allowed = {}  # (including file, included file) -> line of the README

    def module_of(self, path):
        """The module whose folder holds `path` (relative to the root), or None."""
        best = None
        for module, folder in self.folder.items():
            if path.startswith(folder + "/") and (best is None or len(folder) > len(self.folder[best])):
                best = module
        return best


def parse_layering(readme_path):
    with open(readme_path, encoding="utf-8") as readme:
        lines = readme.read().split("\n")
    layering = Layering()
    inside = False
    found = False
    level = 0
    for number, raw in enumerate(lines, 1):
        stripped = raw.strip()
        if not inside:
            if stripped == "```layering":
                inside = True
                found = True
            continue
        if stripped.startswith("```"):
            inside = False
            break
        text = stripped.split("#", 1)[0].strip()
        if not text:
            continue
        where = f"{readme_path}:{number}"
        if text.startswith("allow "):
            match = re.fullmatch(r"allow\s+(\S+)\s*->\s*(\S+)", text)
            if not match:
                raise LayeringError(f"{where}: expected 'allow FILE -> INCLUDED_FILE', got '{text}'")
            if "#" not in stripped:
                raise LayeringError(f"{where}: an allowed exception needs a comment: why, and what removes it")
            layering.allowed[(match.group(1), match.group(2))] = number
            continue
        for token in text.split():
            name, _, folder = token.partition("=")
            if not re.fullmatch(r"[a-z_]+", name):
                raise LayeringError(f"{where}: bad module name '{name}'")
            if name in layering.level:
                raise LayeringError(f"{where}: module '{name}' is listed twice")
            layering.level[name] = level
            layering.folder[name] = (folder or f"engine/src/{name}").rstrip("/")
        level += 1
    if not found:
        raise LayeringError(f"{readme_path}: no ```layering block")
    if inside:
        raise LayeringError(f"{readme_path}: the ```layering block is not closed")
    if not layering.level:
        raise LayeringError(f"{readme_path}: the ```layering block lists no module")
    return layering


def source_files(root):
    for scanned in SCANNED:
        top = os.path.join(root, scanned)
        for directory, subdirectories, files in os.walk(top):
            subdirectories.sort()
            for name in sorted(files):
                if name.endswith((".h", ".cc")):
                    yield os.path.relpath(os.path.join(directory, name), root)


def resolve(root, including, included, quoted):
    """The repository path `included` names from `including`, or None (not ours)."""
    candidates = []
    if quoted:
        candidates.append(os.path.join(os.path.dirname(including), included))
    candidates += [os.path.join(include_root, included) for include_root in INCLUDE_ROOTS]
    for candidate in candidates:
        candidate = os.path.normpath(candidate)
        if os.path.isfile(os.path.join(root, candidate)):
            return candidate
    return None


def strip_prefix(path):
    """A path as the allow lines write it: without its include root."""
    for include_root in INCLUDE_ROOTS:
        if path.startswith(include_root + "/"):
            return path[len(include_root) + 1 :]
    return path


def check(root, readme):
    """Returns the list of violation messages."""
    layering = parse_layering(readme)
    shown = os.path.relpath(readme, root)
    readme = shown if not shown.startswith("..") else readme
    problems = []
    used = set()
    for path in source_files(root):
        module = layering.module_of(path)
        if module is None:
            problems.append(f"{path}: belongs to no module of the layering block in {readme}; add its folder")
            continue
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as source:
            for number, line in enumerate(source, 1):
                match = INCLUDE_LINE.match(line)
                if not match:
                    continue
                included = match.group(1) or match.group(2)
                target = resolve(root, path, included, quoted=match.group(1) is not None)
                if target is None:
                    continue
                target_module = layering.module_of(target)
                if target_module is None or target_module == module:
                    continue  # a file of no module is reported when it is scanned
                own, other = layering.level[module], layering.level[target_module]
                if other < own:
                    continue
                key = (strip_prefix(path), strip_prefix(target))
                if key in layering.allowed:
                    used.add(key)
                    continue
                relation = "a peer of" if other == own else "above"
                problems.append(
                    f"{path}:{number}: #include {line.strip()[len('#include'):].strip()}: module '{module}' "
                    f"may not include '{target_module}', which is {relation} it in the layering block of "
                    f"{readme}"
                )
    for key, number in sorted(layering.allowed.items(), key=lambda item: item[1]):
        if key not in used:
            problems.append(
                f"{readme}:{number}: allow {key[0]} -> {key[1]}: no such upward include any more; "
                f"delete the exception"
            )
    return problems


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--root", default=here, help="the repository (default: this script's)")
    parser.add_argument("--readme", help="the file with the ```layering block (default: ROOT/engine/README.md)")
    arguments = parser.parse_args()
    root = os.path.abspath(arguments.root)
    readme = arguments.readme or os.path.join(root, "engine", "README.md")
    try:
        problems = check(root, readme)
    except (LayeringError, OSError) as error:
        print(f"check_layering: {error}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"check_layering: {len(problems)} violation(s)", file=sys.stderr)
        return 1
    print("check_layering: no module includes a module above it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
