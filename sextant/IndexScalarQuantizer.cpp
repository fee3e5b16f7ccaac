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

// ------------------------------------------------------------- IndexIVFScalarQuantizer

namespace {

// Validates the parameters (clear errors) before the base class is built.
size_t checked_code_size(int d, QuantizerType type) {
  SEXTANT_CHECK(d > 0, "d (the vector dimension) must be > 0, got ", d);
  return ScalarQuantizer(static_cast<size_t>(d), type).code_size();
}

// L2 with residuals: the query's residual to each list's centroid is prepared
// per list. Inner product: <x, c + r> = <x, c> + <x, r>; <x, c> is the coarse
// similarity, so the query is prepared once.
class SQScanner final : public InvertedListScanner {
 public:
  SQScanner(const IndexIVFScalarQuantizer& index, const ScalarQuantizer& sq)
      : InvertedListScanner(index.metric()),
        index_(index),
        scorer_(sq, index.metric()),
        residual_(index.d()),
        centroid_(index.d()) {}

  void set_query(const float* x) override {
    x_ = x;
    if (!index_.by_residual() || index_.metric() == MetricType::INNER_PRODUCT) scorer_.set_query(x);
  }
  void set_list(size_t list, float coarse) override {
    list_term_ = 0;
    if (!index_.by_residual()) return;
    if (index_.metric() == MetricType::INNER_PRODUCT) {
      list_term_ = coarse;
      return;
    }
    index_.centroid(list, centroid_.data());
    for (size_t j = 0; j < residual_.size(); j++) residual_[j] = x_[j] - centroid_[j];
    scorer_.set_query(residual_.data());
  }
  void score(const uint8_t* codes, size_t n, float* out) const override {
    scorer_.score(codes, n, out);
    if (list_term_ != 0) {
      for (size_t j = 0; j < n; j++) out[j] += list_term_;
    }
  }

 private:
  const IndexIVFScalarQuantizer& index_;
  ScalarQuantizer::Scorer scorer_;
  std::vector<float> residual_, centroid_;
  const float* x_ = nullptr;
  float list_term_ = 0;
};

}  // namespace

IndexIVFScalarQuantizer::IndexIVFScalarQuantizer(std::shared_ptr<Index> quantizer, int d, size_t nlist,
                                                 QuantizerType type, MetricType metric, bool by_residual)
    : IndexIVF(std::move(quantizer), d, nlist, checked_code_size(d, type), metric, by_residual),
      sq_(static_cast<size_t>(d), type) {}

void IndexIVFScalarQuantizer::train_encoder(idx_t n, const float* x, const float*) { sq_.train(n, x); }

void IndexIVFScalarQuantizer::encode(idx_t n, const float* x, const idx_t* lists, uint8_t* codes) const {
  if (!by_residual()) return sq_.encode(n, x, codes);
  std::vector<float> residuals(static_cast<size_t>(n) * d_), c(d_);
  for (idx_t i = 0; i < n; i++) {
    centroid(lists[i], c.data());
    for (int j = 0; j < d_; j++) residuals[i * d_ + j] = x[i * d_ + j] - c[j];
  }
  sq_.encode(n, residuals.data(), codes);
}

void IndexIVFScalarQuantizer::decode(size_t list, const uint8_t* code, float* x) const {
  decode_block(list, code, 1, x);
}

const float* IndexIVFScalarQuantizer::decode_block(size_t list, const uint8_t* codes, size_t n, float* out) const {
  sq_.decode(n, codes, out);
  if (by_residual()) {
    std::vector<float> c(d_);
    centroid(list, c.data());
    for (size_t i = 0; i < n; i++) {
      for (int j = 0; j < d_; j++) out[i * d_ + j] += c[j];
    }
  }
  return out;
}

std::unique_ptr<InvertedListScanner> IndexIVFScalarQuantizer::make_scanner() const {
  return std::make_unique<SQScanner>(*this, sq_);
}

}  // namespace sextant
