#pragma once

#include <cstdint>
#include <vector>

#include "sextant/MetricType.h"
#include "sextant/impl/kmeans.h"

namespace sextant {

/// Splits d-dimensional vectors into M sub-vectors of dsub = d / M dimensions
/// and encodes each with the nearest of ksub = 2^nbits centroids of its
/// subspace. Codes are bit streams of M * nbits bits, code m at bits
/// [m * nbits, (m + 1) * nbits), little-endian (bytes when nbits is 8), as in Faiss.
class ProductQuantizer {
 public:
  ProductQuantizer(size_t d, size_t M, size_t nbits = 8);

  size_t d() const { return d_; }
  size_t M() const { return M_; }
  size_t nbits() const { return nbits_; }
  size_t dsub() const { return dsub_; }
  size_t ksub() const { return ksub_; }
  size_t code_size() const { return (M_ * nbits_ + 7) / 8; }
  bool is_trained() const { return !centroids_.empty(); }

  /// k-means parameters of each subspace (niter 25, at most 256 points per centroid).
  KMeansParams& train_params() { return train_params_; }
  /// Trains the M codebooks (k-means in each subspace) on n vectors.
  void train(size_t n, const float* x);

  /// M x ksub x dsub floats: centroid c of subspace m starts at (m * ksub + c) * dsub.
  const std::vector<float>& centroids() const { return centroids_; }
  void set_centroids(std::vector<float> centroids);
  /// Same shape and codebooks: codes of one decode alike with the other.
  bool same_codebooks(const ProductQuantizer& other) const {
    return d_ == other.d_ && M_ == other.M_ && nbits_ == other.nbits_ && centroids_ == other.centroids_;
  }

  void encode(size_t n, const float* x, uint8_t* codes) const;
  void decode(size_t n, const uint8_t* codes, float* x) const;

  /// Sub-code m of a code.
  uint32_t code_at(const uint8_t* code, size_t m) const;

  /// M x ksub look-up table of one query: squared L2 distances (or inner
  /// products) between each query sub-vector and each centroid of its subspace.
  void compute_table(const float* x, MetricType metric, float* table) const;

  /// out[j] = sum over m of table[m * ksub + code_m] for n codes (asymmetric
  /// distance computation: the distance to the decoded vector).
  void score(const float* table, const uint8_t* codes, size_t n, float* out) const;

  /// M x ksub x ksub table of distances between centroids of each subspace
  /// (symmetric distance computation, code against code).
  std::vector<float> symmetric_table() const;

 private:
  /// Sets the centroids and their transposed copy.
  void adopt(std::vector<float> centroids);

  size_t d_, M_, nbits_, dsub_, ksub_;
  KMeansParams train_params_;
  std::vector<float> centroids_;
  std::vector<float> columns_;  // each subspace's centroids transposed: dsub rows of ksub (Kernels::l2sqr_table)
};

}  // namespace sextant
