"""IndexHNSWFlat: recall against exact search and against faiss, filters, removal, update, threads, errors.
IndexHNSWSQ / IndexHNSWPQ: recall against exact search and faiss, re-ranking, errors."""
import threading

import numpy as np
import pytest

import sextant as sx

D = 24
METRICS = [sx.METRIC_L2, sx.METRIC_INNER_PRODUCT]


def clustered(rng, n, d=D, clusters=30):
    """Points around fixed centres (drawn from a fixed seed, so queries share the base's distribution)."""
    centres = np.random.default_rng(99).uniform(-3, 3, (clusters, d))
    return (centres[rng.integers(0, clusters, n)] + rng.uniform(-1, 1, (n, d))).astype(np.float32)


def exact(xb, xq, k, metric, sel=None):
    flat = sx.IndexFlat(xb.shape[1], metric)
    flat.add(xb)
    return flat.search(xq, k, sel=sel)[1]


def recall(I, Iref):
    return np.mean([len(set(a) & set(b[b >= 0])) / max(1, (b >= 0).sum()) for a, b in zip(I, Iref)])


def build(xb, metric, M=16, efc=80):
    index = sx.IndexHNSWFlat(xb.shape[1], M, metric)
    index.efConstruction = efc
    index.add(xb)
    return index


@pytest.fixture(scope="module")
def data():
    """5000 vectors: past 4096 the index renumbers its graph nodes for locality, which ids must not show."""
    rng = np.random.default_rng(7)
    return clustered(rng, 5000), clustered(rng, 100)


@pytest.mark.parametrize("metric", METRICS)
def test_recall_against_exact_search(data, metric):
    xb, xq = data
    index = build(xb, metric)
    Iref = exact(xb, xq, 10, metric)
    r16 = recall(index.search(xq, 10, efSearch=16)[1], Iref)
    r64 = recall(index.search(xq, 10, efSearch=64)[1], Iref)
    assert r64 >= 0.97 and r16 >= 0.85 and r64 >= r16
    D_, I_ = index.search(xq, 10, efSearch=64)
    true = ((xq[:, None, :] - xb[I_]) ** 2).sum(-1) if metric == sx.METRIC_L2 else (xq[:, None, :] * xb[I_]).sum(-1)
    np.testing.assert_allclose(D_, true, rtol=1e-4, atol=1e-3)
    assert (np.diff(D_, axis=1) >= -1e-5).all() if metric == sx.METRIC_L2 else (np.diff(D_, axis=1) <= 1e-5).all()


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("M", [8, 16])
def test_recall_matches_faiss(metric, M):
    """Same M, efConstruction and efSearch as faiss's IndexHNSWFlat: recall within 0.01 or better.
    Both graphs are built on one thread (reproducible); 500 queries keep the noise under 0.005."""
    faiss = pytest.importorskip("faiss")
    rng = np.random.default_rng(8)
    xb, xq = clustered(rng, 3000), clustered(rng, 500)
    Iref = exact(xb, xq, 10, metric)
    saved, saved_faiss = sx.get_num_threads(), faiss.omp_get_max_threads()
    try:
        sx.set_num_threads(1)
        faiss.omp_set_num_threads(1)
        ours = build(xb, metric, M=M, efc=40)
        theirs = faiss.IndexHNSWFlat(D, M, faiss.METRIC_L2 if metric == sx.METRIC_L2 else faiss.METRIC_INNER_PRODUCT)
        theirs.hnsw.efConstruction = 40
        theirs.add(xb)
    finally:
        sx.set_num_threads(saved)
        faiss.omp_set_num_threads(saved_faiss)
    for ef in (16, 32, 64):
        theirs.hnsw.efSearch = ef
        r_faiss = recall(theirs.search(xq, 10)[1], Iref)
        r_ours = recall(ours.search(xq, 10, efSearch=ef)[1], Iref)
        assert r_ours >= r_faiss - 0.01, (ef, r_ours, r_faiss)


