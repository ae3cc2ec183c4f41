// JobRunner: runs a bound job to completion: the facade over the task-graph runtime
// (runtime/parallel_runner.h), the one executor of every job.
//
// Every source (one FileSource per file it names, or per byte-range split of a large file; one
// Kafka consumer-group member per worker for a Kafka source) feeds the statements that read it;
// each statement's output feeds its sink (file, stdout or Kafka) and the statements that read
// its stream. At parallelism 1 the whole graph is fused into one task on the calling thread:
// sources are read in turns, a batch at a time, and each batch goes through its statements'
// operators and into the sinks before the next is read (no channels, no copies). At
// parallelism N the graph runs on N worker threads with keyed exchanges and a coordinator
// (see parallel_runner.h). A job that reads a stream (stdin, a FIFO) runs fused whatever the
// parallelism, and `Explain()` says why.
//
// The run ends when the bounded sources end or every consumer is done (LIMIT), or on
// `RunOptions::cancel` (Ctrl-C), which stops reading and still flushes every sink. Flush points
// (connectors/source.h): when a source asks for one (a Kafka source every commit interval, or
// before a rebalance revokes its partitions), every sink delivers what it received and then the
// sources commit the positions of what was read before; on more than one worker this is a
// barrier through the task graph. At the end of a run that did not fail, after every sink
// finished, a last flush point; then every source is closed.
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
#include "ops/late_record_sink.h"
#include "ops/stateful_operator.h"
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
  // connectors the job names (catalog/connector_registry.h).
  using SourceFactory = std::function<std::unique_ptr<SourcePartition>(
      const SourceDefinition& source, size_t partition, std::shared_ptr<DeadLetterWriter> dead_letters)>;
  using SinkFactory = std::function<std::unique_ptr<SinkOperator>(const BoundStatement& statement)>;
  SourceFactory make_source;
  SinkFactory make_sink;  // called for every statement that names a sink

  // --- the parallel runtime (runtime/parallel_runner.h) ------------------------------------
  // Worker threads. 1 runs the job's task graph fused on the calling thread.
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
  // How often Run() calls its on_progress callback (the lab's metrics level calls it far more
  // often than a deployment would, to bound the cost of publishing metrics).
  int64_t progress_interval_millis = 1000;
  // Resume from this completed checkpoint of `restore_store` (or, when that is null, of
  // `checkpoint_store`): same job; at another parallelism its keyed state is rescaled
  // (state/key_groups.h).
  std::optional<uint64_t> restore_checkpoint;
  CheckpointStore* restore_store = nullptr;
  // Stop with a savepoint: on cancellation, one last barrier goes to this store instead of
  // stopping at once; each source stops reading as the barrier leaves it, and the run stops
  // (no window becomes final) once the savepoint is complete and durable. Restored with
  // restore_store, the job goes on exactly where it stopped.
  CheckpointStore* savepoint_store = nullptr;
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
  // Summed over every stateful operator instance (StatefulMetrics).
  uint64_t late_dropped = 0;   // rows behind a closed window or out of ORDER BY (dropped or dead-lettered)
  uint64_t state_evicted = 0;  // keys and ROWS partitions freed by state.ttl / EXPIRE AFTER
  // Live keys: groups (GROUP BY keys x open windows), session windows' keys, ROWS partitions.
  uint64_t state_keys = 0;
  uint64_t state_bytes = 0;  // bytes of operator state (key tables, accumulators, buffers), by capacity
  uint64_t state_key_string_bytes = 0;  // of state_bytes: the GROUP BY keys' own string bytes
  bool cancelled = false;
  std::vector<std::string> dead_letter_files;  // files that received records
  // The job's event-time watermark, epoch milliseconds: the lowest of its source partitions'
  // (SourcePartition::watermark; in a live snapshot of a run on several workers, as each worker
  // last published its partitions'); none while a partition has none yet.
  std::optional<int64_t> watermark;
  // False for a live snapshot (JobMetrics::Live) of a run on several workers: it holds only what
  // the coordinator may read while the workers run (records in and out, elapsed time,
  // checkpoints, every task's records and busy / idle / backpressured time as the workers last
  // published them, the channels' figures, the watermark, the Kafka consumer lag); the other
  // counters are zero there. A fused run's live snapshots and every final one hold everything.
  bool complete = true;

  uint64_t alignment_pauses = 0;  // times a source partition was paused for running ahead
  uint64_t alignment_resumes = 0;

  // The parallel runtime only.
  int workers = 1;
  // Statements whose keyed stage each worker feeds from its own partitions (the source is
  // partitioned by the key: no exchange), and those fed by a keyed exchange.
  int keyed_stages_forwarded = 0;
  int keyed_stages_exchanged = 0;
  uint64_t checkpoints_completed = 0;
  // The run's savepoint (RunOptions::savepoint_store), in the run's numbering; 0: none taken.
  uint64_t savepoint = 0;
  // From each checkpoint's barrier request to its completion, summed: on one thread (fused)
  // the time the job paused for its checkpoints.
  double checkpoint_seconds = 0;
  struct TaskTimes {
    std::string task;
    double busy_seconds = 0;
    double idle_seconds = 0;
    double backpressured_seconds = 0;
    std::string placement;  // "cpu 1 (node 0)" or why it is not pinned; empty before it is known
    // Rows the task took in (read from its source partitions, taken from its input channels)
    // and passed on (put into its output channels, written by its own sinks).
    uint64_t records_in = 0;
    uint64_t records_out = 0;
  };
  // The parallel runtime's tasks: one per worker thread ("worker 0", …), then the "coordinator";
  // fused, the one task "job (fused, one thread)".
  std::vector<TaskTimes> tasks;
  // The channels between the tasks (runtime/exchange.h), as built; none when fused.
  struct ChannelFigures {
    std::string statement;
    // "exchange" (keyed, worker to worker), "forward" (to the same worker's keyed stage: the
    // source is partitioned by the key) or "gather" (worker to coordinator).
    std::string kind;
    size_t from_task = 0;  // indexes into `tasks`
    size_t to_task = 0;
    uint64_t records_sent = 0;      // rows the sender put into the channel
    uint64_t records_received = 0;  // rows the receiver took out of it
    uint64_t queued = 0;            // messages in the channel when the snapshot was taken
    uint64_t capacity = 0;          // messages it holds at most (full: the sender is held back)
  };
  std::vector<ChannelFigures> channels;
  // Kafka consumer lag per topic partition (SourcePartition::AppendPartitionLag), by topic then
  // partition; live snapshots on several workers hold it too.
  std::vector<PartitionLag> partition_lag;

  void AddStatefulMetrics(const StatefulMetrics& metrics) {
    late_dropped += metrics.late_dropped;
    state_evicted += metrics.evicted;
    state_keys += metrics.keys;
    state_bytes += metrics.bytes;
    state_key_string_bytes += metrics.key_string_bytes;
  }
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
  explicit JobRunner(std::unique_ptr<ParallelRunner> runtime);

  std::unique_ptr<ParallelRunner> runtime_;
};

}  // namespace sluice
