// SinkOperator: the last operator of a statement's pipeline, which delivers its rows outside
// the job (a file, standard output, a Kafka topic; an embedding's own sink through
// RunOptions::make_sink).
#pragma once

#include <cstdint>

#include "ops/operator.h"

namespace sluice {

class SinkOperator : public Operator {
 public:
  // Acquires the output (creates the file); called once before the first Push().
  virtual absl::Status Open() = 0;
  // Rows delivered so far.
  virtual uint64_t rows_written() const = 0;
  // Ill-formed UTF-8 sequences the sink's encoder replaced with U+FFFD so far (JSON output).
  virtual uint64_t invalid_utf8_replaced() const { return 0; }
  // A flush point (see connectors/source.h): returns once everything pushed so far is
  // delivered and acknowledged by the destination (a Kafka sink awaits its delivery reports
  // and, when transactional, commits), or with the error that prevented it.
  virtual absl::Status Flush() { return absl::OkStatus(); }
  // What the sink's snapshots are the state of, for a savepoint restored into a changed query
  // (runtime/parallel_runner.cc): where and how it writes, without the stream's name, so that a
  // renamed statement keeping its `-- @uid:` restores into the same sink.
  virtual std::string StateSignature() const { return Describe(); }

  // --- exactly-once output with durable checkpoints (two-phase commit) ----------------------
  // Called once, before Restore() and Open(), when the job takes checkpoints or a savepoint
  // (`periodic`: durable checkpoints every interval; false: only a savepoint at the stop): from
  // then on the sink publishes only what a completed checkpoint covers (and what a finished run
  // wrote last). Returns false when the sink does not: it publishes at flush points, and the
  // barriers of checkpoints are flush points.
  virtual bool EnableTwoPhaseCommit(bool periodic) { return false; }
  // Barrier `checkpoint` reached the sink, after Flush(): seal what it received before the
  // barrier as that checkpoint's part; Snapshot() follows and records it.
  virtual absl::Status PreCommit(uint64_t checkpoint) { return absl::OkStatus(); }
  // `checkpoint` is durable: publish every part sealed for it or before. Called on the
  // coordinator's thread, where the job's sinks run (not for an embedding's per-worker sinks).
  // kEndOfRun: the run ended without failing (its input ended, or it stopped with a savepoint
  // that covers everything the sink received), after Finish(): publish the rest.
  virtual absl::Status Commit(uint64_t checkpoint) { return absl::OkStatus(); }
  static constexpr uint64_t kEndOfRun = UINT64_MAX;
  // Whether, after a crash between checkpoint N becoming durable and Commit(N), a run restored
  // from N still publishes what N sealed (a file sink: its parts are files, and Restore()
  // appends them). A sink that cannot (a Kafka transaction is aborted when its producer
  // restarts) returns false: the runtime then records each finished commit with the checkpoint
  // (CheckpointStore::RecordCommitted), and recovery uses only checkpoints whose commit
  // finished, so that the uncommitted output is produced again.
  virtual bool RecommitsOnRestore() const { return true; }
  // A sink never stops its input early.
  bool IsDone() const override { return false; }
};

}  // namespace sluice
