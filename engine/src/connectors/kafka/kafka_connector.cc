// The Kafka connectors on librdkafka: 'kafka_source' (a consumer-group member reading one or
// more topics, see kafka_source.h) and 'kafka_sink' (an idempotent or transactional producer to
// one topic, see kafka_sink.h): their WITH keys and binding. Registered by
// RegisterBuiltinConnectors() (connectors/builtin_connectors.cc).
#include "common/strings.h"
#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/kafka_settings.h"
#include "connectors/kafka/kafka_sink.h"
#include "connectors/kafka/kafka_source.h"
#include "catalog/connector_registry.h"
#include "plan/connector_properties.h"

namespace sluice {
namespace {

// '<name>.bootstrap.servers' (required), '<name>.connect.timeout' and every
// '<name>.properties.<key>', each checked the way librdkafka will apply it.
absl::Status BindKafkaClient(const JobProperties& properties, const SourceText& text, const std::string& name,
                             const PropertyValue& type, KafkaClientRole role, KafkaClientSettings& client) {
  const PropertyValue* servers = properties.FindScoped(name, "bootstrap.servers");
  if (servers == nullptr || StripWhitespace(servers->value).empty()) {
    return text.Error(servers != nullptr ? servers->value_position : type.key_position,
                      StrCat("'", name, "' needs '", name, ".bootstrap.servers' (host:port[,host:port...])"));
  }
  client.bootstrap_servers = std::string(StripWhitespace(servers->value));
  SLUICE_ASSIGN_OR_RETURN(const std::optional<int64_t> timeout,
                          BindPositiveDuration(properties, text, name, "connect.timeout"));
  if (timeout) client.connect_timeout_millis = *timeout;
  const std::string prefix = StrCat(name, ".properties.");
  for (const auto& [key, value] : properties.all()) {
    if (!StartsWith(key, prefix)) continue;
    const std::string kafka_key = key.substr(prefix.size());
    absl::Status valid = CheckKafkaProperty(role, kafka_key, value.value);
    if (!valid.ok()) {
      return text.Error(value.key_position,
                        StrCat("invalid Kafka property '", key, "': ", std::string(valid.message())));
    }
    client.properties.emplace_back(kafka_key, value.value);
  }
  return absl::OkStatus();
}

// Topics, client settings, a declared schema (or raw), then the same event time settings as
// any source, and the Kafka system columns.
absl::Status BindKafkaSource(const SourceBindContext& context, SourceDefinition& definition) {
  const JobProperties& properties = context.properties;
  const SourceText& text = context.text;
  const std::string& name = context.name;
  auto kafka = std::make_shared<KafkaSourceSettings>();
  SLUICE_RETURN_IF_ERROR(
      BindKafkaClient(properties, text, name, context.type, KafkaClientRole::kConsumer, kafka->client));
  const PropertyValue* topic = properties.FindScoped(name, "topic");
  if (topic == nullptr) {
    return text.Error(
        context.type.key_position,
        StrCat("source '", name, "' needs '", name, ".topic' (one topic, or several separated by commas)"));
  }
  for (std::string_view part : StrSplit(topic->value, ',', true)) {
    kafka->topics.emplace_back(StripWhitespace(part));
  }
  if (kafka->topics.empty()) {
    return text.Error(topic->value_position, StrCat("'", name, ".topic' names no topic"));
  }
  const PropertyValue* group = properties.FindScoped(name, "group.id");
  kafka->group_id = group != nullptr ? group->value : StrCat("sluice-", name);
  if (kafka->group_id.empty()) {
    return text.Error(group->value_position, StrCat("'", name, ".group.id' must not be empty"));
  }
  SLUICE_ASSIGN_OR_RETURN(kafka->auto_offset_reset, BindChoice(properties, text, name, "auto.offset.reset",
                                                               {"earliest", "latest"}, "earliest"));
  SLUICE_ASSIGN_OR_RETURN(std::string stop,
                          BindChoice(properties, text, name, "stop.at.end", {"true", "false"}, "false"));
  kafka->stop_at_end = stop == "true";
  SLUICE_ASSIGN_OR_RETURN(const std::optional<int64_t> interval,
                          BindPositiveDuration(properties, text, name, "commit.interval"));
  if (interval) kafka->commit_interval_millis = *interval;
  SLUICE_ASSIGN_OR_RETURN(definition.format,
                          BindChoice(properties, text, name, "format", {"json", "csv", "raw"}, "json"));
  SLUICE_ASSIGN_OR_RETURN(definition.decoder.csv_delimiter, BindCsvDelimiter(properties, text, name));
  definition.decoder.csv_header = false;  // each message is one record
  const PropertyValue* declared = properties.FindScoped(name, "schema");
  if (definition.format == "raw") {
    if (declared != nullptr) {
      return text.Error(declared->key_position,
                        StrCat("a raw Kafka source has one column, 'value STRING': remove '", name,
                               ".schema' or use format json or csv"));
    }
    definition.decoder.schema.Add(Field{"value", TypeId::kString, false});
  } else if (declared == nullptr) {
    return text.Error(context.type.key_position,
                      StrCat("source '", name, "' needs '", name,
                             ".schema' ('name TYPE, ...'): a Kafka source's columns are declared, not "
                             "inferred (or use '",
                             name, ".format' = 'raw')"));
  } else {
    SLUICE_ASSIGN_OR_RETURN(definition.decoder.schema, ParseDeclaredSchema(text, name, *declared));
  }
  // A Kafka source also accepts '_timestamp' (the record's Kafka timestamp, which it uses anyway
  // when no field is set).
  SLUICE_RETURN_IF_ERROR(BindEventTime(properties, text, name, definition, kKafkaTimestampColumn,
                                       "; or '_timestamp' for the Kafka timestamp"));
  definition.has_event_time = true;  // a field, or else the Kafka timestamp
  definition.schema = definition.decoder.schema;
  for (const char* system :
       {kKafkaKeyColumn, kKafkaPartitionColumn, kKafkaOffsetColumn, kKafkaTimestampColumn}) {
    if (definition.schema.Find(system)) {
      return text.Error(declared->value_position,
                        StrCat("column '", system, "' is a Kafka system column; rename the field"));
    }
  }
  definition.schema.Add(Field{kKafkaKeyColumn, TypeId::kString, true});
  definition.schema.Add(Field{kKafkaPartitionColumn, TypeId::kInt64, true});
  definition.schema.Add(Field{kKafkaOffsetColumn, TypeId::kInt64, true});
  definition.schema.Add(Field{kKafkaTimestampColumn, TypeId::kTimestamp, true});
  definition.schema.Add(Field{kEventTimeColumn, TypeId::kTimestamp, true});
  SLUICE_RETURN_IF_ERROR(BindPartitionedBy(properties, text, name, definition));
  const PropertyValue* dead_letter = properties.FindScoped(name, "dead_letter.path");
  definition.dead_letter_path =
      dead_letter != nullptr ? dead_letter->value : StrCat(name, ".dead_letter.jsonl");
  // One reader for every assigned Kafka partition, whose rows interleave in its batches.
  definition.partitions = {StrJoin(kafka->topics, ",")};
  definition.reader_interleaves_partitions = true;
  definition.settings = std::move(kafka);
  return absl::OkStatus();
}

SourceDescription DescribeKafkaSource(const SourceDefinition& definition) {
  const auto& kafka = definition.SettingsAs<KafkaSourceSettings>();
  SourceDescription description;
  description.what = StrCat("KafkaSource ", definition.name, " <- topic ", StrJoin(kafka.topics, ","), " @ ",
                            kafka.client.bootstrap_servers);
  description.details = {definition.format, StrCat("group ", kafka.group_id)};
  description.notes.push_back("watermark = minimum over assigned Kafka partitions");
  if (kafka.stop_at_end) description.notes.push_back("stops at the end offsets");
  return description;
}

absl::Status BindKafkaSink(const SinkBindContext& context, SinkDefinition& sink) {
  const JobProperties& properties = context.properties;
  const SourceText& text = context.text;
  const std::string& name = context.name;
  SLUICE_ASSIGN_OR_RETURN(sink.format, BindChoice(properties, text, name, "format", {"json", "csv"}, "json"));
  SLUICE_ASSIGN_OR_RETURN(sink.csv_delimiter, BindCsvDelimiter(properties, text, name));
  auto kafka = std::make_shared<KafkaSinkSettings>();
  SLUICE_RETURN_IF_ERROR(
      BindKafkaClient(properties, text, name, context.type, KafkaClientRole::kProducer, kafka->client));
  const PropertyValue* topic = properties.FindScoped(name, "topic");
  if (topic == nullptr) {
    return text.Error(context.type.key_position, StrCat("sink '", name, "' needs '", name, ".topic'"));
  }
  kafka->topic = std::string(StripWhitespace(topic->value));
  if (kafka->topic.empty() || kafka->topic.find(',') != std::string::npos) {
    return text.Error(topic->value_position, StrCat("'", name, ".topic' must name exactly one topic"));
  }
  if (const PropertyValue* key = properties.FindScoped(name, "key.field")) {
    const auto index = context.output_schema.Find(key->value);
    if (!index) {
      std::vector<std::string> columns;
      for (const Field& field : context.output_schema.fields()) columns.push_back(field.name);
      std::string message = StrCat("key field '", key->value, "' is not a column of stream '", name, "' (",
                                   context.output_schema.ToString(), ")");
      if (auto nearest = NearestName(key->value, columns))
        StrAppend(&message, "; did you mean '", *nearest, "'?");
      return text.Error(key->value_position, message);
    }
    kafka->key_column = static_cast<int>(*index);
    sink.key_column = kafka->key_column;
  }
  SLUICE_ASSIGN_OR_RETURN(std::string guarantee,
                          BindChoice(properties, text, name, "delivery.guarantee",
                                     {"at_least_once", "exactly_once"}, "at_least_once"));
  kafka->exactly_once = guarantee == "exactly_once";
  const PropertyValue* transactional_id = properties.FindScoped(name, "transactional.id");
  if (transactional_id != nullptr && !kafka->exactly_once) {
    return text.Error(transactional_id->key_position,
                      StrCat("'", name, ".transactional.id' applies only with '", name,
                             ".delivery.guarantee' = 'exactly_once'"));
  }
  kafka->transactional_id = transactional_id != nullptr ? transactional_id->value : StrCat("sluice-", name);
  sink.settings = std::move(kafka);
  return absl::OkStatus();
}

}  // namespace

void RegisterKafkaSource(ConnectorRegistry& registry) {
  SourceConnector connector;
  connector.type = "kafka_source";
  connector.summary = "one or more Kafka topics, read as a consumer-group member (librdkafka)";
  connector.keys = {
      {"type", "", "kafka_source"},
      {"topic", "", "required: a topic, or several separated by commas"},
      {"bootstrap.servers", "", "required: host:port[,host:port...]"},
      {"group.id", "sluice-<name>", "the consumer group"},
      {"auto.offset.reset", "earliest",
       "where a partition without a committed offset starts: earliest or latest"},
      {"format", "json", "json, csv (no header line) or raw (one STRING column 'value')"},
      {"schema", "", "required unless raw: 'name TYPE, ...'"},
      {"csv.delimiter", ",", "one character, or \\t"},
      {"dead_letter.path", "<name>.dead_letter.jsonl", "where bad and dead-lettered late records go"},
      {"event.time.field", "_timestamp",
       "the column that fills _event_time; _timestamp: the Kafka timestamp"},
      {"event.time.format", "auto", "epoch_millis, epoch_seconds, iso8601 or auto"},
      {"stop.at.end", "false", "true: bounded, stops at the end offsets the partitions had when assigned"},
      {"commit.interval", "1s", "how often offsets are committed, at a flush point"},
      {"connect.timeout", "10s", "how long opening waits for the brokers to answer"},
      {"partitioned.by", "none",
       "'col, ...': the topic's message key, so each value lies in one Kafka partition (no exchange)"},
      {"primary.key", "none (a stream)", "a table from a compacted topic: not supported yet"},
  };
  connector.kafka_properties = true;
  connector.bind = BindKafkaSource;
  // The consumer group deals the topics' partitions out: one member per worker.
  connector.reader_per_worker = "consumer-group member";
  connector.fills_batches = false;  // a batch is what one poll returned
  connector.create = [](const SourceDefinition& definition, size_t partition,
                        std::shared_ptr<DeadLetterWriter> dead_letters,
                        const SourceReaderOptions& options) -> std::unique_ptr<SourcePartition> {
    return KafkaSource::Create(definition, std::move(dead_letters), options.batch_size, options.strict,
                               options.group);
  };
  connector.describe = DescribeKafkaSource;
  registry.Register(std::move(connector));
}

void RegisterKafkaSink(ConnectorRegistry& registry) {
  SinkConnector connector;
  connector.type = "kafka_sink";
  connector.summary = "one Kafka topic, through an idempotent or transactional producer (librdkafka)";
  connector.keys = {
      {"type", "", "kafka_sink"},
      {"topic", "", "required: exactly one topic"},
      {"bootstrap.servers", "", "required: host:port[,host:port...]"},
      {"format", "json", "json or csv (no header line)"},
      {"csv.delimiter", ",", "one character, or \\t"},
      {"key.field", "no key", "the output column whose value keys each message"},
      {"delivery.guarantee", "at_least_once", "at_least_once (idempotent) or exactly_once (transactional)"},
      {"transactional.id", "sluice-<name>", "the transactional producer's id (exactly_once only)"},
      {"changelog.mode", "append, or upsert for an updating query",
       "append (inserts only), changelog (Debezium-style before/after/op JSON) or upsert (key + value; deletes)"},
      {"connect.timeout", "10s", "how long opening waits for the brokers to answer"},
  };
  connector.kafka_properties = true;
  connector.bind = BindKafkaSink;
  connector.create = [](const SinkDefinition& definition,
                        const Schema& schema) -> std::unique_ptr<SinkOperator> {
    return KafkaSink::Create(definition, schema);
  };
  registry.Register(std::move(connector));
}

}  // namespace sluice
