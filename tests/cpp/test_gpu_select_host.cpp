// The GPU k-selection logic run on the CPU: the same networks, queues and
// planning arithmetic the kernels use (gpu/select/*.h), executed through the
// HostWarp policy that emulates the 32 lanes of a warp. Runs everywhere, GPU or not.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gpu/select/BitonicNetworks.h"
#include "gpu/select/OrderedKey.h"
#include "gpu/select/Planning.h"
#include "gpu/select/ProbeLimits.h"
#include "gpu/select/PqTables.h"
#include "gpu/select/RadixSelect.h"
#include "gpu/select/Tf32Split.h"
#include "gpu/select/WarpQueue.h"

namespace sextant::gpu {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Floats with many ties, both zeros, infinities and NaNs.
std::vector<float> awkward_floats(size_t n, std::mt19937& rng) {
  std::vector<float> x(n);
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> pick(0, 19);
  for (auto& v : x) {
    switch (pick(rng)) {
      case 0: v = kInf; break;
      case 1: v = -kInf; break;
      case 2: v = kNaN; break;
      case 3: v = -kNaN; break;
      case 4: v = 0.0f; break;
      case 5: v = -0.0f; break;
      case 6: case 7: case 8: v = float(pick(rng) % 4); break;  // ties
      default: v = normal(rng);
    }
  }
  return x;
}

// The reference order: NaN last, -0 == +0, then smaller id first.
bool reference_less(float a, uint32_t ia, float b, uint32_t ib) {
  const bool na = std::isnan(a), nb = std::isnan(b);
  if (na != nb) return nb;
  if (!na && a != b) return a < b;
  return ia < ib;
}

std::vector<uint64_t> entries_of(const std::vector<float>& x) {
  std::vector<uint64_t> e(x.size());
  for (size_t i = 0; i < x.size(); i++) e[i] = make_entry_f(x[i], uint32_t(i));
  return e;
}

// First k (value, id) pairs of x in reference order, as entries.
std::vector<uint64_t> reference_topk(const std::vector<float>& x, size_t k) {
  std::vector<uint32_t> ids(x.size());
  for (uint32_t i = 0; i < ids.size(); i++) ids[i] = i;
  std::sort(ids.begin(), ids.end(), [&](uint32_t a, uint32_t b) { return reference_less(x[a], a, x[b], b); });
  std::vector<uint64_t> out(k, kPadEntry);
  for (size_t r = 0; r < k && r < ids.size(); r++) out[r] = make_entry_f(x[ids[r]], ids[r]);
  return out;
}

// max_codes: the probes are filled greedily in order, as the CPU IndexIVF scans them.
TEST(GpuSelectHost, ProbeLimitsScanTheFirstMaxCodesEntriesInProbeOrder) {
  std::mt19937 rng(3);
  std::vector<int64_t> sizes(50);
  for (int64_t& s : sizes) s = rng() % 40;
  for (int trial = 0; trial < 200; trial++) {
    const int64_t nprobe = 1 + rng() % 20, max_codes = 1 + rng() % 300;
    std::vector<int64_t> probes(nprobe), limits(nprobe);
    for (int64_t& p : probes) p = rng() % 6 == 0 ? -1 : int64_t(rng() % sizes.size());
    probe_limits(probes.data(), sizes.data(), nprobe, max_codes, limits.data());
    int64_t total = 0, scanned = 0;
    bool cut = false;  // once a probe is cut short, every later one scans nothing
    for (int64_t p = 0; p < nprobe; p++) {
      const int64_t size = probes[p] < 0 ? 0 : sizes[probes[p]];
      ASSERT_GE(limits[p], 0);
      ASSERT_LE(limits[p], size);
      if (cut) ASSERT_EQ(limits[p], 0) << "probe " << p;
      cut = cut || limits[p] < size;
      total += size;
      scanned += limits[p];
    }
    EXPECT_EQ(scanned, std::min(total, max_codes));
  }
}

TEST(GpuSelectHost, OrderedKeyPreservesFloatOrder) {
  const float values[] = {-kInf, -3.5f, -1e-38f, -0.0f, 0.0f, 1e-45f, 2.0f, 3e38f, kInf};
  for (size_t i = 0; i + 1 < std::size(values); i++) {
    EXPECT_LE(ordered_key(values[i]), ordered_key(values[i + 1])) << values[i] << " vs " << values[i + 1];
  }
  EXPECT_EQ(ordered_key(-0.0f), ordered_key(0.0f));
  EXPECT_LT(ordered_key(kInf), ordered_key(kNaN));
  EXPECT_EQ(ordered_key(-kNaN), ordered_key(kNaN));
  for (float v : values) EXPECT_EQ(key_float(ordered_key(v)), v);
  EXPECT_TRUE(std::isnan(key_float(ordered_key(kNaN))));
  EXPECT_LT(make_entry(ordered_key(kNaN), 7), kPadEntry);
}

TEST(GpuSelectHost, EntryOrderIsKeyThenId) {
  std::mt19937 rng(1);
  auto x = awkward_floats(2000, rng);
  auto e = entries_of(x);
  for (size_t t = 0; t < 20000; t++) {
    size_t a = rng() % x.size(), b = rng() % x.size();
    EXPECT_EQ(e[a] < e[b], reference_less(x[a], uint32_t(a), x[b], uint32_t(b))) << x[a] << " " << x[b];
  }
}

TEST(GpuSelectHost, EntryFilterHasNoFalseNegatives) {
  std::mt19937 rng(11);
  auto keys = awkward_floats(3000, rng);
  auto thresholds = awkward_floats(300, rng);
  for (float t : thresholds) {
    for (uint32_t tid : {0u, 5u, kPadId}) {
      const uint64_t threshold = make_entry_f(t, tid);
      const EntryFilter filter(threshold);
      for (float k : keys) {
        for (uint32_t id : {0u, 3u, 7u}) {
          if (make_entry_f(k, id) < threshold) ASSERT_TRUE(filter(k)) << k << " vs threshold " << t;
        }
        // Only keys equal to the bound's key (or anything, while the threshold is NaN) pass without entering.
        if (filter(k) && !std::isnan(t)) EXPECT_LE(ordered_key(k), ordered_key(t)) << k << " " << t;
      }
    }
  }
  EXPECT_TRUE(EntryFilter(kPadEntry)(kNaN));
  EXPECT_FALSE(EntryFilter(make_entry_f(1.0f, 0))(kNaN));
}

template <int L>
void check_warp_sort(std::mt19937& rng) {
  std::vector<float> x = awkward_floats(32 * L, rng);
  std::vector<uint64_t> e = entries_of(x);
  HostWarp::Entry v[L];
  for (int s = 0; s < L; s++) v[s] = HostWarp::load(e.data(), s);
  warp_bitonic_sort<HostWarp, L>(v);
  std::vector<uint64_t> got(32 * L);
  for (int s = 0; s < L; s++) HostWarp::store(got.data(), s, v[s]);
  EXPECT_EQ(got, reference_topk(x, 32 * L)) << "L=" << L;
}

TEST(GpuSelectHost, WarpBitonicSortMatchesStdSort) {
  std::mt19937 rng(2);
  for (int rep = 0; rep < 5; rep++) {
    check_warp_sort<1>(rng);
    check_warp_sort<2>(rng);
    check_warp_sort<4>(rng);
    check_warp_sort<8>(rng);
    check_warp_sort<16>(rng);
    check_warp_sort<64>(rng);
  }
}

template <int Q, int B>
void check_merge(std::mt19937& rng) {
  auto xa = awkward_floats(32 * Q, rng), xb = awkward_floats(32 * B, rng);
  std::vector<uint64_t> a = entries_of(xa), b(32 * B);
  for (size_t i = 0; i < b.size(); i++) b[i] = make_entry_f(xb[i], uint32_t(100000 + i));
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  HostWarp::Entry q[Q], r[B];
  for (int s = 0; s < Q; s++) q[s] = HostWarp::load(a.data(), s);
  for (int s = 0; s < B; s++) r[s] = HostWarp::load(b.data(), s);
  merge_sorted_into<HostWarp, Q, B>(q, r);
  std::vector<uint64_t> all = a;
  all.insert(all.end(), b.begin(), b.end());
  std::sort(all.begin(), all.end());
  all.resize(32 * Q);
  std::vector<uint64_t> got(32 * Q);
  for (int s = 0; s < Q; s++) HostWarp::store(got.data(), s, q[s]);
  EXPECT_EQ(got, all) << "Q=" << Q << " B=" << B;
}

TEST(GpuSelectHost, MergeKeepsTheSmallestOfBoth) {
  std::mt19937 rng(3);
  for (int rep = 0; rep < 5; rep++) {
    check_merge<1, 1>(rng);
    check_merge<1, 4>(rng);
    check_merge<4, 2>(rng);
    check_merge<8, 8>(rng);
    check_merge<16, 4>(rng);
    check_merge<64, 8>(rng);
  }
}

// Streams a row through a warp queue exactly as the kernels do: 32 lanes
// offer one candidate each per round, the last round partly invalid.
template <int Q>
std::vector<uint64_t> run_queue(const std::vector<float>& x, const std::vector<uint64_t>* initial = nullptr) {
  WarpQueue<HostWarp, Q> queue;
  if (initial) queue.load_sorted(initial->data());
  for (size_t base = 0; base < x.size(); base += 32) {
    HostWarp::Entry e;
    HostWarp::Pred valid;
    for (int l = 0; l < 32; l++) {
      const size_t i = base + l;
      valid[l] = i < x.size();
      e[l] = valid[l] ? make_entry_f(x[i], uint32_t(i)) : kPadEntry;
    }
    queue.add(e, valid);
  }
  queue.flush();
  std::vector<uint64_t> out(32 * Q);
  queue.store(out.data());
  return out;
}

template <int Q>
void check_queue(size_t n, size_t k, std::mt19937& rng) {
  auto x = awkward_floats(n, rng);
  auto got = run_queue<Q>(x);
  auto want = reference_topk(x, 32 * Q);
  got.resize(k);
  want.resize(k);
  EXPECT_EQ(got, want) << "Q=" << Q << " n=" << n << " k=" << k;
}

TEST(GpuSelectHost, WarpQueueMatchesStdSortForEveryBucket) {
  std::mt19937 rng(4);
  for (size_t n : {1, 31, 33, 500, 5000}) {
    check_queue<1>(n, 1, rng);
    check_queue<1>(n, 32, rng);
    check_queue<2>(n, 50, rng);
    check_queue<4>(n, 128, rng);
    check_queue<8>(n, 256, rng);
    check_queue<16>(n, 300, rng);
    check_queue<32>(n, 1024, rng);
    check_queue<64>(n, 2048, rng);
  }
}

TEST(GpuSelectHost, WarpQueueOnSortedAndReversedInput) {
  // Ascending input fills thread queues on every round; descending input never passes after the first fill.
  std::vector<float> up(3000), down(3000);
  for (size_t i = 0; i < up.size(); i++) {
    up[i] = float(i);
    down[i] = float(up.size() - i);
  }
  EXPECT_EQ(run_queue<4>(up), reference_topk(up, 128));
  EXPECT_EQ(run_queue<4>(down), reference_topk(down, 128));
  std::vector<float> same(3000, 1.0f);  // all ties: the smallest ids win
  EXPECT_EQ(run_queue<8>(same), reference_topk(same, 256));
}

TEST(GpuSelectHost, RunningQueueContinuesAcrossTiles) {
  // Tile by tile with the running queue reloaded, as the flat search does.
  std::mt19937 rng(5);
  auto x = awkward_floats(4000, rng);
  std::vector<uint64_t> running(64, kPadEntry);
  for (size_t t0 = 0; t0 < x.size(); t0 += 700) {
    WarpQueue<HostWarp, 2> queue;
    queue.load_sorted(running.data());
    for (size_t base = t0; base < std::min(x.size(), t0 + 700); base += 32) {
      HostWarp::Entry e;
      HostWarp::Pred valid;
      for (int l = 0; l < 32; l++) {
        const size_t i = base + l;
        valid[l] = i < std::min(x.size(), t0 + 700);
        e[l] = valid[l] ? make_entry_f(x[i], uint32_t(i)) : kPadEntry;
      }
      queue.add(e, valid);
    }
    queue.flush();
    queue.store(running.data());
  }
  EXPECT_EQ(running, reference_topk(x, 64));
}

TEST(GpuSelectHost, TightenedThresholdStillExact) {
  // Two queues over halves of a row share the tighter bound; merging them is exact.
  std::mt19937 rng(6);
  auto x = awkward_floats(6000, rng);
  WarpQueue<HostWarp, 4> a, b;
  for (size_t base = 0; base < x.size(); base += 64) {
    for (int half = 0; half < 2; half++) {
      HostWarp::Entry e;
      HostWarp::Pred valid;
      for (int l = 0; l < 32; l++) {
        const size_t i = base + half * 32 + l;
        valid[l] = i < x.size();
        e[l] = valid[l] ? make_entry_f(x[i], uint32_t(i)) : kPadEntry;
      }
      (half == 0 ? a : b).add(e, valid);
    }
    const uint64_t bound = std::min(a.threshold(), b.threshold());
    a.tighten(bound);
    b.tighten(bound);
  }
  a.flush();
  b.flush();
  std::vector<uint64_t> bq(128);
  b.store(bq.data());
  a.merge_sorted(bq.data());
  std::vector<uint64_t> got(128);
  a.store(got.data());
  EXPECT_EQ(got, reference_topk(x, 128));
}

TEST(GpuSelectHost, FlatBitonicSortMatchesStdSort) {
  std::mt19937 rng(7);
  for (uint32_t n : {1u, 2u, 64u, 1024u, 16384u}) {
    auto e = entries_of(awkward_floats(n, rng));
    auto want = e;
    std::sort(want.begin(), want.end());
    flat_bitonic_sort(e.data(), n);
    EXPECT_EQ(e, want) << n;
  }
}

// The multi-pass selection on one row, pass by pass as the kernels run it.
std::vector<uint64_t> radix_topk(const std::vector<float>& x, size_t k) {
  const auto e = entries_of(x);
  RadixState s = radix_start(k, e.size());
  for (int pass = 0; pass < kRadixMaxPasses && !s.done; pass++) {
    std::vector<uint32_t> hist(kRadixBins, 0);
    for (uint64_t v : e)
      if (radix_matches(v, s)) hist[radix_digit(v, s)]++;
    radix_advance(s, hist.data());
  }
  EXPECT_TRUE(s.done);
  std::vector<uint64_t> kept;
  for (uint64_t v : e)
    if (radix_selected(v, s)) kept.push_back(v);
  EXPECT_EQ(kept.size(), std::min(k, x.size()));
  std::sort(kept.begin(), kept.end());
  kept.resize(k, kPadEntry);
  return kept;
}

TEST(GpuSelectHost, RadixMultiPassMatchesStdSort) {
  std::mt19937 rng(8);
  for (size_t n : {10, 3000, 40000}) {
    auto x = awkward_floats(n, rng);
    for (size_t k : {1, 7, 2049, 16384}) EXPECT_EQ(radix_topk(x, k), reference_topk(x, k)) << n << " " << k;
  }
  std::vector<float> same(50000, 2.5f);  // one key: the id digits decide
  EXPECT_EQ(radix_topk(same, 16384), reference_topk(same, 16384));
  std::normal_distribution<float> normal;
  std::vector<float> gauss(100000);
  for (auto& v : gauss) v = normal(rng);
  EXPECT_EQ(radix_topk(gauss, 5000), reference_topk(gauss, 5000));
}

TEST(GpuSelectHost, Tf32SplitKeepsFp32Accuracy) {
  std::mt19937 rng(12);
  std::normal_distribution<float> normal;
  double worst_dot = 0;
  for (int t = 0; t < 200; t++) {
    // Each part is TF32-exact, and hi + lo recovers x to ~2^-22.
    std::vector<float> x(128), y(128);
    for (auto& v : x) v = normal(rng) * std::exp2(float(int(rng() % 40) - 20));
    for (auto& v : y) v = normal(rng);
    double exact = 0, split = 0, scale = 0;
    for (size_t j = 0; j < x.size(); j++) {
      float xh, xl, yh, yl;
      split_tf32(x[j], xh, xl);
      split_tf32(y[j], yh, yl);
      for (float part : {xh, xl, yh, yl}) ASSERT_EQ(float_bits(part) & 0x1FFFu, 0u);
      ASSERT_LE(std::abs(double(x[j]) - double(xh) - double(xl)), std::ldexp(std::abs(double(x[j])), -21));
      exact += double(x[j]) * double(y[j]);
      split += double(xh) * yh + double(xh) * yl + double(xl) * yh;  // what the three TF32 GEMMs sum
      scale += std::abs(double(x[j]) * double(y[j]));
    }
    worst_dot = std::max(worst_dot, std::abs(split - exact) / scale);
  }
  EXPECT_LT(worst_dot, 1e-6);  // fp32 GEMM itself is ~1e-7 * sqrt(d) here
}

TEST(GpuSelectHost, QueueSlotsPerK) {
  EXPECT_EQ(queue_slots(1), 1);
  EXPECT_EQ(queue_slots(32), 1);
  EXPECT_EQ(queue_slots(33), 2);
  EXPECT_EQ(queue_slots(100), 4);
  EXPECT_EQ(queue_slots(256), 8);
  EXPECT_EQ(queue_slots(1025), 64);
  EXPECT_EQ(queue_slots(2048), 64);
  EXPECT_EQ(queue_slots(2049), 0);
  EXPECT_EQ(queue_slots(0), 0);
}

TEST(GpuSelectHost, RowSelectPlanCoversEveryColumnOnce) {
  for (int64_t rows : {1, 7, 1000, 100000}) {
    for (int64_t cols : {1, 5, 1000, 1000000}) {
      for (int slots : {1, 8, 16, 64}) {
        RowSelectPlan p = plan_row_select(rows, cols, slots, 132 * 7);
        ASSERT_GE(p.splits, 1);
        EXPECT_EQ(p.columns % 4, 0);
        EXPECT_GE(p.columns * p.splits, cols);
        EXPECT_LT(p.columns * (p.splits - 1), cols) << "an empty split";
        // Each warp's queue sees several times its size, unless the row is too short to split at all.
        if (p.splits > 1) EXPECT_GE(p.columns, queue_block_warps(slots) * min_columns_per_queue(slots));
      }
    }
  }
  EXPECT_EQ(plan_row_select(100000, 1000, 8, 132 * 7).splits, 1);
}

TEST(GpuSelectHost, RowSelectPlanFollowsOccupancy) {
  // 1,000 rows of 1M on a 132-SM device: a row per block would run 1.1 waves
  // of 7 blocks per SM (the second nearly empty); the splits make kSelectWaves
  // waves of what the kernel's occupancy lets run, not of an assumed 48 warps per SM.
  const RowSelectPlan seven = plan_row_select(1000, 1000000, 8, 132 * 7);
  const RowSelectPlan two = plan_row_select(1000, 1000000, 8, 132 * 2);
  EXPECT_GE(seven.splits * 1000, kSelectWaves * 132 * 7);
  EXPECT_GE(two.splits * 1000, kSelectWaves * 132 * 2);
  EXPECT_LT(two.splits, seven.splits);
  // One row: as many splits as the columns allow (4 warps x 2048 columns each).
  const RowSelectPlan one = plan_row_select(1, 1000000, 1, 132 * 7);
  EXPECT_EQ(one.splits, 1000000 / (4 * 2048));
}

TEST(GpuSelectHost, LargeKSplitsKeepSeveralQueuesOfColumns) {
  // k = 2048: a split's warps each see at least 4 x 2048 columns (before: 2048, about the queue itself).
  for (int64_t rows : {1, 10, 1000}) {
    const RowSelectPlan p = plan_row_select(rows, 1000000, 64, 132 * 8);
    EXPECT_GE(p.columns / queue_block_warps(64), 4 * 2048) << rows;
  }
  for (int64_t nq : {1, 100, 10000}) {
    const FlatTilePlan t = plan_flat_tiles(nq, 1000000, 64, 132 * 16, flat_tile_bytes(50 << 20));
    EXPECT_GE(split_width(t.db_tile, t.splits), 4 * 2048) << nq;
  }
}

TEST(GpuSelectHost, FlatTilePlanStaysInBudget) {
  const int64_t budget = int64_t(32) << 20;
  for (int64_t nq : {1, 100, 10000}) {
    for (int64_t nb : {1, 50, 1000000}) {
      for (int slots : {1, 8, 64}) {
        FlatTilePlan p = plan_flat_tiles(nq, nb, slots, 132 * 16, budget);
        EXPECT_GE(p.q_tile, 1);
        EXPECT_LE(p.q_tile, nq);
        EXPECT_GE(p.db_tile, 1);
        EXPECT_LE(p.db_tile, nb);
        EXPECT_TRUE(p.q_tile * p.db_tile * 4 <= budget || p.q_tile == 1);
        EXPECT_GE(p.splits, 1);
        EXPECT_LT(split_width(p.db_tile, p.splits) * (p.splits - 1), p.db_tile) << "an empty split";
        if (p.db_tile < nb) EXPECT_EQ(p.db_tile % 128, 0) << "tile rows stay 16-byte aligned";
      }
    }
  }
  FlatTilePlan big = plan_flat_tiles(10000, 1000000, 1, 132 * 16, budget);
  EXPECT_EQ(big.db_tile, 4096);
  EXPECT_EQ(big.q_tile, 2048);
}

TEST(GpuSelectHost, SmallBatchesSweepTheDatabaseInFewTiles) {
  const int64_t l2 = int64_t(50) << 20;  // H100
  const int64_t budget = flat_tile_bytes(l2);
  EXPECT_LE(2 * budget, l2 / 2) << "two tiles in flight stay in half the L2";
  // One query against 1M vectors: one tile (was 245 rounds of 4096), split over many warps.
  FlatTilePlan one = plan_flat_tiles(1, 1000000, 1, 132 * 16, budget);
  EXPECT_EQ(one.q_tile, 1);
  EXPECT_EQ(one.db_tile, 1000000);
  EXPECT_GE(one.splits, 400);
  // 100 queries: tiles of the budget's size (31 rounds of 32768 columns, not 245 of 4096).
  FlatTilePlan hundred = plan_flat_tiles(100, 1000000, 1, 132 * 16, budget);
  EXPECT_EQ(hundred.q_tile, 100);
  EXPECT_LE(hundred.q_tile * hundred.db_tile * 4, budget);
  EXPECT_GE(hundred.q_tile * hundred.db_tile * 4, budget * 9 / 10);
  // Many queries: tall tiles of the narrowest width, within the budget.
  FlatTilePlan many = plan_flat_tiles(10000, 1000000, 1, 132 * 16, budget);
  EXPECT_LE(many.q_tile * many.db_tile * 4, budget);
  EXPECT_GE(many.q_tile, 512);
}

TEST(GpuSelectHost, IvfScanPlan) {
  IvfScanPlan one = plan_ivf_scan(1, 64, 4, 132, int64_t(64) << 20);
  EXPECT_EQ(one.slices, 64);
  EXPECT_EQ(one.q_chunk, 1);
  IvfScanPlan many = plan_ivf_scan(10000, 32, 4, 132, int64_t(64) << 20);
  EXPECT_EQ(many.slices, 1);
  EXPECT_EQ(many.q_chunk, 10000);
  IvfScanPlan wide = plan_ivf_scan(100000, 2048, 64, 132, int64_t(64) << 20);
  EXPECT_LE(wide.q_chunk * wide.slices * 2048 * 8, int64_t(64) << 20);
  for (int64_t s = 0; s < 7; s++) EXPECT_LE(slice_begin(20, 7, s), slice_begin(20, 7, s + 1));
  EXPECT_EQ(slice_begin(20, 7, 7), 20);
}

TEST(GpuSelectHost, SharedMemoryOptInCountsTheStaticPart) {
  const int64_t optin = 227 * 1024;
  // A 40 KB query beside a k = 2048 queue's 16 KB of merge scratch: 56 KB in
  // all, past the default 48 KB although the dynamic part alone is not.
  SharedMemoryPlan p = plan_shared_memory(16 * 1024, 40 * 1024, optin);
  EXPECT_TRUE(p.fits);
  EXPECT_TRUE(p.opt_in);
  p = plan_shared_memory(0, 40 * 1024, optin);
  EXPECT_TRUE(p.fits);
  EXPECT_FALSE(p.opt_in);
  p = plan_shared_memory(16 * 1024, optin - 8 * 1024, optin);
  EXPECT_FALSE(p.fits);
}

TEST(GpuSelectHost, PqTablePlans) {
  const int64_t optin = 227 * 1024, fixed = 16 * 1024 + 16;
  auto plan = [&](int64_t M, int64_t ksub, int64_t d, bool l2, bool residual, bool pre, bool fp16) {
    PqTableShape s;
    s.M = M;
    s.ksub = ksub;
    s.d = d;
    s.l2 = l2;
    s.by_residual = residual;
    s.precomputed_available = pre;
    s.want_fp16 = fp16;
    return plan_pq_tables(s, fixed, optin);
  };
  PqTablePlan p = plan(16, 256, 128, true, true, true, false);
  EXPECT_EQ(p.mode, PqTableMode::precomputed);
  EXPECT_FALSE(p.fp16);
  EXPECT_EQ(p.dynamic_bytes, 2 * 16 * 256 * 4);
  p = plan(96, 256, 96, true, true, true, false);  // the query part and the list table: 192 KB
  EXPECT_EQ(p.mode, PqTableMode::precomputed);
  EXPECT_FALSE(p.fp16);
  p = plan(128, 256, 128, true, true, true, false);  // twice 128 KB does not fit: one table per list, fp32
  EXPECT_EQ(p.mode, PqTableMode::per_list);
  EXPECT_FALSE(p.fp16);
  EXPECT_EQ(p.dynamic_bytes, 128 * 256 * 4 + 128 * 4);
  p = plan(16, 256, 128, true, true, false, false);  // no precomputed terms (over their memory budget)
  EXPECT_EQ(p.mode, PqTableMode::per_list);
  p = plan(256, 256, 256, true, true, true, false);  // only fp16 fits: squared distances, per list
  EXPECT_TRUE(p.fits);
  EXPECT_EQ(p.mode, PqTableMode::per_list);
  EXPECT_TRUE(p.fp16);
  p = plan(256, 256, 256, true, false, false, false);  // no residuals: one fp16 table per query
  EXPECT_EQ(p.mode, PqTableMode::per_query);
  EXPECT_TRUE(p.fp16);
  p = plan(256, 256, 256, false, true, false, false);  // inner product: fp32 or nothing
  EXPECT_FALSE(p.fits);
  p = plan(64, 256, 64, false, false, false, true);  // fp16 asked for, inner product: not granted
  EXPECT_FALSE(p.fp16);
  p = plan(16, 256, 128, true, true, true, true);  // fp16 asked for, L2 residuals: per list
  EXPECT_EQ(p.mode, PqTableMode::per_list);
  EXPECT_TRUE(p.fp16);
  // The kernel's own shared memory counts: a table that fits alone may not fit beside it.
  PqTableShape s;
  s.M = 56;
  s.ksub = 1024;
  s.d = 56;
  s.by_residual = false;
  EXPECT_FALSE(plan_pq_tables(s, 0, optin).fp16);
  EXPECT_TRUE(plan_pq_tables(s, fixed, optin).fp16);
  // fp16 only ever for squared distances.
  for (int64_t M : {8, 64, 96, 128, 200, 256, 400}) {
    for (bool l2 : {true, false}) {
      for (bool residual : {true, false}) {
        for (bool want : {true, false}) {
          PqTablePlan q = plan(M, 256, M * 2, l2, residual, true, want);
          if (q.fp16) EXPECT_TRUE(pq_entries_non_negative(q.mode, l2));
          if (q.fits) EXPECT_TRUE(plan_shared_memory(fixed, q.dynamic_bytes, optin).fits);
          EXPECT_EQ(q.dynamic_bytes % 16, 0);
        }
      }
    }
  }
}

// fp32 -> fp16 -> fp32 (round to nearest even), as __float2half_rn.
float through_fp16(float x) {
  const float a = std::abs(x);
  if (a >= 65520.0f) return std::copysign(kInf, x);  // rounds past the largest fp16 (65504)
  int e = 0;
  std::frexp(a, &e);                                     // a in [2^(e-1), 2^e)
  const int quantum_exp = std::max(e - 11, -24);         // 11 significant bits; subnormals: 2^-24 steps
  const float q = std::ldexp(std::nearbyint(std::ldexp(a, -quantum_exp)), quantum_exp);
  return std::copysign(q, x);
}

TEST(GpuSelectHost, Fp16TablesOfPixelDataAreScaledNotOverflowed) {
  for (float bound : {1e-6f, 0.5f, 1.0f, 3.0f, 65504.0f, 520200.0f, 1e12f}) {
    const float s = fp16_table_scale(bound);
    int e = 0;
    EXPECT_EQ(std::frexp(s, &e), 0.5f) << "a power of two";
    EXPECT_LT(bound * s, 32768.0f) << bound;
    EXPECT_GE(bound * s, 16384.0f) << bound;
  }
  EXPECT_EQ(fp16_table_scale(0.0f), 1.0f);
  EXPECT_EQ(fp16_table_scale(kNaN), 1.0f);
  // 0..255 data, 8 dimensions per sub-quantizer: entries up to 8 x 255^2 = 520200, far past fp16's 65504.
  std::mt19937 rng(13);
  std::uniform_int_distribution<int> pixel(0, 255);
  const int M = 16, dsub = 8, ksub = 64;
  std::vector<float> C(M * ksub * dsub), x(M * dsub);
  for (auto& v : C) v = float(pixel(rng));
  float max_c = 0;
  for (int e = 0; e < M * ksub; e++) {
    double n = 0;
    for (int j = 0; j < dsub; j++) n += double(C[e * dsub + j]) * C[e * dsub + j];
    max_c = std::max(max_c, float(std::sqrt(n)));
  }
  double worst = 0;
  for (int trial = 0; trial < 50; trial++) {
    for (auto& v : x) v = float(pixel(rng));
    float max_x = 0;
    for (int m = 0; m < M; m++) {
      double n = 0;
      for (int j = 0; j < dsub; j++) n += double(x[m * dsub + j]) * x[m * dsub + j];
      max_x = std::max(max_x, float(std::sqrt(n)));
    }
    const float s = fp16_table_scale(squared_distance_bound(max_x, max_c));
    std::vector<float> table(M * ksub), scaled(M * ksub);
    bool overflows_unscaled = false;
    for (int e = 0; e < M * ksub; e++) {
      const int m = e / ksub;
      float v = 0;
      for (int j = 0; j < dsub; j++) {
        const float diff = x[m * dsub + j] - C[e * dsub + j];
        v += diff * diff;
      }
      table[e] = v;
      scaled[e] = through_fp16(v * s);
      ASSERT_TRUE(std::isfinite(scaled[e])) << v;
      overflows_unscaled |= std::isinf(through_fp16(v));
    }
    EXPECT_TRUE(overflows_unscaled) << "the data must be able to overflow fp16";
    for (int code = 0; code < 200; code++) {  // distances of random codes
      double exact = 0, got = 0;
      for (int m = 0; m < M; m++) {
        const int c = int(rng() % ksub);
        exact += table[m * ksub + c];
        got += scaled[m * ksub + c];
      }
      got /= s;
      worst = std::max(worst, std::abs(got - exact) / exact);
    }
  }
  EXPECT_LT(worst, 1.0 / 2048) << "squared distances keep fp16's relative precision";
}

TEST(GpuSelectHost, DecodedDistances) {
  const float norm = 5.0f;
  EXPECT_EQ(decode_distance(-2.0f, false, &norm), 3.0f);
  EXPECT_EQ(decode_distance(-5.5f, false, &norm), 0.0f) << "rounding below zero is clamped";
  EXPECT_TRUE(std::isnan(decode_distance(kNaN, false, &norm))) << "a NaN distance is not a distance of 0";
  EXPECT_EQ(decode_distance(kInf, false, &norm), kInf);
  EXPECT_EQ(decode_distance(-1.5f, true, nullptr), 1.5f);
  EXPECT_TRUE(std::isnan(decode_distance(kNaN, true, nullptr)));
}

}  // namespace
}  // namespace sextant::gpu
