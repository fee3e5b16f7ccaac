#pragma once

// The recursive parser behind read_faiss_file, shared by faiss_read.cpp
// (core index types) and faiss_graph.cpp (HNSW, transforms).

#include <memory>

#include "sextant/Index.h"
#include "sextant/io/bytes.h"

namespace sextant {

class FaissParser;

/// The fields every Faiss index object starts with.
struct FaissHeader {
  int d = 0;
  idx_t ntotal = 0;
  bool is_trained = false;
  MetricType metric = MetricType::L2;
};

/// Reads and checks the header of a `type` object (d in range, ntotal >= 0, a
/// metric sextant has).
FaissHeader read_faiss_header(FaissParser& p, const char* type);

class FaissParser {
 public:
  explicit FaissParser(ByteReader& in) : in_(in) {}
  ByteReader& in() { return in_; }

  /// A Faiss bool (one byte, 0 or 1).
  bool boolean(const char* what);
  /// A Faiss vector: u64 count, then the elements (count checked first).
  template <class Vec>
  Vec vec(const char* what) {
    const uint64_t n = in_.scalar<uint64_t>(what);
    return in_.copy_array<Vec>(n, what);
  }
  /// A nested index object (four-character code, then its fields).
  std::unique_ptr<Index> index(const char* what);

 private:
  std::unique_ptr<Index> read_tagged(uint32_t tag);
  // faiss_graph.cpp
  std::unique_ptr<Index> read_hnsw(uint32_t tag);
  std::unique_ptr<Index> read_pretransform();

  ByteReader& in_;
  int depth_ = 0;
};

}  // namespace sextant
