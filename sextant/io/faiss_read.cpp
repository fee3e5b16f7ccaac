// Reader of Faiss index files: the core index types (flat, SQ, PQ, IVF, id
// maps, refine). HNSW graphs and transforms are in faiss_graph.cpp.
#include <cctype>
#include <cmath>
#include <cstring>
#include <vector>

#include "sextant/IndexFlat.h"
#include "sextant/IndexIDMap.h"
#include "sextant/IndexIVFFlat.h"
#include "sextant/IndexIVFPQ.h"
#include "sextant/IndexIVFRaBitQ.h"
#include "sextant/IndexIVFRaBitQFastScan.h"
#include "sextant/IndexIVFScalarQuantizer.h"
#include "sextant/IndexPQ.h"
#include "sextant/IndexRaBitQ.h"
#include "sextant/IndexRaBitQFastScan.h"
#include "sextant/IndexRefine.h"
#include "sextant/IndexScalarQuantizer.h"
#include "sextant/impl/BlockInvertedLists.h"
#include "sextant/impl/RaBitQFastScan.h"
#include "sextant/io/faiss_format.h"
#include "sextant/io/label_checks.h"
#include "sextant/io/faiss_parser.h"
#include "sextant/io/sextant_format.h"

namespace sextant {

FaissHeader read_faiss_header(FaissParser& p, const char* type) {
  ByteReader& in = p.in();
  FaissHeader h;
  h.d = in.scalar<int32_t>("d");
  in.check(h.d >= 1 && h.d <= kMaxFileDimension, type, ": d must be in [1, ", kMaxFileDimension, "], got ", h.d);
  h.ntotal = in.scalar<int64_t>("ntotal");
  in.check(h.ntotal >= 0, type, ": ntotal must be >= 0, got ", h.ntotal);
  in.scalar<int64_t>("dummy");
  in.scalar<int64_t>("dummy");
  h.is_trained = p.boolean("is_trained");
  const int32_t metric = in.scalar<int32_t>("metric_type");
  if (metric > 1) in.scalar<float>("metric_arg");
  in.check(metric == 0 || metric == 1, type, ": Faiss metric type ", metric,
           " is not supported (sextant has L2 and inner product)");
  h.metric = static_cast<MetricType>(metric);
  return h;
}

namespace {

// The converted index must agree with the header Faiss wrote.
std::unique_ptr<Index> checked(std::unique_ptr<Index> index, const FaissHeader& h, ByteReader& in) {
  in.check(index->d() == h.d && index->metric() == h.metric && index->ntotal() == h.ntotal, index->type_name(),
           ": the header says d=", h.d, ", ", metric_name(h.metric), ", ntotal=", h.ntotal,
           " but the stored data make d=", index->d(), ", ", metric_name(index->metric()), ", ntotal=",
           index->ntotal());
  in.check(index->is_trained() || index->ntotal() == 0, index->type_name(), " holds ", index->ntotal(),
           " vectors but is not trained");
  return index;
}

// ---------------------------------------------------------------- flat

std::unique_ptr<Index> read_flat(FaissParser& p, uint32_t tag) {
  ByteReader& in = p.in();
  const FaissHeader h = read_faiss_header(p, "IndexFlat");
  std::unique_ptr<IndexFlat> index;
  if (tag == fourcc("IxF2")) index = std::make_unique<IndexFlatL2>(h.d);
  else if (tag == fourcc("IxFI")) index = std::make_unique<IndexFlatIP>(h.d);
  else index = std::make_unique<IndexFlat>(h.d, h.metric);
  in.check(index->metric() == h.metric, "IndexFlat: the type code and the metric disagree");
  const uint64_t nfloats = in.scalar<uint64_t>("flat vector count");  // stored in units of 4 bytes
  Storage<float> vectors = in.storage_array<float>(nfloats, "flat vectors");
  in.check(vectors.size() % h.d == 0 && vectors.size() / h.d == static_cast<size_t>(h.ntotal), "IndexFlat: ",
           vectors.size(), " floats do not make ntotal=", h.ntotal, " vectors of d=", h.d);
  index->set_vectors(h.ntotal, std::move(vectors));
  return checked(std::move(index), h, in);
}

// ---------------------------------------------------------------- scalar quantizer

struct FaissSQ {
  QuantizerType type;
  std::vector<float> trained;
};

FaissSQ read_sq(FaissParser& p, int d) {
  ByteReader& in = p.in();
  const int32_t qtype = in.scalar<int32_t>("scalar quantizer type");
  in.check(qtype >= 0 && qtype <= static_cast<int>(QuantizerType::QT_8bit_direct_signed),
           "Faiss scalar quantizer type ", qtype, " is not supported");
  const int32_t rangestat = in.scalar<int32_t>("rangestat");
  in.scalar<float>("rangestat_arg");
  in.check(rangestat >= 0 && rangestat <= 3, "unknown scalar quantizer rangestat ", rangestat);
  const uint64_t sq_d = in.scalar<uint64_t>("scalar quantizer d");
  in.check(sq_d == static_cast<uint64_t>(d), "the scalar quantizer has d=", sq_d, ", the index d=", d);
  const uint64_t code_size = in.scalar<uint64_t>("scalar quantizer code size");
  FaissSQ sq{static_cast<QuantizerType>(qtype), p.vec<std::vector<float>>("scalar quantizer ranges")};
  const size_t expected = ScalarQuantizer(d, sq.type).code_size();
  in.check(code_size == expected, "scalar quantizer code size ", code_size, ", expected ", expected);
  return sq;
}

void restore_sq(ScalarQuantizer& sq, std::vector<float> trained) {
  if (!trained.empty()) sq.set_trained(std::move(trained));
}

std::unique_ptr<Index> read_index_sq(FaissParser& p) {
  ByteReader& in = p.in();
  const FaissHeader h = read_faiss_header(p, "IndexScalarQuantizer");
  FaissSQ sq = read_sq(p, h.d);
  auto index = std::make_unique<IndexScalarQuantizer>(h.d, sq.type, h.metric);
  restore_sq(index->sq(), std::move(sq.trained));
  const uint64_t n = in.scalar<uint64_t>("code bytes");
  Storage<uint8_t> codes = in.storage_array<uint8_t>(n, "scalar quantizer codes");
  in.check(codes.size() == static_cast<size_t>(h.ntotal) * index->sq().code_size(), "IndexScalarQuantizer: ",
           codes.size(), " code bytes for ", h.ntotal, " codes");
  index->set_codes(std::move(codes));
  return checked(std::move(index), h, in);
}

// ---------------------------------------------------------------- product quantizer

struct FaissPQ {
  size_t M, nbits;
  std::vector<float> centroids;
};

FaissPQ read_pq(FaissParser& p, int d) {
  ByteReader& in = p.in();
  const uint64_t pq_d = in.scalar<uint64_t>("PQ d"), M = in.scalar<uint64_t>("PQ M"),
                 nbits = in.scalar<uint64_t>("PQ nbits");
  in.check(pq_d == static_cast<uint64_t>(d), "the product quantizer has d=", pq_d, ", the index d=", d);
  in.check(M >= 1 && M <= pq_d && pq_d % M == 0, "PQ M=", M, " must divide d=", pq_d);
  in.check(nbits >= 1 && nbits <= 16, "PQ nbits=", nbits, " is not supported (1 to 16)");
  return {M, nbits, p.vec<std::vector<float>>("PQ centroids")};
}

// Faiss stores an untrained quantizer's codebooks as zeros: only a trained index's are kept.
void restore_pq(ProductQuantizer& pq, std::vector<float> centroids, bool trained) {
  if (trained && !centroids.empty()) pq.set_centroids(std::move(centroids));  // checks the count
}

std::unique_ptr<Index> read_index_pq(FaissParser& p, uint32_t tag) {
  ByteReader& in = p.in();
  FaissHeader h = read_faiss_header(p, "IndexPQ");
  FaissPQ pq = read_pq(p, h.d);
  const uint64_t n = in.scalar<uint64_t>("code bytes");
  Storage<uint8_t> codes = in.storage_array<uint8_t>(n, "PQ codes");
  if (tag == fourcc("IxPq") || tag == fourcc("IxPo")) {
    in.scalar<int32_t>("search_type");
    p.boolean("encode_signs");
    in.scalar<int32_t>("polysemous_ht");
  }
  // Faiss's oldest PQ files say inner product but meant L2 (Faiss forces L2 too).
  if (tag != fourcc("IxPq")) h.metric = MetricType::L2;
  auto index = std::make_unique<IndexPQ>(h.d, pq.M, pq.nbits, h.metric);
  restore_pq(index->pq(), std::move(pq.centroids), h.is_trained);
  in.check(codes.size() == static_cast<size_t>(h.ntotal) * index->pq().code_size(), "IndexPQ: ", codes.size(),
           " code bytes for ", h.ntotal, " codes");
  index->set_codes(std::move(codes));
  return checked(std::move(index), h, in);
}

// ---------------------------------------------------------------- RaBitQ

// Faiss's RaBitQuantizer fields: d, code_size, metric, then (the multi-bit
// and fast-scan types' format) the bits a dimension. Returns the bits.
int read_rabitq_fields(FaissParser& p, const FaissHeader& h, bool with_bits = false) {
  ByteReader& in = p.in();
  const uint64_t d = in.scalar<uint64_t>("RaBitQ d"), code_size = in.scalar<uint64_t>("RaBitQ code size");
  const int32_t metric = in.scalar<int32_t>("RaBitQ metric");
  in.check(d == uint64_t(h.d), "the RaBitQ quantizer has d=", d, ", the index d=", h.d);
  in.check(metric == int32_t(h.metric), "the RaBitQ quantizer's metric ", metric, " differs from the index's");
  const uint64_t bits = with_bits ? in.scalar<uint64_t>("RaBitQ bits") : 1;
  in.check(bits >= 1 && bits <= uint64_t(RaBitQuantizer::kMaxBits), "RaBitQ bits ", bits, " is out of range [1, ",
           RaBitQuantizer::kMaxBits, "]");
  const size_t expected = RaBitQuantizer(d, h.metric, int(bits)).code_size();
  in.check(code_size == expected, "RaBitQ code size ", code_size, ", expected ", expected, " (", bits,
           " bits a dimension)");
  return int(bits);
}

// The centroid of a flat RaBitQ index: empty when untrained, the origin when
// a trained index stored none.
std::vector<float> read_rabitq_center(FaissParser& p, const FaissHeader& h, const char* type) {
  ByteReader& in = p.in();
  auto center = p.vec<std::vector<float>>("RaBitQ centroid");
  in.check(center.empty() || center.size() == size_t(h.d), type, ": the centroid has ", center.size(), " values, d=", h.d);
  in.check(center.empty() || h.is_trained, type, ": an untrained index with a centroid");
  if (h.is_trained) center.resize(h.d, 0.0f);
  return center;
}

int read_qb(ByteReader& in) {
  const uint8_t qb = in.scalar<uint8_t>("RaBitQ qb");
  in.check(qb <= RaBitQuantizer::kMaxQueryBits, "RaBitQ qb=", int(qb), " is out of range [0, ",
           RaBitQuantizer::kMaxQueryBits, "]");
  return qb;
}

// Ixrq (1 bit) or Ixrr (the bits stored).
std::unique_ptr<Index> read_index_rabitq(FaissParser& p, bool with_bits) {
  ByteReader& in = p.in();
  const FaissHeader h = read_faiss_header(p, "IndexRaBitQ");
  auto index = std::make_unique<IndexRaBitQ>(h.d, h.metric, read_rabitq_fields(p, h, with_bits));
  const uint64_t n = in.scalar<uint64_t>("code bytes");
  Storage<uint8_t> codes = in.storage_array<uint8_t>(n, "RaBitQ codes");
  if (auto center = read_rabitq_center(p, h, "IndexRaBitQ"); !center.empty()) index->set_center(std::move(center));
  index->set_qb(read_qb(in));
  in.check(codes.size() == size_t(h.ntotal) * index->code_size(), "IndexRaBitQ: ", codes.size(),
           " code bytes for ", h.ntotal, " codes");
  index->set_codes(std::move(codes));
  return checked(std::move(index), h, in);
}

// ---------------------------------------------------------------- IVF

struct FaissIVFHead {
  FaissHeader h;
  size_t nlist = 0;
  int64_t nprobe = 1;
  std::shared_ptr<Index> quantizer;
  DirectMapType direct_map = DirectMapType::none;
  std::vector<std::vector<idx_t>> legacy_ids;  // per list, legacy "Iv" formats only
};

FaissIVFHead read_ivf_head(FaissParser& p, const char* type, bool legacy) {
  ByteReader& in = p.in();
  FaissIVFHead head;
  head.h = read_faiss_header(p, type);
  const uint64_t nlist = in.scalar<uint64_t>("nlist");
  in.check(nlist >= 1 && nlist <= in.size(), type, ": nlist=", nlist, " is out of range for this file");
  head.nlist = nlist;
  const uint64_t nprobe = in.scalar<uint64_t>("nprobe");
  in.check(nprobe >= 1 && nprobe <= (uint64_t(1) << 40), type, ": nprobe=", nprobe, " is out of range");
  head.nprobe = static_cast<int64_t>(nprobe);
  head.quantizer = p.index("coarse quantizer");
  in.check(head.quantizer->d() == head.h.d && head.quantizer->metric() == head.h.metric,
           "the coarse quantizer does not match its IVF index (d or metric)");
  in.check(!head.h.is_trained || head.quantizer->ntotal() == idx_t(nlist), type, ": nlist=", nlist,
           " but the coarse quantizer holds ", head.quantizer->ntotal(), " centroids");
  in.check(labels_within_ntotal(*head.quantizer), "the coarse quantizer returns labels that are not list numbers");
  if (legacy) {
    for (size_t l = 0; l < nlist; l++) head.legacy_ids.push_back(p.vec<std::vector<idx_t>>("legacy list ids"));
  }
  const int8_t dm = in.scalar<int8_t>("direct map type");
  in.check(dm >= 0 && dm <= 2, "unknown direct map type ", int(dm));
  head.direct_map = static_cast<DirectMapType>(dm);
  // The map's contents are derived from the lists: skipped here, rebuilt after.
  in.take(in.checked_bytes(in.scalar<uint64_t>("direct map array"), sizeof(idx_t), "direct map array"),
          "direct map array");
  if (head.direct_map == DirectMapType::hashtable) {
    in.take(in.checked_bytes(in.scalar<uint64_t>("direct map hashtable"), 2 * sizeof(idx_t),
                             "direct map hashtable"),
            "direct map hashtable");
  }
  return head;
}

// Faiss's "ilar" array inverted lists: sizes (full or sparse), then for each
// non-empty list its codes and then its ids.
void read_invlists(FaissParser& p, const FaissIVFHead& head, IndexIVF& ivf) {
  ByteReader& in = p.in();
  const uint32_t tag = in.scalar<uint32_t>("inverted lists type");
  in.check(tag != fourcc("il00"), "the file holds no inverted lists (written with them stored elsewhere)");
  in.check(tag != fourcc("ilod"), "on-disk inverted lists (OnDiskInvertedLists, .ivfdata) are not supported");
  in.check(tag == fourcc("ilar"), "unknown inverted lists type '", fourcc_text(tag), "'");
  const uint64_t nlist = in.scalar<uint64_t>("lists nlist"), code_size = in.scalar<uint64_t>("lists code size");
  in.check(nlist == head.nlist && code_size == ivf.code_size(), "the inverted lists have nlist=", nlist,
           ", code_size=", code_size, "; the index expects ", head.nlist, " and ", ivf.code_size());
  std::vector<uint64_t> sizes(head.nlist, 0);
  const uint32_t layout = in.scalar<uint32_t>("list sizes layout");
  if (layout == fourcc("full")) {
    sizes = p.vec<std::vector<uint64_t>>("list sizes");
    in.check(sizes.size() == head.nlist, sizes.size(), " list sizes for nlist=", head.nlist);
  } else {
    in.check(layout == fourcc("sprs"), "unknown list sizes layout '", fourcc_text(layout), "'");
    const auto pairs = p.vec<std::vector<uint64_t>>("sparse list sizes");
    in.check(pairs.size() % 2 == 0, "sparse list sizes need (list, size) pairs");
    for (size_t i = 0; i < pairs.size(); i += 2) {
      in.check(pairs[i] < head.nlist, "sparse list sizes name list ", pairs[i], " >= nlist=", head.nlist);
      sizes[pairs[i]] = pairs[i + 1];
    }
  }
  auto lists = std::make_unique<ArrayInvertedLists>(head.nlist, ivf.code_size());
  uint64_t total = 0;
  for (size_t l = 0; l < head.nlist; l++) {
    if (sizes[l] == 0) continue;
    in.checked_bytes(sizes[l], code_size + sizeof(idx_t), "inverted list");
    const uint8_t* codes = in.take(sizes[l] * code_size, "inverted list codes");
    const auto ids = in.copy_array<std::vector<idx_t>>(sizes[l], "inverted list ids");
    lists->add_entries(l, sizes[l], ids.data(), codes);
    total += sizes[l];
  }
  in.check(total == static_cast<uint64_t>(head.h.ntotal), "the inverted lists hold ", total,
           " entries, but ntotal=", head.h.ntotal);
  ivf.replace_invlists(std::move(lists));
}

// Legacy "Iv" formats: ids came in the header, codes come here list by list.
void read_legacy_lists(FaissParser& p, const FaissIVFHead& head, IndexIVF& ivf) {
  ByteReader& in = p.in();
  auto lists = std::make_unique<ArrayInvertedLists>(head.nlist, ivf.code_size());
  uint64_t total = 0;
  for (size_t l = 0; l < head.nlist; l++) {
    const auto codes = p.vec<std::vector<uint8_t>>("legacy list codes");
    const auto& ids = head.legacy_ids[l];
    in.check(codes.size() == ids.size() * ivf.code_size(), "legacy list ", l, ": ", codes.size(),
             " code bytes for ", ids.size(), " ids");
    if (!ids.empty()) lists->add_entries(l, ids.size(), ids.data(), codes.data());
    total += ids.size();
  }
  in.check(total == static_cast<uint64_t>(head.h.ntotal), "the inverted lists hold ", total,
           " entries, but ntotal=", head.h.ntotal);
  ivf.replace_invlists(std::move(lists));
}

std::unique_ptr<Index> finish_ivf(std::unique_ptr<IndexIVF> ivf, const FaissIVFHead& head, ByteReader& in) {
  ivf->set_nprobe(head.nprobe);
  // Faiss numbers add()ed vectors from ntotal on.
  ivf->restore_state(head.h.ntotal, head.h.is_trained);
  ivf->make_direct_map(head.direct_map);
  return checked(std::move(ivf), head.h, in);
}

std::unique_ptr<Index> read_ivf_flat(FaissParser& p) {
  FaissIVFHead head = read_ivf_head(p, "IndexIVFFlat", false);
  auto ivf = std::make_unique<IndexIVFFlat>(head.quantizer, head.h.d, head.nlist, head.h.metric);
  read_invlists(p, head, *ivf);
  return finish_ivf(std::move(ivf), head, p.in());
}

std::unique_ptr<Index> read_ivf_sq(FaissParser& p, uint32_t tag) {
  ByteReader& in = p.in();
  FaissIVFHead head = read_ivf_head(p, "IndexIVFScalarQuantizer", false);
  FaissSQ sq = read_sq(p, head.h.d);
  const uint64_t code_size = in.scalar<uint64_t>("code size");
  const bool by_residual = tag == fourcc("IwSQ") ? true : p.boolean("by_residual");
  auto ivf = std::make_unique<IndexIVFScalarQuantizer>(head.quantizer, head.h.d, head.nlist, sq.type, head.h.metric,
                                                       by_residual);
  in.check(code_size == ivf->code_size(), "IVF-SQ code size ", code_size, ", expected ", ivf->code_size());
  restore_sq(ivf->sq(), std::move(sq.trained));
  read_invlists(p, head, *ivf);
  return finish_ivf(std::move(ivf), head, in);
}

std::unique_ptr<Index> read_ivf_pq(FaissParser& p, uint32_t tag) {
  ByteReader& in = p.in();
  const bool legacy = tag == fourcc("IvPQ");
  FaissIVFHead head = read_ivf_head(p, "IndexIVFPQ", legacy);
  const bool by_residual = p.boolean("by_residual");
  const uint64_t code_size = in.scalar<uint64_t>("code size");
  FaissPQ pq = read_pq(p, head.h.d);
  auto ivf = std::make_unique<IndexIVFPQ>(head.quantizer, head.h.d, head.nlist, pq.M, pq.nbits, head.h.metric,
                                          by_residual);
  in.check(code_size == ivf->code_size(), "IVF-PQ code size ", code_size, ", expected ", ivf->code_size());
  restore_pq(ivf->pq(), std::move(pq.centroids), head.h.is_trained);
  if (legacy) {
    read_legacy_lists(p, head, *ivf);
  } else {
    read_invlists(p, head, *ivf);
  }
  auto index = finish_ivf(std::move(ivf), head, in);
  // Faiss does not store the precomputed table either; build it as training would.
  static_cast<IndexIVFPQ&>(*index).set_use_precomputed_table(true);
  return index;
}

// Iwrq (1 bit) or Iwrr (the bits stored).
std::unique_ptr<Index> read_ivf_rabitq(FaissParser& p, bool with_bits) {
  ByteReader& in = p.in();
  FaissIVFHead head = read_ivf_head(p, "IndexIVFRaBitQ", false);
  const int bits = read_rabitq_fields(p, head.h, with_bits);
  const uint64_t code_size = in.scalar<uint64_t>("code size");
  in.check(p.boolean("by_residual"), "IndexIVFRaBitQ: codes not taken against the list centroid");
  auto ivf = std::make_unique<IndexIVFRaBitQ>(head.quantizer, head.h.d, head.nlist, head.h.metric, bits);
  in.check(code_size == ivf->code_size(), "IVF-RaBitQ code size ", code_size, ", expected ", ivf->code_size());
  ivf->set_qb(read_qb(in));
  read_invlists(p, head, *ivf);
  return finish_ivf(std::move(ivf), head, in);
}

// Faiss's pq4 block layout, blocks of 32 vectors: sub-codes 2p and 2p + 1 take
// 32 bytes, 16 each; in each 16, vector v's nibble is in byte 2 (v % 8) +
// (v % 16) / 8 (vectors 0, 8, 1, 9, ... interleaved), low for v < 16, high for
// the others.
uint8_t faiss_pq4_subcode(const uint8_t* block, size_t v, size_t m) {
  const size_t j = v % 16;
  const uint8_t byte = block[(m / 2) * 32 + (m % 2) * 16 + 2 * (j % 8) + j / 8];
  return v < 16 ? byte & 15 : byte >> 4;
}

// Faiss's blocks of RaBitQ fast-scan codes, 32 vectors each: the pq4
// sub-codes (bits_size() bytes a vector), then each vector's rest of the
// plain code (factors; with more bits, the magnitudes and theirs too).
size_t faiss_rabitq_block_size(const RaBitQuantizer& rq) { return 32 * rq.code_size(); }

// The plain codes of the first n vectors of such blocks.
std::vector<uint8_t> faiss_rabitq_blocks_to_codes(const uint8_t* blocks, size_t n, const RaBitQuantizer& rq) {
  const size_t bits = rq.bits_size(), rest = rq.code_size() - bits, M = (rq.d() + 3) / 4;
  const size_t packed = bits * 32, block_size = faiss_rabitq_block_size(rq);
  std::vector<uint8_t> plain(n * rq.code_size(), 0);
  for (size_t i = 0; i < n; i++) {
    const uint8_t* block = blocks + i / 32 * block_size;
    uint8_t* code = plain.data() + i * rq.code_size();
    for (size_t m = 0; m < M; m++) code[m / 2] |= uint8_t(faiss_pq4_subcode(block, i % 32, m) << (m % 2 * 4));
    std::memcpy(code + bits, block + packed + i % 32 * rest, rest);
  }
  return plain;
}

// Faiss's "ilbl" block lists of IndexIVFRaBitQFastScan: per list, the ids,
// then the blocks. Rebuilt entry by entry from plain RaBitQ codes.
void read_rabitq_block_lists(FaissParser& p, const FaissIVFHead& head, IndexIVFRaBitQFastScan& ivf) {
  ByteReader& in = p.in();
  const uint32_t tag = in.scalar<uint32_t>("inverted lists type");
  in.check(tag == fourcc("ilbl"), "IndexIVFRaBitQFastScan: inverted lists of type '", fourcc_text(tag),
           "', expected block lists 'ilbl'");
  const uint64_t nlist = in.scalar<uint64_t>("lists nlist"), code_size = in.scalar<uint64_t>("lists code size");
  const uint64_t per_block = in.scalar<uint64_t>("vectors per block"), block_size = in.scalar<uint64_t>("block size");
  const size_t expected = faiss_rabitq_block_size(ivf.rabitq());
  in.check(nlist == head.nlist && per_block == 32 && block_size == expected, "IndexIVFRaBitQFastScan: block lists with nlist=",
           nlist, ", ", per_block, " vectors a block of ", block_size, " bytes; expected ", head.nlist, ", 32, ", expected);
  // Faiss's code packer, not the lists, knows the code size: they say (size_t)-1.
  in.check(code_size == ivf.code_size() || code_size == ~uint64_t(0), "IndexIVFRaBitQFastScan: lists of ", code_size,
           "-byte codes, expected ", ivf.code_size());
  auto lists = std::make_unique<BlockInvertedLists>(head.nlist, RaBitQFastScanScorer::layout(ivf.rabitq()));
  uint64_t total = 0;
  for (size_t l = 0; l < head.nlist; l++) {
    const auto ids = p.vec<std::vector<idx_t>>("block list ids");
    const uint64_t nbytes = in.scalar<uint64_t>("block list bytes");
    in.check(nbytes == (ids.size() + 31) / 32 * block_size, "IndexIVFRaBitQFastScan: list ", l, " holds ", nbytes,
             " code bytes for ", ids.size(), " vectors");
    const auto plain = faiss_rabitq_blocks_to_codes(in.take(nbytes, "block list codes"), ids.size(), ivf.rabitq());
    if (!ids.empty()) lists->add_entries(l, ids.size(), ids.data(), plain.data());
    total += ids.size();
  }
  in.check(total == static_cast<uint64_t>(head.h.ntotal), "the inverted lists hold ", total,
           " entries, but ntotal=", head.h.ntotal);
  ivf.replace_invlists(std::move(lists));
}

// Faiss 1.13+'s IndexRaBitQFastScan ("Irfn": factors inside the blocks).
std::unique_ptr<Index> read_rabitq_fast_scan(FaissParser& p) {
  ByteReader& in = p.in();
  const FaissHeader h = read_faiss_header(p, "IndexRaBitQFastScan");
  auto index = std::make_unique<IndexRaBitQFastScan>(h.d, h.metric, read_rabitq_fields(p, h, true));
  if (auto center = read_rabitq_center(p, h, "IndexRaBitQFastScan"); !center.empty()) {
    index->set_center(std::move(center));
  }
  index->set_qb(read_qb(in));
  const int32_t bbs = in.scalar<int32_t>("block size in vectors");
  in.check(bbs == 32, "IndexRaBitQFastScan: blocks of ", bbs, " vectors (sextant reads blocks of 32)");
  const uint64_t ntotal2 = in.scalar<uint64_t>("ntotal2"), M2 = in.scalar<uint64_t>("M2");
  const uint64_t code_size = in.scalar<uint64_t>("code size");
  in.check(ntotal2 == (uint64_t(h.ntotal) + 31) / 32 * 32 && M2 == index->rabitq().bits_size() * 2 &&
               code_size == index->rabitq().code_size(),
           "IndexRaBitQFastScan: ntotal2=", ntotal2, ", M2=", M2, ", code_size=", code_size, " for ntotal=", h.ntotal,
           ", d=", h.d);
  const uint64_t nbytes = in.scalar<uint64_t>("code bytes");
  // Checked against the bytes left first: a huge ntotal must not wrap the product.
  in.check(nbytes == in.checked_bytes(ntotal2 / 32, faiss_rabitq_block_size(index->rabitq()), "RaBitQ blocks"),
           "IndexRaBitQFastScan: ", nbytes, " code bytes for ", ntotal2, " vectors");
  const auto plain = faiss_rabitq_blocks_to_codes(in.take(nbytes, "RaBitQ blocks"), size_t(h.ntotal), index->rabitq());
  index->add_sa_codes(h.ntotal, plain.data());
  return checked(std::move(index), h, in);
}

// Faiss 1.13+'s IndexIVFRaBitQFastScan ("Iwrn": factors inside the blocks).
std::unique_ptr<Index> read_ivf_rabitq_fast_scan(FaissParser& p) {
  ByteReader& in = p.in();
  FaissIVFHead head = read_ivf_head(p, "IndexIVFRaBitQFastScan", false);
  const int bits = read_rabitq_fields(p, head.h, true);
  in.check(p.boolean("by_residual"), "IndexIVFRaBitQFastScan: codes not taken against the list centroid");
  auto ivf = std::make_unique<IndexIVFRaBitQFastScan>(head.quantizer, head.h.d, head.nlist, head.h.metric, bits);
  const uint64_t code_size = in.scalar<uint64_t>("code size");
  in.check(code_size == ivf->code_size(), "IVF-RaBitQ code size ", code_size, ", expected ", ivf->code_size());
  const int32_t bbs = in.scalar<int32_t>("block size in vectors");
  in.check(bbs == 32, "IndexIVFRaBitQFastScan: blocks of ", bbs, " vectors (sextant reads blocks of 32)");
  in.scalar<uint64_t>("qbs2");  // search-time choices of Faiss's kernels
  const uint64_t M2 = in.scalar<uint64_t>("M2");
  in.check(M2 == ivf->rabitq().bits_size() * 2, "IndexIVFRaBitQFastScan: M2=", M2, " for d=", head.h.d);
  in.scalar<int32_t>("implem");
  ivf->set_qb(read_qb(in));
  in.check(!p.boolean("centered"), "IndexIVFRaBitQFastScan: zero-centred query quantization is not supported");
  read_rabitq_block_lists(p, head, *ivf);
  return finish_ivf(std::move(ivf), head, in);
}

// ---------------------------------------------------------------- id maps, refine

std::unique_ptr<Index> read_idmap(FaissParser& p, uint32_t tag) {
  ByteReader& in = p.in();
  const FaissHeader h = read_faiss_header(p, "IndexIDMap");
  std::shared_ptr<Index> sub = p.index("IDMap sub-index");
  auto ids = p.vec<std::vector<idx_t>>("id map");
  in.check(labels_within_ntotal(*sub), "the IDMap sub-index returns labels that are not positions");
  std::unique_ptr<Index> index;
  if (tag == fourcc("IxM2")) index = std::make_unique<IndexIDMap2>(std::move(sub), std::move(ids));
  else index = std::make_unique<IndexIDMap>(std::move(sub), std::move(ids));
  return checked(std::move(index), h, in);
}

std::unique_ptr<Index> read_refine(FaissParser& p) {
  ByteReader& in = p.in();
  const FaissHeader h = read_faiss_header(p, "IndexRefine");
  std::shared_ptr<Index> base = p.index("refine base index");
  std::shared_ptr<Index> refine = p.index("refine index");
  const float k_factor = in.scalar<float>("k_factor");
  in.check(labels_within_ntotal(*base), "the refine base index returns labels that are not positions");
  std::unique_ptr<IndexRefine> index;
  // As Faiss: a flat refine index makes an IndexRefineFlat.
  if (auto flat = std::dynamic_pointer_cast<IndexFlat>(refine)) {
    index = std::make_unique<IndexRefineFlat>(std::move(base), std::move(flat));
  } else {
    index = std::make_unique<IndexRefine>(std::move(base), std::move(refine));
  }
  index->set_k_factor(k_factor);
  return checked(std::move(index), h, in);
}

}  // namespace

// ---------------------------------------------------------------- parser

bool FaissParser::boolean(const char* what) {
  const uint8_t v = in_.scalar<uint8_t>(what);
  in_.check(v <= 1, what, " must be 0 or 1, got ", int(v));
  return v == 1;
}

std::unique_ptr<Index> FaissParser::index(const char* what) {
  in_.check(depth_ < kMaxNesting, what, ": indexes nested more than ", kMaxNesting, " deep");
  const uint32_t tag = in_.scalar<uint32_t>(what);
  in_.check(tag != fourcc("null"), what, " is missing (stored as null)");
  depth_++;
  std::unique_ptr<Index> index = read_tagged(tag);
  depth_--;
  return index;
}

std::unique_ptr<Index> FaissParser::read_tagged(uint32_t tag) {
  if (tag == fourcc("IxF2") || tag == fourcc("IxFI") || tag == fourcc("IxFl")) return read_flat(*this, tag);
  if (tag == fourcc("IxSQ")) return read_index_sq(*this);
  if (tag == fourcc("IxPq") || tag == fourcc("IxPQ") || tag == fourcc("IxPo")) return read_index_pq(*this, tag);
  if (tag == fourcc("IwFl")) return read_ivf_flat(*this);
  if (tag == fourcc("IwSq") || tag == fourcc("IwSQ")) return read_ivf_sq(*this, tag);
  if (tag == fourcc("IwPQ") || tag == fourcc("IvPQ")) return read_ivf_pq(*this, tag);
  if (tag == fourcc("Ixrq") || tag == fourcc("Ixrr")) return read_index_rabitq(*this, tag == fourcc("Ixrr"));
  if (tag == fourcc("Iwrq") || tag == fourcc("Iwrr")) return read_ivf_rabitq(*this, tag == fourcc("Iwrr"));
  if (tag == fourcc("Iwrn")) return read_ivf_rabitq_fast_scan(*this);
  if (tag == fourcc("Irfn")) return read_rabitq_fast_scan(*this);
  if (tag == fourcc("IxMp") || tag == fourcc("IxM2")) return read_idmap(*this, tag);
  if (tag == fourcc("IxRF")) return read_refine(*this);
  if (tag == fourcc("IHNf") || tag == fourcc("IHNp") || tag == fourcc("IHNs")) return read_hnsw(tag);
  if (tag == fourcc("IxPT")) return read_pretransform();
  in_.fail("Faiss index type '", fourcc_text(tag), "' is not supported by sextant");
}

bool is_faiss_file(const uint8_t* data, size_t size) {
  // Every Faiss index code is four letters or digits starting with 'I' ("IxF2",
  // "IwPQ", "IHNf"...): such a file is parsed as Faiss, so an unsupported type
  // is named in the error rather than reported as an unknown format.
  if (size < 4 || data[0] != 'I') return false;
  for (int i = 1; i < 4; i++)
    if (!std::isalnum(data[i])) return false;
  return true;
}

std::unique_ptr<Index> read_faiss_file(ByteReader& whole) {
  FaissParser parser(whole);
  std::unique_ptr<Index> index = parser.index("root index");
  whole.check(whole.remaining() == 0, whole.remaining(), " unexpected bytes after the Faiss index");
  return index;
}

}  // namespace sextant
