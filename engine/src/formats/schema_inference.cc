// Schema inference from sample records (not on the hot path: it runs once per source, before
// the job starts, so it favours simplicity over speed).
//
// Per field, by majority of the non-null sampled values: numbers -> DOUBLE if any has a
// fraction or exponent (or exceeds 64 bits), else BIGINT; booleans -> BOOLEAN; otherwise STRING
// (also for fields that were only ever null). A stray value of another kind in a numeric or
// boolean field then fails to convert and goes to the dead-letter output, instead of turning
// the whole column into STRING. Malformed sample records are skipped.
#include <simdjson.h>

#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/strings.h"
#include "formats/record_format.h"
#include "types/number_format.h"

namespace sluice {
namespace {

enum class ValueKind : uint8_t { kNull, kInteger, kFloat, kBoolean, kOther };

struct FieldStats {
  std::string name;
  size_t integers = 0;
  size_t floats = 0;
  size_t booleans = 0;
  size_t others = 0;

  void Add(ValueKind kind) {
    switch (kind) {
      case ValueKind::kNull: break;
      case ValueKind::kInteger: ++integers; break;
      case ValueKind::kFloat: ++floats; break;
      case ValueKind::kBoolean: ++booleans; break;
      case ValueKind::kOther: ++others; break;
    }
  }

  TypeId Type() const {
    const size_t numbers = integers + floats;
    if (numbers > booleans + others) return floats > 0 ? TypeId::kDouble : TypeId::kInt64;
    if (booleans > numbers + others) return TypeId::kBoolean;
    return TypeId::kString;  // strings win ties; a field of only nulls has nothing to go on
  }
};

// Fields in order of first appearance, found by name in constant time: a sample's records or
// header may hold many thousands of fields, and a search through them per field would be
// quadratic (a wide CSV header or a JSON record of many keys took minutes to infer).
class FieldList {
 public:
  // The field called `name`, added (with no values) if new.
  FieldStats& FindOrAdd(const std::string& name) {
    auto [it, inserted] = index_.emplace(name, fields_.size());
    if (inserted) fields_.push_back(FieldStats{name});
    return fields_[it->second];
  }
  bool Contains(const std::string& name) const { return index_.count(name) != 0; }
  std::vector<FieldStats>& fields() { return fields_; }

