#include "sextant/impl/InvertedLists.h"

#include <cstring>

#include "sextant/base/Error.h"

namespace sextant {

InvertedLists::InvertedLists(size_t nlist, size_t code_size) : nlist_(nlist), code_size_(code_size) {
  SEXTANT_CHECK(nlist > 0, "nlist (the number of inverted lists) must be > 0, got ", nlist);
  SEXTANT_CHECK(code_size > 0, "code_size must be > 0, got ", code_size);
}

void InvertedLists::check_list(size_t list) const {
  SEXTANT_CHECK(list < nlist_, "inverted list ", list, " does not exist: nlist is ", nlist_);
}

void InvertedLists::get_code(size_t list, size_t offset, uint8_t* out) const {
  check_list(list);
  SEXTANT_CHECK(offset < list_size(list), "entry ", offset, " of list ", list, " does not exist");
  std::memcpy(out, codes(list) + offset * code_size_, code_size_);
}

size_t InvertedLists::total_size() const {
  size_t total = 0;
  for (size_t l = 0; l < nlist_; l++) total += list_size(l);
  return total;
}

double InvertedLists::imbalance_factor() const {
  double sum = 0, sum_sq = 0;
  for (size_t l = 0; l < nlist_; l++) {
    const double s = double(list_size(l));
    sum += s;
    sum_sq += s * s;
  }
  return sum == 0 ? 1.0 : double(nlist_) * sum_sq / (sum * sum);
}

ArrayInvertedLists::ArrayInvertedLists(size_t nlist, size_t code_size)
    : InvertedLists(nlist, code_size), codes_(nlist), ids_(nlist) {}

size_t ArrayInvertedLists::add_entries(size_t list, size_t n, const idx_t* ids, const uint8_t* codes) {
  check_list(list);
  const size_t offset = ids_[list].size();
  ids_[list].insert(ids_[list].end(), ids, ids + n);
  codes_[list].insert(codes_[list].end(), codes, codes + n * code_size());
  return offset;
}

void ArrayInvertedLists::shrink(size_t list, size_t size) {
  check_list(list);
  SEXTANT_CHECK(size <= ids_[list].size(), "cannot grow list ", list, " by shrinking it");
  ids_[list].resize(size);
  codes_[list].resize(size * code_size());
}

void ArrayInvertedLists::update_entry(size_t list, size_t offset, idx_t id, const uint8_t* code) {
  check_list(list);
  SEXTANT_CHECK(offset < ids_[list].size(), "entry ", offset, " of list ", list, " does not exist");
  ids_[list][offset] = id;
  std::memcpy(codes_[list].data() + offset * code_size(), code, code_size());
}

void ArrayInvertedLists::reset() {
  for (auto& c : codes_) LargeVector<uint8_t>().swap(c);
  for (auto& i : ids_) std::vector<idx_t>().swap(i);
}

}  // namespace sextant
