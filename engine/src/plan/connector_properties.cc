#include "plan/connector_properties.h"

#include <algorithm>

#include "common/strings.h"

namespace sluice {

absl::StatusOr<std::string> BindChoice(const JobProperties& properties, const SourceText& text,
                                       const std::string& scope, const std::string& key,
                                       const std::vector<std::string>& choices, const std::string& fallback) {
  const PropertyValue* value = properties.FindScoped(scope, key);
  if (value == nullptr) return fallback;
  for (const auto& choice : choices) {
    if (EqualsIgnoreCase(value->value, choice)) return choice;
  }
  return text.Error(value->value_position, StrCat("invalid value '", value->value, "' for '", scope, ".", key,
                                                  "' (expected ", StrJoin(choices, ", "), ")"));
}

absl::StatusOr<char> BindCsvDelimiter(const JobProperties& properties, const SourceText& text,
                                      const std::string& scope) {
  const PropertyValue* delimiter = properties.FindScoped(scope, "csv.delimiter");
  if (delimiter == nullptr) return ',';
  std::string value = delimiter->value == "\\t" ? "\t" : delimiter->value;
  if (value.size() != 1) {
    return text.Error(delimiter->value_position, "the CSV delimiter must be a single character (or '\\t')");
  }
  return value[0];
}

absl::StatusOr<Schema> ParseDeclaredSchema(const SourceText& text, const std::string& name,
                                           const PropertyValue& declared) {
  Schema schema;
  // Columns are separated by the commas outside parentheses (DECIMAL(12, 4) has one inside).
  std::vector<std::string_view> columns;
  const std::string_view value = declared.value;
  size_t begin = 0;
  int depth = 0;
  for (size_t i = 0; i <= value.size(); ++i) {
    if (i == value.size() || (value[i] == ',' && depth == 0)) {
      if (!StripWhitespace(value.substr(begin, i - begin)).empty())
        columns.push_back(value.substr(begin, i - begin));
      begin = i + 1;
    } else if (value[i] == '(') {
      ++depth;
    } else if (value[i] == ')') {
      --depth;
    }
  }
  for (std::string_view column : columns) {
    column = StripWhitespace(column);
    const size_t space = column.find(' ');
    std::optional<TypeId> field_type =
        space == std::string_view::npos ? std::nullopt : ParseTypeText(column.substr(space + 1));
    if (!field_type) {
      return text.Error(
          declared.value_position,
          StrCat("invalid column '", column, "' in '", name,
                 ".schema' (expected 'name TYPE, ...' with BIGINT, DOUBLE, DECIMAL(p, s), STRING, "
                 "BOOLEAN or TIMESTAMP)"));
    }
    schema.Add(Field{std::string(column.substr(0, space)), *field_type, false});
  }
  return schema;
}

absl::Status BindEventTime(const JobProperties& properties, const SourceText& text, const std::string& name,
                           SourceDefinition& definition, std::string_view record_time_column,
                           std::string_view record_time_hint) {
  const PropertyValue* time_field = properties.FindScoped(name, "event.time.field");
  // A table (a lookup join's: '<name>.primary.key') is versioned by its own key alone: the
  // job-wide one names the streams' time column, which a table need not have.
  const bool table = properties.FindScoped(name, "primary.key") != nullptr;
  if (time_field == nullptr && !table) time_field = properties.Find("event.time.field");
  if (time_field == nullptr) return absl::OkStatus();
  if (!record_time_column.empty() && EqualsIgnoreCase(time_field->value, record_time_column)) {
    return absl::OkStatus();
  }
  auto index = definition.decoder.schema.Find(time_field->value);
  if (!index) {
    return text.Error(time_field->value_position,
                      StrCat("event time field '", time_field->value, "' is not a column of source '", name,
                             "' (", definition.decoder.schema.ToString(), record_time_hint, ")"));
  }
  definition.decoder.event_time_field = static_cast<int>(*index);
  definition.has_event_time = true;
  const PropertyValue* time_format = properties.FindScoped(name, "event.time.format");
  if (time_format == nullptr) time_format = properties.Find("event.time.format");
  if (time_format != nullptr) {
    const std::string f = AsciiToLower(time_format->value);
    if (f == "epoch_millis" || f == "epoch_ms" || f == "millis") {
      definition.decoder.event_time_format = EventTimeFormat::kEpochMillis;
    } else if (f == "epoch_seconds" || f == "epoch" || f == "seconds") {
      definition.decoder.event_time_format = EventTimeFormat::kEpochSeconds;
    } else if (f == "iso8601" || f == "iso_8601") {
      definition.decoder.event_time_format = EventTimeFormat::kIso8601;
    } else if (f == "auto") {
      definition.decoder.event_time_format = EventTimeFormat::kAuto;
    } else {
      return text.Error(time_format->value_position,
                        StrCat("invalid event time format '", time_format->value,
                               "' (expected epoch_millis, epoch_seconds, iso8601 or auto)"));
    }
  }
  return absl::OkStatus();
}

absl::Status BindPartitionedBy(const JobProperties& properties, const SourceText& text,
                               const std::string& name, SourceDefinition& definition) {
  const PropertyValue* declared = properties.FindScoped(name, "partitioned.by");
  if (declared == nullptr) return absl::OkStatus();
  for (std::string_view piece : StrSplit(declared->value, ',', /*skip_blank=*/false)) {
    const std::string column(StripWhitespace(piece));
    const auto index = definition.decoder.schema.Find(column);
    if (column.empty() || !index) {
      return text.Error(declared->value_position, StrCat("'", name, ".partitioned.by' names '", column,
                                                         "', which is not a column of source '", name, "' (",
                                                         definition.decoder.schema.ToString(), ")"));
    }
    const std::string& field = definition.decoder.schema.field(*index).name;
    if (std::find(definition.partitioned_by.begin(), definition.partitioned_by.end(), field) !=
        definition.partitioned_by.end()) {
      return text.Error(declared->value_position,
                        StrCat("'", name, ".partitioned.by' names '", column, "' twice"));
    }
    definition.partitioned_by.push_back(field);
  }
  return absl::OkStatus();
}

absl::Status BindWatermark(const JobProperties& properties, const SourceText& text,
                           SourceDefinition& definition) {
  if (const PropertyValue* idle = properties.Find("watermark.idle_timeout")) {
    const auto millis = ParseDurationText(idle->value);
    if (!millis || *millis <= 0) {
      return text.Error(idle->value_position, StrCat("invalid duration '", idle->value, "'"));
    }
    definition.idle_timeout_millis = *millis;
  }
  if (const PropertyValue* drift = properties.Find("watermark.alignment.max_drift")) {
    const auto millis = ParseDurationText(drift->value);
    if (!millis || *millis <= 0) {
      return text.Error(drift->value_position, StrCat("invalid duration '", drift->value, "'"));
    }
    definition.alignment_max_drift_millis = *millis;
  }
  if (const PropertyValue* strategy = properties.Find("watermark.strategy")) {
    if (!EqualsIgnoreCase(strategy->value, "bounded_out_of_orderness") &&
        !EqualsIgnoreCase(strategy->value, "ascending")) {
      return text.Error(strategy->value_position,
                        StrCat("invalid value '", strategy->value,
                               "' for 'watermark.strategy' (expected bounded_out_of_orderness, ascending)"));
    }
    if (EqualsIgnoreCase(strategy->value, "bounded_out_of_orderness")) {
      if (const PropertyValue* bound = properties.Find("watermark.max_out_of_orderness")) {
        auto millis = ParseDurationText(bound->value);
        if (!millis)
          return text.Error(bound->value_position, StrCat("invalid duration '", bound->value, "'"));
        definition.max_out_of_orderness_millis = *millis;
      }
    }
  } else if (const PropertyValue* bound = properties.Find("watermark.max_out_of_orderness")) {
    auto millis = ParseDurationText(bound->value);
    if (!millis) return text.Error(bound->value_position, StrCat("invalid duration '", bound->value, "'"));
    definition.max_out_of_orderness_millis = *millis;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<int64_t>> BindPositiveDuration(const JobProperties& properties,
                                                            const SourceText& text, const std::string& scope,
                                                            const std::string& key) {
  const PropertyValue* value = properties.FindScoped(scope, key);
  if (value == nullptr) return std::optional<int64_t>();
  const auto millis = ParseDurationText(value->value);
  if (!millis || *millis <= 0) {
    return text.Error(value->value_position,
                      StrCat("invalid duration '", value->value, "' for '", scope, ".", key, "'"));
  }
  return std::optional<int64_t>(*millis);
}

}  // namespace sluice
