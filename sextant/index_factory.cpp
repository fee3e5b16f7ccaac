// A small hand-written parser for Faiss-style factory strings, and its inverse.
#include "sextant/index_factory.h"

#include <cctype>
#include <charconv>
#include <functional>
#include <optional>
#include <string_view>
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
#include "sextant/IndexRaBitQ.h"
#include "sextant/IndexRaBitQFastScan.h"
#include "sextant/IndexPreTransform.h"
#include "sextant/IndexRefine.h"
#include "sextant/IndexReplicas.h"
#include "sextant/IndexScalarQuantizer.h"
#include "sextant/IndexShards.h"
#include "sextant/base/Error.h"

namespace sextant {

namespace {

struct Part {
  std::string_view text;
  size_t pos;  // offset in the whole description, for messages
};

constexpr long kMaxNlist = 1L << 24;
constexpr long kMaxParts = 4096;  // shards or replicas of one index
// Random rotations are orthonormalised when built (a QR, cubic in the size): their matrices in
// one description hold at most this many entries (a 2048 x 2048 rotation, about a second), so
// a typo like RR9596780 is refused instead of spending minutes and gigabytes on it.
constexpr long kMaxRotationEntries = 1L << 22;
constexpr long kMaxTransformDim = 1L << 20;  // the largest dimension an index file holds

const char* kCodecs =
    "Flat, SQ8, SQ6, SQ4, SQfp16, SQbf16, RaBitQ[fs][<nb_bits>], PQ<M>[x<nbits>] or PQ<M>x4fs[r] (each PQ with an optional "
    "_aniso<T>)";

class Parser {
 public:
  Parser(int d, std::string_view description, MetricType metric)
      : d_(d), description_(description), metric_(metric) {}

  std::unique_ptr<Index> parse() {
    SEXTANT_CHECK(d_ > 0, "index_factory: d must be > 0, got ", d_);
    return parse_parts(split(description_, 0), d_);
  }

 private:
  [[noreturn]] void fail(const Part& part, const std::string& expected) const {
    detail::throw_error(__FILE__, __LINE__, "index_factory: cannot parse '", part.text, "' at position ", part.pos,
                        " of '", description_, "': expected ", expected);
  }

  // Splits at top-level commas (not inside parentheses).
  std::vector<Part> split(std::string_view s, size_t offset) const {
    std::vector<Part> parts;
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i <= s.size(); i++) {
      if (i < s.size() && s[i] == '(') depth++;
      if (i < s.size() && s[i] == ')') depth--;
      if (depth < 0) fail({s.substr(i, 1), offset + i}, "no ')' without a matching '('");
      if (i == s.size() || (s[i] == ',' && depth == 0)) {
        Part part{s.substr(start, i - start), offset + start};
        if (part.text.empty()) fail(part, "an index part between the commas");
        parts.push_back(part);
        start = i + 1;
      }
    }
    if (depth != 0) fail({s, offset}, "a ')' closing every '('");
    return parts;
  }

  // Consumes `prefix` from s when present.
  static bool take(std::string_view& s, std::string_view prefix) {
    if (s.substr(0, prefix.size()) != prefix) return false;
    s.remove_prefix(prefix.size());
    return true;
  }

  // Consumes a positive integer from s.
  static std::optional<long> take_int(std::string_view& s) {
    size_t n = 0;
    long value = 0;
    while (n < s.size() && std::isdigit(static_cast<unsigned char>(s[n])) && value < (1L << 40)) {
      value = value * 10 + (s[n] - '0');
      n++;
    }
    if (n == 0 || value <= 0) return std::nullopt;
    s.remove_prefix(n);
    return value;
  }

