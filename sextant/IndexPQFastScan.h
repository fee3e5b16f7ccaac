#pragma once

#include "sextant/Index.h"
#include "sextant/impl/FastScan.h"
#include "sextant/impl/ProductQuantizer.h"
#include "sextant/impl/code_search.h"

namespace sextant {

/// Exhaustive search over 4-bit PQ codes with fast-scan (impl/FastScan.h):
/// look-up tables quantized to 8 bits, 32 codes per SIMD shuffle, 16-bit
/// sums. Distances are those of IndexPQ on the same codes up to the table
/// quantization (at most M / 2 steps of the table); re-rank with IndexRefine
/// ("PQ16x4fs,RFlat") for exact distances.
class IndexPQFastScan : public Index {
 public:
  IndexPQFastScan(int d, size_t M, MetricType metric = MetricType::L2);
  std::string type_name() const override { return "IndexPQFastScan"; }
  bool removal_closes_up_ids() const override { return true; }
  bool is_trained() const override { return pq_.is_trained(); }

  ProductQuantizer& pq() { return pq_; }
  const ProductQuantizer& pq() const { return pq_; }
  /// The codes in the fast-scan block layout (impl/FastScan.h).
  const uint8_t* blocks() const { return codes_.data(); }
  /// Appends n plain codes (as sa_encode makes them) without encoding again.
  void add_sa_codes(idx_t n, const uint8_t* codes);

 protected:
  void train_impl(idx_t n, const float* x) override { pq_.train(n, x); }
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
  fastscan::BlockCodes codes_;
};

}  // namespace sextant
