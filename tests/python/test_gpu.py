"""sextant.gpu: imports and says "no CUDA device" clearly everywhere; with a
device, every GPU result is compared with the CPU index on the same data."""

import os

import numpy as np
import pytest

import sextant as sx
import sextant.gpu

# Every kernel launch synchronised (read when resources are made): a kernel that faults is named by its own check.
os.environ.setdefault("SEXTANT_GPU_SYNC_LAUNCHES", "1")

HAS_GPU = sx.gpu.device_count() > 0
needs_gpu = pytest.mark.skipif(not HAS_GPU, reason="no CUDA device present")
no_gpu_only = pytest.mark.skipif(HAS_GPU, reason="a CUDA device is present")


def clustered(n, d, seed):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-3, 3, (64, d)).astype(np.float32)
    return (centers[rng.integers(0, 64, n)] + rng.uniform(-0.5, 0.5, (n, d))).astype(np.float32)


def same_up_to_ties(Da, Ia, Db, Ib, rtol=1e-4):
    """Per rank equal distances; labels equal except among ties at the k-th distance."""
    scale = np.maximum(1.0, np.abs(Da))
    finite = np.isfinite(Da) & np.isfinite(Db)
    assert np.all(np.abs(Da[finite] - Db[finite]) <= rtol * scale[finite]), "distances differ"
    assert np.array_equal(np.isfinite(Da), np.isfinite(Db))
    kth = np.maximum(Da[:, -1:], Db[:, -1:])
    for row in range(len(Ia)):
        missing = ~np.isin(Ia[row], Ib[row])
        boundary = np.abs(Da[row] - kth[row]) <= 2 * rtol * np.maximum(1.0, np.abs(kth[row]))
        assert np.all(boundary[missing]), f"row {row}: labels differ away from ties"


def test_imports_everywhere():
    assert isinstance(sx.gpu.device_count(), int)
    assert sx.gpu.device_count() >= 0
    for name in ("StandardGpuResources", "GpuIndexFlatL2", "GpuIndexFlatIP", "GpuIndexIVFFlat", "GpuIndexIVFPQ",
                 "index_cpu_to_gpu", "index_gpu_to_cpu", "select_k"):
        assert hasattr(sx.gpu, name)


@no_gpu_only
def test_without_gpu_errors_say_so():
    with pytest.raises(RuntimeError, match="no CUDA device is present|without GPU support"):
        sx.gpu.StandardGpuResources()
    with pytest.raises(RuntimeError, match="no CUDA device is present|without GPU support"):
        sx.gpu.GpuIndexFlatL2(None, 16)
    with pytest.raises(RuntimeError, match="no CUDA device is present|without GPU support"):
        sx.gpu.index_cpu_to_gpu(None, 0, sx.IndexFlatL2(8))
    with pytest.raises(RuntimeError, match="no CUDA device is present|without GPU support"):
        sx.Kmeans(8, 4, gpu=True).train(np.random.rand(100, 8).astype(np.float32))


@pytest.fixture(scope="module")
def res():
    if not HAS_GPU:
        pytest.skip("no CUDA device present")
    return sx.gpu.StandardGpuResources(0)


@needs_gpu
@pytest.mark.parametrize("metric", [sx.METRIC_L2, sx.METRIC_INNER_PRODUCT])
def test_flat_matches_cpu(res, metric):
    xb, xq = clustered(20000, 64, 1), clustered(300, 64, 2)
    cpu = sx.IndexFlat(64, metric)
    cpu.add(xb)
    gpu = sx.gpu.GpuIndexFlat(res, 64, metric)
    gpu.add(xb)
    for k in (1, 10, 512):
        Da, Ia = cpu.search(xq, k)
        Db, Ib = gpu.search(xq, k)
        same_up_to_ties(Da, Ia, Db, Ib)
    back = sx.gpu.index_gpu_to_cpu(gpu)
    assert back.ntotal == cpu.ntotal
    np.testing.assert_array_equal(back.search(xq, 5)[1], cpu.search(xq, 5)[1])


@needs_gpu
def test_flat_precisions(res):
    xb, xq = clustered(20000, 128, 11), clustered(200, 128, 12)
    cpu = sx.IndexFlatL2(128)
    cpu.add(xb)
    Da, Ia = cpu.search(xq, 10)
    x3 = sx.gpu.index_cpu_to_gpu(res, 0, cpu, precision="3xtf32")
    Db, Ib = x3.search(xq, 10)
    same_up_to_ties(Da, Ia, Db, Ib)
    with pytest.raises(ValueError, match="precision"):
        sx.gpu.GpuIndexFlatL2(res, 8, precision="fp64")


