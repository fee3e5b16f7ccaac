#include "gpu/GpuIndexFlat.h"

#include <algorithm>

#include "gpu/kernels/VectorOps.h"
#include "gpu/select/OrderedKey.h"
#include "gpu/select/Planning.h"
#include "sextant/base/Error.h"

namespace sextant::gpu {

GpuIndexFlat::GpuIndexFlat(std::shared_ptr<GpuResources> res, int d, MetricType metric, GpuIndexFlatConfig config)
    : GpuIndex(std::move(res), d, metric, true), config_(config) {}

GpuIndexFlat::GpuIndexFlat(std::shared_ptr<GpuResources> res, const IndexFlat& index, GpuIndexFlatConfig config)
    : GpuIndexFlat(std::move(res), index.d(), index.metric(), config) {
  copy_from(index);
}

FlatDatabase GpuIndexFlat::database() const {
  FlatDatabase db;
  db.xb32 = config_.use_float16 ? nullptr : xb32_.data();
  db.xb16 = config_.use_float16 ? xb16_.data() : nullptr;
  db.xb_split = xb_split_.empty() ? nullptr : xb_split_.data();
  db.norms = metric_ == MetricType::L2 ? norms_.data() : nullptr;
  db.nb = ntotal_;
  db.d = d_;
  return db;
}

FlatSearchOptions GpuIndexFlat::search_options() const {
  FlatSearchOptions o;
  o.metric = metric_;
  o.precision = config_.precision;
  return o;
}

void GpuIndexFlat::reserve(idx_t n) {
  if (n <= capacity_) return;
  const idx_t cap = std::max<idx_t>(n, capacity_ + capacity_ / 2);
  GpuResources& res = *res_;
  const size_t used = size_t(ntotal_) * d_;
  if (config_.use_float16) {
    DeviceBuffer<uint16_t> grown(size_t(cap) * d_);
    if (used) SEXTANT_CUDA_CHECK(cudaMemcpyAsync(grown.data(), xb16_.data(), used * 2, cudaMemcpyDeviceToDevice, res.stream()));
    res.synchronize();  // the old buffer is freed below
    xb16_ = std::move(grown);
  } else {
    DeviceBuffer<float> grown(size_t(cap) * d_);
    if (used) SEXTANT_CUDA_CHECK(cudaMemcpyAsync(grown.data(), xb32_.data(), used * 4, cudaMemcpyDeviceToDevice, res.stream()));
    res.synchronize();
    xb32_ = std::move(grown);
  }
  if (uses_split()) {
    DeviceBuffer<float> grown(size_t(cap) * 3 * d_);
    if (used) SEXTANT_CUDA_CHECK(cudaMemcpyAsync(grown.data(), xb_split_.data(), used * 3 * 4, cudaMemcpyDeviceToDevice, res.stream()));
    res.synchronize();
    xb_split_ = std::move(grown);
  }
  if (metric_ == MetricType::L2) {
    DeviceBuffer<float> grown(cap);
    if (ntotal_) SEXTANT_CUDA_CHECK(cudaMemcpyAsync(grown.data(), norms_.data(), ntotal_ * 4, cudaMemcpyDeviceToDevice, res.stream()));
    res.synchronize();
    norms_ = std::move(grown);
  }
  capacity_ = cap;
}

void GpuIndexFlat::append(idx_t n, const float* x) {
  SEXTANT_CHECK(ntotal_ + n < idx_t(kPadId), type_name(), " holds fewer than 2^32 - 1 vectors");
  reserve(ntotal_ + n);
  GpuResources& res = *res_;
  const size_t at = size_t(ntotal_) * d_;
  if (config_.use_float16) {
    to_fp16(res, x, n * d_, xb16_.data() + at);
    if (metric_ == MetricType::L2) row_norms_fp16(res, xb16_.data() + at, n, d_, norms_.data() + ntotal_);
  } else {
    SEXTANT_CUDA_CHECK(cudaMemcpyAsync(xb32_.data() + at, x, size_t(n) * d_ * 4, cudaMemcpyDeviceToDevice, res.stream()));
    if (metric_ == MetricType::L2) row_norms(res, xb32_.data() + at, n, d_, norms_.data() + ntotal_);
    if (uses_split()) split_tf32_rows(res, x, n, d_, /*database=*/true, xb_split_.data() + at * 3);
  }
  ntotal_ += n;
}

void GpuIndexFlat::add_device_impl(idx_t n, const float* x, const idx_t* ids) {
  SEXTANT_CHECK(ids == nullptr, type_name(), " numbers vectors in insertion order and cannot take ids: wrap it in an IndexIDMap");
  append(n, x);
}

void GpuIndexFlat::search_device_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                                      const SearchParams&) const {
  flat_search(*res_, x, n, database(), k, search_options(), distances, labels);
}

std::vector<float> GpuIndexFlat::host_vectors() const {
  std::vector<float> out(size_t(ntotal_) * d_);
  if (ntotal_ == 0) return out;
  auto lock = res_->lock();
  GpuResources& res = *res_;
  if (config_.use_float16) {
    ScratchBuffer<float> tmp(res.scratch(), out.size());
    from_fp16(res, xb16_.data(), out.size(), tmp.data());
    copy_to_host(res, out.data(), tmp.data(), out.size() * 4);
  } else {
    copy_to_host(res, out.data(), xb32_.data(), out.size() * 4);
  }
  return out;
}

void GpuIndexFlat::reconstruct_impl(idx_t key, float* recons) const {
  SEXTANT_CHECK(key >= 0 && key < ntotal_, "id ", key, " is not in ", type_name(), " (ntotal=", ntotal_, ")");
  auto lock = res_->lock();
  GpuResources& res = *res_;
  if (config_.use_float16) {
    ScratchBuffer<float> tmp(res.scratch(), d_);
    from_fp16(res, xb16_.data() + size_t(key) * d_, d_, tmp.data());
    copy_to_host(res, recons, tmp.data(), size_t(d_) * 4);
  } else {
    copy_to_host(res, recons, xb32_.data() + size_t(key) * d_, size_t(d_) * 4);
  }
}

void GpuIndexFlat::reset_impl() {
  auto lock = res_->lock();
  res_->synchronize();
  xb32_.release();
  xb16_.release();
  xb_split_.release();
  norms_.release();
  capacity_ = 0;
  ntotal_ = 0;
}

void GpuIndexFlat::copy_from(const IndexFlat& index) {
  SEXTANT_CHECK(index.d() == d_, "copy_from: the IndexFlat has d=", index.d(), ", this index d=", d_);
  SEXTANT_CHECK(index.metric() == metric_, "copy_from: the IndexFlat's metric is ", metric_name(index.metric()),
                ", this index's ", metric_name(metric_));
  reset();
  add(index.ntotal(), index.vectors());
}

std::unique_ptr<IndexFlat> GpuIndexFlat::to_cpu() const {
  auto index = std::make_unique<IndexFlat>(d_, metric_);
  const std::vector<float> x = host_vectors();
  index->add(ntotal_, x.data());
  return index;
}

}  // namespace sextant::gpu
