#pragma once

// The fields of the scalar and product quantizers in sextant files, shared by
// every codec whose index holds one (sextant_codecs*.cpp).

#include <utility>
#include <vector>

#include "sextant/impl/ProductQuantizer.h"
#include "sextant/impl/ScalarQuantizer.h"
#include "sextant/io/sextant_format.h"

namespace sextant {

/// The quantizer type (i32), checked.
QuantizerType read_qtype(SextantReader& in);
/// Sets the trained ranges when there are any (an untrained quantizer has none); checked.
void restore_sq(ScalarQuantizer& sq, std::vector<float> trained);

/// M, nbits, the centroids and, for anisotropic codes, the threshold (f32):
/// that last field needs object version 2 (pq_object_version).
void write_pq_params(const ProductQuantizer& pq, SextantWriter& out);
/// The object version that holds a quantizer's fields: 2 for anisotropic codes, else 1.
uint32_t pq_object_version(const ProductQuantizer& pq);
/// M and nbits, checked (M divides d, nbits in [1, 16]) before a quantizer is made with them.
std::pair<size_t, size_t> read_pq_shape(const IndexHeader& h, SextantReader& in);
/// Reads the centroids and sets them when there are any, then the anisotropic
/// threshold when the object version has one; checked.
void restore_pq_centroids(ProductQuantizer& pq, const IndexHeader& h, SextantReader& in);

}  // namespace sextant
