// LookupJoinOperator: a lookup join of a stream with a table (plan/logical_plan.h,
// LookupJoinDefinition): each active row of a batch looks its key up in the table, a batch at
// a time, and the output is the row's columns, then the table row's.
//
// One input: the stream. The table is read-only state shared by every instance of the join
// (one per worker): loaded from its file on the first Push(), OnWatermark() or Finish() of any
// instance (catalog/lookup_table_provider.h; the file connector's is connectors/lookup_table_source.h), never changed afterwards; with
// '<t>.reload.interval', replaced by a new table once the file changed, which each instance
// takes at its next batch. An instance keeps no state of its own, so Snapshot() writes nothing
// and a restored job reads the table again.
//
// Per batch: the key expressions (and FOR SYSTEM_TIME AS OF) evaluated over the batch, the
// table probed for every active row (LookupTable::Find: one KeyTable lookup, and a binary
// search of the key's versions when versioned), the table's columns gathered into pooled
// columns indexed by physical row, the stream's columns and row kinds shared as they are. The
// residual narrows the matched rows; an INNER join's output selects the rows that matched, a
// LEFT join's every input row, with the table's columns NULL where none matched. The output
// is append-only when the input is: row kinds pass through unchanged.
//
// Not thread-safe: one instance per task.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "expr/expression_executor.h"
#include "ops/operator.h"
#include "plan/logical_plan.h"
#include "state/lookup_table.h"

namespace sluice {

class LookupJoinOperator final : public Operator {
 public:
  // `input`: the stream's schema; the output is its columns, then the table's decoded columns.
  LookupJoinOperator(const LookupJoinDefinition& definition, const Schema& input);

  absl::Status Push(const Batch& batch) override;
  absl::Status OnWatermark(int64_t watermark) override;
  absl::Status Finish() override;
  std::string Describe() const override;

 private:
  // Loads the shared table on the first call (or waits for the instance that loads it); takes
  // a re-read table when there is one.
  absl::Status EnsureTable();

  const LookupJoinDefinition& definition_;
  const size_t input_columns_;
  const size_t table_columns_;
  std::vector<std::unique_ptr<ExpressionExecutor>> key_executors_;
  std::unique_ptr<ExpressionExecutor> as_of_executor_;
  std::unique_ptr<ExpressionExecutor> residual_;
  std::shared_ptr<const LookupTable> table_;
  std::vector<ColumnPool> pools_;  // one per table column

  // Scratch, reused batch after batch.
  LookupTable::Scratch scratch_;
  std::vector<std::shared_ptr<Column>> keys_;
  std::vector<const Column*> key_pointers_;
  std::vector<uint32_t> found_;    // per physical row: the table row, or LookupTable::kNoRow
  std::vector<uint32_t> matched_;  // the active rows that found one
  std::vector<uint32_t> kept_;     // of those, the ones the residual accepts
  Batch output_;
};

}  // namespace sluice
