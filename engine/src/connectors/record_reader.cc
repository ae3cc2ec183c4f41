#include "connectors/record_reader.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "common/strings.h"
#include "formats/utf8.h"

namespace sluice {
namespace {

// The most bytes of a record too long to keep that its dead letter shows.
constexpr size_t kLongRecordPrefixBytes = 1024;

}  // namespace

RecordSplitter RecordSplitterFor(const std::string& format, char csv_delimiter) {
  return format == "csv" ? RecordSplitter::Csv(csv_delimiter) : RecordSplitter::Lines();
}

std::string_view TrimCarriageReturn(std::string_view record) {
  if (!record.empty() && record.back() == '\r') record.remove_suffix(1);
  return record;
}

bool IsBlankRecord(std::string_view record) {
  for (char c : record) {
    if (c != ' ' && c != '\t') return false;
  }
  return true;
}

RecordReader::RecordReader(const SourceDefinition& definition, std::shared_ptr<DeadLetterWriter> dead_letters,
                           RecordReaderOptions options)
    : definition_(definition),
      dead_letters_(std::move(dead_letters)),
      options_(std::move(options)),
      splitter_(RecordSplitterFor(definition.format, definition.decoder.csv_delimiter)),
      event_time_(definition.max_out_of_orderness_millis) {
  records_.reserve(options_.batch_size);
  record_lines_.reserve(options_.batch_size);
}

absl::Status RecordReader::Open(bool records_padded) {
  if (definition_.format == "csv") {
    SLUICE_ASSIGN_OR_RETURN(decoder_, MakeCsvDecoder(definition_.decoder));
  } else {
    DecoderOptions options = definition_.decoder;
    options.records_padded = records_padded;
    SLUICE_ASSIGN_OR_RETURN(decoder_, MakeJsonDecoder(options));
  }
  return absl::OkStatus();
}

void RecordReader::StartRound() {
  records_.clear();
  record_lines_.clear();
  rejected_.clear();
}

RecordReader::Take RecordReader::TakeRecord(std::string_view text, size_t& start, size_t& scan_end,
                                            bool at_end) {
  const char* data = text.data();
  const char* end = data + text.size();
  if (long_record_.active) {
    // Let the rest of an over-long record go: scan what is there.
    const char* begin = data + start;
    const char* newline = splitter_.FindEnd(begin, end);
    const char* stop = newline != nullptr ? newline : end;
    if (stop > begin) long_record_.last_byte = stop[-1];
    long_record_.length += static_cast<uint64_t>(stop - begin);
    start = scan_end = newline != nullptr ? static_cast<size_t>(newline - data) + 1 : text.size();
    if (newline == nullptr && !at_end) return Take::kIncomplete;
    FinishLongRecord();
    return Take::kRecord;
  }
  const char* newline = splitter_.FindEnd(data + scan_end, end);
  if (newline != nullptr) {
    const size_t record_start = start;
    start = scan_end = static_cast<size_t>(newline - data) + 1;
    EndRecord(text.substr(record_start, static_cast<size_t>(newline - data) - record_start), false);
    return Take::kRecord;
  }
  if (at_end) {
    if (start == text.size()) return Take::kEnd;
    const size_t record_start = start;
    start = scan_end = text.size();
    // The last record, without a line break.
    EndRecord(text.substr(record_start), splitter_.in_quoted_field());
    return Take::kRecord;
  }
  scan_end = text.size();
  // Over the limit even if a "\r\n" follows: stop holding it.
  const uint64_t held = text.size() - start;
  if (held > options_.max_record_bytes && held - options_.max_record_bytes > 1) {
    StartLongRecord(text.substr(start));
    start = scan_end = text.size();  // the splitter has seen these bytes: let them go
  }
  return Take::kIncomplete;
}

void RecordReader::EndRecord(std::string_view record, bool unterminated) {
  const uint64_t line = next_line_;
  next_line_ += 1 + splitter_.inner_line_breaks();
  splitter_.StartRecord();
  record = TrimCarriageReturn(record);
  if (IsHeader()) {
    header_skipped_ = true;
    return;
  }
  if (record.size() > options_.max_record_bytes) {
    rejected_.push_back(TooLong(line, record.size(), record));
    return;
  }
  if (unterminated) {
    rejected_.push_back(RecordError{
        line,
        StrCat("malformed CSV: a quoted field is not closed before the end of the ", options_.input_name),
        std::string(record)});
    return;
  }
  if (IsBlankRecord(record)) return;
  AddRecord(record, line);
}

void RecordReader::StartLongRecord(std::string_view seen) {
  long_record_.active = true;
  long_record_.header = IsHeader();
  long_record_.line = next_line_;
  long_record_.length = seen.size();
  long_record_.last_byte = seen.back();
  const size_t shown = std::min<uint64_t>(kLongRecordPrefixBytes, options_.max_record_bytes);
  long_record_.prefix.assign(seen.substr(0, Utf8PrefixLength(seen, shown)));
}

void RecordReader::FinishLongRecord() {
  long_record_.active = false;
  next_line_ += 1 + splitter_.inner_line_breaks();
  splitter_.StartRecord();
  if (long_record_.header) {
    header_skipped_ = true;
    return;
  }
  const uint64_t length = long_record_.length - (long_record_.last_byte == '\r' ? 1 : 0);
  rejected_.push_back(TooLong(long_record_.line, length, long_record_.prefix));
}

RecordError RecordReader::TooLong(uint64_t line, uint64_t length, std::string_view record) const {
  const size_t shown = std::min<uint64_t>(kLongRecordPrefixBytes, options_.max_record_bytes);
  return RecordError{line,
                     StrCat("record too long: ", length, " bytes, over the limit of ",
                            options_.max_record_bytes, " ('", definition_.name, ".max.record.bytes')"),
                     std::string(record.substr(0, Utf8PrefixLength(record, shown))), length};
}

absl::StatusOr<size_t> RecordReader::Decode(Batch& out) {
  errors_.clear();
  if (!records_.empty()) {
    decoder_->Decode(records_, record_lines_.front(), out, errors_);
    // The decoder numbers records consecutively from the first; map them to the lines they
    // begin on (they differ when blank lines or a header were skipped, or a record spans
    // lines).
    for (RecordError& error : errors_) {
      const uint64_t index = error.line - record_lines_.front();
      if (index < record_lines_.size()) error.line = record_lines_[index];
    }
  }
  if (!rejected_.empty()) {  // rare: keep the dead letters in line order
    const size_t decoded = errors_.size();
    for (RecordError& error : rejected_) errors_.push_back(std::move(error));
    std::inplace_merge(errors_.begin(), errors_.begin() + static_cast<ptrdiff_t>(decoded), errors_.end(),
                       [](const RecordError& a, const RecordError& b) { return a.line < b.line; });
  }
  counters_.records_read += records_.size() + rejected_.size();
  counters_.records_rejected += errors_.size();
  for (const RecordError& error : errors_) {
    if (options_.strict) {
      return absl::InvalidArgumentError(StrCat("source '", definition_.name, "', ", options_.where, " ",
                                               error.line, ": ", error.reason, " ", options_.strict_note));
    }
    SLUICE_RETURN_IF_ERROR(dead_letters_->Write(error));
  }
  if (records_.empty()) return 0;  // every record of this round was rejected before decoding
  const size_t rows = out.num_rows();
  counters_.records_decoded += rows;
  if (rows == 0) return 0;
  if (!definition_.has_event_time) AppendIngestionTime(out);
  event_time_.Observe(out.column(out.num_columns() - 1), rows);
  return rows;
}

void RecordReader::AppendIngestionTime(Batch& out) {
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

}  // namespace sluice
