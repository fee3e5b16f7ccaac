#pragma once

#include <memory>

#include "gpu/GpuResources.h"
#include "sextant/impl/kmeans.h"

namespace sextant::gpu {

/// The k-means assignment step on the GPU, for sextant::kmeans(): exact
/// nearest-centroid search (GEMM tiles + fused top-1). The points are copied
/// to the device once per distinct input array (k-means passes the same
/// sample at every iteration), the centroids at each call. Make one per
/// kmeans() run.
KMeansAssign gpu_kmeans_assign(std::shared_ptr<GpuResources> res, size_t d, MetricType metric);

/// k-means of n host points with the assignment step on the GPU (the
/// centroid updates stay on the CPU: they are a small part of the work).
KMeansResult gpu_kmeans(std::shared_ptr<GpuResources> res, size_t n, size_t d, const float* x, size_t k,
                        const KMeansParams& params, MetricType metric = MetricType::L2);

}  // namespace sextant::gpu
