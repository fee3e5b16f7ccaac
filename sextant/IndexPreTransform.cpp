#include "sextant/IndexPreTransform.h"

#include <algorithm>
#include <vector>

#include "sextant/base/Error.h"

namespace sextant {

namespace {

constexpr idx_t kChunk = 16384;  // vectors transformed at a time: bounds the scratch memory

int chain_input_dim(const std::vector<std::shared_ptr<VectorTransform>>& chain) {
  SEXTANT_CHECK(!chain.empty(), "IndexPreTransform needs at least one transform");
  for (const auto& t : chain) SEXTANT_CHECK(t != nullptr, "IndexPreTransform: a transform is null");
  return chain.front()->d_in();
}

const Index& checked_index(const std::shared_ptr<Index>& index) {
  SEXTANT_CHECK(index != nullptr, "IndexPreTransform needs an index, got null");
  return *index;
}

}  // namespace

IndexPreTransform::IndexPreTransform(std::shared_ptr<VectorTransform> transform, std::shared_ptr<Index> index)
    : IndexPreTransform(std::vector<std::shared_ptr<VectorTransform>>{std::move(transform)}, std::move(index)) {}

IndexPreTransform::IndexPreTransform(std::vector<std::shared_ptr<VectorTransform>> chain,
                                     std::shared_ptr<Index> index)
    : Index(chain_input_dim(chain), checked_index(index).metric(), false),
      chain_(std::move(chain)),
      index_(std::move(index)) {
  for (size_t i = 0; i + 1 < chain_.size(); i++) {
    SEXTANT_CHECK(chain_[i]->d_out() == chain_[i + 1]->d_in(), "transform ", i, " outputs ", chain_[i]->d_out(),
                  " dimensions but transform ", i + 1, " takes ", chain_[i + 1]->d_in());
  }
  SEXTANT_CHECK(chain_.back()->d_out() == index_->d(), "the transforms output ", chain_.back()->d_out(),
                " dimensions but the index has d=", index_->d());
  ntotal_ = index_->ntotal();
}

bool IndexPreTransform::is_trained() const {
  return index_->is_trained() &&
         std::all_of(chain_.begin(), chain_.end(), [](const auto& t) { return t->is_trained(); });
}

void IndexPreTransform::prepend_transform(std::shared_ptr<VectorTransform> transform) {
  SEXTANT_CHECK(transform != nullptr, "the transform must not be null");
  SEXTANT_CHECK(transform->d_out() == d_, "the new transform outputs ", transform->d_out(),
                " dimensions but the chain takes ", d_);
  d_ = transform->d_in();
  chain_.insert(chain_.begin(), std::move(transform));
}

void IndexPreTransform::apply_chain(idx_t n, const float* x, float* out) const {
  std::vector<float> a(x, x + size_t(n) * d_), b;
  for (const auto& t : chain_) {
    b.resize(size_t(n) * t->d_out());
    t->apply(n, a.data(), b.data());
    a.swap(b);
  }
  std::copy(a.begin(), a.end(), out);
}

bool IndexPreTransform::has_error_bounds() const {
  return index_->has_error_bounds() &&
         std::all_of(chain_.begin(), chain_.end(), [](const auto& t) { return t->preserves_distances(); });
}

void IndexPreTransform::error_bounds(const float* x, const idx_t* ids, size_t n, float* out) const {
  SEXTANT_CHECK(has_error_bounds(), type_name(), " has no error bounds: its inner index has none, or a transform ",
                "changes distances");
  std::vector<float> xt(index_->d());
  apply_chain(1, x, xt.data());
  index_->error_bounds(xt.data(), ids, n, out);
}

std::pair<const Index*, const float*> IndexPreTransform::bounded_target(idx_t n, const float* x,
                                                                        std::vector<float>& buffer) const {
  std::vector<float> xt(size_t(n) * index_->d());
  apply_chain(n, x, xt.data());
  auto target = index_->bounded_target(n, xt.data(), buffer);
  if (target.second == xt.data()) {  // the inner index takes them as they are: keep them
    buffer = std::move(xt);
    target.second = buffer.data();
  }
  return target;
}

void IndexPreTransform::reverse_chain(idx_t n, const float* xt, float* out) const {
  std::vector<float> a(xt, xt + size_t(n) * index_->d()), b;
  for (auto it = chain_.rbegin(); it != chain_.rend(); ++it) {
    b.resize(size_t(n) * (*it)->d_in());
    (*it)->reverse_transform(n, a.data(), b.data());
    a.swap(b);
  }
  std::copy(a.begin(), a.end(), out);
}

// Each untrained transform learns from the output of the ones before it;
// then the index learns from the output of the whole chain.
void IndexPreTransform::train_impl(idx_t n, const float* x) {
  std::vector<float> a(x, x + size_t(n) * d_), b;
  for (const auto& t : chain_) {
    if (!t->is_trained()) t->train(n, a.data());
    b.resize(size_t(n) * t->d_out());
    t->apply(n, a.data(), b.data());
    a.swap(b);
  }
  index_->train(n, a.data());
}

void IndexPreTransform::add_impl(idx_t n, const float* x, const idx_t* ids) {
  std::vector<float> xt(size_t(std::min(n, kChunk)) * index_->d());
  for (idx_t i0 = 0; i0 < n; i0 += kChunk) {
    const idx_t m = std::min(kChunk, n - i0);
    apply_chain(m, x + i0 * d_, xt.data());
    if (ids) {
      index_->add_with_ids(m, xt.data(), ids + i0);
    } else {
      index_->add(m, xt.data());
    }
  }
  ntotal_ = index_->ntotal();
}

void IndexPreTransform::search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                                    const SearchParams& params) const {
  search_transformed(n, x, k, distances, labels, nullptr, params);
}

