// The body of fuzz_json_decoder and fuzz_csv_decoder: one input is a file as a file source
// reads it, decoded with options its first two bytes select.
//
// Input layout:
//   byte 0  event time: field (byte % 6) - 1 (-1: none, else a column of the schema) in format
//           (byte / 6) % 4 (epoch millis, epoch seconds, ISO-8601, auto);
//   byte 1  bit 0: the schema is inferred from the lines (InferJsonSchema / InferCsvSchema, as
//           for a file without '<name>.schema'), else the fixed schema below;
//           bits 1-2: records per Decode() call: 1, 7, 64 or 1024 (the batch size);
//           JSON: bit 3: records parsed in place with padding behind them, as the file source
//           hands them (DecoderOptions::records_padded), else without that promise, as
//           Kafka's (each record then lies in an allocation of exactly its size, so that
//           AddressSanitizer catches a read past its end; CSV records always do);
//           CSV: bit 3: the first line is a header; bits 4-5: delimiter ',', ';', tab or '|';
//   rest    the file's text, cut into records as the file source cuts it (file_lines.h).
// The fixed schema has one column of every type: b BOOLEAN, i BIGINT, d DOUBLE, s STRING,
// t TIMESTAMP. One decoder decodes every batch of the input (decoders keep state across
// batches: pools, the JSON decoder's field-order prediction), then the last batch is encoded
// back as JSON Lines and CSV.
//
// Checked for each batch: rows plus reported bad records equal the records given, each bad
// record's line is one of the batch's, and CheckBatchInvariants holds.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "batch_invariants.h"
#include "file_lines.h"
#include "formats/record_format.h"

namespace sluice::fuzz {

enum class RecordFormat { kJson, kCsv };

inline int RunRecordDecoderTarget(const uint8_t* data, size_t size, RecordFormat format) {
  if (size < 2) return 0;
  const uint8_t time_byte = data[0];
  const uint8_t option_byte = data[1];
  const bool csv = format == RecordFormat::kCsv;
  DecoderOptions options;
  options.event_time_field = time_byte % 6 - 1;
  static constexpr EventTimeFormat kTimeFormats[] = {EventTimeFormat::kEpochMillis,
                                                     EventTimeFormat::kEpochSeconds,
                                                     EventTimeFormat::kIso8601, EventTimeFormat::kAuto};
  options.event_time_format = kTimeFormats[(time_byte / 6) % 4];
  const bool infer = (option_byte & 1) != 0;
  static constexpr size_t kBatchSizes[] = {1, 7, 64, 1024};
  const size_t batch_size = kBatchSizes[(option_byte >> 1) & 3];
  static constexpr char kDelimiters[] = {',', ';', '\t', '|'};
  if (csv) {
    options.csv_header = (option_byte & 8) != 0;
    options.csv_delimiter = kDelimiters[(option_byte >> 4) & 3];
  } else {
    options.records_padded = (option_byte & 8) != 0;
  }

  // The text, with the padding a file source's read buffer keeps behind it.
  std::string text(reinterpret_cast<const char*>(data) + 2, size - 2);
  const size_t text_size = text.size();
  text.resize(text_size + kRecordPadding);
  FileLines lines = SplitFileLines(std::string_view(text.data(), text_size), csv && options.csv_header);
  // A decoder promised no padding gets each record in a block of its own size, so that
  // AddressSanitizer sees any read past a record's end.
  std::vector<std::unique_ptr<char[]>> copies;
  if (!options.records_padded) {
    for (std::string_view& record : lines.records) {
      copies.emplace_back(new char[record.size()]);
      std::memcpy(copies.back().get(), record.data(), record.size());
      record = std::string_view(copies.back().get(), record.size());
    }
  }

  if (infer && (!csv || options.csv_header)) {
    const std::span<const std::string_view> sample(lines.records.data(),
                                                   std::min<size_t>(lines.records.size(), 1000));
    absl::StatusOr<Schema> schema =
        csv ? InferCsvSchema(lines.header, sample, options.csv_delimiter) : InferJsonSchema(sample);
    if (!schema.ok()) return 0;
    options.schema = std::move(*schema);
  } else {
    options.schema = Schema({Field{"b", TypeId::kBoolean, false}, Field{"i", TypeId::kInt64, false},
                             Field{"d", TypeId::kDouble, false}, Field{"s", TypeId::kString, false},
                             Field{"t", TypeId::kTimestamp, false}});
  }
  if (options.event_time_field >= static_cast<int>(options.schema.size())) options.event_time_field = -1;

  absl::StatusOr<std::unique_ptr<RecordDecoder>> decoder =
      csv ? MakeCsvDecoder(options) : MakeJsonDecoder(options);
  if (!decoder.ok()) __builtin_trap();  // the options above are all valid
  std::vector<TypeId> types;
  for (const Field& field : options.schema.fields()) types.push_back(field.type);
  if (options.event_time_field >= 0) types.push_back(TypeId::kTimestamp);

  Batch out;
  std::vector<RecordError> errors;
  for (size_t begin = 0; begin < lines.records.size(); begin += batch_size) {
    const size_t count = std::min(batch_size, lines.records.size() - begin);
    const uint64_t first_line = lines.line_numbers[begin];
    errors.clear();
    (*decoder)->Decode(std::span<const std::string_view>(lines.records).subspan(begin, count), first_line,
                       out, errors);
    if (out.num_rows() + errors.size() != count) __builtin_trap();
    for (const RecordError& error : errors) {
      if (error.line < first_line || error.line - first_line >= count) __builtin_trap();
    }
    CheckBatchInvariants(out, types);
  }
  if (out.num_columns() == types.size()) {
    std::string encoded;
    MakeJsonEncoder(options.schema)->Encode(out, encoded);
    MakeCsvEncoder(options.schema, options.csv_delimiter)->Encode(out, encoded);
  }
  return 0;
}

}  // namespace sluice::fuzz
