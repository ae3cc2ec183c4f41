// The bound form of a job: source and sink definitions, and one logical plan per statement.
//
// A logical plan is a tree of LogicalOperators (for now a chain: Scan -> Filter -> Project ->
// Limit); the physical planner (plan/physical_planner.h) turns it into operators.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "expr/aggregate_function.h"
#include "expr/expression.h"
#include "formats/record_format.h"
#include "plan/job_properties.h"
#include "plan/rows_window_spec.h"
#include "sql/ast.h"
#include "types/schema.h"

namespace sluice {

// Name of the system column that carries each record's event time (epoch ms).
inline constexpr const char* kEventTimeColumn = "_event_time";

// Names of the Kafka source's system columns (after the declared columns, before
// _event_time).
inline constexpr const char* kKafkaKeyColumn = "_key";              // STRING, the message key
inline constexpr const char* kKafkaPartitionColumn = "_partition";  // BIGINT
inline constexpr const char* kKafkaOffsetColumn = "_offset";        // BIGINT
inline constexpr const char* kKafkaTimestampColumn = "_timestamp";  // TIMESTAMP, the record's

// A Kafka client's settings as bound from WITH: '<name>.bootstrap.servers' and the
// pass-through '<name>.properties.<key>' librdkafka properties, in key order.
struct KafkaClientSettings {
  std::string bootstrap_servers;
  std::vector<std::pair<std::string, std::string>> properties;
  // How long Open() waits for the brokers to answer before failing the job.
  int64_t connect_timeout_millis = 10000;
};

// kafka_source only (see connectors/kafka_source.h).
struct KafkaSourceSettings {
  KafkaClientSettings client;
  std::vector<std::string> topics;  // one or more
  std::string group_id;             // default: sluice-<source name>
  std::string auto_offset_reset;    // earliest (default) | latest
  // Bounded mode: stop once every assigned partition reached the end offset it had when it
  // was assigned.
  bool stop_at_end = false;
  int64_t commit_interval_millis = 1000;  // how often offsets are committed (a flush point)
};

// kafka_sink only (see connectors/kafka_sink.h).
struct KafkaSinkSettings {
  KafkaClientSettings client;
  std::string topic;
  int key_column = -1;        // index into the statement's output schema; -1: messages have no key
  bool exactly_once = false;  // 'delivery.guarantee' = 'exactly_once': transactional producer
  std::string transactional_id;
};

// '<source>.max.record.bytes' when not set: 16 MiB.
inline constexpr uint64_t kDefaultMaxRecordBytes = 16 << 20;

// An external input: where it reads, how it decodes, and the schema it produces.
struct SourceDefinition {
  std::string name;
  std::string type;  // file_source | kafka_source
  std::string path;  // as written; may be a glob ('data/*.jsonl') or a directory
  // The files it names, sorted: one partition each. A Kafka source has a single entry (its
  // topics): one reader that consumes every Kafka partition the consumer group assigns it.
  std::vector<std::string> partitions;
  std::string format;                        // json | csv | raw (Kafka only: one STRING column 'value')
  std::optional<KafkaSourceSettings> kafka;  // kafka_source
  DecoderOptions decoder;
  // decoder.schema's fields followed by the system column _event_time.
  Schema schema;
  // When false, _event_time is the ingestion (processing) time of the record's batch.
  bool has_event_time = false;
  std::string dead_letter_path;
  // File sources: a record longer than this (its line break not counted) is dead-lettered
  // with its length and first bytes, and skipped while it is read, never held whole.
  uint64_t max_record_bytes = kDefaultMaxRecordBytes;
  // Watermark = highest event time seen - max_out_of_orderness - 1 (bounded out-of-orderness;
  // 'ascending' is the same with 0).
  int64_t max_out_of_orderness_millis = 0;
  // 'watermark.idle_timeout': a partition silent this long stops holding the watermark back.
  std::optional<int64_t> idle_timeout_millis;
  // 'watermark.alignment.max_drift': a partition whose watermark runs this far ahead of the
  // slowest partition of the job pauses until the slowest catches up (parallel runtime).
  std::optional<int64_t> alignment_max_drift_millis;
  // '<name>.partitioned.by' (file sources): columns whose every value lies in one partition (one
  // file), as in a Kafka topic keyed by them. The parallel runtime then keeps a keyed stage
  // whose key includes them on the worker that reads the partition, with no exchange.
  std::vector<std::string> partitioned_by;
  SourcePosition position;  // the first FROM that reads it

