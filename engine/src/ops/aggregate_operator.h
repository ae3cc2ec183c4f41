// AggregateOperator: GROUP BY with optional TUMBLING or SLIDING event-time windows and the
// EMIT CHANGES / EMIT FINAL modes.
//
// State: a KeyTable maps (group keys..., window start) to dense group ids; each aggregate's
// Accumulator keeps its fields in arrays indexed by group id. A batch is processed as: evaluate
// keys, arguments and window times (vectorized), find or insert every row's group, then one
// Update() loop per aggregate. No allocation per row in the steady state.
//
// Output rows have the columns of the aggregate's schema: keys, aggregates, _window_start,
// _window_end (NULL without a window).
//  - EMIT CHANGES: after each input batch, one row per group the batch touched (updates are
//    coalesced per batch), carrying the group's current values.
//  - EMIT FINAL with a window: a window's rows are emitted once, when the watermark passes its
//    end; with allowed lateness the state is kept that much longer and late rows re-emit the
//    corrected row at the next watermark; then the state is freed.
//  - EMIT FINAL without a window: every group at the end of a bounded input.
//  - Changelog output (definition.retract_input or emit_update_before; plan/changelog_mode.h):
//    rows carry row kinds. A group emitted for the first time is an insert; a change to an
//    emitted group is its update-after row, preceded by its update-before row (the row last
//    emitted) when emit_update_before. With retract_input the input's update-before and delete
//    rows are applied negatively (Accumulator::Retract); a group whose row count returns to 0
//    is deleted: a delete row carrying the row last emitted (if it was), and its state freed.
// Records whose window has already closed (end + allowed lateness at or before the watermark)
// are late: counted and dropped (StatefulOperator::RejectLate). The watermark advances per
// record (see Push and StatefulOperator), so results do not depend on batch boundaries.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/state_vector.h"
#include "expr/expression_executor.h"
#include "ops/accumulator.h"
#include "ops/aggregate_output.h"
#include "ops/stateful_operator.h"
#include "plan/logical_plan.h"
#include "state/key_table.h"

namespace sluice {

class AggregateOperator final : public StatefulOperator {
 public:
  AggregateOperator(const AggregateDefinition& definition, const Schema& output_schema);

  absl::Status Push(const Batch& batch) override;
  absl::Status Snapshot(StateWriter& writer) const override;
  absl::Status Restore(StateReader& reader) override;
  // Each part is restored into a twin instance whose groups of kept key groups are then copied
  // in (Absorb). Groups of closed windows waiting to be freed are left behind: no row reaches
  // them. The routing hash is the exchange's into this instance (carried keys or not).
  absl::Status RestoreRescaled(std::span<StateReader* const> parts, KeyGroupRange keep,
                               bool counters) override;
  std::string Describe() const override;
  StateUsage state_usage() const override { return {table_.size(), state_bytes()}; }
  bool ObserveNewKeys(NewKeyObserver* observer) override {
    key_observer_ = observer;
    return true;
  }

  // Input batches carry, in BIGINT columns from `first_column` on, each row's grouping key as
  // KeyTable::EncodeCarriedKeys encoded it (a word per key, the NULL mask, the hash; see
  // ChannelSender::CarryKeys): groups are looked up from those, and the key columns are read
  // only for rows with a longer string. REQUIRES: CarriesKeys(definition).
  bool UseCarriedKeys(size_t first_column) override {
    carried_keys_column_ = first_column;
    return true;
  }
  // Whether the AggregateOperator of `definition` (not a SESSION window's) can take carried
  // keys: it has a grouping key and finds groups by hashed key words (KeyTable::HashesKeyWords).
  static bool CarriesKeys(const AggregateDefinition& definition);
  size_t group_count() const { return table_.size(); }
  // Bytes of state (by capacity): the key table, every accumulator and the operator's own
  // per-group arrays and window lists.
  size_t state_bytes() const;
  // Of state_bytes(): the group keys' interned string bytes themselves (each distinct string
  // once, without length bytes or unused block space).
  size_t key_string_bytes() const override { return table_.KeyStringBytes(); }

 private:
  // Emits windows the watermark closed (FireWindows), evicts expired keys (EvictExpired), and
  // at the final watermark emits every group of an EMIT FINAL aggregate without a window.
  absl::Status AdvanceEventTime(int64_t watermark) override;
  // Emits the given groups as output rows, in chunks.
  absl::Status EmitGroups(const std::vector<uint32_t>& groups);
  // Changelog output: the same with row kinds (see the file comment).
  absl::Status EmitChanges(const std::vector<uint32_t>& groups);
  // Changelog output: keeps the row last emitted of each emitted group among the active rows
  // that has none kept yet, before the rows change it.
  void CaptureBefore(const uint32_t* selection, size_t count);
  // Writes the keys and window bounds of `group` into row `row` of `batch`.
  void WriteKeys(uint32_t group, size_t row, Batch& batch) const;
  void EnsureCapacity();
  // Empties the accumulators of the groups FindOrInsert just created (ids may be reused).
  void ResetCreated();
  // Erases `groups` from the key table and clears their per-group flags.
  void FreeGroups(std::span<const uint32_t> groups);
  // Frees up to `budget` groups of closed windows (closing_). Closing a window does not free
  // its groups at once: a hundred thousand key-table erasures in one call stall every record
  // behind them for milliseconds (the latency tail at each window end). Nor a fixed number per
  // call: a paced source's small batches would then compress the same work into a few thousand
  // rows. The budget is a few per input row (windows_per_row_). No row can reach a group of a
  // closed window (such rows are late), so freeing them later changes only when their ids are
  // reused.
  void FreeClosing(size_t budget);
  int64_t WindowStartOf(uint32_t group) const;
  // Reports created_ to the key observer; its first error fails the Push (observer_error_).
  void ObserveCreated();
  // Emits windows whose end the watermark passed (EMIT FINAL) and frees those past their
  // allowed lateness; re-emits fired windows that late rows corrected.
  absl::Status FireWindows(int64_t watermark);
  // State TTL: frees groups whose last event time is at least the TTL behind the watermark.
  absl::Status EvictExpired(int64_t watermark);
  // After Restore: DataLoss unless the restored lists describe state this operator could have
  // built (each group in use exactly when the key table holds it; see the definition).
  absl::Status CheckRestoredGroups() const;
  // Rescaling: copies the groups of `part` whose key group `keep` holds into this instance.
  absl::Status Absorb(const AggregateOperator& part, KeyGroupRange keep);

