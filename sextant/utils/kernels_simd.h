// The SIMD kernels, written once against a `Vec` type (simd_avx2.h, simd_avx512.h).
// Each ISA translation unit includes this file inside its own namespace after
// its Vec, so every instantiation is a distinct symbol compiled with that
// unit's flags. Nothing here may use a standard-library template: a copy
// compiled with wider instructions could be picked by the linker for every caller.
#pragma once

#include <cstddef>
#include <cstdint>

inline float l2sqr(const float* x, const float* y, size_t d) {
  constexpr size_t N = Vec::N;
  Vec a0 = Vec::zero(), a1 = Vec::zero(), a2 = Vec::zero(), a3 = Vec::zero();
  size_t i = 0;
  for (; i + 4 * N <= d; i += 4 * N) {
    Vec t0 = Vec::load(x + i) - Vec::load(y + i);
    Vec t1 = Vec::load(x + i + N) - Vec::load(y + i + N);
    Vec t2 = Vec::load(x + i + 2 * N) - Vec::load(y + i + 2 * N);
    Vec t3 = Vec::load(x + i + 3 * N) - Vec::load(y + i + 3 * N);
    a0 = fmadd(t0, t0, a0);
    a1 = fmadd(t1, t1, a1);
    a2 = fmadd(t2, t2, a2);
    a3 = fmadd(t3, t3, a3);
  }
  for (; i + N <= d; i += N) {
    Vec t = Vec::load(x + i) - Vec::load(y + i);
    a0 = fmadd(t, t, a0);
  }
  if (i < d) {
    Vec t = Vec::load_tail(x + i, d - i) - Vec::load_tail(y + i, d - i);
    a1 = fmadd(t, t, a1);
  }
  return ((a0 + a1) + (a2 + a3)).sum();
}

inline float inner_product(const float* x, const float* y, size_t d) {
  constexpr size_t N = Vec::N;
  Vec a0 = Vec::zero(), a1 = Vec::zero(), a2 = Vec::zero(), a3 = Vec::zero();
  size_t i = 0;
  for (; i + 4 * N <= d; i += 4 * N) {
    a0 = fmadd(Vec::load(x + i), Vec::load(y + i), a0);
    a1 = fmadd(Vec::load(x + i + N), Vec::load(y + i + N), a1);
    a2 = fmadd(Vec::load(x + i + 2 * N), Vec::load(y + i + 2 * N), a2);
    a3 = fmadd(Vec::load(x + i + 3 * N), Vec::load(y + i + 3 * N), a3);
  }
  for (; i + N <= d; i += N) a0 = fmadd(Vec::load(x + i), Vec::load(y + i), a0);
  if (i < d) a1 = fmadd(Vec::load_tail(x + i, d - i), Vec::load_tail(y + i, d - i), a1);
  return ((a0 + a1) + (a2 + a3)).sum();
}

/// Kernels::rabitq_residual: one pass, each statistic in one register.
inline void rabitq_residual(const float* x, const float* c, size_t d, float* r, float* stats) {
  constexpr size_t N = Vec::N;
  constexpr float kBig = 3.4028235e38f;
  Vec sum = Vec::zero(), norm = Vec::zero(), lo = Vec::set1(kBig), hi = Vec::set1(-kBig);
  size_t i = 0;
  for (; i + N <= d; i += N) {
    const Vec v = c ? Vec::load(x + i) - Vec::load(c + i) : Vec::load(x + i);
    v.store(r + i);
    sum = sum + v;
    norm = fmadd(v, v, norm);
    lo = lanes_min(lo, v);
    hi = lanes_max(hi, v);
  }
  float s = sum.sum(), q = norm.sum(), mn = lo.min(), mx = hi.max();
  for (; i < d; i++) {  // the tail: zero lanes would count in the range
    const float v = x[i] - (c ? c[i] : 0.0f);
    r[i] = v;
    s += v;
    q += v * v;
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
  }
  stats[0] = s;
  stats[1] = mn;
  stats[2] = mx;
  stats[3] = q;
}

