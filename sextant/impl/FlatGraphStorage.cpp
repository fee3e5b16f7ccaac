#include "sextant/impl/FlatGraphStorage.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "sextant/impl/permute_rows.h"
#include "sextant/utils/Error.h"
#include "sextant/utils/kernels.h"

namespace sextant {

namespace {

/// Distances between float rows: L2 squared, or the negated inner product.
class FlatDistance final : public GraphDistance {
 public:
  FlatDistance(const float* xb, size_t d, MetricType metric, const std::vector<uint32_t>& order)
      : xb_(xb), d_(d), ip_(metric == MetricType::INNER_PRODUCT), order_(order), k_(kernels()) {
    if (!order_.empty()) reordered_.resize(d);
  }

  void set_query(const float* x) override {
    if (order_.empty()) {
      q_ = x;
    } else {
      for (size_t j = 0; j < d_; j++) reordered_[j] = x[order_[j]];
      q_ = reordered_.data();
    }
  }
  void set_query_node(node_t i) override { q_ = row(i); }
  float distance(node_t i) override {
    float d;
    distances(&i, 1, __builtin_inff(), &d);
    return d;
  }
  void distances(const node_t* ids, size_t n, float bound, float* out) override {
    if (ip_) {
      k_.inner_product_gather(q_, xb_, d_, ids, n, out);
      for (size_t j = 0; j < n; j++) out[j] = -out[j];
    } else {
      k_.l2sqr_gather(q_, xb_, d_, ids, n, bound, out);
    }
  }
  float between(node_t a, node_t b) override {
    return ip_ ? -k_.inner_product(row(a), row(b), d_) : k_.l2sqr(row(a), row(b), d_);
  }

 private:
  const float* row(node_t i) const { return xb_ + size_t(i) * d_; }

  const float* xb_;
  size_t d_;
  bool ip_;
  const std::vector<uint32_t>& order_;
  const Kernels& k_;
  std::vector<float> reordered_;
  const float* q_ = nullptr;
};

}  // namespace

void FlatGraphStorage::store(const float* x, float* out) const {
  if (order_.empty()) {
    std::memcpy(out, x, d_ * sizeof(float));
  } else {
    for (size_t j = 0; j < d_; j++) out[j] = x[order_[j]];
  }
}

void FlatGraphStorage::reconstruct(size_t i, float* out) const {
  if (order_.empty()) {
    std::memcpy(out, row(i), d_ * sizeof(float));
  } else {
    for (size_t j = 0; j < d_; j++) out[order_[j]] = row(i)[j];
  }
}

void FlatGraphStorage::choose_order(size_t n, const float* x) {
  const size_t old = size();
  std::vector<double> sum(d_, 0.0), sum2(d_, 0.0);
  std::vector<float> buf(d_);
  auto account = [&](const float* v) {
    for (size_t j = 0; j < d_; j++) {
      sum[j] += v[j];
      sum2[j] += double(v[j]) * v[j];
    }
  };
  for (size_t i = 0; i < old; i++) {
    reconstruct(i, buf.data());
    account(buf.data());
  }
  for (size_t i = 0; i < n; i++) account(x + i * d_);
  const double count = double(old + n);
  std::vector<double> variance(d_);
  for (size_t j = 0; j < d_; j++) variance[j] = sum2[j] / count - (sum[j] / count) * (sum[j] / count);
  std::vector<uint32_t> order(d_);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return variance[a] > variance[b]; });
  // Rewrite the stored rows in the new order.
  for (size_t i = 0; i < old; i++) {
    reconstruct(i, buf.data());
    for (size_t j = 0; j < d_; j++) row(i)[j] = buf[order[j]];
  }
  order_ = std::move(order);
  order_fixed_ = old + n >= kOrderFixedAt;
}

void FlatGraphStorage::append(size_t n, const float* x) {
  if (n == 0) return;
  if (metric_ == MetricType::L2 && !order_fixed_) choose_order(n, x);
  const size_t old = size();
  xb_.resize((old + n) * d_);
  for (size_t i = 0; i < n; i++) store(x + i * d_, row(old + i));
}

void FlatGraphStorage::replace(size_t i, const float* x) { store(x, row(i)); }

void FlatGraphStorage::compact(const std::vector<node_t>& kept) {
  for (size_t j = 0; j < kept.size(); j++) {
    if (kept[j] != j) std::memcpy(row(j), row(kept[j]), d_ * sizeof(float));
  }
  xb_.resize(kept.size() * d_);
}

void FlatGraphStorage::permute(const std::vector<node_t>& old_of_new) {
  permute_rows(xb_.data(), d_ * sizeof(float), old_of_new);
}

void FlatGraphStorage::clear() {
  xb_.clear();
  order_.clear();
  order_fixed_ = false;
}

void FlatGraphStorage::restore(std::vector<uint32_t> order, bool fixed, LargeVector<float> rows, size_t n) {
  SEXTANT_CHECK(order.empty() || order.size() == d_, "HNSW storage: a column order of ", order.size(),
                " entries for d=", d_);
  std::vector<uint8_t> seen(order.size(), 0);
  for (uint32_t c : order) {
    SEXTANT_CHECK(c < d_ && !seen[c], "HNSW storage: the column order is not a permutation of 0..", d_ - 1);
    seen[c] = 1;
  }
  SEXTANT_CHECK(rows.size() == n * d_, "HNSW storage: ", rows.size(), " floats for ", n, " rows of d=", d_);
  xb_ = std::move(rows);
  order_ = std::move(order);
  order_fixed_ = fixed;
}

std::unique_ptr<GraphDistance> FlatGraphStorage::distance_computer() const {
  return std::make_unique<FlatDistance>(xb_.data(), d_, metric_, order_);
}

}  // namespace sextant
