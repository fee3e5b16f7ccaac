// A small hand-written parser for Faiss-style factory strings, and its inverse.
#include "sextant/index_factory.h"

#include <cctype>
#include <optional>
#include <string_view>
#include <vector>

#include "sextant/IndexFlat.h"
#include "sextant/IndexIDMap.h"
#include "sextant/IndexIVFFlat.h"
#include "sextant/IndexIVFPQ.h"
#include "sextant/IndexPQ.h"
#include "sextant/IndexRefine.h"
#include "sextant/IndexScalarQuantizer.h"
#include "sextant/utils/Error.h"

namespace sextant {

namespace {

struct Part {
  std::string_view text;
  size_t pos;  // offset in the whole description, for messages
};

constexpr long kMaxNlist = 1L << 24;

const char* kCodecs = "Flat, SQ8, SQ6, SQ4, SQfp16, SQbf16, PQ<M> or PQ<M>x<nbits>";

class Parser {
 public:
  Parser(int d, std::string_view description, MetricType metric)
      : d_(d), description_(description), metric_(metric) {}

  std::unique_ptr<Index> parse() {
    SEXTANT_CHECK(d_ > 0, "index_factory: d must be > 0, got ", d_);
    return parse_parts(split(description_, 0));
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

  std::unique_ptr<Index> parse_parts(std::vector<Part> parts) {
    const Part first = parts.front();
    if (first.text == "IDMap" || first.text == "IDMap2") {
      if (parts.size() == 1) fail(first, "an index after '" + std::string(first.text) + ",'");
      std::shared_ptr<Index> inner = parse_parts(std::vector<Part>(parts.begin() + 1, parts.end()));
      if (first.text == "IDMap") return std::make_unique<IndexIDMap>(inner);
      return std::make_unique<IndexIDMap2>(inner);
    }
    // A re-ranking suffix wraps everything before it.
    const Part last = parts.back();
    if (parts.size() > 1 && (last.text == "RFlat" || last.text.substr(0, 7) == "Refine(")) {
      std::shared_ptr<Index> base = parse_parts(std::vector<Part>(parts.begin(), parts.end() - 1));
      if (last.text == "RFlat") return std::make_unique<IndexRefineFlat>(base);
      if (last.text.back() != ')') fail(last, "Refine(<description>)");
      std::string_view inner = last.text.substr(7, last.text.size() - 8);
      std::vector<Part> inner_parts = split(inner, last.pos + 7);
      if (inner_parts.empty()) fail(last, "a description inside Refine(...)");
      std::shared_ptr<Index> refine = parse_parts(inner_parts);
      return std::make_unique<IndexRefine>(base, refine);
    }
    if (parts.size() == 1) return parse_single(first);
    if (parts.size() == 2 && first.text.substr(0, 3) == "IVF") return parse_ivf(first, parts[1]);
    fail(parts[1], parts.size() == 2 ? "nothing after '" + std::string(first.text) + "' (or IVF<nlist>,<codec>)"
                                     : "at most an index and a re-ranking suffix (RFlat, Refine(...))");
  }

  // "Flat", "SQ8", "PQ16x8": an index of its own.
  std::unique_ptr<Index> parse_single(const Part& part) {
    std::string_view s = part.text;
    if (s == "Flat") return std::make_unique<IndexFlat>(d_, metric_);
    if (auto type = sq_type(s)) return std::make_unique<IndexScalarQuantizer>(d_, *type, metric_);
    if (take(s, "PQ")) {
      auto [M, nbits] = pq_params(s, part);
      return std::make_unique<IndexPQ>(d_, M, nbits, metric_);
    }
    if (s.substr(0, 3) == "IVF") fail(part, "IVF<nlist>,<codec> with codec one of " + std::string(kCodecs));
    fail(part, "Flat, SQ8, SQ6, SQ4, SQfp16, SQbf16, PQ<M>[x<nbits>], IVF<nlist>,<codec>, "
               "an IDMap/IDMap2 prefix or an RFlat/Refine(...) suffix");
  }

  std::unique_ptr<Index> parse_ivf(const Part& ivf, const Part& codec) {
    std::string_view s = ivf.text;
    take(s, "IVF");
    auto nlist = take_int(s);
    if (!nlist || !s.empty()) fail(ivf, "IVF<nlist> with nlist a positive integer");
    // Each list costs memory up front: a typo like IVF10000000000 must not allocate terabytes.
    if (*nlist > kMaxNlist) fail(ivf, "IVF<nlist> with nlist at most " + std::to_string(kMaxNlist));
    auto quantizer = std::make_shared<IndexFlat>(d_, metric_);
    std::string_view c = codec.text;
    if (c == "Flat") return std::make_unique<IndexIVFFlat>(quantizer, d_, *nlist, metric_);
    if (auto type = sq_type(c)) {
      return std::make_unique<IndexIVFScalarQuantizer>(quantizer, d_, *nlist, *type, metric_);
    }
    if (take(c, "PQ")) {
      auto [M, nbits] = pq_params(c, codec);
      return std::make_unique<IndexIVFPQ>(quantizer, d_, *nlist, M, nbits, metric_);
    }
    fail(codec, kCodecs);
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

  // "<M>" or "<M>x<nbits>" after "PQ".
  std::pair<size_t, size_t> pq_params(std::string_view s, const Part& part) const {
    auto M = take_int(s);
    if (!M) fail(part, "PQ<M>[x<nbits>] with M a positive integer");
    size_t nbits = 8;
    if (take(s, "x")) {
      auto b = take_int(s);
      if (!b) fail(part, "PQ<M>x<nbits> with nbits a positive integer");
      nbits = *b;
    }
    if (!s.empty()) fail(part, "PQ<M>[x<nbits>] with nothing after it");
    if (d_ % *M != 0) fail(part, "M dividing the dimension d=" + std::to_string(d_));
    return {size_t(*M), nbits};
  }

  int d_;
  std::string_view description_;
  MetricType metric_;
};

std::string describe_pq(const ProductQuantizer& pq) {
  return "PQ" + std::to_string(pq.M()) + (pq.nbits() == 8 ? "" : "x" + std::to_string(pq.nbits()));
}

}  // namespace

std::unique_ptr<Index> index_factory(int d, const std::string& description, MetricType metric) {
  return Parser(d, description, metric).parse();
}

std::string describe(const Index& index) {
  if (auto* m = dynamic_cast<const IndexIDMap2*>(&index)) return "IDMap2," + describe(*m->index());
  if (auto* m = dynamic_cast<const IndexIDMap*>(&index)) return "IDMap," + describe(*m->index());
  if (auto* r = dynamic_cast<const IndexRefineFlat*>(&index)) return describe(*r->base()) + ",RFlat";
  if (auto* r = dynamic_cast<const IndexRefine*>(&index)) {
    return describe(*r->base()) + ",Refine(" + describe(*r->refine()) + ")";
  }
  if (dynamic_cast<const IndexFlat*>(&index)) return "Flat";
  if (auto* sq = dynamic_cast<const IndexScalarQuantizer*>(&index)) return quantizer_type_name(sq->sq().type());
  if (auto* pq = dynamic_cast<const IndexPQ*>(&index)) return describe_pq(pq->pq());
  if (auto* ivf = dynamic_cast<const IndexIVF*>(&index)) {
    SEXTANT_CHECK(dynamic_cast<const IndexFlat*>(ivf->quantizer().get()) != nullptr,
                  "describe: an IVF index with a ", ivf->quantizer()->type_name(),
                  " coarse quantizer has no factory description");
    SEXTANT_CHECK(ivf->by_residual() || dynamic_cast<const IndexIVFFlat*>(ivf),
                  "describe: an IVF index encoding vectors rather than residuals has no factory description");
    const std::string head = "IVF" + std::to_string(ivf->nlist()) + ",";
    if (dynamic_cast<const IndexIVFFlat*>(ivf)) return head + "Flat";
    if (auto* s = dynamic_cast<const IndexIVFScalarQuantizer*>(ivf)) return head + quantizer_type_name(s->sq().type());
    if (auto* p = dynamic_cast<const IndexIVFPQ*>(ivf)) return head + describe_pq(p->pq());
  }
  SEXTANT_CHECK(false, "describe: ", index.type_name(), " has no factory description");
  return {};
}

}  // namespace sextant
