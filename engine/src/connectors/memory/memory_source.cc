#include "connectors/memory/memory_source.h"

#include <algorithm>

#include "catalog/connector_registry.h"
#include "common/strings.h"
#include "plan/connector_properties.h"

namespace sluice {

MemoryRecords SplitMemoryRows(std::string_view rows) {
  MemoryRecords out;
  uint64_t line = 0;
  for (std::string_view record : StrSplit(rows, '\n', /*skip_blank=*/false)) {
    ++line;
    if (!record.empty() && record.back() == '\r') record.remove_suffix(1);
    if (StripWhitespace(record).empty()) continue;
    out.records.push_back(record);
    out.lines.push_back(line);
  }
  return out;
}

MemorySource::MemorySource(const SourceDefinition& definition, std::shared_ptr<DeadLetterWriter> dead_letters,
                           size_t batch_size, bool strict)
    : definition_(definition),
      batch_size_(std::max<size_t>(batch_size, 1)),
      rows_(SplitMemoryRows(definition_.SettingsAs<MemorySourceSettings>().rows)),
      reader_(definition_, std::move(dead_letters),
              RecordReaderOptions{.batch_size = batch_size_, .strict = strict, .where = "rows line"}) {}

absl::Status MemorySource::Open() {
  return reader_.Open(/*records_padded=*/false);
}

absl::StatusOr<bool> MemorySource::Next(Batch& out) {
  while (next_ < rows_.records.size()) {
    const size_t count = std::min(batch_size_, rows_.records.size() - next_);
    reader_.StartRound();
    for (size_t i = next_; i < next_ + count; ++i) {
      reader_.AddRecord(rows_.records[i], rows_.lines[i]);
      reader_.CountBytesRead(rows_.records[i].size() + 1);
    }
    next_ += count;
    SLUICE_ASSIGN_OR_RETURN(const size_t rows, reader_.Decode(out));
    if (rows > 0) return true;  // else every record of this batch was bad
  }
  return false;
}

namespace {

absl::Status BindMemorySource(const SourceBindContext& context, SourceDefinition& definition) {
  const JobProperties& properties = context.properties;
  const SourceText& text = context.text;
  const std::string& name = context.name;
  const PropertyValue* rows = properties.FindScoped(name, "rows");
  if (rows == nullptr) {
    return text.Error(context.type.key_position, StrCat("source '", name, "' needs '", name,
                                                        ".rows' (JSON Lines: one record per line)"));
  }
  auto settings = std::make_shared<MemorySourceSettings>();
  settings->rows = rows->value;
  definition.format = "json";
  definition.partitions = {"rows"};
  if (const PropertyValue* declared = properties.FindScoped(name, "schema")) {
    SLUICE_ASSIGN_OR_RETURN(definition.decoder.schema, ParseDeclaredSchema(text, name, *declared));
  } else {
    const MemoryRecords records = SplitMemoryRows(settings->rows);
    auto inferred = InferJsonSchema(records.records);
    if (!inferred.ok() || inferred->size() == 0) {
      return text.Error(
          rows->value_position,
          StrCat("cannot infer the columns of source '", name, "' from its rows",
                 inferred.ok() ? "" : StrCat(" (", std::string(inferred.status().message()), ")"),
                 "; declare them with '", name, ".schema'"));
    }
    definition.decoder.schema = std::move(*inferred);
  }
  SLUICE_RETURN_IF_ERROR(BindEventTime(properties, text, name, definition));
  definition.schema = definition.decoder.schema;
  definition.schema.Add(Field{kEventTimeColumn, TypeId::kTimestamp, true});
  const PropertyValue* dead_letter = properties.FindScoped(name, "dead_letter.path");
  definition.dead_letter_path =
      dead_letter != nullptr ? dead_letter->value : StrCat(name, ".dead_letter.jsonl");
  definition.settings = std::move(settings);
  return absl::OkStatus();
}

}  // namespace

void RegisterMemorySource(ConnectorRegistry& registry) {
  SourceConnector connector;
  connector.type = "memory_source";
  connector.summary = "rows written in the job itself (tests, examples): JSON Lines in '<name>.rows'";
  connector.keys = {
      {"type", "", "memory_source"},
      {"rows", "", "required: the records, JSON Lines (one per line; the string may span lines)"},
      {"schema", "inferred from the rows", "'name TYPE, ...'"},
      {"dead_letter.path", "<name>.dead_letter.jsonl", "where bad and dead-lettered late records go"},
      {"event.time.field", "processing time", "the column that fills _event_time"},
      {"event.time.format", "auto", "epoch_millis, epoch_seconds, iso8601 or auto"},
  };
  connector.bind = BindMemorySource;
  connector.create = [](const SourceDefinition& definition, size_t partition,
                        std::shared_ptr<DeadLetterWriter> dead_letters,
                        const SourceReaderOptions& options) -> std::unique_ptr<SourcePartition> {
    return std::make_unique<MemorySource>(definition, std::move(dead_letters), options.batch_size,
                                          options.strict);
  };
  connector.describe = [](const SourceDefinition& definition) {
    const size_t rows = SplitMemoryRows(definition.SettingsAs<MemorySourceSettings>().rows).records.size();
    return SourceDescription{StrCat("MemorySource ", definition.name, " <- ", rows, " rows"), {"json"}, {}};
  };
  registry.Register(std::move(connector));
}

}  // namespace sluice
