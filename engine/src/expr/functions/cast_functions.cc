// CAST kernels between BOOLEAN, BIGINT, DOUBLE, STRING and TIMESTAMP.
//
// The executor treats a cast like a kPropagate function: out's validity is the argument's on
// entry, and a value that does not convert turns its row NULL. Conversions:
//   BOOLEAN   -> BIGINT 0/1, DOUBLE 0.0/1.0, STRING 'true'/'false'
//   BIGINT    -> BOOLEAN (x <> 0), DOUBLE, STRING, TIMESTAMP (epoch milliseconds)
//   DOUBLE    -> BOOLEAN (x <> 0), BIGINT (truncated toward zero; NaN or out of range: NULL),
//                STRING (FormatDouble)
//   STRING    -> BOOLEAN (ParseBoolean), BIGINT (ParseInt64: '12.7' is NULL), DOUBLE
//                (ParseDouble), TIMESTAMP (ParseTimestamp); unparsable text is NULL
//   TIMESTAMP -> BIGINT (epoch milliseconds), STRING (FormatTimestamp, ISO-8601 UTC)
//   NULL      -> any type, all rows NULL; T -> T copies.
//   DECIMAL   <-> the others: expr/functions/decimal_functions.cc.
// DOUBLE <-> TIMESTAMP and BOOLEAN <-> TIMESTAMP have no kernel (no obvious unit / meaning).
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "expr/functions/kernel_loops.h"
#include "expr/scalar_function.h"
#include "types/number_format.h"

namespace sluice {
namespace {

template <typename T>
void IdentityKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const T* input = arguments[0]->data<T>();
  T* result = out.data<T>();
  const uint8_t* valid = out.validity();
  ForEachActiveRow(context.selection, context.count,
                   [&](size_t row) { result[row] = ZeroIfNull(input[row], valid[row]); });
  if constexpr (std::is_same_v<T, std::string_view>) out.KeepAliveStringsOf(*arguments[0]);
}

void AllNullKernel(const KernelContext& context, const Column* const*, size_t, Column& out) {
  ForEachActiveRow(context.selection, context.count, [&](size_t row) { out.SetNull(row); });
}

// --- to numbers and booleans ------------------------------------------------------------
// Ops for UnaryKernel (kernel_loops.h); each may clear valid when the value does not convert.

template <typename To>
struct StaticCast {
  static constexpr bool kCanBeNull = true;
  template <typename From>
  static To Apply(From value, uint8_t&) {
    return static_cast<To>(value);
  }
};
struct NonZero {
  static constexpr bool kCanBeNull = true;
  template <typename From>
  static uint8_t Apply(From value, uint8_t& valid) {
    valid &= static_cast<uint8_t>(value == value);  // NaN is not a truth value
    return value != 0;
  }
};
struct DoubleToInt64 {
  static constexpr bool kCanBeNull = true;
  static int64_t Apply(double value, uint8_t& valid) {
    // [-2^63, 2^63) is exactly the doubles whose truncation fits; NaN fails both tests.
    const bool in_range = value >= -9223372036854775808.0 && value < 9223372036854775808.0;
    valid &= static_cast<uint8_t>(in_range);
    return in_range ? static_cast<int64_t>(value) : 0;
  }
};

// --- from strings -----------------------------------------------------------------------

template <typename To, std::optional<To> (*kParse)(std::string_view)>
struct Parse {
  static constexpr bool kCanBeNull = true;
  static To Apply(std::string_view text, uint8_t& valid) {
    if (!valid) return To();
    const std::optional<To> value = kParse(text);
    valid &= static_cast<uint8_t>(value.has_value());
    return value.value_or(To());
  }
};

std::optional<uint8_t> ParseBooleanByte(std::string_view text) {
  const std::optional<bool> value = ParseBoolean(text);
  if (!value) return std::nullopt;
  return static_cast<uint8_t>(*value);
}

// --- to strings -------------------------------------------------------------------------

void BooleanToStringKernel(const KernelContext& context, const Column* const* arguments, size_t,
                           Column& out) {
  const uint8_t* input = arguments[0]->data<uint8_t>();
  // Views of string literals: static storage, nothing to pin.
  ForEachValidRow<std::string_view>(
      context, out, [&](size_t row) { return std::string_view(input[row] ? "true" : "false"); });
}

void Int64ToStringKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const int64_t* input = arguments[0]->data<int64_t>();
  StringHeap& heap = out.heap();
  ForEachValidRow<std::string_view>(context, out, [&](size_t row) -> std::string_view {
    constexpr size_t kMaxDigits = 20;  // "-9223372036854775808"
    char* dest = heap.Allocate(kMaxDigits);
    const size_t used = std::to_chars(dest, dest + kMaxDigits, input[row]).ptr - dest;
    heap.Shrink(kMaxDigits - used);
    return {dest, used};
  });
}

void DoubleToStringKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const double* input = arguments[0]->data<double>();
  StringHeap& heap = out.heap();
  ForEachValidRow<std::string_view>(context, out, [&](size_t row) -> std::string_view {
    constexpr size_t kRoom = 32;  // AppendDouble's contract
    char* dest = heap.Allocate(kRoom);
    const size_t used = AppendDouble(input[row], dest);
    heap.Shrink(kRoom - used);
    return {dest, used};
  });
}

void TimestampToStringKernel(const KernelContext& context, const Column* const* arguments, size_t,
                             Column& out) {
  const int64_t* input = arguments[0]->data<int64_t>();
  StringHeap& heap = out.heap();
  // FormatTimestamp returns a std::string (one allocation per row beyond SSO); an Append-style
  // variant in number_format.h would remove it.
  ForEachValidRow<std::string_view>(context, out,
                                    [&](size_t row) { return heap.Add(FormatTimestamp(input[row])); });
}

ScalarKernel IdentityFor(TypeId type) {
  if (IsDecimal(type)) return IsWideDecimal(type) ? IdentityKernel<__int128> : IdentityKernel<int64_t>;
  switch (type) {
    case TypeId::kNull:
    case TypeId::kBoolean: return IdentityKernel<uint8_t>;
    case TypeId::kInt64:
    case TypeId::kTimestamp: return IdentityKernel<int64_t>;
    case TypeId::kDouble: return IdentityKernel<double>;
    case TypeId::kString: return IdentityKernel<std::string_view>;
  }
  return nullptr;
}

}  // namespace

ScalarKernel GetCastKernel(TypeId from, TypeId to) {
  using std::string_view;
  if (from == to) return IdentityFor(from);
  if (from == TypeId::kNull) return AllNullKernel;
  if (IsDecimal(from) || IsDecimal(to)) return GetDecimalCastKernel(from, to);
  switch (from) {
    case TypeId::kBoolean:
      switch (to) {
        case TypeId::kInt64: return UnaryKernel<uint8_t, int64_t, StaticCast<int64_t>>;
        case TypeId::kDouble: return UnaryKernel<uint8_t, double, StaticCast<double>>;
        case TypeId::kString: return BooleanToStringKernel;
        default: return nullptr;
      }
    case TypeId::kInt64:
      switch (to) {
        case TypeId::kBoolean: return UnaryKernel<int64_t, uint8_t, NonZero>;
        case TypeId::kDouble: return UnaryKernel<int64_t, double, StaticCast<double>>;
        case TypeId::kString: return Int64ToStringKernel;
        case TypeId::kTimestamp: return IdentityKernel<int64_t>;
        default: return nullptr;
      }
    case TypeId::kDouble:
      switch (to) {
        case TypeId::kBoolean: return UnaryKernel<double, uint8_t, NonZero>;
        case TypeId::kInt64: return UnaryKernel<double, int64_t, DoubleToInt64>;
        case TypeId::kString: return DoubleToStringKernel;
        default: return nullptr;
      }
    case TypeId::kString:
      switch (to) {
        case TypeId::kBoolean: return UnaryKernel<string_view, uint8_t, Parse<uint8_t, ParseBooleanByte>>;
        case TypeId::kInt64: return UnaryKernel<string_view, int64_t, Parse<int64_t, ParseInt64>>;
        case TypeId::kDouble: return UnaryKernel<string_view, double, Parse<double, ParseDouble>>;
        case TypeId::kTimestamp: return UnaryKernel<string_view, int64_t, Parse<int64_t, ParseTimestamp>>;
        default: return nullptr;
      }
    case TypeId::kTimestamp:
      switch (to) {
        case TypeId::kInt64: return IdentityKernel<int64_t>;
        case TypeId::kString: return TimestampToStringKernel;
        default: return nullptr;
      }
    case TypeId::kNull: break;
  }
  return nullptr;
}

}  // namespace sluice
