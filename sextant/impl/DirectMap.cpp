#include "sextant/impl/DirectMap.h"

#include <limits>

#include "sextant/base/Error.h"
#include "sextant/impl/InvertedLists.h"

namespace sextant {

namespace {
constexpr uint64_t kAbsent = std::numeric_limits<uint64_t>::max();
}

void DirectMap::set_type(DirectMapType type, const InvertedLists& lists) {
  DirectMap fresh;  // built aside, so a failure leaves this map as it was
  fresh.type_ = type;
  for (size_t l = 0; l < lists.nlist(); l++) fresh.add(l, 0, lists.list_size(l), lists.ids(l));
  *this = std::move(fresh);
}

void DirectMap::add(size_t list, size_t first, size_t n, const idx_t* ids) {
  for (size_t i = 0; i < n; i++) {
    const idx_t id = ids[i];
    if (type_ == DirectMapType::hashtable) {
      hash_[id] = pack(list, first + i);
    } else if (type_ == DirectMapType::array) {
      // Slot per id: ids must be small (about 0..ntotal-1) and unique.
      const size_t limit = 2 * (array_.size() + n) + 1024;
      SEXTANT_CHECK(id >= 0 && size_t(id) < limit, "an array direct map needs ids 0..ntotal-1, got id ", id,
                    ": use the hashtable direct map");
      if (size_t(id) >= array_.size()) array_.resize(size_t(id) + 1, kAbsent);
      SEXTANT_CHECK(array_[id] == kAbsent, "id ", id, " is present twice: an array direct map needs unique ids");
      array_[id] = pack(list, first + i);
    }
  }
}

void DirectMap::move(idx_t id, size_t list, size_t offset) {
  if (type_ == DirectMapType::hashtable) hash_[id] = pack(list, offset);
  if (type_ == DirectMapType::array && id >= 0 && size_t(id) < array_.size()) array_[id] = pack(list, offset);
}

void DirectMap::remove(idx_t id) {
  if (type_ == DirectMapType::hashtable) hash_.erase(id);
  if (type_ == DirectMapType::array && id >= 0 && size_t(id) < array_.size()) array_[id] = kAbsent;
}

void DirectMap::clear() {
  array_.clear();
  hash_.clear();
}

std::pair<size_t, size_t> DirectMap::locate(idx_t id) const {
  SEXTANT_CHECK(type_ != DirectMapType::none,
                "this IVF index has no direct map: call make_direct_map() to reconstruct vectors by id");
  uint64_t packed = kAbsent;
  if (type_ == DirectMapType::array) {
    if (id >= 0 && size_t(id) < array_.size()) packed = array_[id];
  } else {
    auto it = hash_.find(id);
    if (it != hash_.end()) packed = it->second;
  }
  SEXTANT_CHECK(packed != kAbsent, "id ", id, " is not in the index");
  return {size_t(packed >> 32), size_t(packed & 0xffffffffu)};
}

}  // namespace sextant
