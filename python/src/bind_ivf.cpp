// Python bindings of the inverted-file indexes: IndexIVF and its Flat, SQ, RaBitQ, PQ
// and PQ fast-scan variants.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "numpy_args.h"
#include "sextant/IndexIVFFlat.h"
#include "sextant/IndexIVFPQ.h"
#include "sextant/IndexIVFPQFastScan.h"
#include "sextant/IndexIVFRaBitQ.h"
#include "sextant/IndexIVFRaBitQFastScan.h"
#include "sextant/IndexIVFScalarQuantizer.h"
#include "sextant/base/Error.h"
#include "sextant/utils/validate.h"

namespace sextant::python {

namespace {

DirectMapType direct_map_type(py::handle what) {
  if (py::isinstance<py::bool_>(what)) return what.cast<bool>() ? DirectMapType::array : DirectMapType::none;
  const std::string name = py::str(what);
  if (name == "array") return DirectMapType::array;
  if (name == "hashtable") return DirectMapType::hashtable;
  if (name == "none") return DirectMapType::none;
  throw py::value_error("direct map type must be True/False or 'array', 'hashtable', 'none'; got '" + name + "'");
}

}  // namespace

void bind_ivf(py::module_& m) {
  py::class_<IndexIVF, Index, std::shared_ptr<IndexIVF>>(m, "IndexIVF", R"doc(
Inverted-file index: a coarse quantizer picks the nprobe lists a query scans.
nprobe and max_codes are defaults; a call may override them (index.search(x, k, nprobe=16)).)doc")
      .def_property_readonly("nlist", &IndexIVF::nlist)
      .def_property_readonly("quantizer", &IndexIVF::quantizer)
      .def_property_readonly("code_size", &IndexIVF::code_size)
      .def_property_readonly("by_residual", &IndexIVF::by_residual)
      .def_property("nprobe", &IndexIVF::nprobe, &IndexIVF::set_nprobe)
      .def_property("max_codes", &IndexIVF::max_codes, &IndexIVF::set_max_codes)
      .def_property_readonly("cp", static_cast<KMeansParams& (IndexIVF::*)()>(&IndexIVF::clustering_params),
                             py::return_value_policy::reference_internal,
                             "k-means parameters used by train() (niter=10 by default).")
      .def("list_size", [](const IndexIVF& self, size_t list) {
        SEXTANT_CHECK(list < self.nlist(), "list ", list, " does not exist: nlist is ", self.nlist());
        return self.invlists().list_size(list);
      }, py::arg("list"))
      .def("list_ids", [](const IndexIVF& self, size_t list) {
        SEXTANT_CHECK(list < self.nlist(), "list ", list, " does not exist: nlist is ", self.nlist());
        return py::array_t<int64_t>(self.invlists().list_size(list), self.invlists().ids(list));
      }, py::arg("list"))
      .def("imbalance_factor", [](const IndexIVF& self) { return self.invlists().imbalance_factor(); })
      .def("make_direct_map", [](IndexIVF& self, py::handle type) { self.make_direct_map(direct_map_type(type)); },
           py::arg("type") = true, "Enables reconstruct() by id: True/'array' (ids 0..n-1), 'hashtable', False/'none'.")
      .def("assign", [](const IndexIVF& self, py::handle x) {
        FloatMatrix xa = as_matrix(x, "x", self.d());
        py::array_t<int64_t> lists(xa.shape(0));
        py::gil_scoped_release release;
        check_finite(xa.data(), xa.shape(0), self.d(), "x");
        self.assign_lists(xa.shape(0), xa.data(), lists.mutable_data());
        return lists;
      }, py::arg("x"), "The inverted list of each vector.");

  py::class_<IndexIVFFlat, IndexIVF, std::shared_ptr<IndexIVFFlat>>(m, "IndexIVFFlat")
      .def(py::init<std::shared_ptr<Index>, int, size_t, MetricType>(), py::arg("quantizer"), py::arg("d"),
           py::arg("nlist"), py::arg("metric") = MetricType::L2);
  py::class_<IndexIVFScalarQuantizer, IndexIVF, std::shared_ptr<IndexIVFScalarQuantizer>>(m, "IndexIVFScalarQuantizer")
      .def(py::init<std::shared_ptr<Index>, int, size_t, QuantizerType, MetricType, bool>(), py::arg("quantizer"),
           py::arg("d"), py::arg("nlist"), py::arg("qtype"), py::arg("metric") = MetricType::L2,
           py::arg("by_residual") = true)
      .def_property_readonly("sq",
                             static_cast<const ScalarQuantizer& (IndexIVFScalarQuantizer::*)() const>(
                                 &IndexIVFScalarQuantizer::sq),
                             py::return_value_policy::reference_internal);

  py::class_<IndexIVFRaBitQ, IndexIVF, std::shared_ptr<IndexIVFRaBitQ>>(
      m, "IndexIVFRaBitQ",
      "IVF with RaBitQ codes of nb_bits a dimension (factory IVF<nlist>,RaBitQ<nb_bits>) taken against the list "
      "centroids.")
      .def(py::init<std::shared_ptr<Index>, int, size_t, MetricType, int>(), py::arg("quantizer"), py::arg("d"),
           py::arg("nlist"), py::arg("metric") = MetricType::L2, py::arg("nb_bits") = 1)
      .def_property_readonly("nb_bits", [](const IndexIVFRaBitQ& self) { return self.rabitq().nb_bits(); },
                             "Bits a dimension, 1 to 9.")
      .def_property("qb", &IndexIVFRaBitQ::qb, &IndexIVFRaBitQ::set_qb,
                    "Bits a query is quantised to, 0 to 8 (0: floats); 4 by default, as Faiss.");

  py::class_<IndexIVFRaBitQFastScan, IndexIVFRaBitQ, std::shared_ptr<IndexIVFRaBitQFastScan>>(
      m, "IndexIVFRaBitQFastScan",
      "IndexIVFRaBitQ with lists in the fast-scan block layout (factory IVF<nlist>,RaBitQfs[<nb_bits>]); qb 8 by "
      "default, as Faiss.")
      .def(py::init<std::shared_ptr<Index>, int, size_t, MetricType, int>(), py::arg("quantizer"), py::arg("d"),
           py::arg("nlist"), py::arg("metric") = MetricType::L2, py::arg("nb_bits") = 1);

  py::class_<IndexIVFPQ, IndexIVF, std::shared_ptr<IndexIVFPQ>>(m, "IndexIVFPQ",
                                                               "IVF with PQ codes of the residuals.")
      .def(py::init<std::shared_ptr<Index>, int, size_t, size_t, size_t, MetricType, bool>(), py::arg("quantizer"),
           py::arg("d"), py::arg("nlist"), py::arg("M"), py::arg("nbits") = 8, py::arg("metric") = MetricType::L2,
           py::arg("by_residual") = true)
      .def_property_readonly("pq", static_cast<ProductQuantizer& (IndexIVFPQ::*)()>(&IndexIVFPQ::pq),
                             py::return_value_policy::reference_internal)
      .def_property("use_precomputed_table", &IndexIVFPQ::uses_precomputed_table,
                    &IndexIVFPQ::set_use_precomputed_table,
                    "Whether the per-list L2 term table is used (built when it fits 2 GiB).");

  py::class_<IndexIVFPQFastScan, IndexIVFPQ, std::shared_ptr<IndexIVFPQFastScan>>(
      m, "IndexIVFPQFastScan", "IVF with 4-bit PQ codes scanned by fast-scan.")
      .def(py::init<std::shared_ptr<Index>, int, size_t, size_t, MetricType, bool>(), py::arg("quantizer"),
           py::arg("d"), py::arg("nlist"), py::arg("M"), py::arg("metric") = MetricType::L2,
           py::arg("by_residual") = true);
}

}  // namespace sextant::python
