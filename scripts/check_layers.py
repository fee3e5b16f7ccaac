#!/usr/bin/env python3
"""Checks the include graph of the C++ sources against the layers of docs/architecture.md:
every `#include "..."` of ours points to the file's own layer or one below it, and no
header includes itself back through others. Exit status 1 names each offending include.

    python3 scripts/check_layers.py
"""

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# The vocabulary types every layer above base/ speaks: they sit at the top of sextant/ for
# their public include paths, but below utils/.
VOCABULARY = {"MetricType.h", "IDSelector.h", "IDSelector.cpp", "RangeSearchResult.h", "SearchParams.h",
              "SearchParams.cpp"}
FILES = {"index_io.h", "index_io.cpp"}  # the index-file entry points sit with io/

# Each layer and what it may include (itself and what lies below it).
ALLOWED = {
    "base": {"base"},
    "vocabulary": {"base", "vocabulary"},
    "utils": {"base", "vocabulary", "utils"},
    "impl": {"base", "vocabulary", "utils", "impl"},
    "indexes": {"base", "vocabulary", "utils", "impl", "indexes"},
    "io": {"base", "vocabulary", "utils", "impl", "indexes", "io"},
    "embed": {"base", "vocabulary", "utils", "embed"},
    "gpu": {"base", "vocabulary", "utils", "impl", "indexes", "gpu"},
    "python": {"base", "vocabulary", "utils", "impl", "indexes", "io", "embed", "gpu", "python"},
}
SOURCE_DIRS = ["sextant", "gpu", "python/src"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(path):
    """The layer of a repository-relative path, or None for a file outside the layers."""
    parts = path.split("/")
    if parts[0] == "gpu":
        return "gpu"
    if parts[:2] == ["python", "src"]:
        return "python"
    if parts[0] != "sextant":
        return None
    if len(parts) == 2:
        return "vocabulary" if parts[1] in VOCABULARY else "io" if parts[1] in FILES else "indexes"
    return parts[1] if parts[1] in ALLOWED else None


def resolve(includer, target):
    """The repository-relative path an include names (ours only), or None."""
    for candidate in (REPO / target, (REPO / includer).parent / target):
        if candidate.is_file():
            return candidate.resolve().relative_to(REPO).as_posix()
    return None


def main():
    sources = sorted(p.relative_to(REPO).as_posix() for d in SOURCE_DIRS for p in (REPO / d).rglob("*")
                     if p.suffix in {".h", ".cpp", ".cu", ".cuh"})
    graph, problems = {}, []
    for path in sources:
        layer = layer_of(path)
        if layer is None:
            problems.append(f"{path}: in no layer (docs/architecture.md)")
            continue
        graph[path] = []
        for target in INCLUDE.findall((REPO / path).read_text(encoding="utf-8")):
            found = resolve(path, target)
            if found is None:
                continue  # a system or third-party header
            graph[path].append(found)
            if layer_of(found) not in ALLOWED[layer]:
                problems.append(f"{path} ({layer}) includes {found} ({layer_of(found)}): an arrow up the layers")
    # No include cycles: a depth-first search over the headers.
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in graph.get(node, []):
            if state.get(nxt) == "open":
                problems.append("include cycle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node, [node])
    for line in problems:
        print(line)
    print(f"{len(graph)} files, {sum(map(len, graph.values()))} includes of ours checked: "
          + ("no arrow up the layers, no cycle" if not problems else f"{len(problems)} problems"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
