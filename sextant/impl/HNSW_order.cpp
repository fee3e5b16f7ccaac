// HNSW graph: renumbering nodes for memory locality.
#include <algorithm>
#include <cstring>

#include "sextant/base/Error.h"
#include "sextant/impl/HNSW.h"
#include "sextant/impl/permute_rows.h"

namespace sextant {

std::vector<node_t> HNSW::locality_order() const {
  // Breadth-first from the entry point over level 0, neighbours in list order
  // (nearest first): the nodes a search expands together get nearby numbers,
  // so their rows share DRAM pages and TLB entries. Unreached nodes follow.
  std::vector<node_t> order;
  order.reserve(n_);
  std::vector<uint8_t> placed(n_, 0);
  auto visit_from = [&](node_t root) {
    size_t head = order.size();
    order.push_back(root);
    placed[root] = 1;
    for (; head < order.size(); head++) {
      const node_t* l = links(order[head], 0);
      for (size_t j = 1; j <= l[0]; j++) {
        if (!placed[l[j]]) {
          placed[l[j]] = 1;
          order.push_back(l[j]);
        }
      }
    }
  };
  if (entry_ != kNoNode) visit_from(entry_);
  for (size_t i = 0; i < n_; i++) {
    if (!placed[i]) visit_from(node_t(i));
  }
  return order;
}

void HNSW::renumber(const std::vector<node_t>& old_of_new) {
  SEXTANT_CHECK(old_of_new.size() == n_, "renumber needs one entry per node (", n_, "), got ", old_of_new.size());
  std::vector<node_t> new_of_old(n_, kNoNode);
  for (size_t j = 0; j < n_; j++) {
    SEXTANT_CHECK(old_of_new[j] < n_ && new_of_old[old_of_new[j]] == kNoNode, "renumber needs a permutation of 0..",
                  n_ - 1);
    new_of_old[old_of_new[j]] = node_t(j);
  }
  // Level 0 (most of the graph) is renumbered in place: links first, then rows.
  for (size_t i = 0; i < n_; i++) {
    node_t* l = links(node_t(i), 0);
    for (size_t a = 1; a <= l[0]; a++) l[a] = new_of_old[l[a]];
  }
  permute_rows(level0_.data(), stride0_ * sizeof(node_t), old_of_new);
  std::vector<node_t> upper;
  upper.reserve(upper_.size());
  std::vector<uint32_t> upper_start(n_);
  std::vector<uint8_t> levels(n_);
  for (size_t j = 0; j < n_; j++) {
    const node_t old = old_of_new[j];
    levels[j] = levels_[old];
    upper_start[j] = uint32_t(upper.size());
    for (int l = 1; l <= levels_[old]; l++) {
      const node_t* s = links(old, l);
      const size_t at = upper.size();
      upper.resize(at + strideU_, 0);
      upper[at] = s[0];
      for (size_t a = 1; a <= s[0]; a++) upper[at + a] = new_of_old[s[a]];
    }
  }
  upper_ = std::move(upper);
  upper_start_ = std::move(upper_start);
  levels_ = std::move(levels);
  if (entry_ != kNoNode) entry_ = new_of_old[entry_];
}

}  // namespace sextant
