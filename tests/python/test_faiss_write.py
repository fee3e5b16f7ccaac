"""Index files sextant writes in Faiss's format: the real faiss-cpu package reads them and
returns the same neighbours as sextant; a Faiss file read and written again by sextant is
the same file; `sextant convert` writes them; writes are atomic."""
import os
import subprocess
import sys

import numpy as np
import pytest

import sextant as sx

faiss = pytest.importorskip("faiss")
faiss.omp_set_num_threads(1)

from test_faiss_files import assert_same_neighbours, no_polysemous  # noqa: E402

D = 16
# Every type sextant reads from Faiss (test_faiss_files.py), built by sextant.
CASES = ["Flat", "IVF8,Flat", "IVF8,PQ4", "IVF8,PQ4x4", "IVF8,SQ8", "IVF8,SQfp16", "SQ8", "SQ4", "PQ4", "PQ4x6",
         "IDMap,Flat", "IDMap2,Flat", "IDMap,IVF8,Flat", "PQ4,RFlat", "IVF8,PQ4,Refine(SQ8)", "PCA8,Flat",
         "PCAW8,IVF8,Flat", "OPQ4,PQ4x4", "RR16,Flat", "L2norm,Flat", "HNSW8", "HNSW8,SQ8", "HNSW8,PQ4",
         "IVF8_HNSW4,Flat", "RaBitQ", "IVF8,RaBitQ", "RaBitQ,RFlat", "RaBitQ4", "IVF8,RaBitQ3"]


def data(n=1500):
    rng = np.random.default_rng(8)
    return rng.standard_normal((n, D), dtype=np.float32), rng.standard_normal((50, D), dtype=np.float32)


def sextant_index(description, metric, n=1500):
    xb, _ = data(n)
    index = sx.index_factory(D, description, metric)
    index.train(xb)
    if description.startswith("IDMap"):
        index.add_with_ids(xb, np.arange(len(xb), dtype=np.int64) * 3 + 11)
    else:
        index.add(xb)
    for inner in (index, getattr(index, "index", None), getattr(index, "base_index", None)):
        if isinstance(inner, sx.IndexIVF):
            inner.nprobe = 3
    return index


def faiss_search(index, xq, k, ef=None):
    hnsw = faiss.downcast_index(index)
    if ef is not None and hasattr(hnsw, "hnsw"):
        hnsw.hnsw.efSearch = ef
    return index.search(xq, k)


@pytest.mark.parametrize("metric", [sx.METRIC_L2, sx.METRIC_INNER_PRODUCT])
@pytest.mark.parametrize("description", CASES)
def test_faiss_reads_sextant_files_with_the_same_neighbours(description, metric, tmp_path):
    index = sextant_index(description, metric)
    path = tmp_path / "index.faiss"
    sx.write_index(index, path, format="faiss")
    theirs = faiss.read_index(str(path))
    assert theirs.ntotal == index.ntotal and theirs.d == D and theirs.metric_type == metric
    _, xq = data()
    if "HNSW" in description and "IVF" not in description:
        # The same graph: with the same efSearch both walk it alike; with a pool as large as
        # the index both are exhaustive.
        for ef in (64, 1500):
            D_ref, I_ref = index.search(xq, 10, efSearch=ef)
            D_f, I_f = faiss_search(theirs, xq, 10, ef)
            same = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I_ref, I_f)])
            assert same >= (0.99 if ef == 64 else 1.0), (ef, same)
        return
    D_ref, I_ref = index.search(xq, 10)
    D_f, I_f = theirs.search(xq, 10)
    assert_same_neighbours(D_ref, I_ref, D_f, I_f)
    # Read back by sextant, the file gives sextant's own results.
    np.testing.assert_array_equal(sx.read_index(path).search(xq, 10)[1], I_ref)


def test_renumbered_hnsw_graph_keeps_its_ids():
    """A graph of 5,000 nodes is renumbered for locality inside sextant: the file has it by id,
    and reading it back gives the very same searches."""
    index = sextant_index("HNSW8", sx.METRIC_L2, n=5000)
    data_ = sx.serialize_index(index, format="faiss")
    theirs = faiss.deserialize_index(data_)
    hnsw = faiss.downcast_index(theirs).hnsw
    assert hnsw.max_level == index.hnsw.max_level and hnsw.entry_point == index.hnsw.entry_point
    assert hnsw.efSearch == index.efSearch and hnsw.efConstruction == index.efConstruction
    ours = sx.deserialize_index(data_)
    _, xq = data()
    for ef in (16, 64):
        _, I_ref = index.search(xq, 10, efSearch=ef)
        np.testing.assert_array_equal(ours.search(xq, 10, efSearch=ef)[1], I_ref)
        _, I_f = faiss_search(theirs, xq, 10, ef)
        assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I_ref, I_f)]) >= 0.98


