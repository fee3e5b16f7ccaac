"""Evaluation helpers: exact ground truth, recall, and QPS at a fixed recall along a sweep curve.

The ground truth is computed with numpy in float64, independently of sextant, so that it can
judge sextant's own exact search; it is blocked (memory stays bounded for any base size) and
cached on disk under a hash of the inputs.
"""

import hashlib
import os

import numpy as np

from .datasets import cache_dir

_GT_VERSION = b"sextant-gt-v1"   # bump when the computation changes, to invalidate old caches
_TILE_VALUES = 1 << 22           # float64 values per distance tile / converted block (32 MB)


def metric_name(metric):
    """'l2' or 'ip' from a string ('l2', 'L2', 'ip', 'inner_product'), a sextant/faiss metric
    enum, or its integer value (faiss convention: 0 = inner product, 1 = L2)."""
    name = getattr(metric, "name", metric)
    if isinstance(name, str):
        key = name.lower().replace("metric_", "")
        if key in ("l2", "euclidean"):
            return "l2"
        if key in ("ip", "inner_product", "innerproduct", "dot"):
            return "ip"
    elif isinstance(name, (int, np.integer)) and int(name) in (0, 1):
        return "l2" if int(name) == 1 else "ip"
    raise ValueError(f"unknown metric {metric!r}: expected 'l2' or 'ip' (or a METRIC_* value)")


def _as_2d(x, name):
    x = np.asarray(x) if not isinstance(x, np.ndarray) else x
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n, d), got shape {x.shape}")
    return x


