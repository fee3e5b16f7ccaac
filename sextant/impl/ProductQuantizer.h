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
///
/// Score-aware (anisotropic) quantization, for inner-product search (Guo et
/// al., "Accelerating Large-Scale Inference with Anisotropic Vector
/// Quantization", ICML 2020; ScaNN's "AH" codes): the error r = x - decode(x)
/// of a vector costs eta |r_par|^2 + |r_perp|^2, its parts parallel and
/// orthogonal to the vector's direction u (x itself, or the whole vector when
/// x is a residual), instead of |r|^2. With eta > 1 the inner products of the
/// vectors that score high, those a top-k keeps, are estimated better. From
/// the paper's threshold T: eta = (d - 1) T^2 / (1 - T^2), so T = 1/sqrt(d)
/// gives eta = 1 (plain PQ). Codes are chosen by coordinate descent over the
/// sub-codes, codebooks by alternating that encoding with the exact
/// minimisation of the loss over each centroid (a dsub x dsub system).
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
  /// Trains the M codebooks (k-means in each subspace) on n vectors, then, when
  /// anisotropic, refines them for the anisotropic loss; `directions` (n x d,
  /// nullptr: x itself) give each vector's direction u.
  void train(size_t n, const float* x, const float* directions = nullptr);

  /// The anisotropic threshold T (0: plain PQ, the default), in [1/sqrt(d), 1).
  /// Set it before training: the codebooks are trained for the loss.
  float anisotropic_threshold() const { return threshold_; }
  void set_anisotropic_threshold(float threshold);
  /// eta = h_par / h_perp of the loss (1 when plain).
  double anisotropic_eta() const;
  /// The loss of one code of x: eta |r_par|^2 + |r_perp|^2 with r = x - decode(code),
  /// parallel to u (the squared error |r|^2 when plain).
  double loss(const float* x, const float* u, const uint8_t* code) const;

  /// M x ksub x dsub floats: centroid c of subspace m starts at (m * ksub + c) * dsub.
  const std::vector<float>& centroids() const { return centroids_; }
  void set_centroids(std::vector<float> centroids);
  /// Same shape and codebooks: codes of one decode alike with the other.
  bool same_codebooks(const ProductQuantizer& other) const {
    return d_ == other.d_ && M_ == other.M_ && nbits_ == other.nbits_ && centroids_ == other.centroids_;
  }

  /// Codes of n vectors; `directions` as for train() (used when anisotropic).
  void encode(size_t n, const float* x, uint8_t* codes, const float* directions = nullptr) const;
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
  /// Sets the centroids, their transposed copy and their squared norms.
  void adopt(std::vector<float> centroids);
  void encode_nearest(size_t n, const float* x, uint8_t* codes) const;
  void encode_anisotropic(size_t n, const float* x, const float* directions, uint8_t* codes) const;
  /// Sub-codes of a code's M values (bit-packed into code_size() zeroed bytes).
  void pack(const uint32_t* subcodes, uint8_t* code) const;
  /// Alternates anisotropic encoding of the n training vectors with the
  /// loss-minimising update of every centroid.
  void refine_anisotropic(size_t n, const float* x, const float* directions);

  size_t d_, M_, nbits_, dsub_, ksub_;
  KMeansParams train_params_;
  std::vector<float> centroids_;
  std::vector<float> columns_;  // each subspace's centroids transposed: dsub rows of ksub (Kernels::l2sqr_table)
  std::vector<float> norms_;    // |centroid|^2, M x ksub
  float threshold_ = 0;
};

}  // namespace sextant
