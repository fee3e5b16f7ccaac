#include "sextant/IndexIVFFlat.h"

#include <cstring>

#include "sextant/utils/kernels.h"
#include "sextant/utils/validate.h"

namespace sextant {

namespace {

class FlatScanner final : public InvertedListScanner {
 public:
  FlatScanner(size_t d, MetricType metric)
      : InvertedListScanner(metric), d_(d), l2_(metric == MetricType::L2), kernels_(kernels()) {}
  void set_query(const float* x) override { x_ = x; }
  void set_list(size_t, float) override {}
  void score(const uint8_t* codes, size_t n, float* out) const override {
    const float* y = reinterpret_cast<const float*>(codes);
    (l2_ ? kernels_.l2sqr_ny : kernels_.inner_product_ny)(x_, y, n, d_, out);
  }

 private:
  size_t d_;
  bool l2_;
  const Kernels& kernels_;
  const float* x_ = nullptr;
};

}  // namespace

IndexIVFFlat::IndexIVFFlat(std::shared_ptr<Index> quantizer, int d, size_t nlist, MetricType metric)
    : IndexIVF(std::move(quantizer), d, nlist, sizeof(float) * static_cast<size_t>(d), metric, false) {}

void IndexIVFFlat::encode(idx_t n, const float* x, const idx_t*, uint8_t* codes) const {
  std::memcpy(codes, x, sizeof(float) * d_ * n);
}

void IndexIVFFlat::decode(size_t, const uint8_t* code, float* x) const { std::memcpy(x, code, sizeof(float) * d_); }

void IndexIVFFlat::check_codes(const uint8_t* codes, size_t n) const {
  check_bounded(reinterpret_cast<const float*>(codes), n, d_, "stored vectors");
}

std::unique_ptr<InvertedListScanner> IndexIVFFlat::make_scanner() const {
  return std::make_unique<FlatScanner>(d_, metric_);
}

const float* IndexIVFFlat::decode_block(size_t, const uint8_t* codes, size_t, float*) const {
  return reinterpret_cast<const float*>(codes);  // the codes are the vectors
}

}  // namespace sextant
