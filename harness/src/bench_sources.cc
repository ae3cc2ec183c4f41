#include "bench_sources.h"

#include <cstring>
#include <thread>

namespace sluice::bench {
namespace {

// Observes the event times of the active rows of `batch` (last column).
void ObserveEventTimes(const Batch& batch, EventTimeTracker& tracker) {
  const Column& times = batch.column(batch.num_columns() - 1);
  if (!batch.has_selection()) {
    tracker.Observe(times, batch.num_rows());
    return;
  }
  // Rows outside the selection must not advance the watermark.
  const int64_t* values = times.data<int64_t>();
  const uint8_t* valid = times.validity();
  int64_t highest = INT64_MIN;
  for (size_t i = 0; i < batch.active_rows(); ++i) {
    const uint32_t row = batch.ActiveRow(i);
    if (valid[row] && values[row] > highest) highest = values[row];
  }
  tracker.ObserveValue(highest);
}

}  // namespace

absl::StatusOr<bool> MemorySource::Next(Batch& out) {
  if (next_ == slices_->size()) return false;
  const BatchSlice& slice = (*slices_)[next_++];
  out.ShareColumns(*slice.batch);
  if (!slice.rows.empty()) {
    std::memcpy(out.MutableSelection(), slice.rows.data(), slice.rows.size() * sizeof(uint32_t));
    out.SetSelectionCount(slice.rows.size());
  }
  ObserveEventTimes(out, event_time_);
  counters_.records_read += out.active_rows();
  counters_.records_decoded += out.active_rows();
  return true;
}

PacedSource::PacedSource(const std::vector<Batch>* batches, double records_per_second, size_t max_batch,
                         int64_t max_out_of_orderness_millis, LatencyHistogram* latencies)
    : batches_(batches),
      nanos_per_record_(1e9 / records_per_second),
      max_batch_(max_batch),
      latencies_(latencies),
      event_time_(max_out_of_orderness_millis) {}

absl::Status PacedSource::Open() {
  start_ = Clock::now();
  return absl::OkStatus();
}

void PacedSource::RecordDelivered(Clock::time_point now) {
  const double done =
      static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - start_).count());
  for (uint64_t i = sequence_ - in_flight_; i < sequence_; ++i) {
    const double due = static_cast<double>(i) * nanos_per_record_;
    latencies_->Record(done > due ? static_cast<uint64_t>(done - due) : 0);
  }
  in_flight_ = 0;
}

absl::StatusOr<bool> PacedSource::Next(Batch& out) {
  Clock::time_point now = Clock::now();
  RecordDelivered(now);
  while (batch_ < batches_->size() && row_ == (*batches_)[batch_].num_rows()) {
    ++batch_;
    row_ = 0;
  }
  if (batch_ == batches_->size()) return false;
  // Wait for the next record to become due (spinning: sleeping would add the scheduler's
  // wake-up delay to every latency).
  auto due_count = [&](Clock::time_point t) {
    const double elapsed =
        static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t - start_).count());
    return static_cast<uint64_t>(elapsed / nanos_per_record_) + 1;  // record k is due at k * interval
  };
  uint64_t due = due_count(now);
  while (due <= sequence_) {
    now = Clock::now();
    due = due_count(now);
  }
  const Batch& source = (*batches_)[batch_];
  const size_t n = static_cast<size_t>(
      std::min<uint64_t>({due - sequence_, max_batch_, static_cast<uint64_t>(source.num_rows() - row_)}));
  out.ShareColumns(source);
  uint32_t* selection = out.MutableSelection();
  for (size_t i = 0; i < n; ++i) selection[i] = static_cast<uint32_t>(row_ + i);
  out.SetSelectionCount(n);
  row_ += n;
  sequence_ += n;
  in_flight_ = n;
  ObserveEventTimes(out, event_time_);
  counters_.records_read += n;
  counters_.records_decoded += n;
  return true;
}

ChecksumSink::ChecksumSink(std::vector<TypeId> types, std::vector<size_t> changelog_key,
                           const Schema* encode_schema, LogBlockPool* log_pool, bool parse_json)
    : checksum_(std::move(types), changelog_key, log_pool) {
  if (encode_schema != nullptr) {
    encoder_ = MakeJsonEncoder(*encode_schema);
    text_.reserve(1 << 21);
    if (parse_json) json_check_ = std::make_unique<JsonOutputCheck>(*encode_schema, std::move(changelog_key));
  }
}

absl::Status ChecksumSink::Push(const Batch& batch) {
  const auto start = std::chrono::steady_clock::now();
  rows_ += batch.active_rows();
  checksum_.AddBatch(batch);
  if (encoder_) {
    if (json_check_) {
      text_.clear();
      encoder_->Encode(batch, text_);
      const auto parse_start = std::chrono::steady_clock::now();
      json_check_->AddLines(text_);
      parse_nanos_ += static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - parse_start)
              .count());
    } else {
      encoder_->Encode(batch, text_);
      if (text_.size() > (1 << 20)) text_.clear();
    }
  }
  nanos_ += static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
  return absl::OkStatus();
}

}  // namespace sluice::bench
