"""The `sextant` command: build, search, inspect and benchmark index files.

    sextant build --factory "IVF1024,SQ8" --input base.fvecs -o index.sxt
    sextant search index.sxt --queries queries.npy -k 10 --nprobe 16 -o labels.npy
    sextant info index.sxt              # also for files written by Faiss
    sextant convert index.sxt --to faiss -o index.faiss   # a file faiss.read_index reads
    sextant bench index.sxt --queries queries.npy --gt groundtruth.ivecs --nprobe 1,4,16
    sextant build --factory "IVF4096,PQ32" --input base.npy --shards 8 --ray auto -o index/   # on Ray
    sextant search index/manifest.json --queries queries.npy --ray auto     # every shard, merged

Vectors come from .npy (any real dtype), .fvecs or .bvecs files, read memory-mapped and
processed in chunks. Errors are printed as one line saying what to change; --debug shows
the traceback instead.
"""

import argparse
import os
import sys
import time

import numpy as np

from . import _sextant as core
from . import recipes

try:  # installed package: sextant.contrib
    from .contrib import datasets, evaluation
    from .contrib.progress import Progress
except ImportError:  # pragma: no cover - a build tree without contrib next to the module
    from contrib import datasets, evaluation
    from contrib.progress import Progress

CHUNK = 65536  # vectors converted and added at a time: bounds the float32 copies of the input
INT64_MAX = 2**63 - 1


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


# --------------------------------------------------------------------------- input and output


def read_vectors(path, what):
    """A (n, d) array from .npy, .fvecs or .bvecs, memory-mapped (not yet converted to float32)."""
    if not os.path.exists(path):
        raise CliError(f"{what} file {path!r} does not exist")
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext == ".npy":
            x = datasets.read_npy(path)
        elif ext == ".fvecs":
            x = datasets.read_fvecs(path)
        elif ext == ".bvecs":
            x = datasets.read_bvecs(path)
        elif ext == ".ivecs":
            x = datasets.read_ivecs(path)
        else:
            raise CliError(f"{what} file {path!r}: unsupported extension {ext!r}; use .npy, .fvecs or .bvecs")
    except (ValueError, OSError) as e:
        raise CliError(f"cannot read {what} file {path!r}: {e}") from e
    if x.ndim != 2:
        raise CliError(f"{what} file {path!r} holds an array of shape {x.shape}; expected (n, d) vectors")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise CliError(f"{what} file {path!r} holds {x.dtype} values; expected numbers")
    return x


def as_float32(x):
    return np.ascontiguousarray(x, dtype=np.float32)


def note(args, message):
    if not args.quiet:
        print(message, file=sys.stderr, flush=True)


def metric_of(name):
    return core.METRIC_L2 if name == "l2" else core.METRIC_INNER_PRODUCT


def search_knobs(args):
    knobs = {}
    if getattr(args, "nprobe", None) is not None:
        knobs["nprobe"] = args.nprobe
    if getattr(args, "ef", None) is not None:
        knobs["efSearch"] = args.ef
    return knobs


def is_manifest(path):
    """A sharded index: its manifest, or the directory holding it."""
    return path.endswith(".json") or os.path.isfile(os.path.join(path, "manifest.json"))


def connect_ray(args):
    """sextant.distributed, on the cluster --ray names (default: a Ray instance started here)."""
    try:
        import ray

        from . import distributed
    except ImportError as e:
        raise CliError(f'sharded indexes need Ray: pip install "ray[data]" ({e})') from e
    if not ray.is_initialized():
        ray.init(address=args.ray if args.ray != "local" else None, log_to_driver=False,
                 **({"include_dashboard": False} if args.ray == "local" else {}))
    return distributed


def open_index(path, mmap=False, args=None):
    """A sextant or Faiss index file, or (with args, from `search` and `bench`) a sharded index's manifest."""
    if not os.path.exists(path):
        raise CliError(f"index file {path!r} does not exist")
    if args is not None and is_manifest(path):
        distributed = connect_ray(args)
        manifest = distributed.Manifest.read(path)
        cpus = args.cpus
        if cpus is None:  # the cluster's CPUs shared by the actors, one at most each
            import ray

            cpus = min(1.0, ray.cluster_resources().get("CPU", 1) / (len(manifest.shards) * args.replicas))
        return distributed.ShardedIndex.open(manifest, replicas=args.replicas, num_cpus=cpus, mmap=True)
    if os.path.isdir(path):
        raise CliError(f"{path!r} is a directory without a manifest.json (not a sharded index)")
    return core.read_index(path, mmap=mmap)


