// RaBitQ: the estimator against exact inner products and distances (error
// within its bound, no bias), and the indexes' recall against brute force.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "reference.h"
#include "sextant/IndexFlat.h"
#include "sextant/IndexIVFRaBitQ.h"
#include "sextant/IndexIVFRaBitQFastScan.h"
#include "sextant/IndexRaBitQ.h"
#include "sextant/IndexRaBitQFastScan.h"
#include "sextant/IndexRefine.h"
#include "sextant/RangeSearchResult.h"
#include "sextant/SearchParams.h"
#include "sextant/impl/BlockInvertedLists.h"
#include "sextant/impl/RaBitQFastScan.h"
#include "sextant/impl/RaBitQuantizer.h"
#include "sextant/index_factory.h"
#include "sextant/utils/kernels.h"

namespace sextant {
namespace {

// Gaussian data are invariant under rotation: the bound needs no rotation in front.
std::vector<float> gaussian(size_t n, size_t d, uint32_t seed, float shift = 0) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0, 1);
  std::vector<float> x(n * d);
  for (float& v : x) v = dist(rng) + shift;
  return x;
}

const MetricType kMetrics[] = {MetricType::L2, MetricType::INNER_PRODUCT};

TEST(RaBitQuantizer, CodeLayoutIsFaiss) {
  RaBitQuantizer rq(13, MetricType::L2);
  EXPECT_EQ(rq.code_size(), 2u + 8u);
  std::vector<float> x(13, -1.0f), c(13, 0.0f);
  x[0] = x[9] = x[12] = 2.0f;
  std::vector<uint8_t> code(rq.code_size());
  rq.encode(1, x.data(), c.data(), code.data());
  EXPECT_EQ(code[0], 0x01);                    // bit 0
  EXPECT_EQ(code[1], (1 << 1) | (1 << 4));     // bits 9 and 12
  RaBitQuantizer::Factors f;
  std::memcpy(&f, code.data() + 2, sizeof(f));
  EXPECT_FLOAT_EQ(f.or_minus_c_l2sqr, 3 * 4.0f + 10 * 1.0f);
  // ||o - c|| / <b, u> with <b, u> = sum |o - c| / (||o - c|| sqrt(d)).
  const float norm = std::sqrt(22.0f), b_dot_u = 16.0f / (norm * std::sqrt(13.0f));
  EXPECT_NEAR(f.dp_multiplier, norm / b_dot_u, 1e-4);
}

// The estimate's error is close to normal with a standard deviation of
// bound / eps0: eps0 = 1.9 leaves about 6% of pairs outside the L2 bound and
// 3 / 1.9 times the bound almost none. The inner-product bound is looser (its
// codes do not keep ||o - c||). The errors average out (unbiased), and the
// bound is a small fraction of ||q - c|| ||o - c||, the scale of the errors.
TEST(RaBitQuantizer, ErrorWithinBoundAndUnbiased) {
  const size_t n = 2000, nq = 20, d = 128;
  const auto xb = gaussian(n, d, 1, 0.3f), xq = gaussian(nq, d, 2, 0.3f);
  for (MetricType metric : kMetrics) {
    for (int qb : {0, 8}) {
      RaBitQuantizer rq(d, metric);
      const std::vector<float> c = rq.train(n, xb.data());
      std::vector<uint8_t> codes(n * rq.code_size());
      rq.encode(n, xb.data(), c.data(), codes.data());
      RaBitQuantizer::Scorer scorer(rq, qb);
      size_t outside = 0, outside_3sigma = 0;
      double sum_err = 0, sum_abs_exact = 0, sum_bound = 0, sum_scale = 0;
      for (size_t q = 0; q < nq; q++) {
        scorer.set_query(&xq[q * d], c.data());
        for (size_t i = 0; i < n; i++) {
          const uint8_t* code = &codes[i * rq.code_size()];
          const double exact = test::exact_distance(&xq[q * d], &xb[i * d], d, metric);
          const double err = scorer.estimate(code) - exact;
          const float bound = scorer.error_bound(code);
          outside += std::fabs(err) > bound;
          outside_3sigma += std::fabs(err) > bound * 3 / RaBitQuantizer::kEpsilon0;
          sum_err += err;
          sum_abs_exact += std::fabs(exact);
          sum_bound += bound;
          sum_scale += std::sqrt(test::exact_distance(&xq[q * d], c.data(), d, MetricType::L2) *
                                 test::exact_distance(&xb[i * d], c.data(), d, MetricType::L2));
        }
      }
      const double pairs = double(n * nq);
      SCOPED_TRACE(std::string(metric_name(metric)) + " qb=" + std::to_string(qb));
      EXPECT_LT(outside / pairs, metric == MetricType::L2 ? 0.08 : 0.01);
      EXPECT_LT(outside_3sigma / pairs, 0.005);
      EXPECT_LT(std::fabs(sum_err) / sum_abs_exact, 0.01);  // bias well under 1% of the values
      // 2 eps0 sqrt(1 / <b, u>^2 - 1) / sqrt(d - 1) ~ 0.25 for L2, eps0 / (<b, u> sqrt(d - 1)) ~ 0.21 for IP.
      EXPECT_LT(sum_bound / sum_scale, 0.3);
    }
  }
}

