#include "connectors/file/file_source.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/strings.h"
#include "connectors/file/file_connector.h"

namespace sluice {
namespace {

constexpr size_t kReadChunk = 4 << 20;
// How long a read of a stream waits for input before Next() returns an empty batch.
constexpr int kStreamWaitMillis = 100;

// FileSourceSettings::max_record_bytes (file_connector.h); its default for a definition that the
// file connector did not bind (an embedding's own).
uint64_t MaxRecordBytes(const SourceDefinition& definition) {
  if (const auto* settings = dynamic_cast<const FileSourceSettings*>(definition.settings.get())) {
    return settings->max_record_bytes;
  }
  return kDefaultMaxRecordBytes;
}

}  // namespace

FileSource::FileSource(const SourceDefinition& definition, std::string path,
                       std::shared_ptr<DeadLetterWriter> dead_letters, size_t batch_size, bool strict)
    : definition_(definition),
      batch_size_(batch_size),
      path_(std::move(path)),
      read_chunk_bytes_(kReadChunk),
      reader_(definition_, std::move(dead_letters),
              RecordReaderOptions{.batch_size = batch_size,
                                  .strict = strict,
                                  .max_record_bytes = MaxRecordBytes(definition),
                                  .where = StrCat(path_, " line"),
                                  .input_name = "file"}) {}

FileSource::~FileSource() {
  if (owns_fd_) close(fd_);
}

bool IsStreamPath(const std::string& path) {
  if (path == "-") return true;
  struct stat info;
  return stat(path.c_str(), &info) == 0 && !S_ISREG(info.st_mode) && !S_ISDIR(info.st_mode);
}

std::unique_ptr<FileSource> FileSource::Create(const SourceDefinition& definition, std::string path,
                                               std::shared_ptr<DeadLetterWriter> dead_letters,
                                               size_t batch_size, bool strict) {
  return std::unique_ptr<FileSource>(
      new FileSource(definition, std::move(path), std::move(dead_letters), batch_size, strict));
}

std::unique_ptr<FileSource> FileSource::CreateSplit(const SourceDefinition& definition, std::string path,
                                                    std::shared_ptr<DeadLetterWriter> dead_letters,
                                                    size_t batch_size, bool strict, uint64_t begin,
                                                    uint64_t end) {
  std::unique_ptr<FileSource> source =
      Create(definition, std::move(path), std::move(dead_letters), batch_size, strict);
  source->range_begin_ = begin;
  source->range_end_ = end;
  return source;
}

absl::Status FileSource::Open() {
  if (path_ == "-") {
    fd_ = STDIN_FILENO;
  } else {
    // O_NONBLOCK: opening a FIFO does not wait for a writer (a regular file ignores it).
    fd_ = open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) {
      return absl::NotFoundError(
          StrCat("source '", definition_.name, "': cannot open '", path_, "': ", std::strerror(errno)));
    }
    owns_fd_ = true;
  }
  struct stat info;
  if (fstat(fd_, &info) != 0) return ReadError();
  stream_ = !S_ISREG(info.st_mode);
  if (stream_ && (range_begin_ > 0 || range_end_ != UINT64_MAX)) {
    return absl::InvalidArgumentError(
        StrCat("source '", definition_.name, "': '", path_, "' is a stream and cannot be read in splits"));
  }
  // Records lie in buffer_, which keeps kRecordPadding spare bytes.
  SLUICE_RETURN_IF_ERROR(reader_.Open(/*records_padded=*/true));
  SLUICE_CHECK(read_chunk_bytes_ > 0);
  buffer_.resize(read_chunk_bytes_ + kRecordPadding);
  if (restore_offset_) {
    if (lseek(fd_, static_cast<off_t>(*restore_offset_), SEEK_SET) < 0) return ReadError();
    buffer_offset_ = *restore_offset_;
    buffer_start_ = scan_end_ = buffer_end_ = 0;
    return absl::OkStatus();
  }
  return range_begin_ > 0 ? SeekToSplit() : absl::OkStatus();
}

bool FileSource::SupportsCheckpoints() const { return !IsStreamPath(path_); }

absl::Status FileSource::Snapshot(StateWriter& writer) const {
  writer.WriteU8(1);  // version
  writer.WriteBytes(path_);
  writer.WriteU64(range_begin_);
  writer.WriteU64(range_end_);
  const bool long_record = reader_.skipping_long_record();
  writer.WriteU64(long_record ? long_record_offset_ : buffer_offset_ + buffer_start_);
  writer.WriteU64(reader_.resume_line());
  writer.WriteU8(reader_.header_skipped() ? 1 : 0);
  writer.WriteI64(reader_.highest_event_time());
  return absl::OkStatus();
}

