// Writer of Faiss index files: the types faiss_read.cpp and faiss_graph.cpp
// read, laid out as Faiss lays them out (the field order mirrors the reader),
// so faiss.read_index loads them and searches the same data structures.
#include <algorithm>
#include <cmath>
#include <vector>

#include "sextant/IndexFlat.h"
#include "sextant/IndexHNSW.h"
#include "sextant/IndexHNSWQuantized.h"
#include "sextant/IndexIDMap.h"
#include "sextant/IndexIVFFlat.h"
#include "sextant/IndexIVFPQ.h"
#include "sextant/IndexIVFPQFastScan.h"
#include "sextant/IndexIVFRaBitQ.h"
#include "sextant/IndexIVFRaBitQFastScan.h"
#include "sextant/IndexIVFScalarQuantizer.h"
#include "sextant/IndexPQ.h"
#include "sextant/IndexPQFastScan.h"
#include "sextant/IndexPreTransform.h"
#include "sextant/IndexRaBitQ.h"
#include "sextant/IndexRaBitQFastScan.h"
#include "sextant/IndexRefine.h"
#include "sextant/IndexScalarQuantizer.h"
#include "sextant/io/faiss_format.h"
#include "sextant/io/sextant_format.h"

namespace sextant {

namespace {

class FaissWriter {
 public:
  explicit FaissWriter(ByteSink& out) : out_(out) {}

  void index(const Index& index);

 private:
  template <class T>
  void scalar(T value) {
    out_.scalar(value);
  }
  void tag(const char (&code)[5]) { scalar(fourcc(code)); }
  /// A Faiss vector: u64 count, then the elements.
  template <class T>
  void vec(const T* data, size_t n) {
    scalar<uint64_t>(n);
    out_.write(data, n * sizeof(T));
  }
  template <class T>
  void vec(const std::vector<T>& v) {
    vec(v.data(), v.size());
  }

  void header(const Index& index);
  void flat(const IndexFlat& flat);
  void sq_fields(const ScalarQuantizer& sq);
  void pq_fields(const ProductQuantizer& pq);
  void rabitq_fields(const RaBitQuantizer& rq);
  void pq_tail(const ProductQuantizer& pq);
  void ivf_head(const IndexIVF& ivf);
  void invlists(const IndexIVF& ivf);
  void transform(const VectorTransform& t);
  void hnsw(const IndexHNSW& hnsw, const char (&code)[5]);

