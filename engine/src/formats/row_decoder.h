// RowDecoder: what the JSON Lines and CSV decoders share (private to formats/).
//
// Decode() acquires one pooled column per output column, starts every row NULL, and calls the
// derived decoder's `bool DecodeRecord(std::string_view record, size_t row)` for each record
// (a static call: no virtual dispatch per record). A record that fails is undone (its row
// index is reused) and reported with the reason the derived decoder gave to Fail().
#pragma once

#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "formats/record_format.h"
#include "types/number_format.h"

namespace sluice {

// Whole or fractional epoch seconds to milliseconds, rounded to the nearest.
inline std::optional<int64_t> SecondsTextToMillis(std::string_view text) {
  if (std::optional<int64_t> seconds = ParseInt64(text)) {
    int64_t millis = 0;
    if (__builtin_mul_overflow(*seconds, int64_t{1000}, &millis)) return std::nullopt;
    return millis;
  }
  const std::optional<double> seconds = ParseDouble(text);
  if (!seconds || !std::isfinite(*seconds)) return std::nullopt;
  const double millis = *seconds * 1000.0;
  if (!(millis > -9.2e18 && millis < 9.2e18)) return std::nullopt;
  return static_cast<int64_t>(std::llround(millis));
}

// Event time from text, per the configured format (kAuto: integer epoch ms, else ISO-8601).
inline std::optional<int64_t> EventTimeFromText(std::string_view text, EventTimeFormat format) {
  switch (format) {
    case EventTimeFormat::kEpochMillis: return ParseInt64(text);
    case EventTimeFormat::kEpochSeconds: return SecondsTextToMillis(text);
    case EventTimeFormat::kIso8601: return ParseTimestamp(text);
    case EventTimeFormat::kAuto: {
      if (std::optional<int64_t> millis = ParseInt64(text)) return millis;
      return ParseTimestamp(text);
    }
  }
  return std::nullopt;
}

// Raw view of one output column while a batch is being decoded.
struct OutputColumn {
  TypeId type = TypeId::kNull;
  size_t element_size = 0;
  uint8_t* validity = nullptr;
  uint8_t* data = nullptr;
  StringHeap* heap = nullptr;

  void SetNull(size_t row) {
    validity[row] = 0;
    std::memset(data + row * element_size, 0, element_size);
  }
  template <typename T>
  void Set(size_t row, T value) {
    reinterpret_cast<T*>(data)[row] = value;
    validity[row] = 1;
  }
  // A DECIMAL's unscaled value, in its column's width.
  void SetDecimal(size_t row, __int128 unscaled) {
    if (element_size == 16) {
      std::memcpy(data + row * 16, &unscaled, 16);
    } else {
      reinterpret_cast<int64_t*>(data)[row] = static_cast<int64_t>(unscaled);
    }
    validity[row] = 1;
  }
};

template <typename Derived>
class RowDecoder : public RecordDecoder {
 public:
  void Decode(std::span<const std::string_view> records, uint64_t first_line, Batch& out,
              std::vector<RecordError>& errors) final {
    const size_t count = records.size();
    const size_t num_columns = pools_.size();
    // Dropping the previous batch's references first lets the pools reuse their columns.
    out.Reset(num_columns, count);
    for (size_t i = 0; i < num_columns; ++i) {
      std::shared_ptr<Column> column = pools_[i].Acquire(count);
      OutputColumn& target = columns_[i];
      target.type = column->type();
      target.element_size = PhysicalSize(target.type);
      target.validity = column->validity();
      target.data = column->data<uint8_t>();
      target.heap = &column->heap();
      // Every row starts NULL; a decoded value sets its slot.
      if (count > 0) {
        std::memset(target.validity, 0, count);
        std::memset(target.data, 0, count * target.element_size);
      }
      out.SetColumn(i, std::move(column));
    }
    size_t row = 0;
    Derived& self = static_cast<Derived&>(*this);
    for (size_t i = 0; i < count; ++i) {
      if (self.DecodeRecord(records[i], row)) {
        ++row;
        continue;
      }
      // The row index is reused by the next record: undo what this one wrote.
      for (OutputColumn& column : columns_) column.SetNull(row);
      errors.push_back(RecordError{first_line + i, reason_, std::string(records[i])});
    }
    for (size_t i = 0; i < num_columns; ++i) out.mutable_column(i).Resize(row);
    out.SetNumRows(row);
  }

 protected:
  // Records why the current record failed; returns false for `return Fail(...)`.
  bool Fail(std::string reason) {
    reason_ = std::move(reason);
    return false;
  }

  std::vector<ColumnPool> pools_;  // the schema's columns, then event time
  std::vector<OutputColumn> columns_;
  std::string reason_;
};

}  // namespace sluice
