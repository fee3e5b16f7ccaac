// Python bindings of IndexShards, IndexReplicas and the exact merge of per-shard results.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <vector>

#include "metric_type.h"
#include "sextant/IndexReplicas.h"
#include "sextant/IndexShards.h"
#include "sextant/base/Error.h"
#include "sextant/utils/merge_results.h"

namespace sextant::python {

namespace py = pybind11;

namespace {

py::tuple merge_knn(py::handle D_in, py::handle I_in, MetricType metric) {
  using Floats = py::array_t<float, py::array::c_style | py::array::forcecast>;
  using Ids = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;
  Floats D = Floats::ensure(D_in);
  Ids I = Ids::ensure(I_in);
  if (!D || !I) throw py::type_error("merge_knn_results expects numeric arrays Dall and Iall");
  SEXTANT_CHECK(D.ndim() == 3 && I.ndim() == 3, "Dall and Iall must have shape (nshards, nq, k), got ", D.ndim(),
                " and ", I.ndim(), " dimensions");
  for (int a = 0; a < 3; a++) {
    SEXTANT_CHECK(D.shape(a) == I.shape(a), "Dall and Iall must have the same shape");
  }
  const int64_t parts = D.shape(0), nq = D.shape(1), k = D.shape(2);
  SEXTANT_CHECK(k > 0, "k (the last dimension of Dall) must be > 0");
  py::array_t<float> out_D({nq, k});
  py::array_t<int64_t> out_I({nq, k});
  {
    py::gil_scoped_release release;
    merge_knn_results(parts, nq, k, D.data(), I.data(), metric, out_D.mutable_data(), out_I.mutable_data());
  }
  return py::make_tuple(out_D, out_I);
}

py::tuple merge_range(const py::list& parts, int64_t nq, MetricType metric) {
  std::vector<RangeSearchResult> results;
  for (py::handle part : parts) {
    auto t = part.cast<py::tuple>();
    SEXTANT_CHECK(t.size() == 3, "each part must be a (lims, D, I) tuple");
    auto lims = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(t[0]);
    auto D = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(t[1]);
    auto I = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(t[2]);
    if (!lims || !D || !I) throw py::type_error("lims, D and I must be numeric arrays");
    SEXTANT_CHECK(lims.ndim() == 1 && lims.shape(0) == nq + 1, "lims must have nq + 1 = ", nq + 1, " entries");
    SEXTANT_CHECK(D.ndim() == 1 && I.ndim() == 1 && D.shape(0) == I.shape(0), "D and I must be 1-D and alike");
    RangeSearchResult r;
    for (int64_t q = 0; q <= nq; q++) {
      const int64_t v = lims.data()[q];
      SEXTANT_CHECK(v >= 0 && v <= D.shape(0) && (q == 0 ? v == 0 : v >= lims.data()[q - 1]),
                    "lims must start at 0, never decrease and end at len(D)");
      r.lims.push_back(static_cast<size_t>(v));
    }
    SEXTANT_CHECK(r.lims.back() == static_cast<size_t>(D.shape(0)), "lims must end at len(D)");
    r.distances.assign(D.data(), D.data() + D.shape(0));
    r.labels.assign(I.data(), I.data() + I.shape(0));
    results.push_back(std::move(r));
  }
  SEXTANT_CHECK(nq >= 0, "nq must be >= 0");
  RangeSearchResult out;
  if (results.empty()) {
    out.lims.assign(nq + 1, 0);
  } else {
    py::gil_scoped_release release;
    out = merge_range_results(results, metric);
  }
  py::array_t<int64_t> lims(out.lims.size());
  std::copy(out.lims.begin(), out.lims.end(), lims.mutable_data());
  return py::make_tuple(lims, py::array_t<float>(out.distances.size(), out.distances.data()),
                        py::array_t<int64_t>(out.labels.size(), out.labels.data()));
}

}  // namespace

void bind_shards(py::module_& m) {
  py::class_<IndexShards, Index, std::shared_ptr<IndexShards>>(m, "IndexShards", R"doc(
A collection split over several indexes (shards), searched as one: every shard
is searched and the results merged exactly (ties to the smaller id), so the
answer is that of one index holding every vector. Shards may be any index
with this d and metric, e.g. IVF shards sharing one coarse quantizer.

successive_ids=True (Faiss's default): each shard numbers its own vectors and
shard s's ids follow shard s-1's; add() fills empty shards in one pass, shard s
taking the s-th contiguous block. successive_ids=False: the shards keep the ids
they are given (IVF, IDMap): add_with_ids passes the caller's ids on, add()
numbers vectors on from the last id it gave; both may be called many times.)doc")
      .def(py::init<int, MetricType, bool>(), py::arg("d"), py::arg("metric") = MetricType::L2,
           py::arg("successive_ids") = true)
      .def("add_shard", &IndexShards::add_shard, py::arg("index"),
           "Appends a shard (same d and metric); it stays shared with the caller.")
      .def_property_readonly("nshards", &IndexShards::nshards)
      .def("at", &IndexShards::shard, py::arg("i"), "Shard i.")
      .def_property_readonly("successive_ids", &IndexShards::successive_ids)
      .def("id_offset", &IndexShards::id_offset, py::arg("i"), "What shard i adds to its own ids.");

  py::class_<IndexReplicas, Index, std::shared_ptr<IndexReplicas>>(m, "IndexReplicas", R"doc(
The same collection held by several indexes (replicas) that share the queries
of a search, each answering a contiguous block on a thread of its own. add,
add_with_ids, remove_ids and reset go to every replica.)doc")
      .def(py::init<int, MetricType>(), py::arg("d"), py::arg("metric") = MetricType::L2)
      .def("add_replica", &IndexReplicas::add_replica, py::arg("index"),
           "Appends a replica: same d and metric, and as many vectors as the others.")
      .def_property_readonly("nreplicas", &IndexReplicas::nreplicas)
      .def("at", &IndexReplicas::replica, py::arg("i"), "Replica i.");

  m.def("merge_knn_results", &merge_knn, py::arg("Dall"), py::arg("Iall"), py::arg("metric") = MetricType::L2,
        R"doc(
Merges the (D, I) results of searches of the same queries over disjoint parts
of a collection: Dall and Iall have shape (nparts, nq, k). Returns (D, I) of
shape (nq, k): the k best of each query over all parts (L2 smallest, inner
product largest first; ties to the smaller id, NaN last), id -1 entries
skipped, rows padded with -1. What IndexShards does in process.)doc");
  m.def("merge_range_results", &merge_range, py::arg("parts"), py::arg("nq"), py::arg("metric") = MetricType::L2,
        R"doc(
Merges range-search results (lims, D, I) of the same nq queries over disjoint
parts of a collection into one (lims, D, I), each query's hits ordered as
merge_knn_results orders them.)doc");
}

}  // namespace sextant::python
