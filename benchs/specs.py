"""What the harness measures, as data: datasets and index families.

Adding an index family is adding one entry to INDEXES: for each library, how to build the
index (a factory string for sextant and faiss, a class and parameters for hnswlib, build
parameters for the other peers) and the search-time sweep shared by all libraries (standard
knob names: nprobe, efSearch, ...; each runner maps them to its library, and a knob with no
standard name keeps its library's). Compare like with like: same storage, same factory.
"""

# Each dataset: where the vectors come from, the metric, and the number of queries.
# 'source' names a loader in contrib.datasets; synthetic sets are generated once and cached.
DATASETS = {
    "fashion-mnist": {
        "source": "fashion_mnist", "metric": "l2", "nq": 10_000,
        "about": "Fashion-MNIST 60,000 x 784 (uint8 pixels as float32), 10,000 queries",
    },
    "synthetic-1m": {
        "source": "clustered", "params": {"n": 1_000_000, "d": 128, "n_clusters": 1000},
        "base_seed": 1, "query_seed": 2, "metric": "l2", "nq": 1_000,
        "about": "seeded Gaussian mixture (1,000 clusters) 1,000,000 x 128 float32, 1,000 queries",
    },
    "minilm-debian": {
        "source": "minilm_descriptions", "params": {"n_base": 10_000, "nq": 1_000}, "metric": "ip", "nq": 1_000,
        "about": "10,000 Debian package descriptions embedded by sextant (all-MiniLM-L6-v2, 384-d, normalised), "
                 "1,000 other descriptions as queries, inner product",
    },
    "glove-50": {
        "source": "glove_50", "params": {"nq": 10_000, "seed": 0}, "metric": "ip", "nq": 10_000,
        "about": "GloVe 6B 50d word vectors, L2-normalised, 390,000 base x 50, 10,000 seeded held-out queries, "
                 "inner product (ann-benchmarks' glove-50-angular)",
    },
    "synthetic-1m-ip": {
        "source": "clustered", "params": {"n": 1_000_000, "d": 128, "n_clusters": 1000},
        "base_seed": 1, "query_seed": 2, "metric": "ip", "nq": 1_000,
        "about": "synthetic-1m searched by inner product",
    },
}

# Each QPS mode is timed over repeated passes, at least this long in all, keeping the best pass:
# one pass over 1,000 queries can last 16 ms, and a hiccup of the machine would be the figure.
MIN_TIMED_S = 0.5

HNSW_SWEEP = [{"efSearch": ef} for ef in (10, 16, 24, 32, 48, 64, 128, 256)]
FASTSCAN_SWEEP = [{"nprobe": n, "k_factor": kf} for n in (2, 4, 8, 16, 32) for kf in (2, 4, 8, 16)]

