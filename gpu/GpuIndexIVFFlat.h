#pragma once

#include "gpu/GpuIndexIVF.h"
#include "sextant/IndexIVFFlat.h"

namespace sextant::gpu {

/// IVF with vectors stored as they are (IndexIVFFlat's GPU twin): exact
/// distances within the probed lists.
class GpuIndexIVFFlat : public GpuIndexIVF {
 public:
  GpuIndexIVFFlat(std::shared_ptr<GpuResources> res, int d, size_t nlist, MetricType metric = MetricType::L2);
  /// A GPU copy of a trained CPU index (same centroids, lists, ids).
  GpuIndexIVFFlat(std::shared_ptr<GpuResources> res, const IndexIVFFlat& index);
  std::string type_name() const override { return "GpuIndexIVFFlat"; }

  void copy_from(const IndexIVFFlat& index);
  /// A CPU IndexIVFFlat with the same centroids, lists and ids.
  std::unique_ptr<IndexIVFFlat> to_cpu() const;

 protected:
  void encode_device(idx_t n, const float* x, const int64_t* lists, const int64_t* pos) override;
  void scan(const ScanBlock& block) const override;
};

}  // namespace sextant::gpu
