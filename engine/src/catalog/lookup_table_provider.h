// LookupTableProvider: the table a lookup join reads, as the plan and the join operator see it
// (plan/logical_plan.h, ops/lookup_join_operator.h). A source connector that can serve as a
// table makes one (SourceConnector::make_lookup_table in catalog/connector_registry.h); the file
// connector's is connectors/lookup_table_source.h, which loads the table on the first Get() and
// may read it again when its files change. Shared read-only by every instance of the join.
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "catalog/connector_definition.h"
#include "common/status.h"
#include "state/lookup_table.h"

namespace sluice {

class LookupTableProvider {
 public:
  virtual ~LookupTableProvider() = default;

  // The bound source the table is read from.
  virtual const SourceDefinition& definition() const = 0;
  // Its primary key: indexes into the definition's schema.
  virtual const std::vector<size_t>& key_columns() const = 0;
  // The columns a join outputs: the decoded ones (not _event_time).
  size_t output_columns() const { return definition().decoder.schema.size(); }
  // Versioned by the source's event time when it has one.
  bool versioned() const { return definition().has_event_time; }
  // '<name>.reload.interval': how often the table's files are checked for changes; none: read once.
  virtual const std::optional<int64_t>& reload_interval_millis() const = 0;
  // How many times the table was read again (0 until its files change).
  virtual uint64_t reloads() const = 0;
  // The loaded table: the first call loads it; later calls return it (or the newest one read
  // again), or the load's error.
  virtual absl::StatusOr<std::shared_ptr<const LookupTable>> Get() = 0;
};

}  // namespace sluice
