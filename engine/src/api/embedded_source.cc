#include "api/embedded_source.h"

#include <algorithm>
#include <utility>

#include "common/strings.h"

namespace sluice {

EmbeddedSource::EmbeddedSource(const SourceDefinition& definition, std::unique_ptr<Source> source,
                               std::shared_ptr<DeadLetterWriter> dead_letters, size_t batch_size, bool strict)
    : definition_(definition),
      source_(std::move(source)),
      reader_(definition_, std::move(dead_letters),
              RecordReaderOptions{.batch_size = std::max<size_t>(batch_size, 1),
                                  .strict = strict,
                                  .where = "line",
                                  .strict_note = "(strict)",
                                  .input_name = "input"}) {}

absl::Status EmbeddedSource::Open() {
  if (source_ == nullptr) {
    return absl::FailedPreconditionError(
        StrCat("the factory in JobOptions::sources for '", definition_.name, "' returned no source"));
  }
  SLUICE_RETURN_IF_ERROR(reader_.Open(/*records_padded=*/false));
  return source_->Open();
}

absl::StatusOr<bool> EmbeddedSource::ReadRecords() {
  reader_.StartRound();
  while (!reader_.full()) {
    const RecordReader::Take take = reader_.TakeRecord(text_, record_start_, scan_end_, exhausted_);
    if (take == RecordReader::Take::kEnd) break;
    if (take == RecordReader::Take::kRecord) continue;
    if (!reader_.empty()) break;  // decode these before moving text_
    text_.erase(0, record_start_);
    scan_end_ -= record_start_;
    record_start_ = 0;
    chunk_.clear();
    SLUICE_ASSIGN_OR_RETURN(const bool more, source_->Read(chunk_));
    reader_.CountBytesRead(chunk_.size());
    text_.append(chunk_);
    if (!more) {
      exhausted_ = true;
    } else if (chunk_.empty()) {
      return true;  // nothing available yet
    }
  }
  return !reader_.empty();  // none: the input is exhausted
}

absl::StatusOr<bool> EmbeddedSource::Next(Batch& out) {
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(const bool more, ReadRecords());
    if (!more) return false;
    if (reader_.empty()) {
      out.Release();  // nothing arrived: an empty batch, so that the runtime can look around
      return true;
    }
    SLUICE_ASSIGN_OR_RETURN(const size_t rows, reader_.Decode(out));
    if (rows > 0) return true;
  }
}

}  // namespace sluice
