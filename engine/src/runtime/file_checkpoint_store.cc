#include "runtime/file_checkpoint_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "common/crc32c.h"
#include "common/strings.h"
#include "state/state_serializer.h"

namespace sluice {
namespace {

constexpr const char* kManifestHeader = "sluice checkpoint 2";  // 2: operator ids in the state
constexpr const char* kPrefix = "chk-";
constexpr const char* kCommitRecord = "COMMITTED";  // RecordCommitted()

absl::Status IoError(const std::string& what, const std::string& path) {
  return absl::UnavailableError(StrCat("checkpoint: cannot ", what, " '", path, "': ", std::strerror(errno)));
}

// Writes `bytes` to `path` (created or truncated) and fsyncs it.
absl::Status WriteDurably(const std::string& path, std::string_view bytes) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("create", path);
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status status = IoError("write", path);
      close(fd);
      return status;
    }
    written += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) {
    absl::Status status = IoError("fsync", path);
    close(fd);
    return status;
  }
  if (close(fd) != 0) return IoError("close", path);
  return absl::OkStatus();
}

absl::Status FsyncDirectory(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("open the directory", path);
  const int synced = fsync(fd);
  close(fd);
  if (synced != 0) return IoError("fsync the directory", path);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadWhole(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(StrCat("cannot open ", path, ": ", std::strerror(errno)));
  std::string out;
  char chunk[1 << 16];
  while (true) {
    const ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string error = std::strerror(errno);
      close(fd);
      return absl::DataLossError(StrCat("cannot read ", path, ": ", error));
    }
    if (n == 0) break;
    out.append(chunk, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

// The manifest's key=value lines (after the header), its own checksum verified.
absl::StatusOr<std::map<std::string, std::string>> ParseManifest(std::string_view text) {
  const size_t last = text.rfind("crc32c=");
  if (last == std::string_view::npos || (last > 0 && text[last - 1] != '\n')) {
    return absl::DataLossError("MANIFEST has no checksum line");
  }
  const std::string digits(StripWhitespace(text.substr(last + 7)));
  char* end = nullptr;
  const unsigned long stored = std::strtoul(digits.c_str(), &end, 16);
  if (digits.empty() || digits.size() > 8 || end != digits.c_str() + digits.size()) {
    return absl::DataLossError("MANIFEST's checksum line is malformed");
  }
  if (Crc32c(text.substr(0, last)) != stored) return absl::DataLossError("MANIFEST's CRC32C does not match");
  std::map<std::string, std::string> fields;
  const std::vector<std::string_view> lines = StrSplit(text.substr(0, last), '\n');
  if (lines.empty() || lines[0] != kManifestHeader) return absl::DataLossError("MANIFEST has an unknown header");
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    const size_t equals = lines[i].find('=');
    if (equals == std::string_view::npos) {
      return absl::DataLossError(StrCat("MANIFEST line '", lines[i], "' is malformed"));
    }
    fields[std::string(lines[i].substr(0, equals))] = std::string(lines[i].substr(equals + 1));
  }
  return fields;
}

template <typename T>
absl::StatusOr<T> Field(const std::map<std::string, std::string>& fields, const std::string& key) {
  auto it = fields.find(key);
  T value{};
  if (it == fields.end() || !absl::SimpleAtoi(it->second, &value)) {
    return absl::DataLossError(StrCat("MANIFEST lacks a valid '", key, "'"));
  }
  return value;
}

}  // namespace

CheckpointJobIdentity CheckpointJobIdentity::Of(std::string_view job_text, int parallelism) {
  return CheckpointJobIdentity{Crc32c(job_text), job_text.size(), parallelism};
}

absl::StatusOr<std::unique_ptr<FileCheckpointStore>> FileCheckpointStore::Open(const std::string& directory,
                                                                               CheckpointJobIdentity identity,
                                                                               int retained) {
  if (retained < 1) return absl::InvalidArgumentError("checkpoint: at least one checkpoint must be retained");
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    return absl::UnavailableError(
        StrCat("checkpoint: cannot create the directory '", directory, "': ", error.message()));
  }
  if (!std::filesystem::is_directory(directory)) {
    return absl::InvalidArgumentError(StrCat("checkpoint: '", directory, "' is not a directory"));
  }
  auto store = std::unique_ptr<FileCheckpointStore>(new FileCheckpointStore(directory, identity, retained));
  const std::vector<uint64_t> present = store->ListCheckpoints();
  store->id_base_ = present.empty() ? 0 : present.front();
  return store;
}

std::string FileCheckpointStore::CheckpointPath(uint64_t checkpoint) const {
  return absl::StrFormat("%s/%s%010u", directory_, kPrefix, checkpoint);
}

