#include "bench_runner.h"

#include <httplib.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "bench_sources.h"
#include "common/hash.h"
#include "common/strings.h"
#include "dataset.h"
#include "json_writer.h"
#include "kafka_end_to_end.h"
#include "nexmark_level.h"
#include "plan/binder.h"
#include "runtime/file_checkpoint_store.h"
#include "runtime/job_runner.h"
#include "server/metrics_endpoint.h"
#include "sql/parser.h"
#include "state_backend_level.h"

namespace sluice::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::string HumanRate(double rate) {
  char text[32];
  if (rate >= 1e9) {
    std::snprintf(text, sizeof text, "%.2fG", rate / 1e9);
  } else if (rate >= 1e6) {
    std::snprintf(text, sizeof text, "%.2fM", rate / 1e6);
  } else if (rate >= 1e3) {
    std::snprintf(text, sizeof text, "%.1fK", rate / 1e3);
  } else {
    std::snprintf(text, sizeof text, "%.0f", rate);
  }
  return text;
}

Stats StatsOf(std::vector<double> values) {
  Stats stats;
  if (values.empty()) return stats;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  stats.median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  stats.min = values.front();
  stats.max = values.back();
  return stats;
}

// A scenario's job bound the way `sluice run` binds it, with every input variable pointing at
// `input_path` and the output at /dev/null (the harness replaces the sink).
absl::StatusOr<BoundJob> BindScenarioJob(const Scenario& scenario, const std::string& input_path,
                                         int source_partitions) {
  SLUICE_ASSIGN_OR_RETURN(ParsedJob parsed, ParseJob(scenario.job_sql));
  BindOptions options;
  options.substitution.use_environment = false;
  for (const char* variable : {"ORDERS", "TRADES", "MARKET"})
    options.substitution.variables[variable] = input_path;
  options.substitution.variables["OUTPUT"] = "/dev/null";
  SLUICE_ASSIGN_OR_RETURN(BoundJob job, BindJob(std::move(parsed), options));
  // One statement of the job file; the binder may add hidden ones before it (a join's inputs).
  size_t sinks = 0;
  for (const BoundStatement& statement : job.statements) sinks += statement.sink ? 1 : 0;
  if (job.sources.size() != 1 || job.parsed.statements.size() != 1 || sinks != 1 || !job.statements.back().sink) {
    return absl::InvalidArgumentError(
        StrCat(scenario.folder, "/job.sql must read one source and write one sink (one statement)"));
  }
  // A job that declares its source partitioned by a column lets the parallel runtime skip the
  // exchange, which is right only if the lab splits the input by that very column.
  const std::vector<std::string>& declared = job.sources[0].partitioned_by;
  if (!declared.empty() && declared != std::vector<std::string>{scenario.partition_key}) {
    return absl::InvalidArgumentError(StrCat(scenario.folder, "/job.sql declares '", job.sources[0].name,
                                             ".partitioned.by' = '", StrJoin(declared, ", "),
                                             "', but scenario.json splits the input by partition_key '",
                                             scenario.partition_key, "': they must name the same column"));
  }
  if (source_partitions > 1) {
    // Scenario 4: the source split into partitions (make_source supplies them), each with its
    // own watermark, merged by minimum, like the files of a multi-file source. From the
    // partition count the runtime sees that their rows interleave, so its stateful operators
    // use the merged watermark only.
    job.sources[0].partitions.assign(static_cast<size_t>(source_partitions), input_path);
  }
  return job;
}

std::vector<TypeId> OutputTypes(const BoundJob& job) {
  std::vector<TypeId> types;
  for (const Field& field : job.statements.back().output_schema.fields()) types.push_back(field.type);
  return types;
}

absl::StatusOr<std::vector<size_t>> ChangelogKey(const Scenario& scenario, const BoundJob& job) {
  std::vector<size_t> key;
  for (const std::string& name : scenario.changelog_key) {
    const std::optional<size_t> index = job.statements.back().output_schema.Find(name);
    if (!index) {
      return absl::InvalidArgumentError(StrCat(scenario.folder, "/scenario.json: output.key names '", name,
                                               "', which the job does not output"));
    }
    key.push_back(*index);
  }
  return key;
}

// Hash of the partition key value of `row` (column `column` of the source schema).
uint64_t PartitionHash(const Column& column, TypeId type, size_t row) {
  if (!column.validity()[row]) return 0;
  if (type == TypeId::kString) return HashString(column.data<std::string_view>()[row]);
  return HashMix64(static_cast<uint64_t>(column.data<int64_t>()[row]));
}

// The input as `partitions` source partitions see it. One partition: the dataset's batches
// (shared, not copied). Several: each row goes to the partition its partition key
// (scenario.json) hashes to, in order, as a keyed Kafka topic holds it: every key's rows stay in
// one partition in their order, so order-dependent queries (ROWS windows) give the same result
// on any number of workers. The partitions differ in size as hashed keys do, so their event
// times drift apart as they are read in turns unless the job aligns them (Scenario 4 does).
// Rows are gathered into batches of their own before timing (strings stay views into the
// generator's names).
struct InputSplit {
  std::vector<std::vector<Batch>> gathered;     // several partitions: per partition
  std::vector<std::vector<BatchSlice>> slices;  // [partition]
};

absl::StatusOr<std::unique_ptr<InputSplit>> SplitInput(const Scenario& scenario, const Dataset& dataset,
                                                       int partitions, size_t batch_size) {
  auto split = std::make_unique<InputSplit>();
  const size_t n = static_cast<size_t>(partitions);
  split->slices.resize(n);
  if (partitions == 1) {
    for (const Batch& batch : dataset.batches) split->slices[0].push_back(BatchSlice{&batch, {}});
    return split;
  }
  const std::optional<size_t> key = dataset.schema.Find(scenario.partition_key);
  if (!key) {
    return absl::InvalidArgumentError(StrCat(scenario.folder, "/scenario.json: partition_key '",
                                             scenario.partition_key, "' is not an input column"));
  }
  const TypeId key_type = dataset.schema.field(*key).type;
  split->gathered.resize(n);
  std::vector<size_t> filled(n, batch_size);  // rows in each partition's open batch
  for (const Batch& batch : dataset.batches) {
    for (size_t row = 0; row < batch.num_rows(); ++row) {
      const size_t p = PartitionHash(batch.column(*key), key_type, row) % n;
      std::vector<Batch>& out = split->gathered[p];
      if (filled[p] == batch_size) {
        std::vector<std::shared_ptr<Column>> columns;
        for (size_t c = 0; c < batch.num_columns(); ++c) {
          columns.push_back(std::make_shared<Column>(batch.column(c).type(), batch_size));
        }
        out.emplace_back();
        out.back().SetColumns(std::move(columns), 0);
        filled[p] = 0;
      }
      Batch& target = out.back();
      const size_t at = filled[p]++;
      for (size_t c = 0; c < batch.num_columns(); ++c) {
        const Column& from = batch.column(c);
        Column& to = target.mutable_column(c);
        const size_t width = PhysicalSize(from.type());
        if (from.type() == TypeId::kString) {  // into the batch's own heap, as for the whole dataset
          to.data<std::string_view>()[at] = to.heap().Add(from.data<std::string_view>()[row]);
        } else {
          std::memcpy(to.data<char>() + at * width, from.data<char>() + row * width, width);
        }
        to.validity()[at] = from.validity()[row];
      }
      target.SetNumRows(at + 1);
    }
  }
  for (size_t p = 0; p < n; ++p) {
    for (const Batch& batch : split->gathered[p]) split->slices[p].push_back(BatchSlice{&batch, {}});
  }
  return split;
}

struct RunOutcome {
  double seconds = 0;
  double sink_seconds = 0;  // summed over workers
  uint64_t output_rows = 0;
  uint64_t state_keys = 0;
  uint64_t state_bytes = 0;  // all of it, key strings included
  uint64_t state_key_string_bytes = 0;
  std::string keyed_stage;      // "forward", "exchange" or "" (see Measurement)
  uint64_t peak_rss_bytes = 0;  // at the end of the run
  ChecksumValue checksum;
  // The codec level's JSON check run: the rows parsed back from the encoded JSON, the first
  // problem (a record that does not parse or has a wrong type, or parsed values that differ
  // from the encoded batch's), and the time spent parsing (summed over workers).
  bool json_checked = false;
  ChecksumValue json_rows;
  std::string json_error;
  double parse_seconds = 0;
  // Metrics level.
  uint64_t metrics_publishes = 0;
  uint64_t metrics_scrapes = 0;
  // Checkpoint level.
  uint64_t checkpoints = 0;
  double checkpoint_seconds = 0;  // summed
  uint64_t checkpoint_state_bytes = 0;
};

