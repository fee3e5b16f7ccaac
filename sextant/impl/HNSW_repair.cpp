// HNSW graph: removal of nodes and re-linking of changed ones, with repair of
// the links around them (in the spirit of FreshDiskANN's delete consolidation).
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>

#include "sextant/base/Error.h"
#include "sextant/base/threads.h"
#include "sextant/impl/HNSW.h"

namespace sextant {

void HNSW::reroute_around(const std::vector<uint8_t>& gone, const GraphStorage& storage) {
  // A live node u that links to a gone node x loses a path: u's new list is
  // chosen (heuristic, up to the level's degree) from its live links and the
  // live nodes reachable from x in one or two hops through gone nodes. Each
  // task writes only u's own list and reads lists of gone nodes, which nobody
  // writes, so the nodes are repaired in parallel without locks.
  for (int level = 0; level <= max_level_; level++) {
    const size_t maxd = max_degree(level);
    ParallelErrors errors;
#pragma omp parallel
    {
      std::unique_ptr<GraphDistance> dist;
      errors.run([&] { dist = storage.distance_computer(); });
      std::vector<node_t> near;
      std::vector<float> near_d;
      std::vector<Candidate> cand;
      auto add_live = [&](node_t y, node_t u) {
        if (y != u && !gone[y]) near.push_back(y);
      };
      // A node's list is rewritten only once its new links are chosen: a
      // failure (no memory) leaves every list valid.
#pragma omp for schedule(dynamic, 64)
      for (size_t i = 0; i < n_; i++) errors.run([&] {
        const node_t u = node_t(i);
        if (gone[u] || levels_[u] < level) return;
        node_t* l = links(u, level);
        const size_t cnt = l[0];
        if (std::none_of(l + 1, l + 1 + cnt, [&](node_t x) { return gone[x] != 0; })) return;
        near.clear();
        for (size_t j = 1; j <= cnt; j++) {
          const node_t x = l[j];
          if (!gone[x]) {
            near.push_back(x);
            continue;
          }
          const node_t* lx = links(x, level);
          for (size_t a = 1; a <= lx[0]; a++) {
            const node_t y = lx[a];
            if (!gone[y]) {
              add_live(y, u);
            } else {
              const node_t* ly = links(y, level);
              for (size_t b = 1; b <= ly[0]; b++) add_live(ly[b], u);
            }
          }
        }
        std::sort(near.begin(), near.end());
        near.erase(std::unique(near.begin(), near.end()), near.end());
        near_d.resize(near.size());
        dist->set_query_node(u);
        dist->distances(near.data(), near.size(), std::numeric_limits<float>::infinity(), near_d.data());
        cand.resize(near.size());
        for (size_t j = 0; j < near.size(); j++) cand[j] = {near_d[j], near[j]};
        std::sort(cand.begin(), cand.end());
        select_neighbors(*dist, cand, maxd);
        l[0] = node_t(cand.size());
        for (size_t j = 0; j < cand.size(); j++) l[1 + j] = cand[j].id;
      });
    }
    errors.rethrow();
  }
}

void HNSW::choose_entry_point(const std::vector<uint8_t>& excluded) {
  // The first node of the highest level: searches must start at the top.
  entry_ = kNoNode;
  max_level_ = -1;
  for (size_t i = 0; i < n_; i++) {
    if (!excluded[i] && levels_[i] > max_level_) {
      entry_ = node_t(i);
      max_level_ = levels_[i];
    }
  }
}

void HNSW::compact(const std::vector<uint8_t>& removed, std::vector<node_t>& kept) {
  std::vector<node_t> new_id(n_, kNoNode);
  kept.clear();
  for (size_t i = 0; i < n_; i++) {
    if (removed[i]) continue;
    new_id[i] = node_t(kept.size());
    kept.push_back(node_t(i));
  }
  // Level 0 moves down in place: a node's new slot never lies after its old one.
  std::vector<node_t> row(stride0_);
  for (size_t j = 0; j < kept.size(); j++) {
    const node_t* src = &level0_[size_t(kept[j]) * stride0_];
    row[0] = src[0];
    for (size_t a = 1; a <= src[0]; a++) row[a] = new_id[src[a]];
    std::memcpy(&level0_[j * stride0_], row.data(), stride0_ * sizeof(node_t));
  }
  std::vector<node_t> upper;
  std::vector<uint32_t> upper_start(kept.size());
  std::vector<uint8_t> levels(kept.size());
  for (size_t j = 0; j < kept.size(); j++) {
    const node_t old = kept[j];
    levels[j] = levels_[old];
    upper_start[j] = uint32_t(upper.size());
    for (int l = 1; l <= levels_[old]; l++) {
      const node_t* src = links(old, l);
      const size_t at = upper.size();
      upper.resize(at + strideU_, 0);
      upper[at] = src[0];
      for (size_t a = 1; a <= src[0]; a++) upper[at + a] = new_id[src[a]];
    }
  }
  n_ = kept.size();
  level0_.resize(n_ * stride0_);
  levels_ = std::move(levels);
  upper_start_ = std::move(upper_start);
  upper_ = std::move(upper);
  entry_ = entry_ == kNoNode ? kNoNode : new_id[entry_];
}

std::vector<node_t> HNSW::remove(const std::vector<uint8_t>& removed, const GraphStorage& storage) {
  SEXTANT_CHECK(removed.size() == n_, "remove needs one flag per node (", n_, "), got ", removed.size());
  std::vector<node_t> kept;
  const size_t count = std::count_if(removed.begin(), removed.end(), [](uint8_t f) { return f != 0; });
  if (count == n_) {
    reset();
    return kept;
  }
  if (count > 0) {
    reroute_around(removed, storage);
    if (removed[entry_]) choose_entry_point(removed);
  }
  compact(removed, kept);
  return kept;
}

void HNSW::adopt_orphans(const GraphStorage& storage) {
  // Pruning a full list can drop a node's last in-link on level 0; no search
  // reaches it after that. Each such orphan is linked from a near node: into
  // a free slot, or in place of that node's farthest link that has other
  // in-links (so nobody becomes an orphan in its place).
  std::vector<uint32_t> in(n_, 0);
  for (size_t i = 0; i < n_; i++) {
    const node_t* l = links(node_t(i), 0);
    for (size_t j = 1; j <= l[0]; j++) in[l[j]]++;
  }
  std::unique_ptr<GraphDistance> dist = storage.distance_computer();
  std::vector<float> d;
  std::vector<Candidate> near;
  SearchBuffers buf;
  const size_t maxd = max_degree(0);
  // Links v from u: into a free slot, or in place of u's farthest link that has other in-links.
  auto adopt = [&](node_t v, node_t u) {
    node_t* l = links(u, 0);
    if (l[0] < maxd) {
      l[1 + l[0]] = v;
      l[0]++;
      return true;
    }
    dist->set_query_node(u);
    d.resize(l[0]);
    dist->distances(l + 1, l[0], std::numeric_limits<float>::infinity(), d.data());
    size_t worst = maxd;
    for (size_t j = 0; j < l[0]; j++) {
      if (in[l[1 + j]] > 1 && (worst == maxd || d[j] > d[worst])) worst = j;
    }
    if (worst == maxd) return false;  // every link of u is someone's only way in
    in[l[1 + worst]]--;
    l[1 + worst] = v;
    return true;
  };
  // Offers v to the candidates, nearest first, until one takes it.
  auto adopt_by_nearest = [&](node_t v, const std::vector<node_t>& from) {
    dist->set_query_node(v);
    d.resize(from.size());
    dist->distances(from.data(), from.size(), std::numeric_limits<float>::infinity(), d.data());
    near.resize(from.size());
    for (size_t j = 0; j < from.size(); j++) near[j] = {d[j], from[j]};
    std::sort(near.begin(), near.end());
    return std::any_of(near.begin(), near.end(), [&](const Candidate& c) { return adopt(v, c.id); });
  };
  std::vector<float> D(maxd);
  std::vector<idx_t> I(maxd);
  for (size_t i = 0; i < n_; i++) {
    const node_t v = node_t(i);
    if (in[v] > 0 || v == entry_) continue;
    // v's neighbours first; failing that (each is full of sole in-links), theirs;
    // failing that (v has no links left), the nearest nodes a search finds.
    const node_t* own = links(v, 0);
    std::vector<node_t> hop(own + 1, own + 1 + own[0]);
    bool adopted = adopt_by_nearest(v, hop);
    if (!adopted) {
      std::vector<node_t> second;
      for (node_t u : hop) {
        const node_t* lu = links(u, 0);
        std::copy_if(lu + 1, lu + 1 + lu[0], std::back_inserter(second), [v](node_t y) { return y != v; });
      }
      std::sort(second.begin(), second.end());
      second.erase(std::unique(second.begin(), second.end()), second.end());
      adopted = adopt_by_nearest(v, second);
    }
    if (!adopted) {
      dist->set_query_node(v);
      const size_t ef = std::max<size_t>(maxd, construction_pool());
      const size_t found = search(*dist, buf, maxd, ef, nullptr, D.data(), I.data());
      for (size_t j = 0; j < found && !adopted; j++) adopted = node_t(I[j]) != v && adopt(v, node_t(I[j]));
    }
    if (adopted) in[v]++;
  }
}

void HNSW::relink(const std::vector<node_t>& nodes, const GraphStorage& storage) {
  std::vector<uint8_t> gone(n_, 0);
  for (node_t v : nodes) {
    SEXTANT_CHECK(v < n_, "node ", v, " is out of range [0, ", n_, ")");
    gone[v] = 1;
  }
  reroute_around(gone, storage);
  if (entry_ != kNoNode && gone[entry_]) choose_entry_point(gone);
  for (node_t v : nodes) {
    for (int l = 0; l <= levels_[v]; l++) links(v, l)[0] = 0;
  }
  insert_all(nodes, storage);
}

}  // namespace sextant
