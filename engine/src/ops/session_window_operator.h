// SessionWindowOperator: GROUP BY with WINDOW SESSION (time_column, gap).
//
// Per key, a session is a maximal run of events whose event times are at most `gap` apart;
// its window is [first event, last event + gap). As in Flink, windows that touch merge: two
// events exactly `gap` apart share a session (the second event's window [t, t + gap) starts
// where the first's ends). An event that falls between two sessions of its key merges them (accumulators are
// merged, see Accumulator::Merge). Sessions fire (EMIT FINAL) when the watermark passes their end, and are
// freed after the allowed lateness; EMIT CHANGES emits the updated session row after each batch. The
// watermark advances per record (StatefulOperator), so results do not depend on batch boundaries. An
// event is late when its own window [t, t + gap) closed before it arrived: counted and dropped.
//
// Output columns: the keys, the aggregates, _window_start, _window_end.
//
// Retractions (an updating session aggregate: EMIT CHANGES, or EMIT FINAL with allowed
// lateness; see plan/changelog_mode.h). A session's row is identified by its keys and its
// start. Output rows carry row kinds: a session emitted for the first time is an insert; a
// later row of a session with the same start is its update-after, preceded by its
// update-before (the row last emitted) when emit_update_before; a session whose start moved
// (an earlier event, or a merge with an earlier session) is a delete of the row last emitted
// and an insert of the new one; a session merged into another is deleted. Deletes go first.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "expr/expression_executor.h"
#include "ops/accumulator.h"
#include "ops/aggregate_output.h"
#include "ops/stateful_operator.h"
#include "plan/logical_plan.h"
#include "state/key_table.h"

namespace sluice {

class SessionWindowOperator final : public StatefulOperator {
 public:
  SessionWindowOperator(const AggregateDefinition& definition, const Schema& output_schema);

  absl::Status Push(const Batch& batch) override;
  absl::Status Snapshot(StateWriter& writer) const override;
  absl::Status Restore(StateReader& reader) override;
  std::string Describe() const override;

  // Bytes: keys, accumulator rows and per-group arrays by capacity; a key's session list
  // counts one entry per live session.
  StateUsage state_usage() const override;
  bool ObserveNewKeys(NewKeyObserver* observer) override {
    key_observer_ = observer;
    return true;
  }

 private:
  struct Session {
    int64_t start;
    int64_t end;  // exclusive: last event + gap
    uint32_t group;
  };

  // Fires the sessions the watermark closed.
  absl::Status AdvanceEventTime(int64_t watermark) override;
  uint32_t NewGroup(uint32_t key, int64_t start, int64_t end);
  // The group of an event of `key` at `time`, creating, extending or merging sessions.
  uint32_t Assign(uint32_t key, int64_t time);
  uint32_t Resolve(uint32_t group) const;
  // Applies the rows collected since the last flush, then frees merged-away groups.
  absl::Status Flush();
  absl::Status Fire(int64_t watermark);
  absl::Status EmitGroups(const std::vector<uint32_t>& groups);
  void MarkDirty(uint32_t group);
  void FreeGroup(uint32_t group);
  // Retractions: keeps the row last emitted of `group` before it changes (once per emission).
  void CaptureBefore(uint32_t group);
  absl::Status EmitChanges(const std::vector<uint32_t>& groups);
  void WriteKeys(uint32_t group, size_t row, Batch& batch) const;

  const AggregateDefinition& definition_;
  const Schema& output_schema_;
  const int64_t gap_;
  std::vector<std::unique_ptr<ExpressionExecutor>> key_executors_;
  std::vector<std::unique_ptr<ExpressionExecutor>> argument_executors_;
  std::unique_ptr<ExpressionExecutor> time_executor_;
  StateRows state_rows_;  // the accumulators' fixed-width per-group fields
  std::vector<std::unique_ptr<Accumulator>> accumulators_;
  KeyTable keys_;
  std::vector<std::vector<Session>> sessions_;  // per key id, sorted by start

  // Per group.
  std::vector<uint32_t> group_key_;
  std::vector<int64_t> group_start_;
  std::vector<int64_t> group_end_;
  std::vector<uint8_t> group_live_;
  std::vector<uint8_t> fired_;
  std::vector<uint8_t> dirty_;
  std::vector<uint32_t> redirect_;  // merged-away group -> group it went into (until Flush)
  std::vector<uint32_t> free_groups_;
  std::vector<uint32_t> pending_free_;
  uint32_t group_limit_ = 0;
  std::multimap<int64_t, uint32_t> by_end_;  // end -> group; stale entries skipped

  // Per batch.
  std::vector<std::shared_ptr<Column>> key_columns_;
  std::vector<const Column*> key_pointers_;
  std::vector<std::shared_ptr<Column>> argument_columns_;
  std::vector<uint32_t> key_ids_;
  std::vector<uint32_t> row_groups_;
  std::vector<uint32_t> segment_;
  std::vector<uint32_t> dirty_list_;

  NewKeyObserver* key_observer_ = nullptr;
  std::vector<uint32_t> created_keys_;  // Push scratch: keys new to keys_

  AggregateOutput output_;

  // Retractions (see the file comment); per group: emitted since created, the start it was
  // emitted with, its before image (AggregateOutput::kNoBefore: none).
  const bool retracting_;
  std::vector<uint8_t> emitted_;
  std::vector<int64_t> emitted_start_;
  std::vector<uint32_t> before_;
  std::vector<uint32_t> retired_;  // before images of emitted sessions merged away
  size_t captured_ = 0;            // before images not yet emitted
  std::vector<uint32_t> capture_one_;
  std::vector<AggregateOutput::Change> changes_;
};

}  // namespace sluice
