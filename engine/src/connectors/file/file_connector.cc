#include "connectors/file/file_connector.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "common/strings.h"
#include "connectors/file/file_sink.h"
#include "connectors/file/file_source.h"
#include "connectors/file/partitioned_file_sink.h"
#include "connectors/lookup_table_source.h"
#include "plan/connector_properties.h"
#include "types/number_format.h"

namespace sluice {
namespace {

// The files a source path names: itself, the files of a directory, or a glob's matches. Without
// `read_files`, the path names one file, which is not looked at.
absl::StatusOr<std::vector<std::string>> ExpandPartitions(const SourceText& text, const std::string& path,
                                                          SourcePosition position, bool read_files) {
  std::vector<std::string> files;
  struct stat info;
  if (!read_files) {
    files.push_back(path);
  } else if (path.find_first_of("*?[") != std::string::npos) {
    glob_t matches;
    if (glob(path.c_str(), 0, nullptr, &matches) == 0) {
      for (size_t i = 0; i < matches.gl_pathc; ++i) files.emplace_back(matches.gl_pathv[i]);
    }
    globfree(&matches);
    if (files.empty()) return text.Error(position, StrCat("no file matches '", path, "'"));
  } else if (stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
      if (entry.is_regular_file() && entry.path().filename().string()[0] != '.' &&
          !EndsWith(entry.path().string(), ".dead_letter.jsonl")) {
        files.push_back(entry.path().string());
      }
    }
    if (files.empty()) return text.Error(position, StrCat("directory '", path, "' has no files"));
  } else {
    files.push_back(path);
  }
  std::sort(files.begin(), files.end());
  return files;
}

absl::Status BindFileSource(const SourceBindContext& context, SourceDefinition& definition) {
  const JobProperties& properties = context.properties;
  const SourceText& text = context.text;
  const std::string& name = context.name;
  auto settings = std::make_shared<FileSourceSettings>();
  const PropertyValue* path = properties.FindScoped(name, "path");
  if (path == nullptr) {
    return text.Error(context.type.key_position, StrCat("source '", name, "' needs '", name, ".path'"));
  }
  settings->path = path->value;
  SLUICE_ASSIGN_OR_RETURN(definition.partitions,
                          ExpandPartitions(text, settings->path, path->value_position, context.read_files));
  std::string default_format = EndsWithIgnoreCase(settings->path, ".csv") ? "csv" : "json";
  SLUICE_ASSIGN_OR_RETURN(definition.format,
                          BindChoice(properties, text, name, "format", {"json", "csv"}, default_format));
  SLUICE_ASSIGN_OR_RETURN(definition.decoder.csv_delimiter, BindCsvDelimiter(properties, text, name));
  SLUICE_ASSIGN_OR_RETURN(std::string header,
                          BindChoice(properties, text, name, "csv.header", {"true", "false"}, "true"));
  definition.decoder.csv_header = header == "true";
  if (const PropertyValue* limit = properties.FindScoped(name, "max.record.bytes")) {
    const std::optional<int64_t> bytes = ParseInt64(StripWhitespace(limit->value));
    if (!bytes || *bytes <= 0) {
      return text.Error(
          limit->value_position,
          StrCat("invalid value '", limit->value, "' for '", name,
                 ".max.record.bytes' (expected a whole number of bytes above 0, e.g. 16777216)"));
    }
    settings->max_record_bytes = static_cast<uint64_t>(*bytes);
  }

  // Schema: declared, or inferred from the file's first records.
  if (const PropertyValue* declared = properties.FindScoped(name, "schema")) {
    SLUICE_ASSIGN_OR_RETURN(definition.decoder.schema, ParseDeclaredSchema(text, name, *declared));
  } else if (!context.read_files) {
    return text.Error(
        context.type.key_position,
        StrCat("source '", name, "' needs '", name, ".schema' here: files are not read to infer a schema"));
  } else {
    auto inferred =
        InferFileSchema(definition.partitions[0], definition.format, definition.decoder.csv_delimiter);
    if (!inferred.ok()) return text.Error(path->value_position, std::string(inferred.status().message()));
    definition.decoder.schema = std::move(*inferred);
  }

  SLUICE_RETURN_IF_ERROR(BindEventTime(properties, text, name, definition));
  SLUICE_RETURN_IF_ERROR(BindPartitionedBy(properties, text, name, definition));
  definition.schema = definition.decoder.schema;
  definition.schema.Add(Field{kEventTimeColumn, TypeId::kTimestamp, true});
  if (const PropertyValue* dead_letter = properties.FindScoped(name, "dead_letter.path")) {
    definition.dead_letter_path = dead_letter->value;
  } else {
    // Beside the input, unless the input is a pipe or device (e.g. /dev/stdin): then in the
    // working directory, named after the source.
    struct stat info;
    const bool single_regular_file =
        definition.partitions.size() == 1 && settings->path != "-" &&
        (!context.read_files || stat(settings->path.c_str(), &info) != 0 || S_ISREG(info.st_mode));
    definition.dead_letter_path =
        single_regular_file ? settings->path + ".dead_letter.jsonl" : StrCat(name, ".dead_letter.jsonl");
  }
  definition.settings = std::move(settings);
  return absl::OkStatus();
}

std::unique_ptr<SourcePartition> CreateFileSource(const SourceDefinition& definition, size_t partition,
                                                  std::shared_ptr<DeadLetterWriter> dead_letters,
                                                  const SourceReaderOptions& options) {
  const std::string& path = definition.partitions[partition];
  if (options.split) {
    return FileSource::CreateSplit(definition, path, std::move(dead_letters), options.batch_size,
                                   options.strict, options.split->begin, options.split->end);
  }
  return FileSource::Create(definition, path, std::move(dead_letters), options.batch_size, options.strict);
}

// A large regular file: one split per reader, cut at byte offsets (each split reads the records
// that begin in it).
std::vector<SourceSplit> SplitFile(const SourceDefinition& definition, size_t partition, int readers,
                                   uint64_t min_split_bytes) {
  const std::string& path = definition.partitions[partition];
  struct stat info;
  const bool large = readers > 1 && stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
                     static_cast<uint64_t>(info.st_size) >= min_split_bytes;
  if (!large) return {};
  const uint64_t size = static_cast<uint64_t>(info.st_size);
  const size_t splits = static_cast<size_t>(readers);
  std::vector<SourceSplit> result;
  for (size_t split = 0; split < splits; ++split) {
    const uint64_t begin = size * split / splits;
    const uint64_t end = size * (split + 1) / splits;
    result.push_back(
        SourceSplit{begin, split + 1 == splits ? UINT64_MAX : end, StrCat(path, " bytes ", begin, "-", end)});
  }
  return result;
}

std::string FileSourceSingleThreadReason(const SourceDefinition& definition) {
  for (const std::string& path : definition.partitions) {
    if (IsStreamPath(path)) {
      return StrCat("source '", definition.name, "' reads a stream (", path == "-" ? "stdin" : path,
                    "), which one thread reads as it arrives and cannot be split");
    }
  }
  return "";
}

SourceDescription DescribeFileSource(const SourceDefinition& definition) {
  SourceDescription description;
  description.what =
      StrCat("FileSource ", definition.name, " <- ", definition.SettingsAs<FileSourceSettings>().path);
  description.details.push_back(definition.format);
  if (definition.partitions.size() > 1) {
    description.notes.push_back(
        StrCat(definition.partitions.size(), " files, watermark = minimum over files"));
    if (definition.alignment_max_drift_millis) {
      description.notes.push_back(StrCat("aligned within ", *definition.alignment_max_drift_millis, " ms"));
    }
  }
  return description;
}

// The keys that only a partitioned sink ('<sink>.partition.by') takes.
constexpr const char* kPartitionKeys[] = {
    "partition.default.name",  "partition.commit.trigger", "partition.commit.delay",
    "partition.commit.policy", "partition.time.pattern",   "rolling.interval",
    "rolling.check.interval",  "partition.max.open.files",
};

// A duration of zero or more: '<sink>.<key>' (ParseDurationText).
absl::Status BindDuration(const SinkBindContext& context, const std::string& key, bool zero_allowed,
                          int64_t& millis) {
  const PropertyValue* value = context.properties.FindScoped(context.name, key);
  if (value == nullptr) return absl::OkStatus();
  const std::optional<int64_t> parsed = ParseDurationText(value->value);
  if (!parsed || *parsed < 0 || (*parsed == 0 && !zero_allowed)) {
    return context.text.Error(value->value_position,
                              StrCat("invalid duration '", value->value, "' for '", context.name, ".", key,
                                     zero_allowed ? "' (expected 0 or more, e.g. '1 min')"
                                                  : "' (expected more than 0, e.g. '1 min')"));
  }
  millis = *parsed;
  return absl::OkStatus();
}

// '<sink>.partition.by' and the keys of a partitioned sink; each of those keys without it is an
// error at the key.
absl::Status BindFilePartitioning(const SinkBindContext& context, FileSinkSettings& settings) {
  const JobProperties& properties = context.properties;
  const std::string& name = context.name;
  const PropertyValue* by = properties.FindScoped(name, "partition.by");
  if (by == nullptr) {
    for (const char* key : kPartitionKeys) {
      if (const PropertyValue* value = properties.FindScoped(name, key)) {
        return context.text.Error(value->key_position,
                                  StrCat("'", name, ".", key, "' is for a partitioned sink: set '", name,
                                         ".partition.by' too, or leave it out"));
      }
    }
    return absl::OkStatus();
  }
  FilePartitioning partitioning;
  for (std::string_view part : StrSplit(by->value, ',')) {
    const std::string column(StripWhitespace(part));
    const std::optional<size_t> index = context.output_schema.Find(column);
    if (!index) {
      std::vector<std::string> names;
      for (size_t c = 0; c < context.output_schema.size(); ++c)
        names.push_back(context.output_schema.field(c).name);
      return context.text.Error(by->value_position, StrCat("'", name, ".partition.by' names '", column,
                                                           "', which is not a column of ",
                                                           "the sink's rows (", StrJoin(names, ", "), ")"));
    }
    if (std::find(partitioning.columns.begin(), partitioning.columns.end(), *index) !=
        partitioning.columns.end()) {
      return context.text.Error(by->value_position,
                                StrCat("'", name, ".partition.by' names '", column, "' twice"));
    }
    partitioning.columns.push_back(*index);
  }
  if (partitioning.columns.size() >= context.output_schema.size()) {
    return context.text.Error(
        by->value_position,
        StrCat("'", name, ".partition.by' names every column: the files would hold none"));
  }
  if (const PropertyValue* checkpoints = properties.Find("checkpoint.dir")) {
    return context.text.Error(
        checkpoints->key_position,
        StrCat(
            "'checkpoint.dir' with the partitioned sink '", name,
            "': a partitioned file sink does not take part in checkpoints yet (its part files would not be "
            "exactly once); run without checkpoints, or leave out '",
            name, ".partition.by'"));
  }
  if (const PropertyValue* mode = properties.FindScoped(name, "changelog.mode");
      mode != nullptr && mode->value != "append") {
    return context.text.Error(mode->value_position,
                              StrCat("'", name, ".changelog.mode' = '", mode->value, "' with '", name,
                                     ".partition.by': a partitioned sink writes appended rows only"));
  }
  if (const PropertyValue* value = properties.FindScoped(name, "partition.default.name")) {
    if (value->value.empty()) {
      return context.text.Error(value->value_position,
                                StrCat("'", name, ".partition.default.name' is empty"));
    }
    partitioning.default_name = value->value;
  }
  SLUICE_ASSIGN_OR_RETURN(const std::string trigger,
                          BindChoice(properties, context.text, name, "partition.commit.trigger",
                                     {"process_time", "partition_time"}, "process_time"));
  partitioning.trigger = trigger == "partition_time" ? PartitionCommitTrigger::kPartitionTime
                                                     : PartitionCommitTrigger::kProcessTime;
  SLUICE_RETURN_IF_ERROR(
      BindDuration(context, "partition.commit.delay", true, partitioning.commit_delay_millis));
  SLUICE_ASSIGN_OR_RETURN(const std::string policy,
                          BindChoice(properties, context.text, name, "partition.commit.policy",
                                     {"success_file", "none"}, "success_file"));
  partitioning.success_file = policy == "success_file";
  if (const PropertyValue* pattern = properties.FindScoped(name, "partition.time.pattern")) {
    if (partitioning.trigger != PartitionCommitTrigger::kPartitionTime) {
      return context.text.Error(
          pattern->key_position,
          StrCat("'", name, ".partition.time.pattern' is read by the 'partition_time' trigger, ", "and '",
                 name, ".partition.commit.trigger' is 'process_time'"));
    }
    partitioning.time_pattern = pattern->value;
  }
  SLUICE_RETURN_IF_ERROR(
      BindDuration(context, "rolling.interval", false, partitioning.rolling_interval_millis));
  SLUICE_RETURN_IF_ERROR(
      BindDuration(context, "rolling.check.interval", false, partitioning.rolling_check_interval_millis));
  if (const PropertyValue* limit = properties.FindScoped(name, "partition.max.open.files")) {
    const std::optional<int64_t> files = ParseInt64(StripWhitespace(limit->value));
    if (!files || *files <= 0 || *files > 100000) {
      return context.text.Error(
          limit->value_position,
          StrCat("invalid value '", limit->value, "' for '", name,
                 ".partition.max.open.files' (expected a whole number from 1 to 100000)"));
    }
    partitioning.max_open_files = static_cast<size_t>(*files);
  }
  settings.partitioning = std::move(partitioning);
  return absl::OkStatus();
}

absl::Status BindFileSink(const SinkBindContext& context, SinkDefinition& definition) {
  const PropertyValue* path = context.properties.FindScoped(context.name, "path");
  if (path == nullptr) {
    return context.text.Error(context.type.key_position,
                              StrCat("sink '", context.name, "' needs '", context.name, ".path'"));
  }
  auto settings = std::make_shared<FileSinkSettings>();
  settings->path = path->value;
  const std::string default_format = EndsWithIgnoreCase(settings->path, ".csv") ? "csv" : "json";
  SLUICE_ASSIGN_OR_RETURN(definition.format, BindChoice(context.properties, context.text, context.name,
                                                        "format", {"json", "csv"}, default_format));
  SLUICE_ASSIGN_OR_RETURN(definition.csv_delimiter,
                          BindCsvDelimiter(context.properties, context.text, context.name));
  SLUICE_ASSIGN_OR_RETURN(const std::string header, BindChoice(context.properties, context.text, context.name,
                                                               "csv.header", {"true", "false"}, "true"));
  definition.csv_header = header == "true";
  SLUICE_ASSIGN_OR_RETURN(const std::string timestamps,
                          BindChoice(context.properties, context.text, context.name, "csv.timestamp.format",
                                     {"epoch_millis", "sql"}, "epoch_millis"));
  definition.csv_sql_timestamps = timestamps == "sql";
  SLUICE_RETURN_IF_ERROR(BindFilePartitioning(context, *settings));
  definition.settings = std::move(settings);
  return absl::OkStatus();
}

}  // namespace

