#include "connectors/file/file_source.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/strings.h"
#include "connectors/file/file_connector.h"
#include "formats/utf8.h"

namespace sluice {
namespace {

constexpr size_t kReadChunk = 4 << 20;
// How long a read of a stream waits for input before Next() returns an empty batch.
constexpr int kStreamWaitMillis = 100;
// The most bytes of a record too long to keep that its dead letter shows.
constexpr size_t kLongRecordPrefixBytes = 1024;

RecordSplitter SplitterFor(const std::string& format, char csv_delimiter) {
  return format == "csv" ? RecordSplitter::Csv(csv_delimiter) : RecordSplitter::Lines();
}

std::string_view TrimLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool IsBlank(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t') return false;
  }
  return true;
}

}  // namespace

FileSource::FileSource(const SourceDefinition& definition, std::string path,
                       std::shared_ptr<DeadLetterWriter> dead_letters, size_t batch_size, bool strict)
    : definition_(definition),
      max_record_bytes_(kDefaultMaxRecordBytes),
      batch_size_(batch_size),
      strict_(strict),
      path_(std::move(path)),
      dead_letters_(std::move(dead_letters)),
      read_chunk_bytes_(kReadChunk),
      splitter_(SplitterFor(definition.format, definition.decoder.csv_delimiter)),
      event_time_(definition.max_out_of_orderness_millis) {
  if (const auto* settings = dynamic_cast<const FileSourceSettings*>(definition.settings.get())) {
    max_record_bytes_ = settings->max_record_bytes;
  }
}

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
  if (definition_.format == "csv") {
    SLUICE_ASSIGN_OR_RETURN(decoder_, MakeCsvDecoder(definition_.decoder));
  } else {
    DecoderOptions options = definition_.decoder;
    options.records_padded = true;  // lines lie in buffer_, which keeps kRecordPadding spare bytes
    SLUICE_ASSIGN_OR_RETURN(decoder_, MakeJsonDecoder(options));
  }
  SLUICE_CHECK(read_chunk_bytes_ > 0);
  buffer_.resize(read_chunk_bytes_ + kRecordPadding);
  records_.reserve(batch_size_);
  record_lines_.reserve(batch_size_);
  return range_begin_ > 0 ? SeekToSplit() : absl::OkStatus();
}

