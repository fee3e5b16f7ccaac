"""sextant under Faiss's names, for code written for Faiss.

    import sextant.faiss as faiss      # in code of your own
    sextant.install_as_faiss()         # before a library that imports faiss itself (LangChain, LlamaIndex)

The classes are sextant's own (faiss.IndexFlatL2 is sextant.IndexFlatL2); this
module adds the functions and constants Faiss code calls that sextant spells
differently, with Faiss's semantics. Differences that remain:

- Errors are ValueError / TypeError naming the problem (Faiss raises RuntimeError).
- An IVF index and its coarse quantizer share one metric:
  IndexIVFFlat(IndexFlatL2(d), d, nlist, METRIC_INNER_PRODUCT) raises ValueError
  showing the spelling to use, IndexIVFFlat(IndexFlatIP(d), d, nlist, METRIC_INNER_PRODUCT).
- write_index / serialize_index write Faiss's format (faiss.read_index reads the
  files); the 4-bit fast-scan indexes have no Faiss writer here and raise
  ValueError: write those with sextant.write_index.
- read_index maps the file for IO_FLAG_MMAP and IO_FLAG_READ_ONLY, as
  sextant.read_index(path, mmap=True) does; flags that skip parts of a file are refused.
- IndexShards(d, metric, successive_ids) and IndexReplicas(d, metric) take the metric where
  Faiss takes `threaded` (sextant chooses how to thread their searches).
- No swig_ptr: no sextant function takes a raw pointer. vector_to_array copies
  an array (sextant's attributes, such as IndexIDMap.id_map, are numpy arrays).
"""

import math
import re

import numpy as np

from . import _sextant as _core
from . import gpu as _gpu
from ._sextant import (  # noqa: F401 - re-exported under Faiss's names
    IDSelector,
    IDSelectorAnd,
    IDSelectorBatch,
    IDSelectorBitmap,
    IDSelectorNot,
    IDSelectorOr,
    IDSelectorRange,
    Index,
    IndexFlat,
    IndexFlatIP,
    IndexFlatL2,
    IndexHNSW,
    IndexHNSWFlat,
    IndexHNSWPQ,
    IndexHNSWSQ,
    IndexIDMap,
    IndexIDMap2,
    IndexIVF,
    IndexIVFFlat,
    IndexIVFPQ,
    IndexIVFPQFastScan,
    IndexIVFRaBitQ,
    IndexIVFRaBitQFastScan,
    IndexIVFScalarQuantizer,
    IndexPQ,
    IndexPQFastScan,
    IndexPreTransform,
    IndexRaBitQ,
    IndexRaBitQFastScan,
    IndexRefine,
    IndexRefineFlat,
    IndexReplicas,
    IndexScalarQuantizer,
    IndexShards,
    LinearTransform,
    NormalizationTransform,
    OPQMatrix,
    PCAMatrix,
    ProductQuantizer,
    RandomRotationMatrix,
    ScalarQuantizer,
    VectorTransform,
    deserialize_index,
    index_factory,
    knn,
    normalize_L2,
    pairwise_distances,
)
from .clustering import Kmeans  # noqa: F401

# Faiss's metric values, as plain ints; every sextant function accepts them.
METRIC_INNER_PRODUCT = 0
METRIC_L2 = 1

# Faiss's read_index flags (faiss/index_io.h).
IO_FLAG_SKIP_STORAGE = 1
IO_FLAG_READ_ONLY = 2
IO_FLAG_ONDISK_SAME_DIR = 4
IO_FLAG_SKIP_IVF_DATA = 8
IO_FLAG_SKIP_PRECOMPUTE_TABLE = 16
IO_FLAG_PQ_SKIP_SDC_TABLE = 32
IO_FLAG_MMAP = IO_FLAG_SKIP_IVF_DATA | 0x646F0000
IO_FLAG_MMAP_IFC = 1 << 9
# Tables Faiss would skip building; sextant builds none of them when reading.
_NO_EFFECT_FLAGS = IO_FLAG_SKIP_PRECOMPUTE_TABLE | IO_FLAG_PQ_SKIP_SDC_TABLE


def read_index(fname, io_flags=0):
    """Reads a Faiss or sextant index file. IO_FLAG_MMAP (or IO_FLAG_MMAP_IFC, IO_FLAG_READ_ONLY)
    maps the file, as sextant.read_index(fname, mmap=True): what is served from the mapping
    (every array of a sextant file) is read-only."""
    flags, mmap = int(io_flags), False
    if flags & IO_FLAG_MMAP == IO_FLAG_MMAP:
        flags, mmap = flags & ~IO_FLAG_MMAP, True
    if flags & (IO_FLAG_MMAP_IFC | IO_FLAG_READ_ONLY):
        flags, mmap = flags & ~(IO_FLAG_MMAP_IFC | IO_FLAG_READ_ONLY), True
    flags &= ~_NO_EFFECT_FLAGS
    if flags:
        raise ValueError(f"read_index: io_flags {int(io_flags):#x} include flags sextant does not support "
                         f"({flags:#x}: skipping storage or inverted lists, on-disk lists); supported: "
                         "IO_FLAG_MMAP, IO_FLAG_MMAP_IFC, IO_FLAG_READ_ONLY")
    return _core.read_index(fname, mmap=mmap)


def write_index(index, fname):
    """Writes `index` as a Faiss index file (faiss.read_index reads it), atomically."""
    _core.write_index(index, fname, format="faiss")


