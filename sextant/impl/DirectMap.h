#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sextant/MetricType.h"

namespace sextant {

class InvertedLists;

/// How an IVF index finds an id's entry (for reconstruct and updates).
enum class DirectMapType : int {
  none = 0,       ///< no map: reconstruct is unavailable
  array = 1,      ///< ids are 0..ntotal-1 in insertion order: 8 bytes per vector
  hashtable = 2,  ///< any ids
};

/// id -> (list, offset in list).
class DirectMap {
 public:
  DirectMapType type() const { return type_; }

  /// Switches to `type`, rebuilding the map from the lists.
  void set_type(DirectMapType type, const InvertedLists& lists);
  /// Records n entries just appended to `list` at offsets first, first + 1, ...
  void add(size_t list, size_t first, size_t n, const idx_t* ids);
  /// Records that `id` now lives at (list, offset) (entries moved by a removal).
  void move(idx_t id, size_t list, size_t offset);
  void remove(idx_t id);
  void clear();

  /// (list, offset) of id; throws a clear error when the id is absent or there is no map.
  std::pair<size_t, size_t> locate(idx_t id) const;

 private:
  static uint64_t pack(size_t list, size_t offset) { return (uint64_t(list) << 32) | uint64_t(offset); }

  DirectMapType type_ = DirectMapType::none;
  std::vector<uint64_t> array_;                 // array: slot id
  std::unordered_map<idx_t, uint64_t> hash_;    // hashtable
};

}  // namespace sextant
