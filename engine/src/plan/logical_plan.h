// The bound form of a job: its sources and sinks (catalog/connector_definition.h), and one
// logical plan per statement.
//
// A logical plan is a tree of LogicalOperators (for now a chain: Scan -> Filter -> Project ->
// Limit); the physical planner (plan/physical_planner.h) turns it into operators.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "catalog/connector_definition.h"
#include "expr/aggregate_function.h"
#include "expr/expression.h"
#include "formats/record_format.h"
#include "plan/job_properties.h"
#include "plan/rows_window_spec.h"
#include "plan/top_n_spec.h"
#include "sql/ast.h"
#include "types/schema.h"

namespace sluice {

class LookupTableProvider;  // catalog/lookup_table_provider.h

enum class LogicalOperatorKind : uint8_t {
  kScan,
  kFilter,
  kProject,
  kLimit,
  kAggregate,
  kRowsWindow,
  kJoin,   // two inputs: `input` (left) and `right_input`, both scans of streams
  kUnion,  // UNION ALL of `input` and `right_input`, both scans of streams
  kTopN,
  kLookupJoin,  // one input (the stream); the table is read-only state (LookupJoinDefinition)
};

// Names of the window bounds in an aggregate's output (epoch ms; the window is [start, end)).
inline constexpr const char* kWindowStartColumn = "_window_start";
inline constexpr const char* kWindowEndColumn = "_window_end";

struct AggregateCall {
  AggregateKind kind = AggregateKind::kCountStar;
  BoundExpressionPtr argument;  // over the aggregate's input; null for COUNT(*)
  TypeId result_type = TypeId::kInt64;
  std::string text;  // as written, e.g. "SUM(price * quantity)"
  SourcePosition position;
};

struct WindowDefinition {
  WindowKind kind = WindowKind::kTumbling;
  BoundExpressionPtr time;     // TIMESTAMP (or BIGINT epoch ms) over the aggregate's input
  int64_t size_millis = 0;     // tumbling and sliding size; session gap
  int64_t advance_millis = 0;  // sliding only
  // Over Flink's processing-time attribute (a column of PROCTIME()): rows fall in the window of
  // the operator's clock when they reach it, and windows fire as that clock passes their end
  // (and all at the end of the input), whatever the input's watermark; `time` is not read.
  bool processing_time = false;
};

enum class LateDataStrategy : uint8_t { kDrop, kDeadLetter };

// 'state.backend' = 'rocksdb': an aggregate keeps its per-key state in RocksDB
// (ops/rocksdb_aggregate_operator.h) instead of memory.
struct RocksDbStateOptions {
  std::string dir;  // 'state.rocksdb.dir': where each instance makes its store (empty: $TMPDIR)
  uint64_t memory_bytes = 256ull << 20;  // 'state.rocksdb.memory': each store's memory budget
};

// GROUP BY keys, aggregates, optional window, emit mode. Output schema: the keys, then the
// aggregates, then _window_start and _window_end (system columns, also without a window).
struct AggregateDefinition {
  std::vector<BoundExpressionPtr> keys;
  std::vector<AggregateCall> aggregates;
  std::optional<WindowDefinition> window;
  EmitMode emit = EmitMode::kChanges;  // resolved: never kDefault
  int64_t allowed_lateness_millis = 0;
  LateDataStrategy late_data = LateDataStrategy::kDrop;
  // Unwindowed GROUP BY only: a key untouched for this long, by the event time in ttl_time,
  // is evicted (and emitted first under EMIT FINAL); a later record starts it afresh.
  std::optional<int64_t> state_ttl_millis;
  BoundExpressionPtr ttl_time;
  // Changelog (set by InferChangelogModes, plan/changelog_mode.h). retract_input: the input
  // is an updating stream whose update-before and delete rows the aggregates apply negatively
  // (a group whose row count reaches 0 is deleted). emit_update_before: a consumer needs the
  // old row before each update (a changelog sink, a retracting aggregate downstream, a filter
  // that may drop the new row); otherwise an update is its new row alone, as an upsert.
  bool retract_input = false;
  bool emit_update_before = false;
  // SELECT DISTINCT (keys, no aggregate). Under EMIT CHANGES over an append-only input each
  // group is emitted once, when it first appears (again after 'state.ttl' evicted it): the
  // output is append-only, as Flink's streaming DISTINCT. Over an updating input (retract_input)
  // it is an ordinary updating GROUP BY, deleting a row whose input rows are all retracted.
  bool distinct_rows = false;
  // The input source's watermark bound, applied per record to the window (or TTL) time column
  // unless the runtime finds that the input interleaves several partitions (then only the
  // merged watermark, received between batches, is safe: StatefulOperator::SetInputInterleaved).
  int64_t input_out_of_orderness_millis = 0;
  // Set when the job's state backend is RocksDB (the binder refuses the forms it cannot keep
  // there: RocksDbAggregateOperator::Unsupported).
  std::optional<RocksDbStateOptions> rocksdb;
};

// Why `definition` cannot keep its state in RocksDB (a phrase for an error: "it has a TUMBLING
// window"), or empty when it can: a GROUP BY without a window over an append-only input,
// without 'state.ttl' (EMIT CHANGES with or without update-before rows, or EMIT FINAL), whose aggregates all
// keep fixed-width state (not COUNT(DISTINCT), not MIN/MAX/FIRST_VALUE/LAST_VALUE of strings). Its changelog
// fields must be inferred already.
std::string RocksDbUnsupportedReason(const AggregateDefinition& definition);

// A join of two streams (the binder makes one of FROM a JOIN b ON ..., see README "Joins").
//
// The output row is the left input's columns, then the right input's. Rows match when their
// equality keys are equal and not NULL (SQL's `=`), the time bound holds if there is one, and
// `residual` (over the output row) is true. Which rows an outer join keeps unmatched, and when,
// depends on the time bound:
//   - With a time bound (an interval or window join): each side's rows are kept until the other
//     side's watermark shows that no row can match them any more, then freed; an outer join
//     emits the unmatched ones padded with NULLs at that moment. The output is append-only.
//   - Without (a regular join): every row is kept (until 'state.ttl' frees it, when set); an
//     outer join emits an unmatched row padded at once and retracts the padded row when its
//     first match arrives. The output is updating unless the join is INNER over append-only
//     inputs.
struct JoinTimeBound {
  // left_time - right_time must lie in [lower, upper] (milliseconds).
  BoundExpressionPtr left_time;   // over the left input
  BoundExpressionPtr right_time;  // over the right input
  int64_t lower = 0;
  int64_t upper = 0;
  // How far a side's time attribute may trail its watermark: a row arriving after watermark w
  // has a time above w - lag (0 for a source's event time; a window's size - 1 for the
  // _window_start of a windowed aggregate's output, whose rows arrive when the window closes).
  int64_t left_lag = 0;
  int64_t right_lag = 0;
  std::string text;  // as written, for explain and errors
};

struct JoinDefinition {
  JoinType type = JoinType::kInner;
  std::vector<BoundExpressionPtr> left_keys;   // over the left input
  std::vector<BoundExpressionPtr> right_keys;  // over the right input, same types as left_keys
  std::optional<JoinTimeBound> time_bound;
  BoundExpressionPtr residual;  // over the output row; null: none
  // The output columns the rest of the statement (or the residual) reads: a kept row stores
  // only these (and every column of an updating input, whose retractions are matched by all
  // of them); the others come out NULL. Empty: all.
  std::vector<bool> used_columns;
  // 'state.ttl' on a regular join: a kept row is freed once the other input's watermark is this
  // far past the row's time (its input's time attribute, in ttl_time). Later rows of the other
  // input no longer meet it, as Flink's state TTL; rows it joined stay joined.
  std::optional<int64_t> state_ttl_millis;
  BoundExpressionPtr left_ttl_time;   // over the left input
  BoundExpressionPtr right_ttl_time;  // over the right input
  // Set by InferChangelogModes: an input is an updating stream whose retractions the join
  // applies; the output is updating.
  bool left_updating = false;
  bool right_updating = false;
  bool output_updating = false;
  std::string text;  // the join as written, for explain ("a JOIN b ON ...")
};

// A lookup join of a stream with a table (README "Lookup joins"): each row of the stream looks
// its key up in the table, as of its time when the table is versioned and the join says
// FOR SYSTEM_TIME AS OF. The output row is the stream's columns, then the table's (its decoded
// columns); an INNER join drops a row that finds no table row (or whose residual is not true),
// a LEFT join pads it with NULLs. Row kinds pass through: the table does not change while the
// job runs, so a retraction finds what its row found.
struct LookupJoinDefinition {
  JoinType type = JoinType::kInner;  // kInner or kLeft
  // Over the stream, one per primary key column of the table in key order, of the key's types.
  std::vector<BoundExpressionPtr> keys;
  // Over the stream: the time to see the table as of (TIMESTAMP or BIGINT, epoch ms); null:
  // the latest version of each key.
  BoundExpressionPtr as_of;
  BoundExpressionPtr residual;  // over the output row; null: none
  std::shared_ptr<LookupTableProvider> table;
  std::string text;  // the join as written, for explain ("o JOIN rates FOR SYSTEM_TIME AS OF o.ts")
};

struct LogicalOperator {
  LogicalOperatorKind kind = LogicalOperatorKind::kScan;
  Schema schema;  // output schema
  std::unique_ptr<LogicalOperator> input;
  std::string scan_name;                           // kScan: source or stream read
  bool scan_is_stream = false;                     // kScan: an earlier statement's stream
  BoundExpressionPtr predicate;                    // kFilter
  std::vector<BoundExpressionPtr> projections;     // kProject, one per output column
  int64_t limit = 0;                               // kLimit
  std::unique_ptr<AggregateDefinition> aggregate;  // kAggregate
  // kRowsWindow: output = the input's columns, then one column per function.
  std::unique_ptr<RowsWindowSpec> rows_window;
  // kJoin and kUnion: the second input (`input` is the first).
  std::unique_ptr<LogicalOperator> right_input;
  std::unique_ptr<JoinDefinition> join;  // kJoin
  // kLookupJoin: output = the input's columns, then the table's.
  std::unique_ptr<LookupJoinDefinition> lookup_join;
  // kTopN: output = the input's columns, then the rank (BIGINT) when top_n->emit_rank.
  std::unique_ptr<TopNSpec> top_n;