@needs_gpu
def test_ivf_flat_and_pq_copies_match_cpu(res):
    xb, xq = clustered(20000, 32, 3), clustered(200, 32, 4)
    ivf = sx.IndexIVFFlat(sx.IndexFlatL2(32), 32, 50)
    ivf.train(xb)
    ivf.add(xb)
    pq = sx.IndexIVFPQ(sx.IndexFlatL2(32), 32, 50, 8, 8)
    pq.train(xb)
    pq.add(xb)
    for cpu in (ivf, pq):
        gpu = sx.gpu.index_cpu_to_gpu(res, 0, cpu)
        for nprobe in (1, 10):
            Da, Ia = cpu.search(xq, 20, nprobe=nprobe)
            Db, Ib = gpu.search(xq, 20, nprobe=nprobe)
            same_up_to_ties(Da, Ia, Db, Ib)
        back = sx.gpu.index_gpu_to_cpu(gpu)
        np.testing.assert_array_equal(back.search(xq, 10, nprobe=4)[1], cpu.search(xq, 10, nprobe=4)[1])


@needs_gpu
def test_ivfpq_trained_on_gpu_with_reranking(res):
    xb, xq = clustered(30000, 32, 5), clustered(200, 32, 6)
    gpu = sx.gpu.GpuIndexIVFPQ(res, 32, 64, 8, 8, keep_raw_vectors=True)
    gpu.train(xb)
    gpu.add(xb)
    exact = sx.IndexFlatL2(32)
    exact.add(xb)
    _, It = exact.search(xq, 10)
    _, Ir = gpu.search(xq, 10, nprobe=16, k_factor=8)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(It, Ir)])
    assert recall >= 0.9


@needs_gpu
def test_select_k_matches_numpy(res):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((50, 10000)).astype(np.float32)
    x[:, ::97] = np.inf
    x[3, 5] = np.nan
    for k in (1, 64, 300, 3000):
        values, indices = sx.gpu.select_k(x, k, res=res)
        order = np.argsort(x, axis=1, kind="stable")[:, :k]  # NaN last, ties by column
        np.testing.assert_array_equal(indices, order)
        np.testing.assert_array_equal(values, np.take_along_axis(x, order, 1))
        _, top = sx.gpu.select_k(x, k, largest=True, res=res)
        assert np.all(np.take_along_axis(x, top, 1)[:, 0] >= np.nanmax(np.where(np.isinf(x), -np.inf, x), 1))


@needs_gpu
def test_torch_device_arrays_in_and_out(res):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch without CUDA")
    xb, xq = clustered(10000, 32, 8), clustered(100, 32, 9)
    gpu = sx.gpu.GpuIndexFlatL2(res, 32)
    gpu.add(torch.from_numpy(xb).cuda())  # add from device memory
    D, I = gpu.search(torch.from_numpy(xq).cuda(), 10)
    assert isinstance(D, torch.Tensor) and D.is_cuda and I.dtype == torch.int64
    Dh, Ih = gpu.search(xq, 10)
    np.testing.assert_array_equal(I.cpu().numpy(), Ih)
    np.testing.assert_allclose(D.cpu().numpy(), Dh, rtol=1e-6)
    values, indices = sx.gpu.select_k(torch.from_numpy(xq).cuda(), 5, res=res)
    assert values.is_cuda
    np.testing.assert_array_equal(indices.cpu().numpy(), np.argsort(xq, axis=1, kind="stable")[:, :5])
    # DLPack-only producers go through the capsule path.
    class DLPackOnly:
        def __init__(self, t):
            self.t = t

        def __dlpack__(self, stream=None):
            return self.t.__dlpack__(stream=stream)

        def __dlpack_device__(self):
            return self.t.__dlpack_device__()

    D2, I2 = gpu.search(DLPackOnly(torch.from_numpy(xq).cuda()), 10)
    np.testing.assert_array_equal(I2, Ih)  # results as numpy for unknown libraries


@needs_gpu
def test_kmeans_on_gpu_matches_cpu():
    x = clustered(20000, 16, 10)
    cpu = sx.Kmeans(16, 40, niter=10, seed=3)
    gpu = sx.Kmeans(16, 40, niter=10, seed=3, gpu=True)
    obj_cpu, obj_gpu = cpu.train(x), gpu.train(x)
    assert abs(obj_gpu - obj_cpu) <= 1e-3 * obj_cpu
    assert gpu.centroids.shape == (40, 16)


def recall(found, truth):
    return np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, truth)])


@needs_gpu
@pytest.mark.parametrize("metric", [sx.METRIC_L2, sx.METRIC_INNER_PRODUCT])
def test_flat_equals_cpu_with_tf32_off(res, metric):
    rng = np.random.default_rng(21)
    xb = rng.standard_normal((50000, 96)).astype(np.float32)  # continuous data: no exact ties
    xq = rng.standard_normal((500, 96)).astype(np.float32)
    cpu = sx.IndexFlat(96, metric)
    cpu.add(xb)
    gpu = sx.gpu.index_cpu_to_gpu(res, 0, cpu)  # fp32 products (TF32 off), the default
    Da, Ia = cpu.search(xq, 10)
    Db, Ib = gpu.search(xq, 10)
    assert recall(Ib, Ia) == 1.0
    np.testing.assert_allclose(Db, Da, rtol=1e-4, atol=1e-4)


