"""sextant.faiss, Faiss's names for sextant: each function is called as Faiss code calls it,
on sextant and on the real faiss-cpu package, and the results compared. Where the two
would be built differently (k-means), sextant's index goes to faiss as a Faiss file, so
both search the same data structures."""
import subprocess
import sys

import numpy as np
import pytest

import sextant as sx
import sextant.faiss as F

faiss = pytest.importorskip("faiss")
faiss.omp_set_num_threads(1)

D = 16


def data(nb=2000, nq=40, seed=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((nb, D), dtype=np.float32), rng.standard_normal((nq, D), dtype=np.float32)


def pair(description, metric=F.METRIC_L2, ids=False):
    """A trained, filled sextant index and faiss's copy of it (through a Faiss file)."""
    xb, _ = data()
    ours = F.index_factory(D, description, metric)
    ours.train(xb)
    if ids:
        ours.add_with_ids(xb, np.arange(len(xb), dtype=np.int64) * 2 + 5)
    else:
        ours.add(xb)
    return ours, faiss.deserialize_index(F.serialize_index(ours))


def test_metrics_are_faiss_ints():
    assert (F.METRIC_L2, F.METRIC_INNER_PRODUCT) == (faiss.METRIC_L2, faiss.METRIC_INNER_PRODUCT) == (1, 0)
    assert sx.METRIC_INNER_PRODUCT == 0 and sx.METRIC_L2 == 1 and isinstance(sx.METRIC_L2, int)
    xb, xq = data()
    for metric in (0, 1):
        ours, theirs = F.IndexFlat(D, metric), faiss.IndexFlat(D, metric)
        assert ours.metric_type == theirs.metric_type == metric
        ours.add(xb)
        theirs.add(xb)
        np.testing.assert_array_equal(ours.search(xq, 5)[1], theirs.search(xq, 5)[1])
        assert F.index_factory(D, "HNSW8", metric).metric_type == faiss.index_factory(D, "HNSW8", metric).metric_type
    np.testing.assert_array_equal(F.knn(xq, xb, 5, 0)[1], faiss.knn(xq, xb, 5, 0)[1])
    np.testing.assert_allclose(F.pairwise_distances(xq, xb, 1), faiss.pairwise_distances(xq, xb, 1), rtol=1e-4,
                               atol=1e-3)
    with pytest.raises(ValueError, match="metric must be METRIC_L2 \\(1\\) or METRIC_INNER_PRODUCT \\(0\\), got 7"):
        F.IndexFlat(D, 7)
    with pytest.raises(ValueError, match="got 2"):
        F.knn(xq, xb, 5, 2)


def test_ivf_with_a_quantizer_of_another_metric_shows_the_spelling():
    """Faiss assigns with an L2 quantizer and scans by inner product; sextant asks for one metric."""
    xb, xq = data()
    faiss.IndexIVFFlat(faiss.IndexFlatL2(D), D, 8, faiss.METRIC_INNER_PRODUCT)  # accepted by Faiss
    with pytest.raises(ValueError, match=r"IndexIVFFlat\(IndexFlatIP\(d\), d, nlist, METRIC_INNER_PRODUCT\)"):
        F.IndexIVFFlat(F.IndexFlatL2(D), D, 8, F.METRIC_INNER_PRODUCT)
    # The spelling it shows gives Faiss's results, given the same centroids.
    theirs = faiss.IndexIVFFlat(faiss.IndexFlatIP(D), D, 8, faiss.METRIC_INNER_PRODUCT)
    theirs.train(xb)
    quantizer = F.IndexFlatIP(D)
    quantizer.add(theirs.quantizer.reconstruct_n(0, 8))
    ours = F.IndexIVFFlat(quantizer, D, 8, F.METRIC_INNER_PRODUCT)
    assert ours.is_trained
    ours.add(xb)
    theirs.add(xb)
    ours.nprobe = theirs.nprobe = 2
    np.testing.assert_array_equal(ours.search(xq, 10)[1], theirs.search(xq, 10)[1])


@pytest.mark.parametrize("description", ["Flat", "HNSW8", "IVF8,Flat", "IVF8,PQ4", "IVF8,SQ8", "PQ4", "SQ8",
                                         "IDMap2,Flat", "PCA8,Flat", "IVF8,PQ4,RFlat"])
def test_downcast_index_gives_faiss_types(description):
    assert (type(F.downcast_index(F.index_factory(D, description))).__name__ ==
            type(faiss.downcast_index(faiss.index_factory(D, description))).__name__)


def test_extract_index_ivf():
    for description in ("IVF8,Flat", "IDMap,IVF8,Flat", "PCA8,IVF8,Flat", "IVF8,PQ4,RFlat"):
        ours, theirs = pair(description, ids=description.startswith("IDMap"))
        assert (type(F.extract_index_ivf(ours)).__name__ ==
                type(faiss.downcast_index(faiss.extract_index_ivf(theirs))).__name__)
        assert F.extract_index_ivf(ours).nlist == faiss.extract_index_ivf(theirs).nlist == 8
    flat = F.IndexFlatL2(D)
    assert F.try_extract_index_ivf(flat) is None and faiss.try_extract_index_ivf(faiss.IndexFlatL2(D)) is None
    with pytest.raises(ValueError, match="holds no IndexIVF"):
        F.extract_index_ivf(flat)


@pytest.mark.parametrize("description,ids,parameters", [
    ("IVF8,Flat", False, "nprobe=3"),
    ("IDMap,IVF8,Flat", True, "nprobe=5"),
    ("PCA8,IVF8,Flat", False, "nprobe=4"),
    ("IVF8,PQ4,RFlat", False, "nprobe=4,k_factor_rf=3"),
    ("IVF8_HNSW4,Flat", False, "nprobe=6 quantizer_efSearch=4"),
    ("IVF8_HNSW4,Flat", False, "nprobe=6,efSearch=8"),
    ("IVF8,Flat", False, "nprobe=2,max_codes=300"),
    ("HNSW8", False, "efSearch=20"),
])
def test_parameter_space_sets_what_faiss_sets(description, ids, parameters):
    ours, theirs = pair(description, ids=ids)
    _, xq = data()
    F.ParameterSpace().set_index_parameters(ours, parameters)
    faiss.ParameterSpace().set_index_parameters(theirs, parameters)
    ivf = F.try_extract_index_ivf(ours)
    graph = ivf.quantizer if ivf is not None and isinstance(ivf.quantizer, F.IndexHNSW) else ours
    if ivf is not None:
        their_ivf = faiss.extract_index_ivf(theirs)
        assert ivf.nprobe == their_ivf.nprobe and ivf.max_codes == their_ivf.max_codes
        their_graph = faiss.downcast_index(their_ivf.quantizer)
    else:
        their_graph = faiss.downcast_index(theirs)
    if isinstance(graph, F.IndexHNSW):  # the same graph and efSearch, walked alike (not bit for bit)
        assert graph.efSearch == their_graph.hnsw.efSearch
        overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ours.search(xq, 10)[1], theirs.search(xq, 10)[1])])
        assert overlap >= 0.95
    else:
        np.testing.assert_array_equal(ours.search(xq, 10)[1], theirs.search(xq, 10)[1])
    if isinstance(ours, F.IndexRefine):
        assert ours.k_factor == faiss.downcast_index(theirs).k_factor == 3
    with pytest.raises(ValueError, match="could not set parameter 'ht'"):
        F.ParameterSpace().set_index_parameter(ours, "ht", 12)
    with pytest.raises(ValueError, match="could not interpret"):
        F.ParameterSpace().set_index_parameters(ours, "nprobe:3")


