// The WITH properties of a job: collected from every statement, `${VAR:default}` substituted,
// validated against the known keys, and looked up by the binder and the connectors.
//
// Keys are either job-wide ('event.time.field') or scoped to a source or sink by its name
// ('orders.path'). Properties are job-wide: a key set in one statement's WITH is visible to
// every statement (setting it twice to different values is an error).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sql/ast.h"
#include "sql/sql_error_list.h"

namespace sluice {

struct PropertyValue {
  std::string value;
  SourcePosition key_position;
  SourcePosition value_position;
};

// Variables for ${VAR} / ${VAR:default}: --set values first, then the environment.
struct SubstitutionContext {
  std::map<std::string, std::string> variables;
  bool use_environment = true;
};

class JobProperties {
 public:
  // Collects the properties of every statement of `job` and job.properties (lowered from
  // Flink's CREATE TABLE and SET: plan/flink_dialect.h), substituting variables. A value whose
  // substitution fails, or a key set twice to different values, is reported to `errors` (each
  // one) and left out.
  static JobProperties Collect(const ParsedJob& job, const SubstitutionContext& context,
                               SqlErrorList& errors);
  // The properties, or the first error.
  static absl::StatusOr<JobProperties> Collect(const ParsedJob& job, const SubstitutionContext& context);

  const PropertyValue* Find(const std::string& key) const;
  // The value of `<scope>.<key>` or nullptr.
  const PropertyValue* FindScoped(const std::string& scope, const std::string& key) const;
  const std::map<std::string, PropertyValue>& all() const { return properties_; }

  // Checks every key: job-wide keys must be known, scoped keys must name a known scope
  // (`names`: sources and streams of the job) and a key valid for it: for its connector type
  // when '<name>.type' is set (a Kafka key on a file source is an error), for any connector
  // otherwise. Each bad key goes to `errors`, in the order of the text, pointing at the key and
  // suggesting the nearest known key.
  void Validate(const SourceText& source, const std::vector<std::string>& names, SqlErrorList& errors) const;
  // The first bad key's error (in the order of the text), or OkStatus().
  absl::Status Validate(const SourceText& source, const std::vector<std::string>& names) const;

 private:
  std::map<std::string, PropertyValue> properties_;
};

// Keys valid after '<name>.' for a source or sink of connector type `type`, as its connector
// registered them (catalog/connector_registry.h); for any other value, the keys of every type. Kafka
// types also accept 'properties.<librdkafka key>'.
const std::vector<std::string>& ScopedPropertyKeys(std::string_view type);
// Keys valid for any connector type, and job-wide keys.
const std::vector<std::string>& ScopedPropertyKeys();
const std::vector<std::string>& JobPropertyKeys();

// Parses a duration property: '500ms', '5s', '2m', '1h', '1d', '5 seconds', '1 minute',
// or a bare number of milliseconds.
std::optional<int64_t> ParseDurationText(std::string_view text);

// A byte size: a whole number with an optional unit, B, K, M, G or T, each also spelled KB/KiB
// and so on, in any case, powers of 1024 (as Flink's memory sizes): "1048576", "512MB",
// "2 GiB", "64k". Nullopt when malformed, zero, or above 2^63.
std::optional<uint64_t> ParseByteSize(std::string_view text);

}  // namespace sluice