std::vector<uint64_t> FileCheckpointStore::ListCheckpoints() const {
  std::vector<uint64_t> ids;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory_, error)) {
    const std::string name = entry.path().filename().string();
    uint64_t id = 0;
    if (name.rfind(kPrefix, 0) == 0 && absl::SimpleAtoi(name.substr(4), &id) && entry.is_directory()) {
      ids.push_back(id);
    }
  }
  std::sort(ids.rbegin(), ids.rend());
  return ids;
}

absl::Status FileCheckpointStore::Load(uint64_t id, CheckpointInfo* info,
                                       std::map<std::pair<std::string, size_t>, std::string>* snapshots) const {
  const std::string path = CheckpointPath(id);
  absl::StatusOr<std::string> manifest_text = ReadWhole(StrCat(path, "/MANIFEST"));
  if (!manifest_text.ok()) return absl::NotFoundError("it has no MANIFEST (a crash interrupted it)");
  SLUICE_ASSIGN_OR_RETURN(auto fields, ParseManifest(*manifest_text));
  SLUICE_ASSIGN_OR_RETURN(const uint64_t stored_id, Field<uint64_t>(fields, "checkpoint"));
  if (stored_id != id) return absl::DataLossError(StrCat("its MANIFEST names checkpoint ", stored_id));
  SLUICE_ASSIGN_OR_RETURN(const uint32_t text_crc, Field<uint32_t>(fields, "job_text_crc32c"));
  SLUICE_ASSIGN_OR_RETURN(const uint64_t text_bytes, Field<uint64_t>(fields, "job_text_bytes"));
  SLUICE_ASSIGN_OR_RETURN(const int parallelism, Field<int>(fields, "parallelism"));
  if (identity_.same_text && (text_crc != identity_.text_crc32c || text_bytes != identity_.text_bytes)) {
    return absl::FailedPreconditionError(
        StrCat("checkpoint ", id, " in '", directory_,
               "' belongs to another job (its text differs from this one's); use another checkpoint "
               "directory, or delete this one to start over"));
  }
  SLUICE_ASSIGN_OR_RETURN(const uint64_t state_bytes, Field<uint64_t>(fields, "state_bytes"));
  SLUICE_ASSIGN_OR_RETURN(const uint32_t state_crc, Field<uint32_t>(fields, "state_crc32c"));
  SLUICE_ASSIGN_OR_RETURN(const int64_t completed, Field<int64_t>(fields, "completed_unix_millis"));
  SLUICE_ASSIGN_OR_RETURN(std::string state, ReadWhole(StrCat(path, "/state")));
  if (state.size() != state_bytes) {
    return absl::DataLossError(StrCat("its state file has ", state.size(), " bytes, the MANIFEST says ", state_bytes));
  }
  if (Crc32c(state) != state_crc) return absl::DataLossError("its state file's CRC32C does not match the MANIFEST");
  if (fields.count("commit_record") != 0 && !std::filesystem::exists(StrCat(path, "/", kCommitRecord))) {
    return absl::UnavailableError(
        "the output it covers was never committed (its Kafka transaction is aborted when the job "
        "restarts): the checkpoint before it is used, and that output is produced again");
  }
  StateReader reader(state);
  SLUICE_ASSIGN_OR_RETURN(const uint64_t entries, reader.ReadCount(16));
  snapshots->clear();
  for (uint64_t i = 0; i < entries; ++i) {
    SLUICE_ASSIGN_OR_RETURN(std::string_view task, reader.ReadBytes());
    SLUICE_ASSIGN_OR_RETURN(const uint64_t op, reader.ReadU64());
    SLUICE_ASSIGN_OR_RETURN(std::string_view bytes, reader.ReadBytes());
    (*snapshots)[{std::string(task), static_cast<size_t>(op)}] = std::string(bytes);
  }
  if (!reader.AtEnd()) return absl::DataLossError("its state file has bytes after its last entry");
  info->id = id;
  info->path = path;
  info->completed_unix_millis = completed;
  info->state_bytes = state_bytes;
  info->parallelism = parallelism;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<CheckpointInfo>> FileCheckpointStore::Recover(std::vector<std::string>* notes) {
  for (uint64_t id : ListCheckpoints()) {
    CheckpointInfo info;
    std::map<std::pair<std::string, size_t>, std::string> snapshots;
    absl::Status status = Load(id, &info, &snapshots);
    if (status.code() == absl::StatusCode::kFailedPrecondition) return status;  // another job
    if (!status.ok()) {
      if (notes != nullptr) {
        notes->push_back(StrCat("checkpoint ", id, " (", CheckpointPath(id), ") is not used: ", status.message()));
      }
      continue;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    loaded_id_ = id;
    loaded_ = std::move(snapshots);
    return std::optional<CheckpointInfo>(info);
  }
  return std::optional<CheckpointInfo>();
}

absl::Status FileCheckpointStore::Put(uint64_t run_checkpoint, const std::string& task, size_t operator_index,
                                      std::string snapshot) {
  const uint64_t checkpoint = run_checkpoint + id_base_;
  std::lock_guard<std::mutex> lock(mutex_);
  if (checkpoint != in_flight_) {
    pending_.clear();
    in_flight_ = checkpoint;
  }
  auto [it, inserted] = pending_.emplace(std::make_pair(task, operator_index), std::move(snapshot));
  if (!inserted) {
    return absl::InternalError(StrCat("checkpoint ", checkpoint, ": task '", task, "' operator ", operator_index,
                                      " snapshotted twice"));
  }
  return absl::OkStatus();
}

absl::Status FileCheckpointStore::Complete(uint64_t run_checkpoint) {
  std::unique_lock<std::mutex> lock(mutex_);
  // One checkpoint is written at a time and one more may wait.
  changed_.wait(lock, [this] { return !queued_.has_value() || !write_error_.ok(); });
  if (!write_error_.ok()) return write_error_;
  Write write;
  write.run_checkpoint = run_checkpoint;
  write.checkpoint = run_checkpoint + id_base_;
  if (write.checkpoint == in_flight_) write.snapshots = std::move(pending_);
  pending_.clear();
  queued_ = std::move(write);
  if (!writer_.joinable()) writer_ = std::thread([this] { WriterLoop(); });
  changed_.notify_all();
  return absl::OkStatus();
}

absl::Status FileCheckpointStore::WaitDurable() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return (!queued_.has_value() && !writing_) || !write_error_.ok(); });
  return write_error_;
}