// The checkpoint level's interval: short, so that even a quick run takes several checkpoints;
// the loss at a 1 s interval is projected from the pause each one costs.
constexpr int64_t kLabCheckpointIntervalMillis = 20;
// The metrics level's publish interval: a thousandth of `sluice run --metrics-port`'s second, so
// that even a quick run publishes many times and the figure bounds the real cost from above.
constexpr int64_t kLabMetricsPublishMillis = 1;
// And its scrape interval: a hundred scrapes a second (Prometheus' default is one in 15 s).
constexpr int64_t kLabMetricsScrapeMillis = 10;

// The gate's view of a checking sink: forwards to it with callgrind's collection switched off
// for the sink's own work, so that the gate counts the engine's instructions and not the
// lab's checking (the call into the sink and the two toggles themselves still count).
class UncountedSink final : public SinkOperator {
 public:
  explicit UncountedSink(std::unique_ptr<ChecksumSink> sink) : sink_(std::move(sink)) {}

  absl::Status Open() override { return sink_->Open(); }
  absl::Status Push(const Batch& batch) override {
    CALLGRIND_TOGGLE_COLLECT;
    const absl::Status status = sink_->Push(batch);
    CALLGRIND_TOGGLE_COLLECT;
    return status;
  }
  uint64_t rows_written() const override { return sink_->rows_written(); }
  std::string Describe() const override { return sink_->Describe(); }

 private:
  std::unique_ptr<ChecksumSink> sink_;
};

// One run: the bound job, its runner and the checking sinks (one, or one per worker).
struct RunSetup {
  BoundJob job;
  std::unique_ptr<JobRunner> runner;
  std::vector<ChecksumSink*> sinks;
};

class ScenarioRunner {
 public:
  ScenarioRunner(const BenchOptions& options, const MachineInfo& machine, Scenario scenario)
      : options_(options), machine_(machine), scenario_(std::move(scenario)) {}

  absl::Status Prepare();
  std::vector<Measurement> Run();
  uint64_t records() const { return records_; }
  const Scenario& scenario() const { return scenario_; }
  const std::optional<ChecksumValue>& expected() const { return expected_; }
  // The data as CSV for the reference engine (written on first call).
  absl::StatusOr<std::string> CsvPath();
  const Dataset& dataset() const { return *dataset_; }

 private:
  std::string DataPath(const std::string& extension) const {
    return StrCat(options_.data_dir, "/", scenario_.data.Id(), "-", records_, ".", extension);
  }
  absl::StatusOr<RunOutcome> RunOnce(const std::string& level, int threads, int partitions,
                                     const std::string& placement, const std::vector<int>& cpus,
                                     LatencyHistogram* latencies, double rate,
                                     int64_t checkpoint_interval_ms = 0, bool metrics = false);
  Measurement Measure(const std::string& level, int threads, int partitions, const std::string& placement,
                      const std::vector<int>& cpus, double rate);
  // One configuration a level is measured in.
  struct RunConfig {
    int threads;
    int partitions;
    std::string placement;
    std::vector<int> cpus;
    int64_t checkpoint_interval_ms = 0;  // checkpoint level: 0 runs without checkpoints
    bool metrics = false;                // metrics level: with a scraped /metrics endpoint
  };
  // Measures every configuration in rounds: warm-up rounds, then timed rounds, each running
  // every configuration once in order. Measure() is the case of one configuration.
  std::vector<Measurement> MeasureInterleaved(const std::string& level, const std::vector<RunConfig>& configs,
                                              double rate);
  // Timed runs of the latency level (after its warm-up).
  static constexpr int kLatencyRuns = 3;
  // Timed runs of each configuration of the metrics level, at least.
  static constexpr int kMetricsRuns = 15;
  std::vector<std::pair<std::string, std::vector<int>>> Placements(int threads) const;
  // SQLite's result on `dataset` (cached in the data folder).
  absl::StatusOr<ChecksumValue> Expected(const Dataset& dataset);
  // The e2e level: Kafka -> query -> Kafka on the local mock cluster.
  Measurement MeasureEndToEnd();

  // Compares a run's rows with the expected ones (sorting them): "" or the first difference.
  std::string Difference(ChecksumValue& actual, const ChecksumValue& expected) const {
    actual.Sort();
    return actual.Difference(expected, double_names_);
  }

  const BenchOptions& options_;
  const MachineInfo& machine_;
  Scenario scenario_;
  uint64_t records_ = 0;
  BoundJob job_;
  std::vector<TypeId> output_types_;
  std::vector<std::string> double_names_;  // the output's DOUBLE columns, for mismatch messages
  std::vector<size_t> changelog_key_;
  std::unique_ptr<Dataset> dataset_;
  // Set for the codec level's JSON check run: its sinks parse the encoded text back.
  bool json_check_run_ = false;
  std::optional<ChecksumValue> expected_;
  // Input splits, by partition count.
  std::map<int, std::unique_ptr<InputSplit>> splits_;
  // The checking sinks' log memory, kept from run to run per level, thread count, placement
  // and worker, so that each run's sink writes to pages an earlier run of the same
  // configuration faulted in on the same worker (see LogBlockPool).
  std::map<std::tuple<std::string, int, std::string, int>, LogBlockPool> log_pools_;
};

absl::Status ScenarioRunner::Prepare() {
  double records = static_cast<double>(options_.quick ? scenario_.quick_records : scenario_.default_records);
  records *= options_.scale;
  records_ = options_.records > 0 ? options_.records : std::max<uint64_t>(1, static_cast<uint64_t>(records));
  SLUICE_ASSIGN_OR_RETURN(job_, BindScenarioJob(scenario_, DataPath("jsonl"), 1));
  output_types_ = OutputTypes(job_);
  for (const Field& field : job_.statements.back().output_schema.fields()) {
    if (field.type == TypeId::kDouble) double_names_.push_back(field.name);
  }
  SLUICE_ASSIGN_OR_RETURN(changelog_key_, ChangelogKey(scenario_, job_));
  if (!scenario_.changelog) changelog_key_.clear();
  const auto start = Clock::now();
  SLUICE_ASSIGN_OR_RETURN(dataset_,
                          GenerateDataset(scenario_.data, records_, options_.batch_size, job_.sources[0]));
  std::fprintf(stderr, "%s: %s records generated in %.1f s\n", scenario_.name.c_str(),
               HumanRate(records_).c_str(), std::chrono::duration<double>(Clock::now() - start).count());
  // The gate checks its run too; SQLite's work here is outside callgrind's collection.
  SLUICE_ASSIGN_OR_RETURN(ChecksumValue expected, Expected(*dataset_));
  expected_ = expected;
  return absl::OkStatus();
}

absl::StatusOr<ChecksumValue> ScenarioRunner::Expected(const Dataset& dataset) {
  // The expected result, from SQLite, cached per oracle query (with the output's types and
  // key), data profile and count: scenarios with the same query share it.
  // The format's version: a change to how ResultChecksum hashes or logs rows leaves older
  // caches unused (v5: the rows themselves, no longer weighted sums).
  std::string signature = StrCat("checksum-v5/", scenario_.oracle_sql);
  for (const Field& field : job_.statements.back().output_schema.fields()) {
    StrAppend(&signature, "/", field.name, ":", static_cast<int>(field.type));
  }
  for (size_t key : changelog_key_) StrAppend(&signature, "/k", key);
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx",
                static_cast<unsigned long long>(HashBytes(signature.data(), signature.size())));
  const std::string expected_dir = StrCat(options_.data_dir, "/expected");
  SLUICE_RETURN_IF_ERROR(MakeDirectories(expected_dir));
  const std::string expected_path = StrCat(expected_dir, "/", scenario_.data.Id(), "-", dataset.records, "-",
                                           std::string(hash, 8), ".rows");
  SLUICE_ASSIGN_OR_RETURN(std::optional<ChecksumValue> cached, LoadExpected(expected_path));
  if (cached) return *cached;
  const auto oracle_start = Clock::now();
  SLUICE_ASSIGN_OR_RETURN(
      ChecksumValue value,
      ComputeExpected(scenario_, dataset, job_.statements.back().output_schema, changelog_key_));
  SLUICE_RETURN_IF_ERROR(StoreExpected(expected_path, value));
  std::fprintf(stderr, "%s: expected result from %s in %.1f s (%llu rows), cached in %s\n",
               scenario_.name.c_str(), SqliteVersion().c_str(),
               std::chrono::duration<double>(Clock::now() - oracle_start).count(),
               static_cast<unsigned long long>(value.rows), expected_path.c_str());
  return value;
}

