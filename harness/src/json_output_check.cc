#include "json_output_check.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>

#include "common/strings.h"

namespace sluice::bench {
namespace {

const char* JsonTypeName(simdjson::dom::element_type type) {
  switch (type) {
    case simdjson::dom::element_type::ARRAY: return "an array";
    case simdjson::dom::element_type::OBJECT: return "an object";
    case simdjson::dom::element_type::INT64: return "an integer";
    case simdjson::dom::element_type::UINT64: return "an integer above INT64_MAX";
    case simdjson::dom::element_type::DOUBLE: return "a number with a fraction or exponent";
    case simdjson::dom::element_type::STRING: return "a string";
    case simdjson::dom::element_type::BOOL: return "a boolean";
    case simdjson::dom::element_type::NULL_VALUE: return "null";
  }
  return "?";
}

}  // namespace

JsonOutputCheck::JsonOutputCheck(const Schema& output, std::vector<size_t> changelog_key, LogBlockPool* pool)
    : checksum_(
          [&output] {
            std::vector<TypeId> types;
            for (const Field& field : output.fields()) types.push_back(field.type);
            return types;
          }(),
          std::move(changelog_key), pool),
      parser_(std::make_unique<simdjson::dom::parser>()) {
  for (const Field& field : output.fields()) {
    names_.push_back(field.name);
    types_.push_back(field.type);
  }
  cells_.resize(types_.size());
}

JsonOutputCheck::~JsonOutputCheck() = default;

void JsonOutputCheck::Fail(std::string_view record, const std::string& what) {
  if (!error_.empty()) return;
  constexpr size_t kShown = 200;
  error_ = StrCat("JSON record ", records_, " ", what, ": ", record.substr(0, kShown),
                  record.size() > kShown ? "..." : "");
}

void JsonOutputCheck::AddLines(std::string_view text) {
  padded_.assign(text.data(), text.size());
  padded_.append(simdjson::SIMDJSON_PADDING, ' ');
  const char* p = padded_.data();
  const char* end = p + text.size();
  while (p < end) {
    const char* newline = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (newline == nullptr) {
      ++records_;
      Fail(std::string_view(p, static_cast<size_t>(end - p)), "has no final newline");
      return;
    }
    Parse(p, static_cast<size_t>(newline - p));
    p = newline + 1;
  }
}

void JsonOutputCheck::AddRecord(std::string_view record) {
  padded_.assign(record.data(), record.size());
  padded_.append(simdjson::SIMDJSON_PADDING, ' ');
  Parse(padded_.data(), record.size());
}

void JsonOutputCheck::Parse(const char* data, size_t size) {
  ++records_;
  const std::string_view record(data, size);
  if (!error_.empty()) return;  // the first problem is the one reported
  simdjson::dom::element document;
  if (auto error = parser_->parse(data, size, /*realloc_if_needed=*/false).get(document); error) {
    Fail(record, StrCat("is not valid JSON (simdjson: ", simdjson::error_message(error), ")"));
    return;
  }
  simdjson::dom::object object;
  if (document.get(object) != simdjson::SUCCESS) {
    Fail(record, StrCat("is ", JsonTypeName(document.type()), ", not an object"));
    return;
  }
  size_t c = 0;
  for (simdjson::dom::key_value_pair field : object) {
    if (c == names_.size()) {
      Fail(record, StrCat("has a key '", field.key, "' after the output's ", names_.size(), " columns"));
      return;
    }
    if (field.key != names_[c]) {
      Fail(record, StrCat("has key '", field.key, "' where column ", c + 1, " is '", names_[c], "'"));
      return;
    }
    ResultChecksum::Cell& cell = cells_[c];
    const simdjson::dom::element value = field.value;
    const simdjson::dom::element_type type = value.type();
    cell.is_null = type == simdjson::dom::element_type::NULL_VALUE;
    bool ok = cell.is_null;
    if (!cell.is_null) {
      switch (types_[c]) {
        case TypeId::kInt64:
        case TypeId::kTimestamp:
          ok = type == simdjson::dom::element_type::INT64 &&
               value.get_int64().get(cell.integer) == simdjson::SUCCESS;
          break;
        case TypeId::kDouble:
          ok = (type == simdjson::dom::element_type::INT64 || type == simdjson::dom::element_type::UINT64 ||
                type == simdjson::dom::element_type::DOUBLE) &&
               value.get_double().get(cell.real) == simdjson::SUCCESS;
          break;
        case TypeId::kBoolean: {
          bool flag = false;
          ok = type == simdjson::dom::element_type::BOOL && value.get_bool().get(flag) == simdjson::SUCCESS;
          cell.integer = flag ? 1 : 0;
          break;
        }
        case TypeId::kString:
          ok = type == simdjson::dom::element_type::STRING &&
               value.get_string().get(cell.text) == simdjson::SUCCESS;
          break;
        case TypeId::kNull: ok = false; break;
      }
    }
    if (!ok) {
      Fail(record, StrCat("has ", JsonTypeName(type), " in column '", names_[c],
                          "', which the job outputs as ", TypeName(types_[c])));
      return;
    }
    ++c;
  }
  if (c != names_.size()) {
    Fail(record, StrCat("has ", c, " keys where the output has ", names_.size(), " columns"));
    return;
  }
  checksum_.AddRow(cells_);
}

}  // namespace sluice::bench
