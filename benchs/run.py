"""sextant's first command: a tour of what it finds, then recall/QPS next to faiss and hnswlib.

    benchs/setup.sh                        # peers: faiss-cpu, hnswlib, glass, ScaNN, NGT, usearch, voyager;
                                           # GloVe; threadpoolctl, matplotlib
    python3 benchs/run.py                  # the tour (benchs/tour.py), then Fashion-MNIST HNSW32 on 20,000
                                           # images against faiss and hnswlib: a few minutes
    python3 benchs/run.py --full           # the whole benchmark: every dataset, exact and HNSW (tens of minutes)
    python3 benchs/run.py --full --record  # ... and its table written into benchs/RESULTS.md
    python3 benchs/run.py --full --datasets fashion-mnist --libs sextant,faiss
    python3 benchs/run.py --full --datasets synthetic-1m --quick
    python3 benchs/run.py --full --datasets fashion-mnist,minilm-debian,glove-50 \
        --indexes hnsw16,hnsw32,glass-r48,scann-ip,scann-l2,ngt-onng,usearch-default,voyager-m24 \
        --libs sextant,faiss,hnswlib,glass,scann,ngt,usearch,voyager   # the peers' best-known recipes too

For each dataset and index family (benchs/specs.py), the exact top-100 ground truth is
computed once (numpy, float64, cached), then each library runs in its own process
(benchs/runners.py), in the order A B A B..., and the best of the rounds is kept. Exact
search also runs the SGEMM reference (<build-dir>/benchs/sgemm_rate) in the same run.
Writes raw JSON and a recall/QPS plot (PNG) under --results-dir (not tracked by git); only
--record touches a tracked file (the table in --results-md).
"""

import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import report
import runners
import specs
import tour

Progress = runners.import_contrib().progress.Progress

REPO = runners.REPO
# Set on some machines for old-OpenBLAS safety; they force slower GEMM kernels (BENCHMARKS.md).
OPENBLAS_SAFETY_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
SGEMM_MAX_C_VALUES = 1 << 26      # 256 MB output matrix
SGEMM_MAX_FLOP = 3e10             # per call, so the reference takes about a second


# What a run measures unless told otherwise: the tour's one comparison, or the whole benchmark.
TOUR = {"datasets": ["fashion-mnist"], "indexes": ["hnsw32"], "rounds": 1, "subset": 20_000, "nq": 1_000,
        "quick": True}
FULL = {"datasets": list(specs.DATASETS), "indexes": specs.DEFAULT_INDEXES, "rounds": 2}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    csv = lambda s: [x for x in s.split(",") if x]  # noqa: E731
    ap.add_argument("--full", action="store_true",
                    help="the whole benchmark (every dataset, exact and HNSW indexes, 2 rounds) instead of the tour")
    ap.add_argument("--record", action="store_true", help="write the table into --results-md (a tracked file)")
    ap.add_argument("--corpus", type=int, default=tour.CORPUS, help="texts the tour embeds and searches")
    ap.add_argument("--datasets", type=csv, help="comma-separated (default: all with --full, else fashion-mnist)")
    ap.add_argument("--indexes", type=csv, help="comma-separated (default: flat,hnsw32 with --full, else hnsw32)")
    ap.add_argument("--libs", type=csv, default=specs.LIBRARIES, help="comma-separated, in run order")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--rounds", type=int, help="A B A B rounds; the best of each is kept (default 2, tour 1)")
    ap.add_argument("--subset", type=int, help="use only the first N base vectors (and fewer queries; tour: 20000)")
    ap.add_argument("--nq", type=int, help="number of queries (default: the dataset's, fewer with --subset)")
    ap.add_argument("--single-nq", type=int, default=1000, help="queries in single-query mode")
    ap.add_argument("--single-budget", type=float, default=30.0, help="seconds per single-query pass")
    ap.add_argument("--quick", action="store_true", help="at most 1,000 queries, 200 single queries")
    ap.add_argument("--build-dir", default="build", help="sextant build tree (relative to the repo root)")
    ap.add_argument("--results-dir", default=str(REPO / "benchs" / "results"))
    ap.add_argument("--results-md", default=str(REPO / "benchs" / "RESULTS.md"))
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per runner process")
    args = ap.parse_args(argv)
    preset = FULL if args.full else TOUR
    for name, value in preset.items():
        if getattr(args, name) in (None, False):
            setattr(args, name, value)
    for name, chosen, known in (("dataset", args.datasets, specs.DATASETS), ("index", args.indexes, specs.INDEXES),
                                ("library", args.libs, runners.RUNNERS)):
        unknown = [x for x in chosen if x not in known]
        if unknown:
            ap.error(f"unknown {name} {unknown}; known: {sorted(known)}")
    if args.quick:
        args.single_nq = min(args.single_nq, 200)
    args.build_dir = (REPO / args.build_dir).resolve()
    return args


