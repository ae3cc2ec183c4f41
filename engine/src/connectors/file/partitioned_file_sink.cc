#include "connectors/file/partitioned_file_sink.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "common/strings.h"
#include "types/number_format.h"

namespace sluice {
namespace {

bool NeedsEscaping(unsigned char c) {
  if (c < 0x20 || c == 0x7F) return true;
  switch (c) {
    case '"':
    case '#':
    case '%':
    case '\'':
    case '*':
    case '/':
    case ':':
    case '=':
    case '?':
    case '\\':
    case '{':
    case '[':
    case ']':
    case '^': return true;
    default: return false;
  }
}

constexpr char kSuccessFile[] = "_SUCCESS";
constexpr char kPartPrefix[] = "part-0-";

}  // namespace

std::string EscapePartitionPathName(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string escaped;
  escaped.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (NeedsEscaping(byte)) {
      escaped.push_back('%');
      escaped.push_back(kHex[byte >> 4]);
      escaped.push_back(kHex[byte & 0xF]);
    } else {
      escaped.push_back(c);
    }
  }
  return escaped;
}

std::optional<int64_t> ExtractPartitionTime(std::string_view pattern, const std::vector<std::string>& columns,
                                            const std::vector<std::string>& values) {
  if (values.empty()) return std::nullopt;
  if (pattern.empty()) return ParseTimestamp(values[0]);
  std::string text;
  for (size_t i = 0; i < pattern.size();) {
    if (pattern[i] != '$') {
      text.push_back(pattern[i++]);
      continue;
    }
    // The longest column name after '$' (Flink replaces '$name' for every partition column).
    size_t best = columns.size();
    for (size_t c = 0; c < columns.size(); ++c) {
      if (pattern.substr(i + 1, columns[c].size()) == columns[c] &&
          (best == columns.size() || columns[c].size() > columns[best].size())) {
        best = c;
      }
    }
    if (best == columns.size()) {
      text.push_back(pattern[i++]);
      continue;
    }
    text += values[best];
    i += 1 + columns[best].size();
  }
  return ParseTimestamp(text);
}

PartitionedFileSink::PartitionedFileSink(const SinkDefinition& definition, const Schema& schema)
    : definition_(definition) {
  const auto& settings = definition.SettingsAs<FileSinkSettings>();
  path_ = settings.path;
  partitioning_ = *settings.partitioning;
  for (size_t c = 0; c < schema.size(); ++c) {
    const auto at = std::find(partitioning_.columns.begin(), partitioning_.columns.end(), c);
    if (at != partitioning_.columns.end()) continue;
    data_columns_.push_back(c);
    data_schema_.Add(schema.field(c));
  }
  for (size_t c : partitioning_.columns) {
    column_names_.push_back(schema.field(c).name);
    column_types_.push_back(schema.field(c).type);
  }
  extension_ = definition.format == "csv" ? "csv" : "jsonl";
  clock_ = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
}

PartitionedFileSink::~PartitionedFileSink() {
  // A run that failed leaves its in-progress files hidden; the next run's Open() removes them.
  for (auto& [key, partition] : partitions_) {
    if (partition->file != nullptr) std::fclose(partition->file);
  }
}

int64_t PartitionedFileSink::Now() const {
  return clock_();
}

absl::Status PartitionedFileSink::Error(const std::string& what, const std::string& path) const {
  return absl::DataLossError(
      StrCat("sink '", definition_.name, "': cannot ", what, " '", path, "': ", std::strerror(errno)));
}

bool PartitionedFileSink::EnableTwoPhaseCommit(bool /*periodic*/) {
  refuse_checkpoints_ = true;
  return true;
}

