#include "time/watermark_merger.h"

#include <algorithm>

namespace sluice {

WatermarkMerger::WatermarkMerger(size_t partitions, std::optional<int64_t> idle_timeout_millis,
                                 int64_t now_millis)
    : partitions_(partitions), idle_timeout_(idle_timeout_millis) {
  for (auto& partition : partitions_) partition.last_activity = now_millis;
}

void WatermarkMerger::OnRecords(size_t partition, int64_t watermark, int64_t now_millis) {
  Partition& p = partitions_[partition];
  p.watermark = std::max(p.watermark, watermark);
  p.last_activity = now_millis;
}

void WatermarkMerger::OnExhausted(size_t partition) {
  partitions_[partition].exhausted = true;
}

std::optional<int64_t> WatermarkMerger::Slowest(int64_t now_millis, std::optional<size_t> self) const {
  std::optional<int64_t> slowest;
  for (size_t i = 0; i < partitions_.size(); ++i) {
    const Partition& p = partitions_[i];
    if (p.exhausted) continue;
    const bool idle = idle_timeout_ && now_millis - p.last_activity > *idle_timeout_;
    if (idle && i != self) continue;
    slowest = std::min(slowest.value_or(INT64_MAX), p.watermark);
  }
  return slowest;
}

std::optional<int64_t> WatermarkMerger::Advance(int64_t now_millis) {
  const std::optional<int64_t> merged = Slowest(now_millis);
  if (!merged || *merged <= emitted_) return std::nullopt;
  emitted_ = *merged;
  return merged;
}

}  // namespace sluice
