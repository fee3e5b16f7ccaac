// The compiled module sextant._sextant; the package sextant re-exports it.
#include <pybind11/pybind11.h>

#include "sextant/utils/Error.h"

namespace py = pybind11;

namespace sextant::python {
void bind_index(py::module_& m);
void bind_hnsw(py::module_& m);
void bind_search_params(py::module_& m);
void bind_utils(py::module_& m);
}  // namespace sextant::python

PYBIND11_MODULE(_sextant, m) {
  m.doc() = "sextant: vector similarity search (compiled core)";
  // A broken precondition is a bad argument or a call out of order: ValueError, with the library's message.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const sextant::Error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });
  sextant::python::bind_search_params(m);
  sextant::python::bind_index(m);
  sextant::python::bind_hnsw(m);
  sextant::python::bind_utils(m);
}
