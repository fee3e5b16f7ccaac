// Conversion of the Faiss types that are parsed into neutral structs
// (faiss_structs.h) into their sextant equivalents.
#include "sextant/IndexFlat.h"
#include "sextant/IndexHNSW.h"
#include "sextant/IndexHNSWQuantized.h"
#include "sextant/IndexPQ.h"
#include "sextant/IndexPreTransform.h"
#include "sextant/IndexScalarQuantizer.h"
#include "sextant/base/Error.h"
#include "sextant/io/faiss_structs.h"
#include "sextant/io/sextant_format.h"

namespace sextant {

namespace {

/// The storage of a converted index owns its array: a copy of the one read.
template <class T>
LargeVector<T> copy_of(const T* data, size_t n) {
  return LargeVector<T>(data, data + n);
}

// Faiss keeps each node's lists in one block: level l at cum[l] .. cum[l+1],
// padded with -1. sextant's graph has 2M slots on level 0 and M above, so the
// Faiss graph must have that shape too (Faiss's default).
HNSW::Layout convert_graph(const FaissHNSWGraph& g, int& M) {
  const auto& cum = g.cum_nneighbor_per_level;
  SEXTANT_CHECK(cum.size() >= 2 && cum[0] == 0 && cum[1] % 2 == 0 && cum[1] >= 4,
                "Faiss HNSW: level 0 must have 2M neighbour slots");
  M = cum[1] / 2;
  for (size_t l = 1; l + 1 < cum.size(); l++) {
    SEXTANT_CHECK(cum[l + 1] - cum[l] == M, "Faiss HNSW: level ", l, " has ", cum[l + 1] - cum[l],
                  " neighbour slots; sextant supports M on the upper levels and 2M on level 0 (M=", M, ")");
  }
  HNSW::Layout layout;
  const size_t n = g.levels.size();
  layout.levels.resize(n);
  for (size_t i = 0; i < n; i++) {
    const int32_t levels = g.levels[i];  // Faiss counts levels: 1 means level 0 only
    SEXTANT_CHECK(size_t(levels) + 1 <= cum.size() && g.offsets[i] + cum[levels] <= g.offsets[i + 1],
                  "Faiss HNSW: node ", i, " has ", levels, " levels but room for fewer");
    layout.levels[i] = uint8_t(levels - 1);
    for (int l = 0; l < levels; l++) {
      const size_t count_at = layout.lists.size();
      layout.lists.push_back(0);
      for (int32_t j = cum[l]; j < cum[l + 1]; j++) {
        const int32_t v = g.neighbors[g.offsets[i] + j];
        if (v < 0) break;
        layout.lists.push_back(node_t(v));
      }
      layout.lists[count_at] = node_t(layout.lists.size() - count_at - 1);
    }
  }
  layout.entry_point = g.entry_point < 0 ? HNSW::kNoNode : node_t(g.entry_point);
  return layout;  // links, levels and the entry point are checked by HNSW::set_layout
}

}  // namespace

std::unique_ptr<Index> convert_faiss_hnsw(uint32_t tag, int d, MetricType metric, FaissHNSWGraph graph,
                                          std::unique_ptr<Index> storage) {
  int M = 0;
  const HNSW::Layout layout = convert_graph(graph, M);
  std::unique_ptr<IndexHNSW> index;
  if (const auto* flat = dynamic_cast<const IndexFlat*>(storage.get()); flat && tag == fourcc("IHNf")) {
    auto hnsw = std::make_unique<IndexHNSWFlat>(d, M, metric);
    hnsw->restore({}, false, reinterpret_cast<const uint8_t*>(flat->vectors()), size_t(flat->ntotal()) * size_t(d),
                  layout, {}, 0);
    index = std::move(hnsw);
  } else if (const auto* sq = dynamic_cast<const IndexScalarQuantizer*>(storage.get()); sq && tag == fourcc("IHNs")) {
    auto hnsw = std::make_unique<IndexHNSWSQ>(d, sq->sq().type(), M, metric);
    if (!sq->sq().trained().empty()) hnsw->sq().set_trained(sq->sq().trained());
    hnsw->restore(copy_of(sq->codes(), size_t(sq->ntotal()) * sq->sa_code_size()), layout, {}, 0);
    index = std::move(hnsw);
  } else if (const auto* pq = dynamic_cast<const IndexPQ*>(storage.get()); pq && tag == fourcc("IHNp")) {
    auto hnsw = std::make_unique<IndexHNSWPQ>(d, pq->pq().M(), M, pq->pq().nbits(), metric);
    if (!pq->pq().centroids().empty()) hnsw->pq().set_centroids(pq->pq().centroids());
    hnsw->restore(copy_of(pq->codes(), size_t(pq->ntotal()) * pq->sa_code_size()), layout, {}, 0);
    index = std::move(hnsw);
  } else {
    detail::throw_error(__FILE__, __LINE__, "Faiss HNSW index file ('", fourcc_text(tag), "') with a ",
                        storage->type_name(), " storage is not supported (flat, SQ and PQ storages are)");
  }
  if (graph.ef_construction > 0) index->set_efConstruction(graph.ef_construction);
  if (graph.ef_search > 0) index->set_efSearch(graph.ef_search);
  return index;
}

namespace {

std::shared_ptr<VectorTransform> convert_transform(FaissVectorTransform t) {
  using Kind = FaissVectorTransform::Kind;
  switch (t.kind) {
    case Kind::normalization:
      SEXTANT_CHECK(t.norm == 2, "Faiss NormalizationTransform with norm ", t.norm, ": only L2 (2) is supported");
      return std::make_shared<NormalizationTransform>(t.d_in);
    case Kind::pca: {
      auto pca = std::make_shared<PCAMatrix>(t.d_in, t.d_out, t.eigen_power, t.random_rotation);
      if (t.is_trained) {
        t.eigenvalues.resize(t.d_in, 0.0f);  // Faiss keeps as many as it computed
        pca->restore(std::move(t.A), std::move(t.b), std::move(t.eigenvalues), std::move(t.mean));
      }
      return pca;
    }
    case Kind::random_rotation: {
      auto rr = std::make_shared<RandomRotationMatrix>(t.d_in, t.d_out);
      if (t.is_trained) rr->set_matrix(std::move(t.A), std::move(t.b));
      return rr;
    }
    case Kind::linear:
    case Kind::itq: {  // OPQ and ITQ rotations arrive as their trained matrix
      auto linear = std::make_shared<LinearTransform>(t.d_in, t.d_out);
      if (t.is_trained) linear->set_matrix(std::move(t.A), std::move(t.b));
      return linear;
    }
    case Kind::centering: {  // x - mean = I x + (-mean)
      SEXTANT_CHECK(t.d_in == t.d_out, "Faiss CenteringTransform must keep the dimension");
      auto linear = std::make_shared<LinearTransform>(t.d_in, t.d_out);
      std::vector<float> A(size_t(t.d_in) * t.d_in, 0.0f), b(t.d_in, 0.0f);
      for (int i = 0; i < t.d_in; i++) A[size_t(i) * t.d_in + i] = 1.0f;
      for (int i = 0; i < t.d_in && size_t(i) < t.mean.size(); i++) b[i] = -t.mean[i];
      if (t.is_trained) linear->set_matrix(std::move(A), std::move(b));
      return linear;
    }
    case Kind::remap:
      break;
  }
  detail::throw_error(__FILE__, __LINE__, "Faiss RemapDimensionsTransform is not supported");
}

}  // namespace

std::unique_ptr<Index> convert_faiss_pretransform(int, MetricType, std::vector<FaissVectorTransform> chain,
                                                  std::unique_ptr<Index> index) {
  std::vector<std::shared_ptr<VectorTransform>> transforms;
  for (auto& t : chain) transforms.push_back(convert_transform(std::move(t)));
  return std::make_unique<IndexPreTransform>(std::move(transforms), std::move(index));  // checks the dimensions
}

}  // namespace sextant
