// SourcePartition: one partition of a source, read batch by batch by the runtime. A file
// source has one per file; an embedding (the benchmark harness, tests) can supply its own
// through RunOptions::make_source, e.g. batches already in memory.
//
// Contract of Next(): a batch whose columns are the source's schema in order, `_event_time`
// (TIMESTAMP) last; valid until the next call. A bounded source's batches have at least one
// row; an unbounded one (Kafka) returns an empty batch when nothing arrived within a short
// wait (about 100 ms), so that the runtime can react to Ctrl-C and advance time. Not
// thread-safe.
//
// Flush points (at-least-once sources): a flush point is a moment when every record returned
// by Next() so far has been pushed through the job and every sink has acknowledged all it
// received (SinkOperator::Flush). The runtime runs one when a source's flush_due() says so and
// at the end of a run that did not fail, then calls OnFlushPoint() on every source; a Kafka
// source commits its consumer offsets there. A source can also run one itself through the
// hook it is given, e.g. before it gives up partitions in a consumer-group rebalance.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "batch/batch.h"
#include "common/status.h"
#include "state/state_serializer.h"
#include "time/event_time.h"  // EventTimeTracker, for every source

namespace sluice {

struct SourceCounters {
  uint64_t records_read = 0;      // good and bad records
  uint64_t records_decoded = 0;   // rows produced
  uint64_t records_rejected = 0;  // sent to the dead-letter output
  uint64_t bytes_read = 0;
};

// How far a source partition's reader is behind its input, per partition of the input (a
// Kafka topic's): the partition's high watermark minus the position after the last record the
// source returned, in records (control records of transactions included).
struct PartitionLag {
  std::string topic;
  int32_t partition = 0;
  int64_t lag = 0;
};

class SourcePartition {
 public:
  virtual ~SourcePartition() = default;

  // Acquires the input (opens the file); called once before the first Next().
  virtual absl::Status Open() = 0;
  // Produces the next batch into `out`; false once the partition is exhausted.
  virtual absl::StatusOr<bool> Next(Batch& out) = 0;
  // The event-time watermark after the batches read so far; INT64_MIN before any record.
  virtual int64_t watermark() const = 0;
  virtual const SourceCounters& counters() const = 0;

  // --- flush points (see above); file and in-memory sources need none of this ---------------
  using FlushHook = std::function<absl::Status()>;
  // Called once before Open(): how the source runs a flush point itself.
  virtual void SetFlushHook(FlushHook hook) {}
  // True when the source wants a flush point now (e.g. its commit interval elapsed).
  virtual bool flush_due() const { return false; }
  // Records the read positions after the records returned so far: the ones the next
  // OnFlushPoint() commits. The runtime calls it when a barrier passes the source; records
  // returned afterwards are not covered, as they may still be in flight.
  virtual void PrepareFlushPoint() {}
  // Every record returned before the last PrepareFlushPoint() is acknowledged downstream:
  // commit those read positions.
  virtual absl::Status OnFlushPoint() { return absl::OkStatus(); }
  // Releases the input after the run (a Kafka consumer leaves its group). Idempotent.
  virtual absl::Status Close() { return absl::OkStatus(); }

  // Appends the lag of every input partition this reader owns, as last published by the
  // reader (a Kafka source: at most every KafkaSource::kLagIntervalMillis, after a poll batch,
  // and when it closes); nothing for sources without one. Thread-safe: the runtime's
  // coordinator calls it while the reader runs on a worker.
  virtual void AppendPartitionLag(std::vector<PartitionLag>& out) const {}

  // --- checkpoints (runtime/checkpoint_store.h) -----------------------------------------------
  // True when Snapshot() records a read position that Restore() can resume from (file sources
  // reading regular files, Kafka sources); a job that checkpoints refuses to run with others.
  virtual bool SupportsCheckpoints() const { return false; }
  // Called once, before Restore() and Open(), when the job writes durable checkpoints: the
  // checkpoints now hold the read positions that count. The source asks for no flush point of
  // its own (flush_due() stays false) and commits positions only in OnFlushPoint(), which the
  // runtime then calls once a checkpoint is durable (a Kafka source's group offsets follow the
  // checkpoints instead of running ahead of them).
  virtual void CommitOnCheckpoints() {}
  // Writes the read position after the last batch returned (barrier time).
  virtual absl::Status Snapshot(StateWriter& writer) const { return absl::OkStatus(); }
  // Called before Open() on a fresh instance: resume after the snapshotted position.
  virtual absl::Status Restore(StateReader& reader) {
    return absl::UnimplementedError("this source cannot resume from a checkpoint");
  }
};

}  // namespace sluice
