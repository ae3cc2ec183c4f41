// The bound settings of the Kafka connectors (kafka_source, kafka_sink) and the Kafka source's
// system columns.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "catalog/connector_definition.h"

namespace sluice {

// Names of the Kafka source's system columns (after the declared columns, before
// _event_time).
inline constexpr const char* kKafkaKeyColumn = "_key";              // STRING, the message key
inline constexpr const char* kKafkaPartitionColumn = "_partition";  // BIGINT
inline constexpr const char* kKafkaOffsetColumn = "_offset";        // BIGINT
inline constexpr const char* kKafkaTimestampColumn = "_timestamp";  // TIMESTAMP, the record's

// A Kafka client's settings as bound from WITH: '<name>.bootstrap.servers' and the
// pass-through '<name>.properties.<key>' librdkafka properties, in key order.
struct KafkaClientSettings {
  std::string bootstrap_servers;
  std::vector<std::pair<std::string, std::string>> properties;
  // How long Open() waits for the brokers to answer before failing the job.
  int64_t connect_timeout_millis = 10000;
};

// kafka_source (see kafka_source.h).
struct KafkaSourceSettings final : ConnectorSettings {
  KafkaClientSettings client;
  std::vector<std::string> topics;  // one or more
  std::string group_id;             // default: sluice-<source name>
  std::string auto_offset_reset;    // earliest (default) | latest
  // Bounded mode: stop once every assigned partition reached the end offset it had when it
  // was assigned.
  bool stop_at_end = false;
  int64_t commit_interval_millis = 1000;  // how often offsets are committed (a flush point)
};

// kafka_sink (see kafka_sink.h).
struct KafkaSinkSettings final : ConnectorSettings {
  KafkaClientSettings client;
  std::string topic;
  int key_column = -1;        // index into the statement's output schema; -1: messages have no key
  bool exactly_once = false;  // 'delivery.guarantee' = 'exactly_once': transactional producer
  std::string transactional_id;
};

}  // namespace sluice
