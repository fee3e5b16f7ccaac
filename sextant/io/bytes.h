#pragma once

// Byte-level reading and writing shared by the sextant and Faiss file formats.
// Everything is little-endian and fixed-width. The reader never trusts a
// count: every read is checked against the bytes that remain before anything
// is allocated, so a hostile file costs at most about its own size in memory.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "sextant/base/Error.h"
#include "sextant/base/Storage.h"
#include "sextant/io/checksum.h"

namespace sextant {

/// A bounded cursor over bytes in memory (a buffer or a mapped file).
class ByteReader {
 public:
  /// `name` says where the bytes come from (a path, or "buffer") in errors.
  /// `keepalive`, when set, owns the bytes for as long as needed: arrays may
  /// then be borrowed rather than copied (memory-mapped reading).
  ByteReader(const uint8_t* data, size_t size, std::string name, std::shared_ptr<const void> keepalive = nullptr)
      : data_(data), size_(size), name_(std::move(name)), keepalive_(std::move(keepalive)) {}

  /// A reader over the first n bytes only (same name and owner).
  ByteReader prefix(size_t n) const { return ByteReader(data_, std::min(n, size_), name_, keepalive_); }
  const uint8_t* data() const { return data_; }
  size_t offset() const { return pos_; }
  size_t size() const { return size_; }
  size_t remaining() const { return size_ - pos_; }
  const std::string& name() const { return name_; }
  bool can_borrow() const { return keepalive_ != nullptr; }

  /// Throws an Error naming the source, the offset and `what`.
  template <class... Parts>
  [[noreturn]] void fail(const Parts&... parts) const {
    detail::throw_error(__FILE__, __LINE__, "invalid index file ", name_, " at byte ", pos_, ": ", parts...);
  }
  /// Throws unless cond holds (the parts name the problem).
  template <class... Parts>
  void check(bool cond, const Parts&... parts) const {
    if (!cond) [[unlikely]] fail(parts...);
  }

  /// The next n bytes.
  const uint8_t* take(size_t n, const char* what) {
    if (n > remaining()) fail("truncated: ", what, " needs ", n, " bytes, ", remaining(), " remain");
    const uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
  }

  template <class T>
  T scalar(const char* what) {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    std::memcpy(&value, take(sizeof(T), what), sizeof(T));
    return value;
  }

  /// Skips to the next multiple of `alignment` from the start.
  void align(size_t alignment, const char* what) {
    const size_t pad = (alignment - pos_ % alignment) % alignment;
    take(pad, what);
  }

  /// Checks that `count` elements of `elem_size` bytes fit in what remains
  /// (without overflow) and returns their size in bytes.
  size_t checked_bytes(uint64_t count, size_t elem_size, const char* what) const {
    if (elem_size != 0 && count > remaining() / elem_size)
      fail("truncated or corrupt: ", what, " claims ", count, " elements of ", elem_size, " bytes, but only ",
           remaining(), " bytes remain");
    return static_cast<size_t>(count) * elem_size;
  }

  /// Copies n elements into a new vector (n already checked or checked here).
  template <class Vec>
  Vec copy_array(uint64_t n, const char* what) {
    using T = typename Vec::value_type;
    const size_t bytes = checked_bytes(n, sizeof(T), what);
    const uint8_t* p = take(bytes, what);
    Vec out(static_cast<size_t>(n));
    if (bytes > 0) std::memcpy(out.data(), p, bytes);
    return out;
  }

  /// n elements, borrowed when the reader can borrow and the bytes are
  /// aligned for T, else copied into owned storage.
  template <class T>
  Storage<T> storage_array(uint64_t n, const char* what) {
    const size_t bytes = checked_bytes(n, sizeof(T), what);
    const uint8_t* p = data_ + pos_;
    if (can_borrow() && reinterpret_cast<uintptr_t>(p) % alignof(T) == 0) {
      take(bytes, what);
      return Storage<T>::borrowed(reinterpret_cast<const T*>(p), static_cast<size_t>(n), keepalive_);
    }
    return Storage<T>(copy_array<LargeVector<T>>(n, what));
  }

  /// The owner of the bytes (null when arrays must be copied).
  const std::shared_ptr<const void>& keepalive() const { return keepalive_; }
  const uint8_t* current() const { return data_ + pos_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::string name_;
  std::shared_ptr<const void> keepalive_;
};

/// Where a writer's bytes go: a buffer or a file. Keeps the running offset
/// (for alignment) and the XXH64 of everything written.
class ByteSink {
 public:
  virtual ~ByteSink() = default;

  void write(const void* data, size_t size) {
    if (size == 0) return;
    hash_.update(data, size);
    put(data, size);
    offset_ += size;
  }
  template <class T>
  void scalar(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    write(&value, sizeof(T));
  }
  /// Zero bytes up to the next multiple of `alignment`.
  void align(size_t alignment) {
    static const uint8_t zeros[64] = {};
    size_t pad = (alignment - offset_ % alignment) % alignment;
    while (pad > 0) {
      const size_t n = std::min(pad, sizeof(zeros));
      write(zeros, n);
      pad -= n;
    }
  }

  uint64_t offset() const { return offset_; }
  uint64_t hash() const { return hash_.digest(); }

 protected:
  virtual void put(const void* data, size_t size) = 0;

 private:
  uint64_t offset_ = 0;
  Xxh64 hash_;
};

/// A sink into memory (serialize_index).
class VectorSink final : public ByteSink {
 public:
  std::vector<uint8_t>& bytes() { return bytes_; }

 protected:
  void put(const void* data, size_t size) override {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    bytes_.insert(bytes_.end(), p, p + size);
  }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace sextant
