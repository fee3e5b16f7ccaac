"""Where the vectors of a distributed build come from.

A source is split into contiguous parts, one per shard; a part is a small, picklable
description that a Ray task turns into vectors, batch by batch, where it runs: the driver
reads no vectors but a training sample's worth at most.

- FileSource: .npy, .fvecs or .bvecs files, memory-mapped where they are read.
- DatasetSource: a Ray Dataset with a column of vectors (embed() makes one from text).
"""

import os
import struct

import numpy as np

BATCH_ROWS = 65536  # vectors converted and added at a time: bounds each task's float32 copies


class SourceError(ValueError):
    """A source that cannot be read as vectors: what is wrong and where."""


def _npy_shape(path):
    x = np.load(path, mmap_mode="r", allow_pickle=False)  # reads the header only
    if x.ndim != 2:
        raise SourceError(f"{path}: holds an array of shape {x.shape}; expected (n, d) vectors")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise SourceError(f"{path}: holds {x.dtype} values; expected numbers")
    return x.shape


def _vecs_shape(path, itemsize):
    size = os.path.getsize(path)
    if size == 0:
        return 0, 0
    with open(path, "rb") as f:
        header = f.read(4)
    if len(header) < 4:
        raise SourceError(f"{path}: {size} bytes, too short for the 4-byte dimension header")
    (d,) = struct.unpack("<i", header)
    if d <= 0 or d > 1 << 24:
        raise SourceError(f"{path}: the first row has dimension {d}; expected a positive dimension")
    row_bytes = 4 + d * itemsize
    if size % row_bytes:
        raise SourceError(f"{path}: {size} bytes is not a whole number of {row_bytes}-byte rows (truncated?)")
    return size // row_bytes, d


_VECS_ITEMSIZE = {".fvecs": 4, ".bvecs": 1}
_VECS_DTYPE = {".fvecs": "<f4", ".bvecs": "u1"}