# Each index family: per-library build recipe, whether it is exact (adds the SGEMM-fraction
# figure), and the search-parameter sweep (one point {} when there is nothing to sweep).
INDEXES = {
    "flat": {
        "exact": True,
        "libs": {
            "sextant": {"factory": "Flat"},
            "faiss": {"factory": "Flat"},
            "hnswlib": {"class": "BFIndex", "label": "hnswlib BFIndex (exact)"},
        },
        "sweep": [{}],
    },
    # Inverted file, float storage on both sides, swept over nprobe.
    "ivf1024": {
        "exact": False, "datasets": ["fashion-mnist"],
        "libs": {
            "sextant": {"factory": "IVF1024,Flat"},
            "faiss": {"factory": "IVF1024,Flat"},
        },
        "sweep": [{"nprobe": n} for n in (1, 2, 4, 8, 16, 32, 64, 128)],
    },
    # Inverted file with 8-bit scalar codes (4x smaller than floats), swept over nprobe.
    "ivf1024-sq8": {
        "exact": False, "datasets": ["fashion-mnist"],
        "libs": {
            "sextant": {"factory": "IVF1024,SQ8"},
            "faiss": {"factory": "IVF1024,SQ8"},
        },
        "sweep": [{"nprobe": n} for n in (1, 2, 4, 8, 16, 32, 64, 128)],
    },
    # Inverted file with 8-bit PQ codes (Fashion-MNIST: 56 bytes a vector; d=128: 32 bytes).
    "ivf1024-pq56": {
        "exact": False, "datasets": ["fashion-mnist"],
        "libs": {
            "sextant": {"factory": "IVF1024,PQ56"},
            "faiss": {"factory": "IVF1024,PQ56"},
        },
        "sweep": [{"nprobe": n} for n in (1, 2, 4, 8, 16, 32, 64, 128)],
    },
    "ivf1024-pq32": {
        "exact": False, "datasets": ["synthetic-1m", "synthetic-1m-ip"],
        "libs": {
            "sextant": {"factory": "IVF1024,PQ32"},
            "faiss": {"factory": "IVF1024,PQ32"},
        },
        "sweep": [{"nprobe": n} for n in (1, 2, 4, 8, 16, 32, 64, 128)],
    },
    # 4-bit fast-scan PQ re-ranked with the float vectors, swept over nprobe and k_factor:
    # "fs" codes the vectors (Faiss's meaning of x4fs), "fsr" the residuals to the centroids.
    **{f"ivf1024-pq56{codes}-rflat": {
        "exact": False, "datasets": ["fashion-mnist"],
        "libs": {lib: {"factory": f"IVF1024,PQ56x4{codes},RFlat"} for lib in ("sextant", "faiss")},
        "sweep": FASTSCAN_SWEEP,
    } for codes in ("fs", "fsr")},
    # The same at the other shapes: nlist 256 and 1024, sub-quantizers of 2, 4 and 14 dimensions
    # (M = 392, 196 and 56 of Fashion-MNIST's 784; M = d/2 is ann-benchmarks' faiss recipe).
    **{f"ivf{nlist}-pq{M}fs-rflat": {
        "exact": False, "datasets": ["fashion-mnist"],
        "libs": {lib: {"factory": f"IVF{nlist},PQ{M}x4fs,RFlat"} for lib in ("sextant", "faiss")},
        "sweep": FASTSCAN_SWEEP,
    } for nlist, M in ((256, 392), (256, 196), (256, 56), (1024, 392), (1024, 196))},
    # RaBitQ codes (1 bit a dimension and 8 bytes) re-ranked with the float vectors, the same
    # factory on both sides: bitwise codes with queries quantised to 4 bits (both libraries'
    # default), and the fast-scan layout (queries rounded to 8 bits, then 8-bit tables).
    "ivf256-rabitq-rflat": {
        "exact": False, "datasets": ["fashion-mnist", "minilm-debian"],
        "libs": {lib: {"factory": "IVF256,RaBitQ,RFlat"} for lib in ("sextant", "faiss")},
        "sweep": FASTSCAN_SWEEP,
    },
    "ivf256-rabitqfs-rflat": {
        "exact": False, "datasets": ["fashion-mnist", "minilm-debian"],
        "libs": {lib: {"factory": "IVF256,RaBitQfs,RFlat"} for lib in ("sextant", "faiss")},
        "sweep": FASTSCAN_SWEEP,
    },
    # Extended RaBitQ: 4 bits a dimension (3 magnitude bits beside the sign), the codes'
    # multi-bit estimate computed only where the 1-bit one leaves a candidate a chance.
    # Bitwise ("RaBitQ4") and in fast-scan blocks ("RaBitQfs4", its magnitudes beside them).
    **{f"ivf256-rabitq{layout}4-rflat": {
        "exact": False, "datasets": ["fashion-mnist", "minilm-debian"],
        "libs": {lib: {"factory": f"IVF256,RaBitQ{layout}4,RFlat"} for lib in ("sextant", "faiss")},
        "sweep": [{"nprobe": n, "k_factor": kf} for n in (2, 4, 8, 16, 32) for kf in (1, 2, 4)],
    } for layout in ("", "fs")},
    "ivf1024-pq32fs-rflat": {
        "exact": False, "datasets": ["synthetic-1m", "synthetic-1m-ip"],
        "libs": {
            "sextant": {"factory": "IVF1024,PQ32x4fs,RFlat"},
            "faiss": {"factory": "IVF1024,PQ32x4fs,RFlat"},
        },
        "sweep": FASTSCAN_SWEEP,
    },
    # Graph search, float storage on all sides (IndexHNSWFlat vs hnswlib, faiss, usearch and
    # voyager), the same M and efConstruction everywhere. Not on the 1M sets: a graph over 1M
    # vectors takes far longer to build on two cores than the rest of the run (benchs/bench_hnsw.py measures
    # HNSW alone, with a 100k synthetic inner-product set and a finer efSearch sweep).
    **{f"hnsw{M}": {
        "exact": False, "datasets": ["fashion-mnist", "minilm-debian", "glove-50"],
        "libs": {
            "sextant": {"factory": f"HNSW{M}", "build": {"efConstruction": 100}},
            "faiss": {"factory": f"HNSW{M}", "build": {"efConstruction": 100}},
            "hnswlib": {"class": "Index", "build": {"M": M, "efConstruction": 100}},
            "usearch": {"build": {"M": M, "efConstruction": 100}},
            "voyager": {"build": {"M": M, "efConstruction": 100}},
        },
        "sweep": HNSW_SWEEP,
    } for M in (16, 32)},
    # The same graph over 8-bit scalar codes (4x smaller storage; no hnswlib equivalent),
    # labelled as quantised: compare with hnsw32 for what the codes cost in recall.
    "hnsw32-sq8": {
        "exact": False, "datasets": ["fashion-mnist", "minilm-debian"],
        "libs": {
            "sextant": {"factory": "HNSW32,SQ8", "build": {"efConstruction": 100},
                        "label": "sextant IndexHNSWSQ (SQ8, quantised)"},
            "faiss": {"factory": "HNSW32,SQ8", "build": {"efConstruction": 100},
                      "label": "faiss IndexHNSWSQ (SQ8, quantised)"},
        },
        "sweep": HNSW_SWEEP,
    },
    # Each peer's own best-known recipe, from ann-benchmarks (github.com/erikbern/ann-benchmarks,
    # ann_benchmarks/algorithms/<name>/config.yml), one build configuration and a shortened sweep each
    # so that a run stays in minutes. No sextant entry: compare with its hnsw16/hnsw32 curves.
    # glass/config.yml: HNSW, L=200, R in 8..96, level 1..3 (a quantised search, chosen by number
    # in glass 1.x); glass 2.x takes the quantiser by name: SQ8U codes searched, the FP32 vectors
    # re-ranking. efSearch is glass's ef.
    "glass-r48": {
        "exact": False, "datasets": ["fashion-mnist", "minilm-debian", "glove-50"],
        "libs": {"glass": {"build": {"R": 48, "L": 200, "quant": "SQ8U", "refine_quant": "FP32"},
                           "label": "glass HNSW R=48 (SQ8U codes, FP32 re-ranking)"}},
        "sweep": [{"efSearch": ef} for ef in (10, 20, 40, 80, 120, 200, 400)],
    },
    # scann/config.yml, angular group scann3 (1,000 leaves, anisotropic threshold 0.2, 1 dimension
    # per 4-bit block; its leaf count suits these sizes better than scann1's 2,000) and euclidean
    # group scann1 (600 leaves, 2 dimensions per block). nprobe = leaves_to_search, reorder =
    # pre_reorder_num_neighbors (candidates re-ranked in float).
    # sextant's answer to ScaNN's recipe on GloVe-50: an inverted file, 4-bit score-aware codes of one
    # dimension each (as ScaNN's dims_per_block 1, threshold 0.2), exact re-ranking.
    "ivf1024-pq50fs-aniso-rflat": {
        "exact": False, "datasets": ["glove-50"],
        "libs": {"sextant": {"factory": "IVF1024,PQ50x4fs_aniso0.2,RFlat",
                             "label": "sextant IVF + anisotropic 4-bit PQ + re-rank"}},
        # The codes rank well: recall is bound by nprobe, and past k_factor 4 re-ranking adds little.
        "sweep": [{"nprobe": n, "k_factor": kf} for n in (8, 12, 16, 24, 32, 48, 64) for kf in (2, 3, 4)],
    },
    # The same with unit centroids (spherical k-means, as ScaNN's spherical tree): on unit-norm data
    # the plain inverted file's longer centroids gather oversized lists, so the same recall costs
    # more codes scanned; spherical lists are even and need more of them probed.
    "ivf1024-spherical-pq50fs-aniso-rflat": {
        "exact": False, "datasets": ["glove-50"],
        "libs": {"sextant": {"factory": "IVF1024_spherical,PQ50x4fs_aniso0.2,RFlat",
                             "label": "sextant spherical IVF + anisotropic 4-bit PQ + re-rank"}},
        "sweep": [{"nprobe": n, "k_factor": kf} for n in (16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96)
                  for kf in (2, 2.5, 3, 4)],
    },
    "scann-ip": {
        "exact": False, "datasets": ["minilm-debian", "glove-50"],
        "libs": {"scann": {"build": {"leaves": 1000, "avq_threshold": 0.2, "dims_per_block": 1},
                           "label": "ScaNN tree + AH (4-bit codes, float reorder)"}},
        "sweep": [{"nprobe": n, "reorder": r} for n, r in ((1, 30), (2, 30), (4, 30), (8, 30), (12, 35), (16, 40),
                                                            (20, 55), (30, 70), (40, 90), (50, 100), (70, 140))],
    },
    "scann-l2": {
        "exact": False, "datasets": ["fashion-mnist"],
        "libs": {"scann": {"build": {"leaves": 600, "avq_threshold": float("nan"), "dims_per_block": 2},
                           "label": "ScaNN tree + AH (4-bit codes, float reorder)"}},
        "sweep": [{"nprobe": n, "reorder": r} for n, r in ((3, 30), (4, 40), (6, 60), (9, 78), (13, 100), (20, 140),
                                                            (30, 180), (50, 360))],
    },
    # onng_ngt/config.yml, group e0.1: ANNG of 100 edges (NGT's default build epsilon, 0.1), then
    # 10 outgoing / 120 incoming edges; search epsilon swept with edge_size -2. ann-benchmarks
    # writes the search epsilon as 1 + epsilon: 0.6 .. 1.2 there is -0.4 .. 0.2 here.
    "ngt-onng": {
        "exact": False, "datasets": ["fashion-mnist", "minilm-debian", "glove-50"],
        "libs": {"ngt": {"build": {"edge": 100, "outdegree": 10, "indegree": 120}, "label": "NGT ONNG"}},
        "sweep": [{"epsilon": e, "edge_size": -2} for e in (-0.4, -0.1, 0.0, 0.02, 0.04, 0.06, 0.1, 0.2)],
    },
    # usearch is not in ann-benchmarks: its documented defaults (connectivity 16, expansion_add
    # 128, expansion_search 64), expansion_search swept around the default as efSearch.
    "usearch-default": {
        "exact": False, "datasets": ["fashion-mnist", "minilm-debian", "glove-50"],
        "libs": {"usearch": {"build": {"M": 16, "efConstruction": 128}, "label": "usearch HNSW (defaults, f32)"}},
        "sweep": HNSW_SWEEP,
    },
    # voyager/config.yml: M in 4..96, efConstruction 500, ef 10..800; M=24 of those.
    "voyager-m24": {
        "exact": False, "datasets": ["fashion-mnist", "minilm-debian", "glove-50"],
        "libs": {"voyager": {"build": {"M": 24, "efConstruction": 500}, "label": "voyager HNSW M=24 (f32)"}},
        "sweep": [{"efSearch": ef} for ef in (10, 20, 40, 80, 120, 200, 400)],
    },
}

