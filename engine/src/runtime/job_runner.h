// JobRunner: instantiates a bound job's physical plan and drives it to completion on the
// calling thread.
//
// Every source (one FileSource per partition, i.e. per file it names; one KafkaSource for a Kafka source,
// whatever partitions its consumer group assigns) feeds a FanOut to the pipelines (Filter -> Project ->
// Limit chains) of the statements that read it; each statement's output feeds its sink (file, stdout or
// Kafka) and the pipelines of later statements that read its stream. Sources are polled round-robin, one
// batch at a time, until all are exhausted or every consumer is done, or until `cancel` is set (Ctrl-C),
// which stops reading and still flushes every sink.
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
#include <string>
#include <vector>

#include "connectors/file_sink.h"
#include "connectors/file_source.h"
#include "ops/aggregate_operator.h"
#include "ops/fan_out_operator.h"
#include "ops/late_record_sink.h"
#include "ops/rows_window_operator.h"
#include "ops/session_window_operator.h"
#include "plan/logical_plan.h"

namespace sluice {

struct RunOptions {
  size_t batch_size = 1024;
  bool strict = false;                        // first bad record fails the job
  const std::atomic<bool>* cancel = nullptr;  // set to stop reading

  // Connectors an embedding supplies instead of the job's own (the benchmark harness feeds
  // batches from memory and checks results in its own sink). Null: a FileSource per
  // partition, a FileSink per statement that names a sink.
  using SourceFactory = std::function<std::unique_ptr<SourcePartition>(
      const SourceDefinition& source, size_t partition, std::shared_ptr<DeadLetterWriter> dead_letters)>;
  using SinkFactory = std::function<std::unique_ptr<SinkOperator>(const BoundStatement& statement)>;
  SourceFactory make_source;
  SinkFactory make_sink;  // called for every statement that names a sink
};

struct JobCounters {
  uint64_t records_in = 0;     // records read from every source (good and bad)
  uint64_t records_out = 0;    // rows written by every sink
  uint64_t dead_lettered = 0;  // records sent to dead-letter outputs (bad or late)
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
};

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
  JobRunner(const BoundJob& job, const RunOptions& options) : job_(job), options_(options) {}
  absl::Status Build();
  absl::Status FlushPoint();
  std::string ExplainOperator(const Operator* op, int indent) const;

  const BoundJob& job_;
  RunOptions options_;
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
  // The stateful operators, for their counters.
  std::vector<const AggregateOperator*> aggregates_;
  std::vector<const SessionWindowOperator*> session_windows_;
  std::vector<const RowsWindowOperator*> rows_windows_;
  double elapsed_seconds_ = 0;
  double first_record_seconds_ = 0;
  bool cancelled_ = false;
};

}  // namespace sluice
