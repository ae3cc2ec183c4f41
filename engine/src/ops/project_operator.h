// ProjectOperator: computes the output columns of a SELECT list. Column references are
// forwarded without copying; the input's selection and row kinds are kept.
#pragma once

#include <memory>
#include <vector>

#include "expr/expression_executor.h"
#include "ops/operator.h"
#include "types/schema.h"

namespace sluice {

class ProjectOperator final : public Operator {
 public:
  ProjectOperator(const std::vector<BoundExpressionPtr>& projections, const Schema& schema);

  absl::Status Push(const Batch& batch) override;
  std::string Describe() const override;

 private:
  const std::vector<BoundExpressionPtr>& projections_;
  const Schema& schema_;
  std::vector<std::unique_ptr<ExpressionExecutor>> executors_;
  Batch output_batch_;
};

}  // namespace sluice