/// Rows of at least four vectors, kRows at a time: each query load serves
/// kRows rows, with the single-pair kernels' arithmetic per row (four
/// accumulators in the same order, the same tail), so a row's distance is the
/// same bits either way (1.4x faster for 256 x 784 than a row at a time,
/// with 3 rows on AVX2 and 4 on AVX-512: Vec::kRows).
template <bool kL2>
inline void distances_rows(const float* x, const float* y, size_t d, float* out) {
  constexpr size_t N = Vec::N, R = Vec::kRows;
  Vec a[R][4];
  for (size_t r = 0; r < R; r++) a[r][0] = a[r][1] = a[r][2] = a[r][3] = Vec::zero();
  auto step = [&](size_t r, size_t acc, Vec q, Vec v) {
    if constexpr (kL2) {
      v = q - v;
      a[r][acc] = fmadd(v, v, a[r][acc]);
    } else {
      a[r][acc] = fmadd(q, v, a[r][acc]);
    }
  };
  size_t i = 0;
  for (; i + 4 * N <= d; i += 4 * N) {
    for (size_t acc = 0; acc < 4; acc++) {
      const Vec q = Vec::load(x + i + acc * N);
      for (size_t r = 0; r < R; r++) step(r, acc, q, Vec::load(y + r * d + i + acc * N));
    }
  }
  for (; i + N <= d; i += N) {
    const Vec q = Vec::load(x + i);
    for (size_t r = 0; r < R; r++) step(r, 0, q, Vec::load(y + r * d + i));
  }
  if (i < d) {
    const Vec q = Vec::load_tail(x + i, d - i);
    for (size_t r = 0; r < R; r++) step(r, 1, q, Vec::load_tail(y + r * d + i, d - i));
  }
  for (size_t r = 0; r < R; r++) out[r] = ((a[r][0] + a[r][1]) + (a[r][2] + a[r][3])).sum();
}

/// One query against ny rows. Rows shorter than four vectors (d < 4N: below
/// 32 floats with AVX2, 64 with AVX-512) go four at a time, so each query load
/// serves four rows and four independent sums are in flight, with the
/// single-pair kernel's arithmetic (at these lengths it uses one accumulator
/// and one for the tail, added in its order); longer rows go kRows at a time
/// (distances_rows). Either way a row's distance is the same bits as the
/// single-pair kernel's, so it does not depend on the row's position (shards
/// of a set agree with the whole set).
template <bool kL2>
inline void distances_ny(const float* x, const float* y, size_t ny, size_t d, float* out) {
  constexpr size_t N = Vec::N;
  size_t j = 0;
  if (d < 4 * N) {
    for (; j + 4 <= ny; j += 4) {
      const float* y0 = y + j * d;
      Vec a0 = Vec::zero(), a1 = Vec::zero(), a2 = Vec::zero(), a3 = Vec::zero();
      auto step = [&](Vec q, Vec v0, Vec v1, Vec v2, Vec v3) {
        if constexpr (kL2) {
          v0 = v0 - q;
          v1 = v1 - q;
          v2 = v2 - q;
          v3 = v3 - q;
          a0 = fmadd(v0, v0, a0);
          a1 = fmadd(v1, v1, a1);
          a2 = fmadd(v2, v2, a2);
          a3 = fmadd(v3, v3, a3);
        } else {
          a0 = fmadd(v0, q, a0);
          a1 = fmadd(v1, q, a1);
          a2 = fmadd(v2, q, a2);
          a3 = fmadd(v3, q, a3);
        }
      };
      size_t i = 0;
      for (; i + N <= d; i += N) {
        step(Vec::load(x + i), Vec::load(y0 + i), Vec::load(y0 + d + i), Vec::load(y0 + 2 * d + i),
             Vec::load(y0 + 3 * d + i));
      }
      if (i < d) {  // the single-pair kernel sums the tail apart, then adds it
        const Vec s0 = a0, s1 = a1, s2 = a2, s3 = a3;
        a0 = a1 = a2 = a3 = Vec::zero();
        size_t r = d - i;
        step(Vec::load_tail(x + i, r), Vec::load_tail(y0 + i, r), Vec::load_tail(y0 + d + i, r),
             Vec::load_tail(y0 + 2 * d + i, r), Vec::load_tail(y0 + 3 * d + i, r));
        a0 = s0 + a0;
        a1 = s1 + a1;
        a2 = s2 + a2;
        a3 = s3 + a3;
      }
      Vec::sum4(a0, a1, a2, a3, out + j);
    }
  } else {
    for (; j + Vec::kRows <= ny; j += Vec::kRows) distances_rows<kL2>(x, y + j * d, d, out + j);
  }
  for (; j < ny; j++) out[j] = kL2 ? l2sqr(x, y + j * d, d) : inner_product(x, y + j * d, d);
}

