// EmbeddedSource: the SourcePartition behind a sluice::Source (include/sluice/source.h). It
// reads the text the embedding hands it as a file source reads a file, through the same
// RecordReader (connectors/record_reader.h): records split where a file's are, the CSV header
// skipped, blank lines ignored, each record numbered by the line it begins on; decoded with the
// source's decoder; bad records to the dead-letter writer (or, strict, failing the run);
// _event_time from the event time field or, without one, the batch's ingestion time; the
// bounded-out-of-orderness watermark.
//
// Unlike a file source it does not bound a record's length ('<name>.max.record.bytes'): the
// embedding holds every record in memory already. Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/dead_letter_writer.h"
#include "connectors/record_reader.h"
#include "connectors/source.h"
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
  int64_t watermark() const override { return reader_.watermark(); }
  const SourceCounters& counters() const override { return reader_.counters(); }
  absl::Status Close() override { return reader_.dead_letters().Flush(); }

 private:
  // Takes up to batch_size complete records of text_ into reader_'s round; reads more from
  // the embedding when text_ holds none. Returns false once the input is exhausted; true with
  // an empty round when nothing came.
  absl::StatusOr<bool> ReadRecords();

  SourceDefinition definition_;
  std::unique_ptr<Source> source_;
  std::string text_;         // what the embedding handed over and is not consumed yet
  size_t record_start_ = 0;  // the current record's first byte in text_
  size_t scan_end_ = 0;      // bytes of the current record before this one went to reader_
  bool exhausted_ = false;   // Read() returned false
  std::string chunk_;
  RecordReader reader_;  // after definition_, which it reads
};

}  // namespace sluice
