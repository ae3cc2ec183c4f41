#include "connectors/kafka/kafka_client.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "common/log.h"
#include "common/strings.h"

namespace sluice {
namespace {

// Properties Sluice sets itself, and what to write instead.
struct ManagedProperty {
  const char* key;
  KafkaClientRole role;
  const char* instead;
};
constexpr ManagedProperty kManagedProperties[] = {
    {"bootstrap.servers", KafkaClientRole::kConsumer, "use '<name>.bootstrap.servers'"},
    {"metadata.broker.list", KafkaClientRole::kConsumer, "use '<name>.bootstrap.servers'"},
    {"group.id", KafkaClientRole::kConsumer, "use '<name>.group.id'"},
    {"auto.offset.reset", KafkaClientRole::kConsumer, "use '<name>.auto.offset.reset'"},
    {"enable.auto.commit", KafkaClientRole::kConsumer,
     "Sluice commits offsets itself, at flush points, after the sinks acknowledged the results"},
    {"enable.auto.offset.store", KafkaClientRole::kConsumer,
     "Sluice commits offsets itself, at flush points, after the sinks acknowledged the results"},
    {"enable.partition.eof", KafkaClientRole::kConsumer, "Sluice sets it for '<name>.stop.at.end'"},
    {"bootstrap.servers", KafkaClientRole::kProducer, "use '<name>.bootstrap.servers'"},
    {"metadata.broker.list", KafkaClientRole::kProducer, "use '<name>.bootstrap.servers'"},
    {"transactional.id", KafkaClientRole::kProducer,
     "use '<name>.delivery.guarantee' = 'exactly_once' and '<name>.transactional.id'"},
};

std::string FormatSeconds(int64_t millis) {
  if (millis % 1000 == 0) return StrCat(millis / 1000, " s");
  return StrCat(millis, " ms");
}

}  // namespace

void ForwardKafkaLog(const rd_kafka_t* handle, int level, const char* facility, const char* text) {
  // Every line goes to the log at its level ("librdkafka" component); errors and warnings
  // (syslog levels 0-4) are also kept: the last one explains a failure.
  spdlog::logger& log = Log(LogComponent::kLibrdkafka);
  const spdlog::level::level_enum spdlog_level = LevelOfSyslog(level);
  if (log.should_log(spdlog_level)) {
    log.log(spdlog_level, "{} {}: {}", handle != nullptr ? rd_kafka_name(handle) : "-",
            facility != nullptr ? facility : "", text != nullptr ? text : "");
  }
  if (level > 4 || handle == nullptr) return;
  auto* callbacks = static_cast<KafkaClientCallbacks*>(rd_kafka_opaque(handle));
  if (callbacks != nullptr && text != nullptr) callbacks->RecordProblem(text);
}

namespace {

void ErrorTrampoline(rd_kafka_t* handle, int error, const char* reason, void* opaque) {
  const auto code = static_cast<rd_kafka_resp_err_t>(error);
  // librdkafka reconnects and retries by itself: an error here is a warning unless fatal.
  Log(LogComponent::kKafka)
      .log(code == RD_KAFKA_RESP_ERR__FATAL ? spdlog::level::err : spdlog::level::warn, "{}: {}: {}",
           rd_kafka_name(handle), rd_kafka_err2str(code), reason != nullptr ? reason : "");
  auto* callbacks = static_cast<KafkaClientCallbacks*>(opaque);
  if (callbacks != nullptr) {
    callbacks->RecordProblem(StrCat(rd_kafka_err2str(code), ": ", reason != nullptr ? reason : ""));
  }
}

void RebalanceTrampoline(rd_kafka_t* handle, rd_kafka_resp_err_t error,
                         rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<KafkaClientCallbacks*>(opaque)->OnRebalance(handle, error, partitions);
}

void DeliveryTrampoline(rd_kafka_t* handle, const rd_kafka_message_t* message, void* opaque) {
  static_cast<KafkaClientCallbacks*>(opaque)->OnDelivery(*message);
}

}  // namespace

absl::Status CheckKafkaProperty(KafkaClientRole role, const std::string& key, const std::string& value) {
  for (const ManagedProperty& managed : kManagedProperties) {
    if (managed.role == role && key == managed.key) {
      return absl::InvalidArgumentError(StrCat("'", key, "' is set by Sluice: ", managed.instead));
    }
  }
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  const rd_kafka_conf_res_t result =
      rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof(error));
  rd_kafka_conf_destroy(conf);
  if (result != RD_KAFKA_CONF_OK) return absl::InvalidArgumentError(error);
  return absl::OkStatus();
}