  // Parts of an index over d-dimensional vectors.
  std::unique_ptr<Index> parse_parts(std::vector<Part> parts, int d) {
    const Part first = parts.front();
    if (first.text.substr(0, 6) == "Shards" || first.text.substr(0, 8) == "Replicas") return parse_split(parts, d);
    if (first.text == "IDMap" || first.text == "IDMap2") {
      if (parts.size() == 1) fail(first, "an index after '" + std::string(first.text) + ",'");
      std::shared_ptr<Index> inner = parse_parts(std::vector<Part>(parts.begin() + 1, parts.end()), d);
      if (first.text == "IDMap") return std::make_unique<IndexIDMap>(inner);
      return std::make_unique<IndexIDMap2>(inner);
    }
    // A re-ranking suffix wraps everything before it.
    const Part last = parts.back();
    if (parts.size() > 1 && (last.text == "RFlat" || last.text.substr(0, 7) == "Refine(")) {
      std::shared_ptr<Index> base = parse_parts(std::vector<Part>(parts.begin(), parts.end() - 1), d);
      if (last.text == "RFlat") return std::make_unique<IndexRefineFlat>(base);
      if (last.text.back() != ')') fail(last, "Refine(<description>)");
      std::string_view inner = last.text.substr(7, last.text.size() - 8);
      std::vector<Part> inner_parts = split(inner, last.pos + 7);
      if (inner_parts.empty()) fail(last, "a description inside Refine(...)");
      std::shared_ptr<Index> refine = parse_parts(inner_parts, d);
      return std::make_unique<IndexRefine>(base, refine);
    }
    // Leading transforms feed the rest.
    std::vector<std::shared_ptr<VectorTransform>> chain;
    size_t used = 0;
    for (int dim = d; used + 1 < parts.size(); used++) {
      std::shared_ptr<VectorTransform> t = parse_transform(parts[used], dim);
      if (!t) break;
      dim = t->d_out();
      chain.push_back(std::move(t));
    }
    if (!chain.empty()) {
      std::shared_ptr<Index> inner =
          parse_parts(std::vector<Part>(parts.begin() + used, parts.end()), chain.back()->d_out());
      return std::make_unique<IndexPreTransform>(chain, inner);
    }
    if (is_transform(parts.back().text)) fail(parts.back(), "an index after the transforms");
    if (parts.size() == 1) return parse_single(first, d);
    if (parts.size() == 2 && first.text.substr(0, 3) == "IVF") return parse_ivf(first, parts[1], d);
    if (parts.size() == 2 && first.text.substr(0, 4) == "HNSW") return parse_hnsw(first, parts[1], d);
    fail(parts[1], parts.size() == 2 ? "nothing after '" + std::string(first.text) + "' (or IVF<nlist>,<codec>)"
                                     : "at most an index and a re-ranking suffix (RFlat, Refine(...))");
  }

  // "Shards<n>,<index>" or "Replicas<n>,<index>": n copies of the index (built alike, filled apart).
  std::unique_ptr<Index> parse_split(const std::vector<Part>& parts, int d) {
    const Part first = parts.front();
    std::string_view s = first.text;
    const bool shards = take(s, "Shards");
    if (!shards) take(s, "Replicas");
    const std::string form = shards ? "Shards<n>" : "Replicas<n>";
    auto n = take_int(s);
    if (!n || !s.empty() || *n > kMaxParts) fail(first, form + " with n in [1, " + std::to_string(kMaxParts) + "]");
    if (parts.size() == 1) fail(first, "an index after '" + std::string(first.text) + ",'");
    const std::vector<Part> rest(parts.begin() + 1, parts.end());
    std::vector<std::shared_ptr<Index>> children;
    for (long i = 0; i < *n; i++) children.push_back(parse_parts(rest, d));
    if (!shards) {
      auto replicas = std::make_unique<IndexReplicas>(d, metric_);
      for (auto& child : children) replicas->add_replica(std::move(child));
      return replicas;
    }
    // Shards that number their vectors themselves get successive ids; shards
    // that keep ids (IVF, IDMap) are given global ids and may be added to in batches.
    auto index = std::make_unique<IndexShards>(d, metric_, children.front()->removal_closes_up_ids());
    for (auto& child : children) index->add_shard(std::move(child));
    return index;
  }

