"""index_factory and describe, against the same strings in faiss."""
import numpy as np
import pytest

import sextant as sx

STRINGS = ["Flat", "SQ8", "SQfp16", "PQ8", "PQ8x4", "IVF16,Flat", "IVF16,SQ8", "IVF16,PQ8", "IDMap,Flat",
           "IDMap2,IVF8,SQ4", "IVF16,PQ8,RFlat", "PQ8,Refine(SQ8)"]


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


@pytest.mark.parametrize("description", ["IVF16,Flat", "IVF16,SQ8", "IVF16,PQ8", "PQ8", "SQ8"])
def test_same_structure_as_faiss(description):
    faiss = pytest.importorskip("faiss")
    ours, raw = sx.index_factory(32, description), faiss.index_factory(32, description)
    theirs = faiss.downcast_index(raw)  # raw keeps the object alive
    assert ours.d == theirs.d and ours.is_trained == theirs.is_trained
    if hasattr(theirs, "nlist"):
        assert ours.nlist == theirs.nlist and ours.code_size == theirs.code_size
    else:
        assert ours.sa_code_size() == theirs.sa_code_size()


def test_errors_point_at_the_token():
    with pytest.raises(ValueError, match=r"cannot parse 'PQ7' at position 6 of 'IVF64,PQ7'"):
        sx.index_factory(32, "IVF64,PQ7")
    with pytest.raises(ValueError, match="expected Flat, SQ8"):
        sx.index_factory(32, "IVF64,Blah")
