#include "sextant/IndexHNSWQuantized.h"

#include "sextant/base/Error.h"

namespace sextant {

void IndexHNSWCodes::train_impl(idx_t n, const float* x) {
  SEXTANT_CHECK(ntotal_ == 0, type_name(), " must be trained before vectors are added (it holds ", ntotal_,
                "): reset() it first");
  SEXTANT_CHECK(n > 0, "training ", type_name(), " needs at least one vector");
  code_storage().train(size_t(n), x);
}

void IndexHNSWCodes::restore(LargeVector<uint8_t> codes, const HNSW::Layout& layout,
                             std::vector<node_t> label_of_node, idx_t renumbered_at) {
  SEXTANT_CHECK(is_trained() || layout.levels.empty(), type_name(), ": codes without a trained quantizer");
  code_storage().assign(std::move(codes), layout.levels.size());
  restore_graph(layout, std::move(label_of_node), renumbered_at);
}

void IndexHNSWCodes::reconstruct_impl(idx_t key, float* recons) const {
  SEXTANT_CHECK(key >= 0 && key < ntotal_, "id ", key, " is out of range [0, ", ntotal_, ")");
  code_storage().reconstruct(node_of(key), recons);
}

void IndexHNSWCodes::sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const {
  SEXTANT_CHECK(is_trained(), type_name(), " is not trained: call train() before sa_encode()");
  code_storage().encode(size_t(n), x, codes);
}

void IndexHNSWCodes::sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const {
  SEXTANT_CHECK(is_trained(), type_name(), " is not trained: call train() before sa_decode()");
  code_storage().decode(size_t(n), codes, x);
}

// The base class checks d > 0 before the storage is built.
IndexHNSWSQ::IndexHNSWSQ(int d, QuantizerType qtype, int M, MetricType metric)
    : IndexHNSWCodes(d, M, metric), storage_(size_t(d), qtype, metric) {}

IndexHNSWPQ::IndexHNSWPQ(int d, size_t pq_M, int M, size_t pq_nbits, MetricType metric)
    : IndexHNSWCodes(d, M, metric), storage_(size_t(d), pq_M, pq_nbits, metric) {}

}  // namespace sextant
