// COALESCE, NULLIF, GREATEST and LEAST, one overload per type (one per width for DECIMALs).
//
// COALESCE and NULLIF handle NULLs themselves (NullHandling::kCustom). GREATEST and LEAST are
// NULL when any argument is NULL, like SQLite's multi-argument max() and min(), so they use
// kPropagate. String results forward the arguments' views, so the output pins their owners.
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include "expr/scalar_function.h"

namespace sluice {
namespace {

template <typename T>
void KeepAliveIfString(const Column* const* arguments, size_t argument_count, Column& out) {
  if constexpr (std::is_same_v<T, std::string_view>) {
    for (size_t a = 0; a < argument_count; ++a) out.KeepAliveStringsOf(*arguments[a]);
  }
}

// First non-NULL argument, column by column: each pass fills the rows still NULL.
template <typename T>
void CoalesceKernel(const KernelContext& context, const Column* const* arguments, size_t argument_count,
                    Column& out) {
  T* result = out.data<T>();
  uint8_t* valid = out.validity();
  if (argument_count == 0) {
    ForEachActiveRow(context.selection, context.count, [&](size_t row) {
      result[row] = T();
      valid[row] = 0;
    });
    return;
  }
  {
    const T* input = arguments[0]->data<T>();
    const uint8_t* input_valid = arguments[0]->validity();
    ForEachActiveRow(context.selection, context.count, [&](size_t row) {
      const uint8_t ok = input_valid[row] != 0;
      result[row] = ok ? input[row] : T();
      valid[row] = ok;
    });
  }
  for (size_t a = 1; a < argument_count; ++a) {
    const T* input = arguments[a]->data<T>();
    const uint8_t* input_valid = arguments[a]->validity();
    ForEachActiveRow(context.selection, context.count, [&](size_t row) {
      const uint8_t take = (valid[row] ^ 1) & (input_valid[row] != 0);
      result[row] = take ? input[row] : result[row];
      valid[row] |= take;
    });
  }
  KeepAliveIfString<T>(arguments, argument_count, out);
}

// NULLIF(a, b): NULL when a = b (both non-NULL), else a.
template <typename T>
void NullIfKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const T* left = arguments[0]->data<T>();
  const uint8_t* left_valid = arguments[0]->validity();
  const T* right = arguments[1]->data<T>();
  const uint8_t* right_valid = arguments[1]->validity();
  T* result = out.data<T>();
  uint8_t* valid = out.validity();
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    const bool equal = left_valid[row] != 0 && right_valid[row] != 0 && left[row] == right[row];
    const uint8_t ok = (left_valid[row] != 0) & !equal;
    result[row] = ok ? left[row] : T();
    valid[row] = ok;
  });
  KeepAliveIfString<T>(arguments, 1, out);
}

struct Greatest {
  template <typename T>
  static T Pick(T a, T b) {
    return b > a ? b : a;
  }
};
struct Least {
  template <typename T>
  static T Pick(T a, T b) {
    return b < a ? b : a;
  }
};

// GREATEST / LEAST over the arguments; validity was set by the executor (any NULL -> NULL).
template <typename T, typename Pick>
void ExtremumKernel(const KernelContext& context, const Column* const* arguments, size_t argument_count,
                    Column& out) {
  T* result = out.data<T>();
  const uint8_t* valid = out.validity();
  const T* first = arguments[0]->data<T>();
  ForEachActiveRow(context.selection, context.count, [&](size_t row) { result[row] = first[row]; });
  for (size_t a = 1; a < argument_count; ++a) {
    const T* input = arguments[a]->data<T>();
    ForEachActiveRow(context.selection, context.count,
                     [&](size_t row) { result[row] = Pick::Pick(result[row], input[row]); });
  }
  ForEachActiveRow(context.selection, context.count,
                   [&](size_t row) { result[row] = valid[row] ? result[row] : T(); });
  KeepAliveIfString<T>(arguments, argument_count, out);
}

void Add(FunctionRegistry& registry, std::string_view name, TypeId type, bool variadic,
         size_t fixed_arguments, ScalarKernel kernel, NullHandling null_handling) {
  ScalarFunctionSignature signature;
  signature.arguments.assign(fixed_arguments, type);
  if (variadic) signature.variadic = type;
  signature.return_type = type;
  signature.kernel = kernel;
  signature.null_handling = null_handling;
  registry.Register(name, std::move(signature));
}

template <typename T>
void AddForType(FunctionRegistry& registry, TypeId type) {
  constexpr NullHandling kCustom = NullHandling::kCustom;
  constexpr NullHandling kPropagate = NullHandling::kPropagate;
  Add(registry, "coalesce", type, /*variadic=*/true, 1, CoalesceKernel<T>, kCustom);
  Add(registry, "nullif", type, /*variadic=*/false, 2, NullIfKernel<T>, kCustom);
  Add(registry, "greatest", type, /*variadic=*/true, 1, ExtremumKernel<T, Greatest>, kPropagate);
  Add(registry, "least", type, /*variadic=*/true, 1, ExtremumKernel<T, Least>, kPropagate);
}

// Over DECIMALs every argument is cast to the DECIMAL that holds them all (a BIGINT taken as
// DECIMAL(19, 0)), and the kernel of that DECIMAL's width (`kWide`: __int128) runs on the
// unscaled values. kArity: the number of arguments, or 0 for one or more.
template <bool kWide, size_t kArity>
std::optional<DerivedTypes> DeriveDecimal(const std::vector<TypeId>& arguments) {
  if (arguments.empty() || (kArity != 0 && arguments.size() != kArity)) return std::nullopt;
  bool any_decimal = false;
  TypeId common = TypeId::kNull;
  for (TypeId type : arguments) {
    any_decimal = any_decimal || IsDecimal(type);
    const std::optional<TypeId> widened = CommonType(common, type);
    if (!widened || !(IsDecimal(*widened) || *widened == TypeId::kInt64 || *widened == TypeId::kNull)) {
      return std::nullopt;
    }
    common = *widened;
  }
  if (!any_decimal || IsWideDecimal(common) != kWide) return std::nullopt;
  return DerivedTypes{std::vector<TypeId>(arguments.size(), common), common};
}

template <typename T, bool kWide>
void AddForDecimals(FunctionRegistry& registry) {
  registry.RegisterDerived("coalesce", DeriveDecimal<kWide, 0>, CoalesceKernel<T>, "DECIMAL...",
                           NullHandling::kCustom);
  registry.RegisterDerived("nullif", DeriveDecimal<kWide, 2>, NullIfKernel<T>, "DECIMAL, DECIMAL",
                           NullHandling::kCustom);
  registry.RegisterDerived("greatest", DeriveDecimal<kWide, 0>, ExtremumKernel<T, Greatest>, "DECIMAL...");
  registry.RegisterDerived("least", DeriveDecimal<kWide, 0>, ExtremumKernel<T, Least>, "DECIMAL...");
}

}  // namespace

void RegisterConditionalFunctions(FunctionRegistry& registry) {
  // BIGINT first so that all-NULL arguments resolve to BIGINT.
  AddForType<int64_t>(registry, TypeId::kInt64);
  AddForType<double>(registry, TypeId::kDouble);
  AddForType<std::string_view>(registry, TypeId::kString);
  AddForType<uint8_t>(registry, TypeId::kBoolean);
  AddForType<int64_t>(registry, TypeId::kTimestamp);
  AddForDecimals<int64_t, false>(registry);
  AddForDecimals<__int128, true>(registry);
}

}  // namespace sluice
