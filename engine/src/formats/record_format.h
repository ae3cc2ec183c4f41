// Record formats: decoding raw records (JSON Lines, CSV) into Batches and encoding Batches
// back to bytes.
//
// Decoders are called once per batch of records (never per record through a virtual call).
// A record that cannot be decoded, or whose value cannot convert to its column's type, is not
// appended: it is reported to the caller as a RecordError (raw bytes, line, reason) so that it
// can go to the dead-letter output. Missing fields decode as NULL.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "batch/batch.h"
#include "common/status.h"
#include "types/schema.h"

namespace sluice {

enum class EventTimeFormat : uint8_t {
  kEpochMillis,   // integer milliseconds (a numeric string is accepted too)
  kEpochSeconds,  // integer or fractional seconds
  kIso8601,       // text, see ParseTimestamp
  kAuto,          // numbers as epoch millis, strings as ISO-8601
};

struct DecoderOptions {
  // Columns to produce, in order. Field types say what each value must convert to.
  Schema schema;
  // Index into `schema` of the field event time is read from, or -1 for none. When set, the
  // decoder also fills the extra column event_time (TIMESTAMP, epoch ms) after the schema's
  // columns; a record without a usable event time is a RecordError.
  int event_time_field = -1;
  EventTimeFormat event_time_format = EventTimeFormat::kAuto;
  // CSV only.
  char csv_delimiter = ',';
  bool csv_header = true;  // the first line of the input is a header (the caller skips it)
  // The caller promises that at least kRecordPadding bytes are readable after every record
  // it passes to Decode() (what they hold does not matter): the JSON decoder then parses each
  // record where it lies instead of copying it into a padded buffer first.
  bool records_padded = false;
};

// The readable bytes behind a record that `records_padded` promises (simdjson's padding).
inline constexpr size_t kRecordPadding = 64;

struct RecordError {
  uint64_t line = 0;   // 1-based line number in the input
  std::string reason;  // e.g. "malformed JSON: ...", "field 'qty': 'abc' is not a BIGINT"
  std::string raw;     // the record's bytes as read (its first bytes only when `length` > 0)
  // 0: `raw` is the whole record. Otherwise the record was too long to keep: this is its
  // length and `raw` its first bytes.
  uint64_t length = 0;
};

class RecordDecoder {
 public:
  virtual ~RecordDecoder() = default;

  // Decodes `records` (each one line without its newline; the first is input line
  // `first_line`) into `out`: out's columns are the schema's (plus event time) and it gets one
  // row per good record, in order. Errors for bad records are appended to `errors`.
  // `out` columns are acquired from pools inside the decoder: the Batch is valid until the
  // next call.
  virtual void Decode(std::span<const std::string_view> records, uint64_t first_line, Batch& out,
                      std::vector<RecordError>& errors) = 0;
};

absl::StatusOr<std::unique_ptr<RecordDecoder>> MakeJsonDecoder(const DecoderOptions& options);
absl::StatusOr<std::unique_ptr<RecordDecoder>> MakeCsvDecoder(const DecoderOptions& options);

// Infers a schema from sample records: per field, BIGINT if every non-null value is an
// integer, DOUBLE if every value is a number, BOOLEAN for booleans, otherwise STRING (nested
// objects and arrays are kept as their JSON text). Field order is first appearance.
absl::StatusOr<Schema> InferJsonSchema(std::span<const std::string_view> sample_records);
// Same for CSV: `header` is the header line; values are typed by the same rules on text.
absl::StatusOr<Schema> InferCsvSchema(std::string_view header,
                                      std::span<const std::string_view> sample_records, char delimiter);

class RecordEncoder {
 public:
  virtual ~RecordEncoder() = default;
  // Appends the active rows of `batch` to `out`, one record per line. The schema given to the
  // factory names the batch's leading columns, in order; further columns are ignored.
  virtual void Encode(const Batch& batch, std::string& out) = 0;
  // Ill-formed UTF-8 sequences in string values replaced with U+FFFD so far (JSON only).
  uint64_t invalid_utf8_replaced() const { return invalid_utf8_replaced_; }

 protected:
  uint64_t invalid_utf8_replaced_ = 0;
};

// JSON Lines: one object per row, keys in column order, NULL as null, doubles in shortest
// round-trip form (NaN/Infinity as null), timestamps as epoch-millisecond integers. The output
// is valid UTF-8: each ill-formed sequence in a string becomes U+FFFD (formats/json_string.h).
std::unique_ptr<RecordEncoder> MakeJsonEncoder(const Schema& schema);
// CSV with a header line written before the first row; NULL as an empty field; fields quoted
// when they contain the delimiter, a quote or a newline. Bytes are written as they are.
// `header`: a line of the column names before the first row (Flink's CSV writes none).
// `sql_timestamps`: timestamps as Flink's CSV writes them ("2026-01-01 07:15:00.25",
// AppendSqlTimestamp), not as epoch milliseconds.
std::unique_ptr<RecordEncoder> MakeCsvEncoder(const Schema& schema, char delimiter, bool header = true,
                                              bool sql_timestamps = false);

}  // namespace sluice
