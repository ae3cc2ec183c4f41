// Logical SQL types and the rules for combining them.
//
// Sluice has a deliberately small type system: every value is one of these types, and each
// maps to exactly one physical representation in a Column (see batch/column.h):
//   kBoolean   -> uint8_t (0 or 1)
//   kInt64     -> int64_t
//   kDouble    -> double
//   kString    -> std::string_view into a StringHeap
//   kTimestamp -> int64_t milliseconds since the Unix epoch (UTC)
//   kNull      -> the type of a bare NULL literal; columns of it hold only nulls (uint8_t)
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice {

enum class TypeId : uint8_t { kNull, kBoolean, kInt64, kDouble, kString, kTimestamp };

// SQL name of the type as printed in plans and errors ("BIGINT", "DOUBLE", ...).
std::string_view TypeName(TypeId type);

// Parses a SQL type name (BIGINT, INT, INTEGER, DOUBLE, FLOAT, REAL, DECIMAL, VARCHAR, STRING,
// TEXT, BOOLEAN, BOOL, TIMESTAMP), case-insensitively.
std::optional<TypeId> ParseTypeName(std::string_view name);

inline bool IsNumeric(TypeId type) {
  return type == TypeId::kInt64 || type == TypeId::kDouble;
}

// Size in bytes of one value in a Column of this type.
size_t PhysicalSize(TypeId type);

// True when a value of `from` converts to `to` implicitly (no CAST written): identity,
// NULL to anything, BIGINT to DOUBLE, BIGINT to TIMESTAMP.
bool ImplicitlyConvertible(TypeId from, TypeId to);

// The type both operands widen to for comparison or arithmetic, if any:
// NULL with T -> T; BIGINT with DOUBLE -> DOUBLE; TIMESTAMP with BIGINT -> TIMESTAMP.
std::optional<TypeId> CommonType(TypeId left, TypeId right);

}  // namespace sluice