void IndexPreTransform::search_grouped_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                                            idx_t* order, const SearchParams& params) const {
  search_transformed(n, x, k, distances, labels, order, params);
}

void IndexPreTransform::search_transformed(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                                           idx_t* order, const SearchParams& params) const {
  std::vector<float> xt(size_t(std::min(n, kChunk)) * index_->d());
  for (idx_t i0 = 0; i0 < n; i0 += kChunk) {
    const idx_t m = std::min(kChunk, n - i0);
    apply_chain(m, x + i0 * d_, xt.data());
    if (order == nullptr) {
      index_->search(m, xt.data(), k, distances + i0 * k, labels + i0 * k, params);
    } else {
      index_->search_grouped(m, xt.data(), k, distances + i0 * k, labels + i0 * k, order + i0, params);
      for (idx_t i = i0; i < i0 + m; i++) order[i] += i0;
    }
  }
}

void IndexPreTransform::range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                                          RangeSearchResult& result) const {
  std::vector<float> xt(size_t(n) * index_->d());
  apply_chain(n, x, xt.data());
  result = index_->range_search(n, xt.data(), radius, params);
}

void IndexPreTransform::reconstruct_impl(idx_t key, float* recons) const {
  std::vector<float> xt(index_->d());
  index_->reconstruct(key, xt.data());
  reverse_chain(1, xt.data(), recons);
}

void IndexPreTransform::sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const {
  std::vector<float> xt(size_t(n) * index_->d());
  apply_chain(n, x, xt.data());
  index_->sa_encode(n, xt.data(), codes);
}

void IndexPreTransform::sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const {
  std::vector<float> xt(size_t(n) * index_->d());
  index_->sa_decode(n, codes, xt.data());
  reverse_chain(n, xt.data(), x);
}

void IndexPreTransform::merge_from_impl(Index& other_index, idx_t add_id) {
  auto& other = dynamic_cast<IndexPreTransform&>(other_index);
  bool same = other.chain_.size() == chain_.size();
  for (size_t i = 0; same && i < chain_.size(); i++) same = chain_[i]->same_map(*other.chain_[i]);
  SEXTANT_CHECK(same, "cannot merge: the transform chains differ (train one index, then copy it for each part)");
  index_->merge_from(*other.index_, add_id);
  sync(0);
  other.sync(0);
}

void IndexPreTransform::reset_impl() {
  index_->reset();
  ntotal_ = 0;
}

}  // namespace sextant