DEFAULT_INDEXES = ["flat", "hnsw32"]
LIBRARIES = ["sextant", "faiss", "hnswlib"]
# More peers (benchs/setup.sh installs them), run when named in --libs; one that cannot be loaded is
# left out of the run with a note, where a missing library above stops it.
PEERS = ["glass", "scann", "ngt", "usearch", "voyager"]
HEADLINE_LIB = "sextant"   # ratios are HEADLINE_LIB / peer


def load_dataset(name, datasets, encode=None):
    """(xb, xq, metric) for a DATASETS entry; `datasets` is the contrib.datasets module (passed
    in so this file imports neither contrib nor sextant); `encode` embeds a text set not yet
    cached (runners.minilm_encoder)."""
    spec = DATASETS[name]
    if spec["source"] == "fashion_mnist":
        xb, xq = datasets.load_fashion_mnist()
    elif spec["source"] == "minilm_descriptions":
        xb, xq = datasets.load_minilm_descriptions(**spec["params"], encode=encode)
    elif spec["source"] == "glove_50":
        xb, xq = datasets.load_glove_50(**spec["params"])
    else:
        params = dict(spec["params"])
        n, d = params.pop("n"), params.pop("d")
        xb = datasets.load_synthetic(spec["source"], n, d, seed=spec["base_seed"], **params)
        xq = datasets.load_synthetic(spec["source"], spec["nq"], d, seed=spec["query_seed"], **params)
    return xb, xq, spec["metric"]


def dataset_texts(name, datasets):
    """(base texts, query texts) of a dataset embedded from text (after load_dataset), else None."""
    spec = DATASETS[name]
    if spec["source"] == "minilm_descriptions":
        return datasets.minilm_description_texts(**spec["params"])
    return None
