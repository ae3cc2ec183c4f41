// CSV decoder: RFC 4180 fields (quoted fields, "" for a quote inside one) with a configurable
// delimiter. The caller splits the input into records (a file source with RecordSplitter, which
// ends a record at a newline outside quotes), so a quoted field may hold line breaks.
//
// NULLs: an empty unquoted field is NULL for every type; a quoted empty field ("") is the
// empty string for STRING columns and NULL for the others.
#include <cmath>
#include <cstring>

#include "common/strings.h"
#include "formats/record_format.h"
#include "formats/row_decoder.h"
#include "types/decimal.h"
#include "types/number_format.h"

namespace sluice {
namespace {

constexpr size_t kMaxShownValue = 64;

std::string ShowText(std::string_view text) {
  if (text.size() > kMaxShownValue) return StrCat("'", text.substr(0, kMaxShownValue), "...'");
  return StrCat("'", text, "'");
}

struct CsvField {
  std::string_view text;  // unquoted, "" already collapsed
  bool quoted = false;
};

// Splits one CSV line into fields; returns false and sets *reason on malformed quoting.
// `scratch` holds the unescaped text of fields with doubled quotes; it is sized to the record,
// so views into it stay valid until the next call.
bool SplitCsvRecord(std::string_view record, char delimiter, std::vector<CsvField>& fields,
                    std::string& scratch, std::string* reason) {
  fields.clear();
  if (scratch.size() < record.size()) scratch.resize(record.size());
  char* unescaped = scratch.data();
  size_t used = 0;
  const char* data = record.data();
  const size_t size = record.size();
  size_t pos = 0;
  while (true) {
    CsvField field;
    if (pos < size && data[pos] == '"') {
      field.quoted = true;
      const size_t start = ++pos;
      bool doubled_quotes = false;
      while (true) {
        const void* quote = pos < size ? std::memchr(data + pos, '"', size - pos) : nullptr;
        if (quote == nullptr) {
          *reason = StrCat("malformed CSV: unterminated quoted field ", fields.size() + 1);
          return false;
        }
        pos = static_cast<size_t>(static_cast<const char*>(quote) - data);
        if (pos + 1 < size && data[pos + 1] == '"') {
          doubled_quotes = true;
          pos += 2;
          continue;
        }
        break;
      }
      const std::string_view raw = record.substr(start, pos - start);
      ++pos;  // the closing quote
      if (doubled_quotes) {
        char* out = unescaped + used;
        size_t length = 0;
        for (size_t i = 0; i < raw.size(); ++i) {
          out[length++] = raw[i];
          if (raw[i] == '"') ++i;  // "" -> "
        }
        field.text = std::string_view(out, length);
        used += length;
      } else {
        field.text = raw;
      }
      if (pos < size && data[pos] != delimiter) {
        *reason = StrCat("malformed CSV: unexpected character after the closing quote of field ",
                         fields.size() + 1);
        return false;
      }
    } else {
      const void* next = pos < size ? std::memchr(data + pos, delimiter, size - pos) : nullptr;
      const size_t end = next == nullptr ? size : static_cast<size_t>(static_cast<const char*>(next) - data);
      field.text = record.substr(pos, end - pos);
      pos = end;
    }
    fields.push_back(field);
    if (pos >= size) break;
    ++pos;  // the delimiter
    if (pos == size) {
      fields.push_back(CsvField{});  // a trailing delimiter ends with an empty field
      break;
    }
  }
  return true;
}

class CsvDecoder final : public RowDecoder<CsvDecoder> {
  friend class RowDecoder<CsvDecoder>;

 public:
  explicit CsvDecoder(const DecoderOptions& options)
      : schema_(options.schema),
        delimiter_(options.csv_delimiter),
        event_time_field_(options.event_time_field),
        event_time_format_(options.event_time_format) {
    for (const Field& field : schema_.fields()) pools_.emplace_back(field.type);
    if (event_time_field_ >= 0) pools_.emplace_back(TypeId::kTimestamp);
    columns_.resize(pools_.size());
    fields_.reserve(schema_.size() + 1);
  }