absl::StatusOr<std::string> ScenarioRunner::CsvPath() {
  const std::string path = DataPath("csv");
  SLUICE_RETURN_IF_ERROR(WriteDataFile(scenario_.data, records_, /*csv=*/true, path));
  return path;
}

std::vector<std::pair<std::string, std::vector<int>>> ScenarioRunner::Placements(int threads) const {
  // One node: threads on distinct CPUs in order. Several nodes: "compact" fills node 0 first,
  // "spread" deals threads across nodes in turn.
  std::vector<int> compact;
  for (const auto& cpus : machine_.node_cpus) compact.insert(compact.end(), cpus.begin(), cpus.end());
  if (compact.empty()) compact.push_back(0);
  auto take = [threads](const std::vector<int>& order) {
    std::vector<int> cpus;
    for (int t = 0; t < threads; ++t) cpus.push_back(order[static_cast<size_t>(t) % order.size()]);
    return cpus;
  };
  if (machine_.numa_nodes <= 1 || threads == 1) return {{"default", take(compact)}};
  std::vector<int> spread;
  for (size_t i = 0; spread.size() < compact.size(); ++i) {
    for (const auto& cpus : machine_.node_cpus) {
      if (i < cpus.size()) spread.push_back(cpus[i]);
    }
  }
  return {{"compact", take(compact)}, {"spread", take(spread)}};
}

absl::StatusOr<RunOutcome> ScenarioRunner::RunOnce(const std::string& level, int threads, int partitions,
                                                   const std::string& placement, const std::vector<int>& cpus,
                                                   LatencyHistogram* latencies, double rate,
                                                   int64_t checkpoint_interval_ms, bool metrics) {
  const std::string input_path = DataPath("jsonl");
  const InputSplit* split = nullptr;
  const bool from_memory = level == "core" || level == "checkpoint" || level == "metrics";
  if (from_memory) {
    auto found = splits_.find(partitions);
    if (found == splits_.end()) {
      SLUICE_ASSIGN_OR_RETURN(auto made, SplitInput(scenario_, *dataset_, partitions, options_.batch_size));
      found = splits_.emplace(partitions, std::move(made)).first;
    }
    split = found->second.get();
  }
  RunSetup setup;
  SLUICE_ASSIGN_OR_RETURN(setup.job, BindScenarioJob(scenario_, input_path, partitions));
  RunOptions run_options;
  run_options.batch_size = options_.batch_size;
  // Several threads: the parallel runtime, each worker reading its share of the partitions,
  // exchanging rows by key, and checking its own output (the checksum adds up).
  run_options.parallelism = threads;
  run_options.placement = placement == "spread" ? Placement::kSpread : Placement::kCompact;
  const bool encode = level == "codec";
  const bool parse_json = encode && json_check_run_;
  RunSetup* raw = &setup;
  // Sinks are made on the thread that runs the job, before it starts: a pool is only ever
  // used by one thread at a time.
  auto log_pool = [this, level, threads, placement](int worker) {
    return &log_pools_[std::make_tuple(level, threads, placement, worker)];
  };
  if (threads > 1) {
    setup.sinks.assign(static_cast<size_t>(threads), nullptr);
    run_options.make_worker_sink = [this, raw, encode, parse_json, log_pool](const BoundStatement& statement,
                                                                             int worker) {
      auto sink = std::make_unique<ChecksumSink>(output_types_, changelog_key_,
                                                 encode ? &statement.output_schema : nullptr,
                                                 log_pool(worker), parse_json);
      raw->sinks[static_cast<size_t>(worker)] = sink.get();
      return sink;
    };
  }
  run_options.make_sink = [this, raw, encode, parse_json,
                           log_pool](const BoundStatement& statement) -> std::unique_ptr<SinkOperator> {
    auto sink = std::make_unique<ChecksumSink>(
        output_types_, changelog_key_, encode ? &statement.output_schema : nullptr, log_pool(0), parse_json);
    raw->sinks.push_back(sink.get());
    if (options_.gate) return std::make_unique<UncountedSink>(std::move(sink));  // one thread
    return sink;
  };
  // The checkpoint level: durable checkpoints (fsynced files) in a fresh directory per run.
  std::unique_ptr<FileCheckpointStore> checkpoints;
  if (checkpoint_interval_ms > 0) {
    const std::string directory = StrCat(options_.data_dir, "/checkpoints/", scenario_.name);
    std::error_code removed;
    std::filesystem::remove_all(directory, removed);
    SLUICE_ASSIGN_OR_RETURN(checkpoints, FileCheckpointStore::Open(
                                             directory, CheckpointJobIdentity::Of(scenario_.name, threads), 3));
    run_options.checkpoint_store = checkpoints.get();
    run_options.checkpoint_interval_millis = checkpoint_interval_ms;
  }
  if (from_memory) {
    run_options.make_source = [split](const SourceDefinition& source, size_t partition,
                                      std::shared_ptr<DeadLetterWriter>) -> std::unique_ptr<SourcePartition> {
      return std::make_unique<MemorySource>(&split->slices[partition], source.max_out_of_orderness_millis);
    };
  } else if (level == "latency") {
    const auto* batches = &dataset_->batches;
    const size_t batch_size = options_.batch_size;
    run_options.make_source = [batches, rate, batch_size, latencies](
                                  const SourceDefinition& source, size_t,
                                  std::shared_ptr<DeadLetterWriter>) -> std::unique_ptr<SourcePartition> {
      return std::make_unique<PacedSource>(batches, rate, batch_size, source.max_out_of_orderness_millis,
                                           latencies);
    };
  }
  RunOutcome outcome;
  // The metrics level: what `sluice run --metrics-port` adds, far more often than it would: the
  // counters published to a /metrics endpoint every kLabMetricsPublishMillis (not every second),
  // and a client on another thread scraping it every kLabMetricsScrapeMillis.
  std::unique_ptr<MetricsEndpoint> endpoint;
  std::function<void(const JobCounters&)> on_progress;
  std::atomic<bool> run_over{false};
  std::atomic<uint64_t> scrapes{0};
  std::thread scraper;
  if (metrics) {
    HttpServerOptions server_options;
    server_options.address = "127.0.0.1";
    server_options.port = 0;
    SLUICE_ASSIGN_OR_RETURN(endpoint, MetricsEndpoint::Start(server_options, "lab", scenario_.name));
    run_options.progress_interval_millis = kLabMetricsPublishMillis;
    on_progress = [&endpoint, &outcome](const JobCounters& counters) {
      endpoint->Update("running", counters, nullptr);
      ++outcome.metrics_publishes;
    };
    const std::string url = endpoint->url();
    scraper = std::thread([url, &run_over, &scrapes]() {
      const size_t colon = url.rfind(':');
      httplib::Client client(url.substr(url.find("//") + 2, colon - url.find("//") - 2),
                             std::stoi(url.substr(colon + 1)));
      while (!run_over.load(std::memory_order_relaxed)) {
        if (auto response = client.Get("/metrics"); response && response->status == 200) ++scrapes;
        std::this_thread::sleep_for(std::chrono::milliseconds(kLabMetricsScrapeMillis));
      }
    });
  }
  SLUICE_ASSIGN_OR_RETURN(setup.runner, JobRunner::Create(setup.job, run_options));
  // One thread runs the job on this one, pinned for the run; more are the runtime's workers,
  // which pin themselves.
  std::optional<ScopedThreadPin> pin;
  if (threads == 1 && !cpus.empty()) pin.emplace(cpus[0]);
  const auto start = Clock::now();
  if (options_.gate) CALLGRIND_TOGGLE_COLLECT;
  const absl::Status status = setup.runner->Run(on_progress);
  if (options_.gate) CALLGRIND_TOGGLE_COLLECT;
  outcome.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  run_over.store(true);
  if (scraper.joinable()) scraper.join();
  outcome.metrics_scrapes = scrapes.load();
  // Before the sinks' rows are copied out for the check (that copy is the lab's, after the run).
  outcome.peak_rss_bytes = PeakRssBytes();
  SLUICE_RETURN_IF_ERROR(status);
  const JobCounters counters = setup.runner->counters();
  if (counters.dead_lettered > 0 || counters.late_dropped > 0) {
    return absl::InternalError(
        StrCat(counters.dead_lettered, " records dead-lettered and ", counters.late_dropped,
               " late rows dropped: the scenario's data must be complete and on time"));
  }
  outcome.checkpoints = counters.checkpoints_completed;
  outcome.checkpoint_seconds = counters.checkpoint_seconds;
  if (checkpoints != nullptr) outcome.checkpoint_state_bytes = checkpoints->last_state_bytes();
  outcome.state_keys = counters.state_keys;
  outcome.state_bytes = counters.state_bytes;
  outcome.state_key_string_bytes = counters.state_key_string_bytes;
  if (counters.keyed_stages_forwarded > 0) outcome.keyed_stage = "forward";
  if (counters.keyed_stages_exchanged > 0) outcome.keyed_stage = "exchange";
  for (const ChecksumSink* sink : setup.sinks) {
    if (sink == nullptr) return absl::InternalError("a worker's checking sink was never created");
    outcome.output_rows += sink->rows_written();
    outcome.sink_seconds += sink->seconds();
    outcome.checksum.Merge(sink->Value());
    if (const JsonOutputCheck* json = sink->json_check(); json != nullptr) {
      outcome.json_checked = true;
      outcome.json_rows.Merge(json->Value());
      outcome.parse_seconds += sink->parse_seconds();
      if (outcome.json_error.empty()) outcome.json_error = json->error();
    }
  }
  if (outcome.json_checked && outcome.json_error.empty()) {
    // The encoder promises doubles in shortest round-trip form: what the JSON says must be the
    // batch's values exactly, not just within the oracle's tolerance.
    outcome.json_rows.Sort();
    outcome.checksum.Sort();
    // The JSON is checked against the batches it encodes ("output" is the JSON's, "expected"
    // the batch's).
    const std::string round_trip = outcome.json_rows.Difference(outcome.checksum, double_names_, 0.0);
    if (!round_trip.empty()) {
      outcome.json_error =
          StrCat("the JSON parsed back differs from the batches encoded (no tolerance): ", round_trip);
    }
  }
  return outcome;
}

