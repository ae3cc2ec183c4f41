// Column: one typed vector of values plus a validity mask, the unit of vectorized work.
//
// Layout: a contiguous array of the type's physical representation (see types/logical_type.h)
// and a parallel byte mask, validity()[i] == 1 when row i holds a value, 0 when it is NULL.
// (A byte per row rather than a bit keeps every kernel a plain, auto-vectorizable loop.)
// Invariant kept by every writer: a NULL slot still holds a harmless value (0, 0.0 or an empty
// string view), so kernels may compute over NULL slots without undefined behaviour.
//
// Strings are std::string_view into heap() or into memory kept alive through KeepAlive():
// a column that forwards strings it does not own pins their owner.
//
// Columns are reused batch after batch: Resize() only allocates when the row count exceeds
// the capacity ever seen. Not thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "batch/string_heap.h"
#include "common/status.h"
#include "types/decimal.h"
#include "types/logical_type.h"
#include "types/value.h"

namespace sluice {

class Column {
 public:
  explicit Column(TypeId type, size_t rows = 0);
  Column(const Column&) = delete;
  Column& operator=(const Column&) = delete;

  TypeId type() const { return type_; }
  size_t size() const { return size_; }

  // Sets the row count to `rows`. Existing values up to min(old, new) rows are kept; new slots
  // are unspecified until written.
  void Resize(size_t rows);

  // Forgets all rows, strings and pinned owners; keeps the allocations.
  void Clear();

  template <typename T>
  T* data() {
    return reinterpret_cast<T*>(data_.get());
  }
  template <typename T>
  const T* data() const {
    return reinterpret_cast<const T*>(data_.get());
  }
  uint8_t* validity() { return validity_.get(); }
  const uint8_t* validity() const { return validity_.get(); }

  bool IsValid(size_t row) const { return validity_[row] != 0; }
  void SetAllValid(size_t rows) {
    if (rows > 0) std::memset(validity_.get(), 1, rows);  // an empty column may have no buffer
  }

  // Writes a NULL at `row` (value zeroed, see the invariant above).
  void SetNull(size_t row);

  StringHeap& heap() { return *heap_; }
  const std::shared_ptr<StringHeap>& shared_heap() const { return heap_; }

  // Keeps `owner` alive as long as this column's current contents: used when string views
  // point into another column's heap or into a source's read buffer.
  void KeepAlive(std::shared_ptr<const void> owner);
  // Pins everything `other` pins, plus its heap.
  void KeepAliveStringsOf(const Column& other);

  // A DECIMAL column's unscaled value at `row`, whichever its width (int64_t up to 18 digits,
  // __int128 beyond), and its store. REQUIRES: IsDecimal(type()); for SetDecimal, the value
  // fits the type's precision.
  __int128 DecimalAt(size_t row) const { return UnscaledAt(data_.get(), row, wide_decimal_); }
  void SetDecimal(size_t row, __int128 unscaled) {
    if (wide_decimal_) {
      std::memcpy(data_.get() + row * 16, &unscaled, 16);
    } else {
      data<int64_t>()[row] = static_cast<int64_t>(unscaled);
    }
  }

  // The value at `row` as a Value (tests, constant folding, EXPLAIN; not for hot loops).
  Value GetValue(size_t row) const;

 private:
  void Reserve(size_t rows);

  TypeId type_;
  bool wide_decimal_;
  size_t element_size_;
  size_t size_ = 0;
  size_t capacity_ = 0;
  std::unique_ptr<uint8_t[]> data_;
  std::unique_ptr<uint8_t[]> validity_;
  std::shared_ptr<StringHeap> heap_;
  std::vector<std::shared_ptr<const void>> pinned_;
};

}  // namespace sluice
