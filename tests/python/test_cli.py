"""The `sextant` command end to end, as a user runs it (python -m sextant in a subprocess)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import sextant as sx

try:
    from sextant.contrib import datasets, evaluation
except ImportError:  # development tree without contrib next to the module
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
    from contrib import datasets, evaluation


def cli(*args, check=True):
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    result = subprocess.run([sys.executable, "-m", "sextant", *map(str, args)], capture_output=True, text=True,
                            env=env, timeout=600)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(5)
    xb = rng.standard_normal((4000, 24), dtype=np.float32)
    xq = rng.standard_normal((60, 24), dtype=np.float32)
    np.save(root / "base.npy", xb)
    np.save(root / "queries.npy", xq)
    datasets.write_vecs(root / "base.fvecs", xb)
    pixels = rng.integers(0, 256, (3000, 24), dtype=np.uint8)
    datasets.write_vecs(root / "base.bvecs", pixels)
    _, gt = evaluation.ground_truth(xb, xq, 10, "l2", cache=False)
    np.save(root / "gt.npy", gt)
    return root


@pytest.mark.parametrize("source", ["base.npy", "base.fvecs", "base.bvecs"])
def test_build_info_search(files, source, tmp_path):
    out = tmp_path / "index.sxt"
    r = cli("build", "--factory", "IVF16,SQ8", "--input", files / source, "--train", files / "base.npy"
            if source != "base.bvecs" else files / source, "-o", out)
    assert "wrote" in r.stderr and out.exists()
    index = sx.read_index(out)
    assert sx.describe(index) == "IVF16,SQ8" and index.d == 24

    info = cli("info", out).stdout
    assert "factory: IVF16,SQ8" in info and "nlist=16" in info and "quantizer: IndexFlat" in info

    if source == "base.bvecs":
        return
    cli("search", out, "--queries", files / "queries.npy", "-k", 5, "--nprobe", 4, "-o", tmp_path / "I.npy",
        "--distances", tmp_path / "D.npy")
    D, I = index.search(np.load(files / "queries.npy"), 5, nprobe=4)
    np.testing.assert_array_equal(np.load(tmp_path / "I.npy"), I)
    np.testing.assert_array_equal(np.load(tmp_path / "D.npy"), D)
    printed = cli("search", out, "--queries", files / "queries.npy", "-k", 2).stdout.splitlines()
    assert len(printed) == 60 and printed[0].startswith("0: ")


def test_build_without_factory_uses_the_default_recipe(files, tmp_path):
    out = tmp_path / "default.sxt"
    r = cli("build", "--input", files / "base.npy", "-o", out)
    assert "no --factory given: Flat" in r.stderr
    assert sx.describe(sx.read_index(out)) == "Flat"


def test_default_recipes():
    from sextant.recipes import default_factory
    assert default_factory(1_000, 128) == "Flat"
    assert default_factory(60_000, 784) == "HNSW32"
    assert default_factory(400_000, 50, "ip") == "HNSW32"
    assert default_factory(10_000_000, 96) == "IVF16384,PQ32,Refine(SQ8)"
    assert default_factory(1_000_000_000, 768, "ip") == "IVF65536,PQ256,Refine(SQ8)"
    for n, d in ((3_000_000, 97), (5_000_000, 2), (3_000_000, 1)):  # a prime d, tiny d: still a valid string
        index = sx.index_factory(d, default_factory(n, d))
        assert index.d == d
    with pytest.raises(ValueError, match="metric"):
        default_factory(10, 4, "cosine")
    with pytest.raises(ValueError, match="n > 0"):
        default_factory(0, 4)


def test_idmap_and_metric(files, tmp_path):
    out = tmp_path / "ip.sxt"
    cli("build", "--factory", "IDMap2,Flat", "--metric", "ip", "--input", files / "base.npy", "-o", out)
    index = sx.read_index(out)
    assert type(index).__name__ == "IndexIDMap2" and index.metric_type == sx.METRIC_INNER_PRODUCT


def test_bench_reports_recall(files, tmp_path):
    out = tmp_path / "index.sxt"
    cli("-q", "build", "--factory", "IVF16,Flat", "--input", files / "base.npy", "-o", out)
    table = cli("bench", out, "--queries", files / "queries.npy", "--gt", files / "gt.npy", "--nprobe", "1,16",
                "--repeat", 1).stdout.splitlines()
    assert table[0].split()[:2] == ["setting", "recall@10"]
    recalls = {line.split()[0]: float(line.split()[1]) for line in table[1:]}
    assert recalls["nprobe=16"] == 1.0 and recalls["nprobe=1"] < 1.0
    table = cli("bench", out, "--queries", files / "queries.npy", "--base", files / "base.npy", "--repeat", 1).stdout
    assert "default" in table


def test_errors_are_one_actionable_line(files, tmp_path):
    r = cli("search", tmp_path / "missing.sxt", "--queries", files / "queries.npy", check=False)
    assert r.returncode == 1 and "does not exist" in r.stderr and "Traceback" not in r.stderr
    r = cli("build", "--factory", "IVF16,XYZ", "--input", files / "base.npy", "-o", tmp_path / "x.sxt", check=False)
    assert r.returncode == 1 and "cannot parse 'XYZ'" in r.stderr
    r = cli("build", "--factory", "Flat", "--input", files / "gt.txt", "-o", tmp_path / "x.sxt", check=False)
    assert r.returncode == 1 and "does not exist" in r.stderr
    (tmp_path / "v.txt").write_text("1 2 3")
    r = cli("build", "--factory", "Flat", "--input", tmp_path / "v.txt", "-o", tmp_path / "x.sxt", check=False)
    assert r.returncode == 1 and "unsupported extension" in r.stderr
    r = cli("build", "--factory", "Flat", "--input", files / "base.npy", "-o", tmp_path / "no" / "x.sxt",
            check=False)
    assert r.returncode == 1 and "x.sxt" in r.stderr and "Traceback" not in r.stderr
    flat = tmp_path / "flat.sxt"
    cli("build", "--factory", "Flat", "--input", files / "base.npy", "-o", flat)
    r = cli("search", flat, "--queries", files / "base.bvecs", check=False)  # right d, but let the index decide knobs
    assert r.returncode == 0
    r = cli("search", flat, "--queries", files / "queries.npy", "--nprobe", 3, check=False)
    assert r.returncode == 1 and "nprobe" in r.stderr
    np.save(tmp_path / "wrong.npy", np.zeros((3, 7), dtype=np.float32))
    r = cli("search", flat, "--queries", tmp_path / "wrong.npy", check=False)
    assert r.returncode == 1 and "dimension 7" in r.stderr
    # Numbers out of range and answers too large for memory: one line each, no traceback.
    for args in [("bench", flat, "--queries", files / "queries.npy", "--gt", files / "gt.npy", "--repeat", 0),
                 ("search", flat, "--queries", files / "queries.npy", "--nprobe", 10 ** 20),
                 ("search", flat, "--queries", files / "queries.npy", "-k", 0),
                 ("bench", flat, "--queries", files / "queries.npy", "--gt", files / "gt.npy", "--ef", "1,-2"),
                 ("search", flat, "--queries", files / "queries.npy", "-k", 10 ** 11)]:
        r = cli(*args, check=False)
        assert r.returncode in (1, 2) and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
        assert "Traceback" not in r.stderr and "error:" in r.stderr


def test_info_on_a_faiss_file(tmp_path):
    faiss = pytest.importorskip("faiss")
    index = faiss.index_factory(8, "IDMap,Flat")
    index.add_with_ids(np.ones((3, 8), dtype=np.float32), np.array([5, 6, 7]))
    faiss.write_index(index, str(tmp_path / "f.index"))
    info = cli("info", tmp_path / "f.index").stdout
    assert "Faiss index file (IxMp)" in info and "IndexIDMap" in info and "vectors: 3 of dimension 8" in info


@pytest.mark.skipif(not datasets.fashion_mnist_available(), reason="Fashion-MNIST is not installed")
def test_fashion_mnist_end_to_end(tmp_path):
    xb, xq = datasets.load_fashion_mnist()
    xq = np.ascontiguousarray(xq[:500])
    np.save(tmp_path / "queries.npy", xq)
    _, gt = evaluation.ground_truth(xb, xq, 10, "l2")
    np.save(tmp_path / "gt.npy", gt)
    base = datasets.cache_dir("fashion-mnist") / "base.npy"
    out = tmp_path / "fmnist.sxt"
    r = cli("build", "--factory", "IVF128,SQ8", "--input", base, "--max-train", 12800, "-o", out)
    assert "adding 60,000 vectors" in r.stderr
    assert "vectors: 60,000 of dimension 784" in cli("info", out).stdout
    table = cli("bench", out, "--queries", tmp_path / "queries.npy", "--gt", tmp_path / "gt.npy", "--nprobe", "16",
                "--repeat", 1, "--mmap").stdout.splitlines()
    assert float(table[1].split()[1]) > 0.9
