#include "sextant/Clustering.h"

#include "sextant/base/Error.h"
#include "sextant/utils/validate.h"

namespace sextant {

Clustering::Clustering(int d, int k, const KMeansParams& params, MetricType metric)
    : d_(d), k_(k), params_(params), metric_(metric) {
  SEXTANT_CHECK(d > 0, "d (the vector dimension) must be > 0, got ", d);
  SEXTANT_CHECK(k > 0, "k (the number of centroids) must be > 0, got ", k);
  check_metric(metric);
}

void Clustering::train(idx_t n, const float* x, Index* assigner) {
  SEXTANT_CHECK(n >= 0 && (n == 0 || x != nullptr), "training points must not be null");
  check_bounded(x, n, d_, "training points");
  KMeansAssign assign = exact_assign(d_, metric_);
  bool maximize = is_similarity(metric_);
  if (assigner != nullptr) {
    SEXTANT_CHECK(assigner->d() == d_, "the assigner index has dimension ", assigner->d(), ", expected ", d_);
    SEXTANT_CHECK(assigner->ntotal() == 0, "the assigner index must be empty, it holds ", assigner->ntotal(),
                  " vectors");
    maximize = is_similarity(assigner->metric());
    assign = [assigner](size_t n, const float* x, size_t k, const float* centroids, idx_t* labels,
                        float* distances) {
      assigner->reset();
      assigner->add(k, centroids);
      assigner->search(n, x, 1, distances, labels);
    };
  }
  result_ = kmeans(n, d_, x, k_, params_, assign, maximize);
}

}  // namespace sextant
