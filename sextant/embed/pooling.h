// From per-token hidden states to one vector per sequence.
#pragma once

#include <string>
#include <vector>

#include "sextant/embed/layers.h"

namespace sextant::embed {

enum class Pooling { none, mean, cls, last };

/// "none", "mean", "cls" or "last".
Pooling pooling_from_name(const std::string& name);

/// One row per sequence of the packed states (sequence i = rows offsets[i] .. offsets[i+1]):
/// the mean of its tokens, its first token (cls) or its last token. Not for Pooling::none.
Matrix pool(const Matrix& states, const std::vector<size_t>& offsets, Pooling pooling);

/// Scales each row to unit L2 norm (rows of zeros stay zero).
void l2_normalize_rows(Matrix& x);

}  // namespace sextant::embed
