// Owners of device memory and CUDA objects (RAII), and the per-resources
// scratch arena. Plain cudaMalloc everywhere: no managed memory.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <utility>

namespace sextant::gpu {

/// An owned device array of n elements of T (uninitialised).
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t n) { reallocate(n); }
  ~DeviceBuffer() { release(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* data() { return ptr_; }
  const T* data() const { return ptr_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  /// Drops the contents and holds n elements.
  void reallocate(size_t n);
  void release() noexcept;

 private:
  T* ptr_ = nullptr;
  size_t size_ = 0;
};

/// Allocates `bytes` of device memory (throws sextant::Error naming cudaMalloc).
void* device_allocate(size_t bytes);
void device_free(void* p) noexcept;

template <class T>
void DeviceBuffer<T>::reallocate(size_t n) {
  release();
  if (n == 0) return;
  ptr_ = static_cast<T*>(device_allocate(n * sizeof(T)));
  size_ = n;
}

template <class T>
void DeviceBuffer<T>::release() noexcept {
  device_free(ptr_);
  ptr_ = nullptr;
  size_ = 0;
}

/// A CUDA event (no timing), for ordering work between streams.
class CudaEvent {
 public:
  CudaEvent();
  ~CudaEvent();
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  cudaEvent_t get() const { return event_; }
  void record(cudaStream_t stream);
  /// Makes `stream` wait for the work recorded so far.
  void wait_in(cudaStream_t stream) const;

 private:
  cudaEvent_t event_ = nullptr;
};

/// Stack of temporary device memory owned by one GpuResources: allocations
/// are released in reverse order (ScratchBuffer does this), so taking and
/// giving back is a pointer bump. The block is allocated on first use. Work
/// queued on the resources' stream may still read memory after it is given
/// back; that is safe because the next user queues its work on the same
/// stream, behind it. Requests that do not fit get their own cudaMalloc.
class ScratchArena {
 public:
  explicit ScratchArena(size_t capacity) : capacity_(capacity) {}
  ScratchArena(const ScratchArena&) = delete;
  ScratchArena& operator=(const ScratchArena&) = delete;

  size_t capacity() const { return capacity_; }
  size_t used() const { return top_; }
  /// Bytes a request of `bytes` takes from the stack (rounded for alignment).
  static size_t rounded(size_t bytes) { return (bytes + 255) & ~size_t{255}; }

  /// A block of `bytes` from the top of the stack, or null when it does not fit.
  void* try_push(size_t bytes);
  /// Gives back the block at the top of the stack (p, as try_push returned it).
  void pop(void* p, size_t bytes);

 private:
  size_t capacity_;
  size_t top_ = 0;
  DeviceBuffer<uint8_t> block_;
};

/// n elements of T from a scratch arena, given back when it goes out of scope
/// (in reverse order of creation, as a stack).
template <class T>
class ScratchBuffer {
 public:
  ScratchBuffer(ScratchArena& arena, size_t n) : arena_(&arena), bytes_(n * sizeof(T)) {
    if (n == 0) return;
    ptr_ = static_cast<T*>(arena.try_push(bytes_));
    if (ptr_ == nullptr) {
      own_.reallocate(n);
      ptr_ = own_.data();
    }
  }
  ~ScratchBuffer() {
    if (ptr_ != nullptr && own_.empty()) arena_->pop(ptr_, bytes_);
  }
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  T* data() const { return ptr_; }

 private:
  ScratchArena* arena_;
  size_t bytes_;
  T* ptr_ = nullptr;
  DeviceBuffer<T> own_;  // when the arena is full
};

}  // namespace sextant::gpu