void RegisterFileSource(ConnectorRegistry& registry) {
  SourceConnector connector;
  connector.type = "file_source";
  connector.summary =
      "JSON Lines or CSV files: a file, a directory's files or a glob's matches; '-' is stdin";
  connector.keys = {
      {"type", "", "file_source"},
      {"path", "", "required: the input file, a directory (its files) or a glob; each file is a partition"},
      {"format", "csv for a .csv path, else json", "json (JSON Lines) or csv"},
      {"schema", "inferred from the first 1,000 records", "'name TYPE, ...'"},
      {"csv.delimiter", ",", "one character, or \\t"},
      {"csv.header", "true", "whether the first CSV line names the columns"},
      {"dead_letter.path", "<path>.dead_letter.jsonl", "where bad and dead-lettered late records go"},
      {"event.time.field", "processing time", "the column that fills _event_time"},
      {"event.time.format", "auto", "epoch_millis, epoch_seconds, iso8601 or auto"},
      {"partitioned.by", "none", "'col, ...': columns whose every value lies in one file (no exchange)"},
      {"max.record.bytes", "16777216", "a longer record is dead-lettered and skipped while read"},
      {"primary.key", "none (a stream)",
       "'col, ...': the source is a table keyed by these columns, read whole at start by lookup joins"},
      {"reload.interval", "never", "a table: how often to check its files and read them again when changed"},
  };
  connector.bind = BindFileSource;
  connector.create = CreateFileSource;
  connector.make_lookup_table = [](SourceDefinition definition, std::vector<size_t> key_columns,
                                   std::optional<int64_t> reload_interval_millis) {
    return std::make_shared<LookupTableSource>(std::move(definition), std::move(key_columns),
                                               reload_interval_millis);
  };
  connector.split = SplitFile;
  connector.single_thread_reason = FileSourceSingleThreadReason;
  connector.describe = DescribeFileSource;
  registry.Register(std::move(connector));
}

