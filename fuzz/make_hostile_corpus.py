"""Writes the hostile index files of fuzz/corpus/read_index (committed, replayed by
ctest and read by tests/python/test_hostile_files.py): files that pass every
framing check (the checksum of a sextant file is recomputed after the lie) but
hold a value whose harm shows later, after an add or in a search. Each must be
refused when read, or load harmless. Needs the sextant module and faiss-cpu:
    PYTHONPATH=build/python python3 fuzz/make_hostile_corpus.py
"""

import pathlib
import struct

import numpy as np

import sextant as sx

OUT = pathlib.Path(__file__).resolve().parent / "corpus" / "read_index"
OBJECT_HEADER = 22  # tag, object version, d, metric, is_trained, ntotal


# ---------------------------------------------------------------- XXH64 (seed 0), as the sextant trailer holds it

P1, P2, P3, P4, P5 = (11400714785074694791, 14029467366897019727, 1609587929392839161, 9650029242287828579,
                      2870177450012600261)
MASK = (1 << 64) - 1


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & MASK


def _round(acc, lane):
    return (_rotl((acc + lane * P2) & MASK, 31) * P1) & MASK


def xxh64(data):
    n, i = len(data), 0
    if n >= 32:
        v = [(P1 + P2) & MASK, P2, 0, (-P1) & MASK]
        while i + 32 <= n:
            v = [_round(v[j], struct.unpack_from("<Q", data, i + 8 * j)[0]) for j in range(4)]
            i += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & MASK
        for lane in v:
            h = (((h ^ _round(0, lane)) * P1) + P4) & MASK
    else:
        h = P5
    h = (h + n) & MASK
    while i + 8 <= n:
        h = ((_rotl(h ^ _round(0, struct.unpack_from("<Q", data, i)[0]), 27) * P1) + P4) & MASK
        i += 8
    if i + 4 <= n:
        h = ((_rotl(h ^ (struct.unpack_from("<I", data, i)[0] * P1 & MASK), 23) * P2) + P3) & MASK
        i += 4
    while i < n:
        h = (_rotl(h ^ (data[i] * P5 & MASK), 11) * P1) & MASK
        i += 1
    h ^= h >> 33
    h = (h * P2) & MASK
    h ^= h >> 29
    h = (h * P3) & MASK
    return h ^ (h >> 32)


def reseal(data):
    """A sextant file with its XXH64 recomputed: it passes the checksum again."""
    data = bytearray(data)
    struct.pack_into("<Q", data, len(data) - 16, xxh64(bytes(data[:-16])))
    return bytes(data)


# ---------------------------------------------------------------- lies


def patch(data, at, fmt, value, sextant=True):
    data = bytearray(data)
    struct.pack_into(fmt, data, at, value)
    return reseal(bytes(data)) if sextant else bytes(data)


def tag_at(data, tag):
    at = data.find(tag)
    assert at >= 0, tag
    return at


def unique_at(data, needle):
    at = data.find(needle)
    assert at >= 0 and data.find(needle, at + 1) < 0, "the value to patch is not unique in the file"
    return at


def sextant_bytes(index):
    return bytes(np.asarray(sx.serialize_index(index), dtype=np.uint8))


