// MetricType in Python: sextant.MetricType is an enum.IntEnum (made by
// bind_index), so a metric compares equal to Faiss's plain ints
// (METRIC_INNER_PRODUCT == 0) and any integer converts to one (IndexFlat(d, 1)
// is L2). Every function that takes a metric checks its value (check_metric).
// Every binding file that names MetricType includes this header (directly or
// through numpy_args.h), so that all use this caster: one that does not fails
// when the module is imported or the function called.
#pragma once

#include <pybind11/pybind11.h>

#include <climits>

#include "sextant/MetricType.h"

namespace sextant::python {

/// The Python class sextant.MetricType, set once by bind_index (a strong
/// reference kept for the life of the process).
inline PyObject*& metric_type_class() {
  static PyObject* cls = nullptr;
  return cls;
}

}  // namespace sextant::python

namespace pybind11::detail {

template <>
class type_caster<sextant::MetricType> {
 public:
  PYBIND11_TYPE_CASTER(sextant::MetricType, const_name("MetricType"));

  bool load(handle src, bool convert) {
    if (PyBool_Check(src.ptr()) || !(PyLong_Check(src.ptr()) || (convert && PyIndex_Check(src.ptr())))) return false;
    object number = reinterpret_steal<object>(PyNumber_Index(src.ptr()));
    if (!number) {
      PyErr_Clear();
      return false;
    }
    int overflow = 0;
    const long v = PyLong_AsLongAndOverflow(number.ptr(), &overflow);
    // Out-of-range values become an invalid metric, which check_metric reports.
    value = static_cast<sextant::MetricType>(overflow != 0 || v < INT_MIN || v > INT_MAX ? -1 : int(v));
    return true;
  }

  static handle cast(sextant::MetricType metric, return_value_policy, handle) {
    PyObject* cls = sextant::python::metric_type_class();
    if (cls == nullptr) return PyLong_FromLong(static_cast<long>(metric));  // before bind_index made the class
    return handle(cls)(static_cast<int>(metric)).release();
  }
};

}  // namespace pybind11::detail
