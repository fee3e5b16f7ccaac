"""The index `sextant build` makes when no --factory is given (docs/choosing.md says why)."""

import math

SMALL = 20_000        # up to here an exact index answers a query in well under a millisecond
GRAPH = 2_000_000     # up to here a graph over float vectors fits a machine and leads at recall >= 0.9


def default_factory(n, d, metric="l2"):
    """A factory string for n vectors of dimension d searched by `metric` ("l2" or "ip")."""
    if n <= 0 or d <= 0:
        raise ValueError(f"default_factory needs n > 0 and d > 0, got n={n}, d={d}")
    if metric not in ("l2", "ip"):
        raise ValueError(f"metric must be 'l2' or 'ip', got {metric!r}")
    if n <= SMALL:
        return "Flat"
    if n <= GRAPH:
        return "HNSW32"
    # Past a graph's memory: an inverted file of about 4 sqrt(n) lists (a power of two), 8-bit PQ
    # codes of about 3 dimensions each, re-ranked with 8-bit scalar codes (docs/scale.md's recipe).
    nlist = min(1 << 16, 1 << round(math.log2(4 * math.sqrt(n))))
    m = max(k for k in range(1, max(1, d // 3) + 1) if d % k == 0)
    return f"IVF{nlist},PQ{m},Refine(SQ8)"