void KafkaClientCallbacks::OnRebalance(rd_kafka_t* handle, rd_kafka_resp_err_t error,
                                       rd_kafka_topic_partition_list_t* partitions) {
  // librdkafka's default behaviour: take what the group assigns, give up what it revokes.
  const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE";
  if (error == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (cooperative) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_assign(handle, partitions)) rd_kafka_error_destroy(e);
    } else {
      rd_kafka_assign(handle, partitions);
    }
  } else if (cooperative) {
    if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(handle, partitions)) rd_kafka_error_destroy(e);
  } else {
    rd_kafka_assign(handle, nullptr);
  }
}

std::string KafkaClientCallbacks::last_problem() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_problem_;
}

void KafkaClientCallbacks::RecordProblem(std::string text) {
  std::lock_guard<std::mutex> lock(mutex_);
  last_problem_ = std::move(text);
}

absl::Status SetKafkaConf(rd_kafka_conf_t* conf, const std::string& key, const std::string& value,
                          std::string_view description) {
  char error[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof(error)) != RD_KAFKA_CONF_OK) {
    return absl::InvalidArgumentError(StrCat(description, ": Kafka property '", key, "': ", error));
  }
  return absl::OkStatus();
}

absl::StatusOr<rd_kafka_conf_t*> MakeKafkaConf(const KafkaClientSettings& settings, KafkaClientRole role,
                                               KafkaClientCallbacks* callbacks,
                                               std::string_view description) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto fail = [&](absl::Status status) {
    rd_kafka_conf_destroy(conf);
    return status;
  };
  if (absl::Status s = SetKafkaConf(conf, "bootstrap.servers", settings.bootstrap_servers, description);
      !s.ok()) {
    return fail(s);
  }
  if (absl::Status s = SetKafkaConf(conf, "client.id", "sluice", description); !s.ok()) return fail(s);
  for (const auto& [key, value] : settings.properties) {
    if (absl::Status s = SetKafkaConf(conf, key, value, description); !s.ok()) return fail(s);
  }
  rd_kafka_conf_set_opaque(conf, callbacks);
  rd_kafka_conf_set_log_cb(conf, ForwardKafkaLog);
  rd_kafka_conf_set_error_cb(conf, ErrorTrampoline);
  if (role == KafkaClientRole::kConsumer) {
    rd_kafka_conf_set_rebalance_cb(conf, RebalanceTrampoline);
  } else {
    rd_kafka_conf_set_dr_msg_cb(conf, DeliveryTrampoline);
  }
  return conf;
}

absl::StatusOr<std::vector<int>> WaitForKafka(rd_kafka_t* handle, const std::vector<std::string>& topics,
                                              int64_t timeout_millis, std::string_view description,
                                              const std::string& bootstrap_servers,
                                              const KafkaClientCallbacks& callbacks) {
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t error = rd_kafka_metadata(handle, 1, nullptr, &metadata,
                                                      static_cast<int>(std::max<int64_t>(timeout_millis, 1)));
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::string problem = callbacks.last_problem();
    if (problem.empty()) problem = rd_kafka_err2str(error);
    return absl::UnavailableError(StrCat(description, ": cannot reach Kafka at ", bootstrap_servers,
                                         " within ", FormatSeconds(timeout_millis), " (", problem, ")"));
  }
  std::vector<int> partitions;
  absl::Status status;
  for (const std::string& topic : topics) {
    const rd_kafka_metadata_topic_t* found = nullptr;
    for (int t = 0; t < metadata->topic_cnt; ++t) {
      if (topic == metadata->topics[t].topic) found = &metadata->topics[t];
    }
    if (found == nullptr || found->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
        found->partition_cnt == 0) {
      status = absl::NotFoundError(StrCat(
          description, ": topic '", topic, "' does not exist on ", bootstrap_servers,
          " (create it first, e.g. sluice kafka-mock --topic ", topic, ":4 for the local mock cluster)"));
      break;
    }
    if (found->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = absl::UnavailableError(StrCat(description, ": topic '", topic, "' on ", bootstrap_servers,
                                             ": ", rd_kafka_err2str(found->err)));
      break;
    }
    partitions.push_back(found->partition_cnt);
  }
  rd_kafka_metadata_destroy(metadata);
  if (!status.ok()) return status;
  return partitions;
}

// --- KafkaProducer --------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<KafkaProducer>> KafkaProducer::Create(const KafkaProducerOptions& options) {
  std::unique_ptr<KafkaProducer> producer(new KafkaProducer(options));
  for (const auto& [key, value] : options.client.properties) {
    if (key == "enable.idempotence") producer->idempotent_ = value == "true";
  }
  SLUICE_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, MakeKafkaConf(options.client, KafkaClientRole::kProducer,
                                                                producer.get(), options.description));
  absl::Status status;
  if (producer->idempotent_ || producer->transactional()) {
    status = SetKafkaConf(conf, "enable.idempotence", "true", options.description);
    producer->idempotent_ = true;
  }
  if (status.ok() && producer->transactional()) {
    status = SetKafkaConf(conf, "transactional.id", options.transactional_id, options.description);
  }
  if (!status.ok()) {
    rd_kafka_conf_destroy(conf);
    return status;
  }
  char error[512];
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (handle == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(
        StrCat(options.description, ": cannot create the Kafka producer: ", error));
  }
  producer->handle_.reset(handle);
  return producer;
}

