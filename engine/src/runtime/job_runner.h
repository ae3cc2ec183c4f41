// JobRunner: instantiates a bound job's physical plan and drives it to completion.
//
// With RunOptions::parallelism > 1 (or checkpoints) the job runs on the
// parallel runtime (runtime/parallel_runner.h): worker threads, keyed exchanges, barriers. What
// follows describes the single-threaded path, which runs on the calling thread.
//
// Every source (one FileSource per partition, i.e. per file it names; one KafkaSource for a Kafka source,
// whatever partitions its consumer group assigns) feeds a FanOut to the pipelines (Filter -> Project ->
// Limit chains) of the statements that read it; each statement's output feeds its sink (file, stdout or
// Kafka) and the pipelines of later statements that read its stream. Sources are polled round-robin, one
// batch at a time, until all are exhausted or every consumer is done, or until `cancel` is set (Ctrl-C),
// which stops reading and still flushes every sink. With 'watermark.alignment.max_drift', a
// partition whose watermark runs more than the drift ahead of the slowest active, non-idle
// partition skips its turns until the slowest catches up (the parallel runtime does the same).
//
// Flush points (connectors/source.h): after a round of batches, when a source asks for one (a Kafka
// source every commit interval), every sink's Flush() delivers what it received and every source's
// OnFlushPoint() commits what it returned; a Kafka source also runs one before a rebalance revokes its
// partitions. At the end of a run that did not fail, after every sink finished, a last flush point;
// then every source is closed.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/dead_letter_writer.h"
#include "connectors/sink.h"
#include "connectors/source.h"
#include "ops/aggregate_operator.h"
#include "ops/fan_out_operator.h"
#include "ops/late_record_sink.h"
#include "ops/rows_window_operator.h"
#include "ops/session_window_operator.h"
#include "plan/logical_plan.h"
#include "runtime/checkpoint_store.h"
#include "runtime/topology.h"

namespace sluice {

struct RunOptions {
  size_t batch_size = 1024;
  bool strict = false;                        // first bad record fails the job
  const std::atomic<bool>* cancel = nullptr;  // set to stop reading
  // The job's state limit in bytes, over its 'state.max.bytes' (`sluice run --memory-limit`).
  std::optional<uint64_t> state_max_bytes;

  // Connectors an embedding supplies instead of the job's own (the benchmark harness feeds
  // batches from memory and checks results in its own sink). Null: the factories of the
  // connectors the job names (connectors/registry.h).
  using SourceFactory = std::function<std::unique_ptr<SourcePartition>(
      const SourceDefinition& source, size_t partition, std::shared_ptr<DeadLetterWriter> dead_letters)>;
  using SinkFactory = std::function<std::unique_ptr<SinkOperator>(const BoundStatement& statement)>;
  SourceFactory make_source;
  SinkFactory make_sink;  // called for every statement that names a sink

  // --- the parallel runtime (runtime/parallel_runner.h) ------------------------------------
  // Worker threads. 1 runs the job on the calling thread, as one fused pipeline, unless a
  // checkpoint store asks for the task graph; Kafka jobs
  // always run on one thread (their offsets commit at flush points, not yet at checkpoints).
  int parallelism = 1;
  bool pin_workers = true;  // bind worker w to the CPU PlaceWorkers() gives it
  Placement placement = Placement::kCompact;
  size_t channel_capacity = 16;  // batches in flight per channel before backpressure
  // A regular file at least this large is read in `parallelism` splits (byte ranges, each a
  // partition with its own watermark), so that several workers decode it.
  uint64_t file_split_bytes = 64ull << 20;
  // Checkpoints: barriers injected every `checkpoint_interval_millis` (0: as soon as the
  // previous one completed), snapshots handed to `checkpoint_store`.
  CheckpointStore* checkpoint_store = nullptr;
  int64_t checkpoint_interval_millis = 1000;
  // Resume from this completed checkpoint of `checkpoint_store` (same job, same parallelism).
  std::optional<uint64_t> restore_checkpoint;
  // Per-worker sinks: when set, a statement whose rows go only to its sink (no LIMIT, no later
  // statement reads it) gets one sink per worker from this factory instead of one sink fed
  // by a gather; the embedding combines them (the lab's order-independent checksum does).
  using WorkerSinkFactory =
      std::function<std::unique_ptr<SinkOperator>(const BoundStatement& statement, int worker)>;
  WorkerSinkFactory make_worker_sink;
  // Tests: called in every task's loop (worker index, or -1 for the coordinator), e.g. to
  // inject random delays.
  std::function<void(int task)> task_hook;
};

struct JobCounters {
  uint64_t records_in = 0;     // records read from every source (good and bad)
  uint64_t records_out = 0;    // rows written by every sink
  uint64_t dead_lettered = 0;  // records sent to dead-letter outputs (bad or late)
  // Ill-formed UTF-8 sequences in string values that sinks wrote as U+FFFD (JSON output).
  uint64_t invalid_utf8_replaced = 0;
  uint64_t bytes_in = 0;
  double elapsed_seconds = 0;
  // From the start of the run to the first record (a Kafka source waits for its consumer
  // group to assign partitions first); 0 before any record.
  double first_record_seconds = 0;
  uint64_t late_dropped = 0;            // rows behind a closed window (dropped or dead-lettered)
  uint64_t state_evicted = 0;           // keys and ROWS partitions freed by state.ttl / EXPIRE AFTER
  uint64_t state_keys = 0;              // live groups (GROUP BY keys x open windows) and ROWS partitions
  uint64_t state_bytes = 0;             // bytes of GROUP BY state (key tables, accumulators), by capacity
  uint64_t state_key_string_bytes = 0;  // of state_bytes: the group keys' own string bytes
  bool cancelled = false;
  std::vector<std::string> dead_letter_files;  // files that received records

