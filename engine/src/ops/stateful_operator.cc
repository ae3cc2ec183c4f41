#include "ops/stateful_operator.h"

#include <algorithm>

namespace sluice {

StatefulMetrics& StatefulMetrics::operator+=(const StatefulMetrics& other) {
  late_dropped += other.late_dropped;
  evicted += other.evicted;
  keys += other.keys;
  bytes += other.bytes;
  key_string_bytes += other.key_string_bytes;
  return *this;
}

StatefulMetrics StatefulOperator::metrics() const {
  const StateUsage usage = state_usage();
  StatefulMetrics metrics;
  metrics.late_dropped = late_dropped_;
  metrics.evicted = evicted_;
  metrics.keys = usage.keys;
  metrics.bytes = usage.bytes;
  metrics.key_string_bytes = key_string_bytes();
  return metrics;
}

absl::Status StatefulOperator::OnWatermark(int64_t watermark) {
  if (event_time_.Receive(watermark)) SLUICE_RETURN_IF_ERROR(AdvanceEventTime(event_time_.current()));
  SLUICE_RETURN_IF_ERROR(ChargeState());
  return Operator::OnWatermark(watermark);
}

void StatefulOperator::SnapshotEventTime(StateWriter& writer) const {
  writer.WriteI64(event_time_.received());
  writer.WriteI64(event_time_.running());
  writer.WriteU64(late_dropped_);
}

absl::Status StatefulOperator::RestoreEventTime(StateReader& reader) {
  SLUICE_ASSIGN_OR_RETURN(int64_t received, reader.ReadI64());
  SLUICE_ASSIGN_OR_RETURN(int64_t running, reader.ReadI64());
  SLUICE_ASSIGN_OR_RETURN(late_dropped_, reader.ReadU64());
  event_time_.Reset(received, running);
  return absl::OkStatus();
}

void StatefulOperator::AbsorbEventTime(const StatefulOperator& part, bool first, bool counters) {
  const InputWatermark& theirs = part.event_time_;
  if (first) {
    event_time_.Reset(theirs.received(), theirs.running());
  } else {
    event_time_.Reset(std::min(event_time_.received(), theirs.received()),
                      std::min(event_time_.running(), theirs.running()));
  }
  if (counters) {
    late_dropped_ += part.late_dropped_;
    evicted_ += part.evicted_;
  }
}

}  // namespace sluice
