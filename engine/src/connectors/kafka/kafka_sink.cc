#include "connectors/kafka/kafka_sink.h"

#include <charconv>
#include <cstring>

#include "common/strings.h"
#include "formats/number_format.h"

namespace sluice {
namespace {

// End of the CSV record starting at `p`: the first '\n' outside double quotes.
const char* CsvRecordEnd(const char* p, const char* end) {
  bool quoted = false;
  for (; p < end; ++p) {
    if (*p == '"') quoted = !quoted;
    if (*p == '\n' && !quoted) return p;
  }
  return end;
}

}  // namespace

KafkaSink::KafkaSink(const SinkDefinition& definition, const Schema& schema)
    : definition_(definition), settings_(definition_.SettingsAs<KafkaSinkSettings>()) {
  if (definition_.format == "csv") {
    encoder_ = MakeCsvEncoder(schema, definition_.csv_delimiter);
    csv_header_pending_ = true;
  } else {
    encoder_ = MakeJsonEncoder(schema);
  }
  if (settings_.key_column >= 0) {
    key_type_ = schema.field(settings_.key_column).type;
    key_name_ = schema.field(settings_.key_column).name;
  }
  key_text_.resize(40);
}

KafkaSink::~KafkaSink() = default;

std::unique_ptr<KafkaSink> KafkaSink::Create(const SinkDefinition& definition, const Schema& schema) {
  return std::unique_ptr<KafkaSink>(new KafkaSink(definition, schema));
}

absl::Status KafkaSink::Open() {
  KafkaProducerOptions options;
  options.client = settings_.client;
  options.topic = settings_.topic;
  options.description = StrCat("sink '", definition_.name, "'");
  if (settings_.exactly_once) options.transactional_id = settings_.transactional_id;
  SLUICE_ASSIGN_OR_RETURN(producer_, KafkaProducer::Create(options));
  return producer_->Connect();
}

absl::Status KafkaSink::Push(const Batch& batch) {
  const size_t rows = batch.active_rows();
  if (rows == 0) return absl::OkStatus();
  text_.clear();
  encoder_->Encode(batch, text_);
  const char* p = text_.data();
  const char* end = p + text_.size();
  if (csv_header_pending_) {
    p = CsvRecordEnd(p, end) + 1;
    csv_header_pending_ = false;
  }
  const bool csv = definition_.format == "csv";
  const Column* keys = settings_.key_column >= 0 ? &batch.column(settings_.key_column) : nullptr;
  for (size_t i = 0; i < rows; ++i) {
    const char* record_end =
        csv ? CsvRecordEnd(p, end)
            : static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    SLUICE_CHECK(record_end != nullptr && record_end < end);  // one line per row
    const char* key = nullptr;
    size_t key_size = 0;
    if (keys != nullptr) {
      const uint32_t row = batch.ActiveRow(i);
      if (keys->IsValid(row)) {
        char* digits = key_text_.data();
        switch (key_type_) {
          case TypeId::kString: {
            const std::string_view text = keys->data<std::string_view>()[row];
            key = text.data() != nullptr ? text.data() : "";
            key_size = text.size();
            break;
          }
          case TypeId::kInt64:
          case TypeId::kTimestamp:
            key_size = std::to_chars(digits, digits + 32, keys->data<int64_t>()[row]).ptr - digits;
            key = digits;
            break;
          case TypeId::kDouble:
            key_size = AppendDouble(keys->data<double>()[row], digits);
            key = digits;
            break;
          case TypeId::kBoolean:
            key = keys->data<uint8_t>()[row] != 0 ? "true" : "false";
            key_size = std::strlen(key);
            break;
          default: break;
        }
      }
    }
    SLUICE_RETURN_IF_ERROR(producer_->Produce(key, key_size, p, static_cast<size_t>(record_end - p)));
    p = record_end + 1;
  }
  producer_->Poll();
  return absl::OkStatus();
}

absl::Status KafkaSink::Flush() {
  if (producer_ == nullptr || finished_) return absl::OkStatus();
  return producer_->Flush(/*begin_next=*/true);
}

absl::Status KafkaSink::Finish() {
  if (producer_ == nullptr || finished_) return absl::OkStatus();
  finished_ = true;
  return producer_->Flush(/*begin_next=*/false);
}

std::string KafkaSink::Describe() const {
  std::string out = StrCat("KafkaSink ", definition_.name, " -> topic ", settings_.topic, " @ ",
                           settings_.client.bootstrap_servers, " (", definition_.format);
  if (settings_.key_column >= 0) StrAppend(&out, ", key ", key_name_);
  bool idempotent = true;
  for (const auto& [key, value] : settings_.client.properties) {
    if (key == "enable.idempotence") idempotent = value == "true";
  }
  StrAppend(&out, settings_.exactly_once ? ", transactional" : idempotent ? ", idempotent" : "", ")");
  return out;
}

}  // namespace sluice
