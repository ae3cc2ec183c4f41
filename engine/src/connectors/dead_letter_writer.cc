#include "connectors/dead_letter_writer.h"

#include <cerrno>
#include <cstring>

#include "common/strings.h"

namespace sluice {
namespace {
void AppendJsonString(std::string_view text, std::string& out) {
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}
}  // namespace

DeadLetterWriter::DeadLetterWriter(std::string source_name, std::string path)
    : source_name_(std::move(source_name)), path_(std::move(path)) {}

DeadLetterWriter::~DeadLetterWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status DeadLetterWriter::Write(const RecordError& error) {
  std::string line = "{\"source\":";
  AppendJsonString(source_name_, line);
  StrAppend(&line, ",\"line\":", error.line, ",\"reason\":");
  AppendJsonString(error.reason, line);
  line += ",\"record\":";
  AppendJsonString(error.raw, line);
  line += "}\n";
  return Append(line);
}

absl::Status DeadLetterWriter::WriteMessage(std::string_view topic, int32_t partition, int64_t offset,
                                            const RecordError& error) {
  std::string line = "{\"source\":";
  AppendJsonString(source_name_, line);
  line += ",\"topic\":";
  AppendJsonString(topic, line);
  StrAppend(&line, ",\"partition\":", partition, ",\"offset\":", offset, ",\"reason\":");
  AppendJsonString(error.reason, line);
  line += ",\"record\":";
  AppendJsonString(error.raw, line);
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
