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
         ("IVF4096,PQ48", "nprobe", [4, 8, 16, 32, 64, 128], {}),
         ("HNSW32", "efSearch", [16, 24, 32, 48, 64, 96, 128], {})],
    768: [("IVF1024,PQ96x4fs,Refine(SQ8)", "nprobe", [4, 8, 16, 32, 64], {"k_factor": 8}),
          ("OPQ64_256,IVF1024,PQ64,Refine(SQ4)", "nprobe", [4, 8, 16, 32, 64], {"k_factor": 8}),
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
            if recall >= 0.95:
                break
        at = next((s for s in sweep if s["recall"] >= 0.9), None)
        rows.append({"d": d, "n": n, "factory": factory, "knob": knob, "extra": extra,
                     "bytes_per_vector": size / n, "train_s": train_s,
                     "add_per_core_per_s": n / add_s / threads, "sweep": sweep, "at_0.9": at})
    return rows


def model(rows, node_memory_gib, usable, cores, qps_targets, n_total=1e9):
    """The 1B table: per recipe, the index's memory, shards, nodes for each QPS target, build core-hours.

    A shard fills a node's usable memory. IVF shards keep the measured lists' length (nlist grows
    with the shard) and probe the measured nprobe, so they scan as many codes per query as
    measured; their coarse quantizer becomes an HNSW over nlist centroids, costed as the HNSW
    recipe of the same d at that size. HNSW's cost grows with log(n). Every query visits every
    shard: a node holding one shard replica answers cores x (QPS per core on that shard)."""
    hnsw = {r["d"]: r for r in rows if r["knob"] == "efSearch" and r["at_0.9"]}

    def hnsw_seconds(d, n):  # one query on one core, an HNSW of n vectors at recall 0.9
        r = hnsw[d]
        return math.log(n) / math.log(r["n"]) / r["at_0.9"]["qps_per_core"]

    table = []
    for r in rows:
        if r["at_0.9"] is None:
            continue
        index_bytes = r["bytes_per_vector"] * n_total
        shards = math.ceil(index_bytes / (node_memory_gib * 2**30 * usable))
        shard_n = n_total / shards
        seconds = 1 / r["at_0.9"]["qps_per_core"]
        if r["knob"] == "efSearch":
            seconds = hnsw_seconds(r["d"], shard_n)
        else:
            nlist = int(r["factory"].split("IVF")[1].split(",")[0]) * shard_n / r["n"]
            seconds += hnsw_seconds(r["d"], nlist)
        replicas = [math.ceil(q * seconds / cores) for q in qps_targets]
        table.append({"d": r["d"], "factory": r["factory"], "bytes_per_vector": r["bytes_per_vector"],
                      "index_tib": index_bytes / 2**40, "shards": shards, "ms_per_query_shard": 1000 * seconds,
                      "nodes": [shards * k for k in replicas],
                      "build_core_hours": n_total / r["add_per_core_per_s"] / 3600})
    print(f"{n_total:,.0f} vectors; nodes of {node_memory_gib} GiB ({usable:.0%} for the index) and {cores} cores; "
          "recall@10 >= 0.9 as measured")
    print(f"{'d':>4} {'recipe':<36} {'B/vec':>6} {'TiB':>6} {'shards':>6} {'ms/query/shard':>14} "
          + " ".join(f"{'nodes@' + format(q, ','):>12}" for q in qps_targets) + f" {'add core-h':>10}")
    for t in table:
        print(f"{t['d']:>4} {t['factory']:<36} {t['bytes_per_vector']:>6.0f} {t['index_tib']:>6.2f} {t['shards']:>6} "
              f"{t['ms_per_query_shard']:>14.2f} " + " ".join(f"{v:>12,}" for v in t["nodes"])
              + f" {t['build_core_hours']:>10,.0f}")
    return table


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
        rows = []
        for d in (int(v) for v in args.dims.split(",")):
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
