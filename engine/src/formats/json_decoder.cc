// JSON Lines decoder on simdjson's On-Demand API.
//
// One ondemand::parser is reused for every record. A record is parsed where it lies when the
// caller promises readable padding behind it (DecoderOptions::records_padded: a file source's
// read buffer); otherwise it is first copied into a reused buffer with SIMDJSON_PADDING bytes
// behind it. The steady state allocates nothing except string bytes appended to the columns'
// heaps. Field names are matched to columns by remembering, for
// each position in the previous record, which column its key matched: records of a stream
// usually list their keys in the same order, so the common case is one memcmp per field.
#include <simdjson.h>

#include <cmath>
#include <cstring>

#include "common/strings.h"
#include "formats/record_format.h"
#include "formats/row_decoder.h"
#include "types/decimal.h"
#include "types/number_format.h"

namespace sluice {
namespace {

static_assert(simdjson::SIMDJSON_PADDING <= kRecordPadding, "a padded record must satisfy simdjson");

using simdjson::ondemand::json_type;

constexpr size_t kMaxShownValue = 64;

bool IsJsonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view TrimJsonSpace(std::string_view text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && IsJsonSpace(text[begin])) ++begin;
  while (end > begin && IsJsonSpace(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

// Whether `text` holds a backslash (an escape). Keys and values are mostly a few bytes long,
// where a loop costs less than a call to memchr.
bool HasBackslash(std::string_view text) {
  for (char c : text) {
    if (c == '\\') return true;
  }
  return false;
}

// Whether `text` is a JSON integer: an optional minus, then digits without a leading zero.
bool IsJsonInteger(std::string_view text) {
  const size_t first = !text.empty() && text[0] == '-' ? 1 : 0;
  if (text.size() == first || (text[first] == '0' && text.size() > first + 1)) return false;
  for (size_t i = first; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return true;
}

// A value as error messages show it: strings in single quotes, long values cut.
std::string ShowValue(std::string_view raw_token) {
  std::string_view raw = TrimJsonSpace(raw_token);
  if (raw.empty()) return "an empty value";
  if (raw[0] == '{') return "an object";
  if (raw[0] == '[') return "an array";
  const bool is_string = raw.size() >= 2 && raw.front() == '"' && raw.back() == '"';
  if (is_string) raw = raw.substr(1, raw.size() - 2);
  std::string shown =
      raw.size() > kMaxShownValue ? StrCat(raw.substr(0, kMaxShownValue), "...") : std::string(raw);
  return is_string ? StrCat("'", shown, "'") : shown;
}

// "malformed JSON: <simdjson's message>", without the message's final period.
std::string MalformedReason(simdjson::error_code error) {
  std::string_view message = simdjson::error_message(error);
  if (!message.empty() && message.back() == '.') message.remove_suffix(1);
  return StrCat("malformed JSON: ", message);
}

// Event time from a value's raw JSON token, per the configured format.
std::optional<int64_t> EventTimeFromToken(std::string_view raw_token, EventTimeFormat format) {
  const std::string_view raw = TrimJsonSpace(raw_token);
  if (raw.empty()) return std::nullopt;
  if (raw[0] == '"') {
    if (raw.size() < 2 || raw.back() != '"') return std::nullopt;
    const std::string_view text = raw.substr(1, raw.size() - 2);
    // Timestamps and numbers never need escapes; a backslash means the text is not one.
    if (HasBackslash(text)) return std::nullopt;
    return EventTimeFromText(text, format);
  }
  if (raw[0] != '-' && !(raw[0] >= '0' && raw[0] <= '9')) return std::nullopt;  // not a number
  switch (format) {
    case EventTimeFormat::kEpochMillis:
    case EventTimeFormat::kAuto: return ParseInt64(raw);
    case EventTimeFormat::kEpochSeconds: return SecondsTextToMillis(raw);
    case EventTimeFormat::kIso8601: return std::nullopt;
  }
  return std::nullopt;
}

// The key last seen at one position of a record, and the column it matched (-1: none).
struct KeySlot {
  bool valid = false;
  int column = -1;
  std::string key;  // only used when column == -1 (an ignored key)
};

bool SafeForRawCompare(std::string_view name) {
  return name.find('"') == std::string_view::npos && name.find('\\') == std::string_view::npos;
}

class JsonDecoder final : public RowDecoder<JsonDecoder> {
  friend class RowDecoder<JsonDecoder>;

 public:
  explicit JsonDecoder(const DecoderOptions& options)
      : schema_(options.schema),
        event_time_field_(options.event_time_field),
        event_time_format_(options.event_time_format),
        records_padded_(options.records_padded) {
    for (const Field& field : schema_.fields()) {
      names_.push_back(field.name);
      raw_comparable_.push_back(SafeForRawCompare(field.name));
      pools_.emplace_back(field.type);
    }
    if (event_time_field_ >= 0) pools_.emplace_back(TypeId::kTimestamp);
    columns_.resize(pools_.size());
    padded_.resize(4096 + simdjson::SIMDJSON_PADDING);
  }

 private:
  bool DecodeRecord(std::string_view record, size_t row) {
    const size_t length = record.size();
    const char* buffer = record.data();
    size_t capacity = length + kRecordPadding;
    if (!records_padded_) {
      if (padded_.size() < length + simdjson::SIMDJSON_PADDING)
        padded_.resize(length + simdjson::SIMDJSON_PADDING);
      if (length > 0) std::memcpy(padded_.data(), record.data(), length);
      std::memset(padded_.data() + length, 0, simdjson::SIMDJSON_PADDING);
      buffer = padded_.data();
      capacity = padded_.size();
    }

    simdjson::ondemand::document document;
    simdjson::error_code error = parser_.iterate(buffer, length, capacity).get(document);
    if (error) return Fail(MalformedReason(error));
    simdjson::ondemand::object object;
    error = document.get_object().get(object);
    if (error == simdjson::INCORRECT_TYPE) return Fail("malformed JSON: the record is not an object");
    if (error) return Fail(MalformedReason(error));

    bool has_event_time = false;
    int64_t event_time = 0;
    size_t position = 0;
    for (auto field_result : object) {
      simdjson::ondemand::field field;
      error = std::move(field_result).get(field);
      if (error) return Fail(MalformedReason(error));
      const int column = MatchKey(position++, field, &error);
      if (error) return Fail(MalformedReason(error));
      if (column < 0) continue;  // not a schema column: ignored
      simdjson::ondemand::value& value = field.value();
      if (column == event_time_field_) {
        // Read from the raw token, which does not consume the value.
        const std::string_view token = TrimJsonSpace(value.raw_json_token());
        const std::optional<int64_t> millis = EventTimeFromToken(token, event_time_format_);
        has_event_time = millis.has_value();
        event_time = millis.value_or(0);
        // A TIMESTAMP column whose value is a JSON integer of epoch milliseconds holds what was
        // just parsed; the value need not be parsed again.
        if (millis && columns_[static_cast<size_t>(column)].type == TypeId::kTimestamp &&
            event_time_format_ != EventTimeFormat::kEpochSeconds && IsJsonInteger(token)) {
          columns_[static_cast<size_t>(column)].Set<int64_t>(row, *millis);
          continue;
        }
      }
      if (!StoreValue(static_cast<size_t>(column), value, row)) return false;
    }
    // After the object the document must be at its end: anything else is trailing content.
    const char* location = nullptr;
    if (document.current_location().get(location) != simdjson::OUT_OF_BOUNDS) {
      return Fail("malformed JSON: trailing content after the object");
    }
    if (event_time_field_ >= 0) {
      if (!has_event_time) {
        return Fail(StrCat("missing or invalid event time in field '", names_[event_time_field_], "'"));
      }
      columns_.back().Set<int64_t>(row, event_time);
    }
    return true;
  }

  // The schema column of `field`'s key, or -1 when the key is not a column.
  int MatchKey(size_t position, simdjson::ondemand::field& field, simdjson::error_code* error) {
    *error = simdjson::SUCCESS;
    if (position >= key_slots_.size()) key_slots_.resize(position + 1);
    KeySlot& slot = key_slots_[position];
    if (slot.valid) {
      const simdjson::ondemand::raw_json_string raw_key = field.key();
      if (slot.column >= 0) {
        const size_t column = static_cast<size_t>(slot.column);
        if (raw_comparable_[column] && raw_key.unsafe_is_equal(names_[column])) return slot.column;
      } else if (raw_key.unsafe_is_equal(slot.key)) {
        return -1;
      }
    }
    std::string_view key;
    *error = field.unescaped_key().get(key);
    if (*error) return -1;
    int column = -1;
    for (size_t i = 0; i < names_.size() && column < 0; ++i) {
      if (names_[i] == key) column = static_cast<int>(i);
    }
    for (size_t i = 0; i < names_.size() && column < 0; ++i) {
      if (EqualsIgnoreCase(names_[i], key)) column = static_cast<int>(i);  // SQL identifiers
    }
    slot.column = column;
    if (column >= 0) {
      slot.valid = raw_comparable_[static_cast<size_t>(column)];
    } else {
      slot.valid = SafeForRawCompare(key);
      if (slot.valid) slot.key.assign(key.data(), key.size());
    }
    return column;
  }

  // NULL when `value` is null, else a type mismatch.
  bool NullOrMismatch(size_t column, simdjson::ondemand::value& value) {
    bool is_null = false;
    if (!value.is_null().get(is_null) && is_null) return true;  // the slot is already NULL
    return Fail(StrCat("field '", names_[column], "': ", ShowValue(value.raw_json_token()), " is not a ",
                       TypeName(columns_[column].type)));
  }

  // A DECIMAL from a JSON number's text (or a string holding one), exactly: never through a
  // double.
  bool StoreDecimal(size_t column, simdjson::ondemand::value& value, size_t row) {
    OutputColumn& target = columns_[column];
    std::string_view text = TrimJsonSpace(value.raw_json_token());
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
      text = text.substr(1, text.size() - 2);
    } else if (text.empty() || !(text[0] == '-' || (text[0] >= '0' && text[0] <= '9'))) {
      return NullOrMismatch(column, value);
    }
    const std::optional<__int128> unscaled =
        ParseDecimal(text, DecimalPrecision(target.type), DecimalScale(target.type));
    if (!unscaled) {
      return Fail(StrCat("field '", names_[column], "': ", ShowValue(value.raw_json_token()),
                         " is not a number that fits ", TypeName(target.type)));
    }
    target.SetDecimal(row, *unscaled);
    return true;
  }

  bool StoreValue(size_t column, simdjson::ondemand::value& value, size_t row) {
    OutputColumn& target = columns_[column];
    if (IsDecimal(target.type)) return StoreDecimal(column, value, row);
    switch (target.type) {
      case TypeId::kInt64: {
        int64_t number = 0;
        if (value.get_int64().get(number)) return NullOrMismatch(column, value);
        target.Set<int64_t>(row, number);
        return true;
      }
      case TypeId::kDouble: {
        double number = 0;
        if (value.get_double().get(number)) return NullOrMismatch(column, value);
        target.Set<double>(row, number);
        return true;
      }
      case TypeId::kBoolean: {
        bool boolean = false;
        if (value.get_bool().get(boolean)) return NullOrMismatch(column, value);
        target.Set<uint8_t>(row, boolean ? 1 : 0);
        return true;
      }
      case TypeId::kTimestamp: {
        int64_t millis = 0;
        if (!value.get_int64().get(millis)) {
          target.Set<int64_t>(row, millis);
          return true;
        }
        std::string_view text;
        if (!value.get_string().get(text)) {
          const std::optional<int64_t> parsed = ParseTimestamp(text);
          if (!parsed) {
            return Fail(StrCat("field '", names_[column], "': ", ShowValue(StrCat("\"", text, "\"")),
                               " is not a TIMESTAMP"));
          }
          target.Set<int64_t>(row, *parsed);
          return true;
        }
        return NullOrMismatch(column, value);
      }
      case TypeId::kString: return StoreString(column, value, row);
      case TypeId::kNull: return true;  // a column of only NULLs
    }
    return true;
  }

  // Strings are stored unescaped; any other JSON value is stored as its JSON text.
  bool StoreString(size_t column, simdjson::ondemand::value& value, size_t row) {
    OutputColumn& target = columns_[column];
    // The common case, a string without escapes, is taken from the input as it is (one copy,
    // into the column's heap) instead of being unescaped by simdjson first. The raw token runs
    // to the next token, so it may end in spaces.
    const std::string_view token = value.raw_json_token();
    if (!token.empty() && token[0] == '"') {
      const std::string_view quoted = token.back() == '"' ? token : TrimJsonSpace(token);
      if (quoted.size() >= 2 && quoted.back() == '"' && !HasBackslash(quoted)) {
        target.Set<std::string_view>(row, target.heap->Add(quoted.substr(1, quoted.size() - 2)));
        return true;
      }
    }
    json_type type = json_type::null;
    simdjson::error_code error = value.type().get(type);
    if (error) return Fail(MalformedReason(error));
    std::string_view text;
    switch (type) {
      case json_type::string: error = value.get_string().get(text); break;
      case json_type::null: {
        bool is_null = false;
        error = value.is_null().get(is_null);
        if (!error && !is_null) error = simdjson::INCORRECT_TYPE;
        if (error) return Fail(MalformedReason(error));
        return true;
      }
      case json_type::object: {
        simdjson::ondemand::object object;
        error = value.get_object().get(object);
        if (!error) error = object.raw_json().get(text);
        break;
      }
      case json_type::array: {
        simdjson::ondemand::array array;
        error = value.get_array().get(array);
        if (!error) error = array.raw_json().get(text);
        break;
      }
      case json_type::number: {
        text = TrimJsonSpace(value.raw_json_token());
        double ignored = 0;
        if (value.get_double().get(ignored))
          return Fail(StrCat("malformed JSON: invalid number ", ShowValue(text)));
        break;
      }
      case json_type::boolean: {
        text = TrimJsonSpace(value.raw_json_token());
        bool ignored = false;
        if (value.get_bool().get(ignored))
          return Fail(StrCat("malformed JSON: invalid literal ", ShowValue(text)));
        break;
      }
    }
    if (error) return Fail(MalformedReason(error));
    target.Set<std::string_view>(row, target.heap->Add(text));
    return true;
  }

  Schema schema_;
  std::vector<std::string> names_;
  std::vector<bool> raw_comparable_;  // the name can be compared to a raw (escaped) key
  int event_time_field_;
  EventTimeFormat event_time_format_;
  bool records_padded_;  // parse records in place (DecoderOptions::records_padded)
  std::vector<KeySlot> key_slots_;
  simdjson::ondemand::parser parser_;
  std::string padded_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RecordDecoder>> MakeJsonDecoder(const DecoderOptions& options) {
  if (options.event_time_field >= static_cast<int>(options.schema.size())) {
    return absl::InvalidArgumentError(StrCat("event time field index ", options.event_time_field,
                                             " is out of range for ", options.schema.size(), " columns"));
  }
  return std::unique_ptr<RecordDecoder>(new JsonDecoder(options));
}

}  // namespace sluice
