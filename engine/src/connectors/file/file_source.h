// FileSource: reads one file of a source (one partition: a source whose path is a glob has one
// FileSource per matching file) in large chunks, splits it into records, and decodes them batch
// by batch. Bad records go to the source's shared DeadLetterWriter with the number of the line
// they begin on. Splitting, decoding and dead-lettering are the RecordReader's
// (connectors/record_reader.h), which the memory and embedded sources share; the FileSource
// reads the file into its buffer and hands it over.
//
// A record is a line for JSON Lines; for CSV it ends at a newline outside a quoted field
// (formats/record_splitter.h), so a quoted field may span lines and chunks. A CSV record whose
// quoted field is still open at the end of the file is dead-lettered.
//
// Memory is bounded whatever the input: a record longer than '<source>.max.record.bytes' (its
// line break not counted) is dead-lettered as "record too long" with its length and first
// bytes, and once it outgrows the limit the rest of it is read and let go chunk by chunk, so
// the buffer holds at most about the limit plus a chunk or two (a 1 GiB line costs no 1 GiB).
//
// A FileSource may read a byte range of its file (a split, so that several workers decode one
// large file): it reads the records that begin inside the range, so a record crossing the
// range's end belongs to the split it begins in, and numbers them as lines of the whole file.
// (To know where CSV records begin, a split scans the file from its start.)
//
// A stream (the path "-" for stdin, a FIFO, a character device, or stdin redirected from
// one): the source reads what has arrived instead of waiting for a full chunk, so a record
// written at a low rate is decoded as soon as its line ends. When nothing arrives within
// about 100 ms, Next() returns an empty batch (as a Kafka source does), so that the runtime
// can stop on a signal. It asks for a flush point (connectors/source.h) after each batch that
// emptied what had arrived, so the sinks pass its rows on at once. A stream is read on one
// thread (the parallel runtime does not take one, see IsStreamPath) and cannot be split.
// Opening a FIFO does not wait for a writer.
//
// Next() returns false once the file (or its range, or the stream) is exhausted. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "batch/batch.h"
#include "catalog/connector_definition.h"
#include "connectors/dead_letter_writer.h"
#include "connectors/record_reader.h"
#include "connectors/source.h"
#include "formats/record_format.h"

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
  // Before Open(): read `bytes` at a time instead of 4 MiB, so that tests can make records
  // cross chunk boundaries in small inputs.
  void set_read_chunk_bytes(size_t bytes) { read_chunk_bytes_ = bytes; }
  // Opens the file; call once before Next().
  absl::Status Open() override;
  // Flushes the dead-letter output.
  absl::Status Close() override { return reader_.dead_letters().Flush(); }
  // A stream wants a flush point once it has returned rows and has emptied what had arrived.
  bool flush_due() const override { return flush_due_; }
  absl::Status OnFlushPoint() override;
  ~FileSource() override;

  // Checkpoints: a regular file's partition records the byte offset and line of the next
  // record (of a record over the limit being let go: its start, so that it is read again and
  // rejected once) and the highest event time seen; Restore() (before Open()) resumes there. A
  // stream cannot be read again and does not take part.
  bool SupportsCheckpoints() const override;
  absl::Status Snapshot(StateWriter& writer) const override;
  absl::Status Restore(StateReader& reader) override;

  // Produces the next batch into `out`; false at end of file. The batch is valid until the
  // next call. It has at least one row, except from a stream when nothing arrived.
  absl::StatusOr<bool> Next(Batch& out) override;

  // The event-time watermark after the batches read so far (INT64_MIN before any record):
  // the highest event time seen - max_out_of_orderness - 1.
  int64_t watermark() const override { return reader_.watermark(); }

  const SourceCounters& counters() const override { return reader_.counters(); }
  const SourceDefinition& definition() const { return definition_; }
  const DeadLetterWriter& dead_letters() const { return reader_.dead_letters(); }
  DeadLetterWriter& mutable_dead_letters() { return reader_.dead_letters(); }
  const std::string& path() const { return path_; }
  // True once Open() found a stream (not a regular file).
  bool is_stream() const { return stream_; }

 private:
  FileSource(const SourceDefinition& definition, std::string path,
             std::shared_ptr<DeadLetterWriter> dead_letters, size_t batch_size, bool strict);
  // Takes up to batch_size complete records into reader_'s round; false when the file is
  // exhausted.
  absl::StatusOr<bool> ReadRecords();
  absl::Status FillBuffer();
  // Reads up to `want` bytes into `to`; 0 at end of input. From a stream, also 0 with
  // starved_ set when nothing arrived within the wait.
  absl::StatusOr<size_t> ReadInput(char* to, size_t want);
  absl::Status ReadError() const;
  // A split that does not start the file: counts the lines before it and moves to its first
  // record.
  absl::Status SeekToSplit();

  SourceDefinition definition_;
  size_t batch_size_;
  int fd_ = -1;
  bool owns_fd_ = false;  // stdin is not ours to close
  bool stream_ = false;
  bool starved_ = false;    // the last read of a stream found nothing within the wait
  bool flush_due_ = false;  // a stream returned rows, then emptied what had arrived
  uint64_t rows_since_flush_ = 0;
  std::string path_;
  // Records are read into buffer_ and handed to the decoder in place; its last kRecordPadding
  // bytes are never filled, so every record has that many readable bytes behind it.
  std::vector<char> buffer_;
  size_t ReadCapacity() const { return buffer_.size() - kRecordPadding; }
  size_t read_chunk_bytes_;
  size_t buffer_start_ = 0;     // first unconsumed byte: the start of the current record
  size_t scan_end_ = 0;         // the current record's bytes before this one went to reader_
  size_t buffer_end_ = 0;       // one past the last valid byte
  uint64_t buffer_offset_ = 0;  // file offset of buffer_[0]
  uint64_t range_begin_ = 0;
  uint64_t range_end_ = UINT64_MAX;
  bool eof_ = false;
  uint64_t long_record_offset_ = 0;  // where the record over the limit being let go began
  std::optional<uint64_t> restore_offset_;  // Restore(): Open() seeks here
  RecordReader reader_;  // after definition_, which it reads
};

// True when `path` names a stream rather than a regular file: "-" (stdin), a FIFO, a socket or
// a character device. Such a source is read once, as it arrives, on one thread.
bool IsStreamPath(const std::string& path);

// Infers the schema of a file source by decoding its first records (at most 1,000).
absl::StatusOr<Schema> InferFileSchema(const std::string& path, const std::string& format,
                                       char csv_delimiter);

}  // namespace sluice
