#pragma once

#include "sextant/IndexIVF.h"
#include "sextant/impl/ProductQuantizer.h"

namespace sextant {

/// IVF index whose lists hold product-quantizer codes of the residuals to the
/// list centroids (by default, as Faiss).
///
/// L2 with residuals splits the distance into three terms:
///   |x - c - r|^2 = |x - c|^2  +  (|r|^2 + 2 <c, r>)  -  2 <x, r>
/// the coarse distance, a term of the list and code alone, and a term of the
/// query and code alone. The middle one is precomputed per list (nlist x M x
/// ksub floats) when it fits the memory budget, so a probed list costs M x ksub
/// additions instead of a full distance table.
class IndexIVFPQ : public IndexIVF {
 public:
  IndexIVFPQ(std::shared_ptr<Index> quantizer, int d, size_t nlist, size_t M, size_t nbits = 8,
             MetricType metric = MetricType::L2, bool by_residual = true);
  std::string type_name() const override { return "IndexIVFPQ"; }

  ProductQuantizer& pq() { return pq_; }
  const ProductQuantizer& pq() const { return pq_; }

  /// Largest precomputed table allowed, in bytes (2 GiB by default, as Faiss).
  static constexpr size_t kPrecomputedBudget = size_t{2} << 30;
  bool uses_precomputed_table() const { return !precomputed_.empty(); }
  /// Builds the per-list table (true) when it is useful (L2, residuals) and
  /// fits the budget, or drops it (false). Training builds it.
  void set_use_precomputed_table(bool use);
  const std::vector<float>& precomputed_table() const { return precomputed_; }

 protected:
  bool encoder_is_trained() const override { return pq_.is_trained(); }
  void train_encoder(idx_t n, const float* x, const float* vectors) override;
  void encode(idx_t n, const float* x, const idx_t* lists, uint8_t* codes) const override;
  void decode(size_t list, const uint8_t* code, float* x) const override;
  std::unique_ptr<InvertedListScanner> make_scanner() const override;
  // Look-up tables cost far less per code than decoding to floats.
  bool supports_list_major_search() const override { return false; }
  bool same_encoder(const IndexIVF& other) const override {
    return pq_.same_codebooks(dynamic_cast<const IndexIVFPQ&>(other).pq_);
  }

 private:
  ProductQuantizer pq_;
  std::vector<float> precomputed_;  // nlist x M x ksub: |r|^2 + 2 <c, r>
};

/// The look-up table of one query for each list it probes: the distance (or
/// similarity) to a code in the list is list_term() + sum over m of
/// table()[m * ksub + code_m]. One per search thread.
class PQListTables {
 public:
  explicit PQListTables(const IndexIVFPQ& index);
  void set_query(const float* x);
  void set_list(size_t list, float coarse);
  /// Whether the table changes from list to list (L2 on residuals); otherwise
  /// only list_term() does.
  bool table_per_list() const { return index_.by_residual() && l2_; }
  const float* table() const { return table_.data(); }
  float list_term() const { return list_term_; }

 private:
  const IndexIVFPQ& index_;
  const ProductQuantizer& pq_;
  bool l2_;
  std::vector<float> query_table_, table_, residual_, centroid_;
  const float* x_ = nullptr;
  float list_term_ = 0;
};

}  // namespace sextant
