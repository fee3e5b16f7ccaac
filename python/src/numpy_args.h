// Turning Python arguments into the arrays the C++ API takes, with errors
// that name the argument and what was expected.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "metric_type.h"
#include "sextant/SearchParams.h"
#include "sextant/base/Error.h"

namespace sextant::python {

namespace py = pybind11;

using FloatMatrix = py::array_t<float, py::array::c_style | py::array::forcecast>;
using IdArray = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

/// "(2, 4611686018427387904)"
std::string format_shape(std::initializer_list<int64_t> shape);

/// A C-contiguous float32 (n, d) array from any real numeric array-like
/// (converted when needed: other float widths, integers, strided views).
/// TypeError for other dtypes, ValueError for the wrong shape.
FloatMatrix as_matrix(py::handle obj, const char* name, std::optional<int64_t> d = std::nullopt);

/// A C-contiguous int64 1-D array of n ids (n < 0: any length). TypeError for non-integer dtypes.
IdArray as_ids(py::handle obj, const char* name, int64_t n = -1);

/// A new C-contiguous array of the given shape for results. ValueError when
/// its size in bytes does not fit in memory's address range (k = 2^62, say),
/// before anything computes the size with an overflow.
template <class T>
py::array_t<T> result_array(std::initializer_list<int64_t> shape) {
  int64_t bytes = sizeof(T);
  for (int64_t extent : shape) {
    SEXTANT_CHECK(extent >= 0 && !__builtin_mul_overflow(bytes, extent, &bytes), "the result (shape ",
                  format_shape(shape), ") is too large to allocate");
  }
  return py::array_t<T>(std::vector<py::ssize_t>(shape.begin(), shape.end()));
}

/// Search knobs from either params= (a SearchParams) or keyword arguments, not both.
SearchParams search_params(py::handle params, const py::kwargs& knobs);

}  // namespace sextant::python
