// Faiss HNSW indexes and IndexPreTransform: parsed and checked into the
// neutral structs of faiss_structs.h, then handed to the conversion hooks.
#include <cmath>

#include "sextant/io/faiss_parser.h"
#include "sextant/io/faiss_structs.h"
#include "sextant/io/sextant_format.h"

namespace sextant {

namespace {

constexpr int kMaxTransforms = 16;
constexpr int kMaxHNSWLevels = 64;

void check_graph(ByteReader& in, const FaissHNSWGraph& g, idx_t ntotal) {
  const size_t n = static_cast<size_t>(ntotal);
  in.check(g.levels.size() == n, "HNSW: ", g.levels.size(), " levels for ntotal=", ntotal);
  in.check(g.offsets.size() == n + 1 && g.offsets.front() == 0 && g.offsets.back() == g.neighbors.size(),
           "HNSW: the neighbour offsets do not match the neighbour table");
  for (size_t i = 0; i < n; i++) {
    in.check(g.offsets[i] <= g.offsets[i + 1], "HNSW: neighbour offsets decrease at node ", i);
    in.check(g.levels[i] >= 1 && g.levels[i] <= kMaxHNSWLevels, "HNSW: node ", i, " has level ", g.levels[i]);
  }
  for (int32_t v : g.neighbors) in.check(v >= -1 && v < ntotal, "HNSW: neighbour id ", v, " is out of range");
  for (size_t l = 1; l < g.cum_nneighbor_per_level.size(); l++) {
    in.check(g.cum_nneighbor_per_level[l - 1] <= g.cum_nneighbor_per_level[l] && g.cum_nneighbor_per_level[0] >= 0,
             "HNSW: neighbours per level decrease");
  }
  in.check(g.entry_point >= -1 && g.entry_point < ntotal && (ntotal == 0) == (g.entry_point == -1),
           "HNSW: entry point ", g.entry_point, " is out of range");
  in.check(g.max_level >= -1 && g.max_level < kMaxHNSWLevels, "HNSW: max level ", g.max_level);
}

FaissVectorTransform read_transform(FaissParser& p) {
  ByteReader& in = p.in();
  FaissVectorTransform t;
  using Kind = FaissVectorTransform::Kind;
  const uint32_t tag = in.scalar<uint32_t>("transform type");
  const bool pca = tag == fourcc("PCAm") || tag == fourcc("PcAm") || tag == fourcc("Pcam");
  const bool linear = pca || tag == fourcc("rrot") || tag == fourcc("LTra") || tag == fourcc("Viqm");
  if (linear) {
    if (pca) {
      t.kind = Kind::pca;
      t.eigen_power = in.scalar<float>("eigen_power");
      if (tag == fourcc("Pcam")) t.epsilon = in.scalar<float>("epsilon");
      t.random_rotation = p.boolean("random_rotation");
      if (tag != fourcc("PCAm")) in.scalar<int32_t>("balanced_bins");  // an int in Faiss
      t.mean = p.vec<std::vector<float>>("PCA mean");
      t.eigenvalues = p.vec<std::vector<float>>("PCA eigenvalues");
      t.pca_matrix = p.vec<std::vector<float>>("PCA matrix");
    } else if (tag == fourcc("Viqm")) {
      t.kind = Kind::itq;
      in.scalar<int32_t>("ITQ max_iter");
      in.scalar<int32_t>("ITQ seed");
    } else {
      t.kind = tag == fourcc("rrot") ? Kind::random_rotation : Kind::linear;
    }
    t.have_bias = p.boolean("have_bias");
    t.A = p.vec<std::vector<float>>("transform matrix");
    t.b = p.vec<std::vector<float>>("transform bias");
  } else if (tag == fourcc("VNrm")) {
    t.kind = Kind::normalization;
    t.norm = in.scalar<float>("norm");
  } else if (tag == fourcc("VCnt")) {
    t.kind = Kind::centering;
    t.mean = p.vec<std::vector<float>>("centering mean");
  } else if (tag == fourcc("RmDT")) {
    t.kind = Kind::remap;
    t.map = p.vec<std::vector<int32_t>>("dimension map");
  } else {
    in.fail("Faiss vector transform '", fourcc_text(tag), "' is not supported");
  }
  t.d_in = in.scalar<int32_t>("d_in");
  t.d_out = in.scalar<int32_t>("d_out");
  t.is_trained = p.boolean("is_trained");
  in.check(t.d_in >= 1 && t.d_in <= kMaxFileDimension && t.d_out >= 1 && t.d_out <= kMaxFileDimension,
           "transform dimensions ", t.d_in, " -> ", t.d_out, " are out of range");
  if (linear && t.is_trained) {
    in.check(t.A.size() == size_t(t.d_in) * size_t(t.d_out), "transform matrix has ", t.A.size(),
             " values for ", t.d_out, " x ", t.d_in);
    in.check(!t.have_bias || t.b.size() == size_t(t.d_out), "transform bias has ", t.b.size(), " values for d_out=",
             t.d_out);
  }
  if (t.kind == Kind::centering && t.is_trained)
    in.check(t.mean.size() == size_t(t.d_in), "centering mean has ", t.mean.size(), " values for d=", t.d_in);
  if (t.kind == Kind::remap) {
    in.check(t.map.size() == size_t(t.d_out), "dimension map has ", t.map.size(), " entries for d_out=", t.d_out);
    for (int32_t m : t.map) in.check(m >= -1 && m < t.d_in, "dimension map entry ", m, " is out of range");
  }
  if (t.kind == Kind::normalization) in.check(std::isfinite(t.norm), "normalization norm is not finite");
  return t;
}

}  // namespace

std::unique_ptr<Index> FaissParser::read_hnsw(uint32_t tag) {
  const FaissHeader h = read_faiss_header(*this, "IndexHNSW");
  FaissHNSWGraph g;
  g.assign_probas = vec<std::vector<double>>("HNSW assign_probas");
  g.cum_nneighbor_per_level = vec<std::vector<int32_t>>("HNSW cum_nneighbor_per_level");
  g.levels = vec<std::vector<int32_t>>("HNSW levels");
  g.offsets = vec<std::vector<uint64_t>>("HNSW offsets");
  g.neighbors = vec<std::vector<int32_t>>("HNSW neighbors");
  g.entry_point = in_.scalar<int32_t>("HNSW entry point");
  g.max_level = in_.scalar<int32_t>("HNSW max level");
  g.ef_construction = in_.scalar<int32_t>("HNSW efConstruction");
  g.ef_search = in_.scalar<int32_t>("HNSW efSearch");
  in_.scalar<int32_t>("HNSW upper_beam");
  check_graph(in_, g, h.ntotal);
  std::unique_ptr<Index> storage = index("HNSW storage");
  in_.check(storage->d() == h.d && storage->metric() == h.metric && storage->ntotal() == h.ntotal,
            "the HNSW storage does not match its index (d, metric or ntotal)");
  return convert_faiss_hnsw(tag, h.d, h.metric, std::move(g), std::move(storage));
}

std::unique_ptr<Index> FaissParser::read_pretransform() {
  const FaissHeader h = read_faiss_header(*this, "IndexPreTransform");
  const int32_t nt = in_.scalar<int32_t>("transform count");
  in_.check(nt >= 0 && nt <= kMaxTransforms, "transform chain of ", nt, " is out of range [0, ", kMaxTransforms,
            "]");
  std::vector<FaissVectorTransform> chain;
  int d = h.d;
  for (int i = 0; i < nt; i++) {
    chain.push_back(read_transform(*this));
    in_.check(chain.back().d_in == d, "transform ", i, " takes d=", chain.back().d_in, ", expected ", d);
    d = chain.back().d_out;
  }
  std::unique_ptr<Index> sub = index("IndexPreTransform sub-index");
  in_.check(sub->d() == d && sub->metric() == h.metric && sub->ntotal() == h.ntotal,
            "the IndexPreTransform sub-index does not match the transform chain (d, metric or ntotal)");
  std::unique_ptr<Index> index = convert_faiss_pretransform(h.d, h.metric, std::move(chain), std::move(sub));
  in_.check(index->is_trained() || index->ntotal() == 0, "IndexPreTransform holds ", index->ntotal(),
            " vectors but is not trained (an untrained transform in its chain)");
  return index;
}

}  // namespace sextant
