// The compiled module sextant._sextant; the package sextant re-exports it.
#include <pybind11/pybind11.h>

#include "sextant/utils/Error.h"

namespace py = pybind11;

namespace sextant::python {
void bind_index(py::module_& m);
void bind_ivf(py::module_& m);
void bind_pq(py::module_& m);
void bind_transforms(py::module_& m);
void bind_search_params(py::module_& m);
void bind_utils(py::module_& m);
#ifdef SEXTANT_WITH_EMBED
void bind_embed(py::module_& m);
#endif
#ifdef SEXTANT_WITH_GPU
void bind_gpu(py::module_& m);
#endif
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
  sextant::python::bind_utils(m);
  sextant::python::bind_ivf(m);
  sextant::python::bind_pq(m);
  sextant::python::bind_transforms(m);
#ifdef SEXTANT_WITH_EMBED
  sextant::python::bind_embed(m);
#endif
#ifdef SEXTANT_WITH_GPU
  sextant::python::bind_gpu(m);
#endif
}
