#include "connectors/kafka/kafka_record_decoder.h"

#include "common/status.h"
#include "connectors/kafka/kafka_settings.h"

namespace sluice {

KafkaRecordDecoder::KafkaRecordDecoder(const SourceDefinition& definition)
    : data_columns_(definition.decoder.schema.size()),
      total_columns_(definition.schema.size()),
      field_time_(definition.decoder.event_time_field >= 0) {}

absl::StatusOr<std::unique_ptr<KafkaRecordDecoder>> KafkaRecordDecoder::Create(
    const SourceDefinition& definition) {
  definition.SettingsAs<KafkaSourceSettings>();  // REQUIRES: a bound Kafka source
  SLUICE_CHECK_EQ(definition.schema.size(), definition.decoder.schema.size() + 5);
  std::unique_ptr<KafkaRecordDecoder> decoder(new KafkaRecordDecoder(definition));
  if (definition.format == "json") {
    SLUICE_ASSIGN_OR_RETURN(decoder->decoder_, MakeJsonDecoder(definition.decoder));
  } else if (definition.format == "csv") {
    SLUICE_ASSIGN_OR_RETURN(decoder->decoder_, MakeCsvDecoder(definition.decoder));
  } else {
    SLUICE_CHECK(definition.format == "raw");
  }
  return decoder;
}

void KafkaRecordDecoder::Decode(std::span<const KafkaMessageView> messages, Batch& out,
                                std::vector<RecordError>& errors) {
  const size_t count = messages.size();
  rows_.clear();
  if (count == 0) {
    out.Reset(0, 0);  // nothing arrived: an empty batch (see source.h)
    return;
  }
  payloads_.clear();
  for (const KafkaMessageView& message : messages) {
    payloads_.emplace_back(message.payload, message.payload != nullptr ? message.payload_size : 0);
  }
  std::shared_ptr<Column> raw_values;
  if (decoder_ != nullptr) {
    const size_t first_error = errors.size();
    decoder_->Decode(payloads_, 0, decoded_, errors);
    size_t next_error = first_error;
    for (uint32_t i = 0; i < count; ++i) {
      if (next_error < errors.size() && errors[next_error].line == i) {
        ++next_error;
        continue;
      }
      rows_.push_back(i);
    }
  } else {
    // raw: the payload is the single STRING column 'value'.
    raw_values = value_pool_.Acquire(count);
    auto* values = raw_values->data<std::string_view>();
    uint8_t* valid = raw_values->validity();
    for (uint32_t i = 0; i < count; ++i) {
      rows_.push_back(i);
      if (messages[i].payload == nullptr) {
        values[i] = {};
        valid[i] = 0;
      } else {
        values[i] = raw_values->heap().Add(payloads_[i]);
        valid[i] = 1;
      }
    }
  }

  const size_t rows = rows_.size();
  std::shared_ptr<Column> keys = key_pool_.Acquire(rows);
  std::shared_ptr<Column> partition_numbers = partition_pool_.Acquire(rows);
  std::shared_ptr<Column> offsets = offset_pool_.Acquire(rows);
  std::shared_ptr<Column> timestamps = timestamp_pool_.Acquire(rows);
  auto* key_values = keys->data<std::string_view>();
  uint8_t* key_valid = keys->validity();
  int64_t* partition_values = partition_numbers->data<int64_t>();
  int64_t* offset_values = offsets->data<int64_t>();
  int64_t* timestamp_values = timestamps->data<int64_t>();
  uint8_t* timestamp_valid = timestamps->validity();
  partition_numbers->SetAllValid(rows);
  offsets->SetAllValid(rows);
  for (size_t r = 0; r < rows; ++r) {
    const KafkaMessageView& message = messages[rows_[r]];
    if (message.key == nullptr) {
      key_values[r] = {};
      key_valid[r] = 0;
    } else {
      key_values[r] = keys->heap().Add(std::string_view(message.key, message.key_size));
      key_valid[r] = 1;
    }
    partition_values[r] = message.partition;
    offset_values[r] = message.offset;
    timestamp_values[r] = message.timestamp >= 0 ? message.timestamp : 0;
    timestamp_valid[r] = message.timestamp >= 0 ? 1 : 0;
  }

  out.Reset(total_columns_, rows);
  size_t column = 0;
  if (decoder_ != nullptr) {
    for (; column < data_columns_; ++column) out.SetColumn(column, decoded_.shared_column(column));
  } else {
    out.SetColumn(column++, raw_values);
  }
  out.SetColumn(column++, keys);
  out.SetColumn(column++, partition_numbers);
  out.SetColumn(column++, offsets);
  out.SetColumn(column++, timestamps);
  // _event_time: the decoder's event-time column, or the Kafka timestamp itself.
  out.SetColumn(column++, field_time_ ? decoded_.shared_column(data_columns_) : timestamps);
  decoded_.Release();
}

}  // namespace sluice
