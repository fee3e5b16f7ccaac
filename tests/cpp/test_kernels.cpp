#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "reference.h"
#include "sextant/utils/kernels.h"

namespace sextant {
namespace {

const size_t kDims[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 784, 1000};

class SimdLevelTest : public ::testing::TestWithParam<SimdLevel> {
 protected:
  void SetUp() override {
    simd_ = kernels_for(GetParam());
    if (simd_ == nullptr) GTEST_SKIP() << to_string(GetParam()) << " is not available on this CPU";
    scalar_ = kernels_for(SimdLevel::scalar);
  }
  const Kernels* simd_ = nullptr;
  const Kernels* scalar_ = nullptr;
};

// Bound on the difference of two float sums of d terms taken in different
// orders: 2 d ulp(1) times the sum of magnitudes. Far below one term on average.
float tolerance(const float* x, const float* y, size_t d, bool l2) {
  double mag = 0;
  for (size_t i = 0; i < d; i++) mag += l2 ? (x[i] - y[i]) * (x[i] - y[i]) : std::fabs(x[i] * y[i]);
  return float(2.0 * d * std::ldexp(1.0, -24) * mag) + 1e-30f;
}

TEST_P(SimdLevelTest, PairDistancesMatchScalar) {
  for (size_t d : kDims) {
    auto x = test::random_vectors(1, d, 1 + d), y = test::random_vectors(1, d, 2 + d);
    EXPECT_NEAR(simd_->l2sqr(x.data(), y.data(), d), scalar_->l2sqr(x.data(), y.data(), d),
                tolerance(x.data(), y.data(), d, true))
        << "d=" << d;
    EXPECT_NEAR(simd_->inner_product(x.data(), y.data(), d), scalar_->inner_product(x.data(), y.data(), d),
                tolerance(x.data(), y.data(), d, false))
        << "d=" << d;
  }
}

TEST_P(SimdLevelTest, OneToManyMatchesScalar) {
  for (size_t d : kDims) {
    for (size_t ny : {1, 3, 4, 5, 13}) {
      auto x = test::random_vectors(1, d, 3 + d);
      // Exactly sized allocation: a read past the last row shows under AddressSanitizer.
      auto y = test::random_vectors(ny, d, 4 + d);
      std::vector<float> got(ny), want(ny);
      for (bool l2 : {true, false}) {
        (l2 ? simd_->l2sqr_ny : simd_->inner_product_ny)(x.data(), y.data(), ny, d, got.data());
        (l2 ? scalar_->l2sqr_ny : scalar_->inner_product_ny)(x.data(), y.data(), ny, d, want.data());
        for (size_t j = 0; j < ny; j++) {
          EXPECT_NEAR(got[j], want[j], tolerance(x.data(), y.data() + j * d, d, l2))
              << "d=" << d << " ny=" << ny << " row " << j << (l2 ? " L2" : " IP");
          // The same bits as the row alone: a distance does not depend on the row's position.
          EXPECT_EQ(got[j], (l2 ? simd_->l2sqr : simd_->inner_product)(x.data(), y.data() + j * d, d))
              << "d=" << d << " ny=" << ny << " row " << j << (l2 ? " L2" : " IP");
        }
      }
    }
  }
}

TEST_P(SimdLevelTest, LookUpTablesMatchDistancesToEachCentroid) {
  const size_t M = 3;
  for (size_t d : {1, 2, 3, 7, 8, 14, 16}) {
    for (size_t ny : {1, 4, 8, 16, 24, 256}) {
      auto x = test::random_vectors(M, d, 50 + d), c = test::random_vectors(M * ny, d, 51 + ny);
      std::vector<float> ct(M * d * ny);  // subspace m: d rows of ny floats
      for (size_t m = 0; m < M; m++) {
        for (size_t j = 0; j < ny; j++) {
          for (size_t i = 0; i < d; i++) ct[(m * d + i) * ny + j] = c[(m * ny + j) * d + i];
        }
      }
      for (bool l2 : {true, false}) {
        for (const Kernels* k : {scalar_, simd_}) {
          std::vector<float> got(M * ny);
          (l2 ? k->l2sqr_table : k->inner_product_table)(x.data(), ct.data(), M, d, ny, got.data());
          for (size_t m = 0; m < M; m++) {
            for (size_t j = 0; j < ny; j++) {
              const float* xm = x.data() + m * d;
              const float* cj = c.data() + (m * ny + j) * d;
              const float want = l2 ? scalar_->l2sqr(xm, cj, d) : scalar_->inner_product(xm, cj, d);
              EXPECT_NEAR(got[m * ny + j], want, tolerance(xm, cj, d, l2))
                  << to_string(k->level) << " d=" << d << " ny=" << ny << " m=" << m << " j=" << j
                  << (l2 ? " L2" : " IP");
            }
          }
        }
      }
    }
  }
}

TEST_P(SimdLevelTest, CollectBelowMatchesScalarExactly) {
  for (size_t n = 1; n <= 70; n++) {
    auto v = test::random_vectors(1, n, 10 + n), bias = test::random_vectors(1, n, 20 + n);
    for (float scale : {1.0f, -1.0f}) {
      for (const float* b : {static_cast<const float*>(nullptr), static_cast<const float*>(bias.data())}) {
        for (float threshold : {-2.0f, 0.0f, 0.3f, 5.0f}) {
          std::vector<uint32_t> idx_s(n), idx_v(n);
          std::vector<float> val_s(n), val_v(n);
          size_t cs = scalar_->collect_below(v.data(), b, scale, n, threshold, idx_s.data(), val_s.data());
          size_t cv = simd_->collect_below(v.data(), b, scale, n, threshold, idx_v.data(), val_v.data());
          ASSERT_EQ(cs, cv) << "n=" << n;
          for (size_t i = 0; i < cs; i++) {
            EXPECT_EQ(idx_s[i], idx_v[i]);
            EXPECT_EQ(val_s[i], val_v[i]);  // scale is +-1: the sum rounds the same way
          }
        }
      }
    }
  }
}

TEST_P(SimdLevelTest, MinKeyMatchesScalarExactly) {
  for (size_t n : {1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 1000, 2048}) {
    auto v = test::random_vectors(1, n, 50 + n), bias = test::random_vectors(1, n, 60 + n);
    // Ties: copies of the minimum after it (in another lane, and in the tail) must not win.
    size_t at = 0;
    for (size_t j = 1; j < n; j++) at = v[j] < v[at] ? j : at;
    for (size_t j : {at + 3, at + 8, n - 1}) {
      if (j > at && j < n) v[j] = v[at];
    }
    for (float scale : {1.0f, -2.0f}) {
      for (const float* b : {static_cast<const float*>(nullptr), static_cast<const float*>(bias.data())}) {
        float key_s = 0, key_v = 0;
        const size_t pos_s = scalar_->min_key(v.data(), b, scale, n, &key_s);
        const size_t pos_v = simd_->min_key(v.data(), b, scale, n, &key_v);
        EXPECT_EQ(pos_s, pos_v) << "n=" << n << " scale=" << scale;
        EXPECT_EQ(key_s, key_v) << "n=" << n << " scale=" << scale;  // exact products: same rounding
        if (b == nullptr && scale > 0) EXPECT_EQ(pos_v, at) << "n=" << n << ": the first minimum wins";
      }
    }
  }
}

TEST_P(SimdLevelTest, GatherMatchesScalarAndStopsAtTheBound) {
  for (size_t d : kDims) {
    const size_t nb = 9;
    auto x = test::random_vectors(1, d, 30 + d), base = test::random_vectors(nb, d, 31 + d);
    for (size_t n : {1, 3, 4, 5, 11}) {
      std::vector<uint32_t> ids(n);
      for (size_t j = 0; j < n; j++) ids[j] = uint32_t((j * 5 + 2) % nb);  // repeats and any order
      std::vector<float> got(n), want(n);
      simd_->inner_product_gather(x.data(), base.data(), d, ids.data(), n, got.data());
      for (size_t j = 0; j < n; j++) {
        const float* y = base.data() + ids[j] * d;
        EXPECT_NEAR(got[j], scalar_->inner_product(x.data(), y, d), tolerance(x.data(), y, d, false))
            << "d=" << d << " n=" << n << " row " << j << " IP";
      }
      // Full L2 distances without a bound; with one, every row either is exact
      // (below the bound) or reports a value at or above it.
      std::vector<float> full(n);
      for (size_t j = 0; j < n; j++) full[j] = scalar_->l2sqr(x.data(), base.data() + ids[j] * d, d);
      std::vector<float> sorted = full;
      std::sort(sorted.begin(), sorted.end());
      for (float bound : {std::numeric_limits<float>::infinity(), sorted[n / 2]}) {
        for (const Kernels* k : {simd_, scalar_}) {
          k->l2sqr_gather(x.data(), base.data(), d, ids.data(), n, bound, got.data());
          for (size_t j = 0; j < n; j++) {
            const float* y = base.data() + ids[j] * d;
            const float tol = tolerance(x.data(), y, d, true);
            if (full[j] < bound - tol) {
              EXPECT_NEAR(got[j], full[j], tol) << "d=" << d << " n=" << n << " row " << j;
            } else if (full[j] > bound + tol) {
              EXPECT_GE(got[j], bound) << "d=" << d << " n=" << n << " row " << j;
              EXPECT_LE(got[j], full[j] + tol) << "d=" << d << " n=" << n << " row " << j;
            }
          }
        }
      }
    }
  }
}

// Split rows (SplitQuery in kernels.h), encoded here from their definition:
// the n rows' high words, then their low words.
std::vector<uint32_t> split_rows(const std::vector<float>& x, size_t n, size_t d) {
  const size_t w = (d + 1) / 2;
  std::vector<uint32_t> out(2 * n * w);
  for (size_t i = 0; i < n; i++) {
    for (size_t c = 0; c < d; c++) {
      uint32_t b;
      std::memcpy(&b, &x[i * d + c], 4);
      out[i * w + c / 2] |= c % 2 ? (b & 0xffff0000u) : b >> 16;
      out[(n + i) * w + c / 2] |= c % 2 ? b << 16 : (b & 0xffffu);
    }
  }
  return out;
}

TEST_P(SimdLevelTest, SplitRowsGiveExactAndTruncatedDistances) {
  for (size_t d : kDims) {
    const size_t nb = 9, w = (d + 1) / 2;
    auto x = test::random_vectors(1, d, 50 + d), base = test::random_vectors(nb, d, 51 + d);
    // The rows truncated to their high halves: what a traversal reads.
    std::vector<float> truncated = base;
    for (float& v : truncated) {
      uint32_t b;
      std::memcpy(&b, &v, 4);
      b &= 0xffff0000u;
      std::memcpy(&v, &b, 4);
    }
    const std::vector<uint32_t> rows = split_rows(base, nb, d), words = split_rows(x, 1, d);
    const uint32_t* high = rows.data();
    const uint32_t* low = rows.data() + nb * w;
    std::vector<float> even(w, 0.0f), odd(w, 0.0f);
    for (size_t c = 0; c < d; c++) (c % 2 ? odd : even)[c / 2] = x[c];
    const SplitQuery q{even.data(), odd.data(), words.data()};
    for (const Kernels* k : {simd_, scalar_}) {  // pairs of rows: truncated distances
      const float* a = &truncated[2 * d];
      const float* b = &truncated[7 * d];
      EXPECT_NEAR(k->l2sqr_split_pair(high + 2 * w, high + 7 * w, w), scalar_->l2sqr(a, b, d),
                  tolerance(a, b, d, true)) << "d=" << d;
      EXPECT_NEAR(k->inner_product_split_pair(high + 2 * w, high + 7 * w, w),
                  scalar_->inner_product(a, b, d), tolerance(a, b, d, false)) << "d=" << d;
    }
    for (size_t n : {1, 3, 8, 11}) {
      std::vector<uint32_t> ids(n);
      for (size_t j = 0; j < n; j++) ids[j] = uint32_t((j * 5 + 2) % nb);
      std::vector<float> got(n), full(n);
      for (bool exact : {true, false}) {
        const std::vector<float>& ref = exact ? base : truncated;
        for (size_t j = 0; j < n; j++) full[j] = scalar_->l2sqr(x.data(), ref.data() + ids[j] * d, d);
        std::vector<float> sorted = full;
        std::sort(sorted.begin(), sorted.end());
        for (const Kernels* k : {simd_, scalar_}) {
          k->inner_product_split_gather(q, high, low, w, ids.data(), n, exact, got.data());
          for (size_t j = 0; j < n; j++) {
            const float* y = ref.data() + ids[j] * d;
            EXPECT_NEAR(got[j], scalar_->inner_product(x.data(), y, d), tolerance(x.data(), y, d, false))
                << "d=" << d << " n=" << n << " row " << j << " IP exact=" << exact;
          }
          // Without a bound every distance is whole; with one, a row is either
          // whole (below the bound) or reports a value at or above it.
          for (float bound : {std::numeric_limits<float>::infinity(), sorted[n / 2]}) {
            k->l2sqr_split_gather(q, high, low, w, ids.data(), n, bound, exact, got.data());
            for (size_t j = 0; j < n; j++) {
              const float* y = ref.data() + ids[j] * d;
              const float tol = tolerance(x.data(), y, d, true);
              if (full[j] < bound - tol) {
                EXPECT_NEAR(got[j], full[j], tol) << "d=" << d << " n=" << n << " row " << j << " exact=" << exact;
              } else if (full[j] > bound + tol) {
                EXPECT_GE(got[j], bound) << "d=" << d << " n=" << n << " row " << j << " exact=" << exact;
              }
            }
          }
        }
      }
    }
  }
}

TEST_P(SimdLevelTest, NearestCentroidMatchesScalar) {
  const size_t n = 37;
  for (size_t d : {1, 2, 3, 7, 8, 14, 16, 17, 32}) {
    for (size_t k : {1, 5, 16, 17, 100, 128, 129, 256, 300}) {
      auto x = test::random_vectors(n, d, 40 + d), c = test::random_vectors(k, d, 41 + k);
      if (k > 150) std::copy_n(c.data() + 3 * d, d, c.data() + 140 * d);  // an exact tie: 3 must win
      const size_t kpad = (k + kNearestPad - 1) / kNearestPad * kNearestPad;
      std::vector<float> ct(d * kpad, 0.0f), norms(kpad, std::numeric_limits<float>::infinity());
      for (size_t j = 0; j < k; j++) {
        norms[j] = scalar_->inner_product(c.data() + j * d, c.data() + j * d, d);
        for (size_t t = 0; t < d; t++) ct[t * kpad + j] = c[j * d + t];
      }
      std::vector<int64_t> got(n), want(n);
      std::vector<float> got_score(n), want_score(n);
      simd_->l2_nearest(x.data(), n, d, ct.data(), norms.data(), kpad, got.data(), got_score.data());
      scalar_->l2_nearest(x.data(), n, d, ct.data(), norms.data(), kpad, want.data(), want_score.data());
      for (size_t i = 0; i < n; i++) {
        const float* xi = x.data() + i * d;
        ASSERT_GE(got[i], 0) << "d=" << d << " k=" << k;
        ASSERT_LT(got[i], int64_t(k)) << "d=" << d << " k=" << k;
        const float xn = scalar_->inner_product(xi, xi, d);
        // Both sides add the same terms in other roundings; the score's cancellation bounds the rest.
        const float tol = float(4 * d * std::ldexp(1.0, -24) * (xn + norms[want[i]])) + 1e-6f;
        EXPECT_NEAR(got_score[i], want_score[i], tol) << "d=" << d << " k=" << k << " point " << i;
        // A different label only for a near tie, and never a worse centroid.
        const float got_dist = scalar_->l2sqr(xi, c.data() + got[i] * d, d);
        EXPECT_NEAR(got_dist, want_score[i] + xn, tol) << "d=" << d << " k=" << k << " point " << i;
        EXPECT_NE(got[i], 140) << "the exact tie went to the larger index";
      }
    }
  }
}

// The residual exactly, its range exactly, its sum and norm up to the order of the additions.
TEST_P(SimdLevelTest, RaBitQResidualMatchesScalar) {
  for (size_t d : kDims) {
    const auto x = test::random_vectors(1, d, 21, -3, 2), c = test::random_vectors(1, d, 22, -1, 1);
    for (const float* centroid : {c.data(), static_cast<const float*>(nullptr)}) {
      std::vector<float> r(d), want(d);
      float stats[4], want_stats[4];
      simd_->rabitq_residual(x.data(), centroid, d, r.data(), stats);
      scalar_->rabitq_residual(x.data(), centroid, d, want.data(), want_stats);
      for (size_t j = 0; j < d; j++) ASSERT_EQ(want[j], x[j] - (centroid ? c[j] : 0.0f)) << "d=" << d;
      ASSERT_EQ(r, want) << "d=" << d;
      EXPECT_EQ(stats[1], *std::min_element(want.begin(), want.end())) << "d=" << d;
      EXPECT_EQ(stats[2], *std::max_element(want.begin(), want.end())) << "d=" << d;
      EXPECT_EQ(want_stats[1], stats[1]);
      EXPECT_EQ(want_stats[2], stats[2]);
      EXPECT_NEAR(stats[0], want_stats[0], 1e-4f * d);
      EXPECT_NEAR(stats[3], want_stats[3], 1e-5f * want_stats[3] + 1e-6f);
    }
  }
}

// Every level counts bits exactly: checked against a bit-by-bit count, and the levels against scalar.
TEST_P(SimdLevelTest, RaBitQPopcountsAreExact) {
  std::mt19937_64 rng(5);
  for (size_t d : kDims) {
    const size_t bits_size = (d + 7) / 8, code_size = bits_size + 8, words = (d + 63) / 64, n = 37;
    for (size_t nplanes = 1; nplanes <= 8; nplanes++) {
      std::vector<uint8_t> codes(n * code_size);
      for (auto& b : codes) b = uint8_t(rng());
      for (size_t i = 0; i < n; i++) {  // zero past the last bit, as codes are
        if (d % 8) codes[i * code_size + bits_size - 1] &= uint8_t((1u << (d % 8)) - 1);
      }
      std::vector<uint64_t> planes(nplanes * words);
      for (size_t p = 0; p < nplanes; p++) {
        for (size_t j = 0; j < d; j++) planes[p * words + j / 64] |= uint64_t(rng() & 1) << (j % 64);
      }
      std::vector<uint32_t> dots(n), counts(n), want_dots(n), want_counts(n);
      simd_->rabitq_popcounts(codes.data(), n, code_size, bits_size, planes.data(), words, nplanes, dots.data(),
                              counts.data());
      scalar_->rabitq_popcounts(codes.data(), n, code_size, bits_size, planes.data(), words, nplanes,
                                want_dots.data(), want_counts.data());
      for (size_t i = 0; i < n; i++) {
        uint32_t dot = 0, count = 0;
        for (size_t j = 0; j < d; j++) {
          if (!((codes[i * code_size + j / 8] >> (j % 8)) & 1)) continue;
          count++;
          for (size_t p = 0; p < nplanes; p++) dot += uint32_t((planes[p * words + j / 64] >> (j % 64)) & 1) << p;
        }
        ASSERT_EQ(want_counts[i], count) << "d=" << d;
        ASSERT_EQ(want_dots[i], dot) << "d=" << d << " planes=" << nplanes;
        ASSERT_EQ(counts[i], count) << "d=" << d;
        ASSERT_EQ(dots[i], dot) << "d=" << d << " planes=" << nplanes;
      }
    }
  }
}

// The multi-bit dot product: every level against the values unpacked bit by
// bit, for every e; the sum only up to the order of the additions.
TEST_P(SimdLevelTest, RaBitQExtendedDotMatchesScalar) {
  std::mt19937_64 rng(6);
  for (size_t d : kDims) {
    const auto r = test::random_vectors(1, d, 23, -2, 2);
    for (size_t e = 1; e <= 8; e++) {
      std::vector<uint8_t> signs((d + 7) / 8), packed((d * e + 7) / 8 + 7);  // 7 readable bytes after
      for (auto& b : signs) b = uint8_t(rng());
      for (auto& b : packed) b = uint8_t(rng());
      double want = 0, scale = 0;
      for (size_t j = 0; j < d; j++) {
        uint32_t stored = 0;
        for (size_t k = 0; k < e; k++) stored |= uint32_t((packed[(j * e + k) / 8] >> ((j * e + k) % 8)) & 1) << k;
        const uint32_t v = (uint32_t((signs[j / 8] >> (j % 8)) & 1) << e) | stored;
        want += double(r[j]) * v;
        scale += std::fabs(double(r[j]) * v);
      }
      const float tol = float(1e-5 * scale) + 1e-6f;
      EXPECT_NEAR(scalar_->rabitq_extended_dot(signs.data(), packed.data(), e, r.data(), d), want, tol)
          << "d=" << d << " e=" << e;
      EXPECT_NEAR(simd_->rabitq_extended_dot(signs.data(), packed.data(), e, r.data(), d), want, tol)
          << "d=" << d << " e=" << e;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, SimdLevelTest,
                         ::testing::Values(SimdLevel::avx2, SimdLevel::avx512, SimdLevel::avx512icl),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(SimdDispatch, ActiveLevelIsAvailable) {
  EXPECT_TRUE(simd_level_available(simd_level()));
  EXPECT_EQ(kernels().level, simd_level());
  EXPECT_TRUE(simd_level_available(SimdLevel::scalar));
}

}  // namespace
}  // namespace sextant
