// UnionOperator: UNION ALL of two streams with the same column types. Push(), OnWatermark() and
// Finish() are its first input, second_input() takes the second's; every batch of either is
// forwarded as it is (row kinds included). The forwarded watermark is the lower of the two
// inputs', when it rises; the output finishes when both inputs have. Stateless apart from the
// two watermarks, which a snapshot does not need: they are received again after a restore.
#pragma once

#include <algorithm>
#include <memory>
#include <string>

#include "ops/operator.h"

namespace sluice {

class UnionOperator final : public Operator {
 public:
  UnionOperator() : second_(std::make_unique<SecondInput>(*this)) {}

  absl::Status Push(const Batch& batch) override { return Emit(batch); }
  absl::Status OnWatermark(int64_t watermark) override { return InputWatermark(0, watermark); }
  absl::Status Finish() override { return InputFinished(0); }
  Operator* second_input() override { return second_.get(); }
  bool IsDone() const override { return (finished_[0] && finished_[1]) || Operator::IsDone(); }
  std::string Describe() const override { return "Union ALL"; }

 private:
  class SecondInput final : public Operator {
   public:
    explicit SecondInput(UnionOperator& owner) : owner_(owner) {}
    absl::Status Push(const Batch& batch) override { return owner_.Emit(batch); }
    absl::Status OnWatermark(int64_t watermark) override { return owner_.InputWatermark(1, watermark); }
    absl::Status Finish() override { return owner_.InputFinished(1); }
    bool IsDone() const override { return owner_.IsDone(); }
    std::string Describe() const override { return "second input of Union ALL"; }

   private:
    UnionOperator& owner_;
  };

  absl::Status InputWatermark(int input, int64_t watermark) {
    watermarks_[input] = std::max(watermarks_[input], watermark);
    const int64_t lower = std::min(watermarks_[0], watermarks_[1]);
    if (lower <= forwarded_) return absl::OkStatus();
    forwarded_ = lower;
    return Operator::OnWatermark(lower);
  }
  absl::Status InputFinished(int input) {
    if (finished_[input]) return absl::OkStatus();
    finished_[input] = true;
    return finished_[0] && finished_[1] ? Operator::Finish() : absl::OkStatus();
  }

  std::unique_ptr<SecondInput> second_;
  int64_t watermarks_[2] = {INT64_MIN, INT64_MIN};
  int64_t forwarded_ = INT64_MIN;
  bool finished_[2] = {false, false};
};

}  // namespace sluice