def machine_facts():
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 "unknown CPU")
    flags = set(next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags")), []))
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {"cpu": model, "cores": os.cpu_count(), "memory_gb": mem / 2**30, "avx2": "avx2" in flags,
            "avx512f": "avx512f" in flags, "python": sys.version.split()[0], "numpy": np.__version__}


def child_env(args, notes):
    """The environment of every benchmark process: same threads, no OpenBLAS safety overrides,
    and the build tree's Python package first (so a fresh build is what gets measured)."""
    env = dict(os.environ)
    removed = {v: env.pop(v) for v in OPENBLAS_SAFETY_VARS if v in env}
    if removed:
        notes.append("unset " + ", ".join(f"{k}={v}" for k, v in removed.items()) +
                     " in the benchmark processes (they force slower OpenBLAS kernels; BENCHMARKS.md)")
    env["OMP_NUM_THREADS"] = str(args.threads)
    build_python = args.build_dir / "python"
    if (build_python / "sextant").is_dir():
        env["PYTHONPATH"] = os.pathsep.join([str(build_python)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def sgemm_reference(args, env, nq, nb, d):
    """SGEMM GFLOP/s of sextant's BLAS on the exact-search shape C(nq x nb) = Q X^T, capped
    in size (the rate saturates long before): the physical limit of GEMM-based exact search."""
    exe = args.build_dir / "benchs" / "sgemm_rate"
    if not exe.exists():
        return {"error": f"{exe} not found (build with -DSEXTANT_ENABLE_BENCHS=ON, or pass --build-dir)"}
    m = min(nq, 4096)
    n = int(max(1, min(nb, SGEMM_MAX_C_VALUES // m, SGEMM_MAX_FLOP / (2 * m * d))))
    try:
        out = subprocess.run([str(exe), str(m), str(n), str(d), "3"], env=env, capture_output=True,
                             text=True, timeout=600, check=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError) as e:
        return {"error": f"sgemm_rate failed: {e}"}
    if (m, n) != (nq, nb):
        result["note"] = f" (shape capped from {nq}x{nb}x{d}; same k)"
    return result


def preflight(args, env, notes):
    """Import each library in a benchmark-like process before any long work, so a missing
    build or peer fails in a second instead of after the ground truth and several rounds.
    One of specs.PEERS that cannot be loaded is left out of the run, with a note."""
    hints = {"sextant": "build it (README) and pass --build-dir, or pip install the package"}
    for lib in list(args.libs):
        proc = subprocess.run([sys.executable, str(Path(runners.__file__)), "--lib", lib, "--check"],
                              env=env, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            if lib not in specs.PEERS:
                sys.exit(f"run.py: cannot load {lib} ({last}); {hints.get(lib, 'run benchs/setup.sh')}, "
                         "or leave it out with --libs")
            args.libs.remove(lib)
            notes.append(f"{lib} skipped: cannot load it ({last}); benchs/setup.sh installs it")
    if not args.libs:
        sys.exit("run.py: none of the libraries asked for can be loaded")


def run_runner(args, env, lib, dataset, index, n_base, nq, gt_path, extras, tmp):
    out = Path(tmp) / f"{dataset}-{index}-{lib}.json"
    cmd = [sys.executable, str(Path(runners.__file__)), "--lib", lib, "--dataset", dataset, "--index", index,
           "--subset", str(n_base), "--nq", str(nq), "--gt", str(gt_path), "--k", str(args.k),
           "--threads", str(args.threads), "--single-nq", str(args.single_nq),
           "--single-budget", str(args.single_budget), "--out", str(out)] + (["--extras"] if extras else [])
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"lib": lib, "dataset": dataset, "index": index, "error": f"timed out after {args.timeout} s"}
    if proc.returncode != 0 or not out.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"lib": lib, "dataset": dataset, "index": index, "error": f"exit {proc.returncode}: {tail[0]}"}
    result = json.loads(out.read_text())
    result["wall_s"] = time.perf_counter() - t0
    return result


def best_of(rounds_results, exact, nq, nb, d):
    """Merge one library's rounds: best QPS and build time, recall/size from the extras round."""
    ok = [r for r in rounds_results if r.get("points")]
    if not ok:
        return dict(rounds_results[0])
    best = {k: v for k, v in ok[0].items() if k != "points"}
    best["build_s"] = min(r["build_s"] for r in ok)
    best["peak_rss"] = max(r["peak_rss"] for r in ok)
    best["index_rss"] = max(r["index_rss"] for r in ok)
    best["points"] = []
    for i, first in enumerate(ok[0]["points"]):
        pts = [r["points"][i] for r in ok]
        single = max(pts, key=lambda x: x["single_qps"])
        p = dict(first, batch_qps=max(x["batch_qps"] for x in pts), batch_s=min(x["batch_s"] for x in pts),
                 single_qps=single["single_qps"], single_nq=single["single_nq"])
        if exact:  # effective GEMM rate of the whole search (compared with SGEMM at the end)
            p["gflops"] = 2.0 * nq * nb * d / p["batch_s"] * 1e-9
        best["points"].append(p)
    best["shape"] = [nq, nb, d]
    return best


def attach_sgemm(summary, sgemm_runs):
    """Fraction of the SGEMM rate for exact search, using the best SGEMM measured on the same
    shape anywhere in this run (a reference slowed by other load would inflate fractions)."""
    best_ref = {}
    for shape, runs in sgemm_runs.items():
        good = [g for g in runs if g.get("gflops")]
        best_ref[shape] = max(good, key=lambda g: g["gflops"]) if good else runs[-1]
    for dataset, shape in summary.pop("sgemm_shapes").items():
        summary["sgemm"][dataset] = best_ref[shape]
    for entry in summary["best"]:
        ref = best_ref.get(tuple(entry.get("shape", ())), {}).get("gflops")
        for p in entry.get("points", []):
            if "gflops" in p:
                p["sgemm_fraction"] = p["gflops"] / ref if ref else None


def describe(r):
    if not r.get("points"):
        return r.get("unsupported") or r.get("error", "failed")
    p, extra = r["points"][0], len(r["points"]) - 1
    return (f"batch {p['batch_qps']:,.0f} QPS, single {p['single_qps']:,.1f} QPS, R@10 {p.get('recall@10', 0):.4f}"
            + (f" (+{extra} sweep points)" if extra else "")
            + f", build {r['build_s']:.2f} s, {r['wall_s']:.0f} s wall")


def main(argv=None):
    args = parse_args(argv)
    contrib = runners.import_contrib()
    command = shlex.join(["python", "benchs/run.py"] + (sys.argv[1:] if argv is None else list(argv)))
    notes = []
    env = child_env(args, notes)
    notes.append(f"single-query QPS: 1 thread, one query per call, first {args.single_nq} queries "
                 f"(stopping after {args.single_budget:g} s); batch QPS: all queries in one call, {args.threads} threads; "
                 f"each mode: the best of passes repeated for {specs.MIN_TIMED_S:g} s at least")
    notes.append("index RSS: the process's anonymous resident memory after the build minus before it (the index "
                 "and whatever its library keeps; not the mapped dataset or library code); peak RSS: the whole "
                 "process's peak, libraries and data included")
    notes.append("SGEMM reference: sextant's BLAS (<build-dir>/benchs/sgemm_rate); faiss links its own OpenBLAS")
    summary = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "command": command,
               "machine": machine_facts(), "settings": {k: str(v) if isinstance(v, Path) else v
                                                        for k, v in vars(args).items()},
               "notes": notes, "facts": {}, "sgemm": {}, "sgemm_shapes": {}, "runs": [], "best": []}
    sgemm_runs = {}   # (nq, nb, d) -> every sgemm_rate result of this run
    started = time.perf_counter()
    preflight(args, env, notes)
    if not args.full:
        subprocess.run([sys.executable, tour.__file__, "--corpus", str(args.corpus)], env=env, check=True)
        print(f"\nsextant next to {', '.join(lib for lib in args.libs if lib != 'sextant')}: "
              f"{', '.join(args.indexes)} on {', '.join(args.datasets)}"
              + (f" (first {args.subset:,} vectors)" if args.subset else "") + "; the whole benchmark: --full")
    for note in notes:
        print("note:", note)
    plan = run_plan(args)
    runs = args.rounds * sum(len([lib for lib in args.libs if lib in specs.INDEXES[index]["libs"]]) for _, index in plan)
    bar = Progress("benchmark", runs, unit="runs", stream=sys.stdout)
    with tempfile.TemporaryDirectory(prefix="sextant-bench-") as tmp:
        for dataset in args.datasets:
            try:
                if specs.DATASETS[dataset]["source"] == "minilm_descriptions":  # embedded by sextant, once
                    subprocess.run([sys.executable, runners.__file__, "--lib", "sextant", "--embed", "--dataset",
                                    dataset], env=env, check=True)
                xb, xq, metric = specs.load_dataset(dataset, contrib.datasets)
            except FileNotFoundError as e:
                print(f"{dataset}: skipped, {e}")
                notes.append(f"{dataset} skipped: {e}")
                continue
            nb = min(args.subset or len(xb), len(xb))
            nq = args.nq or (len(xq) if not args.subset else min(len(xq), max(100, nb // 50)))
            nq = min(nq, len(xq), 1000 if args.quick else len(xq))
            d = xb.shape[1]
            t0 = time.perf_counter()
            _, gt = contrib.evaluation.ground_truth(xb[:nb], xq[:nq], 100, metric)
            bar.write(f"{dataset}: {nb} x {d} base, {nq} queries, {metric}; ground truth "
                      f"{time.perf_counter() - t0:.1f} s")
            texts = specs.dataset_texts(dataset, contrib.datasets)
            for q in range(3 if texts else 0):  # a text corpus: show what a search answers
                bar.write(f'  "{texts[1][q]}" -> ' + " | ".join(texts[0][j] for j in gt[q, :3]))
            gt_path = Path(tmp) / f"gt-{dataset}.npy"
            np.save(gt_path, gt)
            del xb, xq
            for index in args.indexes:
                if (dataset, index) not in plan:
                    continue  # a family tuned for other dimensions (PQ sizes)
                exact = specs.INDEXES[index]["exact"]
                libs = [lib for lib in args.libs if lib in specs.INDEXES[index]["libs"]]
                per_lib = {lib: [] for lib in libs}
                for r in range(args.rounds):
                    for lib in libs:
                        res = run_runner(args, env, lib, dataset, index, nb, nq, gt_path, r == 0, tmp)
                        res["round"] = r
                        if r == 0:
                            notes.extend(f"{dataset}/{index} {lib}: {n}" for n in res.get("build_notes", []))
                        summary["runs"].append(res)
                        per_lib[lib].append(res)
                        bar.update(1)
                        bar.write(f"  [round {r + 1}] {dataset}/{index} {lib}: {describe(res)}")
                    if exact:
                        sgemm_runs.setdefault((nq, nb, d), []).append(sgemm_reference(args, env, nq, nb, d))
                        summary["sgemm_shapes"][dataset] = (nq, nb, d)
                for lib, results in per_lib.items():
                    best = best_of(results, exact, nq, nb, d)
                    summary["best"].append(best)
                    if best.get("facts"):
                        summary["facts"].setdefault(lib, best["facts"])
    bar.close()
    attach_sgemm(summary, sgemm_runs)
    summary["ratios"] = report.ratios(summary["best"])
    summary["best_of_each"] = report.best_of_each(summary["best"])
    for lib, facts in summary["facts"].items():
        ok, why = report.avx2_verdict(facts)
        if ok is False and lib != specs.HEADLINE_LIB:
            notes.append(f"{lib}: {why}; no ratio against it is reported")
    write_outputs(args, summary)
    print(f"done in {time.perf_counter() - started:.0f} s")


def run_plan(args):
    """The (dataset, index) pairs to run: a family runs on the datasets it is tuned for."""
    return [(dataset, index) for dataset in args.datasets for index in args.indexes
            if dataset in specs.INDEXES[index].get("datasets", [dataset])]


def write_outputs(args, summary):
    results_dir = Path(args.results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = summary["date"].replace(":", "").replace("-", "")
    json_path, png_path = results_dir / f"run-{stamp}.json", results_dir / f"run-{stamp}.png"
    json_path.write_text(json.dumps(summary, indent=1, default=str))
    try:
        report.plot(summary, png_path)
    except Exception as e:  # noqa: BLE001 - a missing matplotlib must not lose the numbers
        print(f"plot skipped: {e!r}")
    section = report.markdown(summary)
    written = [json_path, png_path]
    if args.record:
        report.update_results_md(Path(args.results_md), section + f"\nRaw: {json_path.name}, plot: {png_path.name}\n",
                                 summary["command"])
        written.append(args.results_md)
    print()
    print(section)
    print("wrote " + ", ".join(map(str, written)) + ("" if args.record else " (--record writes the table into "
                                                      f"{Path(args.results_md).name})"))
    return json_path


if __name__ == "__main__":
    main()