Measurement ScenarioRunner::Measure(const std::string& level, int threads, int partitions,
                                    const std::string& placement, const std::vector<int>& cpus, double rate) {
  return MeasureInterleaved(level, {RunConfig{threads, partitions, placement, cpus}}, rate)[0];
}

std::vector<Measurement> ScenarioRunner::MeasureInterleaved(const std::string& level,
                                                            const std::vector<RunConfig>& configs,
                                                            double rate) {
  const bool latency = level == "latency";
  // Per configuration: its measurement and what its timed runs gave.
  struct Series {
    Measurement m;
    std::vector<double> seconds;
    std::vector<double> sink_shares;
    std::vector<LatencyStats> latencies;
    std::vector<double> checkpoints, checkpoint_pauses;
    uint64_t checkpoint_state_bytes = 0;
    std::vector<double> metrics_publishes, metrics_scrapes;
    bool all_match = true;
  };
  std::vector<Series> series(configs.size());
  for (size_t c = 0; c < configs.size(); ++c) {
    Measurement& m = series[c].m;
    m.scenario = scenario_.name;
    m.title = scenario_.title;
    m.level = level;
    m.threads = configs[c].threads;
    m.placement = configs[c].placement;
    m.source_partitions = configs[c].partitions;
    m.batch_size = options_.batch_size;
    m.records = records_;
    // The latency level also warms up (one paced run, not counted): the first run after other
    // levels starts behind as it touches memory they freed, a backlog of up to ~40 ms that its
    // records then wait out, which is the process's cold start rather than the pipeline's
    // latency. Its timed runs are kLatencyRuns: one paced run's p99 is at the mercy of a single
    // stall of the machine (on a shared VM, tens of milliseconds), so the median run is reported.
    m.warmup_runs = options_.gate ? 0 : options_.warmup_runs;
    // The metrics level's ratio is a difference of a few percent: its runs (tens of
    // milliseconds each) are at least kMetricsRuns pairs, so that one run's noise does not decide.
    m.runs = options_.gate        ? 1
             : latency            ? kLatencyRuns
             : level == "metrics" ? std::max(options_.runs, kMetricsRuns)
                                  : options_.runs;
  }
  // Round r runs every configuration once, so that the machine's drift over minutes (a shared
  // VM's speed changes by tens of percent) falls on every configuration alike.
  const int rounds = series[0].m.warmup_runs + series[0].m.runs;
  for (int run = 0; run < rounds; ++run) {
    for (size_t c = 0; c < configs.size(); ++c) {
      Series& s = series[c];
      Measurement& m = s.m;
      if (!m.error.empty()) continue;
      const RunConfig& config = configs[c];
      LatencyHistogram histogram;
      ResetPeakRss();
      auto outcome =
          RunOnce(level, config.threads, config.partitions, config.placement, config.cpus,
                  latency ? &histogram : nullptr, rate, config.checkpoint_interval_ms, config.metrics);
      m.peak_rss_bytes = std::max(m.peak_rss_bytes, outcome.ok() ? outcome->peak_rss_bytes : PeakRssBytes());
      if (!outcome.ok()) {
        m.error = std::string(outcome.status().message());
        m.checksum_ok = false;
        continue;
      }
      // Every run, warm-up included (and the gate's), is checked, value by value.
      const std::string difference =
          expected_ ? Difference(outcome->checksum, *expected_) : "no expected result";
      const bool match = difference.empty();
      if (!match) s.all_match = false;
      if (!match || m.actual.empty()) {
        m.actual = outcome->checksum.ToString();
        if (!match) StrAppend(&m.actual, "; ", difference);
      }
      m.output_rows = outcome->output_rows;
      m.result_rows = outcome->checksum.rows;
      m.state_keys = outcome->state_keys;
      m.state_bytes = outcome->state_bytes - outcome->state_key_string_bytes;
      m.state_string_bytes = outcome->state_key_string_bytes;
      m.keyed_stage = outcome->keyed_stage;
      if (run < m.warmup_runs) continue;
      s.seconds.push_back(outcome->seconds);
      s.sink_shares.push_back(outcome->sink_seconds / config.threads / outcome->seconds);
      if (config.metrics) {
        s.metrics_publishes.push_back(static_cast<double>(outcome->metrics_publishes));
        s.metrics_scrapes.push_back(static_cast<double>(outcome->metrics_scrapes));
      }
      if (config.checkpoint_interval_ms > 0) {
        s.checkpoints.push_back(static_cast<double>(outcome->checkpoints));
        if (outcome->checkpoints > 0) {
          s.checkpoint_pauses.push_back(outcome->checkpoint_seconds / static_cast<double>(outcome->checkpoints));
        }
        s.checkpoint_state_bytes = std::max(s.checkpoint_state_bytes, outcome->checkpoint_state_bytes);
      }
      if (latency) {
        LatencyStats stats;
        stats.rate = rate;
        stats.samples = histogram.count();
        stats.p50_us = static_cast<double>(histogram.Percentile(0.50)) / 1e3;
        stats.p99_us = static_cast<double>(histogram.Percentile(0.99)) / 1e3;
        stats.p999_us = static_cast<double>(histogram.Percentile(0.999)) / 1e3;
        stats.max_us = static_cast<double>(histogram.max()) / 1e3;
        s.latencies.push_back(stats);
      }
    }
  }
  // The codec level's JSON check: one more run per configuration, not timed, whose sink also
  // parses the encoded JSON back with simdjson's DOM API (JsonOutputCheck); the rows parsed are
  // what is compared with SQLite's, and they must equal the encoded batches exactly. Parsing
  // every line in the timed runs would add its cost to the codec figure, so the timed runs
  // encode and check the batches (as above), and this run checks the text they encode.
  if (level == "codec" && !options_.gate) {
    for (size_t c = 0; c < configs.size(); ++c) {
      Measurement& m = series[c].m;
      if (!m.error.empty()) continue;
      const RunConfig& config = configs[c];
      json_check_run_ = true;
      auto outcome =
          RunOnce(level, config.threads, config.partitions, config.placement, config.cpus, nullptr, rate);
      json_check_run_ = false;
      if (!outcome.ok()) {
        m.error = StrCat("JSON check run: ", outcome.status().message());
        continue;
      }
      std::string problem = outcome->json_error;
      if (problem.empty()) {
        problem = expected_ ? Difference(outcome->json_rows, *expected_) : "no expected result";
      }
      char timing[200];
      std::snprintf(timing, sizeof timing,
                    "parsing took %.2f s of that run's %.2f s (%.0f%%; the whole sink %.0f%%)",
                    outcome->parse_seconds, outcome->seconds, 100 * outcome->parse_seconds / outcome->seconds,
                    100 * outcome->sink_seconds / config.threads / outcome->seconds);
      m.json_check = StrCat("an extra untimed run parsed its ", outcome->json_rows.rows,
                            " encoded JSON records back with simdjson's DOM API: ",
                            problem.empty() ? "passed" : StrCat("FAILED: ", problem), "; ", timing);
      if (!problem.empty()) {
        series[c].all_match = false;
        m.actual = StrCat(outcome->json_rows.ToString(), "; JSON check: ", problem);
      }
    }
  }
  for (Series& s : series) {
    Measurement& m = s.m;
    if (m.error.empty()) {
      m.checksum_ok = s.all_match;
      if (expected_) m.expected = expected_->ToString();
      m.seconds = StatsOf(s.seconds);
      m.sink_share = StatsOf(s.sink_shares).median;
      std::vector<double> rates;
      for (double seconds : s.seconds) rates.push_back(static_cast<double>(records_) / seconds);
      m.records_per_second = StatsOf(rates);
      if (!s.latencies.empty()) {
        // The run with the median p99 (the lower middle of an even count), with the others'
        // p99 range beside it.
        std::vector<LatencyStats> by_p99 = s.latencies;
        std::sort(by_p99.begin(), by_p99.end(),
                  [](const LatencyStats& a, const LatencyStats& b) { return a.p99_us < b.p99_us; });
        LatencyStats chosen = by_p99[(by_p99.size() - 1) / 2];
        chosen.p99_min_us = by_p99.front().p99_us;
        chosen.p99_max_us = by_p99.back().p99_us;
        m.latency = chosen;
      }
    }
  }
  // The checkpoint level: each checkpointed configuration against the one without, measured in
  // the same rounds (configs[0]).
  for (size_t c = 0; level == "checkpoint" && c < configs.size(); ++c) {
    Series& s = series[c];
    if (!s.m.error.empty()) continue;
    Measurement::CheckpointCost cost;
    cost.interval_ms = configs[c].checkpoint_interval_ms;
    if (cost.interval_ms > 0) {
      cost.checkpoints_per_run = StatsOf(s.checkpoints).median;
      cost.pause_seconds_per_checkpoint = StatsOf(s.checkpoint_pauses).median;
      cost.state_bytes = s.checkpoint_state_bytes;
      const double none = series[0].m.records_per_second.median;
      cost.throughput_ratio = none > 0 ? s.m.records_per_second.median / none : 0;
      cost.projected_loss_at_1s = cost.pause_seconds_per_checkpoint / 1.0;
    }
    s.m.checkpoint = cost;
  }
  // The metrics level: the configuration with metrics against the one without (configs[0]).
  for (size_t c = 0; level == "metrics" && c < configs.size(); ++c) {
    Series& s = series[c];
    if (!s.m.error.empty()) continue;
    Measurement::MetricsCost cost;
    cost.enabled = configs[c].metrics;
    if (cost.enabled) {
      cost.publish_interval_ms = kLabMetricsPublishMillis;
      cost.publishes_per_run = StatsOf(s.metrics_publishes).median;
      cost.scrapes_per_run = StatsOf(s.metrics_scrapes).median;
      const double none = series[0].m.records_per_second.median;
      cost.throughput_ratio = none > 0 ? s.m.records_per_second.median / none : 0;
      const double extra = s.m.seconds.median - series[0].m.seconds.median;
      if (cost.publishes_per_run > 0)
        cost.seconds_per_publish = std::max(0.0, extra) / cost.publishes_per_run;
      cost.projected_loss_at_1s = cost.seconds_per_publish / 1.0;
    }
    s.m.metrics = cost;
  }
  std::vector<Measurement> out;
  for (Series& s : series) out.push_back(std::move(s.m));
  return out;
}

