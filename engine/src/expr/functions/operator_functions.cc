// Operators as scalar functions: arithmetic, comparison, AND/OR/NOT, IS [NOT] NULL, LIKE.
//
// Semantics follow SQLite where SQL leaves room, except that integer + - * wrap (two's
// complement) instead of switching to REAL on overflow:
//  - integer / and % by zero are NULL; INT64_MIN / -1 is INT64_MIN and INT64_MIN % -1 is 0;
//    integer division truncates toward zero.
//  - DOUBLE / 0 is NULL; a NaN result is NULL (SQLite has no NaN values).
//  - DOUBLE % casts both operands to integers first and returns a DOUBLE, as SQLite does
//    (7.5 % 2 = 1.0); MOD(x, y) in math_functions.cc is the fmod() variant.
//  - strings compare bytewise (SQLite's BINARY collation); LIKE is case-sensitive.
//
// Dense (selection == nullptr) loops are branch-free so that the compiler vectorizes them;
// results on NULL rows are zeroed to keep the Column invariant (batch/column.h).
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "expr/functions/kernel_loops.h"
#include "expr/scalar_function.h"

namespace sluice {
namespace {

// --- arithmetic -------------------------------------------------------------------------

inline int64_t WrappingAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
inline int64_t WrappingSubtract(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
inline int64_t WrappingMultiply(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

struct AddInt64 {
  static constexpr bool kCanBeNull = false;
  static int64_t Apply(int64_t a, int64_t b) { return WrappingAdd(a, b); }
};
struct SubtractInt64 {
  static constexpr bool kCanBeNull = false;
  static int64_t Apply(int64_t a, int64_t b) { return WrappingSubtract(a, b); }
};
struct MultiplyInt64 {
  static constexpr bool kCanBeNull = false;
  static int64_t Apply(int64_t a, int64_t b) { return WrappingMultiply(a, b); }
};
struct DivideInt64 {
  static constexpr bool kCanBeNull = true;
  static int64_t Apply(int64_t a, int64_t b, uint8_t& valid) {
    if (b == 0) {
      valid = 0;
      return 0;
    }
    if (b == -1) return WrappingSubtract(0, a);  // INT64_MIN / -1 would trap
    return a / b;
  }
};
struct ModuloInt64 {
  static constexpr bool kCanBeNull = true;
  static int64_t Apply(int64_t a, int64_t b, uint8_t& valid) {
    if (b == 0) {
      valid = 0;
      return 0;
    }
    if (b == -1) return 0;  // INT64_MIN % -1 would trap
    return a % b;
  }
};
struct NegateInt64 {
  static constexpr bool kCanBeNull = false;
  static int64_t Apply(int64_t a) { return WrappingSubtract(0, a); }
};

// Double results that are NaN become NULL, as in SQLite.
struct AddDouble {
  static constexpr bool kCanBeNull = true;
  static double Apply(double a, double b, uint8_t& valid) {
    const double r = a + b;
    valid &= static_cast<uint8_t>(r == r);
    return r;
  }
};
struct SubtractDouble {
  static constexpr bool kCanBeNull = true;
  static double Apply(double a, double b, uint8_t& valid) {
    const double r = a - b;
    valid &= static_cast<uint8_t>(r == r);
    return r;
  }
};
struct MultiplyDouble {
  static constexpr bool kCanBeNull = true;
  static double Apply(double a, double b, uint8_t& valid) {
    const double r = a * b;
    valid &= static_cast<uint8_t>(r == r);
    return r;
  }
};
struct DivideDouble {
  static constexpr bool kCanBeNull = true;
  static double Apply(double a, double b, uint8_t& valid) {
    const double r = a / (b == 0 ? 1.0 : b);
    valid &= static_cast<uint8_t>(b != 0 && r == r);
    return r;
  }
};

// SQLite's conversion of a REAL to an INTEGER: truncation, saturating at the int64 range.
inline int64_t SaturatingDoubleToInt64(double value) {
  if (value != value) return 0;
  if (value <= -9223372036854775808.0) return INT64_MIN;
  if (value >= 9223372036854775808.0) return INT64_MAX;
  return static_cast<int64_t>(value);
}

struct ModuloDouble {
  static constexpr bool kCanBeNull = true;
  static double Apply(double a, double b, uint8_t& valid) {
    const int64_t divisor = SaturatingDoubleToInt64(b);
    if (divisor == 0 || a != a || b != b) {
      valid = 0;
      return 0;
    }
    if (divisor == -1) return 0;
    return static_cast<double>(SaturatingDoubleToInt64(a) % divisor);
  }
};
struct NegateDouble {
  static constexpr bool kCanBeNull = false;
  static double Apply(double a) { return -a; }
};

// --- comparison -------------------------------------------------------------------------
// For strings the operators of std::string_view compare bytes as unsigned char (memcmp).

struct Equal {
  static constexpr bool kCanBeNull = false;
  template <typename T>
  static uint8_t Apply(T a, T b) {
    return a == b;
  }
};
struct NotEqual {
  static constexpr bool kCanBeNull = false;
  template <typename T>
  static uint8_t Apply(T a, T b) {
    return a != b;
  }
};
struct Less {
  static constexpr bool kCanBeNull = false;
  template <typename T>
  static uint8_t Apply(T a, T b) {
    return a < b;
  }
};
struct LessOrEqual {
  static constexpr bool kCanBeNull = false;
  template <typename T>
  static uint8_t Apply(T a, T b) {
    return a <= b;
  }
};
struct Greater {
  static constexpr bool kCanBeNull = false;
  template <typename T>
  static uint8_t Apply(T a, T b) {
    return a > b;
  }
};
struct GreaterOrEqual {
  static constexpr bool kCanBeNull = false;
  template <typename T>
  static uint8_t Apply(T a, T b) {
    return a >= b;
  }
};

// --- logic (three-valued, NullHandling::kCustom) ----------------------------------------

// FALSE wins over NULL: valid when either side is a valid FALSE or both are valid.
void AndKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const uint8_t* left = arguments[0]->data<uint8_t>();
  const uint8_t* left_valid = arguments[0]->validity();
  const uint8_t* right = arguments[1]->data<uint8_t>();
  const uint8_t* right_valid = arguments[1]->validity();
  uint8_t* result = out.data<uint8_t>();
  uint8_t* valid = out.validity();
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    const uint8_t l = left[row] != 0;
    const uint8_t r = right[row] != 0;
    const uint8_t any_false = (left_valid[row] & (l ^ 1)) | (right_valid[row] & (r ^ 1));
    valid[row] = any_false | (left_valid[row] & right_valid[row]);
    result[row] = left_valid[row] & right_valid[row] & l & r;
  });
}

// TRUE wins over NULL: valid when either side is a valid TRUE or both are valid.
void OrKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const uint8_t* left = arguments[0]->data<uint8_t>();
  const uint8_t* left_valid = arguments[0]->validity();
  const uint8_t* right = arguments[1]->data<uint8_t>();
  const uint8_t* right_valid = arguments[1]->validity();
  uint8_t* result = out.data<uint8_t>();
  uint8_t* valid = out.validity();
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    const uint8_t l = left[row] != 0;
    const uint8_t r = right[row] != 0;
    const uint8_t any_true = (left_valid[row] & l) | (right_valid[row] & r);
    valid[row] = any_true | (left_valid[row] & right_valid[row]);
    result[row] = any_true;
  });
}

