#!/usr/bin/env python3
"""Prints which top-level modules of src/ each top-level module uses (`crate::X`, `super::X`
from a top-level module's children is not counted), and fails when two modules use each other
(an import cycle) or a stage uses a later stage of the pipeline.

Usage: scripts/module-deps.py   (from the repository root)
"""
import pathlib
import re
import sys

# The pipeline, in order; a module may use those before it (and the shared helpers).
ORDER = ["ingest", "mapping", "select", "policy", "usage", "aws", "synth", "output", "app", "cli"]
SHARED = {"progress", "private_files"}

src = pathlib.Path("src")
deps = {}
for path in src.rglob("*.rs"):
    rel = path.relative_to(src).parts
    if rel[0] in ("lib.rs", "main.rs"):
        continue
    top = rel[0].removesuffix(".rs")
    text = path.read_text()
    # Test modules may use anything.
    text = text.split("#[cfg(test)]\nmod tests")[0]
    for m in re.findall(r"crate::([a-z_]+)", text):
        if m != top:
            deps.setdefault(top, set()).add(m)

bad = []
for a in sorted(deps):
    print(f"{a:14} -> {', '.join(sorted(deps[a]))}")
    for b in deps[a]:
        if b in SHARED or a in SHARED:
            continue
        if a in ORDER and b in ORDER and ORDER.index(b) > ORDER.index(a):
            bad.append(f"{a} uses {b}, a later stage")
for line in bad:
    print("error:", line, file=sys.stderr)
sys.exit(1 if bad else 0)
