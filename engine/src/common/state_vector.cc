#include "common/state_vector.h"

#include <sys/mman.h>

#include <cstdint>

namespace sluice {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t RoundUpToHugePage(size_t bytes) {
  return (bytes + kHugePage - 1) & ~(kHugePage - 1);
}

}  // namespace

void* MapHugePageArray(size_t bytes) {
  const size_t length = RoundUpToHugePage(bytes);
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

void UnmapHugePageArray(void* array, size_t bytes) {
  munmap(array, RoundUpToHugePage(bytes));
}

}  // namespace sluice