// Faiss's multi-bit layout: sign bits, three floats, 3 bits a dimension, two
// floats. The code stands for c + s y with <s y, o - c> = ||o - c||^2 (the
// estimator is exact for the query o), and the largest coordinate gets the
// top magnitude.
TEST(RaBitQuantizer, MultiBitCodeLayoutIsFaiss) {
  const size_t d = 13;
  RaBitQuantizer rq(d, MetricType::L2, 4), one_bit(d, MetricType::L2);
  EXPECT_EQ(rq.nb_bits(), 4);
  EXPECT_EQ(rq.code_size(), 2u + 12u + (13u * 3 + 7) / 8 + 8u);
  const auto x = gaussian(20, d, 11), c = gaussian(1, d, 12);
  std::vector<uint8_t> codes(20 * rq.code_size()), signs(20 * one_bit.code_size());
  rq.encode(20, x.data(), c.data(), codes.data());
  one_bit.encode(20, x.data(), c.data(), signs.data());
  std::vector<float> decoded(20 * d);
  rq.decode(20, codes.data(), c.data(), decoded.data());
  for (size_t i = 0; i < 20; i++) {
    const uint8_t* code = &codes[i * rq.code_size()];
    // The sign bits and the first two floats are the 1-bit code's.
    EXPECT_EQ(std::memcmp(code, &signs[i * one_bit.code_size()], one_bit.code_size()), 0) << i;
    double dot = 0, norm_sqr = 0, largest = 0;
    size_t top = 0;
    for (size_t j = 0; j < d; j++) {
      const double r = x[i * d + j] - c[j];
      dot += (decoded[i * d + j] - c[j]) * r;
      norm_sqr += r * r;
      if (std::fabs(r) > largest) largest = std::fabs(r), top = j;
    }
    EXPECT_NEAR(dot, norm_sqr, 1e-4 * norm_sqr) << i;
    // The decoded coordinate of the largest residual is the largest one: level 7 of 0..7.
    float biggest = 0;
    for (size_t j = 0; j < d; j++) biggest = std::max(biggest, std::fabs(decoded[i * d + j] - c[j]));
    EXPECT_FLOAT_EQ(std::fabs(decoded[i * d + top] - c[top]), biggest) << i;
  }
}

// Each extra bit roughly halves the estimate's error; the error stays within
// the e-bit bound as often as the 1-bit one does within its own, and unbiased.
TEST(RaBitQuantizer, MoreBitsTightenTheEstimate) {
  const size_t n = 1000, nq = 10, d = 96;
  const auto xb = gaussian(n, d, 13, 0.3f), xq = gaussian(nq, d, 14, 0.3f);
  for (MetricType metric : kMetrics) {
    double previous = std::numeric_limits<double>::infinity();
    for (int bits : {1, 2, 3, 5, 9}) {
      SCOPED_TRACE(std::string(metric_name(metric)) + " nb_bits=" + std::to_string(bits));
      RaBitQuantizer rq(d, metric, bits);
      const std::vector<float> c = rq.train(n, xb.data());
      std::vector<uint8_t> codes(n * rq.code_size());
      rq.encode(n, xb.data(), c.data(), codes.data());
      RaBitQuantizer::Scorer scorer(rq, 0);
      double sum_abs = 0, sum_err = 0, sum_exact = 0;
      size_t outside = 0;
      for (size_t q = 0; q < nq; q++) {
        scorer.set_query(&xq[q * d], c.data());
        for (size_t i = 0; i < n; i++) {
          const uint8_t* code = &codes[i * rq.code_size()];
          const double err = scorer.estimate(code) - test::exact_distance(&xq[q * d], &xb[i * d], d, metric);
          sum_abs += std::fabs(err);
          sum_err += err;
          sum_exact += std::fabs(test::exact_distance(&xq[q * d], &xb[i * d], d, metric));
          outside += std::fabs(err) > scorer.error_bound(code);
        }
      }
      EXPECT_LT(sum_abs, 0.7 * previous);
      EXPECT_LT(outside / double(n * nq), metric == MetricType::L2 || bits > 1 ? 0.08 : 0.01);
      EXPECT_LT(std::fabs(sum_err), 0.01 * sum_exact);
      previous = sum_abs;
    }
  }
}

