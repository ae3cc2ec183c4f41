#include "ops/filter_operator.h"

#include "common/strings.h"

namespace sluice {

FilterOperator::FilterOperator(const BoundExpression& predicate)
    : predicate_(predicate), executor_(predicate) {}

absl::Status FilterOperator::Push(const Batch& batch) {
  if (batch.active_rows() == 0) return absl::OkStatus();
  output_batch_.ShareColumns(batch);
  const size_t selected = executor_.Select(batch, output_batch_.MutableSelection());
  output_batch_.SetSelectionCount(selected);
  absl::Status status = selected > 0 ? Emit(output_batch_) : absl::OkStatus();
  output_batch_.Release();
  return status;
}

std::string FilterOperator::Describe() const {
  return StrCat("Filter ", predicate_.ToString());
}

}  // namespace sluice
