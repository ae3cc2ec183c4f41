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
//   DECIMAL(p, s), 1 <= p <= 38, 0 <= s <= p: the exact number unscaled / 10^s, its unscaled
//                 value an int64_t when p <= 18 and an __int128 beyond (types/decimal.h)
//
// A DECIMAL's precision and scale are part of its TypeId (DecimalType(p, s) below): a column's
// type then says everything a kernel needs, and a switch over the enumerators sees none of them
// (test IsDecimal() first).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/status.h"

namespace sluice {

enum class TypeId : uint16_t { kNull, kBoolean, kInt64, kDouble, kString, kTimestamp };

// DECIMAL(p, s) is the TypeId kDecimalTypeBase + p * 64 + s.
inline constexpr uint16_t kDecimalTypeBase = 0x100;
inline constexpr int kMaxDecimalPrecision = 38;
// Up to this precision a DECIMAL's unscaled value is an int64_t; beyond it, an __int128.
inline constexpr int kMaxNarrowDecimalPrecision = 18;

// REQUIRES: 1 <= precision <= 38, 0 <= scale <= precision (MakeDecimalType checks).
constexpr TypeId DecimalType(int precision, int scale) {
  return static_cast<TypeId>(kDecimalTypeBase + precision * 64 + scale);
}
constexpr bool IsDecimal(TypeId type) {
  return static_cast<uint16_t>(type) >= kDecimalTypeBase;
}
constexpr int DecimalPrecision(TypeId type) {
  return (static_cast<uint16_t>(type) - kDecimalTypeBase) >> 6;
}
constexpr int DecimalScale(TypeId type) {
  return (static_cast<uint16_t>(type) - kDecimalTypeBase) & 63;
}
// A DECIMAL held as an __int128 (precision above 18).
constexpr bool IsWideDecimal(TypeId type) {
  return IsDecimal(type) && DecimalPrecision(type) > kMaxNarrowDecimalPrecision;
}

// The type a value is kept as where an operator holds it in a 64-bit word (join rows, Top-N
// rows, ROWS window buffers, key words): a DECIMAL of up to 18 digits as its unscaled BIGINT,
// any other type as itself. The binder refuses wider DECIMALs in those operators.
constexpr TypeId WordType(TypeId type) {
  return IsDecimal(type) ? TypeId::kInt64 : type;
}

// DECIMAL(precision, scale), or an error naming the limit it breaks.
absl::StatusOr<TypeId> MakeDecimalType(int64_t precision, int64_t scale);

// SQL name of the type as printed in plans and errors ("BIGINT", "DOUBLE", "DECIMAL(12, 4)").
std::string_view TypeName(TypeId type);

// Parses a SQL type name (BIGINT, INT, INTEGER, DOUBLE, FLOAT, REAL, DECIMAL, NUMERIC, VARCHAR,
// STRING, TEXT, BOOLEAN, BOOL, TIMESTAMP), case-insensitively. A bare DECIMAL or NUMERIC is
// DECIMAL(10, 0), as in Flink and the SQL standard; DECIMAL(p, s) comes from MakeDecimalType.
std::optional<TypeId> ParseTypeName(std::string_view name);
// A type as written in a property's text: a name, or a name with its parameters ("DECIMAL(12, 4)",
// "VARCHAR(20)": a length is ignored, strings have no limit). Nullopt when it is none, or a
// DECIMAL's precision or scale is out of range.
std::optional<TypeId> ParseTypeText(std::string_view text);
// Whether `name` is DECIMAL or NUMERIC, whose parameters are a precision and a scale.
bool IsDecimalTypeName(std::string_view name);

inline bool IsNumeric(TypeId type) {
  return type == TypeId::kInt64 || type == TypeId::kDouble || IsDecimal(type);
}

// Size in bytes of one value in a Column of this type.
size_t PhysicalSize(TypeId type);

// True when a value of `from` converts to `to` implicitly (no CAST written): identity,
// NULL to anything, BIGINT to DOUBLE, BIGINT to TIMESTAMP, and a DECIMAL to DOUBLE (so that
// the functions of DOUBLEs take DECIMALs). BIGINT to a DECIMAL is not implicit here: the
// DECIMAL operators take it as DECIMAL(19, 0) themselves (expr/functions/decimal_functions.cc).
bool ImplicitlyConvertible(TypeId from, TypeId to);

// The type both operands widen to for comparison or arithmetic, if any:
// NULL with T -> T; BIGINT with DOUBLE -> DOUBLE; TIMESTAMP with BIGINT -> TIMESTAMP;
// a DECIMAL with a DOUBLE -> DOUBLE; two DECIMALs (a BIGINT being DECIMAL(19, 0)) -> the DECIMAL
// that holds both exactly (the larger integer part and the larger scale), when that takes at
// most 38 digits, and otherwise 38 digits with the scale cut to fit the integer part.
std::optional<TypeId> CommonType(TypeId left, TypeId right);

// The DECIMAL a BIGINT is taken as in DECIMAL arithmetic: DECIMAL(19, 0).
inline constexpr TypeId kBigintAsDecimal = DecimalType(19, 0);

}  // namespace sluice
