// An append-only arena for string bytes referenced by string columns.
//
// Strings are appended and addressed by std::string_view; views stay valid until Reset().
// Reset() keeps the largest block, so a heap reused batch after batch stops allocating once
// it has grown to the working size. Blocks double in size, up to a cap when one is given (a
// heap that only grows, such as a dictionary's, then wastes at most about one capped block
// instead of up to half its bytes). Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace sluice {

class StringHeap {
 public:
  StringHeap() = default;
  // Blocks stop doubling at `max_block_bytes` (a string longer than that gets a block its size).
  explicit StringHeap(size_t max_block_bytes) : max_block_bytes_(max_block_bytes) {}
  StringHeap(const StringHeap&) = delete;
  StringHeap& operator=(const StringHeap&) = delete;

  // Copies `bytes` into the heap and returns a view of the copy.
  std::string_view Add(std::string_view bytes) {
    if (bytes.empty()) return {};
    char* dest = Allocate(bytes.size());
    std::memcpy(dest, bytes.data(), bytes.size());
    return {dest, bytes.size()};
  }

  // Returns `size` writable bytes; the caller fills them and builds the view itself.
  char* Allocate(size_t size) {
    if (used_ + size > capacity_) Grow(size);
    char* out = current_ + used_;
    used_ += size;
    return out;
  }

  // Gives back the unused tail of the most recent Allocate(size) (size - used bytes).
  void Shrink(size_t unused) { used_ -= unused; }

  // Drops every string; all views handed out become invalid.
  void Reset();

  size_t bytes_allocated() const;

 private:
  void Grow(size_t at_least);

  std::vector<std::unique_ptr<char[]>> blocks_;
  std::vector<size_t> block_sizes_;
  char* current_ = nullptr;
  size_t used_ = 0;
  size_t capacity_ = 0;
  size_t max_block_bytes_ = SIZE_MAX;
};

}  // namespace sluice
