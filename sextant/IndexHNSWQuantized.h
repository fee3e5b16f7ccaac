#pragma once

#include "sextant/IndexHNSW.h"
#include "sextant/impl/CodeGraphStorage.h"

namespace sextant {

/// HNSW over quantised codes: the graph is built and searched on the codes
/// (distances to the decoded vectors), which take 4x (SQ8) to 16x or more (PQ)
/// less memory than floats. Distances are approximate, so the results are
/// usually re-ranked by IndexRefineFlat. The quantizer needs training:
/// is_trained() is false until train(), and train() is refused once vectors
/// are stored (their codes would lose their meaning; reset() first).
/// reconstruct() and sa_decode() give the decoded vectors.
class IndexHNSWCodes : public IndexHNSW {
 public:
  bool is_trained() const override { return code_storage().is_trained(); }
  /// Bytes per stored vector (sa_code_size()).
  size_t code_size() const { return code_storage().code_size(); }
  /// The codes, ntotal() x code_size() bytes, in graph node order: the code
  /// of id i is at row node_of(i).
  const uint8_t* codes() const { return code_storage().codes(); }

  /// Restores an index from its parts (index files, conversions): the codes
  /// of n vectors in node order (the quantizer restored first), the graph over
  /// them and its numbering (see IndexHNSW::restore_graph), all checked.
  void restore(LargeVector<uint8_t> codes, const HNSW::Layout& layout, std::vector<node_t> label_of_node,
               idx_t renumbered_at);

 protected:
  IndexHNSWCodes(int d, int M, MetricType metric) : IndexHNSW(d, M, metric) {}

  virtual CodeGraphStorage& code_storage() = 0;
  virtual const CodeGraphStorage& code_storage() const = 0;

  const GraphStorage& storage() const override { return code_storage(); }
  void storage_append(idx_t n, const float* x) override { code_storage().append(n, x); }
  void storage_replace(idx_t key, const float* x) override { code_storage().replace(key, x); }
  void storage_compact(const std::vector<node_t>& kept) override { code_storage().compact(kept); }
  void storage_clear() override { code_storage().clear(); }
  size_t storage_bytes() const override { return code_storage().memory_bytes(); }
  void storage_permute(const std::vector<node_t>& old_of_new) override { code_storage().permute(old_of_new); }

  void train_impl(idx_t n, const float* x) override;
  void reconstruct_impl(idx_t key, float* recons) const override;
  size_t sa_code_size_impl() const override { return code_size(); }
  void sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const override;
  void sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const override;
};

/// HNSW over scalar-quantised codes (Faiss's IndexHNSWSQ).
class IndexHNSWSQ : public IndexHNSWCodes {
 public:
  IndexHNSWSQ(int d, QuantizerType qtype, int M = 32, MetricType metric = MetricType::L2);
  std::string type_name() const override { return "IndexHNSWSQ"; }
  ScalarQuantizer& sq() { return storage_.sq(); }
  const ScalarQuantizer& sq() const { return storage_.sq(); }

 protected:
  CodeGraphStorage& code_storage() override { return storage_; }
  const CodeGraphStorage& code_storage() const override { return storage_; }

 private:
  SQGraphStorage storage_;
};

/// HNSW over product-quantizer codes (Faiss's IndexHNSWPQ): pq_M sub-quantizers
/// of pq_nbits bits; the graph is searched with one ADC table per query.
class IndexHNSWPQ : public IndexHNSWCodes {
 public:
  IndexHNSWPQ(int d, size_t pq_M, int M = 32, size_t pq_nbits = 8, MetricType metric = MetricType::L2);
  std::string type_name() const override { return "IndexHNSWPQ"; }
  ProductQuantizer& pq() { return storage_.pq(); }
  const ProductQuantizer& pq() const { return storage_.pq(); }

 protected:
  CodeGraphStorage& code_storage() override { return storage_; }
  const CodeGraphStorage& code_storage() const override { return storage_; }

 private:
  PQGraphStorage storage_;
};

}  // namespace sextant
