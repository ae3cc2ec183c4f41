// DECIMAL operators and CASTs: exact arithmetic on unscaled integers (types/decimal.h).
//
// Each operator is one overload whose types are derived from its arguments' (TypeDerivation,
// expr/scalar_function.h): a BIGINT operand is taken as DECIMAL(19, 0), a NULL as the other
// operand's type, and the result type follows Flink's rules (types/decimal.h). A DOUBLE operand
// is not taken: DECIMAL with DOUBLE resolves to the DOUBLE overloads (a DECIMAL converts to
// DOUBLE implicitly), as in Flink. The kernels read their operands' and result's scales from
// the columns' types, so one kernel serves every DECIMAL(p, s), and pick the loop for the
// operands' widths (int64_t or __int128) once per batch.
//
// A result that does not fit its type, and / or % by zero, is NULL (Flink's behaviour).
//
// CASTs (GetDecimalCastKernel):
//   DECIMAL -> DECIMAL (HALF_UP to a smaller scale), BIGINT (truncated toward zero, as Java's
//              BigDecimal.longValue; NULL beyond BIGINT), DOUBLE (the nearest double), STRING
//              (plain text with every digit of the scale: '12.50'), BOOLEAN (x <> 0)
//   BIGINT, DOUBLE (its shortest text, HALF_UP, as Flink), STRING (exact, HALF_UP; not a
//              number: NULL), BOOLEAN (0 or 1) -> DECIMAL; a value that does not fit is NULL
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "expr/functions/kernel_loops.h"
#include "expr/scalar_function.h"
#include "types/decimal.h"

namespace sluice {
namespace {

// --- type derivation --------------------------------------------------------------------

// The DECIMAL an operand is taken as: itself, BIGINT as DECIMAL(19, 0), NULL as `other`'s.
std::optional<TypeId> AsDecimalOperand(TypeId type, TypeId other) {
  if (IsDecimal(type)) return type;
  if (type == TypeId::kInt64) return kBigintAsDecimal;
  if (type == TypeId::kNull && IsDecimal(other)) return other;
  return std::nullopt;
}

// Two operands, at least one a DECIMAL and the other a DECIMAL, BIGINT or NULL.
std::optional<std::vector<TypeId>> DecimalOperands(const std::vector<TypeId>& arguments) {
  if (arguments.size() != 2 || (!IsDecimal(arguments[0]) && !IsDecimal(arguments[1]))) return std::nullopt;
  const auto left = AsDecimalOperand(arguments[0], arguments[1]);
  const auto right = AsDecimalOperand(arguments[1], arguments[0]);
  if (!left || !right) return std::nullopt;
  return std::vector<TypeId>{*left, *right};
}

template <TypeId (*kResultType)(TypeId, TypeId)>
std::optional<DerivedTypes> DeriveArithmetic(const std::vector<TypeId>& arguments) {
  auto operands = DecimalOperands(arguments);
  if (!operands) return std::nullopt;
  const TypeId result = kResultType((*operands)[0], (*operands)[1]);
  return DerivedTypes{std::move(*operands), result};
}

std::optional<DerivedTypes> DeriveComparison(const std::vector<TypeId>& arguments) {
  auto operands = DecimalOperands(arguments);
  if (!operands) return std::nullopt;
  return DerivedTypes{std::move(*operands), TypeId::kBoolean};
}

// One DECIMAL argument, the result of its type (negate, ABS).
std::optional<DerivedTypes> DeriveSameType(const std::vector<TypeId>& arguments) {
  if (arguments.size() != 1 || !IsDecimal(arguments[0])) return std::nullopt;
  return DerivedTypes{arguments, arguments[0]};
}

// --- kernels ----------------------------------------------------------------------------

// An exact operator of types/decimal.h: (a, a's scale, b, b's scale, result type) -> value.
using DecimalOperator = std::optional<Int128> (*)(Int128, int, Int128, int, TypeId);

// out = kOperator(left, right) on the rows the executor left valid; overflow turns a row NULL.
template <typename A, typename B, typename R, DecimalOperator kOperator>
void ArithmeticLoop(const KernelContext& context, const Column* const* arguments, Column& out) {
  const A* left = arguments[0]->data<A>();
  const B* right = arguments[1]->data<B>();
  const int left_scale = DecimalScale(arguments[0]->type());
  const int right_scale = DecimalScale(arguments[1]->type());
  const TypeId result_type = out.type();
  R* result = out.data<R>();
  uint8_t* valid = out.validity();
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    if (!valid[row]) {
      result[row] = 0;
      return;
    }
    const std::optional<Int128> value =
        kOperator(left[row], left_scale, right[row], right_scale, result_type);
    valid[row] = value.has_value();
    result[row] = static_cast<R>(value.value_or(0));
  });
}

