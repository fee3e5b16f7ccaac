// Python bindings of product quantization (IndexPQ, IndexIVFPQ) and re-ranking (IndexRefine).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "numpy_args.h"
#include "sextant/IndexIVFPQ.h"
#include "sextant/IndexIVFPQFastScan.h"
#include "sextant/IndexPQ.h"
#include "sextant/IndexPQFastScan.h"
#include "sextant/IndexRefine.h"
#include "sextant/base/Error.h"
#include "sextant/utils/validate.h"

namespace sextant::python {

namespace {

py::array_t<uint8_t> pq_encode(const ProductQuantizer& pq, py::handle x) {
  FloatMatrix xa = as_matrix(x, "x", static_cast<int64_t>(pq.d()));
  SEXTANT_CHECK(pq.is_trained(), "the product quantizer is not trained: call train() first");
  py::array_t<uint8_t> codes(std::vector<py::ssize_t>{xa.shape(0), static_cast<py::ssize_t>(pq.code_size())});
  py::gil_scoped_release release;
  check_finite(xa.data(), xa.shape(0), pq.d(), "x");
  pq.encode(xa.shape(0), xa.data(), codes.mutable_data());
  return codes;
}

py::array_t<float> pq_decode(const ProductQuantizer& pq,
                             py::array_t<uint8_t, py::array::c_style | py::array::forcecast> codes) {
  const auto size = static_cast<py::ssize_t>(pq.code_size());
  SEXTANT_CHECK(codes.ndim() == 2 && codes.shape(1) == size, "codes must have shape (n, ", size, ")");
  SEXTANT_CHECK(pq.is_trained(), "the product quantizer is not trained: call train() first");
  py::array_t<float> out(std::vector<py::ssize_t>{codes.shape(0), static_cast<py::ssize_t>(pq.d())});
  py::gil_scoped_release release;
  pq.decode(codes.shape(0), codes.data(), out.mutable_data());
  return out;
}

}  // namespace

void bind_pq(py::module_& m) {
  py::class_<ProductQuantizer>(m, "ProductQuantizer",
                               "M sub-quantizers of nbits each over d / M dimensional sub-vectors.")
      .def(py::init<size_t, size_t, size_t>(), py::arg("d"), py::arg("M"), py::arg("nbits") = 8)
      .def_property_readonly("d", &ProductQuantizer::d)
      .def_property_readonly("M", &ProductQuantizer::M)
      .def_property_readonly("nbits", &ProductQuantizer::nbits)
      .def_property_readonly("dsub", &ProductQuantizer::dsub)
      .def_property_readonly("ksub", &ProductQuantizer::ksub)
      .def_property_readonly("code_size", &ProductQuantizer::code_size)
      .def_property_readonly("is_trained", &ProductQuantizer::is_trained)
      .def_property_readonly("cp", static_cast<KMeansParams& (ProductQuantizer::*)()>(&ProductQuantizer::train_params),
                             py::return_value_policy::reference_internal, "k-means parameters of each subspace.")
      .def_property(
          "centroids",
          [](const ProductQuantizer& pq) {
            py::array_t<float> out(std::vector<py::ssize_t>{static_cast<py::ssize_t>(pq.M()),
                                                            static_cast<py::ssize_t>(pq.ksub()),
                                                            static_cast<py::ssize_t>(pq.dsub())});
            if (pq.is_trained()) std::copy(pq.centroids().begin(), pq.centroids().end(), out.mutable_data());
            return out;
          },
          [](ProductQuantizer& pq, py::array_t<float, py::array::c_style | py::array::forcecast> c) {
            SEXTANT_CHECK(c.size() == py::ssize_t(pq.M() * pq.ksub() * pq.dsub()), "centroids must have shape (",
                          pq.M(), ", ", pq.ksub(), ", ", pq.dsub(), ")");
            check_finite(c.data(), c.size(), 1, "centroids");
            pq.set_centroids(std::vector<float>(c.data(), c.data() + c.size()));
          },
          "(M, ksub, dsub) codebooks (settable, e.g. to load trained ones).")
      .def(
          "train",
          [](ProductQuantizer& self, py::handle x) {
            FloatMatrix xt = as_matrix(x, "x", static_cast<int64_t>(self.d()));
            py::gil_scoped_release release;
            check_finite(xt.data(), xt.shape(0), self.d(), "x");
            self.train(xt.shape(0), xt.data());
          },
          py::arg("x"))
      .def("compute_codes", &pq_encode, py::arg("x"))
      .def("decode", &pq_decode, py::arg("codes"))
      .def(
          "compute_distance_table",
          [](const ProductQuantizer& self, py::handle x, MetricType metric) {
            FloatMatrix xa = as_matrix(x, "x", static_cast<int64_t>(self.d()));
            SEXTANT_CHECK(xa.shape(0) == 1, "compute_distance_table takes one vector, shape (1, d)");
            SEXTANT_CHECK(self.is_trained(), "the product quantizer is not trained: call train() first");
            check_metric(metric);
            py::array_t<float> table(std::vector<py::ssize_t>{static_cast<py::ssize_t>(self.M()),
                                                              static_cast<py::ssize_t>(self.ksub())});
            self.compute_table(xa.data(), metric, table.mutable_data());
            return table;
          },
          py::arg("x"), py::arg("metric") = MetricType::L2, "(M, ksub) distances (or inner products) to the centroids.");

  py::class_<IndexPQ, Index, std::shared_ptr<IndexPQ>>(m, "IndexPQ", "Exhaustive search over PQ codes.")
      .def(py::init<int, size_t, size_t, MetricType>(), py::arg("d"), py::arg("M"), py::arg("nbits") = 8,
           py::arg("metric") = MetricType::L2)
      .def_property_readonly("pq", static_cast<ProductQuantizer& (IndexPQ::*)()>(&IndexPQ::pq),
                             py::return_value_policy::reference_internal);

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

  py::class_<IndexPQFastScan, Index, std::shared_ptr<IndexPQFastScan>>(
      m, "IndexPQFastScan", "4-bit PQ codes scanned 32 at a time with 8-bit look-up tables (fast-scan).")
      .def(py::init<int, size_t, MetricType>(), py::arg("d"), py::arg("M"), py::arg("metric") = MetricType::L2)
      .def_property_readonly("pq", static_cast<ProductQuantizer& (IndexPQFastScan::*)()>(&IndexPQFastScan::pq),
                             py::return_value_policy::reference_internal);

  py::class_<IndexIVFPQFastScan, IndexIVFPQ, std::shared_ptr<IndexIVFPQFastScan>>(
      m, "IndexIVFPQFastScan", "IVF with 4-bit PQ codes scanned by fast-scan.")
      .def(py::init<std::shared_ptr<Index>, int, size_t, size_t, MetricType, bool>(), py::arg("quantizer"),
           py::arg("d"), py::arg("nlist"), py::arg("M"), py::arg("metric") = MetricType::L2,
           py::arg("by_residual") = true);

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
