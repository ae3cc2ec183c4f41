#include "batch/column.h"

#include <algorithm>

namespace sluice {

Column::Column(TypeId type, size_t rows)
    : type_(type),
      wide_decimal_(IsWideDecimal(type)),
      element_size_(PhysicalSize(type)),
      heap_(std::make_shared<StringHeap>()) {
  Resize(rows);
}

void Column::Reserve(size_t rows) {
  if (rows <= capacity_) return;
  const size_t capacity = std::max<size_t>({rows, 16, capacity_ * 2});
  // Zero-filled so every slot satisfies the NULL-slot invariant from the start.
  std::unique_ptr<uint8_t[]> data(new uint8_t[capacity * element_size_]());
  std::unique_ptr<uint8_t[]> validity(new uint8_t[capacity]());
  if (size_ > 0) {
    std::memcpy(data.get(), data_.get(), size_ * element_size_);
    std::memcpy(validity.get(), validity_.get(), size_);
  }
  data_ = std::move(data);
  validity_ = std::move(validity);
  capacity_ = capacity;
}

void Column::Resize(size_t rows) {
  Reserve(rows);
  size_ = rows;
}

void Column::Clear() {
  size_ = 0;
  // A heap still pinned by a downstream column must not be overwritten: give it away.
  if (heap_.use_count() > 1) {
    heap_ = std::make_shared<StringHeap>();
  } else {
    heap_->Reset();
  }
  pinned_.clear();
}

void Column::SetNull(size_t row) {
  validity_[row] = 0;
  std::memset(data_.get() + row * element_size_, 0, element_size_);
}

Value Column::GetValue(size_t row) const {
  if (!IsValid(row)) return Value::Null(type_);
  if (IsDecimal(type_)) return Value::Decimal(DecimalAt(row), type_);
  switch (type_) {
    case TypeId::kBoolean: return Value::Boolean(data<uint8_t>()[row] != 0);
    case TypeId::kInt64: return Value::Int64(data<int64_t>()[row]);
    case TypeId::kTimestamp: return Value::Timestamp(data<int64_t>()[row]);
    case TypeId::kDouble: return Value::Double(data<double>()[row]);
    case TypeId::kString: return Value::String(std::string(data<std::string_view>()[row]));
    case TypeId::kNull: return Value::Null();
  }
  return Value::Null(type_);
}

void Column::KeepAlive(std::shared_ptr<const void> owner) {
  for (const auto& pinned : pinned_) {
    if (pinned == owner) return;
  }
  pinned_.push_back(std::move(owner));
}

void Column::KeepAliveStringsOf(const Column& other) {
  if (&other == this) return;
  KeepAlive(other.heap_);
  for (const auto& pinned : other.pinned_) KeepAlive(pinned);
}

}  // namespace sluice