  static bool is_transform(std::string_view s) {
    return s == "L2norm" || s.substr(0, 3) == "OPQ" || s.substr(0, 2) == "RR" || s.substr(0, 3) == "PCA";
  }

  // "PCA64", "PCAWR32", "OPQ16_64", "RR64", "L2norm" over d dimensions; null when not a transform.
  std::shared_ptr<VectorTransform> parse_transform(const Part& part, int d) {
    std::string_view s = part.text;
    if (s == "L2norm") return std::make_shared<NormalizationTransform>(d);
    if (take(s, "OPQ")) {
      auto M = take_int(s);
      if (!M) fail(part, "OPQ<M>[_<d_out>] with M a positive integer");
      long d_out = d;
      if (take(s, "_")) {
        auto v = take_int(s);
        if (!v) fail(part, "OPQ<M>_<d_out> with d_out a positive integer");
        d_out = *v;
      }
      if (!s.empty() || d_out % *M != 0) fail(part, "OPQ<M>[_<d_out>] with M dividing d_out");
      if (d_out > kMaxTransformDim) {
        fail(part, "OPQ<M>_<d_out> with d_out at most " + std::to_string(kMaxTransformDim));
      }
      return std::make_shared<OPQMatrix>(d, int(*M), int(d_out));
    }
    if (take(s, "RR")) {
      auto d_out = take_int(s);
      if (!d_out || !s.empty()) fail(part, "RR<d_out> with d_out a positive integer");
      const long room = (kMaxRotationEntries - rotation_entries_) / d;
      if (*d_out > room) {
        fail(part, "RR<d_out> with d_out at most " + std::to_string(room) + " (random rotations hold at most " +
                       std::to_string(kMaxRotationEntries) + " entries in all)");
      }
      rotation_entries_ += *d_out * d;
      return std::make_shared<RandomRotationMatrix>(d, int(*d_out));
    }
    if (take(s, "PCA")) {
      const bool whiten = take(s, "W");
      const bool rotate = take(s, "R");
      auto d_out = take_int(s);
      if (!d_out || !s.empty()) fail(part, "PCA[W][R]<d_out> with d_out a positive integer");
      if (*d_out > d) fail(part, "a PCA output dimension of at most d=" + std::to_string(d));
      return std::make_shared<PCAMatrix>(d, int(*d_out), whiten ? -0.5f : 0.0f, rotate);
    }
    return nullptr;
  }

  // "RaBitQ[fs][<nb_bits>]" (1 bit a dimension by default): the layout and
  // the bits; nothing for other codecs.
  struct RaBitQCodec {
    bool fast_scan;
    int bits;
  };
  std::optional<RaBitQCodec> rabitq_codec(std::string_view s, const Part& part) {
    if (!take(s, "RaBitQ")) return std::nullopt;
    const bool fast_scan = take(s, "fs");
    if (s.empty()) return RaBitQCodec{fast_scan, 1};
    const auto bits = take_int(s);
    if (!bits || !s.empty() || *bits > RaBitQuantizer::kMaxBits) {
      fail(part, "RaBitQ[fs]<nb_bits> with nb_bits in [1, " + std::to_string(RaBitQuantizer::kMaxBits) + "]");
    }
    return RaBitQCodec{fast_scan, int(*bits)};
  }

