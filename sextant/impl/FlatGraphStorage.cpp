#include "sextant/impl/FlatGraphStorage.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <numeric>

#include "sextant/base/Error.h"
#include "sextant/impl/permute_rows.h"
#include "sextant/utils/kernels.h"
#include "sextant/utils/validate.h"

namespace sextant {

namespace {

/// Splits 2w floats (the last one padded) into w high and w low words.
void split(const float* x, size_t w, uint32_t* high, uint32_t* low) {
  for (size_t i = 0; i < w; i++) {
    const auto e = std::bit_cast<uint32_t>(x[2 * i]), o = std::bit_cast<uint32_t>(x[2 * i + 1]);
    high[i] = e >> 16 | (o & 0xffff0000u);
    low[i] = (e & 0xffffu) | o << 16;
  }
}

/// The 2w floats of w high and w low words (low null: all zero).
void join(const uint32_t* high, const uint32_t* low, size_t w, float* out) {
  for (size_t i = 0; i < w; i++) {
    const uint32_t l = low ? low[i] : 0;
    out[2 * i] = std::bit_cast<float>(high[i] << 16 | (l & 0xffffu));
    out[2 * i + 1] = std::bit_cast<float>((high[i] & 0xffff0000u) | l >> 16);
  }
}

/// Distances between split rows: L2 squared, or the negated inner product.
/// Traversals read the high halves only (see FlatGraphStorage); without low
/// halves (low null) they are exact.
class FlatDistance final : public GraphDistance {
 public:
  FlatDistance(const uint32_t* high, const uint32_t* low, size_t d, MetricType metric,
               const std::vector<uint32_t>& order, float max_norm)
      : high_(high),
        low_(low),
        d_(d),
        w_((d + 1) / 2),
        ip_(metric == MetricType::INNER_PRODUCT),
        order_(order),
        // The rounding of a d-term float sum (and of its terms), relative to
        // the sum of their magnitudes, with room to spare.
        rho_(double(d + 3) * 0x1p-23),
        // How far truncation moves a row: 2^-7 of its norm, and a little for subnormals.
        shift_(double(max_norm) * 0x1p-7 + std::sqrt(double(d)) * 0x1p-133),
        max_norm_(max_norm),
        k_(kernels()),
        x_(2 * w_, 0.0f),
        even_(w_),
        odd_(w_),
        words_(2 * w_) {}

  void set_query(const float* x) override {
    for (size_t j = 0; j < d_; j++) x_[j] = x[order_.empty() ? j : order_[j]];
    prepare();
  }
  void set_query_node(node_t i) override {
    join(high_ + size_t(i) * w_, low_ ? low_ + size_t(i) * w_ : nullptr, w_, x_.data());
    prepare();
  }
  float distance(node_t i) override {
    float d;
    distances(&i, 1, __builtin_inff(), &d);
    return d;
  }
  void distances(const node_t* ids, size_t n, float bound, float* out) override {
    gather(ids, n, bound, low_ != nullptr, out);
  }
  void traversal_distances(const node_t* ids, size_t n, float bound, float* out) override {
    gather(ids, n, bound, false, out);
  }
  bool approximate_traversal() const override { return low_ != nullptr; }
  /// Truncation moves each element of a row y towards zero by less than 2^-7
  /// of its magnitude, so the truncated row is within e = 2^-7 |y| of y, and
  /// |y| <= max_norm_ (shift_ = e): an inner product moves by at most |q| e,
  /// an L2 distance (its square root) by at most e. Both sums' roundings come
  /// on top.
  Range exact_range(float t) const override {
    if (!std::isfinite(t)) return {-HUGE_VAL, HUGE_VAL};
    if (ip_) return {t - spread_, t + spread_};
    const double low = std::max(0.0, std::sqrt(std::max(0.0, t / (1 + rho_))) - shift_);
    const double high = std::sqrt(std::max(0.0, t / (1 - rho_))) + shift_;
    return {low * low * (1 - rho_), high * high * (1 + rho_)};
  }
  /// A traversal distance: the neighbour-selection heuristic compares it with
  /// traversal distances.
  float between(node_t a, node_t b) override {
    const uint32_t* ha = high_ + size_t(a) * w_;
    const uint32_t* hb = high_ + size_t(b) * w_;
    return ip_ ? -k_.inner_product_split_pair(ha, hb, w_) : k_.l2sqr_split_pair(ha, hb, w_);
  }

 private:
  /// Splits the query x_ (stored column order) for the kernels.
  void prepare() {
    if (ip_ && low_) {  // exact_range's
      double norm2 = 0;
      for (size_t j = 0; j < d_; j++) norm2 += double(x_[j]) * x_[j];
      spread_ = std::sqrt(norm2) * (shift_ + 2 * rho_ * max_norm_);
    }
    for (size_t i = 0; i < w_; i++) {
      even_[i] = x_[2 * i];
      odd_[i] = x_[2 * i + 1];
    }
    split(x_.data(), w_, words_.data(), words_.data() + w_);
  }
  void gather(const node_t* ids, size_t n, float bound, bool exact, float* out) const {
    const SplitQuery q{even_.data(), odd_.data(), words_.data()};
    if (ip_) {
      k_.inner_product_split_gather(q, high_, low_, w_, ids, n, exact, out);
      for (size_t j = 0; j < n; j++) out[j] = -out[j];
    } else {
      k_.l2sqr_split_gather(q, high_, low_, w_, ids, n, bound, exact, out);
    }
  }

