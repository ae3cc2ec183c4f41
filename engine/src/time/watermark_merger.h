// WatermarkMerger: the watermark of an input made of several partitions (the files of a source
// today, Kafka partitions later) is the minimum of its partitions' watermarks, over the
// partitions that can still hold it back:
//   - an exhausted partition (a file read to its end) holds nothing back;
//   - a partition that has delivered no record for `idle_timeout` (wall-clock time) while it
//     is not exhausted is idle and excluded until it delivers again ('watermark.idle_timeout').
// The merged watermark never goes backwards. Times are milliseconds; the caller passes the
// clock so that tests can drive it. Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace sluice {

class WatermarkMerger {
 public:
  // `idle_timeout_millis`: nullopt = partitions never become idle.
  WatermarkMerger(size_t partitions, std::optional<int64_t> idle_timeout_millis, int64_t now_millis);

  // Partition `p` delivered records and now has watermark `watermark` (INT64_MIN before any).
  void OnRecords(size_t partition, int64_t watermark, int64_t now_millis);
  void OnExhausted(size_t partition);

  // The merged watermark if it advanced since the last call, else nullopt. Exhausted or idle
  // partitions are skipped; when every partition is exhausted nothing advances here (the
  // caller ends the input with the final watermark).
  std::optional<int64_t> Advance(int64_t now_millis);

  // The least watermark over the partitions that can hold the merge back (not exhausted, not
  // idle), with partition `self` counted even when idle; nullopt when there is none. Advance()
  // merges this; watermark alignment compares a partition with it.
  std::optional<int64_t> Slowest(int64_t now_millis, std::optional<size_t> self = std::nullopt) const;

  int64_t watermark(size_t partition) const { return partitions_[partition].watermark; }
  int64_t current() const { return emitted_; }

 private:
  struct Partition {
    int64_t watermark = INT64_MIN;
    int64_t last_activity = 0;
    bool exhausted = false;
  };
  std::vector<Partition> partitions_;
  std::optional<int64_t> idle_timeout_;
  int64_t emitted_ = INT64_MIN;
};

// Watermark alignment ('watermark.alignment.max_drift'): whether a partition at watermark
// `mine` runs more than `max_drift` ahead of `slowest`, the least watermark over the partitions
// that can hold it back (not exhausted, not idle; itself included). Such a partition is not read
// until the slowest catches up. A partition without a watermark yet (INT64_MIN) is never ahead.
inline bool RunsAhead(int64_t mine, int64_t slowest, int64_t max_drift) {
  return mine != INT64_MIN && mine > slowest &&
         static_cast<uint64_t>(mine) - static_cast<uint64_t>(slowest) > static_cast<uint64_t>(max_drift);
}

}  // namespace sluice
