#!/usr/bin/env python3
"""A sharded IVF-PQ index (re-ranked with SQ8 codes) of a seeded 10,000,000 x 96 synthetic set, built and served by
sextant.distributed on a local Ray instance, against one unsharded index of the same data.

Every step that touches the vectors runs in a Ray task or actor, never in this process:
generating the set (written to the cache as .npy, chunk by chunk), exact ground truth of
1,000 queries (numpy, float64, streamed over the set), the build (train on a sample in one
task, one task per shard adding its part), serving (one actor per shard). Reported:

- peak resident memory (ru_maxrss) of this driver, of the training task, of each shard's
  build task and of each serving actor: no process holds the whole set;
- recall@10 against the exact ground truth, and QPS (1,000 queries in one call, best of
  --rounds) of the sharded index and of one unsharded index holding the same codes (the
  shard files merged, searched inside one actor with as many threads as the cluster has
  CPUs), for a sweep of nprobe: their ratio is what fan-out and merge cost.

    PYTHONPATH=build/python python benchs/bench_distributed.py            # 10M x 96, 4 shards
    PYTHONPATH=build/python python benchs/bench_distributed.py --n 1000000 --shards 2

Results: benchs/results/distributed-<n>.json and a table on stdout.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def peak_rss_mib():
    from sextant.distributed.build import peak_rss_bytes

    return peak_rss_bytes() / 2**20


def make_data(n, d, clusters, seed):
    """The base set in the cache (generated once, chunk by chunk) and the queries."""
    sys.path.insert(0, str(REPO))
    from contrib import datasets

    base = datasets.load_synthetic("clustered", n, d, seed, n_clusters=clusters)
    queries = datasets.clustered(1000, d, clusters, seed=seed + 1)
    return str(base.filename), queries, peak_rss_mib()


def ground_truth(path, queries, k):
    sys.path.insert(0, str(REPO))
    from contrib import datasets, evaluation

    _, I = evaluation.ground_truth(datasets.read_npy(path), queries, k, "l2")
    return I, peak_rss_mib()


class Reference:
    """One unsharded index: the shard files merged, in one process."""

    def __init__(self, paths, offsets, threads):
        import sextant as sx

        sx.set_num_threads(threads)
        self.index = sx.read_index(paths[0])
        for path, offset in zip(paths[1:], offsets[1:]):
            self.index.merge_from(sx.read_index(path), offset)

    def search(self, queries, k, knobs, rounds):
        best = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            _, I = self.index.search(queries, k, **knobs)
            best = min(best, time.perf_counter() - start)
        return I, best, peak_rss_mib()


def recall_at(I, gt, k):
    return float(np.mean([len(set(a[:k]) & set(b[:k])) / k for a, b in zip(I, gt)]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--d", type=int, default=96)
    ap.add_argument("--clusters", type=int, default=1000, help="components of the synthetic mixture")
    ap.add_argument("--factory", default="IVF4096,PQ32,Refine(SQ8)")
    ap.add_argument("--k-factor", type=float, default=4, help="re-ranked candidates per result (Refine recipes)")
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--train-sample", type=int, default=200_000)
    ap.add_argument("--nprobe", default="8,16,32,64")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cpus", type=int, default=os.cpu_count(), help="CPUs of the local Ray instance")
    ap.add_argument("--out", default=str(REPO / "benchs" / "results"))
    args = ap.parse_args()

    import ray

    import sextant as sx
    import sextant.distributed as sxd
    from sextant.contrib import datasets

    env = {"PYTHONPATH": os.environ["PYTHONPATH"]} if os.environ.get("PYTHONPATH") else {}
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env})
    k, nprobes = 10, [int(v) for v in args.nprobe.split(",")]
    extra = {"k_factor": args.k_factor} if "Refine" in args.factory or "RFlat" in args.factory else {}
    report = {"n": args.n, "d": args.d, "factory": args.factory, "k_factor": args.k_factor, "shards": args.shards,
              "cpus": args.cpus,
              "sextant": sx.__version__, "simd": sx.simd_level(), "ray": ray.__version__}

    t = time.perf_counter()
    path, queries, rss = ray.get(ray.remote(max_calls=1)(make_data).options(num_cpus=1).remote(
        args.n, args.d, args.clusters, seed=7))
    report["data"] = {"path": path, "seconds": time.perf_counter() - t, "peak_rss_mib": rss}
    print(f"data: {args.n:,} x {args.d} at {path} ({report['data']['seconds']:.0f} s)", flush=True)
    t = time.perf_counter()
    gt, rss = ray.get(ray.remote(max_calls=1)(ground_truth).options(num_cpus=args.cpus).remote(path, queries, k))
    report["ground_truth"] = {"seconds": time.perf_counter() - t, "peak_rss_mib": rss}
    print(f"ground truth: {report['ground_truth']['seconds']:.0f} s", flush=True)

    out_dir = datasets.cache_dir("distributed", f"{args.factory.replace(',', '_')}-n{args.n}-s{args.shards}")
    t = time.perf_counter()
    manifest = sxd.build([path], args.factory, shards=args.shards, out_dir=out_dir, train_sample=args.train_sample,
                         overwrite=True)
    build = manifest.data["build"]
    report["build"] = {"seconds": time.perf_counter() - t, "train_seconds": build["train_seconds"],
                       "train_peak_rss_mib": build["train_peak_rss_bytes"] / 2**20,
                       "shard_seconds": build["shard_seconds"],
                       "shard_peak_rss_mib": [b / 2**20 for b in build["shard_peak_rss_bytes"]],
                       "bytes": sum(s["bytes"] for s in manifest.shards)}
    print(f"build: {report['build']['seconds']:.0f} s (training {build['train_seconds']:.0f} s), "
          f"{report['build']['bytes'] / 2**20:.0f} MiB of shard files", flush=True)

    rows = []
    with sxd.ShardedIndex.open(manifest, num_cpus=args.cpus / args.shards) as index:
        for nprobe in nprobes:
            index.search(queries[:10], k, nprobe=nprobe, **extra)  # warm: pages of the mapped shards
            best = float("inf")
            for _ in range(args.rounds):
                start = time.perf_counter()
                _, I = index.search(queries, k, nprobe=nprobe, **extra)
                best = min(best, time.perf_counter() - start)
            rows.append({"nprobe": nprobe, "recall": recall_at(I, gt, k), "sharded_qps": len(queries) / best})
        report["serving_peak_rss_mib"] = [r["peak_rss_bytes"] / 2**20 for shard in index.stats() for r in shard]
    reference = ray.remote(Reference).options(num_cpus=args.cpus).remote(
        [manifest.shard_path(s) for s in range(len(manifest.shards))], [s["id_offset"] for s in manifest.shards],
        args.cpus)
    for row in rows:
        I, seconds, rss = ray.get(reference.search.remote(queries, k, dict(extra, nprobe=row["nprobe"]), args.rounds))
        row.update(single_recall=recall_at(I, gt, k), single_qps=len(queries) / seconds)
        row["ratio"] = row["sharded_qps"] / row["single_qps"]
    report["single_peak_rss_mib"] = rss
    report["rows"] = rows
    report["driver_peak_rss_mib"] = peak_rss_mib()

    print(f"\n{args.factory}, {args.n:,} x {args.d}, {args.shards} shards, {args.cpus} CPUs, "
          f"1,000 queries, k={k}")
    print(f"{'nprobe':>7} {'recall@10':>10} {'sharded QPS':>12} {'one index QPS':>14} {'ratio':>6}")
    for r in rows:
        print(f"{r['nprobe']:>7} {r['recall']:>10.4f} {r['sharded_qps']:>12,.0f} {r['single_qps']:>14,.0f} "
              f"{r['ratio']:>6.2f}")
    print(f"peak RSS MiB: driver {report['driver_peak_rss_mib']:.0f}, training {report['build']['train_peak_rss_mib']:.0f}, "
          f"shard builds {', '.join(f'{v:.0f}' for v in report['build']['shard_peak_rss_mib'])}, serving actors "
          f"{', '.join(f'{v:.0f}' for v in report['serving_peak_rss_mib'])}, one index {rss:.0f}, "
          f"data generation {report['data']['peak_rss_mib']:.0f}, ground truth {report['ground_truth']['peak_rss_mib']:.0f}")
    os.makedirs(args.out, exist_ok=True)
    result = Path(args.out) / f"distributed-{args.n}.json"
    result.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {result}")


if __name__ == "__main__":
    main()