  // "Flat", "SQ8", "PQ16x8": an index of its own.
  std::unique_ptr<Index> parse_single(const Part& part, int d) {
    std::string_view s = part.text;
    if (s == "Flat") return std::make_unique<IndexFlat>(d, metric_);
    if (auto type = sq_type(s)) return std::make_unique<IndexScalarQuantizer>(d, *type, metric_);
    if (auto q = rabitq_codec(s, part)) {
      if (q->fast_scan) return std::make_unique<IndexRaBitQFastScan>(d, metric_, q->bits);
      return std::make_unique<IndexRaBitQ>(d, metric_, q->bits);
    }
    if (take(s, "PQ")) {
      auto [M, nbits, fast_scan, residual, threshold] = pq_params(s, part, d);
      if (residual) fail(part, "PQ<M>x4fs (the 'r' of x4fsr is for IVF residuals)");
      if (fast_scan) return anisotropic(std::make_unique<IndexPQFastScan>(d, M, metric_), threshold, part);
      return anisotropic(std::make_unique<IndexPQ>(d, M, nbits, metric_), threshold, part);
    }
    if (take(s, "HNSW")) return std::make_unique<IndexHNSWFlat>(d, hnsw_M(s, part), metric_);
    if (s.substr(0, 3) == "IVF") fail(part, "IVF<nlist>,<codec> with codec one of " + std::string(kCodecs));
    fail(part, "Flat, SQ8, SQ6, SQ4, SQfp16, SQbf16, RaBitQ[fs][<nb_bits>], PQ<M>[x<nbits>], HNSW<M>[,<storage>], IVF<nlist>[_HNSW<M>][_spherical],<codec>, "
               "an IDMap/IDMap2, Shards<n> or Replicas<n> "
               "prefix, transforms in front (PCA[W][R]<d>, OPQ<M>[_<d>], RR<d>, L2norm) or an RFlat/Refine(...) suffix");
  }

  // "IVF<nlist>[_HNSW<M>][_spherical]", then the codec.
  std::unique_ptr<Index> parse_ivf(const Part& ivf, const Part& codec, int d) {
    std::string_view s = ivf.text;
    take(s, "IVF");
    auto nlist = take_int(s);
    if (!nlist) fail(ivf, "IVF<nlist> with nlist a positive integer");
    // Each list costs memory up front: a typo like IVF10000000000 must not allocate terabytes.
    if (*nlist > kMaxNlist) fail(ivf, "IVF<nlist> with nlist at most " + std::to_string(kMaxNlist));
    constexpr std::string_view kSpherical = "_spherical";
    const bool spherical = s.size() >= kSpherical.size() && s.substr(s.size() - kSpherical.size()) == kSpherical;
    if (spherical) s.remove_suffix(kSpherical.size());
    std::shared_ptr<Index> quantizer;
    if (take(s, "_HNSW")) {
      quantizer = std::make_shared<IndexHNSWFlat>(d, hnsw_M(s, ivf), metric_);
    } else if (s.empty()) {
      quantizer = std::make_shared<IndexFlat>(d, metric_);
    } else {
      fail(ivf, "IVF<nlist>, then optionally _HNSW<M> (an HNSW coarse quantizer), then optionally _spherical");
    }
    std::unique_ptr<IndexIVF> index = ivf_with_codec(std::move(quantizer), *nlist, codec, d);
    index->clustering_params().spherical = spherical;
    return index;
  }

  std::unique_ptr<IndexIVF> ivf_with_codec(std::shared_ptr<Index> quantizer, size_t nlist, const Part& codec,
                                           int d) {
    std::string_view c = codec.text;
    if (c == "Flat") return std::make_unique<IndexIVFFlat>(quantizer, d, nlist, metric_);
    if (auto type = sq_type(c)) {
      return std::make_unique<IndexIVFScalarQuantizer>(quantizer, d, nlist, *type, metric_);
    }
    if (auto q = rabitq_codec(c, codec)) {
      if (q->fast_scan) return std::make_unique<IndexIVFRaBitQFastScan>(quantizer, d, nlist, metric_, q->bits);
      return std::make_unique<IndexIVFRaBitQ>(quantizer, d, nlist, metric_, q->bits);
    }
    if (take(c, "PQ")) {
      auto [M, nbits, fast_scan, residual, threshold] = pq_params(c, codec, d);
      if (fast_scan) {
        return anisotropic(std::make_unique<IndexIVFPQFastScan>(quantizer, d, nlist, M, metric_, residual), threshold,
                           codec);
      }
      return anisotropic(std::make_unique<IndexIVFPQ>(quantizer, d, nlist, M, nbits, metric_), threshold, codec);
    }
    fail(codec, kCodecs);
  }

