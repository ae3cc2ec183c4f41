// RocksDbAggregateOperator: GROUP BY whose per-key state lives in RocksDB instead of memory
// ('state.backend' = 'rocksdb'), for key sets that outgrow memory.
//
// It computes what AggregateOperator computes for a GROUP BY without a window over an
// append-only input, without 'state.ttl': EMIT CHANGES (after each batch, the current row of
// every key the batch touched, in the order of their first row; an update is the new row
// alone, as an upsert, or, when a consumer needs a changelog (emit_update_before), an insert
// for a new key and an update-before row (the state read) followed by the update-after row for
// a known one) or EMIT FINAL (every key once, at the end of a bounded input, in the
// order of the keys' encoded bytes). The binder refuses the other forms by name
// (RocksDbUnsupportedReason, plan/logical_plan.h).
//
// A batch is processed as: evaluate keys and arguments (vectorized); find each row's group in a
// key table that holds the batch's keys only (emptied after the batch); read the state of those
// keys with one RocksDB MultiGet; update every accumulator a batch at a time, as the in-memory
// operator does; write the keys' new state with one write batch. A key's RocksDB key is its
// key values encoded (EncodeKey); its value is its row of accumulator fields (StateRows: every
// aggregate whose state is all fixed-width fields; COUNT(DISTINCT) and string MIN/MAX are
// refused). Memory does not grow with the key count: the batch's groups, and RocksDB's budget.
//
// Snapshots hold every pair (key order), so a checkpoint restores into a fresh store; a restore
// at another parallelism is refused (Operator::RestoreRescaled), by the operator's name.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "expr/expression_executor.h"
#include "ops/accumulator.h"
#include "ops/aggregate_output.h"
#include "ops/stateful_operator.h"
#include "plan/logical_plan.h"
#include "state/key_table.h"
#include "state/rocksdb_store.h"

namespace sluice {

class RocksDbAggregateOperator final : public StatefulOperator {
 public:
  // The store (definition.rocksdb: its directory and memory budget) is opened by the first
  // Push, Restore or watermark, which fail with the reason if it cannot be.
  // REQUIRES: definition.rocksdb is set, and RocksDbUnsupportedReason(definition) is empty
  // (plan/logical_plan.h): every accumulator keeps its state in its StateRows fields.
  RocksDbAggregateOperator(const AggregateDefinition& definition, const Schema& output_schema);

  absl::Status Push(const Batch& batch) override;
  absl::Status Snapshot(StateWriter& writer) const override;
  absl::Status Restore(StateReader& reader) override;
  std::string Describe() const override;
  // Keys held (exact: a key is new when its lookup misses), and the store's memory.
  StateUsage state_usage() const override { return {keys_, store_ ? store_->MemoryBytes() : 0}; }

  bool ObserveNewKeys(NewKeyObserver* observer) override {
    key_observer_ = observer;
    return true;
  }

  // The store, once opened (null before).
  const RocksDbStore* store() const { return store_.get(); }

 private:
  absl::Status OpenStore();
  absl::Status AdvanceEventTime(int64_t watermark) override;
  // Appends the encoding of row `row`'s key values to `out`: per key column a validity byte,
  // then (when valid) the value: integers and timestamps as 8 big-endian bytes with the sign bit
  // flipped, doubles by their bits (-0.0 as 0.0), booleans as a byte, strings as a 4-byte
  // length and their bytes.
  void EncodeKey(size_t row, std::string& out) const;
  // Writes the key values encoded in `key` into row `row` of the first key columns of `batch`.
  absl::Status DecodeKey(std::string_view key, size_t row, Batch& batch) const;
  // Makes room for `groups` batch groups in the accumulators' rows.
  void EnsureCapacity(size_t groups);
  // EMIT FINAL at the end of input: every key, in chunks read from the store.
  absl::Status EmitAll();

  const AggregateDefinition& definition_;
  const Schema& output_schema_;
  std::unique_ptr<RocksDbStore> store_;
  std::vector<std::unique_ptr<ExpressionExecutor>> key_executors_;
  std::vector<std::unique_ptr<ExpressionExecutor>> argument_executors_;  // null for COUNT(*)
  StateRows state_rows_;
  std::vector<std::unique_ptr<Accumulator>> accumulators_;
  KeyTable batch_keys_;  // the keys of the batch being pushed; empty between batches
  size_t capacity_ = 0;
  uint64_t keys_ = 0;

  // Per batch scratch.
  std::vector<std::shared_ptr<Column>> key_columns_;
  std::vector<const Column*> key_pointers_;
  std::vector<std::shared_ptr<Column>> argument_columns_;
  std::vector<uint32_t> group_ids_;
  std::vector<uint32_t> created_;
  std::vector<uint32_t> first_row_;  // per batch group: its first row
  std::string encoded_;              // the batch groups' encoded keys, back to back
  std::vector<size_t> key_ends_;     // per batch group: where its encoded key ends in encoded_
  std::vector<rocksdb::Slice> key_slices_;      // per batch group
  std::vector<uint32_t> order_;                 // batch groups (indexes into created_) in key order
  std::vector<rocksdb::Slice> sorted_slices_;   // key_slices_ in that order
  std::vector<rocksdb::PinnableSlice> values_;  // per sorted key: its state, when found_
  std::vector<uint8_t> found_;
  std::vector<uint8_t> known_;  // per batch group: the store held its key
  rocksdb::WriteBatch write_batch_;
  std::vector<std::string> chunk_keys_;  // EmitAll: the keys of a chunk
  NewKeyObserver* key_observer_ = nullptr;
  std::vector<uint32_t> new_groups_;    // the batch groups whose key the store did not hold
  std::vector<uint32_t> known_groups_;  // and those it did
  std::vector<AggregateOutput::Change> changes_;

  AggregateOutput output_;
};

}  // namespace sluice
