#pragma once

#include <memory>
#include <vector>

#include "gpu/DeviceInvertedLists.h"
#include "gpu/GpuIndex.h"
#include "gpu/GpuIndexFlat.h"
#include "sextant/IndexIVF.h"
#include "sextant/impl/kmeans.h"

namespace sextant::gpu {

/// Base of the GPU inverted-file indexes: the coarse quantizer is a
/// GpuIndexFlat of nlist centroids (trained by GPU k-means), the lists live in
/// device memory (DeviceInvertedLists), and a search runs, per block of
/// queries: the coarse search (GEMM + top-nprobe), one scan kernel over the
/// probed lists with the k-selection fused (subclasses), the merge of the
/// per-slice candidates, and the mapping of storage positions to ids.
/// nprobe (up to 2048) and k (up to 2048) are per call.
class GpuIndexIVF : public GpuIndex {
 public:
  /// Largest nprobe (the coarse search is a register-queue k-selection).
  static constexpr int64_t kMaxNprobe = 2048;

  size_t nlist() const { return lists_.nlist(); }
  int64_t nprobe() const { return nprobe_; }
  void set_nprobe(int64_t nprobe);
  /// Defaults used when SearchParams leaves max_codes unset: stop scanning a
  /// query's lists after this many codes (0: no limit), as IndexIVF does.
  int64_t max_codes() const { return max_codes_; }
  void set_max_codes(int64_t max_codes);
  KnobSet search_knobs() const override { return kKnobNprobe | kKnobMaxCodes; }
  bool is_trained() const override;
  /// k-means parameters for training the coarse quantizer (niter 10, as the CPU index).
  KMeansParams& clustering_params() { return clustering_params_; }
  /// The coarse centroids.
  const GpuIndexFlat& quantizer() const { return *quantizer_; }
  const DeviceInvertedLists& invlists() const { return lists_; }
  bool by_residual() const { return by_residual_; }
  /// The id add() gives to the next vector.
  idx_t next_id() const { return next_id_; }

  /// The list of each of n host vectors (coarse assignment).
  void assign_lists(idx_t n, const float* x, idx_t* lists) const;
  /// Copies the lists' ids and codes into a CPU index's store.
  void copy_lists_to(InvertedLists& lists) const;

 protected:
  GpuIndexIVF(std::shared_ptr<GpuResources> res, int d, size_t nlist, MetricType metric, bool by_residual,
              std::vector<size_t> column_bytes);

  // What an encoding provides.
  /// Trains the encoder on n host vectors given their lists (after the quantizer).
  virtual void train_encoder(idx_t n, const float* x, const idx_t* lists);
  virtual bool encoder_is_trained() const { return true; }
  /// Writes the rows (every column) of n device vectors at storage positions pos.
  virtual void encode_device(idx_t n, const float* x, const int64_t* lists, const int64_t* pos) = 0;
  /// Scan request: the probes of a block of queries and where candidates go.
  struct ScanBlock {
    idx_t nq;
    const float* x;        ///< nq x d queries (device)
    int64_t nprobe;
    const float* coarse;   ///< nq x nprobe distances (or similarities) to the probed centroids
    const int64_t* probes; ///< nq x nprobe lists (-1: none)
    int64_t slices;        ///< blocks per query, each scanning a slice of its probes
    int slots;             ///< queue size: 32 * slots entries per (query, slice)
    uint64_t* out;         ///< (nq * slices) x 32 * slots sorted entries (ids = storage positions)
    const int64_t* limits; ///< nq x nprobe entries to scan per probe (max_codes), or null
  };
  virtual void scan(const ScanBlock& block) const = 0;
  /// Entries to select per query before finish() (IVF-PQ with re-ranking selects more).
  virtual int64_t scan_k(idx_t k, const SearchParams& params) const;
  /// Device scratch each query needs besides the candidates (query tables...).
  virtual int64_t scratch_per_query(int64_t nprobe) const;
  /// Turns each query's best entries (sorted, stride 32 * slots) into the k results.
  virtual void finish(idx_t nq, const float* x, idx_t k, const uint64_t* best, int slots, int64_t scan_k,
                      float* distances, idx_t* labels, const SearchParams& params) const;

  void train_impl(idx_t n, const float* x) override;
  void add_device_impl(idx_t n, const float* x, const idx_t* ids) override;
  void search_device_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                          const SearchParams& params) const override;
  void reset_impl() override;

  /// For conversions: sets the coarse centroids (nlist x d, host) and the next id,
  /// and replaces the lists with a CPU index's (column 0; other columns via write_column).
  void set_centroids(const float* centroids);
  void upload_lists(const InvertedLists& lists, idx_t next_id);
  /// The centroid of every list, nlist x d on the host.
  std::vector<float> centroids() const;
  /// The quantizer's stored vectors in device memory (nlist x d).
  const float* centroids_device() const;

  std::unique_ptr<GpuIndexFlat> quantizer_;
  DeviceInvertedLists lists_;
  bool by_residual_;

 private:
  int64_t nprobe_ = 1;
  int64_t max_codes_ = 0;
  idx_t next_id_ = 0;
  KMeansParams clustering_params_;
};

}  // namespace sextant::gpu
