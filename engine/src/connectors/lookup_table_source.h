// LookupTableSource: the table a lookup join reads (ops/lookup_join_operator.h), loaded once
// and then shared read-only by every instance of the join (one per worker).
//
// The table is a source declared with '<name>.primary.key' (plan/binder.cc binds it): its
// connector's readers read every partition to the end, and the rows go into a LookupTable
// keyed by the primary key, versioned by the source's event time when it has one (see
// state/lookup_table.h). Bad records go to the source's dead-letter output, as a stream's do.
//
// Loading happens on the first Get(), which the join's first batch, watermark or end calls:
// explain and binding never read the table. A worker that calls Get() while another loads
// waits for it (once, at the start of the job).
//
// Re-reading ('<name>.reload.interval'): at most once per interval (steady clock), a Get()
// compares the files' modification times and sizes with those of the last read; when they
// differ it reads the files again, outside the lock (the other callers keep getting the table
// they had), and every Get() after returns the new table. A failed re-read is the error of
// every Get() from then on: the job fails rather than go on with a table it cannot vouch for.
// The files are those the path named when the job was bound.
//
// Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "catalog/connector_definition.h"
#include "catalog/lookup_table_provider.h"
#include "common/status.h"
#include "state/lookup_table.h"

namespace sluice {

class LookupTableSource final : public LookupTableProvider {
 public:
  // `definition`: the bound source; `key_columns`: its primary key (indexes into its schema).
  // The table's version time is the source's _event_time when it has event time.
  LookupTableSource(SourceDefinition definition, std::vector<size_t> key_columns,
                    std::optional<int64_t> reload_interval_millis = std::nullopt);

  const SourceDefinition& definition() const override { return definition_; }
  const std::vector<size_t>& key_columns() const override { return key_columns_; }
  const std::optional<int64_t>& reload_interval_millis() const override { return reload_interval_millis_; }
  // How many times the files were read again (0 until they change).
  uint64_t reloads() const override;

  // The loaded table: the first call loads it, and every call after returns it, or the load's
  // error.
  absl::StatusOr<std::shared_ptr<const LookupTable>> Get() override;

 private:
  absl::StatusOr<std::shared_ptr<const LookupTable>> Load() const;
  // The files' modification times and sizes, to tell that they changed.
  std::vector<int64_t> FileSignature() const;

  const SourceDefinition definition_;
  const std::vector<size_t> key_columns_;
  const std::optional<int64_t> reload_interval_millis_;
  mutable std::mutex mutex_;
  bool loaded_ = false;                                       // guarded by mutex_
  absl::StatusOr<std::shared_ptr<const LookupTable>> table_;  // guarded by mutex_
  std::vector<int64_t> signature_;                            // guarded by mutex_: of the last read
  int64_t next_check_nanos_ = 0;                              // guarded by mutex_ (steady clock)
  bool reloading_ = false;                                    // guarded by mutex_
  uint64_t reloads_ = 0;                                      // guarded by mutex_
};

}  // namespace sluice
