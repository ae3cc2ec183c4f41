// The connector registry: the keys property validation uses are the ones connectors register,
// the lists errors and `sluice connectors` show come from it, and a connector registered by an
// embedding is bound by the binder and built by the runtime through its own functions.
#include <gtest/gtest.h>

#include "common/strings.h"
#include "catalog/connector_registry.h"
#include "connectors/sink.h"
#include "connectors/source.h"
#include "plan/job_properties.h"

namespace sluice {
namespace {

TEST(ConnectorRegistryTest, PropertyValidationUsesTheRegisteredKeys) {
  const ConnectorRegistry& registry = ConnectorRegistry::Default();
  ASSERT_FALSE(registry.sources().empty());
  ASSERT_FALSE(registry.sinks().empty());
  auto names = [](const std::vector<ConnectorKey>& keys) {
    std::vector<std::string> out;
    for (const ConnectorKey& key : keys) out.push_back(key.name);
    return out;
  };
  for (const SourceConnector& source : registry.sources()) {
    if (!source.supported) continue;
    EXPECT_EQ(ScopedPropertyKeys(source.type), names(source.keys)) << source.type;
  }
  for (const SinkConnector& sink : registry.sinks()) {
    EXPECT_EQ(ScopedPropertyKeys(sink.type), names(sink.keys)) << sink.type;
  }
  // Every key has its line of documentation.
  for (const SourceConnector& source : registry.sources()) {
    for (const ConnectorKey& key : source.keys) EXPECT_FALSE(key.documentation.empty()) << key.name;
  }
  for (const SinkConnector& sink : registry.sinks()) {
    for (const ConnectorKey& key : sink.keys) EXPECT_FALSE(key.documentation.empty()) << key.name;
  }
}

TEST(ConnectorRegistryTest, BuiltinTypesKeepTheirNamesAndOrder) {
  const ConnectorRegistry& registry = ConnectorRegistry::Default();
  EXPECT_TRUE(StartsWith(registry.SourceTypeList(), "file_source, kafka_source"))
      << registry.SourceTypeList();
  EXPECT_EQ(registry.SinkTypeList(), "file_sink, stdout_sink, kafka_sink or blackhole_sink");
  const SourceConnector* datagen = registry.FindSource("datagen_source");
  ASSERT_NE(datagen, nullptr);
  EXPECT_FALSE(datagen->supported);
  EXPECT_EQ(registry.KeyNames("datagen_source"), nullptr);  // any key, as for an unknown type
  EXPECT_TRUE(registry.AcceptsKafkaProperties("kafka_source"));
  EXPECT_TRUE(registry.AcceptsKafkaProperties("kafka_sink"));
  EXPECT_FALSE(registry.AcceptsKafkaProperties("file_source"));
  EXPECT_TRUE(registry.AcceptsKafkaProperties("no_such_type"));
}

// A registry of its own (not the process-wide one): the lists and the listing.
TEST(ConnectorRegistryTest, DescribesWhatIsRegistered) {
  ConnectorRegistry registry;
  SourceConnector source;
  source.type = "test_source";
  source.summary = "rows from a test";
  source.keys = {
      {"type", "", "test_source"}, {"rows", "10", "how many rows"}, {"seed", "", "required: a seed"}};
  source.bind = [](const SourceBindContext&, SourceDefinition&) { return absl::OkStatus(); };
  source.create = [](const SourceDefinition&, size_t, std::shared_ptr<DeadLetterWriter>,
                     const SourceReaderOptions&) { return std::unique_ptr<SourcePartition>(); };
  source.describe = [](const SourceDefinition&) { return SourceDescription{}; };
  registry.Register(source);
  SinkConnector sink;
  sink.type = "test_sink";
  sink.summary = "rows to a test";
  sink.keys = {{"type", "", "test_sink"}};
  sink.kafka_properties = true;
  sink.bind = [](const SinkBindContext&, SinkDefinition&) { return absl::OkStatus(); };
  sink.create = [](const SinkDefinition&, const Schema&) { return std::unique_ptr<SinkOperator>(); };
  registry.Register(sink);

  EXPECT_EQ(registry.SourceTypeList(), "test_source");
  EXPECT_EQ(registry.AllKeyNames(), (std::vector<std::string>{"type", "rows", "seed"}));
  EXPECT_EQ(*registry.KeyNames("test_source"), (std::vector<std::string>{"type", "rows", "seed"}));
  const std::string listing = registry.Describe();
  EXPECT_NE(listing.find("  test_source: rows from a test\n"), std::string::npos) << listing;
  EXPECT_NE(listing.find("    rows  how many rows (default: 10)\n"), std::string::npos) << listing;
  EXPECT_NE(listing.find("    seed  required: a seed\n"), std::string::npos) << listing;
  EXPECT_NE(listing.find("properties.<key>  any librdkafka producer property"), std::string::npos) << listing;
  ASSERT_TRUE(registry.DescribeType("test_sink").has_value());
  EXPECT_EQ(registry.DescribeType("test_sink")->find("test_source"), std::string::npos);
  EXPECT_FALSE(registry.DescribeType("file_source").has_value());
  EXPECT_EQ(registry.DescribeBriefly(), "  test_source  rows from a test\n  test_sink    rows to a test\n");
}

}  // namespace
}  // namespace sluice