template <DecimalOperator kOperator>
void ArithmeticKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const bool wide_left = IsWideDecimal(arguments[0]->type());
  const bool wide_right = IsWideDecimal(arguments[1]->type());
  const int shape = (wide_left ? 4 : 0) | (wide_right ? 2 : 0) | (IsWideDecimal(out.type()) ? 1 : 0);
  switch (shape) {
    case 0: return ArithmeticLoop<int64_t, int64_t, int64_t, kOperator>(context, arguments, out);
    case 1: return ArithmeticLoop<int64_t, int64_t, Int128, kOperator>(context, arguments, out);
    case 2: return ArithmeticLoop<int64_t, Int128, int64_t, kOperator>(context, arguments, out);
    case 3: return ArithmeticLoop<int64_t, Int128, Int128, kOperator>(context, arguments, out);
    case 4: return ArithmeticLoop<Int128, int64_t, int64_t, kOperator>(context, arguments, out);
    case 5: return ArithmeticLoop<Int128, int64_t, Int128, kOperator>(context, arguments, out);
    case 6: return ArithmeticLoop<Int128, Int128, int64_t, kOperator>(context, arguments, out);
    default: return ArithmeticLoop<Int128, Int128, Int128, kOperator>(context, arguments, out);
  }
}

struct Equal {
  static uint8_t Test(int order) { return order == 0; }
};
struct NotEqual {
  static uint8_t Test(int order) { return order != 0; }
};
struct Less {
  static uint8_t Test(int order) { return order < 0; }
};
struct LessOrEqual {
  static uint8_t Test(int order) { return order <= 0; }
};
struct Greater {
  static uint8_t Test(int order) { return order > 0; }
};
struct GreaterOrEqual {
  static uint8_t Test(int order) { return order >= 0; }
};

template <typename A, typename B, typename Predicate>
void ComparisonLoop(const KernelContext& context, const Column* const* arguments, Column& out) {
  const A* left = arguments[0]->data<A>();
  const B* right = arguments[1]->data<B>();
  const int left_scale = DecimalScale(arguments[0]->type());
  const int right_scale = DecimalScale(arguments[1]->type());
  uint8_t* result = out.data<uint8_t>();
  const uint8_t* valid = out.validity();
  if (left_scale == right_scale) {
    // The common case: unscaled values compare as they are.
    ForEachActiveRow(context.selection, context.count, [&](size_t row) {
      const Int128 a = left[row];
      const Int128 b = right[row];
      result[row] = valid[row] & Predicate::Test(a < b ? -1 : (a > b ? 1 : 0));
    });
    return;
  }
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    result[row] =
        valid[row] & Predicate::Test(CompareDecimals(left[row], left_scale, right[row], right_scale));
  });
}

template <typename Predicate>
void ComparisonKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const bool wide_left = IsWideDecimal(arguments[0]->type());
  const bool wide_right = IsWideDecimal(arguments[1]->type());
  if (!wide_left && !wide_right) return ComparisonLoop<int64_t, int64_t, Predicate>(context, arguments, out);
  if (!wide_left) return ComparisonLoop<int64_t, Int128, Predicate>(context, arguments, out);
  if (!wide_right) return ComparisonLoop<Int128, int64_t, Predicate>(context, arguments, out);
  return ComparisonLoop<Int128, Int128, Predicate>(context, arguments, out);
}