Measurement ScenarioRunner::MeasureEndToEnd() {
  Measurement m;
  m.scenario = scenario_.name;
  m.title = scenario_.title;
  m.level = "e2e";
  // The job's thread, librdkafka's threads and the mock brokers share the machine.
  m.threads = machine_.cores;
  m.batch_size = options_.batch_size;
  // The mock cluster keeps 5 MiB per partition: at most a million records go through Kafka.
  m.records = std::min<uint64_t>(records_, 1'000'000);
  m.warmup_runs = 0;
  m.runs = options_.runs;
  ResetPeakRss();
  auto fail = [&m](const absl::Status& status) {
    m.error = std::string(status.message());
    return m;
  };
  std::unique_ptr<Dataset> small;
  const Dataset* dataset = dataset_.get();
  if (m.records != records_) {
    auto made = GenerateDataset(scenario_.data, m.records, options_.batch_size, job_.sources[0]);
    if (!made.ok()) return fail(made.status());
    small = std::move(*made);
    dataset = small.get();
  }
  auto expected = Expected(*dataset);
  if (!expected.ok()) return fail(expected.status());
  m.expected = expected->ToString();
  EndToEndOptions e2e;
  char self[4096];
  const ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
  if (length <= 0) return fail(absl::InternalError("cannot locate the sluice command beside sluice-bench"));
  self[length] = '\0';
  std::string directory(self);
  e2e.sluice_binary = directory.substr(0, directory.rfind('/')) + "/sluice";
  e2e.work_dir = StrCat(options_.data_dir, "/e2e-", scenario_.name);
  e2e.kafka_job = scenario_.kafka_job;
  e2e.records = m.records;
  e2e.runs = options_.runs;
  e2e.output_types = output_types_;
  for (const Field& field : job_.statements.back().output_schema.fields()) e2e.output_names.push_back(field.name);
  e2e.changelog_key = changelog_key_;
  auto runs = RunKafkaEndToEnd(scenario_, e2e);
  if (!runs.ok()) return fail(runs.status());
  std::vector<double> rates, seconds, walls, startups;
  m.checksum_ok = true;
  for (EndToEndRun& run : *runs) {
    std::string problem = run.json_error;
    if (problem.empty()) problem = Difference(run.checksum, *expected);
    if (!problem.empty()) {
      m.checksum_ok = false;
      m.actual = StrCat(run.checksum.ToString(), "; ", problem);
    }
    if (m.actual.empty()) m.actual = run.checksum.ToString();
    m.output_rows = run.output_rows;
    rates.push_back(run.records_per_second_after_first);
    seconds.push_back(run.records_per_second_after_first > 0
                          ? static_cast<double>(m.records) / run.records_per_second_after_first
                          : run.wall_seconds);
    walls.push_back(run.wall_seconds);
    startups.push_back(run.startup_seconds);
  }
  m.records_per_second = StatsOf(rates);
  m.seconds = StatsOf(seconds);
  m.e2e_wall_seconds = StatsOf(walls).median;
  m.e2e_startup_seconds = StatsOf(startups).median;
  m.peak_rss_bytes = PeakRssBytes();
  return m;
}

