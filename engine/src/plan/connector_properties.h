// Reading a connector's WITH properties: the checks every connector's bind function shares
// (catalog/connector_registry.h). Each returns a positioned error (SourceText::Error at the offending
// key or value) with the message the binder has always given for it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "catalog/connector_definition.h"
#include "plan/job_properties.h"

namespace sluice {

// '<scope>.<key>': one of `choices` (case-insensitive, returned as listed), or `fallback` when
// unset. Error: "invalid value 'v' for '<scope>.<key>' (expected a, b)".
absl::StatusOr<std::string> BindChoice(const JobProperties& properties, const SourceText& text,
                                       const std::string& scope, const std::string& key,
                                       const std::vector<std::string>& choices, const std::string& fallback);

// '<scope>.csv.delimiter': one character or '\t'; ',' when unset.
absl::StatusOr<char> BindCsvDelimiter(const JobProperties& properties, const SourceText& text,
                                      const std::string& scope);

// '<name>.schema' = 'name TYPE, ...'.
absl::StatusOr<Schema> ParseDeclaredSchema(const SourceText& text, const std::string& name,
                                           const PropertyValue& declared);

// Event time of source `name`: '<name>.event.time.field' (else the job-wide key, unless the
// source is a table: '<name>.primary.key') must name a
// column of definition.decoder.schema; sets decoder.event_time_field, has_event_time and
// decoder.event_time_format ('event.time.format'). A connector whose records carry their own
// time may accept the name of that system column (`record_time_column`, e.g. Kafka's
// '_timestamp'): the definition is then left as it is; `record_time_hint` is added to the
// "not a column" error, e.g. "; or '_timestamp' for the Kafka timestamp".
absl::Status BindEventTime(const JobProperties& properties, const SourceText& text, const std::string& name,
                           SourceDefinition& definition, std::string_view record_time_column = "",
                           std::string_view record_time_hint = "");

// '<name>.partitioned.by': one or more of the source's columns, each once.
absl::Status BindPartitionedBy(const JobProperties& properties, const SourceText& text,
                               const std::string& name, SourceDefinition& definition);

// The job-wide watermark settings of a source: 'watermark.idle_timeout',
// 'watermark.alignment.max_drift', 'watermark.strategy' and 'watermark.max_out_of_orderness'.
absl::Status BindWatermark(const JobProperties& properties, const SourceText& text,
                           SourceDefinition& definition);

// A positive duration '<scope>.<key>' (ParseDurationText), or nullopt when unset. Error:
// "invalid duration 'v' for '<scope>.<key>'".
absl::StatusOr<std::optional<int64_t>> BindPositiveDuration(const JobProperties& properties,
                                                            const SourceText& text, const std::string& scope,
                                                            const std::string& key);

}  // namespace sluice
