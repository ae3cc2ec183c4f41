#include "catalog/connector_registry.h"

#include <algorithm>

#include "common/strings.h"

namespace sluice {
namespace {

// "a, b or c".
std::string ListOfChoices(const std::vector<std::string>& names) {
  if (names.size() <= 1) return names.empty() ? "" : names[0];
  std::vector<std::string> head(names.begin(), names.end() - 1);
  return StrCat(StrJoin(head, ", "), " or ", names.back());
}

void DescribeKeys(const std::vector<ConnectorKey>& keys, bool kafka_properties, std::string_view role,
                  std::string& out) {
  size_t width = 0;
  for (const ConnectorKey& key : keys) width = std::max(width, key.name.size());
  const std::string kafka_key = "properties.<key>";
  if (kafka_properties) width = std::max(width, kafka_key.size());
  for (const ConnectorKey& key : keys) {
    StrAppend(&out, "    ", key.name, std::string(width - key.name.size() + 2, ' '), key.documentation);
    if (!key.default_value.empty()) StrAppend(&out, " (default: ", key.default_value, ")");
    out += '\n';
  }
  if (kafka_properties) {
    StrAppend(&out, "    ", kafka_key, std::string(width - kafka_key.size() + 2, ' '), "any librdkafka ",
              role, " property, passed through (checked when the job is bound)\n");
  }
}

}  // namespace

ConnectorRegistry& ConnectorRegistry::Default() {
  static ConnectorRegistry* const registry = [] {
    auto* created = new ConnectorRegistry();
    RegisterBuiltinConnectors(*created);
    return created;
  }();
  return *registry;
}

void ConnectorRegistry::Register(SourceConnector connector) {
  SLUICE_CHECK(FindSource(connector.type) == nullptr && FindSink(connector.type) == nullptr);
  SLUICE_CHECK(!connector.supported || (connector.bind && connector.create && connector.describe));
  if (connector.supported) AddKeyNames(connector.type, connector.keys);
  sources_.push_back(std::move(connector));
}

void ConnectorRegistry::Register(SinkConnector connector) {
  SLUICE_CHECK(FindSource(connector.type) == nullptr && FindSink(connector.type) == nullptr);
  SLUICE_CHECK(connector.bind && connector.create);
  AddKeyNames(connector.type, connector.keys);
  sinks_.push_back(std::move(connector));
}

void ConnectorRegistry::AddKeyNames(const std::string& type, const std::vector<ConnectorKey>& keys) {
  std::vector<std::string> names;
  for (const ConnectorKey& key : keys) {
    names.push_back(key.name);
    if (std::find(all_key_names_.begin(), all_key_names_.end(), key.name) == all_key_names_.end())
      all_key_names_.push_back(key.name);
  }
  key_names_.emplace_back(type, std::move(names));
}

const SourceConnector* ConnectorRegistry::FindSource(std::string_view type) const {
  for (const SourceConnector& connector : sources_) {
    if (connector.type == type) return &connector;
  }
  return nullptr;
}

const SinkConnector* ConnectorRegistry::FindSink(std::string_view type) const {
  for (const SinkConnector& connector : sinks_) {
    if (connector.type == type) return &connector;
  }
  return nullptr;
}

const std::vector<std::string>* ConnectorRegistry::KeyNames(std::string_view type) const {
  for (const auto& [name, keys] : key_names_) {
    if (name == type) return &keys;
  }
  return nullptr;
}

bool ConnectorRegistry::AcceptsKafkaProperties(std::string_view type) const {
  if (const SourceConnector* source = FindSource(type); source != nullptr && source->supported)
    return source->kafka_properties;
  if (const SinkConnector* sink = FindSink(type)) return sink->kafka_properties;
  return true;
}

std::string ConnectorRegistry::SourceTypeList() const {
  std::vector<std::string> types;
  for (const SourceConnector& connector : sources_) types.push_back(connector.type);
  return ListOfChoices(types);
}

std::string ConnectorRegistry::SinkTypeList() const {
  std::vector<std::string> types;
  for (const SinkConnector& connector : sinks_) types.push_back(connector.type);
  return ListOfChoices(types);
}

namespace {

void DescribeSource(const SourceConnector& connector, std::string& out) {
  StrAppend(&out, "  ", connector.type, ": ", connector.summary,
            connector.supported ? "" : " (not supported yet)", "\n");
  if (connector.supported) DescribeKeys(connector.keys, connector.kafka_properties, "consumer", out);
}

void DescribeSink(const SinkConnector& connector, std::string& out) {
  StrAppend(&out, "  ", connector.type, ": ", connector.summary, "\n");
  DescribeKeys(connector.keys, connector.kafka_properties, "producer", out);
}

constexpr const char* kKeysAreScoped =
    "Each key is written '<name>.<key>' in WITH, <name> the source or stream.\n";

}  // namespace

std::string ConnectorRegistry::Describe() const {
  std::string out = StrCat("Connectors, by the value of '<name>.type'. ", kKeysAreScoped, "\nsources:\n");
  for (const SourceConnector& connector : sources_) DescribeSource(connector, out);
  out += "\nsinks:\n";
  for (const SinkConnector& connector : sinks_) DescribeSink(connector, out);
  return out;
}

std::optional<std::string> ConnectorRegistry::DescribeType(std::string_view type) const {
  std::string out = kKeysAreScoped;
  if (const SourceConnector* source = FindSource(type)) {
    out += "source:\n";
    DescribeSource(*source, out);
  } else if (const SinkConnector* sink = FindSink(type)) {
    out += "sink:\n";
    DescribeSink(*sink, out);
  } else {
    return std::nullopt;
  }
  return out;
}

std::string ConnectorRegistry::DescribeBriefly() const {
  size_t width = 0;
  for (const SourceConnector& connector : sources_) width = std::max(width, connector.type.size());
  for (const SinkConnector& connector : sinks_) width = std::max(width, connector.type.size());
  std::string out;
  for (const SourceConnector& connector : sources_) {
    StrAppend(&out, "  ", connector.type, std::string(width - connector.type.size() + 2, ' '),
              connector.summary, connector.supported ? "" : " (not supported yet)", "\n");
  }
  for (const SinkConnector& connector : sinks_) {
    StrAppend(&out, "  ", connector.type, std::string(width - connector.type.size() + 2, ' '),
              connector.summary, "\n");
  }
  return out;
}

}  // namespace sluice
