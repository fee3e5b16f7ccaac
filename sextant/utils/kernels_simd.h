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

/// One query against ny rows. Rows of 32 floats or more go one after the
/// other through the single-pair kernel: one sequential stream is what the
/// hardware prefetcher follows best when the rows come from memory. Shorter
/// rows go four at a time, so each query load and horizontal sum serves four rows.
template <bool kL2>
inline void distances_ny(const float* x, const float* y, size_t ny, size_t d, float* out) {
  constexpr size_t N = Vec::N;
  size_t j = 0;
  if (d < 32) {
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
      if (i < d) {
        size_t r = d - i;
        step(Vec::load_tail(x + i, r), Vec::load_tail(y0 + i, r), Vec::load_tail(y0 + d + i, r),
             Vec::load_tail(y0 + 2 * d + i, r), Vec::load_tail(y0 + 3 * d + i, r));
      }
      out[j] = a0.sum();
      out[j + 1] = a1.sum();
      out[j + 2] = a2.sum();
      out[j + 3] = a3.sum();
    }
  }
  for (; j < ny; j++) out[j] = kL2 ? l2sqr(x, y + j * d, d) : inner_product(x, y + j * d, d);
}

inline void l2sqr_ny(const float* x, const float* y, size_t ny, size_t d, float* out) {
  distances_ny<true>(x, y, ny, d, out);
}

inline void inner_product_ny(const float* x, const float* y, size_t ny, size_t d, float* out) {
  distances_ny<false>(x, y, ny, d, out);
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

/// Rows of a gather in flight at once. Each row is walked in blocks of
/// kGatherBlock floats, one lane after the other: the blocks are short enough
/// for the out-of-order core to overlap the cache misses of all lanes, and a
/// lane that finishes (or crosses the bound) takes the next row at once.
constexpr size_t kGatherLanes = 8;

template <bool kL2>
inline void gather(const float* x, const float* base, size_t d, const uint32_t* ids, size_t n, float bound,
                   float* out) {
  constexpr size_t N = Vec::N;
  const bool check = kL2 && bound < __builtin_inff();
  const float* rows[kGatherLanes];
  size_t slot[kGatherLanes], off[kGatherLanes];
  Vec acc[kGatherLanes];
  size_t next = 0, live = 0;
  auto prefetch_head = [&](size_t j) {
    const char* p = reinterpret_cast<const char*>(base + size_t(ids[j]) * d);
    __builtin_prefetch(p, 0, 3);
    __builtin_prefetch(p + 64, 0, 3);
  };
  auto start = [&](size_t lane) {
    rows[lane] = base + size_t(ids[next]) * d;
    slot[lane] = next++;
    off[lane] = 0;
    acc[lane] = Vec::zero();
    if (next < n) prefetch_head(next);
  };
  for (; live < kGatherLanes && next < n; live++) start(live);
  while (live > 0) {
    for (size_t lane = 0; lane < live;) {
      const float* y = rows[lane];
      size_t i = off[lane];
      const size_t end = d - i > kGatherBlock ? i + kGatherBlock : d;
      Vec a = acc[lane];
      for (; i + N <= end; i += N) {
        if constexpr (kL2) {
          Vec t = Vec::load(x + i) - Vec::load(y + i);
          a = fmadd(t, t, a);
        } else {
          a = fmadd(Vec::load(x + i), Vec::load(y + i), a);
        }
      }
      if (i < end) {  // only at the end of a row whose length is not a multiple of N
        if constexpr (kL2) {
          Vec t = Vec::load_tail(x + i, end - i) - Vec::load_tail(y + i, end - i);
          a = fmadd(t, t, a);
        } else {
          a = fmadd(Vec::load_tail(x + i, end - i), Vec::load_tail(y + i, end - i), a);
        }
      }
      acc[lane] = a;
      off[lane] = end;
      bool done = end == d;
      float partial = 0;
      if (done || check) {
        partial = a.sum();
        done = done || partial >= bound;
      }
      if (!done) {
        lane++;
        continue;
      }
      out[slot[lane]] = partial;
      if (next < n) {
        start(lane);
        lane++;
      } else {  // no row left: the last live lane takes this place
        live--;
        rows[lane] = rows[live];
        slot[lane] = slot[live];
        off[lane] = off[live];
        acc[lane] = acc[live];
      }
    }
  }
}

inline void l2sqr_gather(const float* x, const float* base, size_t d, const uint32_t* ids, size_t n, float bound,
                         float* out) {
  gather<true>(x, base, d, ids, n, bound, out);
}

inline void inner_product_gather(const float* x, const float* base, size_t d, const uint32_t* ids, size_t n,
                                 float* out) {
  gather<false>(x, base, d, ids, n, 0.0f, out);
}