inline void l2sqr_ny(const float* x, const float* y, size_t ny, size_t d, float* out) {
  distances_ny<true>(x, y, ny, d, out);
}

inline void inner_product_ny(const float* x, const float* y, size_t ny, size_t d, float* out) {
  distances_ny<false>(x, y, ny, d, out);
}

/// Kernels::l2sqr_table / inner_product_table. Two accumulators per vector
/// of centroids (even and odd components) halve the chain of dependent FMAs.
template <bool kL2>
inline void table_transposed(const float* x, const float* ct, size_t M, size_t d, size_t ny, float* out) {
  constexpr size_t N = Vec::N;
  auto step = [](Vec q, Vec c, Vec a) {
    if constexpr (kL2) {
      const Vec t = q - c;
      return fmadd(t, t, a);
    } else {
      return fmadd(q, c, a);
    }
  };
  for (size_t m = 0; m < M; m++, x += d, ct += d * ny, out += ny) {
    size_t j = 0;
    for (; j + N <= ny; j += N) {
      Vec a0 = Vec::zero(), a1 = Vec::zero();
      size_t i = 0;
      for (; i + 2 <= d; i += 2) {
        a0 = step(Vec::set1(x[i]), Vec::load(ct + i * ny + j), a0);
        a1 = step(Vec::set1(x[i + 1]), Vec::load(ct + (i + 1) * ny + j), a1);
      }
      if (i < d) a0 = step(Vec::set1(x[i]), Vec::load(ct + i * ny + j), a0);
      (a0 + a1).store(out + j);
    }
    for (; j < ny; j++) {  // ny % N centroids left (ny = 2^nbits: only below 8 or 16)
      float s = 0;
      for (size_t i = 0; i < d; i++) {
        const float c = ct[i * ny + j];
        s += kL2 ? (x[i] - c) * (x[i] - c) : x[i] * c;
      }
      out[j] = s;
    }
  }
}

inline void l2sqr_table(const float* x, const float* ct, size_t M, size_t d, size_t ny, float* out) {
  table_transposed<true>(x, ct, M, d, ny, out);
}

inline void inner_product_table(const float* x, const float* ct, size_t M, size_t d, size_t ny, float* out) {
  table_transposed<false>(x, ct, M, d, ny, out);
}

template <bool kBias>
inline size_t collect_below_impl(const float* v, const float* bias, float scale, size_t n, float threshold,
                                 uint32_t* idx, float* vals) {
  constexpr size_t N = Vec::N;
  const Vec t = Vec::set1(threshold), s = Vec::set1(scale);
  alignas(64) float lanes[N];
  size_t count = 0;
  auto emit = [&](Vec x, size_t j, uint32_t mask) {
    x.store(lanes);
    while (mask) {
      unsigned b = static_cast<unsigned>(__builtin_ctz(mask));
      idx[count] = static_cast<uint32_t>(j + b);
      vals[count] = lanes[b];
      count++;
      mask &= mask - 1;
    }
  };
  size_t j = 0;
  for (; j + N <= n; j += N) {
    Vec x = kBias ? fmadd(Vec::load(v + j), s, Vec::load(bias + j)) : Vec::load(v + j) * s;
    uint32_t mask = x.less_mask(t);
    if (mask) [[unlikely]] emit(x, j, mask);
  }
  if (j < n) {
    size_t r = n - j;
    Vec x = kBias ? fmadd(Vec::load_tail(v + j, r), s, Vec::load_tail(bias + j, r)) : Vec::load_tail(v + j, r) * s;
    uint32_t mask = x.less_mask(t) & ((1u << r) - 1);
    if (mask) emit(x, j, mask);
  }
  return count;
}

