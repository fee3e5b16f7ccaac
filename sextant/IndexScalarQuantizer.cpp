#include "sextant/IndexScalarQuantizer.h"

namespace sextant {

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

IndexScalarQuantizer::IndexScalarQuantizer(int d, QuantizerType type, MetricType metric)
    : IndexFlatCodes(d, metric), sq_(static_cast<size_t>(d), type) {}

CodeScorerFactory IndexScalarQuantizer::scorers() const {
  return [this] { return std::make_unique<SQCodeScorer>(sq_, metric_, codes()); };
}

}  // namespace sextant