struct NotBoolean {
  static constexpr bool kCanBeNull = false;
  static uint8_t Apply(uint8_t a) { return a == 0; }
};

// IS NULL / IS NOT NULL read only the validity, so one kernel serves every type.
template <bool kWantNull>
void IsNullKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const uint8_t* input_valid = arguments[0]->validity();
  uint8_t* result = out.data<uint8_t>();
  uint8_t* valid = out.validity();
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    const uint8_t is_valid = input_valid[row] != 0;
    result[row] = kWantNull ? (is_valid ^ 1) : is_valid;
    valid[row] = 1;
  });
}

// --- LIKE -------------------------------------------------------------------------------

// Bytes in the UTF-8 sequence starting with `lead` (1 for stray continuation bytes).
inline size_t Utf8SequenceLength(unsigned char lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return lead < 0xF8 ? 4 : 1;
}

// Matches `text` against a LIKE pattern: '%' any run of characters, '_' one character
// (a UTF-8 code point), everything else itself (case-sensitive, no escape character).
// Greedy matching that backtracks only to the last '%': O(|text| * |pattern|), no allocation.
bool LikeMatches(std::string_view text, std::string_view pattern) {
  size_t t = 0;
  size_t p = 0;
  size_t star_p = std::string_view::npos;  // pattern position after the last '%'
  size_t star_t = 0;                       // text position that '%' currently extends to
  while (t < text.size()) {
    if (p < pattern.size()) {
      const char c = pattern[p];
      if (c == '%') {
        while (p < pattern.size() && pattern[p] == '%') ++p;
        if (p == pattern.size()) return true;  // a trailing '%' takes the rest
        star_p = p;
        star_t = t;
        continue;
      }
      if (c == '_') {
        const size_t length = Utf8SequenceLength(static_cast<unsigned char>(text[t]));
        t += length < text.size() - t ? length : text.size() - t;
        ++p;
        continue;
      }
      if (c == text[t]) {
        ++t;
        ++p;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    // Let the last '%' absorb one more character and retry from there.
    const size_t length = Utf8SequenceLength(static_cast<unsigned char>(text[star_t]));
    star_t += length < text.size() - star_t ? length : text.size() - star_t;
    t = star_t;
    p = star_p;
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

template <bool kNegated>
struct Like {
  static constexpr bool kCanBeNull = false;
  static uint8_t Apply(std::string_view text, std::string_view pattern) {
    return LikeMatches(text, pattern) != kNegated;
  }
};

// --- registration -----------------------------------------------------------------------

template <TypeId kType>
struct Physical;
template <>
struct Physical<TypeId::kBoolean> {
  using Type = uint8_t;
};
template <>
struct Physical<TypeId::kInt64> {
  using Type = int64_t;
};
template <>
struct Physical<TypeId::kDouble> {
  using Type = double;
};
template <>
struct Physical<TypeId::kString> {
  using Type = std::string_view;
};
template <>
struct Physical<TypeId::kTimestamp> {
  using Type = int64_t;
};

void Add(FunctionRegistry& registry, std::string_view name, std::vector<TypeId> arguments, TypeId return_type,
         ScalarKernel kernel, NullHandling null_handling = NullHandling::kPropagate) {
  ScalarFunctionSignature signature;
  signature.arguments = std::move(arguments);
  signature.return_type = return_type;
  signature.kernel = kernel;
  signature.null_handling = null_handling;
  registry.Register(name, std::move(signature));
}

template <TypeId kType>
void AddComparisons(FunctionRegistry& registry) {
  using T = typename Physical<kType>::Type;
  constexpr TypeId kBool = TypeId::kBoolean;
  Add(registry, "=", {kType, kType}, kBool, BinaryKernel<T, T, uint8_t, Equal>);
  Add(registry, "<>", {kType, kType}, kBool, BinaryKernel<T, T, uint8_t, NotEqual>);
  Add(registry, "<", {kType, kType}, kBool, BinaryKernel<T, T, uint8_t, Less>);
  Add(registry, "<=", {kType, kType}, kBool, BinaryKernel<T, T, uint8_t, LessOrEqual>);
  Add(registry, ">", {kType, kType}, kBool, BinaryKernel<T, T, uint8_t, Greater>);
  Add(registry, ">=", {kType, kType}, kBool, BinaryKernel<T, T, uint8_t, GreaterOrEqual>);
}

}  // namespace

void RegisterOperatorFunctions(FunctionRegistry& registry) {
  constexpr TypeId kInt = TypeId::kInt64;
  constexpr TypeId kDouble = TypeId::kDouble;
  constexpr TypeId kTime = TypeId::kTimestamp;
  constexpr TypeId kString = TypeId::kString;
  constexpr TypeId kBool = TypeId::kBoolean;

  // Arithmetic. BIGINT overloads come first so that (NULL, NULL) resolves to BIGINT.
  Add(registry, "+", {kInt, kInt}, kInt, BinaryKernel<int64_t, int64_t, int64_t, AddInt64>);
  Add(registry, "-", {kInt, kInt}, kInt, BinaryKernel<int64_t, int64_t, int64_t, SubtractInt64>);
  Add(registry, "*", {kInt, kInt}, kInt, BinaryKernel<int64_t, int64_t, int64_t, MultiplyInt64>);
  Add(registry, "/", {kInt, kInt}, kInt, BinaryKernel<int64_t, int64_t, int64_t, DivideInt64>);
  Add(registry, "%", {kInt, kInt}, kInt, BinaryKernel<int64_t, int64_t, int64_t, ModuloInt64>);
  Add(registry, "+", {kDouble, kDouble}, kDouble, BinaryKernel<double, double, double, AddDouble>);
  Add(registry, "-", {kDouble, kDouble}, kDouble, BinaryKernel<double, double, double, SubtractDouble>);
  Add(registry, "*", {kDouble, kDouble}, kDouble, BinaryKernel<double, double, double, MultiplyDouble>);
  Add(registry, "/", {kDouble, kDouble}, kDouble, BinaryKernel<double, double, double, DivideDouble>);
  Add(registry, "%", {kDouble, kDouble}, kDouble, BinaryKernel<double, double, double, ModuloDouble>);
  // Timestamps are epoch milliseconds; an INTERVAL binds to a BIGINT of milliseconds.
  Add(registry, "+", {kTime, kInt}, kTime, BinaryKernel<int64_t, int64_t, int64_t, AddInt64>);
  Add(registry, "+", {kInt, kTime}, kTime, BinaryKernel<int64_t, int64_t, int64_t, AddInt64>);
  Add(registry, "-", {kTime, kInt}, kTime, BinaryKernel<int64_t, int64_t, int64_t, SubtractInt64>);
  Add(registry, "-", {kTime, kTime}, kInt, BinaryKernel<int64_t, int64_t, int64_t, SubtractInt64>);
  Add(registry, "negate", {kInt}, kInt, UnaryKernel<int64_t, int64_t, NegateInt64>);
  Add(registry, "negate", {kDouble}, kDouble, UnaryKernel<double, double, NegateDouble>);

  AddComparisons<TypeId::kInt64>(registry);
  AddComparisons<TypeId::kDouble>(registry);
  AddComparisons<TypeId::kString>(registry);
  AddComparisons<TypeId::kBoolean>(registry);
  AddComparisons<TypeId::kTimestamp>(registry);

  Add(registry, "and", {kBool, kBool}, kBool, AndKernel, NullHandling::kCustom);
  Add(registry, "or", {kBool, kBool}, kBool, OrKernel, NullHandling::kCustom);
  Add(registry, "not", {kBool}, kBool, UnaryKernel<uint8_t, uint8_t, NotBoolean>);

  for (TypeId type : {kInt, kDouble, kString, kBool, kTime}) {
    Add(registry, "is_null", {type}, kBool, IsNullKernel<true>, NullHandling::kCustom);
    Add(registry, "is_not_null", {type}, kBool, IsNullKernel<false>, NullHandling::kCustom);
  }
  // Any DECIMAL(p, s): the kernels read only the validity.
  constexpr TypeDerivation kAnyDecimal =
      [](const std::vector<TypeId>& arguments) -> std::optional<DerivedTypes> {
    if (arguments.size() != 1 || !IsDecimal(arguments[0])) return std::nullopt;
    return DerivedTypes{arguments, TypeId::kBoolean};
  };
  registry.RegisterDerived("is_null", kAnyDecimal, IsNullKernel<true>, "DECIMAL", NullHandling::kCustom);
  registry.RegisterDerived("is_not_null", kAnyDecimal, IsNullKernel<false>, "DECIMAL", NullHandling::kCustom);

  Add(registry, "like", {kString, kString}, kBool,
      BinaryKernel<std::string_view, std::string_view, uint8_t, Like<false>>);
  Add(registry, "not_like", {kString, kString}, kBool,
      BinaryKernel<std::string_view, std::string_view, uint8_t, Like<true>>);
}

}  // namespace sluice
