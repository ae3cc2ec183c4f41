// fuzz_kafka_message: the path a Kafka message's payload and key take into a batch
// (KafkaRecordDecoder, exactly what KafkaSource::Next runs on each poll batch), without a
// broker. The input format is described in kafka_message_input.h; the four sources (JSON
// with an event time field, JSON on the Kafka timestamp, CSV, raw) are bound once from a
// fixed job with declared schemas, one column of every type.
//
// Each key and payload is copied into an allocation of exactly its size, as separate buffers
// from librdkafka would be, so that AddressSanitizer catches a read past a message's end (the
// JSON decoder is promised no padding here).
//
// What it proves, for any poll batch: every message either becomes a row or comes back as a
// RecordError naming its index (the dead-letter path), never a crash, an out-of-bounds access
// or undefined behaviour; rows keep message order and carry their own message's key,
// partition, offset and timestamp; and each batch satisfies CheckBatchInvariants.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "batch_invariants.h"
#include "connectors/kafka/kafka_record_decoder.h"
#include "kafka_message_input.h"
#include "plan/binder.h"
#include "sql/parser.h"

namespace sluice::fuzz {
namespace {

constexpr const char* kJob =
    "SELECT * FROM j; SELECT * FROM k; SELECT * FROM c; SELECT * FROM r\n"
    "WITH ('j.type' = 'kafka_source', 'j.topic' = 'x', 'j.bootstrap.servers' = 'localhost:9092', "
    "'j.schema' = 'b BOOLEAN, i BIGINT, d DOUBLE, s STRING, t TIMESTAMP', 'j.event.time.field' = 't', "
    "'k.type' = 'kafka_source', 'k.topic' = 'x', 'k.bootstrap.servers' = 'localhost:9092', "
    "'k.schema' = 'b BOOLEAN, i BIGINT, d DOUBLE, s STRING, t TIMESTAMP', "
    "'c.type' = 'kafka_source', 'c.topic' = 'x', 'c.bootstrap.servers' = 'localhost:9092', 'c.format' = "
    "'csv', "
    "'c.schema' = 'b BOOLEAN, i BIGINT, d DOUBLE, s STRING, t TIMESTAMP', 'c.event.time.field' = 't', "
    "'r.type' = 'kafka_source', 'r.topic' = 'x', 'r.bootstrap.servers' = 'localhost:9092', 'r.format' = "
    "'raw')";

const BoundJob& Job() {
  static const BoundJob* job = [] {
    absl::StatusOr<ParsedJob> parsed = ParseJob(kJob);
    BindOptions options;
    options.read_files = false;
    absl::StatusOr<BoundJob> bound = parsed.ok() ? BindJob(std::move(*parsed), options) : parsed.status();
    if (!bound.ok()) {
      std::fprintf(stderr, "fuzz_kafka_message: the fixed job does not bind: %s\n",
                   std::string(bound.status().message()).c_str());
      std::abort();
    }
    return new BoundJob(std::move(*bound));
  }();
  return *job;
}

// A copy of `bytes` in an allocation of exactly its size.
const char* ExactCopy(std::string_view bytes, std::vector<std::unique_ptr<char[]>>& owned) {
  owned.emplace_back(new char[bytes.size()]);
  if (!bytes.empty()) std::memcpy(owned.back().get(), bytes.data(), bytes.size());
  return owned.back().get();
}

}  // namespace
}  // namespace sluice::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  using namespace sluice::fuzz;
  if (size < 1) return 0;
  const SourceDefinition& source = Job().sources[data[0] & 3];
  const size_t batch_size = kKafkaBatchSizes[(data[0] >> 2) & 3];
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::vector<std::unique_ptr<char[]>> owned;
  std::vector<KafkaMessageView> messages;
  for (size_t start = 0; !rest.empty() && start <= rest.size();) {
    size_t end = rest.find(kMessageSeparator, start);
    if (end == std::string_view::npos) end = rest.size();
    std::string_view message = rest.substr(start, end - start);
    start = end + 1;
    const int64_t i = static_cast<int64_t>(messages.size());
    KafkaMessageView view;
    if (const size_t separator = message.find(kKeySeparator); separator != std::string_view::npos) {
      view.key = ExactCopy(message.substr(0, separator), owned);
      view.key_size = separator;
      message.remove_prefix(separator + 1);
    }
    if (message != kNoPayload) {
      view.payload = ExactCopy(message, owned);
      view.payload_size = message.size();
    }
    view.partition = static_cast<int32_t>(i % 3);
    view.offset = 100 + i;
    view.timestamp = i % 5 == 4 ? -1 : 1000 * i;
    messages.push_back(view);
  }

  absl::StatusOr<std::unique_ptr<KafkaRecordDecoder>> decoder = KafkaRecordDecoder::Create(source);
  if (!decoder.ok()) __builtin_trap();
  std::vector<TypeId> types;
  for (const Field& field : source.schema.fields()) types.push_back(field.type);
  const size_t offset_column = types.size() - 3;  // ..., _key, _partition, _offset, _timestamp, _event_time

  Batch out;
  std::vector<RecordError> errors;
  size_t begin = 0;
  do {  // an empty poll batch is decoded too
    const size_t count = std::min(batch_size, messages.size() - begin);
    const std::span<const KafkaMessageView> batch(messages.data() + begin, count);
    errors.clear();
    (*decoder)->Decode(batch, out, errors);
    const std::vector<uint32_t>& rows = (*decoder)->rows();
    if (rows.size() != out.num_rows() || rows.size() + errors.size() != count) __builtin_trap();
    if (count == 0) {
      if (out.num_columns() != 0) __builtin_trap();
      break;
    }
    // rows() and the errors' lines partition [0, count), each in increasing order.
    size_t next_row = 0, next_error = 0;
    for (uint32_t m = 0; m < count; ++m) {
      if (next_row < rows.size() && rows[next_row] == m) {
        if (out.column(offset_column).data<int64_t>()[next_row] != batch[m].offset) __builtin_trap();
        ++next_row;
      } else if (next_error < errors.size() && errors[next_error].line == m) {
        ++next_error;
      } else {
        __builtin_trap();
      }
    }
    CheckBatchInvariants(out, types);
    begin += count;
  } while (begin < messages.size());
  return 0;
}
