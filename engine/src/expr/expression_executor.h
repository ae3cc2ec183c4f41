// ExpressionExecutor: evaluates one bound expression over batches, vectorized.
//
// Construction builds a state node per expression node with its own output ColumnPool and
// argument scratch, so Evaluate() does not allocate in the steady state. A column reference
// evaluates to the input's column itself (no copy). Results are indexed by physical row; only
// the batch's active rows are computed.
//
// Not thread-safe: one executor per operator instance (per worker).
#pragma once

#include <memory>
#include <vector>

#include "batch/batch.h"
#include "expr/expression.h"

namespace sluice {

class ExpressionExecutor {
 public:
  explicit ExpressionExecutor(const BoundExpression& expression);
  ~ExpressionExecutor();
  ExpressionExecutor(const ExpressionExecutor&) = delete;
  ExpressionExecutor& operator=(const ExpressionExecutor&) = delete;

  // The expression's value for every active row of `input`. The column stays valid until the
  // next Evaluate() call or until the caller drops it, whichever is later.
  std::shared_ptr<Column> Evaluate(const Batch& input);

  // Evaluates a BOOLEAN expression and writes the active rows where it is TRUE (not FALSE,
  // not NULL) to `selection`, in order. Returns their count. `selection` needs room for
  // input.active_rows() entries.
  size_t Select(const Batch& input, uint32_t* selection);

  TypeId type() const { return type_; }

  struct Node;

 private:
  std::unique_ptr<Node> root_;
  TypeId type_;
};

}  // namespace sluice
