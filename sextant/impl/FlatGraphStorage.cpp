#include "sextant/impl/FlatGraphStorage.h"

#include <cstring>

#include "sextant/utils/kernels.h"

namespace sextant {

namespace {

/// Distances between float rows: L2 squared, or the negated inner product.
class FlatDistance final : public GraphDistance {
 public:
  FlatDistance(const float* xb, size_t d, MetricType metric)
      : xb_(xb), d_(d), ip_(metric == MetricType::INNER_PRODUCT), k_(kernels()) {}

  void set_query(const float* x) override { q_ = x; }
  void set_query_node(node_t i) override { q_ = row(i); }
  float distance(node_t i) override { return pair(q_, row(i)); }
  void distances(const node_t* ids, size_t n, float bound, float* out) override {
    if (ip_) {
      k_.inner_product_gather(q_, xb_, d_, ids, n, out);
      for (size_t j = 0; j < n; j++) out[j] = -out[j];
    } else {
      k_.l2sqr_gather(q_, xb_, d_, ids, n, bound, out);
    }
  }
  float between(node_t a, node_t b) override { return pair(row(a), row(b)); }

 private:
  const float* row(node_t i) const { return xb_ + size_t(i) * d_; }
  float pair(const float* a, const float* b) const { return ip_ ? -k_.inner_product(a, b, d_) : k_.l2sqr(a, b, d_); }

  const float* xb_;
  size_t d_;
  bool ip_;
  const Kernels& k_;
  const float* q_ = nullptr;
};

}  // namespace

void FlatGraphStorage::append(size_t n, const float* x) { xb_.insert(xb_.end(), x, x + n * d_); }

void FlatGraphStorage::replace(size_t i, const float* x) { std::memcpy(xb_.data() + i * d_, x, d_ * sizeof(float)); }

void FlatGraphStorage::compact(const std::vector<node_t>& kept) {
  for (size_t j = 0; j < kept.size(); j++) {
    if (kept[j] != j) std::memcpy(xb_.data() + j * d_, xb_.data() + size_t(kept[j]) * d_, d_ * sizeof(float));
  }
  xb_.resize(kept.size() * d_);
}

std::unique_ptr<GraphDistance> FlatGraphStorage::distance_computer() const {
  return std::make_unique<FlatDistance>(xb_.data(), d_, metric_);
}

}  // namespace sextant