absl::Status PartitionedFileSink::Open() {
  if (refuse_checkpoints_) {
    return absl::FailedPreconditionError(StrCat(
        "sink '", definition_.name, "' is partitioned ('", definition_.name,
        ".partition.by'), and a partitioned file sink does not take part in checkpoints or savepoints yet "
        "(its part files would not be exactly once): run the job without a checkpoint directory, or write "
        "an unpartitioned file sink"));
  }
  if (definition_.changelog_mode != ChangelogMode::kAppend) {
    return absl::FailedPreconditionError(
        StrCat("sink '", definition_.name,
               "' is partitioned, and a partitioned file sink writes appended "
               "rows only: its query updates rows"));
  }
  std::error_code error;
  std::filesystem::create_directories(path_, error);
  if (error) {
    return absl::FailedPreconditionError(StrCat(
        "sink '", definition_.name, "': cannot create the directory '", path_, "': ", error.message()));
  }
  // What an earlier run left: only files this sink writes, in directories named after its
  // partition columns at their depths.
  std::vector<std::filesystem::path> level = {std::filesystem::path(path_)};
  for (const std::string& column : column_names_) {
    const std::string prefix = EscapePartitionPathName(column) + "=";
    std::vector<std::filesystem::path> next;
    for (const auto& directory : level) {
      for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
        if (entry.is_directory() && StartsWith(entry.path().filename().string(), prefix)) {
          next.push_back(entry.path());
        }
      }
    }
    level = std::move(next);
  }
  for (const auto& directory : level) {
    for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
      const std::string name = entry.path().filename().string();
      if (name == kSuccessFile || StartsWith(name, kPartPrefix) ||
          StartsWith(name, StrCat(".", kPartPrefix))) {
        std::filesystem::remove(entry.path(), error);
      }
    }
    // Directories left empty go (the deepest first; a parent with other content stays).
    for (auto d = directory; d != std::filesystem::path(path_) && std::filesystem::is_empty(d, error);
         d = d.parent_path()) {
      std::filesystem::remove(d, error);
    }
  }
  next_check_millis_ = Now() + partitioning_.rolling_check_interval_millis;
  return absl::OkStatus();
}

PartitionedFileSink::Partition& PartitionedFileSink::PartitionOf(const Batch& batch, uint32_t row) {
  key_.clear();
  for (size_t i = 0; i < partitioning_.columns.size(); ++i) {
    const Column& column = batch.column(partitioning_.columns[i]);
    // NULL and '' are one partition: the default one.
    if (!column.IsValid(row) ||
        (column_types_[i] == TypeId::kString && column.data<std::string_view>()[row].empty())) {
      key_.push_back('\0');
      continue;
    }
    key_.push_back('\1');
    if (column_types_[i] == TypeId::kString) {
      const std::string_view text = column.data<std::string_view>()[row];
      const auto size = static_cast<uint32_t>(text.size());
      key_.append(reinterpret_cast<const char*>(&size), sizeof(size));
      key_.append(text);
    } else if (column_types_[i] == TypeId::kBoolean) {
      key_.push_back(static_cast<char>(column.data<uint8_t>()[row]));
    } else {
      key_.append(reinterpret_cast<const char*>(column.data<int64_t>() + row), sizeof(int64_t));
    }
  }
  // Rows of one partition often come together: the previous row's, without a lookup.
  if (previous_ != nullptr && key_ == previous_key_) return *previous_;
  const auto found = partitions_.find(absl::string_view(key_.data(), key_.size()));
  if (found != partitions_.end()) {
    previous_ = found->second.get();
    previous_key_ = key_;
    return *previous_;
  }

  // A new partition: its values' text, directory and time (once per partition, not per row).
  auto partition = std::make_unique<Partition>();
  std::string directory = path_;
  for (size_t i = 0; i < partitioning_.columns.size(); ++i) {
    const Column& column = batch.column(partitioning_.columns[i]);
    std::string value;
    if (column.IsValid(row) && IsDecimal(column_types_[i])) {
      value = column.GetValue(row).ToSql();
    } else if (column.IsValid(row)) {
      switch (column_types_[i]) {
        case TypeId::kString: value = std::string(column.data<std::string_view>()[row]); break;
        case TypeId::kInt64: value = std::to_string(column.data<int64_t>()[row]); break;
        case TypeId::kDouble: value = FormatDouble(column.data<double>()[row]); break;
        case TypeId::kBoolean: value = column.data<uint8_t>()[row] != 0 ? "true" : "false"; break;
        case TypeId::kTimestamp: value = FormatTimestamp(column.data<int64_t>()[row]); break;
        case TypeId::kNull: break;
      }
    }
    if (value.empty()) value = partitioning_.default_name;
    StrAppend(&directory, "/", EscapePartitionPathName(column_names_[i]), "=",
              EscapePartitionPathName(value));
    partition->values.push_back(std::move(value));
  }
  partition->directory = std::move(directory);
  partition->time = ExtractPartitionTime(partitioning_.time_pattern, column_names_, partition->values);
  partition->created_millis = Now();
  previous_ = partition.get();
  previous_key_ = key_;
  partitions_.emplace(key_, std::move(partition));
  return *previous_;
}

