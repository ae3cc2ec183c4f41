#include "ops/project_operator.h"

#include "common/strings.h"

namespace sluice {

ProjectOperator::ProjectOperator(const std::vector<BoundExpressionPtr>& projections, const Schema& schema)
    : projections_(projections), schema_(schema) {
  for (const auto& projection : projections)
    executors_.push_back(std::make_unique<ExpressionExecutor>(*projection));
}

absl::Status ProjectOperator::Push(const Batch& batch) {
  if (batch.active_rows() == 0) return absl::OkStatus();
  output_batch_.Reset(executors_.size(), batch.num_rows());
  for (size_t i = 0; i < executors_.size(); ++i) output_batch_.SetColumn(i, executors_[i]->Evaluate(batch));
  if (batch.has_row_kinds()) output_batch_.SetRowKinds(batch.shared_row_kinds());
  if (batch.has_selection()) {
    const size_t active = batch.active_rows();
    std::copy(batch.selection(), batch.selection() + active, output_batch_.MutableSelection());
    output_batch_.SetSelectionCount(active);
  }
  absl::Status status = Emit(output_batch_);
  output_batch_.Release();
  return status;
}

std::string ProjectOperator::Describe() const {
  std::vector<std::string> items;
  for (size_t i = 0; i < projections_.size(); ++i) {
    items.push_back(StrCat(projections_[i]->ToString(), " AS ", schema_.field(i).name));
  }
  return StrCat("Project ", StrJoin(items, ", "));
}

}  // namespace sluice
