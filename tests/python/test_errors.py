"""Bad inputs raise clear Python errors, never crash."""
import numpy as np
import pytest

import sextant as sx


@pytest.fixture
def index(rng):
    index = sx.IndexFlatL2(8)
    index.add(rng.random((100, 8), dtype=np.float32))
    return index


def test_bad_dimension_and_shape(index):
    with pytest.raises(ValueError, match=r"must have 8 columns.*got shape \(3, 5\)"):
        index.search(np.zeros((3, 5), np.float32), 1)
    with pytest.raises(ValueError, match="2-D array"):
        index.add(np.zeros(8, np.float32))
    with pytest.raises(ValueError, match="2-D array"):
        index.search(np.zeros((2, 2, 2), np.float32), 1)
    with pytest.raises(ValueError, match="d \\(the vector dimension\\) must be > 0"):
        sx.IndexFlatL2(0)
    with pytest.raises(ValueError, match="d \\(the vector dimension\\) must be > 0"):
        sx.IndexFlatL2(-3)


def test_bad_dtypes(index):
    for bad in [np.zeros((2, 8), dtype=complex), np.array([["a"] * 8]), np.zeros((1, 8), dtype=bool)]:
        with pytest.raises(TypeError, match="real numbers"):
            index.search(bad, 1)
    with pytest.raises(TypeError):
        index.search(None, 1)
    with pytest.raises(TypeError):
        index.search("not an array", 1)
    with pytest.raises(TypeError):
        index.search(np.zeros((1, 8), np.float32), 1.5)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values(index, bad):
    x = np.zeros((3, 8), np.float32)
    x[2, 5] = bad
    with pytest.raises(ValueError, match="must be finite: row 2, column 5"):
        index.add(x)
    with pytest.raises(ValueError, match="must be finite: row 2, column 5"):
        index.search(x, 1)
    with pytest.raises(ValueError, match="finite"):
        sx.knn(x, np.zeros((4, 8), np.float32), 1)
    assert index.ntotal == 100  # nothing was added


@pytest.mark.parametrize("k", [0, -1])
def test_bad_k(index, k):
    with pytest.raises(ValueError, match="k must be > 0"):
        index.search(np.zeros((1, 8), np.float32), k)
    with pytest.raises(ValueError, match="k must be > 0"):
        sx.knn(np.zeros((1, 8), np.float32), np.zeros((4, 8), np.float32), k)


def test_empty_index_and_empty_batches():
    index = sx.IndexFlatL2(4)
    D, I = index.search(np.ones((2, 4), np.float32), 3)
    assert (I == -1).all() and np.isinf(D).all()
    D, I = index.search(np.zeros((0, 4), np.float32), 3)
    assert D.shape == (0, 3)
    index.add(np.zeros((0, 4), np.float32))
    assert index.ntotal == 0
    lims, D, I = index.range_search(np.zeros((0, 4), np.float32), 1.0)
    assert lims.tolist() == [0]


def test_huge_k_is_a_clean_error(index):
    with pytest.raises((ValueError, MemoryError)):
        index.search(np.zeros((1, 8), np.float32), 2**62)


def test_bad_radius_and_threads(index):
    with pytest.raises(ValueError, match="radius must not be NaN"):
        index.range_search(np.zeros((1, 8), np.float32), float("nan"))
    with pytest.raises(ValueError, match="threads must be >= 1"):
        sx.set_num_threads(0)
