#include "gpu/DeviceInvertedLists.h"

#include <algorithm>

#include "gpu/GpuIndex.h"
#include "gpu/GpuResources.h"
#include "gpu/kernels/VectorOps.h"
#include "gpu/select/OrderedKey.h"
#include "sextant/base/Error.h"

namespace sextant::gpu {

DeviceInvertedLists::DeviceInvertedLists(size_t nlist, std::vector<size_t> column_bytes)
    : column_bytes_(std::move(column_bytes)),
      offsets_(nlist, 0),
      sizes_(nlist, 0),
      capacities_(nlist, 0),
      data_(column_bytes_.size()) {
  SEXTANT_CHECK(nlist > 0, "nlist must be > 0");
}

void DeviceInvertedLists::reset() {
  std::fill(offsets_.begin(), offsets_.end(), 0);
  std::fill(sizes_.begin(), sizes_.end(), 0);
  std::fill(capacities_.begin(), capacities_.end(), 0);
  total_ = capacity_ = 0;
  for (auto& d : data_) d.release();
  ids_.release();
  offsets_dev_.release();
  sizes_dev_.release();
}

void DeviceInvertedLists::upload_sizes(GpuResources& res) {
  if (offsets_dev_.size() != nlist()) {
    offsets_dev_.reallocate(nlist());
    sizes_dev_.reallocate(nlist());
  }
  copy_to_device(res, offsets_dev_.data(), offsets_.data(), nlist() * sizeof(int64_t));
  copy_to_device(res, sizes_dev_.data(), sizes_.data(), nlist() * sizeof(int64_t));
  // The host vectors may change before the copies run: wait for them.
  SEXTANT_CUDA_CHECK(cudaStreamSynchronize(res.stream()));
}

// Every list moves to a new allocation with capacity >= need[list] (50% more
// room for lists that grow, so a list grows O(log n) times).
void DeviceInvertedLists::grow(GpuResources& res, const std::vector<int64_t>& need) {
  const size_t nl = nlist();
  std::vector<int64_t> caps(nl), offs(nl);
  int64_t total_cap = 0;
  for (size_t l = 0; l < nl; l++) {
    caps[l] = need[l] <= capacities_[l] ? capacities_[l] : std::max(need[l], capacities_[l] + capacities_[l] / 2);
    offs[l] = total_cap;
    total_cap += caps[l];
  }
  SEXTANT_CHECK(total_cap < int64_t(kPadId), "GPU inverted lists hold fewer than 2^32 - 1 entries, asked for ",
                total_cap);
  std::vector<DeviceBuffer<uint8_t>> data(columns());
  for (size_t c = 0; c < columns(); c++) data[c].reallocate(size_t(total_cap) * column_bytes_[c]);
  DeviceBuffer<int64_t> ids(total_cap);
  if (total_ > 0) {
    DeviceBuffer<int64_t> from(nl), to(nl), count(nl);
    copy_to_device(res, from.data(), offsets_.data(), nl * sizeof(int64_t));
    copy_to_device(res, to.data(), offs.data(), nl * sizeof(int64_t));
    copy_to_device(res, count.data(), sizes_.data(), nl * sizeof(int64_t));
    for (size_t c = 0; c < columns(); c++)
      copy_segments(res, data_[c].data(), data[c].data(), from.data(), to.data(), count.data(), nl, column_bytes_[c]);
    copy_segments(res, reinterpret_cast<const uint8_t*>(ids_.data()), reinterpret_cast<uint8_t*>(ids.data()),
                  from.data(), to.data(), count.data(), nl, sizeof(int64_t));
    res.synchronize();  // before the old buffers and the index arrays are freed
  }
  data_ = std::move(data);
  ids_ = std::move(ids);
  capacities_ = std::move(caps);
  offsets_ = std::move(offs);
  capacity_ = total_cap;
}

std::vector<int64_t> DeviceInvertedLists::append(GpuResources& res, int64_t n, const int64_t* lists) {
  const size_t nl = nlist();
  std::vector<int64_t> need = sizes_;
  for (int64_t i = 0; i < n; i++) {
    SEXTANT_CHECK(lists[i] >= 0 && size_t(lists[i]) < nl, "list ", lists[i], " outside [0, ", nl, ")");
    need[lists[i]]++;
  }
  bool fits = true;
  for (size_t l = 0; l < nl && fits; l++) fits = need[l] <= capacities_[l];
  if (!fits) grow(res, need);
  std::vector<int64_t> pos(n);
  for (int64_t i = 0; i < n; i++) pos[i] = offsets_[lists[i]] + sizes_[lists[i]]++;
  total_ += n;
  upload_sizes(res);
  return pos;
}

void DeviceInvertedLists::download(GpuResources& res, size_t list, std::vector<uint8_t>& codes,
                                   std::vector<int64_t>& ids) const {
  const int64_t size = sizes_[list];
  codes.resize(size_t(size) * column_bytes_[0]);
  ids.resize(size);
  copy_to_host(res, codes.data(), data_[0].data() + size_t(offsets_[list]) * column_bytes_[0], codes.size());
  copy_to_host(res, ids.data(), ids_.data() + offsets_[list], size * sizeof(int64_t));
}

void DeviceInvertedLists::download_all(GpuResources& res, InvertedLists& lists) const {
  SEXTANT_CHECK(lists.nlist() == nlist() && lists.code_size() == column_bytes_[0],
                "the CPU inverted lists have nlist=", lists.nlist(), ", code_size=", lists.code_size(),
                "; expected ", nlist(), " and ", column_bytes_[0]);
  std::vector<uint8_t> codes;
  std::vector<int64_t> ids;
  for (size_t l = 0; l < nlist(); l++) {
    if (sizes_[l] == 0) continue;
    download(res, l, codes, ids);
    lists.add_entries(l, ids.size(), ids.data(), codes.data());
  }
}

void DeviceInvertedLists::upload(GpuResources& res, const InvertedLists& lists) {
  SEXTANT_CHECK(lists.nlist() == nlist() && lists.code_size() == column_bytes_[0],
                "the CPU inverted lists have nlist=", lists.nlist(), ", code_size=", lists.code_size(),
                "; expected ", nlist(), " and ", column_bytes_[0]);
  reset();
  std::vector<int64_t> need(nlist());
  for (size_t l = 0; l < nlist(); l++) need[l] = int64_t(lists.list_size(l));
  grow(res, need);
  std::vector<uint8_t> code;
  for (size_t l = 0; l < nlist(); l++) {
    const int64_t size = need[l];
    if (size == 0) continue;
    // codes() is the plain layout for in-memory stores; get_code() serves any store.
    std::vector<uint8_t> codes(size_t(size) * column_bytes_[0]);
    for (int64_t i = 0; i < size; i++) lists.get_code(l, i, codes.data() + size_t(i) * column_bytes_[0]);
    copy_to_device(res, data_[0].data() + size_t(offsets_[l]) * column_bytes_[0], codes.data(), codes.size());
    copy_to_device(res, ids_.data() + offsets_[l], lists.ids(l), size * sizeof(int64_t));
    SEXTANT_CUDA_CHECK(cudaStreamSynchronize(res.stream()));  // `codes` is freed at the end of the iteration
    sizes_[l] = size;
  }
  total_ = int64_t(lists.total_size());
  upload_sizes(res);
}

}  // namespace sextant::gpu
