#include "plan/job_properties.h"

#include <algorithm>
#include <cstdlib>

#include "common/strings.h"
#include "catalog/connector_registry.h"
#include "sql/parser.h"
#include "types/number_format.h"
#include "types/schema.h"

namespace sluice {

const std::vector<std::string>& ScopedPropertyKeys() {
  return ConnectorRegistry::Default().AllKeyNames();
}

const std::vector<std::string>& ScopedPropertyKeys(std::string_view type) {
  const std::vector<std::string>* keys = ConnectorRegistry::Default().KeyNames(type);
  return keys != nullptr ? *keys : ScopedPropertyKeys();
}

const std::vector<std::string>& JobPropertyKeys() {
  static const std::vector<std::string> keys = {"event.time.field",
                                                "event.time.format",
                                                "watermark.strategy",
                                                "watermark.max_out_of_orderness",
                                                "watermark.idle_timeout",
                                                "watermark.alignment.max_drift",
                                                "late.data.strategy",
                                                "late.data.allowed_lateness",
                                                "state.ttl",
                                                "state.max.bytes",
                                                "state.backend",
                                                "state.rocksdb.dir",
                                                "state.rocksdb.memory",
                                                "checkpoint.dir",
                                                "checkpoint.interval",
                                                "checkpoint.retained",
                                                "restart.strategy",
                                                "restart.attempts",
                                                "restart.delay"};
  return keys;
}

std::optional<int64_t> ParseDurationText(std::string_view text) {
  text = StripWhitespace(text);
  if (StartsWithIgnoreCase(text, "INTERVAL")) text = StripWhitespace(text.substr(8));
  std::string cleaned;
  for (char c : text) {
    if (c != '\'') cleaned += c;
  }
  std::string_view rest = StripWhitespace(cleaned);
  size_t digits = 0;
  while (digits < rest.size() && IsAsciiDigit(rest[digits])) ++digits;
  if (digits == 0) return std::nullopt;
  const auto count = ParseInt64(rest.substr(0, digits));
  if (!count) return std::nullopt;
  const std::string_view unit = StripWhitespace(rest.substr(digits));
  if (unit.empty()) return *count;
  const auto millis = IntervalUnitMillis(unit);
  if (!millis) return std::nullopt;
  return *count * *millis;
}

std::optional<uint64_t> ParseByteSize(std::string_view text) {
  text = StripWhitespace(text);
  size_t digits = 0;
  while (digits < text.size() && IsAsciiDigit(text[digits])) ++digits;
  if (digits == 0 || digits > 19) return std::nullopt;
  const auto count = ParseInt64(text.substr(0, digits));
  if (!count || *count <= 0) return std::nullopt;
  std::string unit = AsciiToUpper(StripWhitespace(text.substr(digits)));
  if (unit.size() == 3 && unit.substr(1) == "IB") unit = unit.substr(0, 1);  // KiB, MiB, ...
  if (unit.size() == 2 && unit[1] == 'B') unit = unit.substr(0, 1);          // KB, MB, ...
  int shift = 0;
  if (unit.empty() || unit == "B") {
    shift = 0;
  } else if (unit == "K") {
    shift = 10;
  } else if (unit == "M") {
    shift = 20;
  } else if (unit == "G") {
    shift = 30;
  } else if (unit == "T") {
    shift = 40;
  } else {
    return std::nullopt;
  }
  const uint64_t value = static_cast<uint64_t>(*count);
  if (value > (uint64_t{1} << (63 - shift))) return std::nullopt;
  return value << shift;
}

namespace {

// Replaces ${VAR} and ${VAR:default} in `value`.
absl::StatusOr<std::string> Substitute(const std::string& value, const SubstitutionContext& context) {
  std::string out;
  size_t i = 0;
  while (i < value.size()) {
    if (value[i] == '$' && i + 1 < value.size() && value[i + 1] == '{') {
      const size_t close = value.find('}', i + 2);
      if (close == std::string::npos) {
        return absl::InvalidArgumentError(StrCat("unterminated '${' in '", value, "'"));
      }
      const std::string body = value.substr(i + 2, close - i - 2);
      const size_t colon = body.find(':');
      const std::string name = body.substr(0, colon);
      std::optional<std::string> replacement;
      if (auto it = context.variables.find(name); it != context.variables.end()) {
        replacement = it->second;
      } else if (const char* env = context.use_environment ? std::getenv(name.c_str()) : nullptr) {
        replacement = env;
      } else if (colon != std::string::npos) {
        replacement = body.substr(colon + 1);
      }
      if (!replacement) {
        return absl::InvalidArgumentError(StrCat("variable '", name, "' is not set; pass --set ", name,
                                                 "=VALUE, set it in the environment, or write ${", name,
                                                 ":default}"));
      }
      out += *replacement;
      i = close + 1;
    } else {
      out += value[i++];
    }
  }
  return out;
}

// Whether `key` (after '<name>.') is valid for a connector of `type` ("" or an unknown type:
// valid for any connector).
bool IsKnownScopedKey(const std::string& key, std::string_view type) {
  const bool kafka_properties = ConnectorRegistry::Default().AcceptsKafkaProperties(type);
  if (kafka_properties && StartsWith(key, "properties.") && key.size() > 11) return true;  // librdkafka's
  for (const auto& known : ScopedPropertyKeys(type)) {
    if (key == known) return true;
  }
  return false;
}

}  // namespace

JobProperties JobProperties::Collect(const ParsedJob& job, const SubstitutionContext& context,
                                     SqlErrorList& errors) {
  JobProperties result;
  // Those lowered from Flink's CREATE TABLE and SET (plan/flink_dialect.h), then every statement's.
  std::vector<const std::vector<Property>*> lists = {&job.properties};
  for (const auto& statement : job.statements) lists.push_back(&statement.properties);
  for (const std::vector<Property>* properties : lists) {
    for (const auto& property : *properties) {
      if (errors.full()) return result;
      auto substituted = Substitute(property.value, context);
      if (!substituted.ok()) {
        errors.Add(job.source.Error(property.value_position, std::string(substituted.status().message())));
        continue;
      }
      PropertyValue value{*substituted, property.key_position, property.value_position};
      auto [it, inserted] = result.properties_.emplace(property.key, value);
      if (!inserted && it->second.value != value.value) {
        errors.Add(
            job.source.Error(property.key_position,
                             StrCat("property '", property.key, "' is set twice with different values ('",
                                    it->second.value, "' and '", value.value, "')")));
      }
    }
  }
  return result;
}

absl::StatusOr<JobProperties> JobProperties::Collect(const ParsedJob& job,
                                                     const SubstitutionContext& context) {
  SqlErrorList errors(/*limit=*/1);
  JobProperties result = Collect(job, context, errors);
  if (!errors.empty()) return errors.first();
  return result;
}

const PropertyValue* JobProperties::Find(const std::string& key) const {
  auto it = properties_.find(key);
  return it == properties_.end() ? nullptr : &it->second;
}

const PropertyValue* JobProperties::FindScoped(const std::string& scope, const std::string& key) const {
  return Find(StrCat(scope, ".", key));
}

void JobProperties::Validate(const SourceText& source, const std::vector<std::string>& names,
                             SqlErrorList& errors) const {
  // The connector type of each name ('<name>.type'), which decides the keys it accepts.
  auto type_of = [this](const std::string& name) -> std::string {
    const PropertyValue* type = FindScoped(name, "type");
    return type != nullptr ? type->value : "";
  };
  // Keys in the order of the text, so that errors are too.
  std::vector<const std::pair<const std::string, PropertyValue>*> in_text_order;
  for (const auto& entry : properties_) in_text_order.push_back(&entry);
  std::sort(in_text_order.begin(), in_text_order.end(), [](const auto* a, const auto* b) {
    const SourcePosition& x = a->second.key_position;
    const SourcePosition& y = b->second.key_position;
    return x.line != y.line ? x.line < y.line : x.column < y.column;
  });
  for (const auto* entry : in_text_order) {
    if (errors.full()) return;
    const std::string& key = entry->first;
    bool known = false;
    for (const auto& job_key : JobPropertyKeys()) known = known || key == job_key;
    std::string mismatched_type;  // a key that another connector type would accept
    for (const auto& name : names) {
      if (!StartsWith(key, name + ".")) continue;
      const std::string scoped = key.substr(name.size() + 1);
      if (IsKnownScopedKey(scoped, type_of(name))) {
        known = true;
      } else if (IsKnownScopedKey(scoped, "")) {
        mismatched_type = type_of(name);
      }
    }
    if (known) continue;
    std::vector<std::string> candidates = JobPropertyKeys();
    for (const auto& name : names) {
      for (const auto& scoped : ScopedPropertyKeys(type_of(name)))
        candidates.push_back(StrCat(name, ".", scoped));
    }
    std::string message = mismatched_type.empty()
                              ? StrCat("unknown property '", key, "'")
                              : StrCat("property '", key, "' does not apply to a ", mismatched_type);
    if (auto nearest = NearestName(key, candidates)) {
      StrAppend(&message, "; did you mean '", *nearest, "'?");
    } else if (!mismatched_type.empty()) {
      StrAppend(&message, " (its keys: ", StrJoin(ScopedPropertyKeys(mismatched_type), ", "),
                ConnectorRegistry::Default().AcceptsKafkaProperties(mismatched_type)
                    ? ", properties.<librdkafka key>"
                    : "",
                ")");
    } else {
      StrAppend(&message, "; keys are job-wide (e.g. 'event.time.field') or '<source or stream>.<key>'");
    }
    errors.Add(source.Error(entry->second.key_position, message));
  }
}

absl::Status JobProperties::Validate(const SourceText& source, const std::vector<std::string>& names) const {
  SqlErrorList errors(/*limit=*/1);
  Validate(source, names, errors);
  return errors.first();
}

}  // namespace sluice
