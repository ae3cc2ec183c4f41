// KafkaRecordDecoder: Kafka messages to a source's batch without a broker: declared columns,
// then _key, _partition, _offset, _timestamp and _event_time; bad messages reported by index.
#include "connectors/kafka/kafka_record_decoder.h"

#include <gtest/gtest.h>

#include "plan/binder.h"
#include "sql/parser.h"

namespace sluice {
namespace {

BoundJob BindKafkaSource(const std::string& properties) {
  auto parsed = ParseJob(
      "SELECT * FROM t WITH ('t.type' = 'kafka_source', 't.topic' = 'x', "
      "'t.bootstrap.servers' = 'localhost:9092'" +
      properties + ")");
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  BindOptions options;
  options.read_files = false;
  auto job = BindJob(std::move(*parsed), options);
  EXPECT_TRUE(job.ok()) << job.status().message();
  return std::move(*job);
}

KafkaMessageView Message(const char* payload, const char* key, int64_t offset, int64_t timestamp) {
  return KafkaMessageView{payload,  payload != nullptr ? std::strlen(payload) : 0,
                          key,      key != nullptr ? std::strlen(key) : 0,
                          3,        offset,
                          timestamp};
}

TEST(KafkaRecordDecoderTest, JsonMessagesGetSystemColumnsAndBadOnesAreReportedByIndex) {
  const BoundJob job = BindKafkaSource(", 't.schema' = 'id BIGINT, ts TIMESTAMP', 'event.time.field' = 'ts'");
  auto decoder = KafkaRecordDecoder::Create(job.sources[0]);
  ASSERT_TRUE(decoder.ok()) << decoder.status().message();
  const std::vector<KafkaMessageView> messages = {
      Message(R"({"id":1,"ts":1000})", "k1", 10, 5000),
      Message(R"({"id":)", "k2", 11, 6000),  // malformed
      Message(R"({"id":3,"ts":3000})", nullptr, 12, -1),
  };
  Batch out;
  std::vector<RecordError> errors;
  (*decoder)->Decode(messages, out, errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].line, 1u);
  EXPECT_EQ((*decoder)->rows(), (std::vector<uint32_t>{0, 2}));
  ASSERT_EQ(out.num_rows(), 2u);
  ASSERT_EQ(out.num_columns(), 7u);  // id, ts, _key, _partition, _offset, _timestamp, _event_time
  EXPECT_EQ(out.column(0).data<int64_t>()[1], 3);
  EXPECT_EQ(out.column(2).data<std::string_view>()[0], "k1");
  EXPECT_EQ(out.column(2).validity()[1], 0);  // no key: NULL
  EXPECT_EQ(out.column(3).data<int64_t>()[0], 3);
  EXPECT_EQ(out.column(4).data<int64_t>()[1], 12);
  EXPECT_EQ(out.column(5).data<int64_t>()[0], 5000);
  EXPECT_EQ(out.column(5).validity()[1], 0);          // no Kafka timestamp: NULL
  EXPECT_EQ(out.column(6).data<int64_t>()[1], 3000);  // the event time field
}

TEST(KafkaRecordDecoderTest, RawPayloadIsTheValueColumnAndATombstoneIsNull) {
  const BoundJob job = BindKafkaSource(", 't.format' = 'raw'");
  auto decoder = KafkaRecordDecoder::Create(job.sources[0]);
  ASSERT_TRUE(decoder.ok()) << decoder.status().message();
  const std::vector<KafkaMessageView> messages = {Message("a,b", "k", 0, 7), Message(nullptr, "k", 1, 8)};
  Batch out;
  std::vector<RecordError> errors;
  (*decoder)->Decode(messages, out, errors);
  EXPECT_TRUE(errors.empty());
  ASSERT_EQ(out.num_rows(), 2u);
  ASSERT_EQ(out.num_columns(), 6u);
  EXPECT_EQ(out.column(0).data<std::string_view>()[0], "a,b");
  EXPECT_EQ(out.column(0).validity()[1], 0);
  EXPECT_EQ(out.column(5).data<int64_t>()[1], 8);  // _event_time: the Kafka timestamp
}

TEST(KafkaRecordDecoderTest, NoMessagesGiveAnEmptyBatch) {
  const BoundJob job = BindKafkaSource(", 't.format' = 'csv', 't.schema' = 'a STRING'");
  auto decoder = KafkaRecordDecoder::Create(job.sources[0]);
  ASSERT_TRUE(decoder.ok()) << decoder.status().message();
  Batch out;
  std::vector<RecordError> errors;
  (*decoder)->Decode({}, out, errors);
  EXPECT_EQ(out.num_rows(), 0u);
  EXPECT_EQ(out.num_columns(), 0u);
  EXPECT_TRUE((*decoder)->rows().empty());
}

}  // namespace
}  // namespace sluice
