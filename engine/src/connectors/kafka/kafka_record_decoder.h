// KafkaRecordDecoder: a poll batch of Kafka messages to the source's columnar batch, with no
// librdkafka object involved, so that the decoding of what a broker sends is testable (and
// fuzzable: engine/fuzz/fuzz_kafka_message.cc) without a broker.
//
// Each message is one record: JSON, CSV (no header line; declared schema) or raw (the payload
// as the single STRING column 'value', NULL without a payload). The batch holds the source's
// columns (SourceDefinition::schema): the declared ones, then the system columns _key (STRING,
// NULL without a key), _partition, _offset (BIGINT), _timestamp (TIMESTAMP, NULL when the
// message has none) and _event_time: the event time field when one is set, otherwise the
// Kafka timestamp. A message that does not decode is left out of the batch and reported.
//
// No allocation per message once the pools have grown to the batch size. Not thread-safe: one
// decoder per source.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "batch/batch.h"
#include "catalog/connector_definition.h"
#include "formats/record_format.h"

namespace sluice {

// One message as the decoder sees it: views of librdkafka's buffers (or any bytes).
struct KafkaMessageView {
  const char* payload = nullptr;  // null: the message has no payload
  size_t payload_size = 0;
  const char* key = nullptr;  // null: the message has no key
  size_t key_size = 0;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp = -1;  // epoch ms; negative: none
};

class KafkaRecordDecoder {
 public:
  // REQUIRES: `definition` is a bound Kafka source (format json, csv or raw).
  static absl::StatusOr<std::unique_ptr<KafkaRecordDecoder>> Create(const SourceDefinition& definition);

  // Decodes `messages` into `out` (valid until the next call): one row per message that
  // decodes, in order, with the source's columns; none at all (zero columns) when `messages`
  // is empty. Each message that does not decode is appended to `errors`, its `line` being the
  // message's index in `messages`. rows() then lists the message index of each row of `out`.
  void Decode(std::span<const KafkaMessageView> messages, Batch& out, std::vector<RecordError>& errors);
  const std::vector<uint32_t>& rows() const { return rows_; }

 private:
  explicit KafkaRecordDecoder(const SourceDefinition& definition);

  size_t data_columns_;                     // the declared columns ('value' when raw)
  size_t total_columns_;                    // data_columns_ + the five system columns
  bool field_time_;                         // _event_time comes from the decoder's event time column
  std::unique_ptr<RecordDecoder> decoder_;  // null when raw
  std::vector<std::string_view> payloads_;
  std::vector<uint32_t> rows_;
  Batch decoded_;
  ColumnPool value_pool_{TypeId::kString};
  ColumnPool key_pool_{TypeId::kString};
  ColumnPool partition_pool_{TypeId::kInt64};
  ColumnPool offset_pool_{TypeId::kInt64};
  ColumnPool timestamp_pool_{TypeId::kTimestamp};
};

}  // namespace sluice
