#pragma once

#include <cstdint>
#include <vector>

#include "sextant/MetricType.h"
#include "sextant/utils/sq_codecs.h"

namespace sextant {

/// Scalar quantizer types; names and values follow Faiss, so files keep their meaning.
enum class QuantizerType : int {
  QT_8bit = 0,                ///< 8 bits per component, a range per dimension
  QT_4bit = 1,                ///< 4 bits per component, a range per dimension
  QT_8bit_uniform = 2,        ///< 8 bits, one range for all dimensions
  QT_4bit_uniform = 3,        ///< 4 bits, one range for all dimensions
  QT_fp16 = 4,                ///< IEEE half precision
  QT_8bit_direct = 5,         ///< the byte value itself (data already in [0, 255])
  QT_6bit = 6,                ///< 6 bits, a range per dimension
  QT_bf16 = 7,                ///< bfloat16
  QT_8bit_direct_signed = 8,  ///< byte value - 128 (data already in [-128, 127])
};

/// Name as in factory strings ("SQ8", "SQ4", "SQfp16", ...).
const char* quantizer_type_name(QuantizerType type);

/// Encodes each component of a vector on its own: integers over a trained
/// [vmin, vmin + vdiff] range (per dimension or one for all), or a 16-bit float.
/// Integer code q decodes to vmin + (q + 0.5) / levels * vdiff, as in Faiss.
class ScalarQuantizer {
 public:
  ScalarQuantizer(size_t d, QuantizerType type);

  size_t d() const { return d_; }
  QuantizerType type() const { return type_; }
  size_t code_size() const { return sq_code_size(codec_, d_); }
  /// False until train() for the types with ranges to learn.
  bool is_trained() const { return !trained_.empty() || !needs_training(); }
  bool needs_training() const;

  /// Learns the ranges (min and max per dimension, or over all values).
  void train(size_t n, const float* x);
  void encode(size_t n, const float* x, uint8_t* codes) const;
  void decode(size_t n, const uint8_t* codes, float* x) const;

  /// The learned ranges in Faiss's layout: vmin then vdiff, d values each (one each when uniform).
  const std::vector<float>& trained() const { return trained_; }
  void set_trained(std::vector<float> trained);
  /// Same type and ranges: codes of one decode alike with the other.
  bool same_ranges(const ScalarQuantizer& other) const {
    return d_ == other.d_ && type_ == other.type_ && trained_ == other.trained_;
  }

  /// Throws unless n codes decode to finite vectors within the bound of
  /// decoded vectors (kMaxDecodedSquaredNorm): fp16 and bf16 codes can hold
  /// anything, codes read from a file are checked. Integer codes stay within
  /// the trained ranges.
  void check_codes(size_t n, const uint8_t* codes) const;

  /// Scores codes against one query with the active SIMD kernels. The query
  /// is prepared once (per query, or per list for residual codes).
  class Scorer {
   public:
    Scorer(const ScalarQuantizer& sq, MetricType metric);
    void set_query(const float* x);
    /// L2: squared distances; inner product: similarities.
    void score(const uint8_t* codes, size_t n, float* out) const;

   private:
    const ScalarQuantizer& sq_;
    bool l2_;
    std::vector<float> u_;
    float offset_ = 0;  // inner product: query . a, common to every code
  };

 private:
  void derive_affine();

  size_t d_;
  QuantizerType type_;
  SQCodec codec_;
  std::vector<float> trained_;
  // Integer codes decode as a_[i] + q * b_[i] (derived from trained_).
  std::vector<float> a_, b_;
};

}  // namespace sextant
