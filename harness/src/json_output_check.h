// JsonOutputCheck: reads JSON output back the way a user's program would, with a parser that
// is not Sluice's (simdjson's DOM API; the engine's own JSON decoder uses simdjson's On-Demand
// API, and is not used here), checks each record's shape and JSON types against the job's
// declared output, and records the rows in a ResultChecksum, to be compared with SQLite's.
//
// Per record (a JSON Lines line, or a Kafka message's value):
//   - it must parse as one JSON object (malformed escapes, invalid UTF-8, trailing garbage and
//     a missing final newline all fail);
//   - its keys must be the output's column names, in order, each once;
//   - each value must have the JSON type of its column: BIGINT and TIMESTAMP a JSON integer
//     within int64 (`3.0` or `"3"` fail), DOUBLE any JSON number (the encoder writes doubles in
//     shortest round-trip form, so 100.0 is written `100`; types/number_format.h), BOOLEAN
//     `true`/`false`, STRING a string, and NULL `null` in any column (the encoder also writes a
//     NaN or infinite DOUBLE as null).
// The first problem is kept (error()); the rows before it are recorded.
//
// Not thread-safe; one per sink or consumer. Allocation happens only while buffers grow to the
// largest batch or record seen.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "result_checksum.h"
#include "types/schema.h"

namespace simdjson::dom {
class parser;
}

namespace sluice::bench {

class JsonOutputCheck {
 public:
  // `output`: the job's output schema; `changelog_key`, `pool`: as for ResultChecksum.
  JsonOutputCheck(const Schema& output, std::vector<size_t> changelog_key, LogBlockPool* pool = nullptr);
  ~JsonOutputCheck();

  // JSON Lines text: every line, each ending in '\n', one record.
  void AddLines(std::string_view text);
  // One record without its newline (a Kafka message's value).
  void AddRecord(std::string_view record);

  // The first problem found, with the record's number (from 1) and text; "" when none.
  const std::string& error() const { return error_; }
  uint64_t records() const { return records_; }
  // The rows read so far (see ResultChecksum::Value).
  ChecksumValue Value() const { return checksum_.Value(); }

 private:
  // Parses one record of `size` bytes at `data`, which has simdjson's padding after it.
  void Parse(const char* data, size_t size);
  void Fail(std::string_view record, const std::string& what);

  std::vector<std::string> names_;
  std::vector<TypeId> types_;
  ResultChecksum checksum_;
  std::unique_ptr<simdjson::dom::parser> parser_;
  std::vector<ResultChecksum::Cell> cells_;
  std::string padded_;  // the input copied with simdjson's padding after it
  std::string error_;
  uint64_t records_ = 0;
};

}  // namespace sluice::bench
