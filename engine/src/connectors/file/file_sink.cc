#include "connectors/file/file_sink.h"

#include <cerrno>
#include <cstring>

#include "common/strings.h"

namespace sluice {
namespace {
constexpr size_t kFlushBytes = 1 << 20;
}

FileSink::FileSink(const SinkDefinition& definition, std::unique_ptr<RecordEncoder> encoder, std::string path,
                   bool to_stdout)
    : definition_(definition), path_(std::move(path)), to_stdout_(to_stdout), encoder_(std::move(encoder)) {
  buffer_.reserve(kFlushBytes * 2);
}

FileSink::~FileSink() {
  if (owns_file_ && file_ != nullptr) std::fclose(file_);
}

namespace {
std::unique_ptr<RecordEncoder> MakeEncoder(const SinkDefinition& definition, const Schema& schema) {
  return definition.format == "csv" ? MakeCsvEncoder(schema, definition.csv_delimiter)
                                    : MakeJsonEncoder(schema);
}
}  // namespace

std::unique_ptr<FileSink> FileSink::CreateFile(const SinkDefinition& definition, const Schema& schema,
                                               std::string path) {
  auto sink = std::unique_ptr<FileSink>(
      new FileSink(definition, MakeEncoder(definition, schema), std::move(path), /*to_stdout=*/false));
  sink->SetUpChangelog(definition, schema);
  return sink;
}

std::unique_ptr<FileSink> FileSink::CreateStdout(const SinkDefinition& definition, const Schema& schema) {
  auto sink = std::unique_ptr<FileSink>(
      new FileSink(definition, MakeEncoder(definition, schema), "", /*to_stdout=*/true));
  sink->SetUpChangelog(definition, schema);
  return sink;
}

void FileSink::SetUpChangelog(const SinkDefinition& definition, const Schema& schema) {
  if (definition.changelog_mode == ChangelogMode::kChangelog ||
      (definition.changelog_mode == ChangelogMode::kUpsert && definition.format == "json")) {
    change_encoder_ = std::make_unique<ChangeEncoder>(schema, definition.changelog_mode, definition.upsert_key_columns);
  } else if (definition.changelog_mode == ChangelogMode::kUpsert) {
    drop_update_before_ = true;
  }
}

absl::Status FileSink::Open() {
  if (to_stdout_) {
    file_ = stdout;
    return absl::OkStatus();
  }
  file_ = std::fopen(path_.c_str(), "wb");
  if (file_ == nullptr) {
    return absl::FailedPreconditionError(
        StrCat("sink '", definition_.name, "': cannot create '", path_, "': ", std::strerror(errno)));
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
  if (change_encoder_ != nullptr && (batch.has_row_kinds() || change_encoder_->pending())) {
    change_encoder_->Encode(batch, buffer_);
  } else if (drop_update_before_ && batch.has_row_kinds()) {
    SelectUpserts(batch, kept_rows_);
    encoder_->Encode(kept_rows_, buffer_);
    kept_rows_.Release();
  } else if (change_encoder_ != nullptr && definition_.changelog_mode == ChangelogMode::kChangelog) {
    change_encoder_->Encode(batch, buffer_);
  } else {
    encoder_->Encode(batch, buffer_);
  }
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
  if (change_encoder_ != nullptr) change_encoder_->Finish(buffer_);
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
  if (to_stdout_) return StrCat("StdoutSink ", definition_.name, " (", definition_.format, ")");
  return StrCat("FileSink ", definition_.name, " -> ", path_, " (", definition_.format, ")");
}

}  // namespace sluice
