// XXH64, written from the published algorithm description.
#include "sextant/io/checksum.h"

#include <algorithm>
#include <cstring>

namespace sextant {

namespace {

constexpr uint64_t kP1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kP2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t kP3 = 0x165667B19E3779F9ULL;
constexpr uint64_t kP4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t kP5 = 0x27D4EB2F165667C5ULL;

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// Files are little-endian; so are the machines sextant builds for (x86-64, AArch64).
inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline uint64_t round(uint64_t acc, uint64_t input) { return rotl(acc + input * kP2, 31) * kP1; }
inline uint64_t merge(uint64_t h, uint64_t acc) { return (h ^ round(0, acc)) * kP1 + kP4; }

}  // namespace

Xxh64::Xxh64() : acc_{kP1 + kP2, kP2, 0, 0 - kP1} {}

void Xxh64::update(const void* data, size_t size) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  total_ += size;
  if (buffered_ > 0) {
    const size_t fill = std::min(size, sizeof(buffer_) - buffered_);
    std::memcpy(buffer_ + buffered_, p, fill);
    buffered_ += fill;
    p += fill;
    size -= fill;
    if (buffered_ < sizeof(buffer_)) return;
    for (int i = 0; i < 4; i++) acc_[i] = round(acc_[i], load64(buffer_ + 8 * i));
    buffered_ = 0;
  }
  for (; size >= 32; p += 32, size -= 32) {
    for (int i = 0; i < 4; i++) acc_[i] = round(acc_[i], load64(p + 8 * i));
  }
  std::memcpy(buffer_, p, size);
  buffered_ = size;
}

uint64_t Xxh64::digest() const {
  uint64_t h;
  if (total_ >= 32) {
    h = rotl(acc_[0], 1) + rotl(acc_[1], 7) + rotl(acc_[2], 12) + rotl(acc_[3], 18);
    for (int i = 0; i < 4; i++) h = merge(h, acc_[i]);
  } else {
    h = acc_[2] + kP5;  // acc_[2] is the seed (0) while fewer than 32 bytes came
  }
  h += total_;
  const uint8_t* p = buffer_;
  size_t rest = buffered_;
  for (; rest >= 8; p += 8, rest -= 8) h = rotl(h ^ round(0, load64(p)), 27) * kP1 + kP4;
  if (rest >= 4) {
    h = rotl(h ^ (uint64_t(load32(p)) * kP1), 23) * kP2 + kP3;
    p += 4;
    rest -= 4;
  }
  for (; rest > 0; p++, rest--) h = rotl(h ^ (uint64_t(*p) * kP5), 11) * kP1;
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

uint64_t Xxh64::of(const void* data, size_t size) {
  Xxh64 hash;
  hash.update(data, size);
  return hash.digest();
}

}  // namespace sextant
