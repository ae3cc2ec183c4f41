// Bound expressions: the typed, resolved form the binder produces from the AST and the
// executor evaluates. Every node knows its result type; column references are indexes into
// the input batch; operators and functions are resolved to a kernel; implicit conversions are
// explicit kCast nodes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "expr/scalar_function.h"
#include "types/value.h"

namespace sluice {

enum class BoundExpressionKind : uint8_t {
  kColumn,    // column_index into the input batch
  kConstant,  // constant
  kCall,      // function(children...)
  kCase,      // children = when0, then0, when1, then1, ..., else (always present)
  kCast,      // cast_kernel(children[0])
};

struct BoundExpression {
  BoundExpressionKind kind = BoundExpressionKind::kConstant;
  TypeId type = TypeId::kNull;
  size_t column_index = 0;
  std::string name;  // column or function name, for EXPLAIN
  Value constant;
  const ScalarFunctionSignature* function = nullptr;
  ScalarKernel cast_kernel = nullptr;
  std::vector<std::unique_ptr<BoundExpression>> children;

  std::string ToString() const;
};

using BoundExpressionPtr = std::unique_ptr<BoundExpression>;

BoundExpressionPtr MakeColumnReference(size_t index, TypeId type, std::string name);
BoundExpressionPtr MakeConstant(Value value);
// CAST(operand AS type) through `kernel`, GetCastKernel(operand->type, type) (not folded).
BoundExpressionPtr MakeCast(BoundExpressionPtr operand, TypeId type, ScalarKernel kernel);

}  // namespace sluice
