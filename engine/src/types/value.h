// A single SQL value: used for literals, constant folding, tests and row-at-a-time edges
// (never on the per-record hot path, which works on Columns).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "types/logical_type.h"

namespace sluice {

class Value {
 public:
  Value() = default;  // NULL of type kNull
  static Value Null(TypeId type = TypeId::kNull);
  static Value Boolean(bool v);
  static Value Int64(int64_t v);
  static Value Double(double v);
  static Value String(std::string v);
  static Value Timestamp(int64_t epoch_millis);
  // A DECIMAL of type `type` (IsDecimal) whose unscaled value is `unscaled`.
  static Value Decimal(__int128 unscaled, TypeId type);

  TypeId type() const { return type_; }
  bool is_null() const { return is_null_; }
  bool boolean() const { return int_ != 0; }
  int64_t int64() const { return int_; }  // also the epoch millis of a timestamp
  double dbl() const { return double_; }
  const std::string& str() const { return string_; }
  __int128 decimal() const { return decimal_; }  // the unscaled value of a DECIMAL

  // SQL literal form, as EXPLAIN prints it: 42, 1.5, 'text', TRUE, NULL, 12.50 (a DECIMAL).
  std::string ToSql() const;

  bool operator==(const Value& other) const;

 private:
  TypeId type_ = TypeId::kNull;
  bool is_null_ = true;
  int64_t int_ = 0;
  double double_ = 0;
  __int128 decimal_ = 0;
  std::string string_;
};

}  // namespace sluice
