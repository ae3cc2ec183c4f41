#include "connectors/kafka/kafka_sink.h"

#include <charconv>
#include <cstring>

#include "common/strings.h"
#include "types/decimal.h"
#include "types/number_format.h"

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
  key_text_.resize(kMaxDecimalChars);  // the longest number key: a DECIMAL
  if (definition_.changelog_mode == ChangelogMode::kChangelog ||
      (definition_.changelog_mode == ChangelogMode::kUpsert && definition_.format == "json")) {
    change_encoder_ =
        std::make_unique<ChangeEncoder>(schema, definition_.changelog_mode, definition_.upsert_key_columns);
  }
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

void KafkaSink::KeyText(const Column& keys, uint32_t row, const char*& key, size_t& key_size) {
  key = nullptr;
  key_size = 0;
  if (!keys.IsValid(row)) return;
  char* digits = key_text_.data();
  if (IsDecimal(key_type_)) {
    key_size = FormatDecimal(keys.DecimalAt(row), DecimalScale(key_type_), digits);
    key = digits;
    return;
  }
  switch (key_type_) {
    case TypeId::kString: {
      const std::string_view text = keys.data<std::string_view>()[row];
      key = text.data() != nullptr ? text.data() : "";
      key_size = text.size();
      break;
    }
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      key_size = std::to_chars(digits, digits + 32, keys.data<int64_t>()[row]).ptr - digits;
      key = digits;
      break;
    case TypeId::kDouble:
      key_size = AppendDouble(keys.data<double>()[row], digits);
      key = digits;
      break;
    case TypeId::kBoolean:
      key = keys.data<uint8_t>()[row] != 0 ? "true" : "false";
      key_size = std::strlen(key);
      break;
    default: break;
  }
}

absl::Status KafkaSink::PushChanges(const Batch& batch) {
  text_.clear();
  change_encoder_->Encode(batch, text_, &records_);
  return ProduceChanges(&batch);
}

absl::Status KafkaSink::ProduceChanges(const Batch* batch) {
  const Column* keys =
      settings_.key_column >= 0 && batch != nullptr ? &batch->column(settings_.key_column) : nullptr;
  const std::string& row_keys = change_encoder_->record_keys();
  for (const ChangeEncoder::Record& record : records_) {
    const char* key = nullptr;
    size_t key_size = 0;
    if (settings_.key_column >= 0) {
      if (record.row >= 0 && keys != nullptr) {
        KeyText(*keys, static_cast<uint32_t>(record.row), key, key_size);
      } else if (pending_has_key_) {
        key = pending_key_.data();  // the update-before that ended the previous batch
        key_size = pending_key_.size();
      }
    } else if (definition_.changelog_mode == ChangelogMode::kUpsert) {
      key = row_keys.data() + record.key_begin;  // the row key as a JSON object
      key_size = record.key_end - record.key_begin;
    }
    const char* value = record.tombstone ? nullptr : text_.data() + record.begin;
    const size_t value_size = record.tombstone ? 0 : record.end - record.begin;
    SLUICE_RETURN_IF_ERROR(Send(key, key_size, value, value_size));
  }
  // An update-before that waits for the next batch: keep its message key.
  pending_has_key_ = false;
  if (batch != nullptr && keys != nullptr && change_encoder_->pending() && batch->active_rows() > 0) {
    const char* key = nullptr;
    size_t key_size = 0;
    KeyText(*keys, batch->ActiveRow(batch->active_rows() - 1), key, key_size);
    if (key != nullptr) {
      pending_key_.assign(key, key_size);
      pending_has_key_ = true;
    }
  }
  producer_->Poll();
  return absl::OkStatus();
}

absl::Status KafkaSink::Push(const Batch& batch) {
  const size_t rows = batch.active_rows();
  if (rows == 0) return absl::OkStatus();
  if (change_encoder_ != nullptr) return PushChanges(batch);
  if (definition_.changelog_mode == ChangelogMode::kUpsert && batch.has_row_kinds()) {
    SelectUpserts(batch, kept_rows_);
    absl::Status status = PushRows(kept_rows_);
    kept_rows_.Release();
    return status;
  }
  return PushRows(batch);
}

absl::Status KafkaSink::PushRows(const Batch& batch) {
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
    if (keys != nullptr) KeyText(*keys, batch.ActiveRow(i), key, key_size);
    SLUICE_RETURN_IF_ERROR(Send(key, key_size, p, static_cast<size_t>(record_end - p)));
    p = record_end + 1;
  }
  producer_->Poll();
  return absl::OkStatus();
}

absl::Status KafkaSink::Send(const char* key, size_t key_size, const char* value, size_t value_size) {
  if (sealed_ == 0) return producer_->Produce(key, key_size, value, value_size);
  HeldMessage& held = held_.emplace_back();
  held.has_key = key != nullptr;
  held.tombstone = value == nullptr;
  held.key_begin = held_bytes_.size();
  held.key_size = held.has_key ? key_size : 0;
  held_bytes_.append(key != nullptr ? key : "", held.key_size);
  held.value_begin = held_bytes_.size();
  held.value_size = held.tombstone ? 0 : value_size;
  held_bytes_.append(value != nullptr ? value : "", held.value_size);
  return absl::OkStatus();
}

