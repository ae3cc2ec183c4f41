// Accumulators: the per-group state of one aggregate function, stored in columns (one array
// per field, indexed by group id from a KeyTable) and updated a whole batch at a time.
//
// Update() is called once per batch with the argument column and each active row's group id;
// it is a plain loop over the rows with no virtual call or allocation per row (strings of
// MIN/MAX/FIRST/LAST_VALUE and COUNT(DISTINCT) keys excepted: they are copied when they
// change). Reset() returns a group to its empty state (a group id is reused after the
// group is freed). Finalize() writes the result of each listed group.
#pragma once

#include <memory>

#include "batch/column.h"
#include "expr/aggregate_function.h"
#include "state/state_serializer.h"

namespace sluice {

class Accumulator {
 public:
  virtual ~Accumulator() = default;

  // Makes room for group ids below `groups`; new slots are empty.
  virtual void Resize(size_t groups) = 0;
  virtual void Reset(uint32_t group) = 0;
  // `argument` is null for COUNT(*). `groups[row]` holds the group of each active row.
  virtual void Update(const Column* argument, const uint32_t* selection, size_t count,
                      const uint32_t* groups) = 0;
  // Folds group `from` into group `into` (session windows merging); `from` is left as is.
  // FIRST_VALUE keeps `into`'s value unless it has none; LAST_VALUE takes `from`'s if any.
  virtual void Merge(uint32_t into, uint32_t from) = 0;
  // out[i] = result of groups[i], for i < n.
  virtual void Finalize(const uint32_t* groups, size_t n, Column& out) const = 0;

  // Approximate bytes of state held (the per-group arrays and what they point to).
  virtual size_t MemoryBytes() const = 0;

  // State of groups [0, groups) (the caller snapshots which ids are live).
  virtual void Snapshot(StateWriter& writer, size_t groups) const = 0;
  virtual absl::Status Restore(StateReader& reader, size_t groups) = 0;
};

std::unique_ptr<Accumulator> MakeAccumulator(AggregateKind kind, TypeId argument_type, TypeId result_type);

}  // namespace sluice
