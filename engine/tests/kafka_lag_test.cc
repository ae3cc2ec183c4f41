// Kafka consumer lag per partition (KafkaSource::AppendPartitionLag) against librdkafka's mock
// cluster: records produced, part of them consumed, the lag of each partition is its high
// watermark minus what the source returned, and 0 once everything is read.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <thread>

#include "common/strings.h"
#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/kafka_mock_cluster.h"
#include "connectors/kafka/kafka_source.h"
#include "job_test_harness.h"
#include "server/metrics_exposition.h"

namespace sluice::testing {
namespace {

int64_t TotalLag(const KafkaSource& source, std::map<int32_t, int64_t>* by_partition = nullptr) {
  std::vector<PartitionLag> lag;
  source.AppendPartitionLag(lag);
  int64_t total = 0;
  for (const PartitionLag& partition : lag) {
    EXPECT_EQ(partition.topic, "lagged");
    total += partition.lag;
    if (by_partition != nullptr) (*by_partition)[partition.partition] = partition.lag;
  }
  return total;
}

TEST(KafkaLagTest, LagPerPartitionIsHighWatermarkMinusWhatWasReturned) {
  constexpr int kRecords = 600;
  absl::StatusOr<std::unique_ptr<KafkaMockCluster>> cluster = KafkaMockCluster::Start(1);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->CreateTopic("lagged", 2).ok());
  const std::string bootstrap = (*cluster)->bootstrap_servers();
  {
    KafkaProducerOptions options;
    options.client.bootstrap_servers = bootstrap;
    options.topic = "lagged";
    options.description = "test producer";
    absl::StatusOr<std::unique_ptr<KafkaProducer>> producer = KafkaProducer::Create(options);
    ASSERT_TRUE(producer.ok()) << producer.status();
    ASSERT_TRUE((*producer)->Connect().ok());
    for (int i = 0; i < kRecords; ++i) {
      const std::string key = StrCat("k", i % 7), value = StrCat("record ", i);
      ASSERT_TRUE((*producer)->Produce(key.data(), key.size(), value.data(), value.size()).ok());
    }
    ASSERT_TRUE((*producer)->Flush(false).ok());
  }
  absl::StatusOr<std::vector<KafkaRecord>> produced = ReadKafkaTopic(bootstrap, "lagged");
  ASSERT_TRUE(produced.ok()) << produced.status();
  std::map<int32_t, int64_t> per_partition;  // records, = the high watermark (offsets from 0)
  for (const KafkaRecord& record : *produced) ++per_partition[record.partition];
  ASSERT_EQ(per_partition.size(), 2u) << "the keys should spread over both partitions";

  TemporaryDirectory directory;
  absl::StatusOr<BoundJob> job = BindJobText(
      "CREATE STREAM copy AS SELECT value FROM lagged WITH ('lagged.type' = 'kafka_source', "
      "'lagged.topic' = 'lagged', 'lagged.bootstrap.servers' = '${bootstrap}', 'lagged.format' = 'raw', "
      "'lagged.group.id' = 'lag-test', 'lagged.stop.at.end' = 'false', "
      "'lagged.dead_letter.path' = '${dir}/bad.jsonl', 'copy.type' = 'stdout_sink')",
      {{"bootstrap", bootstrap}, {"dir", directory.path()}});
  ASSERT_TRUE(job.ok()) << job.status();
  auto dead_letters = std::make_shared<DeadLetterWriter>("lagged", directory.File("bad.jsonl"));
  // Small batches: the source returns a few records per Next().
  std::unique_ptr<KafkaSource> source = KafkaSource::Create(job->sources[0], dead_letters, 25, false);
  ASSERT_TRUE(source->Open().ok());
  EXPECT_EQ(TotalLag(*source), 0) << "nothing is published before the first poll batch";

  // Read part of the topic; after each Next() that published (kLagIntervalMillis apart), the
  // lag is what is left to read, partition by partition.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int partial_checks = 0;
  while (partial_checks < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(KafkaSource::kLagIntervalMillis + 50));
    Batch batch;
    absl::StatusOr<bool> more = source->Next(batch);
    ASSERT_TRUE(more.ok()) << more.status();
    const uint64_t read = source->counters().records_read;
    if (read == 0) continue;
    ASSERT_LT(read, static_cast<uint64_t>(kRecords)) << "batches of 25 cannot have read everything yet";
    std::map<int32_t, int64_t> lag;
    const int64_t total = TotalLag(*source, &lag);
    // A partition's lag is known once a fetch from it returned its high watermark; on a busy
    // machine the first batches may all come from one partition. Until both are known there
    // is nothing to compare (the checks below need three reads with both).
    if (lag.size() < 2) continue;
    EXPECT_EQ(total, kRecords - static_cast<int64_t>(read));
    EXPECT_EQ(lag.size(), 2u);
    for (const auto& [partition, behind] : lag) {
      EXPECT_GE(behind, 0);
      EXPECT_LE(behind, per_partition[partition]);
    }
    ++partial_checks;
  }
  ASSERT_EQ(partial_checks, 3) << "the source did not read from both partitions within 60 s";

  // Read the rest: the lag goes to 0 on every partition.
  while (source->counters().records_read < static_cast<uint64_t>(kRecords) &&
         std::chrono::steady_clock::now() < deadline) {
    Batch batch;
    ASSERT_TRUE(source->Next(batch).ok());
  }
  ASSERT_EQ(source->counters().records_read, static_cast<uint64_t>(kRecords));
  std::this_thread::sleep_for(std::chrono::milliseconds(KafkaSource::kLagIntervalMillis + 50));
  Batch batch;
  ASSERT_TRUE(source->Next(batch).ok());
  std::map<int32_t, int64_t> lag;
  EXPECT_EQ(TotalLag(*source, &lag), 0);
  EXPECT_EQ(lag.size(), 2u);
  ASSERT_TRUE(source->Close().ok());
}

// The lag in the Prometheus text: one gauge sample per job and topic partition.
TEST(KafkaLagTest, ExposedAsAGaugePerJobTopicAndPartition) {
  JobMetricsSample job;
  job.job_id = "3";
  job.job_name = "copy";
  job.state = "running";
  job.counters.partition_lag = {{"lagged", 0, 120}, {"lagged", 1, 0}};
  const std::string text = RenderPrometheusText({job}, 0);
  EXPECT_NE(text.find("# TYPE sluice_job_kafkaConsumerLag_records gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nsluice_job_kafkaConsumerLag_records{job_id=\"3\",job_name=\"copy\",topic=\"lagged\","
                      "partition=\"0\"} 120\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nsluice_job_kafkaConsumerLag_records{job_id=\"3\",job_name=\"copy\",topic=\"lagged\","
                      "partition=\"1\"} 0\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace sluice::testing