// Negation and ABS cannot overflow: the type is symmetric around zero.
template <bool kAbsolute>
void SignKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const Column& input = *arguments[0];
  const uint8_t* valid = out.validity();
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    const Int128 value = valid[row] ? input.DecimalAt(row) : 0;
    out.SetDecimal(row, kAbsolute ? (value < 0 ? -value : value) : -value);
  });
}

// --- casts ------------------------------------------------------------------------------

// Writes convert(row) -> optional<Int128> into a DECIMAL column on the valid rows; nullopt
// turns a row NULL.
template <typename Convert>
void ToDecimal(const KernelContext& context, Column& out, Convert&& convert) {
  uint8_t* valid = out.validity();
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    std::optional<Int128> value;
    if (valid[row]) value = convert(row);
    valid[row] = value.has_value();
    out.SetDecimal(row, value.value_or(0));
  });
}

void DecimalToDecimalKernel(const KernelContext& context, const Column* const* arguments, size_t,
                            Column& out) {
  const Column& input = *arguments[0];
  const int from_scale = DecimalScale(input.type());
  const int to_scale = DecimalScale(out.type());
  const int to_precision = DecimalPrecision(out.type());
  ToDecimal(context, out, [&](size_t row) {
    return RescaleDecimal(input.DecimalAt(row), from_scale, to_scale, to_precision);
  });
}

void Int64ToDecimalKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const int64_t* input = arguments[0]->data<int64_t>();
  const int to_scale = DecimalScale(out.type());
  const int to_precision = DecimalPrecision(out.type());
  ToDecimal(context, out, [&](size_t row) { return RescaleDecimal(input[row], 0, to_scale, to_precision); });
}

void BooleanToDecimalKernel(const KernelContext& context, const Column* const* arguments, size_t,
                            Column& out) {
  const uint8_t* input = arguments[0]->data<uint8_t>();
  const int to_scale = DecimalScale(out.type());
  const int to_precision = DecimalPrecision(out.type());
  ToDecimal(context, out,
            [&](size_t row) { return RescaleDecimal(input[row] != 0, 0, to_scale, to_precision); });
}

void DoubleToDecimalKernel(const KernelContext& context, const Column* const* arguments, size_t,
                           Column& out) {
  const double* input = arguments[0]->data<double>();
  const int to_scale = DecimalScale(out.type());
  const int to_precision = DecimalPrecision(out.type());
  ToDecimal(context, out, [&](size_t row) { return DoubleToDecimal(input[row], to_precision, to_scale); });
}

void StringToDecimalKernel(const KernelContext& context, const Column* const* arguments, size_t,
                           Column& out) {
  const std::string_view* input = arguments[0]->data<std::string_view>();
  const int to_scale = DecimalScale(out.type());
  const int to_precision = DecimalPrecision(out.type());
  ToDecimal(context, out, [&](size_t row) { return ParseDecimal(input[row], to_precision, to_scale); });
}

void DecimalToInt64Kernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const Column& input = *arguments[0];
  const Int128 divisor = PowerOfTen(DecimalScale(input.type()));
  int64_t* result = out.data<int64_t>();
  uint8_t* valid = out.validity();
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    const Int128 whole = valid[row] ? input.DecimalAt(row) / divisor : 0;  // toward zero
    const bool fits = whole >= INT64_MIN && whole <= INT64_MAX;
    valid[row] &= static_cast<uint8_t>(fits);
    result[row] = fits ? static_cast<int64_t>(whole) : 0;
  });
}

void DecimalToDoubleKernel(const KernelContext& context, const Column* const* arguments, size_t,
                           Column& out) {
  const Column& input = *arguments[0];
  const int scale = DecimalScale(input.type());
  // Below 2^53 the unscaled value and 10^scale (scale <= 22) are exact doubles, and one IEEE
  // division rounds their quotient correctly; other values go through their text.
  const double divisor = scale <= 22 ? static_cast<double>(PowerOfTen(scale)) : 0;
  constexpr Int128 kExact = Int128(1) << 53;
  ForEachValidRow<double>(context, out, [&](size_t row) {
    const Int128 value = input.DecimalAt(row);
    if (divisor != 0 && value < kExact && value > -kExact) return static_cast<double>(value) / divisor;
    return DecimalToDouble(value, scale);
  });
}

