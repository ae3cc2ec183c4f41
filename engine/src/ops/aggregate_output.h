// AggregateOutput: builds the output batches of a grouped aggregation (hash or session): the
// key columns, one column per aggregate (from its Accumulator), then _window_start and
// _window_end. Output columns come from pools, so the steady state does not allocate.
#pragma once

#include <algorithm>
#include <memory>
#include <vector>

#include "batch/batch.h"
#include "ops/accumulator.h"
#include "types/schema.h"

namespace sluice {

class AggregateOutput {
 public:
  explicit AggregateOutput(const Schema& schema) {
    for (const auto& field : schema.fields()) pools_.emplace_back(field.type);
  }

  // Emits `groups` in chunks of at most kChunk rows. `prepare(chunk, n)` is called first for
  // each chunk (to prefetch what the rows will read); `write_row(group, row, batch)` writes the
  // key columns [0, key_count) and the two window columns of one output row; the accumulators
  // fill the aggregate columns. `emit(batch)` passes each chunk downstream.
  template <typename Prepare, typename WriteRow, typename EmitBatch>
  absl::Status Emit(const std::vector<uint32_t>& groups, size_t key_count,
                    const std::vector<std::unique_ptr<Accumulator>>& accumulators, Prepare&& prepare,
                    WriteRow&& write_row, EmitBatch&& emit) {
    for (size_t offset = 0; offset < groups.size(); offset += kChunk) {
      const size_t n = std::min(kChunk, groups.size() - offset);
      const uint32_t* chunk = groups.data() + offset;
      prepare(chunk, n);
      batch_.Reset(pools_.size(), n);
      for (size_t c = 0; c < pools_.size(); ++c) batch_.SetColumn(c, pools_[c].Acquire(n));
      for (size_t i = 0; i < n; ++i) write_row(chunk[i], i, batch_);
      for (size_t a = 0; a < accumulators.size(); ++a) {
        accumulators[a]->Finalize(chunk, n, batch_.mutable_column(key_count + a));
      }
      absl::Status status = emit(batch_);
      batch_.Release();
      SLUICE_RETURN_IF_ERROR(status);
    }
    return absl::OkStatus();
  }

 private:
  static constexpr size_t kChunk = 1024;
  std::vector<ColumnPool> pools_;
  Batch batch_;
};

}  // namespace sluice
