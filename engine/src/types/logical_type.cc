#include "types/logical_type.h"

#include <string>

#include "common/strings.h"

namespace sluice {

std::string_view TypeName(TypeId type) {
  switch (type) {
    case TypeId::kNull: return "NULL";
    case TypeId::kBoolean: return "BOOLEAN";
    case TypeId::kInt64: return "BIGINT";
    case TypeId::kDouble: return "DOUBLE";
    case TypeId::kString: return "STRING";
    case TypeId::kTimestamp: return "TIMESTAMP";
  }
  return "?";
}

std::optional<TypeId> ParseTypeName(std::string_view name) {
  const std::string upper = AsciiToUpper(name);
  if (upper == "BIGINT" || upper == "INT" || upper == "INTEGER" || upper == "SMALLINT" ||
      upper == "TINYINT" || upper == "LONG") {
    return TypeId::kInt64;
  }
  if (upper == "DOUBLE" || upper == "FLOAT" || upper == "REAL" || upper == "DECIMAL" || upper == "NUMERIC") {
    return TypeId::kDouble;
  }
  if (upper == "VARCHAR" || upper == "STRING" || upper == "TEXT" || upper == "CHAR") {
    return TypeId::kString;
  }
  if (upper == "BOOLEAN" || upper == "BOOL") return TypeId::kBoolean;
  if (upper == "TIMESTAMP") return TypeId::kTimestamp;
  return std::nullopt;
}

size_t PhysicalSize(TypeId type) {
  switch (type) {
    case TypeId::kNull:
    case TypeId::kBoolean: return 1;
    case TypeId::kInt64:
    case TypeId::kDouble:
    case TypeId::kTimestamp: return 8;
    case TypeId::kString: return sizeof(std::string_view);
  }
  return 8;
}

bool ImplicitlyConvertible(TypeId from, TypeId to) {
  if (from == to || from == TypeId::kNull) return true;
  if (from == TypeId::kInt64 && (to == TypeId::kDouble || to == TypeId::kTimestamp)) return true;
  return false;
}

std::optional<TypeId> CommonType(TypeId left, TypeId right) {
  if (left == right) return left;
  if (left == TypeId::kNull) return right;
  if (right == TypeId::kNull) return left;
  if (IsNumeric(left) && IsNumeric(right)) return TypeId::kDouble;
  if ((left == TypeId::kTimestamp && right == TypeId::kInt64) ||
      (left == TypeId::kInt64 && right == TypeId::kTimestamp)) {
    return TypeId::kTimestamp;
  }
  return std::nullopt;
}

}  // namespace sluice