TEST(RaBitQuantizer, QuantisedQueryCloseToFloatQuery) {
  const size_t n = 500, d = 96;
  const auto xb = gaussian(n, d, 3), xq = gaussian(1, d, 4);
  RaBitQuantizer rq(d, MetricType::L2);
  std::vector<uint8_t> codes(n * rq.code_size());
  rq.encode(n, xb.data(), nullptr, codes.data());
  RaBitQuantizer::Scorer exact(rq, 0), quantised(rq, 8);
  exact.set_query(xq.data(), nullptr);
  quantised.set_query(xq.data(), nullptr);
  for (size_t i = 0; i < n; i++) {
    const uint8_t* code = &codes[i * rq.code_size()];
    EXPECT_NEAR(quantised.estimate(code), exact.estimate(code), 0.02 * exact.estimate(code)) << i;
  }
}

TEST(RaBitQuantizer, RejectsBadQueryBits) {
  RaBitQuantizer rq(8, MetricType::L2);
  EXPECT_THROW(RaBitQuantizer::Scorer(rq, 9), Error);
  EXPECT_THROW(RaBitQuantizer::Scorer(rq, -1), Error);
  IndexRaBitQ index(8);
  EXPECT_THROW(index.set_qb(9), Error);
}

TEST(RaBitQuantizer, RejectsBadCodeBits) {
  for (int bits : {0, -1, 10}) {
    EXPECT_THROW(RaBitQuantizer(8, MetricType::L2, bits), Error) << bits;
    EXPECT_THROW(IndexRaBitQ(8, MetricType::L2, bits), Error) << bits;
  }
  for (const char* bad : {"RaBitQ0", "RaBitQ10", "RaBitQfs0", "IVF8,RaBitQ10", "IVF8,RaBitQfs12", "RaBitQ4x", "RaBitQ4fs"}) {
    EXPECT_THROW(index_factory(8, bad), Error) << bad;
  }
  EXPECT_EQ(describe(*index_factory(8, "RaBitQ1")), "RaBitQ");
  EXPECT_EQ(describe(*index_factory(8, "RaBitQfs1")), "RaBitQfs");
}

// 1-recall@10: the true nearest neighbour among the 10 returned.
double recall_1_at_10(Index& index, const std::vector<float>& xb, const std::vector<float>& xq, size_t d,
                      MetricType metric, const SearchParams& params = {}) {
  const size_t nq = xq.size() / d, nb = xb.size() / d, k = 10;
  std::vector<float> dist(nq * k);
  std::vector<idx_t> labels(nq * k);
  index.search(nq, xq.data(), k, dist.data(), labels.data(), params);
  size_t found = 0;
  for (size_t q = 0; q < nq; q++) {
    const idx_t truth = test::ranked(&xq[q * d], xb.data(), nb, d, metric)[0].second;
    for (size_t j = 0; j < k; j++) found += labels[q * k + j] == truth;
  }
  return double(found) / nq;
}

class RaBitQRecall : public ::testing::TestWithParam<const char*> {};

