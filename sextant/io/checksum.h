#pragma once

#include <cstddef>
#include <cstdint>

namespace sextant {

/// XXH64 (Yann Collet's xxHash, 64-bit variant, seed 0), fed in pieces of any
/// size. sextant index files end with the XXH64 of everything before it: a
/// fast hash (several GB/s on one core) that catches truncation, bit flips and
/// torn writes; it is not a defence against deliberate tampering (the parser
/// checks every size and value on its own).
class Xxh64 {
 public:
  Xxh64();
  void update(const void* data, size_t size);
  uint64_t digest() const;

  /// The hash of one buffer.
  static uint64_t of(const void* data, size_t size);

 private:
  uint64_t acc_[4];
  uint8_t buffer_[32];
  size_t buffered_ = 0;
  uint64_t total_ = 0;
};

}  // namespace sextant