class FileSource:
    """Vectors in .npy (any real dtype), .fvecs or .bvecs files, one after the other: row i
    of the source is row i of the concatenation, and has id i in the built index. Only the
    files' headers are read here; the rows are read, memory-mapped, by the tasks that add them."""

    def __init__(self, paths):
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        self.files = []  # (path, extension, rows, d)
        for path in map(os.fspath, paths):
            if not os.path.exists(path):
                raise SourceError(f"input file {path!r} does not exist")
            ext = os.path.splitext(path)[1].lower()
            if ext == ".npy":
                rows, d = _npy_shape(path)
            elif ext in _VECS_ITEMSIZE:
                rows, d = _vecs_shape(path, _VECS_ITEMSIZE[ext])
            else:
                raise SourceError(f"input file {path!r}: unsupported extension {ext!r}; use .npy, .fvecs or .bvecs")
            self.files.append((path, ext, rows, d))
        if not self.files:
            raise SourceError("no input files")
        dims = {d for _, _, rows, d in self.files if rows}
        if len(dims) > 1:
            raise SourceError(f"the input files have different dimensions: {sorted(dims)}")
        self.d = dims.pop() if dims else 0
        self.nrows = sum(rows for _, _, rows, _ in self.files)
        if self.nrows == 0:
            raise SourceError("the input files hold no vectors")

    def parts(self, n):
        """n contiguous parts: part s holds rows [s * nrows // n, (s + 1) * nrows // n)."""
        return [FileRows(self, s * self.nrows // n, (s + 1) * self.nrows // n) for s in range(n)]

    def sample(self, n, seed):
        """n rows drawn without replacement (all of them when n >= nrows), in source order."""
        if n >= self.nrows:
            return self.read(0, self.nrows)
        rows = np.sort(np.random.default_rng(seed).choice(self.nrows, size=n, replace=False))
        out = np.empty((n, self.d), dtype=np.float32)
        start = 0
        for path, ext, count, _ in self.files:
            mine = rows[(rows >= start) & (rows < start + count)] - start
            if mine.size:
                at = np.searchsorted(rows, start)
                out[at:at + mine.size] = _open(path, ext, count)[mine]
            start += count
        return out

    def read(self, lo, hi):
        """Rows [lo, hi) as one float32 array."""
        return np.concatenate(list(_batches(self, lo, hi, max(1, hi - lo)))) if hi > lo else \
            np.empty((0, self.d), dtype=np.float32)


def _open(path, ext, rows):
    """The rows of one file, memory-mapped, checked row by row where they are read (.fvecs/.bvecs)."""
    if ext == ".npy":
        return np.load(path, mmap_mode="r", allow_pickle=False)
    itemsize = _VECS_ITEMSIZE[ext]
    with open(path, "rb") as f:
        (d,) = struct.unpack("<i", f.read(4))
    raw = np.memmap(path, dtype=np.uint8, mode="r", shape=(rows, 4 + d * itemsize))
    return _VecsRows(path, raw, d, np.dtype(_VECS_DTYPE[ext]))


class _VecsRows:
    """Rows of a .fvecs/.bvecs mapping; each slice checks the dimension headers of its rows."""

    def __init__(self, path, raw, d, dtype):
        self.path, self.raw, self.d, self.dtype = path, raw, d, dtype

    def __getitem__(self, rows):
        block = self.raw[rows]
        dims = block[:, :4].copy().view("<i4")[:, 0]
        if (dims != self.d).any():
            raise SourceError(f"{self.path}: a row has dimension {dims[dims != self.d][0]}, expected {self.d}")
        return block[:, 4:].copy().view(self.dtype)


def _batches(source, lo, hi, batch_rows):
    """float32 batches of at most batch_rows rows covering rows [lo, hi) of a FileSource."""
    start = 0
    for path, ext, count, _ in source.files:
        a, b = max(lo, start), min(hi, start + count)
        if a < b:
            rows = _open(path, ext, count)
            for i in range(a - start, b - start, batch_rows):
                batch = np.asarray(rows[i:min(b - start, i + batch_rows)])
                if not np.issubdtype(batch.dtype, np.floating) and not np.issubdtype(batch.dtype, np.integer):
                    raise SourceError(f"{path}: holds {batch.dtype} values; expected numbers")
                yield np.ascontiguousarray(batch, dtype=np.float32)
        start += count


class FileRows:
    """Rows [lo, hi) of a FileSource: one shard's part."""

    def __init__(self, source, lo, hi):
        self.source, self.lo, self.hi = source, lo, hi

    def __len__(self):
        return self.hi - self.lo

    def batches(self, batch_rows=BATCH_ROWS):
        yield from _batches(self.source, self.lo, self.hi, batch_rows)


class DatasetSource:
    """A Ray Dataset whose `column` holds one vector per row (a 2-D tensor column, or lists of
    numbers). Row i (in the dataset's order) has id i. The dataset is materialized once, in
    Ray's object store (spilled to disk when it does not fit), and split into contiguous parts."""

    def __init__(self, dataset, column="vector"):
        import ray.data

        if not isinstance(dataset, ray.data.Dataset):
            raise SourceError(f"DatasetSource needs a ray.data.Dataset, got {type(dataset).__name__}")
        ray.data.DataContext.get_current().execution_options.preserve_order = True
        self.dataset = dataset.materialize()
        self.column = column
        names = self.dataset.schema().names
        if column not in names:
            raise SourceError(f"the dataset has no column {column!r} (its columns: {', '.join(names)})")
        self.nrows = self.dataset.count()
        if self.nrows == 0:
            raise SourceError("the dataset holds no vectors")
        first = _as_vectors(self.dataset.take_batch(1, batch_format="numpy")[column], column)
        self.d = first.shape[1]

    def parts(self, n):
        bounds = [s * self.nrows // n for s in range(1, n)]
        return [DatasetRows(part, self.column) for part in self.dataset.split_at_indices(bounds)]

    def sample(self, n, seed):
        fraction = min(1.0, 1.2 * n / self.nrows)  # random_sample keeps each row with this probability
        rows = self.dataset.random_sample(fraction, seed=seed) if fraction < 1 else self.dataset
        batches = [_as_vectors(b[self.column], self.column) for b in rows.iter_batches(batch_format="numpy")]
        x = np.concatenate(batches) if batches else np.empty((0, self.d), dtype=np.float32)
        return x[:n]


class DatasetRows:
    """One shard's part of a DatasetSource."""

    def __init__(self, dataset, column):
        self.dataset, self.column = dataset, column
        self.rows = dataset.count()

    def __len__(self):
        return self.rows

    def batches(self, batch_rows=BATCH_ROWS):
        for batch in self.dataset.iter_batches(batch_size=batch_rows, batch_format="numpy"):
            yield _as_vectors(batch[self.column], self.column)


def _as_vectors(column, name):
    x = np.asarray(column)
    if x.dtype == object:  # rows of lists or arrays
        x = np.stack([np.asarray(v) for v in x]) if len(x) else np.empty((0, 0))
    if x.ndim != 2:
        raise SourceError(f"column {name!r} holds values of shape {x.shape[1:]}; expected one vector per row")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise SourceError(f"column {name!r} holds {x.dtype} values; expected numbers")
    return np.ascontiguousarray(x, dtype=np.float32)


def as_source(source, column="vector"):
    """A FileSource or DatasetSource from what build() was given."""
    if isinstance(source, (FileSource, DatasetSource)):
        return source
    if isinstance(source, (str, os.PathLike)) or (
            isinstance(source, (list, tuple)) and source and all(isinstance(p, (str, os.PathLike)) for p in source)):
        return FileSource(source)
    try:
        import ray.data
    except ImportError:  # pragma: no cover - ray is a dependency of sextant.distributed
        ray = None
    if ray is not None and isinstance(source, ray.data.Dataset):
        return DatasetSource(source, column)
    raise SourceError("source must be a path or a list of paths (.npy, .fvecs, .bvecs), a FileSource, or a "
                      f"ray.data.Dataset (text: see sextant.distributed.embed); got {type(source).__name__}")
