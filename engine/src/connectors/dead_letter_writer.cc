#include "connectors/dead_letter_writer.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "common/strings.h"
#include "formats/json_string.h"
#include "formats/utf8.h"

namespace sluice {
namespace {

// The record's bytes: as a JSON string when they are valid UTF-8, else base64 (RFC 4648,
// standard alphabet, padded) under `<name>_base64`, so that any bytes survive exactly.
void AppendRecordBytes(std::string_view name, std::string_view bytes, std::string& line) {
  uint64_t replaced = 0;
  if (IsValidUtf8(bytes)) {
    StrAppend(&line, ",\"", name, "\":");
    AppendJsonString(bytes, line, replaced);
  } else {
    StrAppend(&line, ",\"", name, "_base64\":\"",
              absl::Base64Escape(absl::string_view(bytes.data(), bytes.size())), "\"");
  }
}

// The reason and the record (or, for a record too long to keep, its length and first bytes).
void AppendReasonAndRecord(const RecordError& error, std::string& line) {
  uint64_t replaced = 0;  // a reason may quote invalid bytes of a value: shown as U+FFFD
  line += ",\"reason\":";
  AppendJsonString(error.reason, line, replaced);
  if (error.length > 0) {
    StrAppend(&line, ",\"length\":", error.length);
    AppendRecordBytes("record_prefix", error.raw, line);
  } else {
    AppendRecordBytes("record", error.raw, line);
  }
}

}  // namespace

DeadLetterWriter::DeadLetterWriter(std::string source_name, std::string path)
    : source_name_(std::move(source_name)), path_(std::move(path)) {}

DeadLetterWriter::~DeadLetterWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status DeadLetterWriter::Write(const RecordError& error) {
  uint64_t replaced = 0;
  std::string line = "{\"source\":";
  AppendJsonString(source_name_, line, replaced);
  StrAppend(&line, ",\"line\":", error.line);
  AppendReasonAndRecord(error, line);
  line += "}\n";
  return Append(line);
}

absl::Status DeadLetterWriter::WriteMessage(std::string_view topic, int32_t partition, int64_t offset,
                                            const RecordError& error) {
  uint64_t replaced = 0;
  std::string line = "{\"source\":";
  AppendJsonString(source_name_, line, replaced);
  line += ",\"topic\":";
  AppendJsonString(topic, line, replaced);
  StrAppend(&line, ",\"partition\":", partition, ",\"offset\":", offset);
  AppendReasonAndRecord(error, line);
  line += "}\n";
  return Append(line);
}

absl::Status DeadLetterWriter::Append(const std::string& line) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (file_ == nullptr) {
    file_ = std::fopen(path_.c_str(), "w");
    if (file_ == nullptr) {
      return absl::FailedPreconditionError(
          StrCat("cannot create dead-letter file '", path_, "': ", std::strerror(errno)));
    }
  }
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size()) {
    return absl::DataLossError(StrCat("cannot write dead-letter file '", path_, "': ", std::strerror(errno)));
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::Status DeadLetterWriter::Flush() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (file_ != nullptr && std::fflush(file_) != 0) {
    return absl::DataLossError(StrCat("cannot write dead-letter file '", path_, "': ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace sluice
