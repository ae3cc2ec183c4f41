#include "state/lookup_table.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace sluice {

LookupTable::LookupTable(Schema schema, std::vector<size_t> key_columns, std::optional<size_t> time_column)
    : schema_(std::move(schema)),
      key_columns_(std::move(key_columns)),
      time_column_(time_column),
      keys_(
          [&] {
            std::vector<TypeId> types;
            for (size_t column : key_columns_) types.push_back(schema_.field(column).type);
            return types;
          }(),
          KeyTable::Erasure::kNever) {}

LookupTable::Builder::Builder(Schema schema, std::vector<size_t> key_columns,
                              std::optional<size_t> time_column)
    : table_(new LookupTable(std::move(schema), std::move(key_columns), time_column)) {
  for (const Field& field : table_->schema_.fields())
    columns_.push_back(std::make_shared<Column>(field.type));
}

void LookupTable::Builder::Add(const Batch& batch) {
  const size_t count = batch.active_rows();
  if (count == 0) return;
  const uint32_t* selection = batch.selection();
  for (size_t c = 0; c < columns_.size(); ++c) {
    const Column& in = batch.column(c);
    Column& out = *columns_[c];
    out.Resize(rows_ + count);
    const size_t width = PhysicalSize(in.type());
    const uint8_t* in_valid = in.validity();
    uint8_t* out_valid = out.validity();
    size_t i = rows_;
    if (in.type() == TypeId::kString) {
      const std::string_view* texts = in.data<std::string_view>();
      std::string_view* stored = out.data<std::string_view>();
      ForEachActiveRow(selection, count, [&](size_t row) {
        stored[i] = in_valid[row] ? out.heap().Add(texts[row]) : std::string_view();
        out_valid[i++] = in_valid[row];
      });
      continue;
    }
    const uint8_t* values = in.data<uint8_t>();
    uint8_t* stored = out.data<uint8_t>();
    ForEachActiveRow(selection, count, [&](size_t row) {
      std::memcpy(stored + i * width, values + row * width, width);
      out_valid[i++] = in_valid[row];
    });
  }
  rows_ += count;
}

std::shared_ptr<const LookupTable> LookupTable::Builder::Finish() {
  LookupTable& table = *table_;
  // The rows that can be found: every key column set, and a time when versioned.
  std::vector<uint32_t> candidates;
  candidates.reserve(rows_);
  for (uint32_t row = 0; row < rows_; ++row) {
    bool usable = !table.time_column_ || columns_[*table.time_column_]->IsValid(row);
    for (size_t column : table.key_columns_) usable = usable && columns_[column]->IsValid(row);
    if (usable) candidates.push_back(row);
  }
  std::vector<const Column*> keys;
  for (size_t column : table.key_columns_) keys.push_back(columns_[column].get());
  std::vector<uint32_t> groups(rows_, 0);
  table.keys_.FindOrInsert(keys.data(), candidates.data(), candidates.size(), groups.data());
  const int64_t* times = table.time_column_ ? columns_[*table.time_column_]->data<int64_t>() : nullptr;

  // The kept rows in (group, time, order added) order; unversioned, each group's last row only.
  std::vector<uint32_t> order;
  if (times != nullptr) {
    order = candidates;
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return groups[a] != groups[b] ? groups[a] < groups[b] : times[a] < times[b];
    });
  } else {
    std::vector<uint32_t> last(table.keys_.id_limit(), kNoRow);
    for (uint32_t row : candidates) last[groups[row]] = row;
    for (uint32_t row : last) {
      if (row != kNoRow) order.push_back(row);  // in group order
    }
  }
  table.rows_dropped_ = rows_ - order.size();

  for (const auto& column : columns_) {
    auto sorted = std::make_shared<Column>(column->type(), order.size());
    const size_t width = PhysicalSize(column->type());
    const uint8_t* values = column->data<uint8_t>();
    uint8_t* out = sorted->data<uint8_t>();
    for (size_t i = 0; i < order.size(); ++i) {
      std::memcpy(out + i * width, values + size_t{order[i]} * width, width);
      sorted->validity()[i] = column->validity()[order[i]];
    }
    sorted->KeepAliveStringsOf(*column);  // the strings stay in the heap they were added to
    table.columns_.push_back(std::move(sorted));
  }
  table.times_.resize(order.size(), 0);
  table.runs_.assign(table.keys_.id_limit(), Run{});
  for (size_t i = 0; i < order.size(); ++i) {
    if (times != nullptr) table.times_[i] = times[order[i]];
    const uint32_t group = groups[order[i]];
    if (i == 0 || groups[order[i - 1]] != group) table.runs_[group].begin = static_cast<uint32_t>(i);
    table.runs_[group].end = static_cast<uint32_t>(i + 1);
  }
  columns_.clear();
  return std::move(table_);
}