void RegisterFileSink(ConnectorRegistry& registry) {
  SinkConnector connector;
  connector.type = "file_sink";
  connector.summary =
      "one JSON Lines or CSV file, created or truncated; or, partitioned, a directory of Hive-style "
      "partitions";
  connector.keys = {
      {"type", "", "file_sink"},
      {"path", "", "required: the output file; with partition.by, the directory of the partitions"},
      {"format", "csv for a .csv path, else json", "json (JSON Lines) or csv (with a header line)"},
      {"csv.delimiter", ",", "one character, or \\t"},
      {"csv.header", "true", "whether a CSV file starts with a line of the column names"},
      {"csv.timestamp.format", "epoch_millis",
       "how CSV writes a TIMESTAMP: epoch_millis, or sql ('2026-01-01 07:15:00.25', as Flink's CSV)"},
      {"partition.by", "none (one file)",
       "'col, ...': path is a directory of Hive-style partitions, path/col=value/.../part-0-<n>.<csv|jsonl>; "
       "these columns are in the path, not in the files"},
      {"partition.default.name", "__DEFAULT_PARTITION__",
       "the directory value of a NULL or empty partition value"},
      {"partition.commit.trigger", "process_time",
       "when a partition is committed: process_time (the clock passes its creation + delay) or "
       "partition_time "
       "(the watermark passes its time + delay); every one when the input ends"},
      {"partition.commit.delay", "0ms", "see partition.commit.trigger"},
      {"partition.commit.policy", "success_file",
       "success_file (committing writes <partition>/_SUCCESS) or none"},
      {"partition.time.pattern", "the first partition column's value",
       "partition_time: the partition's time from its values, e.g. '$dt $hm:00' (yyyy-MM-dd[ HH:mm:ss], "
       "UTC)"},
      {"rolling.interval", "30min", "a part file open this long is closed, and the next rows open a new one"},
      {"rolling.check.interval", "1min", "how often open files (and process_time commits) are checked"},
      {"partition.max.open.files", "64", "more open part files close the least recently written one"},
      {"changelog.mode", "append, or upsert for an updating query",
       "append (inserts only), changelog (Debezium-style before/after/op JSON) or upsert (key + value; "
       "deletes)"},
  };
  connector.bind = BindFileSink;
  connector.create = [](const SinkDefinition& definition,
                        const Schema& schema) -> std::unique_ptr<SinkOperator> {
    if (definition.SettingsAs<FileSinkSettings>().partitioning) {
      return std::make_unique<PartitionedFileSink>(definition, schema);
    }
    return FileSink::CreateFile(definition, schema, definition.SettingsAs<FileSinkSettings>().path);
  };
  registry.Register(std::move(connector));
}

}  // namespace sluice