// Thresholds sit under what correct codes give (about 0.6 with 1 bit on 64
// Gaussian dimensions, 0.95 re-ranking 10 k) and far above what broken factors
// or bits give (random: 10 / 3000).
TEST_P(RaBitQRecall, FindsTheNearestNeighbour) {
  const size_t n = 3000, nq = 50, d = 64;
  const auto xb = gaussian(n, d, 5), xq = gaussian(nq, d, 6);
  for (MetricType metric : kMetrics) {
    SCOPED_TRACE(metric_name(metric));
    auto index = index_factory(d, GetParam(), metric);
    index->train(n, xb.data());
    index->add(n, xb.data());
    const std::string desc = GetParam();
    const bool refined = desc.find("RFlat") != std::string::npos;
    SearchParams params;
    if (desc.find("IVF") != std::string::npos) params.nprobe = 16;
    if (refined) params.k_factor = 10;
    EXPECT_GE(recall_1_at_10(*index, xb, xq, d, metric, params), refined ? 0.9 : 0.5);
  }
}

INSTANTIATE_TEST_SUITE_P(Indexes, RaBitQRecall,
                         ::testing::Values("RaBitQ", "IVF16,RaBitQ", "IVF16,RaBitQfs", "RaBitQ,RFlat", "IVF16,RaBitQ,RFlat",
                                           "IVF16,RaBitQfs,RFlat", "RaBitQfs", "RaBitQfs,RFlat", "RaBitQ4",
                                           "IVF16,RaBitQ2", "RaBitQ3,RFlat", "IVF16,RaBitQfs4", "RaBitQfs3,RFlat"),
                         test::factory_name);

// The two-stage scan skips a code only where the 1-bit estimate's bound says
// its multi-bit estimate cannot enter: the neighbours are almost all those of
// ranking every multi-bit estimate.
TEST(IndexRaBitQ, TwoStageScanKeepsWhatFullScoringFinds) {
  const size_t n = 3000, nq = 30, d = 64, k = 10;
  const auto xb = gaussian(n, d, 15), xq = gaussian(nq, d, 16);
  for (MetricType metric : kMetrics) {
    SCOPED_TRACE(metric_name(metric));
    IndexRaBitQ index(d, metric, 4);
    index.train(n, xb.data());
    index.add(n, xb.data());
    std::vector<float> dist(nq * k);
    std::vector<idx_t> labels(nq * k), full(nq * k);
    index.search(nq, xq.data(), k, dist.data(), labels.data());
    RaBitQuantizer::Scorer scorer(index.rabitq(), index.qb());
    std::vector<float> scores(n);
    for (size_t q = 0; q < nq; q++) {
      scorer.set_query(&xq[q * d], index.center().data());
      scorer.score(index.codes(), n, scores.data());
      std::vector<idx_t> order(n);
      for (size_t i = 0; i < n; i++) order[i] = idx_t(i);
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](idx_t a, idx_t b) {
        return metric == MetricType::L2 ? scores[a] < scores[b] : scores[a] > scores[b];
      });
      std::copy(order.begin(), order.begin() + k, full.begin() + q * k);
    }
    EXPECT_GE(test::recall_at_k(labels, full, nq, k), 0.97);
    // And 4 bits find far more of the exact neighbours than 1 bit.
    EXPECT_GE(recall_1_at_10(index, xb, xq, d, metric), 0.95);
  }
}

TEST(IndexRaBitQ, FloatAndQuantisedQueriesAgreeMostly) {
  const size_t n = 2000, nq = 30, d = 64, k = 10;
  const auto xb = gaussian(n, d, 7), xq = gaussian(nq, d, 8);
  IndexRaBitQ index(d);
  index.train(n, xb.data());
  index.add(n, xb.data());
  std::vector<float> d0(nq * k), d8(nq * k);
  std::vector<idx_t> l0(nq * k), l8(nq * k);
  index.set_qb(0);
  index.search(nq, xq.data(), k, d0.data(), l0.data());
  index.set_qb(8);
  index.search(nq, xq.data(), k, d8.data(), l8.data());
  EXPECT_GE(test::recall_at_k(l0, l8, nq, k), 0.9);
}

TEST(IndexRaBitQ, ErrorBoundsNameStoredVectors) {
  const size_t n = 100, d = 32;
  const auto xb = gaussian(n, d, 9);
  IndexRaBitQ index(d);
  const idx_t ids[] = {0, 5};
  float out[2];
  EXPECT_THROW(index.error_bounds(xb.data(), ids, 2, out), Error);  // untrained
  index.train(n, xb.data());
  index.add(n, xb.data());
  index.error_bounds(xb.data(), ids, 2, out);
  EXPECT_GT(out[0], 0);
  const idx_t bad[] = {int64_t(n)};
  EXPECT_THROW(index.error_bounds(xb.data(), bad, 1, out), Error);
}

