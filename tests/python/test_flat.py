"""Exact search (IndexFlat, sx.knn) against a numpy reference."""
import numpy as np
import pytest

import sextant as sx
from conftest import assert_same_neighbors, exact_knn

METRICS = [("L2", sx.METRIC_L2), ("IP", sx.METRIC_INNER_PRODUCT)]


@pytest.mark.parametrize("name,metric", METRICS)
@pytest.mark.parametrize("nq,nb,d", [(1, 500, 3), (7, 1000, 17), (19, 2000, 100), (20, 2000, 100), (600, 3000, 33)])
def test_search_matches_numpy(rng, name, metric, nq, nb, d):
    xb = rng.standard_normal((nb, d), dtype=np.float32)
    xq = rng.standard_normal((nq, d), dtype=np.float32)
    index = sx.IndexFlat(d, metric)
    index.add(xb)
    assert index.ntotal == nb and index.d == d and index.metric_type == metric
    D, I = index.search(xq, 10)
    assert D.dtype == np.float32 and I.dtype == np.int64 and D.shape == (nq, 10)
    assert_same_neighbors(D, I, xq, xb, 10, name)


@pytest.mark.parametrize("nq", [1, 200])
def test_long_structured_rows_search_exactly(rng, nq):
    # d >= 256, 512..16384 rows near a subspace, far from the origin: an L2
    # index searches them through projections (as a coarse quantizer's
    # centroids); answers stay those of the exact search, and exact where the
    # GEMM's norms trick loses the distances to the offset.
    basis = rng.standard_normal((8, 300), dtype=np.float32)
    def rows(n):
        noise = 0.05 * rng.standard_normal((n, 300), dtype=np.float32)
        return (rng.standard_normal((n, 8), dtype=np.float32) @ basis + noise + 1000).astype(np.float32)
    xb, xq = rows(2000), rows(nq)
    index = sx.IndexFlatL2(300)
    index.add(xb)
    D, I = index.search(xq, 16)
    assert_same_neighbors(D, I, xq, xb, 16, "L2")


@pytest.mark.parametrize("name,metric", METRICS)
@pytest.mark.parametrize("nq", [3, 30])
def test_every_k_up_to_beyond_ntotal(rng, name, metric, nq):
    xb = rng.standard_normal((37, 5), dtype=np.float32)
    xq = rng.standard_normal((nq, 5), dtype=np.float32)
    index = sx.IndexFlat(5, metric)
    index.add(xb)
    for k in range(1, 45):
        D, I = index.search(xq, k)
        assert_same_neighbors(D, I, xq, xb, k, name)


def test_flat_l2_and_ip_classes(rng):
    xb = rng.random((300, 8), dtype=np.float32)
    for cls, name in [(sx.IndexFlatL2, "L2"), (sx.IndexFlatIP, "IP")]:
        index = cls(8)
        index.add(xb)
        D, I = index.search(xb[:4], 3)
        assert_same_neighbors(D, I, xb[:4], xb, 3, name)


@pytest.mark.parametrize("name,metric", METRICS)
def test_knn_free_function(rng, name, metric):
    xb = rng.standard_normal((800, 12), dtype=np.float32)
    xq = rng.standard_normal((25, 12), dtype=np.float32)
    D, I = sx.knn(xq, xb, 5, metric)
    assert_same_neighbors(D, I, xq, xb, 5, name)
    D2, I2 = sx.knn(xq, xb, 5, metric=metric, sel=sx.IDSelectorRange(100, 200))
    assert ((I2 >= 100) & (I2 < 200)).all()


@pytest.mark.parametrize("name,metric", METRICS)
@pytest.mark.parametrize("nq", [4, 40])
def test_range_search(rng, name, metric, nq):
    xb = rng.standard_normal((2000, 6), dtype=np.float32)
    xq = rng.standard_normal((nq, 6), dtype=np.float32)
    index = sx.IndexFlat(6, metric)
    index.add(xb)
    radius = 2.0 if name == "L2" else 3.0
    lims, D, I = index.range_search(xq, radius)
    assert lims.shape == (nq + 1,) and lims[0] == 0 and lims[-1] == len(D) == len(I)
    Dall, _ = exact_knn(xq, xb, len(xb), name)
    for q in range(nq):
        exact = Dall[q]
        inside = exact < radius if name == "L2" else exact > radius
        borderline = np.abs(exact - radius) < 1e-4
        got = lims[q + 1] - lims[q]
        assert inside.sum() - borderline.sum() <= got <= inside.sum() + borderline.sum()
        d = D[lims[q]:lims[q + 1]]
        assert (np.diff(d) >= 0).all() if name == "L2" else (np.diff(d) <= 0).all(), "not best first"
        assert (d < radius).all() if name == "L2" else (d > radius).all()