absl::Status PartitionedFileSink::OpenFile(Partition& partition) {
  if (open_files_ >= partitioning_.max_open_files) {
    Partition* oldest = nullptr;
    for (auto& [key, other] : partitions_) {
      if (other->file != nullptr && (oldest == nullptr || other->last_written < oldest->last_written)) {
        oldest = other.get();
      }
    }
    if (oldest != nullptr) SLUICE_RETURN_IF_ERROR(CloseFile(*oldest));
  }
  std::error_code error;
  std::filesystem::create_directories(partition.directory, error);
  if (error) {
    return absl::DataLossError(StrCat("sink '", definition_.name, "': cannot create the directory '",
                                      partition.directory, "': ", error.message()));
  }
  partition.file_name = StrCat(kPartPrefix, next_part_++, ".", extension_);
  const std::string in_progress = StrCat(partition.directory, "/.", partition.file_name, ".inprogress");
  partition.file = std::fopen(in_progress.c_str(), "wb");
  if (partition.file == nullptr) return Error("create", in_progress);
  partition.encoder = definition_.format == "csv"
                          ? MakeCsvEncoder(data_schema_, definition_.csv_delimiter, definition_.csv_header,
                                           definition_.csv_sql_timestamps)
                          : MakeJsonEncoder(data_schema_);
  partition.opened_millis = Now();
  ++open_files_;
  return absl::OkStatus();
}

absl::Status PartitionedFileSink::CloseFile(Partition& partition) {
  if (partition.file == nullptr) return absl::OkStatus();
  const std::string in_progress = StrCat(partition.directory, "/.", partition.file_name, ".inprogress");
  const int rc = std::fclose(partition.file);
  partition.file = nullptr;
  partition.encoder.reset();
  --open_files_;
  if (rc != 0) return Error("close", in_progress);
  const std::string finished = StrCat(partition.directory, "/", partition.file_name);
  if (std::rename(in_progress.c_str(), finished.c_str()) != 0) return Error("rename", in_progress);
  ++files_closed_;
  return absl::OkStatus();
}

absl::Status PartitionedFileSink::CommitPartition(Partition& partition) {
  SLUICE_RETURN_IF_ERROR(CloseFile(partition));
  if (partitioning_.success_file) {
    const std::string marker = StrCat(partition.directory, "/", kSuccessFile);
    std::FILE* file = std::fopen(marker.c_str(), "wb");
    if (file == nullptr || std::fclose(file) != 0) return Error("write", marker);
  }
  partition.uncommitted = false;
  ++commits_;
  return absl::OkStatus();
}

absl::Status PartitionedFileSink::Push(const Batch& batch) {
  SLUICE_RETURN_IF_ERROR(CheckTimers());
  ++batches_;
  const size_t rows = batch.active_rows();
  for (size_t i = 0; i < rows; ++i) {
    const uint32_t row = batch.ActiveRow(i);
    Partition* partition = &PartitionOf(batch, row);
    if (partition->rows.empty()) touched_.push_back(partition);
    partition->rows.push_back(row);
  }
  if (view_.num_columns() != data_columns_.size()) view_.Reset(data_columns_.size(), 0);
  for (size_t c = 0; c < data_columns_.size(); ++c) view_.SetColumn(c, batch.shared_column(data_columns_[c]));
  view_.SetNumRows(batch.num_rows());
  absl::Status status;
  for (Partition* partition : touched_) {
    if (status.ok() && partition->file == nullptr) status = OpenFile(*partition);
    if (status.ok()) {
      std::copy(partition->rows.begin(), partition->rows.end(), view_.MutableSelection());
      view_.SetSelectionCount(partition->rows.size());
      buffer_.clear();
      partition->encoder->Encode(view_, buffer_);
      if (std::fwrite(buffer_.data(), 1, buffer_.size(), partition->file) != buffer_.size()) {
        status = Error("write", StrCat(partition->directory, "/.", partition->file_name, ".inprogress"));
      }
      partition->last_written = batches_;
      partition->uncommitted = true;
    }
    partition->rows.clear();
  }
  touched_.clear();
  for (size_t c = 0; c < data_columns_.size(); ++c)
    view_.SetColumn(c, nullptr);  // the batch's columns are the producer's again
  view_.ClearSelection();
  rows_written_ += rows;
  return status;
}

