#pragma once

#include <vector>

#include "sextant/MetricType.h"
#include "sextant/base/HugePageAllocator.h"
#include "sextant/impl/GraphDistance.h"
#include "sextant/impl/ProductQuantizer.h"
#include "sextant/impl/ScalarQuantizer.h"

namespace sextant {

/// Fixed-size codes (one per graph node, row after row in huge-page-backed
/// memory) that a graph traverses without decoding them: the storage of the
/// quantised HNSW indexes. The subclass owns the quantizer and says how to
/// encode, decode and score; rows, gathering and prefetching live here.
///
/// A distance computer gathers the codes of a batch of nodes into a
/// contiguous block (the loads of the whole batch are in flight at once, the
/// next batch prefetched) and scores the block in one call of the quantizer's
/// kernel. The bound of distances() is not used: the kernels score whole codes.
class CodeGraphStorage : public GraphStorage {
 public:
  size_t d() const { return d_; }
  MetricType metric() const { return metric_; }
  size_t code_size() const { return code_size_; }
  size_t size() const { return codes_.size() / code_size_; }
  /// The codes, size() x code_size() bytes, in graph node order.
  const uint8_t* codes() const { return codes_.data(); }
  const uint8_t* code(size_t i) const { return codes_.data() + i * code_size_; }
  /// Replaces every code by the n codes given (node order).
  void assign(LargeVector<uint8_t> codes, size_t n);

  virtual bool is_trained() const = 0;
  virtual void train(size_t n, const float* x) = 0;
  virtual void encode(size_t n, const float* x, uint8_t* codes) const = 0;
  virtual void decode(size_t n, const uint8_t* codes, float* x) const = 0;
  /// Throws unless the n codes decode to finite vectors within the norm bound
  /// (codes from a file); codes that always do are not read.
  virtual void check_codes(size_t, const uint8_t*) const {}

  void append(size_t n, const float* x);
  void replace(size_t i, const float* x) { encode(1, x, row(i)); }
  void reconstruct(size_t i, float* out) const { decode(1, code(i), out); }
  /// Keeps rows kept[0], kept[1], ... (increasing) as rows 0, 1, ...
  void compact(const std::vector<node_t>& kept);
  /// Row old_of_new[j] becomes row j.
  void permute(const std::vector<node_t>& old_of_new);
  void clear() { codes_.clear(); }
  size_t memory_bytes() const { return codes_.capacity(); }

  /// Distances from one prepared query to codes; see the class comment.
  class Distance : public GraphDistance {
   public:
    explicit Distance(const CodeGraphStorage& storage);
    void set_query_node(node_t i) override;
    float distance(node_t i) override;
    void distances(const node_t* ids, size_t n, float bound, float* out) override;
    /// Decodes both nodes and compares the floats: the exact distance between
    /// the two reconstructions.
    float between(node_t a, node_t b) override;

   protected:
    /// Graph distances (smaller is closer) from the query to n contiguous codes.
    virtual void score(const uint8_t* codes, size_t n, float* out) = 0;
    /// Node a decoded, kept from the last call (the neighbour heuristic
    /// compares one node with many in a row); `changed` tells if it was decoded now.
    const float* decoded(node_t a, bool& changed);

    const CodeGraphStorage& storage_;

   private:
    std::vector<uint8_t> block_;
    std::vector<float> node_, a_, b_;
    node_t decoded_a_ = ~node_t(0);
  };

 protected:
  CodeGraphStorage(size_t d, size_t code_size, MetricType metric) : d_(d), code_size_(code_size), metric_(metric) {}

 private:
  uint8_t* row(size_t i) { return codes_.data() + i * code_size_; }

  size_t d_, code_size_;
  MetricType metric_;
  LargeVector<uint8_t> codes_;
};

/// Scalar-quantised codes (SQ8: a byte per component, 4x smaller than floats).
class SQGraphStorage final : public CodeGraphStorage {
 public:
  SQGraphStorage(size_t d, QuantizerType type, MetricType metric);
  ScalarQuantizer& sq() { return sq_; }
  const ScalarQuantizer& sq() const { return sq_; }

  bool is_trained() const override { return sq_.is_trained(); }
  void train(size_t n, const float* x) override { sq_.train(n, x); }
  void encode(size_t n, const float* x, uint8_t* codes) const override { sq_.encode(n, x, codes); }
  void decode(size_t n, const uint8_t* codes, float* x) const override { sq_.decode(n, codes, x); }
  void check_codes(size_t n, const uint8_t* codes) const override { sq_.check_codes(n, codes); }
  std::unique_ptr<GraphDistance> distance_computer() const override;

 private:
  ScalarQuantizer sq_;
};

/// Product-quantizer codes, scored through a per-query look-up table (ADC).
class PQGraphStorage final : public CodeGraphStorage {
 public:
  PQGraphStorage(size_t d, size_t M, size_t nbits, MetricType metric);
  ProductQuantizer& pq() { return pq_; }
  const ProductQuantizer& pq() const { return pq_; }

  bool is_trained() const override { return pq_.is_trained(); }
  void train(size_t n, const float* x) override { pq_.train(n, x); }
  void encode(size_t n, const float* x, uint8_t* codes) const override { pq_.encode(n, x, codes); }
  void decode(size_t n, const uint8_t* codes, float* x) const override { pq_.decode(n, codes, x); }
  std::unique_ptr<GraphDistance> distance_computer() const override;
  /// A query's table (d x 2^nbits products) costs as much as many code reads.
  bool cheap_query_setup() const override { return false; }

 private:
  ProductQuantizer pq_;
};

}  // namespace sextant