void LookupTable::Find(const Column* const* keys, const Column* as_of, const uint32_t* selection,
                       size_t count, uint32_t* rows, Scratch& scratch) const {
  if (count == 0) return;
  const size_t physical_rows = selection != nullptr ? size_t{selection[count - 1]} + 1 : count;
  if (scratch.groups.size() < physical_rows) scratch.groups.resize(physical_rows);
  uint32_t* groups = scratch.groups.data();
  keys_.Find(keys, selection, count, groups, scratch.keys);
  if (as_of == nullptr) {
    ForEachActiveRow(selection, count, [&](size_t row) {
      const uint32_t group = groups[row];
      rows[row] = group == KeyTable::kNotFound ? kNoRow : runs_[group].end - 1;
    });
    return;
  }
  const int64_t* at = as_of->data<int64_t>();
  const uint8_t* valid = as_of->validity();
  const int64_t* times = times_.data();
  const Run* runs = runs_.data();
  // A large table costs a memory access for a key's run and another for its versions' times:
  // the run of the row kRunsAhead places on, and the times of the one kTimesAhead on, are
  // fetched while this row is looked up, so that the misses overlap.
  constexpr size_t kRunsAhead = 16;
  constexpr size_t kTimesAhead = 8;
  auto row_at = [selection](size_t i) { return selection != nullptr ? size_t{selection[i]} : i; };
  for (size_t i = 0; i < count; ++i) {
    if (i + kRunsAhead < count) {
      const uint32_t ahead = groups[row_at(i + kRunsAhead)];
      if (ahead != KeyTable::kNotFound) __builtin_prefetch(&runs[ahead]);
    }
    if (i + kTimesAhead < count) {
      const uint32_t ahead = groups[row_at(i + kTimesAhead)];
      if (ahead != KeyTable::kNotFound) __builtin_prefetch(&times[runs[ahead].begin]);
    }
    const size_t row = row_at(i);
    const uint32_t group = groups[row];
    if (group == KeyTable::kNotFound || !valid[row]) {
      rows[row] = kNoRow;
      continue;
    }
    // The last version at or before at[row]: most keys have few versions.
    const int64_t* begin = times + runs[group].begin;
    const int64_t* end = times + runs[group].end;
    const int64_t* after = std::upper_bound(begin, end, at[row]);
    rows[row] = after == begin ? kNoRow : static_cast<uint32_t>(after - 1 - times);
  }
}

size_t LookupTable::MemoryBytes() const {
  size_t bytes = keys_.MemoryBytes() + times_.capacity() * sizeof(int64_t) + runs_.capacity() * sizeof(Run);
  for (size_t c = 0; c < columns_.size(); ++c) {
    bytes += columns_[c]->size() * (PhysicalSize(columns_[c]->type()) + 1);
    if (columns_[c]->type() == TypeId::kString) {
      for (size_t row = 0; row < columns_[c]->size(); ++row)
        bytes += columns_[c]->data<std::string_view>()[row].size();
    }
  }
  return bytes;
}

}  // namespace sluice
