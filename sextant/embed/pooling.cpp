#include "sextant/embed/pooling.h"

#include <algorithm>
#include <cmath>

#include "sextant/base/Error.h"

namespace sextant::embed {

Pooling pooling_from_name(const std::string& name) {
  if (name == "none") return Pooling::none;
  if (name == "mean") return Pooling::mean;
  if (name == "cls") return Pooling::cls;
  if (name == "last") return Pooling::last;
  SEXTANT_FAIL("pooling must be one of none, mean, cls, last; got \"", name, "\"");
}

Matrix pool(const Matrix& states, const std::vector<size_t>& offsets, Pooling pooling) {
  SEXTANT_CHECK(pooling != Pooling::none, "pool() needs a pooling other than none");
  const size_t n = offsets.size() - 1, d = states.cols;
  Matrix out(n, d);
  for (size_t s = 0; s < n; s++) {
    const size_t begin = offsets[s], end = offsets[s + 1];
    SEXTANT_CHECK(end > begin, "sequence ", s, " has no tokens to pool");
    float* o = out.row(s);
    if (pooling == Pooling::cls) {
      std::copy_n(states.row(begin), d, o);
    } else if (pooling == Pooling::last) {
      std::copy_n(states.row(end - 1), d, o);
    } else {
      std::vector<double> sum(d, 0.0);
      for (size_t t = begin; t < end; t++) {
        const float* r = states.row(t);
        for (size_t j = 0; j < d; j++) sum[j] += r[j];
      }
      for (size_t j = 0; j < d; j++) o[j] = static_cast<float>(sum[j] / double(end - begin));
    }
  }
  return out;
}

void l2_normalize_rows(Matrix& x) {
  for (size_t r = 0; r < x.rows; r++) {
    float* row = x.row(r);
    double norm = 0;
    for (size_t j = 0; j < x.cols; j++) norm += double(row[j]) * row[j];
    if (norm == 0) continue;
    const float inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (size_t j = 0; j < x.cols; j++) row[j] *= inv;
  }
}

}  // namespace sextant::embed
