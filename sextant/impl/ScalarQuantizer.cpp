#include "sextant/impl/ScalarQuantizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "sextant/base/Error.h"
#include "sextant/utils/kernels.h"
#include "sextant/utils/validate.h"

namespace sextant {

namespace {

constexpr float kHalfMax = 65504.0f;  // the largest finite fp16 value

SQCodec codec_of(QuantizerType type) {
  switch (type) {
    case QuantizerType::QT_4bit:
    case QuantizerType::QT_4bit_uniform: return kSQ4bit;
    case QuantizerType::QT_6bit: return kSQ6bit;
    case QuantizerType::QT_fp16: return kSQfp16;
    case QuantizerType::QT_bf16: return kSQbf16;
    default: return kSQ8bit;
  }
}

bool is_uniform(QuantizerType type) {
  return type == QuantizerType::QT_8bit_uniform || type == QuantizerType::QT_4bit_uniform;
}

bool is_direct(QuantizerType type) {
  return type == QuantizerType::QT_8bit_direct || type == QuantizerType::QT_8bit_direct_signed;
}

}  // namespace

const char* quantizer_type_name(QuantizerType type) {
  switch (type) {
    case QuantizerType::QT_8bit: return "SQ8";
    case QuantizerType::QT_4bit: return "SQ4";
    case QuantizerType::QT_8bit_uniform: return "SQ8_uniform";
    case QuantizerType::QT_4bit_uniform: return "SQ4_uniform";
    case QuantizerType::QT_fp16: return "SQfp16";
    case QuantizerType::QT_8bit_direct: return "SQ8_direct";
    case QuantizerType::QT_6bit: return "SQ6";
    case QuantizerType::QT_bf16: return "SQbf16";
    case QuantizerType::QT_8bit_direct_signed: return "SQ8_direct_signed";
  }
  return "unknown";
}

ScalarQuantizer::ScalarQuantizer(size_t d, QuantizerType type) : d_(d), type_(type), codec_(codec_of(type)) {
  SEXTANT_CHECK(d > 0, "d (the vector dimension) must be > 0, got ", d);
  SEXTANT_CHECK(static_cast<int>(type) >= 0 && static_cast<int>(type) <= 8,
                "unknown scalar quantizer type ", static_cast<int>(type));
  derive_affine();
}

bool ScalarQuantizer::needs_training() const { return sq_is_integer(codec_) && !is_direct(type_); }

void ScalarQuantizer::train(size_t n, const float* x) {
  if (!needs_training()) return;
  SEXTANT_CHECK(n > 0 && x != nullptr, "training a scalar quantizer needs at least one vector");
  const size_t ranges = is_uniform(type_) ? 1 : d_;
  std::vector<float> vmin(ranges, std::numeric_limits<float>::infinity());
  std::vector<float> vmax(ranges, -std::numeric_limits<float>::infinity());
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < d_; j++) {
      const size_t r = ranges == 1 ? 0 : j;
      vmin[r] = std::min(vmin[r], x[i * d_ + j]);
      vmax[r] = std::max(vmax[r], x[i * d_ + j]);
    }
  }
  std::vector<float> trained(vmin);
  for (size_t r = 0; r < ranges; r++) trained.push_back(vmax[r] - vmin[r]);
  set_trained(std::move(trained));
}

void ScalarQuantizer::set_trained(std::vector<float> trained) {
  const size_t expected = !needs_training() ? 0 : is_uniform(type_) ? 2 : 2 * d_;
  SEXTANT_CHECK(trained.size() == expected, quantizer_type_name(type_), " needs ", expected,
                " trained values, got ", trained.size());
  for (float v : trained) SEXTANT_CHECK(std::isfinite(v), "scalar quantizer ranges must be finite");
  // A code decodes within [vmin, vmin + vdiff] per component: the longest
  // vector it can give must be within the bound of decoded vectors.
  const size_t ranges = trained.size() / 2;
  double longest = 0;
  for (size_t j = 0; j < d_ && ranges > 0; j++) {
    const size_t r = ranges == 1 ? 0 : j;
    const double lo = trained[r], hi = lo + double(trained[ranges + r]);
    longest += std::max(lo * lo, hi * hi);
  }
  SEXTANT_CHECK(longest <= double(kMaxDecodedSquaredNorm),
                "scalar quantizer ranges decode to vectors of squared norm up to ", longest,
                ", above the limit 2^124");
  trained_ = std::move(trained);
  derive_affine();
}

void ScalarQuantizer::derive_affine() {
  a_.assign(d_, 0.0f);
  b_.assign(d_, 1.0f);
  if (type_ == QuantizerType::QT_8bit_direct_signed) std::fill(a_.begin(), a_.end(), -128.0f);
  if (!needs_training() || trained_.empty()) return;
  const size_t ranges = trained_.size() / 2;
  const float levels = float(sq_levels(codec_));
  for (size_t j = 0; j < d_; j++) {
    const float vmin = trained_[ranges == 1 ? 0 : j], vdiff = trained_[ranges + (ranges == 1 ? 0 : j)];
    b_[j] = vdiff / levels;
    a_[j] = vmin + 0.5f * b_[j];
  }
}