# --------------------------------------------------------------------------- build


def inner_ivf(index):
    """The IndexIVF an index is or wraps (id map, pre-transform, refine), or None."""
    while index is not None and not isinstance(index, core.IndexIVF):
        index = getattr(index, "index", None) or getattr(index, "base_index", None)
    return index


def cmd_build_sharded(args):
    if args.train:
        raise CliError("--train is not used with --shards: the build trains on a sample of the input (--max-train)")
    distributed = connect_ray(args)
    note(args, f"building {args.factory} as {args.shards} shards on Ray, metric={args.metric}")
    manifest = distributed.build([args.input], args.factory, shards=args.shards, out_dir=args.output,
                                 metric=args.metric, train_sample=args.max_train or None, num_cpus=args.cpus,
                                 overwrite=args.overwrite, progress=False if args.quiet else None)
    note(args, f"wrote {manifest.path}: {manifest.ntotal:,} vectors in {len(manifest.shards)} shards, "
               f"{sum(s['bytes'] for s in manifest.shards):,} bytes, {manifest.data['build']['seconds']:.1f} s")


def cmd_build(args):
    if args.factory is None:
        n, d = read_vectors(args.input, "input").shape  # memory-mapped: only the shape is read here
        args.factory = recipes.default_factory(n, d, args.metric)
        note(args, f"no --factory given: {args.factory} for {n:,} vectors of dimension {d} (docs/choosing.md)")
    if args.shards is not None:
        return cmd_build_sharded(args)
    if args.ray != "local":
        raise CliError("--ray builds a sharded index: give --shards N too")
    xb = read_vectors(args.input, "input")
    n, d = xb.shape
    try:
        index = core.index_factory(d, args.factory, metric_of(args.metric))
    except ValueError as e:
        raise CliError(str(e)) from e
    note(args, f"building {core.describe(index)} ({type(index).__name__}), d={d}, metric={args.metric}")
    if not index.is_trained:
        xt = read_vectors(args.train, "training") if args.train else xb
        if xt.shape[1] != d:
            raise CliError(f"training vectors have dimension {xt.shape[1]}, the input has {d}")
        if args.max_train and len(xt) > args.max_train:
            rows = np.sort(np.random.default_rng(0).choice(len(xt), args.max_train, replace=False))
            xt = xt[rows]
        note(args, f"training on {len(xt):,} vectors")
        ivf = inner_ivf(index)
        if ivf is not None and not args.quiet:
            ivf.cp.verbose = True  # k-means draws its iterations on a terminal
        start = time.perf_counter()
        index.train(as_float32(xt))
        note(args, f"training: done in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    progress = Progress(f"adding {n:,} vectors", n, enabled=False if args.quiet else None)
    needs_ids = type(index).__name__.startswith("IndexIDMap")
    for i0 in range(0, n, CHUNK):
        chunk = as_float32(xb[i0:i0 + CHUNK])
        if needs_ids:
            index.add_with_ids(chunk, np.arange(i0, i0 + len(chunk), dtype=np.int64))
        else:
            index.add(chunk)
        progress.update(len(chunk))
    progress.close()
    note(args, f"adding {n:,} vectors: done in {time.perf_counter() - start:.1f} s")
    core.write_index(index, args.output)
    note(args, f"wrote {args.output} ({os.path.getsize(args.output):,} bytes, {index.ntotal:,} vectors)")


# --------------------------------------------------------------------------- search


def check_queries(xq, index, path):
    if xq.shape[1] != index.d:
        raise CliError(f"queries in {path!r} have dimension {xq.shape[1]}, the index has d={index.d}")


def run_search(index, xq, k, knobs, quiet=True):
    nq = len(xq)
    D = np.empty((nq, k), dtype=np.float32)
    I = np.empty((nq, k), dtype=np.int64)
    progress = Progress(f"searching {nq:,} queries", nq, enabled=False if quiet or nq <= CHUNK else None)
    for i0 in range(0, nq, CHUNK):
        D[i0:i0 + CHUNK], I[i0:i0 + CHUNK] = index.search(as_float32(xq[i0:i0 + CHUNK]), k, **knobs)
        progress.update(min(CHUNK, nq - i0))
    progress.close()
    return D, I


def cmd_search(args):
    index = open_index(args.index, args.mmap, args)
    xq = read_vectors(args.queries, "query")
    check_queries(xq, index, args.queries)
    D, I = run_search(index, xq, args.k, search_knobs(args), args.quiet)
    if args.output:
        np.save(args.output, I)
        note(args, f"wrote labels {I.shape} to {args.output}")
    if args.distances:
        np.save(args.distances, D)
        note(args, f"wrote distances {D.shape} to {args.distances}")
    if not args.output and not args.distances:
        for q in range(len(xq)):
            print(f"{q}: " + " ".join(f"{i}:{dist:.6g}" for i, dist in zip(I[q], D[q])))


# --------------------------------------------------------------------------- info


def file_format(path):
    with open(path, "rb") as f:
        head = f.read(12)
    if head[:8] == b"SEXTANT\0":
        return f"sextant index file, format version {int.from_bytes(head[8:12], 'little')}"
    return f"Faiss index file ({head[:4].decode('ascii', 'replace')})"


def describe_tree(index, indent=""):
    """One line per index object, nested objects indented under their parent."""
    name = type(index).__name__
    fields = [f"d={index.d}", f"ntotal={index.ntotal:,}",
              "L2" if index.metric_type == core.METRIC_L2 else "inner product"]
    if not index.is_trained:
        fields.append("untrained")
    if isinstance(index, core.IndexIVF):
        fields += [f"nlist={index.nlist}", f"nprobe={index.nprobe}", f"code_size={index.code_size}",
                   f"by_residual={index.by_residual}", f"imbalance={index.imbalance_factor():.2f}"]
        if index.max_codes:
            fields.append(f"max_codes={index.max_codes}")
    if isinstance(index, (core.IndexPQ, core.IndexIVFPQ)):
        fields += [f"PQ M={index.pq.M}", f"nbits={index.pq.nbits}"]
    if isinstance(index, (core.IndexScalarQuantizer, core.IndexIVFScalarQuantizer)):
        fields.append(f"qtype={index.sq.qtype.name}")
    if isinstance(index, core.IndexRefine):
        fields.append(f"k_factor={index.k_factor:g}")
    lines = [f"{indent}{name}: " + ", ".join(fields)]
    children = []
    if isinstance(index, core.IndexIVF):
        children.append(("quantizer", index.quantizer))
    if isinstance(index, core.IndexIDMap):
        children.append(("index", index.index))
    if isinstance(index, core.IndexRefine):
        children += [("base", index.base_index), ("refine", index.refine_index)]
    for role, child in children:
        sub = describe_tree(child, indent + "    ")
        sub[0] = f"{indent}  {role}: {sub[0].lstrip()}"
        lines += sub
    return lines


def manifest_info(path):
    from .distributed.manifest import Manifest

    manifest = Manifest.read(path)
    print(f"manifest: {manifest.path}")
    print(f"format: sharded sextant index, {len(manifest.shards)} shards")
    print(f"factory: {manifest.factory}, metric {manifest.metric}")
    print(f"vectors: {manifest.ntotal:,} of dimension {manifest.d}")
    for s, shard in enumerate(manifest.shards):
        state = "ok"
        try:
            manifest.check_shard_file(s)
        except ValueError as e:
            state = str(e)
        print(f"  shard {s}: {shard['file']}, ids {shard['id_offset']:,}..{shard['id_offset'] + shard['ntotal'] - 1:,}, "
              f"{shard['bytes']:,} bytes: {state}")


def cmd_info(args):
    if is_manifest(args.index):
        return manifest_info(args.index)
    index = open_index(args.index, mmap=True)  # mapped: info on a large file reads little
    print(f"file: {args.index} ({os.path.getsize(args.index):,} bytes)")
    print(f"format: {file_format(args.index)}")
    try:
        print(f"factory: {core.describe(index)}")
    except ValueError:
        pass
    print(f"vectors: {index.ntotal:,} of dimension {index.d}")
    print("structure:")
    for line in describe_tree(index, "  "):
        print(line)


# --------------------------------------------------------------------------- convert


def cmd_convert(args):
    index = open_index(args.index)
    core.write_index(index, args.output, format=args.to)
    note(args, f"wrote {args.output} ({os.path.getsize(args.output):,} bytes, {args.to} format, "
               f"{type(index).__name__}, {index.ntotal:,} vectors)")


# --------------------------------------------------------------------------- bench


def positive_int(text):
    """argparse type: an integer in [1, 2^63 - 1] (what the library's knobs hold)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 1 <= value <= INT64_MAX:
        raise argparse.ArgumentTypeError(f"must be in [1, 2^63 - 1], got {text}")
    return value


def parse_list(text, name):
    try:
        values = [positive_int(v) for v in text.split(",") if v.strip()]
    except argparse.ArgumentTypeError as e:
        raise CliError(f"--{name} takes comma-separated integers >= 1: {e}") from None
    if not values:
        raise CliError(f"--{name} values must be >= 1, got {text!r}")
    return values


def cmd_bench(args):
    index = open_index(args.index, args.mmap, args)
    xq = read_vectors(args.queries, "query")
    check_queries(xq, index, args.queries)
    if args.gt:
        gt = read_vectors(args.gt, "ground-truth")
        if len(gt) != len(xq):
            raise CliError(f"ground truth {args.gt!r} has {len(gt)} rows for {len(xq)} queries")
    elif args.base:
        note(args, "computing the exact ground truth")
        _, gt = evaluation.ground_truth(read_vectors(args.base, "base"), xq, args.k,
                                        "l2" if index.metric_type == core.METRIC_L2 else "ip")
    else:
        raise CliError("bench needs --gt (ground-truth ids: .npy or .ivecs) or --base (to compute it)")
    if gt.shape[1] < args.k:
        raise CliError(f"the ground truth has {gt.shape[1]} neighbours per query; -k {args.k} needs at least {args.k}")
    settings = [{}]
    if args.nprobe:
        settings = [{"nprobe": v} for v in parse_list(args.nprobe, "nprobe")]
    if args.ef:
        settings = [{**s, "efSearch": v} for s in settings for v in parse_list(args.ef, "ef")]
    print(f"{'setting':<24} {'recall@' + str(args.k):>10} {'QPS':>12} {'ms/query':>10}")
    xq32 = as_float32(xq)
    for knobs in settings:
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            _, I = run_search(index, xq32, args.k, knobs)
            best = min(best, time.perf_counter() - start)
        recall = evaluation.recall_at(I, gt, args.k)
        label = ",".join(f"{k}={v}" for k, v in knobs.items()) or "default"
        print(f"{label:<24} {recall:>10.4f} {len(xq) / best:>12,.0f} {1000 * best / len(xq):>10.3f}", flush=True)


# --------------------------------------------------------------------------- main


def add_ray_arguments(p, replicas=True):
    p.add_argument("--ray", nargs="?", const="auto", default="local", metavar="ADDRESS",
                   help="the Ray cluster of a sharded index: its address, or 'auto' (RAY_ADDRESS, or the cluster "
                        "started on this machine) when given alone; default: a Ray instance started here")
    if replicas:
        p.add_argument("--replicas", type=positive_int, default=1,
                       help="sharded index: Ray actors serving each shard (default 1)")
        p.add_argument("--cpus", type=float, help="sharded index: CPUs of each actor (default: the cluster's "
                       "CPUs shared by the actors, at most 1 each)")


class OneLineParser(argparse.ArgumentParser):
    """Argument errors as one line (no usage block), like every other error of the command."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def parser():
    p = OneLineParser(prog="sextant", description="Build, search, inspect and benchmark sextant indexes.")
    p.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no messages (progress bars show only on a terminal anyway)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="build an index from vectors and write it")
    b.add_argument("--factory", help='index description, e.g. "IVF1024,SQ8" or "HNSW32,Flat" (default: chosen '
                                      'from the number of vectors, see docs/choosing.md: Flat, HNSW32, or '
                                      'IVF<n>,PQ<m>,Refine(SQ8))')
    b.add_argument("--input", required=True, help="vectors to add (.npy, .fvecs, .bvecs)")
    b.add_argument("--train", help="training vectors (default: the input)")
    b.add_argument("--max-train", type=positive_int, help="train on a random sample of at most this many vectors")
    b.add_argument("--metric", choices=["l2", "ip"], default="l2", help="distance (default l2)")
    b.add_argument("-o", "--output", required=True, help="index file to write (with --shards: a directory)")
    b.add_argument("--shards", type=positive_int, help="build a sharded index on Ray: this many shard files and a "
                   "manifest in the --output directory")
    b.add_argument("--cpus", type=positive_int, default=1, help="with --shards: CPUs of each shard's task (default 1)")
    b.add_argument("--overwrite", action="store_true", help="with --shards: replace a sharded index there")
    add_ray_arguments(b, replicas=False)
    b.set_defaults(run=cmd_build)

    s = sub.add_parser("search", help="search an index for the nearest neighbours of queries")
    s.add_argument("index")
    s.add_argument("--queries", required=True, help="query vectors (.npy, .fvecs, .bvecs)")
    s.add_argument("-k", type=positive_int, default=10, help="neighbours per query (default 10)")
    s.add_argument("--nprobe", type=positive_int, help="IVF: lists to scan per query")
    s.add_argument("--ef", type=positive_int, help="HNSW: efSearch")
    s.add_argument("--mmap", action="store_true", help="map the index file instead of reading it")
    s.add_argument("-o", "--output", help="write the labels (int64, nq x k) to this .npy file")
    s.add_argument("--distances", help="write the distances (float32, nq x k) to this .npy file")
    add_ray_arguments(s)
    s.set_defaults(run=cmd_search)

    i = sub.add_parser("info", help="describe an index file (sextant or Faiss)")
    i.add_argument("index")
    i.set_defaults(run=cmd_info)

    c = sub.add_parser("convert", help="rewrite an index file in sextant's or Faiss's format")
    c.add_argument("index", help="index file to read (sextant or Faiss)")
    c.add_argument("-o", "--output", required=True, help="index file to write")
    c.add_argument("--to", choices=["sextant", "faiss"], required=True,
                   help="format to write: faiss makes a file faiss.read_index reads")
    c.set_defaults(run=cmd_convert)

    r = sub.add_parser("bench", help="recall and queries per second against ground truth")
    r.add_argument("index")
    r.add_argument("--queries", required=True, help="query vectors (.npy, .fvecs, .bvecs)")
    r.add_argument("--gt", help="ground-truth ids, nq x >=k (.npy or .ivecs)")
    r.add_argument("--base", help="base vectors, to compute the ground truth when --gt is not given")
    r.add_argument("-k", type=positive_int, default=10, help="recall@k (default 10)")
    r.add_argument("--nprobe", help="comma-separated nprobe values to sweep")
    r.add_argument("--ef", help="comma-separated efSearch values to sweep")
    r.add_argument("--repeat", type=positive_int, default=3,
                   help="timed runs per setting; the best counts (default 3)")
    r.add_argument("--mmap", action="store_true", help="map the index file instead of reading it")
    add_ray_arguments(r)
    r.set_defaults(run=cmd_bench)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except (CliError, ValueError, OSError, TypeError, OverflowError, MemoryError) as e:
        if args.debug:
            raise
        message = str(e)
        if isinstance(e, OSError) and e.strerror:  # sextant's OSErrors already name the path
            named = e.filename is None or str(e.filename) in e.strerror
            message = e.strerror if named else f"{e.strerror}: {e.filename}"
        if isinstance(e, MemoryError):
            message = f"not enough memory ({message or 'an allocation failed'}); a smaller -k or batch may fit"
        print(f"sextant {args.command}: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"sextant {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
