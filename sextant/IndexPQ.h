#pragma once

#include "sextant/Index.h"
#include "sextant/impl/FlatCodes.h"
#include "sextant/impl/ProductQuantizer.h"
#include "sextant/impl/code_search.h"

namespace sextant {

/// Exhaustive search over product-quantizer codes with asymmetric distances
/// (query against decoded vector, through one M x ksub look-up table per query).
class IndexPQ : public Index {
 public:
  IndexPQ(int d, size_t M, size_t nbits = 8, MetricType metric = MetricType::L2);
  std::string type_name() const override { return "IndexPQ"; }
  bool removal_closes_up_ids() const override { return true; }
  bool is_trained() const override { return pq_.is_trained(); }

  ProductQuantizer& pq() { return pq_; }
  const ProductQuantizer& pq() const { return pq_; }
  /// The codes, ntotal() x pq().code_size() bytes.
  const uint8_t* codes() const { return codes_.data(); }
  /// Replaces the codes (a whole number of them); loaders use it, with
  /// borrowed storage for a memory-mapped file (the index is then read-only).
  void set_codes(Storage<uint8_t> codes);

 protected:
  void train_impl(idx_t n, const float* x) override;
  void add_impl(idx_t n, const float* x, const idx_t* ids) override;
  void search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                   const SearchParams& params) const override;
  void range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                         RangeSearchResult& result) const override;
  void reconstruct_impl(idx_t key, float* recons) const override;
  size_t sa_code_size_impl() const override { return pq_.code_size(); }
  void sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const override { pq_.encode(n, x, codes); }
  void sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const override { pq_.decode(n, codes, x); }
  size_t remove_ids_impl(const IDSelector& sel) override;
  void reset_impl() override;
  void merge_from_impl(Index& other, idx_t add_id) override;

 private:
  CodeScorerFactory scorers() const;

  ProductQuantizer pq_;
  FlatCodes codes_;
};

}  // namespace sextant
