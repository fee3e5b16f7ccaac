#include "gpu/GpuCloner.h"

#include "gpu/GpuIndexFlat.h"
#include "gpu/GpuIndexIVFFlat.h"
#include "gpu/GpuIndexIVFPQ.h"
#include "sextant/IndexFlat.h"
#include "sextant/IndexIVFFlat.h"
#include "sextant/IndexIVFPQ.h"
#include "sextant/IndexIVFPQFastScan.h"
#include "sextant/base/Error.h"

namespace sextant::gpu {

std::unique_ptr<GpuIndex> index_cpu_to_gpu(std::shared_ptr<GpuResources> res, int device, const Index& index,
                                           const GpuClonerOptions& options) {
  SEXTANT_CHECK(res != nullptr, "GPU resources must not be null");
  SEXTANT_CHECK(device == res->device(), "index_cpu_to_gpu: device ", device, " differs from the resources' device ",
                res->device());
  if (dynamic_cast<const IndexIVFPQFastScan*>(&index) != nullptr) {
    SEXTANT_FAIL("index_cpu_to_gpu: IndexIVFPQFastScan has no GPU twin (its 8-bit tables give other "
                 "results); build an IndexIVFPQ instead");
  }
  if (const auto* pq = dynamic_cast<const IndexIVFPQ*>(&index)) return std::make_unique<GpuIndexIVFPQ>(res, *pq);
  if (const auto* ivf = dynamic_cast<const IndexIVFFlat*>(&index)) return std::make_unique<GpuIndexIVFFlat>(res, *ivf);
  if (const auto* flat = dynamic_cast<const IndexFlat*>(&index)) {
    GpuIndexFlatConfig config;
    config.use_float16 = options.use_float16;
    config.precision = options.precision;
    return std::make_unique<GpuIndexFlat>(res, *flat, config);
  }
  SEXTANT_FAIL("index_cpu_to_gpu supports IndexFlat, IndexIVFFlat and IndexIVFPQ, got ", index.type_name());
}

std::unique_ptr<Index> index_gpu_to_cpu(const Index& index) {
  if (const auto* pq = dynamic_cast<const GpuIndexIVFPQ*>(&index)) return pq->to_cpu();
  if (const auto* ivf = dynamic_cast<const GpuIndexIVFFlat*>(&index)) return ivf->to_cpu();
  if (const auto* flat = dynamic_cast<const GpuIndexFlat*>(&index)) return flat->to_cpu();
  SEXTANT_FAIL("index_gpu_to_cpu supports GpuIndexFlat, GpuIndexIVFFlat and GpuIndexIVFPQ, got ",
               index.type_name());
}

}  // namespace sextant::gpu
