#include "sextant/base/HugePageAllocator.h"

#include <sys/mman.h>

namespace sextant {

void* allocate_huge_page_aligned(size_t bytes) {
  constexpr size_t kHugePage = size_t{2} << 20;
  constexpr size_t kCacheLine = 64;
  const size_t align = bytes >= kHugePage ? kHugePage : kCacheLine;
  const size_t rounded = (bytes + align - 1) / align * align;  // aligned_alloc needs a multiple
  void* p = std::aligned_alloc(align, rounded == 0 ? align : rounded);
#ifdef MADV_HUGEPAGE
  // Only the huge pages the block fills: a last, partial one would be resident
  // whole once touched (up to 2 MiB an array for nothing); 4 KiB pages serve it.
  // Advice only: failure is harmless.
  if (p != nullptr && align == kHugePage) madvise(p, bytes / kHugePage * kHugePage, MADV_HUGEPAGE);
#endif
  return p;
}

}  // namespace sextant
