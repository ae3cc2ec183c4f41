// Event time under bounded out-of-orderness ('watermark.max_out_of_orderness'): the one rule by
// which a watermark follows the records of an ordered input, and the places that apply it.
//
// The rule: once a record at event time t has been read, no record at or below
// t - bound - 1 may still come, so the watermark after it is the highest such value so far
// (WatermarkAfter). Three places apply it, all through this header:
//   - EventTimeTracker: a source partition's watermark, between batches;
//   - PerRecordWatermark: the same watermark advanced record by record, so that an operator
//     judges each row by the watermark just before it and its results do not depend on where
//     batches end (stateful operators, and the keyed exchange that carries it to them);
//   - InputWatermark: what a stateful operator's input stands at, the larger of the
//     watermark received between batches and the per-record one.
// Times are epoch milliseconds; INT64_MIN is "no watermark yet". Not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>

#include "batch/column.h"

namespace sluice {

// The watermark after a record at `event_time`, with `bound` (>= 0) ms of disorder allowed;
// INT64_MIN instead of an overflow.
inline int64_t WatermarkAfter(int64_t event_time, int64_t bound) {
  int64_t watermark = 0;
  return __builtin_sub_overflow(event_time, bound + 1, &watermark) ? INT64_MIN : watermark;
}

// A running watermark advanced per record.
class PerRecordWatermark {
 public:
  explicit PerRecordWatermark(int64_t bound_millis = 0) : bound_(bound_millis) {}

  int64_t bound() const { return bound_; }
  // The watermark after the records observed so far (INT64_MIN before any).
  int64_t value() const { return value_; }
  // A record at `event_time` was read. True when the watermark advanced.
  bool Observe(int64_t event_time) { return Raise(WatermarkAfter(event_time, bound_)); }
  // Raises the watermark to `watermark` if it is higher (one computed upstream of a subset of
  // the input, see InputWatermark::UseCarried). True when it advanced.
  bool Raise(int64_t watermark) {
    if (watermark <= value_) return false;
    value_ = watermark;
    return true;
  }
  // Restore: the value a snapshot recorded.
  void Reset(int64_t value) { value_ = value; }

 private:
  int64_t bound_;
  int64_t value_ = INT64_MIN;
};

// The watermark a stateful operator's input stands at: the highest received between batches
// (OnWatermark) or, unless the input interleaves several upstream partitions (whose rows are
// not in one order, so that only their merged watermark is safe), advanced by each record.
class InputWatermark {
 public:
  explicit InputWatermark(int64_t bound_millis) : running_(bound_millis) {}

  // Rows of several upstream partitions interleave: records do not advance the watermark.
  void SetInterleaved(bool interleaved) { per_record_ = !interleaved; }
  bool per_record() const { return per_record_; }

  int64_t received() const { return received_; }
  int64_t running() const { return running_.value(); }
  // The watermark before the next record.
  int64_t current() const { return std::max(received_, running_.value()); }
  // current() as it was before the last call of Observe() or ObserveCarried() that returned
  // true.
  int64_t previous() const { return previous_; }

  // A watermark arrived between batches. True when it is higher than any received before.
  bool Receive(int64_t watermark) {
    if (watermark <= received_) return false;
    received_ = watermark;
    return true;
  }
  // A record at `event_time` was accepted. True when current() advanced.
  bool Observe(int64_t event_time) {
    return per_record_ && Advance(WatermarkAfter(event_time, running_.bound()));
  }
  // The input as a whole stood at `watermark` just before a row: the row is one of a subset
  // of an ordered input (a keyed exchange carries the watermark of all of it). True when
  // current() advanced.
  bool ObserveCarried(int64_t watermark) { return Advance(watermark); }

  void Reset(int64_t received, int64_t running) {
    received_ = received;
    running_.Reset(running);
  }

 private:
  bool Advance(int64_t watermark) {
    if (watermark <= running_.value()) return false;
    previous_ = current();
    running_.Raise(watermark);
    return watermark > received_;
  }

  PerRecordWatermark running_;
  int64_t received_ = INT64_MIN;
  int64_t previous_ = INT64_MIN;
  bool per_record_ = true;
};

// A source partition's bounded-out-of-orderness watermark: the rule above over the highest
// event time seen, observed a batch at a time.
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

  // The highest event time observed (INT64_MIN before any), for a source's checkpoint.
  int64_t highest() const { return highest_; }
  void Restore(int64_t highest) { highest_ = highest; }

  int64_t watermark() const {
    return highest_ == INT64_MIN ? INT64_MIN : WatermarkAfter(highest_, max_out_of_orderness_millis_);
  }

 private:
  int64_t max_out_of_orderness_millis_;
  int64_t highest_ = INT64_MIN;
};

}  // namespace sluice
