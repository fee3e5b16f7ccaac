"""Sharded sextant indexes, built and served on Ray (pip install "ray[data]").

    import ray
    import sextant.distributed as sxd

    ray.init()                                   # or ray.init(address="auto") on a cluster
    manifest = sxd.build(["base.npy"], "IVF4096,PQ32", shards=8, out_dir="index/")
    with sxd.ShardedIndex.open("index/manifest.json", replicas=2) as index:
        D, I = index.search(xq, 10, nprobe=32)   # what one index holding every vector answers

    vectors = sxd.embed("corpus.txt", "models/all-MiniLM-L6-v2")   # text -> vectors, in Ray actors
    sxd.build(vectors, "HNSW32", shards=4, out_dir="text-index/", metric="ip")

build() trains once on a sample, ships the trained empty index to one Ray task per shard (each
adds its part of the data, read where the task runs, and writes its shard file atomically), and
writes a manifest (JSON) next to the shard files. ShardedIndex.open() starts Ray actors that
each serve a shard (memory-mapped), with replicas for throughput; a search goes to every shard
and the results are merged exactly. Failed build tasks are retried; dead actors are restarted
and reload their shard; a shard that no replica can serve is an error, never a silent gap.
docs/scale.md tells how many shards, nodes and replicas a collection needs.
"""

try:
    import ray  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError('sextant.distributed needs Ray: pip install "ray[data]"') from e

from .build import build
from .errors import BuildError, ShardUnavailableError
from .manifest import Manifest, ManifestError
from .serve import ShardedIndex
from .sources import DatasetSource, FileSource, SourceError
from .text import embed

__all__ = ["build", "embed", "ShardedIndex", "Manifest", "FileSource", "DatasetSource", "BuildError",
           "ManifestError", "ShardUnavailableError", "SourceError"]