void ScalarQuantizer::encode(size_t n, const float* x, uint8_t* codes) const {
  SEXTANT_CHECK(is_trained(), "the scalar quantizer is not trained");
  const size_t cs = code_size();
  std::memset(codes, 0, n * cs);
  const size_t ranges = trained_.size() / 2;
  const float levels = float(sq_levels(codec_));
#pragma omp parallel for schedule(static) if (n * d_ > (1 << 16))
  for (long i = 0; i < static_cast<long>(n); i++) {
    const float* xi = x + i * d_;
    uint8_t* code = codes + i * cs;
    for (size_t j = 0; j < d_; j++) {
      if (codec_ == kSQfp16 || codec_ == kSQbf16) {
        // fp16 saturates at its largest finite value rather than storing an infinity.
        const uint16_t h = codec_ == kSQfp16 ? sq_float_to_half(std::clamp(xi[j], -kHalfMax, kHalfMax))
                                             : sq_float_to_bf16(xi[j]);
        std::memcpy(code + 2 * j, &h, 2);
      } else if (is_direct(type_)) {
        const float v = type_ == QuantizerType::QT_8bit_direct ? xi[j] : xi[j] + 128.0f;
        sq_put(codec_, code, j, uint32_t(std::clamp(v, 0.0f, 255.0f)));
      } else {
        const float vmin = trained_[ranges == 1 ? 0 : j], vdiff = trained_[ranges + (ranges == 1 ? 0 : j)];
        float unit = vdiff != 0 ? (xi[j] - vmin) / vdiff : 0.0f;
        unit = std::clamp(unit, 0.0f, 1.0f);
        sq_put(codec_, code, j, uint32_t(levels * unit));  // truncation, as Faiss
      }
    }
  }
}

void ScalarQuantizer::check_codes(size_t n, const uint8_t* codes) const {
  if (sq_is_integer(codec_)) return;
  constexpr size_t kChunk = 4096;
  std::vector<float> x(std::min(n, kChunk) * d_);
  for (size_t i0 = 0; i0 < n; i0 += kChunk) {
    const size_t m = std::min(kChunk, n - i0);
    decode(m, codes + i0 * code_size(), x.data());
    const size_t bad = find_unbounded_row(x.data(), m, d_, kMaxDecodedSquaredNorm);
    SEXTANT_CHECK(bad == m, quantizer_type_name(type_), " code ", i0 + bad,
                  " decodes to a vector with NaN, infinity or a squared norm above 2^124");
  }
}

void ScalarQuantizer::decode(size_t n, const uint8_t* codes, float* x) const {
  SEXTANT_CHECK(is_trained(), "the scalar quantizer is not trained");
  const size_t cs = code_size();
  const bool integer = sq_is_integer(codec_);
  auto decode_one = [&](size_t i) {
    for (size_t j = 0; j < d_; j++) {
      const float v = sq_value(codec_, codes + i * cs, j);
      x[i * d_ + j] = integer ? a_[j] + v * b_[j] : v;
    }
  };
  if (n * d_ <= (1 << 16)) {  // no parallel region: graph storages decode one code at a time
    for (size_t i = 0; i < n; i++) decode_one(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (long i = 0; i < static_cast<long>(n); i++) decode_one(size_t(i));
}

ScalarQuantizer::Scorer::Scorer(const ScalarQuantizer& sq, MetricType metric)
    : sq_(sq), l2_(metric == MetricType::L2), u_(sq.d_) {
  SEXTANT_CHECK(sq.is_trained(), "the scalar quantizer is not trained");
}

void ScalarQuantizer::Scorer::set_query(const float* x) {
  const size_t d = sq_.d_;
  offset_ = 0;
  if (!sq_is_integer(sq_.codec_)) {
    std::copy_n(x, d, u_.begin());
  } else if (l2_) {
    for (size_t j = 0; j < d; j++) u_[j] = x[j] - sq_.a_[j];
  } else {
    for (size_t j = 0; j < d; j++) {
      u_[j] = x[j] * sq_.b_[j];
      offset_ += x[j] * sq_.a_[j];
    }
  }
}

void ScalarQuantizer::Scorer::score(const uint8_t* codes, size_t n, float* out) const {
  const Kernels& k = kernels();
  (l2_ ? k.sq_l2 : k.sq_ip)[sq_.codec_](u_.data(), sq_.b_.data(), codes, sq_.code_size(), n, sq_.d_, out);
  if (offset_ != 0) {
    for (size_t j = 0; j < n; j++) out[j] += offset_;
  }
}

}  // namespace sextant