 private:
  std::vector<FieldStats> fields_;
  std::unordered_map<std::string, size_t> index_;
};

Schema BuildSchema(const std::vector<FieldStats>& fields) {
  Schema schema;
  for (const FieldStats& field : fields) schema.Add(Field{field.name, field.Type(), false});
  return schema;
}

// The kind of one JSON value, or false when the value is malformed.
bool ClassifyJsonValue(simdjson::ondemand::value& value, ValueKind* kind) {
  simdjson::ondemand::json_type type;
  if (value.type().get(type)) return false;
  switch (type) {
    case simdjson::ondemand::json_type::null: {
      bool is_null = false;
      if (value.is_null().get(is_null) || !is_null) return false;
      *kind = ValueKind::kNull;
      return true;
    }
    case simdjson::ondemand::json_type::boolean: {
      bool ignored = false;
      if (value.get_bool().get(ignored)) return false;
      *kind = ValueKind::kBoolean;
      return true;
    }
    case simdjson::ondemand::json_type::number: {
      int64_t integer = 0;
      if (!value.get_int64().get(integer)) {
        *kind = ValueKind::kInteger;
        return true;
      }
      double number = 0;
      if (value.get_double().get(number)) return false;
      *kind = ValueKind::kFloat;  // a fraction, an exponent or an integer beyond 64 bits
      return true;
    }
    case simdjson::ondemand::json_type::string: {
      std::string_view ignored;
      if (value.get_string().get(ignored)) return false;
      *kind = ValueKind::kOther;
      return true;
    }
    case simdjson::ondemand::json_type::object:
    case simdjson::ondemand::json_type::array:
      *kind = ValueKind::kOther;  // kept as JSON text in a STRING column
      return true;
  }
  return false;
}

// Fields of one JSON record in order, or false when the record is malformed.
bool ClassifyJsonRecord(simdjson::ondemand::parser& parser, std::string& padded, std::string_view record,
                        std::vector<std::pair<std::string, ValueKind>>& fields) {
  fields.clear();
  if (padded.size() < record.size() + simdjson::SIMDJSON_PADDING) {
    padded.resize(record.size() + simdjson::SIMDJSON_PADDING);
  }
  if (!record.empty()) std::memcpy(padded.data(), record.data(), record.size());
  std::memset(padded.data() + record.size(), 0, simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::document document;
  if (parser.iterate(padded.data(), record.size(), padded.size()).get(document)) return false;
  simdjson::ondemand::object object;
  if (document.get_object().get(object)) return false;
  for (auto field_result : object) {
    simdjson::ondemand::field field;
    if (std::move(field_result).get(field)) return false;
    std::string_view key;
    if (field.unescaped_key().get(key)) return false;
    std::string name(key);
    ValueKind kind = ValueKind::kNull;
    if (!ClassifyJsonValue(field.value(), &kind)) return false;
    fields.emplace_back(std::move(name), kind);
  }
  const char* location = nullptr;
  return document.current_location().get(location) == simdjson::OUT_OF_BOUNDS;
}

struct CsvText {
  std::string text;
  bool quoted = false;
};

// RFC 4180 split of one line (no line breaks inside quoted fields); false when malformed.
bool SplitCsvLine(std::string_view line, char delimiter, std::vector<CsvText>& fields) {
  fields.clear();
  size_t pos = 0;
  while (true) {
    CsvText field;
    if (pos < line.size() && line[pos] == '"') {
      field.quoted = true;
      ++pos;
      while (true) {
        if (pos >= line.size()) return false;  // unterminated
        if (line[pos] == '"') {
          if (pos + 1 < line.size() && line[pos + 1] == '"') {
            field.text.push_back('"');
            pos += 2;
            continue;
          }
          ++pos;
          break;
        }
        field.text.push_back(line[pos++]);
      }
      if (pos < line.size() && line[pos] != delimiter) return false;
    } else {
      while (pos < line.size() && line[pos] != delimiter) field.text.push_back(line[pos++]);
    }
    fields.push_back(std::move(field));
    if (pos >= line.size()) break;
    ++pos;  // the delimiter
    if (pos == line.size()) {
      fields.emplace_back();
      break;
    }
  }
  return true;
}

ValueKind ClassifyCsvText(std::string_view text) {
  if (StripWhitespace(text).empty()) return ValueKind::kNull;
  if (ParseInt64(text)) return ValueKind::kInteger;
  // ParseDouble also takes "nan" and "inf"; only text with digits counts as a number here.
  bool has_digit = false;
  for (char c : text) has_digit = has_digit || IsAsciiDigit(c);
  if (has_digit && ParseDouble(text)) return ValueKind::kFloat;
  if (ParseBoolean(text)) return ValueKind::kBoolean;
  return ValueKind::kOther;
}

}  // namespace

absl::StatusOr<Schema> InferJsonSchema(std::span<const std::string_view> sample_records) {
  if (sample_records.empty()) return absl::InvalidArgumentError("there are no sample records");
  simdjson::ondemand::parser parser;
  std::string padded;
  std::vector<std::pair<std::string, ValueKind>> record_fields;
  FieldList fields;
  size_t usable = 0;
  for (std::string_view record : sample_records) {
    if (!ClassifyJsonRecord(parser, padded, record, record_fields)) continue;  // skipped
    ++usable;
    for (const auto& [name, kind] : record_fields) fields.FindOrAdd(name).Add(kind);
  }
  if (usable == 0) {
    return absl::InvalidArgumentError(
        StrCat("none of the ", sample_records.size(), " sample records is a valid JSON object"));
  }
  if (fields.fields().empty()) return absl::InvalidArgumentError("the sample records have no fields");
  return BuildSchema(fields.fields());
}

absl::StatusOr<Schema> InferCsvSchema(std::string_view header,
                                      std::span<const std::string_view> sample_records, char delimiter) {
  std::vector<CsvText> values;
  if (!SplitCsvLine(header, delimiter, values)) {
    return absl::InvalidArgumentError("the CSV header line is malformed (unterminated quote)");
  }
  FieldList list;
  // Duplicate names would make columns unaddressable: number the repeats. Per name, the suffix
  // to try next, so that a header of many repeats of one name is not quadratic either.
  std::unordered_map<std::string, int> next_suffix;
  for (size_t i = 0; i < values.size(); ++i) {
    std::string name(StripWhitespace(values[i].text));
    if (name.empty()) name = StrCat("column_", i + 1);
    if (list.Contains(name)) {
      int& suffix = next_suffix.emplace(name, 2).first->second;
      std::string numbered = StrCat(name, "_", suffix++);
      while (list.Contains(numbered)) numbered = StrCat(name, "_", suffix++);
      name = std::move(numbered);
    }
    list.FindOrAdd(name);
  }
  std::vector<FieldStats>& fields = list.fields();
  size_t usable = 0;
  for (std::string_view record : sample_records) {
    if (!SplitCsvLine(record, delimiter, values) || values.size() != fields.size()) continue;  // skipped
    ++usable;
    for (size_t i = 0; i < values.size(); ++i) fields[i].Add(ClassifyCsvText(values[i].text));
  }
  if (usable == 0) {
    return absl::InvalidArgumentError(StrCat("none of the ", sample_records.size(),
                                             " sample records has the ", fields.size(),
                                             " fields of the CSV header"));
  }
  return BuildSchema(fields);
}

}  // namespace sluice
