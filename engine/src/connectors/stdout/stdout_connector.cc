// The 'stdout_sink' connector: JSON Lines or CSV on standard output, written by the file sink
// (connectors/file/file_sink.h). A stream that no later statement reads and that names no sink
// goes here. Registered by RegisterBuiltinConnectors() (connectors/builtin_connectors.cc).
#include "connectors/file/file_sink.h"
#include "catalog/connector_registry.h"
#include "plan/connector_properties.h"

namespace sluice {

void RegisterStdoutSink(ConnectorRegistry& registry) {
  SinkConnector connector;
  connector.type = "stdout_sink";
  connector.summary = "JSON Lines or CSV on standard output (a stream nothing else reads goes here)";
  connector.keys = {
      {"type", "", "stdout_sink"},
      {"format", "json", "json (JSON Lines) or csv (with a header line)"},
      {"csv.delimiter", ",", "one character, or \\t"},
      {"changelog.mode", "append, or upsert for an updating query",
       "append (inserts only), changelog (Debezium-style before/after/op JSON) or upsert (key + value; deletes)"},
  };
  connector.bind = [](const SinkBindContext& context, SinkDefinition& definition) -> absl::Status {
    SLUICE_ASSIGN_OR_RETURN(definition.format, BindChoice(context.properties, context.text, context.name,
                                                          "format", {"json", "csv"}, "json"));
    SLUICE_ASSIGN_OR_RETURN(definition.csv_delimiter,
                            BindCsvDelimiter(context.properties, context.text, context.name));
    return absl::OkStatus();
  };
  connector.create = [](const SinkDefinition& definition,
                        const Schema& schema) -> std::unique_ptr<SinkOperator> {
    return FileSink::CreateStdout(definition, schema);
  };
  registry.Register(std::move(connector));
}

}  // namespace sluice
