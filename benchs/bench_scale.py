#!/usr/bin/env python3
"""The measured inputs of docs/scale.md's cost model, and the model itself.

For each recipe (an index_factory string) on a seeded clustered synthetic set of dimension 96
and 768: bytes per vector (the index file's size / n), add throughput per core, training
time, and single-thread batch QPS (1,000 queries, best of 3) at the smallest search knob that
reaches recall@10 >= 0.9 against exact ground truth, i.e. QPS per core.

    PYTHONPATH=build/python python benchs/bench_scale.py              # measure (about 20 min)
    PYTHONPATH=build/python python benchs/bench_scale.py --model      # the 1B table from the JSON

The model (printed by --model, quoted in docs/scale.md; see model()) scales the measurements
to 1 billion vectors. Its assumptions are stated there; they are not measurements at 1B.
"""
import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RECIPES = {
    96: [("IVF4096,PQ32,Refine(SQ8)", "nprobe", [4, 8, 16, 32, 64, 128], {"k_factor": 4}),
         ("IVF4096,PQ48x4fs,Refine(SQ8)", "nprobe", [4, 8, 16, 32, 64, 128], {"k_factor": 4}),
         ("IVF4096,PQ48", "nprobe", [4, 8, 16, 32, 64, 128], {}),
         ("HNSW32", "efSearch", [16, 24, 32, 48, 64, 96, 128], {})],
    768: [("IVF1024,PQ96x4fs,Refine(SQ8)", "nprobe", [4, 8, 16, 32, 64], {"k_factor": 8}),
          ("HNSW32", "efSearch", [16, 24, 32, 48, 64, 96, 128], {})],
}
SIZES = {96: 1_000_000, 768: 200_000}


def measure(d, n, recipes, threads):
    sys.path.insert(0, str(REPO))
    import sextant as sx
    from contrib import datasets, evaluation

    xb = np.ascontiguousarray(datasets.load_synthetic("clustered", n, d, 21, n_clusters=1000))
    xq = datasets.clustered(1000, d, 1000, seed=22)
    _, gt = evaluation.ground_truth(xb, xq, 10, "l2")
    rows = []
    for factory, knob, values, extra in recipes:
        sx.set_num_threads(threads)
        index = sx.index_factory(d, factory)
        start = time.perf_counter()
        index.train(xb[:min(n, 200_000)])
        train_s = time.perf_counter() - start
        start = time.perf_counter()
        index.add(xb)
        add_s = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as tmp:
            sx.write_index(index, os.path.join(tmp, "index.sxt"))
            size = os.path.getsize(os.path.join(tmp, "index.sxt"))
        sx.set_num_threads(1)
        sweep = []
        for value in values:
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                _, I = index.search(xq, 10, **{knob: value}, **extra)
                best = min(best, time.perf_counter() - start)
            recall = evaluation.recall_at(I, gt, 10)
            sweep.append({knob: value, "recall": recall, "qps_per_core": len(xq) / best})
            print(f"  d={d} {factory} {knob}={value}: recall@10 {recall:.4f}, {len(xq) / best:,.0f} QPS/core",
                  flush=True)
            if recall >= 0.95 and len(sweep) >= 4:
                break
        at = next((s for s in sweep if s["recall"] >= 0.9), None)
        rows.append({"d": d, "n": n, "factory": factory, "knob": knob, "extra": extra,
                     "bytes_per_vector": size / n, "train_s": train_s,
                     "add_per_core_per_s": n / add_s / threads, "sweep": sweep, "at_0.9": at})
    return rows


def seconds_per_code(r):
    """IVF: the time a query spends per code it scans, and the rest (one core), fitted over the nprobe sweep."""
    nlist = int(r["factory"].split("IVF")[1].split(",")[0])
    codes = np.array([s["nprobe"] * r["n"] / nlist for s in r["sweep"]])
    seconds = np.array([1 / s["qps_per_core"] for s in r["sweep"]])
    slope, intercept = np.polyfit(codes, seconds, 1)
    return max(slope, 0.0), max(intercept, 0.0), nlist


