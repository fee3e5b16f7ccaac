"""Index files from Python: write/read/mmap, bytes, pickling, errors (ValueError for bad
files, OSError for the operating system's refusals), crash safety of writes."""
import copy
import os
import pickle
import resource
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import sextant as sx

D = 16
DESCRIPTIONS = ["Flat", "SQ8", "SQfp16", "PQ4", "PQ4x4", "IVF8,Flat", "IVF8,SQ8", "IVF8,PQ4", "IDMap,Flat",
                "IDMap2,IVF8,SQ4", "IVF8,PQ4,RFlat", "PQ4,Refine(SQ8)", "PQ4x4fs", "IVF8,PQ4x4fsr,RFlat",
                "PCA8,IVF8,Flat", "OPQ4,PQ4", "RR16,SQ8", "L2norm,Flat", "HNSW8", "IDMap2,HNSW4", "IVF8_HNSW4,Flat",
                "HNSW8,SQ8", "HNSW8,SQfp16", "HNSW4,PQ4x6", "HNSW8,PQ8,RFlat", "Shards2,IVF8,PQ4",
                "Replicas2,HNSW8", "IDMap,Shards3,Flat", "RaBitQ", "IVF8,RaBitQ", "IVF8,RaBitQfs", "RaBitQfs", "RaBitQ,RFlat",
                "RaBitQ4", "IVF8,RaBitQ2", "IVF8,RaBitQfs3"]


def build(description, metric=sx.METRIC_L2, n=1000):
    rng = np.random.default_rng(3)
    xb = rng.standard_normal((n, D), dtype=np.float32)
    index = sx.index_factory(D, description, metric)
    index.train(xb)
    if description.startswith("IDMap"):
        index.add_with_ids(xb, np.arange(n) * 7 + 1)
    else:
        index.add(xb)
    return index


def queries():
    return np.random.default_rng(4).standard_normal((25, D), dtype=np.float32)


def assert_same(a, b):
    assert type(a) is type(b) and sx.describe(a) == sx.describe(b) and a.ntotal == b.ntotal
    Da, Ia = a.search(queries(), 10)
    Db, Ib = b.search(queries(), 10)
    np.testing.assert_array_equal(Ia, Ib)
    np.testing.assert_array_equal(Da, Db)


@pytest.mark.parametrize("metric", [sx.METRIC_L2, sx.METRIC_INNER_PRODUCT])
@pytest.mark.parametrize("description", DESCRIPTIONS)
def test_round_trip(description, metric, tmp_path):
    index = build(description, metric)
    path = tmp_path / "index.sxt"
    sx.write_index(index, path)  # a path-like object works as well as a str
    assert_same(index, sx.read_index(str(path)))
    assert_same(index, sx.read_index(path, mmap=True))
    assert_same(index, sx.deserialize_index(sx.serialize_index(index)))
    assert_same(index, pickle.loads(pickle.dumps(index)))
    assert_same(index, copy.deepcopy(index))


def test_serialize_gives_uint8_and_accepts_any_buffer():
    index = build("IVF8,Flat")
    data = sx.serialize_index(index)
    assert data.dtype == np.uint8 and data.ndim == 1
    for form in (data, bytes(data), bytearray(data), memoryview(bytes(data))):
        assert sx.deserialize_index(form).ntotal == index.ntotal
    with pytest.raises(TypeError):
        sx.deserialize_index(12)


def test_mmap_index_is_read_only(tmp_path):
    path = tmp_path / "index.sxt"
    for description in ["Flat", "SQ8", "IVF8,PQ4"]:
        sx.write_index(build(description), path)
        index = sx.read_index(path, mmap=True)
        with pytest.raises(ValueError, match="memory-mapped"):
            index.add(queries())
        index.search(queries(), 3)  # searching works


def test_ivf_defaults_survive(tmp_path):
    index = build("IVF8,SQ8")
    index.nprobe = 4
    restored = sx.deserialize_index(sx.serialize_index(index))
    assert restored.nprobe == 4


def test_bad_files_raise_value_error(tmp_path):
    data = bytes(sx.serialize_index(build("IVF8,Flat", n=50)))
    for n in range(0, len(data), 97):
        with pytest.raises(ValueError):
            sx.deserialize_index(data[:n])
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x10
    with pytest.raises(ValueError, match="checksum"):
        sx.deserialize_index(bytes(flipped))
    path = tmp_path / "junk.sxt"
    path.write_bytes(b"definitely not an index file")
    with pytest.raises(ValueError, match="neither a sextant index file nor a Faiss"):
        sx.read_index(path)


def test_os_errors_raise_oserror_naming_the_path(tmp_path):
    missing = tmp_path / "missing.sxt"
    with pytest.raises(FileNotFoundError) as info:
        sx.read_index(missing)
    assert info.value.filename == str(missing) and str(missing) in str(info.value)
    with pytest.raises(OSError) as info:
        sx.write_index(build("Flat", n=10), tmp_path / "no-such-dir" / "x.sxt")
    assert "no-such-dir" in str(info.value)
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(PermissionError):
            sx.write_index(build("Flat", n=10), locked / "x.sxt")


# A child process writes a new index over an old one; it is killed part way
# (a file-size limit of N bytes with SIGXFSZ's default action: the write past
# the limit kills the process, as a crash would) or runs out of space
# (the same limit with SIGXFSZ ignored: write() fails with EFBIG).
CHILD = textwrap.dedent("""
    import resource, signal, sys, numpy as np, sextant as sx
    index = sx.index_factory(16, "IVF8,Flat")
    x = np.random.default_rng(9).standard_normal((3000, 16), dtype=np.float32)
    index.train(x); index.add(x)
    if len(sys.argv) > 2:
        limit = int(sys.argv[2])
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    sx.write_index(index, sys.argv[1])
""")


def run_child(path, kill_after=None, preexec_fn=None):
    args = [] if kill_after is None else [str(kill_after)]
    return subprocess.run([sys.executable, "-c", CHILD, str(path), *args], preexec_fn=preexec_fn,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("kill_after", [0, 1, 64, 5000, 100000])
def test_crash_during_write_keeps_the_old_file(tmp_path, kill_after):
    path = tmp_path / "index.sxt"
    old = build("SQ8", n=100)
    sx.write_index(old, path)
    before = path.read_bytes()
    result = run_child(path, kill_after=kill_after)
    assert result.returncode == -signal.SIGXFSZ, result.stderr
    assert path.read_bytes() == before
    assert_same(old, sx.read_index(path))
    # The torn temporary file, if a crash leaves one, is never mistaken for an index.
    for leftover in tmp_path.glob("index.sxt.tmp.*"):
        with pytest.raises(ValueError):
            sx.read_index(leftover)


def test_full_disk_keeps_the_old_file(tmp_path):
    path = tmp_path / "index.sxt"
    old = build("SQ8", n=100)
    sx.write_index(old, path)
    before = path.read_bytes()

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))

    result = run_child(path, preexec_fn=small_disk)
    assert result.returncode == 1
    assert "OSError" in result.stderr and str(path) in result.stderr, result.stderr
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]  # the temporary file was removed
    assert_same(old, sx.read_index(path))
