#!/usr/bin/env python3
"""Peak memory of add and search for each index type on Fashion-MNIST (60,000 x 784 base,
10,000 queries), the numbers docs/memory.md quotes.

Each index is measured in two fresh processes, so that one phase's peak cannot hide the
other's: (1) train + add, then write the index to a file; (2) read the file and search all
queries at k=10. Reported: the index's size (file bytes), and each phase's peak resident
memory above the process's footprint after loading the data (VmHWM, reset before the phase,
minus VmRSS then), in MiB. The
second phase includes reading: the file's bytes and the index built from them coexist for a
moment, so its peak is at least the index size plus the part of the file being copied.

    PYTHONPATH=<build>/python python benchs/bench_memory.py [--indexes 'Flat;HNSW32;...']
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = ["Flat", "SQ8", "PQ56", "IVF1024,Flat", "IVF1024,SQ8", "IVF1024,PQ56", "IVF1024,PQ56x4fs,RFlat",
           "PCA128,IVF1024,Flat", "HNSW32", "HNSW32,SQ8", "HNSW32,PQ56", "IVF1024_HNSW32,Flat"]


def status_mib(field):
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024  # kB


def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM, the peak resident size, to the current size (Linux >= 4.0)


def phase(kind, description, path):
    sys.path.insert(0, str(REPO))
    import numpy as np
    import sextant as sx
    from contrib import datasets
    # Private copies, and the memory-mapped cache files unmapped: only the index's own memory moves.
    xb, xq = (np.array(a) for a in datasets.load_fashion_mnist())
    base = status_mib("VmRSS")
    reset_peak()
    if kind == "add":
        index = sx.index_factory(xb.shape[1], description)
        index.train(xb)
        index.add(xb)
        sx.write_index(index, path)
    else:
        index = sx.read_index(path)
        index.search(xq, 10)
    return status_mib("VmHWM") - base


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--indexes", default=";".join(DEFAULT), help="factory strings separated by ';'")
    ap.add_argument("--phase", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(phase(*args.phase)))
        return
    descriptions = args.indexes.split(";")
    print("| index | file MiB | train + add peak MiB | read + search peak MiB |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for description in descriptions:
            path = os.path.join(tmp, "index.sxt")
            run = lambda kind: json.loads(subprocess.run(  # noqa: E731
                [sys.executable, __file__, "--phase", kind, description, path], check=True, capture_output=True,
                text=True).stdout.strip().splitlines()[-1])
            add = run("add")
            search = run("search")
            size = os.path.getsize(path) / 2**20
            print(f"| {description} | {size:.1f} | {add:.1f} | {search:.1f} |", flush=True)


if __name__ == "__main__":
    main()
