"""Every index the factory builds answers bad input with a clear Python error, never a crash."""
import numpy as np
import pytest

import sextant as sx

D = 32
DESCRIPTIONS = [
    "Flat", "SQ8", "SQ4", "SQfp16", "PQ8", "PQ8x4fs", "IVF16,Flat", "IVF16,SQ8", "IVF16,PQ8", "IVF16,PQ8x4fs",
    "IVF16,PQ8x4fsr", "PCA16,Flat", "OPQ8,PQ8", "RR32,Flat", "L2norm,Flat", "IDMap,Flat", "IDMap2,IVF16,Flat",
    "IVF16,PQ8,RFlat", "PQ8,Refine(SQ8)", "HNSW16", "IDMap2,HNSW8", "IVF16_HNSW8,Flat", "HNSW8,SQ8",
    "HNSW8,PQ8", "Shards2,IVF16,Flat", "Replicas2,HNSW8", "IDMap,Shards2,SQ8", "PQ8x4fs_aniso0.3",
    "IVF16,PQ8_aniso0.3,RFlat", "RaBitQ", "IVF16,RaBitQ", "IVF16,RaBitQfs", "RaBitQfs", "RaBitQ,RFlat",
    "RaBitQ4", "IVF16,RaBitQ2,RFlat", "IVF16,RaBitQfs4",
]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((1000, D), dtype=np.float32)


def build(description, x, trained=True, filled=True):
    index = sx.index_factory(D, description)
    if isinstance(index, sx.IndexPreTransform) and isinstance(index.chain[0], sx.OPQMatrix):
        index.chain[0].niter = 2
    if trained:
        index.train(x)
    if filled:
        if description.startswith("IDMap"):
            index.add_with_ids(x, np.arange(len(x), dtype=np.int64))
        else:
            index.add(x)
    return index


@pytest.mark.parametrize("description", DESCRIPTIONS)
def test_untrained_index(description, data):
    index = sx.index_factory(D, description)
    if index.is_trained:
        return
    with pytest.raises(ValueError, match="not trained"):
        index.add(data[:5])
    with pytest.raises(ValueError, match="not trained"):
        index.search(data[:5], 3)


@pytest.mark.parametrize("description", DESCRIPTIONS)
def test_bad_vectors(description, data):
    index = build(description, data)
    for bad_shape in [data[:5, :D - 1], data[0], data[:2].reshape(2, 2, D // 2)]:
        with pytest.raises(ValueError, match="columns|2-D"):
            index.search(bad_shape, 3)
        with pytest.raises(ValueError, match="columns|2-D"):
            index.train(bad_shape)
    for bad_type in [data[:2].astype(complex), np.array([["x"] * D]), None, "vectors", data[:2] > 0]:
        with pytest.raises(TypeError):
            index.search(bad_type, 3)
    for value in [np.nan, np.inf, -np.inf]:
        x = data[:4].copy()
        x[3, 7] = value
        with pytest.raises(ValueError, match="finite"):
            index.search(x, 3)
        with pytest.raises(ValueError, match="finite"):
            index.train(x)
        with pytest.raises(ValueError, match="finite"):
            if description.startswith("IDMap"):
                index.add_with_ids(x, np.arange(4) + 10_000)
            else:
                index.add(x)
    assert index.ntotal == len(data)  # nothing was added by the failed calls


@pytest.mark.parametrize("description", DESCRIPTIONS)
def test_bad_search_arguments(description, data):
    index = build(description, data)
    for k in (0, -3):
        with pytest.raises(ValueError, match="k must be > 0"):
            index.search(data[:2], k)
    with pytest.raises(ValueError, match="too large to allocate"):
        index.search(data[:2], 2**62)  # 2 x 2^62 results: the byte count overflows before any allocation
    ivf = "IVF" in description
    if "HNSW" in description:
        with pytest.raises(ValueError, match="efSearch must be > 0"):
            index.search(data[:2], 3, efSearch=0)
    else:
        with pytest.raises(ValueError, match="efSearch"):
            index.search(data[:2], 3, efSearch=16)
    if not ivf:
        with pytest.raises(ValueError, match="nprobe"):
            index.search(data[:2], 3, nprobe=4)
    else:
        with pytest.raises(ValueError, match="nprobe must be >= 1"):
            index.search(data[:2], 3, nprobe=0)
    if "RFlat" not in description and "Refine" not in description:
        with pytest.raises(ValueError, match="k_factor"):
            index.search(data[:2], 3, k_factor=2)
    with pytest.raises(TypeError, match="unexpected keyword"):
        index.search(data[:2], 3, nprob=4)
    with pytest.raises(ValueError, match="NaN"):
        index.range_search(data[:2], float("nan"))
    D_, I_ = index.search(np.zeros((0, D), np.float32), 3)
    assert I_.shape == (0, 3)


@pytest.mark.parametrize("description", DESCRIPTIONS)
def test_bad_ids_and_codes(description, data):
    index = build(description, data)
    if description.startswith("IDMap"):
        with pytest.raises(TypeError, match="integers"):
            index.add_with_ids(data[:2], np.array([1.5, 2.5]))
        with pytest.raises(ValueError, match="2 entries"):
            index.add_with_ids(data[:2], np.array([1, 2, 3]))
    else:  # indexes that number vectors themselves refuse ids; IVF takes them
        try:
            index.add_with_ids(data[:2], np.array([10_001, 10_002]))
        except ValueError as e:
            assert "ids" in str(e) or "IndexIDMap" in str(e)
    with pytest.raises(TypeError):
        index.remove_ids(np.array([0.5]))
    with pytest.raises(TypeError):
        index.remove_ids("not ids")
    try:
        size = index.sa_code_size()
    except ValueError:
        return
    with pytest.raises(ValueError, match="shape"):
        index.sa_decode(np.zeros((2, size + 1), np.uint8))
    with pytest.raises((ValueError, IndexError)):
        index.reconstruct(10**9)
