#include "ops/top_n_operator.h"

#include <algorithm>
#include <bit>
#include <functional>

#include "common/strings.h"

namespace sluice {

namespace {

std::vector<TypeId> KeyTypes(const TopNSpec& spec, const std::vector<TypeId>& input_types) {
  std::vector<TypeId> types;
  for (size_t column : spec.partition_columns) types.push_back(input_types[column]);
  return types;
}

uint64_t ReadWord(const Column& column, TypeId type, size_t row) {
  switch (WordType(type)) {
    case TypeId::kInt64:
    case TypeId::kTimestamp: return static_cast<uint64_t>(column.data<int64_t>()[row]);
    case TypeId::kDouble: return std::bit_cast<uint64_t>(column.data<double>()[row]);
    case TypeId::kBoolean:
    case TypeId::kNull: return column.data<uint8_t>()[row];
    case TypeId::kString: break;
  }
  return 0;
}

void WriteWord(Column& column, TypeId type, size_t row, uint64_t word) {
  switch (WordType(type)) {
    case TypeId::kInt64:
    case TypeId::kTimestamp: column.data<int64_t>()[row] = static_cast<int64_t>(word); break;
    case TypeId::kDouble: column.data<double>()[row] = std::bit_cast<double>(word); break;
    case TypeId::kBoolean:
    case TypeId::kNull: column.data<uint8_t>()[row] = static_cast<uint8_t>(word); break;
    case TypeId::kString: break;
  }
  column.validity()[row] = 1;
}

template <typename T>
int Three(T a, T b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

constexpr size_t kOutputChunk = 1024;

}  // namespace

TopNOperator::TopNOperator(TopNSpec spec, std::vector<TypeId> input_types)
    : StatefulOperator(spec.input_out_of_orderness_millis, spec.dead_letter_late_rows),
      spec_(std::move(spec)),
      input_types_(std::move(input_types)),
      fields_(input_types_.size()),
      table_(KeyTypes(spec_, input_types_)) {
  SLUICE_CHECK(ValidateTopNSpec(spec_, input_types_).ok());
  string_index_.assign(fields_, -1);
  for (size_t f = 0; f < fields_; ++f) {
    if (input_types_[f] == TypeId::kString) string_index_[f] = static_cast<int>(string_fields_++);
  }
  key_columns_.resize(spec_.partition_columns.size());
  for (TypeId type : input_types_) pools_.emplace_back(type);
  if (spec_.emit_rank) pools_.emplace_back(TypeId::kInt64);
}

std::string TopNOperator::Describe() const {
  std::vector<std::string> partition, order;
  for (size_t column : spec_.partition_columns) partition.push_back(StrCat("#", column));
  for (const TopNOrderKey& key : spec_.order)
    order.push_back(StrCat("#", key.column, key.descending ? " DESC" : ""));
  return StrCat("TopN ", TopNStrategyName(spec_.strategy), " ", RankFunctionName(spec_.function),
                " <= ", spec_.limit, " partition by [", StrJoin(partition, ", "), "] order by [",
                StrJoin(order, ", "), "]", spec_.emit_rank ? "" : ", no rank column");
}

// --- rows ----------------------------------------------------------------------------------

int TopNOperator::Compare(RowRef a, RowRef b) const {
  for (const TopNOrderKey& key : spec_.order) {
    const size_t c = key.column;
    const TypeId type = input_types_[c];
    bool a_valid, b_valid;
    if (a.batch != nullptr) {
      a_valid = a.batch->column(c).IsValid(a.row);
    } else {
      a_valid = valid_[a.row * fields_ + c] != 0;
    }
    if (b.batch != nullptr) {
      b_valid = b.batch->column(c).IsValid(b.row);
    } else {
      b_valid = valid_[b.row * fields_ + c] != 0;
    }
    int result = 0;
    if (!a_valid || !b_valid) {
      result = a_valid == b_valid ? 0 : (a_valid ? 1 : -1);  // NULL first
    } else if (type == TypeId::kString) {
      const std::string_view x = a.batch != nullptr
                                     ? a.batch->column(c).data<std::string_view>()[a.row]
                                     : std::string_view(strings_[a.row * string_fields_ + string_index_[c]]);
      const std::string_view y = b.batch != nullptr
                                     ? b.batch->column(c).data<std::string_view>()[b.row]
                                     : std::string_view(strings_[b.row * string_fields_ + string_index_[c]]);
      result = x.compare(y);
      result = result < 0 ? -1 : (result > 0 ? 1 : 0);
    } else {
      const uint64_t x =
          a.batch != nullptr ? ReadWord(a.batch->column(c), type, a.row) : words_[a.row * fields_ + c];
      const uint64_t y =
          b.batch != nullptr ? ReadWord(b.batch->column(c), type, b.row) : words_[b.row * fields_ + c];
      switch (WordType(type)) {
        case TypeId::kDouble: result = Three(std::bit_cast<double>(x), std::bit_cast<double>(y)); break;
        case TypeId::kInt64:
        case TypeId::kTimestamp: result = Three(static_cast<int64_t>(x), static_cast<int64_t>(y)); break;
        default: result = Three(x, y); break;
      }
    }
    if (result != 0) return key.descending ? -result : result;
  }
  return 0;
}

uint32_t TopNOperator::AllocateSlot() {
  if (!free_slots_.empty()) {
    const uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  const uint32_t slot = static_cast<uint32_t>(slot_count_++);
  words_.resize(slot_count_ * fields_);
  valid_.resize(slot_count_ * fields_);
  strings_.resize(slot_count_ * string_fields_);
  return slot;
}

void TopNOperator::StoreRow(uint32_t slot, const Batch& batch, uint32_t row) {
  for (size_t f = 0; f < fields_; ++f) {
    const Column& column = batch.column(f);
    const bool valid = column.IsValid(row);
    valid_[slot * fields_ + f] = valid ? 1 : 0;
    if (input_types_[f] == TypeId::kString) {
      strings_[slot * string_fields_ + string_index_[f]].assign(valid ? column.data<std::string_view>()[row]
                                                                      : std::string_view());
    } else {
      words_[slot * fields_ + f] = valid ? ReadWord(column, input_types_[f], row) : 0;
    }
  }
}

void TopNOperator::EnsureGroups(size_t count) {
  if (groups_.size() < count) groups_.resize(count);
}

void TopNOperator::ClearGroup(uint32_t g) {
  Group& group = groups_[g];
  std::vector<uint32_t>().swap(group.rows);
  group.slot = kNoSlot;
  group.time = 0;
  group.last_rank = 0;
  group.status = Status::kEmpty;
}

void TopNOperator::PushHeap(int64_t time, uint32_t g) {
  heap_.emplace_back(time, g);
  std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
}

void TopNOperator::ComputeRanks(const std::vector<uint32_t>& rows, std::vector<int64_t>& ranks) const {
  ranks.resize(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (spec_.function == RankFunction::kRowNumber || i == 0) {
      ranks[i] = static_cast<int64_t>(i) + 1;
      continue;
    }
    const bool tie = Compare(RowRef{nullptr, rows[i - 1]}, RowRef{nullptr, rows[i]}) == 0;
    if (tie) {
      ranks[i] = ranks[i - 1];
    } else {
      ranks[i] = spec_.function == RankFunction::kRank ? static_cast<int64_t>(i) + 1 : ranks[i - 1] + 1;
    }
  }
}

// --- Push ----------------------------------------------------------------------------------

void TopNOperator::Insert(uint32_t g, const Batch& batch, uint32_t row, bool emit) {
  Group& group = groups_[g];
  std::vector<uint32_t>& rows = group.rows;
  const RowRef incoming{&batch, row};
  const int64_t limit = spec_.limit;
  if (!rows.empty()) {
    const int c = Compare(incoming, RowRef{nullptr, rows.back()});
    if (c > 0 || (c == 0 && spec_.function == RankFunction::kRowNumber)) {
      // The row goes last: only its own rank decides whether it is kept.
      int64_t rank = static_cast<int64_t>(rows.size()) + 1;
      if (spec_.function == RankFunction::kDenseRank) rank = group.last_rank + 1;
      if (c == 0 && spec_.function == RankFunction::kDenseRank) rank = group.last_rank;
      if (rank > limit) return;
      const uint32_t slot = AllocateSlot();
      StoreRow(slot, batch, row);
      rows.push_back(slot);
      group.last_rank = rank;
      if (emit) emissions_.push_back({slot, rank, RowKind::kInsert});
      return;
    }
    if (c == 0) {
      // RANK or DENSE_RANK, a tie with the last row: it shares its rank, no other rank moves.
      const uint32_t slot = AllocateSlot();
      StoreRow(slot, batch, row);
      rows.push_back(slot);
      if (emit) emissions_.push_back({slot, group.last_rank, RowKind::kInsert});
      return;
    }
  } else {
    const uint32_t slot = AllocateSlot();
    StoreRow(slot, batch, row);
    rows.push_back(slot);
    group.last_rank = 1;
    if (emit) emissions_.push_back({slot, 1, RowKind::kInsert});
    return;
  }
  // The row orders before the last one: it goes after the rows that order before or with it.
  const bool track = emit;
  if (track) ComputeRanks(rows, old_ranks_);
  size_t low = 0, high = rows.size();
  while (low < high) {
    const size_t middle = (low + high) / 2;
    if (Compare(incoming, RowRef{nullptr, rows[middle]}) < 0) {
      high = middle;
    } else {
      low = middle + 1;
    }
  }
  const size_t position = low;
  const uint32_t slot = AllocateSlot();
  StoreRow(slot, batch, row);
  rows.insert(rows.begin() + static_cast<std::ptrdiff_t>(position), slot);
  ComputeRanks(rows, new_ranks_);
  size_t keep = rows.size();
  while (keep > 0 && new_ranks_[keep - 1] > limit) --keep;
  if (track) {
    for (size_t i = position + 1; i < rows.size(); ++i) {
      const int64_t old_rank = old_ranks_[i - 1];
      if (i >= keep) {
        emissions_.push_back({rows[i], old_rank, RowKind::kDelete});
      } else if (spec_.emit_rank && new_ranks_[i] != old_rank) {
        emissions_.push_back({rows[i], old_rank, RowKind::kDelete});
        emissions_.push_back({rows[i], new_ranks_[i], RowKind::kInsert});
      }
    }
    emissions_.push_back({slot, new_ranks_[position], RowKind::kInsert});
  }
  for (size_t i = keep; i < rows.size(); ++i) {
    if (track) {
      to_free_.push_back(rows[i]);
    } else {
      free_slots_.push_back(rows[i]);
    }
  }
  rows.resize(keep);
  group.last_rank = new_ranks_[keep - 1];
}

absl::Status TopNOperator::Push(const Batch& batch) {
  const size_t expected_columns = fields_ + (carries_watermarks() ? 1 : 0);
  if (batch.num_columns() != expected_columns) {
    return absl::InvalidArgumentError(
        StrCat("TopN expects ", expected_columns, " input columns, got ", batch.num_columns()));
  }
  const size_t active = batch.active_rows();
  if (active == 0) return absl::OkStatus();
  if (group_ids_.size() < batch.num_rows()) group_ids_.resize(batch.num_rows());
  for (size_t k = 0; k < key_columns_.size(); ++k)
    key_columns_[k] = &batch.column(spec_.partition_columns[k]);
  created_.clear();
  table_.FindOrInsert(key_columns_.data(), batch.selection(), active, group_ids_.data(), &created_);
  if (key_observer_ != nullptr && !created_.empty()) {
    SLUICE_RETURN_IF_ERROR(key_observer_->OnNewKeys(table_, spec_.partition_columns.size(), created_));
  }
  EnsureGroups(table_.id_limit());
  for (uint32_t g : created_) ClearGroup(g);

  InputWatermark& event_time = this->event_time();
  const int64_t* carried = CarriedWatermarks(batch);
  switch (spec_.strategy) {
    case TopNStrategy::kUpdating:
      for (size_t i = 0; i < active; ++i) {
        const uint32_t row = batch.ActiveRow(i);
        Insert(group_ids_[row], batch, row, true);
      }
      break;
    case TopNStrategy::kWindow: {
      const Column& ends = batch.column(static_cast<size_t>(spec_.window_end_column));
      for (size_t i = 0; i < active; ++i) {
        const uint32_t row = batch.ActiveRow(i);
        if (carried != nullptr) event_time.ObserveCarried(carried[row]);
        const int64_t end = ends.IsValid(row) ? ends.data<int64_t>()[row] : INT64_MIN;
        // The window fired at watermark end - 1: a row of it behind that is late.
        if (end == INT64_MIN || end - 1 <= event_time.current()) {
          SLUICE_RETURN_IF_ERROR(RejectLate(batch, row));
          continue;
        }
        const uint32_t g = group_ids_[row];
        Group& group = groups_[g];
        if (group.status == Status::kEmpty) {
          group.status = Status::kPending;
          group.time = end;
          PushHeap(end, g);
        }
        Insert(g, batch, row, false);
      }
      break;
    }
    case TopNStrategy::kKeepFirst: {
      const Column& times = batch.column(static_cast<size_t>(spec_.event_time_column));
      for (size_t i = 0; i < active; ++i) {
        const uint32_t row = batch.ActiveRow(i);
        if (carried != nullptr) event_time.ObserveCarried(carried[row]);
        const uint32_t g = group_ids_[row];
        Group& group = groups_[g];
        if (group.status == Status::kDone) continue;  // a duplicate of a row already emitted
        if (!times.IsValid(row) || times.data<int64_t>()[row] <= event_time.current()) {
          SLUICE_RETURN_IF_ERROR(RejectLate(batch, row));
          continue;
        }
        const int64_t time = times.data<int64_t>()[row];
        event_time.Observe(time);
        if (group.status == Status::kEmpty) {
          group.status = Status::kPending;
          group.slot = AllocateSlot();
        } else if (time >= group.time) {
          continue;  // not earlier than the row held: the held one stays first
        }
        StoreRow(group.slot, batch, row);
        group.time = time;
        PushHeap(time, g);
      }
      Fire(event_time.current());
      break;
    }
    case TopNStrategy::kKeepLast:
      for (size_t i = 0; i < active; ++i) {
        const uint32_t row = batch.ActiveRow(i);
        Group& group = groups_[group_ids_[row]];
        if (group.slot == kNoSlot) {
          group.slot = AllocateSlot();
          StoreRow(group.slot, batch, row);
          emissions_.push_back({group.slot, 1, RowKind::kInsert});
          continue;
        }
        // ORDER BY the time DESC: a row ordering first or tied (a later arrival) replaces.
        if (Compare(RowRef{&batch, row}, RowRef{nullptr, group.slot}) > 0) continue;
        const uint32_t slot = AllocateSlot();
        StoreRow(slot, batch, row);
        emissions_.push_back({group.slot, 1, RowKind::kUpdateBefore});
        emissions_.push_back({slot, 1, RowKind::kUpdateAfter});
        to_free_.push_back(group.slot);
        group.slot = slot;
      }
      break;
  }
  SLUICE_RETURN_IF_ERROR(Flush());
  return ChargeState();
}

absl::Status TopNOperator::AdvanceEventTime(int64_t watermark) {
  Fire(watermark);
  return Flush();
}

void TopNOperator::Fire(int64_t watermark) {
  if (spec_.strategy != TopNStrategy::kWindow && spec_.strategy != TopNStrategy::kKeepFirst) return;
  const bool window = spec_.strategy == TopNStrategy::kWindow;
  while (!heap_.empty()) {
    const auto [time, g] = heap_.front();
    // A window is complete at its end - 1; a held first row once the watermark reaches it.
    const bool complete = window ? time - 1 <= watermark : time <= watermark;
    if (!complete) break;
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
    heap_.pop_back();
    Group& group = groups_[g];
    // Entries a replaced keep-first row or an emitted window left behind are stale.
    if (group.status != Status::kPending || group.time != time) continue;
    if (window) {
      ComputeRanks(group.rows, new_ranks_);
      for (size_t i = 0; i < group.rows.size(); ++i) {
        emissions_.push_back({group.rows[i], new_ranks_[i], RowKind::kInsert});
        to_free_.push_back(group.rows[i]);
      }
      ClearGroup(g);
      table_.Erase(g);
    } else {
      emissions_.push_back({group.slot, 1, RowKind::kInsert});
      to_free_.push_back(group.slot);
      group.slot = kNoSlot;
      group.status = Status::kDone;
    }
  }
}

absl::Status TopNOperator::Flush() {
  absl::Status status;
  const bool kinds = HasRowKinds();
  for (size_t offset = 0; offset < emissions_.size() && status.ok();) {
    size_t n = std::min(kOutputChunk, emissions_.size() - offset);
    // An update-before and its update-after stay in one batch.
    if (offset + n < emissions_.size() && emissions_[offset + n - 1].kind == RowKind::kUpdateBefore) --n;
    output_.Reset(pools_.size(), n);
    for (size_t c = 0; c < pools_.size(); ++c) output_.SetColumn(c, pools_[c].Acquire(n));
    std::shared_ptr<Column> row_kinds = kinds ? kinds_pool_.Acquire(n) : nullptr;
    for (size_t i = 0; i < n; ++i) {
      const Emission& emission = emissions_[offset + i];
      const size_t slot = emission.slot;
      for (size_t f = 0; f < fields_; ++f) {
        Column& column = output_.mutable_column(f);
        if (!valid_[slot * fields_ + f]) {
          column.SetNull(i);
        } else if (input_types_[f] == TypeId::kString) {
          column.data<std::string_view>()[i] =
              column.heap().Add(strings_[slot * string_fields_ + string_index_[f]]);
          column.validity()[i] = 1;
        } else {
          WriteWord(column, input_types_[f], i, words_[slot * fields_ + f]);
        }
      }
      if (spec_.emit_rank)
        WriteWord(output_.mutable_column(fields_), TypeId::kInt64, i, static_cast<uint64_t>(emission.rank));
      if (row_kinds != nullptr) {
        row_kinds->data<uint8_t>()[i] = static_cast<uint8_t>(emission.kind);
        row_kinds->validity()[i] = 1;
      }
    }
    if (row_kinds != nullptr) output_.SetRowKinds(std::move(row_kinds));
    status = Emit(output_);
    output_.Release();
    offset += n;
  }
  emissions_.clear();
  free_slots_.insert(free_slots_.end(), to_free_.begin(), to_free_.end());
  to_free_.clear();
  return status;
}

// --- state ---------------------------------------------------------------------------------

StateUsage TopNOperator::state_usage() const {
  size_t bytes = table_.MemoryBytes() + groups_.capacity() * sizeof(Group) +
                 words_.capacity() * sizeof(uint64_t) + valid_.capacity() +
                 strings_.capacity() * sizeof(std::string) + free_slots_.capacity() * sizeof(uint32_t) +
                 heap_.capacity() * sizeof(heap_[0]);
  for (const Group& group : groups_) bytes += group.rows.capacity() * sizeof(uint32_t);
  for (const std::string& text : strings_) {
    if (text.capacity() > 15) bytes += text.capacity();
  }
  return {table_.size(), bytes};
}

absl::Status TopNOperator::Snapshot(StateWriter& writer) const {
  SnapshotEventTime(writer);
  writer.WriteU64(evicted());
  table_.Snapshot(writer);
  const uint32_t limit = table_.id_limit();
  writer.WriteU64(limit);
  auto write_row = [&](uint32_t slot) {
    for (size_t f = 0; f < fields_; ++f) {
      const bool valid = valid_[slot * fields_ + f] != 0;
      writer.WriteU8(valid ? 1 : 0);
      if (input_types_[f] == TypeId::kString) {
        writer.WriteBytes(valid ? strings_[slot * string_fields_ + string_index_[f]] : std::string());
      } else {
        writer.WriteU64(words_[slot * fields_ + f]);
      }
    }
  };
  for (uint32_t g = 0; g < limit; ++g) {
    const bool live = table_.IsLive(g) && g < groups_.size();
    writer.WriteU8(live ? 1 : 0);
    if (!live) continue;
    const Group& group = groups_[g];
    writer.WriteU8(static_cast<uint8_t>(group.status));
    writer.WriteI64(group.time);
    writer.WriteI64(group.last_rank);
    writer.WriteU8(group.slot != kNoSlot ? 1 : 0);
    if (group.slot != kNoSlot) write_row(group.slot);
    writer.WriteU64(group.rows.size());
    for (uint32_t slot : group.rows) write_row(slot);
  }
  return absl::OkStatus();
}

absl::Status TopNOperator::Restore(StateReader& reader) {
  SLUICE_RETURN_IF_ERROR(RestoreEventTime(reader));
  SLUICE_ASSIGN_OR_RETURN(uint64_t evicted, reader.ReadU64());
  RestoreEvicted(evicted);
  SLUICE_RETURN_IF_ERROR(table_.Restore(reader));
  SLUICE_ASSIGN_OR_RETURN(uint64_t limit, reader.ReadU64());
  if (limit != table_.id_limit()) return absl::DataLossError("TopN snapshot: group count mismatch");
  groups_.clear();
  groups_.resize(limit);
  words_.clear();
  valid_.clear();
  strings_.clear();
  free_slots_.clear();
  slot_count_ = 0;
  heap_.clear();
  auto read_row = [&]() -> absl::StatusOr<uint32_t> {
    const uint32_t slot = AllocateSlot();
    for (size_t f = 0; f < fields_; ++f) {
      SLUICE_ASSIGN_OR_RETURN(uint8_t valid, reader.ReadU8());
      valid_[slot * fields_ + f] = valid;
      if (input_types_[f] == TypeId::kString) {
        SLUICE_ASSIGN_OR_RETURN(std::string_view text, reader.ReadBytes());
        strings_[slot * string_fields_ + string_index_[f]].assign(text);
      } else {
        SLUICE_ASSIGN_OR_RETURN(words_[slot * fields_ + f], reader.ReadU64());
      }
    }
    return slot;
  };
  for (uint32_t g = 0; g < limit; ++g) {
    SLUICE_ASSIGN_OR_RETURN(uint8_t live, reader.ReadU8());
    if (live == 0) continue;
    Group& group = groups_[g];
    SLUICE_ASSIGN_OR_RETURN(uint8_t status, reader.ReadU8());
    if (status > static_cast<uint8_t>(Status::kDone)) return absl::DataLossError("TopN snapshot: bad status");
    group.status = static_cast<Status>(status);
    SLUICE_ASSIGN_OR_RETURN(group.time, reader.ReadI64());
    SLUICE_ASSIGN_OR_RETURN(group.last_rank, reader.ReadI64());
    SLUICE_ASSIGN_OR_RETURN(uint8_t has_slot, reader.ReadU8());
    if (has_slot != 0) {
      SLUICE_ASSIGN_OR_RETURN(group.slot, read_row());
    }
    SLUICE_ASSIGN_OR_RETURN(uint64_t rows, reader.ReadCount(fields_));
    for (uint64_t i = 0; i < rows; ++i) {
      SLUICE_ASSIGN_OR_RETURN(uint32_t slot, read_row());
      group.rows.push_back(slot);
    }
    if (group.status == Status::kPending) PushHeap(group.time, g);
  }
  return absl::OkStatus();
}

}  // namespace sluice