absl::Status FileSource::SeekToSplit() {
  // The split's first record is the one after the first record end at or after
  // range_begin_ - 1 (the record through that newline began in an earlier split). Its line
  // number: one more than the newlines before it. Record ends are found from the file's start,
  // as every split finds them, so that splits agree where a CSV record with quoted line breaks
  // ends.
  header_skipped_ = true;  // a CSV header is the first split's
  uint64_t lines = 0;      // newlines in the records that ended before the scan position
  uint64_t offset = 0;
  while (offset < range_begin_ - 1) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(ReadCapacity(), range_begin_ - 1 - offset));
    SLUICE_ASSIGN_OR_RETURN(const size_t read, ReadInput(buffer_.data(), want));
    if (read == 0) break;  // the file shrank: nothing is left for this split
    const char* end = buffer_.data() + read;
    for (const char* p = buffer_.data(); const char* newline = splitter_.FindEnd(p, end); p = newline + 1) {
      lines += 1 + splitter_.inner_line_breaks();
      splitter_.StartRecord();
    }
    offset += read;
  }
  buffer_offset_ = offset;
  buffer_start_ = scan_end_ = buffer_end_ = 0;
  while (true) {
    const char* newline = splitter_.FindEnd(buffer_.data() + buffer_start_, buffer_.data() + buffer_end_);
    if (newline != nullptr) {
      lines += 1 + splitter_.inner_line_breaks();
      splitter_.StartRecord();
      buffer_start_ = scan_end_ = static_cast<size_t>(newline - buffer_.data()) + 1;
      next_line_ = lines + 1;
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
  counters_.bytes_read += read;
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
  return stream_ ? dead_letters_->Flush() : absl::OkStatus();
}

absl::StatusOr<bool> FileSource::ReadRecords() {
  records_.clear();
  record_lines_.clear();
  reader_errors_.clear();
  starved_ = false;
  // Records handed out last time point into the buffer; they are consumed by now.
  while (records_.size() < batch_size_) {
    if (long_record_.active) {
      // Skip the rest of an over-long record: scan what is buffered and let it go.
      const char* begin = buffer_.data() + buffer_start_;
      const char* end = buffer_.data() + buffer_end_;
      const char* newline = splitter_.FindEnd(begin, end);
      const char* stop = newline != nullptr ? newline : end;
      if (stop > begin) long_record_.last_byte = stop[-1];
      long_record_.length += static_cast<uint64_t>(stop - begin);
      buffer_start_ = scan_end_ =
          newline != nullptr ? static_cast<size_t>(newline - buffer_.data()) + 1 : buffer_end_;
      if (newline != nullptr || eof_) {
        FinishLongRecord();
        continue;
      }
      if (!records_.empty()) break;  // decode what we have before reusing the buffer
      SLUICE_RETURN_IF_ERROR(FillBuffer());
      if (starved_) break;  // a stream with nothing more yet
      continue;
    }
    if (buffer_offset_ + buffer_start_ >= range_end_) break;  // the next record begins in a later split
    const char* begin = buffer_.data() + buffer_start_;
    const char* end = buffer_.data() + buffer_end_;
    const char* newline = splitter_.FindEnd(buffer_.data() + scan_end_, end);
    std::string_view record;
    if (newline != nullptr) {
      record = std::string_view(begin, static_cast<size_t>(newline - begin));
      buffer_start_ = scan_end_ = static_cast<size_t>(newline - buffer_.data()) + 1;
    } else if (eof_) {
      if (begin == end) break;
      record = std::string_view(begin, static_cast<size_t>(end - begin));  // the last, without a newline
      buffer_start_ = scan_end_ = buffer_end_;
    } else {
      scan_end_ = buffer_end_;
      // Over the limit even if a "\r\n" follows: stop holding it.
      if (buffer_end_ - buffer_start_ > max_record_bytes_ + 1) {
        StartLongRecord();
        continue;
      }
      if (!records_.empty()) break;  // decode what we have before moving the buffer
      SLUICE_RETURN_IF_ERROR(FillBuffer());
      if (starved_) break;  // a stream with nothing more yet
      continue;
    }
    const uint64_t line = next_line_;
    next_line_ += 1 + splitter_.inner_line_breaks();
    const bool unterminated = newline == nullptr && splitter_.in_quoted_field();
    splitter_.StartRecord();
    record = TrimLine(record);
    if (IsHeader()) {
      header_skipped_ = true;
      continue;
    }
    if (record.size() > max_record_bytes_) {
      reader_errors_.push_back(TooLong(line, record.size(), record));
      continue;
    }
    if (unterminated) {
      reader_errors_.push_back(
          RecordError{line, "malformed CSV: a quoted field is not closed before the end of the file",
                      std::string(record)});
      continue;
    }
    if (IsBlank(record)) continue;
    records_.push_back(record);
    record_lines_.push_back(line);
  }
  return !records_.empty() || !reader_errors_.empty();
}

void FileSource::StartLongRecord() {
  const std::string_view seen(buffer_.data() + buffer_start_, buffer_end_ - buffer_start_);
  long_record_.active = true;
  long_record_.header = IsHeader();
  long_record_.line = next_line_;
  long_record_.length = seen.size();
  long_record_.last_byte = seen.back();
  const size_t shown = std::min<uint64_t>(kLongRecordPrefixBytes, max_record_bytes_);
  long_record_.prefix.assign(seen.substr(0, Utf8PrefixLength(seen, shown)));
  buffer_start_ = scan_end_ = buffer_end_;  // the splitter has seen these bytes: let them go
}

void FileSource::FinishLongRecord() {
  long_record_.active = false;
  next_line_ += 1 + splitter_.inner_line_breaks();
  splitter_.StartRecord();
  if (long_record_.header) {
    header_skipped_ = true;
    return;
  }
  const uint64_t length = long_record_.length - (long_record_.last_byte == '\r' ? 1 : 0);
  reader_errors_.push_back(TooLong(long_record_.line, length, long_record_.prefix));
}

RecordError FileSource::TooLong(uint64_t line, uint64_t length, std::string_view record) const {
  const size_t shown = std::min<uint64_t>(kLongRecordPrefixBytes, max_record_bytes_);
  return RecordError{line,
                     StrCat("record too long: ", length, " bytes, over the limit of ", max_record_bytes_,
                            " ('", definition_.name, ".max.record.bytes')"),
                     std::string(record.substr(0, Utf8PrefixLength(record, shown))), length};
}

void FileSource::AppendIngestionTime(Batch& out) {
  // Without an event time field, _event_time is the batch's processing (ingestion) time.
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auto column = ingestion_time_pool_.Acquire(out.num_rows());
  int64_t* data = column->data<int64_t>();
  for (size_t i = 0; i < out.num_rows(); ++i) data[i] = now;
  column->SetAllValid(out.num_rows());
  out.AddColumn(std::move(column));
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
    errors_.clear();
    if (!records_.empty()) {
      decoder_->Decode(records_, record_lines_.front(), out, errors_);
      // The decoder numbers records consecutively from the first; map them to the lines they
      // begin on (they differ when blank lines or a header were skipped, or a record spans
      // lines).
      for (auto& error : errors_) {
        const uint64_t index = error.line - record_lines_.front();
        if (index < record_lines_.size()) error.line = record_lines_[index];
      }
    }
    if (!reader_errors_.empty()) {  // rare: keep the dead letters in line order
      const size_t decoded = errors_.size();
      for (RecordError& error : reader_errors_) errors_.push_back(std::move(error));
      std::inplace_merge(errors_.begin(), errors_.begin() + static_cast<ptrdiff_t>(decoded), errors_.end(),
                         [](const RecordError& a, const RecordError& b) { return a.line < b.line; });
    }
    counters_.records_read += records_.size() + reader_errors_.size();
    counters_.records_rejected += errors_.size();
    for (const auto& error : errors_) {
      if (strict_) {
        return absl::InvalidArgumentError(StrCat("source '", definition_.name, "', ", path_, " line ",
                                                 error.line, ": ", error.reason, " (--strict)"));
      }
      SLUICE_RETURN_IF_ERROR(dead_letters_->Write(error));
    }
    if (records_.empty()) continue;  // every record of this round was rejected before decoding
    counters_.records_decoded += out.num_rows();
    if (!definition_.has_event_time) AppendIngestionTime(out);
    if (out.num_rows() > 0) {
      event_time_.Observe(out.column(out.num_columns() - 1), out.num_rows());
      if (stream_) {
        // A short batch emptied what had arrived: pass it on now rather than at the next chunk.
        rows_since_flush_ += out.num_rows();
        flush_due_ = out.num_rows() < batch_size_;
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
  RecordSplitter splitter = SplitterFor(format, csv_delimiter);
  const char* data = sample.data();
  size_t start = 0;
  while (start < sample.size() && lines.size() < 1001) {
    const char* newline = splitter.FindEnd(data + start, data + sample.size());
    size_t end = newline != nullptr ? static_cast<size_t>(newline - data) : sample.size();
    if (newline == nullptr && read == (1 << 20)) break;  // a record cut by the sample: leave it out
    splitter.StartRecord();
    std::string_view line = TrimLine(std::string_view(sample).substr(start, end - start));
    if (!IsBlank(line)) lines.push_back(line);
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
