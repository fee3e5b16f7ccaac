// Conversion hooks for the Faiss types whose sextant classes are not merged
// yet. Extension point: when IndexHNSW (branch hnsw) and IndexPreTransform
// with the transforms land, build the sextant index from the checked structs
// here; the parser, its checks and its tests stay as they are.
#include "sextant/io/faiss_structs.h"
#include "sextant/io/sextant_format.h"
#include "sextant/utils/Error.h"

namespace sextant {

std::unique_ptr<Index> convert_faiss_hnsw(uint32_t tag, int, MetricType, FaissHNSWGraph, std::unique_ptr<Index>) {
  detail::throw_error(__FILE__, __LINE__, "Faiss HNSW index files ('", fourcc_text(tag),
                      "') are recognised, but this build of sextant has no IndexHNSW to convert them to yet");
}

std::unique_ptr<Index> convert_faiss_pretransform(int, MetricType, std::vector<FaissVectorTransform>,
                                                  std::unique_ptr<Index>) {
  detail::throw_error(__FILE__, __LINE__,
                      "Faiss IndexPreTransform files (PCA, OPQ, random rotation...) are recognised, but this build "
                      "of sextant has no IndexPreTransform to convert them to yet");
}

}  // namespace sextant
