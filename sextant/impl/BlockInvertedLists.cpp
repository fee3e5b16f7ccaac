#include "sextant/impl/BlockInvertedLists.h"

#include "sextant/base/Error.h"
#include "sextant/impl/FastScan.h"

namespace sextant {

BlockInvertedLists::BlockInvertedLists(size_t nlist, size_t M)
    : InvertedLists(nlist, (M + 1) / 2), M_(M), blocks_(nlist), ids_(nlist) {}

void BlockInvertedLists::get_code(size_t list, size_t offset, uint8_t* out) const {
  check_list(list);
  SEXTANT_CHECK(offset < ids_[list].size(), "entry ", offset, " of list ", list, " does not exist");
  fastscan::get_code(blocks_[list].data(), M_, offset, out);
}

size_t BlockInvertedLists::add_entries(size_t list, size_t n, const idx_t* ids, const uint8_t* codes) {
  check_list(list);
  const size_t first = ids_[list].size();
  ids_[list].insert(ids_[list].end(), ids, ids + n);
  blocks_[list].resize(fastscan::nblocks(first + n) * fastscan::block_bytes(M_));
  for (size_t i = 0; i < n; i++) fastscan::set_code(blocks_[list].data(), M_, first + i, codes + i * code_size());
  return first;
}

void BlockInvertedLists::shrink(size_t list, size_t size) {
  check_list(list);
  SEXTANT_CHECK(size <= ids_[list].size(), "cannot grow list ", list, " by shrinking it");
  ids_[list].resize(size);
  blocks_[list].resize(fastscan::nblocks(size) * fastscan::block_bytes(M_));
}

void BlockInvertedLists::update_entry(size_t list, size_t offset, idx_t id, const uint8_t* code) {
  check_list(list);
  SEXTANT_CHECK(offset < ids_[list].size(), "entry ", offset, " of list ", list, " does not exist");
  ids_[list][offset] = id;
  fastscan::set_code(blocks_[list].data(), M_, offset, code);
}

void BlockInvertedLists::reset() {
  for (auto& b : blocks_) LargeVector<uint8_t>().swap(b);
  for (auto& i : ids_) std::vector<idx_t>().swap(i);
}

}  // namespace sextant
