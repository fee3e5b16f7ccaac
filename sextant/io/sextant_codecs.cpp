// How each index type is stored in a sextant file: one write and one read
// function per type, and the table that registers them (sextant_codecs(), at
// the end). The common header (d, metric, is_trained, ntotal) is written and
// checked around these functions by sextant_format.cpp.
//
#include <cmath>
#include <type_traits>
#include <vector>

#include "sextant/IndexFlat.h"
#include "sextant/IndexHNSWQuantized.h"
#include "sextant/IndexFlatCodes.h"
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
#include "sextant/impl/BlockInvertedLists.h"
#include "sextant/impl/FastScan.h"
#include "sextant/impl/ReadOnlyInvertedLists.h"
#include "sextant/io/label_checks.h"
#include "sextant/io/quantizer_fields.h"
#include "sextant/io/sextant_codecs_hnsw.h"
#include "sextant/io/sextant_codecs_shards.h"
#include "sextant/io/sextant_format.h"

namespace sextant {

namespace {

template <class T>
const T& as(const Index& index) {
  return static_cast<const T&>(index);  // the codec table matched type_name()
}

// The object version of an index holding one product quantizer.
template <class T>
uint32_t pq_version(const Index& index) {
  return pq_object_version(as<T>(index).pq());
}

// A count that will size an allocation not backed byte-for-byte by the file
// (list headers, say) must not exceed the file's size.
void check_backed(ByteReader& in, uint64_t count, const char* what) {
  in.check(count <= in.size(), what, " = ", count, " is larger than the file could hold");
}

// ---------------------------------------------------------------- flat

void write_flat(const Index& index, SextantWriter& out) {
  const auto& flat = as<IndexFlat>(index);
  out.array(flat.vectors(), static_cast<size_t>(flat.ntotal()) * flat.d());
  out.array(flat.norms().data(), flat.norms().size());
}

// Flat, FlatL2 and FlatIP share a body; the tag fixes the class (and metric).
template <class Flat>
std::unique_ptr<Index> read_flat(const IndexHeader& h, SextantReader& in) {
  std::unique_ptr<IndexFlat> index;
  if constexpr (std::is_same_v<Flat, IndexFlat>) {
    index = std::make_unique<IndexFlat>(h.d, h.metric);
  } else {
    index = std::make_unique<Flat>(h.d);
    in.in().check(h.metric == index->metric(), index->type_name(), " must have metric ",
                  metric_name(index->metric()));
  }
  Storage<float> vectors = in.storage<float>("flat vectors");
  Storage<float> norms = in.storage<float>("flat norms");
  in.in().check(vectors.size() % h.d == 0 && vectors.size() / h.d == static_cast<size_t>(h.ntotal),
                "IndexFlat: ", vectors.size(), " floats do not make ntotal=", h.ntotal, " vectors of d=", h.d);
  in.in().check(norms.size() == (h.metric == MetricType::L2 ? static_cast<size_t>(h.ntotal) : 0),
                "IndexFlat: ", norms.size(), " norms for ", h.ntotal, " vectors");
  index->set_vectors(h.ntotal, std::move(vectors), std::move(norms));
  return index;
}

// ---------------------------------------------------------------- flat codes

// The codes of IndexScalarQuantizer and IndexPQ, after their quantizer's
// fields; a memory-mapped file lends them (the index is then read-only).
void write_flat_codes(const IndexFlatCodes& index, SextantWriter& out) {
  out.array(index.codes(), static_cast<size_t>(index.ntotal()) * index.code_size());
}

void read_flat_codes(const IndexHeader& h, SextantReader& in, IndexFlatCodes& index, const char* what) {
  Storage<uint8_t> codes = in.storage<uint8_t>(what);
  in.in().check(codes.size() == static_cast<size_t>(h.ntotal) * index.code_size(), index.type_name(), ": ",
                codes.size(), " code bytes for ", h.ntotal, " codes of ", index.code_size(), " bytes");
  index.set_codes(std::move(codes));
}

// ---------------------------------------------------------------- scalar quantizer

void write_sq(const Index& index, SextantWriter& out) {
  const auto& sq = as<IndexScalarQuantizer>(index);
  out.i32(static_cast<int32_t>(sq.sq().type()));
  out.array(sq.sq().trained().data(), sq.sq().trained().size());
  write_flat_codes(sq, out);
}

std::unique_ptr<Index> read_sq(const IndexHeader& h, SextantReader& in) {
  const QuantizerType type = read_qtype(in);
  auto index = std::make_unique<IndexScalarQuantizer>(h.d, type, h.metric);
  restore_sq(index->sq(), in.array<std::vector<float>>("scalar quantizer ranges"));
  read_flat_codes(h, in, *index, "scalar quantizer codes");
  return index;
}

// ---------------------------------------------------------------- product quantizer

void write_pq(const Index& index, SextantWriter& out) {
  const auto& pq = as<IndexPQ>(index);
  write_pq_params(pq.pq(), out);
  write_flat_codes(pq, out);
}

std::unique_ptr<Index> read_pq(const IndexHeader& h, SextantReader& in) {
  const auto [M, nbits] = read_pq_shape(h, in);
  auto index = std::make_unique<IndexPQ>(h.d, M, nbits, h.metric);
  restore_pq_centroids(index->pq(), h, in);
  read_flat_codes(h, in, *index, "PQ codes");
  return index;
}

// ---------------------------------------------------------------- RaBitQ

// Version 2 (more than 1 bit a dimension) starts with the bits.
template <class T>
uint32_t rabitq_version(const Index& index) {
  return as<T>(index).rabitq().nb_bits() > 1 ? 2 : 1;
}

int read_rabitq_bits(const IndexHeader& h, SextantReader& in) {
  return h.version >= 2 ? in.i32("RaBitQ nb_bits") : 1;  // the quantizer checks the range
}

// [nb_bits], qb, then the centroid (none until trained), then the codes.
void write_rabitq(const Index& index, SextantWriter& out) {
  const auto& rq = as<IndexRaBitQ>(index);
  if (rabitq_version<IndexRaBitQ>(index) >= 2) out.i32(rq.rabitq().nb_bits());
  out.i32(rq.qb());
  out.array(rq.center().data(), rq.center().size());
  write_flat_codes(rq, out);
}

std::unique_ptr<Index> read_rabitq(const IndexHeader& h, SextantReader& in) {
  auto index = std::make_unique<IndexRaBitQ>(h.d, h.metric, read_rabitq_bits(h, in));
  index->set_qb(in.i32("RaBitQ qb"));  // checks the range
  auto center = in.array<std::vector<float>>("RaBitQ centroid");
  if (!center.empty()) index->set_center(std::move(center));  // checks d values, finite
  read_flat_codes(h, in, *index, "RaBitQ codes");
  return index;
}

// The fast-scan layout: the same fields, the codes in the plain layout.
void write_rabitq_fast_scan(const Index& index, SextantWriter& out) {
  const auto& rq = as<IndexRaBitQFastScan>(index);
  if (rabitq_version<IndexRaBitQFastScan>(index) >= 2) out.i32(rq.rabitq().nb_bits());
  out.i32(rq.qb());
  out.array(rq.center().data(), rq.center().size());
  const size_t cs = rq.sa_code_size();
  std::vector<uint8_t> codes(size_t(rq.ntotal()) * cs);
  for (idx_t i = 0; i < rq.ntotal(); i++) rq.get_code(i, codes.data() + i * cs);
  out.array(codes.data(), codes.size());
}

std::unique_ptr<Index> read_rabitq_fast_scan(const IndexHeader& h, SextantReader& in) {
  auto index = std::make_unique<IndexRaBitQFastScan>(h.d, h.metric, read_rabitq_bits(h, in));
  index->set_qb(in.i32("RaBitQ qb"));
  auto center = in.array<std::vector<float>>("RaBitQ centroid");
  if (!center.empty()) index->set_center(std::move(center));
  const auto codes = in.array<std::vector<uint8_t>>("RaBitQ codes");
  in.in().check(codes.size() == size_t(h.ntotal) * index->sa_code_size(), "IndexRaBitQFastScan: ", codes.size(),
                " code bytes for ", h.ntotal, " codes");
  in.in().check(h.ntotal == 0 || index->is_trained(), "IndexRaBitQFastScan holds codes but has no centroid");
  // As many codes as the bytes hold (a huge ntotal could wrap the check above; the header check catches it).
  index->add_sa_codes(idx_t(codes.size() / index->sa_code_size()), codes.data());  // checks the factors
  return index;
}

// ---------------------------------------------------------------- IVF

// The IVF fields before the encoder: nlist, by_residual, search defaults,
// next id, direct map type, then the coarse quantizer object.
void write_ivf_head(const IndexIVF& ivf, SextantWriter& out) {
  out.u64(ivf.nlist());
  out.u8(ivf.by_residual() ? 1 : 0);
  out.i64(ivf.nprobe());
  out.i64(ivf.max_codes());
  out.i64(ivf.next_id());
  out.u8(static_cast<uint8_t>(ivf.direct_map_type()));
  out.index(*ivf.quantizer());
}

// The lists after the encoder: sizes, then every id, then every code, list after list.
void write_ivf_lists(const IndexIVF& ivf, SextantWriter& out) {
  const InvertedLists& lists = ivf.invlists();
  std::vector<uint64_t> sizes(lists.nlist());
  uint64_t total = 0;
  for (size_t l = 0; l < lists.nlist(); l++) total += sizes[l] = lists.list_size(l);
  out.array(sizes.data(), sizes.size());
  out.array_header(total, sizeof(idx_t));
  for (size_t l = 0; l < lists.nlist(); l++) out.raw(lists.ids(l), sizes[l] * sizeof(idx_t));
  out.array_header(total * lists.code_size(), 1);
  // Codes are stored in the plain layout; fast-scan lists keep theirs in blocks.
  const bool blocked = dynamic_cast<const BlockInvertedLists*>(&lists) != nullptr;
  std::vector<uint8_t> code(lists.code_size());
  for (size_t l = 0; l < lists.nlist(); l++) {
    if (!blocked) {
      out.raw(lists.codes(l), sizes[l] * lists.code_size());
      continue;
    }
    for (size_t i = 0; i < sizes[l]; i++) {
      lists.get_code(l, i, code.data());
      out.raw(code.data(), code.size());
    }
  }
}

struct IvfHead {
  size_t nlist;
  bool by_residual;
  int64_t nprobe, max_codes, next_id;
  DirectMapType direct_map;
  std::shared_ptr<Index> quantizer;
};

IvfHead read_ivf_head(const IndexHeader& h, SextantReader& in) {
  IvfHead head;
  const uint64_t nlist = in.u64("nlist");
  in.in().check(nlist >= 1, "nlist must be >= 1");
  check_backed(in.in(), nlist, "nlist");
  head.nlist = nlist;
  head.by_residual = in.boolean("by_residual");
  head.nprobe = in.i64("nprobe");
  head.max_codes = in.i64("max_codes");
  head.next_id = in.i64("next_id");
  in.in().check(head.nprobe >= 1 && head.max_codes >= 0 && head.next_id >= 0,
                "IVF defaults out of range: nprobe=", head.nprobe, ", max_codes=", head.max_codes,
                ", next_id=", head.next_id);
  const uint8_t dm = in.u8("direct map type");
  in.in().check(dm <= 2, "unknown direct map type ", int(dm));
  head.direct_map = static_cast<DirectMapType>(dm);
  head.quantizer = in.index("coarse quantizer");
  in.in().check(head.quantizer->d() == h.d && head.quantizer->metric() == h.metric,
                "the coarse quantizer (d=", head.quantizer->d(), ", ", metric_name(head.quantizer->metric()),
                ") does not match its IVF index (d=", h.d, ", ", metric_name(h.metric), ")");
  in.in().check(!h.is_trained || head.quantizer->ntotal() == idx_t(nlist), "a trained IVF index with nlist=",
                nlist, " needs a quantizer with nlist centroids, got ", head.quantizer->ntotal());
  in.in().check(labels_within_ntotal(*head.quantizer), "the coarse quantizer returns labels that are not list numbers");
  return head;
}

void read_ivf_lists(const IndexHeader& h, const IvfHead& head, SextantReader& in, IndexIVF& ivf) {
  ByteReader& r = in.in();
  const auto sizes = in.array<std::vector<uint64_t>>("inverted list sizes");
  r.check(sizes.size() == head.nlist, sizes.size(), " inverted list sizes for nlist=", head.nlist);
  std::vector<size_t> offsets(head.nlist + 1, 0);
  for (size_t l = 0; l < head.nlist; l++) {
    r.check(sizes[l] <= static_cast<uint64_t>(h.ntotal) - offsets[l], "inverted list sizes add up to more than ntotal=",
            h.ntotal);
    offsets[l + 1] = offsets[l] + sizes[l];
  }
  r.check(offsets.back() == static_cast<size_t>(h.ntotal), "inverted list sizes add up to ", offsets.back(),
          ", but ntotal=", h.ntotal);
  const size_t cs = ivf.code_size();
  Storage<idx_t> ids = in.storage<idx_t>("inverted list ids");
  r.check(ids.size() == offsets.back(), ids.size(), " inverted list ids for ", offsets.back(), " entries");
  Storage<uint8_t> codes = in.storage<uint8_t>("inverted list codes");
  r.check(codes.size() == offsets.back() * cs, codes.size(), " inverted list code bytes for ", offsets.back(),
          " codes of ", cs, " bytes");
  if (auto* blocked = dynamic_cast<const BlockInvertedLists*>(&ivf.invlists())) {
    // Fast-scan lists are rebuilt in their block layout (copied, never mapped).
    auto lists = std::make_unique<BlockInvertedLists>(head.nlist, blocked->layout());
    for (size_t l = 0; l < head.nlist; l++) {
      if (sizes[l] > 0) lists->add_entries(l, sizes[l], ids.data() + offsets[l], codes.data() + offsets[l] * cs);
    }
    ivf.replace_invlists(std::move(lists));
  } else if (ids.is_borrowed() && codes.is_borrowed()) {
    ivf.replace_invlists(std::make_unique<ReadOnlyInvertedLists>(cs, std::move(offsets), ids.data(), codes.data(),
                                                                 r.keepalive()));
  } else {
    auto lists = std::make_unique<ArrayInvertedLists>(head.nlist, cs);
    for (size_t l = 0; l < head.nlist; l++) {
      if (sizes[l] > 0) lists->add_entries(l, sizes[l], ids.data() + offsets[l], codes.data() + offsets[l] * cs);
    }
    ivf.replace_invlists(std::move(lists));
  }
}

void finish_ivf(const IndexHeader& h, const IvfHead& head, IndexIVF& ivf) {
  ivf.set_nprobe(head.nprobe);
  ivf.set_max_codes(head.max_codes);
  ivf.restore_state(head.next_id, h.is_trained);
  ivf.make_direct_map(head.direct_map);  // rebuilt from the lists; checks the ids for an array map
}

void write_ivf_flat(const Index& index, SextantWriter& out) {
  const auto& ivf = as<IndexIVFFlat>(index);
  write_ivf_head(ivf, out);
  write_ivf_lists(ivf, out);
}

std::unique_ptr<Index> read_ivf_flat(const IndexHeader& h, SextantReader& in) {
  IvfHead head = read_ivf_head(h, in);
  in.in().check(!head.by_residual, "IndexIVFFlat does not store residuals");
  auto ivf = std::make_unique<IndexIVFFlat>(head.quantizer, h.d, head.nlist, h.metric);
  read_ivf_lists(h, head, in, *ivf);
  finish_ivf(h, head, *ivf);
  return ivf;
}

void write_ivf_sq(const Index& index, SextantWriter& out) {
  const auto& ivf = as<IndexIVFScalarQuantizer>(index);
  write_ivf_head(ivf, out);
  out.i32(static_cast<int32_t>(ivf.sq().type()));
  out.array(ivf.sq().trained().data(), ivf.sq().trained().size());
  write_ivf_lists(ivf, out);
}

std::unique_ptr<Index> read_ivf_sq(const IndexHeader& h, SextantReader& in) {
  IvfHead head = read_ivf_head(h, in);
  const QuantizerType type = read_qtype(in);
  auto ivf =
      std::make_unique<IndexIVFScalarQuantizer>(head.quantizer, h.d, head.nlist, type, h.metric, head.by_residual);
  restore_sq(ivf->sq(), in.array<std::vector<float>>("scalar quantizer ranges"));
  read_ivf_lists(h, head, in, *ivf);
  finish_ivf(h, head, *ivf);
  return ivf;
}

void write_ivf_rabitq(const Index& index, SextantWriter& out) {
  const auto& ivf = as<IndexIVFRaBitQ>(index);
  write_ivf_head(ivf, out);
  if (rabitq_version<IndexIVFRaBitQ>(index) >= 2) out.i32(ivf.rabitq().nb_bits());
  out.i32(ivf.qb());
  write_ivf_lists(ivf, out);
}

// Both layouts store the same plain codes.
template <class IVFRaBitQ>
std::unique_ptr<Index> read_ivf_rabitq(const IndexHeader& h, SextantReader& in) {
  IvfHead head = read_ivf_head(h, in);
  in.in().check(head.by_residual, "IndexIVFRaBitQ codes are always taken against the list centroid");
  auto ivf = std::make_unique<IVFRaBitQ>(head.quantizer, h.d, head.nlist, h.metric, read_rabitq_bits(h, in));
  ivf->set_qb(in.i32("RaBitQ qb"));
  read_ivf_lists(h, head, in, *ivf);
  finish_ivf(h, head, *ivf);
  return ivf;
}

void write_ivf_pq(const Index& index, SextantWriter& out) {
  const auto& ivf = as<IndexIVFPQ>(index);
  write_ivf_head(ivf, out);
  write_pq_params(ivf.pq(), out);
  out.u8(ivf.uses_precomputed_table() ? 1 : 0);
  write_ivf_lists(ivf, out);
}

std::unique_ptr<Index> read_ivf_pq(const IndexHeader& h, SextantReader& in) {
  IvfHead head = read_ivf_head(h, in);
  const auto [M, nbits] = read_pq_shape(h, in);
  auto ivf = std::make_unique<IndexIVFPQ>(head.quantizer, h.d, head.nlist, M, nbits, h.metric, head.by_residual);
  restore_pq_centroids(ivf->pq(), h, in);
  const bool precomputed = in.boolean("uses precomputed table");
  read_ivf_lists(h, head, in, *ivf);
  finish_ivf(h, head, *ivf);
  // The table is derived data: rebuilt rather than stored (as Faiss does).
  ivf->set_use_precomputed_table(precomputed);
  return ivf;
}

std::unique_ptr<Index> read_ivf_pq_fast_scan(const IndexHeader& h, SextantReader& in) {
  IvfHead head = read_ivf_head(h, in);
  const auto [M, nbits] = read_pq_shape(h, in);
  in.in().check(nbits == 4, "IndexIVFPQFastScan has 4-bit codes, got nbits=", nbits);
  in.in().check(M <= fastscan::kMaxM, "IndexIVFPQFastScan supports up to ", fastscan::kMaxM,
                " sub-quantizers, got M=", M);
  auto ivf = std::make_unique<IndexIVFPQFastScan>(head.quantizer, h.d, head.nlist, M, h.metric, head.by_residual);
  restore_pq_centroids(ivf->pq(), h, in);
  const bool precomputed = in.boolean("uses precomputed table");
  read_ivf_lists(h, head, in, *ivf);
  finish_ivf(h, head, *ivf);
  ivf->set_use_precomputed_table(precomputed);
  return ivf;
}

// ---------------------------------------------------------------- PQ fast-scan

void write_pq_fast_scan(const Index& index, SextantWriter& out) {
  const auto& fs = as<IndexPQFastScan>(index);
  write_pq_params(fs.pq(), out);
  const size_t cs = fs.pq().code_size();
  std::vector<uint8_t> codes(static_cast<size_t>(fs.ntotal()) * cs);
  for (idx_t i = 0; i < fs.ntotal(); i++) fastscan::get_code(fs.blocks(), fs.pq().M(), i, codes.data() + i * cs);
  out.array(codes.data(), codes.size());  // plain layout: the blocks are rebuilt on reading
}

std::unique_ptr<Index> read_pq_fast_scan(const IndexHeader& h, SextantReader& in) {
  const auto [M, nbits] = read_pq_shape(h, in);
  in.in().check(nbits == 4, "IndexPQFastScan has 4-bit codes, got nbits=", nbits);
  in.in().check(M <= fastscan::kMaxM, "IndexPQFastScan supports up to ", fastscan::kMaxM,
                " sub-quantizers, got M=", M);
  auto index = std::make_unique<IndexPQFastScan>(h.d, M, h.metric);
  restore_pq_centroids(index->pq(), h, in);
  const auto codes = in.array<std::vector<uint8_t>>("PQ fast-scan codes");
  in.in().check(codes.size() == static_cast<size_t>(h.ntotal) * index->pq().code_size(), "IndexPQFastScan: ",
                codes.size(), " code bytes for ", h.ntotal, " codes of ", index->pq().code_size(), " bytes");
  in.in().check(h.ntotal == 0 || index->is_trained(), "IndexPQFastScan holds codes but has no codebooks");
  index->add_sa_codes(idx_t(codes.size() / index->pq().code_size()), codes.data());  // as many as the bytes hold
  return index;
}

// ---------------------------------------------------------------- transforms

// Transforms are not indexes: each is a kind tag, its dimensions, whether it
// is trained, its parameters, and for linear maps the matrix A and offset b.
void write_transform(const VectorTransform& t, SextantWriter& out) {
  uint32_t kind = fourcc("L2NM");
  if (dynamic_cast<const LinearTransform*>(&t)) kind = fourcc("LINR");
  if (dynamic_cast<const PCAMatrix*>(&t)) kind = fourcc("PCA_");
  if (dynamic_cast<const OPQMatrix*>(&t)) kind = fourcc("OPQ_");
  if (dynamic_cast<const RandomRotationMatrix*>(&t)) kind = fourcc("RROT");
  SEXTANT_CHECK(kind != fourcc("L2NM") || dynamic_cast<const NormalizationTransform*>(&t),
                "write_index: no file format for the transform ", t.type_name());
  out.u32(kind);
  out.i32(t.d_in());
  out.i32(t.d_out());
  out.u8(t.is_trained() ? 1 : 0);
  if (auto* pca = dynamic_cast<const PCAMatrix*>(&t)) {
    out.f32(pca->eigen_power());
    out.u8(pca->random_rotation() ? 1 : 0);
    out.array(pca->eigenvalues().data(), pca->eigenvalues().size());
    out.array(pca->mean().data(), pca->mean().size());
  }
  if (auto* opq = dynamic_cast<const OPQMatrix*>(&t)) out.i32(opq->M());
  if (auto* linear = dynamic_cast<const LinearTransform*>(&t)) {
    out.array(linear->A().data(), linear->A().size());
    out.array(linear->b().data(), linear->b().size());
  }
}

std::shared_ptr<VectorTransform> read_transform(SextantReader& in, int d_in) {
  ByteReader& r = in.in();
  const uint32_t kind = in.u32("transform kind");
  const int32_t din = in.i32("transform d_in"), dout = in.i32("transform d_out");
  const bool trained = in.boolean("transform is_trained");
  r.check(din == d_in, "a transform takes d_in=", din, " where the chain gives ", d_in);
  r.check(dout >= 1 && dout <= kMaxFileDimension, "transform d_out=", dout, " is out of range");
  std::shared_ptr<LinearTransform> linear;
  if (kind == fourcc("L2NM")) {
    r.check(din == dout, "a normalisation keeps the dimension");
    return std::make_shared<NormalizationTransform>(din);
  } else if (kind == fourcc("PCA_")) {
    const float eigen_power = in.f32("PCA eigen_power");
    const bool rotation = in.boolean("PCA random_rotation");
    r.check(std::isfinite(eigen_power) && dout <= din, "PCA parameters out of range");
    auto pca = std::make_shared<PCAMatrix>(din, dout, eigen_power, rotation);
    auto values = in.array<std::vector<float>>("PCA eigenvalues");
    auto mean = in.array<std::vector<float>>("PCA mean");
    auto A = in.array<std::vector<float>>("PCA matrix");
    auto b = in.array<std::vector<float>>("PCA offset");
    if (trained) pca->restore(std::move(A), std::move(b), std::move(values), std::move(mean));
    return pca;
  } else if (kind == fourcc("OPQ_")) {
    const int32_t M = in.i32("OPQ M");
    r.check(M >= 1 && dout % M == 0, "OPQ M=", M, " must divide d_out=", dout);
    linear = std::make_shared<OPQMatrix>(din, M, dout);
  } else if (kind == fourcc("RROT")) {
    linear = std::make_shared<RandomRotationMatrix>(din, dout);
  } else if (kind == fourcc("LINR")) {
    linear = std::make_shared<LinearTransform>(din, dout);
  } else {
    r.fail("unknown transform kind '", fourcc_text(kind), "'");
  }
  auto A = in.array<std::vector<float>>("transform matrix");
  auto b = in.array<std::vector<float>>("transform offset");
  if (trained) linear->set_matrix(std::move(A), std::move(b));  // checks sizes and finiteness
  return linear;
}

void write_pretransform(const Index& index, SextantWriter& out) {
  const auto& pt = as<IndexPreTransform>(index);
  out.u32(static_cast<uint32_t>(pt.chain().size()));
  for (const auto& t : pt.chain()) write_transform(*t, out);
  out.index(*pt.index());
}

std::unique_ptr<Index> read_pretransform(const IndexHeader& h, SextantReader& in) {
  const uint32_t count = in.u32("number of transforms");
  in.in().check(count >= 1 && count <= 16, "a transform chain of ", count, " transforms");
  std::vector<std::shared_ptr<VectorTransform>> chain;
  int dim = h.d;
  for (uint32_t i = 0; i < count; i++) {
    chain.push_back(read_transform(in, dim));
    dim = chain.back()->d_out();
  }
  std::shared_ptr<Index> inner = in.index("pre-transformed index");
  in.in().check(labels_within_ntotal(*inner), "the pre-transformed index returns labels that are not positions");
  return std::make_unique<IndexPreTransform>(std::move(chain), std::move(inner));  // checks the dimensions
}

// ---------------------------------------------------------------- id maps, refine

void write_idmap(const Index& index, SextantWriter& out) {
  const auto& map = as<IndexIDMap>(index);
  out.index(*map.index());
  out.array(map.id_map().data(), map.id_map().size());
}

template <class Map>
std::unique_ptr<Index> read_idmap(const IndexHeader&, SextantReader& in) {
  std::shared_ptr<Index> sub = in.index("IDMap sub-index");
  auto ids = in.array<std::vector<idx_t>>("id map");
  in.in().check(labels_within_ntotal(*sub), "the IDMap sub-index returns labels that are not positions");
  return std::make_unique<Map>(std::move(sub), std::move(ids));  // checks sizes (and uniqueness for IDMap2)
}

void write_refine(const Index& index, SextantWriter& out) {
  const auto& refine = as<IndexRefine>(index);
  out.f32(refine.k_factor());
  out.index(*refine.base());
  out.index(*refine.refine());
}

template <bool kFlat>
std::unique_ptr<Index> read_refine(const IndexHeader&, SextantReader& in) {
  const float k_factor = in.f32("k_factor");
  std::shared_ptr<Index> base = in.index("refine base index");
  std::shared_ptr<Index> refine = in.index("refine index");
  in.in().check(labels_within_ntotal(*base), "the refine base index returns labels that are not positions");
  std::unique_ptr<IndexRefine> index;
  if constexpr (kFlat) {
    auto flat = std::dynamic_pointer_cast<IndexFlat>(refine);
    in.in().check(flat != nullptr, "IndexRefineFlat needs an IndexFlat refine index, got ", refine->type_name());
    index = std::make_unique<IndexRefineFlat>(std::move(base), std::move(flat));
  } else {
    index = std::make_unique<IndexRefine>(std::move(base), std::move(refine));
  }
  index->set_k_factor(k_factor);  // checks k_factor >= 1
  return index;
}

}  // namespace

std::span<const IndexCodec> sextant_codecs() {
  // One row per index type. Tags are four characters and never reused.
  static const IndexCodec kCodecs[] = {
      {fourcc("FLAT"), "IndexFlat", write_flat, read_flat<IndexFlat>},
      {fourcc("FLL2"), "IndexFlatL2", write_flat, read_flat<IndexFlatL2>},
      {fourcc("FLIP"), "IndexFlatIP", write_flat, read_flat<IndexFlatIP>},
      {fourcc("SQ__"), "IndexScalarQuantizer", write_sq, read_sq},
      {fourcc("PQ__"), "IndexPQ", write_pq, read_pq, 2, pq_version<IndexPQ>},
      {fourcc("IVFL"), "IndexIVFFlat", write_ivf_flat, read_ivf_flat},
      {fourcc("IVSQ"), "IndexIVFScalarQuantizer", write_ivf_sq, read_ivf_sq},
      {fourcc("IVPQ"), "IndexIVFPQ", write_ivf_pq, read_ivf_pq, 2, pq_version<IndexIVFPQ>},
      {fourcc("IVFS"), "IndexIVFPQFastScan", write_ivf_pq, read_ivf_pq_fast_scan, 2, pq_version<IndexIVFPQ>},
      {fourcc("PQFS"), "IndexPQFastScan", write_pq_fast_scan, read_pq_fast_scan, 2, pq_version<IndexPQFastScan>},
      {fourcc("PRET"), "IndexPreTransform", write_pretransform, read_pretransform},
      {fourcc("IDMP"), "IndexIDMap", write_idmap, read_idmap<IndexIDMap>},
      {fourcc("IDM2"), "IndexIDMap2", write_idmap, read_idmap<IndexIDMap2>},
      {fourcc("RFN_"), "IndexRefine", write_refine, read_refine<false>},
      {fourcc("RFNF"), "IndexRefineFlat", write_refine, read_refine<true>},
      {fourcc("HNSF"), "IndexHNSWFlat", write_hnsw_flat, read_hnsw_flat},
      {fourcc("HNSQ"), "IndexHNSWSQ", write_hnsw_sq, read_hnsw_sq},
      {fourcc("HNPQ"), "IndexHNSWPQ", write_hnsw_pq, read_hnsw_pq, 2, pq_version<IndexHNSWPQ>},
      {fourcc("SHRD"), "IndexShards", write_shards, read_shards},
      {fourcc("REPL"), "IndexReplicas", write_replicas, read_replicas},
      {fourcc("RBQ_"), "IndexRaBitQ", write_rabitq, read_rabitq, 2, rabitq_version<IndexRaBitQ>},
      {fourcc("RBQF"), "IndexRaBitQFastScan", write_rabitq_fast_scan, read_rabitq_fast_scan, 2,
       rabitq_version<IndexRaBitQFastScan>},
      {fourcc("IVRB"), "IndexIVFRaBitQ", write_ivf_rabitq, read_ivf_rabitq<IndexIVFRaBitQ>, 2,
       rabitq_version<IndexIVFRaBitQ>},
      {fourcc("IVRF"), "IndexIVFRaBitQFastScan", write_ivf_rabitq, read_ivf_rabitq<IndexIVFRaBitQFastScan>, 2,
       rabitq_version<IndexIVFRaBitQ>},
  };
  return kCodecs;
}

}  // namespace sextant
