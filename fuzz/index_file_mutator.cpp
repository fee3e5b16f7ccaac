// Structure-aware mutations of index files for libFuzzer (linked into the
// fuzz_read_* targets only; the corpus replay in ctest runs without it).
//
// A byte-level mutation of a sextant file almost always breaks its checksum,
// so the parser would only ever see files refused at the first check. This
// mutator mutates the body — scalars overwritten with values that make
// counts, ids and parameters lie (0, -1, 2^31, 10^8, NaN, infinity, huge
// floats...), a field copied over another, libFuzzer's own byte mutations —
// then recomputes the XXH64 and the end marker, so every mutant reaches the
// parser's value checks. Faiss files have no checksum: they get the same
// field mutations, and their four-character tag is kept.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>

#include "sextant/io/checksum.h"
#include "sextant/io/sextant_format.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {

constexpr size_t kTrailer = sextant::kSextantTrailerSize;
constexpr size_t kHeader = sextant::kSextantHeaderSize;

bool is_sextant(const uint8_t* data, size_t size) {
  return size >= kHeader + kTrailer && sextant::is_sextant_file(data, size);
}

// Writes the trailer of a sextant file whose body is data[0, body).
size_t reseal(uint8_t* data, size_t body) {
  const uint64_t hash = sextant::Xxh64::of(data, body);
  std::memcpy(data + body, &hash, 8);
  std::memcpy(data + body + 8, sextant::kSextantEndMagic, 8);
  return body + kTrailer;
}

// A value that makes a field lie, `width` bytes wide (1, 2, 4 or 8).
void lying_value(std::mt19937_64& rng, size_t width, uint8_t* out) {
  static const int64_t kIntegers[] = {0, 1, 2, 3, -1, -2, 255, 256, 65535, 65536, (1LL << 30), (1LL << 31) - 1,
                                      1LL << 31, (1LL << 32) - 1, 1LL << 32, 100000000, 1LL << 40,
                                      std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()};
  static const float kFloats[] = {0.0f, -0.0f, 1.0f, -1.0f, std::numeric_limits<float>::quiet_NaN(),
                                  std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                                  1e18f, 1e20f, 1e30f, 3e38f, 1e-40f, 65504.0f, 65520.0f};
  static const uint16_t kHalves[] = {0x7c00, 0xfc00, 0x7e00, 0x7bff, 0x7f80, 0xff80};
  const unsigned pick = rng() % 4;
  if (width == 2 && pick == 0) {
    const uint16_t h = kHalves[rng() % std::size(kHalves)];
    std::memcpy(out, &h, 2);
  } else if (width == 4 && pick == 1) {
    const float f = kFloats[rng() % std::size(kFloats)];
    std::memcpy(out, &f, 4);
  } else if (pick == 2) {  // a small number, near a real count or id
    const int64_t v = int64_t(rng() % 2048) - 8;
    std::memcpy(out, &v, width);
  } else {
    const int64_t v = kIntegers[rng() % std::size(kIntegers)];
    std::memcpy(out, &v, width);  // little-endian: the low bytes
  }
}

// One structure-aware mutation of data[begin, size) in place (same size).
void mutate_fields(std::mt19937_64& rng, uint8_t* data, size_t begin, size_t size) {
  if (size <= begin + 8) return;
  const size_t span = size - begin;
  static const size_t kWidths[] = {1, 2, 4, 8};
  const size_t width = kWidths[rng() % 4];
  // Fields are mostly aligned to their width within their objects: try aligned offsets first.
  size_t at = begin + rng() % (span - width);
  if (rng() % 4 != 0) at -= (at - begin) % width;
  if (rng() % 5 == 0) {  // copy a field over another (a count over a count, an id over an id)
    const size_t from = begin + rng() % (span - width);
    std::memmove(data + at, data + from, width);
    return;
  }
  lying_value(rng, width, data + at);
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  std::mt19937_64 rng(seed);
  if (is_sextant(data, size) && max_size >= kHeader + kTrailer) {
    size_t body = size - kTrailer;
    const unsigned rounds = 1 + rng() % 3;
    for (unsigned r = 0; r < rounds; r++) {
      if (rng() % 4 == 0) {
        // libFuzzer's byte mutations on the objects (the header stays a header).
        body = kHeader + LLVMFuzzerMutate(data + kHeader, body - kHeader, max_size - kTrailer - kHeader);
      } else {
        mutate_fields(rng, data, kHeader, body);
      }
    }
    return reseal(data, body);
  }
  if (size >= 8 && rng() % 4 != 0) {  // a Faiss file (or anything else): fields after its tag
    const unsigned rounds = 1 + rng() % 3;
    for (unsigned r = 0; r < rounds; r++) mutate_fields(rng, data, 4, size);
    return size;
  }
  return LLVMFuzzerMutate(data, size, max_size);
}

// Splices two files at one offset (a prefix of one, the rest of the other),
// resealed when it is a sextant file: objects of one type meet fields of another.
extern "C" size_t LLVMFuzzerCustomCrossOver(const uint8_t* data1, size_t size1, const uint8_t* data2, size_t size2,
                                            uint8_t* out, size_t max_out_size, unsigned int seed) {
  std::mt19937_64 rng(seed);
  const bool sextant = is_sextant(data1, size1) && is_sextant(data2, size2);
  const size_t end1 = sextant ? size1 - kTrailer : size1, end2 = sextant ? size2 - kTrailer : size2;
  const size_t reserve = sextant ? kTrailer : 0;
  if (max_out_size <= reserve) return 0;
  const size_t cut = std::min(end1, std::min(end2, max_out_size - reserve));
  const size_t at = cut == 0 ? 0 : rng() % (cut + 1);
  const size_t tail = std::min(end2 - at, max_out_size - reserve - at);
  std::memcpy(out, data1, at);
  std::memcpy(out + at, data2 + at, tail);
  return sextant && at + tail >= kHeader ? reseal(out, at + tail) : at + tail;
}
