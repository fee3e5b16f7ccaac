"""IVF-Flat, IVF-SQ and flat SQ indexes: exact ground truth and faiss at the same parameters."""
import numpy as np
import pytest

import sextant as sx
from conftest import exact_knn


def clustered(rng, n, d, centers=100):
    means = rng.standard_normal((centers, d)) * 4
    return (means[rng.integers(0, centers, n)] + rng.standard_normal((n, d))).astype(np.float32)


def recall(I, gt):
    k = I.shape[1]
    return np.mean([len(set(a) & set(b)) / k for a, b in zip(I, gt[:, :k])])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    xb = clustered(rng, 20000, 32)
    xq = clustered(rng, 400, 32)
    return xb, xq, exact_knn(xq, xb, 10)[1], exact_knn(xq, xb, 10, "IP")[1]


def build(kind, d, nlist, metric):
    quantizer = sx.IndexFlat(d, metric)
    if kind == "flat":
        return sx.IndexIVFFlat(quantizer, d, nlist, metric)
    return sx.IndexIVFScalarQuantizer(quantizer, d, nlist, sx.ScalarQuantizer.QT_8bit, metric)


@pytest.mark.parametrize("kind", ["flat", "sq8"])
@pytest.mark.parametrize("metric", [sx.METRIC_L2, sx.METRIC_INNER_PRODUCT])
def test_recall_against_exact(data, kind, metric):
    xb, xq, gt_l2, gt_ip = data
    gt = gt_l2 if metric == sx.METRIC_L2 else gt_ip
    index = build(kind, 32, 64, metric)
    assert not index.is_trained
    index.train(xb)
    index.add(xb)
    r = {nprobe: recall(index.search(xq, 10, nprobe=nprobe)[1], gt) for nprobe in (1, 8, 64)}
    assert r[1] <= r[8] <= r[64]
    assert r[64] >= (1.0 if kind == "flat" else 0.97)
    # one query at a time (query-major scan) finds the same as the batch (list-major GEMM)
    _, Ibatch = index.search(xq[:80], 10, nprobe=8)
    for i in range(0, 80, 16):
        np.testing.assert_array_equal(index.search(xq[i:i + 1], 10, nprobe=8)[1], Ibatch[i:i + 1])


@pytest.mark.parametrize("kind", ["flat", "sq8"])
@pytest.mark.parametrize("metric", [sx.METRIC_L2, sx.METRIC_INNER_PRODUCT])
def test_recall_within_001_of_faiss(data, kind, metric):
    """Same centroids (faiss's), same nprobe: the same recall. (k-means quality
    is compared separately, in test_kmeans.py, averaged over seeds.)"""
    faiss = pytest.importorskip("faiss")
    xb, xq, gt_l2, gt_ip = data
    gt = gt_l2 if metric == sx.METRIC_L2 else gt_ip
    fmetric = faiss.METRIC_L2 if metric == sx.METRIC_L2 else faiss.METRIC_INNER_PRODUCT
    qf = faiss.IndexFlat(32, fmetric)
    theirs = (faiss.IndexIVFFlat(qf, 32, 64, fmetric) if kind == "flat"
              else faiss.IndexIVFScalarQuantizer(qf, 32, 64, faiss.ScalarQuantizer.QT_8bit, fmetric))
    theirs.train(xb)
    theirs.add(xb)
    quantizer = sx.IndexFlat(32, metric)
    quantizer.add(qf.reconstruct_n(0, 64))
    ours = (sx.IndexIVFFlat(quantizer, 32, 64, metric) if kind == "flat"
            else sx.IndexIVFScalarQuantizer(quantizer, 32, 64, sx.ScalarQuantizer.QT_8bit, metric))
    ours.train(xb)
    ours.add(xb)
    for nprobe in (1, 2, 4, 8):
        theirs.nprobe = nprobe
        r_ours = recall(ours.search(xq, 10, nprobe=nprobe)[1], gt)
        r_theirs = recall(theirs.search(xq, 10)[1], gt)
        assert abs(r_ours - r_theirs) <= 0.01, (nprobe, r_ours, r_theirs)


def unit_clusters(rng, n, d, centers=64):
    """Unit vectors around centres of different spreads: the mean directions of
    tight clusters are longer, which sways inner-product assignment to
    unnormalised centroids towards them."""
    means = rng.standard_normal((centers, d))
    spread = rng.uniform(0.3, 2.0, centers)
    c = rng.integers(0, centers, n)
    x = means[c] + rng.standard_normal((n, d)) * spread[c][:, None]
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_spherical_coarse_quantizer_scans_fewer_codes():
    """`IVF<n>_spherical`: unit centroids (spherical k-means). On unit-norm data
    searched by inner product it reaches a recall with fewer codes scanned than
    the plain inverted file, whose long centroids gather oversized lists."""
    rng = np.random.default_rng(5)
    xb, xq = unit_clusters(rng, 20000, 32), unit_clusters(np.random.default_rng(105), 400, 32)
    gt = exact_knn(xq, xb, 10, "IP")[1]

    def codes_to_reach(description, target):
        index = sx.index_factory(32, description, sx.METRIC_INNER_PRODUCT)
        index.train(xb)
        index.add(xb)
        sizes = np.array([index.list_size(lst) for lst in range(index.nlist)])
        _, probes = index.quantizer.search(xq, index.nlist)
        for nprobe in range(1, index.nlist + 1):
            if recall(index.search(xq, 10, nprobe=nprobe)[1], gt) >= target:
                return index, sizes[probes[:, :nprobe]].sum(1).mean()

    plain_index, plain = codes_to_reach("IVF64,Flat", 0.95)
    index, spherical = codes_to_reach("IVF64_spherical,Flat", 0.95)
    assert index.cp.spherical and not plain_index.cp.spherical
    np.testing.assert_allclose(np.linalg.norm(index.quantizer.reconstruct_n(0, 64), axis=1), 1, atol=1e-5)
    assert spherical < 0.95 * plain  # measured: 6,556 codes against 7,314
    assert recall(index.search(xq, 10, nprobe=64)[1], gt) == 1.0