  // "HNSW<M>,<storage>".
  std::unique_ptr<Index> parse_hnsw(const Part& hnsw, const Part& storage, int d) {
    std::string_view s = hnsw.text;
    take(s, "HNSW");
    const int M = hnsw_M(s, hnsw);
    std::string_view c = storage.text;
    if (c == "Flat") return std::make_unique<IndexHNSWFlat>(d, M, metric_);
    if (auto type = sq_type(c)) return std::make_unique<IndexHNSWSQ>(d, *type, M, metric_);
    if (take(c, "PQ")) {
      auto [pq_M, nbits, fast_scan, residual, threshold] = pq_params(c, storage, d);
      if (fast_scan) fail(storage, "PQ<M>[x<nbits>] (graph storage has no fast-scan layout)");
      return anisotropic(std::make_unique<IndexHNSWPQ>(d, pq_M, M, nbits, metric_), threshold, storage);
    }
    fail(storage, "Flat, SQ8, SQ6, SQ4, SQfp16, SQbf16 or PQ<M>[x<nbits>] (the storage of HNSW<M>,<storage>)");
  }

  // "<M>" after "HNSW", the whole rest of s.
  int hnsw_M(std::string_view& s, const Part& part) const {
    auto M = take_int(s);
    if (!M || !s.empty() || *M < 2 || *M > HNSW::kMaxUpperDegree) {
      fail(part, "HNSW<M> with M in [2, " + std::to_string(HNSW::kMaxUpperDegree) + "]");
    }
    return int(*M);
  }

  static std::optional<QuantizerType> sq_type(std::string_view s) {
    for (QuantizerType t : {QuantizerType::QT_8bit, QuantizerType::QT_6bit, QuantizerType::QT_4bit,
                            QuantizerType::QT_fp16, QuantizerType::QT_bf16, QuantizerType::QT_8bit_uniform,
                            QuantizerType::QT_4bit_uniform, QuantizerType::QT_8bit_direct,
                            QuantizerType::QT_8bit_direct_signed}) {
      if (s == quantizer_type_name(t)) return t;
    }
    return std::nullopt;
  }

  struct PQParams {
    size_t M, nbits;
    bool fast_scan, residual;
    float anisotropic_threshold;  // 0: plain
  };

  // Sets the anisotropic threshold of an index's product quantizer (the range is checked there).
  template <class I>
  std::unique_ptr<I> anisotropic(std::unique_ptr<I> index, float threshold, const Part& part) const {
    if (threshold == 0) return index;
    try {
      index->pq().set_anisotropic_threshold(threshold);
    } catch (const Error& e) {
      fail(part, std::string("a threshold in range after _aniso: ") + e.what());
    }
    return index;
  }

  // "<M>", "<M>x<nbits>", "<M>x4fs" or "<M>x4fsr" after "PQ", then "_aniso<T>" for
  // score-aware codes with threshold T (ProductQuantizer.h).
  PQParams pq_params(std::string_view s, const Part& part, int d) const {
    auto M = take_int(s);
    if (!M) fail(part, "PQ<M>[x<nbits>] with M a positive integer");
    PQParams p{size_t(*M), 8, false, false, 0.0f};
    if (take(s, "x")) {
      auto b = take_int(s);
      if (!b) fail(part, "PQ<M>x<nbits> with nbits a positive integer");
      p.nbits = *b;
      p.fast_scan = take(s, "fs");
      p.residual = p.fast_scan && take(s, "r");
      if (p.fast_scan && p.nbits != 4) fail(part, "PQ<M>x4fs: fast-scan codes have 4 bits");
    }
    if (take(s, "_aniso")) {
      const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), p.anisotropic_threshold);
      if (error != std::errc() || end != s.data() + s.size() || !(p.anisotropic_threshold > 0)) {
        fail(part, "_aniso<T> with T a number in (0, 1), e.g. _aniso0.2");
      }
      s = {};
    }
    if (!s.empty()) fail(part, "PQ<M>[x<nbits>] or PQ<M>x4fs[r], then optionally _aniso<T>, with nothing after it");
    if (d % *M != 0) fail(part, "M dividing the dimension d=" + std::to_string(d));
    return p;
  }

  int d_;
  long rotation_entries_ = 0;  // in the random rotations parsed so far
  std::string_view description_;
  MetricType metric_;
};

