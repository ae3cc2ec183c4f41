#include "batch/string_heap.h"

#include <algorithm>

namespace sluice {

void StringHeap::Grow(size_t at_least) {
  const size_t last = block_sizes_.empty() ? 0 : block_sizes_.back();
  const size_t size = std::max<size_t>({at_least, 16 * 1024, std::min(last * 2, max_block_bytes_)});
  blocks_.emplace_back(new char[size]);
  block_sizes_.push_back(size);
  current_ = blocks_.back().get();
  used_ = 0;
  capacity_ = size;
}

void StringHeap::Reset() {
  if (blocks_.size() > 1) {
    // Keep only the largest (last) block so steady-state batches never allocate.
    std::unique_ptr<char[]> keep = std::move(blocks_.back());
    const size_t size = block_sizes_.back();
    blocks_.clear();
    block_sizes_.clear();
    blocks_.push_back(std::move(keep));
    block_sizes_.push_back(size);
    current_ = blocks_.back().get();
    capacity_ = size;
  }
  used_ = 0;
}

size_t StringHeap::bytes_allocated() const {
  size_t total = 0;
  for (size_t size : block_sizes_) total += size;
  return total;
}

}  // namespace sluice
