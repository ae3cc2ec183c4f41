// ConnectorRegistry: every connector type a job may name in '<name>.type', with the WITH keys it
// accepts, how it binds them and how the runtime builds its readers and writers.
//
// A connector lives in its own folder (connectors/file/, connectors/kafka/, ...) and describes
// itself with a SourceConnector or SinkConnector in its Register<Name>() function;
// RegisterBuiltinConnectors() (connectors/builtin_connectors.cc) lists those, one line per
// connector, and ConnectorRegistry::Default() runs it once, on first use. Registration is
// explicit rather than done by static initializers, which a static library drops when nothing
// refers to them.
//
// Who asks the registry:
//   - JobProperties::Validate (plan/job_properties.cc): the keys of a type, for "unknown
//     property" errors and their nearest-key suggestions;
//   - the binder (plan/binder.cc): the connector of '<name>.type', whose bind function turns
//     the WITH properties into a SourceDefinition or SinkDefinition (errors at the position of
//     the offending key or value);
//   - the runtime (runtime/): the factories, unless RunOptions::make_source / make_sink
//     supply the job's connectors;
//   - `sluice connectors` and `sluice --help`: the listing (Describe()).
//
// Part of the connector contract: includes no connector and nothing of plan/ (JobProperties
// and PropertyValue are only named here; bind functions include plan/job_properties.h).
//
// Thread safety: Default() is safe to call from any thread. Register() is not: an embedding
// registers its own connectors before it binds or runs a job.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/connector_definition.h"
#include "catalog/lookup_table_provider.h"

namespace sluice {

class DeadLetterWriter;  // connectors/dead_letter_writer.h
class JobProperties;     // plan/job_properties.h
struct PropertyValue;    // plan/job_properties.h
class SinkOperator;      // connectors/sink.h
class SourcePartition;   // connectors/source.h

// One WITH key a connector accepts after '<name>.'.
struct ConnectorKey {
  std::string name;           // e.g. "path"
  std::string default_value;  // as written in WITH; "" when the key has no default
  std::string documentation;  // one line
};

// What a bind function reads: the job's WITH properties and the text they came from (for
// positioned errors: SourceText::Error at a key's or value's position).
struct SourceBindContext {
  const JobProperties& properties;
  const SourceText& text;
  const std::string& name;    // the source's name
  const PropertyValue& type;  // '<name>.type'
  // BindOptions::read_files: whether binding may look at the file system.
  bool read_files = true;
};

struct SinkBindContext {
  const JobProperties& properties;
  const SourceText& text;
  const std::string& name;      // the stream's name
  const PropertyValue& type;    // '<name>.type'
  const Schema& output_schema;  // the statement's output
};

// A piece of one partition that a reader of its own can read: a byte range of a large file.
struct SourceSplit {
  uint64_t begin = 0;
  uint64_t end = UINT64_MAX;
  std::string description;  // for explain, e.g. "data.jsonl bytes 0-1048576"
};

// The readers of one source that a job opens side by side when the connector deals the
// partitions out itself (SourceConnector::reader_per_worker): each gets the same group, for
// what they must agree on. A Kafka source's members count themselves in when the consumer
// group first assigns them partitions, and read nothing before every one of them has: a
// member that joins late would otherwise take over partitions (and their keys) that another
// worker of the job had already started on.
//
// Restored read positions are pooled here too: each reader restores its own snapshot into the
// group, and the group may then assign a partition to another reader than the one that
// snapshotted it. Keyed by the connector's name for a partition (Kafka: "topic/partition").
struct LocalReaderGroup {
  explicit LocalReaderGroup(size_t readers) : readers(readers) {}
  const size_t readers;            // how many readers of the source this job opens
  std::atomic<size_t> joined{0};   // how many have counted themselves in
  bool complete() const { return joined.load(std::memory_order_acquire) >= readers; }

  struct RestoredPosition {
    int64_t offset = -1;                     // where to read on
    int64_t highest_event_time = INT64_MIN;  // for the partition's watermark
  };
  std::mutex mutex;  // guards `restored`
  std::map<std::string, RestoredPosition> restored;
};

struct SourceReaderOptions {
  size_t batch_size = 1024;
  bool strict = false;               // the first bad record fails the job instead of being dead-lettered
  std::optional<SourceSplit> split;  // nullopt: the whole partition
  std::shared_ptr<LocalReaderGroup> group;  // reader_per_worker connectors only; else null
};

// How explain prints a source: `what (details..., batch N, notes...)`.
struct SourceDescription {
  std::string what;                  // e.g. "FileSource orders <- data/*.jsonl"
  std::vector<std::string> details;  // before the batch size, e.g. the format
  std::vector<std::string> notes;    // after it (the single-threaded runtime prints them)
};

struct SourceConnector {
  std::string type;     // what '<name>.type' says, e.g. "file_source"
  std::string summary;  // one line for the listing
  // The keys it accepts after '<name>.', in the order errors and the listing show them.
  std::vector<ConnectorKey> keys;
  bool kafka_properties = false;  // also accepts 'properties.<librdkafka key>'
  // False: a type name that is reserved and refused as "not supported yet" (every key is
  // accepted for it, as for a type nobody knows, so that the refusal is the error shown).
  bool supported = true;

