#include "connectors/kafka/kafka_mock_cluster.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "common/strings.h"

namespace sluice {
namespace {
// The mock logs through its owning client; keep librdkafka's chatter off stderr.
void QuietLog(const rd_kafka_t*, int, const char*, const char*) {}
}  // namespace

absl::StatusOr<std::unique_ptr<KafkaMockCluster>> KafkaMockCluster::Start(int brokers) {
  if (brokers < 1 || brokers > 64) {
    return absl::InvalidArgumentError(StrCat("a mock cluster needs 1 to 64 brokers, not ", brokers));
  }
  std::unique_ptr<KafkaMockCluster> cluster(new KafkaMockCluster());
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, QuietLog);
  char error[512];
  cluster->handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (cluster->handle_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(StrCat("cannot create the mock cluster's client: ", error));
  }
  cluster->cluster_ = rd_kafka_mock_cluster_new(cluster->handle_, brokers);
  if (cluster->cluster_ == nullptr) {
    return absl::InternalError("cannot start the mock cluster (no loopback sockets?)");
  }
  cluster->brokers_ = brokers;
  cluster->bootstrap_servers_ = rd_kafka_mock_cluster_bootstraps(cluster->cluster_);
  return cluster;
}

KafkaMockCluster::~KafkaMockCluster() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  if (handle_ != nullptr) rd_kafka_destroy(handle_);
}

absl::Status KafkaMockCluster::CreateTopic(const std::string& topic, int partitions) {
  if (partitions < 1 || partitions > 10000) {
    return absl::InvalidArgumentError(
        StrCat("topic '", topic, "': the partition count must be 1 to 10000, not ", partitions));
  }
  const rd_kafka_resp_err_t error = rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InvalidArgumentError(StrCat("cannot create topic '", topic, "': ", rd_kafka_err2str(error)));
  }
  return absl::OkStatus();
}

absl::Status KafkaMockCluster::SetBrokerDown(int32_t broker_id) {
  const rd_kafka_resp_err_t error = rd_kafka_mock_broker_set_down(cluster_, broker_id);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InvalidArgumentError(StrCat("broker ", broker_id, ": ", rd_kafka_err2str(error)));
  }
  return absl::OkStatus();
}

absl::Status KafkaMockCluster::SetBrokerUp(int32_t broker_id) {
  const rd_kafka_resp_err_t error = rd_kafka_mock_broker_set_up(cluster_, broker_id);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InvalidArgumentError(StrCat("broker ", broker_id, ": ", rd_kafka_err2str(error)));
  }
  return absl::OkStatus();
}

void KafkaMockCluster::PushRequestErrors(int16_t api_key, const std::vector<int>& errors) {
  std::vector<rd_kafka_resp_err_t> codes;
  for (int error : errors) codes.push_back(static_cast<rd_kafka_resp_err_t>(error));
  rd_kafka_mock_push_request_errors_array(cluster_, api_key, codes.size(), codes.data());
}

void KafkaMockCluster::ClearRequestErrors(int16_t api_key) {
  rd_kafka_mock_clear_request_errors(cluster_, api_key);
}

}  // namespace sluice
