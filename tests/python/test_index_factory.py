"""index_factory and describe, against the same strings in faiss."""
import numpy as np
import pytest

import sextant as sx

STRINGS = ["Flat", "SQ8", "SQfp16", "PQ8", "PQ8x4", "IVF16,Flat", "IVF16,SQ8", "IVF16,PQ8", "IDMap,Flat",
           "IDMap2,IVF8,SQ4", "IVF16,PQ8,RFlat", "PQ8,Refine(SQ8)", "HNSW16", "IDMap2,HNSW8", "IVF16_HNSW8,Flat",
           "IVF16_HNSW8,PQ8", "HNSW16,SQ8", "HNSW16,PQ8x4", "HNSW8,SQfp16,RFlat", "RaBitQ", "IVF16,RaBitQ", "IVF16,RaBitQfs", "RaBitQfs", "RaBitQ,RFlat",
           "IVF16,RaBitQ,RFlat", "RR32,RaBitQ", "IVF16_spherical,PQ8x4fs", "IVF16_HNSW8_spherical,Flat", "RaBitQ4",
           "IVF16,RaBitQ9", "RaBitQfs4", "IVF16,RaBitQfs2"]


@pytest.mark.parametrize("description", STRINGS)
def test_round_trip_and_usable(description, rng):
    index = sx.index_factory(32, description)
    assert sx.describe(index) == description
    xb = rng.standard_normal((2000, 32), dtype=np.float32)
    index.train(xb)
    if description.startswith("IDMap"):
        index.add_with_ids(xb, np.arange(2000) * 2)
    else:
        index.add(xb)
    D, I = index.search(xb[:5], 3)
    assert I.shape == (5, 3) and (I[:, 0] >= 0).all()


@pytest.mark.parametrize("description", ["IVF16,Flat", "IVF16,SQ8", "IVF16,PQ8", "PQ8", "SQ8", "RaBitQ", "IVF16,RaBitQ"])
def test_same_structure_as_faiss(description):
    faiss = pytest.importorskip("faiss")
    ours, raw = sx.index_factory(32, description), faiss.index_factory(32, description)
    theirs = faiss.downcast_index(raw)  # raw keeps the object alive
    assert ours.d == theirs.d and ours.is_trained == theirs.is_trained
    if hasattr(theirs, "nlist"):
        assert ours.nlist == theirs.nlist and ours.code_size == theirs.code_size
    else:
        assert ours.sa_code_size() == theirs.sa_code_size()


@pytest.mark.parametrize("d, description, message", [
    (32, "IVF64,PQ7", r"cannot parse 'PQ7' at position 6 of 'IVF64,PQ7'"),
    (32, "IVF64,Blah", "expected Flat, SQ8"),
    (32, "HNSW1", r"HNSW<M> with M in \[2, 512\]"),
    (32, "IVF64_Flat,Flat", r"IVF<nlist>, then optionally _HNSW<M>"),
    # Sizes that would cost gigabytes up front are refused, not attempted.
    (32, "IVF10000000000,Flat", r"IVF<nlist> with nlist at most"),
    (32, "RR9596780,Flat", r"cannot parse 'RR9596780'.*d_out at most 131072"),
    (1024, "RR2048,RR2048,Flat", r"cannot parse 'RR2048' at position 7.*d_out at most 1024 \(random rotations"),
    (32, "OPQ1_2000000000,Flat", r"d_out at most 1048576"),
])
def test_errors_point_at_the_token(d, description, message):
    with pytest.raises(ValueError, match=message):
        sx.index_factory(d, description)


def test_hnsw_spellings():
    assert type(sx.index_factory(8, "HNSW32,Flat")).__name__ == "IndexHNSWFlat"
    assert sx.describe(sx.index_factory(8, "HNSW32,Flat")) == "HNSW32"
    ivf = sx.index_factory(8, "IVF64_HNSW32,Flat", sx.METRIC_INNER_PRODUCT)
    assert type(ivf.quantizer).__name__ == "IndexHNSWFlat" and ivf.quantizer.metric_type == sx.METRIC_INNER_PRODUCT


def test_ivf_with_hnsw_quantizer_assigns_like_flat(rng):
    """An HNSW coarse quantizer picks (nearly) the lists an exact one picks: recall follows."""
    xb = rng.standard_normal((4000, 16), dtype=np.float32)
    flat, hnsw = sx.index_factory(16, "IVF64,Flat"), sx.index_factory(16, "IVF64_HNSW16,Flat")
    for index in (flat, hnsw):
        index.train(xb)
        index.add(xb)
    exact = sx.knn(xb[:200], xb, 10)[1]
    recall = [np.mean([len(set(a) & set(b)) / 10 for a, b in zip(index.search(xb[:200], 10, nprobe=8)[1], exact)])
              for index in (flat, hnsw)]
    assert recall[1] >= recall[0] - 0.01 and recall[0] >= 0.6, recall
    # efSearch reaches the quantizer through the same call.
    hnsw.search(xb[:5], 10, nprobe=8, efSearch=64)