@needs_gpu
def test_trained_on_gpu_recall_matches_cpu(res):
    xb, xq = clustered(30000, 32, 31), clustered(300, 32, 32)
    exact = sx.IndexFlatL2(32)
    exact.add(xb)
    _, truth = exact.search(xq, 10)
    pairs = [
        (sx.IndexIVFFlat(sx.IndexFlatL2(32), 32, 64), sx.gpu.GpuIndexIVFFlat(res, 32, 64)),
        (sx.IndexIVFPQ(sx.IndexFlatL2(32), 32, 64, 8, 8), sx.gpu.GpuIndexIVFPQ(res, 32, 64, 8, 8)),
    ]
    for cpu, gpu in pairs:
        for index in (cpu, gpu):
            index.train(xb)
            index.add(xb)
        for nprobe in (4, 16):
            r_cpu = recall(cpu.search(xq, 10, nprobe=nprobe)[1], truth)
            r_gpu = recall(gpu.search(xq, 10, nprobe=nprobe)[1], truth)
            assert abs(r_gpu - r_cpu) <= 0.01, (type(gpu).__name__, nprobe, r_cpu, r_gpu)


@needs_gpu
def test_kmeans_objective_within_one_percent(res):
    x = clustered(50000, 32, 33)
    cpu = sx.Kmeans(32, 100, niter=10, seed=5)
    gpu = sx.Kmeans(32, 100, niter=10, seed=5, gpu=True)
    obj_cpu, obj_gpu = cpu.train(x), gpu.train(x)
    assert abs(obj_gpu - obj_cpu) <= 0.01 * obj_cpu


def _torch_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch without CUDA")
    return torch


@needs_gpu
def test_torch_inputs_are_read_after_the_kernels_producing_them(res):
    """The queries are written by a kernel queued behind ~0.1 s of spinning on
    torch's current stream; no synchronize before the search."""
    torch = _torch_cuda()
    xb, xq = clustered(20000, 32, 34), clustered(100, 32, 35)
    gpu = sx.gpu.GpuIndexFlatL2(res, 32)
    gpu.add(xb)
    _, Ih = gpu.search(xq, 10)
    _, Sh = sx.gpu.select_k(xq, 5, res=res)
    src = torch.from_numpy(xq).cuda()
    side = torch.cuda.Stream()
    torch.cuda.synchronize()
    with torch.cuda.stream(side):
        q = torch.zeros_like(src)
        torch.cuda._sleep(200_000_000)
        q.copy_(src)
        _, I = gpu.search(q, 10)
        _, S = sx.gpu.select_k(q, 5, res=res)
    torch.cuda.synchronize()
    np.testing.assert_array_equal(I.cpu().numpy(), Ih)
    np.testing.assert_array_equal(S.cpu().numpy(), Sh)


@needs_gpu
def test_torch_outputs_wait_for_work_on_their_memory(res):
    """torch hands a freed block out again at once on the same stream; a kernel
    still queued to write it must land before the results do, not after."""
    torch = _torch_cuda()
    xb, xq = clustered(20000, 32, 36), clustered(100, 32, 37)
    gpu = sx.gpu.GpuIndexFlatL2(res, 32)
    gpu.add(xb)
    Dh, Ih = gpu.search(xq, 10)
    q = torch.from_numpy(xq).cuda()
    side = torch.cuda.Stream()
    torch.cuda.synchronize()
    with torch.cuda.stream(side):
        stale = torch.empty((100, 10), device="cuda")
        torch.cuda._sleep(200_000_000)
        stale.fill_(-7.0)
        del stale
        D, I = gpu.search(q, 10)
    torch.cuda.synchronize()
    assert not bool((D == -7.0).any())
    np.testing.assert_array_equal(I.cpu().numpy(), Ih)
    np.testing.assert_allclose(D.cpu().numpy(), Dh, rtol=1e-6)


@needs_gpu
def test_torch_tensors_make_no_host_copies(res):
    torch = _torch_cuda()
    from torch.profiler import ProfilerActivity, profile

    xb, xq = clustered(20000, 32, 38), clustered(100, 32, 39)
    flat = sx.gpu.GpuIndexFlatL2(res, 32)
    flat.add(torch.from_numpy(xb).cuda())
    ivf = sx.gpu.index_cpu_to_gpu(res, 0, _trained_ivf_flat(xb))
    q = torch.from_numpy(xq).cuda()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        outputs = [flat.search(q, 10), ivf.search(q, 10, nprobe=4), sx.gpu.select_k(q, 5, res=res)]
        flat.add(q)
        torch.cuda.synchronize()
    for D, I in outputs:
        assert D.is_cuda and I.is_cuda
    names = [e.name for e in prof.events()]
    if not any("kernel" in n.lower() for n in names):
        pytest.skip("the profiler records no CUDA activity on this machine")
    copies = [n for n in names if "DtoH" in n or "HtoD" in n]
    assert not copies, copies


def _trained_ivf_flat(xb):
    ivf = sx.IndexIVFFlat(sx.IndexFlatL2(xb.shape[1]), xb.shape[1], 32)
    ivf.train(xb)
    ivf.add(xb)
    return ivf
