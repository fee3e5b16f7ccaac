#pragma once

#include "gpu/GpuIndexIVF.h"
#include "gpu/kernels/IvfScan.h"
#include "gpu/kernels/PqKernels.h"
#include "sextant/IndexIVFPQ.h"
#include "sextant/impl/ProductQuantizer.h"

namespace sextant::gpu {

struct GpuIndexIVFPQConfig {
  /// Keep each vector as it is beside its code (4 d bytes more per vector), so
  /// a search can re-rank k * k_factor PQ candidates with exact distances.
  bool keep_raw_vectors = false;
  /// Look-up tables in fp16 even when fp32 fits in shared memory (half the
  /// shared memory, ~5e-4 relative error on the PQ distances). L2 only: the
  /// tables then hold squared distances (select/PqTables.h).
  bool use_fp16_tables = false;
};

/// IVF with product-quantized residuals (IndexIVFPQ's GPU twin): 1 to 8 bits
/// per sub-quantizer. For L2 with residuals the per-list terms
/// |r|^2 + 2 <c, r> are precomputed (nlist x M x 2^nbits floats, as the CPU
/// index, while they fit 2 GiB and the tables fit shared memory twice), so
/// the table of a probed list is one subtraction per entry; otherwise each
/// list's table is made from the residual. Tables live in shared memory, in
/// fp32 wherever that fits (fp16 only for squared distances: see
/// select/PqTables.h); the constructor refuses what fits in no layout.
/// Training: coarse k-means on the GPU, the sub-quantizers on the CPU (small
/// k-means problems); encoding on the GPU.
class GpuIndexIVFPQ : public GpuIndexIVF {
 public:
  static constexpr size_t kPrecomputedBudget = size_t{2} << 30;

  GpuIndexIVFPQ(std::shared_ptr<GpuResources> res, int d, size_t nlist, size_t M, size_t nbits = 8,
                MetricType metric = MetricType::L2, bool by_residual = true, GpuIndexIVFPQConfig config = {});
  /// A GPU copy of a trained CPU index (same centroids, codebooks, codes, ids).
  GpuIndexIVFPQ(std::shared_ptr<GpuResources> res, const IndexIVFPQ& index, GpuIndexIVFPQConfig config = {});
  std::string type_name() const override { return "GpuIndexIVFPQ"; }
  KnobSet search_knobs() const override;

  const ProductQuantizer& pq() const { return pq_; }
  /// k-means parameters of the sub-quantizers (run on the GPU by train()).
  KMeansParams& pq_train_params() { return pq_.train_params(); }
  const GpuIndexIVFPQConfig& config() const { return config_; }
  bool uses_precomputed_table() const { return tables_.mode == PqTableMode::precomputed; }
  bool uses_fp16_tables() const { return tables_.fp16; }
  /// Default for SearchParams::k_factor when raw vectors are kept (1: re-rank the k PQ results only).
  float k_factor() const { return k_factor_; }
  void set_k_factor(float k_factor);

  void copy_from(const IndexIVFPQ& index);
  /// A CPU IndexIVFPQ with the same centroids, codebooks, codes and ids (raw vectors are not copied).
  std::unique_ptr<IndexIVFPQ> to_cpu() const;

 protected:
  void train_encoder(idx_t n, const float* x, const idx_t* lists) override;
  bool encoder_is_trained() const override { return pq_.is_trained() && !pq_centroids_.empty(); }
  void encode_device(idx_t n, const float* x, const int64_t* lists, const int64_t* pos) override;
  void scan(const ScanBlock& block) const override;
  int64_t scan_k(idx_t k, const SearchParams& params) const override;
  int64_t scratch_per_query(int64_t nprobe) const override;
  void finish(idx_t nq, const float* x, idx_t k, const uint64_t* best, int slots, int64_t scan_k, float* distances,
              idx_t* labels, const SearchParams& params) const override;

 private:
  void train_product_quantizer(idx_t n, const float* x);
  /// Copies the codebooks to the device and builds the precomputed terms.
  void upload_codebooks();
  PqDevice pq_device() const;

  ProductQuantizer pq_;
  GpuIndexIVFPQConfig config_;
  float k_factor_ = 1;
  PqTablePlan tables_;
  float max_centroid_norm_ = 0;
  DeviceBuffer<float> pq_centroids_, pq_norms_, precomputed_;
};

}  // namespace sextant::gpu
