#include "sextant/utils/HugePageAllocator.h"

#include <sys/mman.h>

namespace sextant {

void* allocate_huge_page_aligned(size_t bytes) {
  constexpr size_t kHugePage = size_t{2} << 20;
  constexpr size_t kCacheLine = 64;
  const size_t align = bytes >= kHugePage ? kHugePage : kCacheLine;
  const size_t rounded = (bytes + align - 1) / align * align;  // aligned_alloc needs a multiple
  void* p = std::aligned_alloc(align, rounded == 0 ? align : rounded);
#ifdef MADV_HUGEPAGE
  if (p != nullptr && align == kHugePage) madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure is harmless
#endif
  return p;
}

}  // namespace sextant
