#!/usr/bin/env python3
"""GPU benchmark: sextant's CUDA code against PyTorch on the same GPU, in one run.

    PYTHONPATH=<build>/python python3 benchs/bench_gpu.py [--quick] [--out DIR]

Sections (each a ratio against a peer or a physical limit measured in this run):
  copy   device-to-device copy bandwidth (bytes read + written), the k-selection ceiling
  exact  k=10 exact search, 1,000,000 x 128 fp32, 10,000 queries: GpuIndexFlatL2 (fp32, TF32 off)
         vs cuBLAS GEMM + torch.topk (torch.addmm then topk, query blocks of 2048, TF32 off)
  select k-selection over a 1,000 x 1,000,000 fp32 matrix of normal values, k = 1, 32, 128, 256, 1024,
         16384: sx.gpu.select_k vs torch.topk; GB/s counts bytes read + written
  ivfpq  IVF-PQ on 10,000,000 x 96 vectors (generator below), recall@10 against exact ground truth
         with re-ranking, vs torch brute force (addmm + topk) on the same data

Data for ivfpq: a random projection of a Gaussian mixture. 10,000 components in a 32-dimensional
latent space with log-normal weights (sigma 1), means N(0, 3^2 I), per-component scales
exp(N(0, 0.25^2)) and a decaying per-axis spectrum (1 + j)^-0.5; latent points are projected to 96
dimensions by a fixed Gaussian matrix N(0, 1/32) and get isotropic noise N(0, 0.05^2). Queries are
fresh draws from the same mixture. Seeds fixed. Ground truth: torch fp32 top-100, re-ranked in
float64; "exact search recall" is torch's fp32 top-10 against it.

Timings: median of several repetitions after a warm-up, torch.cuda.synchronize() around each.
Everything is printed; with --out (or $OUT) the numbers go to bench_gpu.json there, rewritten after
each section (a run stopped part-way keeps what it measured).
"""
import argparse
import json
import os
import platform
import sys
import time
import traceback

import numpy as np
import torch

import sextant as sx

TARGETS = {"exact_vs_torch": 2.5, "select_fraction_of_copy_k_le_256": 0.5, "ivfpq_vs_torch_at_recall_0.9": 100.0}


def log(*args):
    print(*args, flush=True)


