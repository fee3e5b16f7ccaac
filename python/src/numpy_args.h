// Turning Python arguments into the arrays the C++ API takes, with errors
// that name the argument and what was expected.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>

#include "metric_type.h"
#include "sextant/SearchParams.h"

namespace sextant::python {

namespace py = pybind11;

using FloatMatrix = py::array_t<float, py::array::c_style | py::array::forcecast>;
using IdArray = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

/// A C-contiguous float32 (n, d) array from any real numeric array-like
/// (converted when needed: other float widths, integers, strided views).
/// TypeError for other dtypes, ValueError for the wrong shape.
FloatMatrix as_matrix(py::handle obj, const char* name, std::optional<int64_t> d = std::nullopt);

/// A C-contiguous int64 1-D array of n ids (n < 0: any length). TypeError for non-integer dtypes.
IdArray as_ids(py::handle obj, const char* name, int64_t n = -1);

/// Search knobs from either params= (a SearchParams) or keyword arguments, not both.
SearchParams search_params(py::handle params, const py::kwargs& knobs);

}  // namespace sextant::python