  // True when rows of several partitions interleave within one reader's batches (a Kafka
  // source), or a source has several readers: only the merged watermark, between batches, is
  // safe then, not a per-record one.
  bool interleaves_partitions() const { return kafka.has_value() || partitions.size() > 1; }
};

// How a sink writes a stream's rows ('<sink>.changelog.mode'; see plan/changelog_mode.h).
enum class ChangelogMode : uint8_t {
  kAppend,     // every row as a record; an updating statement is refused
  kChangelog,  // Debezium-style {"before", "after", "op"} records (JSON only)
  kUpsert,     // key + value: a row per insert or update, a tombstone per delete
};

// An external output.
struct SinkDefinition {
  std::string name;
  std::string type;  // file_sink | stdout_sink | kafka_sink
  std::string path;  // file_sink only
  std::string format;
  char csv_delimiter = ',';
  std::optional<KafkaSinkSettings> kafka;  // kafka_sink
  // Resolved by InferChangelogModes: 'append' for an append-only statement and 'upsert' for
  // an updating one unless set.
  ChangelogMode changelog_mode = ChangelogMode::kAppend;
  // kUpsert: the output columns that identify a row (the GROUP BY keys and _window_start as
  // the statement outputs them; every column when it may delete but lacks one of them); a
  // file's delete record names them. A Kafka sink with 'key.field' keys its messages by that instead.
  std::vector<size_t> upsert_key_columns;
};

enum class LogicalOperatorKind : uint8_t { kScan, kFilter, kProject, kLimit, kAggregate, kRowsWindow };

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
};

enum class LateDataStrategy : uint8_t { kDrop, kDeadLetter };

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
  // The input source's watermark bound, applied per record to the window (or TTL) time column
  // unless the runtime finds that the input interleaves several partitions (then only the
  // merged watermark, received between batches, is safe: StatefulOperator::SetInputInterleaved).
  int64_t input_out_of_orderness_millis = 0;
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

  // Indented tree, one operator per line.
  std::string ToString(int indent = 0) const;
};

struct BoundStatement {
  std::string name;        // the stream it creates (a generated name for a bare SELECT)
  std::string input_name;  // the source or stream it reads
  bool input_is_stream = false;
  std::unique_ptr<LogicalOperator> plan;
  Schema output_schema;
  std::optional<SinkDefinition> sink;  // none when the stream only feeds later statements
  SourcePosition position;
  // Set by InferChangelogModes: whether the output is an updating stream (it may update or
  // delete rows it emitted, not only insert), and why, for errors ("GROUP BY trader EMIT
  // CHANGES"); whether it may delete rows; the output columns that identify its rows, when
  // every one of them is in the output (see SinkDefinition::upsert_key_columns).
  bool updating = false;
  std::string updating_reason;
  bool may_delete = false;
  std::optional<std::vector<size_t>> row_key_columns;
};

struct BoundJob {
  ParsedJob parsed;
  JobProperties properties;
  std::vector<SourceDefinition> sources;
  std::vector<BoundStatement> statements;
  // 'state.max.bytes': the most bytes of operator state the job may hold (see
  // ops/state_budget.h); none when unset.
  std::optional<uint64_t> state_max_bytes;

  const SourceDefinition* FindSource(const std::string& name) const;
};

}  // namespace sluice