absl::Status PartitionedFileSink::CheckTimers() {
  const int64_t now = Now();
  if (now < next_check_millis_) return absl::OkStatus();
  next_check_millis_ = now + partitioning_.rolling_check_interval_millis;
  for (auto it = partitions_.begin(); it != partitions_.end();) {
    Partition& partition = *it->second;
    if (partition.file != nullptr && now - partition.opened_millis >= partitioning_.rolling_interval_millis) {
      SLUICE_RETURN_IF_ERROR(CloseFile(partition));
    }
    if (partitioning_.trigger == PartitionCommitTrigger::kProcessTime && partition.uncommitted &&
        now > partition.created_millis + partitioning_.commit_delay_millis) {
      SLUICE_RETURN_IF_ERROR(CommitPartition(partition));
    }
    // A committed partition without an open file is forgotten; a late row creates it again.
    if (!partition.uncommitted && partition.file == nullptr) {
      previous_ = nullptr;
      partitions_.erase(it++);
    } else {
      ++it;
    }
  }
  return absl::OkStatus();
}

absl::Status PartitionedFileSink::CommitByWatermark() {
  if (partitioning_.trigger != PartitionCommitTrigger::kPartitionTime) return absl::OkStatus();
  for (auto it = partitions_.begin(); it != partitions_.end();) {
    Partition& partition = *it->second;
    // Flink's PartitionTimeCommitTrigger: watermark > partition time + delay. A partition whose
    // values are not a time (the default partition) waits for the end of the input.
    const bool due =
        partition.time.has_value() &&
        (watermark_ == kMaxWatermark || watermark_ > *partition.time + partitioning_.commit_delay_millis);
    if (partition.uncommitted && due) {
      SLUICE_RETURN_IF_ERROR(CommitPartition(partition));
      previous_ = nullptr;
      partitions_.erase(it++);
    } else {
      ++it;
    }
  }
  return absl::OkStatus();
}

absl::Status PartitionedFileSink::OnWatermark(int64_t watermark) {
  if (watermark <= watermark_) return absl::OkStatus();
  watermark_ = watermark;
  SLUICE_RETURN_IF_ERROR(CheckTimers());
  return CommitByWatermark();
}

absl::Status PartitionedFileSink::Flush() {
  for (auto& [key, partition] : partitions_) {
    if (partition->file != nullptr && std::fflush(partition->file) != 0) {
      return Error("flush", StrCat(partition->directory, "/.", partition->file_name, ".inprogress"));
    }
  }
  return CheckTimers();
}

absl::Status PartitionedFileSink::Finish() {
  // The input ended (the watermark went to its end first): every partition is final.
  const bool ended = watermark_ == kMaxWatermark;
  for (auto& [key, partition] : partitions_) {
    SLUICE_RETURN_IF_ERROR(CloseFile(*partition));
    if (ended && partition->uncommitted) SLUICE_RETURN_IF_ERROR(CommitPartition(*partition));
  }
  partitions_.clear();
  previous_ = nullptr;
  return absl::OkStatus();
}

std::string PartitionedFileSink::Describe() const {
  return StrCat("FileSink ", definition_.name, " -> ", path_, " partitioned by ",
                StrJoin(column_names_, ", "), " (", definition_.format, ")");
}

}  // namespace sluice
