// Dataset: a scenario's input generated once and held in memory as columnar batches (the core
// level reads them), plus the same records written as JSON Lines or CSV files (codec level,
// reference engine) and loaded into SQLite (the oracle).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "batch/batch.h"
#include "common/status.h"
#include "plan/logical_plan.h"
#include "result_checksum.h"
#include "scenario.h"

struct sqlite3;

namespace sluice::bench {

struct Dataset {
  DataProfile profile;
  uint64_t records = 0;
  Schema schema;  // the generator's fields (without _event_time)
  // Batches in arrival order; each has the generator's columns followed by _event_time (the
  // event-time field's column, shared), as a source delivers them, its strings in its own
  // heap in row order.
  std::vector<Batch> batches;
};

// Generates `records` records of `profile` in batches of `batch_size`; `source` (the scenario
// job's source) must declare the generator's fields in order and an event-time field.
absl::StatusOr<std::unique_ptr<Dataset>> GenerateDataset(const DataProfile& profile, uint64_t records,
                                                         size_t batch_size, const SourceDefinition& source);

// Writes the records of (profile, records) to `path` unless it exists already (same profile
// and count, same bytes): JSON Lines, or CSV with a header line.
absl::Status WriteDataFile(const DataProfile& profile, uint64_t records, bool csv, const std::string& path);

// The expected result of a scenario on a dataset, from SQLite: loads the dataset into an
// in-memory table named `scenario.table` (rowid = arrival order), runs the oracle query and
// records its rows (sorted) with the types of Sluice's output (`output`'s, changelog key indices as
// for ResultChecksum). The oracle's result column names must be `output`'s, and each value of
// the type its column prints as: SQLite INTEGER for BIGINT and TIMESTAMP, INTEGER 0 or 1 for
// BOOLEAN (SQLite has no boolean type), REAL for DOUBLE, TEXT for STRING, NULL for any: a name
// or a type that differs is an error, not a conversion.
absl::StatusOr<ChecksumValue> ComputeExpected(const Scenario& scenario, const Dataset& dataset,
                                              const Schema& output, const std::vector<size_t>& changelog_key);

// Expected results cached in files: `path` holds ChecksumValue::Serialize() (binary, the rows
// sorted). Load gives std::nullopt for a missing file or another format version (stale: the
// caller recomputes it), and fails on any other file, truncated or whose rows do not add up to
// its header (a corrupted expected value fails the run; it is not recomputed).
absl::StatusOr<std::optional<ChecksumValue>> LoadExpected(const std::string& path);
absl::Status StoreExpected(const std::string& path, const ChecksumValue& value);

// Creates `path` and its parents.
absl::Status MakeDirectories(const std::string& path);

std::string SqliteVersion();

}  // namespace sluice::bench
