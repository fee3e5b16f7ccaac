// Python bindings of the HNSW graph indexes.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "numpy_args.h"
#include "sextant/IndexHNSW.h"
#include "sextant/IndexHNSWQuantized.h"
#include "sextant/base/Error.h"

namespace sextant::python {

namespace {

py::dict stats_dict(const IndexHNSW& index) {
  const HNSWStats s = index.hnsw_stats();
  py::dict d;
  d["levels"] = s.max_level + 1;
  d["max_level"] = s.max_level;
  d["entry_point"] = s.entry_point;
  d["nodes_per_level"] = s.nodes_per_level;
  d["level0_degree_histogram"] = py::array_t<int64_t>(s.level0_degree_histogram.size(),
                                                      s.level0_degree_histogram.data());
  d["mean_level0_degree"] = s.mean_level0_degree;
  d["M"] = index.M();
  d["memory_bytes"] = index.memory_bytes();
  return d;
}

// index.hnsw as Faiss spells it: the knobs and the graph's top, read and
// written through the index (there is no separate graph object to keep in sync).
struct HNSWView {
  std::shared_ptr<IndexHNSW> index;
};

}  // namespace

void bind_hnsw(py::module_& m) {
  py::class_<HNSWView>(m, "HNSWView", "index.hnsw: a view of an HNSW index with Faiss's field names.")
      .def_property(
          "efSearch", [](const HNSWView& v) { return v.index->efSearch(); },
          [](HNSWView& v, int64_t ef) { v.index->set_efSearch(ef); }, "The index's efSearch (default of searches).")
      .def_property(
          "efConstruction", [](const HNSWView& v) { return v.index->efConstruction(); },
          [](HNSWView& v, int ef) { v.index->set_efConstruction(ef); }, "The index's efConstruction.")
      .def_property_readonly(
          "max_level", [](const HNSWView& v) { return v.index->hnsw().max_level(); },
          "The top level of the graph (-1 when empty).")
      .def_property_readonly(
          "entry_point",
          [](const HNSWView& v) {
            const node_t entry = v.index->hnsw().entry_point();
            return entry == HNSW::kNoNode ? idx_t(-1) : v.index->label_of(entry);
          },
          "The id of the vector where searches enter the graph (-1 when empty).")
      .def("__repr__", [](const HNSWView& v) {
        return "<sextant.HNSWView efSearch=" + std::to_string(v.index->efSearch()) +
               " efConstruction=" + std::to_string(v.index->efConstruction()) +
               " max_level=" + std::to_string(v.index->hnsw().max_level()) + ">";
      });

  py::class_<IndexHNSW, Index, std::shared_ptr<IndexHNSW>>(m, "IndexHNSW", R"doc(
Graph index (HNSW). Vectors are numbered 0 .. ntotal-1 in insertion order;
remove_ids closes the gaps (wrap in IndexIDMap2 for caller-chosen ids) and
update(keys, x) replaces vectors in place. Search knobs: efSearch, sel.)doc")
      .def_property_readonly("M", &IndexHNSW::M, "Links per node (2*M on level 0); fixed at construction.")
      .def_property("efConstruction", &IndexHNSW::efConstruction, &IndexHNSW::set_efConstruction,
                    "Candidate-list size when adding vectors (default 40).")
      .def_property("efSearch", &IndexHNSW::efSearch, &IndexHNSW::set_efSearch,
                    "Default candidate-list size of searches (default 16); a call may pass efSearch=...")
      .def_property_readonly(
          "hnsw", [](std::shared_ptr<IndexHNSW> self) { return HNSWView{std::move(self)}; },
          "Faiss's spelling of the knobs: index.hnsw.efSearch, .efConstruction, .max_level, .entry_point.")
      .def(
          "set_seed", [](IndexHNSW& self, uint64_t seed) { self.set_seed(seed); }, py::arg("seed"),
          "Reseeds the generator that draws the levels of the vectors added next.")
      .def("hnsw_stats", &stats_dict,
           "The graph's shape: levels, max_level, entry_point, nodes_per_level, level0_degree_histogram,\n"
           "mean_level0_degree, M, memory_bytes (graph + storage).")
      .def_property_readonly("memory_bytes", &IndexHNSW::memory_bytes, "Bytes held by the graph and the storage.")
      .def(
          "update",
          [](IndexHNSW& self, py::handle keys, py::handle x) {
            FloatMatrix xa = as_matrix(x, "x", self.d());
            IdArray ka = as_ids(keys, "keys", xa.shape(0));
            py::gil_scoped_release release;
            self.update(xa.shape(0), ka.data(), xa.data());
          },
          py::arg("keys"), py::arg("x"),
          "Replaces the vectors at positions keys (distinct, in [0, ntotal)) by the rows of x and re-links them.");

  py::class_<IndexHNSWFlat, IndexHNSW, std::shared_ptr<IndexHNSWFlat>>(
      m, "IndexHNSWFlat", "HNSW over float vectors kept exactly (exact distances, like hnswlib).")
      .def(py::init<int, int, MetricType>(), py::arg("d"), py::arg("M") = 32, py::arg("metric") = MetricType::L2);

  py::class_<IndexHNSWSQ, IndexHNSW, std::shared_ptr<IndexHNSWSQ>>(m, "IndexHNSWSQ", R"doc(
HNSW over scalar-quantised codes (qtype: sx.ScalarQuantizer.QT_8bit, ...), searched on
the codes. Needs train() before add(); reconstruct() gives the decoded vectors.)doc")
      .def(py::init<int, QuantizerType, int, MetricType>(), py::arg("d"), py::arg("qtype"), py::arg("M") = 32,
           py::arg("metric") = MetricType::L2)
      .def_property_readonly("code_size", &IndexHNSWSQ::code_size, "Bytes per stored vector.")
      .def_property_readonly("sq", static_cast<const ScalarQuantizer& (IndexHNSWSQ::*)() const>(&IndexHNSWSQ::sq),
                             py::return_value_policy::reference_internal);

  py::class_<IndexHNSWPQ, IndexHNSW, std::shared_ptr<IndexHNSWPQ>>(m, "IndexHNSWPQ", R"doc(
HNSW over product-quantizer codes (pq_M sub-quantizers of pq_nbits bits), searched with
one look-up table per query. Needs train() before add(); reconstruct() gives the decoded vectors.)doc")
      .def(py::init<int, size_t, int, size_t, MetricType>(), py::arg("d"), py::arg("pq_M"), py::arg("M") = 32,
           py::arg("pq_nbits") = 8, py::arg("metric") = MetricType::L2)
      .def_property_readonly("code_size", &IndexHNSWPQ::code_size, "Bytes per stored vector.")
      .def_property_readonly("pq", static_cast<ProductQuantizer& (IndexHNSWPQ::*)()>(&IndexHNSWPQ::pq),
                             py::return_value_policy::reference_internal,
                             "The product quantizer (its train_params apply to the next train()).");
}

}  // namespace sextant::python
