"""IndexIDMap / IndexIDMap2: caller-chosen ids."""
import numpy as np
import pytest

import sextant as sx


def test_idmap_search_filter_remove(rng):
    xb = rng.random((300, 6), dtype=np.float32)
    ids = 10_000 + 3 * np.arange(300)
    index = sx.IndexIDMap(sx.IndexFlatL2(6))
    index.add_with_ids(xb, ids)
    assert index.ntotal == 300 and isinstance(index.index, sx.IndexFlatL2)
    np.testing.assert_array_equal(index.id_map, ids)
    D, I = index.search(xb[:5], 1)
    np.testing.assert_array_equal(I[:, 0], ids[:5])
    D, I = index.search(xb[:5], 4, sel=sx.IDSelectorRange(10_600, 20_000))
    assert (I >= 10_600).all()
    assert index.remove_ids(ids[:100]) == 100
    D, I = index.search(xb[100:105], 1)
    np.testing.assert_array_equal(I[:, 0], ids[100:105])
    with pytest.raises(ValueError, match="add_with_ids"):
        index.add(xb[:1])
    with pytest.raises(ValueError, match="cannot reconstruct"):
        index.reconstruct(int(ids[150]))


def test_idmap2_reconstruct_and_unique_ids(rng):
    xb = rng.random((50, 4), dtype=np.float32)
    ids = np.arange(50) * 11 + 100
    index = sx.IndexIDMap2(sx.IndexFlatIP(4))
    index.add_with_ids(xb, ids)
    np.testing.assert_array_equal(index.reconstruct(int(ids[7])), xb[7])
    with pytest.raises(ValueError, match="unique ids"):
        index.add_with_ids(xb[:1], ids[:1])
    with pytest.raises(ValueError, match="ids must have 2 entries"):
        index.add_with_ids(xb[:2], [1])
    with pytest.raises(TypeError, match="integers"):
        index.add_with_ids(xb[:1], [1.5])
    assert index.remove_ids(sx.IDSelectorBatch(ids[:10])) == 10
    np.testing.assert_array_equal(index.reconstruct(int(ids[20])), xb[20])


def test_idmap_needs_empty_index(rng):
    flat = sx.IndexFlatL2(3)
    flat.add(rng.random((2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="empty index"):
        sx.IndexIDMap(flat)
