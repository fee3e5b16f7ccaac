#include "gpu/GpuIndexIVFFlat.h"

#include <algorithm>

#include "gpu/kernels/IvfScan.h"
#include "gpu/kernels/VectorOps.h"
#include "sextant/IndexFlat.h"
#include "sextant/base/Error.h"

namespace sextant::gpu {

GpuIndexIVFFlat::GpuIndexIVFFlat(std::shared_ptr<GpuResources> res, int d, size_t nlist, MetricType metric)
    : GpuIndexIVF(std::move(res), d, nlist, metric, false, {size_t(d) * sizeof(float)}) {
  auto lock = res_->lock();  // the kernels' attributes are the device's
  check_ivf_flat_scan_fits(*res_, d);
}

GpuIndexIVFFlat::GpuIndexIVFFlat(std::shared_ptr<GpuResources> res, const IndexIVFFlat& index)
    : GpuIndexIVFFlat(std::move(res), index.d(), index.nlist(), index.metric()) {
  copy_from(index);
}

void GpuIndexIVFFlat::encode_device(idx_t n, const float* x, const int64_t*, const int64_t* pos) {
  scatter_rows(*res_, reinterpret_cast<const uint8_t*>(x), pos, n, int64_t(d_) * 4, lists_.column(0));
}

void GpuIndexIVFFlat::scan(const ScanBlock& b) const {
  IvfScanInput in{b.nq,      b.x,         d_,         b.nprobe,    b.coarse,
                  b.probes,  lists_.offsets_device(), lists_.sizes_device(), lists_.column(0),
                  is_similarity(metric_), b.slices, b.slots, b.out, b.limits};
  ivf_flat_scan(*res_, in);
}

void GpuIndexIVFFlat::copy_from(const IndexIVFFlat& index) {
  SEXTANT_CHECK(index.d() == d_ && index.nlist() == nlist() && index.metric() == metric_,
                "copy_from: the IndexIVFFlat must have d=", d_, ", nlist=", nlist(), ", metric ", metric_name(metric_));
  SEXTANT_CHECK(index.is_trained(), "copy_from: the IndexIVFFlat is not trained");
  std::vector<float> centroids(nlist() * size_t(d_));
  index.quantizer()->reconstruct_n(0, nlist(), centroids.data());
  reset();
  set_centroids(centroids.data());
  upload_lists(index.invlists(), index.next_id());
  set_nprobe(std::min<int64_t>(index.nprobe(), kMaxNprobe));
}

std::unique_ptr<IndexIVFFlat> GpuIndexIVFFlat::to_cpu() const {
  auto quantizer = std::make_shared<IndexFlat>(d_, metric_);
  const std::vector<float> c = centroids();
  if (!c.empty()) quantizer->add(nlist(), c.data());  // empty: the GPU index is not trained
  auto cpu = std::make_unique<IndexIVFFlat>(quantizer, d_, nlist(), metric_);
  auto lists = std::make_unique<ArrayInvertedLists>(nlist(), size_t(d_) * sizeof(float));
  copy_lists_to(*lists);
  cpu->replace_invlists(std::move(lists));
  cpu->restore_state(next_id(), is_trained());
  cpu->set_nprobe(nprobe());
  return cpu;
}

}  // namespace sextant::gpu
