// The 'memory_source' connector: a small bounded source whose records are written in the job
// itself, for tests and examples:
//
//   'm.type' = 'memory_source',
//   'm.rows' = '{"id":1,"ts":1000}
//               {"id":2,"ts":2000}',
//   'm.schema' = 'id BIGINT, ts BIGINT'   -- optional: inferred from the rows otherwise
//
// '<name>.rows' is JSON Lines text: one record per line (blank lines are skipped; a string in
// SQL may span lines). The source has one partition and decodes its rows like a JSON Lines file,
// through the file source's RecordReader (connectors/record_reader.h): event time from 'event.time.field'
// (else processing time), bad records to the dead-letter output with their line within the rows, the
// bounded-out-of-orderness watermark. Registered by RegisterBuiltinConnectors()
// (connectors/builtin_connectors.cc).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "batch/batch.h"
#include "catalog/connector_definition.h"
#include "connectors/dead_letter_writer.h"
#include "connectors/record_reader.h"
#include "connectors/source.h"

namespace sluice {

struct MemorySourceSettings final : ConnectorSettings {
  std::string rows;  // '<name>.rows' as written
};

// The records of '<name>.rows': its non-blank lines, and the line (1-based) each is on.
struct MemoryRecords {
  std::vector<std::string_view> records;
  std::vector<uint64_t> lines;
};
MemoryRecords SplitMemoryRows(std::string_view rows);

class MemorySource final : public SourcePartition {
 public:
  // REQUIRES: definition.settings is MemorySourceSettings.
  MemorySource(const SourceDefinition& definition, std::shared_ptr<DeadLetterWriter> dead_letters,
               size_t batch_size, bool strict);

  absl::Status Open() override;
  absl::StatusOr<bool> Next(Batch& out) override;
  int64_t watermark() const override { return reader_.watermark(); }
  const SourceCounters& counters() const override { return reader_.counters(); }
  absl::Status Close() override { return reader_.dead_letters().Flush(); }

 private:
  const SourceDefinition definition_;  // holds the settings the records point into
  const size_t batch_size_;
  MemoryRecords rows_;
  size_t next_ = 0;      // the next record to decode
  RecordReader reader_;  // after definition_, which it reads
};

}  // namespace sluice
