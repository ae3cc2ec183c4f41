// TopNOperator: the Top-N and deduplication patterns (plan/top_n_spec.h), e.g.
//   SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY price DESC) AS rn
//                  FROM trades) AS t WHERE rn <= 3
//
// Ranks, per partition key, over the ORDER BY keys (NULL first ascending, last descending):
//   ROW_NUMBER  1, 2, 3, ... in order; equal keys keep arrival order (the earlier row first).
//   RANK        1 + the rows strictly before the row (ties share a rank, then a gap).
//   DENSE_RANK  1 + the distinct ORDER BY values strictly before the row.
// A partition keeps the rows whose rank is at most N (`limit`); with RANK and DENSE_RANK ties
// at the boundary may make that more than N rows. The input must be append-only (the binder
// refuses an updating one): a row that leaves the top N can never come back, so nothing
// beyond the top N is kept.
//
// Strategies (TopNStrategy):
//   kUpdating   Each input row that enters the top N is emitted as an insert; a row it pushes
//               out is deleted (the delete carries the row as it was emitted). With the rank
//               column (emit_rank), every row whose rank changes is deleted with its old rank
//               and inserted with its new one; without it nothing is re-emitted for a rank
//               change (Flink's "no rank number" optimisation). The output has row kinds
//               (insert, delete); a row arriving as a tie after the N-th row (ROW_NUMBER) or
//               ranked beyond N is dropped without output: the fast path is one comparison
//               with the partition's last row.
//   kWindow     The partition key includes `_window_start`: rows are ranked as they arrive
//               and nothing is emitted until the watermark reaches the window's end - 1 (the
//               watermark at which the windowed aggregate fired it); then the partition's rows
//               are emitted in rank order as inserts (append-only) and its state is freed. A
//               row whose window end - 1 is at or below the watermark is late.
//   kKeepFirst  Deduplication, ORDER BY the event time ASC, rn = 1: per key the row with the
//               earliest event time is held until the watermark reaches that time, then
//               emitted once (append-only); later rows of the key are dropped. State: one
//               entry per key (its row until emitted, then a marker). A row at or below the
//               watermark (per record, by the input's out-of-orderness bound) is late.
//   kKeepLast   Deduplication, ORDER BY the event time DESC, rn = 1: per key the row with the
//               latest event time (a tie: the later arrival); a newer row is emitted as an
//               update-before of the previous row and an update-after of the new one.
//               State: one row per key.
//
// Output: the input's columns, then the rank (BIGINT) when emit_rank.
//
// State layout: a KeyTable maps the partition key to a dense group id; per group a small
// sorted vector of row slots (at most N, more with RANK ties); rows live in slots of flat
// arrays (a word and a validity byte per non-string field, a reused std::string per string
// field), recycled through a free list, so the steady state allocates nothing per row.
// Window ends and keep-first pending times are in a min-heap of (time, group).
//
// 'state.ttl' does not apply (the binder refuses it for a Top-N). Snapshot/Restore write the
// event time, keys, groups and their rows; heaps are rebuilt. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "batch/batch.h"
#include "batch/row_kind.h"
#include "ops/stateful_operator.h"
#include "plan/top_n_spec.h"
#include "state/key_table.h"

namespace sluice {

class TopNOperator final : public StatefulOperator {
 public:
  // REQUIRES: ValidateTopNSpec(spec, input_types).ok() (checked).
  TopNOperator(TopNSpec spec, std::vector<TypeId> input_types);

  absl::Status Push(const Batch& batch) override;
  absl::Status Snapshot(StateWriter& writer) const override;
  absl::Status Restore(StateReader& reader) override;
  std::string Describe() const override;
  StateUsage state_usage() const override;
  bool ObserveNewKeys(NewKeyObserver* observer) override {
    key_observer_ = observer;
    return true;
  }
  // Rows held now (all partitions).
  size_t rows_held() const { return slot_count_ - free_slots_.size(); }

 private:
  static constexpr uint32_t kNoSlot = 0xFFFFFFFF;
  enum class Status : uint8_t { kEmpty, kPending, kDone };
  struct Group {
    std::vector<uint32_t> rows;  // slots in rank order (kUpdating, kWindow)
    uint32_t slot = kNoSlot;     // the kept row (kKeepFirst pending, kKeepLast)
    int64_t time = 0;            // window end (kWindow); the pending row's time (kKeepFirst)
    int64_t last_rank = 0;       // rank of rows.back()
    Status status = Status::kEmpty;
  };
  struct Emission {
    uint32_t slot;
    int64_t rank;
    RowKind kind;
  };
  // A row to compare: a batch row or a slot.
  struct RowRef {
    const Batch* batch = nullptr;
    uint32_t row = 0;  // physical row of batch, or the slot
  };

  absl::Status AdvanceEventTime(int64_t watermark) override;
  // Emits what the watermark completed (kWindow, kKeepFirst).
  void Fire(int64_t watermark);
  // Ranks `row` into group `g` (kUpdating, kWindow); emits the changes when `emit`.
  void Insert(uint32_t g, const Batch& batch, uint32_t row, bool emit);
  void ComputeRanks(const std::vector<uint32_t>& rows, std::vector<int64_t>& ranks) const;
  // < 0 when a orders before b, 0 on equal ORDER BY keys.
  int Compare(RowRef a, RowRef b) const;
  uint32_t AllocateSlot();
  void StoreRow(uint32_t slot, const Batch& batch, uint32_t row);
  void EnsureGroups(size_t count);
  void ClearGroup(uint32_t g);
  // Builds the output of emissions_ in batches, emits them, then frees to_free_.
  absl::Status Flush();
  bool HasRowKinds() const {
    return spec_.strategy == TopNStrategy::kUpdating || spec_.strategy == TopNStrategy::kKeepLast;
  }
  void PushHeap(int64_t time, uint32_t g);

  TopNSpec spec_;
  std::vector<TypeId> input_types_;
  size_t fields_;
  std::vector<int> string_index_;  // field -> index among string fields, or -1
  size_t string_fields_ = 0;
  KeyTable table_;
  std::vector<Group> groups_;
  // Row slots.
  std::vector<uint64_t> words_;
  std::vector<uint8_t> valid_;
  std::vector<std::string> strings_;
  std::vector<uint32_t> free_slots_;
  size_t slot_count_ = 0;
  std::vector<std::pair<int64_t, uint32_t>> heap_;  // min-heap of (time, group)
  // Bytes by capacity of every group's `rows` and of the slot strings beyond their inline
  // capacity, kept as they change so that state_usage() is O(1).
  int64_t group_rows_bytes_ = 0;
  int64_t slot_string_bytes_ = 0;
  NewKeyObserver* key_observer_ = nullptr;
  // Per-batch scratch.
  std::vector<const Column*> key_columns_;
  std::vector<uint32_t> group_ids_;
  std::vector<uint32_t> created_;
  std::vector<int64_t> old_ranks_;
  std::vector<int64_t> new_ranks_;
  std::vector<Emission> emissions_;
  std::vector<uint32_t> to_free_;
  std::vector<ColumnPool> pools_;
  ColumnPool kinds_pool_{TypeId::kBoolean};
  Batch output_;
};

}  // namespace sluice
