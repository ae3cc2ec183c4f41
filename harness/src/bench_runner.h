// BenchRunner: runs scenarios at the core, codec and latency levels, checks every run's output
// against SQLite's result on the same data, and writes one result file per measurement (see
// results/README.md). It drives Sluice's own JobRunner: the job is the scenario's job.sql,
// parsed and bound as `sluice run` does, with the harness's sources and sink plugged in.
//
// Threads and partitions: the core level's input is split by the scenario's partition key into
// P source partitions (P >= the thread count); with N > 1 threads one JobRunner runs the
// parallel runtime's N pinned workers, each reading its share of the partitions and
// exchanging rows by the query's key, with a checking sink per worker (their results are
// disjoint by key, so the checksums add up to the whole). A scenario's configurations are
// measured in interleaved rounds (MeasureInterleaved), so that their ratios are comparable on
// a machine whose speed drifts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "machine.h"
#include "result_checksum.h"
#include "scenario.h"

namespace sluice::bench {

struct BenchOptions {
  std::string source_dir = ".";  // the repository: scenarios/, harness/, git commit
  std::string scenarios_dir = "scenarios";
  std::string results_dir = "results";
  std::string data_dir = "build/bench-data";  // generated inputs and expected results (rows)
  std::vector<std::string> scenarios;         // empty: every scenario
  std::vector<std::string> levels;            // empty: each scenario's own
  std::vector<int> threads;                   // empty: each scenario's own
  bool quick = false;                         // the scenarios' quick record counts
  double scale = 1.0;                         // multiplies record counts
  uint64_t records = 0;                       // when set, overrides counts
  int warmup_runs = 1;
  int runs = 5;
  size_t batch_size = 1024;
  bool peer = true;  // run the reference engine (harness/peers/duckdb)
  // Gate mode: each scenario once at core level on one thread, checked against SQLite like any
  // run but writing no results, with callgrind's collection switched on around the run only
  // and off again inside the checking sink (ci/gate.py says what is counted).
  bool gate = false;
};

struct Stats {
  double median = 0, min = 0, max = 0;
};

struct LatencyStats {
  double rate = 0;                                         // records per second offered
  double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;  // of the run with the median p99
  double p99_min_us = 0, p99_max_us = 0;                   // the p99 range over the timed runs
  uint64_t samples = 0;
};

struct Measurement {
  std::string scenario;
  std::string title;
  std::string level;
  int threads = 1;
  std::string placement = "default";
  int source_partitions = 1;
  size_t batch_size = 1024;
  uint64_t records = 0;
  int warmup_runs = 0;
  int runs = 0;
  Stats seconds;
  Stats records_per_second;
  double sink_share = 0;           // median share of a run's time spent in the checking sink
  double e2e_wall_seconds = 0;     // e2e level: the whole `sluice run`, consumer group join included
  double e2e_startup_seconds = 0;  // e2e level: until the first record arrived
  std::optional<LatencyStats> latency;
  uint64_t peak_rss_bytes = 0;
  uint64_t state_keys = 0;
  uint64_t state_bytes = 0;         // operator state besides the keys' string bytes
  uint64_t state_string_bytes = 0;  // the group keys' own string bytes (each distinct string once)
  uint64_t output_rows = 0;
  uint64_t result_rows = 0;  // the rows checked (for EMIT CHANGES, the last row per key)
  // Several workers with a keyed stage: "forward" when each worker's stage takes its own
  // partitions' rows (the job declares the source partitioned by the key), "exchange" when
  // rows cross between workers by the key's hash; "" otherwise.
  std::string keyed_stage;
  bool checksum_ok = false;
  std::string expected;
  std::string actual;
  // Checkpoint level: checkpoints to durable storage every `checkpoint_interval_ms` (0: the
  // same runs without checkpoints, measured in the same rounds). Medians over the timed runs.
  struct CheckpointCost {
    int64_t interval_ms = 0;
    double checkpoints_per_run = 0;
    // From the barrier's request until the snapshots are handed to the store's writer thread:
    // the time the job's one thread stops reading (the write and fsync run beside it).
    double pause_seconds_per_checkpoint = 0;
    uint64_t state_bytes = 0;                 // of the last checkpoint's state file
    double throughput_ratio = 0;              // records/s against the runs without checkpoints
    // pause_seconds_per_checkpoint over a 1-second interval: the share of a 1 s interval the
    // job would spend paused (what a run long enough for 1 s checkpoints would lose).
    double projected_loss_at_1s = 0;
  };
  std::optional<CheckpointCost> checkpoint;
  // The metrics level: the core level on one thread with a /metrics endpoint (sluice run
  // --metrics-port) fed by the run's progress callback every publish_interval_ms and scraped
  // over HTTP a hundred times a second, against the same runs without (enabled false there; the
  // ratio is in the run with metrics).
  struct MetricsCost {
    bool enabled = false;
    int64_t publish_interval_ms = 0;
    double publishes_per_run = 0;
    double scrapes_per_run = 0;
    double throughput_ratio = 0;  // records/s against the runs without metrics
    // The runs' extra time (median against median, none if faster) over their publishes, all of
    // it charged to publishing (the scrapes' share included), and that over a 1 s interval:
    // what `sluice run --metrics-port`, publishing once a second, would lose.
    double seconds_per_publish = 0;
    double projected_loss_at_1s = 0;
  };
  std::optional<MetricsCost> metrics;
  // Codec level: what the extra run that parses the encoded JSON back found, and its timing.
  std::string json_check;
  std::string error;  // set when the run failed outright
};

// Runs everything `options` selects; returns the process exit status (0: every check passed,
// 1: a run failed its check or could not run). `run_dir`, when given, receives the folder the
// results went to.
int RunBenchmarks(const BenchOptions& options, std::string* run_dir = nullptr);

}  // namespace sluice::bench
