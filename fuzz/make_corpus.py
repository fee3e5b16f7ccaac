"""Writes the seed corpora of the fuzz targets (small files, committed):
fuzz/corpus/read_index: sextant files of every index type and Faiss files of
every type the reader knows (needs faiss-cpu); fuzz/corpus/index_factory:
factory strings. Run from the repository root with the Python module built:
    PYTHONPATH=build/python python fuzz/make_corpus.py
"""

import pathlib

import numpy as np

import sextant as sx

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"
D = 4

FACTORY = [
    "Flat", "SQ8", "SQ4", "SQ6", "SQfp16", "SQbf16", "PQ2", "PQ2x4", "PQ4x3",
    "IVF2,Flat", "IVF3,SQ8", "IVF2,SQfp16", "IVF2,PQ2x4", "IVF4,PQ1",
    "IDMap,Flat", "IDMap2,PQ2x4", "IDMap2,IVF2,Flat", "PQ2x4,RFlat", "IVF2,PQ2x4,Refine(SQ8)",
    "PQ2,Refine(PQ4x4)", "IVF2,Flat,Refine(Flat)", "IDMap,PQ2,RFlat", "HNSW4", "IVF2_HNSW4,Flat",
]
# Indexes of several parts (sextant only); apart from FACTORY so that its seeds keep their bytes.
SPLIT = ["Shards2,Flat", "Shards3,IVF2,Flat", "Replicas2,PQ2x4", "IDMap,Shards2,SQ8", "Shards2,HNSW4"]
# RaBitQ codes, sextant's and Faiss's files; apart for the same reason.
RABITQ = ["RaBitQ", "IVF2,RaBitQ", "RaBitQ,RFlat", "RR4,RaBitQ"]
# More bits a dimension, in both layouts.
RABITQ_BITS = ["RaBitQ3", "IVF2,RaBitQ2", "RaBitQfs2", "IVF2,RaBitQfs3"]
FAISS_EXTRA = ["HNSW4,SQ8", "PCA2,Flat", "OPQ2,PQ2x4", "RR4,Flat", "L2norm,Flat"]


def sextant_seeds(rng, descriptions=FACTORY, prefix="sx"):
    xb = rng.standard_normal((300, D)).astype("float32")
    for i, desc in enumerate(descriptions):
        for metric in (sx.METRIC_L2, sx.METRIC_INNER_PRODUCT):
            index = sx.index_factory(D, desc, metric)
            if metric == sx.METRIC_L2 and "IVF" in desc and i % 2 == 0:
                yield f"{prefix}_untrained_{i}", sx.serialize_index(index)
            index.train(xb)
            if "IDMap" in desc:
                index.add_with_ids(xb[:6], np.arange(6) * 5 + 1)
            else:
                index.add(xb[:6])
            yield f"{prefix}_{i}_{int(metric)}", sx.serialize_index(index)


def faiss_seeds(rng, descriptions=FACTORY + FAISS_EXTRA, prefix="faiss"):
    try:
        import faiss
    except ImportError:
        return
    xb = rng.standard_normal((300, D)).astype("float32")
    for i, desc in enumerate(descriptions):
        desc = desc.replace("SQbf16", "SQfp16")
        for metric in (faiss.METRIC_L2, faiss.METRIC_INNER_PRODUCT):
            try:
                index = faiss.index_factory(D, desc, metric)
            except RuntimeError:
                continue
            faiss.cvar.distance_compute_blas_threshold = 20
            index.train(xb)
            if "IDMap" in desc:
                index.add_with_ids(xb[:6], np.arange(6) * 5 + 1)
            else:
                index.add(xb[:6])
            yield f"{prefix}_{i}_{metric}", faiss.serialize_index(index)


def main():
    rng = np.random.default_rng(0)
    (ROOT / "read_index").mkdir(parents=True, exist_ok=True)
    (ROOT / "index_factory").mkdir(parents=True, exist_ok=True)
    seeds = list(sextant_seeds(rng)) + list(faiss_seeds(rng))
    seeds += list(sextant_seeds(np.random.default_rng(1), SPLIT, "sx_split"))
    seeds += list(sextant_seeds(np.random.default_rng(2), RABITQ, "sx_rabitq"))
    seeds += list(faiss_seeds(np.random.default_rng(2), RABITQ, "faiss_rabitq"))
    seeds += list(sextant_seeds(np.random.default_rng(3), RABITQ_BITS, "sx_rabitq_bits"))
    seeds += list(faiss_seeds(np.random.default_rng(3), RABITQ_BITS, "faiss_rabitq_bits"))
    for name, data in seeds:
        (ROOT / "read_index" / f"seed_{name}").write_bytes(bytes(np.asarray(data, dtype=np.uint8)))
    for i, desc in enumerate(FACTORY + ["IVF16,Flat", "Refine(Flat)", "IDMap", "PQ3", "IVF0,Flat"]):
        (ROOT / "index_factory" / f"seed_{i}").write_bytes(bytes([1 + 11]) + desc.encode())
    for i, desc in enumerate(SPLIT + ["Shards0,Flat", "Replicas4097,Flat", "Shards2,Replicas2,IDMap2,Flat"]):
        (ROOT / "index_factory" / f"seed_split_{i}").write_bytes(bytes([1 + 11]) + desc.encode())
    for i, desc in enumerate(RABITQ + ["IVF2,RaBitQ,RFlat", "RaBitQ4", "RaBitQfs"]):
        (ROOT / "index_factory" / f"seed_rabitq_{i}").write_bytes(bytes([1 + 11]) + desc.encode())


if __name__ == "__main__":
    main()
