"""Inputs that used to kill the process (SIGSEGV, SIGABRT, SIGBUS) or hang it: each must become a
clear Python exception, or work, and leave the index usable. Cases that crashed run in a child
process, so that a regression fails its test instead of ending the test run."""
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import sextant as sx

D = 16


def run_child(code, memory_mib=None, timeout=120, setup=""):
    """Runs `setup`, then `code` in a fresh interpreter (numpy as np, sextant as sx imported),
    the code under an address-space limit of `memory_mib` above the size after setup when given;
    returns its stdout. Fails the test on a signal, a non-zero exit or a timeout."""
    prelude = "import numpy as np, sextant as sx\n" + textwrap.dedent(setup)
    if memory_mib:
        prelude += textwrap.dedent(f"""
            import resource
            with open('/proc/self/statm') as f:
                base = int(f.read().split()[0]) * resource.getpagesize()
            limit = base + {memory_mib} * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        """)
    proc = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"child ended with {proc.returncode}: {proc.stderr[-2000:]}"
    return proc.stdout


# ---------------------------------------------------------------- vectors whose distances overflow float


@pytest.mark.parametrize("description", ["HNSW16", "HNSW16,SQ8", "HNSW16,PQ4", "Flat", "IVF8,Flat", "PQ4"])
@pytest.mark.parametrize("metric", ["METRIC_INNER_PRODUCT", "METRIC_L2"])
def test_overflowing_vectors_are_refused(description, metric):
    # Components of 1e20: products are 1e40 = +-inf in float, and +inf - inf = NaN.
    out = run_child(f"""
        rng = np.random.default_rng(0)
        x = rng.standard_normal((1000, {D})).astype('float32')
        huge = x * np.float32(1e20)
        index = sx.index_factory({D}, "{description}", sx.{metric})
        for call in (lambda: index.train(huge), lambda: index.add(huge[:5])):
            try:
                call()
                raise SystemExit("accepted")
            except ValueError as e:
                assert "squared L2 norm" in str(e) or "not trained" in str(e), e
        index.train(x)
        index.add(x)
        for call in (lambda: index.add(huge[:5]), lambda: index.search(huge[:5], 3)):
            try:
                call()
                raise SystemExit("accepted")
            except ValueError as e:
                assert "squared L2 norm" in str(e), e
        D, I = index.search(x[:10], 3)
        assert (I >= 0).all() and np.isfinite(D).all()
        print("ok")
    """)
    assert out.strip() == "ok"


@pytest.mark.parametrize("description", ["Flat", "HNSW16", "IVF4,Flat"])
@pytest.mark.parametrize("metric", ["L2", "IP"])
def test_large_finite_vectors_are_searched_exactly(description, metric, rng):
    # Norms near the limit (2^60 ~ 1.15e18): every distance stays finite and right.
    x = rng.standard_normal((500, D)).astype("float32") * np.float32(1e17)
    index = sx.index_factory(D, description, sx.METRIC_L2 if metric == "L2" else sx.METRIC_INNER_PRODUCT)
    index.train(x)
    index.add(x)
    Dist, I = index.search(x[:20], 5, **({"nprobe": 4} if "IVF" in description else {}))
    x64 = x.astype(np.float64)
    if metric == "L2":  # differences, not the norms trick: float64 cancels badly at this scale
        true = ((x64[:20, None, :] - x64[None, :, :]) ** 2).sum(-1)
    else:
        true = x64[:20] @ x64.T
    best = true.argmin(1) if metric == "L2" else true.argmax(1)
    assert np.isfinite(Dist).all() and (I >= 0).all()
    assert (I[:, 0] == best).mean() >= 0.9
    reported_vs_true = np.abs(Dist - np.take_along_axis(true, I, 1))
    assert (reported_vs_true <= 1e-4 * np.abs(true).max()).all()


def test_norm_limit_is_the_documented_one():
    index = sx.IndexFlatL2(1)
    index.add(np.array([[2.0 ** 60]], dtype="float32"))  # squared norm 2^120: the limit itself
    with pytest.raises(ValueError, match="squared L2 norm"):
        index.add(np.array([[2.0 ** 60.01]], dtype="float32"))
    assert sx.knn(np.ones((1, 1), "float32"), np.array([[2.0 ** 60]], "float32"), 1)[1][0, 0] == 0