FileCheckpointStore::~FileCheckpointStore() {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return (!queued_.has_value() && !writing_) || !write_error_.ok(); });
    stopping_ = true;
    changed_.notify_all();
  }
  if (writer_.joinable()) writer_.join();
}

void FileCheckpointStore::WriterLoop() {
  while (true) {
    Write write;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [this] { return queued_.has_value() || stopping_; });
      if (!queued_.has_value()) return;
      write = std::move(*queued_);
      queued_.reset();
      writing_ = true;
      changed_.notify_all();
    }
    const absl::Status status = WriteCheckpoint(write);
    std::lock_guard<std::mutex> lock(mutex_);
    writing_ = false;
    for (auto& [key, bytes] : write.snapshots) recycled_[key] = std::move(bytes);
    if (status.ok()) {
      durable_run_checkpoint_.store(write.run_checkpoint, std::memory_order_release);
    } else if (write_error_.ok()) {
      write_error_ = status;
    }
    changed_.notify_all();
    if (!write_error_.ok()) return;
  }
}

namespace {

// A file written in pieces, each appended to a running CRC32C; Finish() fsyncs and closes it.
class ChecksummedFile {
 public:
  ~ChecksummedFile() {
    if (fd_ >= 0) close(fd_);
  }
  absl::Status Open(const std::string& path) {
    path_ = path;
    fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    return fd_ < 0 ? IoError("create", path) : absl::OkStatus();
  }
  absl::Status Append(std::string_view bytes) {
    crc_ = Crc32cExtend(crc_, bytes.data(), bytes.size());
    size_ += bytes.size();
    size_t written = 0;
    while (written < bytes.size()) {
      const ssize_t n = write(fd_, bytes.data() + written, bytes.size() - written);
      if (n < 0) {
        if (errno == EINTR) continue;
        return IoError("write", path_);
      }
      written += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }
  absl::Status AppendU64(uint64_t value) { return Append(std::string_view(reinterpret_cast<const char*>(&value), 8)); }
  absl::Status Finish() {
    if (fsync(fd_) != 0) return IoError("fsync", path_);
    const int rc = close(fd_);
    fd_ = -1;
    return rc != 0 ? IoError("close", path_) : absl::OkStatus();
  }
  uint32_t crc() const { return crc_; }
  uint64_t size() const { return size_; }

 private:
  std::string path_;
  int fd_ = -1;
  uint32_t crc_ = 0;
  uint64_t size_ = 0;
};

}  // namespace

absl::Status FileCheckpointStore::WriteCheckpoint(const Write& write) {
  const auto started = std::chrono::steady_clock::now();
  const uint64_t checkpoint = write.checkpoint;
  const std::string path = CheckpointPath(checkpoint);
  std::error_code error;
  std::filesystem::remove_all(path, error);  // an incomplete attempt of the same number
  if (!std::filesystem::create_directory(path, error) || error) {
    return absl::UnavailableError(StrCat("checkpoint: cannot create '", path, "': ", error.message()));
  }
  // The entries as Load() reads them (StateWriter's format), written straight from the
  // snapshots: no copy of the whole state is made.
  ChecksummedFile state;
  SLUICE_RETURN_IF_ERROR(state.Open(StrCat(path, "/state")));
  SLUICE_RETURN_IF_ERROR(state.AppendU64(write.snapshots.size()));
  for (const auto& [key, bytes] : write.snapshots) {
    SLUICE_RETURN_IF_ERROR(state.AppendU64(key.first.size()));
    SLUICE_RETURN_IF_ERROR(state.Append(key.first));
    SLUICE_RETURN_IF_ERROR(state.AppendU64(key.second));
    SLUICE_RETURN_IF_ERROR(state.AppendU64(bytes.size()));
    SLUICE_RETURN_IF_ERROR(state.Append(bytes));
  }
  SLUICE_RETURN_IF_ERROR(state.Finish());
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::string manifest = StrCat(kManifestHeader, "\ncheckpoint=", checkpoint,
                                "\njob_text_crc32c=", identity_.text_crc32c, "\njob_text_bytes=", identity_.text_bytes,
                                "\nparallelism=", identity_.parallelism, "\nstate_bytes=", state.size(),
                                "\nstate_crc32c=", state.crc(), "\nentries=", write.snapshots.size(),
                                "\ncompleted_unix_millis=", now, "\n");
  if (commit_records_.load(std::memory_order_acquire)) manifest += "commit_record=required\n";
  manifest += absl::StrFormat("crc32c=%08x\n", Crc32c(manifest));
  const std::string temporary = StrCat(path, "/MANIFEST.tmp");
  SLUICE_RETURN_IF_ERROR(WriteDurably(temporary, manifest));
  if (std::rename(temporary.c_str(), StrCat(path, "/MANIFEST").c_str()) != 0) {
    return IoError("publish the MANIFEST of", path);
  }
  SLUICE_RETURN_IF_ERROR(FsyncDirectory(path));
  SLUICE_RETURN_IF_ERROR(FsyncDirectory(directory_));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    last_completed_ = checkpoint;
    last_state_bytes_ = state.size();
    last_write_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
  return DeleteOld(checkpoint);
}

std::string FileCheckpointStore::TakeBuffer(const std::string& task, size_t operator_index) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = recycled_.find({task, operator_index});
  if (it == recycled_.end()) return {};
  std::string buffer = std::move(it->second);
  recycled_.erase(it);
  return buffer;
}