inline size_t collect_below(const float* v, const float* bias, float scale, size_t n, float threshold, uint32_t* idx,
                            float* vals) {
  return bias ? collect_below_impl<true>(v, bias, scale, n, threshold, idx, vals)
              : collect_below_impl<false>(v, bias, scale, n, threshold, idx, vals);
}

/// A running minimum over positions offered N at a time (position p in lane p % N):
/// each lane keeps its smallest value and where it was (the first on ties).
/// Positions ride in float lanes, exact below 2^24.
struct ArgminLanes {
  Vec best = Vec::set1(__builtin_inff()), pos = Vec::zero(), index, step = Vec::set1(float(Vec::N));

  ArgminLanes() {
    alignas(64) float first[Vec::N];
    for (size_t l = 0; l < Vec::N; l++) first[l] = float(l);
    index = Vec::load(first);
  }
  /// The values of the next N positions.
  void offer(Vec v) {
    pos = select_less(v, best, index, pos);
    best = select_less(v, best, v, best);
    index = index + step;
  }
  /// The smallest value (to *min) and its position, the first on ties.
  size_t finish(float* min) const {
    alignas(64) float lane_best[Vec::N], lane_pos[Vec::N];
    best.store(lane_best);
    pos.store(lane_pos);
    size_t b = 0;
    for (size_t l = 1; l < Vec::N; l++) {
      if (lane_best[l] < lane_best[b] || (lane_best[l] == lane_best[b] && lane_pos[l] < lane_pos[b])) b = l;
    }
    *min = lane_best[b];
    return static_cast<size_t>(lane_pos[b]);
  }
};

template <bool kBias>
inline size_t min_key_impl(const float* v, const float* bias, float scale, size_t n, float* key) {
  constexpr size_t N = Vec::N;
  const Vec s = Vec::set1(scale);
  ArgminLanes lanes;
  size_t j = 0;
  for (; j + N <= n; j += N) {
    lanes.offer(kBias ? fmadd(Vec::load(v + j), s, Vec::load(bias + j)) : Vec::load(v + j) * s);
  }
  float min;
  size_t at = lanes.finish(&min);
  for (; j < n; j++) {  // the tail comes after every lane: strictly smaller only
    const float x = kBias ? v[j] * scale + bias[j] : v[j] * scale;
    if (x < min) {
      min = x;
      at = j;
    }
  }
  *key = min;
  return at;
}

inline size_t min_key(const float* v, const float* bias, float scale, size_t n, float* key) {
  return bias ? min_key_impl<true>(v, bias, scale, n, key) : min_key_impl<false>(v, bias, scale, n, key);
}

/// N components of a scalar-quantizer code starting at component i (a multiple of N).
template <SQCodec kCodec>
inline Vec sq_load(const uint8_t* code, size_t i) {
  if constexpr (kCodec == kSQ8bit) return Vec::load_u8(code + i);
  else if constexpr (kCodec == kSQ4bit) return Vec::load_u4(code + i / 2);
  else if constexpr (kCodec == kSQ6bit) return Vec::load_u6(code + i * 6 / 8);
  else if constexpr (kCodec == kSQfp16) return Vec::load_fp16(code + 2 * i);
  else return Vec::load_bf16(code + 2 * i);
}

