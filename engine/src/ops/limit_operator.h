// LimitOperator: passes the first `limit` rows of the stream and drops the rest; reports
// IsDone() once the limit is reached so bounded sources can stop early.
#pragma once

#include "ops/operator.h"

namespace sluice {

class LimitOperator final : public Operator {
 public:
  explicit LimitOperator(int64_t limit) : limit_(limit) {}

  absl::Status Push(const Batch& batch) override;
  bool IsDone() const override { return emitted_ >= limit_ || Operator::IsDone(); }
  std::string Describe() const override;

 private:
  int64_t limit_;
  int64_t emitted_ = 0;
  Batch output_batch_;
};

}  // namespace sluice
