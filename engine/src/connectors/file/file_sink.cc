#include "connectors/file/file_sink.h"

#include <cerrno>
#include <cstring>

#include "common/strings.h"

namespace sluice {
namespace {
constexpr size_t kFlushBytes = 1 << 20;
}

FileSink::FileSink(const SinkDefinition& definition, std::unique_ptr<RecordEncoder> encoder)
    : definition_(definition), encoder_(std::move(encoder)) {
  buffer_.reserve(kFlushBytes * 2);
}

FileSink::~FileSink() {
  if (owns_file_ && file_ != nullptr) std::fclose(file_);
}

std::unique_ptr<FileSink> FileSink::Create(const SinkDefinition& definition, const Schema& schema) {
  std::unique_ptr<RecordEncoder> encoder =
      definition.format == "csv" ? MakeCsvEncoder(schema, definition.csv_delimiter) : MakeJsonEncoder(schema);
  return std::unique_ptr<FileSink>(new FileSink(definition, std::move(encoder)));
}

absl::Status FileSink::Open() {
  if (definition_.type == "stdout_sink") {
    file_ = stdout;
    return absl::OkStatus();
  }
  file_ = std::fopen(definition_.path.c_str(), "wb");
  if (file_ == nullptr) {
    return absl::FailedPreconditionError(StrCat("sink '", definition_.name, "': cannot create '",
                                                definition_.path, "': ", std::strerror(errno)));
  }
  owns_file_ = true;
  return absl::OkStatus();
}

absl::Status FileSink::WriteBuffer() {
  if (buffer_.empty()) return absl::OkStatus();
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
    return absl::DataLossError(StrCat("sink '", definition_.name, "': write failed: ", std::strerror(errno)));
  }
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status FileSink::Push(const Batch& batch) {
  encoder_->Encode(batch, buffer_);
  rows_written_ += batch.active_rows();
  if (buffer_.size() >= kFlushBytes) return WriteBuffer();
  return absl::OkStatus();
}

absl::Status FileSink::Flush() {
  if (file_ == nullptr) return absl::OkStatus();
  SLUICE_RETURN_IF_ERROR(WriteBuffer());
  if (std::fflush(file_) != 0) {
    return absl::DataLossError(StrCat("sink '", definition_.name, "': flush failed: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status FileSink::Finish() {
  if (file_ == nullptr) return absl::OkStatus();  // never opened
  SLUICE_RETURN_IF_ERROR(WriteBuffer());
  if (std::fflush(file_) != 0) {
    return absl::DataLossError(StrCat("sink '", definition_.name, "': flush failed: ", std::strerror(errno)));
  }
  if (owns_file_) {
    const int rc = std::fclose(file_);
    file_ = nullptr;  // Finish() is idempotent
    owns_file_ = false;
    if (rc != 0) {
      return absl::DataLossError(
          StrCat("sink '", definition_.name, "': close failed: ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

std::string FileSink::Describe() const {
  if (definition_.type == "stdout_sink")
    return StrCat("StdoutSink ", definition_.name, " (", definition_.format, ")");
  return StrCat("FileSink ", definition_.name, " -> ", definition_.path, " (", definition_.format, ")");
}

}  // namespace sluice