  uint64_t alignment_pauses = 0;  // times a source partition was paused for running ahead
  uint64_t alignment_resumes = 0;

  // The parallel runtime only.
  int workers = 1;
  // Statements whose keyed stage each worker feeds from its own partitions (the source is
  // partitioned by the key: no exchange), and those fed by a keyed exchange.
  int keyed_stages_forwarded = 0;
  int keyed_stages_exchanged = 0;
  uint64_t checkpoints_completed = 0;
  struct TaskTimes {
    std::string task;
    double busy_seconds = 0;
    double idle_seconds = 0;
    double backpressured_seconds = 0;
    std::string placement;  // "cpu 1 (node 0)" or why it is not pinned
  };
  std::vector<TaskTimes> tasks;
};

class ParallelRunner;

class JobRunner {
 public:
  static absl::StatusOr<std::unique_ptr<JobRunner>> Create(const BoundJob& job, const RunOptions& options);
  ~JobRunner();

  // Runs to completion. `on_progress` (optional) is called about once a second.
  absl::Status Run(const std::function<void(const JobCounters&)>& on_progress = nullptr);

  JobCounters counters() const;

  // The physical plan as an indented tree, from each source down to its sinks.
  std::string Explain() const;

 private:
  JobRunner(const BoundJob& job, const RunOptions& options);
  absl::Status Build();
  absl::Status FlushPoint();

  const BoundJob& job_;
  RunOptions options_;
  std::unique_ptr<ParallelRunner> parallel_;  // set when the job runs on the parallel runtime
  std::string single_thread_reason_;          // why a parallelism > 1 runs on one thread
  // One FileSource per partition (file), one KafkaSource per Kafka source; partitions of one
  // source share its fan-out and its dead-letter writer.
  std::vector<std::unique_ptr<SourcePartition>> sources_;
  std::vector<size_t> partition_source_;                         // partition -> index in job_.sources
  std::vector<size_t> partition_index_;                          // partition -> index within its source
  std::vector<std::unique_ptr<FanOutOperator>> source_outputs_;  // per job_.sources entry
  std::vector<std::shared_ptr<DeadLetterWriter>> dead_letters_;  // per job_.sources entry
  std::vector<std::unique_ptr<Operator>> operators_;             // every pipeline operator
  std::vector<SinkOperator*> sinks_;
  std::vector<std::unique_ptr<LateRecordSink>> late_sinks_;
  std::unique_ptr<StateBudget> state_budget_;  // 'state.max.bytes', when set
  // The stateful operators, for their counters.
  std::vector<const AggregateOperator*> aggregates_;
  std::vector<const SessionWindowOperator*> session_windows_;
  std::vector<const RowsWindowOperator*> rows_windows_;
  double elapsed_seconds_ = 0;
  double first_record_seconds_ = 0;
  bool cancelled_ = false;
  uint64_t alignment_pauses_ = 0;
  uint64_t alignment_resumes_ = 0;
};

}  // namespace sluice
