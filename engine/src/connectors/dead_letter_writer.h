// DeadLetterWriter: where records that cannot be decoded go, one JSON object per line:
//   {"source":"orders","line":17,"reason":"malformed JSON: ...","record":"<raw text>"}
// The file is created on the first bad record only, so a clean run leaves nothing behind.
#pragma once

#include <cstdio>
#include <string>

#include "formats/record_format.h"

namespace sluice {

class DeadLetterWriter {
 public:
  DeadLetterWriter(std::string source_name, std::string path);
  ~DeadLetterWriter();
  DeadLetterWriter(const DeadLetterWriter&) = delete;
  DeadLetterWriter& operator=(const DeadLetterWriter&) = delete;

  absl::Status Write(const RecordError& error);
  absl::Status Flush();

  uint64_t count() const { return count_; }
  const std::string& path() const { return path_; }

 private:
  std::string source_name_;
  std::string path_;
  std::FILE* file_ = nullptr;
  uint64_t count_ = 0;
};

}  // namespace sluice
