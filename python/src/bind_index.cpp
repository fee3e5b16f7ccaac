// Python bindings of the Index contract and the indexes of the core library.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "numpy_args.h"
#include "sextant/IndexFlat.h"
#include "sextant/IndexIDMap.h"
#include "sextant/base/Error.h"
#include "sextant/index_factory.h"

namespace sextant::python {

namespace {

py::tuple search(const Index& index, py::handle x, int64_t k, py::handle params, const py::kwargs& knobs) {
  SEXTANT_CHECK(k > 0, "k must be > 0, got ", k);
  FloatMatrix xq = as_matrix(x, "x", index.d());
  SearchParams p = search_params(params, knobs);
  const int64_t n = xq.shape(0);
  auto distances = result_array<float>({n, k});
  auto labels = result_array<int64_t>({n, k});
  {
    py::gil_scoped_release release;
    index.search(n, xq.data(), k, distances.mutable_data(), labels.mutable_data(), p);
  }
  return py::make_tuple(distances, labels);
}

py::tuple range_search(const Index& index, py::handle x, float radius, py::handle params, const py::kwargs& knobs) {
  FloatMatrix xq = as_matrix(x, "x", index.d());
  SearchParams p = search_params(params, knobs);
  RangeSearchResult r;
  {
    py::gil_scoped_release release;
    r = index.range_search(xq.shape(0), xq.data(), radius, p);
  }
  py::array_t<int64_t> lims(r.lims.size());
  std::copy(r.lims.begin(), r.lims.end(), lims.mutable_data());
  return py::make_tuple(lims, py::array_t<float>(r.distances.size(), r.distances.data()),
                        py::array_t<int64_t>(r.labels.size(), r.labels.data()));
}

size_t remove_ids(Index& index, py::handle what) {
  if (py::isinstance<IDSelector>(what)) return index.remove_ids(what.cast<const IDSelector&>());
  IdArray ids = as_ids(what, "ids");
  IDSelectorBatch sel(ids.shape(0), ids.data());
  py::gil_scoped_release release;
  return index.remove_ids(sel);
}

std::string repr(const Index& index) {
  return "<sextant." + index.type_name() + " d=" + std::to_string(index.d()) + " metric=" +
         metric_name(index.metric()) + " ntotal=" + std::to_string(index.ntotal()) +
         (index.is_trained() ? "" : " untrained") + ">";
}

}  // namespace

void bind_index(py::module_& m) {
  // An IntEnum with Faiss's values (metric_type.h): METRIC_INNER_PRODUCT == 0, METRIC_L2 == 1.
  py::list members;
  members.append(py::make_tuple("METRIC_INNER_PRODUCT", int(MetricType::INNER_PRODUCT)));
  members.append(py::make_tuple("METRIC_L2", int(MetricType::L2)));
  py::object metric_type =
      py::module_::import("enum").attr("IntEnum")("MetricType", members, py::arg("module") = m.attr("__name__"));
  metric_type.attr("__doc__") = "The two metrics: METRIC_L2 (1, squared L2 distance) and METRIC_INNER_PRODUCT (0).";
  metric_type_class() = metric_type.inc_ref().ptr();
  m.attr("MetricType") = metric_type;
  m.attr("METRIC_INNER_PRODUCT") = metric_type.attr("METRIC_INNER_PRODUCT");
  m.attr("METRIC_L2") = metric_type.attr("METRIC_L2");


  py::class_<Index, std::shared_ptr<Index>>(m, "Index", R"doc(
The contract every index obeys. Vectors are float32 arrays of shape (n, d)
(other real dtypes are converted); searches never modify the index, and knobs
travel per call: index.search(xq, k, nprobe=16) or
index.search(xq, k, params=SearchParams(nprobe=16)).)doc")
      .def_property_readonly("d", &Index::d, "Vector dimension.")
      .def_property_readonly("ntotal", &Index::ntotal, "Number of vectors stored.")
      .def_property_readonly("is_trained", &Index::is_trained)
      .def_property_readonly("metric_type", &Index::metric)
      .def_property_readonly("type_name", &Index::type_name)
      .def("__repr__", &repr)
      .def(
          "train",
          [](Index& self, py::handle x) {
            FloatMatrix xt = as_matrix(x, "x", self.d());
            py::gil_scoped_release release;
            self.train(xt.shape(0), xt.data());
          },
          py::arg("x"), "Learns what the index needs from the (n, d) training vectors.")
      .def(
          "add",
          [](Index& self, py::handle x) {
            FloatMatrix xa = as_matrix(x, "x", self.d());
            py::gil_scoped_release release;
            self.add(xa.shape(0), xa.data());
          },
          py::arg("x"), "Adds (n, d) vectors with ids ntotal .. ntotal + n - 1.")
      .def(
          "add_with_ids",
          [](Index& self, py::handle x, py::handle ids) {
            FloatMatrix xa = as_matrix(x, "x", self.d());
            IdArray ia = as_ids(ids, "ids", xa.shape(0));
            py::gil_scoped_release release;
            self.add_with_ids(xa.shape(0), xa.data(), ia.data());
          },
          py::arg("x"), py::arg("ids"), "Adds (n, d) vectors with the given int64 ids.")
      .def("search", &search, py::arg("x"), py::arg("k"), py::kw_only(), py::arg("params") = py::none(),
           "Returns (D, I): the distances and ids of the k nearest neighbours of each query, best first.\n"
           "Missing results have id -1. Knobs: params=SearchParams(...) or keywords (nprobe=..., sel=...).")
      .def("range_search", &range_search, py::arg("x"), py::arg("radius"), py::kw_only(),
           py::arg("params") = py::none(),
           "Returns (lims, D, I): the hits of query i are D[lims[i]:lims[i+1]], I[lims[i]:lims[i+1]], best first.\n"
           "L2: distance < radius; inner product: similarity > radius.")
      .def(
          "search_and_reconstruct",
          [](const Index& self, py::handle x, int64_t k, py::handle params, const py::kwargs& knobs) {
            SEXTANT_CHECK(k > 0, "k must be > 0, got ", k);
            FloatMatrix xq = as_matrix(x, "x", self.d());
            SearchParams p = search_params(params, knobs);
            const int64_t n = xq.shape(0);
            auto distances = result_array<float>({n, k});
            auto labels = result_array<int64_t>({n, k});
            auto recons = result_array<float>({n, k, self.d()});
            {
              py::gil_scoped_release release;
              self.search_and_reconstruct(n, xq.data(), k, distances.mutable_data(), labels.mutable_data(),
                                          recons.mutable_data(), p);
            }
            return py::make_tuple(distances, labels, recons);
          },
          py::arg("x"), py::arg("k"), py::kw_only(), py::arg("params") = py::none(),
          "Returns (D, I, R) where R[i, j] is the stored vector of result I[i, j] (NaN where I is -1).")
      .def(
          "reconstruct",
          [](const Index& self, int64_t key) {
            auto out = result_array<float>({self.d()});
            self.reconstruct(key, out.mutable_data());
            return out;
          },
          py::arg("key"), "The stored vector with id key.")
      .def(
          "reconstruct_n",
          [](const Index& self, int64_t i0, std::optional<int64_t> n) {
            int64_t count = n.value_or(self.ntotal() - i0);
            SEXTANT_CHECK(count >= 0, "n must be >= 0, got ", count);
            auto out = result_array<float>({count, self.d()});
            py::gil_scoped_release release;
            self.reconstruct_n(i0, count, out.mutable_data());
            return out;
          },
          py::arg("i0") = 0, py::arg("n") = py::none(), "Stored vectors with ids i0 .. i0 + n - 1 (default: to the end).")
      .def_property_readonly("has_error_bounds", &Index::has_error_bounds,
                             "Whether search() returns estimates with a known error bound (RaBitQ).")
      .def(
          "error_bounds",
          [](const Index& self, py::handle x, py::handle ids) {
            FloatMatrix xq = as_matrix(x, "x", self.d());
            SEXTANT_CHECK(xq.shape(0) == 1, "x must hold one query, got ", xq.shape(0));
            IdArray idv = as_ids(ids, "ids");
            auto out = result_array<float>({idv.shape(0)});
            self.error_bounds(xq.data(), idv.data(), size_t(idv.shape(0)), out.mutable_data());
            return out;
          },
          py::arg("x"), py::arg("ids"),
          "Bounds on |estimate - exact distance| for the stored vectors ids, given one query x (1, d).")
      .def("sa_code_size", &Index::sa_code_size, "Bytes per standalone code.")
      .def(
          "sa_encode",
          [](const Index& self, py::handle x) {
            FloatMatrix xa = as_matrix(x, "x", self.d());
            const int64_t n = xa.shape(0);
            auto codes = result_array<uint8_t>({n, static_cast<py::ssize_t>(self.sa_code_size())});
            py::gil_scoped_release release;
            self.sa_encode(n, xa.data(), codes.mutable_data());
            return codes;
          },
          py::arg("x"), "Standalone codes of (n, d) vectors, as a (n, sa_code_size()) uint8 array.")
      .def(
          "sa_decode",
          [](const Index& self, py::array_t<uint8_t, py::array::c_style | py::array::forcecast> codes) {
            const auto size = static_cast<py::ssize_t>(self.sa_code_size());
            SEXTANT_CHECK(codes.ndim() == 2 && codes.shape(1) == size, "codes must have shape (n, ", size, ")");
            const int64_t n = codes.shape(0);
            auto out = result_array<float>({n, self.d()});
            py::gil_scoped_release release;
            self.sa_decode(n, codes.data(), out.mutable_data());
            return out;
          },
          py::arg("codes"), "Vectors decoded from (n, sa_code_size()) uint8 codes.")
      .def("remove_ids", &remove_ids, py::arg("sel"),
           "Removes the vectors whose ids an IDSelector (or an array of ids) selects; returns how many.")
      .def("reset", &Index::reset, "Removes every vector (training is kept).")
      .def(
          "merge_from",
          [](Index& self, Index& other, int64_t add_id) {
            py::gil_scoped_release release;
            self.merge_from(other, add_id);
          },
          py::arg("other"), py::arg("add_id") = 0, R"doc(
Moves every vector of `other` into this index; `other` ends empty. Both must have
the same type, parameters and training (parts of one trained index). IVF and IDMap
keep the other's ids, plus add_id; Flat, PQ, SQ and Refine append the other's
vectors after their own, ids ntotal.. (add_id 0, or ntotal: the same ids). Parts
merged in order, each with add_id = the number of vectors before it, keep their
ids in the whole collection. HNSW graphs cannot be merged.)doc");

  py::class_<IndexFlat, Index, std::shared_ptr<IndexFlat>>(m, "IndexFlat",
                                                           "Exact search over vectors stored as they are.")
      .def(py::init<int, MetricType>(), py::arg("d"), py::arg("metric") = MetricType::L2);
  py::class_<IndexFlatL2, IndexFlat, std::shared_ptr<IndexFlatL2>>(m, "IndexFlatL2")
      .def(py::init<int>(), py::arg("d"));
  py::class_<IndexFlatIP, IndexFlat, std::shared_ptr<IndexFlatIP>>(m, "IndexFlatIP")
      .def(py::init<int>(), py::arg("d"));

  py::class_<IndexIDMap, Index, std::shared_ptr<IndexIDMap>>(m, "IndexIDMap",
                                                             "Gives caller-chosen ids to the vectors of an index.")
      .def(py::init<std::shared_ptr<Index>>(), py::arg("index"))
      .def_property_readonly("index", &IndexIDMap::index, "The wrapped index.")
      .def_property_readonly(
          "id_map", [](const IndexIDMap& self) { return py::array_t<int64_t>(self.id_map().size(), self.id_map().data()); },
          "id_map[i] is the id of the vector at position i of the wrapped index (a copy).");
  py::class_<IndexIDMap2, IndexIDMap, std::shared_ptr<IndexIDMap2>>(
      m, "IndexIDMap2", "IndexIDMap that can also reconstruct vectors by id; ids must be unique.")
      .def(py::init<std::shared_ptr<Index>>(), py::arg("index"));

  m.def(
      "index_factory",
      [](int d, const std::string& description, MetricType metric) {
        return std::shared_ptr<Index>(index_factory(d, description, metric));
      },
      py::arg("d"), py::arg("description"), py::arg("metric") = MetricType::L2,
      "Builds an index from a Faiss-style description, e.g. 'IVF1024,SQ8' or 'IDMap2,PQ16,RFlat'.");
  m.def("describe", &describe, py::arg("index"), "The factory description of an index (index_factory's inverse).");
}

}  // namespace sextant::python
