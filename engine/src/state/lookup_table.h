// LookupTable: the rows of a lookup join's table (ops/lookup_join_operator.h), keyed by the
// table's primary key and, when the table has a version time, versioned by it.
//
// Built once by a Builder from the table's batches, then only read. Versions: a table without a
// version time keeps one row per key, the last one added (the file's order). A versioned table
// keeps every row, each a version of its key valid from its time on: a lookup as of time t sees
// the key's latest version whose time is at or below t (of versions with equal times, the one
// added last), and none when every version is later than t. A row whose key holds a NULL is
// never found (SQL's `=`), so it is not kept; nor is a versioned row without a time.
//
// Layout: every kept row in column arrays sorted by (key, time), so that a key's versions are
// one run [begin, end) of rows; a KeyTable maps a key to its group, and per group the run's
// bounds. No allocation per row; the columns are Columns that output batches point into (their
// strings stay where they are while the table lives).
//
// Thread safety: Find() and the accessors are const and may be called from several threads at
// once (each caller with its own scratch).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "batch/batch.h"
#include "state/key_table.h"
#include "types/schema.h"

namespace sluice {

class LookupTable {
 public:
  static constexpr uint32_t kNoRow = 0xFFFFFFFF;

  class Builder {
   public:
    // `schema`: the table's columns; `key_columns`: its primary key (indexes into schema);
    // `time_column`: the version time (a TIMESTAMP or BIGINT column), or nullopt: unversioned.
    Builder(Schema schema, std::vector<size_t> key_columns, std::optional<size_t> time_column);
    // Adds the active rows of `batch`, whose first columns are the table's (schema order).
    void Add(const Batch& batch);
    std::shared_ptr<const LookupTable> Finish();

   private:
    std::shared_ptr<LookupTable> table_;
    std::vector<std::shared_ptr<Column>> columns_;  // every row added, in order
    size_t rows_ = 0;
  };

  // Per-caller scratch of Find().
  struct Scratch {
    KeyTable::FindScratch keys;
    std::vector<uint32_t> groups;
  };

  // For each active row of `keys` (one column per primary key column, of the key's types),
  // writes to rows[row] the table row it finds, or kNoRow: the key's latest version, or with
  // `as_of` (a TIMESTAMP or BIGINT column, epoch ms) its latest version at or before as_of[row]
  // (a NULL as_of finds nothing). `rows` is indexed by physical row.
  void Find(const Column* const* keys, const Column* as_of, const uint32_t* selection, size_t count,
            uint32_t* rows, Scratch& scratch) const;

  const Schema& schema() const { return schema_; }
  const std::shared_ptr<Column>& column(size_t i) const { return columns_[i]; }
  bool versioned() const { return time_column_.has_value(); }
  size_t row_count() const { return times_.size(); }
  size_t key_count() const { return keys_.size(); }
  // Rows added but not kept: a NULL in the key, no time in a versioned table, or (unversioned)
  // superseded by a later row of the same key.
  size_t rows_dropped() const { return rows_dropped_; }
  // Bytes held by the rows, their strings, the key table and the runs.
  size_t MemoryBytes() const;

 private:
  LookupTable(Schema schema, std::vector<size_t> key_columns, std::optional<size_t> time_column);

  Schema schema_;
  std::vector<size_t> key_columns_;
  std::optional<size_t> time_column_;
  std::vector<std::shared_ptr<Column>> columns_;  // kept rows, sorted by (group, time)
  std::vector<int64_t> times_;                    // per kept row: its version time (0 unversioned)
  KeyTable keys_;
  // Per group: its rows [begin, end), side by side so that a lookup reads one cache line.
  struct Run {
    uint32_t begin = 0;
    uint32_t end = 0;
  };
  std::vector<Run> runs_;
  size_t rows_dropped_ = 0;
};

}  // namespace sluice
