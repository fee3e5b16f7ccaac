"""sextant: vector similarity search.

    import sextant as sx
    index = sx.IndexFlatL2(d)
    index.add(xb)                      # float32 (n, d)
    D, I = index.search(xq, k)         # nearest first; missing results have id -1
"""

from ._sextant import (
    METRIC_INNER_PRODUCT,
    METRIC_L2,
    IDSelector,
    IDSelectorAnd,
    IDSelectorBatch,
    IDSelectorBitmap,
    IDSelectorNot,
    IDSelectorOr,
    IDSelectorRange,
    Index,
    IndexFlat,
    IndexFlatIP,
    IndexFlatL2,
    IndexHNSW,
    IndexHNSWFlat,
    IndexIDMap,
    IndexIDMap2,
    MetricType,
    SearchParams,
    build_info,
    get_num_threads,
    knn,
    normalize_L2,
    pairwise_distances,
    set_num_threads,
    simd_level,
)

__version__ = build_info()["version"]

__all__ = [name for name in dir() if not name.startswith("_")]
