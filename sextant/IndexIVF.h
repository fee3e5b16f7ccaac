#pragma once

#include <memory>

#include "sextant/Index.h"
#include "sextant/impl/DirectMap.h"
#include "sextant/impl/InvertedListScanner.h"
#include "sextant/impl/InvertedLists.h"
#include "sextant/impl/kmeans.h"

namespace sextant {

/// Inverted-file index: a coarse quantizer (itself any index, IndexFlat by
/// default) splits the space into nlist cells; each vector is stored, encoded
/// by the subclass, in the list of its nearest centroid. A search scans the
/// lists of the nprobe centroids nearest to the query.
///
/// Search runs two ways. Query by query (small batches, max_codes): each
/// thread scores lists with its own scanner. List by list (large batches,
/// encodings that decode to floats): the queries probing a list are gathered
/// and scored with one GEMM tile, so each list is read once per batch instead
/// of once per query.
///
/// add() numbers vectors 0, 1, 2, ... in order of addition; remove_ids keeps
/// the other ids as they are (no renumbering).
class IndexIVF : public Index {
 public:
  KnobSet search_knobs() const override;
  /// Trained once the quantizer holds nlist centroids and the encoder is trained.
  bool is_trained() const override;

  const std::shared_ptr<Index>& quantizer() const { return quantizer_; }
  size_t nlist() const { return lists_->nlist(); }
  size_t code_size() const { return lists_->code_size(); }
  const InvertedLists& invlists() const { return *lists_; }
  /// Replaces the lists' storage (e.g. with memory-mapped lists); same nlist
  /// and code_size. The new lists are checked: ids >= 0, codes as check_codes.
  void replace_invlists(std::unique_ptr<InvertedLists> lists);
  /// True when codes hold residuals to their list's centroid.
  bool by_residual() const { return by_residual_; }

  /// Defaults used when SearchParams leaves nprobe / max_codes unset.
  int64_t nprobe() const { return nprobe_; }
  void set_nprobe(int64_t nprobe);
  int64_t max_codes() const { return max_codes_; }
  void set_max_codes(int64_t max_codes);

  /// k-means parameters for training the coarse quantizer (niter 10 by default, as Faiss).
  KMeansParams& clustering_params() { return clustering_params_; }
  const KMeansParams& clustering_params() const { return clustering_params_; }

  /// The id add() gives to the next vector (ids continue after removals).
  idx_t next_id() const { return next_id_; }
  /// Restoring a saved index (read_index): sets the next id, and checks that
  /// the saved trained flag agrees with the quantizer and encoder.
  void restore_state(idx_t next_id, bool is_trained);

  /// Builds (or drops) the id -> entry map that reconstruct() and update need.
  void make_direct_map(DirectMapType type = DirectMapType::array);
  DirectMapType direct_map_type() const { return direct_map_.type(); }

  /// The list each of the n vectors belongs to (coarse assignment).
  void assign_lists(idx_t n, const float* x, idx_t* lists) const;
  /// The centroid of a list (for residuals).
  void centroid(size_t list, float* out) const;
  /// x minus the centroid of its list, for n vectors (what a residual encoder codes).
  std::vector<float> residuals(idx_t n, const float* x, const idx_t* lists) const;

 protected:
  IndexIVF(std::shared_ptr<Index> quantizer, int d, size_t nlist, size_t code_size, MetricType metric,
           bool by_residual);