  // Indented tree, one operator per line.
  std::string ToString(int indent = 0) const;
};

// A column of a stream that holds event time in step with the stream's watermark: a row that
// arrives after watermark w has a value above w - lag. A source's _event_time (lag 0), the
// column it is read from, a windowed aggregate's _window_start (lag: the window's size - 1, as
// its rows arrive when the window closes) and _window_end (0), and these passed on by
// projections and filters. A join bounds time only by such columns (JoinTimeBound).
struct TimeAttribute {
  size_t column = 0;
  int64_t lag = 0;
};

struct BoundStatement {
  std::string name;        // the stream it creates (a generated name for a bare SELECT)
  // The value of a `-- @uid:` annotation right before the statement; empty without one.
  std::string uid;
  // What its operators' ids in snapshots start with (runtime/parallel_runner.cc): the uid, or
  // else the name. A uid keeps the ids (and so a savepoint's state) when the statement is renamed.
  const std::string& operator_id_prefix() const { return uid.empty() ? name : uid; }
  std::string input_name;  // the source or stream it reads
  bool input_is_stream = false;
  // A join or UNION ALL: the second stream it reads (input_name is the first, then also a
  // stream). Empty for a statement of one input.
  std::string second_input_name;
  std::unique_ptr<LogicalOperator> plan;
  Schema output_schema;
  std::optional<SinkDefinition> sink;  // none when the stream only feeds later statements
  SourcePosition position;
  // A statement the binder made of a derived table or WITH query (plan/derived_tables.h):
  // what it was, e.g. "derived table 't' of select_1"; empty for a statement of the job.
  std::string lowered_from;
  // Set by InferChangelogModes: whether the output is an updating stream (it may update or
  // delete rows it emitted, not only insert), and why, for errors ("GROUP BY trader EMIT
  // CHANGES"); whether it may delete rows; the output columns that identify its rows, when
  // every one of them is in the output (see SinkDefinition::upsert_key_columns).
  bool updating = false;
  std::string updating_reason;
  bool may_delete = false;
  std::optional<std::vector<size_t>> row_key_columns;
  // The output's time attributes (see TimeAttribute).
  std::vector<TimeAttribute> time_attributes;
};

struct BoundJob {
  ParsedJob parsed;
  JobProperties properties;
  std::vector<SourceDefinition> sources;
  std::vector<BoundStatement> statements;
  // 'state.max.bytes': the most bytes of operator state the job may hold (see
  // ops/state_budget.h); none when unset.
  std::optional<uint64_t> state_max_bytes;
  // Durable checkpoints (runtime/file_checkpoint_store.h): 'checkpoint.dir' (none: no
  // checkpoints), 'checkpoint.interval' (default 10 s) and 'checkpoint.retained' (default 3).
  std::string checkpoint_dir;
  int64_t checkpoint_interval_millis = 10'000;
  int checkpoint_retained = 3;
  // 'restart.strategy' = 'fixed-delay': a run that fails restarts in the same process from the
  // latest checkpoint, at most 'restart.attempts' times (default 3), 'restart.delay' (default
  // 10 s) after each failure. 0 attempts: 'none' (the default), a failure ends the run.
  int restart_attempts = 0;
  int64_t restart_delay_millis = 10'000;

  const SourceDefinition* FindSource(const std::string& name) const;
};

}  // namespace sluice
