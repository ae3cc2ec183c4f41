// Scalar functions: vectorized kernels and the registry the binder resolves calls against.
//
// A kernel computes one output Column from argument Columns for the active rows given by a
// selection (see batch/batch.h): out and every argument are indexed by physical row, and only
// active rows are read or written. Kernels are plain loops: no allocation except string bytes
// into out.heap(), no virtual call and no exception per row.
//
// Kernels must be total: they are also run over NULL slots (which hold 0 / empty values, see
// batch/column.h) and must not trap there (e.g. integer division by zero, INT64_MIN / -1).
//
// Null handling:
//  kPropagate: before the call the executor sets out.validity()[row] = AND of the arguments'
//     validity for every active row. The kernel writes a value for every active row and may
//     turn more rows NULL with out.SetNull(row) (e.g. x / 0 is NULL, as in SQLite).
//  kCustom: the kernel sets validity itself for every active row (AND/OR, COALESCE, IS NULL).
//
// Operators are functions too: the binder turns `a + b` into a call of "+", `a = b` into "=",
// and so on (names listed in DESIGN of expr/README). Only CASE and CAST have their own nodes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "batch/batch.h"
#include "common/status.h"
#include "types/logical_type.h"
#include "types/value.h"

namespace sluice {

struct KernelContext {
  const uint32_t* selection;  // active rows, or nullptr for rows 0..count-1
  size_t count;               // number of active rows
};

using ScalarKernel = void (*)(const KernelContext& context, const Column* const* arguments,
                              size_t argument_count, Column& out);

enum class NullHandling : uint8_t { kPropagate, kCustom };

// Checks argument `argument` of a call when the binder finds it constant (a pattern, a unit):
// returns what is wrong with `value`, which the binder reports at the argument's position, or
// nullopt. The kernel still treats values it cannot use (a pattern computed per row) as NULL.
using ConstantArgumentCheck = std::optional<std::string> (*)(size_t argument, const Value& value);

// The argument and result types of an overload whose types depend on its arguments' (the
// DECIMAL operators: their result's precision and scale follow the operands').
struct DerivedTypes {
  std::vector<TypeId> arguments;  // what each argument is cast to before the call
  TypeId return_type = TypeId::kNull;
};
// Given the argument types of a call, the types of this overload for them, or nullopt when it
// does not take them.
using TypeDerivation = std::optional<DerivedTypes> (*)(const std::vector<TypeId>& arguments);

struct ScalarFunctionSignature {
  // Ignored when derive_types is set (but for describing the overload in errors).
  std::vector<TypeId> arguments;
  // When set, any number (including zero) of further arguments of this type may follow.
  std::optional<TypeId> variadic;
  TypeId return_type = TypeId::kNull;
  ScalarKernel kernel = nullptr;
  NullHandling null_handling = NullHandling::kPropagate;
  ConstantArgumentCheck check_constant_argument = nullptr;
  // When set, decides which arguments the overload takes and its types for them; `arguments`
  // and `return_type` only describe it (DECIMAL stands for any DECIMAL(p, s) there).
  TypeDerivation derive_types = nullptr;
  std::string_view description;  // the parameters as errors list them, when derive_types is set
};

// The overload a call resolved to, the type every argument must be cast to before the call,
// and the type of the result.
struct ResolvedFunction {
  const ScalarFunctionSignature* signature = nullptr;
  std::vector<TypeId> argument_types;
  TypeId return_type = TypeId::kNull;
};

// Name -> overloads. Names are case-insensitive. Immutable after construction for Default().
class FunctionRegistry {
 public:
  // The registry with every built-in function; built once, thread-safe to read.
  static const FunctionRegistry& Default();

  void Register(std::string_view name, ScalarFunctionSignature signature);
  // An overload whose types `derive` decides (the DECIMAL operators); `description` lists its
  // parameters for errors ("DECIMAL, DECIMAL").
  void RegisterDerived(std::string_view name, TypeDerivation derive, ScalarKernel kernel,
                       std::string_view description, NullHandling null_handling = NullHandling::kPropagate);

  bool Contains(std::string_view name) const;

  // Picks the overload whose parameters every argument converts to implicitly
  // (types/logical_type.h), preferring the fewest conversions. Errors name the function and
  // the argument types; an unknown name suggests the nearest known one.
  absl::StatusOr<ResolvedFunction> Resolve(std::string_view name,
                                           const std::vector<TypeId>& argument_types) const;

  std::vector<std::string> Names() const;

 private:
  std::map<std::string, std::vector<ScalarFunctionSignature>> functions_;
};

// Kernel converting a column from one type to another (CAST). Unconvertible values
// (e.g. 'abc' to BIGINT) become NULL. Returns nullptr when no conversion exists.
ScalarKernel GetCastKernel(TypeId from, TypeId to);
// The CASTs to and from DECIMAL (expr/functions/decimal_functions.cc), for GetCastKernel.
ScalarKernel GetDecimalCastKernel(TypeId from, TypeId to);

// Registration entry points, one per function family (each in expr/functions/*.cc).
void RegisterOperatorFunctions(FunctionRegistry& registry);     // + - * / % = <> < ... AND OR NOT
void RegisterConditionalFunctions(FunctionRegistry& registry);  // COALESCE NULLIF GREATEST LEAST
void RegisterStringFunctions(FunctionRegistry& registry);
void RegisterMathFunctions(FunctionRegistry& registry);
void RegisterTimeFunctions(FunctionRegistry& registry);
void RegisterRegexFunctions(FunctionRegistry& registry);  // REGEXP REGEXP_EXTRACT REGEXP_REPLACE
void RegisterDecimalFunctions(FunctionRegistry& registry);  // + - * / % MOD comparisons negate ABS

}  // namespace sluice