  // What an encoding provides.
  /// Whether the encoder (codebooks, ranges) is trained; true for raw vectors.
  virtual bool encoder_is_trained() const { return true; }
  /// Trains the encoder on x: n vectors, or their residuals when by_residual();
  /// `vectors` are the vectors themselves either way.
  virtual void train_encoder(idx_t n, const float* x, const float* vectors);
  /// Codes of n vectors, given the list each goes to (for residuals).
  virtual void encode(idx_t n, const float* x, const idx_t* lists, uint8_t* codes) const = 0;
  /// The vector coded by `code` in `list`.
  virtual void decode(size_t list, const uint8_t* code, float* x) const = 0;
  /// Throws unless n stored codes (read from a file, say) decode to finite
  /// vectors within the norm bound; encodings whose codes always do skip it.
  virtual void check_codes(const uint8_t*, size_t) const {}
  /// The scanner of the default search; encodings that override the
  /// *_preassigned searches need none (the default throws).
  virtual std::unique_ptr<InvertedListScanner> make_scanner() const;
  /// For list-by-list search: writes the vectors of n codes of `list` as
  /// floats into out (n x d) and returns out, or returns the codes themselves
  /// when they already are floats. The default decodes one code at a time.
  virtual const float* decode_block(size_t list, const uint8_t* codes, size_t n, float* out) const;
  /// Whether list-by-list search may be used (decode_block is cheap enough).
  virtual bool supports_list_major_search() const { return true; }
  /// Whether codes of `other` (same type) decode alike here: same trained encoder.
  virtual bool same_encoder(const IndexIVF&) const { return true; }
  /// (list, offset) of a stored id, through the direct map (an Error without one).
  std::pair<size_t, size_t> locate(idx_t id) const { return direct_map_.locate(id); }

  /// Searches the lists the coarse step picked: probes[i * nprobe + p] is the
  /// p-th list of query i (-1: none), coarse its distance to the centroid.
  /// The default scans query by query or list by list (see the class comment).
  virtual void search_preassigned(idx_t n, const float* x, size_t k, size_t nprobe, size_t max_codes,
                                  const float* coarse, const idx_t* probes, const IDSelector* sel, float* distances,
                                  idx_t* labels) const;
  virtual void range_search_preassigned(idx_t n, const float* x, float radius, size_t nprobe, const float* coarse,
                                        const idx_t* probes, const IDSelector* sel, RangeSearchResult& result) const;

  void train_impl(idx_t n, const float* x) override;
  void add_impl(idx_t n, const float* x, const idx_t* ids) override;
  void search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                   const SearchParams& params) const override;
  /// Groups the queries by their nearest list.
  void search_grouped_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels, idx_t* order,
                           const SearchParams& params) const override;
  void range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                         RangeSearchResult& result) const override;
  void reconstruct_impl(idx_t key, float* recons) const override;
  size_t sa_code_size_impl() const override;
  void sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const override;
  void sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const override;
  size_t remove_ids_impl(const IDSelector& sel) override;
  void reset_impl() override;
  /// Moves the other's entries into the same lists (same lists, quantizer and
  /// encoder), their ids shifted by add_id.
  void merge_from_impl(Index& other, idx_t add_id) override;

  std::shared_ptr<Index> quantizer_;
  std::unique_ptr<InvertedLists> lists_;

 private:
  /// Coarse search: the nprobe nearest lists of each query.
  void probe(idx_t n, const float* x, size_t nprobe, const SearchParams& params, float* coarse, idx_t* lists) const;
  /// The coarse step and the lists, a chunk of queries at a time; grouped
  /// (order not null) as search_grouped describes.
  void search_chunks(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels, idx_t* order,
                     const SearchParams& params) const;
  void search_query_major(idx_t n, const float* x, size_t k, size_t nprobe, size_t max_codes, const float* coarse,
                          const idx_t* probes, const IDSelector* sel, float* distances, idx_t* labels) const;
  void search_list_major(idx_t n, const float* x, size_t k, size_t nprobe, const idx_t* probes,
                         const IDSelector* sel, float* distances, idx_t* labels) const;
  size_t coarse_code_size() const;
  void check_compatible(const IndexIVF& other) const;

  bool by_residual_;
  int64_t nprobe_ = 1;
  int64_t max_codes_ = 0;
  idx_t next_id_ = 0;
  KMeansParams clustering_params_;
  DirectMap direct_map_;
};

}  // namespace sextant
