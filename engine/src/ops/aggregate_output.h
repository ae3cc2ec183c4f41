// AggregateOutput: builds the output batches of a grouped aggregation (hash or session): the
// key columns, one column per aggregate (from its Accumulator), then _window_start and
// _window_end. Output columns come from pools, so the steady state does not allocate.
//
// Changelog output (an updating aggregate whose consumers need row kinds, see
// plan/changelog_mode.h): Capture() keeps the row a group showed when it was last emitted
// (its "before image") just before the group changes; EmitChanges() then writes a list of
// changes, each a row kind with the group's current row (insert, update-after) or its before
// image (update-before, delete), with a row-kind column. An update-before row and the
// update-after row that follows it always share a batch.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "batch/batch.h"
#include "batch/row_kind.h"
#include "ops/accumulator.h"
#include "state/state_serializer.h"
#include "types/schema.h"

namespace sluice {

class AggregateOutput {
 public:
  // A change to emit: the group's current row (kInsert, kUpdateAfter) or its before image
  // number `before` (kUpdateBefore, kDelete).
  struct Change {
    RowKind kind;
    uint32_t group;
    uint32_t before;
  };
  static constexpr uint32_t kNoBefore = UINT32_MAX;

  explicit AggregateOutput(const Schema& schema) : kinds_pool_(TypeId::kBoolean) {
    for (const auto& field : schema.fields()) {
      pools_.emplace_back(field.type);
      types_.push_back(field.type);
    }
  }

  // Emits `groups` in chunks of at most kChunk rows. `prepare(chunk, n)` is called first for
  // each chunk (to prefetch what the rows will read); `write_row(group, row, batch)` writes the
  // key columns [0, key_count) and the two window columns of one output row; the accumulators
  // fill the aggregate columns. `emit(batch)` passes each chunk downstream.
  template <typename Prepare, typename WriteRow, typename EmitBatch>
  absl::Status Emit(const std::vector<uint32_t>& groups, size_t key_count,
                    const std::vector<std::unique_ptr<Accumulator>>& accumulators, Prepare&& prepare,
                    WriteRow&& write_row, EmitBatch&& emit) {
    for (size_t offset = 0; offset < groups.size(); offset += kChunk) {
      const size_t n = std::min(kChunk, groups.size() - offset);
      const uint32_t* chunk = groups.data() + offset;
      prepare(chunk, n);
      batch_.Reset(pools_.size(), n);
      for (size_t c = 0; c < pools_.size(); ++c) batch_.SetColumn(c, pools_[c].Acquire(n));
      for (size_t i = 0; i < n; ++i) write_row(chunk[i], i, batch_);
      for (size_t a = 0; a < accumulators.size(); ++a) {
        accumulators[a]->Finalize(chunk, n, batch_.mutable_column(key_count + a));
      }
      absl::Status status = emit(batch_);
      batch_.Release();
      SLUICE_RETURN_IF_ERROR(status);
    }
    return absl::OkStatus();
  }

  // Keeps the current rows of `groups` as before images and returns the number of the first
  // (the others follow in order). Images live until ClearBefore().
  template <typename WriteRow>
  uint32_t Capture(const std::vector<uint32_t>& groups, size_t key_count,
                   const std::vector<std::unique_ptr<Accumulator>>& accumulators, WriteRow&& write_row) {
    EnsureScratch();
    const uint32_t first = static_cast<uint32_t>(before_rows_);
    for (size_t offset = 0; offset < groups.size(); offset += kChunk) {
      const size_t n = std::min(kChunk, groups.size() - offset);
      FillScratch(groups.data() + offset, n, key_count, accumulators, write_row);
      for (size_t c = 0; c < types_.size(); ++c) {
        Column& to = before_.mutable_column(c);
        to.Resize(before_rows_ + n);
        for (size_t i = 0; i < n; ++i) CopyValue(scratch_.column(c), i, to, before_rows_ + i);
      }
      before_rows_ += n;
    }
    return first;
  }
  // Copies before image `image` of `other` (an output of the same aggregate in another
  // instance: rescaling) and returns its number here.
  uint32_t CopyBefore(const AggregateOutput& other, uint32_t image) {
    EnsureScratch();
    for (size_t c = 0; c < types_.size(); ++c) {
      Column& to = before_.mutable_column(c);
      to.Resize(before_rows_ + 1);
      CopyValue(other.before_.column(c), image, to, before_rows_);
    }
    return static_cast<uint32_t>(before_rows_++);
  }
  // Drops every before image (their numbers may be handed out again).
  void ClearBefore() {
    for (size_t c = 0; c < before_.num_columns(); ++c) before_.mutable_column(c).Clear();
    before_rows_ = 0;
  }
  size_t before_images() const { return before_rows_; }

