#pragma once

#include "sextant/Index.h"
#include "sextant/base/Storage.h"
#include "sextant/impl/code_search.h"

namespace sextant {

/// An index that stores one code per vector, one after the other, the
/// position being the id (as Faiss's IndexFlatCodes). It adds, removes,
/// reconstructs, merges and resets; a subclass supplies its codec (the
/// standalone codes: sa_code_size_impl, sa_encode_impl, sa_decode_impl) and
/// its search (scorers()). The codes may be borrowed read-only (a
/// memory-mapped file): then the methods that change them raise an error.
class IndexFlatCodes : public Index {
 public:
  bool removal_closes_up_ids() const final { return true; }

  /// Bytes per code.
  size_t code_size() const { return sa_code_size_impl(); }
  /// The codes, ntotal() x code_size() bytes.
  const uint8_t* codes() const { return codes_.data(); }
  /// Replaces the codes (a whole number of them, checked by the codec);
  /// loaders use it, with borrowed storage for a memory-mapped file (the
  /// index is then read-only).
  void set_codes(Storage<uint8_t> codes);

 protected:
  IndexFlatCodes(int d, MetricType metric) : Index(d, metric, false) {}

  size_t sa_code_size_impl() const override = 0;
  void sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const override = 0;
  void sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const override = 0;
  /// Throws unless the n codes read from a file are valid; the default accepts any bytes.
  virtual void check_codes(size_t /*n*/, const uint8_t* /*codes*/) const {}
  /// A scorer of codes() against one query at a time, made per thread.
  virtual CodeScorerFactory scorers() const = 0;
  /// Whether `other` (of this type) encodes as this index does, and what its
  /// encoder is called in the error when not: merge_from needs the same one.
  virtual bool same_encoder(const IndexFlatCodes& other) const = 0;
  virtual const char* encoder_name() const = 0;

  void add_impl(idx_t n, const float* x, const idx_t* ids) final;
  void search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                   const SearchParams& params) const final;
  void range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                         RangeSearchResult& result) const final;
  void reconstruct_impl(idx_t key, float* recons) const final;
  size_t remove_ids_impl(const IDSelector& sel) final;
  void reset_impl() final;
  void merge_from_impl(Index& other, idx_t add_id) final;

 private:
  /// The owned codes, to change; an error naming this index when they are borrowed.
  LargeVector<uint8_t>& owned_codes() { return codes_.owned(type_name()); }

  Storage<uint8_t> codes_;
};

}  // namespace sextant
