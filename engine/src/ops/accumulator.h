// Accumulators: the per-group state of one aggregate function, indexed by group id from a
// KeyTable and updated a whole batch at a time.
//
// Fixed-width state (counts, sums, MIN/MAX/FIRST/LAST of fixed-width values, variance terms)
// lives in fields of a StateRows that all of an operator's accumulators share: one row per
// group, so that a batch's update of every aggregate of a group touches one or two cache lines
// instead of one line per field array. On a table larger than the caches, the first
// accumulator's loop over a batch takes the misses and the others find the rows in cache. Other
// state (strings, COUNT(DISTINCT)'s pairs) lives in the accumulator's own arrays.
//
// Update() is called once per batch with the argument column and each active row's group id;
// it is a plain loop over the rows with no virtual call or allocation per row (strings of
// MIN/MAX/FIRST/LAST_VALUE and COUNT(DISTINCT) keys excepted: they are copied when they
// change). Reset() returns a group to its empty state (a group id is reused after the
// group is freed). Finalize() writes the result of each listed group.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "batch/column.h"
#include "common/state_vector.h"
#include "expr/aggregate_function.h"
#include "state/state_serializer.h"

namespace sluice {

// The rows of per-group fixed-width fields. Fields are added before any row exists; the layout
// puts the largest fields first, so that no field needs padding, and rounds the row up to 8
// bytes (16 with a 16-byte field). Not thread-safe.
class StateRows {
 public:
  // A field's values: group g's at base + g * stride. Valid until the next Resize().
  template <typename T>
  class Field {
   public:
    Field(uint8_t* base, size_t stride) : base_(base), stride_(stride) {}
    T& operator[](uint32_t group) const { return *reinterpret_cast<T*>(base_ + size_t{group} * stride_); }

   private:
    uint8_t* base_;
    size_t stride_;
  };

  // Adds a field of `size` bytes (1, 2, 4, 8 or 16) and returns its index.
  // REQUIRES: no rows (Resize() to a non-zero count has not been called).
  size_t AddField(size_t size);
  // Makes room for group ids below `groups`; new rows are zero (every field's empty state).
  void Resize(size_t groups);
  size_t groups() const { return groups_; }

  // Field `field`'s values (without rows, a view that must not be read).
  template <typename T>
  Field<T> Get(size_t field) {
    return Field<T>(rows_.empty() ? nullptr : rows_.data() + offsets_[field], stride_);
  }
  template <typename T>
  Field<const T> Get(size_t field) const {
    return const_cast<StateRows*>(this)->Get<const T>(field);
  }

  // Group `group`'s row: stride() bytes holding every field of the group. Valid until the next
  // Resize(). REQUIRES: group < groups().
  uint8_t* Row(uint32_t group) { return rows_.data() + size_t{group} * stride_; }
  const uint8_t* Row(uint32_t group) const { return rows_.data() + size_t{group} * stride_; }

  // Bytes held by the rows (their capacity).
  size_t MemoryBytes() const { return CapacityBytes(rows_); }
  size_t stride() const { return stride_; }

 private:
  std::vector<size_t> sizes_;    // per field
  std::vector<size_t> offsets_;  // per field
  size_t stride_ = 0;            // bytes per row (0 without fields)
  size_t groups_ = 0;
  // Allocated by operator new (or mapped), so aligned to at least 16 bytes.
  StateVector<uint8_t> rows_;
};

class Accumulator {
 public:
  virtual ~Accumulator() = default;

  // Makes room for group ids below `groups` in the accumulator's own arrays (the owner of the
  // StateRows resizes those); new slots are empty. An accumulator whose state is all in
  // StateRows fields has nothing to do.
  virtual void Resize(size_t groups) {}
  virtual void Reset(uint32_t group) = 0;
  // `argument` is null for COUNT(*). `groups[row]` holds the group of each active row.
  virtual void Update(const Column* argument, const uint32_t* selection, size_t count,
                      const uint32_t* groups) = 0;
  // Whether Retract() is implemented (COUNT, COUNT(*), SUM and AVG built retractable).
  virtual bool retracts() const { return false; }
  // Takes the active rows' values back out of their groups: the update-before and delete rows
  // of an updating input. REQUIRES: retracts().
  virtual void Retract(const Column* argument, const uint32_t* selection, size_t count,
                       const uint32_t* groups) {
    SLUICE_CHECK(false);
  }
  // Folds group `from` into group `into` (session windows merging); `from` is left as is.
  // FIRST_VALUE keeps `into`'s value unless it has none; LAST_VALUE takes `from`'s if any.
  void Merge(uint32_t into, uint32_t from) { MergeFrom(into, *this, from); }
  // The same with `from` a group of `source`: this accumulator (Merge), or the accumulator of
  // the same aggregate in another operator instance (a rescaled restore copies groups over).
  // REQUIRES: `source` has this one's type and was made for the same aggregate.
  virtual void MergeFrom(uint32_t into, const Accumulator& source, uint32_t from) = 0;
  // out[i] = result of groups[i], for i < n.
  virtual void Finalize(const uint32_t* groups, size_t n, Column& out) const = 0;

  // Whether all of a group's state is in its StateRows fields, none in arrays of the
  // accumulator's own: a group's state is then its row's bytes, which the RocksDB state
  // backend stores (ops/rocksdb_aggregate_operator.h). A zeroed row is the empty state.
  virtual bool state_in_rows() const { return false; }

  // Approximate bytes of state held in the accumulator's own arrays and what they point to
  // (the StateRows are counted by their owner): none when all its state is in StateRows.
  virtual size_t MemoryBytes() const { return 0; }

  // State of groups [0, groups) (the caller snapshots which ids are live). Restore requires
  // the StateRows to hold at least `groups` rows.
  virtual void Snapshot(StateWriter& writer, size_t groups) const = 0;
  virtual absl::Status Restore(StateReader& reader, size_t groups) = 0;
};

// An accumulator whose fixed-width fields are added to `rows`, which must outlive it.
// `retractable`: COUNT, COUNT(*), SUM and AVG implement Retract() (SUM then keeps a count of
// its non-NULL values instead of a flag, to know when it is NULL again); other kinds ignore it
// (the planner refuses them over an updating input).
std::unique_ptr<Accumulator> MakeAccumulator(AggregateKind kind, TypeId argument_type, TypeId result_type,
                                             StateRows& rows, bool retractable = false);

}  // namespace sluice
