#include "batch/batch.h"

namespace sluice {

void Batch::SetColumns(std::vector<std::shared_ptr<Column>> columns, size_t num_rows) {
  for (const auto& column : columns) SLUICE_CHECK_LE(num_rows, column->size());
  columns_.clear();
  for (auto& column : columns) columns_.push_back(std::move(column));
  num_rows_ = num_rows;
  has_selection_ = false;
}

void Batch::Reset(size_t num_columns, size_t num_rows) {
  columns_.clear();
  columns_.resize(num_columns);
  num_rows_ = num_rows;
  has_selection_ = false;
}

void Batch::ShareColumns(const Batch& other) {
  columns_.clear();
  for (const auto& column : other.columns_) columns_.push_back(column);
  num_rows_ = other.num_rows_;
  has_selection_ = false;
}

void Batch::Release() {
  columns_.clear();
  num_rows_ = 0;
  has_selection_ = false;
}

uint32_t* Batch::MutableSelection() {
  if (selection_.size() < num_rows_) selection_.resize(num_rows_);
  return selection_.data();
}

void Batch::SetSelectionCount(size_t count) {
  SLUICE_CHECK_LE(count, num_rows_);
  has_selection_ = true;
  selection_count_ = count;
}

std::shared_ptr<Column> ColumnPool::Acquire(size_t rows) {
  if (column_ == nullptr || column_.use_count() > 1) {
    column_ = std::make_shared<Column>(type_, rows);
  }
  column_->Clear();
  column_->Resize(rows);
  return column_;
}

}  // namespace sluice
