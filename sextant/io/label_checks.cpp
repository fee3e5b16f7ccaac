#include "sextant/io/label_checks.h"

#include "sextant/IndexIDMap.h"
#include "sextant/IndexIVF.h"
#include "sextant/IndexPreTransform.h"
#include "sextant/IndexRefine.h"

namespace sextant {

bool labels_within_ntotal(const Index& index) {
  const idx_t ntotal = index.ntotal();
  if (const auto* ivf = dynamic_cast<const IndexIVF*>(&index)) {
    const InvertedLists& lists = ivf->invlists();
    for (size_t l = 0; l < lists.nlist(); l++) {
      const idx_t* ids = lists.ids(l);
      for (size_t i = 0; i < lists.list_size(l); i++)
        if (ids[i] < 0 || ids[i] >= ntotal) return false;
    }
    return true;
  }
  if (const auto* map = dynamic_cast<const IndexIDMap*>(&index)) {
    for (idx_t id : map->id_map())
      if (id < 0 || id >= ntotal) return false;
    return true;
  }
  if (const auto* refine = dynamic_cast<const IndexRefine*>(&index)) return labels_within_ntotal(*refine->base());
  if (const auto* pt = dynamic_cast<const IndexPreTransform*>(&index)) return labels_within_ntotal(*pt->index());
  return true;  // flat family: labels are positions
}

}  // namespace sextant