def hostile_files():
    rng = np.random.default_rng(26)
    x = rng.standard_normal((300, 8)).astype("float32")
    ivf_next_id = OBJECT_HEADER + 8 + 1 + 8 + 8  # nlist, by_residual, nprobe, max_codes

    # IVF next id: the id the next add() gives becomes a row number of the parent.
    index = sx.index_factory(8, "IVF4,Flat,RFlat")
    index.train(x)
    index.add(x[:100])
    data = sextant_bytes(index)
    yield "refineflat-ivf-next-id-2p31", patch(data, tag_at(data, b"IVFL") + ivf_next_id, "<q", 2 ** 31)
    index = sx.index_factory(8, "IDMap,IVF4,Flat")
    index.train(x)
    index.add_with_ids(x[:100], np.arange(100) * 7)
    data = sextant_bytes(index)
    yield "idmap-ivf-next-id-1e8", patch(data, tag_at(data, b"IVFL") + ivf_next_id, "<q", 10 ** 8)

    # HNSW: a huge efConstruction (harmless: the candidate pool never outgrows the graph)
    # and a NaN among the stored vectors.
    index = sx.IndexHNSWFlat(8, 16)
    index.add(x[:100])
    data = sextant_bytes(index)
    yield "hnsw-efconstruction-2p30", patch(data, tag_at(data, b"HNSF") + OBJECT_HEADER + 4, "<i", 2 ** 30)
    yield "hnsw-nan-vector", patch(data, unique_at(data, x[5, 3].tobytes()), "<f", float("nan"))

    # Flat: a NaN, an overflowing vector, a norm that does not match its vector.
    index = sx.IndexFlatL2(8)
    index.add(x[:50])
    data = sextant_bytes(index)
    at = unique_at(data, x[7].tobytes())
    yield "flat-nan-vector", patch(data, at + 8, "<f", float("nan"))
    yield "flat-overflowing-vector", patch(data, at + 8, "<f", 3e38)
    norms_at = -(-(unique_at(data, x[0].tobytes()) + 50 * 8 * 4 + 16) // 64) * 64
    yield "flat-lying-norm", patch(data, norms_at + 4 * 7, "<f", 1e30)

    # Codes that decode to NaN or infinity: IVF-Flat rows, fp16 codes.
    index = sx.index_factory(8, "IVF4,Flat")
    index.train(x)
    index.add_with_ids(x[:100], np.arange(100) + 7000)
    data = sextant_bytes(index)
    yield "ivfflat-inf-code", patch(data, unique_at(data, x[9].tobytes()) + 4, "<f", float("inf"))
    yield "ivf-negative-id", patch(data, unique_at(data, struct.pack("<q", 7042)), "<q", -1)
    index = sx.index_factory(8, "SQfp16")
    index.train(x)
    index.add(x[:50])
    data = sextant_bytes(index)
    yield "sqfp16-inf-code", patch(data, unique_at(data, x[11].astype(np.float16).tobytes()) + 2, "<H", 0x7C00)

    # Quantizer parameters a code decodes through: huge PQ centroids and SQ ranges.
    index = sx.index_factory(8, "PQ2x4")
    index.train(x)
    index.add(x[:50])
    data = sextant_bytes(index)
    yield "pq-huge-centroid", patch(data, unique_at(data, index.pq.centroids[1, 3].tobytes()), "<f", 1e30)
    index = sx.index_factory(8, "SQ8")
    index.train(x)
    index.add(x[:50])
    data = sextant_bytes(index)
    yield "sq8-huge-range", patch(data, unique_at(data, index.sq.trained[8:].tobytes()), "<f", 1e30)

    # Anisotropic PQ codes (object version 2) with a threshold out of its range.
    index = sx.index_factory(8, "PQ4x4_aniso0.5")
    index.train(x)
    index.add(x[:50])
    data = sextant_bytes(index)
    yield "pq-aniso-threshold-7", patch(data, unique_at(data, struct.pack("<f", 0.5)), "<f", 7.0)

    # An id map holding -1, the label of a missing result.
    index = sx.index_factory(8, "IDMap,Flat")
    index.add_with_ids(x[:20], np.arange(20) + 5000)
    data = sextant_bytes(index)
    yield "idmap-negative-id", patch(data, unique_at(data, struct.pack("<q", 5013)), "<q", -1)

    # A RaBitQ code whose correction factor is NaN.
    index = sx.index_factory(8, "RaBitQ")
    index.train(x)
    index.add(x[:50])
    data = sextant_bytes(index)
    code = bytes(np.asarray(index.sa_encode(x[17:18]), dtype=np.uint8))
    yield "rabitq-nan-factor", patch(data, unique_at(data, code) + 1, "<f", float("nan"))

    # Fast-scan codes whose count, times the code size, wraps 64 bits to the bytes stored:
    # the reader must count the codes the bytes hold, not trust the header.
    y = rng.standard_normal((300, 64)).astype("float32")
    for name, description, code_bytes in (("pqfs", "PQ8x4fs", 4), ("rabitqfs", "RaBitQfs", 16)):
        index = sx.index_factory(64, description)
        index.train(y)
        index.add(y[:50])
        data = sextant_bytes(index)
        tag = {"pqfs": b"PQFS", "rabitqfs": b"RBQF"}[name]
        yield f"{name}-ntotal-wraps", patch(data, tag_at(data, tag) + 14, "<q", 50 + 2 ** 64 // code_bytes)

    # Faiss-written files (no checksum): faiss itself writes an HNSW with a NaN vector.
    try:
        import faiss
    except ImportError:
        return
    vectors = x[:100].copy()
    vectors[5, 1] = np.nan
    graph = faiss.IndexHNSWFlat(8, 16)
    graph.add(x[:100])
    graph.storage.reset()
    graph.storage.add(vectors)
    yield "faiss-hnsw-nan-vector", bytes(faiss.serialize_index(graph))
    graph = faiss.IndexHNSWFlat(8, 16)
    graph.add(x[:100])
    data = bytes(faiss.serialize_index(graph))
    yield "faiss-hnsw-efconstruction-2p30", patch(data, unique_at(data, struct.pack("<iii", 40, 16, 1)), "<i",
                                                 2 ** 30, sextant=False)
    rabitq = faiss.IndexRaBitQ(8)
    rabitq.train(x)
    rabitq.add(x[:20])
    data = bytes(faiss.serialize_index(rabitq))
    center = faiss.vector_to_array(rabitq.center)
    yield "faiss-rabitq-nan-center", patch(data, unique_at(data, center.tobytes()) + 8, "<f", float("nan"),
                                           sextant=False)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in hostile_files():
        (OUT / f"finding-{name}").write_bytes(data)
        print(f"finding-{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