def _hash_rows(h, x):
    h.update(f"{x.shape}{x.dtype.str}".encode())
    rows = max(1, _TILE_VALUES // max(1, x.shape[1]))
    for i0 in range(0, x.shape[0], rows):
        h.update(np.ascontiguousarray(x[i0:i0 + rows]).data)


def content_key(xb, xq, k, metric):
    """Hex digest identifying a ground-truth computation (inputs' bytes, k, metric, version)."""
    h = hashlib.blake2b(_GT_VERSION, digest_size=20)
    h.update(f"k={k};metric={metric_name(metric)};".encode())
    _hash_rows(h, _as_2d(xb, "xb"))
    _hash_rows(h, _as_2d(xq, "xq"))
    return h.hexdigest()


def _exact_knn(xb, xq, k, metric):
    nb, nq = xb.shape[0], xq.shape[0]
    kk = min(k, nb)
    ip = metric == "ip"
    # Scores to minimise: squared L2, or minus the inner product.
    best_s = np.full((nq, kk), np.inf)
    best_i = np.full((nq, kk), -1, dtype=np.int64)
    qb = max(1, min(nq, 1024))
    bb = max(1, min(nb, _TILE_VALUES // max(qb, xb.shape[1])))
    for j0 in range(0, nb, bb):          # each base block converted to float64 once
        y = np.asarray(xb[j0:j0 + bb], dtype=np.float64)
        y_norm = None if ip else np.einsum("ij,ij->i", y, y)
        ids = np.arange(j0, j0 + y.shape[0], dtype=np.int64)
        for i0 in range(0, nq, qb):
            q = np.asarray(xq[i0:i0 + qb], dtype=np.float64)
            s = -(q @ y.T) if ip else (np.einsum("ij,ij->i", q, q)[:, None] - 2.0 * (q @ y.T) + y_norm)
            cand_s = np.concatenate([best_s[i0:i0 + qb], s], axis=1)
            cand_i = np.concatenate([best_i[i0:i0 + qb], np.broadcast_to(ids, s.shape)], axis=1)
            if cand_s.shape[1] > kk:
                part = np.argpartition(cand_s, kk - 1, axis=1)[:, :kk]
                cand_s = np.take_along_axis(cand_s, part, axis=1)
                cand_i = np.take_along_axis(cand_i, part, axis=1)
            best_s[i0:i0 + qb], best_i[i0:i0 + qb] = cand_s, cand_i
    # Nearest first; ties broken by the smaller id so the result is deterministic.
    order = np.lexsort((best_i, best_s), axis=1)
    best_s = np.take_along_axis(best_s, order, axis=1)
    best_i = np.take_along_axis(best_i, order, axis=1)
    if kk < k:  # fewer base vectors than k: pad like an index would
        best_s = np.pad(best_s, ((0, 0), (0, k - kk)), constant_values=np.inf)
        best_i = np.pad(best_i, ((0, 0), (0, k - kk)), constant_values=-1)
    return (-best_s if ip else np.maximum(best_s, 0.0)), best_i


def ground_truth(xb, xq, k, metric, cache=True):
    """Exact k nearest neighbours of each query: (D float64 (nq, k), I int64 (nq, k)), nearest
    first. D is the squared L2 distance, or the inner product for 'ip'. Missing results (k > nb)
    have id -1. Cached in <cache>/ground-truth/<content hash>.npz when cache is True."""
    metric = metric_name(metric)
    xb, xq = _as_2d(xb, "xb"), _as_2d(xq, "xq")
    if xb.shape[1] != xq.shape[1]:
        raise ValueError(f"xb has dimension {xb.shape[1]} but xq has {xq.shape[1]}")
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    path = cache_dir("ground-truth") / f"{content_key(xb, xq, k, metric)}.npz" if cache else None
    if path is not None and path.exists():
        with np.load(path) as f:
            return f["D"], f["I"]
    D, I = _exact_knn(xb, xq, k, metric)
    if path is not None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            np.savez(f, D=D, I=I)
        os.replace(tmp, path)
    return D, I


def recall_at(I, gt, k):
    """Average over queries of |I[:, :k] ∩ gt[:, :k]| / k (ann-benchmarks' recall@k).
    Missing results (-1) never count; a repeated id counts once."""
    I, gt = _as_2d(I, "I"), _as_2d(gt, "gt")
    if I.shape[0] != gt.shape[0]:
        raise ValueError(f"I has {I.shape[0]} rows but gt has {gt.shape[0]}")
    if I.shape[1] < k or gt.shape[1] < k:
        raise ValueError(f"recall@{k} needs at least {k} columns, got I {I.shape} and gt {gt.shape}")
    nq = I.shape[0]
    if nq == 0:
        return 0.0
    a, b = np.asarray(I[:, :k], dtype=np.int64), np.asarray(gt[:, :k], dtype=np.int64)
    # One key per (row, id) so a single sorted membership test covers all rows.
    stride = int(max(a.max(initial=0), b.max(initial=0))) + 1
    rows = np.arange(nq, dtype=np.int64)[:, None]
    keys_a = np.unique((rows * stride + a)[a >= 0])
    keys_b = (rows * stride + b)[b >= 0]
    return float(np.isin(keys_a, keys_b).sum()) / (nq * k)


def pareto_frontier(curve):
    """The points of a (recall, qps) curve not beaten on both axes by another, by recall."""
    points = sorted(((float(r), float(q)) for r, q in curve), key=lambda p: (-p[0], -p[1]))
    front, best_qps = [], -np.inf
    for r, q in points:              # from the highest recall down, keep each QPS improvement
        if q > best_qps:
            front.append((r, q))
            best_qps = q
    return front[::-1]


def interpolate_qps_at_recall(curve, target):
    """QPS at recall `target` along a sweep curve: an iterable of (recall, qps) pairs, or of
    dicts with 'recall' and 'qps'. Linear interpolation between the two frontier points around
    the target; the best QPS among points at or above it if every point is; None if no point
    reaches it (never extrapolated)."""
    pairs = [(p["recall"], p["qps"]) if isinstance(p, dict) else p for p in curve]
    front = pareto_frontier(pairs)
    if not front or front[-1][0] < target:
        return None
    for (r0, q0), (r1, q1) in zip(front, front[1:]):
        if r0 <= target <= r1:
            if r1 == r0:
                return max(q0, q1)
            return q0 + (q1 - q0) * (target - r0) / (r1 - r0)
    return front[0][1]  # every frontier point is above the target: the fastest of them
