// The state level of the lab: a GROUP BY over more keys than memory should hold, run through
// the `sluice` command as a user runs it, once with the in-memory state backend and once with
// RocksDB ('state.backend' = 'rocksdb') inside a memory cgroup capped well below the in-memory
// run's footprint (scenarios/state_backends/README.md).
//
//   1. Write `records` JSON Lines records {"k": key, "q": quantity}: record i belongs to key
//      number i mod `keys` (so every key's later records come after all keys were seen once:
//      their state is cold), whose value k is the number times an odd constant modulo 2^48 (keys
//      in no order), and q is a hash of i.
//   2. Run scenarios/state_backends/job.sql (COUNT, SUM, MIN, MAX per key, EMIT FINAL) with each
//      backend, at parallelism 1; the RocksDB run in a fresh memory cgroup (v2 when this process
//      may create one, else v1's memory hierarchy) limited to `memory_cap_bytes`. Time the whole
//      command; its peak resident memory is what its --summary-json reports (VmHWM).
//   3. Check every output row against a closed form: the row's key gives its key number (the
//      constant's inverse), which gives the records it holds and so its four aggregates; every
//      key must appear exactly once. An oracle independent of the engine, and of SQLite, which
//      would need the same memory to group 50 million keys.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace sluice::bench {

struct StateLevelOptions {
  std::string sluice_binary;  // the `sluice` command
  std::string source_dir;     // the repository (scenarios/state_backends/job.sql)
  std::string work_dir;       // the data file, outputs and RocksDB's directory
  uint64_t keys = 50'000'000;
  uint64_t records = 60'000'000;
  uint64_t memory_cap_bytes = uint64_t{1} << 30;        // the RocksDB run's cgroup limit
  uint64_t rocksdb_memory_bytes = uint64_t{256} << 20;  // 'state.rocksdb.memory'
};

struct StateLevelRun {
  std::string backend;             // "memory" or "rocksdb"
  uint64_t memory_cap_bytes = 0;   // the cgroup's limit (0: none)
  std::string cap;                 // how the limit was applied, or why it was not
  double wall_seconds = 0;         // the whole command
  double records_per_second = 0;   // as `sluice run` reports it (records in over its elapsed time)
  uint64_t peak_rss_bytes = 0;     // the command's peak resident memory
  uint64_t cgroup_peak_bytes = 0;  // the cgroup's own peak (page cache included), when it has one
  uint64_t output_rows = 0;
  bool check_ok = false;
  std::string check;  // what the oracle found
  std::string error;  // the command failed (a killed run names the signal)
};

struct StateLevelResult {
  uint64_t keys = 0;
  uint64_t records = 0;
  std::vector<StateLevelRun> runs;
};

// Runs the level. Fails only when it cannot start (no data file, no job); a failed run is
// reported in its entry.
absl::StatusOr<StateLevelResult> RunStateLevel(const StateLevelOptions& options);

// The data's closed form: the key of key number `number`, and record `record`'s quantity.
uint64_t StateLevelKey(uint64_t number);
int64_t StateLevelQuantity(uint64_t record);

// The oracle: checks `output` (the job's JSON Lines: k, n, total, low, high per row) for every
// key number below `keys` exactly once, each with the aggregates of its records among
// `records`. Sets *rows to the rows read and *ok; returns what it found (the first problem).
std::string CheckStateLevelOutput(const std::string& output, uint64_t keys, uint64_t records, uint64_t* rows,
                                  bool* ok);

// The level's results as results/<run>/state-backends.json.
std::string StateLevelJson(const StateLevelResult& result, const std::string& run_id);

}  // namespace sluice::bench
