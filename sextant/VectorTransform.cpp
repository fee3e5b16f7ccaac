#include "sextant/VectorTransform.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

#include "sextant/base/Error.h"
#include "sextant/impl/ProductQuantizer.h"
#include "sextant/utils/blas.h"
#include "sextant/utils/distances.h"
#include "sextant/utils/lapack.h"
#include "sextant/utils/principal_axes.h"
#include "sextant/utils/validate.h"

namespace sextant {

namespace {

// A d_out x d_in matrix with orthonormal rows (or columns, when d_out > d_in), seeded.
std::vector<float> random_orthonormal(int d_out, int d_in, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> gauss;
  const int rows = std::min(d_out, d_in), cols = std::max(d_out, d_in);
  std::vector<float> m(size_t(rows) * cols);
  for (float& v : m) v = gauss(rng);
  orthonormalize_rows(rows, cols, m.data());
  if (d_out <= d_in) return m;
  std::vector<float> t(size_t(d_out) * d_in);  // d_out > d_in: orthonormal columns
  for (int i = 0; i < d_out; i++) {
    for (int j = 0; j < d_in; j++) t[size_t(i) * d_in + j] = m[size_t(j) * d_out + i];
  }
  return t;
}

bool rows_orthonormal(const std::vector<float>& A, int rows, int cols) {
  if (rows > cols) return false;
  // The Gram matrix through the BLAS: a loop of dot products takes seconds at d = 2048.
  std::vector<float> gram(size_t(rows) * rows);
  gemm_abt(rows, rows, cols, 1.0f, A.data(), cols, A.data(), cols, 0.0f, gram.data(), rows);
  for (int i = 0; i < rows; i++) {
    for (int j = 0; j < rows; j++) {
      if (!(std::fabs(gram[size_t(i) * rows + j] - (i == j ? 1.0f : 0.0f)) <= 1e-3f)) return false;
    }
  }
  return true;
}

}  // namespace

// ----------------------------------------------------------------- VectorTransform

VectorTransform::VectorTransform(int d_in, int d_out, bool is_trained)
    : d_in_(d_in), d_out_(d_out), is_trained_(is_trained) {
  SEXTANT_CHECK(d_in > 0, "d_in must be > 0, got ", d_in);
  SEXTANT_CHECK(d_out > 0, "d_out must be > 0, got ", d_out);
}

void VectorTransform::train(idx_t n, const float* x) {
  SEXTANT_CHECK(n > 0 && x != nullptr, type_name(), " needs training vectors, got n=", n);
  check_bounded(x, n, d_in_, "training vectors");
  train_impl(n, x);
  is_trained_ = true;
}

void VectorTransform::train_impl(idx_t, const float*) {}

void VectorTransform::apply(idx_t n, const float* x, float* out) const {
  SEXTANT_CHECK(is_trained_, type_name(), " is not trained: call train() first");
  SEXTANT_CHECK(n >= 0, "n must be >= 0, got ", n);
  if (n == 0) return;
  SEXTANT_CHECK(x != nullptr && out != nullptr, "vectors must not be null");
  check_bounded(x, n, d_in_, "vectors");
  apply_impl(n, x, out);
}

void VectorTransform::reverse_transform(idx_t n, const float* xt, float* out) const {
  SEXTANT_CHECK(is_trained_, type_name(), " is not trained: call train() first");
  SEXTANT_CHECK(n >= 0, "n must be >= 0, got ", n);
  if (n == 0) return;
  SEXTANT_CHECK(xt != nullptr && out != nullptr, "vectors must not be null");
  reverse_impl(n, xt, out);
}

void VectorTransform::reverse_impl(idx_t, const float*, float*) const {
  SEXTANT_FAIL(type_name(), " has no reverse transform");
}

// ----------------------------------------------------------------- LinearTransform

void LinearTransform::set_matrix(std::vector<float> A, std::vector<float> b) {
  SEXTANT_CHECK(A.size() == size_t(d_out_) * d_in_, "A must hold d_out x d_in = ", size_t(d_out_) * d_in_,
                " values, got ", A.size());
  SEXTANT_CHECK(b.empty() || b.size() == size_t(d_out_), "b must hold d_out = ", d_out_, " values, got ", b.size());
  check_finite(A.data(), A.size(), 1, "A");
  check_finite(b.data(), b.size(), 1, "b");
  A_ = std::move(A);
  b_ = std::move(b);
  orthonormal_ = rows_orthonormal(A_, d_out_, d_in_);
  is_trained_ = true;
}

void LinearTransform::apply_impl(idx_t n, const float* x, float* out) const {
  gemm_abt(n, d_out_, d_in_, 1.0f, x, d_in_, A_.data(), d_in_, 0.0f, out, d_out_);
  if (b_.empty()) return;
  for (idx_t i = 0; i < n; i++) {
    for (int j = 0; j < d_out_; j++) out[i * d_out_ + j] += b_[j];
  }
}

void LinearTransform::reverse_impl(idx_t n, const float* xt, float* out) const {
  SEXTANT_CHECK(orthonormal_, type_name(), " has no reverse transform: the rows of A are not orthonormal");
  std::vector<float> centred(xt, xt + size_t(n) * d_out_);
  if (!b_.empty()) {
    for (idx_t i = 0; i < n; i++) {
      for (int j = 0; j < d_out_; j++) centred[i * d_out_ + j] -= b_[j];
    }
  }
  gemm_ab(n, d_in_, d_out_, 1.0f, centred.data(), d_out_, A_.data(), d_in_, 0.0f, out, d_in_);
}

// ----------------------------------------------------------------- RandomRotationMatrix

RandomRotationMatrix::RandomRotationMatrix(int d_in, int d_out, uint64_t seed) : LinearTransform(d_in, d_out, false) {
  set_matrix(random_orthonormal(d_out, d_in, seed), {});
}

// ----------------------------------------------------------------- PCAMatrix

PCAMatrix::PCAMatrix(int d_in, int d_out, float eigen_power, bool random_rotation)
    : LinearTransform(d_in, d_out, false), eigen_power_(eigen_power), random_rotation_(random_rotation) {
  SEXTANT_CHECK(d_out <= d_in, "PCA cannot output more dimensions (d_out=", d_out, ") than it gets (d_in=", d_in, ")");
  SEXTANT_CHECK(std::isfinite(eigen_power), "PCA eigen_power must be finite, got ", eigen_power);
}

void PCAMatrix::train_impl(idx_t n, const float* x) {
  const int d = d_in_;
  SEXTANT_CHECK(n >= d_out_, "training a PCA to ", d_out_, " dimensions needs at least ", d_out_,
                " vectors, got ", n, ": fewer leave directions undetermined");
  PrincipalAxes axes = principal_axes(x, size_t(n), size_t(d));
  mean_ = std::move(axes.mean);
  eigenvalues_ = std::move(axes.eigenvalues);
  std::vector<float> A(size_t(d_out_) * d);
  for (int r = 0; r < d_out_; r++) {
    const float* vec = axes.axes.data() + size_t(r) * d;
    const float scale = eigen_power_ == 0 ? 1.0f : std::pow(std::max(eigenvalues_[r], 1e-30f), eigen_power_);
    for (int j = 0; j < d; j++) A[size_t(r) * d + j] = vec[j] * scale;
  }
  if (random_rotation_) {
    std::vector<float> R = random_orthonormal(d_out_, d_out_, 12345), rotated(A.size());
    gemm_ab(d_out_, d, d_out_, 1.0f, R.data(), d_out_, A.data(), d, 0.0f, rotated.data(), d);
    A = std::move(rotated);
  }
  // y = A (x - mean) = A x + b with b = -A mean.
  std::vector<float> b(d_out_);
  for (int r = 0; r < d_out_; r++) {
    double s = 0;
    for (int j = 0; j < d; j++) s += double(A[size_t(r) * d + j]) * mean_[j];
    b[r] = float(-s);
  }
  set_matrix(std::move(A), std::move(b));
}

void PCAMatrix::restore(std::vector<float> A, std::vector<float> b, std::vector<float> eigenvalues,
                        std::vector<float> mean) {
  SEXTANT_CHECK(eigenvalues.size() == size_t(d_in_) && mean.size() == size_t(d_in_), "a PCA over d_in=", d_in_,
                " needs d_in eigenvalues and mean values, got ", eigenvalues.size(), " and ", mean.size());
  check_finite(eigenvalues.data(), eigenvalues.size(), 1, "PCA eigenvalues");
  check_finite(mean.data(), mean.size(), 1, "PCA mean");
  set_matrix(std::move(A), std::move(b));
  eigenvalues_ = std::move(eigenvalues);
  mean_ = std::move(mean);
}

// ----------------------------------------------------------------- OPQMatrix

OPQMatrix::OPQMatrix(int d, int M, int d_out) : LinearTransform(d, d_out == -1 ? d : d_out, false), M_(M) {
  SEXTANT_CHECK(M > 0 && d_out_ % M == 0, "OPQ: the output dimension ", d_out_, " must be a multiple of M=", M);
}

void OPQMatrix::train_impl(idx_t n, const float* x) {
  const int din = d_in_, dout = d_out_;
  // Train on a sample.
  std::vector<float> sample;
  if (size_t(n) > max_train_points) {
    std::mt19937_64 rng(seed);
    std::vector<size_t> rows(n);
    for (size_t i = 0; i < rows.size(); i++) rows[i] = i;
    for (size_t i = 0; i < max_train_points; i++) std::swap(rows[i], rows[i + rng() % (n - i)]);
    rows.resize(max_train_points);
    std::sort(rows.begin(), rows.end());
    sample.resize(rows.size() * din);
    for (size_t i = 0; i < rows.size(); i++) std::memcpy(&sample[i * din], x + rows[i] * din, sizeof(float) * din);
    x = sample.data();
    n = idx_t(rows.size());
  }
  // The rotation does not depend on the scale of the data: large values are
  // scaled down by a power of two so that the cross-correlations (sums over n
  // rows) stay finite and the SVD sees a finite matrix.
  if (const int e = overflow_guard_exponent(x, size_t(n) * din, size_t(n)); e != 0) {
    if (sample.empty()) sample.assign(x, x + size_t(n) * din);
    for (float& v : sample) v = std::ldexp(v, e);
    x = sample.data();
  }
  std::vector<float> A = random_orthonormal(dout, din, seed);
  std::vector<float> projected(size_t(n) * dout), decoded(projected.size()), cross(size_t(dout) * din);
  std::vector<float> u(size_t(dout) * dout), s(std::min(dout, din)), vt(size_t(din) * din);
  std::vector<uint8_t> codes;
  for (int it = 0; it < niter; it++) {
    gemm_abt(n, dout, din, 1.0f, x, din, A.data(), din, 0.0f, projected.data(), dout);
    ProductQuantizer pq(dout, M_, 8);
    pq.train_params().niter = it == 0 ? niter_pq_0 : niter_pq;
    pq.train_params().seed = seed + it;
    pq.train(n, projected.data());
    codes.resize(size_t(n) * pq.code_size());
    pq.encode(n, projected.data(), codes.data());
    pq.decode(n, codes.data(), decoded.data());
    if (verbose) {
      double err = 0;
      for (size_t i = 0; i < projected.size(); i++) err += double(projected[i] - decoded[i]) * (projected[i] - decoded[i]);
      std::fprintf(stderr, "OPQ iteration %d: PQ reconstruction error %.6g\n", it, err / double(n));
    }
    // Orthogonal Procrustes: A = U V^T for decoded^T x = U S V^T maps x closest to its codes.
    std::vector<float> dt(size_t(dout) * n);
    for (idx_t i = 0; i < n; i++) {
      for (int j = 0; j < dout; j++) dt[size_t(j) * n + i] = decoded[i * dout + j];
    }
    std::vector<float> xt(size_t(din) * n);
    for (idx_t i = 0; i < n; i++) {
      for (int j = 0; j < din; j++) xt[size_t(j) * n + i] = x[i * din + j];
    }
    gemm_abt(dout, din, n, 1.0f, dt.data(), n, xt.data(), n, 0.0f, cross.data(), din);
    svd(dout, din, cross.data(), u.data(), s.data(), vt.data());
    gemm_ab(dout, din, dout, 1.0f, u.data(), dout, vt.data(), din, 0.0f, A.data(), din);
  }
  set_matrix(std::move(A), {});
}

// ----------------------------------------------------------------- NormalizationTransform

NormalizationTransform::NormalizationTransform(int d) : VectorTransform(d, d, true) {}

void NormalizationTransform::apply_impl(idx_t n, const float* x, float* out) const {
  std::memcpy(out, x, sizeof(float) * size_t(n) * d_in_);
  normalize_L2(out, n, d_in_);
}

void NormalizationTransform::reverse_impl(idx_t n, const float* xt, float* out) const {
  std::memcpy(out, xt, sizeof(float) * size_t(n) * d_in_);
}

}  // namespace sextant
