// SourceDefinition and SinkDefinition: a bound source or sink as the planner and the runtime see
// it, whatever its connector type.
//
// The fields here are what every connector has and what the planner needs (schema, decoding,
// event time, watermarks, partitions); what only one connector type uses (a file path, Kafka
// topics and client settings) is in `settings`, a ConnectorSettings subclass that the
// connector's bind function creates and its factories read back (SettingsAs<T>()). Nothing
// outside a connector's folder looks inside its settings.
//
// This header is part of the connector contract (with source.h, sink.h and registry.h): it
// includes no connector and nothing of plan/, so that the binder can include it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "formats/record_format.h"
#include "sql/source_text.h"
#include "types/schema.h"

namespace sluice {

// Name of the system column that carries each record's event time (epoch ms).
inline constexpr const char* kEventTimeColumn = "_event_time";

// A connector's own bound settings. Immutable once bound; shared by the definition's copies.
class ConnectorSettings {
 public:
  virtual ~ConnectorSettings() = default;
};

// An external input: where it reads, how it decodes, and the schema it produces.
struct SourceDefinition {
  std::string name;
  std::string type;  // the connector type ('<name>.type'), e.g. file_source
  // One entry per reader, which the runtime creates through the connector's factory: a file
  // source's files (sorted), or a single entry for a Kafka source (one reader consumes every
  // Kafka partition its consumer group assigns). Named in explain and in errors.
  std::vector<std::string> partitions;
  std::string format;  // json | csv | raw (Kafka only: one STRING column 'value')
  DecoderOptions decoder;
  // decoder.schema's fields, the connector's system columns, then _event_time.
  Schema schema;
  // When false, _event_time is the ingestion (processing) time of the record's batch.
  bool has_event_time = false;
  std::string dead_letter_path;
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
  // True when one reader returns rows of several upstream partitions in its batches (a Kafka
  // source's reader, which consumes every assigned Kafka partition).
  bool reader_interleaves_partitions = false;
  SourcePosition position;                            // the first FROM that reads it
  std::shared_ptr<const ConnectorSettings> settings;  // the connector's own; may be null

  // True when rows of several partitions interleave within one reader's batches (a Kafka
  // source), or a source has several readers: only the merged watermark, between batches, is
  // safe then, not a per-record one.
  bool interleaves_partitions() const { return reader_interleaves_partitions || partitions.size() > 1; }

  // The connector's settings. REQUIRES: they were bound by the connector whose settings are T.
  template <typename T>
  const T& SettingsAs() const {
    const T* typed = dynamic_cast<const T*>(settings.get());
    SLUICE_CHECK(typed != nullptr);
    return *typed;
  }
};

// An external output.
// How a sink writes a stream's rows ('<sink>.changelog.mode'; see plan/changelog_mode.h).
enum class ChangelogMode : uint8_t {
  kAppend,     // every row as a record; an updating statement is refused
  kChangelog,  // Debezium-style {"before", "after", "op"} records (JSON only)
  kUpsert,     // key + value: a row per insert or update, a tombstone per delete
};

struct SinkDefinition {
  std::string name;
  std::string type;  // the connector type, e.g. file_sink; stdout_sink for a bare SELECT
  std::string format = "json";
  char csv_delimiter = ',';
  bool csv_header = true;  // a file sink's CSV: a line of column names first ('csv.header')
  bool csv_sql_timestamps = false;                    // a file sink's CSV: 'csv.timestamp.format' = 'sql'
  std::shared_ptr<const ConnectorSettings> settings;  // the connector's own; may be null
  // Resolved by InferChangelogModes: 'append' for an append-only statement and 'upsert' for
  // an updating one unless set.
  ChangelogMode changelog_mode = ChangelogMode::kAppend;
  // kUpsert: the output columns that identify a row (the GROUP BY keys and _window_start as
  // the statement outputs them; every column when it may delete but lacks one of them); a
  // file's delete record names them. A Kafka sink with 'key.field' keys its messages by that instead.
  std::vector<size_t> upsert_key_columns;
  // The output column the connector keys each record by on its own (a Kafka sink's
  // 'key.field'), or -1.
  int key_column = -1;

  // The connector's settings. REQUIRES: they were bound by the connector whose settings are T.
  template <typename T>
  const T& SettingsAs() const {
    const T* typed = dynamic_cast<const T*>(settings.get());
    SLUICE_CHECK(typed != nullptr);
    return *typed;
  }
};

}  // namespace sluice