  // Emits `changes` in order, in chunks of at most kChunk rows that never end between an
  // update-before and its update-after. Arguments as for Emit().
  template <typename Prepare, typename WriteRow, typename EmitBatch>
  absl::Status EmitChanges(const std::vector<Change>& changes, size_t key_count,
                           const std::vector<std::unique_ptr<Accumulator>>& accumulators, Prepare&& prepare,
                           WriteRow&& write_row, EmitBatch&& emit) {
    EnsureScratch();
    for (size_t offset = 0; offset < changes.size();) {
      size_t n = std::min(kChunk, changes.size() - offset);
      if (offset + n < changes.size() && changes[offset + n - 1].kind == RowKind::kUpdateBefore) --n;
      const Change* chunk = changes.data() + offset;
      current_.clear();
      for (size_t i = 0; i < n; ++i) {
        if (chunk[i].kind == RowKind::kInsert || chunk[i].kind == RowKind::kUpdateAfter)
          current_.push_back(chunk[i].group);
      }
      prepare(current_.data(), current_.size());
      FillScratch(current_.data(), current_.size(), key_count, accumulators, write_row);
      batch_.Reset(pools_.size(), n);
      for (size_t c = 0; c < pools_.size(); ++c) batch_.SetColumn(c, pools_[c].Acquire(n));
      std::shared_ptr<Column> kinds = kinds_pool_.Acquire(n);
      size_t next_current = 0;
      for (size_t i = 0; i < n; ++i) {
        kinds->data<uint8_t>()[i] = static_cast<uint8_t>(chunk[i].kind);
        kinds->validity()[i] = 1;
        const bool current = chunk[i].kind == RowKind::kInsert || chunk[i].kind == RowKind::kUpdateAfter;
        const Batch& from = current ? scratch_ : before_;
        const size_t from_row = current ? next_current++ : chunk[i].before;
        for (size_t c = 0; c < pools_.size(); ++c)
          CopyValue(from.column(c), from_row, batch_.mutable_column(c), i);
      }
      batch_.SetRowKinds(std::move(kinds));
      absl::Status status = emit(batch_);
      batch_.Release();
      SLUICE_RETURN_IF_ERROR(status);
      offset += n;
    }
    return absl::OkStatus();
  }

  // Writes the before images (checkpoints: they wait for the emission after a change).
  void SnapshotBefore(StateWriter& writer) const {
    writer.WriteU64(before_rows_);
    for (size_t c = 0; c < types_.size() && before_rows_ > 0; ++c) {
      const Column& column = before_.column(c);
      for (size_t row = 0; row < before_rows_; ++row) {
        writer.WriteU8(column.validity()[row]);
        if (!column.IsValid(row)) continue;
        if (IsDecimal(types_[c])) {  // the unscaled value's 8 or 16 bytes
          const size_t width = PhysicalSize(types_[c]);
          writer.WriteRaw(column.data<char>() + row * width, width);
          continue;
        }
        switch (types_[c]) {
          case TypeId::kString: writer.WriteBytes(column.data<std::string_view>()[row]); break;
          case TypeId::kInt64:
          case TypeId::kTimestamp:
          case TypeId::kDouble: writer.WriteRaw(column.data<char>() + row * 8, 8); break;
          case TypeId::kBoolean:
          case TypeId::kNull: writer.WriteU8(column.data<uint8_t>()[row]); break;
        }
      }
    }
  }
  absl::Status RestoreBefore(StateReader& reader) {
    ClearBefore();
    EnsureScratch();
    SLUICE_ASSIGN_OR_RETURN(uint64_t rows, reader.ReadCount(types_.size()));
    for (size_t c = 0; c < types_.size() && rows > 0; ++c) {
      Column& column = before_.mutable_column(c);
      column.Resize(rows);
      for (size_t row = 0; row < rows; ++row) {
        SLUICE_ASSIGN_OR_RETURN(uint8_t valid, reader.ReadU8());
        if (valid > 1)
          return absl::DataLossError("aggregate snapshot: a before image's validity is not 0 or 1");
        if (!valid) {
          column.SetNull(row);
          continue;
        }
        column.validity()[row] = 1;
        if (IsDecimal(types_[c])) {
          const size_t width = PhysicalSize(types_[c]);
          SLUICE_RETURN_IF_ERROR(reader.ReadRaw(column.data<char>() + row * width, width));
          continue;
        }
        switch (types_[c]) {
          case TypeId::kString: {
            SLUICE_ASSIGN_OR_RETURN(std::string_view text, reader.ReadBytes());
            column.data<std::string_view>()[row] = column.heap().Add(text);
            break;
          }
          case TypeId::kInt64:
          case TypeId::kTimestamp:
          case TypeId::kDouble:
            SLUICE_RETURN_IF_ERROR(reader.ReadRaw(column.data<char>() + row * 8, 8));
            break;
          case TypeId::kBoolean:
          case TypeId::kNull: {
            SLUICE_ASSIGN_OR_RETURN(uint8_t value, reader.ReadU8());
            column.data<uint8_t>()[row] = value;
            break;
          }
        }
      }
    }
    before_rows_ = rows;
    return absl::OkStatus();
  }