@pytest.mark.parametrize("description", ["SQ8", "SQbf16", "SQfp16", "PQ4x4", "IVF4,SQ8", "RaBitQ",
                                         "IVF4,RaBitQ", "IVF4,RaBitQfs", "RaBitQfs", "RaBitQ9", "IVF4,RaBitQfs3"])
def test_quantizers_of_vectors_at_the_limit(description):
    # Each vector has one component of 2^60 (squared norm 2^120, the limit itself), a different
    # one for each: the ranges add up beyond any vector, bf16 rounds up; all must train, add,
    # search, and write a file that reads back.
    x = np.zeros((64, D), "float32")
    x[np.arange(64), np.arange(64) % D] = 2.0 ** 60
    index = sx.index_factory(D, description)
    index.train(x)
    index.add(x)
    Dist, I = index.search(x[:4], 1)
    assert np.isfinite(Dist).all() and (I >= 0).all()
    again = sx.deserialize_index(sx.serialize_index(index))
    assert again.ntotal == 64


# ---------------------------------------------------------------- allocations: bounded by what the answer needs


@pytest.mark.parametrize("description", ["Flat", "IVF16,Flat", "PQ4", "IVF16,PQ4x4fs", "HNSW16", "IVF16,PQ4,RFlat"])
def test_huge_k_needs_no_k_sized_scratch(description):
    # k = 2e7 needs 240 MB of output; before, each thread also reserved 2k candidates of 16 bytes.
    knobs = {"nprobe": 16} if "IVF" in description else {}
    setup = f"""
        x = np.random.default_rng(0).standard_normal((2000, {D})).astype('float32')
        index = sx.index_factory({D}, "{description}")
        index.train(x)
        index.add(x)
        index.search(x[:100], 10)  # the threads and their BLAS buffers exist before the limit
    """
    out = run_child(f"""
        D, I = index.search(x[:1], 20_000_000, **{knobs!r})
        found = int((I[0] >= 0).sum())
        assert found >= 1900 and (I[0, found:] == -1).all() and len(set(I[0, :found].tolist())) == found
        print("ok")
    """, memory_mib=900, setup=setup)
    assert out.strip() == "ok"


def test_allocation_failure_inside_threads_is_memory_error():
    # The hits of a range search grow inside the threads: a failed allocation there becomes
    # MemoryError (it used to end the process in std::terminate); the index stays usable.
    # The threads and their BLAS buffers exist before the limit: OpenBLAS waits forever for a
    # buffer it cannot map, and glibc aborts a thread it cannot give thread-local storage.
    setup = f"""
        x = np.random.default_rng(0).standard_normal((20000, {D})).astype('float32')
        index = sx.IndexFlatL2({D})
        index.add(x)
        index.range_search(x[:2000], 1e-3)
    """
    out = run_child("""
        try:
            index.range_search(x[:2000], 1e9)
            raise SystemExit("allocated")
        except MemoryError:
            pass
        assert index.search(x[:3], 1)[1][:, 0].tolist() == [0, 1, 2]
        print("ok")
    """, memory_mib=300, setup=setup)
    assert out.strip() == "ok"


@pytest.mark.parametrize("factory", ["HNSW16", "HNSW16,SQ8"])
def test_huge_ef_construction_allocates_nothing_huge(factory):
    setup = f"""
        x = np.random.default_rng(0).standard_normal((300, {D})).astype('float32')
        warm = sx.index_factory({D}, "{factory}")
        warm.train(x)
        warm.add(x)  # the threads exist before the limit
        index = sx.index_factory({D}, "{factory}")
        index.efConstruction = 2**30
        index.train(x)
    """
    out = run_child("""
        index.add(x[:100])
        index.add(x[100:])
        index.remove_ids(sx.IDSelectorRange(0, 10))
        assert index.ntotal == 290
        D, I = index.search(x[150:160], 1)
        assert (I[:, 0] == np.arange(140, 150)).all()
        print("ok")
    """, memory_mib=600, setup=setup)
    assert out.strip() == "ok"


# ---------------------------------------------------------------- training that overflowed or hung


