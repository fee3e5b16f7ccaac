"""SearchParams, keyword knobs and id selectors."""
import numpy as np
import pytest

import sextant as sx


@pytest.fixture
def index(rng):
    xb = rng.random((1000, 8), dtype=np.float32)
    index = sx.IndexFlatL2(8)
    index.add(xb)
    return index


def test_keywords_equal_params(index, rng):
    xq = rng.random((30, 8), dtype=np.float32)
    sel = sx.IDSelectorRange(100, 300)
    D1, I1 = index.search(xq, 5, sel=sel)
    D2, I2 = index.search(xq, 5, params=sx.SearchParams(sel=sel))
    np.testing.assert_array_equal(I1, I2)
    np.testing.assert_array_equal(D1, D2)
    assert ((I1 >= 100) & (I1 < 300)).all()


def test_unknown_and_unused_knobs_are_errors(index, rng):
    xq = rng.random((2, 8), dtype=np.float32)
    with pytest.raises(ValueError, match="does not use SearchParams field.*nprobe"):
        index.search(xq, 5, nprobe=4)
    with pytest.raises(ValueError, match="efSearch"):
        index.search(xq, 5, params=sx.SearchParams(efSearch=16))
    with pytest.raises(TypeError, match="unexpected keyword argument 'npobe'"):
        index.search(xq, 5, npobe=4)
    with pytest.raises(TypeError, match="either as params"):
        index.search(xq, 5, params=sx.SearchParams(), sel=sx.IDSelectorRange(0, 1))
    with pytest.raises(TypeError, match="nprobe must be an integer"):
        sx.SearchParams(nprobe=2.5)
    with pytest.raises(TypeError, match="sel must be an IDSelector"):
        index.search(xq, 5, sel=[1, 2, 3])


def test_search_params_value(rng):
    p = sx.SearchParams(nprobe=8, k_factor=2.5)
    assert p.nprobe == 8 and p.k_factor == 2.5 and p.efSearch is None and p.sel is None
    p.efSearch = 32
    assert "efSearch=32" in repr(p) and "nprobe=8" in repr(p)


def selectors(n):
    ids = np.arange(0, n, 7)
    bits = np.zeros(n, dtype=bool)
    bits[::3] = True
    return [
        (sx.IDSelectorRange(100, 400), lambda i: (i >= 100) & (i < 400)),
        (sx.IDSelectorBatch(ids), lambda i: i % 7 == 0),
        (sx.IDSelectorBitmap(bits), lambda i: i % 3 == 0),
        (sx.IDSelectorBitmap(np.packbits(bits, bitorder="little")), lambda i: i % 3 == 0),
        (sx.IDSelectorNot(sx.IDSelectorRange(100, 400)), lambda i: (i < 100) | (i >= 400)),
        (sx.IDSelectorAnd(sx.IDSelectorRange(0, 500), sx.IDSelectorBatch(ids)), lambda i: (i < 500) & (i % 7 == 0)),
        (sx.IDSelectorOr(sx.IDSelectorRange(0, 10), sx.IDSelectorBatch(ids)), lambda i: (i < 10) | (i % 7 == 0)),
    ]


@pytest.mark.parametrize("metric", [sx.METRIC_L2, sx.METRIC_INNER_PRODUCT])
@pytest.mark.parametrize("nq", [3, 40])
def test_selectors_filter_exactly(rng, metric, nq):
    n = 1000
    xb = rng.standard_normal((n, 8), dtype=np.float32)
    xq = rng.standard_normal((nq, 8), dtype=np.float32)
    index = sx.IndexFlat(8, metric)
    index.add(xb)
    for sel, member in selectors(n):
        D, I = index.search(xq, 10, sel=sel)
        keep = np.flatnonzero(member(np.arange(n)))
        Dref, Iref = sx.knn(xq, xb[keep], 10, metric)
        np.testing.assert_array_equal(I, keep[Iref])
        np.testing.assert_allclose(D, Dref, rtol=1e-5, atol=1e-5)
        assert all(sel.is_member(int(i)) for i in I.ravel())


def test_selector_arguments_are_checked():
    with pytest.raises(ValueError, match="lo <= hi"):
        sx.IDSelectorRange(5, 2)
    with pytest.raises(TypeError, match="integers"):
        sx.IDSelectorBatch(np.array([1.5, 2.0]))
    with pytest.raises(TypeError, match="packed uint8"):
        sx.IDSelectorBitmap(np.array([1, 2], dtype=np.int32))
    with pytest.raises(TypeError, match="IDSelector"):
        sx.IDSelectorNot(None)


def test_remove_with_selector_or_ids(rng):
    xb = rng.random((100, 3), dtype=np.float32)
    index = sx.IndexFlatL2(3)
    index.add(xb)
    assert index.remove_ids(sx.IDSelectorNot(sx.IDSelectorRange(0, 50))) == 50
    assert index.remove_ids([0, 1, 2, 1000]) == 3
    assert index.ntotal == 47
    with pytest.raises(TypeError, match="integers"):
        index.remove_ids(np.array([0.5]))
