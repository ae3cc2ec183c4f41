// DeadLetterWriter: where records that cannot be decoded go, one JSON object per line:
//   {"source":"orders","line":17,"reason":"malformed JSON: ...","record":"<raw text>"}
// or, for a Kafka message, its position instead of a line:
//   {"source":"trades","topic":"t","partition":2,"offset":815,"reason":"...","record":"..."}
// Every line is valid JSON in UTF-8: a record that is not valid UTF-8 is written as
// "record_base64" (RFC 4648 base64 of its exact bytes) instead of "record", and invalid bytes
// that a reason quotes show as U+FFFD. A record too long to keep (RecordError::length > 0) is
// written as its length and first bytes:
//   {"source":"s","line":3,"reason":"record too long: ...","length":N,"record_prefix":"..."}
// ("record_prefix_base64" when those bytes are not valid UTF-8).
// The file is created on the first bad record only, so a clean run leaves nothing behind.
// Thread-safe: the partitions of one source share its writer, and they may run on several
// workers.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include "formats/record_format.h"

namespace sluice {

class DeadLetterWriter {
 public:
  DeadLetterWriter(std::string source_name, std::string path);
  ~DeadLetterWriter();
  DeadLetterWriter(const DeadLetterWriter&) = delete;
  DeadLetterWriter& operator=(const DeadLetterWriter&) = delete;

  absl::Status Write(const RecordError& error);
  // A Kafka message that could not be decoded (error.line is ignored).
  absl::Status WriteMessage(std::string_view topic, int32_t partition, int64_t offset,
                            const RecordError& error);
  absl::Status Flush();

  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  const std::string& path() const { return path_; }

 private:
  std::string source_name_;
  std::string path_;
  absl::Status Append(const std::string& line);

  std::mutex mutex_;  // guards file_
  std::FILE* file_ = nullptr;
  std::atomic<uint64_t> count_{0};
};

}  // namespace sluice
