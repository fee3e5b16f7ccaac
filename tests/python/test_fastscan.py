"""4-bit PQ fast-scan: the same results as the plain PQ scan up to the table quantization."""
import numpy as np
import pytest

import sextant as sx
from conftest import exact_knn


def recall(I, gt):
    k = I.shape[1]
    return np.mean([len(set(a) & set(b)) / k for a, b in zip(I, gt[:, :k])])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    xb = rng.standard_normal((10000, 32), dtype=np.float32)
    xq = rng.standard_normal((200, 32), dtype=np.float32)
    return xb, xq, exact_knn(xq, xb, 10)[1], exact_knn(xq, xb, 10, "IP")[1]


@pytest.mark.parametrize("metric", [sx.METRIC_L2, sx.METRIC_INNER_PRODUCT])
@pytest.mark.parametrize("M", [16, 7])
def test_fastscan_matches_plain_pq(data, metric, M):
    xb, xq, _, _ = data
    d = 28 if M == 7 else 32
    xb, xq = xb[:, :d].copy(), xq[:, :d].copy()
    fs = sx.IndexPQFastScan(d, M, metric)
    fs.train(xb)
    fs.add(xb)
    plain = sx.IndexPQ(d, M, 4, metric)
    plain.pq.centroids = fs.pq.centroids  # the same codebooks: the same codes
    plain.add(xb)
    np.testing.assert_array_equal(fs.reconstruct_n(0, 50), plain.reconstruct_n(0, 50))
    Dfs, Ifs = fs.search(xq, 10)
    Dp, Ip = plain.search(xq, 10)
    # 8-bit tables: each of M look-ups is off by at most half a step of the largest table range.
    table_step = np.ptp(plain.pq.compute_distance_table(xq[:1], metric), axis=1).max() / 255
    tol = M * table_step  # generous: rounding of every entry plus the shared step
    assert np.abs(Dfs - Dp).max() <= 2 * tol
    # The quantized ranking keeps nearly all of the plain ranking.
    assert recall(Ifs, Ip) >= 0.9


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("metric", [sx.METRIC_L2, sx.METRIC_INNER_PRODUCT])
def test_ivf_fastscan_matches_ivfpq(data, residual, metric):
    xb, xq, gt_l2, gt_ip = data
    fs = sx.IndexIVFPQFastScan(sx.IndexFlat(32, metric), 32, 16, 16, metric, residual)
    fs.train(xb)
    fs.add(xb)
    plain = sx.IndexIVFPQ(fs.quantizer, 32, 16, 16, 4, metric, residual)
    plain.pq.centroids = fs.pq.centroids
    plain.use_precomputed_table = True
    plain.add(xb)
    fs.make_direct_map()
    plain.make_direct_map()
    np.testing.assert_array_equal(fs.reconstruct_n(0, 20), plain.reconstruct_n(0, 20))
    _, Ifs = fs.search(xq, 10, nprobe=4)
    _, Ip = plain.search(xq, 10, nprobe=4)
    assert recall(Ifs, Ip) >= 0.85
    gt = gt_l2 if metric == sx.METRIC_L2 else gt_ip
    assert abs(recall(Ifs, gt) - recall(Ip, gt)) <= 0.03


def test_fastscan_refine_removal_and_factory(data):
    xb, xq, gt, _ = data
    index = sx.index_factory(32, "IVF16,PQ16x4fs,RFlat")
    assert isinstance(index.base_index, sx.IndexIVFPQFastScan) and not index.base_index.by_residual
    index.train(xb)
    index.add(xb)
    assert recall(index.search(xq, 10, nprobe=16, k_factor=20)[1], gt) >= 0.9
    assert sx.describe(sx.index_factory(32, "IVF16,PQ16x4fsr")) == "IVF16,PQ16x4fsr"
    flat = sx.index_factory(32, "PQ16x4fs")
    flat.train(xb)
    flat.add(xb)
    before = flat.reconstruct_n(40, 5)
    assert flat.remove_ids(np.arange(10, 30)) == 20
    np.testing.assert_array_equal(flat.reconstruct_n(20, 5), before)
    ivf = index.base_index
    ivf.make_direct_map("hashtable")
    kept = ivf.reconstruct(500)
    assert ivf.remove_ids(np.arange(100)) == 100
    np.testing.assert_array_equal(ivf.reconstruct(500), kept)
    lims, D, I = flat.range_search(xq[:3], 30.0)
    assert (D < 30.0).all()
    with pytest.raises(ValueError, match="4 bits"):
        sx.index_factory(32, "PQ16x8fs")
