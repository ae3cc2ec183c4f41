// The input format of fuzz_kafka_message: a poll batch of Kafka messages as one byte string,
// parsed by the target and written by the test that makes its seeds.
//
//   byte 0   bits 0-1: the source (KafkaInputSource); bits 2-3: messages per Decode() call,
//            1, 3, 16 or 1024 (the poll batch size)
//   rest     messages separated by kMessageSeparator (0x1E). A message is [key 0x1F] payload:
//            without a 0x1F there is no key; a payload that is exactly 0x18 is no payload (a
//            tombstone). Partition, offset and timestamp follow from the message's index i:
//            partition i % 3, offset 100 + i, timestamp 1000 * i, none for every fifth.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::fuzz {

enum class KafkaInputSource : uint8_t {
  kJsonWithEventTimeField,  // format json, event time from field t
  kJsonKafkaTimestamp,      // format json, event time = the Kafka timestamp
  kCsv,                     // format csv, event time from field t (ISO-8601 or epoch ms)
  kRaw,                     // format raw: the payload is the column 'value'
};

inline constexpr char kMessageSeparator = '\x1e';
inline constexpr char kKeySeparator = '\x1f';
inline constexpr std::string_view kNoPayload = "\x18";

struct KafkaInputMessage {
  std::optional<std::string> key;
  std::optional<std::string> payload;
};

inline constexpr size_t kKafkaBatchSizes[] = {1, 3, 16, 1024};

inline std::string EncodeKafkaInput(KafkaInputSource source, size_t batch_size_index,
                                    const std::vector<KafkaInputMessage>& messages) {
  std::string out(1, static_cast<char>(static_cast<uint8_t>(source) | (batch_size_index << 2)));
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i > 0) out += kMessageSeparator;
    if (messages[i].key) out += *messages[i].key + kKeySeparator;
    out += messages[i].payload ? *messages[i].payload : std::string(kNoPayload);
  }
  return out;
}

}  // namespace sluice::fuzz