  const uint32_t* high_;
  const uint32_t* low_;
  size_t d_, w_;
  bool ip_;
  const std::vector<uint32_t>& order_;
  double rho_, shift_, max_norm_;
  double spread_ = 0;  // inner product: how far the query's exact distances may be from its traversal ones
  const Kernels& k_;
  std::vector<float> x_;  // the query in stored column order, padded to 2 w_
  std::vector<float> even_, odd_;
  std::vector<uint32_t> words_;
};

}  // namespace

void FlatGraphStorage::store(const float* x, size_t i) {
  std::vector<float> buf(2 * w_, 0.0f);
  double norm2 = 0;
  for (size_t j = 0; j < d_; j++) {
    buf[j] = x[order_.empty() ? j : order_[j]];
    norm2 += double(buf[j]) * buf[j];
  }
  max_norm_ = std::max(max_norm_, std::nextafter(float(std::sqrt(norm2)), HUGE_VALF));
  std::vector<uint32_t> lows(w_);
  split(buf.data(), w_, high(i), lows.data());
  const bool exact = std::all_of(lows.begin(), lows.end(), [](uint32_t l) { return l == 0; });
  if (!exact && low_.empty()) low_.assign(high_.size(), 0);  // the first row that needs low halves
  if (!low_.empty()) std::copy(lows.begin(), lows.end(), low(i));
}

const uint32_t* FlatGraphStorage::low_or_null(size_t i) const { return low_.empty() ? nullptr : low(i); }

void FlatGraphStorage::stored_row(size_t i, float* out) const {
  std::vector<float> buf(2 * w_);
  join(high(i), low_or_null(i), w_, buf.data());
  std::memcpy(out, buf.data(), d_ * sizeof(float));
}

void FlatGraphStorage::reconstruct(size_t i, float* out) const {
  std::vector<float> buf(2 * w_);
  join(high(i), low_or_null(i), w_, buf.data());
  for (size_t j = 0; j < d_; j++) out[order_.empty() ? j : order_[j]] = buf[j];
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
  // Rewrite the stored rows in the new order (read with the old one, stored with the new).
  for (size_t i = 0; i < old; i++) {
    reconstruct(i, buf.data());
    std::swap(order_, order);
    store(buf.data(), i);
    std::swap(order_, order);
  }
  order_ = std::move(order);
  order_fixed_ = old + n >= kOrderFixedAt;
}

void FlatGraphStorage::append(size_t n, const float* x) {
  if (n == 0) return;
  if (metric_ == MetricType::L2 && !order_fixed_) choose_order(n, x);
  const size_t old = size();
  high_.resize((old + n) * w_);
  if (!low_.empty()) low_.resize(high_.size());
  for (size_t i = 0; i < n; i++) store(x + i * d_, old + i);
}

void FlatGraphStorage::replace(size_t i, const float* x) { store(x, i); }

void FlatGraphStorage::compact(const std::vector<node_t>& kept) {
  for (LargeVector<uint32_t>* half : {&high_, &low_}) {
    if (half->empty()) continue;
    for (size_t j = 0; j < kept.size(); j++) {
      if (kept[j] != j) std::memcpy(half->data() + j * w_, half->data() + kept[j] * w_, w_ * sizeof(uint32_t));
    }
    half->resize(kept.size() * w_);
  }
}

void FlatGraphStorage::permute(const std::vector<node_t>& old_of_new) {
  permute_rows(high_.data(), w_ * sizeof(uint32_t), old_of_new);
  if (!low_.empty()) permute_rows(low_.data(), w_ * sizeof(uint32_t), old_of_new);
}

void FlatGraphStorage::clear() {
  high_.clear();
  low_.clear();
  order_.clear();
  order_fixed_ = false;
  max_norm_ = 0;
}

void FlatGraphStorage::restore(std::vector<uint32_t> order, bool fixed, const uint8_t* rows, size_t floats,
                               size_t n) {
  SEXTANT_CHECK(order.empty() || order.size() == d_, "HNSW storage: a column order of ", order.size(),
                " entries for d=", d_);
  std::vector<uint8_t> seen(order.size(), 0);
  for (uint32_t c : order) {
    SEXTANT_CHECK(c < d_ && !seen[c], "HNSW storage: the column order is not a permutation of 0..", d_ - 1);
    seen[c] = 1;
  }
  SEXTANT_CHECK(floats == n * d_, "HNSW storage: ", floats, " floats for ", n, " rows of d=", d_);
  clear();
  high_.assign(n * w_, 0);
  std::vector<float> buf(d_);
  for (size_t i = 0; i < n; i++) {  // stored as they are: the column order is not set yet
    std::memcpy(buf.data(), rows + i * d_ * sizeof(float), d_ * sizeof(float));
    // A graph built or searched over a NaN or an overflowing vector corrupts itself.
    SEXTANT_CHECK(find_unbounded_row(buf.data(), 1, d_) == 1, "HNSW storage: stored vector ", i,
                  " holds a NaN or an infinity, or its squared norm is above 2^120");
    store(buf.data(), i);
  }
  order_ = std::move(order);
  order_fixed_ = fixed;
}

std::unique_ptr<GraphDistance> FlatGraphStorage::distance_computer() const {
  return std::make_unique<FlatDistance>(high_.data(), low_.empty() ? nullptr : low_.data(), d_, metric_, order_,
                                        max_norm_);
}

}  // namespace sextant
