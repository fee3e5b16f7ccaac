"""Index files written by the real faiss-cpu package: sextant reads them and returns the
same neighbours as faiss on the same queries; damaged Faiss files raise ValueError."""
import struct

import numpy as np
import pytest

import sextant as sx

faiss = pytest.importorskip("faiss")
# faiss's OpenMP threads spin while they wait: on a small shared machine one thread is far faster.
faiss.omp_set_num_threads(1)

D = 16
# (faiss factory string, the sextant type it must become)
CASES = [
    ("Flat", "IndexFlat"),
    ("IVF8,Flat", "IndexIVFFlat"),
    ("IVF8,PQ4", "IndexIVFPQ"),
    ("IVF8,PQ4x4", "IndexIVFPQ"),
    ("IVF8,SQ8", "IndexIVFScalarQuantizer"),
    ("IVF8,SQfp16", "IndexIVFScalarQuantizer"),
    ("SQ8", "IndexScalarQuantizer"),
    ("SQ4", "IndexScalarQuantizer"),
    ("PQ4", "IndexPQ"),
    ("PQ4x6", "IndexPQ"),
    ("IDMap,Flat", "IndexIDMap"),
    ("IDMap2,Flat", "IndexIDMap2"),
    ("IDMap,IVF8,Flat", "IndexIDMap"),
    ("PQ4,RFlat", "IndexRefineFlat"),
    ("IVF8,PQ4,Refine(SQ8)", "IndexRefine"),
    ("PCA8,Flat", "IndexPreTransform"),
    ("PCAW8,IVF8,Flat", "IndexPreTransform"),
    ("OPQ4,PQ4x4", "IndexPreTransform"),
    ("RR16,Flat", "IndexPreTransform"),
    ("L2norm,Flat", "IndexPreTransform"),
    ("RaBitQ", "IndexRaBitQ"),
    ("IVF8,RaBitQ", "IndexIVFRaBitQ"),
    ("RaBitQ,RFlat", "IndexRefineFlat"),
    ("RR16,RaBitQ", "IndexPreTransform"),
]


def data():
    rng = np.random.default_rng(8)
    return rng.standard_normal((1500, D), dtype=np.float32), rng.standard_normal((50, D), dtype=np.float32)


def no_polysemous(index):
    """The factory turns on polysemous training for PQ (slow, and irrelevant to the file format)."""
    index = faiss.downcast_index(index)
    if hasattr(index, "do_polysemous_training"):
        index.do_polysemous_training = False
    for inner in ("base_index", "index"):
        if hasattr(index, inner) and getattr(index, inner) is not None:
            no_polysemous(getattr(index, inner))


def faiss_index(description, metric, path):
    xb, _ = data()
    index = faiss.index_factory(D, description, metric)
    no_polysemous(index)
    index.train(xb)
    if description.startswith("IDMap"):
        index.add_with_ids(xb, np.arange(len(xb), dtype=np.int64) * 3 + 11)
    else:
        index.add(xb)
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.nprobe = 3
    faiss.write_index(index, str(path))
    return index


def assert_same_neighbours(D_ref, I_ref, D, I, tol=1e-4):
    """Identical ids, except where neighbours tie within float tolerance."""
    scale = np.maximum(1.0, np.abs(D_ref))
    np.testing.assert_allclose(D, D_ref, rtol=tol, atol=tol * scale.max())
    differ = I != I_ref
    if differ.any():
        # A different id is only allowed at a rank whose distance ties with another rank's.
        for q, r in zip(*np.nonzero(differ)):
            row = D_ref[q]
            ties = np.abs(row - row[r]) <= tol * scale[q, r]
            assert ties.sum() > 1 or r == row.size - 1, f"query {q} rank {r}: {I[q]} vs {I_ref[q]}"
    assert differ.mean() < 0.05  # coarse codes (4-bit PQ) tie often; every difference above is a tie


@pytest.mark.parametrize("metric", [faiss.METRIC_L2, faiss.METRIC_INNER_PRODUCT])
@pytest.mark.parametrize("description,sextant_type", CASES)
def test_faiss_file_gives_faiss_neighbours(description, sextant_type, metric, tmp_path):
    path = tmp_path / "faiss.index"
    index = faiss_index(description, metric, path)
    _, xq = data()
    D_ref, I_ref = index.search(xq, 10)
    for mmap in (False, True):
        ours = sx.read_index(path, mmap=mmap)
        assert type(ours).__name__ == sextant_type or (sextant_type == "IndexFlat" and type(ours).__name__ in
                                                       ("IndexFlatL2", "IndexFlatIP"))
        assert ours.d == D and ours.ntotal == index.ntotal
        assert ours.metric_type == (sx.METRIC_L2 if metric == faiss.METRIC_L2 else sx.METRIC_INNER_PRODUCT)
        Dx, Ix = ours.search(xq, 10)
        assert_same_neighbours(D_ref, I_ref, Dx, Ix)
    # And once converted, it is an ordinary sextant index: it saves in sextant's format.
    again = sx.deserialize_index(sx.serialize_index(ours))
    np.testing.assert_array_equal(again.search(xq, 10)[1], Ix)


def test_faiss_ivf_keeps_nprobe(tmp_path):
    path = tmp_path / "ivf.index"
    faiss_index("IVF8,Flat", faiss.METRIC_L2, path)
    assert sx.read_index(path).nprobe == 3


