// Sources and sink of the benchmark harness, plugged into the JobRunner in place of the file
// connectors (RunOptions::make_source / make_sink).
//
//   MemorySource   hands out pre-generated batches (or row subsets of them, as selections)
//                  from memory: the core level, where no decoding is measured.
//   PacedSource    hands out the same batches at a target rate of wall-clock time and records
//                  each record's ingest -> emit latency (latency level; single partition).
//   ChecksumSink   records every output row (ResultChecksum) and, at codec level, also
//                  encodes it as JSON Lines into a scratch buffer; in the codec level's JSON
//                  check run it also parses that text back (JsonOutputCheck).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "connectors/sink.h"
#include "connectors/source.h"
#include "formats/record_format.h"
#include "json_output_check.h"
#include "latency_histogram.h"
#include "result_checksum.h"

namespace sluice::bench {

// Rows of one batch a source delivers: all rows, or the listed ones.
struct BatchSlice {
  const Batch* batch = nullptr;
  std::vector<uint32_t> rows;  // empty: every row
};

class MemorySource final : public SourcePartition {
 public:
  MemorySource(const std::vector<BatchSlice>* slices, int64_t max_out_of_orderness_millis)
      : slices_(slices), event_time_(max_out_of_orderness_millis) {}

  absl::Status Open() override { return absl::OkStatus(); }
  absl::StatusOr<bool> Next(Batch& out) override;
  int64_t watermark() const override { return event_time_.watermark(); }
  const SourceCounters& counters() const override { return counters_; }

  // The checkpoint level: the next slice and the highest event time seen.
  bool SupportsCheckpoints() const override { return true; }
  absl::Status Snapshot(StateWriter& writer) const override {
    writer.WriteU64(next_);
    writer.WriteI64(event_time_.highest());
    return absl::OkStatus();
  }
  absl::Status Restore(StateReader& reader) override {
    SLUICE_ASSIGN_OR_RETURN(const uint64_t next, reader.ReadU64());
    SLUICE_ASSIGN_OR_RETURN(const int64_t highest, reader.ReadI64());
    if (next > slices_->size()) return absl::DataLossError("memory source snapshot past the input's end");
    next_ = next;
    event_time_.Restore(highest);
    return absl::OkStatus();
  }

 private:
  const std::vector<BatchSlice>* slices_;
  size_t next_ = 0;
  EventTimeTracker event_time_;
  SourceCounters counters_;
};

class PacedSource final : public SourcePartition {
 public:
  // Delivers the rows of `batches` in order, record i becoming due at start + i / rate; each
  // Next() returns the records due (at most `max_batch`), waiting for the next one if none is.
  PacedSource(const std::vector<Batch>* batches, double records_per_second, size_t max_batch,
              int64_t max_out_of_orderness_millis, LatencyHistogram* latencies);

  absl::Status Open() override;
  absl::StatusOr<bool> Next(Batch& out) override;
  int64_t watermark() const override { return event_time_.watermark(); }
  const SourceCounters& counters() const override { return counters_; }

 private:
  using Clock = std::chrono::steady_clock;
  // Records the latency of the records handed out by the previous call: the runtime calls
  // Next() again only once they have been pushed through the pipeline.
  void RecordDelivered(Clock::time_point now);

  const std::vector<Batch>* batches_;
  double nanos_per_record_;
  size_t max_batch_;
  LatencyHistogram* latencies_;
  EventTimeTracker event_time_;
  SourceCounters counters_;
  Clock::time_point start_;
  size_t batch_ = 0;        // current batch
  size_t row_ = 0;          // next row in it
  uint64_t sequence_ = 0;   // records handed out so far
  uint64_t in_flight_ = 0;  // records handed out by the previous call
};

class ChecksumSink final : public SinkOperator {
 public:
  // `encode_schema`: when set, rows are also encoded as JSON Lines (the codec level's cost).
  // `log_pool`: where the logs take their memory (see LogBlockPool); null: the heap.
  // `parse_json`: with `encode_schema`, the encoded text is also parsed back and recorded
  // (json_value(); the batches still go to Value()), its time counted apart (parse_seconds()).
  ChecksumSink(std::vector<TypeId> types, std::vector<size_t> changelog_key, const Schema* encode_schema,
               LogBlockPool* log_pool = nullptr, bool parse_json = false);

  absl::Status Open() override { return absl::OkStatus(); }
  absl::Status Push(const Batch& batch) override;
  uint64_t rows_written() const override { return rows_; }
  std::string Describe() const override { return "ChecksumSink"; }

  ChecksumValue Value() const { return checksum_.Value(); }
  // Wall time spent inside Push(): the cost of checking (and encoding, and parsing) the output.
  double seconds() const { return static_cast<double>(nanos_) / 1e9; }

  // The JSON check run: the rows as parsed back from the encoded text, and the first problem.
  const JsonOutputCheck* json_check() const { return json_check_.get(); }
  double parse_seconds() const { return static_cast<double>(parse_nanos_) / 1e9; }

 private:
  uint64_t nanos_ = 0;
  uint64_t parse_nanos_ = 0;
  ResultChecksum checksum_;
  std::unique_ptr<RecordEncoder> encoder_;
  std::unique_ptr<JsonOutputCheck> json_check_;
  std::string text_;
  uint64_t rows_ = 0;
};

}  // namespace sluice::bench
