#include "ops/limit_operator.h"

#include "common/strings.h"

namespace sluice {

absl::Status LimitOperator::Push(const Batch& batch) {
  const int64_t remaining = limit_ - emitted_;
  if (remaining <= 0) return absl::OkStatus();
  const int64_t active = static_cast<int64_t>(batch.active_rows());
  if (active <= remaining) {
    emitted_ += active;
    return Emit(batch);
  }
  output_batch_.ShareColumns(batch);
  uint32_t* selection = output_batch_.MutableSelection();
  for (int64_t i = 0; i < remaining; ++i) selection[i] = batch.ActiveRow(static_cast<size_t>(i));
  output_batch_.SetSelectionCount(static_cast<size_t>(remaining));
  emitted_ = limit_;
  absl::Status status = Emit(output_batch_);
  output_batch_.Release();
  return status;
}

std::string LimitOperator::Describe() const {
  return StrCat("Limit ", limit_);
}

}  // namespace sluice
