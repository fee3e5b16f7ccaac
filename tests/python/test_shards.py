"""IndexShards, IndexReplicas, merge_knn_results and merge_from from Python."""
import pickle

import numpy as np
import pytest

import sextant as sx


@pytest.fixture
def data(rng):
    return rng.standard_normal((3001, 20), dtype=np.float32), rng.standard_normal((64, 20), dtype=np.float32)


@pytest.mark.parametrize("metric", [sx.METRIC_L2, sx.METRIC_INNER_PRODUCT])
def test_shards_of_flat_equal_one_flat_bit_for_bit(data, metric):
    xb, xq = data
    one = sx.IndexFlat(20, metric)
    one.add(xb)
    shards = sx.IndexShards(20, metric)
    for _ in range(3):
        shards.add_shard(sx.IndexFlat(20, metric))
    shards.add(xb)
    assert shards.nshards == 3 and shards.ntotal == 3001 and shards.id_offset(2) == 2000
    assert [shards.at(i).ntotal for i in range(3)] == [1000, 1000, 1001]
    for k in (1, 10, 2000):
        for queries in (xq, xq[:3]):
            D1, I1 = one.search(queries, k)
            D2, I2 = shards.search(queries, k)
            np.testing.assert_array_equal(I1, I2)
            np.testing.assert_array_equal(D1, D2)
    sel = sx.IDSelectorRange(900, 2100)
    np.testing.assert_array_equal(one.search(xq, 5, sel=sel)[1], shards.search(xq, 5, sel=sel)[1])
    radius = 25.0 if metric == sx.METRIC_L2 else 4.0
    for a, b in zip(one.range_search(xq, radius), shards.range_search(xq, radius)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(shards.reconstruct(2500), xb[2500])


def test_ivf_shards_keep_ids_and_match_one_ivf(data):
    xb, xq = data
    quantizer = sx.IndexFlatL2(20)
    one = sx.IndexIVFFlat(quantizer, 20, 16)
    one.train(xb)
    one.add(xb)
    shards = sx.IndexShards(20, successive_ids=False)
    for _ in range(4):
        shards.add_shard(sx.IndexIVFFlat(quantizer, 20, 16))  # one shared, trained coarse quantizer
    shards.add(xb[:1000])
    shards.add(xb[1000:])  # ids go on from 1000
    for nprobe in (1, 16):
        D1, I1 = one.search(xq, 10, nprobe=nprobe)
        D2, I2 = shards.search(xq, 10, nprobe=nprobe)
        np.testing.assert_array_equal(I1, I2)
        np.testing.assert_array_equal(D1, D2)
    shards.add_with_ids(xb[:2], [10**9, 10**9 + 1])
    assert shards.remove_ids(np.array([10**9, 10**9 + 1])) == 2
    with pytest.raises(ValueError, match="efSearch"):
        shards.search(xq, 1, efSearch=16)


def test_replicas_split_queries(data):
    xb, xq = data
    one = sx.index_factory(20, "HNSW16")
    one.add(xb)
    replicas = sx.IndexReplicas(20)
    for _ in range(2):
        replicas.add_replica(pickle.loads(pickle.dumps(one)))  # filled replicas join alike
    for a, b in zip(one.search(xq, 10, efSearch=32), replicas.search(xq, 10, efSearch=32)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="same vectors"):
        replicas.add_replica(sx.index_factory(20, "HNSW16"))
    flat = sx.IndexReplicas(20)
    for _ in range(3):
        flat.add_replica(sx.IndexFlatL2(20))
    flat.add(xb)  # to every replica
    assert flat.nreplicas == 3 and [flat.at(i).ntotal for i in range(3)] == [3001] * 3
    np.testing.assert_array_equal(flat.search(xq, 4)[1], sx.knn(xq, xb, 4)[1])


def test_factory_files_and_pickles(data, tmp_path):
    xb, xq = data
    index = sx.index_factory(20, "Shards3,IVF16,PQ4", sx.METRIC_INNER_PRODUCT)
    assert isinstance(index, sx.IndexShards) and sx.describe(index) == "Shards3,IVF16,PQ4"
    assert not index.successive_ids  # IVF shards keep the ids they are given
    index.train(xb)
    index.add(xb)
    path = tmp_path / "shards.sxt"
    sx.write_index(index, path)
    for again in (sx.read_index(path), sx.read_index(path, mmap=True), pickle.loads(pickle.dumps(index))):
        assert isinstance(again, sx.IndexShards) and again.nshards == 3
        for a, b in zip(index.search(xq, 5, nprobe=4), again.search(xq, 5, nprobe=4)):
            np.testing.assert_array_equal(a, b)
    mapped = sx.read_index(path, mmap=True)
    with pytest.raises(ValueError, match="read-only|memory-mapped"):
        mapped.add(xb[:1])


def test_merge_knn_results_against_numpy(rng):
    nparts, nq, k = 4, 30, 7
    D = rng.standard_normal((nparts, nq, k)).astype(np.float32)
    D.sort(axis=2)
    I = rng.permutation(nparts * nq * k).reshape(nparts, nq, k).astype(np.int64)
    I[1, :, 5:] = -1  # missing results
    Dm, Im = sx.merge_knn_results(D, I)
    for q in range(nq):
        hits = sorted((d, i) for p in range(nparts) for d, i in zip(D[p, q], I[p, q]) if i >= 0)[:k]
        np.testing.assert_array_equal(Im[q], [i for _, i in hits])
        np.testing.assert_array_equal(Dm[q], [d for d, _ in hits])
    Dip, Iip = sx.merge_knn_results(-D, I, metric=sx.METRIC_INNER_PRODUCT)
    np.testing.assert_array_equal(Iip, Im)
    with pytest.raises(ValueError, match="shape"):
        sx.merge_knn_results(D[0], I[0])
    with pytest.raises(ValueError, match="same shape"):
        sx.merge_knn_results(D, I[:, :, :3])


def test_shards_bad_input(data):
    xb, _ = data
    shards = sx.IndexShards(20)
    with pytest.raises(ValueError, match="no shards"):
        shards.add(xb)
    with pytest.raises(ValueError, match="d=21"):
        shards.add_shard(sx.IndexFlatL2(21))
    shards.add_shard(sx.IndexFlatL2(20))
    with pytest.raises(ValueError, match="successive_ids"):
        shards.add_with_ids(xb[:2], [1, 2])
    shards.add(xb[:5])
    with pytest.raises(ValueError, match="one add"):
        shards.add(xb[:5])
    with pytest.raises(ValueError, match="shard 3 does not exist"):
        shards.at(3)
    with pytest.raises(ValueError, match="Shards<n>"):
        sx.index_factory(20, "Shards0,Flat")


def test_merge_from_follows_faiss(rng):
    """Flat appends; IDMap keeps the other's ids (+ add_id); IVF too (faiss-cpu as the oracle)."""
    faiss = pytest.importorskip("faiss")
    x = rng.standard_normal((400, 8), dtype=np.float32)
    q = x[:20] + 0.01
    for sx_cls, faiss_cls in ((sx.IndexFlatL2, faiss.IndexFlatL2), (sx.IndexFlatIP, faiss.IndexFlatIP)):
        a, b, fa, fb = sx_cls(8), sx_cls(8), faiss_cls(8), faiss_cls(8)
        for ours, theirs, part in ((a, fa, x[:150]), (b, fb, x[150:])):
            ours.add(part)
            theirs.add(part)
        a.merge_from(b)
        fa.merge_from(fb)
        assert a.ntotal == fa.ntotal == 400 and b.ntotal == fb.ntotal == 0
        np.testing.assert_array_equal(a.search(q, 5)[1], fa.search(q, 5)[1])
    a, b = sx.IndexIDMap2(sx.IndexFlatL2(8)), sx.IndexIDMap2(sx.IndexFlatL2(8))
    fa, fb = faiss.IndexIDMap2(faiss.IndexFlatL2(8)), faiss.IndexIDMap2(faiss.IndexFlatL2(8))
    ids = np.arange(400, dtype=np.int64) * 3
    for ours, theirs, rows in ((a, fa, slice(0, 150)), (b, fb, slice(150, 400))):
        ours.add_with_ids(x[rows], ids[rows])
        theirs.add_with_ids(x[rows], ids[rows])
    a.merge_from(b, 7)
    fa.merge_from(fb, 7)
    np.testing.assert_array_equal(a.search(q, 5)[1], fa.search(q, 5)[1])
    np.testing.assert_array_equal(a.reconstruct(int(ids[200]) + 7), x[200])
    with pytest.raises(ValueError, match="add_id must be 0 or 0"):
        sx.IndexFlatL2(8).merge_from(sx.IndexFlatL2(8), 5)
    with pytest.raises(ValueError, match="cannot merge"):
        sx.IndexHNSWFlat(8, 8).merge_from(sx.IndexHNSWFlat(8, 8))
    with pytest.raises(TypeError):
        sx.IndexFlatL2(8).merge_from("not an index")


def test_selectors_pickle_and_shift():
    """Selectors travel to other processes (Ray) by pickling; a shifted one sees global ids from a shard."""
    selectors = [sx.IDSelectorRange(3, 9), sx.IDSelectorBatch([5, 1, 9]),
                 sx.IDSelectorBitmap(np.array([True, False, True])), sx.IDSelectorNot(sx.IDSelectorRange(0, 2)),
                 sx.IDSelectorAnd(sx.IDSelectorRange(0, 10), sx.IDSelectorBatch([3, 12])),
                 sx.IDSelectorOr(sx.IDSelectorRange(0, 2), sx.IDSelectorBatch([7])),
                 sx.IDSelectorShifted(sx.IDSelectorRange(10, 20), 5)]
    for sel in selectors:
        again = pickle.loads(pickle.dumps(sel))
        assert type(again) is type(sel)
        assert [i for i in range(25) if again.is_member(i)] == [i for i in range(25) if sel.is_member(i)]
    shifted = sx.IDSelectorShifted(sx.IDSelectorBatch([100, 105]), 100)
    assert [i for i in range(10) if shifted.is_member(i)] == [0, 5]
    with pytest.raises(ValueError, match="offset must be >= 0"):
        sx.IDSelectorShifted(sx.IDSelectorRange(0, 1), -1)


def test_merge_range_results(rng):
    xb = rng.standard_normal((900, 6), dtype=np.float32)
    xq = rng.standard_normal((12, 6), dtype=np.float32)
    one = sx.IndexFlatL2(6)
    one.add(xb)
    parts = []
    for lo, hi in ((0, 300), (300, 900)):
        part = sx.IndexFlatL2(6)
        part.add(xb[lo:hi])
        lims, D, I = part.range_search(xq, 4.0)
        parts.append((lims, D, I + lo))
    for a, b in zip(one.range_search(xq, 4.0), sx.merge_range_results(parts, 12)):
        np.testing.assert_array_equal(a, b)
    lims, D, I = sx.merge_range_results([], 3)
    assert lims.tolist() == [0, 0, 0, 0] and len(D) == len(I) == 0
    with pytest.raises(ValueError, match="nq \\+ 1"):
        sx.merge_range_results(parts, 11)
    with pytest.raises(ValueError, match="lims"):
        sx.merge_range_results([(np.array([0, 5]), np.zeros(2, np.float32), np.zeros(2, np.int64))], 1)
