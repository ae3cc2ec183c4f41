// Exact DECIMAL arithmetic on unscaled integers (see types/logical_type.h for the type).
//
// A DECIMAL(p, s) value v is the integer v * 10^s, its unscaled value, held as an int64_t when
// p <= 18 and as an __int128 beyond; either way every routine here takes and returns an Int128.
// A value fits DECIMAL(p, s) when |unscaled| < 10^p.
//
// Rounding is HALF_UP (away from zero at .5), as Flink's and Java's BigDecimal; a result that
// does not fit its type is nullopt, which SQL turns into NULL (Flink's behaviour on DECIMAL
// overflow). Result types of the operators follow Flink (LogicalTypeMerging), which follows
// SQL Server and Hive:
//   a + b, a - b:  scale max(s1, s2), precision max(p1 - s1, p2 - s2) + scale + 1
//   a * b:         scale s1 + s2, precision p1 + p2 + 1
//   a / b:         scale max(6, s1 + p2 + 1), precision p1 - s1 + s2 + scale
//   a % b:         scale max(s1, s2), precision min(p1 - s1, p2 - s2) + scale
//   SUM:           DECIMAL(38, s);   AVG: DECIMAL(38, max(s, 6))
// and a precision above 38 is cut to 38, the scale keeping the integer digits but at least
// min(scale, 6) digits (AdjustDecimalType).
//
// The routines take the exact path through 512-bit integers (Boost.Multiprecision) only where
// an intermediate can pass 2^127; the common cases (operands of up to 18 digits) stay in
// 128-bit registers and allocate nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "types/logical_type.h"

namespace sluice {

using Int128 = __int128;

// The unscaled value at `row` of an array of DECIMALs of one width (`wide`: __int128, else
// int64_t), as columns hold them.
inline Int128 UnscaledAt(const void* data, size_t row, bool wide) {
  if (wide) {
    Int128 value;
    std::memcpy(&value, static_cast<const char*>(data) + row * 16, 16);
    return value;
  }
  return static_cast<const int64_t*>(data)[row];
}

// 10^n. REQUIRES: 0 <= n <= 38.
Int128 PowerOfTen(int n);

// Whether `unscaled` has at most `precision` digits.
inline bool FitsPrecision(Int128 unscaled, int precision) {
  const Int128 limit = PowerOfTen(precision);
  return unscaled < limit && unscaled > -limit;
}

// The result types of the operators and aggregates listed above.
TypeId AdjustDecimalType(int precision, int scale);
TypeId DecimalAddType(TypeId left, TypeId right);  // + and -
TypeId DecimalMultiplyType(TypeId left, TypeId right);
TypeId DecimalDivideType(TypeId left, TypeId right);
TypeId DecimalModuloType(TypeId left, TypeId right);
TypeId DecimalSumType(TypeId argument);
TypeId DecimalAverageType(TypeId argument);

// The running sum of SUM and AVG over unscaled values: 192-bit two's complement, high * 2^128 +
// low, so that no realistic number of 38-digit values overflows it. Add and Subtract are
// branch-free.
struct DecimalSum {
  unsigned __int128 low = 0;
  int64_t high = 0;
};
inline void AddToDecimalSum(unsigned __int128& low, int64_t& high, Int128 value) {
  const unsigned __int128 before = low;
  low += static_cast<unsigned __int128>(value);
  high += static_cast<int64_t>(low < before) - static_cast<int64_t>(value < 0);
}
inline void SubtractFromDecimalSum(unsigned __int128& low, int64_t& high, Int128 value) {
  const unsigned __int128 before = low;
  low -= static_cast<unsigned __int128>(value);
  high -= static_cast<int64_t>(low > before) - static_cast<int64_t>(value < 0);
}
// The sum (at `scale`) as a value of `result`, or, with `count` > 0, the sum divided by the count
// (AVG), HALF_UP; nullopt when it does not fit `result`.
std::optional<Int128> FinishDecimalSum(DecimalSum sum, int scale, int64_t count, TypeId result);

// `unscaled` at `from_scale` re-expressed at `to_scale` (HALF_UP when digits are dropped), or
// nullopt when it does not fit `to_precision` digits.
std::optional<Int128> RescaleDecimal(Int128 unscaled, int from_scale, int to_scale, int to_precision);

// Exact operators: operands with their scales, the result at the scale and precision of
// `result` (a DECIMAL type); nullopt on overflow, and for / and % on a zero divisor.
std::optional<Int128> DecimalAdd(Int128 a, int a_scale, Int128 b, int b_scale, TypeId result);
std::optional<Int128> DecimalSubtract(Int128 a, int a_scale, Int128 b, int b_scale, TypeId result);
std::optional<Int128> DecimalMultiply(Int128 a, int a_scale, Int128 b, int b_scale, TypeId result);
std::optional<Int128> DecimalDivide(Int128 a, int a_scale, Int128 b, int b_scale, TypeId result);
std::optional<Int128> DecimalModulo(Int128 a, int a_scale, Int128 b, int b_scale, TypeId result);
// -1, 0 or 1 as a <, = or > b, exactly, whatever the scales.
int CompareDecimals(Int128 a, int a_scale, Int128 b, int b_scale);

// The double nearest to unscaled / 10^scale (correctly rounded: through its text).
double DecimalToDouble(Int128 unscaled, int scale);
// `value` at `scale` (HALF_UP of its exact binary value), or nullopt when it is NaN, infinite
// or does not fit `precision` digits.
std::optional<Int128> DoubleToDecimal(double value, int precision, int scale);

// Plain text, every digit of the scale written and no exponent: "-12.500", "0.001", "42".
// `out` needs room for kMaxDecimalChars. Returns chars written.
inline constexpr size_t kMaxDecimalChars = 42;  // sign, 38 digits, point, a leading "0"
size_t FormatDecimal(Int128 unscaled, int scale, char* out);
std::string DecimalToString(Int128 unscaled, int scale);

// Parses a number's text exactly ("-12.5", "+3", ".5", "1.25e3", surrounding spaces allowed)
// to its unscaled value at `scale`, HALF_UP when it has more fraction digits; nullopt when the
// text is not a number or the value does not fit `precision` digits. Never passes through a
// double.
std::optional<Int128> ParseDecimal(std::string_view text, int precision, int scale);

}  // namespace sluice
