// Batch: a horizontal slice of a stream, N rows by typed Columns, with an optional selection.
//
// The selection vector lists, in increasing order, the physical rows that are logically part
// of the batch; without one every row 0..num_rows()-1 is. A filter narrows the selection
// instead of copying rows, and a projection forwards untouched input columns by pointer.
//
// Row kinds: a batch may carry one RowKind per physical row (batch/row_kind.h), in a BOOLEAN-typed
// column whose bytes are RowKind values. Without one every row is an insert, so append-only
// streams pay nothing per row. Operators that share columns (filter, limit, fan-out) share the
// row kinds with them; a projection forwards them; selection vectors apply to them as to any
// column.
//
// Lifetime: a producer may reuse its columns for its next batch. A consumer that must keep
// data beyond the current Push() copies it (or holds the shared_ptr<Column>, which stops the
// producer from reusing that column; see ColumnPool).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "batch/column.h"
#include "batch/row_kind.h"

namespace sluice {

class Batch {
 public:
  Batch() = default;

  size_t num_rows() const { return num_rows_; }
  size_t num_columns() const { return columns_.size(); }

  const Column& column(size_t i) const { return *columns_[i]; }
  Column& mutable_column(size_t i) { return *columns_[i]; }
  const std::shared_ptr<Column>& shared_column(size_t i) const { return columns_[i]; }

  // Replaces the columns; every column must have at least num_rows rows. Clears the selection
  // and the row kinds.
  void SetColumns(std::vector<std::shared_ptr<Column>> columns, size_t num_rows);
  // Allocation-free variants for per-batch use; capacity is kept across calls.
  // Reset: `num_columns` empty column slots, to be filled with SetColumn; clears the selection
  // and the row kinds.
  void Reset(size_t num_columns, size_t num_rows);
  void SetColumn(size_t i, std::shared_ptr<Column> column) { columns_[i] = std::move(column); }
  // Shares (does not copy) `other`'s columns, row kinds and row count; clears the selection.
  void ShareColumns(const Batch& other);
  // Drops every column reference (so producers can reuse their columns); keeps capacity.
  void Release();
  void AddColumn(std::shared_ptr<Column> column) { columns_.push_back(std::move(column)); }
  void SetNumRows(size_t rows) { num_rows_ = rows; }

  // --- row kinds -------------------------------------------------------------------------
  bool has_row_kinds() const { return row_kinds_ != nullptr; }
  // One RowKind per physical row, or nullptr when every row is an insert.
  const RowKind* row_kinds() const {
    return row_kinds_ != nullptr ? reinterpret_cast<const RowKind*>(row_kinds_->data<uint8_t>()) : nullptr;
  }
  RowKind row_kind(size_t row) const {
    return row_kinds_ != nullptr ? static_cast<RowKind>(row_kinds_->data<uint8_t>()[row]) : RowKind::kInsert;
  }
  const std::shared_ptr<Column>& shared_row_kinds() const { return row_kinds_; }
  // Sets (null: clears) the row kinds: a column of at least num_rows() bytes holding RowKinds.
  void SetRowKinds(std::shared_ptr<Column> kinds) { row_kinds_ = std::move(kinds); }

  // --- selection -------------------------------------------------------------------------
  bool has_selection() const { return has_selection_; }
  // Rows logically in the batch: the selection's length, or num_rows().
  size_t active_rows() const { return has_selection_ ? selection_count_ : num_rows_; }
  // The selection, or nullptr when every row is active.
  const uint32_t* selection() const { return has_selection_ ? selection_.data() : nullptr; }
  // Writable selection storage of at least num_rows() entries; call SetSelectionCount after.
  uint32_t* MutableSelection();
  void SetSelectionCount(size_t count);
  void ClearSelection() { has_selection_ = false; }
  // Physical index of the i-th active row.
  uint32_t ActiveRow(size_t i) const { return has_selection_ ? selection_[i] : static_cast<uint32_t>(i); }

 private:
  std::vector<std::shared_ptr<Column>> columns_;
  std::shared_ptr<Column> row_kinds_;  // null: every row an insert
  size_t num_rows_ = 0;
  bool has_selection_ = false;
  size_t selection_count_ = 0;
  std::vector<uint32_t> selection_;
};

// Loops `body(row)` (row: size_t) over the active rows given by (selection, count);
// `selection` may be null. The dense loop keeps a size_t index and a local bound so that the
// compiler can vectorize it.
template <typename Body>
inline void ForEachActiveRow(const uint32_t* selection, size_t count, Body&& body) {
  const size_t n = count;
  if (selection == nullptr) {
    for (size_t i = 0; i < n; ++i) body(i);
  } else {
    for (size_t i = 0; i < n; ++i) body(static_cast<size_t>(selection[i]));
  }
}

// Hands out a column for each batch, reusing one that no consumer still holds. Keeps the
// steady state free of allocation: a pipeline on one thread reuses a single column; one whose
// batches wait in an exchange's ring (shared, not copied) cycles through as many as are in
// flight, up to kMaxPooled. Not thread-safe: a consumer on another thread must hand its
// references back to the producer's thread to drop (runtime/exchange.h does).
class ColumnPool {
 public:
  static constexpr size_t kMaxPooled = 64;

  explicit ColumnPool(TypeId type) : type_(type) {}
  // A cleared column with `rows` rows, all slots unspecified until written.
  std::shared_ptr<Column> Acquire(size_t rows);

 private:
  TypeId type_;
  std::vector<std::shared_ptr<Column>> columns_;
  size_t next_ = 0;  // where the search for a free column starts
};

}  // namespace sluice
