"""Threads: the caller sets them; results do not depend on them; searches may run concurrently."""
import threading

import numpy as np

import sextant as sx


def test_set_num_threads_round_trip():
    saved = sx.get_num_threads()
    try:
        sx.set_num_threads(1)
        assert sx.get_num_threads() == 1
        sx.set_num_threads(3)
        assert sx.get_num_threads() == 3
    finally:
        sx.set_num_threads(saved)


def test_same_results_for_any_thread_count(rng):
    xb = rng.standard_normal((20000, 24), dtype=np.float32)
    xq = rng.standard_normal((50, 24), dtype=np.float32)
    index = sx.IndexFlatL2(24)
    index.add(xb)
    saved = sx.get_num_threads()
    try:
        results = []
        for t in (1, 2, 4):
            sx.set_num_threads(t)
            results.append(index.search(xq, 10))
    finally:
        sx.set_num_threads(saved)
    for D, I in results[1:]:
        np.testing.assert_array_equal(I, results[0][1])
        np.testing.assert_allclose(D, results[0][0], rtol=1e-5)


def test_concurrent_searches_from_python_threads(rng):
    """The GIL is released during search and searches never modify the index."""
    xb = rng.standard_normal((5000, 16), dtype=np.float32)
    index = sx.IndexFlatL2(16)
    index.add(xb)
    queries = [rng.standard_normal((30, 16), dtype=np.float32) for _ in range(8)]
    expected = [index.search(q, 5)[1] for q in queries]
    got = [None] * 8

    def work(i):
        for _ in range(5):
            got[i] = index.search(queries[i], 5)[1]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(e, g)


def test_build_info_and_simd_level():
    info = sx.build_info()
    assert info["simd_level"] == sx.simd_level() in ("scalar", "avx2", "avx512", "avx512icl")
    assert sx.simd_level() in info["simd_levels_available"]
    assert info["version"] == sx.__version__
