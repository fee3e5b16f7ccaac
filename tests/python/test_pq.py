"""Product quantization: IndexPQ, IndexIVFPQ, re-ranking; against exact search and faiss."""
import numpy as np
import pytest

import sextant as sx
from conftest import exact_knn


def recall(I, gt):
    k = I.shape[1]
    return np.mean([len(set(a) & set(b)) / k for a, b in zip(I, gt[:, :k])])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    means = rng.standard_normal((60, 32)) * 3
    xb = (means[rng.integers(0, 60, 12000)] + rng.standard_normal((12000, 32))).astype(np.float32)
    xq = (means[rng.integers(0, 60, 300)] + rng.standard_normal((300, 32))).astype(np.float32)
    return xb, xq, exact_knn(xq, xb, 10)[1], exact_knn(xq, xb, 10, "IP")[1]


@pytest.mark.parametrize("metric", [sx.METRIC_L2, sx.METRIC_INNER_PRODUCT])
def test_ivfpq_recall_within_001_of_faiss(data, metric):
    """faiss's coarse centroids and codebooks in both: the same codes, the same recall."""
    faiss = pytest.importorskip("faiss")
    xb, xq, gt_l2, gt_ip = data
    gt = gt_l2 if metric == sx.METRIC_L2 else gt_ip
    fmetric = faiss.METRIC_L2 if metric == sx.METRIC_L2 else faiss.METRIC_INNER_PRODUCT
    qf = faiss.IndexFlat(32, fmetric)
    theirs = faiss.IndexIVFPQ(qf, 32, 32, 8, 8, fmetric)
    theirs.train(xb)
    theirs.add(xb)
    quantizer = sx.IndexFlat(32, metric)
    quantizer.add(qf.reconstruct_n(0, 32))
    ours = sx.IndexIVFPQ(quantizer, 32, 32, 8, 8, metric)
    ours.pq.cp.niter = 1  # the codebooks are replaced below
    ours.train(xb[:2000])
    ours.pq.centroids = faiss.vector_to_array(theirs.pq.centroids).reshape(8, 256, 4)
    ours.use_precomputed_table = True
    ours.add(xb)
    np.testing.assert_array_equal(ours.pq.compute_codes(xb[:100] - qf.reconstruct_n(0, 32)[ours.assign(xb[:100])]),
                                  theirs.pq.compute_codes(xb[:100] - qf.reconstruct_n(0, 32)[ours.assign(xb[:100])]))
    for nprobe in (1, 4, 16):
        theirs.nprobe = nprobe
        r_ours = recall(ours.search(xq, 10, nprobe=nprobe)[1], gt)
        r_theirs = recall(theirs.search(xq, 10)[1], gt)
        assert abs(r_ours - r_theirs) <= 0.01, (nprobe, r_ours, r_theirs)


def test_pq_recall_within_001_of_faiss(data):
    faiss = pytest.importorskip("faiss")
    xb, xq, gt, _ = data
    theirs = faiss.IndexPQ(32, 8, 8)
    theirs.train(xb)
    theirs.add(xb)
    ours = sx.IndexPQ(32, 8, 8)
    ours.pq.centroids = faiss.vector_to_array(theirs.pq.centroids).reshape(8, 256, 4)
    assert ours.pq.is_trained
    assert ours.is_trained  # setting the codebooks trains it
    ours.add(xb)
    assert abs(recall(ours.search(xq, 10)[1], gt) - recall(theirs.search(xq, 10)[1], gt)) <= 0.01