// (Strings are built with += : GCC 12 warns falsely about "literal" + std::string.)
std::string describe_transform(const VectorTransform& t) {
  std::string out;
  if (dynamic_cast<const NormalizationTransform*>(&t)) {
    out = "L2norm";
  } else if (auto* opq = dynamic_cast<const OPQMatrix*>(&t)) {
    out = "OPQ";
    out += std::to_string(opq->M());
    if (t.d_out() != t.d_in()) out.append("_").append(std::to_string(t.d_out()));
  } else if (dynamic_cast<const RandomRotationMatrix*>(&t)) {
    out = "RR";
    out += std::to_string(t.d_out());
  } else if (auto* pca = dynamic_cast<const PCAMatrix*>(&t)) {
    SEXTANT_CHECK(pca->eigen_power() == 0 || pca->eigen_power() == -0.5f,
                  "describe: a PCA with eigen_power=", pca->eigen_power(), " has no factory description");
    out = "PCA";
    if (pca->eigen_power() != 0) out += "W";
    if (pca->random_rotation()) out += "R";
    out += std::to_string(t.d_out());
  } else {
    SEXTANT_FAIL("describe: ", t.type_name(), " has no factory description");
  }
  return out;
}

// "RaBitQ[fs][<nb_bits>]", the bits only when more than 1.
std::string describe_rabitq(const RaBitQuantizer& rq, std::string_view layout = "") {
  std::string out = "RaBitQ";
  out += layout;
  if (rq.nb_bits() > 1) out += std::to_string(rq.nb_bits());
  return out;
}

// "PQ<M>[x<nbits>]<layout>[_aniso<T>]", T in its shortest exact form.
std::string describe_pq(const ProductQuantizer& pq, std::string_view layout = "") {
  std::string out = "PQ";
  out += std::to_string(pq.M());
  if (pq.nbits() != 8) out.append("x").append(std::to_string(pq.nbits()));
  out += layout;
  if (pq.anisotropic_threshold() != 0) {
    char t[32];
    const auto end = std::to_chars(t, t + sizeof(t), pq.anisotropic_threshold()).ptr;
    out.append("_aniso").append(t, end);
  }
  return out;
}

// "Shards<n>," / "Replicas<n>," and the description of the parts, which must all have the same one.
std::string describe_parts(const std::string& head, size_t n, const std::function<const Index&(size_t)>& part) {
  SEXTANT_CHECK(n > 0, "describe: an ", head, " with no parts has no factory description");
  const std::string first = describe(part(0));
  for (size_t i = 1; i < n; i++) {
    SEXTANT_CHECK(describe(part(i)) == first, "describe: the parts of an ", head,
                  " are not all alike, so it has no factory description");
  }
  return head.substr(5) + std::to_string(n) + "," + first;
}

}  // namespace

std::unique_ptr<Index> index_factory(int d, const std::string& description, MetricType metric) {
  return Parser(d, description, metric).parse();
}

