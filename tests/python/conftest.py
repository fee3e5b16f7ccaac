import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def exact_knn(xq, xb, k, metric="L2"):
    """Reference search in float64 with numpy: (D, I), best first, ties to the smaller id."""
    xq64, xb64 = xq.astype(np.float64), xb.astype(np.float64)
    if metric == "L2":
        dist = (xq64 ** 2).sum(1)[:, None] + (xb64 ** 2).sum(1)[None, :] - 2 * xq64 @ xb64.T
        order = np.lexsort((np.broadcast_to(np.arange(len(xb)), dist.shape), dist), axis=1)
    else:
        dist = xq64 @ xb64.T
        order = np.lexsort((np.broadcast_to(np.arange(len(xb)), dist.shape), -dist), axis=1)
    I = order[:, :k]
    return np.take_along_axis(dist, I, 1), I


def assert_same_neighbors(D, I, xq, xb, k, metric="L2", tol=1e-4):
    """Each rank holds the exact distance of that rank (within tol) and a vector at that distance;
    ranks past the number of vectors are padded with (worst, -1)."""
    Dref, Iref = exact_knn(xq, xb, min(k, len(xb)), metric)
    kk = Dref.shape[1]
    scale = np.maximum(1.0, np.abs(Dref))
    assert np.all(np.abs(D[:, :kk] - Dref) <= tol * scale), "distances differ from the exact ones"
    xq64, xb64 = xq.astype(np.float64), xb.astype(np.float64)
    assert (I[:, :kk] >= 0).all()
    true = (
        ((xq64[:, None, :] - xb64[I[:, :kk]]) ** 2).sum(-1)
        if metric == "L2"
        else (xq64[:, None, :] * xb64[I[:, :kk]]).sum(-1)
    )
    assert np.all(np.abs(true - Dref) <= 2 * tol * scale), "a returned label is not at the reported distance"
    for row in I[:, :kk]:
        assert len(set(row.tolist())) == kk, "repeated label"
    if k > kk:
        assert (I[:, kk:] == -1).all()
        worst = np.inf if metric == "L2" else -np.inf
        assert (D[:, kk:] == worst).all()
