#!/usr/bin/env python3
"""Coarse assignment side by side: IndexFlatL2 over the 1024 k-means centroids of
Fashion-MNIST (d=784, the coarse quantizer of IVF1024), searched for its nprobe nearest
centroids by the 10,000 test images in one batch (2 threads) and by 1,000 of them one at a
time (1 thread), in sextant and faiss-cpu with the same centroids (trained once by faiss,
niter=10, seed 1). Each library runs in its own subprocess; each time is the best of 5
passes. sextant reads few rows through their projections (sextant/impl/ProjectedRows.h);
faiss runs a GEMM (batch) or a SIMD scan (single).

    PYTHONPATH=<build>/python python benchs/bench_coarse.py
"""
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
NPROBES = (1, 8, 16, 32)
SINGLE = 1000


def best_time(fn, passes=5):
    best = float("inf")
    for _ in range(passes):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def worker(lib_name, centroids_path, queries_path):
    lib = __import__(lib_name)
    threads = lib.omp_set_num_threads if lib_name == "faiss" else lib.set_num_threads
    centroids, xq = np.load(centroids_path), np.load(queries_path)
    index = lib.IndexFlatL2(centroids.shape[1])
    index.add(centroids)
    out = {}
    for nprobe in NPROBES:
        threads(2)
        batch = best_time(lambda: index.search(xq, nprobe))
        threads(1)
        single = best_time(lambda: [index.search(xq[i:i + 1], nprobe) for i in range(SINGLE)], passes=3)
        out[nprobe] = {"batch_qps": len(xq) / batch, "single_qps": SINGLE / single}
    print(json.dumps(out))


def main():
    if len(sys.argv) == 4:
        return worker(*sys.argv[1:])
    sys.path.insert(0, str(REPO))
    import faiss
    from contrib import datasets

    xb, xq = (np.array(x) for x in datasets.load_fashion_mnist())
    cache = Path("/tmp/sextant-bench-coarse")
    cache.mkdir(exist_ok=True)
    km = faiss.Kmeans(xb.shape[1], 1024, niter=10, seed=1)
    km.train(xb)
    np.save(cache / "centroids.npy", km.centroids)
    np.save(cache / "queries.npy", xq)
    results = {}
    for lib in ("sextant", "faiss"):
        proc = subprocess.run([sys.executable, __file__, lib, str(cache / "centroids.npy"),
                               str(cache / "queries.npy")], capture_output=True, text=True, check=True)
        results[lib] = json.loads(proc.stdout.strip().splitlines()[-1])
    print("| nprobe | sextant batch QPS | faiss batch QPS | ratio | sextant single QPS | faiss single QPS | ratio |")
    print("|---|---|---|---|---|---|---|")
    for nprobe in NPROBES:
        s, f = results["sextant"][str(nprobe)], results["faiss"][str(nprobe)]
        print(f"| {nprobe} | {s['batch_qps']:,.0f} | {f['batch_qps']:,.0f} | {s['batch_qps'] / f['batch_qps']:.2f}x "
              f"| {s['single_qps']:,.0f} | {f['single_qps']:,.0f} | {s['single_qps'] / f['single_qps']:.2f}x |")


if __name__ == "__main__":
    main()