def test_faiss_decodes_like_us(data):
    """Same SQ8 training data -> same codes and reconstructions as faiss."""
    faiss = pytest.importorskip("faiss")
    xb = data[0][:2000]
    ours = sx.ScalarQuantizer(32, sx.ScalarQuantizer.QT_8bit)
    theirs = faiss.ScalarQuantizer(32, faiss.ScalarQuantizer.QT_8bit)
    ours.train(xb)
    theirs.train(xb)
    np.testing.assert_allclose(ours.trained, faiss.vector_to_array(theirs.trained), rtol=1e-6)
    np.testing.assert_array_equal(ours.compute_codes(xb), theirs.compute_codes(xb))
    np.testing.assert_allclose(ours.decode(ours.compute_codes(xb)), theirs.decode(theirs.compute_codes(xb)),
                               rtol=1e-5, atol=1e-5)


def test_ids_removal_merge_reconstruct(data):
    xb, xq, _, _ = data
    index = build("flat", 32, 32, sx.METRIC_L2)
    index.train(xb)
    ids = np.arange(len(xb)) * 3 + 10
    index.add_with_ids(xb, ids)
    index.make_direct_map("hashtable")
    np.testing.assert_array_equal(index.reconstruct(int(ids[7])), xb[7])
    assert index.remove_ids(ids[:5000]) == 5000 and index.ntotal == 15000
    with pytest.raises(ValueError, match="not in the index"):
        index.reconstruct(int(ids[7]))
    D, I = index.search(xq, 5, nprobe=32, sel=sx.IDSelectorRange(int(ids[6000]), int(ids[7000])))
    assert ((I >= ids[6000]) & (I < ids[7000])).all()
    other = sx.IndexIVFFlat(index.quantizer, 32, 32)
    other.add(xb[:100])
    index.merge_from(other, add_id=10**9)
    assert index.ntotal == 15100 and other.ntotal == 0
    assert index.search(xb[3:4], 1, nprobe=32)[1][0, 0] == 10**9 + 3
    assert sum(index.list_size(l) for l in range(index.nlist)) == index.ntotal
    assert index.imbalance_factor() >= 1.0
    assert (index.assign(xb[:10]) >= 0).all()


def test_knobs_and_errors(data):
    xb, xq, _, _ = data
    index = build("sq8", 32, 16, sx.METRIC_L2)
    with pytest.raises(ValueError, match="not trained"):
        index.add(xb)
    with pytest.raises(ValueError, match="not trained"):
        index.search(xq, 1)
    index.cp.niter = 4
    index.train(xb)
    index.add(xb)
    index.nprobe = 4
    np.testing.assert_array_equal(index.search(xq, 5)[1], index.search(xq, 5, nprobe=4)[1])
    with pytest.raises(ValueError, match="nprobe must be >= 1"):
        index.search(xq, 1, nprobe=0)
    with pytest.raises(ValueError, match="nprobe must be >= 1"):
        index.nprobe = 0
    with pytest.raises(ValueError, match="efSearch"):
        index.search(xq, 1, efSearch=10)
    D, I = index.search(xq[:3], 4, max_codes=2)
    assert (I[:, 2:] == -1).all()
    lims, Dr, Ir = index.range_search(xq[:5], 30.0, nprobe=16)
    assert len(lims) == 6 and (Dr < 30.0).all()


@pytest.mark.parametrize("qtype", ["QT_8bit", "QT_4bit", "QT_6bit", "QT_fp16", "QT_bf16", "QT_8bit_uniform"])
def test_index_scalar_quantizer(data, qtype):
    xb, xq, gt, _ = data
    index = sx.IndexScalarQuantizer(32, getattr(sx.ScalarQuantizer, qtype))
    index.train(xb)
    index.add(xb)
    decoded = index.reconstruct_n()
    D, I = index.search(xq, 10)
    Dref, Iref = exact_knn(xq, decoded, 10)
    np.testing.assert_allclose(D, Dref, rtol=1e-4, atol=1e-3)
    expected = {"QT_4bit": 0.55, "QT_6bit": 0.85}.get(qtype, 0.95)
    assert recall(I, gt) >= expected
