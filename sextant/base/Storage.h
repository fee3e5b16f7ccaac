#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "sextant/base/Error.h"
#include "sextant/base/HugePageAllocator.h"

namespace sextant {

/// The large array of an index (stored vectors, codes): either owned and
/// growable (a LargeVector), or borrowed read-only from memory that someone
/// else owns, typically a memory-mapped index file. A borrowed array keeps its
/// owner alive through a shared handle, so the index can outlive the reader
/// that made it. Readers see one pointer either way; writers ask for the
/// owned vector and get a clear error when the array is borrowed.
template <class T>
class Storage {
 public:
  Storage() = default;
  explicit Storage(LargeVector<T> owned) : owned_(std::move(owned)) {}

  /// `size` elements at `data`, valid as long as `keepalive` lives.
  static Storage borrowed(const T* data, size_t size, std::shared_ptr<const void> keepalive) {
    Storage s;
    s.borrowed_ = data;
    s.borrowed_size_ = size;
    s.keepalive_ = std::move(keepalive);
    return s;
  }

  bool is_borrowed() const { return keepalive_ != nullptr; }
  const T* data() const { return is_borrowed() ? borrowed_ : owned_.data(); }
  size_t size() const { return is_borrowed() ? borrowed_size_ : owned_.size(); }
  bool empty() const { return size() == 0; }

  /// The elements as an owned vector: moved out when owned, copied when
  /// borrowed (an index that must own its array takes a read one this way).
  LargeVector<T> take() && {
    if (!is_borrowed()) return std::move(owned_);
    return LargeVector<T>(borrowed_, borrowed_ + borrowed_size_);
  }

  /// The owned vector, to grow or change; `who` names the index in the error
  /// raised when the array is borrowed (read-only).
  LargeVector<T>& owned(std::string_view who) {
    SEXTANT_CHECK(!is_borrowed(), who,
                  " serves its data read-only from a memory-mapped file and cannot be modified: "
                  "read the file without mmap to get a modifiable index");
    return owned_;
  }

 private:
  LargeVector<T> owned_;
  const T* borrowed_ = nullptr;
  size_t borrowed_size_ = 0;
  std::shared_ptr<const void> keepalive_;
};

}  // namespace sextant
