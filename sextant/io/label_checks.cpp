#include "sextant/io/label_checks.h"

#include "sextant/IndexIDMap.h"
#include "sextant/IndexIVF.h"
#include "sextant/IndexPreTransform.h"
#include "sextant/IndexRefine.h"
#include "sextant/IndexReplicas.h"
#include "sextant/IndexShards.h"

namespace sextant {

bool labels_below(const Index& index, idx_t bound) {
  if (const auto* ivf = dynamic_cast<const IndexIVF*>(&index)) {
    // A later add() numbers vectors from next_id: past bound they would index
    // past the parent's arrays; where the labels are positions they go on from ntotal.
    const idx_t next = ivf->next_id();
    if (next > bound || (bound == ivf->ntotal() && next != bound)) return false;
    const InvertedLists& lists = ivf->invlists();
    for (size_t l = 0; l < lists.nlist(); l++) {
      const idx_t* ids = lists.ids(l);
      for (size_t i = 0; i < lists.list_size(l); i++)
        if (ids[i] < 0 || ids[i] >= bound) return false;
    }
    return true;
  }
  if (const auto* map = dynamic_cast<const IndexIDMap*>(&index)) {
    for (idx_t id : map->id_map())
      if (id < 0 || id >= bound) return false;
    return true;
  }
  if (const auto* refine = dynamic_cast<const IndexRefine*>(&index)) return labels_below(*refine->base(), bound);
  if (const auto* pt = dynamic_cast<const IndexPreTransform*>(&index)) return labels_below(*pt->index(), bound);
  if (const auto* shards = dynamic_cast<const IndexShards*>(&index)) {
    for (size_t s = 0; s < shards->nshards(); s++) {
      const idx_t offset = shards->id_offset(s);
      if (offset > bound || !labels_below(*shards->shard(s), bound - offset)) return false;
    }
    return true;
  }
  if (const auto* replicas = dynamic_cast<const IndexReplicas*>(&index)) {
    for (size_t r = 0; r < replicas->nreplicas(); r++)
      if (!labels_below(*replicas->replica(r), bound)) return false;
    return true;
  }
  return index.ntotal() <= bound;  // flat family: labels are positions
}

bool labels_within_ntotal(const Index& index) { return labels_below(index, index.ntotal()); }

}  // namespace sextant