def test_opq_and_pca_on_large_values(rng):
    # Squared norms near the limit: the covariance and cross-correlation sums over the rows
    # would overflow float (the SVD then looped forever); scaled, they train.
    x = rng.standard_normal((2000, 8)).astype("float32") * np.float32(1e17)
    for description in ["OPQ4,PQ4", "PCA4,Flat"]:
        out = run_child(f"""
            x = np.random.default_rng(1).standard_normal((2000, 8)).astype('float32') * np.float32(1e17)
            index = sx.index_factory(8, "{description}")
            if isinstance(index.chain[0], sx.OPQMatrix):
                index.chain[0].niter = 3
            index.train(x)
            A = index.chain[0].A
            assert np.isfinite(A).all()
            gram = A @ A.T
            if "{description}".startswith("OPQ"):
                assert np.abs(gram - np.eye(len(gram))).max() < 1e-3
            print("ok")
        """, timeout=60)
        assert out.strip() == "ok"
    with pytest.raises(ValueError, match="squared L2 norm"):
        sx.index_factory(8, "OPQ4,PQ4").train(x * np.float32(100))


def test_pca_needs_as_many_points_as_output_dimensions(rng):
    index = sx.index_factory(64, "PCA16,Flat")
    with pytest.raises(ValueError, match="at least 16 vectors"):
        index.train(rng.standard_normal((10, 64)).astype("float32"))
    index.train(rng.standard_normal((16, 64)).astype("float32"))


# ---------------------------------------------------------------- ids


@pytest.mark.parametrize("description", ["IDMap,Flat", "IDMap2,Flat", "IVF4,Flat", "IDMap,HNSW8"])
def test_negative_ids_are_refused(description, rng):
    x = rng.standard_normal((100, D)).astype("float32")
    index = sx.index_factory(D, description)
    index.train(x)
    for ids in ([-1] * 3, [0, 1, -5]):
        with pytest.raises(ValueError, match="ids must be >= 0"):
            index.add_with_ids(x[:3], np.array(ids))
    assert index.ntotal == 0
    index.add_with_ids(x[:3], np.array([0, 1, 2]))
    assert index.ntotal == 3


# ---------------------------------------------------------------- file names


def test_write_index_accepts_bytes_paths(tmp_path):
    index = sx.IndexFlatL2(4)
    index.add(np.eye(4, dtype="float32"))
    path = tmp_path / "rel.sxt"
    sx.write_index(index, os.fsencode(path))
    assert os.listdir(tmp_path) == ["rel.sxt"]
    assert sx.read_index(os.fsencode(path)).ntotal == 4
    odd = os.fsencode(tmp_path) + b"/caf\xe9.sxt"  # not UTF-8: still a valid file name
    sx.write_index(index, odd)
    assert sx.read_index(odd).ntotal == 4
    with pytest.raises(FileNotFoundError):
        sx.read_index(os.fsencode(tmp_path) + b"/missing\xff.sxt")


@pytest.mark.parametrize("length", [245, 250, 255])
def test_write_index_with_the_longest_file_names(tmp_path, length):
    index = sx.IndexFlatL2(4)
    index.add(np.eye(4, dtype="float32"))
    path = tmp_path / ("n" * (length - 4) + ".sxt")
    sx.write_index(index, path)
    assert sorted(os.listdir(tmp_path)) == [path.name]  # no temporary file left
    assert sx.read_index(path).ntotal == 4
    with pytest.raises(OSError):
        sx.write_index(index, tmp_path / ("n" * 256))


# ---------------------------------------------------------------- mapped files changed underneath


