#include "gpu/GpuIndex.h"

#include <algorithm>

#include "gpu/select/Planning.h"
#include "sextant/base/Error.h"

namespace sextant::gpu {

namespace {

// Host batches travel through the device this many bytes at a time (queries
// plus results), so memory stays bounded for any n.
constexpr int64_t kHostChunkBytes = int64_t{256} << 20;

std::shared_ptr<GpuResources> checked(std::shared_ptr<GpuResources> res) {
  SEXTANT_CHECK(res != nullptr, "GPU resources must not be null");
  return res;
}

}  // namespace

void copy_to_device(GpuResources& res, void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  SEXTANT_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, res.stream()));
}

void copy_to_host(GpuResources& res, void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  SEXTANT_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, res.stream()));
  SEXTANT_CUDA_CHECK(cudaStreamSynchronize(res.stream()));
}

GpuIndex::GpuIndex(std::shared_ptr<GpuResources> res, int d, MetricType metric, bool is_trained)
    : Index(d, metric, is_trained), res_(checked(std::move(res))) {}

void GpuIndex::check_k(idx_t k) const {
  SEXTANT_CHECK(k >= 1 && k <= kMaxRegisterK, type_name(), " supports k up to ", kMaxRegisterK, ", got k=", k);
}

void GpuIndex::search_device(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                             const SearchParams& params) const {
  SEXTANT_CHECK(k > 0, "k must be > 0, got ", k);
  SEXTANT_CHECK(n >= 0, "n (the number of queries) must be >= 0, got ", n);
  SEXTANT_CHECK(is_trained(), type_name(), " is not trained: call train() before search()");
  SEXTANT_CHECK(n == 0 || (x != nullptr && distances != nullptr && labels != nullptr),
                "queries, distances and labels must not be null");
  const KnobSet unknown = params.knobs() & ~search_knobs();
  SEXTANT_CHECK(unknown == 0, type_name(), " does not use SearchParams field(s): ", knob_names(unknown));
  check_k(k);
  if (n == 0) return;
  auto lock = res_->lock();
  search_device_impl(n, x, k, distances, labels, params);
  res_->synchronize();  // results are ready when the call returns, as for host arrays
}

void GpuIndex::add_device(idx_t n, const float* x, const idx_t* ids) {
  SEXTANT_CHECK(is_trained(), type_name(), " is not trained: call train() before add()");
  SEXTANT_CHECK(n >= 0, "n (the number of added vectors) must be >= 0, got ", n);
  SEXTANT_CHECK(n == 0 || x != nullptr, "added vectors must not be null");
  if (n == 0) return;
  auto lock = res_->lock();
  add_device_impl(n, x, ids);
  res_->synchronize();
}

void GpuIndex::search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                           const SearchParams& params) const {
  check_k(k);
  auto lock = res_->lock();
  GpuResources& res = *res_;
  const int64_t per_query = int64_t(d_) * 4 + k * 12;
  const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(n, kHostChunkBytes / per_query));
  ScratchBuffer<float> xq(res.scratch(), chunk * d_);
  ScratchBuffer<float> dist(res.scratch(), chunk * k);
  ScratchBuffer<idx_t> lab(res.scratch(), chunk * k);
  for (idx_t i0 = 0; i0 < n; i0 += chunk) {
    const idx_t m = std::min<idx_t>(chunk, n - i0);
    copy_to_device(res, xq.data(), x + i0 * d_, m * d_ * sizeof(float));
    search_device_impl(m, xq.data(), k, dist.data(), lab.data(), params);
    copy_to_host(res, distances + i0 * k, dist.data(), m * k * sizeof(float));
    copy_to_host(res, labels + i0 * k, lab.data(), m * k * sizeof(idx_t));
  }
}

void GpuIndex::add_impl(idx_t n, const float* x, const idx_t* ids) {
  auto lock = res_->lock();
  GpuResources& res = *res_;
  const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(n, kHostChunkBytes / (int64_t(d_) * 4)));
  ScratchBuffer<float> xd(res.scratch(), chunk * d_);
  for (idx_t i0 = 0; i0 < n; i0 += chunk) {
    const idx_t m = std::min<idx_t>(chunk, n - i0);
    copy_to_device(res, xd.data(), x + i0 * d_, m * d_ * sizeof(float));
    add_device_impl(m, xd.data(), ids ? ids + i0 : nullptr);
  }
  res.synchronize();
}

void GpuIndex::range_search_impl(idx_t, const float*, float, const SearchParams&, RangeSearchResult&) const {
  SEXTANT_FAIL(type_name(), " has no range search on the GPU: convert it with index_gpu_to_cpu()");
}

}  // namespace sextant::gpu