def serialize_index(index):
    """The bytes of `index` as a Faiss index file, as a uint8 numpy array."""
    return _core.serialize_index(index, format="faiss")


def merge_knn_results(Dall, Iall, keep_max=False):
    """Merges (nshard, nq, k) sorted results into (nq, k): the smallest distances, or the
    largest with keep_max (inner product)."""
    return _core.merge_knn_results(Dall, Iall, METRIC_INNER_PRODUCT if keep_max else METRIC_L2)


def clone_index(index):
    """A deep copy of any index."""
    return _core.deserialize_index(_core.serialize_index(index))


def downcast_index(index):
    """The index itself: sextant objects always have their most derived Python type."""
    return index


def downcast_VectorTransform(vt):
    """The transform itself (see downcast_index)."""
    return vt


def try_extract_index_ivf(index):
    """The IndexIVF inside id maps, pre-transforms and refine indexes, or None."""
    while not isinstance(index, IndexIVF):
        if isinstance(index, (IndexIDMap, IndexPreTransform)):
            index = index.index
        elif isinstance(index, IndexRefine):
            index = index.base_index
        else:
            return None
    return index


def extract_index_ivf(index):
    """The IndexIVF inside id maps, pre-transforms and refine indexes; ValueError when there is none."""
    ivf = try_extract_index_ivf(index)
    if ivf is None:
        raise ValueError(f"extract_index_ivf: {type(index).__name__} holds no IndexIVF")
    return ivf


def vector_to_array(v):
    """A numpy copy of v (sextant returns arrays where Faiss returns std::vector objects)."""
    a = np.array(v, copy=True)
    if a.dtype == object:
        raise TypeError(f"vector_to_array expects an array or a sequence of numbers, got {type(v).__name__}")
    return a


def omp_set_num_threads(n):
    """Threads for sextant's parallel work (sextant.set_num_threads)."""
    _core.set_num_threads(n)


def omp_get_max_threads():
    return _core.get_num_threads()


def get_num_gpus():
    """Number of CUDA devices sextant can use (0 without a GPU or a GPU build)."""
    return _gpu.device_count()


class ParameterSpace:
    """Sets index parameters by name, as Faiss's ParameterSpace: nprobe, max_codes, efSearch,
    efConstruction, k_factor_rf (IndexRefine) and quantizer_<name> (an IVF index's quantizer),
    passed through id maps, pre-transforms and refine indexes to the index they concern."""

    def set_index_parameter(self, index, name, value):
        if isinstance(index, (IndexIDMap, IndexPreTransform)):
            return self.set_index_parameter(index.index, name, value)
        if isinstance(index, IndexRefine):
            if name == "k_factor_rf":
                index.k_factor = int(value)  # an integer factor, as in Faiss
                return None
            return self.set_index_parameter(index.base_index, name, value)
        if isinstance(index, IndexIVF):
            if name == "nprobe":
                index.nprobe = int(value)
                return None
            if name == "max_codes":
                index.max_codes = int(value) if math.isfinite(value) else 0
                return None
            if name in ("efSearch", "efConstruction") and isinstance(index.quantizer, IndexHNSW):
                return self.set_index_parameter(index.quantizer, name, value)
            if name.startswith("quantizer_"):
                return self.set_index_parameter(index.quantizer, name[len("quantizer_"):], value)
        if isinstance(index, IndexHNSW) and name in ("efSearch", "efConstruction"):
            setattr(index, name, int(value))
            return None
        raise ValueError(f"ParameterSpace: could not set parameter {name!r} on {type(index).__name__}")

    def set_index_parameters(self, index, description):
        """Parameters as 'name=value' pairs separated by commas or spaces, e.g. 'nprobe=16,quantizer_efSearch=64'."""
        for token in re.split(r"[ ,]+", description.strip()):
            name, _, value = token.partition("=")
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"could not interpret parameters {token!r} (expected name=value)") from None
            self.set_index_parameter(index, name, number)


class SearchParameters(_core.SearchParams):
    """Faiss's per-call parameters: index.search(x, k, params=SearchParameters(sel=...))."""

    _defaults = {"sel": None}

    def __init__(self, **knobs):
        unknown = sorted(set(knobs) - set(self._defaults))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no parameter {unknown[0]!r}; it takes "
                            + ", ".join(sorted(self._defaults)))
        values = {**self._defaults, **knobs}
        quantizer = values.pop("quantizer_params", None)
        if quantizer is not None:
            if not isinstance(quantizer, SearchParametersHNSW) or quantizer.sel is not None:
                raise ValueError("quantizer_params takes a SearchParametersHNSW without a selector "
                                 "(the efSearch of an HNSW coarse quantizer)")
            values["efSearch"] = quantizer.efSearch
        super().__init__(**values)


class SearchParametersIVF(SearchParameters):
    """nprobe (default 1, as in Faiss: not the index's nprobe), max_codes (0: no limit), sel, and
    quantizer_params=SearchParametersHNSW(efSearch=...) for an HNSW coarse quantizer."""

    _defaults = {"sel": None, "nprobe": 1, "max_codes": 0, "quantizer_params": None}


class SearchParametersHNSW(SearchParameters):
    """efSearch (default 16, as in Faiss: not the index's efSearch) and sel."""

    _defaults = {"sel": None, "efSearch": 16}


if hasattr(_gpu, "StandardGpuResources"):  # a GPU build
    StandardGpuResources = _gpu.StandardGpuResources
    index_cpu_to_gpu = _gpu.index_cpu_to_gpu
    index_gpu_to_cpu = _gpu.index_gpu_to_cpu
