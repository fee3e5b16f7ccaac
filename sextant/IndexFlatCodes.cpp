#include "sextant/IndexFlatCodes.h"

#include <cstring>

#include "sextant/base/Error.h"

namespace sextant {

void IndexFlatCodes::set_codes(Storage<uint8_t> codes) {
  const size_t cs = code_size();
  SEXTANT_CHECK(codes.size() % cs == 0, "flat codes: ", codes.size(), " bytes are not a whole number of ", cs,
                "-byte codes");
  check_codes(codes.size() / cs, codes.data());
  codes_ = std::move(codes);
  ntotal_ = static_cast<idx_t>(codes_.size() / cs);
}

void IndexFlatCodes::add_impl(idx_t n, const float* x, const idx_t* ids) {
  SEXTANT_CHECK(ids == nullptr, type_name(),
                " numbers vectors in insertion order: use add(), or wrap it in IndexIDMap to choose ids");
  LargeVector<uint8_t>& codes = owned_codes();
  const size_t old = codes.size();
  codes.resize(old + static_cast<size_t>(n) * code_size());
  sa_encode_impl(n, x, codes.data() + old);
  ntotal_ += n;
}

void IndexFlatCodes::search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                                 const SearchParams& params) const {
  search_codes(n, x, d_, ntotal_, k, metric_, params.sel.get(), scorers(), distances, labels);
}

void IndexFlatCodes::range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                                       RangeSearchResult& result) const {
  result = range_search_codes(n, x, d_, ntotal_, radius, metric_, params.sel.get(), scorers());
}

void IndexFlatCodes::reconstruct_impl(idx_t key, float* recons) const {
  SEXTANT_CHECK(key >= 0 && key < ntotal_, "id ", key, " is out of range [0, ", ntotal_, ")");
  sa_decode_impl(1, codes_.data() + static_cast<size_t>(key) * code_size(), recons);
}

// Later codes move up: ids close up, as in Faiss.
size_t IndexFlatCodes::remove_ids_impl(const IDSelector& sel) {
  LargeVector<uint8_t>& codes = owned_codes();
  const size_t cs = code_size(), n = static_cast<size_t>(ntotal_);
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    if (sel.is_member(idx_t(i))) continue;
    if (kept != i) std::memmove(codes.data() + kept * cs, codes.data() + i * cs, cs);
    kept++;
  }
  codes.resize(kept * cs);
  ntotal_ = static_cast<idx_t>(kept);
  return n - kept;
}

void IndexFlatCodes::reset_impl() {
  owned_codes().clear();
  ntotal_ = 0;
}

void IndexFlatCodes::merge_from_impl(Index& other_index, idx_t add_id) {
  check_append_id(add_id);
  auto& other = dynamic_cast<IndexFlatCodes&>(other_index);
  SEXTANT_CHECK(same_encoder(other), "cannot merge: the ", encoder_name(),
                "s differ (train one index, then copy it for each part)");
  LargeVector<uint8_t>& theirs = other.owned_codes();
  LargeVector<uint8_t>& ours = owned_codes();
  ours.insert(ours.end(), theirs.begin(), theirs.end());
  theirs.clear();
  ntotal_ += other.ntotal_;
  other.ntotal_ = 0;
}

}  // namespace sextant