def test_hnsw_view_reads_and_writes_the_index():
    ours, theirs = pair("HNSW8")
    assert ours.hnsw.max_level == faiss.downcast_index(theirs).hnsw.max_level >= 1
    assert ours.hnsw.entry_point == faiss.downcast_index(theirs).hnsw.entry_point
    assert ours.hnsw.efSearch == faiss.downcast_index(theirs).hnsw.efSearch == ours.efSearch
    view = ours.hnsw
    view.efSearch, view.efConstruction = 48, 80
    assert (ours.efSearch, ours.efConstruction) == (48, 80)
    _, xq = data()
    np.testing.assert_array_equal(ours.search(xq, 10)[1], ours.search(xq, 10, efSearch=48)[1])
    with pytest.raises(ValueError, match="efSearch must be > 0"):
        view.efSearch = 0
    del ours
    assert view.efSearch == 48  # the view keeps its index alive


def test_threads_gpus_and_io_flags(tmp_path):
    before = F.omp_get_max_threads()
    F.omp_set_num_threads(1)
    assert F.omp_get_max_threads() == sx.get_num_threads() == 1
    F.omp_set_num_threads(before)
    assert F.get_num_gpus() == sx.gpu.device_count()
    assert faiss.get_num_gpus() == 0 and isinstance(F.get_num_gpus(), int)
    for name in ("IO_FLAG_MMAP", "IO_FLAG_READ_ONLY", "IO_FLAG_MMAP_IFC", "IO_FLAG_SKIP_STORAGE",
                 "IO_FLAG_SKIP_IVF_DATA", "IO_FLAG_SKIP_PRECOMPUTE_TABLE", "IO_FLAG_ONDISK_SAME_DIR",
                 "IO_FLAG_PQ_SKIP_SDC_TABLE"):
        assert getattr(F, name) == getattr(faiss, name), name
    ours, _ = pair("IVF8,Flat")
    path = str(tmp_path / "ivf.faiss")
    F.write_index(ours, path)
    _, xq = data()
    expect = faiss.read_index(path).search(xq, 10)[1]
    sextant_path = str(tmp_path / "ivf.sxt")
    sx.write_index(ours, sextant_path)
    for flags in (0, F.IO_FLAG_MMAP, F.IO_FLAG_READ_ONLY, F.IO_FLAG_MMAP | F.IO_FLAG_SKIP_PRECOMPUTE_TABLE):
        np.testing.assert_array_equal(F.read_index(path, flags).search(xq, 10)[1], expect)
        index = F.read_index(sextant_path, flags)
        np.testing.assert_array_equal(index.search(xq, 10)[1], expect)
        if flags:  # served from the mapping: read-only
            with pytest.raises(ValueError, match="read-only"):
                index.add(xq)
    with pytest.raises(ValueError, match="io_flags 0x1 include flags sextant does not support"):
        F.read_index(path, F.IO_FLAG_SKIP_STORAGE)