@pytest.mark.parametrize("metric", [faiss.METRIC_L2, faiss.METRIC_INNER_PRODUCT])
def test_faiss_hnsw_file_keeps_its_graph(metric, tmp_path):
    """The same graph searched with the same efSearch finds the same neighbours as faiss."""
    path = tmp_path / "hnsw.index"
    index = faiss_index("HNSW8", metric, path)
    ours = sx.read_index(path)
    assert type(ours).__name__ == "IndexHNSWFlat" and ours.M == 8 and ours.ntotal == index.ntotal
    assert ours.hnsw_stats()["max_level"] == index.hnsw.max_level
    _, xq = data()
    for ef in (16, 64):
        index.hnsw.efSearch = ef
        _, I_ref = index.search(xq, 10)
        _, I = ours.search(xq, 10, efSearch=ef)
        same = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, I_ref)])
        assert same >= (0.97 if ef == 16 else 0.995), (ef, same)
    again = sx.deserialize_index(sx.serialize_index(ours))
    np.testing.assert_array_equal(again.search(xq, 10)[1], ours.search(xq, 10)[1])


@pytest.mark.parametrize("description,sextant_type", [("HNSW8,SQ8", "IndexHNSWSQ"), ("HNSW8,SQfp16", "IndexHNSWSQ"),
                                                      ("HNSW8,PQ4", "IndexHNSWPQ")])
def test_faiss_quantised_hnsw_files(description, sextant_type, tmp_path):
    path = tmp_path / "faiss.index"
    index = faiss_index(description, faiss.METRIC_L2, path)
    ours = sx.read_index(path)
    assert type(ours).__name__ == sextant_type and ours.ntotal == index.ntotal
    _, xq = data()
    index.hnsw.efSearch = 64
    D_ref, I_ref = index.search(xq, 10)
    D, I = ours.search(xq, 10, efSearch=64)
    same = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, I_ref)])
    assert same >= 0.99, same
    np.testing.assert_allclose(D[I == I_ref], D_ref[I == I_ref], rtol=1e-4, atol=1e-3)


def test_unsupported_faiss_types_are_named(tmp_path):
    path = tmp_path / "lsh.index"
    index = faiss.IndexLSH(D, 32)
    index.add(data()[0][:10])
    faiss.write_index(index, str(path))
    with pytest.raises(ValueError, match="Faiss index type 'IxHe' is not supported"):
        sx.read_index(path)


def small_faiss_files(tmp_path):
    rng = np.random.default_rng(1)
    xb = rng.standard_normal((300, 4), dtype=np.float32)
    for description in ["Flat", "IVF2,Flat", "IVF2,PQ2x4", "IVF2,SQ8", "SQ8", "PQ2x4", "IDMap2,Flat", "PQ2x4,RFlat",
                        "HNSW4", "PCA2,Flat", "RaBitQ", "IVF2,RaBitQ", "IVF2,RaBitQfs", "RaBitQfs", "RaBitQ3",
                        "IVF2,RaBitQfs2"]:
        index = faiss.index_factory(4, description)
        no_polysemous(index)
        index.train(xb)
        if description.startswith("IDMap"):
            index.add_with_ids(xb[:5], np.arange(5, dtype=np.int64))
        else:
            index.add(xb[:5])
        yield description, bytes(faiss.serialize_index(index))


def test_faiss_rabitq_fast_scan_count_that_wraps_is_refused():
    """A flat RaBitQfs file whose vector count times its block size wraps 64 bits to the bytes it
    holds (none): refused, not read from."""
    xb = np.random.default_rng(2).standard_normal((40, 64), dtype=np.float32)
    index = faiss.index_factory(64, "RaBitQfs")
    index.train(xb)
    index.add(xb)
    data_ = bytearray(faiss.serialize_index(index))
    # Header 37 bytes, RaBitQ fields 28, centroid 8 + 256, qb 1, bbs 4: then ntotal2, M2, code size, bytes.
    assert struct.unpack_from("<q", data_, 8)[0] == 40 and struct.unpack_from("<Q", data_, 334)[0] == 64
    huge = 1 << 60  # 2^60 vectors of 16 * 32 bytes a block of 32: 2^64 bytes, 0 once wrapped
    struct.pack_into("<q", data_, 8, huge)
    struct.pack_into("<Q", data_, 334, huge)
    struct.pack_into("<Q", data_, 358, 0)
    with pytest.raises(ValueError):
        sx.deserialize_index(bytes(data_[:366]))


def test_truncated_faiss_files_raise_value_error(tmp_path):
    for description, data_ in small_faiss_files(tmp_path):
        for n in range(len(data_)):
            with pytest.raises(ValueError):
                sx.deserialize_index(data_[:n])


def test_bit_flipped_faiss_files_load_or_raise_value_error():
    """Faiss files have no checksum: a flip in a stored float gives a different but valid
    index. Everything else must be caught; nothing may crash."""
    rng = np.random.default_rng(2)
    xq = rng.standard_normal((3, 4), dtype=np.float32)
    for description, data_ in small_faiss_files(None):
        for _ in range(150):
            flipped = bytearray(data_)
            bit = int(rng.integers(len(flipped) * 8))
            flipped[bit // 8] ^= 1 << (bit % 8)
            try:
                index = sx.deserialize_index(bytes(flipped))
            except ValueError:
                continue
            try:
                index.search(xq, 2)
            except ValueError:
                pass
