#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "sextant/MetricType.h"

namespace sextant {

/// A (possibly trained) map from d_in-dimensional to d_out-dimensional
/// vectors, applied in batches of n row-major vectors. Names follow Faiss.
class VectorTransform {
 public:
  virtual ~VectorTransform() = default;
  int d_in() const { return d_in_; }
  int d_out() const { return d_out_; }
  bool is_trained() const { return is_trained_; }
  virtual std::string type_name() const = 0;
  /// True when `other` maps every vector as this one does (same type, sizes and trained parameters).
  virtual bool same_map(const VectorTransform& other) const {
    return type_name() == other.type_name() && d_in_ == other.d_in_ && d_out_ == other.d_out_ &&
           is_trained_ == other.is_trained_;
  }

  void train(idx_t n, const float* x);
  /// out: n x d_out.
  void apply(idx_t n, const float* x, float* out) const;
  /// The inverse where it exists (orthonormal maps: the projection back); out: n x d_in.
  void reverse_transform(idx_t n, const float* xt, float* out) const;
  /// True when the map keeps every L2 distance and inner product (a rotation).
  virtual bool preserves_distances() const { return false; }

 protected:
  VectorTransform(int d_in, int d_out, bool is_trained);
  virtual void train_impl(idx_t n, const float* x);
  virtual void apply_impl(idx_t n, const float* x, float* out) const = 0;
  virtual void reverse_impl(idx_t n, const float* xt, float* out) const;

  int d_in_, d_out_;
  bool is_trained_;
};

/// y = A x + b with A (d_out x d_in) and b (d_out). Usable on its own with a
/// matrix from elsewhere (set_matrix), or trained by the subclasses below.
class LinearTransform : public VectorTransform {
 public:
  LinearTransform(int d_in, int d_out) : VectorTransform(d_in, d_out, false) {}
  std::string type_name() const override { return "LinearTransform"; }
  const std::vector<float>& A() const { return A_; }
  const std::vector<float>& b() const { return b_; }
  /// Sets A (and b, empty for zero): for loading a trained transform.
  void set_matrix(std::vector<float> A, std::vector<float> b);
  /// True when the rows of A are orthonormal (reverse_transform is then defined).
  bool is_orthonormal() const { return orthonormal_; }
  /// A square orthonormal A and no shift: a rotation.
  bool preserves_distances() const override {
    return orthonormal_ && d_in_ == d_out_ && std::all_of(b_.begin(), b_.end(), [](float v) { return v == 0; });
  }
  bool same_map(const VectorTransform& other) const override {
    const auto* linear = dynamic_cast<const LinearTransform*>(&other);
    return VectorTransform::same_map(other) && linear != nullptr && A_ == linear->A_ && b_ == linear->b_;
  }

 protected:
  LinearTransform(int d_in, int d_out, bool is_trained) : VectorTransform(d_in, d_out, is_trained) {}
  void apply_impl(idx_t n, const float* x, float* out) const override;
  /// x = A^T (y - b) when A's rows are orthonormal.
  void reverse_impl(idx_t n, const float* xt, float* out) const override;

  std::vector<float> A_, b_;
  bool orthonormal_ = false;
};

/// A random rotation (orthonormal rows), seeded; needs no training.
class RandomRotationMatrix : public LinearTransform {
 public:
  RandomRotationMatrix(int d_in, int d_out, uint64_t seed = 12345);
  std::string type_name() const override { return "RandomRotationMatrix"; }
};

/// PCA: centres the data and projects it on its d_out leading eigenvectors,
/// optionally scaled by eigenvalue^eigen_power (-0.5: whitening) and followed
/// by a random rotation (which spreads the variance evenly over the output).
class PCAMatrix : public LinearTransform {
 public:
  PCAMatrix(int d_in, int d_out, float eigen_power = 0, bool random_rotation = false);
  std::string type_name() const override { return "PCAMatrix"; }
  float eigen_power() const { return eigen_power_; }
  bool random_rotation() const { return random_rotation_; }
  /// All d_in eigenvalues, largest first (after training).
  const std::vector<float>& eigenvalues() const { return eigenvalues_; }
  const std::vector<float>& mean() const { return mean_; }
  /// Restores a trained PCA (read_index): the matrix and the statistics it came from.
  void restore(std::vector<float> A, std::vector<float> b, std::vector<float> eigenvalues, std::vector<float> mean);

 protected:
  void train_impl(idx_t n, const float* x) override;

 private:
  float eigen_power_;
  bool random_rotation_;
  std::vector<float> eigenvalues_, mean_;
};

/// Optimised product quantization's rotation (Ge et al.): alternately trains a
/// PQ on the rotated data and solves for the rotation that best maps the data
/// onto its PQ reconstruction (orthogonal Procrustes), so PQ error drops.
class OPQMatrix : public LinearTransform {
 public:
  /// d_out = -1: the same as d.
  OPQMatrix(int d, int M, int d_out = -1);
  std::string type_name() const override { return "OPQMatrix"; }
  int M() const { return M_; }

  int niter = 50;          ///< rotation updates
  int niter_pq = 4;        ///< k-means iterations of each PQ training
  int niter_pq_0 = 40;     ///< ... of the first one
  size_t max_train_points = 256 * 256;
  uint64_t seed = 123;
  bool verbose = false;

 protected:
  void train_impl(idx_t n, const float* x) override;

 private:
  int M_;
};

/// Scales each vector to unit L2 norm (cosine similarity through inner
/// product). The reverse transform returns the unit vectors unchanged.
class NormalizationTransform : public VectorTransform {
 public:
  explicit NormalizationTransform(int d);
  std::string type_name() const override { return "NormalizationTransform"; }

 protected:
  void apply_impl(idx_t n, const float* x, float* out) const override;
  void reverse_impl(idx_t n, const float* xt, float* out) const override;
};

}  // namespace sextant
