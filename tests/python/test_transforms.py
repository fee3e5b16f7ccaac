"""Vector transforms (PCA, OPQ, random rotation, L2 normalisation) and IndexPreTransform."""
import numpy as np
import pytest

import sextant as sx


@pytest.fixture(scope="module")
def correlated():
    rng = np.random.default_rng(11)
    mixing = rng.standard_normal((32, 32)) * np.linspace(3, 0.1, 32)[:, None]
    return (rng.standard_normal((5000, 32)) @ mixing + 2.0).astype(np.float32)


def test_pca_matches_numpy(correlated):
    x = correlated
    pca = sx.PCAMatrix(32, 8)
    assert not pca.is_trained
    pca.train(x)
    cov = np.cov(x.T.astype(np.float64), bias=True)
    values, vectors = np.linalg.eigh(cov)
    np.testing.assert_allclose(pca.eigenvalues, values[::-1], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(np.abs(pca.A), np.abs(vectors[:, ::-1][:, :8].T), atol=1e-3)
    np.testing.assert_allclose(pca.mean, x.mean(0), rtol=1e-5, atol=1e-5)
    y = pca.apply(x)
    np.testing.assert_allclose(y, (x - x.mean(0)) @ pca.A.T, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(y.var(0), values[::-1][:8], rtol=1e-3)


def test_pca_whitening_and_rotation(correlated):
    white = sx.PCAMatrix(32, 8, eigen_power=-0.5)
    white.train(correlated)
    np.testing.assert_allclose(white.apply(correlated).var(0), 1.0, rtol=1e-3)
    rotated = sx.PCAMatrix(32, 8, random_rotation=True)
    rotated.train(correlated)
    assert rotated.is_orthonormal
    v = rotated.apply(correlated).var(0)
    plain = sx.PCAMatrix(32, 8)
    plain.train(correlated)
    np.testing.assert_allclose(v.sum(), plain.apply(correlated).var(0).sum(), rtol=1e-3)  # same energy
    assert v.max() / v.min() < plain.apply(correlated).var(0).max() / plain.apply(correlated).var(0).min()


def test_random_rotation_preserves_geometry(rng):
    x = rng.standard_normal((100, 24), dtype=np.float32)
    rr = sx.RandomRotationMatrix(24, 24)
    y = rr.apply(x)
    np.testing.assert_allclose(np.linalg.norm(y, axis=1), np.linalg.norm(x, axis=1), rtol=1e-5)
    np.testing.assert_allclose(rr.reverse_transform(y), x, atol=1e-5)
    np.testing.assert_allclose(rr.A @ rr.A.T, np.eye(24), atol=1e-5)
    np.testing.assert_array_equal(sx.RandomRotationMatrix(24, 24).A, rr.A)  # seeded
    down = sx.RandomRotationMatrix(24, 8)
    np.testing.assert_allclose(down.A @ down.A.T, np.eye(8), atol=1e-5)


def pq_error(x, M):
    pq = sx.ProductQuantizer(x.shape[1], M, 8)
    pq.train(x)
    return ((pq.decode(pq.compute_codes(x)) - x) ** 2).sum(1).mean()


def test_opq_lowers_pq_error(correlated):
    x = correlated
    opq = sx.OPQMatrix(32, 4)
    opq.niter = 8
    opq.train(x)
    assert opq.is_orthonormal
    rotated = opq.apply(x)
    # The rotation keeps distances, so the PQ errors compare directly.
    assert pq_error(rotated, 4) < 0.9 * pq_error(x, 4)


def test_normalization():
    t = sx.NormalizationTransform(3)
    np.testing.assert_allclose(t.apply(np.array([[3.0, 4.0, 0.0]], np.float32)), [[0.6, 0.8, 0.0]], rtol=1e-6)


@pytest.mark.parametrize("description", ["PCA32,Flat", "PCAR16,IVF8,Flat", "OPQ8_16,PQ8", "RR32,SQ8", "L2norm,Flat"])
def test_pretransform_index(correlated, description):
    x, q = correlated[:4000], correlated[4000:4050]
    index = sx.index_factory(32, description)
    assert isinstance(index, sx.IndexPreTransform) and sx.describe(index) == description
    if isinstance(index.chain[0], sx.OPQMatrix):
        index.chain[0].niter = 3
    index.train(x)
    index.add(x)
    D, I = index.search(q, 5)
    inner = index.index
    D2, I2 = inner.search(index.apply_chain(q), 5)
    np.testing.assert_array_equal(I, I2)
    if description == "PCA32,Flat":  # a full rotation: exact search is unchanged
        np.testing.assert_array_equal(I, sx.knn(q, x, 5)[1])
        np.testing.assert_allclose(index.reconstruct(7), x[7], rtol=1e-3, atol=1e-3)


def test_pretransform_errors(correlated):
    with pytest.raises(ValueError, match="transforms output 8 dimensions but the index has d=16"):
        sx.IndexPreTransform(sx.PCAMatrix(32, 8), sx.IndexFlatL2(16))
    pca = sx.PCAMatrix(32, 8)
    with pytest.raises(ValueError, match="not trained"):
        pca.apply(correlated[:2])
    with pytest.raises(ValueError, match="more dimensions"):
        sx.PCAMatrix(8, 16)
    index = sx.IndexPreTransform(sx.PCAMatrix(32, 8), sx.IndexFlatL2(8))
    assert not index.is_trained
    with pytest.raises(ValueError, match="not trained"):
        index.add(correlated[:5])