/// Scalar-quantizer scoring (see SQScoreFn): decode N components, one FMA.
template <SQCodec kCodec, bool kL2>
inline void sq_score(const float* u, const float* v, const uint8_t* codes, size_t code_size, size_t n, size_t d,
                     float* out) {
  constexpr size_t N = Vec::N;
  constexpr bool kInteger = kCodec == kSQ8bit || kCodec == kSQ6bit || kCodec == kSQ4bit;
  const size_t dv = d / N * N;
  auto block = [&](const uint8_t* code, size_t i, Vec acc) {
    const Vec q = sq_load<kCodec>(code, i), ui = Vec::load(u + i);
    if constexpr (kL2) {
      const Vec diff = kInteger ? fnmadd(q, Vec::load(v + i), ui) : ui - q;
      return fmadd(diff, diff, acc);
    } else {
      return fmadd(ui, q, acc);
    }
  };
  for (size_t j = 0; j < n; j++) {
    const uint8_t* code = codes + j * code_size;
    Vec a0 = Vec::zero(), a1 = Vec::zero();
    size_t i = 0;
    for (; i + 2 * N <= dv; i += 2 * N) {
      a0 = block(code, i, a0);
      a1 = block(code, i + N, a1);
    }
    if (i < dv) a0 = block(code, i, a0);
    float sum = (a0 + a1).sum();
    for (i = dv; i < d; i++) {  // the last d % N components
      const float q = sq_value(kCodec, code, i);
      if constexpr (kL2) {
        const float diff = kInteger ? u[i] - q * v[i] : u[i] - q;
        sum += diff * diff;
      } else {
        sum += u[i] * q;
      }
    }
    out[j] = sum;
  }
}
/// Rows a gather reads together: independent memory streams that share each
/// query load. Four rows in lockstep with the heads of the next four
/// prefetched beat one row at a time by 25-40% (128- and 784-float rows
/// scattered over 50-200 MB) and beat per-row lanes, whose unpredictable
/// branches drain the out-of-order window that overlaps the misses. Eight beat
/// four by 10-15% when re-ranking 160 candidates of Fashion-MNIST and tie on
/// graph searches (10-30 rows a call, d = 128 and 784).
constexpr size_t kGatherLanes = 8;

/// One term of a distance: (x - y)^2 into an L2 sum, x * y into an inner product.
template <bool kL2>
inline void accumulate(Vec x, Vec y, Vec& a) {
  if constexpr (kL2) {
    const Vec t = x - y;
    a = fmadd(t, t, a);
  } else {
    a = fmadd(x, y, a);
  }
}

/// The gathers' loop, for any kind of row (FloatRows, SplitRows): rows go in
/// lockstep groups of L, the heads of the next group prefetched, and with a
/// finite bound (L2) a row that has crossed it reads the query from then on:
/// its sum stays put (q - q = 0, or as good as 0) and its lines are no longer
/// fetched. The group stops once every row has crossed; its rows are checked
/// every Rows::kBlock positions.
template <bool kL2, size_t L, class Rows>
inline void lockstep_gather(const Rows& rows, const uint32_t* ids, size_t n, float bound, float* out) {
  constexpr size_t N = Vec::N;
  const bool check = kL2 && bound < __builtin_inff();
  const size_t length = rows.length();
  const size_t head_bytes = rows.row_bytes() < 256 ? rows.row_bytes() : 256;
  // Past the end of ids the last row stands in: its lines are already on
  // their way, and its extra results are dropped.
  auto id = [&](size_t j) { return size_t(ids[j < n ? j : n - 1]); };
  for (size_t j = 0; j < n; j += L) {
    typename Rows::Cursor y[L];
    Vec a[L];
#pragma GCC unroll 16
    for (size_t l = 0; l < L; l++) {
      y[l] = rows.row(id(j + l));
      a[l] = Vec::zero();
    }
    for (size_t p = j + L; p < j + 2 * L && p < n; p++) {
      const char* head = rows.head(id(p));
      for (size_t b = 0; b < head_bytes; b += 64) __builtin_prefetch(head + b, 0, 3);
    }
    size_t i = 0;
    for (;;) {
      const size_t end = length - i > Rows::kBlock ? i + Rows::kBlock : length;
      for (; i + N <= end; i += N) {
        const auto q = rows.query(i, N);
#pragma GCC unroll 16
        for (size_t l = 0; l < L; l++) rows.template add<kL2>(q, y[l], i, N, a[l]);
      }
      if (i < end) {  // only at the end of a row whose length is not a multiple of N
        const size_t r = end - i;
        const auto q = rows.query(i, r);
#pragma GCC unroll 16
        for (size_t l = 0; l < L; l++) rows.template add<kL2>(q, y[l], i, r, a[l]);
        i = end;
      }
      if (i == length) break;
      if (check) {
        bool all = true;
#pragma GCC unroll 16
        for (size_t l = 0; l < L; l++) {
          const bool crossed = a[l].sum() >= bound;
          y[l] = crossed ? rows.parked() : y[l];
          all = all && crossed;
        }
        if (all) break;
      }
    }
#pragma GCC unroll 16
    for (size_t l = 0; l < L; l++) {
      if (j + l < n) out[j + l] = a[l].sum();
    }
  }
}

