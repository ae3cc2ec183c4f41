#include "ops/lookup_join_operator.h"

#include <cstring>

#include "common/strings.h"
#include "catalog/lookup_table_provider.h"

namespace sluice {

LookupJoinOperator::LookupJoinOperator(const LookupJoinDefinition& definition, const Schema& input)
    : definition_(definition),
      input_columns_(input.size()),
      table_columns_(definition.table->output_columns()) {
  for (const auto& key : definition.keys)
    key_executors_.push_back(std::make_unique<ExpressionExecutor>(*key));
  if (definition.as_of) as_of_executor_ = std::make_unique<ExpressionExecutor>(*definition.as_of);
  if (definition.residual) residual_ = std::make_unique<ExpressionExecutor>(*definition.residual);
  const Schema& table_schema = definition.table->definition().schema;
  for (size_t c = 0; c < table_columns_; ++c) pools_.emplace_back(table_schema.field(c).type);
}

absl::Status LookupJoinOperator::EnsureTable() {
  // A table re-read while the job runs ('<t>.reload.interval') is asked for at every call: it
  // hands out a new table once the file changed.
  if (table_ != nullptr && !definition_.table->reload_interval_millis()) return absl::OkStatus();
  SLUICE_ASSIGN_OR_RETURN(table_, definition_.table->Get());
  return absl::OkStatus();
}

absl::Status LookupJoinOperator::OnWatermark(int64_t watermark) {
  SLUICE_RETURN_IF_ERROR(EnsureTable());
  return Operator::OnWatermark(watermark);
}

absl::Status LookupJoinOperator::Finish() {
  SLUICE_RETURN_IF_ERROR(EnsureTable());
  return Operator::Finish();
}

absl::Status LookupJoinOperator::Push(const Batch& batch) {
  SLUICE_RETURN_IF_ERROR(EnsureTable());
  const size_t count = batch.active_rows();
  if (count == 0) return absl::OkStatus();
  const size_t rows = batch.num_rows();
  const uint32_t* selection = batch.selection();

  // Probe: every active row's table row.
  keys_.clear();
  key_pointers_.clear();
  for (auto& executor : key_executors_) {
    keys_.push_back(executor->Evaluate(batch));
    key_pointers_.push_back(keys_.back().get());
  }
  std::shared_ptr<Column> as_of = as_of_executor_ != nullptr ? as_of_executor_->Evaluate(batch) : nullptr;
  if (found_.size() < rows) found_.resize(rows);
  table_->Find(key_pointers_.data(), as_of.get(), selection, count, found_.data(), scratch_);
  matched_.clear();
  ForEachActiveRow(selection, count, [&](size_t row) {
    if (found_[row] != LookupTable::kNoRow) matched_.push_back(static_cast<uint32_t>(row));
  });

  // The output: the stream's columns as they are, then the table's gathered by row.
  output_.Reset(input_columns_ + table_columns_, rows);
  for (size_t c = 0; c < input_columns_; ++c) output_.SetColumn(c, batch.shared_column(c));
  output_.SetRowKinds(batch.shared_row_kinds());
  for (size_t c = 0; c < table_columns_; ++c) {
    std::shared_ptr<Column> column = pools_[c].Acquire(rows);
    const Column& stored = *table_->column(c);
    const size_t width = PhysicalSize(stored.type());
    const uint8_t* values = stored.data<uint8_t>();
    const uint8_t* valid = stored.validity();
    uint8_t* out = column->data<uint8_t>();
    uint8_t* out_valid = column->validity();
    const uint32_t* found = found_.data();
    ForEachActiveRow(selection, count, [&](size_t row) {
      const uint32_t at = found[row];
      if (at == LookupTable::kNoRow) {
        std::memset(out + row * width, 0, width);  // a NULL slot holds a harmless value
        out_valid[row] = 0;
      } else {
        std::memcpy(out + row * width, values + size_t{at} * width, width);
        out_valid[row] = valid[at];
      }
    });
    if (stored.type() == TypeId::kString) column->KeepAlive(table_);  // views into the table
    output_.SetColumn(c + input_columns_, std::move(column));
  }

  // The residual, over the matched rows.
  const uint32_t* kept = matched_.data();
  size_t kept_count = matched_.size();
  if (residual_ != nullptr && !matched_.empty()) {
    std::memcpy(output_.MutableSelection(), matched_.data(), matched_.size() * sizeof(uint32_t));
    output_.SetSelectionCount(matched_.size());
    kept_.resize(matched_.size());
    kept_count = residual_->Select(output_, kept_.data());
    kept = kept_.data();
  }
  if (definition_.type == JoinType::kInner) {
    if (kept_count == 0) {
      output_.Release();
      return absl::OkStatus();
    }
    std::memmove(output_.MutableSelection(), kept, kept_count * sizeof(uint32_t));
    output_.SetSelectionCount(kept_count);
  } else {
    // LEFT: a matched row the residual refuses is padded as a row that matched nothing.
    if (kept_count < matched_.size()) {
      size_t k = 0;
      for (uint32_t row : matched_) {
        if (k < kept_count && kept[k] == row) {
          ++k;
          continue;
        }
        for (size_t c = 0; c < table_columns_; ++c) output_.mutable_column(c + input_columns_).SetNull(row);
      }
    }
    if (selection != nullptr) {
      std::memcpy(output_.MutableSelection(), selection, count * sizeof(uint32_t));
      output_.SetSelectionCount(count);
    } else {
      output_.ClearSelection();
    }
  }
  absl::Status status = Emit(output_);
  output_.Release();
  return status;
}

std::string LookupJoinOperator::Describe() const {
  const LookupTableProvider& table = *definition_.table;
  return StrCat(
      "LookupJoin ", definition_.text, " (table '", table.definition().name, "' read at start",
      table.versioned() ? ", versioned by event time" : ", one row per key",
      table.reload_interval_millis()
          ? StrCat(", read again when changed (checked every ", *table.reload_interval_millis(), " ms)")
          : std::string(),
      definition_.as_of ? StrCat("; looked up as of ", definition_.as_of->ToString())
                        : std::string("; looked up at its latest version"),
      definition_.residual ? StrCat("; residual ", definition_.residual->ToString()) : std::string(), ")");
}

}  // namespace sluice
