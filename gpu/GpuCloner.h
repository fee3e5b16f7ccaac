#pragma once

#include <memory>

#include "gpu/GpuIndex.h"
#include "gpu/kernels/FlatSearch.h"
#include "sextant/Index.h"

namespace sextant::gpu {

/// How index_cpu_to_gpu builds the GPU index.
struct GpuClonerOptions {
  bool use_float16 = false;  ///< GpuIndexFlat: fp16 storage
  GemmPrecision precision = GemmPrecision::fp32;  ///< GpuIndexFlat: how fp32 products are computed
};

/// A GPU copy of a CPU index: IndexFlat (-> GpuIndexFlat), IndexIVFFlat
/// (-> GpuIndexIVFFlat), IndexIVFPQ (-> GpuIndexIVFPQ), with the same vectors,
/// centroids, codebooks, codes and ids, so searches give the same results up
/// to floating-point ties. `device` must be the resources' device.
std::unique_ptr<GpuIndex> index_cpu_to_gpu(std::shared_ptr<GpuResources> res, int device, const Index& index,
                                           const GpuClonerOptions& options = {});

/// The CPU copy of a GPU index made by index_cpu_to_gpu or built on the GPU.
std::unique_ptr<Index> index_gpu_to_cpu(const Index& index);

}  // namespace sextant::gpu