 private:
  bool Mismatch(size_t column, std::string_view text) {
    const Field& field = schema_.field(column);
    return Fail(StrCat("field '", field.name, "': ", ShowText(text), " is not a ", TypeName(field.type)));
  }

  bool DecodeRecord(std::string_view record, size_t row) {
    if (!SplitCsvRecord(record, delimiter_, fields_, scratch_, &reason_)) return false;
    const size_t num_fields = schema_.size();
    if (fields_.size() != num_fields) {
      return Fail(StrCat("expected ", num_fields, " fields, found ", fields_.size()));
    }
    for (size_t column = 0; column < num_fields; ++column) {
      const CsvField& field = fields_[column];
      OutputColumn& target = columns_[column];
      if (field.text.empty()) {
        // Empty unquoted: NULL. Quoted "": the empty string, NULL for non-string types.
        if (field.quoted && target.type == TypeId::kString)
          target.Set<std::string_view>(row, std::string_view());
        continue;
      }
      if (IsDecimal(target.type)) {  // exactly, never through a double
        const std::optional<__int128> value =
            ParseDecimal(field.text, DecimalPrecision(target.type), DecimalScale(target.type));
        if (!value) return Mismatch(column, field.text);
        target.SetDecimal(row, *value);
        continue;
      }
      switch (target.type) {
        case TypeId::kString: target.Set<std::string_view>(row, target.heap->Add(field.text)); break;
        case TypeId::kInt64: {
          const std::optional<int64_t> value = ParseInt64(field.text);
          if (!value) return Mismatch(column, field.text);
          target.Set<int64_t>(row, *value);
          break;
        }
        case TypeId::kDouble: {
          const std::optional<double> value = ParseDouble(field.text);
          if (!value) return Mismatch(column, field.text);
          target.Set<double>(row, *value);
          break;
        }
        case TypeId::kBoolean: {
          const std::optional<bool> value = ParseBoolean(field.text);
          if (!value) return Mismatch(column, field.text);
          target.Set<uint8_t>(row, *value ? 1 : 0);
          break;
        }
        case TypeId::kTimestamp: {
          std::optional<int64_t> value = ParseInt64(field.text);  // epoch milliseconds
          if (!value) value = ParseTimestamp(field.text);
          if (!value) return Mismatch(column, field.text);
          target.Set<int64_t>(row, *value);
          break;
        }
        case TypeId::kNull: break;
      }
    }
    if (event_time_field_ >= 0) {
      const std::string_view text = fields_[static_cast<size_t>(event_time_field_)].text;
      const std::optional<int64_t> millis =
          text.empty() ? std::nullopt : EventTimeFromText(text, event_time_format_);
      if (!millis) {
        return Fail(StrCat("missing or invalid event time in field '",
                           schema_.field(static_cast<size_t>(event_time_field_)).name, "'"));
      }
      columns_.back().Set<int64_t>(row, *millis);
    }
    return true;
  }

  Schema schema_;
  char delimiter_;
  int event_time_field_;
  EventTimeFormat event_time_format_;
  std::vector<CsvField> fields_;
  std::string scratch_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RecordDecoder>> MakeCsvDecoder(const DecoderOptions& options) {
  if (options.event_time_field >= static_cast<int>(options.schema.size())) {
    return absl::InvalidArgumentError(StrCat("event time field index ", options.event_time_field,
                                             " is out of range for ", options.schema.size(), " columns"));
  }
  if (options.csv_delimiter == '"' || options.csv_delimiter == '\n' || options.csv_delimiter == '\r') {
    return absl::InvalidArgumentError("the CSV delimiter cannot be a quote or a line break");
  }
  return std::unique_ptr<RecordDecoder>(new CsvDecoder(options));
}

}  // namespace sluice