def test_search_parameters_follow_faiss_defaults():
    """Faiss's parameter objects carry their own defaults (nprobe=1, efSearch=16), which a search
    uses instead of the index's."""
    xb, xq = data()
    ours, theirs = pair("IVF8,Flat")
    ours.nprobe = theirs.nprobe = 8
    sel_ours, sel_theirs = F.IDSelectorRange(0, 1000), faiss.IDSelectorRange(0, 1000)
    for make in (lambda F_, sel: F_.SearchParametersIVF(sel=sel),
                 lambda F_, sel: F_.SearchParametersIVF(sel=sel, nprobe=3),
                 lambda F_, sel: F_.SearchParametersIVF(nprobe=2, max_codes=200)):
        I_ours = ours.search(xq, 10, params=make(F, sel_ours))[1]
        np.testing.assert_array_equal(I_ours, theirs.search(xq, 10, params=make(faiss, sel_theirs))[1])
    p = F.SearchParametersIVF()
    assert (p.nprobe, p.max_codes, p.sel) == (1, 0, None)
    p.nprobe = 4
    np.testing.assert_array_equal(ours.search(xq, 10, params=p)[1], ours.search(xq, 10, nprobe=4)[1])

    flat_ours, flat_theirs = pair("Flat")
    batch = np.arange(0, 2000, 7)
    np.testing.assert_array_equal(
        flat_ours.search(xq, 10, params=F.SearchParameters(sel=F.IDSelectorBatch(batch)))[1],
        flat_theirs.search(xq, 10, params=faiss.SearchParameters(sel=faiss.IDSelectorBatch(batch)))[1])

    hnsw_ours, hnsw_theirs = pair("HNSW8")
    hnsw_ours.efSearch = faiss.downcast_index(hnsw_theirs).hnsw.efSearch = 200
    assert F.SearchParametersHNSW().efSearch == faiss.SearchParametersHNSW().efSearch == 16
    np.testing.assert_array_equal(hnsw_ours.search(xq, 10, params=F.SearchParametersHNSW())[1],
                                  hnsw_ours.search(xq, 10, efSearch=16)[1])
    # With a pool the size of the index both are exact, filter included.
    exact = F.knn(xq, xb[:1000], 10)[1]
    np.testing.assert_array_equal(
        hnsw_ours.search(xq, 10, params=F.SearchParametersHNSW(efSearch=2000, sel=sel_ours))[1], exact)
    np.testing.assert_array_equal(
        hnsw_theirs.search(xq, 10, params=faiss.SearchParametersHNSW(efSearch=2000, sel=sel_theirs))[1], exact)

    ivf_hnsw, _ = pair("IVF8_HNSW4,Flat")
    quantizer = F.SearchParametersIVF(nprobe=3, quantizer_params=F.SearchParametersHNSW(efSearch=5))
    np.testing.assert_array_equal(ivf_hnsw.search(xq, 10, params=quantizer)[1],
                                  ivf_hnsw.search(xq, 10, nprobe=3, efSearch=5)[1])
    with pytest.raises(TypeError, match="SearchParametersHNSW has no parameter 'nprobe'"):
        F.SearchParametersHNSW(nprobe=3)
    with pytest.raises(ValueError, match="quantizer_params takes a SearchParametersHNSW"):
        F.SearchParametersIVF(quantizer_params=F.SearchParametersIVF())


