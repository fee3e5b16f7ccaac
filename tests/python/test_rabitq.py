"""RaBitQ codes (IndexRaBitQ, IndexIVFRaBitQ and their fast-scan layouts): the same answers and recall as faiss-cpu at the
same parameters, files both ways, qb, the error bounds, and re-ranking that skips what the
bounds rule out."""
import numpy as np
import pytest

import sextant as sx
from conftest import exact_knn

faiss = pytest.importorskip("faiss")
faiss.omp_set_num_threads(1)  # spinning OpenMP threads slow a small shared machine

D = 64
METRICS = [(sx.METRIC_L2, "L2"), (sx.METRIC_INNER_PRODUCT, "IP")]


def data(n=4000, nq=100, seed=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, D), dtype=np.float32), rng.standard_normal((nq, D), dtype=np.float32)


def on_faiss_centroids(theirs, ivf_class, metric, **kwargs):
    """An empty sextant IVF index of ivf_class over the coarse centroids faiss's IVF index theirs
    trained: the same lists, so recall compares the codes alone."""
    quantizer = sx.IndexFlat(D, metric)
    quantizer.add(theirs.quantizer.reconstruct_n(0, theirs.nlist))
    return ivf_class(quantizer, D, theirs.nlist, metric, **kwargs)


def recall(I, I_true):
    k = I_true.shape[1]
    return np.mean([len(set(a) & set(b)) / k for a, b in zip(I, I_true)])


def test_code_size_and_defaults():
    index = sx.index_factory(D, "RaBitQ")
    assert type(index).__name__ == "IndexRaBitQ" and index.qb == 4 and not index.is_trained
    assert index.sa_code_size() == D // 8 + 8  # 1 bit a dimension and two floats
    assert index.center.size == 0
    ivf = sx.index_factory(D, "IVF16,RaBitQ", sx.METRIC_INNER_PRODUCT)
    assert type(ivf).__name__ == "IndexIVFRaBitQ" and ivf.qb == 4 and ivf.code_size == D // 8 + 8
    fast = sx.index_factory(D, "IVF16,RaBitQfs")
    assert type(fast).__name__ == "IndexIVFRaBitQFastScan" and fast.qb == 8 and fast.code_size == D // 8 + 8
    flat_fast = sx.index_factory(D, "RaBitQfs")
    assert type(flat_fast).__name__ == "IndexRaBitQFastScan" and flat_fast.qb == 8 and flat_fast.sa_code_size() == D // 8 + 8
    for bad in (-1, 9):
        with pytest.raises(ValueError, match="qb"):
            index.qb = bad
        with pytest.raises(ValueError, match="qb"):
            ivf.qb = bad
        with pytest.raises(ValueError, match="qb"):
            fast.qb = bad
        with pytest.raises(ValueError, match="qb"):
            flat_fast.qb = bad