def model(rows, node_memory_gib, usable, cores, qps_targets, scanned=(1e5, 1e6), n_total=1e9):
    """The 1B tables: memory and shards per recipe; then nodes for each QPS target.

    A shard fills a node's usable memory; every query visits every shard, so a node holding one
    replica of a shard answers cores / (seconds per query on that shard) queries a second.
    IVF: a query costs its fixed part plus the codes it scans times the time per code, both
    fitted on the measured sweep, plus its coarse quantizer, an HNSW over the shard's lists
    (lists keep the measured length), costed as the HNSW recipe of the same d at that size.
    The codes a query must scan for recall@10 0.9 depend on the data: as measured on the
    synthetic set (nprobe x list length), and at 1e5 and 1e6 codes, the range that Faiss's
    billion-scale operating points imply. HNSW: the measured cost, times log(n) / log(n measured).
    Adding: IVF, the measured rate per core plus one coarse-quantizer search per vector; HNSW, the
    measured rate scaled as its searches."""
    hnsw = {r["d"]: r for r in rows if r["knob"] == "efSearch" and r["at_0.9"]}

    def hnsw_seconds(d, n):  # one query on one core, an HNSW of n vectors at recall 0.9
        r = hnsw[d]
        return math.log(n) / math.log(r["n"]) / r["at_0.9"]["qps_per_core"]

    print(f"\n{n_total:,.0f} vectors; nodes of {node_memory_gib} GiB ({usable:.0%} for the index) and {cores} cores")
    header = f"{'d':>4} {'recipe':<32} {'B/vec':>6} {'TiB':>6} {'shards':>6} {'add core-h':>10}"
    print(header)
    plans = []
    for r in rows:
        if r["at_0.9"] is None:
            continue
        index_bytes = r["bytes_per_vector"] * n_total
        shards = math.ceil(index_bytes / (node_memory_gib * 2**30 * usable))
        shard_n = n_total / shards
        ivf = r["knob"] == "nprobe"
        if ivf:  # adding pays one coarse-quantizer search per vector more than it did over the measured lists
            per_code, fixed, nlist = seconds_per_code(r)
            coarse = hnsw_seconds(r["d"], nlist * shard_n / r["n"])
        add_seconds = n_total * (1 / r["add_per_core_per_s"] + coarse) if ivf else \
            n_total / r["add_per_core_per_s"] * math.log(shard_n) / math.log(r["n"])  # an insertion is a search
        print(f"{r['d']:>4} {r['factory']:<32} {r['bytes_per_vector']:>6.0f} {index_bytes / 2**40:>6.2f} {shards:>6} "
              f"{add_seconds / 3600:>10,.0f}")
        if not ivf:
            plans.append((r, shards, [("measured", hnsw_seconds(r["d"], shard_n))]))
            continue
        measured_codes = r["at_0.9"]["nprobe"] * r["n"] / nlist
        plans.append((r, shards, [(f"{c:,.0f} codes", fixed + c * per_code + coarse)
                                  for c in (measured_codes, *scanned)]))
    print(f"\n{'d':>4} {'recipe':<32} {'codes scanned/query':>20} {'ms/query/shard':>14} "
          + " ".join(f"{'nodes@' + format(q, ','):>12}" for q in qps_targets))
    for r, shards, cases in plans:
        for label, seconds in cases:
            nodes = [shards * math.ceil(q * seconds / cores) for q in qps_targets]
            print(f"{r['d']:>4} {r['factory']:<32} {label:>20} {1000 * seconds:>14.3f} "
                  + " ".join(f"{v:>12,}" for v in nodes))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="store_true", help="print the 1B table from the measured JSON")
    ap.add_argument("--dims", default="96,768")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for train and add")
    ap.add_argument("--json", default=str(REPO / "benchs" / "results" / "scale.json"))
    ap.add_argument("--node-memory", type=int, default=256, help="GiB of memory per node (model)")
    ap.add_argument("--cores", type=int, default=32, help="cores per node (model)")
    args = ap.parse_args()
    if not args.model:
        dims = [int(v) for v in args.dims.split(",")]
        rows = [r for r in json.loads(Path(args.json).read_text()) if r["d"] not in dims] \
            if os.path.exists(args.json) else []
        for d in dims:
            rows += measure(d, SIZES[d], RECIPES[d], args.threads)
        os.makedirs(os.path.dirname(args.json), exist_ok=True)
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
        print(f"wrote {args.json}")
    rows = json.loads(Path(args.json).read_text())
    for r in rows:
        at = r["at_0.9"]
        knob = f"{r['knob']}={at[r['knob']]}" if at else "recall 0.9 not reached"
        qps = f"{at['qps_per_core']:,.0f}" if at else "-"
        print(f"d={r['d']:<4} n={r['n']:<9,} {r['factory']:<38} {r['bytes_per_vector']:>6.0f} B/vector, "
              f"{knob}, {qps} QPS/core, add {r['add_per_core_per_s']:,.0f}/s/core, train {r['train_s']:.0f} s")
    model(rows, args.node_memory, 0.7, args.cores, [1_000, 10_000])


if __name__ == "__main__":
    main()
