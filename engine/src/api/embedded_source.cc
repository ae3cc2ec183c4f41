#include "api/embedded_source.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "common/strings.h"

namespace sluice {
namespace {

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

EmbeddedSource::EmbeddedSource(const SourceDefinition& definition, std::unique_ptr<Source> source,
                               std::shared_ptr<DeadLetterWriter> dead_letters, size_t batch_size, bool strict)
    : definition_(definition),
      source_(std::move(source)),
      dead_letters_(std::move(dead_letters)),
      batch_size_(std::max<size_t>(batch_size, 1)),
      strict_(strict),
      splitter_(definition.format == "csv" ? RecordSplitter::Csv(definition.decoder.csv_delimiter)
                                           : RecordSplitter::Lines()),
      event_time_(definition.max_out_of_orderness_millis) {}

absl::Status EmbeddedSource::Open() {
  if (source_ == nullptr) {
    return absl::FailedPreconditionError(
        StrCat("the factory in JobOptions::sources for '", definition_.name, "' returned no source"));
  }
  if (definition_.format == "csv") {
    SLUICE_ASSIGN_OR_RETURN(decoder_, MakeCsvDecoder(definition_.decoder));
  } else {
    SLUICE_ASSIGN_OR_RETURN(decoder_, MakeJsonDecoder(definition_.decoder));
  }
  return source_->Open();
}

absl::StatusOr<bool> EmbeddedSource::ReadRecords() {
  records_.clear();
  record_lines_.clear();
  reader_errors_.clear();
  while (records_.size() < batch_size_) {
    const char* data = text_.data();
    const char* end = data + text_.size();
    const char* newline = splitter_.FindEnd(data + scan_end_, end);
    std::string_view record;
    bool unterminated = false;
    if (newline != nullptr) {
      record = std::string_view(data + record_start_, static_cast<size_t>(newline - data) - record_start_);
      record_start_ = scan_end_ = static_cast<size_t>(newline - data) + 1;
    } else if (exhausted_) {
      if (record_start_ == text_.size()) break;
      record = std::string_view(data + record_start_, text_.size() - record_start_);  // no newline
      unterminated = splitter_.in_quoted_field();
      record_start_ = scan_end_ = text_.size();
    } else {
      scan_end_ = text_.size();
      if (!records_.empty() || !reader_errors_.empty()) break;  // decode these before moving text_
      text_.erase(0, record_start_);
      scan_end_ -= record_start_;
      record_start_ = 0;
      chunk_.clear();
      SLUICE_ASSIGN_OR_RETURN(const bool more, source_->Read(chunk_));
      counters_.bytes_read += chunk_.size();
      text_.append(chunk_);
      if (!more) {
        exhausted_ = true;
      } else if (chunk_.empty()) {
        return true;  // nothing available yet
      }
      continue;
    }
    const uint64_t line = next_line_;
    next_line_ += 1 + splitter_.inner_line_breaks();
    splitter_.StartRecord();
    record = TrimLine(record);
    if (definition_.format == "csv" && definition_.decoder.csv_header && !header_skipped_) {
      header_skipped_ = true;
      continue;
    }
    if (unterminated) {
      reader_errors_.push_back(
          RecordError{line, "malformed CSV: a quoted field is not closed before the end of the input",
                      std::string(record)});
      continue;
    }
    if (IsBlank(record)) continue;
    records_.push_back(record);
    record_lines_.push_back(line);
  }
  return !records_.empty() || !reader_errors_.empty();  // none: the input is exhausted
}

absl::StatusOr<bool> EmbeddedSource::Next(Batch& out) {
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(const bool more, ReadRecords());
    if (!more) return false;
    if (records_.empty() && reader_errors_.empty()) {
      out.Release();  // nothing arrived: an empty batch, so that the runtime can look around
      return true;
    }
    errors_.clear();
    if (!records_.empty()) {
      decoder_->Decode(records_, record_lines_.front(), out, errors_);
      // The decoder numbers records consecutively from the first; map them to their lines.
      for (RecordError& error : errors_) {
        const uint64_t index = error.line - record_lines_.front();
        if (index < record_lines_.size()) error.line = record_lines_[index];
      }
    }
    if (!reader_errors_.empty()) {
      const size_t decoded = errors_.size();
      for (RecordError& error : reader_errors_) errors_.push_back(std::move(error));
      std::inplace_merge(errors_.begin(), errors_.begin() + static_cast<ptrdiff_t>(decoded), errors_.end(),
                         [](const RecordError& a, const RecordError& b) { return a.line < b.line; });
    }
    counters_.records_read += records_.size() + reader_errors_.size();
    counters_.records_rejected += errors_.size();
    for (const RecordError& error : errors_) {
      if (strict_) {
        return absl::InvalidArgumentError(
            StrCat("source '", definition_.name, "', line ", error.line, ": ", error.reason, " (strict)"));
      }
      SLUICE_RETURN_IF_ERROR(dead_letters_->Write(error));
    }
    if (records_.empty()) continue;  // every record of this round was rejected before decoding
    counters_.records_decoded += out.num_rows();
    if (!definition_.has_event_time) AppendIngestionTime(out);
    if (out.num_rows() > 0) {
      event_time_.Observe(out.column(out.num_columns() - 1), out.num_rows());
      return true;
    }
  }
}

void EmbeddedSource::AppendIngestionTime(Batch& out) {
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
