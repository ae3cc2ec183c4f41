// An ordered list of named, typed fields: the shape of a source, a stream or an operator's
// output. Name lookup is case-insensitive (SQL identifiers) with an exact match preferred.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "types/logical_type.h"

namespace sluice {

struct Field {
  std::string name;
  TypeId type = TypeId::kNull;
  // System columns (_event_time, _timestamp, ...) are selectable by name but excluded from *.
  bool is_system = false;
};

class Schema {
 public:
  Schema() = default;
  explicit Schema(std::vector<Field> fields) : fields_(std::move(fields)) {}

  size_t size() const { return fields_.size(); }
  const Field& field(size_t i) const { return fields_[i]; }
  const std::vector<Field>& fields() const { return fields_; }
  void Add(Field field) { fields_.push_back(std::move(field)); }

  // Index of the field called `name`, or nullopt.
  std::optional<size_t> Find(std::string_view name) const;

  // "name TYPE, name TYPE" as EXPLAIN and errors print it.
  std::string ToString() const;

 private:
  std::vector<Field> fields_;
};

// The closest candidate to `name` by edit distance, if it is close enough to be a likely typo.
std::optional<std::string> NearestName(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace sluice