absl::Status FileSource::Restore(StateReader& reader) {
  SLUICE_ASSIGN_OR_RETURN(const uint8_t version, reader.ReadU8());
  if (version != 1) return absl::DataLossError(StrCat("file source snapshot version ", version, " is unknown"));
  SLUICE_ASSIGN_OR_RETURN(const std::string_view path, reader.ReadBytes());
  SLUICE_ASSIGN_OR_RETURN(const uint64_t begin, reader.ReadU64());
  SLUICE_ASSIGN_OR_RETURN(const uint64_t end, reader.ReadU64());
  if (path != path_ || begin != range_begin_ || end != range_end_) {
    return absl::FailedPreconditionError(
        StrCat("source '", definition_.name, "': the checkpoint read '", path, "' bytes [", begin, ", ", end,
               "), this run reads '", path_, "' bytes [", range_begin_, ", ", range_end_, ")"));
  }
  SLUICE_ASSIGN_OR_RETURN(const uint64_t offset, reader.ReadU64());
  SLUICE_ASSIGN_OR_RETURN(const uint64_t line, reader.ReadU64());
  SLUICE_ASSIGN_OR_RETURN(const uint8_t header_skipped, reader.ReadU8());
  SLUICE_ASSIGN_OR_RETURN(const int64_t highest, reader.ReadI64());
  struct stat info;
  if (stat(path_.c_str(), &info) != 0 || static_cast<uint64_t>(info.st_size) < offset) {
    return absl::FailedPreconditionError(StrCat("source '", definition_.name, "': '", path_,
                                                "' is shorter than the checkpoint's read position (", offset,
                                                " bytes): the input changed since"));
  }
  restore_offset_ = offset;
  reader_.RestorePosition(line, header_skipped != 0, highest);
  return absl::OkStatus();
}

absl::Status FileSource::SeekToSplit() {
  // The split's first record is the one after the first record end at or after
  // range_begin_ - 1 (the record through that newline began in an earlier split). Its line
  // number: one more than the newlines before it. Record ends are found from the file's start,
  // as every split finds them, so that splits agree where a CSV record with quoted line breaks
  // ends.
  RecordSplitter& splitter = reader_.splitter();
  reader_.StartAtLine(1);  // a CSV header is the first split's
  uint64_t lines = 0;      // newlines in the records that ended before the scan position
  uint64_t offset = 0;
  while (offset < range_begin_ - 1) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(ReadCapacity(), range_begin_ - 1 - offset));
    SLUICE_ASSIGN_OR_RETURN(const size_t read, ReadInput(buffer_.data(), want));
    if (read == 0) break;  // the file shrank: nothing is left for this split
    const char* end = buffer_.data() + read;
    for (const char* p = buffer_.data(); const char* newline = splitter.FindEnd(p, end); p = newline + 1) {
      lines += 1 + splitter.inner_line_breaks();
      splitter.StartRecord();
    }
    offset += read;
  }
  buffer_offset_ = offset;
  buffer_start_ = scan_end_ = buffer_end_ = 0;
  while (true) {
    const char* newline = splitter.FindEnd(buffer_.data() + buffer_start_, buffer_.data() + buffer_end_);
    if (newline != nullptr) {
      lines += 1 + splitter.inner_line_breaks();
      splitter.StartRecord();
      buffer_start_ = scan_end_ = static_cast<size_t>(newline - buffer_.data()) + 1;
      reader_.StartAtLine(lines + 1);
      return absl::OkStatus();
    }
    buffer_start_ = scan_end_ = buffer_end_;
    if (eof_) return absl::OkStatus();
    SLUICE_RETURN_IF_ERROR(FillBuffer());
  }
}

absl::Status FileSource::FillBuffer() {
  // Move the unconsumed tail (a partial line) to the front, then read behind it.
  const size_t tail = buffer_end_ - buffer_start_;
  if (tail > 0 && buffer_start_ > 0) std::memmove(buffer_.data(), buffer_.data() + buffer_start_, tail);
  buffer_offset_ += buffer_start_;
  scan_end_ -= buffer_start_;
  buffer_start_ = 0;
  buffer_end_ = tail;
  if (ReadCapacity() - buffer_end_ < std::max<size_t>(read_chunk_bytes_ / 2, 1)) {  // a very long record
    buffer_.resize(2 * ReadCapacity() + kRecordPadding);
  }
  const size_t want = std::min(read_chunk_bytes_, ReadCapacity() - buffer_end_);
  SLUICE_ASSIGN_OR_RETURN(const size_t read, ReadInput(buffer_.data() + buffer_end_, want));
  if (read == 0 && !starved_) eof_ = true;
  buffer_end_ += read;
  reader_.CountBytesRead(read);
  return absl::OkStatus();
}