def test_reading_survives_a_file_rewritten_meanwhile(tmp_path):
    # Without mmap the file is read, not mapped: a rewrite in place (truncated, then written a
    # chunk at a time, as cp or np.save do) gives a torn copy that is refused, never a SIGBUS.
    # (Reading through a mapping died of SIGBUS in every run of this test.)
    rng = np.random.default_rng(0)
    index = sx.IndexFlatL2(128)
    index.add(rng.standard_normal((100000, 128)).astype("float32"))
    path = tmp_path / "flat.sxt"
    sx.write_index(index, path)
    data = path.read_bytes()
    chunk = len(data) // 8 + 1
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time, sextant as sx
        loaded = torn = 0
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            try:
                sx.read_index({str(path)!r})
                loaded += 1
            except (ValueError, OSError):
                torn += 1
        print(loaded, torn)
    """)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while child.poll() is None:
        with open(path, "r+b") as f:
            f.truncate(0)
            for i in range(0, len(data), chunk):
                f.write(data[i:i + chunk])
                f.flush()
                time.sleep(0.002)
        time.sleep(0.02)
    out, err = child.communicate()
    assert child.returncode == 0, err[-2000:]
    loaded, torn = map(int, out.split())
    assert loaded + torn > 0


@pytest.mark.parametrize("description", ["IVF4,Flat,RFlat", "IDMap,IVF4,Flat"])
def test_mapped_ids_changed_in_place_raise(tmp_path, rng, description):
    # Ids served from the mapping index another array (the refine rows, the id map): a file
    # modified in place after it was checked must raise there, not read out of bounds.
    x = rng.standard_normal((300, 8)).astype("float32")
    index = sx.index_factory(8, description)
    index.train(x)
    if description.startswith("IDMap"):
        index.add_with_ids(x, np.arange(300) * 3)
    else:
        index.add(x)
    path = tmp_path / "mapped.sxt"
    sx.write_index(index, path)
    out = run_child(f"""
        index = sx.read_index({str(path)!r}, mmap=True)
        data = open({str(path)!r}, 'rb').read()
        # The inverted lists' ids: 300 int64s, 64-byte aligned, a permutation of 0..299.
        for start in range(0, len(data) - 2400, 64):
            if sorted(np.frombuffer(data[start:start + 2400], dtype=np.int64).tolist()) == list(range(300)):
                break
        else:
            raise SystemExit("ids not found")
        with open({str(path)!r}, 'r+b') as f:
            f.seek(start)
            f.write(np.full(300, 10**12, dtype=np.int64).tobytes())
        x = np.random.default_rng(5).standard_normal((20, 8)).astype('float32')
        try:
            index.search(x, 5, nprobe=4)
            raise SystemExit("searched")
        except ValueError as e:
            assert "outside" in str(e), e
        print("ok")
    """)
    assert out.strip() == "ok"


def test_mapped_vectors_changed_to_nan_do_not_crash(tmp_path, rng):
    x = rng.standard_normal((1000, 8)).astype("float32")
    for description in ["Flat", "IVF4,Flat", "SQfp16"]:
        index = sx.index_factory(8, description)
        index.train(x)
        index.add(x)
        path = tmp_path / "mapped.sxt"
        sx.write_index(index, path)
        out = run_child(f"""
            index = sx.read_index({str(path)!r}, mmap=True)
            data = bytearray(open({str(path)!r}, 'rb').read())
            x = np.random.default_rng(5).standard_normal((50, 8)).astype('float32')
            with open({str(path)!r}, 'r+b') as f:  # NaN bytes over the second half of the file
                f.seek(len(data) // 2)
                f.write(b'\\xff' * (len(data) // 2 - 16))
            D, I = index.search(x, 10, **({{'nprobe': 4}} if 'IVF' in "{description}" else {{}}))
            assert not np.isnan(D).any()
            assert ((I >= -1) & (I < 1000)).all()
            print("ok")
        """)
        assert out.strip() == "ok", description


# ---------------------------------------------------------------- threads


@pytest.mark.parametrize("description", ["Flat", "HNSW16", "IVF8,Flat", "IDMap2,HNSW8"])
def test_add_and_remove_while_searching(description, rng):
    x = rng.standard_normal((4000, D)).astype("float32")
    index = sx.index_factory(D, description)
    index.train(x)
    with_ids = description.startswith("IDMap")
    stop = threading.Event()
    errors = []

    def searcher():
        try:
            while not stop.is_set():
                Dist, I = index.search(x[:8], 5)
                assert ((I >= -1) & (I < 4000)).all()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for t in threads:
        t.start()
    for i0 in range(0, 4000, 200):
        if with_ids:
            index.add_with_ids(x[i0:i0 + 200], np.arange(i0, i0 + 200))
        else:
            index.add(x[i0:i0 + 200])
        index.remove_ids(sx.IDSelectorRange(i0 // 2, i0 // 2 + 5))
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert index.ntotal > 3000
