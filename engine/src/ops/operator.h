// Operator: one step of a push-based pipeline.
//
// An upstream producer calls Push() with each batch and Finish() once at the end of a bounded
// input; the operator emits its results to the operator set with SetOutput(). Operators never
// block. A batch passed to Push() is only valid during the call: an operator that needs data
// later copies it. Once Push() returns, the operator has released every reference to the
// batch's columns, so producers can reuse them (see batch/batch.h).
//
// Operators are not thread-safe; each instance belongs to one worker.
#pragma once

#include <cstdint>
#include <string>

#include "batch/batch.h"
#include "common/status.h"

namespace sluice {

class Operator {
 public:
  virtual ~Operator() = default;

  virtual absl::Status Push(const Batch& batch) = 0;
  // End of input: flush any buffered output, then finish the output operator.
  virtual absl::Status Finish() { return output_ != nullptr ? output_->Finish() : absl::OkStatus(); }
  // True once the operator will accept no more input (e.g. LIMIT reached), so that a source
  // feeding only finished pipelines can stop early.
  virtual bool IsDone() const { return output_ != nullptr && output_->IsDone(); }

  // One line for EXPLAIN.
  virtual std::string Describe() const = 0;

  void SetOutput(Operator* output) { output_ = output; }
  Operator* output() const { return output_; }

 protected:
  absl::Status Emit(const Batch& batch) {
    return output_ != nullptr ? output_->Push(batch) : absl::OkStatus();
  }

  Operator* output_ = nullptr;
};

}  // namespace sluice