def timed(fn, reps=5, warmup=1):
    """Median seconds of fn() over reps runs (after warmup runs), synchronised."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def recall_at(found, truth, k):
    """Mean over queries of |found[:, :k] & truth[:, :k]| / k (numpy int arrays)."""
    hits = [len(np.intersect1d(a[:k], b[:k], assume_unique=False)) for a, b in zip(found, truth)]
    return float(np.mean(hits)) / k


def torch_knn(xq, xb, k, block, xb_norms=None):
    """cuBLAS GEMM + torch.topk brute force (L2): the peer."""
    if xb_norms is None:
        xb_norms = (xb * xb).sum(1)
    D, I = [], []
    for q0 in range(0, xq.shape[0], block):
        q = xq[q0:q0 + block]
        dist = torch.addmm(xb_norms[None, :], q, xb.T, beta=1.0, alpha=-2.0)
        d, i = torch.topk(dist, k, dim=1, largest=False, sorted=True)
        D.append(d + (q * q).sum(1, keepdim=True))
        I.append(i)
    return torch.cat(D), torch.cat(I)


def section_copy(report):
    n = 1 << 30  # 4 GiB of fp32
    x = torch.empty(n, device="cuda").normal_()
    y = torch.empty_like(x)
    t = timed(lambda: y.copy_(x), reps=10, warmup=2)
    bw = 2 * n * 4 / t / 1e9
    log(f"copy: {2 * n * 4 / 1e9:.1f} GB moved in {t * 1e3:.2f} ms -> {bw:.0f} GB/s (read + write)")
    report["copy_GBps"] = bw
    del x, y
    torch.cuda.empty_cache()
    return bw


def section_exact(report, res, quick):
    nb, nq, d, k = (200_000 if quick else 1_000_000), (2_000 if quick else 10_000), 128, 10
    g = torch.Generator(device="cuda").manual_seed(123)
    xb = torch.randn(nb, d, device="cuda", generator=g)
    xq = torch.randn(nq, d, device="cuda", generator=g)
    norms = (xb * xb).sum(1)
    t_torch = timed(lambda: torch_knn(xq, xb, k, 2048, norms), reps=3)
    Dt, It = torch_knn(xq, xb, k, 2048, norms)

    index = sx.gpu.GpuIndexFlatL2(res, d)
    index.add(xb)  # device to device
    t_sx = timed(lambda: index.search(xq, k), reps=5)
    Ds, Is = index.search(xq, k)
    rec = recall_at(Is.cpu().numpy(), It.cpu().numpy(), k)
    maxdiff = float((Ds - Dt).abs().max())
    out = {"nb": nb, "nq": nq, "d": d, "k": k, "torch_qps": nq / t_torch, "sextant_qps": nq / t_sx,
           "ratio": t_torch / t_sx, "recall_vs_torch": rec, "max_abs_distance_diff": maxdiff}
    # The same search with the products on tensor cores: 3xTF32 (fp32-level accuracy) and plain TF32.
    for precision in ("3xtf32", "tf32"):
        other = sx.gpu.GpuIndexFlatL2(res, d, precision=precision)
        other.add(xb)
        t = timed(lambda: other.search(xq, k), reps=5)
        Do, Io = other.search(xq, k)
        out[f"sextant_{precision}_qps"] = nq / t
        out[f"sextant_{precision}_ratio"] = t_torch / t
        out[f"sextant_{precision}_recall_vs_torch"] = recall_at(Io.cpu().numpy(), It.cpu().numpy(), k)
        out[f"sextant_{precision}_max_abs_distance_diff"] = float((Do - Dt).abs().max())
        del other
    gemm_flop = 2.0 * nq * nb * d
    out["sextant_gemm_TFLOPs_equiv"] = gemm_flop / t_sx / 1e12
    log(f"exact: torch {out['torch_qps']:.0f} QPS, sextant {out['sextant_qps']:.0f} QPS "
        f"(x{out['ratio']:.2f}; {out['sextant_gemm_TFLOPs_equiv']:.1f} TFLOP/s GEMM-equivalent), "
        f"recall vs torch {rec:.4f}, max |dD| {maxdiff:.2e}")
    for precision in ("3xtf32", "tf32"):
        log(f"exact ({precision} products): {out[f'sextant_{precision}_qps']:.0f} QPS "
            f"(x{out[f'sextant_{precision}_ratio']:.2f} torch), recall vs torch fp32 "
            f"{out[f'sextant_{precision}_recall_vs_torch']:.4f}, max |dD| "
            f"{out[f'sextant_{precision}_max_abs_distance_diff']:.2e}")
    report["exact"] = out
    del index, xb, xq
    torch.cuda.empty_cache()


def section_select(report, res, copy_bw, quick):
    rows, cols = (200, 1_000_000) if quick else (1000, 1_000_000)
    g = torch.Generator(device="cuda").manual_seed(7)
    m = torch.randn(rows, cols, device="cuda", generator=g)
    results = []
    for k in (1, 32, 128, 256, 1024, 16384):
        reps = 3 if k > 2048 else 5
        t_sx = timed(lambda: sx.gpu.select_k(m, k, res=res), reps=reps)
        t_torch = timed(lambda: torch.topk(m, k, dim=1, largest=False, sorted=True), reps=3)
        vs, is_ = sx.gpu.select_k(m, k, res=res)
        vt, it = torch.topk(m, k, dim=1, largest=False, sorted=True)
        same_values = bool(torch.equal(vs, vt))
        same_indices = bool(torch.equal(is_, it))
        bytes_moved = rows * cols * 4 + rows * k * (4 + 8)
        entry = {"k": k, "sextant_ms": t_sx * 1e3, "torch_ms": t_torch * 1e3,
                 "sextant_GBps": bytes_moved / t_sx / 1e9, "torch_GBps": bytes_moved / t_torch / 1e9,
                 "fraction_of_copy": bytes_moved / t_sx / 1e9 / copy_bw, "vs_torch": t_torch / t_sx,
                 "same_values_as_torch": same_values, "same_indices_as_torch": same_indices}
        results.append(entry)
        log(f"select k={k:5d}: sextant {entry['sextant_ms']:.2f} ms ({entry['sextant_GBps']:.0f} GB/s, "
            f"{100 * entry['fraction_of_copy']:.0f}% of copy), torch.topk {entry['torch_ms']:.2f} ms "
            f"({entry['torch_GBps']:.0f} GB/s), x{entry['vs_torch']:.1f}; values equal: {same_values}, "
            f"indices equal: {same_indices}")
    report["select"] = {"rows": rows, "cols": cols, "results": results}
    del m
    torch.cuda.empty_cache()


class Mixture:
    """The ivfpq data generator (see the module docstring)."""

    def __init__(self, seed=2024, components=10_000, latent=32, d=96):
        g = torch.Generator(device="cuda").manual_seed(seed)
        self.weights = torch.exp(torch.randn(components, device="cuda", generator=g))
        self.means = 3.0 * torch.randn(components, latent, device="cuda", generator=g)
        self.scales = torch.exp(0.25 * torch.randn(components, device="cuda", generator=g))
        self.spectrum = (1.0 + torch.arange(latent, device="cuda", dtype=torch.float32)) ** -0.5
        self.proj = torch.randn(latent, d, device="cuda", generator=g) / latent ** 0.5
        self.latent, self.d = latent, d

    def sample(self, n, seed, block=1_000_000):
        g = torch.Generator(device="cuda").manual_seed(seed)
        out = torch.empty(n, self.d, device="cuda")
        for i0 in range(0, n, block):
            m = min(block, n - i0)
            c = torch.multinomial(self.weights, m, replacement=True, generator=g)
            z = self.means[c] + self.scales[c, None] * self.spectrum[None, :] * torch.randn(
                m, self.latent, device="cuda", generator=g)
            out[i0:i0 + m] = z @ self.proj + 0.05 * torch.randn(m, self.d, device="cuda", generator=g)
        return out


def section_ivfpq(report, res, quick):
    nb, nq, k = (1_000_000, 2_000, 10) if quick else (10_000_000, 10_000, 10)
    nlist = 4096 if quick else 16384
    mix = Mixture()
    t0 = time.perf_counter()
    xb = mix.sample(nb, seed=1)
    xq = mix.sample(nq, seed=2)
    torch.cuda.synchronize()
    log(f"ivfpq: generated {nb} x {mix.d} base and {nq} queries in {time.perf_counter() - t0:.1f} s")

    # Ground truth: fp32 top-100 by torch, re-ranked in float64.
    t0 = time.perf_counter()
    norms = (xb * xb).sum(1)
    _, cand = torch_knn(xq, xb, 100, 256, norms)
    exact_fp32_top10 = cand[:, :k].cpu().numpy()
    gt = []
    for q0 in range(0, nq, 1000):
        c = cand[q0:q0 + 1000]
        diff = xb[c].double() - xq[q0:q0 + 1000, None, :].double()
        dist = (diff * diff).sum(-1)
        order = torch.argsort(dist, dim=1, stable=True)[:, :k]
        gt.append(torch.gather(c, 1, order))
    gt = torch.cat(gt).cpu().numpy()
    exact_recall = recall_at(exact_fp32_top10, gt, k)
    log(f"ivfpq: ground truth in {time.perf_counter() - t0:.1f} s; exact search (torch fp32) recall@10 "
        f"{exact_recall:.4f}")

    # The peer: brute force over the same data, timed on 2048 queries.
    qb = xq[:2048]
    t_torch = timed(lambda: torch_knn(qb, xb, k, 256, norms), reps=2)
    torch_qps = qb.shape[0] / t_torch
    log(f"ivfpq: torch brute force {torch_qps:.0f} QPS")
    del norms, cand
    torch.cuda.empty_cache()

    index = sx.gpu.GpuIndexIVFPQ(res, mix.d, nlist, 48, 8, keep_raw_vectors=True)
    t0 = time.perf_counter()
    train = xb[torch.randperm(nb, device="cuda")[: min(nb, 64 * nlist)]].cpu().numpy()
    index.train(train)
    t_train = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.add(xb)
    torch.cuda.synchronize()
    t_add = time.perf_counter() - t0
    log(f"ivfpq: nlist={nlist}, PQ48x8 + raw vectors; train {t_train:.1f} s ({train.shape[0]} vectors), "
        f"add {t_add:.1f} s; precomputed tables: {index.uses_precomputed_table}, fp16 tables: "
        f"{index.uses_fp16_tables}")

    sweep = []
    for nprobe in (8, 16, 32, 64, 128):
        for k_factor in (4, 16):
            t = timed(lambda: index.search(xq, k, nprobe=nprobe, k_factor=k_factor), reps=3)
            _, I = index.search(xq, k, nprobe=nprobe, k_factor=k_factor)
            r = recall_at(I.cpu().numpy(), gt, k)
            entry = {"nprobe": nprobe, "k_factor": k_factor, "qps": nq / t, "recall_at_10": r,
                     "vs_torch": (nq / t) / torch_qps}
            sweep.append(entry)
            log(f"ivfpq nprobe={nprobe:4d} k_factor={k_factor:2d}: {entry['qps']:.0f} QPS, recall@10 {r:.4f}, "
                f"x{entry['vs_torch']:.0f} torch")
    ok = [e for e in sweep if e["recall_at_10"] >= 0.9]
    best = max(ok, key=lambda e: e["qps"]) if ok else None
    report["ivfpq"] = {"nb": nb, "nq": nq, "d": mix.d, "nlist": nlist, "M": 48, "nbits": 8,
                       "exact_search_recall_at_10": exact_recall, "torch_qps": torch_qps,
                       "train_s": t_train, "add_s": t_add, "sweep": sweep, "best_at_recall_0.9": best}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    ap.add_argument("--out", default=os.environ.get("OUT"), help="folder for bench_gpu.json (default: $OUT)")
    ap.add_argument("--sections", default="copy,exact,select,ivfpq")
    args = ap.parse_args()

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    res = sx.gpu.StandardGpuResources(0)
    report = {"device": res.device_name, "sm_count": res.sm_count, "torch": torch.__version__,
              "sextant": sx.__version__, "python": platform.python_version(), "quick": args.quick,
              "targets": TARGETS}
    log(f"device {res.device_name} ({res.sm_count} SMs), torch {torch.__version__}, sextant {sx.__version__}")
    sections = args.sections.split(",")

    def save():
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            with open(os.path.join(args.out, "bench_gpu.json"), "w") as f:
                json.dump(report, f, indent=1)

    copy_bw = section_copy(report) if "copy" in sections else float("nan")
    save()
    for name, fn in (("exact", lambda: section_exact(report, res, args.quick)),
                     ("select", lambda: section_select(report, res, copy_bw, args.quick)),
                     ("ivfpq", lambda: section_ivfpq(report, res, args.quick))):
        if name not in sections:
            continue
        t0 = time.perf_counter()
        try:
            fn()
        except Exception:  # report and go on: one failing section must not hide the others
            report.setdefault("errors", {})[name] = traceback.format_exc()
            log(f"{name}: FAILED\n{traceback.format_exc()}")
        log(f"[{name} section: {time.perf_counter() - t0:.1f} s]")
        torch.cuda.empty_cache()
        save()

    # The verdict against the targets.
    log("\n=== summary (targets) ===")
    if "exact" in report:
        e = report["exact"]
        for name, ratio, rec in (("fp32 products", e["ratio"], e["recall_vs_torch"]),
                                 ("3xtf32 products", e["sextant_3xtf32_ratio"], e["sextant_3xtf32_recall_vs_torch"])):
            log(f"exact k=10 1Mx128 ({name}): x{ratio:.2f} torch, recall vs torch fp32 {rec:.4f} "
                f"(target >= {TARGETS['exact_vs_torch']}): {'PASS' if ratio >= TARGETS['exact_vs_torch'] else 'MISS'}")
    if "select" in report:
        for s in report["select"]["results"]:
            tgt = "" if s["k"] > 256 else (" PASS" if s["fraction_of_copy"] >= 0.5 else " MISS")
            log(f"select k={s['k']:5d}: {100 * s['fraction_of_copy']:.0f}% of copy bandwidth{tgt}")
    if "ivfpq" in report:
        b = report["ivfpq"]["best_at_recall_0.9"]
        if b:
            log(f"ivfpq 10Mx96 at recall@10 >= 0.9: {b['qps']:.0f} QPS = x{b['vs_torch']:.0f} torch (target >= 100): "
                f"{'PASS' if b['vs_torch'] >= 100 else 'MISS'} (nprobe {b['nprobe']}, k_factor {b['k_factor']}); "
                f"exact search recall {report['ivfpq']['exact_search_recall_at_10']:.4f}")
        else:
            log("ivfpq: recall@10 0.9 not reached in the sweep: MISS")
    if report.get("errors"):
        log(f"sections with errors: {', '.join(report['errors'])}")
    if args.out:
        save()
        log(f"wrote {os.path.join(args.out, 'bench_gpu.json')}")
    return 1 if report.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
