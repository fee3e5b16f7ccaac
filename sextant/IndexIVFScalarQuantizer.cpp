#include "sextant/IndexIVFScalarQuantizer.h"

#include <vector>

#include "sextant/base/Error.h"

namespace sextant {

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
  sq_.encode(n, residuals(n, x, lists).data(), codes);
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