  const AggregateDefinition& definition_;
  std::optional<size_t> carried_keys_column_;
  // The batch's carried keys (UseCarriedKeys), set for the duration of a Push.
  KeyTable::CarriedKeys carried_keys_;
  std::vector<const uint64_t*> carried_words_;
  // table_.FindOrInsert, or FindOrInsertCarried when the batch carries its keys.
  void FindGroups(const uint32_t* selection, size_t count);
  const Schema& output_schema_;
  const bool windowed_;
  // Windowed: the distance between window starts (the size for tumbling windows) and the
  // number of windows each row belongs to (size / advance).
  int64_t window_advance_millis_ = 0;
  int64_t windows_per_row_ = 0;
  std::vector<std::unique_ptr<ExpressionExecutor>> key_executors_;
  std::vector<std::unique_ptr<ExpressionExecutor>> argument_executors_;  // null for COUNT(*)
  std::unique_ptr<ExpressionExecutor> time_executor_;
  StateRows state_rows_;  // the accumulators' fixed-width per-group fields
  std::vector<std::unique_ptr<Accumulator>> accumulators_;
  KeyTable table_;
  size_t capacity_ = 0;

  // Per batch scratch.
  std::vector<std::shared_ptr<Column>> key_columns_;
  std::vector<const Column*> key_pointers_;
  std::vector<std::shared_ptr<Column>> argument_columns_;
  Column window_start_column_{TypeId::kInt64};
  std::vector<uint32_t> selection_;
  std::vector<uint32_t> group_ids_;
  std::vector<uint32_t> created_;
  StateVector<uint8_t> dirty_;
  std::vector<uint32_t> dirty_list_;

  // Windows with groups, in ascending start order; fired windows wait for their lateness to
  // pass. A closed window's group list is kept (emptied) for the next window to open, so that
  // windows opening and closing do not allocate once the lists have grown to a window's size.
  struct OpenWindow {
    int64_t start;
    std::vector<uint32_t> groups;
  };
  // The group list of the window starting at `start`, opened if it is not yet. Rows mostly
  // belong to the newest window: that case is inline.
  std::vector<uint32_t>& WindowGroups(int64_t start) {
    if (!windows_.empty() && windows_.back().start == start) [[likely]]
      return windows_.back().groups;
    return FindOrOpenWindow(start);
  }
  std::vector<uint32_t>& FindOrOpenWindow(int64_t start);
  std::vector<OpenWindow> windows_;
  std::vector<std::vector<uint32_t>> spare_group_lists_;
  StateVector<uint8_t> fired_;           // per group: its window has fired (EMIT FINAL)
  StateVector<uint8_t> live_;            // per group id: in use
  std::vector<int64_t> row_watermarks_;  // per row: the watermark just before it
  std::vector<uint32_t> segment_;
  std::vector<uint32_t> firing_;
  std::vector<uint32_t> closing_;    // groups of closed windows not yet freed
  size_t closing_freed_ = 0;         // closing_[0, closing_freed_) are free
  size_t rows_since_watermark_ = 0;  // rows pushed since the watermark last advanced
  NewKeyObserver* key_observer_ = nullptr;
  absl::Status observer_error_;

  // State TTL (unwindowed): last event time per group, and (time, group) in touch order.
  std::unique_ptr<ExpressionExecutor> ttl_time_executor_;
  StateVector<int64_t> last_touch_;
  StateVector<uint8_t> touched_;
  std::vector<uint32_t> touched_list_;
  // A FIFO: entries [expiry_head_, size) are live; the consumed prefix is dropped once it is
  // half the vector, so the queue reuses its memory instead of allocating as it moves.
  std::vector<std::pair<int64_t, uint32_t>> expiry_;
  size_t expiry_head_ = 0;
  std::vector<uint32_t> evicted_;  // scratch: groups evicted by one call

  AggregateOutput output_;

  // Changelog output (see the file comment); per group: emitted since its state was created,
  // the number of its before image (AggregateOutput::kNoBefore: none), and with retract_input
  // its row count (inserts and update-afters minus update-befores and deletes).
  const bool changelog_;
  // SELECT DISTINCT over an append-only input under EMIT CHANGES: a group is emitted only the
  // first time it is touched (emitted_ says whether it was), so the output only inserts.
  const bool first_emission_only_;
  StateVector<uint8_t> emitted_;
  StateVector<uint32_t> before_;
  StateVector<int64_t> row_count_;
  size_t captured_ = 0;  // groups with a before image
  std::vector<uint32_t> capture_list_;
  std::vector<uint32_t> positive_;  // retract_input: the rows that add, and those that retract
  std::vector<uint32_t> negative_;
  std::vector<AggregateOutput::Change> changes_;
  std::vector<uint32_t> deleted_;
};

}  // namespace sluice