std::vector<Measurement> ScenarioRunner::Run() {
  std::vector<Measurement> out;
  auto report = [&](const Measurement& m) {
    std::string line = StrCat(m.scenario, " ", m.level, " threads=", m.threads);
    if (m.source_partitions > 1) StrAppend(&line, " partitions=", m.source_partitions);
    if (m.placement != "default") StrAppend(&line, " placement=", m.placement);
    if (m.keyed_stage == "forward") StrAppend(&line, " (no exchange)");
    if (m.keyed_stage == "exchange") StrAppend(&line, " (keyed exchange)");
    if (!m.error.empty()) {
      std::fprintf(stderr, "%s: FAILED: %s\n", line.c_str(), m.error.c_str());
    } else if (m.level == "e2e") {
      std::fprintf(stderr,
                   "%s: %s rec/s from the first record on (median of %d; %s-%s; %s rec/s per core over the "
                   "machine's %d cores; consumer group startup %.1f s, whole run %.1f s); check %s\n",
                   line.c_str(), HumanRate(m.records_per_second.median).c_str(), m.runs,
                   HumanRate(m.records_per_second.min).c_str(), HumanRate(m.records_per_second.max).c_str(),
                   HumanRate(m.records_per_second.median / m.threads).c_str(), m.threads,
                   m.e2e_startup_seconds, m.e2e_wall_seconds, m.checksum_ok ? "passed" : "FAILED");
    } else if (m.latency) {
      std::fprintf(stderr,
                   "%s: %s rec/s offered, latency p50 %.1f us, p99 %.1f us, p99.9 %.1f us (the run with the "
                   "median p99 of %d; p99 %.1f-%.1f us); check %s\n",
                   line.c_str(), HumanRate(m.latency->rate).c_str(), m.latency->p50_us, m.latency->p99_us,
                   m.latency->p999_us, m.runs, m.latency->p99_min_us, m.latency->p99_max_us,
                   m.checksum_ok ? "passed" : "FAILED");
    } else {
      std::string state;
      if (m.state_keys > 0 && m.state_bytes > 0) {
        char text[160];
        const double keys = static_cast<double>(m.state_keys);
        std::snprintf(text, sizeof(text), "; %llu keys, state %.1f B/key + %.1f B/key of key strings",
                      static_cast<unsigned long long>(m.state_keys),
                      static_cast<double>(m.state_bytes) / keys,
                      static_cast<double>(m.state_string_bytes) / keys);
        state = text;
      }
      std::fprintf(stderr,
                   "%s: %s rec/s per core (median of %d; %s-%s; %.0f%% in the checking sink%s); check %s\n",
                   line.c_str(), HumanRate(m.records_per_second.median / m.threads).c_str(), m.runs,
                   HumanRate(m.records_per_second.min / m.threads).c_str(),
                   HumanRate(m.records_per_second.max / m.threads).c_str(), 100 * m.sink_share, state.c_str(),
                   m.checksum_ok ? "passed" : "FAILED");
    }
    if (m.checkpoint && m.checkpoint->interval_ms > 0) {
      const Measurement::CheckpointCost& cost = *m.checkpoint;
      std::fprintf(stderr,
                   "  checkpoints every %lld ms: %.0f per run, each pausing the job %.2f ms (snapshots taken and "
                   "handed to the writer thread; %s bytes of state); %.3fx the throughput without; projected "
                   "loss at a 1 s interval %.2f%%\n",
                   static_cast<long long>(cost.interval_ms), cost.checkpoints_per_run,
                   1000 * cost.pause_seconds_per_checkpoint, HumanRate(static_cast<double>(cost.state_bytes)).c_str(),
                   cost.throughput_ratio, 100 * cost.projected_loss_at_1s);
    }
    if (m.metrics && m.metrics->enabled) {
      const Measurement::MetricsCost& cost = *m.metrics;
      std::fprintf(
          stderr,
          "  metrics: the counters published every %lld ms (%.0f times per run) and /metrics scraped "
          "%.0f times per run; %.3fx the throughput without; %.1f us per publish, projected loss "
          "publishing once a second %.4f%%\n",
          static_cast<long long>(cost.publish_interval_ms), cost.publishes_per_run, cost.scrapes_per_run,
          cost.throughput_ratio, 1e6 * cost.seconds_per_publish, 100 * cost.projected_loss_at_1s);
    }
    if (!m.json_check.empty()) std::fprintf(stderr, "  JSON check: %s\n", m.json_check.c_str());
    if (!m.checksum_ok && m.error.empty()) {
      std::fprintf(stderr, "  expected %s\n  actual   %s\n", m.expected.c_str(), m.actual.c_str());
    }
    out.push_back(m);
  };
  auto wants = [&](const std::string& level) {
    if (!scenario_.HasLevel(level)) return false;
    return options_.levels.empty() ||
           std::find(options_.levels.begin(), options_.levels.end(), level) != options_.levels.end();
  };
  if (options_.gate) {
    report(Measure("core", 1, 1, "default", Placements(1)[0].second, 0));
    return out;
  }
  double core_rate = 0;
  if (wants("core")) {
    const std::vector<int>& thread_counts = options_.threads.empty() ? scenario_.threads : options_.threads;
    // Several workers read at least one source partition each: the input is split into at
    // least as many partitions as threads (so 2 threads over "1" partition run as 2 x 2).
    // Every configuration is measured in the same rounds (MeasureInterleaved): the scaling
    // figures are ratios between them.
    std::set<std::pair<int, int>> done;
    std::vector<RunConfig> configs;
    for (int listed_partitions : scenario_.source_partitions) {
      for (int threads : thread_counts) {
        const int partitions = std::max(listed_partitions, threads);
        if (!done.insert({threads, partitions}).second) continue;
        for (const auto& [placement, cpus] : Placements(threads)) {
          configs.push_back(RunConfig{threads, partitions, placement, cpus});
        }
      }
    }
    for (const Measurement& m : MeasureInterleaved("core", configs, 0)) {
      report(m);
      if (m.threads == 1 && m.source_partitions == 1) core_rate = m.records_per_second.median;
    }
    splits_.clear();
  }
  if (wants("checkpoint")) {
    // One thread, one partition: the same runs without checkpoints and with durable ones every
    // kLabCheckpointIntervalMillis, in the same rounds.
    const std::vector<int> cpus = Placements(1)[0].second;
    const std::vector<RunConfig> configs = {RunConfig{1, 1, "default", cpus, 0},
                                            RunConfig{1, 1, "default", cpus, kLabCheckpointIntervalMillis}};
    for (const Measurement& m : MeasureInterleaved("checkpoint", configs, 0)) report(m);
    splits_.clear();
  }
  if (wants("metrics")) {
    // One thread, one partition: the same runs without metrics and with them, in the same rounds.
    const std::vector<int> cpus = Placements(1)[0].second;
    RunConfig without{1, 1, "default", cpus};
    RunConfig with = without;
    with.metrics = true;
    for (const Measurement& m : MeasureInterleaved("metrics", {without, with}, 0)) report(m);
    splits_.clear();
  }
  if (wants("codec")) {
    const std::string path = DataPath("jsonl");
    absl::Status written = WriteDataFile(scenario_.data, records_, /*csv=*/false, path);
    if (!written.ok()) {
      Measurement failed;
      failed.scenario = scenario_.name;
      failed.level = "codec";
      failed.error = std::string(written.message());
      report(failed);
    } else {
      // Read once so that the timed runs find it in the page cache.
      std::ifstream warm(path, std::ios::binary);
      std::vector<char> chunk(1 << 22);
      while (warm.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || warm.gcount() > 0) {
      }
      report(Measure("codec", 1, 1, "default", Placements(1)[0].second, 0));
    }
  }
  if (wants("e2e")) report(MeasureEndToEnd());
  if (wants("latency")) {
    // Half the maximum sustainable rate: the median of the core level on one thread.
    if (core_rate <= 0) {
      Measurement probe = Measure("core", 1, 1, "default", Placements(1)[0].second, 0);
      core_rate = probe.records_per_second.median;
    }
    // Batches of 1024 overstate what a paced source sustains (it delivers the few records due
    // at a time). A rate the pipeline cannot keep up with shows as a median latency that keeps
    // growing; then the rate is halved, up to three times, and the last rate is reported.
    double rate = core_rate / 2;
    Measurement latency = Measure("latency", 1, 1, "default", Placements(1)[0].second, rate);
    for (int attempt = 0;
         attempt < 3 && latency.error.empty() && latency.latency && latency.latency->p50_us > 1000;
         ++attempt) {
      std::fprintf(stderr, "%s latency: %s rec/s not sustained (p50 %.1f ms); halving the rate\n",
                   scenario_.name.c_str(), HumanRate(rate).c_str(), latency.latency->p50_us / 1000);
      rate /= 2;
      latency = Measure("latency", 1, 1, "default", Placements(1)[0].second, rate);
    }
    report(latency);
  }
  return out;
}

std::string UtcTimestamp(const char* format) {
  const std::time_t now = std::time(nullptr);
  std::tm utc;
  gmtime_r(&now, &utc);
  char text[64];
  std::strftime(text, sizeof text, format, &utc);
  return text;
}

void WriteMachine(JsonWriter& json, const MachineInfo& machine) {
  json.BeginObject("machine")
      .String("cpu_model", machine.cpu_model)
      .Integer("cores", machine.cores)
      .Integer("numa_nodes", machine.numa_nodes)
      .Integer("memory_bytes", static_cast<int64_t>(machine.memory_bytes))
      .String("kernel", machine.kernel)
      .String("hostname", machine.hostname)
      .String("transparent_hugepages", machine.transparent_hugepages)
      .EndObject();
}

void WriteBuild(JsonWriter& json, const BuildInfo& build) {
  json.BeginObject("build")
      .String("compiler", build.compiler)
      .String("flags", build.flags)
      .String("build_type", build.build_type)
      .String("commit", build.commit)
      .Bool("dirty", build.dirty)
      .EndObject();
}

absl::Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError(StrCat("cannot write '", path, "'"));
  return absl::OkStatus();
}

