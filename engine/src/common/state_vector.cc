#include "common/state_vector.h"

#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <vector>

namespace sluice {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t RoundUpToHugePage(size_t bytes) {
  return (bytes + kHugePage - 1) & ~(kHugePage - 1);
}

// The NUMA node of the CPU the calling thread runs on (0 when the kernel does not say).
int CurrentNode() {
  unsigned cpu = 0;
  unsigned node = 0;
  if (getcpu(&cpu, &node) != 0) return 0;
  return static_cast<int>(node);
}

void* MapAligned(size_t length) {
  // Map a huge page more than needed, then unmap the unaligned head and the rest of the tail.
  void* mapped =
      mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) return nullptr;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(mapped);
  const uintptr_t aligned = (begin + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > begin) munmap(mapped, aligned - begin);
  const size_t tail = begin + length + kHugePage - (aligned + length);
  if (tail > 0) munmap(reinterpret_cast<void*>(aligned + length), tail);
  void* array = reinterpret_cast<void*>(aligned);
  madvise(array, length, MADV_HUGEPAGE);  // advice only: without THP the mapping still works
  return array;
}

// Mappings given back, kept for the next array of the same length on the same node.
class RetainedMappings {
 public:
  RetainedMappings() {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long page_size = sysconf(_SC_PAGE_SIZE);
    const size_t physical =
        pages > 0 && page_size > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page_size) : 0;
    limit_ = std::min(kMaxRetainedBytes, physical / 16);
  }

  void* Take(size_t length) {
    const int node = CurrentNode();
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = entries_.size(); i-- > 0;) {
      if (entries_[i].length != length || entries_[i].node != node) continue;
      void* array = entries_[i].array;
      bytes_ -= length;
      entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
      return array;
    }
    return nullptr;
  }

  void Give(void* array, size_t length) {
    if (length > limit_) {
      munmap(array, length);
      return;
    }
    const int node = CurrentNode();
    std::vector<Entry> evicted;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      while (bytes_ + length > limit_ && !entries_.empty()) {  // oldest first
        bytes_ -= entries_.front().length;
        evicted.push_back(entries_.front());
        entries_.erase(entries_.begin());
      }
      entries_.push_back(Entry{array, length, node});
      bytes_ += length;
    }
    for (const Entry& entry : evicted) munmap(entry.array, entry.length);
  }

  size_t bytes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return bytes_;
  }

 private:
  struct Entry {
    void* array;
    size_t length;
    int node;
  };
  std::mutex mutex_;
  std::vector<Entry> entries_;  // oldest first
  size_t bytes_ = 0;
  size_t limit_ = 0;
};

RetainedMappings& Retained() {
  static RetainedMappings* retained = new RetainedMappings();  // never destroyed: arrays may outlive statics
  return *retained;
}

}  // namespace

void* MapHugePageArray(size_t bytes) {
  const size_t length = RoundUpToHugePage(bytes);
  if (void* array = Retained().Take(length)) return array;
  return MapAligned(length);
}

void UnmapHugePageArray(void* array, size_t bytes) {
  Retained().Give(array, RoundUpToHugePage(bytes));
}

size_t RetainedHugePageArrayBytes() {
  return Retained().bytes();
}

}  // namespace sluice
