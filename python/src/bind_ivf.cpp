// Python bindings of k-means, the scalar quantizer and the IVF family.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "numpy_args.h"
#include "sextant/Clustering.h"
#include "sextant/IndexIVFFlat.h"
#include "sextant/IndexIVFScalarQuantizer.h"
#include "sextant/IndexScalarQuantizer.h"
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

py::array_t<uint8_t> sq_encode(const ScalarQuantizer& sq, py::handle x) {
  FloatMatrix xa = as_matrix(x, "x", static_cast<int64_t>(sq.d()));
  SEXTANT_CHECK(sq.is_trained(), "the scalar quantizer is not trained: call train() first");
  py::array_t<uint8_t> codes(std::vector<py::ssize_t>{xa.shape(0), static_cast<py::ssize_t>(sq.code_size())});
  py::gil_scoped_release release;
  check_finite(xa.data(), xa.shape(0), sq.d(), "x");
  sq.encode(xa.shape(0), xa.data(), codes.mutable_data());
  return codes;
}

py::array_t<float> sq_decode(const ScalarQuantizer& sq,
                             py::array_t<uint8_t, py::array::c_style | py::array::forcecast> codes) {
  const auto size = static_cast<py::ssize_t>(sq.code_size());
  SEXTANT_CHECK(codes.ndim() == 2 && codes.shape(1) == size, "codes must have shape (n, ", size, ")");
  SEXTANT_CHECK(sq.is_trained(), "the scalar quantizer is not trained: call train() first");
  py::array_t<float> out(std::vector<py::ssize_t>{codes.shape(0), static_cast<py::ssize_t>(sq.d())});
  py::gil_scoped_release release;
  sq.decode(codes.shape(0), codes.data(), out.mutable_data());
  return out;
}

}  // namespace

