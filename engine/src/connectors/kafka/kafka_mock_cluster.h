// KafkaMockCluster: librdkafka's mock cluster (rdkafka_mock.h), a Kafka broker set that speaks
// the real wire protocol on loopback sockets, inside the calling process. Other processes
// (a second `sluice`, kcat) reach it at bootstrap_servers() like any cluster. It keeps messages
// in memory and supports produce, fetch, consumer groups, offset commits, idempotent and
// transactional producers. Used by `sluice kafka-mock`, the Kafka tests and the benchmark lab.
//
// Not a real broker: no persistence, no replication (a partition whose leader is set down is
// unavailable until it is set up again), topics auto-created on first produce get 4 partitions.
// Thread-safe as librdkafka's mock API is (the cluster runs on its own thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace sluice {

class KafkaMockCluster {
 public:
  // Starts `brokers` brokers (ids 1..brokers) on loopback ports chosen by the system.
  static absl::StatusOr<std::unique_ptr<KafkaMockCluster>> Start(int brokers = 1);
  ~KafkaMockCluster();
  KafkaMockCluster(const KafkaMockCluster&) = delete;
  KafkaMockCluster& operator=(const KafkaMockCluster&) = delete;

  // "127.0.0.1:port,..." for bootstrap.servers.
  const std::string& bootstrap_servers() const { return bootstrap_servers_; }
  int brokers() const { return brokers_; }

  // Creates `topic` with `partitions` partitions, leaders spread over the brokers.
  absl::Status CreateTopic(const std::string& topic, int partitions);

  // A broker that is down drops its connections and refuses new ones; its partitions and (if
  // it is the coordinator) its consumer groups are unavailable until it is up again.
  absl::Status SetBrokerDown(int32_t broker_id);
  absl::Status SetBrokerUp(int32_t broker_id);
  // The next `errors.size()` requests of `api_key` (e.g. 0 = Produce, 1 = Fetch, 8 =
  // OffsetCommit) to any broker fail with these Kafka error codes, in order.
  void PushRequestErrors(int16_t api_key, const std::vector<int>& errors);
  // Drops the errors still queued for requests of `api_key`.
  void ClearRequestErrors(int16_t api_key);

 private:
  KafkaMockCluster() = default;

  rd_kafka_s* handle_ = nullptr;  // the client the cluster belongs to
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  std::string bootstrap_servers_;
  int brokers_ = 0;
};

}  // namespace sluice
