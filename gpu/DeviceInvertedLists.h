#pragma once

#include <cstdint>
#include <vector>

#include "gpu/DeviceMemory.h"
#include "sextant/impl/InvertedLists.h"

namespace sextant::gpu {

class GpuResources;

/// The inverted lists of a GPU IVF index, in device memory. Each entry has an
/// int64 id and one row per column (column 0: the code; IVF-PQ may keep the
/// raw vector as column 1). All lists share one allocation per column, each
/// list contiguous at its own offset with room to grow; a list that outgrows
/// its room makes every list move to a new, larger allocation (one kernel per
/// column), so appends cost amortised O(1) per entry.
///
/// An entry's storage position (offset of its list + rank in it) is what the
/// scan kernels select on; ids() maps positions to user ids.
class DeviceInvertedLists {
 public:
  DeviceInvertedLists(size_t nlist, std::vector<size_t> column_bytes);

  size_t nlist() const { return sizes_.size(); }
  size_t column_bytes(size_t c) const { return column_bytes_[c]; }
  size_t columns() const { return column_bytes_.size(); }
  int64_t list_size(size_t list) const { return sizes_[list]; }
  int64_t total_size() const { return total_; }
  int64_t capacity() const { return capacity_; }

  /// Device arrays: column c (capacity x column_bytes(c) bytes), ids (capacity),
  /// and per list its offset and size (int64).
  const uint8_t* column(size_t c) const { return data_[c].data(); }
  uint8_t* column(size_t c) { return data_[c].data(); }
  const int64_t* ids() const { return ids_.data(); }
  int64_t* ids() { return ids_.data(); }
  const int64_t* offsets_device() const { return offsets_dev_.data(); }
  const int64_t* sizes_device() const { return sizes_dev_.data(); }

  /// Makes room for n new entries going to lists[i] (host array) and returns
  /// the storage position of each, in input order within each list. The
  /// caller then writes the entries' rows and ids at those positions.
  std::vector<int64_t> append(GpuResources& res, int64_t n, const int64_t* lists);

  /// Copies list `list` to the host: column 0 rows and ids.
  void download(GpuResources& res, size_t list, std::vector<uint8_t>& codes, std::vector<int64_t>& ids) const;
  /// Replaces everything with the lists of a CPU store (column 0 = its codes;
  /// other columns are left unset and must be written by the caller).
  void upload(GpuResources& res, const InvertedLists& lists);
  /// Appends every list of `lists` to a CPU store.
  void download_all(GpuResources& res, InvertedLists& lists) const;

  void reset();

 private:
  void grow(GpuResources& res, const std::vector<int64_t>& need);
  void upload_sizes(GpuResources& res);

  std::vector<size_t> column_bytes_;
  std::vector<int64_t> offsets_, sizes_, capacities_;
  int64_t total_ = 0, capacity_ = 0;
  std::vector<DeviceBuffer<uint8_t>> data_;
  DeviceBuffer<int64_t> ids_;
  DeviceBuffer<int64_t> offsets_dev_, sizes_dev_;
};

}  // namespace sextant::gpu