  // Fills `definition` (whose name, type and position are set) from the WITH properties: its
  // partitions, format, decoder and schema (the decoded columns, any system columns of the
  // connector, then _event_time), event time, dead-letter path and `settings`. The job-wide
  // watermark settings are bound by the binder afterwards.
  std::function<absl::Status(const SourceBindContext& context, SourceDefinition& definition)> bind;
  // One reader of partition `partition` of a bound definition. Does not touch the outside
  // world (files, brokers): Open() does.
  std::function<std::unique_ptr<SourcePartition>(const SourceDefinition& definition, size_t partition,
                                                 std::shared_ptr<DeadLetterWriter> dead_letters,
                                                 const SourceReaderOptions& options)>
      create;
  // Optional: cuts partition `partition` into `readers` splits when it is at least
  // `min_split_bytes` long; empty when it is read whole.
  std::function<std::vector<SourceSplit>(const SourceDefinition& definition, size_t partition, int readers,
                                         uint64_t min_split_bytes)>
      split;
  // Optional: the connector can serve as a lookup join's table ('<name>.primary.key'): the
  // table of a bound definition keyed by `key_columns`, read again every
  // `reload_interval_millis` when its input changed. Does not read anything yet.
  std::function<std::shared_ptr<LookupTableProvider>(SourceDefinition definition, std::vector<size_t> key_columns,
                                                     std::optional<int64_t> reload_interval_millis)>
      make_lookup_table;
  // Non-empty: the connector deals the source's partitions out between its readers itself (a
  // Kafka consumer group); the runtime makes one reader of the definition's single partition
  // per worker and names them so in explain (e.g. "consumer-group member").
  std::string reader_per_worker;
  // False: a batch holds what arrived when it was read (a Kafka poll), often a few records.
  // The keyed exchange then copies rows into full channel batches instead of handing each
  // worker a slice of every small batch (runtime/exchange.h, shared mode).
  bool fills_batches = true;
  // Optional: why a job reading this source runs on one thread whatever its parallelism, e.g.
  // "source 'x' reads a stream (stdin), which cannot be split"; "" when it need not.
  std::function<std::string(const SourceDefinition& definition)> single_thread_reason;
  std::function<SourceDescription(const SourceDefinition& definition)> describe;
};

struct SinkConnector {
  std::string type;  // what '<name>.type' says, e.g. "file_sink"
  std::string summary;
  std::vector<ConnectorKey> keys;
  bool kafka_properties = false;

  // Fills `definition` (whose name and type are set) from the WITH properties: format, CSV
  // delimiter and `settings`.
  std::function<absl::Status(const SinkBindContext& context, SinkDefinition& definition)> bind;
  // The sink of a bound definition, for rows of `schema`. Does not touch the outside world:
  // Open() does (explain builds sinks too).
  std::function<std::unique_ptr<SinkOperator>(const SinkDefinition& definition, const Schema& schema)> create;
  // Optional: why a job writing this sink runs on one thread whatever its parallelism; "" when
  // it need not.
  std::function<std::string(const SinkDefinition& definition)> single_thread_reason;
};

class ConnectorRegistry {
 public:
  // The process-wide registry, with the built-in connectors registered on first use.
  static ConnectorRegistry& Default();

  // Adds a connector. REQUIRES: no source or sink of this type is registered; bind and create
  // are set when `supported`.
  void Register(SourceConnector connector);
  void Register(SinkConnector connector);

  // The connector of a type, or nullptr.
  const SourceConnector* FindSource(std::string_view type) const;
  const SinkConnector* FindSink(std::string_view type) const;

  // In registration order.
  const std::deque<SourceConnector>& sources() const { return sources_; }
  const std::deque<SinkConnector>& sinks() const { return sinks_; }

  // The names of the keys of the source or sink of `type`, or nullptr when no connector has
  // that type (or it is not supported yet: it accepts any key).
  const std::vector<std::string>* KeyNames(std::string_view type) const;
  // Every key some connector accepts, each once, in registration order.
  const std::vector<std::string>& AllKeyNames() const { return all_key_names_; }
  // Whether `type` accepts 'properties.<librdkafka key>' (an unknown type: true).
  bool AcceptsKafkaProperties(std::string_view type) const;

  // "file_source, kafka_source or datagen_source": the source (sink) types, for errors.
  std::string SourceTypeList() const;
  std::string SinkTypeList() const;

  // Every connector, its keys with their defaults and documentation (`sluice connectors`).
  std::string Describe() const;
  // One connector so, or nullopt when no connector has that type.
  std::optional<std::string> DescribeType(std::string_view type) const;
  // One line per connector type and its summary (`sluice --help`).
  std::string DescribeBriefly() const;

 private:
  void AddKeyNames(const std::string& type, const std::vector<ConnectorKey>& keys);

  std::deque<SourceConnector> sources_;
  std::deque<SinkConnector> sinks_;
  std::deque<std::pair<std::string, std::vector<std::string>>> key_names_;  // by type
  std::vector<std::string> all_key_names_;
};

// Registers every connector built into Sluice, one line per connector
// (connectors/builtin_connectors.cc).
void RegisterBuiltinConnectors(ConnectorRegistry& registry);

}  // namespace sluice
