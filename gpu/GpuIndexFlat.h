#pragma once

#include <vector>

#include "gpu/GpuIndex.h"
#include "gpu/kernels/FlatSearch.h"
#include "sextant/IndexFlat.h"

namespace sextant::gpu {

struct GpuIndexFlatConfig {
  /// Store the vectors in fp16 (half the memory and bandwidth; products
  /// accumulate in fp32). Distances are then those of the rounded vectors.
  bool use_float16 = false;
  /// How fp32 products are computed (ignored with fp16 storage). fp32 (the
  /// default) matches the CPU IndexFlat; tf32 is fastest (~1e-3 relative
  /// error); tf32x3 keeps fp32-level accuracy on tensor cores, storing a
  /// TF32 split of the vectors (3 d floats more per vector).
  GemmPrecision precision = GemmPrecision::fp32;
};

/// Exact search on the GPU (IndexFlat's GPU twin): cuBLAS GEMM tiles with the
/// norms trick and fused k-selection, k up to 2048. Ids are insertion order.
class GpuIndexFlat : public GpuIndex {
 public:
  GpuIndexFlat(std::shared_ptr<GpuResources> res, int d, MetricType metric = MetricType::L2,
               GpuIndexFlatConfig config = {});
  /// A GPU copy of a CPU IndexFlat.
  GpuIndexFlat(std::shared_ptr<GpuResources> res, const IndexFlat& index, GpuIndexFlatConfig config = {});
  std::string type_name() const override { return "GpuIndexFlat"; }
  bool removal_closes_up_ids() const override { return true; }
  const GpuIndexFlatConfig& config() const { return config_; }

  /// Replaces the contents with an IndexFlat's vectors.
  void copy_from(const IndexFlat& index);
  /// A CPU IndexFlat with these vectors (from fp16 storage: the rounded values).
  std::unique_ptr<IndexFlat> to_cpu() const;
  /// A host copy of all stored vectors as fp32, ntotal x d (IndexFlat::vectors()
  /// points into the index; device memory can only be copied).
  std::vector<float> host_vectors() const;

  /// The device view of the stored vectors, for kernels (caller holds the lock).
  FlatDatabase database() const;
  FlatSearchOptions search_options() const;

 protected:
  void search_device_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                          const SearchParams& params) const override;
  void add_device_impl(idx_t n, const float* x, const idx_t* ids) override;
  void reconstruct_impl(idx_t key, float* recons) const override;
  void reset_impl() override;

 private:
  bool uses_split() const { return !config_.use_float16 && config_.precision == GemmPrecision::tf32x3; }
  void reserve(idx_t n);
  void append(idx_t n, const float* x);  // x in device memory

  GpuIndexFlatConfig config_;
  DeviceBuffer<float> xb32_;
  DeviceBuffer<uint16_t> xb16_;
  DeviceBuffer<float> xb_split_;  // tf32x3: nb x 3d
  DeviceBuffer<float> norms_;
  idx_t capacity_ = 0;
};

class GpuIndexFlatL2 : public GpuIndexFlat {
 public:
  GpuIndexFlatL2(std::shared_ptr<GpuResources> res, int d, GpuIndexFlatConfig config = {})
      : GpuIndexFlat(std::move(res), d, MetricType::L2, config) {}
  std::string type_name() const override { return "GpuIndexFlatL2"; }
};

class GpuIndexFlatIP : public GpuIndexFlat {
 public:
  GpuIndexFlatIP(std::shared_ptr<GpuResources> res, int d, GpuIndexFlatConfig config = {})
      : GpuIndexFlat(std::move(res), d, MetricType::INNER_PRODUCT, config) {}
  std::string type_name() const override { return "GpuIndexFlatIP"; }
};

}  // namespace sextant::gpu
