// Physical operators for the logical nodes of a statement, shared by the single-threaded
// JobRunner and the parallel runtime.
//
// A statement's logical plan is a chain from its scan upwards (logical_plan.h). StatementChain()
// lists the nodes above the scan, input first; MakeOperator() builds each one. The parallel
// runtime also needs to know where a chain's keyed state starts (StatefulIndex) and by what
// the rows must be partitioned for it (ExchangeKey).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/dead_letter_writer.h"
#include "ops/late_record_sink.h"
#include "ops/operator.h"
#include "plan/logical_plan.h"

namespace sluice {

// The nodes above the scan of `statement`, input first.
std::vector<const LogicalOperator*> StatementChain(const BoundStatement& statement);

// The source a statement ultimately reads, following streams of earlier statements.
std::string OriginSource(const BoundJob& job, const BoundStatement& statement);

// Whether rows of several partitions interleave in the input of `statement`'s stateful
// operator on one thread: its origin source has several partitions (files) or is a Kafka
// source. Then only the source's merged watermark, between batches, is safe, not a per-record
// one (StatefulOperator::SetInputInterleaved).
bool InputInterleaves(const BoundJob& job, const BoundStatement& statement);

// A sink for the late rows of `node` (behind a closed window, or out of a ROWS window's ORDER
// BY): each goes to `writer` as JSON with a reason that starts "late".
std::unique_ptr<LateRecordSink> MakeDeadLetterLateSink(const LogicalOperator& node, DeadLetterWriter& writer);

// Whether `node` hands its late rows (behind a closed window, or out of a ROWS window's
// ORDER BY) to a dead-letter output: 'late.data.strategy' = 'dead_letter'.
bool LateRowsDeadLettered(const LogicalOperator& node);

// The operator for `node` (any kind but kScan). `late_sink` (may be null) receives the late
// rows of a node for which LateRowsDeadLettered() holds.
std::unique_ptr<Operator> MakeOperator(const LogicalOperator& node, LateRecordSink* late_sink);

// The index in `chain` of the first operator that keeps state per key (GROUP BY, windows,
// ROWS windows), or nullopt for a stateless chain.
std::optional<size_t> StatefulIndex(const std::vector<const LogicalOperator*>& chain);

// What rows must be partitioned by so that each key's state lives on one worker: the GROUP BY
// key expressions, or the ROWS window's PARTITION BY columns. Both empty: one partition (every
// row to one worker).
struct ExchangeKey {
  std::vector<const BoundExpression*> expressions;
  std::vector<size_t> columns;
  std::string text;  // for EXPLAIN, e.g. "hash(trader_id)" or "single"
};
ExchangeKey ExchangeKeyOf(const LogicalOperator& stateful);

// EXPLAIN: `op` and the operators downstream of it, one line each, indented two spaces per level
// from `indent` and ending in `suffix`; a fan-out's consumers are listed at its own level.
std::string DescribeOperators(const Operator* op, int indent, std::string_view suffix = "");

// Which input columns the stateful operator reads (keys, aggregate arguments, time columns), so
// that an exchange copies only those. All of them for a ROWS window (it forwards its input) and
// for late rows sent to a dead-letter output (written whole). With `keys` false, an aggregate's
// grouping keys do not count (they may travel as carried key words instead).
std::vector<bool> ColumnsReadBy(const LogicalOperator& stateful, bool keys = true);

}  // namespace sluice