std::string describe(const Index& index) {
  if (auto* s = dynamic_cast<const IndexShards*>(&index)) {
    const bool factory_ids = s->nshards() > 0 && s->shard(0)->removal_closes_up_ids() == s->successive_ids();
    SEXTANT_CHECK(s->nshards() == 0 || factory_ids, "describe: an IndexShards with successive_ids=",
                  s->successive_ids(), " over ", s->shard(0)->type_name(), " shards has no factory description");
    return describe_parts("IndexShards", s->nshards(), [s](size_t i) -> const Index& { return *s->shard(i); });
  }
  if (auto* r = dynamic_cast<const IndexReplicas*>(&index)) {
    return describe_parts("IndexReplicas", r->nreplicas(), [r](size_t i) -> const Index& { return *r->replica(i); });
  }
  if (auto* m = dynamic_cast<const IndexIDMap2*>(&index)) return "IDMap2," + describe(*m->index());
  if (auto* m = dynamic_cast<const IndexIDMap*>(&index)) return "IDMap," + describe(*m->index());
  if (auto* r = dynamic_cast<const IndexRefineFlat*>(&index)) return describe(*r->base()) + ",RFlat";
  if (auto* r = dynamic_cast<const IndexRefine*>(&index)) {
    return describe(*r->base()) + ",Refine(" + describe(*r->refine()) + ")";
  }
  if (auto* pt = dynamic_cast<const IndexPreTransform*>(&index)) {
    std::string out;
    for (const auto& t : pt->chain()) out += describe_transform(*t) + ",";
    return out + describe(*pt->index());
  }
  if (dynamic_cast<const IndexFlat*>(&index)) return "Flat";
  if (auto* h = dynamic_cast<const IndexHNSWFlat*>(&index)) return "HNSW" + std::to_string(h->M());
  if (auto* h = dynamic_cast<const IndexHNSWSQ*>(&index)) {
    return "HNSW" + std::to_string(h->M()) + "," + quantizer_type_name(h->sq().type());
  }
  if (auto* h = dynamic_cast<const IndexHNSWPQ*>(&index)) return "HNSW" + std::to_string(h->M()) + "," + describe_pq(h->pq());
  if (auto* sq = dynamic_cast<const IndexScalarQuantizer*>(&index)) return quantizer_type_name(sq->sq().type());
  if (auto* pq = dynamic_cast<const IndexPQ*>(&index)) return describe_pq(pq->pq());
  if (auto* fs = dynamic_cast<const IndexPQFastScan*>(&index)) return describe_pq(fs->pq(), "fs");
  if (auto* rq = dynamic_cast<const IndexRaBitQ*>(&index)) return describe_rabitq(rq->rabitq());
  if (auto* fs = dynamic_cast<const IndexRaBitQFastScan*>(&index)) return describe_rabitq(fs->rabitq(), "fs");
  if (auto* ivf = dynamic_cast<const IndexIVF*>(&index)) {
    const Index* q = ivf->quantizer().get();
    const auto* hnsw_q = dynamic_cast<const IndexHNSWFlat*>(q);
    SEXTANT_CHECK(dynamic_cast<const IndexFlat*>(q) != nullptr || hnsw_q != nullptr, "describe: an IVF index with a ",
                  q->type_name(), " coarse quantizer has no factory description");
    const auto* ivf_fs = dynamic_cast<const IndexIVFPQFastScan*>(ivf);
    SEXTANT_CHECK(ivf->by_residual() || ivf_fs || dynamic_cast<const IndexIVFFlat*>(ivf),
                  "describe: an IVF index encoding vectors rather than residuals has no factory description");
    std::string head = "IVF" + std::to_string(ivf->nlist());
    if (hnsw_q) head += "_HNSW" + std::to_string(hnsw_q->M());
    if (ivf->clustering_params().spherical) head += "_spherical";
    head += ",";
    if (dynamic_cast<const IndexIVFFlat*>(ivf)) return head + "Flat";
    if (auto* s = dynamic_cast<const IndexIVFScalarQuantizer*>(ivf)) return head + quantizer_type_name(s->sq().type());
    if (auto* fs = dynamic_cast<const IndexIVFRaBitQFastScan*>(ivf)) return head + describe_rabitq(fs->rabitq(), "fs");
    if (auto* rq = dynamic_cast<const IndexIVFRaBitQ*>(ivf)) return head + describe_rabitq(rq->rabitq());
    if (ivf_fs) return head + describe_pq(ivf_fs->pq(), ivf_fs->by_residual() ? "fsr" : "fs");
    if (auto* p = dynamic_cast<const IndexIVFPQ*>(ivf)) return head + describe_pq(p->pq());
  }
  SEXTANT_FAIL("describe: ", index.type_name(), " has no factory description");
}

}  // namespace sextant