def test_trained_pq_quality(data):
    xb, xq, gt, _ = data
    index = sx.IndexPQ(32, 8, 8)
    index.train(xb)
    index.add(xb)
    assert recall(index.search(xq, 10)[1], gt) >= 0.3  # 0.36 measured (M=8: 4-dimensional subspaces)
    D, I = index.search(xq, 10)
    decoded = index.reconstruct_n()
    np.testing.assert_allclose(D, exact_knn(xq, decoded, 10)[0], rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("nbits", [4, 6])
def test_other_bit_widths(data, nbits):
    xb, xq, gt, _ = data
    index = sx.IndexIVFPQ(sx.IndexFlatL2(32), 32, 16, 8, nbits)
    index.train(xb)
    index.add(xb)
    assert index.code_size == (8 * nbits + 7) // 8
    assert recall(index.search(xq, 10, nprobe=16)[1], gt) >= (0.11 if nbits == 4 else 0.2)  # 0.145, 0.245 measured


def test_refine_restores_exact_results(data):
    xb, xq, gt, _ = data
    index = sx.IndexRefineFlat(sx.IndexIVFPQ(sx.IndexFlatL2(32), 32, 16, 4, 8))
    index.train(xb)
    index.add(xb)
    base = recall(index.search(xq, 10, nprobe=16)[1], gt)
    refined = recall(index.search(xq, 10, nprobe=16, k_factor=8)[1], gt)
    assert refined > 2 * base and refined >= 0.7  # 0.20 -> 0.75 measured
    D, I = index.search(xq, 10, nprobe=16, k_factor=len(xb) / 10)
    assert recall(I, gt) == 1.0
    index.k_factor = 4
    assert index.k_factor == 4
    with pytest.raises(ValueError, match="k_factor must be >= 1"):
        index.search(xq, 10, k_factor=0.5)
    with pytest.raises(ValueError, match="cannot remove"):
        index.remove_ids(np.arange(3))


def test_ivfpq_without_residuals_and_precomputed_toggle(data):
    xb, xq, gt, _ = data
    plain = sx.IndexIVFPQ(sx.IndexFlatL2(32), 32, 16, 8, 8, sx.METRIC_L2, False)
    plain.train(xb)
    plain.add(xb)
    assert not plain.by_residual and not plain.use_precomputed_table
    assert recall(plain.search(xq, 10, nprobe=16)[1], gt) >= 0.3  # 0.36 measured
    res = sx.IndexIVFPQ(sx.IndexFlatL2(32), 32, 16, 8)
    res.train(xb)
    res.add(xb)
    assert res.use_precomputed_table
    I1 = res.search(xq, 10, nprobe=4)[1]
    res.use_precomputed_table = False
    np.testing.assert_array_equal(res.search(xq, 10, nprobe=4)[1], I1)


def test_pq_errors():
    with pytest.raises(ValueError, match="multiple of M"):
        sx.IndexPQ(30, 8)
    with pytest.raises(ValueError, match="nbits must be in"):
        sx.ProductQuantizer(16, 4, 0)
    with pytest.raises(ValueError, match="at least 256"):
        sx.IndexPQ(16, 4).train(np.zeros((100, 16), np.float32))


# ---------------------------------------------------------------- score-aware (anisotropic) codes

@pytest.fixture(scope="module")
def angular():
    """Unit vectors around 200 directions (like text embeddings), searched by inner product."""
    rng = np.random.default_rng(11)
    centres = rng.standard_normal((200, 32))

    def draw(n):
        x = centres[rng.integers(0, 200, n)] + 0.35 * rng.standard_normal((n, 32))
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    xb, xq = draw(12000), draw(200)
    return xb, xq, exact_knn(xq, xb, 10, "IP")[1]


@pytest.mark.parametrize("codec", ["PQ16x4fs", "PQ8", "PQ16x4"])
def test_anisotropic_codes_rank_inner_products_better(angular, codec):
    """Without re-ranking, the codes' own inner products find more of the true top 10."""
    xb, xq, gt = angular
    found = {}
    for suffix in ("", "_aniso0.4"):
        index = sx.index_factory(32, f"IVF16,{codec}{suffix}", sx.METRIC_INNER_PRODUCT)
        index.train(xb)
        index.add(xb)
        found[suffix] = recall(index.search(xq, 10, nprobe=16)[1], gt)
    assert found["_aniso0.4"] > found[""] + 0.04, found


def test_anisotropic_refined_search_is_exact_when_everything_is_reranked(angular):
    xb, xq, gt = angular
    index = sx.index_factory(32, "IVF16,PQ16x4fs_aniso0.3,RFlat", sx.METRIC_INNER_PRODUCT)
    index.train(xb)
    index.add(xb)
    D, I = index.search(xq, 10, nprobe=16, k_factor=len(xb) / 10)
    assert recall(I, gt) == 1.0
    np.testing.assert_allclose(D, np.take_along_axis(xq @ xb.T, I, 1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("description", ["PQ8x4fs_aniso0.3", "PQ8_aniso0.3", "IVF16,PQ8x4fsr_aniso0.3,RFlat",
                                         "IVF16,PQ8_aniso0.25", "HNSW8,PQ8x4_aniso0.3"])
def test_anisotropic_factory_and_file_round_trip(angular, tmp_path, description):
    xb, xq, _ = angular
    index = sx.index_factory(32, description, sx.METRIC_INNER_PRODUCT)
    assert sx.describe(index) == description
    index.train(xb[:4000])
    index.add(xb[:4000])
    path = tmp_path / "aniso.sxt"
    sx.write_index(index, path)
    for mmap in (False, True):
        back = sx.read_index(path, mmap=mmap)
        assert sx.describe(back) == description
        np.testing.assert_array_equal(back.search(xq, 5)[1], index.search(xq, 5)[1])
    # New vectors are coded for the same loss: adding to the read index gives the same codes
    # (a graph's levels are drawn at random: its neighbours would differ anyway).
    if description.startswith("HNSW"):
        return
    back = sx.read_index(path)
    back.add(xb[4000:4500])
    index.add(xb[4000:4500])
    np.testing.assert_array_equal(back.search(xq, 5)[1], index.search(xq, 5)[1])


def test_anisotropic_objects_are_version_2_and_plain_ones_stay_version_1(angular):
    xb, _, _ = angular
    header = 64  # the root object starts after the file header: u32 tag, u32 object version
    for description, version in (("PQ8x4", 1), ("PQ8x4_aniso0.3", 2)):
        index = sx.index_factory(32, description, sx.METRIC_INNER_PRODUCT)
        index.train(xb[:2000])
        data = bytes(np.asarray(sx.serialize_index(index), dtype=np.uint8))
        assert int.from_bytes(data[header + 4:header + 8], "little") == version, description


def test_anisotropic_bad_thresholds_are_clear_errors():
    for bad, match in (("PQ8_aniso0.1", r"1/sqrt\(d\)"), ("PQ8_aniso1.2", r"1/sqrt\(d\)"),
                       ("PQ8_aniso", "_aniso<T>"), ("PQ8_anisoX", "_aniso<T>"), ("PQ8_aniso0.3x", "_aniso<T>")):
        with pytest.raises(ValueError, match=match):
            sx.index_factory(32, bad)
    pq = sx.ProductQuantizer(32, 8, 4)
    for bad in (0.1, 1.0, -0.3, float("nan")):
        with pytest.raises(ValueError, match="anisotropic threshold"):
            pq.anisotropic_threshold = bad
    pq.anisotropic_threshold = 0.3
    assert pq.anisotropic_eta == pytest.approx(31 * 0.09 / 0.91, rel=1e-5)


def test_anisotropic_ivfpq_written_for_faiss_searches_alike(angular, tmp_path):
    faiss = pytest.importorskip("faiss")
    xb, xq, _ = angular
    index = sx.index_factory(32, "IVF16,PQ8_aniso0.3", sx.METRIC_INNER_PRODUCT)
    index.train(xb[:4000])
    index.add(xb[:4000])
    sx.write_index(index, tmp_path / "aniso.faiss", format="faiss")
    theirs = faiss.read_index(str(tmp_path / "aniso.faiss"))
    theirs.nprobe = 4
    np.testing.assert_array_equal(theirs.search(xq, 10)[1], index.search(xq, 10, nprobe=4)[1])
