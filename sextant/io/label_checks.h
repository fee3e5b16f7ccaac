#pragma once

#include "sextant/Index.h"

namespace sextant {

/// True when every label `index` can return from a search lies in
/// [0, ntotal): the positions an IndexIDMap maps to ids, an IndexRefine looks
/// up in its refine index and an IVF index takes as list numbers from its
/// coarse quantizer. Flat-family indexes number vectors by position; indexes
/// that return stored ids (IVF lists, id maps) are checked entry by entry,
/// and so is the id an IVF index gives the next vector added (ntotal, for
/// positions): the labels of later additions stay positions too. Readers call
/// it on nested indexes, so that a crafted file cannot make a search, now or
/// after an add, index outside an array. New index types that return stored
/// ids need a case here.
bool labels_within_ntotal(const Index& index);
/// True when every label `index` can return lies in [0, bound).
bool labels_below(const Index& index, idx_t bound);

}  // namespace sextant