@pytest.mark.parametrize("description", ["Flat", "IVF8,Flat", "IVF8,PQ4", "IVF8,SQ8", "SQ8", "PQ4x6", "IDMap2,Flat",
                                         "PQ4,RFlat", "IVF8,PQ4,Refine(SQ8)", "OPQ4,PQ4x4", "RR16,Flat",
                                         "L2norm,Flat", "HNSW8", "HNSW8,SQ8", "HNSW8,PQ4", "RaBitQ",
                                         "IVF8,RaBitQ"])
def test_faiss_files_come_back_byte_for_byte(description):
    """Faiss writes, sextant reads and writes Faiss's format again: the same bytes (PCA aside:
    Faiss also keeps the full PCA matrix, which sextant does not)."""
    xb, _ = data()
    index = faiss.index_factory(D, description)
    no_polysemous(index)
    index.train(xb)
    if description.startswith("IDMap"):
        index.add_with_ids(xb, np.arange(len(xb), dtype=np.int64) * 5)
    else:
        index.add(xb)
    original = bytes(faiss.serialize_index(index))
    assert bytes(sx.serialize_index(sx.deserialize_index(original), format="faiss")) == original


def test_direct_maps_reach_faiss():
    xb, xq = data()
    for kind in ("array", "hashtable"):
        index = sx.index_factory(D, "IVF8,Flat")
        index.train(xb)
        if kind == "array":
            index.add(xb)
        else:
            index.add_with_ids(xb, np.arange(len(xb), dtype=np.int64) * 7 + 3)
        index.make_direct_map(kind)
        theirs = faiss.deserialize_index(sx.serialize_index(index, format="faiss"))
        key = 10 if kind == "array" else 10 * 7 + 3
        np.testing.assert_array_equal(theirs.reconstruct(key), index.reconstruct(key))


def test_empty_and_untrained_indexes():
    for description in ("Flat", "IVF8,Flat", "PQ4", "IVF8,PQ4", "SQ8", "IVF8,SQ8", "HNSW8", "HNSW8,SQ8", "HNSW8,PQ4",
                        "PCA8,Flat", "OPQ4,PQ4", "RaBitQ", "IVF8,RaBitQ"):
        index = sx.index_factory(D, description)
        theirs = faiss.deserialize_index(sx.serialize_index(index, format="faiss"))
        assert theirs.ntotal == 0 and theirs.is_trained == index.is_trained


def test_fast_scan_is_refused_and_the_old_file_stays(tmp_path):
    xb, _ = data()
    path = tmp_path / "index.faiss"
    sx.write_index(sx.IndexFlatL2(D), path, format="faiss")
    before = path.read_bytes()
    for description in ("PQ4x4fs", "IVF8,PQ4x4fs", "IVF8,PQ4x4fs,RFlat", "IVF8,RaBitQfs", "RaBitQfs"):
        index = sx.index_factory(D, description)
        index.train(xb)
        with pytest.raises(ValueError, match="fast-scan"):
            sx.write_index(index, path, format="faiss")
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["index.faiss"]  # no temporary file left behind
    with pytest.raises(ValueError, match="format must be 'sextant' or 'faiss'"):
        sx.serialize_index(sx.IndexFlatL2(D), format="hdf5")


def test_cli_convert_both_ways(tmp_path):
    index = sextant_index("IVF8,SQ8", sx.METRIC_L2)
    source = tmp_path / "index.sxt"
    sx.write_index(index, source)
    cli = [sys.executable, "-m", "sextant"]
    done = subprocess.run(cli + ["convert", str(source), "--to", "faiss", "-o", str(tmp_path / "index.faiss")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "faiss format" in done.stderr
    _, xq = data()
    theirs = faiss.read_index(str(tmp_path / "index.faiss"))
    assert_same_neighbours(*index.search(xq, 10), *theirs.search(xq, 10))
    done = subprocess.run(cli + ["convert", str(tmp_path / "index.faiss"), "--to", "sextant", "-o",
                                 str(tmp_path / "again.sxt")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    np.testing.assert_array_equal(sx.read_index(tmp_path / "again.sxt").search(xq, 10)[1], index.search(xq, 10)[1])
    fast_scan = sx.index_factory(D, "PQ4x4fs")
    sx.write_index(fast_scan, tmp_path / "fs.sxt")
    done = subprocess.run(cli + ["convert", str(tmp_path / "fs.sxt"), "--to", "faiss", "-o",
                                 str(tmp_path / "fs.faiss")], capture_output=True, text=True)
    assert done.returncode == 1 and "sextant convert: error:" in done.stderr and "fast-scan" in done.stderr
    assert not (tmp_path / "fs.faiss").exists()
