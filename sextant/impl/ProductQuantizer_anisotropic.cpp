// Score-aware (anisotropic) product quantization: see ProductQuantizer.h.
//
// With r = x - decode(code) and u the direction, the loss
//   eta |r_par|^2 + |r_perp|^2 = |r|^2 + w (r . u)^2,   w = (eta - 1) / |u|^2,
// couples the subspaces only through the sum of their parallel terms: with
// e[m][k] = |x_m - c_mk|^2 and p[m][k] = (x_m - c_mk) . u_m, a code (k_m) costs
//   sum_m e[m][k_m] + w (sum_m p[m][k_m])^2.
// Encoding starts from the nearest centroids and changes one sub-code at a
// time to the best given the others, until a pass changes nothing.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "sextant/base/Error.h"
#include "sextant/base/threads.h"
#include "sextant/impl/ProductQuantizer.h"
#include "sextant/utils/kernels.h"
#include "sextant/utils/validate.h"

namespace sextant {

namespace {

constexpr int kMaxPasses = 8;        // coordinate-descent passes per code (most codes settle in 2-3)
constexpr int kRefineIterations = 8; // codebook updates after k-means

}  // namespace

void ProductQuantizer::set_anisotropic_threshold(float threshold) {
  const double lowest = 1.0 / std::sqrt(double(d_));
  SEXTANT_CHECK(threshold == 0 || (threshold >= lowest * (1 - 1e-6) && threshold < 1),
                "the anisotropic threshold T must be 0 (off) or in [1/sqrt(d), 1) = [", lowest,
                ", 1) for d=", d_, ", got ", threshold);
  threshold_ = threshold;
}

double ProductQuantizer::anisotropic_eta() const {
  if (threshold_ == 0) return 1;
  const double t2 = double(threshold_) * threshold_;
  return std::max(1.0, double(d_ - 1) * t2 / (1 - t2));
}

namespace {

// w of the loss for direction u (0 for a zero direction: the loss is then |r|^2).
double parallel_weight(double eta, const float* u, size_t d) {
  double norm = 0;
  for (size_t i = 0; i < d; i++) norm += double(u[i]) * u[i];
  return norm > 0 ? (eta - 1) / norm : 0;
}

}  // namespace

double ProductQuantizer::loss(const float* x, const float* u, const uint8_t* code) const {
  std::vector<float> decoded(d_);
  decode(1, code, decoded.data());
  double squared = 0, parallel = 0;
  for (size_t i = 0; i < d_; i++) {
    const double r = double(x[i]) - decoded[i];
    squared += r * r;
    parallel += r * u[i];
  }
  return squared + parallel_weight(anisotropic_eta(), u, d_) * parallel * parallel;
}

void ProductQuantizer::encode_anisotropic(size_t n, const float* x, const float* directions, uint8_t* codes) const {
  const size_t cs = code_size();
  const double eta = anisotropic_eta();
  std::memset(codes, 0, n * cs);
  const Kernels& kern = kernels();
  ParallelErrors errors;
#pragma omp parallel if (n > 64)
  {
    std::vector<float> e, p, products;
    std::vector<uint32_t> sub;
    errors.run([&] {
      e.resize(M_ * ksub_);
      p.resize(M_ * ksub_);
      products.resize(ksub_);
      sub.resize(M_);
    });
#pragma omp for schedule(static)
    for (long i = 0; i < static_cast<long>(n); i++) errors.run([&] {
      const float* xi = x + size_t(i) * d_;
      const float* ui = directions + size_t(i) * d_;
      const double w = parallel_weight(eta, ui, d_);
      double sum_p = 0;
      for (size_t m = 0; m < M_; m++) {
        const float* xm = xi + m * dsub_;
        const float* um = ui + m * dsub_;
        const float* c = centroids_.data() + m * ksub_ * dsub_;
        const float xx = kern.inner_product(xm, xm, dsub_), xu = kern.inner_product(xm, um, dsub_);
        kern.inner_product_ny(xm, c, ksub_, dsub_, products.data());
        float* em = e.data() + m * ksub_;
        for (size_t k = 0; k < ksub_; k++) em[k] = xx - 2 * products[k] + norms_[m * ksub_ + k];
        // The direction is usually the vector itself: its products with the centroids are known.
        if (um != xm) kern.inner_product_ny(um, c, ksub_, dsub_, products.data());
        float* pm = p.data() + m * ksub_;
        for (size_t k = 0; k < ksub_; k++) pm[k] = xu - products[k];
        sub[m] = uint32_t(std::min_element(em, em + ksub_) - em);
        sum_p += pm[sub[m]];
      }
      for (int pass = 0; pass < kMaxPasses && w != 0; pass++) {
        bool changed = false;
        for (size_t m = 0; m < M_; m++) {
          const float* em = e.data() + m * ksub_;
          const float* pm = p.data() + m * ksub_;
          const double others = sum_p - pm[sub[m]];
          uint32_t best = sub[m];
          double best_loss = em[best] + w * (others + pm[best]) * (others + pm[best]);
          for (size_t k = 0; k < ksub_; k++) {
            const double loss = em[k] + w * (others + pm[k]) * (others + pm[k]);
            if (loss < best_loss) best_loss = loss, best = uint32_t(k);
          }
          if (best != sub[m]) {
            sum_p = others + pm[best];
            sub[m] = best;
            changed = true;
          }
        }
        if (!changed) break;
      }
      pack(sub.data(), codes + size_t(i) * cs);
    });
  }
  errors.rethrow();
}

namespace {

// Solves a x = b for the symmetric positive definite n x n matrix a (Cholesky,
// in place); false when a is not positive definite.
bool solve_spd(size_t n, std::vector<double>& a, std::vector<double>& b) {
  for (size_t j = 0; j < n; j++) {
    double diag = a[j * n + j];
    for (size_t k = 0; k < j; k++) diag -= a[j * n + k] * a[j * n + k];
    if (!(diag > 0)) return false;
    a[j * n + j] = std::sqrt(diag);
    for (size_t i = j + 1; i < n; i++) {
      double v = a[i * n + j];
      for (size_t k = 0; k < j; k++) v -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = v / a[j * n + j];
    }
  }
  for (size_t i = 0; i < n; i++) {  // L y = b
    for (size_t k = 0; k < i; k++) b[i] -= a[i * n + k] * b[k];
    b[i] /= a[i * n + i];
  }
  for (size_t i = n; i-- > 0;) {  // L^T x = y
    for (size_t k = i + 1; k < n; k++) b[i] -= a[k * n + i] * b[k];
    b[i] /= a[i * n + i];
  }
  return true;
}

}  // namespace

// Given the codes, each centroid c of subspace m minimises, over the vectors i
// coded with it, |x_im - c|^2 + w_i (P_i + (x_im - c) . u_im)^2, P_i the
// parallel terms of i's other subspaces: the dsub x dsub system
//   sum_i (I + w_i u u^T) c = sum_i (x_im + w_i u (x_im . u + P_i)),  u = u_im.
// eta >= 1 makes it positive definite; a centroid no vector uses is kept.
void ProductQuantizer::refine_anisotropic(size_t n, const float* x, const float* directions) {
  const double eta = anisotropic_eta();
  const size_t cs = code_size();
  std::vector<uint8_t> codes(n * cs);
  std::vector<double> weights(n), sum_p(n);
  for (size_t i = 0; i < n; i++) weights[i] = parallel_weight(eta, directions + i * d_, d_);
  for (int iteration = 0; iteration < kRefineIterations; iteration++) {
    encode_anisotropic(n, x, directions, codes.data());
    std::vector<float> centroids = centroids_;
    for (size_t i = 0; i < n; i++) {  // (x_i - decode_i) . u_i over all subspaces
      double s = 0;
      for (size_t m = 0; m < M_; m++) {
        const float* c = centroids_.data() + (m * ksub_ + code_at(codes.data() + i * cs, m)) * dsub_;
        const float* xm = x + i * d_ + m * dsub_;
        const float* um = directions + i * d_ + m * dsub_;
        for (size_t j = 0; j < dsub_; j++) s += (double(xm[j]) - c[j]) * um[j];
      }
      sum_p[i] = s;
    }
    ParallelErrors errors;
#pragma omp parallel for schedule(dynamic) if (M_ > 1)
    for (long m = 0; m < static_cast<long>(M_); m++) errors.run([&] {
      std::vector<double> a(ksub_ * dsub_ * dsub_, 0.0), b(ksub_ * dsub_, 0.0);
      std::vector<size_t> count(ksub_, 0);
      for (size_t i = 0; i < n; i++) {
        const uint32_t k = code_at(codes.data() + i * cs, size_t(m));
        const float* xm = x + i * d_ + m * dsub_;
        const float* um = directions + i * d_ + m * dsub_;
        const float* c = centroids_.data() + (m * ksub_ + k) * dsub_;
        double xu = 0, own = 0;
        for (size_t j = 0; j < dsub_; j++) {
          xu += double(xm[j]) * um[j];
          own += (double(xm[j]) - c[j]) * um[j];
        }
        const double w = weights[i], others = sum_p[i] - own;
        double* ak = a.data() + k * dsub_ * dsub_;
        double* bk = b.data() + k * dsub_;
        for (size_t r = 0; r < dsub_; r++) {
          for (size_t s = 0; s < dsub_; s++) ak[r * dsub_ + s] += w * um[r] * um[s];
          ak[r * dsub_ + r] += 1;
          bk[r] += xm[r] + w * um[r] * (xu + others);
        }
        count[k]++;
      }
      for (size_t k = 0; k < ksub_; k++) {
        if (count[k] == 0) continue;
        std::vector<double> ak(a.begin() + k * dsub_ * dsub_, a.begin() + (k + 1) * dsub_ * dsub_);
        std::vector<double> bk(b.begin() + k * dsub_, b.begin() + (k + 1) * dsub_);
        if (!solve_spd(dsub_, ak, bk)) continue;
        for (size_t j = 0; j < dsub_; j++) centroids[(m * ksub_ + k) * dsub_ + j] = float(bk[j]);
      }
    });
    errors.rethrow();
    check_finite(centroids.data(), centroids.size(), 1, "anisotropic product quantizer centroids");
    adopt(std::move(centroids));
  }
}

}  // namespace sextant
