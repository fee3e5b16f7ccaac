#pragma once

// Faiss objects that this build parses but cannot yet turn into sextant
// indexes, kept in neutral form for the conversion hooks (faiss_convert.cpp).
// The parser has checked sizes and ranges stated in each comment.

#include <cstdint>
#include <memory>
#include <vector>

#include "sextant/Index.h"

namespace sextant {

/// A Faiss HNSW graph (faiss/impl/HNSW.h). Checked: levels has ntotal
/// entries in [1, 64], offsets has ntotal + 1 non-decreasing entries ending at
/// neighbors.size(), every neighbour is -1 or in [0, ntotal), entry_point is
/// -1 (empty graph) or in [0, ntotal), cum_nneighbor_per_level is non-decreasing.
struct FaissHNSWGraph {
  std::vector<double> assign_probas;
  std::vector<int32_t> cum_nneighbor_per_level;
  std::vector<int32_t> levels;
  std::vector<uint64_t> offsets;
  std::vector<int32_t> neighbors;
  int32_t entry_point = -1;
  int32_t max_level = -1;
  int32_t ef_construction = 0;
  int32_t ef_search = 0;
};

/// One Faiss VectorTransform of an IndexPreTransform chain. Checked: d_in and
/// d_out in [1, 2^20]; A has d_out * d_in values and b d_out (or none) for the
/// linear kinds; mean has d_in values for centering.
struct FaissVectorTransform {
  enum class Kind { linear, pca, random_rotation, itq, normalization, centering, remap };
  Kind kind = Kind::linear;
  int32_t d_in = 0, d_out = 0;
  bool is_trained = false;
  // Linear kinds (linear = generic LinearTransform, which OPQ writes; pca; random_rotation; itq).
  bool have_bias = false;
  std::vector<float> A, b;
  // PCA.
  float eigen_power = 0, epsilon = 0;
  bool random_rotation = false;
  std::vector<float> mean, eigenvalues, pca_matrix;
  // Normalization.
  float norm = 2;
  // Remap.
  std::vector<int32_t> map;
};

/// Turns a parsed Faiss HNSW index (`tag` IHNf, IHNp or IHNs) into the
/// sextant equivalent. `storage` holds the vectors (IndexFlat, IndexPQ or
/// IndexScalarQuantizer); flat storage converts to IndexHNSWFlat, the others
/// are refused with a clear error.
std::unique_ptr<Index> convert_faiss_hnsw(uint32_t tag, int d, MetricType metric, FaissHNSWGraph graph,
                                          std::unique_ptr<Index> storage);

/// Turns a parsed Faiss IndexPreTransform into the sextant equivalent.
std::unique_ptr<Index> convert_faiss_pretransform(int d, MetricType metric, std::vector<FaissVectorTransform> chain,
                                                  std::unique_ptr<Index> index);

}  // namespace sextant
