#include "sextant/impl/ProductQuantizer.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "sextant/base/Error.h"
#include "sextant/base/threads.h"
#include "sextant/utils/distances.h"
#include "sextant/utils/kernels.h"
#include "sextant/utils/knn.h"
#include "sextant/utils/validate.h"

namespace sextant {

namespace {

constexpr size_t kEncodeChunk = 65536;  // vectors encoded per pass: bounds the sub-vector copies

void put_bits(uint8_t* code, size_t bit, size_t nbits, uint32_t value) {
  for (size_t b = 0; b < nbits; b++, bit++) {
    if ((value >> b) & 1) code[bit >> 3] |= uint8_t(1u << (bit & 7));
  }
}

// Columns [m * dsub, (m + 1) * dsub) of rows [0, n) of x, contiguous.
void gather_subvectors(const float* x, size_t n, size_t d, size_t m, size_t dsub, float* out) {
  for (size_t i = 0; i < n; i++) std::memcpy(out + i * dsub, x + i * d + m * dsub, sizeof(float) * dsub);
}

}  // namespace

ProductQuantizer::ProductQuantizer(size_t d, size_t M, size_t nbits) : d_(d), M_(M), nbits_(nbits) {
  SEXTANT_CHECK(M > 0, "M (the number of sub-quantizers) must be > 0, got ", M);
  SEXTANT_CHECK(d % M == 0, "the dimension d=", d, " must be a multiple of M=", M);
  SEXTANT_CHECK(nbits >= 1 && nbits <= 16, "nbits must be in [1, 16], got ", nbits);
  dsub_ = d / M;
  ksub_ = size_t{1} << nbits;
  train_params_.niter = 25;
}

uint32_t ProductQuantizer::code_at(const uint8_t* code, size_t m) const {
  if (nbits_ == 8) return code[m];
  size_t bit = m * nbits_;
  uint32_t value = 0;
  for (size_t b = 0; b < nbits_; b++, bit++) value |= uint32_t((code[bit >> 3] >> (bit & 7)) & 1) << b;
  return value;
}

void ProductQuantizer::pack(const uint32_t* subcodes, uint8_t* code) const {
  if (nbits_ == 8) {
    for (size_t m = 0; m < M_; m++) code[m] = uint8_t(subcodes[m]);
    return;
  }
  for (size_t m = 0; m < M_; m++) put_bits(code, m * nbits_, nbits_, subcodes[m]);
}

void ProductQuantizer::adopt(std::vector<float> centroids) {
  centroids_ = std::move(centroids);
  columns_.resize(centroids_.size());
  norms_.resize(M_ * ksub_);
  for (size_t m = 0; m < M_; m++) {
    const float* c = centroids_.data() + m * ksub_ * dsub_;
    float* t = columns_.data() + m * ksub_ * dsub_;
    for (size_t j = 0; j < ksub_; j++) {
      double norm = 0;
      for (size_t i = 0; i < dsub_; i++) {
        t[i * ksub_ + j] = c[j * dsub_ + i];
        norm += double(c[j * dsub_ + i]) * c[j * dsub_ + i];
      }
      norms_[m * ksub_ + j] = float(norm);
    }
  }
}

void ProductQuantizer::set_centroids(std::vector<float> centroids) {
  SEXTANT_CHECK(centroids.size() == M_ * ksub_ * dsub_, "a product quantizer with M=", M_, ", nbits=", nbits_,
                ", d=", d_, " needs ", M_ * ksub_ * dsub_, " centroid values, got ", centroids.size());
  check_finite(centroids.data(), centroids.size(), 1, "product quantizer centroids");
  // The longest vector a code can decode to must be within the bound of decoded vectors.
  double longest = 0;
  for (size_t m = 0; m < M_; m++) {
    double sub = 0;
    for (size_t j = 0; j < ksub_; j++) {
      const float* c = centroids.data() + (m * ksub_ + j) * dsub_;
      double norm = 0;
      for (size_t i = 0; i < dsub_; i++) norm += double(c[i]) * c[i];
      sub = std::max(sub, norm);
    }
    longest += sub;
  }
  SEXTANT_CHECK(longest <= double(kMaxDecodedSquaredNorm),
                "product quantizer centroids decode to vectors of squared norm up to ", longest,
                ", above the limit 2^124");
  adopt(std::move(centroids));
}

void ProductQuantizer::train(size_t n, const float* x, const float* directions) {
  SEXTANT_CHECK(n >= ksub_, "training a product quantizer with nbits=", nbits_, " needs at least ", ksub_,
                " vectors, got ", n);
  // One sample for every subspace, so the codebooks see the same vectors.
  const size_t cap = size_t(std::max(1, train_params_.max_points_per_centroid)) * ksub_;
  std::vector<size_t> rows(n);
  for (size_t i = 0; i < n; i++) rows[i] = i;
  if (n > cap) {
    std::mt19937_64 rng(train_params_.seed);
    for (size_t i = 0; i < cap; i++) std::swap(rows[i], rows[i + rng() % (n - i)]);
    rows.resize(cap);
    std::sort(rows.begin(), rows.end());
  }
  const size_t m_rows = rows.size();
  std::vector<float> centroids(M_ * ksub_ * dsub_);
  // Subspaces are independent: one k-means per thread (each seeded by its
  // subspace, so the result does not depend on the thread count).
  ParallelErrors errors;
#pragma omp parallel for schedule(dynamic) if (M_ >= size_t(omp_get_max_threads()))
  for (long m = 0; m < static_cast<long>(M_); m++) errors.run([&] {
    std::vector<float> sub(m_rows * dsub_);
    for (size_t i = 0; i < m_rows; i++) {
      std::memcpy(sub.data() + i * dsub_, x + rows[i] * d_ + m * dsub_, sizeof(float) * dsub_);
    }
    KMeansParams params = train_params_;
    params.seed = train_params_.seed + 7919 * uint64_t(m);
    KMeansResult r = kmeans(m_rows, dsub_, sub.data(), ksub_, params, exact_assign(dsub_, MetricType::L2), false);
    std::copy(r.centroids.begin(), r.centroids.end(), centroids.begin() + m * ksub_ * dsub_);
  });
  errors.rethrow();
  adopt(std::move(centroids));
  if (threshold_ == 0) return;
  // The sampled vectors and, when they differ from them, their directions.
  const bool own_directions = directions == nullptr || directions == x;
  std::vector<float> xs(m_rows * d_), us(own_directions ? 0 : m_rows * d_);
  for (size_t i = 0; i < m_rows; i++) {
    std::memcpy(xs.data() + i * d_, x + rows[i] * d_, sizeof(float) * d_);
    if (!own_directions) std::memcpy(us.data() + i * d_, directions + rows[i] * d_, sizeof(float) * d_);
  }
  refine_anisotropic(m_rows, xs.data(), own_directions ? xs.data() : us.data());
}

void ProductQuantizer::encode(size_t n, const float* x, uint8_t* codes, const float* directions) const {
  SEXTANT_CHECK(is_trained(), "the product quantizer is not trained");
  if (threshold_ == 0) return encode_nearest(n, x, codes);
  encode_anisotropic(n, x, directions ? directions : x, codes);
}

void ProductQuantizer::encode_nearest(size_t n, const float* x, uint8_t* codes) const {
  const size_t cs = code_size();
  std::memset(codes, 0, n * cs);
  std::vector<float> sub(std::min(n, kEncodeChunk) * dsub_), dist(std::min(n, kEncodeChunk));
  std::vector<idx_t> nearest(dist.size());
  for (size_t i0 = 0; i0 < n; i0 += kEncodeChunk) {
    const size_t rows = std::min(kEncodeChunk, n - i0);
    for (size_t m = 0; m < M_; m++) {
      gather_subvectors(x + i0 * d_, rows, d_, m, dsub_, sub.data());
      exact_search(sub.data(), rows, VectorSet{centroids_.data() + m * ksub_ * dsub_, ksub_, dsub_}, 1,
                   MetricType::L2, dist.data(), nearest.data());
      for (size_t i = 0; i < rows; i++) {
        uint8_t* code = codes + (i0 + i) * cs;
        if (nbits_ == 8) {
          code[m] = uint8_t(nearest[i]);
        } else {
          put_bits(code, m * nbits_, nbits_, uint32_t(nearest[i]));
        }
      }
    }
  }
}

void ProductQuantizer::decode(size_t n, const uint8_t* codes, float* x) const {
  SEXTANT_CHECK(is_trained(), "the product quantizer is not trained");
  const size_t cs = code_size();
  for (size_t i = 0; i < n; i++) {
    for (size_t m = 0; m < M_; m++) {
      const float* c = centroids_.data() + (m * ksub_ + code_at(codes + i * cs, m)) * dsub_;
      std::memcpy(x + i * d_ + m * dsub_, c, sizeof(float) * dsub_);
    }
  }
}

void ProductQuantizer::compute_table(const float* x, MetricType metric, float* table) const {
  const Kernels& k = kernels();
  (metric == MetricType::L2 ? k.l2sqr_table : k.inner_product_table)(x, columns_.data(), M_, dsub_, ksub_, table);
}

void ProductQuantizer::score(const float* table, const uint8_t* codes, size_t n, float* out) const {
  const size_t cs = code_size();
  if (nbits_ == 8) {
    // Four codes at a time: four independent sums keep the loads in flight.
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
      const uint8_t* c0 = codes + j * cs;
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (size_t m = 0; m < M_; m++) {
        const float* t = table + m * 256;
        s0 += t[c0[m]];
        s1 += t[c0[cs + m]];
        s2 += t[c0[2 * cs + m]];
        s3 += t[c0[3 * cs + m]];
      }
      out[j] = s0;
      out[j + 1] = s1;
      out[j + 2] = s2;
      out[j + 3] = s3;
    }
    for (; j < n; j++) {
      float s = 0;
      for (size_t m = 0; m < M_; m++) s += table[m * 256 + codes[j * cs + m]];
      out[j] = s;
    }
    return;
  }
  if (nbits_ == 4) {
    for (size_t j = 0; j < n; j++) {
      const uint8_t* code = codes + j * cs;
      float s = 0;
      for (size_t m = 0; m < M_; m++) s += table[m * 16 + ((code[m >> 1] >> ((m & 1) * 4)) & 15)];
      out[j] = s;
    }
    return;
  }
  for (size_t j = 0; j < n; j++) {
    float s = 0;
    for (size_t m = 0; m < M_; m++) s += table[m * ksub_ + code_at(codes + j * cs, m)];
    out[j] = s;
  }
}

std::vector<float> ProductQuantizer::symmetric_table() const {
  SEXTANT_CHECK(is_trained(), "the product quantizer is not trained");
  std::vector<float> table(M_ * ksub_ * ksub_);
  for (size_t m = 0; m < M_; m++) {
    const float* c = centroids_.data() + m * ksub_ * dsub_;
    pairwise_distances(c, ksub_, c, ksub_, dsub_, MetricType::L2, table.data() + m * ksub_ * ksub_);
  }
  return table;
}

}  // namespace sextant
