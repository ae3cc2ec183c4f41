#include "types/decimal.h"

#include <algorithm>
#include <array>
#include <boost/multiprecision/cpp_int.hpp>
#include <cstring>

#include "types/number_format.h"

namespace sluice {
namespace {

using Int512 = boost::multiprecision::int512_t;
using UInt128 = unsigned __int128;

constexpr std::array<Int128, kMaxDecimalPrecision + 1> MakePowersOfTen() {
  std::array<Int128, kMaxDecimalPrecision + 1> powers{};
  Int128 power = 1;
  for (int n = 0; n <= kMaxDecimalPrecision; ++n) {
    powers[n] = power;
    if (n < kMaxDecimalPrecision) power *= 10;
  }
  return powers;
}
constexpr std::array<Int128, kMaxDecimalPrecision + 1> kPowersOfTen = MakePowersOfTen();

Int512 ToWide(Int128 value) {
  const bool negative = value < 0;
  const UInt128 magnitude = negative ? UInt128(0) - static_cast<UInt128>(value) : static_cast<UInt128>(value);
  Int512 wide = static_cast<uint64_t>(magnitude >> 64);
  wide <<= 64;
  wide |= static_cast<uint64_t>(magnitude);
  return negative ? Int512(-wide) : wide;
}

// REQUIRES: |wide| < 2^127.
Int128 FromWide(const Int512& wide) {
  const bool negative = wide < 0;
  const Int512 magnitude = negative ? Int512(-wide) : wide;
  const uint64_t high = static_cast<uint64_t>(magnitude >> 64);
  const uint64_t low = static_cast<uint64_t>(magnitude & Int512(UINT64_MAX));
  const Int128 value = static_cast<Int128>((UInt128(high) << 64) | low);
  return negative ? -value : value;
}

Int512 WidePowerOfTen(int n) {
  Int512 power = 1;
  for (int i = 0; i < n; ++i) power *= 10;
  return power;
}

// value / divisor, HALF_UP. REQUIRES: divisor > 0.
Int512 DivideRoundingHalfUp(const Int512& value, const Int512& divisor) {
  const bool negative = value < 0;
  const Int512 magnitude = negative ? Int512(-value) : value;
  Int512 quotient = magnitude / divisor;
  const Int512 remainder = magnitude - quotient * divisor;
  if (remainder * 2 >= divisor) ++quotient;  // 512 bits: doubling cannot overflow
  return negative ? Int512(-quotient) : quotient;
}

// `value` at `scale` as a value of `result`, HALF_UP, or nullopt when it does not fit.
std::optional<Int128> FitWide(const Int512& value, int scale, TypeId result) {
  const int result_scale = DecimalScale(result);
  Int512 rescaled = value;
  if (result_scale > scale) {
    rescaled *= WidePowerOfTen(result_scale - scale);
  } else if (result_scale < scale) {
    rescaled = DivideRoundingHalfUp(value, WidePowerOfTen(scale - result_scale));
  }
  const Int512 limit = ToWide(PowerOfTen(DecimalPrecision(result)));
  if (rescaled >= limit || rescaled <= -limit) return std::nullopt;
  return FromWide(rescaled);
}

// The same for a 128-bit value. REQUIRES: |value| < 10^38.
std::optional<Int128> FitNarrow(Int128 value, int scale, TypeId result) {
  const int result_scale = DecimalScale(result);
  const int precision = DecimalPrecision(result);
  if (result_scale < scale) {
    const Int128 divisor = PowerOfTen(scale - result_scale);
    Int128 quotient = value / divisor;
    const Int128 remainder = value % divisor;
    // |remainder| >= divisor / 2, written so that nothing overflows.
    if (remainder >= divisor - remainder) ++quotient;
    if (-remainder >= divisor + remainder) --quotient;
    return FitsPrecision(quotient, precision) ? std::optional<Int128>(quotient) : std::nullopt;
  }
  // The value scaled up fits 38 digits only if it fits 38 - shift before.
  const int shift = result_scale - scale;
  if (!FitsPrecision(value, precision - shift)) return std::nullopt;
  return value * PowerOfTen(shift);
}

// Digits of |value| (0 has 1).
int DigitCount(Int128 value) {
  if (value < 0) value = -value;
  int digits = 1;
  while (digits < kMaxDecimalPrecision && value >= PowerOfTen(digits)) ++digits;
  return digits;
}

}  // namespace

Int128 PowerOfTen(int n) {
  return kPowersOfTen[n];
}

TypeId AdjustDecimalType(int precision, int scale) {
  if (precision <= kMaxDecimalPrecision) return DecimalType(std::max(precision, 1), scale);
  const int integer_digits = precision - scale;
  const int minimum_scale = std::min(scale, 6);
  const int adjusted_scale = std::max(kMaxDecimalPrecision - integer_digits, minimum_scale);
  return DecimalType(kMaxDecimalPrecision, adjusted_scale);
}

TypeId DecimalAddType(TypeId left, TypeId right) {
  const int p1 = DecimalPrecision(left), s1 = DecimalScale(left);
  const int p2 = DecimalPrecision(right), s2 = DecimalScale(right);
  const int scale = std::max(s1, s2);
  return AdjustDecimalType(std::max(p1 - s1, p2 - s2) + scale + 1, scale);
}

TypeId DecimalMultiplyType(TypeId left, TypeId right) {
  return AdjustDecimalType(DecimalPrecision(left) + DecimalPrecision(right) + 1,
                           DecimalScale(left) + DecimalScale(right));
}

TypeId DecimalDivideType(TypeId left, TypeId right) {
  const int p1 = DecimalPrecision(left), s1 = DecimalScale(left);
  const int p2 = DecimalPrecision(right), s2 = DecimalScale(right);
  const int scale = std::max(6, s1 + p2 + 1);
  return AdjustDecimalType(p1 - s1 + s2 + scale, scale);
}

TypeId DecimalModuloType(TypeId left, TypeId right) {
  const int p1 = DecimalPrecision(left), s1 = DecimalScale(left);
  const int p2 = DecimalPrecision(right), s2 = DecimalScale(right);
  const int scale = std::max(s1, s2);
  return AdjustDecimalType(std::min(p1 - s1, p2 - s2) + scale, scale);
}

TypeId DecimalSumType(TypeId argument) {
  return DecimalType(kMaxDecimalPrecision, DecimalScale(argument));
}

TypeId DecimalAverageType(TypeId argument) {
  return DecimalType(kMaxDecimalPrecision, std::max(DecimalScale(argument), 6));
}

std::optional<Int128> RescaleDecimal(Int128 unscaled, int from_scale, int to_scale, int to_precision) {
  return FitNarrow(unscaled, from_scale, DecimalType(to_precision, to_scale));
}

std::optional<Int128> FinishDecimalSum(DecimalSum sum, int scale, int64_t count, TypeId result) {
  // The common case, a sum of at most 38 digits (high only extends low's sign), stays in 128 bits.
  const Int128 low = static_cast<Int128>(sum.low);
  if (sum.high == (low < 0 ? -1 : 0) && FitsPrecision(low, kMaxDecimalPrecision)) {
    if (count <= 0) return FitNarrow(low, scale, result);
    return DecimalDivide(low, scale, count, 0, result);
  }
  // high * 2^128 + low, high carrying the sign.
  Int512 value = Int512(sum.high);
  value <<= 128;
  value += Int512(static_cast<uint64_t>(sum.low >> 64)) << 64;
  value += Int512(static_cast<uint64_t>(sum.low));
  if (count <= 0) return FitWide(value, scale, result);
  // value / count at the result's scale, HALF_UP.
  const int shift = DecimalScale(result) - scale;
  Int512 numerator = value;
  Int512 divisor = count;
  if (shift >= 0) {
    numerator *= WidePowerOfTen(shift);
  } else {
    divisor *= WidePowerOfTen(-shift);
  }
  return FitWide(DivideRoundingHalfUp(numerator, divisor), DecimalScale(result), result);
}

std::optional<Int128> DecimalAdd(Int128 a, int a_scale, Int128 b, int b_scale, TypeId result) {
  const int scale = std::max(a_scale, b_scale);
  // Operands of up to 18 digits scaled by up to 10^18 stay below 10^37: no overflow.
  if (scale <= kMaxNarrowDecimalPrecision && FitsPrecision(a, 18) && FitsPrecision(b, 18)) {
    return FitNarrow(a * PowerOfTen(scale - a_scale) + b * PowerOfTen(scale - b_scale), scale, result);
  }
  return FitWide(ToWide(a) * WidePowerOfTen(scale - a_scale) + ToWide(b) * WidePowerOfTen(scale - b_scale),
                 scale, result);
}

std::optional<Int128> DecimalSubtract(Int128 a, int a_scale, Int128 b, int b_scale, TypeId result) {
  return DecimalAdd(a, a_scale, -b, b_scale, result);
}

std::optional<Int128> DecimalMultiply(Int128 a, int a_scale, Int128 b, int b_scale, TypeId result) {
  if (FitsPrecision(a, 18) && FitsPrecision(b, 18)) return FitNarrow(a * b, a_scale + b_scale, result);
  return FitWide(ToWide(a) * ToWide(b), a_scale + b_scale, result);
}

std::optional<Int128> DecimalDivide(Int128 a, int a_scale, Int128 b, int b_scale, TypeId result) {
  if (b == 0) return std::nullopt;
  // a / b at the result's scale s is (a * 10^(s - a_scale + b_scale)) / b, HALF_UP; the
  // exponent k is never negative for Flink's result types, but any k is handled.
  const int k = DecimalScale(result) - a_scale + b_scale;
  if (k >= 0 && k <= kMaxDecimalPrecision && DigitCount(a) + k <= kMaxDecimalPrecision) {
    const Int128 numerator = a * PowerOfTen(k);
    Int128 quotient = numerator / b;
    const Int128 remainder = numerator % b;
    // |remainder| >= |b| / 2 rounds away from zero (written so that nothing overflows).
    const Int128 r = remainder < 0 ? -remainder : remainder;
    if (r >= (b < 0 ? -b : b) - r) quotient += ((a < 0) != (b < 0)) ? -1 : 1;
    return FitsPrecision(quotient, DecimalPrecision(result)) ? std::optional<Int128>(quotient) : std::nullopt;
  }
  Int512 numerator = ToWide(a);
  Int512 divisor = ToWide(b);
  if (k >= 0) {
    numerator *= WidePowerOfTen(k);
  } else {
    divisor *= WidePowerOfTen(-k);
  }
  const bool negative = (numerator < 0) != (divisor < 0);
  const Int512 n = numerator < 0 ? Int512(-numerator) : numerator;
  const Int512 d = divisor < 0 ? Int512(-divisor) : divisor;
  Int512 quotient = n / d;
  if ((n - quotient * d) * 2 >= d) ++quotient;
  return FitWide(negative ? Int512(-quotient) : quotient, DecimalScale(result), result);
}

std::optional<Int128> DecimalModulo(Int128 a, int a_scale, Int128 b, int b_scale, TypeId result) {
  if (b == 0) return std::nullopt;
  const int scale = std::max(a_scale, b_scale);
  // The remainder of the operands at a common scale, with the dividend's sign (BigDecimal's
  // remainder, and C++'s %).
  const Int512 n = ToWide(a) * WidePowerOfTen(scale - a_scale);
  const Int512 d = ToWide(b) * WidePowerOfTen(scale - b_scale);
  return FitWide(n % d, scale, result);
}

int CompareDecimals(Int128 a, int a_scale, Int128 b, int b_scale) {
  if (a_scale == b_scale) return a < b ? -1 : (a > b ? 1 : 0);
  const int scale = std::max(a_scale, b_scale);
  if (scale <= kMaxNarrowDecimalPrecision && FitsPrecision(a, 18) && FitsPrecision(b, 18)) {
    const Int128 x = a * PowerOfTen(scale - a_scale);
    const Int128 y = b * PowerOfTen(scale - b_scale);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  const Int512 x = ToWide(a) * WidePowerOfTen(scale - a_scale);
  const Int512 y = ToWide(b) * WidePowerOfTen(scale - b_scale);
  return x < y ? -1 : (x > y ? 1 : 0);
}

double DecimalToDouble(Int128 unscaled, int scale) {
  char text[kMaxDecimalChars];
  const size_t length = FormatDecimal(unscaled, scale, text);
  return ParseDouble(std::string_view(text, length)).value_or(0.0);
}

std::optional<Int128> DoubleToDecimal(double value, int precision, int scale) {
  if (!(value == value) || value - value != 0) return std::nullopt;  // NaN or infinite
  // As Flink (BigDecimal.valueOf): the shortest text that reads back as `value`, so that 1.005
  // is 1.005 and rounds to 1.01, not its binary value 1.00499999999999989...
  char text[32];
  const size_t length = AppendDouble(value, text);
  return ParseDecimal(std::string_view(text, length), precision, scale);
}

size_t FormatDecimal(Int128 unscaled, int scale, char* out) {
  char digits[kMaxDecimalPrecision + 2];
  size_t count = 0;
  UInt128 magnitude =
      unscaled < 0 ? UInt128(0) - static_cast<UInt128>(unscaled) : static_cast<UInt128>(unscaled);
  do {
    digits[count++] = static_cast<char>('0' + static_cast<int>(magnitude % 10));
    magnitude /= 10;
  } while (magnitude != 0);
  // At least one digit before the point.
  while (count < static_cast<size_t>(scale) + 1) digits[count++] = '0';
  char* p = out;
  if (unscaled < 0) *p++ = '-';
  for (size_t i = count; i > 0; --i) {
    if (i == static_cast<size_t>(scale) && scale > 0) *p++ = '.';
    *p++ = digits[i - 1];
  }
  return static_cast<size_t>(p - out);
}

std::string DecimalToString(Int128 unscaled, int scale) {
  char text[kMaxDecimalChars];
  return std::string(text, FormatDecimal(unscaled, scale, text));
}

std::optional<Int128> ParseDecimal(std::string_view text, int precision, int scale) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  // The significant digits (leading zeros dropped) and the power of ten of the last one.
  char digits[kMaxDecimalPrecision + 1];
  size_t count = 0;
  int64_t exponent = 0;
  bool any_digit = false;
  bool past_point = false;
  // Digits beyond those kept: how many, and whether the first of them rounds up.
  int64_t dropped = 0;
  bool round_up = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.') {
      if (past_point) return std::nullopt;
      past_point = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    any_digit = true;
    if (past_point) --exponent;
    if (count == 0 && c == '0') continue;
    if (count < sizeof digits) {
      digits[count++] = c;
    } else {
      if (dropped == 0) round_up = c >= '5';
      ++dropped;
    }
  }
  if (!any_digit) return std::nullopt;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exponent_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) exponent_negative = text[i++] == '-';
    if (i == text.size()) return std::nullopt;
    int64_t written = 0;
    for (; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      written = std::min<int64_t>(written * 10 + (text[i] - '0'), 100000);
    }
    exponent += exponent_negative ? -written : written;
  }
  if (i != text.size()) return std::nullopt;
  // The value is digits * 10^(exponent + dropped); at `scale` it is digits * 10^shift.
  const int64_t shift = exponent + dropped + scale;
  if (count == 0) return Int128(0);
  Int128 value = 0;
  if (shift >= 0) {
    if (static_cast<int64_t>(count) + shift > precision) return std::nullopt;
    for (size_t d = 0; d < count; ++d) value = value * 10 + (digits[d] - '0');
    value *= PowerOfTen(static_cast<int>(shift));
  } else {
    // Keep count + shift digits; the first dropped one decides the rounding.
    const int64_t keep = static_cast<int64_t>(count) + shift;
    if (keep < 0) return Int128(0);
    for (int64_t d = 0; d < keep; ++d) value = value * 10 + (digits[d] - '0');
    if (keep < static_cast<int64_t>(count)) {
      round_up = digits[keep] >= '5';
    }
    if (round_up) ++value;
    if (!FitsPrecision(value, precision)) return std::nullopt;
  }
  return negative ? -value : value;
}

}  // namespace sluice
