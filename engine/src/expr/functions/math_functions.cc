// Math functions: ABS ROUND FLOOR CEIL/CEILING SQRT POWER/POW MOD EXP LN LOG10.
//
// As in SQLite, a DOUBLE result that is NaN is NULL (SQRT(-1), LN(0), MOD(x, 0.0), ...).
// ROUND rounds half away from zero the way SQLite 3.40's round() does.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "expr/functions/kernel_loops.h"
#include "expr/scalar_function.h"

namespace sluice {
namespace {

// The kernels are UnaryKernel / BinaryKernel (kernel_loops.h) over the Ops below.

inline double NullIfNaN(double value, uint8_t& valid) {
  valid &= static_cast<uint8_t>(value == value);
  return value;
}

// --- BIGINT -----------------------------------------------------------------------------

// ABS(INT64_MIN) wraps to INT64_MIN, like negation.
struct AbsInt64 {
  static constexpr bool kCanBeNull = false;
  static int64_t Apply(int64_t a) {
    return static_cast<int64_t>(a < 0 ? 0 - static_cast<uint64_t>(a) : static_cast<uint64_t>(a));
  }
};
struct IdentityInt64 {
  static constexpr bool kCanBeNull = false;
  static int64_t Apply(int64_t a) { return a; }
};
// Same as the % operator: NULL for a zero divisor, INT64_MIN % -1 = 0.
struct ModInt64 {
  static constexpr bool kCanBeNull = true;
  static int64_t Apply(int64_t a, int64_t b, uint8_t& valid) {
    if (b == 0) {
      valid = 0;
      return 0;
    }
    return b == -1 ? 0 : a % b;
  }
};

// --- DOUBLE -----------------------------------------------------------------------------

struct AbsDouble {
  static constexpr bool kCanBeNull = false;
  static double Apply(double a) { return std::fabs(a); }
};
struct FloorDouble {
  static constexpr bool kCanBeNull = true;
  static double Apply(double a, uint8_t& valid) { return NullIfNaN(std::floor(a), valid); }
};
struct CeilDouble {
  static constexpr bool kCanBeNull = true;
  static double Apply(double a, uint8_t& valid) { return NullIfNaN(std::ceil(a), valid); }
};
struct SqrtDouble {
  static constexpr bool kCanBeNull = true;
  static double Apply(double a, uint8_t& valid) {
    valid &= static_cast<uint8_t>(a >= 0);
    return NullIfNaN(std::sqrt(a >= 0 ? a : 0), valid);
  }
};
struct ExpDouble {
  static constexpr bool kCanBeNull = true;
  static double Apply(double a, uint8_t& valid) { return NullIfNaN(std::exp(a), valid); }
};
// Logarithms of values <= 0 are NULL (SQLite), not -Infinity or NaN.
struct LnDouble {
  static constexpr bool kCanBeNull = true;
  static double Apply(double a, uint8_t& valid) {
    valid &= static_cast<uint8_t>(a > 0);
    return NullIfNaN(std::log(a > 0 ? a : 1), valid);
  }
};
struct Log10Double {
  static constexpr bool kCanBeNull = true;
  static double Apply(double a, uint8_t& valid) {
    valid &= static_cast<uint8_t>(a > 0);
    return NullIfNaN(std::log10(a > 0 ? a : 1), valid);
  }
};
struct PowerDouble {
  static constexpr bool kCanBeNull = true;
  static double Apply(double a, double b, uint8_t& valid) { return NullIfNaN(std::pow(a, b), valid); }
};
struct ModDouble {
  static constexpr bool kCanBeNull = true;
  static double Apply(double a, double b, uint8_t& valid) { return NullIfNaN(std::fmod(a, b), valid); }
};

// SQLite 3.40's round(x, digits): digits clamped to [0, 30]; values beyond 2^52 have no
// fraction and come back unchanged; digits = 0 adds +-0.5 and truncates. Otherwise SQLite
// prints the value with "%.*f" and reads it back: printing adds half a unit of the last digit
// plus a relative 3e-16 fudge (so that round(1.005, 2) = 1.01), then writes at most 16
// significant digits, the rest as zeros. This does the same arithmetic in long double.
double RoundHalfAwayFromZero(double value, int64_t digits) {
  if (digits < 0) digits = 0;
  if (digits > 30) digits = 30;
  if (value < -4503599627370496.0 || value > 4503599627370496.0) return value;
  if (digits == 0) {
    return static_cast<double>(static_cast<int64_t>(value + (value < 0 ? -0.5 : 0.5)));
  }
  const bool negative = value < 0;
  long double magnitude = negative ? -static_cast<long double>(value) : value;
  long double rounder = 0.5L;
  for (int64_t i = 0; i < digits; ++i) rounder *= 0.1L;
  uint64_t bits;
  const double magnitude_double = static_cast<double>(magnitude);
  std::memcpy(&bits, &magnitude_double, sizeof(bits));
  const int binary_exponent = -1023 + static_cast<int>((bits >> 52) & 0x7ff);
  if (digits + binary_exponent / 3 < 15) rounder += magnitude * 3e-16L;
  magnitude += rounder;
  // Decimal exponent of the leading digit, found as SQLite's printf does.
  int exponent = 0;
  if (magnitude > 0) {
    long double normalized = magnitude;
    while (normalized >= 10.0L) {
      normalized /= 10.0L;
      ++exponent;
    }
    while (normalized < 1.0L) {
      normalized *= 10.0L;
      --exponent;
    }
  }
  const int64_t kept_digits = digits < 15 - exponent ? digits : 15 - exponent;  // >= 0
  long double scale = 1.0L;
  for (int64_t i = 0; i < kept_digits; ++i) scale *= 10.0L;
  const long double kept = std::floor(magnitude * scale);  // whole units of the last digit
  double result;
  if (kept_digits <= 22 && kept < 9007199254740992.0L) {
    // Both operands exact in double, so the quotient is the correctly rounded decimal.
    static constexpr double kPowersOfTen[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                              1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                              1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    result = static_cast<double>(kept) / kPowersOfTen[kept_digits];
  } else {
    result = static_cast<double>(kept / scale);
  }
  return negative ? -result : result;
}

struct RoundDouble {
  static constexpr bool kCanBeNull = true;
  static double Apply(double a, uint8_t& valid) {
    valid &= static_cast<uint8_t>(a == a);
    return RoundHalfAwayFromZero(a == a ? a : 0, 0);
  }
};
struct RoundDoubleDigits {
  static constexpr bool kCanBeNull = true;
  static double Apply(double a, int64_t digits, uint8_t& valid) {
    valid &= static_cast<uint8_t>(a == a);
    return RoundHalfAwayFromZero(a == a ? a : 0, digits);
  }
};

// --- registration -----------------------------------------------------------------------

void Add(FunctionRegistry& registry, std::string_view name, std::vector<TypeId> arguments, TypeId return_type,
         ScalarKernel kernel) {
  ScalarFunctionSignature signature;
  signature.arguments = std::move(arguments);
  signature.return_type = return_type;
  signature.kernel = kernel;
  signature.null_handling = NullHandling::kPropagate;
  registry.Register(name, std::move(signature));
}

}  // namespace

void RegisterMathFunctions(FunctionRegistry& registry) {
  constexpr TypeId kInt = TypeId::kInt64;
  constexpr TypeId kDouble = TypeId::kDouble;
  // BIGINT overloads first: they win for BIGINT and NULL arguments.
  Add(registry, "abs", {kInt}, kInt, UnaryKernel<int64_t, int64_t, AbsInt64>);
  Add(registry, "abs", {kDouble}, kDouble, UnaryKernel<double, double, AbsDouble>);
  Add(registry, "round", {kDouble}, kDouble, UnaryKernel<double, double, RoundDouble>);
  Add(registry, "round", {kDouble, kInt}, kDouble, BinaryKernel<double, int64_t, double, RoundDoubleDigits>);
  for (std::string_view name : {"floor", "ceil", "ceiling"}) {
    Add(registry, name, {kInt}, kInt, UnaryKernel<int64_t, int64_t, IdentityInt64>);
  }
  Add(registry, "floor", {kDouble}, kDouble, UnaryKernel<double, double, FloorDouble>);
  Add(registry, "ceil", {kDouble}, kDouble, UnaryKernel<double, double, CeilDouble>);
  Add(registry, "ceiling", {kDouble}, kDouble, UnaryKernel<double, double, CeilDouble>);
  Add(registry, "sqrt", {kDouble}, kDouble, UnaryKernel<double, double, SqrtDouble>);
  for (std::string_view name : {"power", "pow"}) {
    Add(registry, name, {kDouble, kDouble}, kDouble, BinaryKernel<double, double, double, PowerDouble>);
  }
  Add(registry, "mod", {kInt, kInt}, kInt, BinaryKernel<int64_t, int64_t, int64_t, ModInt64>);
  Add(registry, "mod", {kDouble, kDouble}, kDouble, BinaryKernel<double, double, double, ModDouble>);
  Add(registry, "exp", {kDouble}, kDouble, UnaryKernel<double, double, ExpDouble>);
  Add(registry, "ln", {kDouble}, kDouble, UnaryKernel<double, double, LnDouble>);
  Add(registry, "log10", {kDouble}, kDouble, UnaryKernel<double, double, Log10Double>);
}

}  // namespace sluice
