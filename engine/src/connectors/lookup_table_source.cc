#include "connectors/lookup_table_source.h"

#include "catalog/connector_registry.h"
#include "common/strings.h"
#include "connectors/dead_letter_writer.h"
#include "connectors/source.h"

namespace sluice {

LookupTableSource::LookupTableSource(SourceDefinition definition, std::vector<size_t> key_columns)
    : definition_(std::move(definition)),
      key_columns_(std::move(key_columns)),
      table_(absl::InternalError("lookup table not loaded")) {}

absl::StatusOr<std::shared_ptr<const LookupTable>> LookupTableSource::Get() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!loaded_) {
    table_ = Load();
    loaded_ = true;
  }
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
