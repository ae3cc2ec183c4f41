// FilterOperator: narrows the batch's selection to the rows where the predicate is TRUE.
// Rows are never copied: the output shares the input's columns (and row kinds) with a new selection
// vector. On an updating stream a filter may pass an update-after row without its update-before
// (or the reverse): to the filtered view that is an insert (or a delete), and sinks read it so.
#pragma once

#include "expr/expression_executor.h"
#include "ops/operator.h"

namespace sluice {

class FilterOperator final : public Operator {
 public:
  explicit FilterOperator(const BoundExpression& predicate);

  absl::Status Push(const Batch& batch) override;
  std::string Describe() const override;

 private:
  const BoundExpression& predicate_;
  ExpressionExecutor executor_;
  Batch output_batch_;
};

}  // namespace sluice
