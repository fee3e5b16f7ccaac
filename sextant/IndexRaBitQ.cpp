#include "sextant/IndexRaBitQ.h"

#include <cmath>

#include "sextant/base/Error.h"
#include "sextant/utils/kernels.h"

namespace sextant {

namespace {

class RaBitQCodeScorer final : public CodeScorer {
 public:
  RaBitQCodeScorer(const IndexRaBitQ& index, const uint8_t* codes)
      : CodeScorer(index.metric()),
        scorer_(index.rabitq(), index.qb()),
        center_(index.center().data()),
        codes_(codes),
        code_size_(index.rabitq().code_size()) {}
  void set_query(const float* x) override { scorer_.set_query(x, center_); }
  void score(size_t j0, size_t n, float* out) override { scorer_.score(codes_ + j0 * code_size_, n, out); }
  void scan(size_t j0, size_t j1, TopKHeap& heap, const IDSelector* sel) override {
    scorer_.scan(codes_ + j0 * code_size_, j1 - j0, nullptr, idx_t(j0), heap, sel);
  }

 private:
  RaBitQuantizer::Scorer scorer_;
  const float* center_;
  const uint8_t* codes_;
  size_t code_size_;
};

}  // namespace

IndexRaBitQ::IndexRaBitQ(int d, MetricType metric, int nb_bits)
    : IndexFlatCodes(d, metric), rabitq_(size_t(d), metric, nb_bits) {}  // the base checks d first

void IndexRaBitQ::set_center(std::vector<float> center) {
  SEXTANT_CHECK(center.size() == size_t(d_), "IndexRaBitQ: the centroid has ", center.size(), " values, d=", d_);
  for (float v : center) SEXTANT_CHECK(std::isfinite(v), "IndexRaBitQ: the centroid has a NaN or infinite value");
  center_ = std::move(center);
}

void IndexRaBitQ::set_qb(int qb) { qb_ = RaBitQuantizer::checked_query_bits(qb, "IndexRaBitQ"); }

CodeScorerFactory IndexRaBitQ::scorers() const {
  return [this] { return std::make_unique<RaBitQCodeScorer>(*this, codes()); };
}

void IndexRaBitQ::error_bounds(const float* x, const idx_t* ids, size_t n, float* out) const {
  SEXTANT_CHECK(is_trained(), "IndexRaBitQ: error_bounds needs a trained index");
  rabitq_.error_bounds(kernels().l2sqr(x, center_.data(), size_t(d_)), ids, n, out, [&](idx_t id) {
    SEXTANT_CHECK(id < ntotal_, "IndexRaBitQ: id ", id, " is not in [0, ", ntotal_, ")");
    return codes() + size_t(id) * code_size();
  });
}

}  // namespace sextant