def test_configuration_properties_and_knobs(data):
    xb, xq = data
    index = sx.IndexHNSWFlat(D)
    assert (index.M, index.efConstruction, index.efSearch) == (32, 40, 16)
    index.efConstruction = 64
    index.efSearch = 48
    assert (index.efConstruction, index.efSearch) == (64, 48)
    index.add(xb[:500])
    D1, I1 = index.search(xq, 5)  # efSearch=48 from the index
    D2, I2 = index.search(xq, 5, efSearch=48)
    D3, I3 = index.search(xq, 5, params=sx.SearchParams(efSearch=48))
    np.testing.assert_array_equal(I1, I2)
    np.testing.assert_array_equal(I1, I3)
    assert index.efSearch == 48  # a per-call knob does not change the index
    assert "IndexHNSWFlat" in repr(index) and isinstance(index, sx.IndexHNSW) and isinstance(index, sx.Index)


@pytest.mark.parametrize("metric", METRICS)
def test_filtered_recall_at_50_10_and_1_percent(metric):
    rng = np.random.default_rng(11)
    xb, xq = clustered(rng, 5000), clustered(rng, 60)
    index = build(xb, metric)
    for share in (0.5, 0.1, 0.01):
        members = np.flatnonzero(rng.random(len(xb)) < share)
        for sel in (sx.IDSelectorBatch(members), sx.IDSelectorBitmap(np.isin(np.arange(len(xb)), members))):
            I = index.search(xq, 10, efSearch=32, sel=sel)[1]
            assert np.isin(I[I >= 0], members).all()
            assert recall(I, exact(xb, xq, 10, metric, sel=sel)) >= 0.95, share


@pytest.mark.parametrize("metric", METRICS)
def test_recall_after_removing_30_percent_and_adding_back(metric):
    rng = np.random.default_rng(12)
    xb, xq, xnew = clustered(rng, 5000), clustered(rng, 100), clustered(rng, 600)
    index = build(xb, metric)
    gone = rng.permutation(len(xb))[:1500]
    assert index.remove_ids(gone) == 1500
    kept = np.delete(xb, gone, axis=0)  # survivors keep their order, renumbered 0..n-1
    assert index.ntotal == len(kept)
    np.testing.assert_array_equal(index.reconstruct(100), kept[100])
    assert recall(index.search(xq, 10, efSearch=64)[1], exact(kept, xq, 10, metric)) >= 0.95
    index.add(xnew)
    both = np.vstack([kept, xnew])
    assert recall(index.search(xq, 10, efSearch=64)[1], exact(both, xq, 10, metric)) >= 0.95
    assert index.hnsw_stats()["nodes_per_level"][0] == len(both)


def test_update_replaces_vectors_in_place(data):
    xb, xq = data
    xb = xb.copy()
    index = build(xb, sx.METRIC_L2)
    keys = np.arange(0, len(xb), 4)
    moved = clustered(np.random.default_rng(13), len(keys))
    index.update(keys, moved)
    xb[keys] = moved
    assert index.ntotal == len(xb)
    np.testing.assert_array_equal(index.reconstruct(int(keys[5])), moved[5])
    assert (index.search(moved[:20], 1, efSearch=64)[1][:, 0] == keys[:20]).sum() >= 19  # found at their new place
    assert recall(index.search(xq, 10, efSearch=64)[1], exact(xb, xq, 10, sx.METRIC_L2)) >= 0.95
    with pytest.raises(ValueError, match="distinct"):
        index.update([3, 3], moved[:2])
    with pytest.raises(ValueError, match="out of range"):
        index.update([len(xb)], moved[:1])


def test_range_search_and_idmap(data):
    xb, xq = data
    index = build(xb, sx.METRIC_L2)
    radius = float(np.sort(((xq[:1] - xb) ** 2).sum(1))[30])
    lims, Dr, Ir = index.range_search(xq, radius, efSearch=32)
    flat = sx.IndexFlatL2(D)
    flat.add(xb)
    lims_e, _, Ie = flat.range_search(xq, radius)
    found = sum(len(set(Ir[lims[i]:lims[i + 1]]) & set(Ie[lims_e[i]:lims_e[i + 1]])) for i in range(len(xq)))
    assert found >= 0.97 * len(Ie) and (Dr < radius).all()
    wrapped = sx.IndexIDMap2(sx.IndexHNSWFlat(D, 8))
    ids = np.arange(len(xb)) * 10 + 7
    wrapped.add_with_ids(xb, ids)
    assert wrapped.remove_ids(ids[:100]) == 100
    np.testing.assert_array_equal(wrapped.reconstruct(int(ids[200])), xb[200])
    assert (wrapped.search(xb[300:320], 1, efSearch=64)[1][:, 0] == ids[300:320]).sum() >= 19


