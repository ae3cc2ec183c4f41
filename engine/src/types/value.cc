#include "types/value.h"

#include "types/decimal.h"
#include "types/number_format.h"

namespace sluice {

Value Value::Null(TypeId type) {
  Value v;
  v.type_ = type;
  return v;
}
Value Value::Boolean(bool b) {
  Value v;
  v.type_ = TypeId::kBoolean;
  v.is_null_ = false;
  v.int_ = b ? 1 : 0;
  return v;
}
Value Value::Int64(int64_t i) {
  Value v;
  v.type_ = TypeId::kInt64;
  v.is_null_ = false;
  v.int_ = i;
  return v;
}
Value Value::Double(double d) {
  Value v;
  v.type_ = TypeId::kDouble;
  v.is_null_ = false;
  v.double_ = d;
  return v;
}
Value Value::String(std::string s) {
  Value v;
  v.type_ = TypeId::kString;
  v.is_null_ = false;
  v.string_ = std::move(s);
  return v;
}
Value Value::Timestamp(int64_t epoch_millis) {
  Value v;
  v.type_ = TypeId::kTimestamp;
  v.is_null_ = false;
  v.int_ = epoch_millis;
  return v;
}

Value Value::Decimal(__int128 unscaled, TypeId type) {
  Value v;
  v.type_ = type;
  v.is_null_ = false;
  v.decimal_ = unscaled;
  return v;
}

std::string Value::ToSql() const {
  if (is_null_) return "NULL";
  if (IsDecimal(type_)) return DecimalToString(decimal_, DecimalScale(type_));
  switch (type_) {
    case TypeId::kBoolean: return int_ ? "TRUE" : "FALSE";
    case TypeId::kInt64: return std::to_string(int_);
    case TypeId::kDouble: return FormatDouble(double_);
    case TypeId::kTimestamp: return "TIMESTAMP '" + FormatTimestamp(int_) + "'";
    case TypeId::kString: {
      std::string out = "'";
      for (char c : string_) {
        if (c == '\'') out += '\'';
        out += c;
      }
      return out + "'";
    }
    case TypeId::kNull: return "NULL";
  }
  return "?";
}

bool Value::operator==(const Value& other) const {
  if (type_ != other.type_ || is_null_ != other.is_null_) return false;
  if (is_null_) return true;
  if (IsDecimal(type_)) return decimal_ == other.decimal_;
  switch (type_) {
    case TypeId::kDouble: return double_ == other.double_;
    case TypeId::kString: return string_ == other.string_;
    default: return int_ == other.int_;
  }
}

}  // namespace sluice