void DecimalToStringKernel(const KernelContext& context, const Column* const* arguments, size_t,
                           Column& out) {
  const Column& input = *arguments[0];
  const int scale = DecimalScale(input.type());
  StringHeap& heap = out.heap();
  ForEachValidRow<std::string_view>(context, out, [&](size_t row) -> std::string_view {
    char* dest = heap.Allocate(kMaxDecimalChars);
    const size_t used = FormatDecimal(input.DecimalAt(row), scale, dest);
    heap.Shrink(kMaxDecimalChars - used);
    return {dest, used};
  });
}

void DecimalToBooleanKernel(const KernelContext& context, const Column* const* arguments, size_t,
                            Column& out) {
  const Column& input = *arguments[0];
  ForEachValidRow<uint8_t>(context, out, [&](size_t row) -> uint8_t { return input.DecimalAt(row) != 0; });
}

// --- registration -----------------------------------------------------------------------

}  // namespace

ScalarKernel GetDecimalCastKernel(TypeId from, TypeId to) {
  if (IsDecimal(from) && IsDecimal(to)) return DecimalToDecimalKernel;
  if (IsDecimal(to)) {
    switch (from) {
      case TypeId::kInt64: return Int64ToDecimalKernel;
      case TypeId::kDouble: return DoubleToDecimalKernel;
      case TypeId::kString: return StringToDecimalKernel;
      case TypeId::kBoolean: return BooleanToDecimalKernel;
      default: return nullptr;
    }
  }
  if (!IsDecimal(from)) return nullptr;
  switch (to) {
    case TypeId::kInt64: return DecimalToInt64Kernel;
    case TypeId::kDouble: return DecimalToDoubleKernel;
    case TypeId::kString: return DecimalToStringKernel;
    case TypeId::kBoolean: return DecimalToBooleanKernel;
    default: return nullptr;
  }
}

void RegisterDecimalFunctions(FunctionRegistry& registry) {
  constexpr std::string_view kTwo = "DECIMAL, DECIMAL";
  registry.RegisterDerived("+", DeriveArithmetic<DecimalAddType>, ArithmeticKernel<DecimalAdd>, kTwo);
  registry.RegisterDerived("-", DeriveArithmetic<DecimalAddType>, ArithmeticKernel<DecimalSubtract>, kTwo);
  registry.RegisterDerived("*", DeriveArithmetic<DecimalMultiplyType>, ArithmeticKernel<DecimalMultiply>,
                           kTwo);
  registry.RegisterDerived("/", DeriveArithmetic<DecimalDivideType>, ArithmeticKernel<DecimalDivide>, kTwo);
  registry.RegisterDerived("%", DeriveArithmetic<DecimalModuloType>, ArithmeticKernel<DecimalModulo>, kTwo);
  registry.RegisterDerived("mod", DeriveArithmetic<DecimalModuloType>, ArithmeticKernel<DecimalModulo>, kTwo);
  registry.RegisterDerived("=", DeriveComparison, ComparisonKernel<Equal>, kTwo);
  registry.RegisterDerived("<>", DeriveComparison, ComparisonKernel<NotEqual>, kTwo);
  registry.RegisterDerived("<", DeriveComparison, ComparisonKernel<Less>, kTwo);
  registry.RegisterDerived("<=", DeriveComparison, ComparisonKernel<LessOrEqual>, kTwo);
  registry.RegisterDerived(">", DeriveComparison, ComparisonKernel<Greater>, kTwo);
  registry.RegisterDerived(">=", DeriveComparison, ComparisonKernel<GreaterOrEqual>, kTwo);
  registry.RegisterDerived("negate", DeriveSameType, SignKernel<false>, "DECIMAL");
  registry.RegisterDerived("abs", DeriveSameType, SignKernel<true>, "DECIMAL");
}

}  // namespace sluice
