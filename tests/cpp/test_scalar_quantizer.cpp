#include <gtest/gtest.h>
#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "reference.h"
#include "sextant/impl/ScalarQuantizer.h"
#include "sextant/utils/kernels.h"
#include "sextant/utils/sq_codecs.h"

namespace sextant {
namespace {

const QuantizerType kTypes[] = {QuantizerType::QT_8bit, QuantizerType::QT_4bit, QuantizerType::QT_8bit_uniform,
                                QuantizerType::QT_4bit_uniform, QuantizerType::QT_6bit, QuantizerType::QT_fp16,
                                QuantizerType::QT_bf16};

TEST(SQCodecs, HalfRoundTripsEveryValue) {
  for (uint32_t h = 0; h < 65536; h++) {
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue;  // nan payloads
    EXPECT_EQ(sq_float_to_half(sq_half_to_float(uint16_t(h))), h) << std::hex << h;
  }
}

__attribute__((target("f16c"))) uint16_t hardware_half(float f) {
  return uint16_t(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}

TEST(SQCodecs, HalfRoundsLikeTheHardware) {
  if (!__builtin_cpu_supports("f16c")) GTEST_SKIP() << "no F16C";
  auto x = test::random_vectors(200000, 1, 3, -70000, 70000);
  for (float scale : {1.0f, 1e-3f, 1e-6f, 3e-8f}) {
    for (float v : x) {
      float f = v * scale;
      ASSERT_EQ(sq_float_to_half(f), hardware_half(f)) << f;
    }
  }
}

TEST(SQCodecs, Bf16RoundsToNearestEven) {
  EXPECT_EQ(sq_float_to_bf16(1.0f), 0x3f80);
  float f;
  uint32_t bits = 0x3f808000;  // halfway between 0x3f80 and 0x3f81: to even
  std::memcpy(&f, &bits, 4);
  EXPECT_EQ(sq_float_to_bf16(f), 0x3f80);
  bits = 0x3f818000;
  std::memcpy(&f, &bits, 4);
  EXPECT_EQ(sq_float_to_bf16(f), 0x3f82);
  EXPECT_EQ(sq_bf16_to_float(sq_float_to_bf16(-2.5f)), -2.5f);
}

TEST(SQCodecs, SixBitPackingRoundTrips) {
  for (size_t d : {1, 3, 4, 5, 8, 13, 16, 17}) {
    std::vector<uint8_t> code(sq_code_size(kSQ6bit, d), 0);
    for (size_t i = 0; i < d; i++) sq_put(kSQ6bit, code.data(), i, uint32_t((i * 37 + 11) % 64));
    for (size_t i = 0; i < d; i++) EXPECT_EQ(sq_get(kSQ6bit, code.data(), i), (i * 37 + 11) % 64) << d << " " << i;
  }
}

TEST(ScalarQuantizer, DecodingErrorWithinOneStep) {
  const size_t n = 500, d = 37;
  auto x = test::random_vectors(n, d, 5, -3, 5);
  for (QuantizerType type : kTypes) {
    ScalarQuantizer sq(d, type);
    sq.train(n, x.data());
    std::vector<uint8_t> codes(n * sq.code_size());
    std::vector<float> y(n * d);
    sq.encode(n, x.data(), codes.data());
    sq.decode(n, codes.data(), y.data());
    // Integer codes: half a step of the (at most 8 wide) range; 16-bit floats:
    // half an ulp at the largest magnitude (5).
    float bound = 0;
    switch (type) {
      case QuantizerType::QT_fp16: bound = 5.0f / 2048; break;
      case QuantizerType::QT_bf16: bound = 5.0f / 256; break;
      case QuantizerType::QT_6bit: bound = 0.5f * 8 / 63; break;
      case QuantizerType::QT_4bit:
      case QuantizerType::QT_4bit_uniform: bound = 0.5f * 8 / 15; break;
      default: bound = 0.5f * 8 / 255;
    }
    bound *= 1.01f;
    double max_err = 0;
    for (size_t i = 0; i < n * d; i++) max_err = std::max(max_err, double(std::fabs(x[i] - y[i])));
    EXPECT_LE(max_err, bound) << quantizer_type_name(type);
    EXPECT_GT(max_err, 0) << quantizer_type_name(type);
  }
}

TEST(ScalarQuantizer, DirectTypesKeepBytes) {
  std::vector<float> x = {0, 1, 17, 255}, y(4);
  ScalarQuantizer direct(4, QuantizerType::QT_8bit_direct);
  EXPECT_TRUE(direct.is_trained());
  uint8_t code[4];
  direct.encode(1, x.data(), code);
  direct.decode(1, code, y.data());
  EXPECT_EQ(x, y);
  std::vector<float> s = {-128, -1, 0, 127};
  ScalarQuantizer sdirect(4, QuantizerType::QT_8bit_direct_signed);
  sdirect.encode(1, s.data(), code);
  sdirect.decode(1, code, y.data());
  EXPECT_EQ(s, y);
}

// Scores equal the distances to the decoded vectors, for every type, metric and SIMD level.
TEST(ScalarQuantizer, ScoresEqualDistancesToDecodedVectors) {
  for (size_t d : {1, 3, 8, 17, 100}) {
    const size_t n = 40;
    auto x = test::random_vectors(n, d, 7 + d, -2, 2), q = test::random_vectors(1, d, 8 + d, -2, 2);
    for (QuantizerType type : kTypes) {
      ScalarQuantizer sq(d, type);
      sq.train(n, x.data());
      std::vector<uint8_t> codes(n * sq.code_size());
      std::vector<float> y(n * d), got(n);
      sq.encode(n, x.data(), codes.data());
      sq.decode(n, codes.data(), y.data());
      for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
        ScalarQuantizer::Scorer scorer(sq, metric);
        scorer.set_query(q.data());
        scorer.score(codes.data(), n, got.data());
        for (size_t j = 0; j < n; j++) {
          double want = test::exact_distance(q.data(), &y[j * d], d, metric);
          EXPECT_NEAR(got[j], want, 1e-4 * std::max(1.0, std::fabs(want)))
              << quantizer_type_name(type) << " d=" << d << " " << metric_name(metric);
        }
      }
    }
  }
}

TEST(ScalarQuantizer, SimdKernelsMatchScalar) {
  const Kernels& scalar = *kernels_for(SimdLevel::scalar);
  for (SimdLevel level : {SimdLevel::avx2, SimdLevel::avx512, SimdLevel::avx512icl}) {
    const Kernels* simd = kernels_for(level);
    if (simd == nullptr) continue;
    for (size_t d : {1, 7, 8, 9, 16, 31, 32, 33, 64, 100, 784}) {
      for (int c = 0; c < kNumSQCodecs; c++) {
        const SQCodec codec = SQCodec(c);
        const size_t cs = sq_code_size(codec, d), n = 9;
        std::vector<uint8_t> codes(n * cs);
        for (size_t i = 0; i < codes.size(); i++) codes[i] = uint8_t(i * 131 + 7);
        if (!sq_is_integer(codec)) {  // keep 16-bit floats finite and moderate
          for (size_t i = 1; i < codes.size(); i += 2) codes[i] = uint8_t(0x3c + (codes[i] & 3));
        }
        auto u = test::random_vectors(1, d, 20 + d), v = test::random_vectors(1, d, 30 + d);
        std::vector<float> want(n), got(n);
        for (bool l2 : {true, false}) {
          (l2 ? scalar.sq_l2 : scalar.sq_ip)[c](u.data(), v.data(), codes.data(), cs, n, d, want.data());
          (l2 ? simd->sq_l2 : simd->sq_ip)[c](u.data(), v.data(), codes.data(), cs, n, d, got.data());
          for (size_t j = 0; j < n; j++) {
            EXPECT_NEAR(got[j], want[j], 1e-5 * std::max(1.0f, std::fabs(want[j])) * d)
                << to_string(level) << " codec " << c << " d=" << d << (l2 ? " L2" : " IP");
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace sextant
