"""sextant.contrib: .fvecs/.bvecs/.ivecs readers, ground truth, recall, QPS interpolation."""

import sys
from pathlib import Path

import numpy as np
import pytest

try:
    from sextant.contrib import datasets, evaluation
except ImportError:  # development build tree: contrib/ is not copied next to the extension
    _repo = str(Path(__file__).resolve().parents[2])
    sys.path.insert(0, _repo)
    from contrib import datasets, evaluation
    sys.path.remove(_repo)  # left there, the repo's sextant/ (C++ sources) would shadow the package


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEXTANT_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("dtype,reader", [(np.float32, datasets.read_fvecs), (np.uint8, datasets.read_bvecs),
                                          (np.int32, datasets.read_ivecs)])
@pytest.mark.parametrize("mmap", [True, False])
def test_vecs_round_trip(tmp_path, dtype, reader, mmap):
    x = (np.random.default_rng(0).random((37, 11)) * 200).astype(dtype)
    path = tmp_path / "x.vecs"
    datasets.write_vecs(path, x)
    assert path.stat().st_size == 37 * (4 + 11 * np.dtype(dtype).itemsize)
    y = reader(path, mmap=mmap)
    assert y.dtype == dtype and y.shape == x.shape
    np.testing.assert_array_equal(y, x)


def test_vecs_malformed(tmp_path):
    path = tmp_path / "x.fvecs"
    datasets.write_vecs(path, np.ones((5, 8), dtype=np.float32))
    data = path.read_bytes()
    path.write_bytes(data[:-3])                                   # truncated last row
    with pytest.raises(ValueError, match="not a multiple"):
        datasets.read_fvecs(path)
    bad = bytearray(data)
    bad[2 * (4 + 32):2 * (4 + 32) + 4] = np.int32(7).tobytes()    # row 2 claims d = 7
    path.write_bytes(bytes(bad))
    with pytest.raises(ValueError, match="row 2 has dimension 7"):
        datasets.read_fvecs(path)
    path.write_bytes(b"\x01\x00")                                  # shorter than one header
    with pytest.raises(ValueError, match="too short"):
        datasets.read_fvecs(path)
    path.write_bytes(np.int32(-3).tobytes() + b"\x00" * 12)        # negative dimension
    with pytest.raises(ValueError, match="positive"):
        datasets.read_fvecs(path)


def test_read_npy(tmp_path):
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.save(tmp_path / "x.npy", x)
    assert isinstance(datasets.read_npy(tmp_path / "x.npy"), np.memmap)
    np.testing.assert_array_equal(datasets.read_npy(tmp_path / "x.npy", mmap=False), x)


def test_synthetic_seeded():
    a = datasets.gaussian(1000, 16, seed=3)
    assert a.dtype == np.float32 and a.shape == (1000, 16)
    np.testing.assert_array_equal(a, datasets.gaussian(1000, 16, seed=3))
    assert not np.array_equal(a, datasets.gaussian(1000, 16, seed=4))
    b = datasets.clustered(2000, 16, n_clusters=10, seed=1)
    assert b.dtype == np.float32 and np.isfinite(b).all()
    np.testing.assert_array_equal(b, datasets.clustered(2000, 16, n_clusters=10, seed=1))
    out = np.empty((2000, 16), dtype=np.float32)
    assert datasets.clustered(2000, 16, n_clusters=10, seed=1, out=out) is out
    cached = datasets.load_synthetic("clustered", 2000, 16, seed=1, n_clusters=10)
    np.testing.assert_array_equal(cached, b)


def test_recall_at():
    I = np.array([[1, 2, 3], [4, 5, 6]])
    gt = np.array([[1, 2, 9], [7, 8, 9]])
    assert evaluation.recall_at(I, gt, 3) == pytest.approx(2 / 6)
    assert evaluation.recall_at(I, gt, 1) == pytest.approx(1 / 2)
    assert evaluation.recall_at(np.array([[1, 1, -1]]), np.array([[1, 2, 3]]), 3) == pytest.approx(1 / 3)
    with pytest.raises(ValueError):
        evaluation.recall_at(I[:, :2], gt, 3)


