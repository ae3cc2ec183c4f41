// The nexmark level of the lab: every query of scenarios/nexmark/flink/ (Nexmark's own Flink SQL
// text) that Sluice binds, run on one core, with its events per second per core beside Flink's
// published per-core figure for the same query (scenarios/nexmark/flink_published.json).
//
//   1. Generate `events` Nexmark events once (NexmarkGenerator, at Nexmark's published source
//      rate of 10,000,000 events/s of event time) as JSON Lines files in `work_dir`, kept there
//      for the next run.
//   2. List scenarios/nexmark/flink/q*.sql and bind each as `sluice run` does (NEXMARK: the
//      files; OUTPUT: unused, the sinks are replaced). Which queries bind is found here, at run
//      time: a query that does not bind is skipped, with the binder's message in the results.
//   3. Run each query at parallelism 1 on one pinned CPU, every sink replaced by one that counts
//      rows and drops them (Flink's blackhole), in two ways, alternating run by run:
//        file    the job's own sources read their JSON Lines files (from the page cache) and
//                decode them in the run: the figure compared with Flink's, whose source
//                generates every event inside the measured run;
//        memory  the same rows decoded once before (by the job's own source connector, the
//                engine's JSON decoder) and handed over as columnar batches (bench_sources.h's
//                MemorySource), as the core level does: the operators' own cost. A source
//                without an event-time field (PROCTIME()) is read from its file here too, since
//                its time is when it was read.
//      --warmup runs of each, then --runs timed runs. Events per second per core = records read
//      from the job's sources / the run's wall time; the median over the timed runs is the
//      figure, divided by Flink's per-core figure for its ratio. A run that fails, dead-letters
//      or drops a late record, or whose row or event count differs from any other run's (of
//      either way), fails the query, and the level.
//
// Flink's figures count every event of Nexmark's generator (its views filter one table of all
// three kinds); the level counts what the query's sources read, so a query over bids alone
// counts bids alone (92% of the events).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace sluice::bench {

// One query's row of Flink's published table.
struct FlinkFigure {
  uint64_t events = 0;
  double cores = 0;              // CPU cores the cluster used, measured
  double seconds = 0;            // time to process `events`
  std::string printed_per_core;  // the table's own Throughput/Cores, as printed ("155.02 K/s")
  // events / (cores x seconds): events per second per core.
  double PerCore() const {
    return cores > 0 && seconds > 0 ? static_cast<double>(events) / (cores * seconds) : 0;
  }
};

struct FlinkPublished {
  std::string source;                                // repository, commit, file and section, one line
  std::string flink_version;                         // as the source states it
  std::string machines;                              // as the source describes them
  std::map<std::string, FlinkFigure> queries;        // by query name ("q0")
  std::map<std::string, std::string> not_published;  // query -> why the table has no row
};

// Reads flink_published.json's text. Fails on a malformed file or a row without positive
// events, cores and seconds.
absl::StatusOr<FlinkPublished> ParseFlinkPublished(const std::string& json_text);

// The median of `values` (the mean of the middle two for an even count); 0 when empty.
double Median(std::vector<double> values);

// Sluice's per-core rate over Flink's, or nullopt when Flink published no figure.
std::optional<double> RatioToFlink(double sluice_per_core, const FlinkFigure* flink);

// The query names of the files `qN.sql` in `directory`, in the order of N (q0, q1, ..., q10).
absl::StatusOr<std::vector<std::string>> ListNexmarkQueries(const std::string& directory);

struct NexmarkLevelOptions {
  std::string source_dir;  // the repository: scenarios/nexmark/flink/, flink_published.json
  std::string work_dir;    // the generated files
  uint64_t events = 10'000'000;
  double events_per_second = 10'000'000;  // event time; Nexmark's published source rate
  int warmup_runs = 1;
  int runs = 5;
  size_t batch_size = 1024;
  int cpu = -1;  // pin the runs to this CPU (-1: do not pin)
};

// One way of feeding a query, measured over the timed runs.
struct NexmarkRate {
  std::vector<double> seconds;          // each timed run's wall time
  double median = 0, min = 0, max = 0;  // events per second per core
  std::optional<double> ratio;          // median / Flink's per-core figure
};

struct NexmarkQueryResult {
  std::string query;  // "q5"
  // "ran": measured; "refused": did not bind (`message` says why); "failed": bound but a run
  // failed or its runs disagreed (`message` says how).
  std::string outcome;
  std::string message;
  uint64_t events = 0;  // records read from the job's sources per run
  uint64_t output_rows = 0;
  // The job as written, its sources reading their JSON Lines files (in the page cache) and
  // decoding them in the run: the figure compared with Flink's, whose source generates every
  // event in the run.
  NexmarkRate file;
  // The same sources' rows decoded before the run, handed over as batches from memory: the
  // operators' own cost. `memory_sources` says how each source was fed.
  NexmarkRate memory;
  std::string memory_sources;
  std::optional<FlinkFigure> flink;
};

struct NexmarkLevelResult {
  uint64_t generated_events = 0;
  double events_per_second = 0;  // of event time
  int runs = 0;
  int warmup_runs = 0;
  size_t batch_size = 0;
  FlinkPublished flink;
  std::vector<NexmarkQueryResult> queries;
  bool ok() const;  // no query failed
};

// Runs the level, printing one line per query to stderr. Fails only when it cannot start (no
// queries, no figures file, no data); a failed query is reported in its entry.
absl::StatusOr<NexmarkLevelResult> RunNexmarkLevel(const NexmarkLevelOptions& options);

// The level's results as results/<run>/nexmark.json.
std::string NexmarkLevelJson(const NexmarkLevelResult& result, const std::string& run_id);

}  // namespace sluice::bench
