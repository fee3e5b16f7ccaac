// The compiled module sextant._sextant; the package sextant re-exports it.
#include <pybind11/pybind11.h>

#include <cstring>

#include "sextant/base/Error.h"
#include "sextant/base/File.h"

namespace py = pybind11;

namespace sextant::python {
void bind_clustering(py::module_& m);
void bind_flat_codes(py::module_& m);
void bind_index(py::module_& m);
void bind_io(py::module_& m);
void bind_ivf(py::module_& m);
void bind_quantizers(py::module_& m);
void bind_refine(py::module_& m);
void bind_transforms(py::module_& m);
void bind_hnsw(py::module_& m);
void bind_search_params(py::module_& m);
void bind_shards(py::module_& m);
void bind_utils(py::module_& m);
#ifdef SEXTANT_WITH_EMBED
void bind_embed(py::module_& m);
#endif
#ifdef SEXTANT_WITH_GPU
void bind_gpu(py::module_& m);
#endif
}  // namespace sextant::python

namespace {
// An error's text as a str; bytes that are not UTF-8 (a file name) become U+FFFD.
py::str message(const std::exception& e) {
  return py::reinterpret_steal<py::str>(PyUnicode_DecodeUTF8(e.what(), std::strlen(e.what()), "replace"));
}
}  // namespace

PYBIND11_MODULE(_sextant, m) {
  m.doc() = "sextant: vector similarity search (compiled core)";
  // A broken precondition is a bad argument or a call out of order, or a bad
  // index file: ValueError, with the library's message. An operating-system
  // failure on a file (missing, unwritable, disk full): OSError with the path.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const sextant::FileError& e) {
      // OSError(errno, message, filename) makes the matching subclass (FileNotFoundError, ...).
      // Paths are bytes: the file name decodes as os.fsdecode does, the message never fails to.
      py::object filename = py::reinterpret_steal<py::object>(PyUnicode_DecodeFSDefaultAndSize(e.path().data(),
                                                                                               e.path().size()));
      py::object error = py::reinterpret_borrow<py::object>(PyExc_OSError)(e.error_number(), message(e), filename);
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())), error.ptr());
    } catch (const sextant::Error& e) {
      PyErr_SetObject(PyExc_ValueError, message(e).ptr());
    }
  });
  sextant::python::bind_search_params(m);
  sextant::python::bind_index(m);
  sextant::python::bind_utils(m);
  sextant::python::bind_clustering(m);
  sextant::python::bind_quantizers(m);  // after KMeansParams (ProductQuantizer.cp)
  // The indexes after the quantizers their sq/pq properties expose.
  sextant::python::bind_flat_codes(m);
  sextant::python::bind_ivf(m);
  sextant::python::bind_refine(m);
  sextant::python::bind_hnsw(m);
  sextant::python::bind_transforms(m);
  sextant::python::bind_shards(m);
  sextant::python::bind_io(m);
#ifdef SEXTANT_WITH_EMBED
  sextant::python::bind_embed(m);
#endif
#ifdef SEXTANT_WITH_GPU
  sextant::python::bind_gpu(m);
#endif
}
