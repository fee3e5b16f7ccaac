#pragma once

#include <vector>

#include "sextant/IndexFlatCodes.h"
#include "sextant/impl/RaBitQuantizer.h"

namespace sextant {

/// Exhaustive search over RaBitQ codes (as Faiss's IndexRaBitQ): nb_bits per
/// dimension ("RaBitQ<nb_bits>"; 1 by default) and 8 bytes of factors a vector
/// (20 with more bits), taken against the mean of the training vectors.
/// Put a random rotation in front ("RR<d>,RaBitQ") for data whose coordinates
/// are far from alike; the error bound assumes one.
class IndexRaBitQ : public IndexFlatCodes {
 public:
  IndexRaBitQ(int d, MetricType metric = MetricType::L2, int nb_bits = 1);
  std::string type_name() const override { return "IndexRaBitQ"; }
  bool is_trained() const override { return !center_.empty(); }

  const RaBitQuantizer& rabitq() const { return rabitq_; }
  /// The centroid the codes are taken against (empty until trained).
  const std::vector<float>& center() const { return center_; }
  /// Restores a trained centroid (loaders): d values, finite.
  void set_center(std::vector<float> center);
  /// Bits a query is quantised to (0: scored in floats); Faiss's default 4.
  int qb() const { return qb_; }
  void set_qb(int qb);

  /// The estimator's error bound for stored vectors ids given query x (see
  /// RaBitQuantizer::Scorer::error_bound): |estimate - exact| <= out[i] for
  /// about 94% of pairs of randomly rotated data. An id of -1 gets infinity.
  bool has_error_bounds() const override { return true; }
  void error_bounds(const float* x, const idx_t* ids, size_t n, float* out) const override;

 protected:
  void train_impl(idx_t n, const float* x) override { set_center(rabitq_.train(size_t(n), x)); }
  size_t sa_code_size_impl() const override { return rabitq_.code_size(); }
  void sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const override {
    rabitq_.encode(size_t(n), x, center_.data(), codes);
  }
  void sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const override {
    rabitq_.decode(size_t(n), codes, center_.data(), x);
  }
  void check_codes(size_t n, const uint8_t* codes) const override { rabitq_.check_codes(n, codes); }
  CodeScorerFactory scorers() const override;
  bool same_encoder(const IndexFlatCodes& other) const override {
    const auto& theirs = dynamic_cast<const IndexRaBitQ&>(other);
    return center_ == theirs.center_ && rabitq_.nb_bits() == theirs.rabitq_.nb_bits();
  }
  const char* encoder_name() const override { return "RaBitQ centroids or bits"; }

 private:
  RaBitQuantizer rabitq_;
  std::vector<float> center_;
  int qb_ = 4;
};

}  // namespace sextant
