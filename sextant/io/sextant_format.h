#pragma once

// The sextant index file format (version 1). docs/index_files.md says the same
// for readers who do not read C++.
//
//   offset 0   header, 64 bytes: magic "SEXTANT\0", u32 format version (1),
//              u32 header size (64), then zeros
//   offset 64  the root index object (below)
//   end - 16   u64 XXH64 of every byte before it, then the end magic "SXTEND\0\0"
//
// An index object is: u32 tag (four characters naming the type, e.g. "IVPQ"),
// u32 object version (1), the common index header — i32 d, u8 metric
// (0 inner product, 1 L2, as Faiss), u8 is_trained, i64 ntotal — then a body
// of fields that the type's codec defines. Objects nest: an IVF index holds
// its coarse quantizer, IDMap its sub-index, Refine its base and refine
// indexes, each a complete object (nesting is limited to kMaxNesting).
//
// Scalars are little-endian and fixed-width. An array is: u64 count, u32
// element size, u32 zero, zero padding up to the next multiple of 64 bytes
// from the start of the file, then count * element-size bytes. So every large
// array — stored vectors, codes, inverted-list ids and codes — starts 64-byte
// aligned, and a memory-mapped file serves them in place.
//
// A reader checks, before allocating anything, that every count fits in the
// bytes that remain, then that every value is in range and consistent with
// the rest (ntotal against array sizes, nested objects against their parent).
// The checksum is verified first, so a torn or bit-flipped file is refused
// before parsing; the parser's own checks stand guard against crafted files.
//
// Adding an index type: write its `write` and `read` functions in
// sextant_codecs.cpp (or a new sextant_codecs_<family>.cpp) and add one row to
// the table in sextant_codecs(). Nothing else changes; files without the new
// tag keep their meaning. A change to an existing type's body bumps its
// object version, and its reader keeps accepting the old one; a writer writes
// the lowest version that holds the object (IndexCodec::version), so files of
// indexes that do not use the new field stay readable by older builds.

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "sextant/Index.h"
#include "sextant/io/bytes.h"

namespace sextant {

inline constexpr char kSextantMagic[8] = {'S', 'E', 'X', 'T', 'A', 'N', 'T', '\0'};
inline constexpr char kSextantEndMagic[8] = {'S', 'X', 'T', 'E', 'N', 'D', '\0', '\0'};
inline constexpr uint32_t kSextantFormatVersion = 1;
inline constexpr size_t kSextantHeaderSize = 64;
inline constexpr size_t kSextantTrailerSize = 16;
inline constexpr size_t kArrayAlignment = 64;
inline constexpr int kMaxNesting = 8;
/// Largest dimension a file may declare (far above any real embedding).
inline constexpr int kMaxFileDimension = 1 << 20;

/// Four characters as the u32 they are stored as.
constexpr uint32_t fourcc(const char (&s)[5]) {
  return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 |
         uint32_t(uint8_t(s[3])) << 24;
}
/// The four characters of a tag, printable (others as '?'), for messages.
std::string fourcc_text(uint32_t tag);

/// The fields every index object starts with.
struct IndexHeader {
  uint32_t version = 1;  ///< the object version: which fields the body holds
  int d = 0;
  MetricType metric = MetricType::L2;
  bool is_trained = false;
  idx_t ntotal = 0;
};

class SextantWriter {
 public:
  explicit SextantWriter(ByteSink& sink) : sink_(sink) {}

  void u8(uint8_t v) { sink_.scalar(v); }
  void u32(uint32_t v) { sink_.scalar(v); }
  void i32(int32_t v) { sink_.scalar(v); }
  void i64(int64_t v) { sink_.scalar(v); }
  void u64(uint64_t v) { sink_.scalar(v); }
  void f32(float v) { sink_.scalar(v); }

  /// An array header for `count` elements of `elem_size` bytes; the caller
  /// then writes exactly count * elem_size bytes with raw().
  void array_header(uint64_t count, uint32_t elem_size);
  void raw(const void* data, size_t bytes) { sink_.write(data, bytes); }
  template <class T>
  void array(const T* data, size_t count) {
    array_header(count, sizeof(T));
    raw(data, count * sizeof(T));
  }

  /// A complete index object (tag, version, header, body).
  void index(const Index& index);

 private:
  ByteSink& sink_;
};

class SextantReader {
 public:
  explicit SextantReader(ByteReader& in) : in_(in) {}
  ByteReader& in() { return in_; }

  uint8_t u8(const char* what) { return in_.scalar<uint8_t>(what); }
  bool boolean(const char* what);
  uint32_t u32(const char* what) { return in_.scalar<uint32_t>(what); }
  int32_t i32(const char* what) { return in_.scalar<int32_t>(what); }
  int64_t i64(const char* what) { return in_.scalar<int64_t>(what); }
  uint64_t u64(const char* what) { return in_.scalar<uint64_t>(what); }
  float f32(const char* what) { return in_.scalar<float>(what); }

  /// Reads an array header for elements of `elem_size` bytes and skips to
  /// the data; returns the count, checked to fit in what remains.
  uint64_t array_header(size_t elem_size, const char* what);
  /// An array copied into a new vector.
  template <class Vec>
  Vec array(const char* what) {
    const uint64_t n = array_header(sizeof(typename Vec::value_type), what);
    return in_.copy_array<Vec>(n, what);
  }
  /// An array borrowed from a mapped file when possible, else copied.
  template <class T>
  Storage<T> storage(const char* what) {
    const uint64_t n = array_header(sizeof(T), what);
    return in_.storage_array<T>(n, what);
  }

  /// A complete nested index object; checks the nesting depth, and that the
  /// index the codec built matches the header the file declared.
  std::unique_ptr<Index> index(const char* what);

 private:
  ByteReader& in_;
  int depth_ = 0;
};

/// How one index type is stored: its tag, the type_name() it applies to, and
/// the body writer and reader (the common header is handled around them).
struct IndexCodec {
  uint32_t tag;
  const char* type_name;
  void (*write)(const Index& index, SextantWriter& out);
  std::unique_ptr<Index> (*read)(const IndexHeader& header, SextantReader& in);
  /// The newest object version the codec reads, and the version an index is
  /// written with (null: 1).
  uint32_t max_version = 1;
  uint32_t (*version)(const Index& index) = nullptr;
};

/// The table of every index type the format knows (sextant_codecs.cpp).
std::span<const IndexCodec> sextant_codecs();

/// Writes a whole file (header, root object, trailer) to a sink.
void write_sextant_file(const Index& index, ByteSink& sink);
/// True when the bytes start with the sextant magic.
bool is_sextant_file(const uint8_t* data, size_t size);
/// Verifies and parses a whole file. `whole` spans the entire file; arrays
/// are borrowed when it can borrow (memory-mapped reading).
std::unique_ptr<Index> read_sextant_file(ByteReader& whole);

}  // namespace sextant
