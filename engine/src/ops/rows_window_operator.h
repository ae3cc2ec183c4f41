// RowsWindowOperator: window functions over the last N rows of each partition, the
// `OVER (ROWS WINDOW BUFFER n ROWS PARTITION BY ... ORDER BY ... [ROWS BETWEEN k PRECEDING AND
// CURRENT ROW] [EXPIRE AFTER d INACTIVITY])` clause, e.g. Scenario 1:
//   AVG(price) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY symbol ORDER BY ts)
//
// Order: rows are processed in arrival order; the operator does not sort. An ORDER BY is one
// ascending BIGINT or TIMESTAMP column (`order_column`; the binder refuses every other order
// at its position), and the operator holds the input to it: a row whose ORDER BY value is
// below the previous accepted row's of its partition cannot be placed, so it is out of order
// and handled as late data (StatefulOperator::RejectLate: counted in metrics().late_dropped,
// and handed to the LateRecordSink with 'late.data.strategy' = 'dead_letter'). Equal values keep
// arrival order; a NULL ORDER BY value sorts first (Flink's ASC default), so it is out of
// order after any non-NULL value. An expired partition starts over and accepts any value.
//
// Semantics, per input row: the row is appended to its partition's buffer (the oldest row is
// dropped beyond buffer_rows), then every function is computed over the frame, the last
// min(frame_rows, rows in the buffer) rows of the partition, the current row included:
//   AVG/SUM/COUNT(x)  ignore NULL arguments; AVG/SUM of only NULLs is NULL, COUNT is 0.
//                     SUM of BIGINT wraps (two's complement) like the engine's integer +.
//   COUNT(*)          rows in the frame.
//   MIN/MAX(x)        ignore NULLs; amortized O(1) per row (monotonic deques, no rescan).
//   FIRST/LAST_VALUE  the first/last row of the frame (a NULL value gives NULL).
//   LAG(x, k)         the row k rows before the current one in the buffer, NULL if none.
//   ROW_NUMBER()      rows seen in the partition, 1-based, not capped by the buffer.
//   LEAD(x, k)        the row k rows after the current one: the row's output is held back
//                     until k more rows of its partition arrive; rows still held when the
//                     partition expires, at the final watermark (kMaxWatermark) or at
//                     Finish() are emitted with LEAD = NULL.
// A frame longer than the buffer is cut to the buffer (the frame cannot reach rows that were
// dropped).
//
// Output: the input's columns followed by one column per function.
//   - Without LEAD, one output row per input row in the same order and with the same
//     selection: input columns are shared (not copied); only the function columns are new.
//   - With LEAD, rows come out in the order they become complete, in batches with their own
//     columns (held rows' input values are copied, strings into the output column's heap).
//     Rows flushed together (expiry, final watermark, Finish) come out in arrival order.
//
// Expiry (EXPIRE AFTER d INACTIVITY, or 'state.ttl' = d): the rule of 'state.ttl' for GROUP BY
// keys. A partition expires when the watermark reaches its latest event time plus d (at that
// instant, not a millisecond later); a watermark that does drops it (its held LEAD rows are
// emitted first), so a later row of that key starts fresh (ROW_NUMBER 1, empty buffer). The
// watermark advances per record (StatefulOperator, from the input's out-of-orderness bound),
// and a row finds its partition expired by the watermark just before it, not by its own
// event time: so neither where batches end nor how often watermarks arrive changes the
// output, and an out-of-order row does not restart a partition. Watermarks are forwarded
// unchanged after expiry; rows held for LEAD may therefore come out behind a watermark that
// already passed their event time (holding the watermark instead would stall everything
// downstream while any partition is idle without expiry).
//
// State layout (all flat arrays indexed by the dense partition id from KeyTable, so a row
// costs one key lookup and array accesses, and the steady state does not allocate):
//   - per partition: rows seen, ring head, latest event time, held-row count, links of a list
//     ordered by latest event time (expiry walks it from the oldest end);
//   - per distinct argument column: a ring of buffer_rows values and validity bytes per
//     partition (partition id * buffer_rows + position); string rings hold one std::string
//     per slot whose capacity is reused (no allocation once slots have grown to the data's
//     lengths; none at all for strings up to 15 bytes), so memory is bounded by
//     partitions * buffer_rows * the longest string seen;
//   - running sums: the count, a Neumaier-compensated double sum (subtract-on-evict, and
//     re-added from the ring after every frame_rows evictions so error cannot build up) and
//     an exact 128-bit integer sum;
//   - for MIN/MAX, a monotonic deque of ring positions (with the value bits for non-strings)
//     of frame_rows entries per partition;
//   - with LEAD, max(offset)+1 held-row slots per partition holding a copy of the input row
//     and its computed results.
// Memory is O(partitions * (buffer_rows + frame_rows * min/max functions + max LEAD offset)).
//
// Snapshot/Restore round-trip partitions, rings, sums, counters and held rows; the MIN/MAX
// deques are rebuilt from the rings (they are a function of the frame's values).
//
// Not thread-safe (one instance per worker, like every operator).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "batch/batch.h"
#include "ops/stateful_operator.h"
#include "plan/rows_window_spec.h"
#include "state/key_table.h"
#include "types/logical_type.h"

