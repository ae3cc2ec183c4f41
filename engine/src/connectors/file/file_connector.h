// The file connectors: 'file_source' (JSON Lines or CSV files: one file, a directory's files or a
// glob's matches, each file a partition; '-' is stdin) and 'file_sink' (one JSON Lines or CSV
// file, or with '<sink>.partition.by' a directory of Hive-style partitions: PartitionedFileSink). Their bound
// settings, and their registration (catalog/connector_registry.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/connector_definition.h"
#include "catalog/connector_registry.h"

namespace sluice {

// '<source>.max.record.bytes' when not set: 16 MiB.
inline constexpr uint64_t kDefaultMaxRecordBytes = 16 << 20;

struct FileSourceSettings final : ConnectorSettings {
  std::string path;  // as written; may be a glob ('data/*.jsonl') or a directory
  // A record longer than this (its line break not counted) is dead-lettered with its length
  // and first bytes, and skipped while it is read, never held whole.
  uint64_t max_record_bytes = kDefaultMaxRecordBytes;
};

// When a partitioned file sink commits a partition (Flink's 'sink.partition-commit.trigger').
enum class PartitionCommitTrigger : uint8_t {
  kProcessTime,    // the wall clock passes the partition's creation plus the delay
  kPartitionTime,  // the watermark passes the partition's time (from its values) plus the delay
};

// A partitioned file sink's settings ('<sink>.partition.by' and the keys after it).
struct FilePartitioning {
  std::vector<size_t> columns;  // output columns whose values name a row's directory, in order
  std::string default_name = "__DEFAULT_PARTITION__";  // the directory value of NULL or ''
  PartitionCommitTrigger trigger = PartitionCommitTrigger::kProcessTime;
  int64_t commit_delay_millis = 0;
  bool success_file = true;  // 'success_file': committing writes <partition>/_SUCCESS
  // '$dt $hm:00': each $column replaced by its value, then read as 'yyyy-MM-dd[ HH:mm:ss]';
  // empty: the first partition column's value.
  std::string time_pattern;
  int64_t rolling_interval_millis = 30 * 60 * 1000;   // a part file open this long is closed
  int64_t rolling_check_interval_millis = 60 * 1000;  // how often open files and commits are checked
  size_t max_open_files = 64;                         // then the least recently written is closed
};

struct FileSinkSettings final : ConnectorSettings {
  std::string path;  // the output file, created or truncated; a directory when partitioned
  std::optional<FilePartitioning> partitioning;  // '<sink>.partition.by' set
};

// Registered by RegisterBuiltinConnectors() (connectors/builtin_connectors.cc).
void RegisterFileSource(ConnectorRegistry& registry);
void RegisterFileSink(ConnectorRegistry& registry);

}  // namespace sluice
