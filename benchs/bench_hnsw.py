#!/usr/bin/env python3
"""HNSW side by side: sextant IndexHNSWFlat vs hnswlib vs faiss-cpu IndexHNSWFlat.

For each dataset and M (same efConstruction everywhere) every library builds
its graph in its own subprocess, then sweeps efSearch in two modes:
  batch:  all queries in one call, --threads threads
  single: one query per call, one thread (a --nq-single subset, like ann-benchmarks)
Rounds alternate the order of the libraries (A B C, C B A, ...) and the best of
the rounds is kept. Printed: build time, memory per vector, the recall/QPS
curves, QPS at recall@10 = 0.9 and 0.95 (interpolated along each curve in
log QPS) and the ratio sextant / peer.

    PYTHONPATH=<build>/python python benchs/bench_hnsw.py                 # everything
    PYTHONPATH=<build>/python python benchs/bench_hnsw.py --datasets fashion-mnist --M 16 --rounds 1

Datasets (cached as .npy with exact top-100 ground truth under --cache):
  fashion-mnist  60,000 x 784 base, 10,000 queries, L2 (8-bit pixels as float32)
  synth-ip       100,000 x 128 base, 10,000 queries, inner product: seeded
                 clustered float data from a 32-d latent space, unnormalised

The measuring pieces (Adapter classes, measure_curve, qps_at_recall) do not
depend on the command line, so a harness can call them directly.
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import time

import numpy as np

K = 10
DEFAULT_EFS = [10, 12, 14, 16, 20, 24, 32, 40, 48, 64, 96, 128, 192, 256]
FASHION_DIR = "/usr/share/datasets/fashion-mnist"


# ----------------------------------------------------------------------------- data

def _read_idx_images(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    n, rows, cols = np.frombuffer(raw[4:16], dtype=">i4")
    return np.frombuffer(raw[16:], dtype=np.uint8).reshape(n, rows * cols).astype(np.float32)


def _synthetic_ip(n, nq, d=128, latent=32, clusters=1000, seed=1234):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, latent)).astype(np.float32)
    project = (rng.standard_normal((latent, d)) / np.sqrt(latent)).astype(np.float32)

    def draw(m):
        z = centres[rng.integers(0, clusters, m)] + 0.5 * rng.standard_normal((m, latent), dtype=np.float32)
        x = z @ project + 0.05 * rng.standard_normal((m, d), dtype=np.float32)
        return (x * rng.lognormal(0.0, 0.2, (m, 1)).astype(np.float32)).astype(np.float32)

    return draw(n), draw(nq)


def _exact_top100(xb, xq, metric):
    """Exact top-100 with numpy in float32 blocks (argpartition, then sort), ties to the smaller id."""
    gt = np.empty((len(xq), 100), dtype=np.int64)
    norms = (xb.astype(np.float64) ** 2).sum(1).astype(np.float32) if metric == "l2" else None
    for i in range(0, len(xq), 256):
        q = xq[i:i + 256]
        scores = q @ xb.T
        key = norms[None, :] - 2 * scores if metric == "l2" else -scores
        part = np.argpartition(key, 100, axis=1)[:, :100]
        # Re-rank the short list exactly in float64.
        cand = xb[part].astype(np.float64)
        q64 = q.astype(np.float64)[:, None, :]
        exact = ((cand - q64) ** 2).sum(-1) if metric == "l2" else -(cand * q64).sum(-1)
        order = np.lexsort((part, exact), axis=1)
        gt[i:i + 256] = np.take_along_axis(part, order, 1)
    return gt


def load_dataset(name, cache):
    """(xb, xq, gt, metric) with metric 'l2' or 'ip'; converted data and ground truth are cached."""
    folder = os.path.join(cache, name)
    files = {k: os.path.join(folder, k + ".npy") for k in ("xb", "xq", "gt")}
    meta = {"fashion-mnist": "l2", "synth-ip": "ip"}
    if name not in meta:
        raise SystemExit(f"unknown dataset {name!r}; choose from {sorted(meta)}")
    metric = meta[name]
    if not all(os.path.exists(f) for f in files.values()):
        os.makedirs(folder, exist_ok=True)
        if name == "fashion-mnist":
            xb = _read_idx_images(os.path.join(FASHION_DIR, "train-images-idx3-ubyte.gz"))
            xq = _read_idx_images(os.path.join(FASHION_DIR, "t10k-images-idx3-ubyte.gz"))
        else:
            xb, xq = _synthetic_ip(100_000, 10_000)
        t = time.time()
        gt = _exact_top100(xb, xq, metric)
        print(f"# ground truth for {name}: {time.time() - t:.0f} s", file=sys.stderr)
        for key, arr in (("xb", xb), ("xq", xq), ("gt", gt)):
            np.save(files[key], np.ascontiguousarray(arr))
    # Read into memory (not mapped): the RSS growth of a build is then the index alone.
    xb, xq, gt = (np.load(files[k]) for k in ("xb", "xq", "gt"))
    return xb, xq, gt, metric


def recall_at_k(I, gt, k=K):
    return float(np.mean([len(set(a[:k]) & set(b[:k])) / k for a, b in zip(I, gt)]))


# ----------------------------------------------------------------------------- libraries

def rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class SextantAdapter:
    name = "sextant"

    def __init__(self):
        import sextant as sx
        self.sx = sx

    def facts(self):
        info = self.sx.build_info()
        return {"version": info.get("version"), "simd": self.sx.simd_level()}

    def build(self, xb, metric, M, ef_construction, threads):
        sx = self.sx
        sx.set_num_threads(threads)
        self.index = sx.IndexHNSWFlat(xb.shape[1], M, sx.METRIC_L2 if metric == "l2" else sx.METRIC_INNER_PRODUCT)
        self.index.efConstruction = ef_construction
        self.index.add(xb)

    def index_bytes(self):
        return self.index.memory_bytes

    def prepare(self, threads):
        self.sx.set_num_threads(threads)

    def search(self, xq, k, ef):
        # The index default, like hnswlib's set_ef and faiss's hnsw.efSearch (a
        # per-call efSearch=... keyword gives the same results, ~2 us later).
        self.index.efSearch = ef
        return self.index.search(xq, k)[1]


class HnswlibAdapter:
    name = "hnswlib"

    def __init__(self):
        import hnswlib
        self.lib = hnswlib

    def facts(self):
        import importlib.metadata as md
        return {"version": md.version("hnswlib"), "simd": "compiled into the wheel (see README of hnswlib)"}

    def build(self, xb, metric, M, ef_construction, threads):
        self.index = self.lib.Index(space=metric, dim=xb.shape[1])
        self.index.init_index(max_elements=len(xb), M=M, ef_construction=ef_construction, random_seed=100)
        self.index.set_num_threads(threads)
        self.index.add_items(xb, num_threads=threads)

    def index_bytes(self):
        return int(self.index.index_file_size())

    def prepare(self, threads):
        self.index.set_num_threads(threads)

    def search(self, xq, k, ef):
        self.index.set_ef(ef)
        return self.index.knn_query(xq, k)[0]


class FaissAdapter:
    name = "faiss"

    def __init__(self):
        import faiss
        self.faiss = faiss

    def facts(self):
        return {"version": self.faiss.__version__, "simd": self.faiss.get_compile_options()}

    def build(self, xb, metric, M, ef_construction, threads):
        faiss = self.faiss
        faiss.omp_set_num_threads(threads)
        self.index = faiss.IndexHNSWFlat(xb.shape[1], M, faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = ef_construction
        self.index.add(xb)

    def index_bytes(self):
        return int(self.faiss.serialize_index(self.index).nbytes)

    def prepare(self, threads):
        self.faiss.omp_set_num_threads(threads)

    def search(self, xq, k, ef):
        self.index.hnsw.efSearch = ef
        return self.index.search(xq, k)[1]


ADAPTERS = {"sextant": SextantAdapter, "hnswlib": HnswlibAdapter, "faiss": FaissAdapter}


# ----------------------------------------------------------------------------- measuring

def measure_curve(adapter, xq, gt, efs, mode, threads):
    """[(ef, recall@10, qps)]; batch: one call for all queries; single: one call per query, one thread."""
    out = []
    if mode == "batch":
        adapter.prepare(threads)
        adapter.search(xq[:200], K, efs[0])  # warm-up (threads, caches)
        for ef in efs:
            t = time.perf_counter()
            I = adapter.search(xq, K, ef)
            dt = time.perf_counter() - t
            out.append((ef, recall_at_k(I, gt), len(xq) / dt))
    else:
        adapter.prepare(1)
        rows = [xq[i:i + 1] for i in range(len(xq))]
        for q in rows[:50]:
            adapter.search(q, K, efs[0])
        for ef in efs:
            I = np.empty((len(xq), K), dtype=np.int64)
            t = time.perf_counter()
            for i, q in enumerate(rows):
                I[i] = adapter.search(q, K, ef)[0]
            dt = time.perf_counter() - t
            out.append((ef, recall_at_k(I, gt), len(xq) / dt))
    return out


def qps_at_recall(curve, target):
    """QPS where the recall curve crosses target, interpolated linearly in (recall, log QPS)
    between the two nearest points around it; None when the curve never reaches target.
    When every point is above target, the QPS of the fastest point (a lower bound)."""
    pts = sorted((r, q) for _, r, q in curve)
    best_above = max((q for r, q in pts if r >= target), default=None)
    if best_above is None:
        return None
    below = [(r, q) for r, q in pts if r < target]
    above = [(r, q) for r, q in pts if r >= target]
    if not below:
        return best_above
    r0, q0 = max(below)  # highest recall under the target
    r1, q1 = min(above)  # lowest recall at or over it
    w = (target - r0) / (r1 - r0) if r1 > r0 else 1.0
    return float(np.exp(np.log(q0) + w * (np.log(q1) - np.log(q0))))


def run_worker(args):
    """One library, one dataset, one M: build, then both sweeps; prints one JSON line."""
    spec = json.loads(args.worker)
    xb, xq, gt, metric = load_dataset(spec["dataset"], spec["cache"])
    adapter = ADAPTERS[spec["lib"]]()
    rss0 = rss_bytes()
    t = time.perf_counter()
    adapter.build(xb, metric, spec["M"], spec["efc"], spec["threads"])
    build_s = time.perf_counter() - t
    rss1 = rss_bytes()
    result = {
        "lib": spec["lib"], "dataset": spec["dataset"], "M": spec["M"], "efc": spec["efc"],
        "facts": adapter.facts(), "build_s": build_s,
        "rss_per_vector": (rss1 - rss0) / len(xb), "index_bytes_per_vector": adapter.index_bytes() / len(xb),
        "batch": measure_curve(adapter, xq[:spec["nq_batch"]], gt[:spec["nq_batch"]], spec["efs"], "batch",
                               spec["threads"]),
        "single": measure_curve(adapter, xq[:spec["nq_single"]], gt[:spec["nq_single"]], spec["efs"], "single", 1),
    }
    print(json.dumps(result))


def spawn(spec):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OMP_WAIT_POLICY="PASSIVE"))
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        raise SystemExit(f"worker for {spec['lib']} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def merge_best(runs):
    """Best of several rounds: per ef the highest QPS (recall is the same up to threads), min build time and memory."""
    best = dict(runs[0])
    best["build_s"] = min(r["build_s"] for r in runs)
    best["rss_per_vector"] = min(r["rss_per_vector"] for r in runs)
    for mode in ("batch", "single"):
        best[mode] = [(ef, min(rc for r in runs for e, rc, _ in r[mode] if e == ef),
                       max(q for r in runs for e, _, q in r[mode] if e == ef)) for ef, _, _ in runs[0][mode]]
    return best


def report(results, libs, targets=(0.9, 0.95)):
    lines = []
    for (dataset, M), per_lib in results.items():
        lines.append(f"\n## {dataset}  M={M}  efConstruction={per_lib[libs[0]]['efc']}")
        lines.append(f"{'library':10s} {'build s':>8s} {'RSS B/vec':>10s} {'index B/vec':>12s}")
        for lib in libs:
            r = per_lib[lib]
            lines.append(f"{lib:10s} {r['build_s']:8.1f} {r['rss_per_vector']:10.0f} {r['index_bytes_per_vector']:12.0f}")
        for mode in ("batch", "single"):
            lines.append(f"  {mode}: efSearch -> recall@10 / QPS")
            for lib in libs:
                pts = " ".join(f"{ef}:{rc:.3f}/{q:.0f}" for ef, rc, q in per_lib[lib][mode])
                lines.append(f"    {lib:8s} {pts}")
            for target in targets:
                qps = {lib: qps_at_recall(per_lib[lib][mode], target) for lib in libs}
                cells = [f"{lib} {qps[lib]:.0f}" if qps[lib] else f"{lib} n/a" for lib in libs]
                ratios = [f"x{qps['sextant'] / qps[lib]:.2f} vs {lib}" for lib in libs
                          if lib != "sextant" and qps.get("sextant") and qps[lib]]
                lines.append(f"  {mode} QPS @ recall {target}: " + ", ".join(cells) + ("  |  " + ", ".join(ratios) if ratios else ""))
    return "\n".join(lines)


def plot(results, libs, path):
    """One panel per (dataset, M, mode): recall@10 against QPS (log), one curve per library."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    keys = list(results)
    fig, axes = plt.subplots(len(keys), 2, figsize=(10, 3.2 * len(keys)), squeeze=False)
    for row, (dataset, M) in enumerate(keys):
        for col, mode in enumerate(("batch", "single")):
            ax = axes[row][col]
            for lib in libs:
                pts = results[(dataset, M)][lib][mode]
                ax.plot([r for _, r, _ in pts], [q for _, _, q in pts], marker="o", ms=3, label=lib)
            ax.set_yscale("log")
            ax.set_xlabel("recall@10")
            ax.set_ylabel("QPS")
            ax.set_title(f"{dataset} M={M} {mode}")
            ax.axvline(0.95, color="grey", lw=0.5)
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=["fashion-mnist", "synth-ip"])
    p.add_argument("--M", nargs="+", type=int, default=[16, 32])
    p.add_argument("--efc", type=int, default=100, help="efConstruction, the same for every library")
    p.add_argument("--libs", nargs="+", default=["sextant", "hnswlib", "faiss"])
    p.add_argument("--efs", nargs="+", type=int, default=DEFAULT_EFS)
    p.add_argument("--threads", type=int, default=2, help="threads of the batch mode and of the build")
    p.add_argument("--nq-batch", type=int, default=10_000)
    p.add_argument("--nq-single", type=int, default=1_000)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--cache", default=os.path.expanduser("~/.cache/sextant/bench-hnsw"))
    p.add_argument("--json", help="write the raw numbers here")
    p.add_argument("--plot", help="write the recall/QPS curves here (PNG)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return run_worker(args)

    print(f"# bench_hnsw: k={K}, efConstruction={args.efc}, batch threads={args.threads}, "
          f"single-query subset={args.nq_single}, rounds={args.rounds} (best kept), libraries alternate")
    for name in args.datasets:
        load_dataset(name, args.cache)  # convert and compute ground truth once, outside the timed workers
    results, raw = {}, []
    for dataset in args.datasets:
        for M in args.M:
            runs = {lib: [] for lib in args.libs}
            for rnd in range(args.rounds):
                order = args.libs if rnd % 2 == 0 else args.libs[::-1]
                for lib in order:
                    spec = {"lib": lib, "dataset": dataset, "M": M, "efc": args.efc, "threads": args.threads,
                            "efs": args.efs, "nq_batch": args.nq_batch, "nq_single": args.nq_single,
                            "cache": args.cache}
                    r = spawn(spec)
                    print(f"#   {dataset} M={M} round {rnd + 1} {lib}: build {r['build_s']:.1f} s", flush=True)
                    runs[lib].append(r)
                    raw.append(r)
            results[(dataset, M)] = {lib: merge_best(rs) for lib, rs in runs.items()}
            facts = {lib: results[(dataset, M)][lib]["facts"] for lib in args.libs}
            print("# build facts: " + json.dumps(facts))
            print(report({(dataset, M): results[(dataset, M)]}, args.libs), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw, f)
    if args.plot:
        plot(results, args.libs, args.plot)


if __name__ == "__main__":
    main()
