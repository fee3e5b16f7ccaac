"""ShardedIndex: a sharded index served by Ray actors, searched like one index."""

import os

import numpy as np

from .build import peak_rss_bytes
from .errors import ShardUnavailableError, task_error
from .manifest import Manifest, ManifestError, file_checksum


class _ShardServer:
    """A Ray actor serving one shard file. Ray restarts it when it dies; it then loads its
    file again (checked against the manifest first)."""

    def __init__(self, path, shard, xxh64, nbytes, id_offset, mmap, threads):
        import sextant as sx

        sx.set_num_threads(threads)
        checksum, size = file_checksum(path)
        if (checksum, size) != (xxh64, nbytes):
            raise ManifestError(f"shard {shard}: {path!r} has changed since the build (checksum {checksum}, "
                                f"{size} bytes; the manifest says {xxh64}, {nbytes} bytes)")
        self.index = sx.read_index(path, mmap=mmap)
        self.offset = id_offset
        self.sx = sx

    def _knobs(self, knobs):
        sel = knobs.get("sel")
        if sel is not None and self.offset:
            knobs = dict(knobs, sel=self.sx.IDSelectorShifted(sel, self.offset))  # global ids to the shard's own
        return knobs

    def search(self, xq, q0, q1, k, knobs):
        D, I = self.index.search(xq[q0:q1], k, **self._knobs(knobs))
        I[I >= 0] += self.offset
        return D, I

    def range_search(self, xq, q0, q1, radius, knobs):
        lims, D, I = self.index.range_search(xq[q0:q1], radius, **self._knobs(knobs))
        return lims, D, I + self.offset

    def stats(self):
        import ray

        return {"ntotal": int(self.index.ntotal), "pid": os.getpid(), "node": ray.get_runtime_context().get_node_id(),
                "peak_rss_bytes": peak_rss_bytes()}


