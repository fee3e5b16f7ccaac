// Python bindings of IndexShards, IndexReplicas and the exact merge of per-shard results.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "sextant/IndexReplicas.h"
#include "sextant/IndexShards.h"
#include "sextant/utils/Error.h"
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
}

}  // namespace sextant::python
