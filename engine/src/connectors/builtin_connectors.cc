// The connectors built into Sluice, one line each, in the order `sluice connectors` lists them
// and errors name them ("expected file_source, kafka_source or datagen_source"). Each line
// stands for Register<Name>(ConnectorRegistry&), defined in the connector's folder
// (connectors/<folder>/<name>_connector.cc), which describes the connector and registers it.
#include "catalog/connector_registry.h"

#define SLUICE_BUILTIN_CONNECTORS(CONNECTOR) \
  CONNECTOR(FileSource)                      \
  CONNECTOR(KafkaSource)                     \
  CONNECTOR(DatagenSource)                   \
  CONNECTOR(MemorySource)                    \
  CONNECTOR(FileSink)                        \
  CONNECTOR(StdoutSink)                      \
  CONNECTOR(KafkaSink)                       \
  CONNECTOR(BlackholeSink)

namespace sluice {

#define SLUICE_DECLARE_CONNECTOR(Name) void Register##Name(ConnectorRegistry& registry);
SLUICE_BUILTIN_CONNECTORS(SLUICE_DECLARE_CONNECTOR)
#undef SLUICE_DECLARE_CONNECTOR

// 'datagen_source': a type name that jobs may already use, refused as "not supported yet"
// (every key is accepted for it, so that the refusal is the error shown).
void RegisterDatagenSource(ConnectorRegistry& registry) {
  SourceConnector connector;
  connector.type = "datagen_source";
  connector.summary = "generated trades, orders or market data; sluice datagen writes them for now";
  connector.supported = false;
  registry.Register(std::move(connector));
}

void RegisterBuiltinConnectors(ConnectorRegistry& registry) {
#define SLUICE_REGISTER_CONNECTOR(Name) Register##Name(registry);
  SLUICE_BUILTIN_CONNECTORS(SLUICE_REGISTER_CONNECTOR)
#undef SLUICE_REGISTER_CONNECTOR
}

}  // namespace sluice
