// The file connectors: 'file_source' (JSON Lines or CSV files: one file, a directory's files or a
// glob's matches, each file a partition; '-' is stdin) and 'file_sink' (one JSON Lines or CSV
// file). Their bound settings, and their registration (catalog/connector_registry.h).
#pragma once

#include <cstdint>
#include <string>

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

struct FileSinkSettings final : ConnectorSettings {
  std::string path;  // the output file, created or truncated
};

// Registered by RegisterBuiltinConnectors() (connectors/builtin_connectors.cc).
void RegisterFileSource(ConnectorRegistry& registry);
void RegisterFileSink(ConnectorRegistry& registry);

}  // namespace sluice
