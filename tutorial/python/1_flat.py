"""Tutorial 1: exact search with sextant, then filtered search.

Run it:  python3 tutorial/python/1_flat.py
"""
import numpy as np

import sextant as sx

d = 64          # dimension
nb = 100_000    # database size
nq = 5          # number of queries
rng = np.random.default_rng(1234)
xb = rng.random((nb, d), dtype=np.float32)
xq = rng.random((nq, d), dtype=np.float32)

# An exact index: vectors are stored as they are; ids are 0 .. ntotal-1.
index = sx.IndexFlatL2(d)
index.add(xb)
print("ntotal =", index.ntotal)

# The 4 nearest neighbours of each query, nearest first.
D, I = index.search(xq, 4)
print("ids:\n", I)
print("squared L2 distances:\n", D)

# The same search, restricted to even ids below 50,000. Knobs like the
# selector are passed per call, so one index can serve differently filtered
# searches at once.
allowed = sx.IDSelectorBatch(np.arange(0, 50_000, 2))
D, I = index.search(xq, 4, sel=allowed)
assert (I % 2 == 0).all() and (I < 50_000).all()
print("filtered ids:\n", I)

# Cosine similarity: normalise, then use inner product.
sx.normalize_L2(xb)
sx.normalize_L2(xq)
cosine = sx.IndexFlatIP(d)
cosine.add(xb)
D, I = cosine.search(xq, 4)
print("best cosine similarities:", D[:, 0])

# Brute force without an index, and ids of your own with IndexIDMap.
D2, I2 = sx.knn(xq, xb, 4, sx.METRIC_INNER_PRODUCT)
assert (I2 == I).all()
mapped = sx.IndexIDMap(sx.IndexFlatIP(d))
mapped.add_with_ids(xb, np.arange(nb) + 1_000_000)
print("ids of your own:", mapped.search(xq[:1], 3)[1])
