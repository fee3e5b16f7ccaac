#include "sextant/impl/CodeGraphStorage.h"

#include <algorithm>
#include <cstring>

#include "sextant/base/Error.h"
#include "sextant/impl/permute_rows.h"
#include "sextant/utils/kernels.h"

namespace sextant {

namespace {
constexpr size_t kBlock = 32;     // codes gathered and scored per kernel call
constexpr size_t kPrefetch = 8;   // codes ahead of the one being copied

inline void prefetch_code(const uint8_t* code, size_t code_size) {
  for (size_t b = 0; b < code_size; b += 64) __builtin_prefetch(code + b, 0, 3);
}
}  // namespace

// ------------------------------------------------------------------ rows

void CodeGraphStorage::assign(LargeVector<uint8_t> codes, size_t n) {
  SEXTANT_CHECK(codes.size() == n * code_size_, "HNSW storage: ", codes.size(), " code bytes for ", n, " codes of ",
                code_size_, " bytes");
  check_codes(n, codes.data());
  codes_ = std::move(codes);
}

void CodeGraphStorage::append(size_t n, const float* x) {
  if (n == 0) return;
  SEXTANT_CHECK(is_trained(), "the quantizer of the graph storage is not trained");
  const size_t old = size();
  codes_.resize((old + n) * code_size_);
  encode(n, x, row(old));
}

void CodeGraphStorage::compact(const std::vector<node_t>& kept) {
  for (size_t j = 0; j < kept.size(); j++) {
    if (kept[j] != j) std::memcpy(row(j), row(kept[j]), code_size_);
  }
  codes_.resize(kept.size() * code_size_);
}

void CodeGraphStorage::permute(const std::vector<node_t>& old_of_new) {
  permute_rows(codes_.data(), code_size_, old_of_new);
}

// ------------------------------------------------------------------ distances

CodeGraphStorage::Distance::Distance(const CodeGraphStorage& storage)
    : storage_(storage),
      block_(kBlock * storage.code_size()),
      node_(storage.d()),
      a_(storage.d()),
      b_(storage.d()) {}

void CodeGraphStorage::Distance::set_query_node(node_t i) {
  storage_.decode(1, storage_.code(i), node_.data());
  set_query(node_.data());
}

float CodeGraphStorage::Distance::distance(node_t i) {
  float d;
  score(storage_.code(i), 1, &d);
  return d;
}

void CodeGraphStorage::Distance::distances(const node_t* ids, size_t n, float, float* out) {
  const size_t cs = storage_.code_size();
  for (size_t j = 0; j < std::min(n, kPrefetch); j++) prefetch_code(storage_.code(ids[j]), cs);
  for (size_t at = 0; at < n; at += kBlock) {
    const size_t m = std::min(kBlock, n - at);
    for (size_t j = 0; j < m; j++) {
      if (at + j + kPrefetch < n) prefetch_code(storage_.code(ids[at + j + kPrefetch]), cs);
      std::memcpy(block_.data() + j * cs, storage_.code(ids[at + j]), cs);
    }
    score(block_.data(), m, out + at);
  }
}

const float* CodeGraphStorage::Distance::decoded(node_t a, bool& changed) {
  changed = a != decoded_a_;
  if (changed) {
    storage_.decode(1, storage_.code(a), a_.data());
    decoded_a_ = a;
  }
  return a_.data();
}

float CodeGraphStorage::Distance::between(node_t a, node_t b) {
  // PQ could instead sum a symmetric table (M x ksub x ksub floats; for L2 it
  // gives the same value), but at M = d/2 = 64 that table is 16 MiB and each
  // of the M look-ups misses the cache, while decoding reads codebooks of
  // d x ksub floats (128 KiB at d = 128) that stay in L2; decoding also serves
  // inner product, which the symmetric table does not. An ADC table per node
  // a would cost d x ksub operations for the few comparisons a takes part in.
  bool changed;
  const float* x = decoded(a, changed);
  storage_.decode(1, storage_.code(b), b_.data());
  const Kernels& k = kernels();
  const size_t d = storage_.d();
  return storage_.metric() == MetricType::INNER_PRODUCT ? -k.inner_product(x, b_.data(), d)
                                                        : k.l2sqr(x, b_.data(), d);
}

// ------------------------------------------------------------------ SQ

namespace {

size_t sq_code_size_of(size_t d, QuantizerType type) { return ScalarQuantizer(d, type).code_size(); }

class SQDistance final : public CodeGraphStorage::Distance {
 public:
  explicit SQDistance(const SQGraphStorage& storage)
      : Distance(storage),
        scorer_(storage.sq(), storage.metric()),
        pair_(storage.sq(), storage.metric()),
        ip_(storage.metric() == MetricType::INNER_PRODUCT) {}
  void set_query(const float* x) override { scorer_.set_query(x); }
  /// Node a decoded is the query of a second scorer, which scores b's code as it is.
  float between(node_t a, node_t b) override {
    bool changed;
    const float* x = decoded(a, changed);
    if (changed) pair_.set_query(x);
    float d;
    pair_.score(storage_.code(b), 1, &d);
    return ip_ ? -d : d;
  }

 protected:
  void score(const uint8_t* codes, size_t n, float* out) override {
    scorer_.score(codes, n, out);
    if (ip_) {
      for (size_t j = 0; j < n; j++) out[j] = -out[j];
    }
  }

 private:
  ScalarQuantizer::Scorer scorer_, pair_;
  bool ip_;
};

}  // namespace

SQGraphStorage::SQGraphStorage(size_t d, QuantizerType type, MetricType metric)
    : CodeGraphStorage(d, sq_code_size_of(d, type), metric), sq_(d, type) {}

std::unique_ptr<GraphDistance> SQGraphStorage::distance_computer() const {
  return std::make_unique<SQDistance>(*this);
}

// ------------------------------------------------------------------ PQ

namespace {

size_t pq_code_size_of(size_t d, size_t M, size_t nbits) { return ProductQuantizer(d, M, nbits).code_size(); }

/// Asymmetric distances: the query (a vector, or a decoded node during
/// construction) against each code through an M x ksub table built per query.
class PQDistance final : public CodeGraphStorage::Distance {
 public:
  explicit PQDistance(const PQGraphStorage& storage)
      : Distance(storage), pq_(storage.pq()), metric_(storage.metric()), table_(pq_.M() * pq_.ksub()) {}
  void set_query(const float* x) override { pq_.compute_table(x, metric_, table_.data()); }

 protected:
  void score(const uint8_t* codes, size_t n, float* out) override {
    pq_.score(table_.data(), codes, n, out);
    if (metric_ == MetricType::INNER_PRODUCT) {
      for (size_t j = 0; j < n; j++) out[j] = -out[j];
    }
  }

 private:
  const ProductQuantizer& pq_;
  MetricType metric_;
  std::vector<float> table_;
};

}  // namespace

PQGraphStorage::PQGraphStorage(size_t d, size_t M, size_t nbits, MetricType metric)
    : CodeGraphStorage(d, pq_code_size_of(d, M, nbits), metric), pq_(d, M, nbits) {}

std::unique_ptr<GraphDistance> PQGraphStorage::distance_computer() const {
  return std::make_unique<PQDistance>(*this);
}

}  // namespace sextant
