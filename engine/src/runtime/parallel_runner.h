// ParallelRunner: the one executor. Runs a bound job as a task graph on N worker threads plus
// the calling thread (the coordinator); at parallelism 1 the same graph is fused into one task
// on the calling thread (below, "Fused"). Which operators run in which task is planned by
// PlanTaskGraph (runtime/task_graph.h), without threads; this file instantiates that plan and
// runs the task loop (workers, coordinator, barriers). The counters are JobMetrics
// (runtime/job_metrics.h).
//
// Fused (parallelism 1, or a job that reads a stream): each statement's whole chain, sink
// included, is one pipeline fed by its source's fan-out; sources are read in turns, a batch at a
// time, and a batch has passed every operator and sink before the next is read. No channels,
// no copies, no per-record cost over a hand-written loop. Stateful operators keep the binder's
// per-record watermarks (one partition) or merged ones (several). Checkpoints and flush points
// happen between batches, where nothing is in flight.
//
// Task graph (EXPLAIN prints it). For each statement that reads a source:
//   source tasks     every worker reads the source partitions dealt to it (partition g goes to
//                    worker g mod N) and runs the statement's stateless operators up to its
//                    first stateful one (GROUP BY, window, ROWS window), fused, on its thread;
//   keyed exchange   a ChannelSender routes each row by the hash of the stateful operator's
//                    key (GROUP BY keys, PARTITION BY columns; no key: all to worker 0) over one
//                    SPSC channel per (sending worker, receiving worker);
//   stateful tasks   each worker runs one instance of the stateful operator and what follows
//                    it, for the keys hashed to it;
//   gather and sink  the coordinator receives every worker's output over one channel each and
//                    runs LIMIT, statements that read another statement's stream, and the sinks.
//                    An embedding may instead take one sink per worker (RunOptions).
// Statements reading a stream run entirely on the coordinator. A Kafka source has one
// consumer-group member per worker (partition w of the job source is worker w's member); the
// group deals the topics' partitions out between them.
//
// Flush points (a Kafka source's commit interval, or a rebalance about to revoke partitions):
// a barrier as for a checkpoint (without snapshots when there is no store); when it completes,
// every sink has delivered the rows before it, and each worker commits the positions its
// sources recorded when the barrier left them (SourcePartition::PrepareFlushPoint). A worker
// whose source asks from inside a read (the rebalance) keeps its stages and channels moving,
// without reading, until a barrier it injected then has completed.
//
// Flow control: channels are bounded; a sender whose channel is full keeps the rest queued and
// its worker stops reading sources (while still draining its own inputs, so that no cycle of
// full channels can stall) until the queue has moved — backpressure reaches the sources. The
// per-batch path takes no lock and, once the channels' batch pools have filled, allocates
// nothing. Every task accounts its busy, idle and backpressured time (a read that returns no
// rows, such as a Kafka poll that waited for messages, is idle time); a worker publishes it,
// with the rows its sources read, after each step of its loop, and every channel counts the
// rows through it a batch at a time, so that the progress callback's live snapshots on several
// workers carry every task's records and times and every channel's figures (JobMetrics).
//
// Watermarks: a worker merges the watermarks of its own partitions of a source (minimum, idle
// partitions excluded after 'watermark.idle_timeout', WatermarkMerger) and sends the result on
// every channel after the rows it covers; a receiving task merges its input channels the same
// way. Windows fire on these watermarks, between batches (not per record). With
// 'watermark.alignment.max_drift', a partition whose watermark runs ahead of the slowest
// non-idle partition of the job by more than the drift is not read until the slowest catches
// up.
//
// Checkpoints (with RunOptions::checkpoint_store): the coordinator asks for barrier N; each
// worker snapshots its source partitions' positions and sends barrier N on every channel after
// the rows read so far; a task with several inputs stops reading each input that delivered
// barrier N until all have (alignment), then snapshots its operators, flushes its sinks and
// passes barrier N on. When the coordinator's gather task and every worker have passed N, the
// store's Complete(N) is called. One checkpoint is in flight at a time.
//
// Errors: the first task failure stops every task promptly; Run() returns it naming the task
// and its operators. Cancellation (RunOptions::cancel) stops the sources, drains what was read
// through every task and sink, and returns OK with counters().cancelled set.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "runtime/job_runner.h"

namespace sluice {

class ParallelRunner {
 public:
  static absl::StatusOr<std::unique_ptr<ParallelRunner>> Create(const BoundJob& job,
                                                                const RunOptions& options);
  ~ParallelRunner();

  absl::Status Run(const std::function<void(const JobCounters&)>& on_progress);
  // Complete after Run() returns; during Run() the progress callback gets a live subset.
  JobCounters counters() const;
  std::string Explain() const;

  struct Impl;

 private:
  explicit ParallelRunner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
