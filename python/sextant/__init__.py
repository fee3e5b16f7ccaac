"""sextant: vector similarity search.

    import sextant as sx
    index = sx.IndexFlatL2(d)
    index.add(xb)                      # float32 (n, d)
    D, I = index.search(xq, k)         # nearest first; missing results have id -1
"""

from ._sextant import (
    METRIC_INNER_PRODUCT,
    METRIC_L2,
    Clustering,
    IDSelector,
    IDSelectorAnd,
    IDSelectorBatch,
    IDSelectorBitmap,
    IDSelectorNot,
    IDSelectorOr,
    IDSelectorRange,
    IDSelectorShifted,
    Index,
    IndexFlat,
    IndexFlatIP,
    IndexFlatL2,
    IndexHNSW,
    IndexHNSWFlat,
    IndexHNSWPQ,
    IndexHNSWSQ,
    IndexIDMap,
    IndexIDMap2,
    IndexIVF,
    IndexIVFFlat,
    IndexIVFPQ,
    IndexIVFPQFastScan,
    IndexIVFRaBitQ,
    IndexIVFRaBitQFastScan,
    IndexIVFScalarQuantizer,
    IndexPQ,
    IndexPQFastScan,
    IndexPreTransform,
    IndexRaBitQ,
    IndexRaBitQFastScan,
    IndexRefine,
    IndexRefineFlat,
    IndexReplicas,
    IndexScalarQuantizer,
    IndexShards,
    KMeansParams,
    LinearTransform,
    MetricType,
    NormalizationTransform,
    OPQMatrix,
    PCAMatrix,
    ProductQuantizer,
    QuantizerType,
    RandomRotationMatrix,
    ScalarQuantizer,
    SearchParams,
    VectorTransform,
    build_info,
    describe,
    deserialize_index,
    get_num_threads,
    index_factory,
    knn,
    merge_knn_results,
    merge_range_results,
    normalize_L2,
    pairwise_distances,
    read_index,
    serialize_index,
    set_num_threads,
    simd_level,
    write_index,
)

from .clustering import Kmeans

__version__ = build_info()["version"]


def install_as_faiss():
    """Registers sextant.faiss (sextant under Faiss's names) as the module `faiss`, so that a
    library that imports faiss itself (LangChain's and LlamaIndex's Faiss vector stores) runs on
    sextant. Call it before the library imports faiss; returns the module."""
    import sys

    from . import faiss

    sys.modules["faiss"] = faiss
    return faiss


__all__ = [name for name in dir() if not name.startswith("_")] + ["embed", "gpu", "distributed", "faiss"]


def __getattr__(name):
    # sx.embed (the embedding producer) is imported on first use, so that
    # `python -m sextant.embed` does not find it half-imported; sx.gpu, sx.distributed (Ray) and
    # sx.faiss too.
    if name in ("embed", "gpu", "distributed", "faiss"):
        import importlib

        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'sextant' has no attribute {name!r}")
