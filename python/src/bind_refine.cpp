// Python bindings of re-ranking: IndexRefine and IndexRefineFlat.
#include <pybind11/pybind11.h>

#include "sextant/IndexRefine.h"

namespace sextant::python {

namespace py = pybind11;

void bind_refine(py::module_& m) {
  py::class_<IndexRefine, Index, std::shared_ptr<IndexRefine>>(
      m, "IndexRefine", "Re-ranks k * k_factor candidates of a base index with a more precise one.")
      .def(py::init<std::shared_ptr<Index>, std::shared_ptr<Index>>(), py::arg("base_index"), py::arg("refine_index"))
      .def_property_readonly("base_index", &IndexRefine::base)
      .def_property_readonly("refine_index", &IndexRefine::refine)
      .def_property("k_factor", &IndexRefine::k_factor, &IndexRefine::set_k_factor);
  py::class_<IndexRefineFlat, IndexRefine, std::shared_ptr<IndexRefineFlat>>(m, "IndexRefineFlat",
                                                                            "IndexRefine with exact re-ranking.")
      .def(py::init<std::shared_ptr<Index>>(), py::arg("base_index"));
}

}  // namespace sextant::python