/// Float rows d apart; x the query.
struct FloatRows {
  static constexpr size_t kBlock = kGatherBlock;
  using Cursor = const float*;
  const float* x;
  const float* base;
  size_t d;

  size_t length() const { return d; }
  size_t row_bytes() const { return d * sizeof(float); }
  Cursor row(size_t id) const { return base + id * d; }
  const char* head(size_t id) const { return reinterpret_cast<const char*>(row(id)); }
  Cursor parked() const { return x; }
  Vec query(size_t i, size_t r) const { return r == Vec::N ? Vec::load(x + i) : Vec::load_tail(x + i, r); }
  template <bool kL2>
  void add(Vec q, Cursor y, size_t i, size_t r, Vec& a) const {
    accumulate<kL2>(q, r == Vec::N ? Vec::load(y + i) : Vec::load_tail(y + i, r), a);
  }
};

/// Split rows (SplitQuery), w words a row in each half; a position is a word
/// (two elements). Without kExact only the high halves are read.
template <bool kExact>
struct SplitRows {
  static constexpr size_t kBlock = kSplitGatherBlock;
  struct Cursor {
    const uint32_t* high;
    const uint32_t* low;
  };
  struct Query {
    Vec even, odd;
  };
  const SplitQuery& q;
  const uint32_t* high;
  const uint32_t* low;
  size_t w;

  size_t length() const { return w; }
  size_t row_bytes() const { return w * sizeof(uint32_t); }
  // Without kExact the low halves may not exist (low is null): no pointer into them.
  Cursor row(size_t id) const { return {high + id * w, kExact ? low + id * w : nullptr}; }
  const char* head(size_t id) const { return reinterpret_cast<const char*>(high + id * w); }
  Cursor parked() const { return {q.words, q.words + w}; }
  Query query(size_t i, size_t r) const {
    if (r == Vec::N) return {Vec::load(q.even + i), Vec::load(q.odd + i)};
    return {Vec::load_tail(q.even + i, r), Vec::load_tail(q.odd + i, r)};
  }
  template <bool kL2>
  void add(const Query& x, Cursor y, size_t i, size_t r, Vec& a) const {
    const auto h = r == Vec::N ? Vec::load_words(y.high + i) : Vec::load_words(y.high + i, r);
    Vec even, odd;
    if constexpr (kExact) {
      Vec::from_halves(h, r == Vec::N ? Vec::load_words(y.low + i) : Vec::load_words(y.low + i, r), even, odd);
    } else {
      Vec::from_high_halves(h, even, odd);
    }
    accumulate<kL2>(x.even, even, a);
    accumulate<kL2>(x.odd, odd, a);
  }
};

/// One row alone (the neighbour-selection heuristic, entry points) would
/// cost a whole group's arithmetic: it goes through a group of one.
template <bool kL2, bool kExact>
inline void split_gather(const SplitQuery& q, const uint32_t* high, const uint32_t* low, size_t w,
                         const uint32_t* ids, size_t n, float bound, float* out) {
  const SplitRows<kExact> rows{q, high, low, w};
  if (n == 1) {
    lockstep_gather<kL2, 1>(rows, ids, n, bound, out);
  } else {
    lockstep_gather<kL2, kGatherLanes>(rows, ids, n, bound, out);
  }
}

inline void l2sqr_split_gather(const SplitQuery& q, const uint32_t* high, const uint32_t* low, size_t w,
                               const uint32_t* ids, size_t n, float bound, bool exact, float* out) {
  if (exact) {
    split_gather<true, true>(q, high, low, w, ids, n, bound, out);
  } else {
    split_gather<true, false>(q, high, low, w, ids, n, bound, out);
  }
}

inline void inner_product_split_gather(const SplitQuery& q, const uint32_t* high, const uint32_t* low, size_t w,
                                       const uint32_t* ids, size_t n, bool exact, float* out) {
  if (exact) {
    split_gather<false, true>(q, high, low, w, ids, n, 0.0f, out);
  } else {
    split_gather<false, false>(q, high, low, w, ids, n, 0.0f, out);
  }
}

