#pragma once

#include <cstring>

#include "sextant/IDSelector.h"
#include "sextant/base/Storage.h"

namespace sextant {

/// Codes of a flat (non-IVF) index, one after the other; position = id.
/// The bytes may be borrowed read-only (a memory-mapped file): then the
/// writers (append, remove, clear) raise an error naming `owner`.
class FlatCodes {
 public:
  explicit FlatCodes(size_t code_size) : code_size_(code_size) {}

  size_t code_size() const { return code_size_; }
  size_t size() const { return bytes_.size() / code_size_; }
  const uint8_t* data() const { return bytes_.data(); }
  const uint8_t* at(size_t i) const { return bytes_.data() + i * code_size_; }

  bool is_read_only() const { return bytes_.is_borrowed(); }
  /// Replaces every code with `bytes` (a whole number of codes).
  void assign(Storage<uint8_t> bytes) {
    SEXTANT_CHECK(bytes.size() % code_size_ == 0, "flat codes: ", bytes.size(),
                  " bytes are not a whole number of ", code_size_, "-byte codes");
    bytes_ = std::move(bytes);
  }

  /// Room for n more codes at the end; returns where they go.
  uint8_t* append(size_t n, std::string_view owner) {
    LargeVector<uint8_t>& bytes = bytes_.owned(owner);
    const size_t old = bytes.size();
    bytes.resize(old + n * code_size_);
    return bytes.data() + old;
  }

  /// Removes the codes whose position the selector accepts; later codes move
  /// up (ids close up, as in Faiss). Returns how many were removed.
  size_t remove(const IDSelector& sel, std::string_view owner) {
    LargeVector<uint8_t>& bytes = bytes_.owned(owner);
    const size_t n = size();
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
      if (sel.is_member(idx_t(i))) continue;
      if (kept != i) std::memmove(bytes.data() + kept * code_size_, at(i), code_size_);
      kept++;
    }
    bytes.resize(kept * code_size_);
    return n - kept;
  }

  void clear(std::string_view owner) { bytes_.owned(owner).clear(); }

  /// Appends the codes of `other` (same code size) and empties it.
  void move_from(FlatCodes& other, std::string_view owner, std::string_view other_owner) {
    SEXTANT_CHECK(other.code_size_ == code_size_, "flat codes of ", other.code_size_, " bytes cannot join codes of ",
                  code_size_, " bytes");
    LargeVector<uint8_t>& theirs = other.bytes_.owned(other_owner);
    LargeVector<uint8_t>& bytes = bytes_.owned(owner);
    bytes.insert(bytes.end(), theirs.begin(), theirs.end());
    theirs.clear();
  }

 private:
  size_t code_size_;
  Storage<uint8_t> bytes_;
};

}  // namespace sextant