namespace sluice {

class RowsWindowOperator final : public StatefulOperator {
 public:
  // REQUIRES: ValidateRowsWindowSpec(spec, input_types).ok() (plan/rows_window_spec.h;
  // checked; the binder reports errors to users).
  RowsWindowOperator(RowsWindowSpec spec, std::vector<TypeId> input_types);

  // Output: the input's columns (shared, not copied) followed by one column per function, one
  // output row per input row, same selection. With LEAD, see the header comment.
  absl::Status Push(const Batch& batch) override;
  // Flushes rows held back for LEAD (LEAD = NULL), then finishes the output.
  absl::Status Finish() override;
  absl::Status Snapshot(StateWriter& writer) const override;
  absl::Status Restore(StateReader& reader) override;
  std::string Describe() const override;

  // Partitions dropped by expiry (by a watermark or found expired by a row).
  uint64_t partitions_expired() const { return evicted(); }
  // Partitions currently holding state.
  size_t live_partitions() const { return table_.size(); }
  // Bytes: partitions, rings, sums, deques and held rows by capacity (a ring slot's string
  // counts its own size, not the bytes it holds beyond the inline capacity).
  StateUsage state_usage() const override;
  bool ObserveNewKeys(NewKeyObserver* observer) override {
    key_observer_ = observer;
    return true;
  }

 private:
  static constexpr uint32_t kNoPartition = 0xFFFFFFFF;

  // Expires the partitions the watermark reached (see the header comment), emitting their held
  // LEAD rows; at kMaxWatermark emits every held row.
  absl::Status AdvanceEventTime(int64_t watermark) override;

  struct PartitionState {
    uint64_t rows_seen = 0;  // rows since creation or the last expiry: ROW_NUMBER of the latest row
    int64_t last_event_time = INT64_MIN;
    int64_t last_order_value = INT64_MIN;  // ORDER BY value of the latest accepted row
    uint32_t head = 0;                     // ring position the next row goes to
    uint32_t held_head = 0;                // LEAD: slot of the oldest held row
    uint32_t held_count = 0;               // LEAD: the latest rows not yet emitted
    uint32_t older = kNoPartition;         // expiry list, ordered by last_event_time
    uint32_t newer = kNoPartition;
    bool live = false;
    bool listed = false;
  };

  // Sums over the non-NULL values of one argument in the frame.
  struct RunningSum {
    int64_t count = 0;
    uint32_t rows_since_recompute = 0;
    double sum = 0;  // DOUBLE: Neumaier sum plus compensation
    double compensation = 0;
    __int128 integer_sum = 0;  // BIGINT: exact
  };

  // A monotonic deque per partition of ring positions whose values are candidates for the
  // frame's MIN (or MAX): front is the answer, values strictly improve toward the front.
  struct MonotonicDeques {
    bool enabled = false;
    std::vector<uint32_t> positions;  // partition * frame_rows + slot
    // Non-strings: each entry's value bits too, so comparisons read the deque sequentially
    // instead of visiting the ring.
    std::vector<uint64_t> values;
    std::vector<uint32_t> heads;
    std::vector<uint32_t> sizes;
  };

