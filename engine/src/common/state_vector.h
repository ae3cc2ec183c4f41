// StateVector: a std::vector for an operator's large per-group arrays and hash tables, which
// are read at random, one cache line per access, across many megabytes.
//
// Mapped in 4 KiB pages, such an array misses the TLB on nearly every access once it is larger
// than the TLB covers (a few MiB), adding a page walk to the cache miss. An array of at least
// kHugePageArrayBytes is therefore mapped by itself, aligned to 2 MiB and advised
// MADV_HUGEPAGE, so that the kernel backs it with transparent huge pages where it can (the
// system setting `madvise` or `always`; with `never` this is an ordinary mapping). Smaller
// arrays come from the allocator as usual. Only the arrays themselves get huge pages: batches,
// strings and sinks stay in the allocator's memory. A state array's huge page is faulted in
// when the array first reaches into it (at a doubling, or as its size grows into its capacity
// during a batch): one 2 MiB page cleared at once instead of 512 small ones over time.
//
// Sanitizer builds allocate every array from the allocator, so that bounds are checked.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <vector>

#include "common/sanitizers.h"

namespace sluice {

inline constexpr size_t kHugePageArrayBytes = size_t{4} << 20;

// Maps `bytes` (>= kHugePageArrayBytes) aligned to 2 MiB and advised MADV_HUGEPAGE; returns
// nullptr when the mapping fails. UnmapHugePageArray takes the same byte count back.
//
// Arrays given back are retained for reuse (up to kMaxRetainedBytes, and at most 1/16 of the
// machine's memory, oldest unmapped first): the next array of the same rounded length,
// requested on the same NUMA node, gets a retained mapping, whose pages are already faulted
// in and hold whatever the previous array left (std::vector initialises what it uses). A
// growing vector's lengths repeat from one job to the next, so a job that follows another in
// the same process (the lab's timed runs, a restarted query) does not fault its state in
// again: clearing a fresh 2 MiB page costs tens of microseconds, and far more on a virtual
// machine whose host takes back free guest memory (free page reporting).
inline constexpr size_t kMaxRetainedBytes = size_t{4} << 30;
void* MapHugePageArray(size_t bytes);
void UnmapHugePageArray(void* array, size_t bytes);
// Bytes retained for reuse now.
size_t RetainedHugePageArrayBytes();

template <typename T>
class HugePageAllocator {
 public:
  using value_type = T;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT: rebinding converts implicitly

  T* allocate(size_t n) {
    if (UsesMapping(n)) {
      if (void* array = MapHugePageArray(n * sizeof(T))) return static_cast<T*>(array);
      throw std::bad_alloc();
    }
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* array, size_t n) noexcept {
    if (UsesMapping(n)) {
      UnmapHugePageArray(array, n * sizeof(T));
    } else {
      std::allocator<T>().deallocate(array, n);
    }
  }

  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }

 private:
  static bool UsesMapping(size_t n) {
#if SLUICE_SANITIZED
    return false;
#else
    return n >= kHugePageArrayBytes / sizeof(T);
#endif
  }
};

template <typename T>
using StateVector = std::vector<T, HugePageAllocator<T>>;

// The bytes a vector (of either allocator) holds: its capacity, as state accounting counts it.
template <typename Vector>
size_t CapacityBytes(const Vector& values) {
  return values.capacity() * sizeof(typename Vector::value_type);
}

}  // namespace sluice
