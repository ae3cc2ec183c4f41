// TaskGraph: the plan of a job's tasks, as plain data, before anything runs. ParallelRunner
// (runtime/parallel_runner.h) instantiates it: readers, operators, channels, sinks, threads.
//
// PlanTaskGraph() decides, from the bound job and the run options:
//   - how many workers run the job, or why it runs fused on one thread whatever the
//     parallelism asks (SingleThreadReason);
//   - the source readers: one per partition of a source (a file), one per byte-range split of a
//     large file, or one per worker for a connector that deals its partitions out itself (a
//     Kafka consumer group); reader g runs on worker g mod N;
//   - for each statement, which operators of its chain run where: fused, the whole chain in the
//     one task; otherwise a source-side part on every worker, a keyed stage on every worker for
//     the keys hashed to it (fed by a keyed exchange, or forwarded from the worker's own
//     partitions when the source is partitioned by the key), and a gather tail on the
//     coordinator (LIMIT; the whole chain of a statement that reads another's stream); and
//     where its sink sits.
// Planning creates no thread, channel, reader or operator and opens no file; a file connector
// may look at a file's size (stat) to decide on byte-range splits.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "catalog/connector_registry.h"
#include "runtime/job_layout.h"
#include "runtime/job_runner.h"
#include "runtime/physical_plan.h"

namespace sluice {

// Why `job` runs on one thread whatever parallelism it asks for, or an empty string: a source
// or sink whose connector says so (a source that reads a stream: stdin, a FIFO).
std::string SingleThreadReason(const BoundJob& job);

// Whether a Top-N of `spec` reads the per-record watermark (so a keyed exchange into it
// carries each row's, like into a window).
bool TopNReadsWatermark(const TopNSpec& spec);

// One reader of a job source.
struct ReaderPlan {
  size_t source = 0;     // index in BoundJob::sources
  size_t partition = 0;  // its index among the source's readers (checkpoint names, explain)
  // The source definition's partition it reads (a file); 0 for a reader per worker.
  size_t definition_partition = 0;
  std::optional<SourceSplit> split;  // a byte range of that partition; nullopt: all of it
  int worker = 0;                    // the worker that reads it
  bool per_worker = false;           // one of a connector's readers per worker (it deals partitions)
};

// How rows reach a statement's keyed stage.
enum class KeyedInput {
  kNone,      // no keyed stage on workers (stateless, fused, or reads a stream)
  kExchange,  // a keyed exchange: every worker sends each row to the worker owning its key
  kForward,   // the source is partitioned by the key: each worker's own partitions' rows
};

// Where a statement's sink runs.
enum class SinkPlacement {
  kNone,         // the statement names no sink
  kFused,        // in the one fused task
  kCoordinator,  // on the coordinator, behind the gather
  kEachWorker,   // one per worker (RunOptions::make_worker_sink)
};

// The tasks of one statement. `chain` is its operators above the scan, input first; the
// indices below cut it (not used when fused: the whole chain is one task).
struct StatementTasks {
  const BoundStatement* statement = nullptr;
  std::vector<const LogicalOperator*> chain;
  std::optional<size_t> source;    // the job source it reads; nullopt: another statement's stream
  bool reads_stream = false;       // runs entirely on the coordinator (or in the fused task)
  bool read_as_stream = false;     // a later statement reads its output
  size_t pre_end = 0;              // chain[0, pre_end): every worker, source side
  std::optional<size_t> stateful;  // chain[*stateful, gather_begin): keyed stage on every worker
  size_t gather_begin = 0;         // chain[gather_begin, end): coordinator, behind the gather
  ExchangeKey key;                 // what the keyed stage's rows are hashed by
  KeyedInput keyed_input = KeyedInput::kNone;
  // A declared '<source>.partitioned.by' that does not spare the exchange, and why (explain).
  std::string forward_not_used;
  // The keyed exchange carries each row's watermark: one ordered source partition into an
  // operator that reads event time, so per-record lateness and expiry stay exact.
  bool carries_watermarks = false;
  // The keyed exchange carries the key words and hash of these key columns (a GROUP BY over
  // plain columns; ChannelSender::CarryKeys); empty: it does not.
  std::vector<size_t> carried_key_columns;
  SinkPlacement sink = SinkPlacement::kNone;
  bool gathered = false;  // workers send its rows to the coordinator over gather channels
};

struct TaskGraph {
  int requested_parallelism = 1;
  int workers = 1;
  bool fused = true;                       // one task on the calling thread, no channels
  std::string single_thread_reason;        // why a parallelism > 1 runs fused; "" otherwise
  std::vector<ReaderPlan> readers;         // every reader of every source, source by source
  std::vector<size_t> source_partitions;   // per job source: its readers
  std::vector<StatementTasks> statements;  // in the job's order

  // The readers of worker `worker`, as indices in `readers`.
  std::vector<size_t> ReadersOf(int worker) const;
  // Whether any reader of job source `source` reads a byte-range split.
  bool SourceIsSplit(size_t source) const;
};

// Plans the task graph of `job` for `options` (parallelism, batch size, file split size, and
// whether the embedding supplies sources and per-worker sinks). `restored`: the layout of the
// checkpoint the run resumes from, if it has one: each source it lists is read in the pieces it
// lists (see runtime/job_layout.h). Errors: parallelism below 1; a layout naming a partition the
// source does not have.
absl::StatusOr<TaskGraph> PlanTaskGraph(const BoundJob& job, const RunOptions& options,
                                        const JobLayout* restored = nullptr);

// The layout a checkpoint of `graph` records (runtime/job_layout.h).
JobLayout LayoutOf(const BoundJob& job, const TaskGraph& graph);

}  // namespace sluice
