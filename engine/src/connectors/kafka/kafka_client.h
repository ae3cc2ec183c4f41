// Kafka client plumbing on librdkafka, shared by the Kafka source and sink, `sluice datagen
// --kafka`, the tests and the benchmark lab:
//   - configuration from WITH settings (bootstrap servers + pass-through properties), with
//     librdkafka's own validation of every pass-through key and value;
//   - callbacks routed to one object per client (KafkaClientCallbacks): librdkafka's errors
//     and warnings are kept (the last one explains a failure), and every log line it writes is
//     forwarded to Sluice's log (common/log.h, component "librdkafka") at its level instead of
//     going to stderr directly: 'properties.debug' output shows with --log-level debug;
//   - a bounded-time reachability and topic check (WaitForKafka), so that an unreachable
//     broker or a missing topic is a clear error within the connect timeout, not a hang;
//   - KafkaProducer: keyed messages to one topic, delivery reports awaited by Flush(), a failed
//     delivery reported with the broker's error, idempotent by default, optionally
//     transactional;
//   - ReadKafkaTopic: every message of a topic up to its current end (tests, tools).
//
// Threading: a client's callbacks run on the thread that polls it (Next()/Push()/Flush()),
// except the log callback, which librdkafka may call from its own threads (it is locked).
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "connectors/kafka/kafka_settings.h"

namespace sluice {

struct KafkaHandleDeleter {
  void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
};
struct KafkaTopicDeleter {
  void operator()(rd_kafka_topic_t* topic) const { rd_kafka_topic_destroy(topic); }
};
struct KafkaPartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaHandleDeleter>;
using KafkaTopicHandle = std::unique_ptr<rd_kafka_topic_t, KafkaTopicDeleter>;
using KafkaPartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, KafkaPartitionListDeleter>;

enum class KafkaClientRole : uint8_t { kConsumer, kProducer };

// Checks one pass-through property ('<name>.properties.<key>') the way librdkafka will apply
// it; keys Sluice sets itself are refused with the property to use instead. The message is
// meant to follow "invalid property '<name>.properties.<key>': ".
absl::Status CheckKafkaProperty(KafkaClientRole role, const std::string& key, const std::string& value);

// What librdkafka reports about one client. Subclasses receive the rebalance and delivery
// callbacks of the client they own.
class KafkaClientCallbacks {
 public:
  virtual ~KafkaClientCallbacks() = default;
  virtual void OnRebalance(rd_kafka_t* handle, rd_kafka_resp_err_t error,
                           rd_kafka_topic_partition_list_t* partitions);
  virtual void OnDelivery(const rd_kafka_message_t& message) {}

  // The most recent error or warning librdkafka reported ("" if none). Thread-safe.
  std::string last_problem() const;
  void RecordProblem(std::string text);

 private:
  mutable std::mutex mutex_;
  std::string last_problem_;
};

// librdkafka's log callback (rd_kafka_conf_set_log_cb): the line goes to Log(kLibrdkafka) at
// its syslog level mapped by LevelOfSyslog, as "<client name> <facility>: <text>"; errors and
// warnings also to the client's KafkaClientCallbacks (its opaque), when it has one. Any thread.
void ForwardKafkaLog(const rd_kafka_t* handle, int level, const char* facility, const char* text);

// A configuration for `settings` (bootstrap.servers, then every pass-through property) with
// every callback routed to `callbacks` (which must outlive the client), and librdkafka's log
// lines to ForwardKafkaLog.
// `description` names the owner in errors, e.g. "source 'trades'".
absl::StatusOr<rd_kafka_conf_t*> MakeKafkaConf(const KafkaClientSettings& settings, KafkaClientRole role,
                                               KafkaClientCallbacks* callbacks, std::string_view description);
// rd_kafka_conf_set, or an error naming the property.
absl::Status SetKafkaConf(rd_kafka_conf_t* conf, const std::string& key, const std::string& value,
                          std::string_view description);

// Waits up to `timeout_millis` for the cluster to answer a metadata request and checks that
// every topic in `topics` exists; returns each topic's partition count, in order. Errors:
// "<description>: cannot reach Kafka at <servers> within N s (<librdkafka's last report>)" or
// "<description>: topic 'x' does not exist on <servers>".
absl::StatusOr<std::vector<int>> WaitForKafka(rd_kafka_t* handle, const std::vector<std::string>& topics,
                                              int64_t timeout_millis, std::string_view description,
                                              const std::string& bootstrap_servers,
                                              const KafkaClientCallbacks& callbacks);

struct KafkaProducerOptions {
  KafkaClientSettings client;
  std::string topic;
  std::string description;       // for errors, e.g. "sink 'totals'"
  std::string transactional_id;  // non-empty: a transactional producer (see Flush)
};

// Produces messages to one topic. Idempotent unless the pass-through properties say
// 'enable.idempotence' = 'false'. Not thread-safe.
class KafkaProducer final : public KafkaClientCallbacks {
 public:
  // Starts the client (librdkafka connects in the background); errors here are configuration
  // errors.
  static absl::StatusOr<std::unique_ptr<KafkaProducer>> Create(const KafkaProducerOptions& options);
  // Aborts an open transaction; waits for nothing else (call Flush first).
  ~KafkaProducer() override;

  // Checks the brokers and the topic (WaitForKafka); a transactional producer also
  // initializes its transactions (fencing any earlier producer with the same id) and begins
  // the first one. REQUIRES: called once, before Produce().
  absl::Status Connect();

  // Enqueues one message (the bytes are copied); `key` null: no key. Waits while librdkafka's
  // queue is full. Returns the first delivery failure seen so far, if any.
  absl::Status Produce(const char* key, size_t key_size, const char* value, size_t value_size);
  // Serves delivery reports without waiting.
  void Poll();
  // Waits until every message enqueued so far has been acknowledged by the brokers (or has
  // failed: then the broker's error). A transactional producer commits its transaction here
  // and, when `begin_next`, begins the next one.
  absl::Status Flush(bool begin_next = true);
  // Waits until every message enqueued so far has been acknowledged (or has failed), without
  // committing a transaction.
  absl::Status AwaitDelivery();

  uint64_t enqueued() const { return enqueued_; }
  uint64_t delivered() const { return delivered_; }
  const std::string& topic() const { return options_.topic; }
  bool idempotent() const { return idempotent_; }
  bool transactional() const { return !options_.transactional_id.empty(); }

  void OnDelivery(const rd_kafka_message_t& message) override;

 private:
  explicit KafkaProducer(const KafkaProducerOptions& options) : options_(options) {}
  absl::Status TransactionError(rd_kafka_error_t* error, std::string_view what);

  KafkaProducerOptions options_;
  KafkaHandle handle_;
  KafkaTopicHandle topic_;
  bool idempotent_ = true;
  bool in_transaction_ = false;
  uint64_t enqueued_ = 0;
  uint64_t delivered_ = 0;
  absl::Status delivery_error_;  // the first failed delivery
};

// One message as read back by ReadKafkaTopic.
struct KafkaRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;
  std::string value;
  int64_t timestamp = -1;  // epoch ms, -1 if none
};

// Every message of `topic` from the start of each partition up to its end at the time of the
// call (committed transactions only), by partition then offset; no consumer group.
absl::StatusOr<std::vector<KafkaRecord>> ReadKafkaTopic(const std::string& bootstrap_servers,
                                                        const std::string& topic,
                                                        int64_t timeout_millis = 30000);

}  // namespace sluice