@pytest.mark.parametrize("qb", [0, 4])
@pytest.mark.parametrize("metric,name", METRICS)
def test_flat_recall_matches_faiss(metric, name, qb):
    xb, xq = data()
    _, I_true = exact_knn(xq, xb, 10, name)
    theirs = faiss.IndexRaBitQ(D, metric)
    theirs.qb = qb
    theirs.train(xb)
    theirs.add(xb)
    ours = sx.IndexRaBitQ(D, metric)
    ours.qb = qb
    ours.train(xb)
    ours.add(xb)
    np.testing.assert_allclose(ours.center, faiss.vector_to_array(theirs.center), rtol=1e-5, atol=1e-6)
    D_ref, I_ref = theirs.search(xq, 10)
    Dx, Ix = ours.search(xq, 10)
    assert abs(recall(Ix, I_true) - recall(I_ref, I_true)) <= 0.01
    assert recall(Ix, I_true) > 0.2  # 1 bit a dimension on 64 Gaussian dimensions: about 0.28; random: 0.003
    np.testing.assert_allclose(Dx, D_ref, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("metric,name", METRICS)
def test_ivf_recall_matches_faiss(metric, name):
    """The same coarse centroids (faiss's), the same codes: the same recall at the same nprobe."""
    xb, xq = data()
    _, I_true = exact_knn(xq, xb, 10, name)
    theirs = faiss.index_factory(D, "IVF16,RaBitQ", metric)
    theirs.train(xb)
    theirs.add(xb)
    theirs.nprobe = 4
    ours = on_faiss_centroids(theirs, sx.IndexIVFRaBitQ, metric)
    assert ours.is_trained
    ours.add(xb)
    _, I_ref = theirs.search(xq, 10)
    _, Ix = ours.search(xq, 10, nprobe=4)
    assert abs(recall(Ix, I_true) - recall(I_ref, I_true)) <= 0.01
    assert recall(Ix, I_true) > 0.15


@pytest.mark.parametrize("metric,name", METRICS)
def test_ivf_fast_scan_recall_matches_faiss(metric, name):
    """faiss's IVF RaBitQfs and sextant's, both with 8-bit queries and 8-bit tables, on the same
    coarse centroids: the same recall at the same nprobe, and about the same neighbours."""
    xb, xq = data()
    _, I_true = exact_knn(xq, xb, 10, name)
    theirs = faiss.index_factory(D, "IVF16,RaBitQfs", metric)
    theirs.train(xb)
    theirs.add(xb)
    theirs.nprobe = 4
    ours = on_faiss_centroids(theirs, sx.IndexIVFRaBitQFastScan, metric)
    assert ours.qb == faiss.downcast_index(theirs).qb == 8 and ours.code_size == D // 8 + 8
    ours.add(xb)
    _, I_ref = theirs.search(xq, 10)
    _, Ix = ours.search(xq, 10, nprobe=4)
    assert abs(recall(Ix, I_true) - recall(I_ref, I_true)) <= 0.01
    assert recall(Ix, I_true) > 0.15
    assert recall(Ix, I_ref) > 0.8


@pytest.mark.parametrize("metric", [faiss.METRIC_L2, faiss.METRIC_INNER_PRODUCT])
def test_faiss_fast_scan_files(metric, tmp_path):
    """faiss's IndexIVFRaBitQFastScan files: the codes are those of the bitwise index they were
    converted from (read back from faiss's blocks), qb travels, and the searches agree."""
    xb, xq = data(2000, 50)
    bitwise = faiss.index_factory(D, "IVF8,RaBitQ", metric)
    bitwise.train(xb)
    bitwise.add(xb)
    fast = faiss.IndexIVFRaBitQFastScan(faiss.downcast_index(bitwise))
    fast.qb, fast.nprobe = 8, 3
    faiss.write_index(bitwise, str(tmp_path / "bitwise.index"))
    faiss.write_index(fast, str(tmp_path / "fast.index"))
    ours, ours_bitwise = sx.read_index(tmp_path / "fast.index"), sx.read_index(tmp_path / "bitwise.index")
    assert type(ours).__name__ == "IndexIVFRaBitQFastScan" and ours.ntotal == 2000 and ours.qb == 8
    assert ours.nprobe == 3
    for index in (ours, ours_bitwise):
        index.make_direct_map()
    np.testing.assert_array_equal(ours.reconstruct_n(0, 2000), ours_bitwise.reconstruct_n(0, 2000))
    D_ref, I_ref = fast.search(xq, 10)
    Dx, Ix = ours.search(xq, 10)
    assert recall(Ix, I_ref) > 0.85
    np.testing.assert_allclose(Dx[:, 0], D_ref[:, 0], rtol=0.05, atol=0.05 * np.abs(D_ref).max())
    # Its own file, and faiss's format refused rather than written with block bytes as codes.
    again = sx.deserialize_index(sx.serialize_index(ours))
    np.testing.assert_array_equal(again.search(xq, 10)[1], Ix)
    with pytest.raises(ValueError, match="fast-scan"):
        sx.serialize_index(ours, format="faiss")


@pytest.mark.parametrize("metric", [faiss.METRIC_L2, faiss.METRIC_INNER_PRODUCT])
def test_faiss_flat_fast_scan_files(metric, tmp_path):
    """faiss's IndexRaBitQFastScan files: the codes of faiss's IndexRaBitQ on the same data (the
    same centroid, the mean), read back from its blocks (70 vectors: a partial last block)."""
    xb, xq = data(70, 20)
    paths = {}
    for description in ("RaBitQ", "RaBitQfs"):
        theirs = faiss.index_factory(D, description, metric)
        theirs.train(xb)
        theirs.add(xb)
        paths[description] = tmp_path / f"{description}.index"
        faiss.write_index(theirs, str(paths[description]))
    ours, ours_bitwise = sx.read_index(paths["RaBitQfs"]), sx.read_index(paths["RaBitQ"])
    assert type(ours).__name__ == "IndexRaBitQFastScan" and ours.ntotal == 70 and ours.qb == 8
    np.testing.assert_array_equal(ours.center, ours_bitwise.center)
    np.testing.assert_array_equal(ours.reconstruct_n(0, 70), ours_bitwise.reconstruct_n(0, 70))
    D_ref, I_ref = theirs.search(xq, 10)
    Dx, Ix = ours.search(xq, 10)
    assert recall(Ix, I_ref) > 0.85
    again = sx.deserialize_index(sx.serialize_index(ours))
    np.testing.assert_array_equal(again.search(xq, 10)[1], Ix)


@pytest.mark.parametrize("description", ["RaBitQ", "IVF8,RaBitQ"])
def test_faiss_file_with_float_queries(description, tmp_path):
    """qb travels in the file: a faiss index searching float queries (qb = 0) reads as one."""
    xb, xq = data(1500, 30)
    theirs = faiss.index_factory(D, description)
    theirs.train(xb)
    theirs.add(xb)
    faiss.downcast_index(theirs).qb = 0
    if "IVF" in description:
        faiss.extract_index_ivf(theirs).nprobe = 3
    faiss.write_index(theirs, str(tmp_path / "f.index"))
    ours = sx.read_index(tmp_path / "f.index")
    assert ours.qb == 0
    D_ref, I_ref = theirs.search(xq, 10)
    Dx, Ix = ours.search(xq, 10)
    np.testing.assert_allclose(Dx, D_ref, rtol=1e-4, atol=1e-4)
    assert (Ix == I_ref).mean() > 0.99


def test_multi_bit_code_size_and_factory():
    index = sx.index_factory(D, "RaBitQ4")
    assert type(index).__name__ == "IndexRaBitQ" and index.nb_bits == 4 and sx.describe(index) == "RaBitQ4"
    # Faiss's layout: sign bits, 3 floats, 3 more bits a dimension, 2 floats.
    assert index.sa_code_size() == D // 8 + 12 + 3 * D // 8 + 8
    ivf = sx.index_factory(D, "IVF16,RaBitQ9", sx.METRIC_INNER_PRODUCT)
    assert type(ivf).__name__ == "IndexIVFRaBitQ" and ivf.nb_bits == 9 and ivf.code_size == D // 8 + 12 + D + 8
    assert sx.IndexRaBitQ(D).nb_bits == 1 and sx.IndexRaBitQ(D, sx.METRIC_L2, 2).nb_bits == 2
    fast = sx.index_factory(D, "IVF16,RaBitQfs3")
    assert type(fast).__name__ == "IndexIVFRaBitQFastScan" and fast.nb_bits == 3 and fast.qb == 8
    assert fast.code_size == D // 8 + 12 + 2 * D // 8 + 8 and sx.describe(fast) == "IVF16,RaBitQfs3"
    assert sx.IndexRaBitQFastScan(D, sx.METRIC_L2, 5).nb_bits == 5
    for bad in ("RaBitQ0", "RaBitQ10", "RaBitQfs0", "IVF16,RaBitQ12", "RaBitQ2x", "RaBitQ4fs"):
        with pytest.raises(ValueError, match="RaBitQ"):
            sx.index_factory(D, bad)
    for bits in (0, 10):
        with pytest.raises(ValueError, match="nb_bits"):
            sx.IndexRaBitQ(D, sx.METRIC_L2, bits)


@pytest.mark.parametrize("description", ["RaBitQ2", "RaBitQ4", "RaBitQfs3", "IVF16,RaBitQ4", "IVF16,RaBitQfs4"])
@pytest.mark.parametrize("metric,name", METRICS)
def test_multi_bit_recall_matches_faiss(description, metric, name):
    """The same codes' estimator and two-stage search as faiss: recall at least faiss's (less
    0.01) at the same parameters, more bits finding more; the IVF forms on faiss's centroids."""
    xb, xq = data()
    _, I_true = exact_knn(xq, xb, 10, name)
    theirs = faiss.index_factory(D, description, metric)
    theirs.train(xb)
    theirs.add(xb)
    if "IVF" in description:
        theirs.nprobe = 8
        ivf = sx.IndexIVFRaBitQFastScan if "fs" in description else sx.IndexIVFRaBitQ
        ours = on_faiss_centroids(theirs, ivf, metric, nb_bits=4)
        ours.nprobe = 8
    else:
        ours = sx.index_factory(D, description, metric)
        ours.train(xb)
    ours.add(xb)
    ours_recall, their_recall = recall(ours.search(xq, 10)[1], I_true), recall(theirs.search(xq, 10)[1], I_true)
    assert ours_recall >= their_recall - 0.01
    # 1 bit: about 0.28 (test_flat_recall_matches_faiss); 2 bits about 0.55, 3 bits 0.75, 4 bits 0.85
    # (0.65 through 8 of 16 lists).
    assert ours_recall > {"RaBitQ2": 0.45, "RaBitQ4": 0.75, "RaBitQfs3": 0.6}.get(description, 0.55)


@pytest.mark.parametrize("description", ["RaBitQ4", "IVF8,RaBitQ3", "RaBitQfs4", "IVF8,RaBitQfs2"])
@pytest.mark.parametrize("metric", [faiss.METRIC_L2, faiss.METRIC_INNER_PRODUCT])
def test_faiss_multi_bit_files(description, metric, tmp_path):
    """faiss's multi-bit files (Ixrr, Iwrr; fast-scan Irfn, Iwrn): faiss's answers. The bitwise ones
    written back in faiss's format: faiss's answers again, from faiss.read_index."""
    xb, xq = data(2000, 40)
    theirs = faiss.index_factory(D, description, metric)
    theirs.train(xb)
    theirs.add(xb)
    if "IVF" in description:
        faiss.extract_index_ivf(theirs).nprobe = 3
    faiss.write_index(theirs, str(tmp_path / "theirs.index"))
    ours = sx.read_index(tmp_path / "theirs.index")
    assert sx.describe(ours) == description and ours.qb == faiss.downcast_index(theirs).qb
    for qb in (4, 8) if "fs" in description else (0, 4):  # faiss's fast-scan indexes need a quantised query
        faiss.downcast_index(theirs).qb = ours.qb = qb
        D_ref, I_ref = theirs.search(xq, 10)
        Dx, Ix = ours.search(xq, 10)
        if "fs" in description:  # faiss's first stage reads 8-bit tables: a few other candidates pass
            assert recall(Ix, I_ref) > 0.95
            np.testing.assert_allclose(Dx[:, 0], D_ref[:, 0], rtol=1e-4, atol=1e-4)
        else:
            np.testing.assert_array_equal(Ix, I_ref)
            np.testing.assert_allclose(Dx, D_ref, rtol=1e-4, atol=1e-4)
    if "fs" not in description:
        sx.write_index(ours, tmp_path / "ours.index", format="faiss")
        again = faiss.read_index(str(tmp_path / "ours.index"))
        assert type(again).__name__ == type(faiss.downcast_index(theirs)).__name__
        if "IVF" in description:
            faiss.extract_index_ivf(again).nprobe = 3
        np.testing.assert_array_equal(again.search(xq, 10)[1], I_ref)


def test_multi_bit_bad_codes_are_refused():
    xb, _ = data(200, 1)
    index = sx.index_factory(D, "RaBitQ3")
    index.train(xb)
    index.add(xb)
    blob = bytearray(sx.serialize_index(index, format="faiss"))
    # The last code's e-bit rescale factor (its last 4 bytes) come just before the centroid and qb.
    at = len(blob) - 1 - 4 * D - 8 - 4
    blob[at:at + 4] = np.float32(np.nan).tobytes()
    with pytest.raises(ValueError, match="NaN"):
        sx.deserialize_index(np.frombuffer(bytes(blob), dtype=np.uint8))


@pytest.mark.parametrize("description", ["RaBitQ", "IVF8,RaBitQ"])
def test_files_keep_qb(description):
    xb, xq = data(1000, 20)
    index = sx.index_factory(D, description)
    index.train(xb)
    index.add(xb)
    index.qb = 2
    for fmt in ("sextant", "faiss"):
        again = sx.deserialize_index(sx.serialize_index(index, format=fmt))
        assert again.qb == 2
        np.testing.assert_array_equal(again.search(xq, 5)[1], index.search(xq, 5)[1])


@pytest.mark.parametrize("description", ["RaBitQ", "RaBitQ4", "RaBitQfs3"])
@pytest.mark.parametrize("metric,name", METRICS)
def test_error_bounds_cover_the_estimates(description, metric, name):
    """Float queries: the error is close to normal and the bound eps0 = 1.9 of its deviations,
    so about 6% of L2 estimates fall outside (fewer for the looser 1-bit inner-product bound);
    with more bits, the bound of the multi-bit estimate, 2x tighter a bit."""
    xb, xq = data(2000, 5)
    index = sx.index_factory(D, description, metric)
    index.qb = 0
    index.train(xb)
    index.add(xb)
    Dx, Ix = index.search(xq, 2000)
    outside, bound_sum, scale_sum = 0, 0.0, 0.0
    for q in range(len(xq)):
        exact = ((xb[Ix[q]] - xq[q]) ** 2).sum(1) if name == "L2" else xb[Ix[q]] @ xq[q]
        bounds = index.error_bounds(xq[q:q + 1], Ix[q])
        outside += (np.abs(Dx[q] - exact) > bounds).sum()
        bound_sum += bounds.sum()
        scale_sum += (np.linalg.norm(xb[Ix[q]] - index.center, axis=1) * np.linalg.norm(xq[q] - index.center)).sum()
    assert outside / Dx.size < (0.01 if description == "RaBitQ" and name == "IP" else 0.08)
    # Of ||q - c|| ||o - c||, L2: 1 bit about 0.36, 3 bits 0.09, 4 bits 0.05 (inner product: half
    # that with more bits, which keep ||o - c||).
    bits = index.nb_bits
    assert bound_sum / scale_sum < {1: 0.4, 3: 0.1, 4: 0.055}[bits] * (0.5 if name == "IP" and bits > 1 else 1)


@pytest.mark.parametrize("description", ["RaBitQ,RFlat", "RaBitQ4,RFlat", "RaBitQfs3,RFlat"])
@pytest.mark.parametrize("metric,name", METRICS)
def test_refine_skips_only_what_cannot_enter(description, metric, name):
    """RaBitQ,RFlat re-ranks every candidate by default (as Faiss); with rabitq_eps0 it skips
    those whose bound rules them out, and the answer is still the exact top k of the base's
    k * k_factor candidates (bar the pairs outside their bound, about 6%: with 1 bit 1-2 queries
    of 60 lose one of their top 10, with 3 bits up to 5, whose tighter estimates crowd the cut)."""
    xb, xq = data(3000, 60)
    index = sx.index_factory(D, description, metric)
    index.train(xb)
    index.add(xb)
    k, k_factor = 10, 8
    _, I_base = index.base_index.search(xq, k * k_factor)
    top = []
    for q in range(len(xq)):
        cand = I_base[q]
        exact = ((xb[cand] - xq[q]) ** 2).sum(1) if name == "L2" else -(xb[cand] @ xq[q])
        top.append(set(cand[np.argsort(exact, kind="stable")[:k]]))
    _, I_all = index.search(xq, k, k_factor=k_factor)
    assert all(t == set(row) for t, row in zip(top, I_all))
    _, I_skip = index.search(xq, k, k_factor=k_factor, rabitq_eps0=1.9)
    assert np.mean([t == set(row) for t, row in zip(top, I_skip)]) >= (0.97 if description == "RaBitQ,RFlat" else 0.9)
    _, I_true = exact_knn(xq, xb, k, name)
    assert recall(I_skip, I_true) > 0.7  # the base's 80 candidates hold about 0.8 of the true 10
    with pytest.raises(ValueError, match="rabitq_eps0 must be > 0"):
        index.search(xq, k, rabitq_eps0=0.0)
    other = sx.index_factory(D, "SQ8,RFlat")
    other.train(xb)
    other.add(xb)
    with pytest.raises(ValueError, match="rabitq_eps0"):  # no RaBitQ base: a knob nothing reads
        other.search(xq, k, rabitq_eps0=1.9)


def test_refine_skips_through_a_rotation_only():
    """The bounds hold through a transform that keeps distances: "RR<d>,RaBitQ,RFlat" (the
    recommended form) takes rabitq_eps0 and skips as the plain form does; a projection (PCA)
    changes distances, so there the knob is refused."""
    xb, xq = data(3000, 60)
    k, k_factor = 10, 8
    index = sx.index_factory(D, f"RR{D},RaBitQ,RFlat")
    index.train(xb)
    index.add(xb)
    _, I_all = index.search(xq, k, k_factor=k_factor)
    _, I_skip = index.search(xq, k, k_factor=k_factor, rabitq_eps0=1.9)
    assert np.mean([set(a) == set(b) for a, b in zip(I_all, I_skip)]) >= 0.97
    projected = sx.index_factory(D, f"PCA{D // 2},RaBitQ,RFlat")
    projected.train(xb)
    projected.add(xb)
    with pytest.raises(ValueError, match="rabitq_eps0"):
        projected.search(xq, k, rabitq_eps0=1.9)


@pytest.mark.parametrize("metric,name", METRICS)
def test_ivf_bounds_cover_the_estimates_and_skip(metric, name):
    """IVF,RaBitQ's bounds (each code against its list's centroid) cover the estimate's error
    as the flat index's do, without being loose; IVF,RaBitQ,RFlat skips by them once the direct
    map finds a candidate's code by id, and says so without it."""
    xb, xq = data(3000, 60)
    index = sx.index_factory(D, "IVF16,RaBitQ,RFlat", metric)
    index.train(xb)
    index.add(xb)
    k, k_factor, nprobe = 10, 8, 4
    with pytest.raises(ValueError, match="make_direct_map"):
        index.search(xq, k, k_factor=k_factor, nprobe=nprobe, rabitq_eps0=1.9)
    ivf = index.base_index
    ivf.make_direct_map()
    assert ivf.has_error_bounds and index.has_error_bounds is False
    ivf.qb = 0
    Dx, Ix = ivf.search(xq, 500, nprobe=nprobe)
    outside, outside_half, total = 0, 0, 0
    for q in range(len(xq)):
        ids, est = Ix[q][Ix[q] >= 0], Dx[q][Ix[q] >= 0]
        exact = ((xb[ids] - xq[q]) ** 2).sum(1) if name == "L2" else xb[ids] @ xq[q]
        bounds = ivf.error_bounds(xq[q:q + 1], ids)
        outside += (np.abs(est - exact) > bounds).sum()
        outside_half += (np.abs(est - exact) > bounds / 2).sum()
        total += len(ids)
    assert outside / total < (0.08 if name == "L2" else 0.01)  # measured 0.048 and 0.001
    assert outside_half / total > (0.2 if name == "L2" else 0.05)  # measured 0.33 and 0.095: not loose
    ivf.qb = 4
    _, I_all = index.search(xq, k, k_factor=k_factor, nprobe=nprobe)
    _, I_skip = index.search(xq, k, k_factor=k_factor, nprobe=nprobe, rabitq_eps0=1.9)
    assert np.mean([set(a) == set(b) for a, b in zip(I_all, I_skip)]) >= 0.97
