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

#include <algorithm>
#include <cstdint>
#include <functional>

#include "batch/batch.h"
#include "common/status.h"
#include "state/state_serializer.h"

namespace sluice {

struct SourceCounters {
  uint64_t records_read = 0;      // good and bad records
  uint64_t records_decoded = 0;   // rows produced
  uint64_t records_rejected = 0;  // sent to the dead-letter output
  uint64_t bytes_read = 0;
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

  // --- checkpoints (runtime/checkpoint_store.h) -----------------------------------------------
  // True when Snapshot() records a read position that Restore() can resume from. File and
  // Kafka sources do not yet: a job restored from a checkpoint refuses to run with them.
  virtual bool SupportsCheckpoints() const { return false; }
  // Writes the read position after the last batch returned (barrier time).
  virtual absl::Status Snapshot(StateWriter& writer) const { return absl::OkStatus(); }
  // Called before Open() on a fresh instance: resume after the snapshotted position.
  virtual absl::Status Restore(StateReader& reader) {
    return absl::UnimplementedError("this source cannot resume from a checkpoint");
  }
};

// Bounded-out-of-orderness watermark of one partition: the highest event time seen minus the
// allowed disorder minus 1 ms.
class EventTimeTracker {
 public:
  explicit EventTimeTracker(int64_t max_out_of_orderness_millis)
      : max_out_of_orderness_millis_(max_out_of_orderness_millis) {}

  // Observes the valid values of `times` (a TIMESTAMP column) in rows [0, rows).
  void Observe(const Column& times, size_t rows) {
    const int64_t* values = times.data<int64_t>();
    const uint8_t* valid = times.validity();
    int64_t highest = highest_;
    // Branch-free, so that it runs as vector code: a NULL row's value counts as INT64_MIN.
    for (size_t i = 0; i < rows; ++i) {
      const int64_t valid_mask = -static_cast<int64_t>(valid[i] != 0);
      const int64_t value = (values[i] & valid_mask) | (INT64_MIN & ~valid_mask);
      highest = value > highest ? value : highest;
    }
    highest_ = highest;
  }

  void ObserveValue(int64_t event_time) { highest_ = std::max(highest_, event_time); }

  int64_t watermark() const {
    return highest_ == INT64_MIN ? INT64_MIN : highest_ - max_out_of_orderness_millis_ - 1;
  }

 private:
  int64_t max_out_of_orderness_millis_;
  int64_t highest_ = INT64_MIN;
};

}  // namespace sluice