def test_one_thread_and_a_seed_give_the_same_graph(data):
    xb, xq = data
    saved = sx.get_num_threads()
    try:
        sx.set_num_threads(1)
        runs = []
        for _ in range(2):
            index = sx.IndexHNSWFlat(D, 8)
            index.set_seed(5)
            index.add(xb)
            runs.append((index.hnsw_stats(), index.search(xq, 10)))
    finally:
        sx.set_num_threads(saved)
    (s1, (D1, I1)), (s2, (D2, I2)) = runs
    assert s1["entry_point"] == s2["entry_point"] and s1["nodes_per_level"] == s2["nodes_per_level"]
    np.testing.assert_array_equal(s1["level0_degree_histogram"], s2["level0_degree_histogram"])
    np.testing.assert_array_equal(I1, I2)
    np.testing.assert_array_equal(D1, D2)


def test_concurrent_searches_from_8_threads_match_one_thread(data):
    xb, _ = data
    index = build(xb, sx.METRIC_L2)
    rng = np.random.default_rng(14)
    queries = [clustered(rng, 40) for _ in range(8)]
    saved = sx.get_num_threads()
    try:
        sx.set_num_threads(1)
        expected = [index.search(q, 10, efSearch=40)[1] for q in queries]
    finally:
        sx.set_num_threads(saved)
    got = [None] * 8

    def work(i):
        for _ in range(3):
            got[i] = index.search(queries[i], 10, efSearch=40)[1]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(e, g)


def test_hnsw_stats(data):
    xb, _ = data
    index = sx.IndexHNSWFlat(D, 8)
    assert index.hnsw_stats()["max_level"] == -1
    index.add(xb)
    n = len(xb)
    s = index.hnsw_stats()
    assert s["levels"] == s["max_level"] + 1 == len(s["nodes_per_level"])
    assert s["nodes_per_level"][0] == n and s["level0_degree_histogram"].sum() == n
    assert len(s["level0_degree_histogram"]) == 2 * 8 + 1 and s["M"] == 8
    assert 0 <= s["entry_point"] < n and s["memory_bytes"] > n * D * 4


def test_bad_inputs_are_clear_errors(data):
    xb, xq = data
    index = sx.IndexHNSWFlat(D, 8)
    index.add(xb[:200])
    with pytest.raises(ValueError, match="k must be > 0"):
        index.search(xq, 0)
    with pytest.raises(ValueError, match="k must be > 0"):
        index.search(xq, -1)
    with pytest.raises(ValueError, match="efSearch must be > 0"):
        index.search(xq, 5, efSearch=0)
    with pytest.raises(ValueError, match="efSearch must be > 0"):
        index.efSearch = -2
    with pytest.raises(ValueError, match="efConstruction must be > 0"):
        index.efConstruction = 0
    bad = xq[:2].copy()
    bad[1, 3] = np.nan
    with pytest.raises(ValueError, match="NaN|infinity|finite"):
        index.search(bad, 5)
    with pytest.raises(ValueError, match="NaN|infinity|finite"):
        index.add(bad)
    with pytest.raises(ValueError, match="does not use SearchParams field"):
        index.search(xq, 5, nprobe=4)
    with pytest.raises(ValueError, match="IndexIDMap"):
        index.add_with_ids(xb[:2], [1, 2])
    with pytest.raises(ValueError, match=r"M \(links per node\) must be in \[2, 512\]"):
        sx.IndexHNSWFlat(D, 1)
    with pytest.raises(ValueError, match="must have 24 columns"):
        index.search(np.zeros((1, 5), np.float32), 1)
    assert index.ntotal == 200
    D_, I_ = sx.IndexHNSWFlat(D, 8).search(xq[:2], 3)  # empty index: padded
    assert (I_ == -1).all() and np.isinf(D_).all()


# ---------------------------------------------------------------- quantised storage (IndexHNSWSQ, IndexHNSWPQ)

