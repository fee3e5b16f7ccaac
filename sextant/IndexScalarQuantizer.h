#pragma once

#include "sextant/Index.h"
#include "sextant/impl/FlatCodes.h"
#include "sextant/impl/ScalarQuantizer.h"
#include "sextant/impl/code_search.h"

namespace sextant {

/// Exhaustive search over scalar-quantised codes (SQ8: 4x smaller than floats).
class IndexScalarQuantizer : public Index {
 public:
  IndexScalarQuantizer(int d, QuantizerType type, MetricType metric = MetricType::L2);
  std::string type_name() const override { return "IndexScalarQuantizer"; }
  bool removal_closes_up_ids() const override { return true; }
  bool is_trained() const override { return sq_.is_trained(); }
  ScalarQuantizer& sq() { return sq_; }
  const ScalarQuantizer& sq() const { return sq_; }
  /// The codes, ntotal() x sa_code_size() bytes.
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
  size_t sa_code_size_impl() const override { return sq_.code_size(); }
  void sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const override;
  void sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const override;
  size_t remove_ids_impl(const IDSelector& sel) override;
  void reset_impl() override;
  void merge_from_impl(Index& other, idx_t add_id) override;

 private:
  CodeScorerFactory scorers() const;

  ScalarQuantizer sq_;
  FlatCodes codes_;
};

}  // namespace sextant