TEST(IndexIVFRaBitQ, ErrorBoundsFindCodesThroughTheDirectMap) {
  const size_t n = 400, d = 32;
  const auto xb = gaussian(n, d, 10);
  auto index = index_factory(d, "IVF8,RaBitQ");
  auto& ivf = dynamic_cast<IndexIVFRaBitQ&>(*index);
  ASSERT_TRUE(ivf.has_error_bounds());
  const idx_t ids[] = {0, 5, -1};
  float out[3];
  EXPECT_THROW(ivf.error_bounds(xb.data(), ids, 3, out), Error);  // untrained
  ivf.train(n, xb.data());
  ivf.add(n, xb.data());
  EXPECT_THROW(ivf.error_bounds(xb.data(), ids, 3, out), Error);  // no direct map
  ivf.make_direct_map();
  ivf.error_bounds(xb.data(), ids, 3, out);
  EXPECT_GT(out[0], 0);
  EXPECT_GT(out[1], 0);
  EXPECT_EQ(out[2], std::numeric_limits<float>::infinity());
  // Each code is bounded against its own list's centroid, as a lone code would be.
  std::vector<float> c(d);
  idx_t assigned;
  ivf.assign_lists(1, xb.data() + 5 * d, &assigned);
  ivf.centroid(size_t(assigned), c.data());
  std::vector<uint8_t> code(ivf.code_size());
  ivf.rabitq().encode(1, xb.data() + 5 * d, c.data(), code.data());
  float q_to_c = 0;
  for (size_t j = 0; j < d; j++) q_to_c += (xb[j] - c[j]) * (xb[j] - c[j]);
  EXPECT_NEAR(out[1], ivf.rabitq().error_bound(code.data(), q_to_c), 1e-4f * out[1]);
  const idx_t bad[] = {idx_t(n)};
  EXPECT_THROW(ivf.error_bounds(xb.data(), bad, 1, out), Error);
}

// The fast-scan scorer's float-table estimate is the bitwise scorer's (same
// query rounding for qb = 8); its block keys, from the kernel's 8-bit sums,
// are within the table's rounding: half a step per sub-code.
TEST(RaBitQFastScan, EstimatesMatchTheBitwiseScorer) {
  for (size_t d : {size_t(13), size_t(64), size_t(100)}) {
    const size_t n = 70, M = (d + 3) / 4;
    const auto xb = gaussian(n, d, 11, 0.2f), xq = gaussian(3, d, 12, 0.2f), c = gaussian(1, d, 13);
    for (MetricType metric : kMetrics) {
      RaBitQuantizer rq(d, metric);
      std::vector<uint8_t> codes(n * rq.code_size());
      rq.encode(n, xb.data(), c.data(), codes.data());
      BlockInvertedLists lists(1, RaBitQFastScanScorer::layout(rq));
      std::vector<idx_t> ids(n);
      lists.add_entries(0, n, ids.data(), codes.data());
      for (int qb : {0, 8}) {
        SCOPED_TRACE(testing::Message() << "d " << d << " " << metric_name(metric) << " qb " << qb);
        RaBitQFastScanScorer fs(rq, qb);
        RaBitQuantizer::Scorer bitwise(rq, qb);
        for (size_t q = 0; q < 3; q++) {
          fs.set_query(xq.data() + q * d, c.data());
          bitwise.set_query(xq.data() + q * d, c.data());
          std::vector<float> plain(n), want(n);
          fs.score(codes.data(), n, plain.data());
          bitwise.score(codes.data(), n, want.data());
          for (size_t i = 0; i < n; i++) ASSERT_NEAR(plain[i], want[i], 1e-3f * (1 + std::fabs(want[i]))) << i;
          const float scale = 2.0f / std::sqrt(float(d)), sign = metric == MetricType::L2 ? 1.0f : -1.0f;
          for (size_t b = 0; b < fastscan::nblocks(n); b++) {
            const uint8_t* block = lists.codes(0) + b * lists.layout().stride();
            uint16_t sums[32];
            float keys[32];
            kernels().fastscan_sums(block, fastscan::npairs(M), fs.lut().bytes(), sums);
            const float* aux = lists.layout().aux(block);
            fs.block_keys(sums, aux, aux + 32, keys);
            for (size_t v = 0; v < 32 && b * 32 + v < n; v++) {
              const size_t i = b * 32 + v;
              // L2: 2 dp scale per unit of the dot; inner product: half that.
              const float slack = (metric == MetricType::L2 ? 2 : 1) * aux[32 + v] * scale * M * fs.lut().step() / 2;
              EXPECT_NEAR(keys[v], sign * plain[i], slack + 1e-3f * (1 + std::fabs(plain[i]))) << i;
            }
          }
        }
      }
    }
  }
}