def build_quantized(kind, xb, metric, M=16, efc=40):
    d = xb.shape[1]
    if kind == "SQ8":
        index = sx.IndexHNSWSQ(d, sx.ScalarQuantizer.QT_8bit, M, metric=metric)
    else:
        index = sx.IndexHNSWPQ(d, d // 2, M, metric=metric)
    assert not index.is_trained
    index.train(xb)
    index.efConstruction = efc
    index.add(xb)
    return index


@pytest.mark.parametrize("kind,metric,floor", [("SQ8", sx.METRIC_L2, 0.95), ("SQ8", sx.METRIC_INNER_PRODUCT, 0.9),
                                               ("PQ", sx.METRIC_L2, 0.78)])
def test_quantized_recall_matches_faiss(kind, metric, floor):
    """Same quantizer, M, efConstruction=40 and efSearch as faiss's IndexHNSWSQ / IndexHNSWPQ: recall within
    0.01 or better (PQ: 0.82 measured, what an exhaustive search of the codes finds). The PQ codebooks are copied from faiss, so the graphs are compared, not two k-means runs."""
    faiss = pytest.importorskip("faiss")
    rng = np.random.default_rng(21)
    xb, xq = clustered(rng, 3000), clustered(rng, 500)
    Iref = exact(xb, xq, 10, metric)
    fmetric = faiss.METRIC_L2 if metric == sx.METRIC_L2 else faiss.METRIC_INNER_PRODUCT
    saved, saved_faiss = sx.get_num_threads(), faiss.omp_get_max_threads()
    try:
        sx.set_num_threads(1)
        faiss.omp_set_num_threads(1)
        if kind == "SQ8":
            theirs = faiss.IndexHNSWSQ(D, faiss.ScalarQuantizer.QT_8bit, 16, fmetric)
            theirs.hnsw.efConstruction = 40
            theirs.train(xb)
            ours = build_quantized(kind, xb, metric)
        else:
            theirs = faiss.IndexHNSWPQ(D, D // 2, 16)
            theirs.hnsw.efConstruction = 40
            theirs.train(xb)
            ours = sx.IndexHNSWPQ(D, D // 2, 16, metric=metric)
            ours.pq.centroids = faiss.vector_to_array(faiss.downcast_index(theirs.storage).pq.centroids)
            ours.efConstruction = 40
            ours.add(xb)
        theirs.add(xb)
    finally:
        sx.set_num_threads(saved)
        faiss.omp_set_num_threads(saved_faiss)
    assert ours.type_name == ("IndexHNSWSQ" if kind == "SQ8" else "IndexHNSWPQ") and isinstance(ours, sx.IndexHNSW)
    for ef in (16, 32, 64):
        theirs.hnsw.efSearch = ef
        r_faiss = recall(theirs.search(xq, 10)[1], Iref)
        r_ours = recall(ours.search(xq, 10, efSearch=ef)[1], Iref)
        assert r_ours >= r_faiss - 0.01, (ef, r_ours, r_faiss)
    assert r_ours >= floor, r_ours
    # The codes are faiss's: same sa_encode, and reconstruct() decodes them.
    np.testing.assert_array_equal(ours.sa_encode(xb[:50]), faiss.downcast_index(theirs.storage).sa_encode(xb[:50]))
    np.testing.assert_allclose(ours.reconstruct_n(0, 50), theirs.reconstruct_n(0, 50), rtol=1e-5, atol=1e-5)


def test_quantized_refine_raises_recall_and_errors(data):
    xb, xq = data
    Iref = exact(xb, xq, 10, sx.METRIC_L2)
    base = sx.IndexHNSWSQ(D, sx.ScalarQuantizer.QT_4bit, 16)
    refine = sx.IndexRefineFlat(base)
    with pytest.raises(ValueError, match="not trained"):
        refine.add(xb)
    refine.train(xb)
    refine.add(xb)
    alone = recall(base.search(xq, 10, efSearch=32)[1], Iref)
    refined = recall(refine.search(xq, 10, efSearch=32, k_factor=4)[1], Iref)
    assert refined >= alone + 0.05 and refined >= 0.95, (alone, refined)
    assert base.sq.qtype == sx.ScalarQuantizer.QT_4bit and base.code_size == D // 2
    with pytest.raises(ValueError, match="not trained"):
        sx.IndexHNSWPQ(D, 8).add(xb)
    with pytest.raises(ValueError, match="multiple of"):
        sx.IndexHNSWPQ(D, 5)
    with pytest.raises(ValueError, match="reset"):
        base.train(xb)