double FileCheckpointStore::last_write_seconds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_write_seconds_;
}

uint64_t FileCheckpointStore::last_state_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_state_bytes_;
}

std::optional<uint64_t> FileCheckpointStore::last_completed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_completed_;
}

absl::Status FileCheckpointStore::RecordCommitted(uint64_t run_checkpoint) {
  const std::string path = CheckpointPath(run_checkpoint + id_base_);
  SLUICE_RETURN_IF_ERROR(WriteDurably(StrCat(path, "/", kCommitRecord), "committed\n"));
  return FsyncDirectory(path);
}

absl::Status FileCheckpointStore::DeleteOld(uint64_t newest) {
  const bool commit_records = commit_records_.load(std::memory_order_acquire);
  int kept = 0;
  bool newest_complete = true;
  for (uint64_t id : ListCheckpoints()) {
    if (id > newest) continue;  // not ours to judge (cannot happen: numbers only grow)
    const std::string path = CheckpointPath(id);
    const bool complete = std::filesystem::exists(StrCat(path, "/MANIFEST"));
    if (complete && commit_records && !std::filesystem::exists(StrCat(path, "/", kCommitRecord))) {
      // Not restorable (yet): the newest complete one may still be committed; keep it uncounted.
      const bool keep = newest_complete;
      newest_complete = false;
      if (keep) continue;
    } else if (complete && kept < retained_) {
      newest_complete = false;
      ++kept;
      continue;
    }
    std::error_code error;
    std::filesystem::remove_all(path, error);
    if (error) return absl::UnavailableError(StrCat("checkpoint: cannot delete '", path, "': ", error.message()));
  }
  return absl::OkStatus();
}

std::vector<std::string> FileCheckpointStore::TasksOf(uint64_t checkpoint) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> tasks;
  if (checkpoint != loaded_id_) return tasks;
  for (const auto& [key, bytes] : loaded_) tasks.push_back(key.first);
  return tasks;
}

absl::StatusOr<std::string> FileCheckpointStore::Get(uint64_t checkpoint, const std::string& task,
                                                     size_t operator_index) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (checkpoint != loaded_id_) {
    return absl::NotFoundError(StrCat("checkpoint ", checkpoint, " is not the one recovered (", loaded_id_, ")"));
  }
  auto it = loaded_.find({task, operator_index});
  if (it == loaded_.end()) {
    return absl::NotFoundError(StrCat("checkpoint ", checkpoint, " holds no snapshot for task '", task,
                                      "' operator ", operator_index));
  }
  return it->second;
}

}  // namespace sluice
