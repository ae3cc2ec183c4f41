#include "runtime/job_layout.h"

#include "common/strings.h"
#include "state/state_serializer.h"

namespace sluice {

namespace {
constexpr uint32_t kLayoutVersion = 1;
}  // namespace

std::string JobLayout::Encode() const {
  StateWriter writer;
  writer.WriteU32(kLayoutVersion);
  writer.WriteU32(workers);
  writer.WriteU64(readers.size());
  for (const Reader& reader : readers) {
    writer.WriteBytes(reader.source);
    writer.WriteU64(reader.definition_partition);
    writer.WriteU8(reader.split ? 1 : 0);
    writer.WriteU64(reader.begin);
    writer.WriteU64(reader.end);
    writer.WriteBytes(reader.description);
  }
  return writer.Release();
}

absl::StatusOr<JobLayout> JobLayout::Decode(std::string_view bytes) {
  StateReader reader(bytes);
  SLUICE_ASSIGN_OR_RETURN(const uint32_t version, reader.ReadU32());
  if (version != kLayoutVersion)
    return absl::DataLossError(StrCat("job layout version ", version, " is unknown"));
  JobLayout layout;
  SLUICE_ASSIGN_OR_RETURN(layout.workers, reader.ReadU32());
  if (layout.workers == 0) return absl::DataLossError("job layout: no workers");
  SLUICE_ASSIGN_OR_RETURN(const uint64_t count, reader.ReadCount(8 + 8 + 1 + 8 + 8 + 8));
  for (uint64_t i = 0; i < count; ++i) {
    Reader& entry = layout.readers.emplace_back();
    SLUICE_ASSIGN_OR_RETURN(const std::string_view source, reader.ReadBytes());
    entry.source = std::string(source);
    SLUICE_ASSIGN_OR_RETURN(entry.definition_partition, reader.ReadU64());
    SLUICE_ASSIGN_OR_RETURN(const uint8_t split, reader.ReadU8());
    if (split > 1) return absl::DataLossError("job layout: a reader's split flag is not 0 or 1");
    entry.split = split != 0;
    SLUICE_ASSIGN_OR_RETURN(entry.begin, reader.ReadU64());
    SLUICE_ASSIGN_OR_RETURN(entry.end, reader.ReadU64());
    if (entry.begin > entry.end) return absl::DataLossError("job layout: a split ends before it begins");
    SLUICE_ASSIGN_OR_RETURN(const std::string_view description, reader.ReadBytes());
    entry.description = std::string(description);
  }
  if (!reader.AtEnd()) return absl::DataLossError("job layout: bytes after its end");
  return layout;
}

absl::StatusOr<std::optional<JobLayout>> JobLayout::Read(CheckpointStore& store, uint64_t checkpoint) {
  for (const std::string& task : store.TasksOf(checkpoint)) {
    if (task != kLayoutTask) continue;
    SLUICE_ASSIGN_OR_RETURN(const std::string bytes, store.Get(checkpoint, kLayoutTask, 0));
    absl::StatusOr<JobLayout> layout = Decode(bytes);
    if (!layout.ok()) {
      return absl::Status(layout.status().code(),
                          StrCat("checkpoint ", checkpoint, ": ", layout.status().message()));
    }
    return std::optional<JobLayout>(*std::move(layout));
  }
  return std::optional<JobLayout>();
}

}  // namespace sluice
