"""Where the vectors of a distributed build come from.

A source is split into contiguous parts, one per shard; a part is a small, picklable
description that a Ray task turns into vectors, batch by batch, where it runs: the driver
reads no vectors but a training sample's worth at most.

- FileSource: .npy, .fvecs or .bvecs files, read a batch at a time where they are needed.
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
    files' headers are read here; the rows are read by the tasks that add them, a batch at a time."""

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
        for path, ext, count, d in self.files:
            mine = rows[(rows >= start) & (rows < start + count)] - start
            if mine.size:
                at = np.searchsorted(rows, start)
                out[at:at + mine.size] = _RowFile(path, ext, d).take(mine)
            start += count
        return out

    def read(self, lo, hi):
        """Rows [lo, hi) as one float32 array."""
        return np.concatenate(list(_batches(self, lo, hi, max(1, hi - lo)))) if hi > lo else \
            np.empty((0, self.d), dtype=np.float32)


class _RowFile:
    """The rows of one input file, read with plain file reads: a task holds the batch it reads,
    not every page it has read (as a memory mapping would). Rows of .fvecs/.bvecs files are
    checked against the first row's dimension as they are read."""

    def __init__(self, path, ext, d):
        self.path, self.d, self.vecs = path, d, ext != ".npy"
        if self.vecs:
            self.dtype, self.offset = np.dtype(_VECS_DTYPE[ext]), 0
            self.row_bytes = 4 + d * self.dtype.itemsize
        else:
            header = np.load(path, mmap_mode="r", allow_pickle=False)
            self.fortran = header.ndim == 2 and header.shape[1] > 1 and not header.flags.c_contiguous
            self.dtype, self.offset = header.dtype, header.offset
            self.row_bytes = d * self.dtype.itemsize

    def _rows(self, raw, n):
        if not self.vecs:
            return np.frombuffer(raw, dtype=self.dtype).reshape(n, self.d)
        block = np.frombuffer(raw, dtype=np.uint8).reshape(n, self.row_bytes)
        dims = block[:, :4].copy().view("<i4")[:, 0]
        if (dims != self.d).any():
            raise SourceError(f"{self.path}: a row has dimension {dims[dims != self.d][0]}, expected {self.d}")
        return block[:, 4:].copy().view(self.dtype)

    def read(self, a, b):
        """Rows [a, b) as float32."""
        if not self.vecs and self.fortran:  # column-major .npy: no contiguous rows to read
            return np.ascontiguousarray(np.load(self.path, mmap_mode="r")[a:b], dtype=np.float32)
        with open(self.path, "rb") as f:
            raw = os.pread(f.fileno(), (b - a) * self.row_bytes, self.offset + a * self.row_bytes)
        if len(raw) != (b - a) * self.row_bytes:
            raise SourceError(f"{self.path}: the file is shorter than its header says (truncated?)")
        return np.ascontiguousarray(self._rows(raw, b - a), dtype=np.float32)

    def take(self, rows):
        """The given rows (sorted), as float32: each run of consecutive rows in one read."""
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        runs = np.split(rows, breaks) if rows.size else []
        return np.concatenate([self.read(run[0], run[-1] + 1) for run in runs]) if runs else \
            np.empty((0, self.d), dtype=np.float32)


def _batches(source, lo, hi, batch_rows):
    """float32 batches of at most batch_rows rows covering rows [lo, hi) of a FileSource."""
    start = 0
    for path, ext, count, d in source.files:
        a, b = max(lo, start), min(hi, start + count)
        if a < b:
            rows = _RowFile(path, ext, d)
            for i in range(a - start, b - start, batch_rows):
                yield rows.read(i, min(b - start, i + batch_rows))
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
