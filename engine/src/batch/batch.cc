#include "batch/batch.h"

namespace sluice {

void Batch::SetColumns(std::vector<std::shared_ptr<Column>> columns, size_t num_rows) {
  for (const auto& column : columns) SLUICE_CHECK_LE(num_rows, column->size());
  columns_.clear();
  for (auto& column : columns) columns_.push_back(std::move(column));
  num_rows_ = num_rows;
  has_selection_ = false;
  row_kinds_.reset();
}

void Batch::Reset(size_t num_columns, size_t num_rows) {
  columns_.clear();
  columns_.resize(num_columns);
  num_rows_ = num_rows;
  has_selection_ = false;
  row_kinds_.reset();
}

void Batch::ShareColumns(const Batch& other) {
  columns_.clear();
  for (const auto& column : other.columns_) columns_.push_back(column);
  row_kinds_ = other.row_kinds_;
  num_rows_ = other.num_rows_;
  has_selection_ = false;
}

void Batch::Release() {
  columns_.clear();
  row_kinds_.reset();
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

std::string_view RowKindName(RowKind kind) {
  switch (kind) {
    case RowKind::kInsert: return "+I";
    case RowKind::kUpdateBefore: return "-U";
    case RowKind::kUpdateAfter: return "+U";
    case RowKind::kDelete: return "-D";
  }
  return "?";
}

std::shared_ptr<Column> ColumnPool::Acquire(size_t rows) {
  std::shared_ptr<Column>* free = nullptr;
  for (size_t i = 0; i < columns_.size() && free == nullptr; ++i) {
    std::shared_ptr<Column>& candidate = columns_[(next_ + i) % columns_.size()];
    if (candidate.use_count() == 1) free = &candidate;
  }
  if (free == nullptr) {
    auto column = std::make_shared<Column>(type_, rows);
    if (columns_.size() >= kMaxPooled) return column;  // more in flight than pooled: not kept
    columns_.push_back(std::move(column));
    free = &columns_.back();
  }
  next_ = static_cast<size_t>(free - columns_.data() + 1) % columns_.size();
  (*free)->Clear();
  (*free)->Resize(rows);
  return *free;
}

}  // namespace sluice