  // Bytes held by the before images (by capacity, strings not counted).
  size_t before_bytes() const {
    size_t bytes = 0;
    for (size_t c = 0; c < before_.num_columns(); ++c) {
      bytes += before_.column(c).size() * (IsWideDecimal(before_.column(c).type()) ? 17 : 9);
    }
    return bytes;
  }

 private:
  static constexpr size_t kChunk = 1024;

  static void CopyValue(const Column& from, size_t from_row, Column& to, size_t to_row) {
    if (!from.IsValid(from_row)) {
      to.SetNull(to_row);
      return;
    }
    to.validity()[to_row] = 1;
    if (IsDecimal(from.type())) {
      to.SetDecimal(to_row, from.DecimalAt(from_row));
      return;
    }
    switch (from.type()) {
      case TypeId::kString:
        to.data<std::string_view>()[to_row] = to.heap().Add(from.data<std::string_view>()[from_row]);
        break;
      case TypeId::kInt64:
      case TypeId::kTimestamp:
      case TypeId::kDouble:
        std::memcpy(to.data<char>() + to_row * 8, from.data<char>() + from_row * 8, 8);
        break;
      case TypeId::kBoolean:
      case TypeId::kNull: to.data<uint8_t>()[to_row] = from.data<uint8_t>()[from_row]; break;
    }
  }

  void EnsureScratch() {
    if (scratch_.num_columns() == types_.size()) return;
    std::vector<std::shared_ptr<Column>> scratch, before;
    for (TypeId type : types_) {
      scratch.push_back(std::make_shared<Column>(type));
      before.push_back(std::make_shared<Column>(type));
    }
    scratch_.SetColumns(std::move(scratch), 0);
    before_.SetColumns(std::move(before), 0);
  }

  // The current rows of `groups` into scratch_ rows [0, n).
  template <typename WriteRow>
  void FillScratch(const uint32_t* groups, size_t n, size_t key_count,
                   const std::vector<std::unique_ptr<Accumulator>>& accumulators, WriteRow&& write_row) {
    for (size_t c = 0; c < types_.size(); ++c) {
      scratch_.mutable_column(c).Clear();
      scratch_.mutable_column(c).Resize(n);
    }
    scratch_.SetNumRows(n);
    for (size_t i = 0; i < n; ++i) write_row(groups[i], i, scratch_);
    for (size_t a = 0; a < accumulators.size(); ++a) {
      accumulators[a]->Finalize(groups, n, scratch_.mutable_column(key_count + a));
    }
  }

  std::vector<ColumnPool> pools_;
  std::vector<TypeId> types_;
  ColumnPool kinds_pool_;
  Batch batch_;
  // Changelog output only.
  Batch scratch_;  // current rows of the groups being emitted or captured
  Batch before_;   // before images, rows [0, before_rows_)
  size_t before_rows_ = 0;
  std::vector<uint32_t> current_;
};

}  // namespace sluice