absl::StatusOr<size_t> FileSource::ReadInput(char* to, size_t want) {
  starved_ = false;
  if (stream_) {
    // Wait for input, but not for long; then take what has arrived (one read: a pipe returns
    // what it holds instead of waiting for `want` bytes).
    pollfd ready{fd_, POLLIN, 0};
    const int polled = poll(&ready, 1, kStreamWaitMillis);
    if (polled < 0 && errno != EINTR) return ReadError();
    if (polled <= 0) {
      starved_ = true;  // nothing yet, or a signal arrived: let the runtime look
      return 0;
    }
    while (true) {
      const ssize_t got = read(fd_, to, want);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        starved_ = true;
        return 0;
      }
      return ReadError();
    }
  }
  // A regular file: fill `want` bytes unless the file ends first.
  size_t total = 0;
  while (total < want) {
    const ssize_t got = read(fd_, to + total, want - total);
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      return ReadError();
    }
    total += static_cast<size_t>(got);
  }
  return total;
}

absl::Status FileSource::ReadError() const {
  return absl::DataLossError(
      StrCat("source '", definition_.name, "': read error on '", path_, "': ", std::strerror(errno)));
}

absl::Status FileSource::OnFlushPoint() {
  flush_due_ = false;
  rows_since_flush_ = 0;
  return stream_ ? reader_.dead_letters().Flush() : absl::OkStatus();
}

absl::StatusOr<bool> FileSource::ReadRecords() {
  reader_.StartRound();
  starved_ = false;
  // Records handed out last time point into the buffer; they are consumed by now.
  while (!reader_.full()) {
    // The next record begins in a later split (one being let go began in this one).
    if (!reader_.skipping_long_record() && buffer_offset_ + buffer_start_ >= range_end_) break;
    const std::string_view text(buffer_.data(), buffer_end_);
    const bool was_long = reader_.skipping_long_record();
    const uint64_t record_offset = buffer_offset_ + buffer_start_;
    const RecordReader::Take take = reader_.TakeRecord(text, buffer_start_, scan_end_, eof_);
    if (!was_long && reader_.skipping_long_record()) long_record_offset_ = record_offset;
    if (take == RecordReader::Take::kEnd) break;
    if (take == RecordReader::Take::kIncomplete) {
      if (reader_.has_records()) break;  // decode what we have before moving the buffer
      SLUICE_RETURN_IF_ERROR(FillBuffer());
      if (starved_) break;  // a stream with nothing more yet
    }
  }
  return !reader_.empty();
}

absl::StatusOr<bool> FileSource::Next(Batch& out) {
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool has_records, ReadRecords());
    if (!has_records) {
      if (!starved_) return false;
      // A stream with nothing new: an empty batch, so that the runtime can look around.
      out.Release();
      flush_due_ = rows_since_flush_ > 0;
      return true;
    }
    SLUICE_ASSIGN_OR_RETURN(const size_t rows, reader_.Decode(out));
    if (rows > 0) {
      if (stream_) {
        // A short batch emptied what had arrived: pass it on now rather than at the next chunk.
        rows_since_flush_ += rows;
        flush_due_ = rows < batch_size_;
      }
      return true;
    }
  }
}

absl::StatusOr<Schema> InferFileSchema(const std::string& path, const std::string& format,
                                       char csv_delimiter) {
  // Inference reads the first records and the job reads the file again from the start: only a
  // regular file can be read twice. A pipe would lose the records read here.
  if (IsStreamPath(path)) {
    return absl::InvalidArgumentError(
        StrCat(path == "-" ? "'-' (stdin)" : StrCat("'", path, "'"),
               " is not a regular file (a pipe or device), so its schema "
               "cannot be inferred without consuming records; declare the columns with "
               "'<source>.schema'"));
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return absl::NotFoundError(StrCat("cannot open '", path, "': ", std::strerror(errno)));
  std::string sample(1 << 20, '\0');
  const size_t read = std::fread(sample.data(), 1, sample.size(), file);
  std::fclose(file);
  sample.resize(read);
  std::vector<std::string_view> lines;  // records, split as the source splits them
  RecordSplitter splitter = RecordSplitterFor(format, csv_delimiter);
  const char* data = sample.data();
  size_t start = 0;
  while (start < sample.size() && lines.size() < 1001) {
    const char* newline = splitter.FindEnd(data + start, data + sample.size());
    size_t end = newline != nullptr ? static_cast<size_t>(newline - data) : sample.size();
    if (newline == nullptr && read == (1 << 20)) break;  // a record cut by the sample: leave it out
    splitter.StartRecord();
    std::string_view line = TrimCarriageReturn(std::string_view(sample).substr(start, end - start));
    if (!IsBlankRecord(line)) lines.push_back(line);
    start = end + 1;
  }
  if (lines.empty()) {
    return absl::InvalidArgumentError(StrCat("cannot infer the schema of '", path,
                                             "': it is empty; declare the columns with '<source>.schema'"));
  }
  absl::StatusOr<Schema> schema =
      format == "csv"
          ? InferCsvSchema(lines[0], std::span<const std::string_view>(lines).subspan(1), csv_delimiter)
          : InferJsonSchema(lines);
  if (!schema.ok()) {
    return absl::InvalidArgumentError(StrCat("cannot infer the schema of '", path,
                                             "': ", schema.status().message(),
                                             "; declare the columns with '<source>.schema'"));
  }
  return schema;
}

}  // namespace sluice