void bind_ivf(py::module_& m) {
  py::enum_<KMeansInit>(m, "KMeansInit")
      .value("random", KMeansInit::random)
      .value("kmeans_plus_plus", KMeansInit::kmeans_plus_plus);

  py::class_<KMeansParams>(m, "KMeansParams", "Parameters of k-means (Faiss's defaults).")
      .def(py::init<>())
      .def_readwrite("niter", &KMeansParams::niter)
      .def_readwrite("nredo", &KMeansParams::nredo)
      .def_readwrite("spherical", &KMeansParams::spherical)
      .def_readwrite("init", &KMeansParams::init)
      .def_readwrite("seed", &KMeansParams::seed)
      .def_readwrite("max_points_per_centroid", &KMeansParams::max_points_per_centroid)
      .def_readwrite("min_points_per_centroid", &KMeansParams::min_points_per_centroid)
      .def_readwrite("verbose", &KMeansParams::verbose);

  py::class_<Clustering>(m, "Clustering", "k-means; the assignment step is exact GEMM search or any index.")
      .def(py::init<int, int, const KMeansParams&, MetricType>(), py::arg("d"), py::arg("k"),
           py::arg("params") = KMeansParams(), py::arg("metric") = MetricType::L2)
      .def(
          "train",
          [](Clustering& self, py::handle x, Index* assigner) {
            FloatMatrix xt = as_matrix(x, "x", self.d());
            py::gil_scoped_release release;
            self.train(xt.shape(0), xt.data(), assigner);
          },
          py::arg("x"), py::arg("index") = nullptr,
          "Runs k-means on x; `index` (empty, dimension d) does the assignment step when given.")
      .def_property_readonly("d", &Clustering::d)
      .def_property_readonly("k", &Clustering::k)
      .def_property_readonly("centroids",
                             [](const Clustering& self) {
                               const auto& c = self.centroids();
                               py::array_t<float> out(std::vector<py::ssize_t>{
                                   static_cast<py::ssize_t>(c.size() / self.d()), self.d()});
                               std::copy(c.begin(), c.end(), out.mutable_data());
                               return out;
                             })
      .def_property_readonly("obj", [](const Clustering& self) {
        return py::array_t<float>(self.objective().size(), self.objective().data());
      });

  py::enum_<QuantizerType>(m, "QuantizerType")
      .value("QT_8bit", QuantizerType::QT_8bit)
      .value("QT_4bit", QuantizerType::QT_4bit)
      .value("QT_8bit_uniform", QuantizerType::QT_8bit_uniform)
      .value("QT_4bit_uniform", QuantizerType::QT_4bit_uniform)
      .value("QT_fp16", QuantizerType::QT_fp16)
      .value("QT_8bit_direct", QuantizerType::QT_8bit_direct)
      .value("QT_6bit", QuantizerType::QT_6bit)
      .value("QT_bf16", QuantizerType::QT_bf16)
      .value("QT_8bit_direct_signed", QuantizerType::QT_8bit_direct_signed);

  auto sq = py::class_<ScalarQuantizer>(m, "ScalarQuantizer", "Encodes each component on its own (8/6/4 bits, fp16, bf16).")
                .def(py::init<size_t, QuantizerType>(), py::arg("d"), py::arg("qtype"))
                .def_property_readonly("d", &ScalarQuantizer::d)
                .def_property_readonly("qtype", &ScalarQuantizer::type)
                .def_property_readonly("code_size", &ScalarQuantizer::code_size)
                .def_property_readonly("is_trained", &ScalarQuantizer::is_trained)
                .def_property_readonly("trained",
                                       [](const ScalarQuantizer& s) {
                                         return py::array_t<float>(s.trained().size(), s.trained().data());
                                       })
                .def(
                    "train",
                    [](ScalarQuantizer& self, py::handle x) {
                      FloatMatrix xt = as_matrix(x, "x", static_cast<int64_t>(self.d()));
                      py::gil_scoped_release release;
                      check_finite(xt.data(), xt.shape(0), self.d(), "x");
                      self.train(xt.shape(0), xt.data());
                    },
                    py::arg("x"))
                .def("compute_codes", &sq_encode, py::arg("x"), "Codes of (n, d) vectors as (n, code_size) uint8.")
                .def("decode", &sq_decode, py::arg("codes"));
  for (auto value : {QuantizerType::QT_8bit, QuantizerType::QT_4bit, QuantizerType::QT_8bit_uniform,
                     QuantizerType::QT_4bit_uniform, QuantizerType::QT_fp16, QuantizerType::QT_8bit_direct,
                     QuantizerType::QT_6bit, QuantizerType::QT_bf16, QuantizerType::QT_8bit_direct_signed}) {
    sq.attr(py::str(py::cast(value).attr("name"))) = value;  // sx.ScalarQuantizer.QT_8bit, as in Faiss
  }

  py::class_<IndexScalarQuantizer, Index, std::shared_ptr<IndexScalarQuantizer>>(
      m, "IndexScalarQuantizer", "Exhaustive search over scalar-quantised codes.")
      .def(py::init<int, QuantizerType, MetricType>(), py::arg("d"), py::arg("qtype"),
           py::arg("metric") = MetricType::L2)
      .def_property_readonly("sq",
                             static_cast<const ScalarQuantizer& (IndexScalarQuantizer::*)() const>(
                                 &IndexScalarQuantizer::sq),
                             py::return_value_policy::reference_internal);

  py::class_<IndexIVF, Index, std::shared_ptr<IndexIVF>>(m, "IndexIVF", R"doc(
Inverted-file index: a coarse quantizer picks the nprobe lists a query scans.
nprobe and max_codes are defaults; a call may override them (index.search(x, k, nprobe=16)).)doc")
      .def_property_readonly("nlist", &IndexIVF::nlist)
      .def_property_readonly("quantizer", &IndexIVF::quantizer)
      .def_property_readonly("code_size", &IndexIVF::code_size)
      .def_property_readonly("by_residual", &IndexIVF::by_residual)
      .def_property("nprobe", &IndexIVF::nprobe, &IndexIVF::set_nprobe)
      .def_property("max_codes", &IndexIVF::max_codes, &IndexIVF::set_max_codes)
      .def_property_readonly("cp", &IndexIVF::clustering_params, py::return_value_policy::reference_internal,
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
}

}  // namespace sextant::python