def brute_force(xb, xq, k, metric):
    xb, xq = xb.astype(np.float64), xq.astype(np.float64)
    if metric == "l2":
        score = ((xq[:, None, :] - xb[None, :, :]) ** 2).sum(-1)
    else:
        score = -(xq @ xb.T)
    I = np.argsort(score, axis=1, kind="stable")[:, :k]
    D = np.take_along_axis(score, I, axis=1)
    return (D if metric == "l2" else -D), I


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_ground_truth_matches_brute_force(metric):
    rng = np.random.default_rng(1)
    xb = rng.standard_normal((3000, 24)).astype(np.float32)  # more rows than one block
    xq = rng.standard_normal((70, 24)).astype(np.float32)
    D, I = evaluation.ground_truth(xb, xq, 20, metric)
    D_ref, I_ref = brute_force(xb, xq, 20, metric)
    np.testing.assert_array_equal(I, I_ref)
    np.testing.assert_allclose(D, D_ref, rtol=1e-9, atol=1e-9)
    assert len(list(datasets.cache_dir("ground-truth").glob("*.npz"))) == 1
    D2, I2 = evaluation.ground_truth(xb, xq, 20, metric)        # from the cache
    np.testing.assert_array_equal(I2, I)
    key = evaluation.content_key(xb, xq, 20, metric)
    assert key != evaluation.content_key(xb, xq, 21, metric)
    assert key != evaluation.content_key(xb, xq, 20, "l2" if metric == "ip" else "ip")
    xb[0, 0] += 1                                               # new content, new key
    assert key != evaluation.content_key(xb, xq, 20, metric)


def test_ground_truth_pads_when_k_exceeds_nb():
    xb = np.eye(3, dtype=np.float32)
    D, I = evaluation.ground_truth(xb, xb, 5, "l2", cache=False)
    assert (I[:, 0] == np.arange(3)).all() and (I[:, 3:] == -1).all() and np.isinf(D[:, 3:]).all()


def test_metric_name():
    assert evaluation.metric_name("L2") == "l2" and evaluation.metric_name("inner_product") == "ip"
    assert evaluation.metric_name(1) == "l2" and evaluation.metric_name(0) == "ip"
    with pytest.raises(ValueError):
        evaluation.metric_name("cosine-ish")


def test_interpolate_qps_at_recall():
    curve = [(0.5, 1000.0), (0.8, 500.0), (0.95, 100.0), (0.99, 10.0)]
    assert evaluation.interpolate_qps_at_recall(curve, 0.9) == pytest.approx(500 - 400 * (0.1 / 0.15))
    assert evaluation.interpolate_qps_at_recall(curve, 0.95) == pytest.approx(100)
    assert evaluation.interpolate_qps_at_recall(curve, 0.995) is None
    assert evaluation.interpolate_qps_at_recall(curve, 0.1) == pytest.approx(1000)
    # A dominated point (lower QPS at lower recall) does not bend the curve.
    noisy = curve + [(0.9, 50.0)]
    assert evaluation.interpolate_qps_at_recall(noisy, 0.9) == pytest.approx(500 - 400 * (0.1 / 0.15))
    dicts = [{"recall": r, "qps": q} for r, q in curve]
    assert evaluation.interpolate_qps_at_recall(dicts, 0.95) == pytest.approx(100)
    assert evaluation.interpolate_qps_at_recall([], 0.9) is None


def test_contrib_imports_numpy_only():
    """A benchmark process that runs a peer library imports contrib: never the compiled extension."""
    import subprocess
    repo = Path(__file__).resolve().parents[2]
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import contrib; "
            "from contrib import datasets, evaluation, progress; "
            "assert not any(m.startswith('sextant') for m in sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code, str(repo)], check=True, timeout=60)


def test_text_set_embedded_once_by_the_given_encoder(monkeypatch):
    texts = [f"package number {i}" for i in range(30)]
    monkeypatch.setattr(datasets, "debian_descriptions", lambda: texts)
    with pytest.raises(FileNotFoundError, match="encode="):
        datasets.load_minilm_descriptions(n_base=20, nq=5, seed=3)
    calls = []

    def encode(batch):
        calls.append(len(batch))
        return np.array([[float(t.split()[-1]), 1.0] for t in batch], dtype=np.float32)

    xb, xq = datasets.load_minilm_descriptions(n_base=20, nq=5, seed=3, encode=encode)
    assert calls == [25] and xb.shape == (20, 2) and xq.shape == (5, 2)
    base_texts, query_texts = datasets.minilm_description_texts(n_base=20, nq=5, seed=3)
    assert [float(t.split()[-1]) for t in base_texts + query_texts] == list(np.concatenate([xb, xq])[:, 0])
    xb2, _ = datasets.load_minilm_descriptions(n_base=20, nq=5, seed=3)  # cached: no encoder needed
    assert np.array_equal(xb, xb2) and calls == [25]
