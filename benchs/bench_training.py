#!/usr/bin/env python3
"""Training side by side on Fashion-MNIST (60,000 x 784): sextant vs faiss-cpu with the same
parameters, 2 threads, each library in its own subprocess, rounds alternating the order
(A B, B A) and the best time kept.

  kmeans  k=1024 (an IVF1024 coarse quantizer), niter=20, each library's default init (sextant:
          k-means++ on a projected sample, faiss: random points; "sextant:random" in --libs runs
          sextant with faiss's), seed 1234, all points (max 256 per centroid); reported: seconds
          and the final objective (sum of squared distances to the nearest centroid)
  pq      ProductQuantizer(784, 56, 8) trained on all points, niter=25 per sub-quantizer;
          reported: seconds and the mean squared reconstruction error of the base
  opq     OPQMatrix(784, 56) then its PQ56: niter=10 alternations, niter_pq=4, niter_pq_0=20,
          65,536 training points; reported: seconds and the reconstruction error after
          rotation + PQ

    PYTHONPATH=<build>/python python benchs/bench_training.py [--tasks kmeans,pq,opq] [--rounds 2]
        [--libs sextant,faiss]
"""
import argparse
import importlib
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
K, NITER, PQ_M, SEED = 1024, 20, 56, 1234
OPQ = {"niter": 10, "niter_pq": 4, "niter_pq_0": 20, "max_train_points": 65536}


def mse(a, b):
    return float(((a - b) ** 2).sum(1).mean())


def run(lib, task, x, init=None):
    """Trains `task` with `lib` (the sextant or faiss module: the same class names and
    parameters; `init` chooses sextant's k-means initialisation); returns (seconds, quality)."""
    if lib.__name__ == "faiss":
        lib.omp_set_num_threads(2)
    else:
        lib.set_num_threads(2)
    t = time.perf_counter()
    if task == "kmeans":
        km = lib.Kmeans(x.shape[1], K, niter=NITER, seed=SEED, max_points_per_centroid=256,
                        **({"init": init} if init else {}))
        km.train(x)
        elapsed = time.perf_counter() - t
        return elapsed, float(lib.knn(x, km.centroids, 1)[0].sum())
    if task == "pq":
        pq = lib.ProductQuantizer(x.shape[1], PQ_M, 8)
        pq.cp.niter = 25
        pq.train(x)
        elapsed = time.perf_counter() - t
        return elapsed, mse(x, pq.decode(pq.compute_codes(x)))
    opq = lib.OPQMatrix(x.shape[1], PQ_M)
    for name, value in OPQ.items():
        setattr(opq, name, value)
    index = lib.IndexPreTransform(opq, lib.IndexPQ(x.shape[1], PQ_M, 8))
    index.train(x)
    elapsed = time.perf_counter() - t
    return elapsed, mse(x, index.sa_decode(index.sa_encode(x)))


def worker(lib, task):
    sys.path.insert(0, str(REPO))
    import numpy as np
    from contrib import datasets
    x = np.array(datasets.load_fashion_mnist()[0])
    module, _, init = lib.partition(":")
    seconds, quality = run(importlib.import_module(module), task, x, init or None)
    print(json.dumps({"seconds": seconds, "quality": quality}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", default="kmeans,pq,opq")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--libs", default="sextant,faiss",
                    help="libraries, in order; sextant:random = sextant with k-means initialised as faiss does")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    libs = args.libs.split(",")
    print("| task | library | seconds (best) | quality (lower is better) |\n|---|---|---|---|")
    for task in args.tasks.split(","):
        best = {}
        for r in range(args.rounds):
            for lib in (libs if r % 2 == 0 else libs[::-1]):
                out = subprocess.run([sys.executable, __file__, "--worker", lib, task], check=True,
                                     capture_output=True, text=True).stdout
                res = json.loads(out.strip().splitlines()[-1])
                if lib not in best or res["seconds"] < best[lib]["seconds"]:
                    best[lib] = res
        for lib in libs:
            print(f"| {task} | {lib} | {best[lib]['seconds']:.2f} | {best[lib]['quality']:.6g} |", flush=True)
        for lib in libs[:-1]:
            s, f = best[lib], best[libs[-1]]
            print(f"| {task} | {lib} / {libs[-1]} | time {s['seconds'] / f['seconds']:.2f}x | "
                  f"quality {s['quality'] / f['quality'] - 1:+.2%} |", flush=True)


if __name__ == "__main__":
    main()
