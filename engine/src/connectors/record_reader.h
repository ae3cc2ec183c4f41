// RecordReader: the part of a text source partition between its bytes and a batch, shared by
// the file source (connectors/file/), the memory source (connectors/memory/) and an
// embedding's source (api/embedded_source.h). The partition owns its input and its buffer; the
// reader finds the records in it and turns them into rows.
//
// A round at a time: StartRound(), then records taken from the partition's text (TakeRecord:
// split where formats/record_splitter.h says a record ends, numbered by the line each begins
// on, a '\r' before the newline dropped, the CSV header and blank lines skipped, a CSV quote
// still open at the end of the input and a record over the length limit rejected) or handed
// over already split (AddRecord), up to the batch size; then Decode() decodes them in one call
// to the source's decoder, sends the bad ones (decoder's and reader's, in line order) to the
// dead-letter writer or, strict, fails on the first, fills _event_time with the batch's
// processing time when the source has no event time field, and advances the watermark.
//
// A record longer than the limit (the file source's '<source>.max.record.bytes') is not held
// whole: once its unfinished bytes outgrow the limit, TakeRecord keeps its first bytes for the
// dead letter and lets the rest go as the partition reads it, so that the partition's buffer
// stays about the limit plus what one read brings.
//
// Records handed out point into the partition's text: it must not move or overwrite them
// until Decode() returns. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "batch/batch.h"
#include "catalog/connector_definition.h"
#include "connectors/dead_letter_writer.h"
#include "connectors/source.h"
#include "formats/record_format.h"
#include "formats/record_splitter.h"

namespace sluice {

struct RecordReaderOptions {
  size_t batch_size = 1024;  // records per round
  bool strict = false;       // the first bad record fails the run instead of being dead-lettered
  // A record longer than this (its line break not counted) is rejected as too long.
  uint64_t max_record_bytes = UINT64_MAX;
  // How the error of a strict run names a record's place: "<where> <line>".
  std::string where = "line";
  // What the error of a strict run says after the reason.
  std::string strict_note = "(--strict)";
  // What the input is called when a CSV quote is still open at its end.
  std::string input_name = "input";
};

class RecordReader {
 public:
  // `definition`: a bound source whose format is json or csv; it must outlive the reader.
  RecordReader(const SourceDefinition& definition, std::shared_ptr<DeadLetterWriter> dead_letters,
               RecordReaderOptions options);
  RecordReader(const RecordReader&) = delete;  // it refers to its owner's definition
  RecordReader& operator=(const RecordReader&) = delete;

  // Makes the decoder; call once before Decode(). `records_padded`: every record handed over
  // has kRecordPadding readable bytes behind it (formats/record_format.h).
  absl::Status Open(bool records_padded);

  // Forgets the records (and rejections) of the previous round.
  void StartRound();
  // The round holds batch_size records.
  bool full() const { return records_.size() >= options_.batch_size; }
  // The round holds a record to decode or a rejection to report.
  bool has_records() const { return !records_.empty(); }
  bool empty() const { return records_.empty() && rejected_.empty(); }

  enum class Take : uint8_t {
    kRecord,      // a record ended: taken into the round, rejected or skipped
    kIncomplete,  // no record ends in `text` yet: read more behind it (`start` may have moved)
    kEnd,         // `at_end` and nothing is left
  };
  // The record that begins at text[start], whose bytes before text[scan_end] the reader has
  // already scanned. `at_end`: nothing follows `text`, so a record without a line break ends
  // with it. Moves `start` and `scan_end` past what it consumed; bytes before `start` are no
  // longer needed. REQUIRES: start <= scan_end <= text.size(), the same text from one call to
  // the next but for bytes appended and a prefix below `start` dropped (with both moved by as
  // much).
  Take TakeRecord(std::string_view text, size_t& start, size_t& scan_end, bool at_end);
  // True while TakeRecord is letting a record over the limit go.
  bool skipping_long_record() const { return long_record_.active; }

