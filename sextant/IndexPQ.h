#pragma once

#include "sextant/IndexFlatCodes.h"
#include "sextant/impl/ProductQuantizer.h"

namespace sextant {

/// Exhaustive search over product-quantizer codes with asymmetric distances
/// (query against decoded vector, through one M x ksub look-up table per query).
class IndexPQ : public IndexFlatCodes {
 public:
  IndexPQ(int d, size_t M, size_t nbits = 8, MetricType metric = MetricType::L2);
  std::string type_name() const override { return "IndexPQ"; }
  bool is_trained() const override { return pq_.is_trained(); }

  ProductQuantizer& pq() { return pq_; }
  const ProductQuantizer& pq() const { return pq_; }

 protected:
  void train_impl(idx_t n, const float* x) override { pq_.train(n, x); }
  size_t sa_code_size_impl() const override { return pq_.code_size(); }
  void sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const override { pq_.encode(n, x, codes); }
  void sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const override { pq_.decode(n, codes, x); }
  CodeScorerFactory scorers() const override;
  bool same_encoder(const IndexFlatCodes& other) const override {
    return pq_.same_codebooks(dynamic_cast<const IndexPQ&>(other).pq_);
  }
  const char* encoder_name() const override { return "product quantizer"; }

 private:
  ProductQuantizer pq_;
};

}  // namespace sextant
