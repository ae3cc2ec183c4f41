// StatefulOperator: the base of the operators that keep state per key across batches
// (AggregateOperator, SessionWindowOperator, RowsWindowOperator). What they share lives here,
// once:
//   - Event time. The input's watermark (time/event_time.h, InputWatermark): the one received
//     between batches, advanced per record by the bounded-out-of-orderness rule unless the input
//     interleaves several upstream partitions (SetInputInterleaved), or carried per row by a
//     keyed exchange (UseCarriedWatermarks). OnWatermark() takes a received watermark, lets the
//     operator fire and evict what it completes (AdvanceEventTime), charges the state budget
//     and forwards the watermark; an operator's Push() advances the per-record watermark row by
//     row through event_time().
//   - Late rows. RejectLate() counts a row and hands it to the LateRecordSink when late rows
//     are dead-lettered.
//   - Metrics. metrics(): late rows, evictions, keys, bytes and key string bytes, summed by the
//     runtime over every instance.
//   - Snapshots. SnapshotEventTime()/RestoreEventTime() write and read the common part (the
//     watermarks and the late-row count) where each operator's format puts it.
// The runtime reaches these through Operator::stateful(), never by an operator's concrete
// type. Not thread-safe (one instance per worker); metrics() is read by the runtime while it
// runs, like every counter.
#pragma once

#include <cstdint>
#include <optional>

#include "ops/late_record_sink.h"
#include "ops/operator.h"
#include "time/event_time.h"

namespace sluice {

struct StatefulMetrics {
  uint64_t late_dropped = 0;  // rows behind a closed window or out of a ROWS window's ORDER BY
  uint64_t evicted = 0;       // keys and ROWS partitions freed by 'state.ttl' / EXPIRE AFTER
  uint64_t keys = 0;          // keys holding state now (groups x open windows, sessions' keys, partitions)
  uint64_t bytes = 0;         // state bytes, by capacity (state_usage())
  uint64_t key_string_bytes = 0;  // of bytes: the keys' interned string bytes

  StatefulMetrics& operator+=(const StatefulMetrics& other);
};

class StatefulOperator : public Operator {
 public:
  StatefulOperator* stateful() override { return this; }
  const StatefulOperator* stateful() const override { return this; }

  // The input interleaves rows of several upstream partitions (a multi-partition source, or
  // rows gathered from several workers): rows are not in one order, so only the watermarks
  // received between batches judge lateness and fire windows, not a per-record one. Set
  // before the first Push().
  void SetInputInterleaved(bool interleaved) { event_time_.SetInterleaved(interleaved); }
  // Input batches carry, in column `column` (BIGINT), the per-record watermark of the input as
  // a whole just before each row: the rows reaching this instance are a subset of one ordered
  // input (an exchange by key), and they are judged as if it saw all of it.
  void UseCarriedWatermarks(size_t column) { carried_watermark_column_ = column; }
  // Input batches carry, in BIGINT columns from `first_column` on, each row's grouping key as
  // KeyTable::EncodeCarriedKeys encoded it (see ChannelSender::CarryKeys). Returns false when
  // the operator cannot take carried keys (only a GROUP BY can; see AggregateOperator).
  virtual bool UseCarriedKeys(size_t first_column) { return false; }
  // Late rows go to `sink` (not owned; null: counted and dropped) when the operator's plan
  // dead-letters them ('late.data.strategy' = 'dead_letter').
  void SetLateRecordSink(LateRecordSink* sink) { late_sink_ = sink; }

  StatefulMetrics metrics() const;

  // A received watermark: fires and evicts through AdvanceEventTime() when it moves the
  // input's watermark, charges the state budget, forwards it. A two-input operator overrides
  // it to combine its inputs' watermarks first, then calls it with the combination.
  absl::Status OnWatermark(int64_t watermark) override;

 protected:
  // `input_out_of_orderness_millis`: the bound of the input's per-record watermark.
  // `dead_letter_late_rows`: late rows go to the late sink, if one is set.
  StatefulOperator(int64_t input_out_of_orderness_millis, bool dead_letter_late_rows)
      : event_time_(input_out_of_orderness_millis), dead_letter_late_rows_(dead_letter_late_rows) {}

  // A received watermark advanced the input's to `watermark` (event_time().current()): emit
  // what became complete, free what expired.
  virtual absl::Status AdvanceEventTime(int64_t watermark) = 0;
  // Of state_usage().bytes, the keys' interned string bytes (0: none counted apart).
  virtual size_t key_string_bytes() const { return 0; }

  InputWatermark& event_time() { return event_time_; }
  const InputWatermark& event_time() const { return event_time_; }
  bool carries_watermarks() const { return carried_watermark_column_.has_value(); }
  // The carried watermarks of `batch` (see UseCarriedWatermarks), or null.
  const int64_t* CarriedWatermarks(const Batch& batch) const {
    return carried_watermark_column_ ? batch.column(*carried_watermark_column_).data<int64_t>() : nullptr;
  }

  // Row `row` of `batch` is late: counted, and handed to the late sink when late rows are
  // dead-lettered.
  absl::Status RejectLate(const Batch& batch, uint32_t row) {
    ++late_dropped_;
    if (late_sink_ != nullptr && dead_letter_late_rows_) return late_sink_->OnLateRecord(batch, row);
    return absl::OkStatus();
  }
  uint64_t late_dropped() const { return late_dropped_; }
  // Keys (or partitions) freed by a time to live.
  void CountEvicted(uint64_t keys) { evicted_ += keys; }
  uint64_t evicted() const { return evicted_; }
  void RestoreEvicted(uint64_t evicted) { evicted_ = evicted; }

  // The common part of a snapshot: the received and per-record watermarks and the late-row
  // count (the eviction count is the operator's to place: not every format has one).
  void SnapshotEventTime(StateWriter& writer) const;
  absl::Status RestoreEventTime(StateReader& reader);
  // Rescaling (RestoreRescaled): takes the event time of `part`, an instance restored from one
  // part, into this one's: the lower watermarks (`first`: this one holds none yet, take the
  // part's); with `counters`, adds the part's late-row and eviction counts.
  void AbsorbEventTime(const StatefulOperator& part, bool first, bool counters);

 private:
  InputWatermark event_time_;
  std::optional<size_t> carried_watermark_column_;
  const bool dead_letter_late_rows_;
  LateRecordSink* late_sink_ = nullptr;
  uint64_t late_dropped_ = 0;
  uint64_t evicted_ = 0;
};

}  // namespace sluice