  // Adds a record already split (no line break, not blank) that begins on line `line`.
  void AddRecord(std::string_view record, uint64_t line) {
    records_.push_back(record);
    record_lines_.push_back(line);
  }

  // Decodes the round into `out` and reports its bad records. Returns the rows decoded; with
  // none, `out` is not valid (it may be left as it was when the round had no record to
  // decode). Fails on a bad record when strict, or when the dead-letter output fails.
  absl::StatusOr<size_t> Decode(Batch& out);

  // --- for a partition that scans its input itself (a split seeking its first record) -----
  RecordSplitter& splitter() { return splitter_; }
  // The next record begins on line `line`, and a CSV header is not expected.
  void StartAtLine(uint64_t line) {
    next_line_ = line;
    header_skipped_ = true;
  }

  // --- a partition's read position, for checkpoints ------------------------------------------
  // The line the next record begins on; while a record over the limit is being let go, the
  // line it began on (a restore reads it again from its start).
  uint64_t resume_line() const { return long_record_.active ? long_record_.line : next_line_; }
  bool header_skipped() const { return header_skipped_; }
  int64_t highest_event_time() const { return event_time_.highest(); }
  // Before the first round: resume at a record that begins on `line`.
  void RestorePosition(uint64_t line, bool header_skipped, int64_t highest_event_time) {
    next_line_ = line;
    header_skipped_ = header_skipped;
    event_time_.Restore(highest_event_time);
  }

  void CountBytesRead(uint64_t bytes) { counters_.bytes_read += bytes; }
  const SourceCounters& counters() const { return counters_; }
  int64_t watermark() const { return event_time_.watermark(); }
  DeadLetterWriter& dead_letters() const { return *dead_letters_; }

 private:
  bool IsHeader() const {
    return definition_.format == "csv" && definition_.decoder.csv_header && !header_skipped_;
  }
  // A record ended at text[end] (a line break, or the end of the input): numbers it, and takes,
  // rejects or skips it.
  void EndRecord(std::string_view record, bool unterminated);
  // The current record has outgrown the limit: keeps its first bytes and lets the rest go.
  void StartLongRecord(std::string_view seen);
  // A record let go as too long ended: reports it (unless it was the CSV header).
  void FinishLongRecord();
  RecordError TooLong(uint64_t line, uint64_t length, std::string_view record) const;
  void AppendIngestionTime(Batch& out);

  const SourceDefinition& definition_;
  std::shared_ptr<DeadLetterWriter> dead_letters_;
  RecordReaderOptions options_;
  std::unique_ptr<RecordDecoder> decoder_;
  RecordSplitter splitter_;
  uint64_t next_line_ = 1;
  bool header_skipped_ = false;
  // A record over max_record_bytes being let go: what its dead letter needs.
  struct LongRecord {
    bool active = false;
    bool header = false;
    uint64_t line = 0;
    uint64_t length = 0;  // bytes so far
    char last_byte = 0;   // a '\r' before the newline is not counted
    std::string prefix;
  };
  LongRecord long_record_;
  std::vector<std::string_view> records_;
  std::vector<uint64_t> record_lines_;  // the line each of records_ begins on
  std::vector<RecordError> rejected_;   // records rejected before decoding
  std::vector<RecordError> errors_;
  ColumnPool ingestion_time_pool_{TypeId::kTimestamp};
  SourceCounters counters_;
  EventTimeTracker event_time_;
};

// How a source of `format` ("json" or "csv") splits its text into records.
RecordSplitter RecordSplitterFor(const std::string& format, char csv_delimiter);
// A record without the '\r' of a "\r\n" line break.
std::string_view TrimCarriageReturn(std::string_view record);
// True for a record of spaces and tabs only: sources skip it.
bool IsBlankRecord(std::string_view record);

}  // namespace sluice
