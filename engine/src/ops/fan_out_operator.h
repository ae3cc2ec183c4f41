// FanOutOperator: hands every batch to several consumers (a stream read by a sink and by later
// statements, or a source read by several statements). Done when every consumer is done.
#pragma once

#include <vector>

#include "ops/operator.h"

namespace sluice {

class FanOutOperator final : public Operator {
 public:
  void AddConsumer(Operator* consumer) { consumers_.push_back(consumer); }
  const std::vector<Operator*>* consumers() const override { return &consumers_; }

  absl::Status Push(const Batch& batch) override {
    for (Operator* consumer : consumers_) {
      if (!consumer->IsDone()) SLUICE_RETURN_IF_ERROR(consumer->Push(batch));
    }
    return absl::OkStatus();
  }
  absl::Status Finish() override {
    for (Operator* consumer : consumers_) SLUICE_RETURN_IF_ERROR(consumer->Finish());
    return absl::OkStatus();
  }
  absl::Status OnWatermark(int64_t watermark) override {
    for (Operator* consumer : consumers_) SLUICE_RETURN_IF_ERROR(consumer->OnWatermark(watermark));
    return absl::OkStatus();
  }
  bool IsDone() const override {
    for (Operator* consumer : consumers_) {
      if (!consumer->IsDone()) return false;
    }
    return true;
  }
  std::string Describe() const override { return "FanOut"; }

 private:
  std::vector<Operator*> consumers_;
};

}  // namespace sluice