// Searches of the fast-scan layout find what the bitwise codes find: the same
// codes, 1-bit estimates apart only by the 8-bit table (with more bits, the
// same multi-bit estimates for what passes both first stages).
TEST(IndexIVFRaBitQFastScan, FindsWhatTheBitwiseLayoutFinds) {
  const size_t n = 3000, nq = 40, d = 48, k = 10;
  const auto xb = gaussian(n, d, 14), xq = gaussian(nq, d, 15);
  for (MetricType metric : kMetrics) for (int bits : {1, 3}) {
    SCOPED_TRACE(testing::Message() << metric_name(metric) << " nb_bits " << bits);
    auto quantizer = std::make_shared<IndexFlat>(d, metric);
    IndexIVFRaBitQ bitwise(quantizer, d, 16, metric, bits);
    bitwise.train(n, xb.data());
    bitwise.add(n, xb.data());
    IndexIVFRaBitQFastScan fs(quantizer, d, 16, metric, bits);  // the trained quantizer: same lists
    EXPECT_EQ(fs.qb(), 8);
    fs.add(n, xb.data());
    bitwise.set_qb(0);
    fs.set_qb(0);
    SearchParams params;
    params.nprobe = 4;
    std::vector<float> d1(nq * k), d2(nq * k);
    std::vector<idx_t> l1(nq * k), l2(nq * k);
    bitwise.search(nq, xq.data(), k, d1.data(), l1.data(), params);
    fs.search(nq, xq.data(), k, d2.data(), l2.data(), params);
    for (size_t q = 0; q < nq; q++) EXPECT_NEAR(d2[q * k], d1[q * k], 0.05f * (1 + std::fabs(d1[q * k])));
    EXPECT_GE(test::recall_at_k(l1, l2, nq, k), bits == 1 ? 0.85 : 0.95);
    // The stored codes are the bitwise layout's, read back through the blocks.
    std::vector<uint8_t> a(bitwise.code_size()), b(fs.code_size());
    for (size_t list = 0; list < 16; list++) {
      ASSERT_EQ(bitwise.invlists().list_size(list), fs.invlists().list_size(list));
      for (size_t i = 0; i < fs.invlists().list_size(list); i++) {
        bitwise.invlists().get_code(list, i, a.data());
        fs.invlists().get_code(list, i, b.data());
        ASSERT_EQ(a, b);
      }
    }
  }
}

