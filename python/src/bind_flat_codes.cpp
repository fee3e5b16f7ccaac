// Python bindings of the exhaustive indexes over codes: IndexScalarQuantizer,
// IndexPQ, IndexPQFastScan, IndexRaBitQ and IndexRaBitQFastScan.
#include <pybind11/pybind11.h>

#include "metric_type.h"
#include "numpy_args.h"
#include "sextant/IndexPQ.h"
#include "sextant/IndexPQFastScan.h"
#include "sextant/IndexRaBitQ.h"
#include "sextant/IndexRaBitQFastScan.h"
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

  py::class_<IndexRaBitQ, Index, std::shared_ptr<IndexRaBitQ>>(
      m, "IndexRaBitQ",
      "Exhaustive search over RaBitQ codes: nb_bits a dimension (factory RaBitQ<nb_bits>) and 8 bytes of factors "
      "a vector (20 with nb_bits > 1).")
      .def(py::init<int, MetricType, int>(), py::arg("d"), py::arg("metric") = MetricType::L2,
           py::arg("nb_bits") = 1)
      .def_property_readonly("nb_bits", [](const IndexRaBitQ& self) { return self.rabitq().nb_bits(); },
                             "Bits a dimension, 1 to 9.")
      .def_property("qb", &IndexRaBitQ::qb, &IndexRaBitQ::set_qb,
                    "Bits a query is quantised to, 0 to 8 (0: floats); 4 by default, as Faiss.")
      .def_property_readonly(
          "center", [](const IndexRaBitQ& self) { return py::array_t<float>(py::ssize_t(self.center().size()),
                                                                           self.center().data()); },
          "The centroid the codes are taken against (empty until trained).");

  py::class_<IndexRaBitQFastScan, Index, std::shared_ptr<IndexRaBitQFastScan>>(
      m, "IndexRaBitQFastScan", "IndexRaBitQ's codes in the fast-scan block layout (factory RaBitQfs[<nb_bits>]).")
      .def(py::init<int, MetricType, int>(), py::arg("d"), py::arg("metric") = MetricType::L2,
           py::arg("nb_bits") = 1)
      .def_property_readonly("nb_bits", [](const IndexRaBitQFastScan& self) { return self.rabitq().nb_bits(); },
                             "Bits a dimension, 1 to 9.")
      .def_property("qb", &IndexRaBitQFastScan::qb, &IndexRaBitQFastScan::set_qb,
                    "Bits the query's residual is rounded to before its table is built, 0 to 8 (0: floats); 8 by "
                    "default, as Faiss.")
      .def_property_readonly(
          "center",
          [](const IndexRaBitQFastScan& self) {
            return py::array_t<float>(py::ssize_t(self.center().size()), self.center().data());
          },
          "The centroid the codes are taken against (empty until trained).");
}

}  // namespace sextant::python
