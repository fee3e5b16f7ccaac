#pragma once

#include <memory>

#include "gpu/GpuResources.h"
#include "sextant/Index.h"

namespace sextant::gpu {

/// Base of the GPU indexes. A GPU index is an Index: it takes host arrays
/// through the usual train / add / search (queries are copied to the device in
/// chunks), and device arrays through add_device / search_device. Every call
/// holds its resources' lock, so concurrent searches are safe (serialised on
/// the device). What a GPU index cannot do (range search, removal) throws,
/// pointing at index_gpu_to_cpu.
class GpuIndex : public Index {
 public:
  GpuResources& resources() const { return *res_; }
  const std::shared_ptr<GpuResources>& shared_resources() const { return res_; }
  int device() const { return res_->device(); }
  /// GPU indexes take no IDSelector; subclasses add the knobs they read.
  KnobSet search_knobs() const override { return 0; }

  /// search() with queries x (n x d), distances and labels (n x k) all in
  /// device memory on this index's device. Queries are not checked for NaN.
  void search_device(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                     const SearchParams& params = {}) const;
  /// add() / add_with_ids() from vectors in device memory; ids (if any) in host memory.
  void add_device(idx_t n, const float* x, const idx_t* ids = nullptr);

 protected:
  GpuIndex(std::shared_ptr<GpuResources> res, int d, MetricType metric, bool is_trained);

  /// Both search paths end here, holding the lock, with device arrays.
  virtual void search_device_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                                  const SearchParams& params) const = 0;
  /// Both add paths end here, holding the lock; x in device memory, ids host or null.
  virtual void add_device_impl(idx_t n, const float* x, const idx_t* ids) = 0;

  void search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                   const SearchParams& params) const final;
  void add_impl(idx_t n, const float* x, const idx_t* ids) final;
  void range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                         RangeSearchResult& result) const override;

  /// Checks the k the register queues can serve.
  void check_k(idx_t k) const;

  std::shared_ptr<GpuResources> res_;
};

/// Copies n elements host -> device (or back) on the resources' stream and waits.
void copy_to_device(GpuResources& res, void* dst, const void* src, size_t bytes);
void copy_to_host(GpuResources& res, void* dst, const void* src, size_t bytes);

}  // namespace sextant::gpu