// Filtered searches keep to the selection; many results go through the
// heap's pool; range search scores with floats, as the bitwise layout does
// with float queries: the same hits.
TEST(IndexIVFRaBitQFastScan, SelectorsLargeKAndRangeSearch) {
  const size_t n = 2000, nq = 10, d = 40, k = 100;
  const auto xb = gaussian(n, d, 16), xq = gaussian(nq, d, 17);
  auto quantizer = std::make_shared<IndexFlat>(d);
  IndexIVFRaBitQ bitwise(quantizer, d, 8);
  bitwise.train(n, xb.data());
  bitwise.add(n, xb.data());
  bitwise.set_qb(0);
  IndexIVFRaBitQFastScan fs(quantizer, d, 8);
  fs.add(n, xb.data());
  SearchParams params;
  params.nprobe = 8;
  std::vector<float> d1(nq * k), d2(nq * k);
  std::vector<idx_t> l1(nq * k), l2(nq * k);
  bitwise.search(nq, xq.data(), k, d1.data(), l1.data(), params);
  fs.search(nq, xq.data(), k, d2.data(), l2.data(), params);
  for (size_t q = 0; q < nq; q++) EXPECT_TRUE(std::is_sorted(d2.begin() + q * k, d2.begin() + (q + 1) * k));
  EXPECT_GE(test::recall_at_k(l1, l2, nq, k), 0.85);
  params.sel = std::make_shared<IDSelectorRange>(100, 300);
  fs.search(nq, xq.data(), 10, d2.data(), l2.data(), params);
  for (size_t i = 0; i < nq * 10; i++) EXPECT_TRUE(l2[i] >= 100 && l2[i] < 300) << l2[i];
  params.sel = nullptr;
  fs.set_qb(0);
  const float radius = d1[k / 2];  // about half the first query's top 100
  const RangeSearchResult a = bitwise.range_search(nq, xq.data(), radius, params);
  const RangeSearchResult b = fs.range_search(nq, xq.data(), radius, params);
  ASSERT_GT(a.lims.back(), 0u);
  for (size_t q = 0; q < nq; q++) {  // the same estimates up to float rounding: ties at the radius aside
    std::set<idx_t> hits(a.labels.begin() + a.lims[q], a.labels.begin() + a.lims[q + 1]);
    size_t found = 0;
    for (size_t i = b.lims[q]; i < b.lims[q + 1]; i++) found += hits.count(b.labels[i]);
    EXPECT_LE(std::max(hits.size(), b.lims[q + 1] - b.lims[q]) - found, 1u) << q;
  }
}

// The flat fast-scan index holds IndexRaBitQ's codes (the same centroid) and
// finds what the bitwise index finds with float queries; removal keeps the
// survivors' codes; error bounds equal the bitwise index's.
TEST(IndexRaBitQFastScan, HoldsTheBitwiseCodes) {
  const size_t n = 1000, nq = 20, d = 36, k = 10;
  const auto xb = gaussian(n, d, 18), xq = gaussian(nq, d, 19);
  for (MetricType metric : kMetrics) {
    SCOPED_TRACE(metric_name(metric));
    IndexRaBitQ bitwise(d, metric);
    IndexRaBitQFastScan fs(d, metric);
    EXPECT_EQ(fs.qb(), 8);
    bitwise.train(n, xb.data());
    fs.train(n, xb.data());
    ASSERT_EQ(fs.center(), bitwise.center());
    bitwise.add(n, xb.data());
    fs.add(n, xb.data());
    std::vector<uint8_t> a(fs.sa_code_size()), b(fs.sa_code_size());
    for (idx_t i = 0; i < idx_t(n); i += 37) {
      std::copy(bitwise.codes() + i * a.size(), bitwise.codes() + (i + 1) * a.size(), a.begin());
      fs.get_code(i, b.data());
      ASSERT_EQ(a, b) << i;
    }
    bitwise.set_qb(0);
    fs.set_qb(0);
    std::vector<float> d1(nq * k), d2(nq * k);
    std::vector<idx_t> l1(nq * k), l2(nq * k);
    bitwise.search(nq, xq.data(), k, d1.data(), l1.data());
    fs.search(nq, xq.data(), k, d2.data(), l2.data());
    EXPECT_GE(test::recall_at_k(l1, l2, nq, k), 0.85);
    float e1[k], e2[k];
    bitwise.error_bounds(xq.data(), l1.data(), k, e1);
    fs.error_bounds(xq.data(), l1.data(), k, e2);
    for (size_t j = 0; j < k; j++) EXPECT_FLOAT_EQ(e1[j], e2[j]);
    // Removing every third vector closes up the ids, codes moved with them.
    IDSelectorRange none(0, 0);
    EXPECT_EQ(fs.remove_ids(none), 0u);
    struct EveryThird final : IDSelector {
      bool is_member(idx_t id) const override { return id % 3 == 0; }
    } every_third;
    const size_t removed = fs.remove_ids(every_third);
    EXPECT_EQ(removed, (n + 2) / 3);
    idx_t kept = 0;
    for (idx_t i = 0; i < idx_t(n); i++) {
      if (i % 3 == 0) continue;
      std::copy(bitwise.codes() + i * a.size(), bitwise.codes() + (i + 1) * a.size(), a.begin());
      fs.get_code(kept++, b.data());
      ASSERT_EQ(a, b) << i;
    }
    EXPECT_EQ(fs.ntotal(), kept);
  }
}

}  // namespace
}  // namespace sextant
