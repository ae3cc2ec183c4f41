// LateRecordSink: where a windowed operator hands the rows that arrived after their window
// closed, when 'late.data.strategy' = 'dead_letter' (the job runner writes them to the
// source's dead-letter output with the reason "late").
#pragma once

#include <cstdint>

#include "batch/batch.h"
#include "common/status.h"

namespace sluice {

class LateRecordSink {
 public:
  virtual ~LateRecordSink() = default;
  // Row `row` (a physical index) of `batch` is late. Called during the operator's Push().
  virtual absl::Status OnLateRecord(const Batch& batch, uint32_t row) = 0;
};

}  // namespace sluice
