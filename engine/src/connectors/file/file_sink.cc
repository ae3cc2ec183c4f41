#include "connectors/file/file_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

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
  // A two-phase sink that did not finish leaves its staging file: the next restore deletes it.
  if (owns_file_ && file_ != nullptr) std::fclose(file_);
  if (output_fd_ >= 0) close(output_fd_);
}

namespace {
std::unique_ptr<RecordEncoder> MakeEncoder(const SinkDefinition& definition, const Schema& schema) {
  return definition.format == "csv" ? MakeCsvEncoder(schema, definition.csv_delimiter, definition.csv_header,
                                                     definition.csv_sql_timestamps)
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
  if (two_phase_) {
    if (!restored_) {
      output_fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (output_fd_ < 0) return Error("create", path_);
      committed_bytes_ = 0;
      DeleteStaleParts();
    }
    return OpenStaging();
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
  staged_bytes_ += buffer_.size();
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
  if (two_phase_) {
    // The run is over: what it received is final. Sealed parts first, then the staging file.
    SLUICE_RETURN_IF_ERROR(CommitThrough(UINT64_MAX));
    const int rc = std::fclose(file_);
    file_ = nullptr;
    owns_file_ = false;
    if (rc != 0) return Error("close", StagingPath());
    SLUICE_RETURN_IF_ERROR(AppendToOutput(StagingPath(), staged_bytes_));
    committed_bytes_ += staged_bytes_;
    staged_bytes_ = 0;
    std::remove(StagingPath().c_str());
    const int closed = close(output_fd_);
    output_fd_ = -1;
    if (closed != 0) return Error("close", path_);
    return absl::OkStatus();
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

absl::Status FileSink::Error(const std::string& what, const std::string& path) const {
  return absl::DataLossError(
      StrCat("sink '", definition_.name, "': cannot ", what, " '", path, "': ", std::strerror(errno)));
}

// --- two-phase commit ------------------------------------------------------------------------

namespace {

// The directory of `path` and its file name.
std::pair<std::string, std::string> SplitPath(const std::string& path) {
  const std::filesystem::path p(path);
  std::string directory = p.parent_path().string();
  if (directory.empty()) directory = ".";
  return {directory, p.filename().string()};
}

absl::Status FsyncDirectoryOf(const std::string& path) {
  const std::string directory = SplitPath(path).first;
  const int fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError(StrCat("cannot open '", directory, "': ", std::strerror(errno)));
  const int rc = fsync(fd);
  close(fd);
  if (rc != 0) return absl::UnavailableError(StrCat("cannot fsync '", directory, "': ", std::strerror(errno)));
  return absl::OkStatus();
}

}  // namespace

bool FileSink::EnableTwoPhaseCommit(bool /*periodic*/) {
  if (to_stdout_) return false;
  two_phase_ = true;
  return true;
}

std::string FileSink::StagingPath() const {
  const auto [directory, name] = SplitPath(path_);
  return StrCat(directory, "/.", name, ".inprogress");
}

std::string FileSink::PartPath(uint64_t checkpoint) const {
  const auto [directory, name] = SplitPath(path_);
  return StrCat(directory, "/.", name, ".part-", checkpoint);
}

absl::Status FileSink::OpenStaging() {
  const std::string staging = StagingPath();
  file_ = std::fopen(staging.c_str(), "wb");
  if (file_ == nullptr) return Error("create", staging);
  owns_file_ = true;
  staged_bytes_ = 0;
  return absl::OkStatus();
}

void FileSink::DeleteStaleParts() const {
  const auto [directory, name] = SplitPath(path_);
  const std::string part_prefix = StrCat(".", name, ".part-");
  const std::string staging = StrCat(".", name, ".inprogress");
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    const std::string file = entry.path().filename().string();
    if (file == staging || file.rfind(part_prefix, 0) == 0) std::filesystem::remove(entry.path(), error);
  }
}

absl::Status FileSink::AppendToOutput(const std::string& part, uint64_t bytes) {
  const int in = open(part.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Error("open", part);
  struct stat info;
  if (fstat(in, &info) != 0 || static_cast<uint64_t>(info.st_size) != bytes) {
    close(in);
    return absl::DataLossError(StrCat("sink '", definition_.name, "': '", part, "' should hold ", bytes,
                                      " bytes and holds ", info.st_size));
  }
  loff_t in_offset = 0;
  loff_t out_offset = static_cast<loff_t>(committed_bytes_);
  uint64_t left = bytes;
  while (left > 0) {
    ssize_t copied = copy_file_range(in, &in_offset, output_fd_, &out_offset, left, 0);
    if (copied < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
      // No in-kernel copy between these files: read and write.
      char chunk[1 << 16];
      const ssize_t got = pread(in, chunk, std::min<uint64_t>(sizeof(chunk), left), in_offset);
      copied = got <= 0 ? -1 : pwrite(output_fd_, chunk, static_cast<size_t>(got), out_offset);
      if (copied > 0) {
        in_offset += copied;
        out_offset += copied;
      }
    }
    if (copied < 0 && errno == EINTR) continue;
    if (copied <= 0) {
      close(in);
      return Error("append a committed part to", path_);
    }
    left -= static_cast<uint64_t>(copied);
  }
  close(in);
  if (fsync(output_fd_) != 0) return Error("fsync", path_);
  return absl::OkStatus();
}

absl::Status FileSink::CommitThrough(uint64_t checkpoint) {
  size_t done = 0;
  for (; done < sealed_.size() && sealed_[done].checkpoint <= checkpoint; ++done) {
    const std::string part = PartPath(sealed_[done].checkpoint);
    SLUICE_RETURN_IF_ERROR(AppendToOutput(part, sealed_[done].bytes));
    committed_bytes_ += sealed_[done].bytes;
    std::remove(part.c_str());  // only once its bytes are durable in the output
  }
  sealed_.erase(sealed_.begin(), sealed_.begin() + static_cast<ptrdiff_t>(done));
  return absl::OkStatus();
}

absl::Status FileSink::PreCommit(uint64_t checkpoint) {
  if (!two_phase_ || file_ == nullptr) return absl::OkStatus();
  SLUICE_RETURN_IF_ERROR(Flush());
  if (staged_bytes_ == 0) return absl::OkStatus();
  const std::string staging = StagingPath();
  if (fsync(fileno(file_)) != 0) return Error("fsync", staging);
  const int rc = std::fclose(file_);
  file_ = nullptr;
  owns_file_ = false;
  if (rc != 0) return Error("close", staging);
  const std::string part = PartPath(checkpoint);
  if (std::rename(staging.c_str(), part.c_str()) != 0) return Error("seal", part);
  SLUICE_RETURN_IF_ERROR(FsyncDirectoryOf(part));
  sealed_.push_back(SealedPart{checkpoint, staged_bytes_});
  return OpenStaging();
}

absl::Status FileSink::Commit(uint64_t checkpoint) {
  if (!two_phase_) return absl::OkStatus();
  return CommitThrough(checkpoint);
}

absl::Status FileSink::Snapshot(StateWriter& writer) const {
  writer.WriteU8(1);  // version
  writer.WriteU8(two_phase_ ? 1 : 0);
  if (two_phase_) {
    writer.WriteU64(committed_bytes_);
    writer.WriteU64(sealed_.size());
    for (const SealedPart& part : sealed_) {
      writer.WriteU64(part.checkpoint);
      writer.WriteU64(part.bytes);
    }
  }
  writer.WriteU8(change_encoder_ != nullptr ? 1 : 0);
  if (change_encoder_ != nullptr) change_encoder_->Snapshot(writer);
  return absl::OkStatus();
}

absl::Status FileSink::Restore(StateReader& reader) {
  SLUICE_ASSIGN_OR_RETURN(const uint8_t version, reader.ReadU8());
  if (version != 1) return absl::DataLossError(StrCat("file sink snapshot version ", version, " is unknown"));
  SLUICE_ASSIGN_OR_RETURN(const uint8_t two_phase, reader.ReadU8());
  if ((two_phase == 1) != two_phase_) {
    return absl::FailedPreconditionError(StrCat("sink '", definition_.name,
                                                "': the checkpoint was taken with another commit mode"));
  }
  if (two_phase_) {
    SLUICE_ASSIGN_OR_RETURN(const uint64_t committed, reader.ReadU64());
    SLUICE_ASSIGN_OR_RETURN(const uint64_t parts, reader.ReadCount(16));
    std::vector<SealedPart> sealed(parts);
    for (SealedPart& part : sealed) {
      SLUICE_ASSIGN_OR_RETURN(part.checkpoint, reader.ReadU64());
      SLUICE_ASSIGN_OR_RETURN(part.bytes, reader.ReadU64());
    }
    // The output as the checkpoint left it: its committed bytes, then each sealed part (their
    // checkpoint completed, so they are committed now if the crash came before their commit).
    output_fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (output_fd_ < 0) return Error("open", path_);
    struct stat info;
    if (fstat(output_fd_, &info) != 0) return Error("stat", path_);
    uint64_t length = static_cast<uint64_t>(info.st_size);
    if (length < committed) {
      return absl::DataLossError(StrCat("sink '", definition_.name, "': '", path_, "' holds ", length,
                                        " bytes, fewer than the ", committed,
                                        " the checkpoint committed to it (was it changed outside Sluice?)"));
    }
    committed_bytes_ = committed;
    for (const SealedPart& part : sealed) {
      const uint64_t end = committed_bytes_ + part.bytes;
      if (length < end) {
        // This part's commit did not finish: redo it from its start.
        if (ftruncate(output_fd_, static_cast<off_t>(committed_bytes_)) != 0) return Error("truncate", path_);
        SLUICE_RETURN_IF_ERROR(AppendToOutput(PartPath(part.checkpoint), part.bytes));
        length = end;
      }
      committed_bytes_ = end;
    }
    // Whatever lies beyond was appended after the checkpoint: the resumed run writes it again.
    if (length > committed_bytes_) {
      if (ftruncate(output_fd_, static_cast<off_t>(committed_bytes_)) != 0) return Error("truncate", path_);
      if (fsync(output_fd_) != 0) return Error("fsync", path_);
    }
    DeleteStaleParts();
    restored_ = true;
  }
  SLUICE_ASSIGN_OR_RETURN(const uint8_t has_encoder, reader.ReadU8());
  if ((has_encoder == 1) != (change_encoder_ != nullptr)) {
    return absl::FailedPreconditionError(StrCat("sink '", definition_.name, "': the checkpoint was taken with another changelog mode"));
  }
  if (change_encoder_ != nullptr) SLUICE_RETURN_IF_ERROR(change_encoder_->Restore(reader));
  return absl::OkStatus();
}

std::string FileSink::Describe(std::string_view name) const {
  const std::string named = name.empty() ? "" : StrCat(" ", name);
  if (to_stdout_) return StrCat("StdoutSink", named, " (", definition_.format, ")");
  return StrCat("FileSink", named, " -> ", path_, " (", definition_.format, ")");
}

}  // namespace sluice
