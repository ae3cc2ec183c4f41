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

std::optional<int64_t> WatermarkMerger::Advance(int64_t now_millis) {
  int64_t merged = INT64_MAX;
  bool any = false;
  for (const Partition& p : partitions_) {
    if (p.exhausted) continue;
    if (idle_timeout_ && now_millis - p.last_activity > *idle_timeout_) continue;  // idle
    any = true;
    merged = std::min(merged, p.watermark);
  }
  if (!any || merged <= emitted_) return std::nullopt;
  emitted_ = merged;
  return merged;
}

}  // namespace sluice
