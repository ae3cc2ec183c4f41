// EmbeddedSource: the SourcePartition behind a sluice::Source (include/sluice/source.h). It
// reads the text the embedding hands it as a file source reads a file: records split where a
// file's are (formats/record_splitter.h), the CSV header skipped, blank lines ignored, each
// record numbered by the line it begins on; decoded with the source's decoder; bad records to
// the dead-letter writer (or, strict, failing the run); _event_time from the event time field
// or, without one, the batch's ingestion time; the bounded-out-of-orderness watermark.
//
// Unlike a file source it does not bound a record's length ('<name>.max.record.bytes'): the
// embedding holds every record in memory already. Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/dead_letter_writer.h"
#include "connectors/source.h"
#include "formats/record_format.h"
#include "formats/record_splitter.h"
#include "plan/logical_plan.h"
#include "sluice/source.h"

namespace sluice {

class EmbeddedSource final : public SourcePartition {
 public:
  // REQUIRES: `definition` is a bound file source (format json or csv).
  EmbeddedSource(const SourceDefinition& definition, std::unique_ptr<Source> source,
                 std::shared_ptr<DeadLetterWriter> dead_letters, size_t batch_size, bool strict);

  absl::Status Open() override;
  absl::StatusOr<bool> Next(Batch& out) override;
  int64_t watermark() const override { return event_time_.watermark(); }
  const SourceCounters& counters() const override { return counters_; }
  absl::Status Close() override { return dead_letters_->Flush(); }

 private:
  // Moves up to batch_size_ complete records of text_ to records_ (and the records rejected
  // before decoding to reader_errors_); reads more from the embedding when text_ holds none.
  // Returns false once the input is exhausted; true with no record when nothing came.
  absl::StatusOr<bool> ReadRecords();
  void AppendIngestionTime(Batch& out);

  SourceDefinition definition_;
  std::unique_ptr<Source> source_;
  std::shared_ptr<DeadLetterWriter> dead_letters_;
  size_t batch_size_;
  bool strict_;
  std::unique_ptr<RecordDecoder> decoder_;
  RecordSplitter splitter_;
  std::string text_;         // what the embedding handed over and is not consumed yet
  size_t record_start_ = 0;  // the current record's first byte in text_
  size_t scan_end_ = 0;      // bytes of the current record before this one went to splitter_
  bool exhausted_ = false;   // Read() returned false
  bool header_skipped_ = false;
  uint64_t next_line_ = 1;
  std::string chunk_;
  std::vector<std::string_view> records_;
  std::vector<uint64_t> record_lines_;
  std::vector<RecordError> reader_errors_;  // rejected before decoding (an unclosed quote)
  std::vector<RecordError> errors_;
  ColumnPool ingestion_time_pool_{TypeId::kTimestamp};
  SourceCounters counters_;
  EventTimeTracker event_time_;
};

}  // namespace sluice