KafkaProducer::~KafkaProducer() {
  if (handle_ == nullptr) return;
  if (in_transaction_) {
    if (rd_kafka_error_t* error = rd_kafka_abort_transaction(handle_.get(), 5000))
      rd_kafka_error_destroy(error);
  }
  // A run that failed may leave messages queued for an unreachable broker: drop them rather
  // than block until they time out (a successful run has flushed everything).
  if (rd_kafka_outq_len(handle_.get()) > 0) {
    rd_kafka_purge(handle_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(handle_.get(), 0);
  }
}

absl::Status KafkaProducer::Connect() {
  SLUICE_RETURN_IF_ERROR(WaitForKafka(handle_.get(), {options_.topic}, options_.client.connect_timeout_millis,
                                      options_.description, options_.client.bootstrap_servers, *this)
                             .status());
  // Only now: a topic handle makes librdkafka ask for the topic's metadata, which brokers that
  // auto-create topics (the mock does) answer by creating it, and a missing topic is an error.
  topic_.reset(rd_kafka_topic_new(handle_.get(), options_.topic.c_str(), nullptr));
  if (topic_ == nullptr) {
    return absl::InvalidArgumentError(StrCat(options_.description, ": invalid topic '", options_.topic,
                                             "': ", rd_kafka_err2str(rd_kafka_last_error())));
  }
  if (transactional()) {
    const int timeout = static_cast<int>(std::max<int64_t>(options_.client.connect_timeout_millis, 1000));
    if (rd_kafka_error_t* error = rd_kafka_init_transactions(handle_.get(), timeout)) {
      return TransactionError(error, "cannot initialize transactions");
    }
    if (rd_kafka_error_t* error = rd_kafka_begin_transaction(handle_.get())) {
      return TransactionError(error, "cannot begin a transaction");
    }
    in_transaction_ = true;
  }
  return absl::OkStatus();
}

absl::Status KafkaProducer::TransactionError(rd_kafka_error_t* error, std::string_view what) {
  absl::Status status =
      absl::DataLossError(StrCat(options_.description, ": ", what, " (transactional.id '",
                                 options_.transactional_id, "'): ", rd_kafka_error_string(error)));
  rd_kafka_error_destroy(error);
  return status;
}

absl::Status KafkaProducer::Produce(const char* key, size_t key_size, const char* value, size_t value_size) {
  while (true) {
    if (!delivery_error_.ok()) return delivery_error_;
    const int result =
        rd_kafka_produce(topic_.get(), RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, const_cast<char*>(value),
                         value_size, key, key != nullptr ? key_size : 0, nullptr);
    if (result == 0) {
      ++enqueued_;
      return absl::OkStatus();
    }
    const rd_kafka_resp_err_t error = rd_kafka_last_error();
    if (error == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(handle_.get(), 10);  // serve delivery reports until there is room
      continue;
    }
    if (error == RD_KAFKA_RESP_ERR__FATAL) {
      char reason[512];
      rd_kafka_fatal_error(handle_.get(), reason, sizeof(reason));
      return absl::DataLossError(StrCat(options_.description, ": Kafka producer failed: ", reason));
    }
    return absl::DataLossError(StrCat(options_.description, ": cannot produce to topic '", options_.topic,
                                      "': ", rd_kafka_err2str(error)));
  }
}

void KafkaProducer::Poll() {
  rd_kafka_poll(handle_.get(), 0);
}

absl::Status KafkaProducer::Flush(bool begin_next) {
  if (transactional()) {
    if (in_transaction_) {
      // commit_transaction flushes every message of the transaction first; retriable errors
      // (a coordinator moving, a request timing out) are retried.
      for (int attempt = 0;; ++attempt) {
        rd_kafka_error_t* error = rd_kafka_commit_transaction(handle_.get(), 60000);
        if (error == nullptr) break;
        if (rd_kafka_error_is_retriable(error) && attempt < 10) {
          rd_kafka_error_destroy(error);
          continue;
        }
        if (rd_kafka_error_txn_requires_abort(error)) {
          absl::Status status = TransactionError(error, "transaction failed and was aborted");
          if (rd_kafka_error_t* abort = rd_kafka_abort_transaction(handle_.get(), 30000)) {
            rd_kafka_error_destroy(abort);
          }
          in_transaction_ = false;
          return delivery_error_.ok() ? status : delivery_error_;
        }
        in_transaction_ = false;
        return TransactionError(error, "cannot commit the transaction");
      }
      in_transaction_ = false;
    }
    SLUICE_RETURN_IF_ERROR(delivery_error_);
    if (begin_next) {
      if (rd_kafka_error_t* error = rd_kafka_begin_transaction(handle_.get())) {
        return TransactionError(error, "cannot begin a transaction");
      }
      in_transaction_ = true;
    }
    return absl::OkStatus();
  }
  return AwaitDelivery();
}

absl::Status KafkaProducer::AwaitDelivery() {
  // Every message ends with a delivery report (success, or failure after message.timeout.ms),
  // so this loop ends.
  while (rd_kafka_outq_len(handle_.get()) > 0) {
    rd_kafka_flush(handle_.get(), 100);
    char reason[512];
    if (rd_kafka_fatal_error(handle_.get(), reason, sizeof(reason)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::DataLossError(StrCat(options_.description, ": Kafka producer failed: ", reason));
    }
  }
  return delivery_error_;
}

void KafkaProducer::OnDelivery(const rd_kafka_message_t& message) {
  if (message.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++delivered_;
    return;
  }
  if (delivery_error_.ok()) {
    delivery_error_ =
        absl::DataLossError(StrCat(options_.description, ": delivery to topic '", options_.topic,
                                   "' failed: ", rd_kafka_err2str(message.err)));
  }
}

// --- ReadKafkaTopic -------------------------------------------------------------------------

namespace {
class TopicReader final : public KafkaClientCallbacks {};
}  // namespace

absl::StatusOr<std::vector<KafkaRecord>> ReadKafkaTopic(const std::string& bootstrap_servers,
                                                        const std::string& topic, int64_t timeout_millis) {
  const std::string description = StrCat("reading topic '", topic, "'");
  TopicReader callbacks;
  KafkaClientSettings settings;
  settings.bootstrap_servers = bootstrap_servers;
  // rd_kafka_consumer_poll needs a group.id; partitions are assigned directly (no group join)
  // and nothing is committed.
  settings.properties = {
      {"enable.partition.eof", "true"}, {"enable.auto.commit", "false"}, {"group.id", "sluice-topic-reader"}};
  SLUICE_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf,
                          MakeKafkaConf(settings, KafkaClientRole::kConsumer, &callbacks, description));
  char error[512];
  KafkaHandle handle(rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error)));
  if (handle == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(StrCat(description, ": ", error));
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<int> counts, WaitForKafka(handle.get(), {topic}, timeout_millis,
                                                                description, bootstrap_servers, callbacks));
  KafkaPartitionList assignment(rd_kafka_topic_partition_list_new(counts[0]));
  std::map<int32_t, int64_t> ends;  // partition -> end offset still to reach
  for (int32_t p = 0; p < counts[0]; ++p) {
    int64_t low = 0, high = 0;
    const rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(handle.get(), topic.c_str(), p, &low,
                                                                   &high, static_cast<int>(timeout_millis));
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(StrCat(description, ": partition ", p, ": ", rd_kafka_err2str(e)));
    }
    if (high <= low) continue;
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    ends[p] = high;
  }
  std::vector<KafkaRecord> records;
  if (ends.empty()) return records;
  rd_kafka_assign(handle.get(), assignment.get());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_millis);
  while (!ends.empty()) {
    if (std::chrono::steady_clock::now() > deadline) {
      rd_kafka_assign(handle.get(), nullptr);
      return absl::DeadlineExceededError(
          StrCat(description, ": not at its end after ", FormatSeconds(timeout_millis)));
    }
    rd_kafka_message_t* message = rd_kafka_consumer_poll(handle.get(), 100);
    if (message == nullptr) continue;
    const int32_t partition = message->partition;
    int64_t next = -1;
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      next = message->offset;
    } else if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      KafkaRecord record;
      record.partition = partition;
      record.offset = message->offset;
      if (message->key != nullptr)
        record.key.emplace(static_cast<const char*>(message->key), message->key_len);
      if (message->payload != nullptr)
        record.value.assign(static_cast<const char*>(message->payload), message->len);
      record.timestamp = rd_kafka_message_timestamp(message, nullptr);
      records.push_back(std::move(record));
      next = message->offset + 1;
    }
    rd_kafka_message_destroy(message);
    auto end = ends.find(partition);
    if (next >= 0 && end != ends.end() && next >= end->second) ends.erase(end);
  }
  rd_kafka_assign(handle.get(), nullptr);
  std::sort(records.begin(), records.end(), [](const KafkaRecord& a, const KafkaRecord& b) {
    return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
  });
  return records;
}

}  // namespace sluice
