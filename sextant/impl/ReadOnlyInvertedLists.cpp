#include "sextant/impl/ReadOnlyInvertedLists.h"

#include "sextant/base/Error.h"

namespace sextant {

ReadOnlyInvertedLists::ReadOnlyInvertedLists(size_t code_size, std::vector<size_t> offsets, const idx_t* ids,
                                             const uint8_t* codes, std::shared_ptr<const void> keepalive)
    : InvertedLists(offsets.empty() ? 0 : offsets.size() - 1, code_size),
      offsets_(std::move(offsets)),
      ids_(ids),
      codes_(codes),
      keepalive_(std::move(keepalive)) {
  SEXTANT_CHECK(offsets_.front() == 0, "read-only inverted lists: the first offset must be 0");
  for (size_t l = 0; l + 1 < offsets_.size(); l++) {
    SEXTANT_CHECK(offsets_[l] <= offsets_[l + 1], "read-only inverted lists: offsets must not decrease");
  }
}

void ReadOnlyInvertedLists::refuse(const char* operation) const {
  detail::throw_error(__FILE__, __LINE__, "cannot ", operation,
                      ": the inverted lists are served read-only from a memory-mapped file "
                      "(read the file without mmap to get a modifiable index)");
}

size_t ReadOnlyInvertedLists::add_entries(size_t, size_t, const idx_t*, const uint8_t*) { refuse("add entries"); }
void ReadOnlyInvertedLists::shrink(size_t, size_t) { refuse("remove entries"); }
void ReadOnlyInvertedLists::update_entry(size_t, size_t, idx_t, const uint8_t*) { refuse("update entries"); }
void ReadOnlyInvertedLists::reset() { refuse("reset"); }

}  // namespace sextant
