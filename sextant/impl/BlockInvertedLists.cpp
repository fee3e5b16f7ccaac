#include "sextant/impl/BlockInvertedLists.h"

#include "sextant/base/Error.h"

namespace sextant {

BlockInvertedLists::BlockInvertedLists(size_t nlist, fastscan::BlockLayout layout)
    : InvertedLists(nlist, layout.code_size()),
      layout_(layout),
      blocks_(nlist),
      ids_(nlist) {}

void BlockInvertedLists::get_code(size_t list, size_t offset, uint8_t* out) const {
  check_list(list);
  SEXTANT_CHECK(offset < ids_[list].size(), "entry ", offset, " of list ", list, " does not exist");
  layout_.get(blocks_[list].data(), offset, out);
}

size_t BlockInvertedLists::add_entries(size_t list, size_t n, const idx_t* ids, const uint8_t* codes) {
  check_list(list);
  const size_t first = ids_[list].size();
  ids_[list].insert(ids_[list].end(), ids, ids + n);
  blocks_[list].resize(fastscan::nblocks(first + n) * layout_.stride());
  for (size_t i = 0; i < n; i++) layout_.set(blocks_[list].data(), first + i, codes + i * code_size());
  return first;
}

void BlockInvertedLists::shrink(size_t list, size_t size) {
  check_list(list);
  SEXTANT_CHECK(size <= ids_[list].size(), "cannot grow list ", list, " by shrinking it");
  ids_[list].resize(size);
  blocks_[list].resize(fastscan::nblocks(size) * layout_.stride());
}

void BlockInvertedLists::update_entry(size_t list, size_t offset, idx_t id, const uint8_t* code) {
  check_list(list);
  SEXTANT_CHECK(offset < ids_[list].size(), "entry ", offset, " of list ", list, " does not exist");
  ids_[list][offset] = id;
  layout_.set(blocks_[list].data(), offset, code);
}

void BlockInvertedLists::reset() {
  for (auto& b : blocks_) LargeVector<uint8_t>().swap(b);
  for (auto& i : ids_) std::vector<idx_t>().swap(i);
}

}  // namespace sextant
