// FileSource: reads one file of a source (one partition: a source whose path is a glob has one
// FileSource per matching file) in large chunks, splits it into lines, and decodes them batch
// by batch. Bad records go to the source's shared DeadLetterWriter with their line number.
//
// A FileSource may read a byte range of its file (a split, so that several workers decode one
// large file): it reads the lines that begin inside the range, so a line crossing the range's
// end belongs to the split it begins in, and numbers them as lines of the whole file.
//
// Bounded: Next() returns false once the file (or its range) is exhausted. Not thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "batch/batch.h"
#include "connectors/dead_letter_writer.h"
#include "connectors/source.h"
#include "formats/record_format.h"
#include "plan/logical_plan.h"

namespace sluice {

class FileSource final : public SourcePartition {
 public:
  // `strict`: the first bad record fails the job instead of going to the dead-letter output.
  // Builds the source without touching the file system.
  // `path` is one of definition.partitions; `dead_letters` is shared by the source's partitions.
  static std::unique_ptr<FileSource> Create(const SourceDefinition& definition, std::string path,
                                            std::shared_ptr<DeadLetterWriter> dead_letters, size_t batch_size,
                                            bool strict);
  // The lines beginning at byte offsets [begin, end) of the file.
  static std::unique_ptr<FileSource> CreateSplit(const SourceDefinition& definition, std::string path,
                                                 std::shared_ptr<DeadLetterWriter> dead_letters,
                                                 size_t batch_size, bool strict, uint64_t begin,
                                                 uint64_t end);
  // Opens the file; call once before Next().
  absl::Status Open() override;
  // Flushes the dead-letter output.
  absl::Status Close() override { return dead_letters_->Flush(); }
  ~FileSource() override;

  // Produces the next batch of at least one row into `out`; false at end of file. The batch is
  // valid until the next call.
  absl::StatusOr<bool> Next(Batch& out) override;

  // The event-time watermark after the batches read so far (INT64_MIN before any record):
  // the highest event time seen - max_out_of_orderness - 1.
  int64_t watermark() const override { return event_time_.watermark(); }

  const SourceCounters& counters() const override { return counters_; }
  const SourceDefinition& definition() const { return definition_; }
  const DeadLetterWriter& dead_letters() const { return *dead_letters_; }
  DeadLetterWriter& mutable_dead_letters() { return *dead_letters_; }
  const std::string& path() const { return path_; }

 private:
  FileSource(const SourceDefinition& definition, std::string path,
             std::shared_ptr<DeadLetterWriter> dead_letters, size_t batch_size, bool strict);
  // Fills `lines_` with up to batch_size complete lines; false when the file is exhausted.
  absl::StatusOr<bool> ReadLines();
  absl::Status FillBuffer();
  // A split that does not start the file: counts the lines before it and moves to its first.
  absl::Status SeekToSplit();
  void AppendIngestionTime(Batch& out);

  SourceDefinition definition_;
  size_t batch_size_;
  bool strict_;
  std::FILE* file_ = nullptr;
  std::unique_ptr<RecordDecoder> decoder_;
  std::string path_;
  std::shared_ptr<DeadLetterWriter> dead_letters_;
  // Lines are read into buffer_ and handed to the decoder in place; its last kRecordPadding
  // bytes are never filled, so every line has that many readable bytes behind it.
  std::vector<char> buffer_;
  size_t ReadCapacity() const { return buffer_.size() - kRecordPadding; }
  size_t buffer_start_ = 0;     // first unconsumed byte
  size_t buffer_end_ = 0;       // one past the last valid byte
  uint64_t buffer_offset_ = 0;  // file offset of buffer_[0]
  uint64_t range_begin_ = 0;
  uint64_t range_end_ = UINT64_MAX;
  bool eof_ = false;
  uint64_t next_line_ = 1;
  bool header_skipped_ = false;
  std::vector<std::string_view> lines_;
  std::vector<uint64_t> line_numbers_;
  std::vector<RecordError> errors_;
  ColumnPool ingestion_time_pool_{TypeId::kTimestamp};
  SourceCounters counters_;
  EventTimeTracker event_time_;
};

// Infers the schema of a file source by decoding its first records (at most 1,000).
absl::StatusOr<Schema> InferFileSchema(const std::string& path, const std::string& format,
                                       char csv_delimiter);

}  // namespace sluice
