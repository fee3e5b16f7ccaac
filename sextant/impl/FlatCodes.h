#pragma once

#include <cstring>

#include "sextant/IDSelector.h"
#include "sextant/utils/HugePageAllocator.h"

namespace sextant {

/// Codes of a flat (non-IVF) index, one after the other; position = id.
class FlatCodes {
 public:
  explicit FlatCodes(size_t code_size) : code_size_(code_size) {}

  size_t code_size() const { return code_size_; }
  size_t size() const { return bytes_.size() / code_size_; }
  const uint8_t* data() const { return bytes_.data(); }
  const uint8_t* at(size_t i) const { return bytes_.data() + i * code_size_; }

  /// Room for n more codes at the end; returns where they go.
  uint8_t* append(size_t n) {
    const size_t old = bytes_.size();
    bytes_.resize(old + n * code_size_);
    return bytes_.data() + old;
  }

  /// Removes the codes whose position the selector accepts; later codes move
  /// up (ids close up, as in Faiss). Returns how many were removed.
  size_t remove(const IDSelector& sel) {
    const size_t n = size();
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
      if (sel.is_member(idx_t(i))) continue;
      if (kept != i) std::memmove(bytes_.data() + kept * code_size_, at(i), code_size_);
      kept++;
    }
    bytes_.resize(kept * code_size_);
    return n - kept;
  }

  void clear() { bytes_.clear(); }

 private:
  size_t code_size_;
  LargeVector<uint8_t> bytes_;
};

}  // namespace sextant