def _split(n, parts):
    return [(r * n // parts, (r + 1) * n // parts) for r in range(parts)]


class ShardedIndex:
    """The shards of a manifest, each served by `replicas` Ray actors, searched as one index:
    search() sends the queries to every shard (each shard's replicas take a block of them),
    merges the per-shard results exactly and returns what one index holding every vector would.

    A dead actor is restarted by Ray (max_restarts times) and reloads its shard; a call it had
    not answered is sent again. A shard none of whose replicas answers raises
    ShardUnavailableError naming it, unless the caller asks for allow_partial=True."""

    def __init__(self, manifest, actors, timeout):
        self.manifest, self._actors, self.timeout = manifest, actors, timeout
        import sextant as sx

        self._sx = sx
        self.metric_type = sx.METRIC_L2 if manifest.metric == "l2" else sx.METRIC_INNER_PRODUCT

    @classmethod
    def open(cls, manifest, *, replicas=1, mmap=True, num_cpus=1, max_restarts=3, timeout=None, start_timeout=120):
        """Starts replicas x shards actors (num_cpus CPUs each, a fraction allowed; spread over the
        cluster's nodes) and waits, at most start_timeout seconds, until every one has loaded its
        shard. mmap: serve each shard from its mapped file (the page cache; little private
        memory). timeout: seconds a search waits for a shard (default: no limit)."""
        import ray

        if not isinstance(manifest, Manifest):
            manifest = Manifest.read(manifest)
        if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas <= 0:
            raise ValueError(f"replicas must be a positive integer, got {replicas!r}")
        if isinstance(num_cpus, bool) or not isinstance(num_cpus, (int, float)) or not num_cpus > 0:
            raise ValueError(f"num_cpus must be a positive number, got {num_cpus!r}")
        manifest.check_files()
        server = ray.remote(_ShardServer).options(num_cpus=num_cpus, max_restarts=max_restarts,
                                                  max_task_retries=max_restarts, scheduling_strategy="SPREAD")
        threads = max(1, round(num_cpus))
        actors = [[server.remote(manifest.shard_path(s), s, shard["xxh64"], shard["bytes"], shard["id_offset"],
                                 mmap, threads) for _ in range(replicas)]
                  for s, shard in enumerate(manifest.shards)]
        index = cls(manifest, actors, timeout)
        for s, replica_actors in enumerate(actors):
            for actor in replica_actors:
                try:
                    stats = ray.get(actor.stats.remote(), timeout=start_timeout)
                except ray.exceptions.GetTimeoutError as e:
                    index.close()
                    raise ShardUnavailableError(
                        f"shard {s}: its actor did not start within {start_timeout} s ({replicas * len(actors)} "
                        f"actors of num_cpus={num_cpus} each: does the cluster have the CPUs?)") from e
                except ray.exceptions.RayError as e:
                    index.close()
                    raise ManifestError(f"shard {s} ({manifest.shard_path(s)}) cannot be served: {task_error(e)}") from e
                if stats["ntotal"] != manifest.shards[s]["ntotal"]:
                    index.close()
                    raise ManifestError(f"shard {s} holds {stats['ntotal']} vectors; the manifest says "
                                        f"{manifest.shards[s]['ntotal']}")
        return index

    d = property(lambda self: self.manifest.d)
    ntotal = property(lambda self: self.manifest.ntotal)
    nshards = property(lambda self: len(self._actors))
    replicas = property(lambda self: len(self._actors[0]))

    def __repr__(self):
        return (f"<sextant.distributed.ShardedIndex {self.manifest.factory} d={self.d} ntotal={self.ntotal} "
                f"shards={self.nshards} replicas={self.replicas}>")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Stops the actors."""
        import ray

        for replica_actors in self._actors:
            for actor in replica_actors:
                ray.kill(actor)
        self._actors = []

    def stats(self):
        """Per shard, per replica: vectors, process id, Ray node id and peak resident memory of its actor."""
        import ray

        return [[ray.get(a.stats.remote()) for a in replica_actors] for replica_actors in self._actors]

    def actor(self, shard, replica=0):
        """The Ray actor serving a replica of a shard."""
        return self._actors[shard][replica]

    def _queries(self, x):
        x = np.asarray(x)
        if x.dtype == object or not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            raise TypeError(f"queries must be a numeric array, got dtype {x.dtype}")
        if x.ndim == 1 and x.shape[0] == self.d:
            x = x[None]
        if x.ndim != 2 or x.shape[1] != self.d:
            raise ValueError(f"queries must have shape (n, {self.d}), got {x.shape}")
        x = np.ascontiguousarray(x, dtype=np.float32)
        if not np.isfinite(x).all():
            raise ValueError("queries contain NaN or infinity")
        return x

    def _scatter(self, method, xq, arg, knobs, allow_partial, timeout):
        """{shard: its answers for the query blocks, in order} and the shards left out (allow_partial)."""
        import ray

        if "params" in knobs:
            raise TypeError("pass search knobs as keywords (nprobe=..., efSearch=..., k_factor=..., sel=...)")
        timeout = self.timeout if timeout is None else timeout
        ref = ray.put(xq)  # sent once; every actor on a node reads the same copy
        blocks = _split(len(xq), self.replicas)

        def ask(s, r, b):
            return getattr(self._actors[s][r], method).remote(ref, *blocks[b], arg, knobs)

        calls = {(s, b): ask(s, b, b) for s in range(self.nshards) for b in range(len(blocks))}
        answers, missing = {}, []
        for s in range(self.nshards):
            try:
                answers[s] = [self._answer(s, b, calls[s, b], ask, timeout) for b in range(len(blocks))]
            except ShardUnavailableError:
                if not allow_partial:
                    raise
                missing.append(s)
        return answers, missing

    def _answer(self, s, b, call, ask, timeout):
        """Shard s's answer for query block b: from replica b, or from another one if b is gone."""
        import ray

        tried = [b]
        while True:
            try:
                return ray.get(call, timeout=timeout)
            except ray.exceptions.RayTaskError as e:
                if e.cause is not None:
                    raise e.cause from None  # the shard refused the call: a bad knob, say
                raise
            except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError) as e:
                others = [r for r in range(self.replicas) if r not in tried]
                if not others:
                    raise ShardUnavailableError(
                        f"shard {s} ({self.manifest.shard_path(s)}): no replica answered ({task_error(e)}); pass "
                        "allow_partial=True to get the other shards' results") from e
                tried.append(others[0])
                call = ask(s, others[0], b)

    def search(self, x, k, *, allow_partial=False, timeout=None, **knobs):
        """(D, I): the k nearest neighbours of each query over every shard, best first, ids as in
        the source (-1 where fewer than k). Knobs pass through (nprobe, efSearch, k_factor,
        max_codes, sel over global ids). allow_partial=True returns (D, I, missing): the shards
        left out (an empty list when every shard answered)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        xq = self._queries(x)
        answers, missing = self._scatter("search", xq, int(k), knobs, allow_partial, timeout)
        nq = len(xq)
        worst = np.inf if self.metric_type == self._sx.METRIC_L2 else -np.inf
        Dall = np.full((self.nshards, nq, k), worst, dtype=np.float32)
        Iall = np.full((self.nshards, nq, k), -1, dtype=np.int64)
        for s, parts in answers.items():
            Dall[s] = np.concatenate([D for D, _ in parts])
            Iall[s] = np.concatenate([I for _, I in parts])
        D, I = self._sx.merge_knn_results(Dall, Iall, self.metric_type)
        return (D, I, missing) if allow_partial else (D, I)

    def range_search(self, x, radius, *, allow_partial=False, timeout=None, **knobs):
        """(lims, D, I) as Index.range_search, over every shard; allow_partial as search()."""
        xq = self._queries(x)
        answers, missing = self._scatter("range_search", xq, float(radius), knobs, allow_partial, timeout)
        per_shard = []
        for s in sorted(answers):
            lims = [0]
            for part_lims, _, _ in answers[s]:
                lims += (lims[-1] + np.asarray(part_lims[1:])).tolist()
            per_shard.append((np.asarray(lims, dtype=np.int64), np.concatenate([p[1] for p in answers[s]]),
                              np.concatenate([p[2] for p in answers[s]])))
        lims, D, I = self._sx.merge_range_results(per_shard, len(xq), self.metric_type)
        return (lims, D, I, missing) if allow_partial else (lims, D, I)

