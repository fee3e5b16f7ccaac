"""GPU indexes and kernels (CUDA), Faiss-style.

    import sextant as sx
    sx.gpu.device_count()                        # 0 on a machine without a GPU
    res = sx.gpu.StandardGpuResources()          # device 0; share it between indexes
    index = sx.gpu.GpuIndexFlatL2(res, d)
    index.add(xb)                                # numpy, or a torch/CuPy CUDA tensor
    D, I = index.search(xq, 10)                  # device queries give device results
    ivf = sx.gpu.index_cpu_to_gpu(res, 0, cpu_ivf_index)
    back = sx.gpu.index_gpu_to_cpu(ivf)
    values, indices = sx.gpu.select_k(matrix, k) # k smallest per row (largest=True for largest)

Device arrays (torch, CuPy, JAX: DLPack, else __cuda_array_interface__ v3)
are used in place, without host copies, and in stream order: sextant's work
waits for what the producer queued before the call (torch: its current
stream), results are complete when the call returns.

The GPU indexes use the CPU indexes' names for the same things: nprobe and
max_codes (ints, per call or as the index's defaults), invlists, k_factor
(re-ranking with keep_raw_vectors, as IndexRefine's on the CPU),
copy_from(cpu_index) and to_cpu().

Importing works everywhere; without a GPU device_count() is 0 and making
resources or an index raises RuntimeError saying that no CUDA device is present.
"""

try:
    from ._sextant import gpu as _gpu
except ImportError:  # built with SEXTANT_ENABLE_GPU=OFF
    _gpu = None

_NO_GPU_BUILD = "sextant was built without GPU support (SEXTANT_ENABLE_GPU=OFF)"


def device_count():
    """Number of CUDA devices usable here (0 without a GPU, a driver, or a GPU build)."""
    return _gpu.device_count() if _gpu is not None else 0


def is_available():
    return device_count() > 0


def _device_empty_like(like, shape, dtype):
    """A new device array of the library and device of `like` (torch, CuPy), or None."""
    library = type(like).__module__.split(".")[0]
    if library == "torch":
        import torch

        return torch.empty(shape, dtype=getattr(torch, dtype), device=like.device)
    if library == "cupy":
        import cupy

        with cupy.cuda.Device(like.device.id):
            return cupy.empty(shape, dtype=dtype)
    return None


if _gpu is not None:
    StandardGpuResources = _gpu.StandardGpuResources
    GpuIndex = _gpu.GpuIndex
    GpuIndexFlat = _gpu.GpuIndexFlat
    GpuIndexFlatL2 = _gpu.GpuIndexFlatL2
    GpuIndexFlatIP = _gpu.GpuIndexFlatIP
    GpuIndexIVF = _gpu.GpuIndexIVF
    GpuIndexIVFFlat = _gpu.GpuIndexIVFFlat
    GpuIndexIVFPQ = _gpu.GpuIndexIVFPQ
    index_cpu_to_gpu = _gpu.index_cpu_to_gpu
    index_gpu_to_cpu = _gpu.index_gpu_to_cpu

    def select_k(distances, k, largest=False, res=None):
        """(values, indices): the k smallest (largest) entries of each row, best first.

        `distances` is a 2-D float32 array on the host (numpy) or the device
        (torch/CuPy: results come back on the device). Ties go to the smaller
        column; NaN ranks after every number. k up to 16384.
        """
        return _gpu.select_k(distances, k, largest, res)

    def kmeans(x, k, params, metric, res=None):
        """(centroids, objective) of k-means with the assignment step on the GPU."""
        return _gpu.kmeans(res, x, k, params, metric)

else:

    class _Unavailable:
        def __init__(self, *args, **kwargs):
            raise RuntimeError(_NO_GPU_BUILD)

    class StandardGpuResources(_Unavailable):
        pass

    class GpuIndexFlat(_Unavailable):
        pass

    class GpuIndexFlatL2(_Unavailable):
        pass

    class GpuIndexFlatIP(_Unavailable):
        pass

    class GpuIndexIVFFlat(_Unavailable):
        pass

    class GpuIndexIVFPQ(_Unavailable):
        pass

    GpuIndex = GpuIndexIVF = None

    def _unavailable(*args, **kwargs):
        raise RuntimeError(_NO_GPU_BUILD)

    index_cpu_to_gpu = index_gpu_to_cpu = select_k = kmeans = _unavailable
