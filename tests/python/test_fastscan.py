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


# Beyond 256 sub-quantizers the table step widens so that 16-bit sums cannot
# overflow; with one or two dimensions per sub-quantizer (d = 784, M = d / 2 and
# M = d), overflowing sums would scramble the ranking.
@pytest.fixture(scope="module")
def wide():
    rng = np.random.default_rng(7)
    basis = rng.standard_normal((24, 784), dtype=np.float32)
    xb = rng.standard_normal((6000, 24), dtype=np.float32) @ basis
    xb += 0.3 * rng.standard_normal(xb.shape, dtype=np.float32)
    xq = xb[:100] + 0.5 * rng.standard_normal((100, 784), dtype=np.float32)
    xb, xq = xb[100:].copy(), xq.astype(np.float32)
    return xb, xq, exact_knn(xq, xb, 10)[1]


def widened_step(table):
    """The quantized table step: the widest range over 255, beyond M = 256 also their sum over 65535 - M."""
    spans = np.ptp(table, axis=1)
    M = len(spans)
    return spans.max() / 255 if M <= 256 else max(spans.max() / 255, spans.sum() / (65535 - M))


@pytest.mark.parametrize("M", [392, 784])
def test_fastscan_beyond_256_subquantizers(wide, M):
    xb, xq, gt = wide
    fs = sx.IndexPQFastScan(784, M)
    fs.train(xb[:3000])
    fs.add(xb)
    plain = sx.IndexPQ(784, M, 4)
    plain.pq.centroids = fs.pq.centroids
    plain.add(xb)
    Dfs, Ifs = fs.search(xq, 10)
    Dp, Ip = plain.search(xq, 10)
    steps = [widened_step(plain.pq.compute_distance_table(q[None], sx.METRIC_L2)) for q in xq]
    assert (np.abs(Dfs - Dp).max(axis=1) <= M * np.array(steps)).all()
    assert recall(Ifs, Ip) >= 0.9
    # Against exact search: re-ranking the fast-scan candidates finds the true neighbours.
    flat = sx.IndexFlat(784)
    flat.add(xb)
    refined = sx.IndexRefine(fs, flat)
    assert recall(refined.search(xq, 10, k_factor=10)[1], gt) >= 0.95


@pytest.mark.parametrize("residual", [False, True])
def test_ivf_fastscan_beyond_256_subquantizers(wide, residual):
    xb, xq, gt = wide
    fs = sx.IndexIVFPQFastScan(sx.IndexFlat(784), 784, 16, 392, sx.METRIC_L2, residual)
    fs.train(xb[:3000])
    fs.add(xb)
    plain = sx.IndexIVFPQ(fs.quantizer, 784, 16, 392, 4, sx.METRIC_L2, residual)
    plain.pq.centroids = fs.pq.centroids
    plain.add(xb)
    _, Ifs = fs.search(xq, 10, nprobe=4)
    _, Ip = plain.search(xq, 10, nprobe=4)
    assert recall(Ifs, Ip) >= 0.85
    assert abs(recall(Ifs, gt) - recall(Ip, gt)) <= 0.03


def test_factory_beyond_256_subquantizers(wide, tmp_path):
    xb, xq, gt = wide
    for description, params in [("PQ392x4fs", {}), ("IVF64,PQ392x4fs,RFlat", {"nprobe": 64, "k_factor": 4})]:
        index = sx.index_factory(784, description)
        assert sx.describe(index) == description
        index.train(xb[:3000])
        index.add(xb)
        D, I = index.search(xq, 10, **params)
        assert recall(I, gt) >= (0.95 if params else 0.5), description
        path = tmp_path / "index.sx"
        sx.write_index(index, path)
        D2, I2 = sx.read_index(path).search(xq, 10, **params)
        np.testing.assert_array_equal(I, I2)
        np.testing.assert_array_equal(D, D2)


def test_beyond_256_subquantizers_matches_faiss(wide):
    """Recall no more than 0.01 below faiss-cpu's at the same factory string and search
    parameters; every list probed, so that the codes, not the coarse k-means, make the difference."""
    faiss = pytest.importorskip("faiss")
    xb, xq, gt = wide
    description = "IVF64,PQ392x4fs,RFlat"
    ours = sx.index_factory(784, description)
    ours.train(xb[:3000])
    ours.add(xb)
    theirs = faiss.index_factory(784, description)
    theirs.train(xb[:3000])
    theirs.add(xb)
    faiss.extract_index_ivf(theirs).nprobe = 64
    for k_factor in (1, 2):
        theirs.k_factor = k_factor
        r_ours = recall(ours.search(xq, 10, nprobe=64, k_factor=k_factor)[1], gt)
        r_theirs = recall(theirs.search(xq, 10)[1], gt)
        assert r_ours >= r_theirs - 0.01, (k_factor, r_ours, r_theirs)


def test_too_many_subquantizers_is_refused():
    # 16-bit sums leave too few levels per entry beyond 16384 sub-quantizers.
    with pytest.raises(ValueError, match="up to M=16384 sub-quantizers"):
        sx.IndexPQFastScan(16400, 16400)
    with pytest.raises(ValueError, match="up to M=16384 sub-quantizers"):
        sx.IndexIVFPQFastScan(sx.IndexFlat(16400), 16400, 4, 16400)
    assert sx.IndexPQFastScan(16384, 16384).pq.M == 16384
