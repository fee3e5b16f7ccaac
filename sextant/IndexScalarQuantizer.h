#pragma once

#include "sextant/IndexFlatCodes.h"
#include "sextant/impl/ScalarQuantizer.h"

namespace sextant {

/// Exhaustive search over scalar-quantised codes (SQ8: 4x smaller than floats).
class IndexScalarQuantizer : public IndexFlatCodes {
 public:
  IndexScalarQuantizer(int d, QuantizerType type, MetricType metric = MetricType::L2);
  std::string type_name() const override { return "IndexScalarQuantizer"; }
  bool is_trained() const override { return sq_.is_trained(); }
  ScalarQuantizer& sq() { return sq_; }
  const ScalarQuantizer& sq() const { return sq_; }

 protected:
  void train_impl(idx_t n, const float* x) override { sq_.train(n, x); }
  size_t sa_code_size_impl() const override { return sq_.code_size(); }
  void sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const override { sq_.encode(n, x, codes); }
  void sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const override { sq_.decode(n, codes, x); }
  void check_codes(size_t n, const uint8_t* codes) const override { sq_.check_codes(n, codes); }
  CodeScorerFactory scorers() const override;
  bool same_encoder(const IndexFlatCodes& other) const override {
    return sq_.same_ranges(dynamic_cast<const IndexScalarQuantizer&>(other).sq_);
  }
  const char* encoder_name() const override { return "scalar quantizer"; }

 private:
  ScalarQuantizer sq_;
};

}  // namespace sextant