absl::Status WriteMeasurement(const std::string& dir, const std::string& run_id, const std::string& timestamp,
                              const MachineInfo& machine, const BuildInfo& build, const Scenario& scenario,
                              const Measurement& m) {
  JsonWriter json;
  json.BeginObject()
      .String("schema", "sluice-bench-result/1")
      .String("run_id", run_id)
      .String("timestamp", timestamp)
      .String("engine", "sluice")
      .String("engine_version", SLUICE_VERSION);
  WriteMachine(json, machine);
  WriteBuild(json, build);
  json.String("scenario", m.scenario)
      .String("title", m.title)
      .String("level", m.level)
      .Integer("threads", m.threads)
      .String("placement", m.placement)
      .Integer("source_partitions", m.source_partitions)
      .String("keyed_stage", m.keyed_stage)
      .Integer("batch_size", static_cast<int64_t>(m.batch_size))
      .Integer("records", static_cast<int64_t>(m.records))
      .Integer("warmup_runs", m.warmup_runs)
      .Integer("runs", m.runs);
  auto stats = [&json](const char* key, const Stats& s, double divisor) {
    json.BeginObject(key)
        .Number("median", s.median / divisor)
        .Number("min", s.min / divisor)
        .Number("max", s.max / divisor)
        .EndObject();
  };
  stats("seconds", m.seconds, 1);
  stats("records_per_second", m.records_per_second, 1);
  stats("records_per_second_per_core", m.records_per_second, m.threads);
  json.BeginObject("target")
      .OptionalNumber("records_per_second", scenario.target_records_per_second)
      .String("source", scenario.target_source);
  // The state bound holds for the key count of the scenario's default record count: a smaller
  // run (--quick) has fewer keys in arrays sized by powers of two, so more capacity per key.
  if (scenario.target_state_bytes_per_key && m.records >= scenario.default_records) {
    json.Number("state_bytes_per_key", *scenario.target_state_bytes_per_key)
        .String("state_source", scenario.state_target_source);
  }
  json.EndObject();
  json.OptionalNumber("goal_records_per_second_per_core", scenario.goal_per_core);
  if (m.latency) {
    json.BeginObject("latency_us")
        .Number("rate", m.latency->rate)
        .Number("p50", m.latency->p50_us)
        .Number("p99", m.latency->p99_us)
        .Number("p99_min", m.latency->p99_min_us)
        .Number("p99_max", m.latency->p99_max_us)
        .Number("p999", m.latency->p999_us)
        .Number("max", m.latency->max_us)
        .Integer("samples", static_cast<int64_t>(m.latency->samples))
        .EndObject();
  } else {
    json.Null("latency_us");
  }
  json.Integer("peak_rss_bytes", static_cast<int64_t>(m.peak_rss_bytes));
  auto per_key = [&](uint64_t bytes) {
    return m.state_keys > 0 ? static_cast<double>(bytes) / static_cast<double>(m.state_keys) : 0;
  };
  json.BeginObject("state")
      .Integer("keys", static_cast<int64_t>(m.state_keys))
      .Integer("bytes", static_cast<int64_t>(m.state_bytes))
      .Integer("string_bytes", static_cast<int64_t>(m.state_string_bytes))
      .Number("bytes_per_key", per_key(m.state_bytes))
      .Number("string_bytes_per_key", per_key(m.state_string_bytes))
      .EndObject();
  json.Integer("output_rows", static_cast<int64_t>(m.output_rows));
  if (m.level == "e2e") {
    json.BeginObject("e2e")
        .Number("wall_seconds", m.e2e_wall_seconds)
        .Number("startup_seconds", m.e2e_startup_seconds)
        .String(
            "note",
            "Kafka -> query -> Kafka on the local mock cluster; rates from the first record on (the consumer "
            "group's startup_seconds excluded; wall_seconds includes it); job, librdkafka and mock brokers "
            "share "
            "the machine, so per core divides by all its cores")
        .EndObject();
  }
  json.Number("sink_share", m.sink_share);
  if (m.checkpoint) {
    json.BeginObject("checkpoint")
        .Integer("interval_ms", m.checkpoint->interval_ms)
        .Number("checkpoints_per_run", m.checkpoint->checkpoints_per_run)
        .Number("pause_seconds_per_checkpoint", m.checkpoint->pause_seconds_per_checkpoint)
        .Integer("state_bytes", static_cast<int64_t>(m.checkpoint->state_bytes))
        .Number("throughput_ratio_vs_none", m.checkpoint->throughput_ratio)
        .Number("projected_loss_at_1s", m.checkpoint->projected_loss_at_1s)
        .EndObject();
  } else {
    json.Null("checkpoint");
  }
  if (m.metrics) {
    json.BeginObject("metrics")
        .Bool("enabled", m.metrics->enabled)
        .Integer("publish_interval_ms", m.metrics->publish_interval_ms)
        .Number("publishes_per_run", m.metrics->publishes_per_run)
        .Number("scrapes_per_run", m.metrics->scrapes_per_run)
        .Number("throughput_ratio_vs_none", m.metrics->throughput_ratio)
        .Number("seconds_per_publish", m.metrics->seconds_per_publish)
        .Number("projected_loss_at_1s", m.metrics->projected_loss_at_1s)
        .EndObject();
  } else {
    json.Null("metrics");
  }
  json.BeginObject("checksum")
      .String("status", m.checksum_ok ? "pass" : "fail")
      .String("oracle", SqliteVersion())
      .String("expected", m.expected)
      .String("actual", m.actual)
      .String("json_check", m.json_check)
      .EndObject();
  if (!m.error.empty()) json.String("error", m.error);
  json.EndObject();
  std::string name = StrCat("sluice-", m.scenario, "-", m.level, "-t", m.threads);
  if (m.source_partitions > 1) StrAppend(&name, "-p", m.source_partitions);
  if (m.placement != "default") StrAppend(&name, "-", m.placement);
  if (m.checkpoint) {
    StrAppend(&name, m.checkpoint->interval_ms > 0 ? StrCat("-every", m.checkpoint->interval_ms, "ms") : "-none");
  }
  if (m.metrics) StrAppend(&name, m.metrics->enabled ? "-with-metrics" : "-without-metrics");
  return WriteText(StrCat(dir, "/", name, ".json"), json.text());
}

// Columns of a dataset for the reference engine's CSV loader.
void WriteColumns(JsonWriter& json, const Schema& schema) {
  json.BeginArray("columns");
  for (const Field& field : schema.fields()) {
    const char* type = field.type == TypeId::kDouble   ? "DOUBLE"
                       : field.type == TypeId::kString ? "VARCHAR"
                                                       : "BIGINT";
    json.BeginArray().String("", field.name).String("", type).EndArray();
  }
  json.EndArray();
}

// `path` made absolute (the reference engine's script runs in its own folder).
std::string Absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == nullptr) return path;
  std::string_view relative = path;
  while (StartsWith(relative, "./")) relative.remove_prefix(2);
  if (relative == "." || relative.empty()) return cwd;
  return StrCat(cwd, "/", relative);
}

}  // namespace