  // The values of one input column that functions read, per partition.
  struct ArgumentBuffer {
    int column = -1;
    TypeId type = TypeId::kNull;
    std::vector<uint64_t> words;       // non-strings: value bits, partition * buffer_rows + position
    std::vector<std::string> strings;  // strings: one reused std::string per ring slot
    std::vector<uint8_t> valid;
    bool has_sum = false;
    std::vector<RunningSum> sums;
    MonotonicDeques min;
    MonotonicDeques max;
    // The functions computed from this buffer, with their output arrays for the current
    // batch (raw pointers, so the per-row loop does not reload them after byte stores).
    struct Target {
      size_t function = 0;
      RowsWindowFunction::Kind kind = RowsWindowFunction::Kind::kAvg;
      uint64_t offset = 0;
      Column* column = nullptr;
      void* data = nullptr;
      uint8_t* validity = nullptr;
    };
    std::vector<Target> targets;
  };

  template <typename Traits>
  void ProcessArgument(ArgumentBuffer& buffer, const Batch& batch, size_t active);
  template <typename Traits>
  void RebuildDeques(ArgumentBuffer& buffer, uint32_t partition);

  void EnsurePartitionCapacity(size_t partitions);
  void InitPartition(uint32_t partition);
  void ListInsertByTime(uint32_t partition);
  void ListUnlink(uint32_t partition);
  // Returns the rows accepted (the first entries of row_physical_ ...); out-of-order rows go
  // to rejected_rows_.
  size_t ComputeRowPositions(const Batch& batch, size_t active);
  void AcquireResultColumns(size_t rows, bool null_strings_first);

  // LEAD mode.
  size_t HeldField(size_t slot, size_t field) const { return slot * held_fields_ + field; }
  size_t HeldSlot(uint32_t partition, uint32_t index) const {
    return static_cast<size_t>(partition) * held_slots_ + index;
  }
  void StoreHeldRow(const Batch& batch, size_t row, uint32_t partition);
  void BeginLeadOutput(size_t capacity);
  void AppendHeldRow(size_t slot);
  // Emits every held row of `partitions` (all when null) in arrival order; resets their queues.
  absl::Status FlushHeld(const std::vector<uint32_t>* partitions);
  absl::Status EmitLeadOutput();

  RowsWindowSpec spec_;
  std::vector<TypeId> input_types_;
  size_t buffer_rows_;
  size_t frame_rows_;
  bool has_lead_ = false;
  int64_t max_lead_offset_ = 0;
  KeyTable table_;
  std::vector<ArgumentBuffer> arguments_;
  std::vector<TypeId> output_types_;
  std::vector<ColumnPool> result_pools_;  // one per function
  std::vector<std::shared_ptr<Column>> result_columns_;

  size_t partition_capacity_ = 0;
  std::vector<PartitionState> partitions_;
  uint32_t oldest_ = kNoPartition;  // expiry list ends
  uint32_t newest_ = kNoPartition;
  NewKeyObserver* key_observer_ = nullptr;

  // Per-batch scratch, by physical row (group ids) or by active row index.
  std::vector<const Column*> key_columns_;
  std::vector<uint32_t> group_ids_;
  std::vector<uint32_t> created_;
  std::vector<uint32_t> row_physical_;
  std::vector<uint32_t> row_partition_;
  std::vector<uint32_t> row_position_;
  std::vector<uint64_t> row_number_;
  std::vector<uint32_t> rejected_rows_;  // physical rows out of ORDER BY order

  // Held LEAD rows: held_slots_ per partition, each with input columns + functions fields.
  size_t held_slots_ = 0;
  size_t held_fields_ = 0;
  size_t held_string_fields_ = 0;
  std::vector<int> string_field_index_;  // field -> index among string fields, or -1
  std::vector<uint64_t> held_words_;
  std::vector<uint8_t> held_valid_;
  std::vector<std::string> held_strings_;
  std::vector<uint64_t> held_arrival_;
  uint64_t arrival_sequence_ = 0;
  size_t held_total_ = 0;
  std::vector<ColumnPool> output_pools_;  // LEAD mode: one per output column
  std::vector<std::shared_ptr<Column>> output_columns_;
  size_t output_rows_ = 0;

  Batch output_batch_;
};

}  // namespace sluice
