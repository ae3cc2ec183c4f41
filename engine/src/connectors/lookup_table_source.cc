#include "connectors/lookup_table_source.h"

#include <sys/stat.h>

#include <chrono>

#include "catalog/connector_registry.h"
#include "common/strings.h"
#include "connectors/dead_letter_writer.h"
#include "connectors/source.h"

namespace sluice {

namespace {

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

LookupTableSource::LookupTableSource(SourceDefinition definition, std::vector<size_t> key_columns,
                                     std::optional<int64_t> reload_interval_millis)
    : definition_(std::move(definition)),
      key_columns_(std::move(key_columns)),
      reload_interval_millis_(reload_interval_millis),
      table_(absl::InternalError("lookup table not loaded")) {}

uint64_t LookupTableSource::reloads() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return reloads_;
}

std::vector<int64_t> LookupTableSource::FileSignature() const {
  std::vector<int64_t> signature;
  for (const std::string& path : definition_.partitions) {
    struct stat info;
    if (stat(path.c_str(), &info) != 0) {
      signature.insert(signature.end(), {-1, -1, -1});  // gone: a change, which the read reports
      continue;
    }
    signature.insert(signature.end(),
                     {static_cast<int64_t>(info.st_mtim.tv_sec), static_cast<int64_t>(info.st_mtim.tv_nsec),
                      static_cast<int64_t>(info.st_size)});
  }
  return signature;
}

absl::StatusOr<std::shared_ptr<const LookupTable>> LookupTableSource::Get() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!loaded_) {
    if (reload_interval_millis_) signature_ = FileSignature();  // before reading: a change during it counts
    table_ = Load();
    loaded_ = true;
    if (reload_interval_millis_) next_check_nanos_ = SteadyNanos() + *reload_interval_millis_ * 1000000;
    return table_;
  }
  if (!reload_interval_millis_ || !table_.ok() || reloading_) return table_;
  const int64_t now = SteadyNanos();
  if (now < next_check_nanos_) return table_;
  next_check_nanos_ = now + *reload_interval_millis_ * 1000000;
  std::vector<int64_t> signature = FileSignature();
  if (signature == signature_) return table_;
  // Read outside the lock: the other callers go on with the table they have meanwhile.
  reloading_ = true;
  lock.unlock();
  absl::StatusOr<std::shared_ptr<const LookupTable>> table = Load();
  lock.lock();
  reloading_ = false;
  table_ = std::move(table);
  signature_ = std::move(signature);
  ++reloads_;
  return table_;
}

absl::StatusOr<std::shared_ptr<const LookupTable>> LookupTableSource::Load() const {
  const SourceConnector* connector = ConnectorRegistry::Default().FindSource(definition_.type);
  if (connector == nullptr || !connector->create) {
    return absl::InternalError(StrCat("no connector reads table '", definition_.name, "'"));
  }
  std::optional<size_t> time_column;
  if (definition_.has_event_time) time_column = definition_.schema.Find(kEventTimeColumn);
  LookupTable::Builder builder(definition_.schema, key_columns_, time_column);
  auto dead_letters = std::make_shared<DeadLetterWriter>(definition_.name, definition_.dead_letter_path);
  for (size_t partition = 0; partition < definition_.partitions.size(); ++partition) {
    std::unique_ptr<SourcePartition> reader =
        connector->create(definition_, partition, dead_letters, SourceReaderOptions{});
    auto failed = [&](const absl::Status& status) {
      return absl::Status(status.code(), StrCat("reading table '", definition_.name, "' (",
                                                definition_.partitions[partition], "): ", status.message()));
    };
    if (absl::Status status = reader->Open(); !status.ok()) return failed(status);
    Batch batch;
    while (true) {
      absl::StatusOr<bool> more = reader->Next(batch);
      if (!more.ok()) return failed(more.status());
      if (!*more) break;
      builder.Add(batch);
    }
    if (absl::Status status = reader->Close(); !status.ok()) return failed(status);
  }
  SLUICE_RETURN_IF_ERROR(dead_letters->Flush());
  return builder.Finish();
}

}  // namespace sluice