absl::Status KafkaSink::SendHeld() {
  for (const HeldMessage& held : held_) {
    SLUICE_RETURN_IF_ERROR(producer_->Produce(
        held.has_key ? held_bytes_.data() + held.key_begin : nullptr, held.key_size,
        held.tombstone ? nullptr : held_bytes_.data() + held.value_begin, held.value_size));
  }
  held_.clear();
  held_bytes_.clear();
  producer_->Poll();
  return absl::OkStatus();
}

absl::Status KafkaSink::Flush() {
  if (producer_ == nullptr || finished_) return absl::OkStatus();
  if (two_phase_) return producer_->AwaitDelivery();  // the transaction commits in Commit()
  return producer_->Flush(/*begin_next=*/true);
}

bool KafkaSink::EnableTwoPhaseCommit(bool periodic) {
  // A transaction per checkpoint needs periodic checkpoints: with only a savepoint at the stop
  // it would stay open for the whole run (and time out); flush points commit instead.
  two_phase_ = settings_.exactly_once && periodic;
  return two_phase_;
}

absl::Status KafkaSink::PreCommit(uint64_t checkpoint) {
  if (!two_phase_) return absl::OkStatus();
  // Flush() ran just before: everything sent is acknowledged, inside the open transaction.
  sealed_ = checkpoint;
  return absl::OkStatus();
}

absl::Status KafkaSink::Commit(uint64_t checkpoint) {
  if (!two_phase_ || producer_ == nullptr) return absl::OkStatus();
  if (checkpoint == kEndOfRun) {
    // The run is over: the held rows join the open transaction, which commits.
    sealed_ = 0;
    SLUICE_RETURN_IF_ERROR(SendHeld());
    return producer_->Flush(/*begin_next=*/false);
  }
  if (sealed_ == 0 || checkpoint < sealed_) return absl::OkStatus();
  SLUICE_RETURN_IF_ERROR(producer_->Flush(/*begin_next=*/true));
  sealed_ = 0;
  return SendHeld();
}

absl::Status KafkaSink::Finish() {
  if (producer_ == nullptr || finished_) return absl::OkStatus();
  if (change_encoder_ != nullptr && change_encoder_->pending()) {
    text_.clear();
    change_encoder_->Finish(text_, &records_);
    SLUICE_RETURN_IF_ERROR(ProduceChanges(nullptr));
  }
  finished_ = true;
  // Two-phase: delivered but not committed; Commit(kEndOfRun) commits when the run ended well,
  // and a cancelled or failed run leaves it to the producer's destructor to abort.
  if (two_phase_) return producer_->AwaitDelivery();
  return producer_->Flush(/*begin_next=*/false);
}

absl::Status KafkaSink::Snapshot(StateWriter& writer) const {
  writer.WriteU8(1);  // version
  writer.WriteU8(change_encoder_ != nullptr ? 1 : 0);
  if (change_encoder_ != nullptr) change_encoder_->Snapshot(writer);
  writer.WriteU8(pending_has_key_ ? 1 : 0);
  writer.WriteBytes(pending_key_);
  return absl::OkStatus();
}

absl::Status KafkaSink::Restore(StateReader& reader) {
  SLUICE_ASSIGN_OR_RETURN(const uint8_t version, reader.ReadU8());
  if (version != 1)
    return absl::DataLossError(StrCat("Kafka sink snapshot version ", version, " is unknown"));
  SLUICE_ASSIGN_OR_RETURN(const uint8_t has_encoder, reader.ReadU8());
  if ((has_encoder == 1) != (change_encoder_ != nullptr)) {
    return absl::FailedPreconditionError(
        StrCat("sink '", definition_.name, "': the checkpoint was taken with another changelog mode"));
  }
  if (change_encoder_ != nullptr) SLUICE_RETURN_IF_ERROR(change_encoder_->Restore(reader));
  SLUICE_ASSIGN_OR_RETURN(const uint8_t has_key, reader.ReadU8());
  SLUICE_ASSIGN_OR_RETURN(const std::string_view key, reader.ReadBytes());
  pending_has_key_ = has_key == 1;
  pending_key_.assign(key);
  return absl::OkStatus();
}

std::string KafkaSink::Describe(std::string_view name) const {
  std::string out = StrCat("KafkaSink", name.empty() ? "" : StrCat(" ", name), " -> topic ", settings_.topic,
                           " @ ", settings_.client.bootstrap_servers, " (", definition_.format);
  if (settings_.key_column >= 0) StrAppend(&out, ", key ", key_name_);
  if (definition_.changelog_mode == ChangelogMode::kChangelog) StrAppend(&out, ", changelog");
  if (definition_.changelog_mode == ChangelogMode::kUpsert && change_encoder_ != nullptr)
    StrAppend(&out, ", upsert");
  bool idempotent = true;
  for (const auto& [key, value] : settings_.client.properties) {
    if (key == "enable.idempotence") idempotent = value == "true";
  }
  StrAppend(&out, settings_.exactly_once ? ", transactional" : idempotent ? ", idempotent" : "", ")");
  return out;
}

}  // namespace sluice
