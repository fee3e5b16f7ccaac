// Python bindings of the exhaustive indexes over codes: IndexScalarQuantizer,
// IndexPQ and IndexPQFastScan.
#include <pybind11/pybind11.h>

#include "metric_type.h"
#include "sextant/IndexPQ.h"
#include "sextant/IndexPQFastScan.h"
#include "sextant/IndexScalarQuantizer.h"

namespace sextant::python {

namespace py = pybind11;

void bind_flat_codes(py::module_& m) {
  py::class_<IndexScalarQuantizer, Index, std::shared_ptr<IndexScalarQuantizer>>(
      m, "IndexScalarQuantizer", "Exhaustive search over scalar-quantised codes.")
      .def(py::init<int, QuantizerType, MetricType>(), py::arg("d"), py::arg("qtype"),
           py::arg("metric") = MetricType::L2)
      .def_property_readonly("sq",
                             static_cast<const ScalarQuantizer& (IndexScalarQuantizer::*)() const>(
                                 &IndexScalarQuantizer::sq),
                             py::return_value_policy::reference_internal);

  py::class_<IndexPQ, Index, std::shared_ptr<IndexPQ>>(m, "IndexPQ", "Exhaustive search over PQ codes.")
      .def(py::init<int, size_t, size_t, MetricType>(), py::arg("d"), py::arg("M"), py::arg("nbits") = 8,
           py::arg("metric") = MetricType::L2)
      .def_property_readonly("pq", static_cast<ProductQuantizer& (IndexPQ::*)()>(&IndexPQ::pq),
                             py::return_value_policy::reference_internal);

  py::class_<IndexPQFastScan, Index, std::shared_ptr<IndexPQFastScan>>(
      m, "IndexPQFastScan", "4-bit PQ codes scanned 32 at a time with 8-bit look-up tables (fast-scan).")
      .def(py::init<int, size_t, MetricType>(), py::arg("d"), py::arg("M"), py::arg("metric") = MetricType::L2)
      .def_property_readonly("pq", static_cast<ProductQuantizer& (IndexPQFastScan::*)()>(&IndexPQFastScan::pq),
                             py::return_value_policy::reference_internal);
}

}  // namespace sextant::python