/// The traversal distance between two split rows (their high halves).
template <bool kL2>
inline float split_pair(const uint32_t* a, const uint32_t* b, size_t w) {
  constexpr size_t N = Vec::N;
  Vec s0 = Vec::zero(), s1 = Vec::zero();
  Vec ae, ao, be, bo;
  size_t i = 0;
  for (; i + N <= w; i += N) {
    Vec::from_high_halves(Vec::load_words(a + i), ae, ao);
    Vec::from_high_halves(Vec::load_words(b + i), be, bo);
    accumulate<kL2>(ae, be, s0);
    accumulate<kL2>(ao, bo, s1);
  }
  if (i < w) {
    Vec::from_high_halves(Vec::load_words(a + i, w - i), ae, ao);
    Vec::from_high_halves(Vec::load_words(b + i, w - i), be, bo);
    accumulate<kL2>(ae, be, s0);
    accumulate<kL2>(ao, bo, s1);
  }
  return (s0 + s1).sum();
}

inline float l2sqr_split_pair(const uint32_t* a, const uint32_t* b, size_t w) { return split_pair<true>(a, b, w); }
inline float inner_product_split_pair(const uint32_t* a, const uint32_t* b, size_t w) {
  return split_pair<false>(a, b, w);
}

inline void l2sqr_gather(const float* x, const float* base, size_t d, const uint32_t* ids, size_t n, float bound,
                         float* out) {
  lockstep_gather<true, kGatherLanes>(FloatRows{x, base, d}, ids, n, bound, out);
}

inline void inner_product_gather(const float* x, const float* base, size_t d, const uint32_t* ids, size_t n,
                                 float* out) {
  lockstep_gather<false, kGatherLanes>(FloatRows{x, base, d}, ids, n, 0.0f, out);
}

/// Kernels::l2_nearest. Per point, eight vectors of centroids at a time (eight
/// independent FMA chains), their scores offered to a lane-wise argmin.
inline void l2_nearest(const float* x, size_t n, size_t d, const float* ct, const float* norms, size_t kpad,
                       int64_t* labels, float* scores) {
  constexpr size_t N = Vec::N;
  for (size_t i = 0; i < n; i++) {
    const float* xi = x + i * d;
    ArgminLanes lanes;
    size_t c = 0;
    for (; c + 8 * N <= kpad; c += 8 * N) {
      Vec a0 = Vec::load(norms + c), a1 = Vec::load(norms + c + N), a2 = Vec::load(norms + c + 2 * N),
          a3 = Vec::load(norms + c + 3 * N), a4 = Vec::load(norms + c + 4 * N), a5 = Vec::load(norms + c + 5 * N),
          a6 = Vec::load(norms + c + 6 * N), a7 = Vec::load(norms + c + 7 * N);
      for (size_t j = 0; j < d; j++) {
        const Vec q = Vec::set1(-2.0f * xi[j]);
        const float* row = ct + j * kpad + c;
        a0 = fmadd(q, Vec::load(row), a0);
        a1 = fmadd(q, Vec::load(row + N), a1);
        a2 = fmadd(q, Vec::load(row + 2 * N), a2);
        a3 = fmadd(q, Vec::load(row + 3 * N), a3);
        a4 = fmadd(q, Vec::load(row + 4 * N), a4);
        a5 = fmadd(q, Vec::load(row + 5 * N), a5);
        a6 = fmadd(q, Vec::load(row + 6 * N), a6);
        a7 = fmadd(q, Vec::load(row + 7 * N), a7);
      }
      lanes.offer(a0);
      lanes.offer(a1);
      lanes.offer(a2);
      lanes.offer(a3);
      lanes.offer(a4);
      lanes.offer(a5);
      lanes.offer(a6);
      lanes.offer(a7);
    }
    for (; c < kpad; c += N) {
      Vec a = Vec::load(norms + c);
      for (size_t j = 0; j < d; j++) a = fmadd(Vec::set1(-2.0f * xi[j]), Vec::load(ct + j * kpad + c), a);
      lanes.offer(a);
    }
    labels[i] = static_cast<int64_t>(lanes.finish(scores + i));
  }
}
