#include "sextant/IndexScalarQuantizer.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "sextant/base/Error.h"
#include "sextant/impl/code_search.h"

namespace sextant {

// ---------------------------------------------------------------- IndexScalarQuantizer

IndexScalarQuantizer::IndexScalarQuantizer(int d, QuantizerType type, MetricType metric)
    : Index(d, metric, false), sq_(static_cast<size_t>(d), type), codes_(sq_.code_size()) {}

void IndexScalarQuantizer::train_impl(idx_t n, const float* x) { sq_.train(n, x); }

void IndexScalarQuantizer::add_impl(idx_t n, const float* x, const idx_t* ids) {
  SEXTANT_CHECK(ids == nullptr, type_name(),
                " numbers vectors in insertion order: use add(), or wrap it in IndexIDMap to choose ids");
  sq_.encode(n, x, codes_.append(n, type_name()));
  ntotal_ += n;
}

namespace {

class SQCodeScorer final : public CodeScorer {
 public:
  SQCodeScorer(const ScalarQuantizer& sq, MetricType metric, const uint8_t* codes)
      : CodeScorer(metric), scorer_(sq, metric), codes_(codes), code_size_(sq.code_size()) {}
  void set_query(const float* x) override { scorer_.set_query(x); }
  void score(size_t j0, size_t n, float* out) override { scorer_.score(codes_ + j0 * code_size_, n, out); }

 private:
  ScalarQuantizer::Scorer scorer_;
  const uint8_t* codes_;
  size_t code_size_;
};

}  // namespace

CodeScorerFactory IndexScalarQuantizer::scorers() const {
  return [this] { return std::make_unique<SQCodeScorer>(sq_, metric_, codes_.data()); };
}

void IndexScalarQuantizer::search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                                       const SearchParams& params) const {
  search_codes(n, x, d_, ntotal_, k, metric_, params.sel.get(), scorers(), distances, labels);
}

void IndexScalarQuantizer::range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                                             RangeSearchResult& result) const {
  result = range_search_codes(n, x, d_, ntotal_, radius, metric_, params.sel.get(), scorers());
}

void IndexScalarQuantizer::reconstruct_impl(idx_t key, float* recons) const {
  SEXTANT_CHECK(key >= 0 && key < ntotal_, "id ", key, " is out of range [0, ", ntotal_, ")");
  sq_.decode(1, codes_.at(key), recons);
}

void IndexScalarQuantizer::sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const { sq_.encode(n, x, codes); }

void IndexScalarQuantizer::sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const { sq_.decode(n, codes, x); }

size_t IndexScalarQuantizer::remove_ids_impl(const IDSelector& sel) {
  const size_t removed = codes_.remove(sel, type_name());
  ntotal_ = codes_.size();
  return removed;
}

void IndexScalarQuantizer::set_codes(Storage<uint8_t> codes) {
  sq_.check_codes(codes.size() / sq_.code_size(), codes.data());
  codes_.assign(std::move(codes));
  ntotal_ = static_cast<idx_t>(codes_.size());
}

void IndexScalarQuantizer::merge_from_impl(Index& other_index, idx_t add_id) {
  check_append_id(add_id);
  auto& other = dynamic_cast<IndexScalarQuantizer&>(other_index);
  SEXTANT_CHECK(sq_.same_ranges(other.sq_), "cannot merge: the scalar quantizers differ (train one index, then copy it for each part)");
  codes_.move_from(other.codes_, type_name(), other.type_name());
  ntotal_ = static_cast<idx_t>(codes_.size());
  other.ntotal_ = 0;
}

void IndexScalarQuantizer::reset_impl() {
  codes_.clear(type_name());
  ntotal_ = 0;
}

}  // namespace sextant