  ByteSink& out_;
};

void FaissWriter::header(const Index& index) {
  scalar<int32_t>(index.d());
  scalar<int64_t>(index.ntotal());
  scalar<int64_t>(int64_t(1) << 20);  // two fields Faiss no longer uses, written as Faiss writes them
  scalar<int64_t>(int64_t(1) << 20);
  scalar<uint8_t>(index.is_trained() ? 1 : 0);
  scalar<int32_t>(static_cast<int32_t>(index.metric()));  // same values as Faiss's
}

void FaissWriter::flat(const IndexFlat& flat) {
  flat.metric() == MetricType::L2 ? tag("IxF2") : tag("IxFI");
  header(flat);
  vec(flat.vectors(), size_t(flat.ntotal()) * size_t(flat.d()));  // Faiss counts 4-byte units: floats
}

void FaissWriter::sq_fields(const ScalarQuantizer& sq) {
  scalar<int32_t>(static_cast<int32_t>(sq.type()));  // same values as Faiss's QuantizerType
  scalar<int32_t>(0);                                 // rangestat: only training reads it
  scalar<float>(0.0f);                                // rangestat_arg
  scalar<uint64_t>(sq.d());
  scalar<uint64_t>(sq.code_size());
  vec(sq.trained());
}

void FaissWriter::pq_fields(const ProductQuantizer& pq) {
  scalar<uint64_t>(pq.d());
  scalar<uint64_t>(pq.M());
  scalar<uint64_t>(pq.nbits());
  if (pq.is_trained()) {
    vec(pq.centroids());
  } else {  // Faiss's untrained quantizer holds zeros, and its reader insists on their number
    vec(std::vector<float>(pq.d() * pq.ksub(), 0.0f));
  }
}

// IndexPQ's search settings after its codes, at Faiss's defaults: plain PQ
// search (no polysemous filtering).
void FaissWriter::pq_tail(const ProductQuantizer& pq) {
  scalar<int32_t>(0);        // search_type ST_PQ
  scalar<uint8_t>(0);        // encode_signs
  scalar<int32_t>(int32_t(pq.nbits() * pq.M() + 1));  // polysemous_ht: off
}

void FaissWriter::ivf_head(const IndexIVF& ivf) {
  header(ivf);
  scalar<uint64_t>(ivf.nlist());
  scalar<uint64_t>(uint64_t(ivf.nprobe()));
  index(*ivf.quantizer());
  // The direct map: its type, then id -> (list << 32 | offset) as an array
  // indexed by id, or as (id, entry) pairs for a hashtable.
  const DirectMapType type = ivf.direct_map_type();
  scalar<int8_t>(static_cast<int8_t>(type));
  std::vector<int64_t> array;
  std::vector<std::pair<int64_t, int64_t>> pairs;
  if (type == DirectMapType::array) array.assign(size_t(ivf.ntotal()), -1);
  const InvertedLists& lists = ivf.invlists();
  for (size_t l = 0; type != DirectMapType::none && l < lists.nlist(); l++) {
    const idx_t* ids = lists.ids(l);
    for (size_t o = 0; o < lists.list_size(l); o++) {
      const int64_t entry = int64_t(l) << 32 | int64_t(o);
      if (type == DirectMapType::hashtable) {
        pairs.emplace_back(ids[o], entry);
      } else {
        SEXTANT_CHECK(ids[o] >= 0 && ids[o] < ivf.ntotal(), "write_index: id ", ids[o],
                      " does not fit the IVF index's direct map array (ids 0 .. ntotal-1)");
        array[size_t(ids[o])] = entry;
      }
    }
  }
  vec(array);
  if (type == DirectMapType::hashtable) vec(pairs);
}

// Faiss's "ilar" lists: the sizes (in full, or as (list, size) pairs when at
// most half the lists are filled, Faiss's own choice), then for each filled
// list its codes and then its ids.
void FaissWriter::invlists(const IndexIVF& ivf) {
  const InvertedLists& lists = ivf.invlists();
  SEXTANT_CHECK(lists.plain_layout(), "write_index: Faiss's array lists need codes in the plain layout");
  tag("ilar");
  scalar<uint64_t>(lists.nlist());
  scalar<uint64_t>(lists.code_size());
  std::vector<uint64_t> sizes, filled;
  for (size_t l = 0; l < lists.nlist(); l++) {
    sizes.push_back(lists.list_size(l));
    if (sizes.back() > 0) filled.insert(filled.end(), {l, sizes.back()});
  }
  if (filled.size() / 2 > lists.nlist() / 2) {
    tag("full");
    vec(sizes);
  } else {
    tag("sprs");
    vec(filled);
  }
  for (size_t l = 0; l < lists.nlist(); l++) {
    if (sizes[l] == 0) continue;
    out_.write(lists.codes(l), sizes[l] * lists.code_size());
    out_.write(lists.ids(l), sizes[l] * sizeof(idx_t));
  }
}

void FaissWriter::transform(const VectorTransform& t) {
  if (dynamic_cast<const NormalizationTransform*>(&t)) {
    tag("VNrm");
    scalar<float>(2.0f);  // the L2 norm
  } else if (const auto* linear = dynamic_cast<const LinearTransform*>(&t)) {
    if (const auto* pca = dynamic_cast<const PCAMatrix*>(linear)) {
      tag("Pcam");
      scalar<float>(pca->eigen_power());
      scalar<float>(0.0f);  // epsilon
      scalar<uint8_t>(pca->random_rotation() ? 1 : 0);
      scalar<int32_t>(0);   // balanced_bins
      vec(pca->mean());
      vec(pca->eigenvalues());
      vec<float>(nullptr, 0);  // the full PCA matrix, kept by Faiss for retraining only (A below applies)
    } else if (dynamic_cast<const RandomRotationMatrix*>(linear)) {
      tag("rrot");
    } else {
      tag("LTra");  // a generic linear map: OPQ's rotation is one, as in Faiss's own files
    }
    scalar<uint8_t>(linear->b().empty() ? 0 : 1);
    vec(linear->A());
    vec(linear->b());
  } else {
    detail::throw_error(__FILE__, __LINE__, "write_index: the transform ", t.type_name(),
                        " has no Faiss file format");
  }
  scalar<int32_t>(t.d_in());
  scalar<int32_t>(t.d_out());
  scalar<uint8_t>(t.is_trained() ? 1 : 0);
}

// Faiss numbers graph nodes by id; sextant numbers them for locality. The
// graph goes out renumbered by id, each node's lists in Faiss's one block per
// node (2M slots on level 0, M above, padded with -1), then the storage in id
// order.
void FaissWriter::hnsw(const IndexHNSW& index, const char (&code)[5]) {
  const HNSW::Layout layout = index.hnsw().layout();
  const size_t n = layout.levels.size(), M = size_t(index.M());
  int top = -1;
  for (uint8_t level : layout.levels) top = std::max(top, int(level));
  // Faiss's level distribution, computed as HNSW::set_default_probas does
  // (floats and doubles alike, so the file matches Faiss's byte for byte),
  // with at least as many levels as the graph has; and the slots per level.
  const float level_mult = float(1.0 / std::log(double(M)));
  std::vector<double> probas;
  std::vector<int32_t> cum{0};
  for (int level = 0;; level++) {
    const float proba = float(std::exp(double(float(-level) / level_mult)) * (1 - std::exp(double(-1 / level_mult))));
    if (proba < 1e-9 && level > top) break;
    probas.push_back(proba);
    cum.push_back(cum.back() + int32_t(level == 0 ? 2 * M : M));
  }
  std::vector<size_t> first_list(n);  // where each node's lists start in layout.lists
  for (size_t node = 0, at = 0; node < n; node++) {
    first_list[node] = at;
    for (int l = 0; l <= layout.levels[node]; l++) at += 1 + layout.lists[at];
  }
  std::vector<int32_t> levels(n), neighbors;
  std::vector<uint64_t> offsets{0};
  for (size_t id = 0; id < n; id++) {
    const node_t node = index.node_of(idx_t(id));
    const int node_levels = layout.levels[node] + 1;
    levels[id] = node_levels;
    size_t at = first_list[node];
    for (int l = 0; l < node_levels; l++) {
      const size_t count = layout.lists[at], slots = size_t(cum[l + 1] - cum[l]);
      for (size_t j = 0; j < count; j++) neighbors.push_back(int32_t(index.label_of(layout.lists[at + 1 + j])));
      neighbors.resize(neighbors.size() + slots - count, -1);
      at += 1 + count;
    }
    offsets.push_back(neighbors.size());
  }
  tag(code);
  header(index);
  vec(probas);
  vec(cum);
  vec(levels);
  vec(offsets);
  vec(neighbors);
  scalar<int32_t>(layout.entry_point == HNSW::kNoNode ? -1 : int32_t(index.label_of(layout.entry_point)));
  scalar<int32_t>(top);
  scalar<int32_t>(index.efConstruction());
  scalar<int32_t>(static_cast<int32_t>(index.efSearch()));
  scalar<int32_t>(1);  // upper_beam, unused by Faiss

  // The storage: an IndexFlat, IndexScalarQuantizer or IndexPQ of the same d,
  // metric and ntotal, rows in id order.
  if (dynamic_cast<const IndexHNSWFlat*>(&index)) {
    index.metric() == MetricType::L2 ? tag("IxF2") : tag("IxFI");
    header(index);
    scalar<uint64_t>(uint64_t(n) * uint64_t(index.d()));
    std::vector<float> row(size_t(index.d()));
    for (size_t id = 0; id < n; id++) {
      index.reconstruct(idx_t(id), row.data());  // HNSWFlat keeps its vectors exactly
      out_.write(row.data(), row.size() * sizeof(float));
    }
    return;
  }
  const auto& coded = static_cast<const IndexHNSWCodes&>(index);
  const ProductQuantizer* pq = nullptr;
  if (const auto* sq = dynamic_cast<const IndexHNSWSQ*>(&index)) {
    tag("IxSQ");
    header(index);
    sq_fields(sq->sq());
  } else {
    pq = &static_cast<const IndexHNSWPQ&>(index).pq();
    tag("IxPq");
    header(index);
    pq_fields(*pq);
  }
  const size_t cs = coded.code_size();
  scalar<uint64_t>(uint64_t(n) * cs);
  for (size_t id = 0; id < n; id++) out_.write(coded.codes() + size_t(index.node_of(idx_t(id))) * cs, cs);
  if (pq) pq_tail(*pq);
}

// d, code size, metric, and the bits a dimension in the multi-bit format.
void FaissWriter::rabitq_fields(const RaBitQuantizer& rq) {
  scalar<uint64_t>(rq.d());
  scalar<uint64_t>(rq.code_size());
  scalar<int32_t>(int32_t(rq.metric()));
  if (rq.nb_bits() > 1) scalar<uint64_t>(uint64_t(rq.nb_bits()));
}

void FaissWriter::index(const Index& index) {
  // Most derived classes first: fast-scan PQ derives from IndexIVFPQ, IDMap2 from IDMap.
  if (dynamic_cast<const IndexIVFPQFastScan*>(&index) || dynamic_cast<const IndexPQFastScan*>(&index) ||
      dynamic_cast<const IndexIVFRaBitQFastScan*>(&index) || dynamic_cast<const IndexRaBitQFastScan*>(&index)) {
    detail::throw_error(__FILE__, __LINE__, "write_index: ", index.type_name(),
                        " (codes in fast-scan blocks) is not written in Faiss's format; write it in sextant's format");
  }
  if (const auto* map = dynamic_cast<const IndexIDMap*>(&index)) {
    dynamic_cast<const IndexIDMap2*>(map) ? tag("IxM2") : tag("IxMp");
    header(index);
    this->index(*map->index());
    vec(map->id_map());
  } else if (const auto* refine = dynamic_cast<const IndexRefine*>(&index)) {
    tag("IxRF");
    header(index);
    this->index(*refine->base());
    this->index(*refine->refine());
    scalar<float>(refine->k_factor());
  } else if (const auto* pt = dynamic_cast<const IndexPreTransform*>(&index)) {
    tag("IxPT");
    header(index);
    scalar<int32_t>(int32_t(pt->chain().size()));
    for (const auto& t : pt->chain()) transform(*t);
    this->index(*pt->index());
  } else if (dynamic_cast<const IndexHNSWFlat*>(&index)) {
    hnsw(static_cast<const IndexHNSW&>(index), "IHNf");
  } else if (dynamic_cast<const IndexHNSWSQ*>(&index)) {
    hnsw(static_cast<const IndexHNSW&>(index), "IHNs");
  } else if (dynamic_cast<const IndexHNSWPQ*>(&index)) {
    hnsw(static_cast<const IndexHNSW&>(index), "IHNp");
  } else if (const auto* ivfpq = dynamic_cast<const IndexIVFPQ*>(&index)) {
    tag("IwPQ");
    ivf_head(*ivfpq);
    scalar<uint8_t>(ivfpq->by_residual() ? 1 : 0);
    scalar<uint64_t>(ivfpq->code_size());
    pq_fields(ivfpq->pq());
    invlists(*ivfpq);
  } else if (const auto* ivfsq = dynamic_cast<const IndexIVFScalarQuantizer*>(&index)) {
    tag("IwSq");
    ivf_head(*ivfsq);
    sq_fields(ivfsq->sq());
    scalar<uint64_t>(ivfsq->code_size());
    scalar<uint8_t>(ivfsq->by_residual() ? 1 : 0);
    invlists(*ivfsq);
  } else if (const auto* ivfrq = dynamic_cast<const IndexIVFRaBitQ*>(&index)) {
    tag(ivfrq->rabitq().nb_bits() > 1 ? "Iwrr" : "Iwrq");
    ivf_head(*ivfrq);
    rabitq_fields(ivfrq->rabitq());
    scalar<uint64_t>(ivfrq->code_size());
    scalar<uint8_t>(1);  // by_residual
    scalar<uint8_t>(uint8_t(ivfrq->qb()));
    invlists(*ivfrq);
  } else if (const auto* rq = dynamic_cast<const IndexRaBitQ*>(&index)) {
    tag(rq->rabitq().nb_bits() > 1 ? "Ixrr" : "Ixrq");
    header(index);
    rabitq_fields(rq->rabitq());
    vec(rq->codes(), size_t(rq->ntotal()) * rq->code_size());
    vec(rq->center().data(), rq->center().size());
    scalar<uint8_t>(uint8_t(rq->qb()));
  } else if (const auto* ivfflat = dynamic_cast<const IndexIVFFlat*>(&index)) {
    tag("IwFl");
    ivf_head(*ivfflat);
    invlists(*ivfflat);
  } else if (const auto* pq = dynamic_cast<const IndexPQ*>(&index)) {
    tag("IxPq");
    header(index);
    pq_fields(pq->pq());
    vec(pq->codes(), size_t(pq->ntotal()) * pq->pq().code_size());
    pq_tail(pq->pq());
  } else if (const auto* sq = dynamic_cast<const IndexScalarQuantizer*>(&index)) {
    tag("IxSQ");
    header(index);
    sq_fields(sq->sq());
    vec(sq->codes(), size_t(sq->ntotal()) * sq->sq().code_size());
  } else if (const auto* flat = dynamic_cast<const IndexFlat*>(&index)) {
    this->flat(*flat);
  } else {
    detail::throw_error(__FILE__, __LINE__, "write_index: ", index.type_name(),
                        " has no Faiss file format; write it in sextant's format");
  }
}

}  // namespace

void write_faiss_file(const Index& index, ByteSink& out) { FaissWriter(out).index(index); }

}  // namespace sextant
