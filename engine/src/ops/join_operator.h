// JoinOperator: an equality join of two streams (plan/logical_plan.h, JoinDefinition), with an
// optional time bound (an interval or window join), a residual condition, and INNER, LEFT,
// RIGHT or FULL outer semantics.
//
// Inputs. The operator is the first operator of its statement's chain: Push(), OnWatermark()
// and Finish() are its left input, and second_input() is a small operator that takes the
// right input's calls. Each input's watermark is kept apart; the output's is the lower of the
// two (held back by the time bound, below), forwarded when it rises. Output rows are the left
// input's columns, then the right's.
//
// State. Each input's rows live in a column store of their own (values as 64-bit words, strings
// interned with reference counts), chained per join key through slot links; one KeyTable maps
// a join key to a group that both inputs' chains hang off. No allocation per row once the store
// has grown. A row whose key holds a NULL never matches (SQL's `=`) and is not kept.
//
//   - Time-bounded: left_time - right_time must lie in [lower, upper]. A left row at time t is
//     freed once the right input's watermark reaches t - lower + right_lag (no right row that
//     can still arrive matches it), a right row at t once the left's reaches t + upper +
//     left_lag; an outer join emits an unmatched row padded with NULLs when it is freed, so the
//     output is append-only. A row at or behind its own input's watermark (less its lag) is
//     late: counted and dropped, since rows it should have met may be gone. The forwarded
//     watermark is held back so that no row emitted later is behind it.
//   - Regular (no time bound): rows are kept for the life of the job, or, under 'state.ttl',
//     until the other input's watermark is the TTL past the row's event time (freed without
//     output: a padded row was emitted when its row arrived). Inputs may be updating:
//     an update-before or delete row takes its row back (the stored row equal to it in every
//     column) and retracts the joined rows it made. An outer join emits an unmatched row
//     padded at once and deletes the padded row when the row's first match arrives (and
//     inserts it again when its last match is retracted). The output carries inserts and
//     deletes.
//
// Not thread-safe: one instance per task.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "expr/expression_executor.h"
#include "ops/stateful_operator.h"
#include "plan/logical_plan.h"
#include "state/key_table.h"

namespace sluice {

class JoinOperator final : public StatefulOperator {
 public:
  // `left` and `right`: the inputs' schemas; the output is their columns in that order.
  JoinOperator(const JoinDefinition& definition, const Schema& left, const Schema& right);
  ~JoinOperator() override;

  absl::Status Push(const Batch& batch) override { return PushInput(kLeft, batch); }
  absl::Status Finish() override { return FinishInput(kLeft); }
  absl::Status OnWatermark(int64_t watermark) override { return InputWatermark(kLeft, watermark); }
  Operator* second_input() override;
  bool IsDone() const override { return finished_[kLeft] && finished_[kRight]; }

  absl::Status Snapshot(StateWriter& writer) const override;
  absl::Status Restore(StateReader& reader) override;
  StateUsage state_usage() const override;
  std::string Describe() const override;

  // Rows held now, of both inputs (for state bytes per retained row).
  size_t retained_rows() const;

 protected:
  absl::Status AdvanceEventTime(int64_t watermark) override { return absl::OkStatus(); }
  size_t key_string_bytes() const override { return keys_.KeyStringBytes(); }

 private:
  static constexpr int kLeft = 0;
  static constexpr int kRight = 1;
  class RightInput;
  class RowStore;
  class OutputBuilder;

  absl::Status PushInput(int side, const Batch& batch);
  absl::Status InputWatermark(int side, int64_t watermark);
  absl::Status FinishInput(int side);

  // Joins rows `rows` of `batch` (inserts, from input `side`) and keeps them.
  absl::Status JoinInserts(int side, const Batch& batch, const uint32_t* rows, size_t count);
  // Takes back row `row` of `batch` (an update-before or delete, from input `side`).
  absl::Status JoinRetraction(int side, const Batch& batch, uint32_t row);
  // The pairs collected in `output_`: keeps those the residual accepts, counts their matches
  // (adding `delta` to the stored rows' counts and to probe_matches_), emits them, and queues
  // the stored rows whose padded row a match changes.
  absl::Status FlushPairs(int side, int delta, const Batch& batch);
  // Removes stored row `slot` of input `side` from its group (the group too, once empty).
  void Unlink(int side, uint32_t slot);
  // Erases the groups of emptied_groups_ that hold no row of either input.
  void EraseEmptyGroups();
  // Emits the padded rows of stored rows `slots` of input `side` with row kind `kind`.
  absl::Status EmitStoredPadded(int side, const std::vector<uint32_t>& slots, RowKind kind);
  // Frees the rows of input `side` that the other input's watermark has passed.
  absl::Status Expire(int side, int64_t other_watermark);
  // Whether input `side`'s unmatched rows are kept in the output (padded with NULLs).
  bool Preserves(int side) const {
    return definition_.type == JoinType::kFull ||
           definition_.type == (side == kLeft ? JoinType::kLeft : JoinType::kRight) || (anti_ && side == kLeft);
  }
  // Emits `rows` of the joined layout: as they are, or a semi- or anti-join's left columns.
  absl::Status EmitRows(const Batch& rows);
  int64_t OutputWatermark() const;

  const JoinDefinition& definition_;
  const bool time_bounded_;
  const bool ttl_;   // a regular join under 'state.ttl': rows expire by their input's event time
  const bool semi_;  // IN / EXISTS: the left rows that have a match
  const bool anti_;  // NOT EXISTS: the left rows that have none (as a left join's padded rows)
  int64_t hold_back_ = 0;  // the output watermark's distance below the inputs'
  size_t column_offset_[2] = {0, 0};  // where each input's columns start in the output
  std::vector<std::unique_ptr<ExpressionExecutor>> key_executors_[2];
  std::unique_ptr<ExpressionExecutor> time_executors_[2];
  std::unique_ptr<ExpressionExecutor> residual_;
  KeyTable keys_;
  std::unique_ptr<RowStore> rows_[2];
  std::vector<uint32_t> heads_[2];  // per group: first stored row slot of each input
  std::unique_ptr<OutputBuilder> output_;
  std::unique_ptr<RightInput> right_input_;

  int64_t watermark_[2] = {INT64_MIN, INT64_MIN};
  int64_t forwarded_ = INT64_MIN;
  bool finished_[2] = {false, false};

  // Scratch, reused batch after batch.
  std::vector<uint32_t> groups_;          // per physical row of the batch
  std::vector<uint32_t> probe_matches_;   // per physical row: matches found
  std::vector<uint8_t> probe_usable_;     // per physical row: key not NULL, not late
  std::vector<uint32_t> one_row_;
  std::vector<uint32_t> changed_slots_;   // stored rows whose padded row appears or goes
  std::vector<uint32_t> emitting_slots_;  // changed_slots_ taken for emitting (capacity kept)
  std::vector<uint32_t> expired_slots_;
  std::vector<uint32_t> padded_slots_;    // Expire: expired rows padded now
  // PushInput's per-batch scratch, kept so that a batch allocates nothing once they have grown.
  std::vector<std::shared_ptr<Column>> key_columns_;
  std::vector<const Column*> key_pointers_;
  std::vector<uint32_t> created_groups_;
  std::vector<uint32_t> selection_;
  std::vector<uint32_t> pair_selection_;
  std::vector<uint32_t> emptied_groups_;
  Batch projected_;
  std::shared_ptr<Column> current_times_;  // the batch being joined: its rows' times
  uint64_t unknown_retractions_ = 0;
};

}  // namespace sluice