def test_files_clones_and_arrays(tmp_path):
    ours, theirs = pair("IDMap2,Flat", ids=True)
    np.testing.assert_array_equal(F.vector_to_array(ours.id_map), faiss.vector_to_array(theirs.id_map))
    ids = F.vector_to_array(ours.id_map)
    ids[0] = -5  # a copy
    assert ours.id_map[0] == 5
    with pytest.raises(TypeError, match="vector_to_array"):
        F.vector_to_array(ours)
    assert not hasattr(F, "swig_ptr")
    _, xq = data()
    clone = F.clone_index(ours)
    ours.remove_ids(np.arange(5, 100, dtype=np.int64))
    assert clone.ntotal == 2000 and ours.ntotal < 2000
    path = str(tmp_path / "index.faiss")
    F.write_index(clone, path)
    np.testing.assert_array_equal(faiss.read_index(path).search(xq, 10)[1], theirs.search(xq, 10)[1])
    x = np.array(xq)
    y = np.array(xq)
    F.normalize_L2(x)
    faiss.normalize_L2(y)
    np.testing.assert_allclose(x, y, rtol=1e-6)
    km_ours, km_theirs = F.Kmeans(D, 4, niter=5, seed=1), faiss.Kmeans(D, 4, niter=5, seed=1)
    xb, _ = data()
    km_ours.train(xb)
    km_theirs.train(xb)
    assert km_ours.centroids.shape == km_theirs.centroids.shape == (4, D)


def test_merge_knn_results_as_faiss():
    rng = np.random.default_rng(5)
    for keep_max in (False, True):
        Dall = np.sort(rng.standard_normal((3, 20, 6)).astype(np.float32), axis=2)
        if keep_max:
            Dall = Dall[:, :, ::-1].copy()
        Iall = rng.integers(0, 1000, (3, 20, 6)).astype(np.int64)
        D_ours, I_ours = F.merge_knn_results(Dall, Iall, keep_max)
        D_theirs, I_theirs = faiss.merge_knn_results(Dall, Iall, keep_max)
        np.testing.assert_array_equal(D_ours, D_theirs)
        np.testing.assert_array_equal(I_ours, I_theirs)


def test_install_as_faiss():
    code = ("import sextant, sys; module = sextant.install_as_faiss(); import faiss; "
            "assert faiss is module is sys.modules['faiss'] and faiss.IndexFlatL2 is sextant.IndexFlatL2; "
            "assert sextant.faiss is module; print(faiss.METRIC_INNER_PRODUCT)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "0", done.stderr


merge_from = pytest.mark.skipif(not hasattr(sx.IndexFlat, "merge_from"), reason="IndexFlat.merge_from not built")


@merge_from
def test_merge_from_flat_and_id_maps_as_faiss():
    xb, xq = data()
    for make in (lambda m: m.IndexFlatL2(D), lambda m: m.IndexFlatIP(D)):
        a, b, fa, fb = make(F), make(F), make(faiss), make(faiss)
        for ours, theirs, part in ((a, fa, xb[:1200]), (b, fb, xb[1200:])):
            ours.add(part)
            theirs.add(part)
        a.merge_from(b)
        fa.merge_from(fb)
        assert a.ntotal == fa.ntotal == 2000 and b.ntotal == fb.ntotal == 0
        np.testing.assert_array_equal(a.search(xq, 10)[1], fa.search(xq, 10)[1])
    for cls in ("IndexIDMap", "IndexIDMap2"):
        maps = [getattr(m, cls)(m.IndexFlatL2(D)) for m in (F, F, faiss, faiss)]
        ids = np.arange(2000, dtype=np.int64) * 3
        for index, lo, hi in ((maps[0], 0, 1000), (maps[1], 1000, 2000), (maps[2], 0, 1000), (maps[3], 1000, 2000)):
            index.add_with_ids(xb[lo:hi], ids[lo:hi])
        maps[0].merge_from(maps[1], 7)
        maps[2].merge_from(maps[3], 7)
        np.testing.assert_array_equal(F.vector_to_array(maps[0].id_map), faiss.vector_to_array(maps[2].id_map))
        np.testing.assert_array_equal(maps[0].search(xq, 10)[1], maps[2].search(xq, 10)[1])
        assert maps[1].ntotal == maps[3].ntotal == 0
