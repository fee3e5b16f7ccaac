#include "gpu/GpuKmeans.h"

#include "gpu/GpuIndex.h"
#include "gpu/kernels/FlatSearch.h"
#include "gpu/kernels/VectorOps.h"
#include "sextant/base/Error.h"

namespace sextant::gpu {

namespace {

struct AssignState {
  std::shared_ptr<GpuResources> res;
  size_t d;
  MetricType metric;
  const float* cached = nullptr;  // host array whose copy `points` holds
  size_t cached_n = 0;
  DeviceBuffer<float> points, centroids, norms;
};

}  // namespace

KMeansAssign gpu_kmeans_assign(std::shared_ptr<GpuResources> res, size_t d, MetricType metric) {
  SEXTANT_CHECK(res != nullptr, "GPU resources must not be null");
  auto state = std::make_shared<AssignState>();
  state->res = std::move(res);
  state->d = d;
  state->metric = metric;
  return [state](size_t n, const float* x, size_t k, const float* centroids, idx_t* labels, float* distances) {
    GpuResources& res = *state->res;
    auto lock = res.lock();
    const size_t d = state->d;
    if (x != state->cached || n != state->cached_n) {
      state->points.reallocate(n * d);
      copy_to_device(res, state->points.data(), x, n * d * sizeof(float));
      state->cached = x;
      state->cached_n = n;
    }
    if (state->centroids.size() != k * d) {
      state->centroids.reallocate(k * d);
      state->norms.reallocate(k);
    }
    copy_to_device(res, state->centroids.data(), centroids, k * d * sizeof(float));
    FlatDatabase db;
    db.xb32 = state->centroids.data();
    db.nb = static_cast<int64_t>(k);
    db.d = static_cast<int>(d);
    if (state->metric == MetricType::L2) {
      row_norms(res, db.xb32, db.nb, db.d, state->norms.data());
      db.norms = state->norms.data();
    }
    FlatSearchOptions options;
    options.metric = state->metric;
    ScratchBuffer<float> dist(res.scratch(), n);
    ScratchBuffer<int64_t> lab(res.scratch(), n);
    flat_search(res, state->points.data(), static_cast<int64_t>(n), db, 1, options, dist.data(), lab.data());
    copy_to_host(res, distances, dist.data(), n * sizeof(float));
    copy_to_host(res, labels, lab.data(), n * sizeof(int64_t));
  };
}

KMeansResult gpu_kmeans(std::shared_ptr<GpuResources> res, size_t n, size_t d, const float* x, size_t k,
                        const KMeansParams& params, MetricType metric) {
  return kmeans(n, d, x, k, params, gpu_kmeans_assign(std::move(res), d, metric), is_similarity(metric));
}

}  // namespace sextant::gpu
