"""build(): train once on a sample, fill the shards in Ray tasks, write a manifest."""

import glob
import os
import re
import resource
import time

import numpy as np

from .errors import BuildError, task_error
from .manifest import FORMAT, VERSION, Manifest, file_checksum
from .progress import Bars, ProgressBoard
from .sources import as_source

DEFAULT_TRAIN_SAMPLE = 100_000
TRAIN_PER_LIST = 40  # training vectors per inverted list at least, when the sample size is left to build()


def peak_rss_bytes():
    """The peak resident memory of this process (a task or actor runs in its own)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def _metric(metric):
    import sextant as sx

    if metric in ("l2", sx.METRIC_L2):
        return "l2", sx.METRIC_L2
    if metric in ("ip", sx.METRIC_INNER_PRODUCT):
        return "ip", sx.METRIC_INNER_PRODUCT
    raise ValueError(f"metric must be 'l2' or 'ip', got {metric!r}")


def _train(source, factory, d, metric, sample_size, seed, threads):
    """The trained, empty index (as file bytes) and what its training took."""
    import sextant as sx

    sx.set_num_threads(threads)
    start = time.perf_counter()
    index = sx.index_factory(d, factory, metric)
    index.train(source.sample(sample_size, seed))
    return {"index": sx.serialize_index(index), "seconds": time.perf_counter() - start,
            "peak_rss_bytes": peak_rss_bytes()}


def _fill_shard(trained, part, path, shard, board, threads):
    """Adds one part to a copy of the trained index and writes it to `path`, atomically."""
    import sextant as sx

    sx.set_num_threads(threads)
    start = time.perf_counter()
    # An earlier try of this task that died while writing left its temporary file: not ours to keep.
    for stale in glob.glob(glob.escape(path) + ".tmp.*"):
        os.unlink(stale)
    index = sx.deserialize_index(trained["index"])
    added = 0
    for batch in part.batches():
        index.add(batch)
        added += len(batch)
        board.update.remote(shard, added)
    if index.ntotal != len(part):
        raise BuildError(f"shard {shard}: added {index.ntotal} vectors, expected {len(part)}")
    sx.write_index(index, path)
    checksum, size = file_checksum(path)
    return {"ntotal": int(index.ntotal), "bytes": size, "xxh64": checksum, "seconds": time.perf_counter() - start,
            "peak_rss_bytes": peak_rss_bytes()}


def _default_sample(factory, nrows):
    lists = [int(n) for n in re.findall(r"IVF(\d+)", factory)]
    return min(nrows, max(DEFAULT_TRAIN_SAMPLE, TRAIN_PER_LIST * max(lists, default=0)))


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def build(source, factory, *, shards, out_dir, metric="l2", train_sample=None, seed=0, column="vector",
          num_cpus=1, retries=3, overwrite=False, progress=None):
    """Builds a sharded index on the Ray cluster this process is connected to (ray.init() first;
    without it Ray starts a local one) and returns its Manifest.

    source: a path or list of paths of .npy/.fvecs/.bvecs files (read a batch at a time by the
    tasks that add them, never loaded whole by this process), a FileSource, or a ray.data.Dataset with a
    `column` of vectors (embed() makes one from text). Row i of the source gets id i.
    factory: an index_factory description, e.g. "IVF4096,PQ32" or "HNSW32" (no IDMap: ids are
    the rows' positions). metric: "l2" or "ip". shards: how many contiguous parts.
    train_sample: training vectors, drawn at random (seeded) on one worker; default
    max(100,000, 40 x nlist), at most every row. The trained, empty index is shipped to one
    Ray task per shard (num_cpus CPUs each, retried up to `retries` times) that adds its part
    and writes out_dir/shard-NNNNN.sxt atomically. The manifest (out_dir/manifest.json) is
    written last. progress: bars per shard and in total on stderr (default: when a terminal)."""
    import ray

    import sextant as sx

    shards = _positive_int("shards", shards)
    num_cpus = _positive_int("num_cpus", num_cpus)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a non-negative integer, got {retries!r}")
    if not isinstance(factory, str):
        raise TypeError(f"factory must be a string, got {type(factory).__name__}")
    if factory.split(",")[0] in ("IDMap", "IDMap2"):
        raise ValueError("the ids of a distributed build are the rows' positions in the source: drop the IDMap")
    metric_text, metric_value = _metric(metric)
    source = as_source(source, column)
    if shards > source.nrows:
        raise ValueError(f"{shards} shards for {source.nrows} vectors: at most one shard per vector")
    empty = sx.index_factory(source.d, factory, metric_value)  # a bad description fails here, not on a worker
    sample_size = _default_sample(factory, source.nrows) if train_sample is None else \
        _positive_int("train_sample", train_sample)

    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    manifest_path = os.path.join(out_dir, "manifest.json")
    if os.path.exists(manifest_path):
        if not overwrite:
            raise FileExistsError(f"{manifest_path} exists: pass overwrite=True to replace that index")
        os.unlink(manifest_path)  # from here until the end, the directory holds no complete index

    # Tries again after a worker or node died, or an I/O error; a ValueError (bad data, bad parameters) is final.
    retry = {"max_retries": retries, "retry_exceptions": [OSError], "num_cpus": num_cpus}
    start = time.perf_counter()
    if empty.is_trained:
        trained = ray.put({"index": sx.serialize_index(empty), "seconds": 0.0, "peak_rss_bytes": 0})
    else:
        train = ray.remote(max_calls=1)(_train).options(**retry)  # its worker exits: the sample is freed
        trained = train.remote(source, factory, source.d, metric_value, sample_size, seed, num_cpus)
    try:
        trained_info = ray.get(trained)
    except ray.exceptions.RayError as e:
        raise BuildError(f"training failed: {task_error(e)}") from e
    fill = ray.remote(max_calls=1)(_fill_shard).options(**retry)  # each worker exits after its shard
    parts = source.parts(shards)
    board = ray.remote(ProgressBoard).options(num_cpus=0).remote(shards)
    files = [f"shard-{s:05d}.sxt" for s in range(shards)]
    pending = {fill.remote(trained, part, os.path.join(out_dir, files[s]), s, board, num_cpus): s
               for s, part in enumerate(parts)}
    bars = Bars([len(p) for p in parts], f"{shards} shards", progress)
    results = [None] * shards
    try:
        while pending:
            ready, _ = ray.wait(list(pending), timeout=0.25)
            for ref in ready:
                s = pending.pop(ref)
                try:
                    results[s] = ray.get(ref)
                except ray.exceptions.RayError as e:
                    raise BuildError(f"shard {s} ({files[s]}) failed: {task_error(e)}") from e
            bars.draw(ray.get(board.snapshot.remote()))
    finally:
        for ref in pending:
            ray.cancel(ref)
        ray.kill(board)
    for stale in glob.glob(os.path.join(glob.escape(out_dir), "shard-*.sxt")):
        if os.path.basename(stale) not in files:  # left by an earlier build with more shards
            os.unlink(stale)

    offsets = np.concatenate([[0], np.cumsum([r["ntotal"] for r in results])]).tolist()
    manifest = Manifest({
        "format": FORMAT, "version": VERSION, "factory": factory, "d": source.d, "metric": metric_text,
        "ntotal": offsets[-1],
        "shards": [{"file": files[s], "ntotal": r["ntotal"], "id_offset": offsets[s], "bytes": r["bytes"],
                    "xxh64": r["xxh64"]} for s, r in enumerate(results)],
        "train": {"vectors": min(sample_size, source.nrows), "seed": seed},
        "build": {"seconds": time.perf_counter() - start, "train_seconds": trained_info["seconds"],
                  "train_peak_rss_bytes": trained_info["peak_rss_bytes"],
                  "shard_seconds": [r["seconds"] for r in results],
                  "shard_peak_rss_bytes": [r["peak_rss_bytes"] for r in results]},
        "sextant": sx.__version__,
    }, manifest_path)
    manifest.write()
    return manifest