def test_reconstruct_and_codes(rng):
    xb = rng.random((50, 7), dtype=np.float32)
    index = sx.IndexFlatL2(7)
    index.add(xb)
    np.testing.assert_array_equal(index.reconstruct(9), xb[9])
    np.testing.assert_array_equal(index.reconstruct_n(), xb)
    np.testing.assert_array_equal(index.reconstruct_n(10, 5), xb[10:15])
    codes = index.sa_encode(xb[:3])
    assert codes.dtype == np.uint8 and codes.shape == (3, index.sa_code_size()) == (3, 28)
    np.testing.assert_array_equal(index.sa_decode(codes), xb[:3])
    D, I, R = index.search_and_reconstruct(xb[:2], 3)
    np.testing.assert_array_equal(R, xb[I])
    with pytest.raises(ValueError, match="out of range"):
        index.reconstruct(50)


def test_search_and_reconstruct_pads_missing_with_nan(rng):
    index = sx.IndexFlatL2(4)
    index.add(rng.random((2, 4), dtype=np.float32))
    D, I, R = index.search_and_reconstruct(np.zeros((1, 4), np.float32), 3)
    assert I[0, 2] == -1 and np.isnan(R[0, 2]).all() and not np.isnan(R[0, :2]).any()


def test_remove_ids_and_reset(rng):
    xb = rng.random((100, 4), dtype=np.float32)
    index = sx.IndexFlatL2(4)
    index.add(xb)
    assert index.remove_ids(np.arange(10, 20)) == 10
    assert index.ntotal == 90
    np.testing.assert_array_equal(index.reconstruct(10), xb[20])  # ids close up
    assert index.remove_ids(sx.IDSelectorRange(0, 5)) == 5
    assert index.ntotal == 85
    index.reset()
    assert index.ntotal == 0
    D, I = index.search(xb[:1], 2)
    assert (I == -1).all() and np.isinf(D).all()


def test_input_conversion(rng):
    """Any real dtype and any layout is converted; the results are the same."""
    xb = rng.random((200, 6), dtype=np.float32)
    index = sx.IndexFlatL2(6)
    index.add(xb.astype(np.float64))
    np.testing.assert_array_equal(index.reconstruct_n(), xb.astype(np.float64).astype(np.float32))
    D1, I1 = index.search(xb[:5], 3)
    D2, I2 = index.search(np.asfortranarray(xb[:5].astype(np.float64)), 3)
    D3, I3 = index.search(xb[:5].tolist(), 3)
    np.testing.assert_array_equal(I1, I2)
    np.testing.assert_array_equal(I1, I3)
    index2 = sx.IndexFlatL2(2)
    index2.add(np.array([[1, 2], [3, 4]], dtype=np.int32))
    np.testing.assert_array_equal(index2.reconstruct(1), [3.0, 4.0])


def test_normalize_and_cosine(rng):
    x = rng.standard_normal((100, 16), dtype=np.float32)
    y = x.copy()
    sx.normalize_L2(y)
    np.testing.assert_allclose(np.linalg.norm(y, axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(y, x / np.linalg.norm(x, axis=1, keepdims=True), rtol=1e-6)
    with pytest.raises(TypeError, match="in place"):
        sx.normalize_L2(x.astype(np.float64))


def test_pairwise_distances(rng):
    a = rng.standard_normal((30, 9), dtype=np.float32)
    b = rng.standard_normal((40, 9), dtype=np.float32)
    l2 = ((a[:, None, :].astype(np.float64) - b[None]) ** 2).sum(-1)
    np.testing.assert_allclose(sx.pairwise_distances(a, b), l2, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(sx.pairwise_distances(a[:3], b), l2[:3], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(sx.pairwise_distances(a, b, sx.METRIC_INNER_PRODUCT), a @ b.T, rtol=1e-4, atol=1e-4)
