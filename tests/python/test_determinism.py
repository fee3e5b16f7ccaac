"""Same data, same seed, same thread count: byte-identical index files, for every index
type the factory builds (graph indexes built with one thread, as their docs promise)."""
import numpy as np
import pytest

import sextant as sx

D = 32
DESCRIPTIONS = [
    "Flat", "SQ8", "SQ4", "SQfp16", "PQ8", "PQ8x4", "PQ8x4fs", "IVF16,Flat", "IVF16,SQ8", "IVF16,PQ8",
    "IVF16,PQ8x4fs", "IVF16,PQ8x4fsr", "PCA16,Flat", "PCAWR16,IVF8,Flat", "OPQ8,PQ8", "RR32,SQ8", "L2norm,Flat",
    "IDMap,Flat", "IDMap2,IVF16,Flat", "IVF16,PQ8,RFlat", "PQ8,Refine(SQ8)", "HNSW8", "IDMap2,HNSW8",
    "IVF16_HNSW8,SQ8", "HNSW8,SQ4", "HNSW8,PQ8", "RaBitQ", "IVF16,RaBitQ", "IVF16,RaBitQfs", "RaBitQfs", "RR32,RaBitQ,RFlat",
]


def build_file(description, x):
    index = sx.index_factory(D, description)
    if isinstance(index, sx.IndexPreTransform) and isinstance(index.chain[0], sx.OPQMatrix):
        index.chain[0].niter = 3  # the default 25 rounds test nothing more
    index.train(x)
    if description.startswith("IDMap"):
        index.add_with_ids(x, np.arange(len(x), dtype=np.int64) * 3)
    else:
        index.add(x)
    return bytes(sx.serialize_index(index))


@pytest.mark.parametrize("description", DESCRIPTIONS)
def test_same_inputs_give_the_same_file(description):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1500, D), dtype=np.float32)
    saved = sx.get_num_threads()
    try:
        sx.set_num_threads(1 if "HNSW" in description else 2)
        first, second = build_file(description, x), build_file(description, x)
    finally:
        sx.set_num_threads(saved)
    assert first == second
    # And the data matters: a different base gives a different file.
    assert build_file(description, x[::-1].copy()) != first