int RunBenchmarks(const BenchOptions& given, std::string* run_dir_out) {
  BenchOptions options = given;
  options.source_dir = Absolute(options.source_dir);
  options.scenarios_dir = Absolute(options.scenarios_dir);
  options.results_dir = Absolute(options.results_dir);
  options.data_dir = Absolute(options.data_dir);
  const MachineInfo machine = DescribeMachine();
  const BuildInfo build = DescribeBuild(options.source_dir);
  std::vector<std::string> names = options.scenarios;
  if (names.empty()) {
    auto all = ListScenarios(options.scenarios_dir);
    if (!all.ok()) {
      std::fprintf(stderr, "sluice-bench: %s\n", std::string(all.status().message()).c_str());
      return 1;
    }
    names = *all;
  }
  if (absl::Status made = MakeDirectories(options.data_dir); !made.ok()) {
    std::fprintf(stderr, "sluice-bench: %s\n", std::string(made.message()).c_str());
    return 1;
  }
  const std::string timestamp = UtcTimestamp("%Y-%m-%dT%H:%M:%SZ");
  const std::string run_id = StrCat(UtcTimestamp("%Y%m%dT%H%M%SZ"), "-", build.commit);
  const std::string run_dir = StrCat(options.results_dir, "/", run_id);
  if (!options.gate) {
    if (absl::Status made = MakeDirectories(run_dir); !made.ok()) {
      std::fprintf(stderr, "sluice-bench: %s\n", std::string(made.message()).c_str());
      return 1;
    }
    JsonWriter json;
    json.BeginObject().String("run_id", run_id).String("timestamp", timestamp);
    WriteMachine(json, machine);
    WriteBuild(json, build);
    json.EndObject();
    (void)WriteText(StrCat(run_dir, "/machine.json"), json.text());
    std::fprintf(stderr,
                 "sluice-bench: %s, %d cores, %d NUMA node%s, transparent huge pages %s; %s %s; results in "
                 "%s/\n",
                 machine.cpu_model.c_str(), machine.cores, machine.numa_nodes,
                 machine.numa_nodes == 1 ? "" : "s", machine.transparent_hugepages.c_str(),
                 build.compiler.c_str(), build.flags.c_str(), run_dir.c_str());
    if (machine.numa_nodes == 1) {
      std::fprintf(stderr,
                   "sluice-bench: one NUMA node: thread counts run with the default placement only\n");
    }
  }
  int status = 0;
  JsonWriter peer_spec;
  peer_spec.BeginObject().String("run_id", run_id).String("timestamp", timestamp);
  WriteMachine(peer_spec, machine);
  WriteBuild(peer_spec, build);
  peer_spec.Integer("runs", options.runs).Integer("warmup_runs", options.warmup_runs).Integer("threads", 1);
  peer_spec.BeginArray("queries");
  int peer_queries = 0;
  // The levels run per scenario; with only the state and nexmark levels asked for, no
  // scenario's data is generated.
  const bool scenario_levels =
      options.levels.empty() ||
      std::any_of(options.levels.begin(), options.levels.end(),
                  [](const std::string& level) { return level != "state" && level != "nexmark"; });
  for (const std::string& name : names) {
    if (!scenario_levels) break;
    if (name == "state_backends" || name == "nexmark") continue;  // the state and nexmark levels, below
    auto scenario = LoadScenario(options.scenarios_dir, name);
    if (!scenario.ok()) {
      std::fprintf(stderr, "sluice-bench: %s\n", std::string(scenario.status().message()).c_str());
      status = 1;
      continue;
    }
    ScenarioRunner runner(options, machine, *scenario);
    if (absl::Status prepared = runner.Prepare(); !prepared.ok()) {
      std::fprintf(stderr, "sluice-bench: %s: %s\n", name.c_str(), std::string(prepared.message()).c_str());
      status = 1;
      continue;
    }
    for (const Measurement& m : runner.Run()) {
      if (options.gate) {
        // ci/gate.py reads this line: the rows the sink received (for EMIT CHANGES, every change),
        // the rows of the result checked (the last row per key) and SQLite's.
        const uint64_t expected_rows = runner.expected() ? runner.expected()->rows : 0;
        std::printf("gate %s records=%llu output_rows=%llu result_rows=%llu expected_rows=%llu check=%s\n",
                    m.scenario.c_str(), static_cast<unsigned long long>(m.records),
                    static_cast<unsigned long long>(m.output_rows),
                    static_cast<unsigned long long>(m.result_rows),
                    static_cast<unsigned long long>(expected_rows),
                    m.error.empty() && m.checksum_ok ? "passed" : "FAILED");
        if (!m.error.empty() || !m.checksum_ok) status = 1;
        continue;
      }
      if (!m.checksum_ok) status = 1;
      if (absl::Status written =
              WriteMeasurement(run_dir, run_id, timestamp, machine, build, runner.scenario(), m);
          !written.ok()) {
        std::fprintf(stderr, "sluice-bench: %s\n", std::string(written.message()).c_str());
        status = 1;
      }
    }
    // The reference engine runs each scenario once (the multi-partition variant adds nothing
    // to a batch engine).
    if (options.peer && !options.gate && runner.scenario().source_partitions.size() == 1 &&
        runner.expected()) {
      auto csv = runner.CsvPath();
      if (!csv.ok()) {
        std::fprintf(stderr, "sluice-bench: %s\n", std::string(csv.status().message()).c_str());
        status = 1;
        continue;
      }
      const Scenario& s = runner.scenario();
      peer_spec.BeginObject()
          .String("scenario", s.name)
          .String("title", s.title)
          .Integer("records", static_cast<int64_t>(runner.records()))
          .Integer("expected_rows", static_cast<int64_t>(runner.expected()->rows));
      peer_spec.BeginObject("table").String("name", s.table).String("csv", *csv);
      WriteColumns(peer_spec, runner.dataset().schema);
      peer_spec.EndObject();
      peer_spec.String("sql", s.peer_sql);
      peer_spec.BeginObject("target")
          .OptionalNumber("records_per_second", s.target_records_per_second)
          .String("source", s.target_source)
          .EndObject();
      peer_spec.OptionalNumber("goal_records_per_second_per_core", s.goal_per_core);
      peer_spec.EndObject();
      ++peer_queries;
    }
  }
  peer_spec.EndArray().EndObject();
  // The state level (harness/src/state_backend_level.h): not a scenario of scenario.json's kind,
  // but run with them unless other scenarios or levels were asked for.
  const auto asked = [](const std::vector<std::string>& list, const char* name) {
    return list.empty() || std::find(list.begin(), list.end(), name) != list.end();
  };
  if (!options.gate && asked(options.levels, "state") && asked(options.scenarios, "state_backends")) {
    StateLevelOptions state;
    char self[4096];
    const ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    const std::string binary = length > 0 ? std::string(self, static_cast<size_t>(length)) : "";
    state.sluice_binary = binary.substr(0, binary.rfind('/')) + "/sluice";
    state.source_dir = options.source_dir;
    state.work_dir = StrCat(options.data_dir, "/state-level");
    if (options.quick) {
      // A check of the level's machinery: the cap is not below the in-memory footprint here.
      state.keys = 1'000'000;
      state.records = 1'200'000;
      state.memory_cap_bytes = uint64_t{512} << 20;
    }
    auto level = RunStateLevel(state);
    if (!level.ok()) {
      std::fprintf(stderr, "sluice-bench: state level: %s\n", std::string(level.status().message()).c_str());
      status = 1;
    } else {
      for (const StateLevelRun& run : level->runs) {
        if (!run.error.empty() || !run.check_ok) status = 1;
      }
      if (absl::Status written =
              WriteText(StrCat(run_dir, "/state-backends.json"), StateLevelJson(*level, run_id));
          !written.ok()) {
        std::fprintf(stderr, "sluice-bench: %s\n", std::string(written.message()).c_str());
        status = 1;
      }
    }
  }
  // The nexmark level (harness/src/nexmark_level.h): Nexmark's Flink SQL text, every query that
  // binds, on one core, against Flink's published per-core figures.
  if (!options.gate && asked(options.levels, "nexmark") && asked(options.scenarios, "nexmark")) {
    NexmarkLevelOptions nexmark;
    nexmark.source_dir = options.source_dir;
    nexmark.work_dir = StrCat(options.data_dir, "/nexmark-level");
    // Quick: a check of the machinery that adds seconds to CI, not figures to quote.
    nexmark.events = options.records > 0 ? options.records
                     : options.quick     ? static_cast<uint64_t>(200'000 * options.scale)
                                         : static_cast<uint64_t>(10'000'000 * options.scale);
    nexmark.runs = options.runs;
    nexmark.warmup_runs = options.warmup_runs;
    nexmark.batch_size = options.batch_size;
    if (!machine.node_cpus.empty() && !machine.node_cpus[0].empty()) nexmark.cpu = machine.node_cpus[0][0];
    auto level = RunNexmarkLevel(nexmark);
    if (!level.ok()) {
      std::fprintf(stderr, "sluice-bench: nexmark level: %s\n",
                   std::string(level.status().message()).c_str());
      status = 1;
    } else {
      if (!level->ok()) status = 1;
      if (absl::Status written =
              WriteText(StrCat(run_dir, "/nexmark.json"), NexmarkLevelJson(*level, run_id));
          !written.ok()) {
        std::fprintf(stderr, "sluice-bench: %s\n", std::string(written.message()).c_str());
        status = 1;
      }
    }
  }
  if (options.peer && !options.gate && peer_queries > 0) {
    const std::string spec_path = StrCat(run_dir, "/peer-spec.json");
    if (WriteText(spec_path, peer_spec.text()).ok()) {
      std::fprintf(stderr, "sluice-bench: reference engine (DuckDB, 1 thread) on the same data\n");
      const std::string command =
          StrCat("'", options.source_dir, "/harness/peers/duckdb/run.sh' '", spec_path, "'");
      if (std::system(command.c_str()) != 0) {
        std::fprintf(stderr, "sluice-bench: the reference engine's script failed; see %s/peer-status.json\n",
                     run_dir.c_str());
      }
    }
  }
  if (run_dir_out != nullptr && !options.gate) *run_dir_out = run_dir;
  return status;
}

}  // namespace sluice::bench
