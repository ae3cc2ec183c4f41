#include "ops/join_operator.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <queue>

#include "common/strings.h"

namespace sluice {

namespace {

constexpr uint32_t kNoSlot = UINT32_MAX;
// Pairs collected before the residual is evaluated and they are emitted.
constexpr size_t kOutputRows = 1024;

bool KeyIsNull(const std::vector<std::shared_ptr<Column>>& keys, uint32_t row) {
  for (const auto& key : keys) {
    if (!key->IsValid(row)) return true;
  }
  return false;
}

}  // namespace

// One input's kept rows, column by column (each value a 64-bit word: integers and timestamps as
// they are, doubles by their bits, booleans 0/1, strings by an interned id). Slots are dense
// and reused; per slot: its key group, links to the group's other rows, its time, when it is
// freed, and how many rows of the other input it matches now.
class JoinOperator::RowStore {
 public:
  // `stored`: the columns kept (the others read back as NULL); empty: all.
  RowStore(const Schema& schema, std::vector<bool> stored) : stored_(std::move(stored)) {
    for (const Field& field : schema.fields()) types_.push_back(field.type);
    stored_.resize(types_.size(), true);
    values_.resize(types_.size());
    valid_.resize(types_.size());
    strings_.EnableRelease();
  }

  size_t live() const { return live_count_; }
  bool IsLive(uint32_t slot) const { return slot < live_.size() && live_[slot] != 0; }

  uint32_t Add(const Batch& batch, uint32_t row) {
    uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<uint32_t>(live_.size());
      for (size_t c = 0; c < types_.size(); ++c) {
        values_[c].push_back(0);
        valid_[c].push_back(0);
      }
      for (auto* v : {&next, &prev, &matches, &group, &generation}) v->push_back(0);
      time.push_back(0);
      expires.push_back(0);
      live_.push_back(0);
    }
    for (size_t c = 0; c < types_.size(); ++c) {
      const Column& column = batch.column(c);
      const bool valid = stored_[c] && types_[c] != TypeId::kNull && column.IsValid(row);
      valid_[c][slot] = valid;
      uint64_t word = 0;
      if (valid) {
        switch (WordType(types_[c])) {
          case TypeId::kString: {
            const uint32_t id = strings_.Intern(column.data<std::string_view>()[row]);
            strings_.Acquire(id);
            word = id;
            break;
          }
          case TypeId::kBoolean: word = column.data<uint8_t>()[row] != 0; break;
          case TypeId::kDouble: word = std::bit_cast<uint64_t>(column.data<double>()[row]); break;
          case TypeId::kInt64:
          case TypeId::kTimestamp: word = static_cast<uint64_t>(column.data<int64_t>()[row]); break;
          case TypeId::kNull: break;
        }
      }
      values_[c][slot] = word;
    }
    next[slot] = prev[slot] = kNoSlot;
    matches[slot] = 0;
    time[slot] = 0;
    expires[slot] = kMaxWatermark;  // kept until something says otherwise
    ++generation[slot];
    live_[slot] = 1;
    ++live_count_;
    return slot;
  }

  // Adds a row read back from a snapshot.
  absl::StatusOr<uint32_t> Read(StateReader& reader) {
    // Builds a one-row batch, then adds it as Add() does.
    if (scratch_.num_columns() == 0) {
      std::vector<std::shared_ptr<Column>> columns;
      for (TypeId type : types_) columns.push_back(std::make_shared<Column>(type, 1));
      scratch_.SetColumns(std::move(columns), 1);
    }
    std::vector<std::string> texts(types_.size());
    for (size_t c = 0; c < types_.size(); ++c) {
      Column& column = scratch_.mutable_column(c);
      SLUICE_ASSIGN_OR_RETURN(const uint8_t valid, reader.ReadU8());
      if (!valid) {
        column.SetNull(0);
        continue;
      }
      column.validity()[0] = 1;
      if (types_[c] == TypeId::kString) {
        SLUICE_ASSIGN_OR_RETURN(std::string_view text, reader.ReadBytes());
        texts[c] = std::string(text);
        column.data<std::string_view>()[0] = texts[c];
      } else {
        SLUICE_ASSIGN_OR_RETURN(const uint64_t word, reader.ReadU64());
        if (types_[c] == TypeId::kBoolean) {
          column.data<uint8_t>()[0] = word != 0;
        } else if (types_[c] != TypeId::kNull) {
          std::memcpy(column.data<uint8_t>(), &word, sizeof(word));
        }
      }
    }
    return Add(scratch_, 0);
  }

  void Write(StateWriter& writer, uint32_t slot) const {
    for (size_t c = 0; c < types_.size(); ++c) {
      writer.WriteU8(valid_[c][slot]);
      if (!valid_[c][slot]) continue;
      if (types_[c] == TypeId::kString) {
        writer.WriteBytes(strings_.Get(static_cast<uint32_t>(values_[c][slot])));
      } else {
        writer.WriteU64(values_[c][slot]);
      }
    }
  }

  void Remove(uint32_t slot) {
    for (size_t c = 0; c < types_.size(); ++c) {
      if (types_[c] == TypeId::kString && valid_[c][slot]) strings_.Release(static_cast<uint32_t>(values_[c][slot]));
    }
    live_[slot] = 0;
    --live_count_;
    free_.push_back(slot);
  }

  // Whether stored row `slot` equals row `row` of `batch` in every column (NULL equal to NULL).
  bool Equals(uint32_t slot, const Batch& batch, uint32_t row) const {
    for (size_t c = 0; c < types_.size(); ++c) {
      const Column& column = batch.column(c);
      const bool valid = types_[c] != TypeId::kNull && column.IsValid(row);
      if (valid != (valid_[c][slot] != 0)) return false;
      if (!valid) continue;
      const uint64_t word = values_[c][slot];
      switch (WordType(types_[c])) {
        case TypeId::kString:
          if (strings_.Get(static_cast<uint32_t>(word)) != column.data<std::string_view>()[row]) return false;
          break;
        case TypeId::kBoolean:
          if ((column.data<uint8_t>()[row] != 0) != (word != 0)) return false;
          break;
        case TypeId::kDouble:
          if (std::bit_cast<uint64_t>(column.data<double>()[row]) != word) return false;
          break;
        case TypeId::kInt64:
        case TypeId::kTimestamp:
          if (static_cast<uint64_t>(column.data<int64_t>()[row]) != word) return false;
          break;
        case TypeId::kNull: break;
      }
    }
    return true;
  }

  // Writes column `c` of stored row `slot` into out[row].
  void WriteValue(uint32_t slot, size_t c, Column& out, size_t row) const {
    if (!valid_[c][slot]) {
      out.SetNull(row);
      return;
    }
    out.validity()[row] = 1;
    const uint64_t word = values_[c][slot];
    switch (WordType(types_[c])) {
      case TypeId::kString:
        out.data<std::string_view>()[row] = strings_.GetLasting(static_cast<uint32_t>(word), out.heap());
        break;
      case TypeId::kBoolean: out.data<uint8_t>()[row] = word != 0; break;
      case TypeId::kDouble: out.data<double>()[row] = std::bit_cast<double>(word); break;
      case TypeId::kInt64:
      case TypeId::kTimestamp: out.data<int64_t>()[row] = static_cast<int64_t>(word); break;
      case TypeId::kNull: out.SetNull(row); break;
    }
  }

  size_t bytes() const {
    size_t bytes = strings_.bytes() + CapacityBytes(live_) + CapacityBytes(free_) + CapacityBytes(time) +
                   CapacityBytes(expires);
    for (const auto* v : {&next, &prev, &matches, &group, &generation}) bytes += CapacityBytes(*v);
    for (size_t c = 0; c < types_.size(); ++c) bytes += CapacityBytes(values_[c]) + CapacityBytes(valid_[c]);
    return bytes;
  }
  size_t string_bytes() const { return strings_.string_bytes(); }

  // Per slot (public: the operator walks and links them).
  std::vector<uint32_t> next, prev;  // the group's chain
  std::vector<uint32_t> matches;     // rows of the other input it matches now
  std::vector<uint32_t> group;
  std::vector<uint32_t> generation;  // bumped when the slot is reused (stale expiry entries)
  std::vector<int64_t> time;         // time-bounded: its time
  std::vector<int64_t> expires;      // time-bounded: the other input's watermark that frees it

 private:
  template <typename T>
  static size_t CapacityBytes(const std::vector<T>& v) {
    return v.capacity() * sizeof(T);
  }

  std::vector<TypeId> types_;
  std::vector<bool> stored_;
  std::vector<std::vector<uint64_t>> values_;
  std::vector<std::vector<uint8_t>> valid_;
  StringInterner strings_;
  std::vector<uint8_t> live_;
  std::vector<uint32_t> free_;
  size_t live_count_ = 0;
  Batch scratch_;

 public:
  // Time-bounded: when each row is freed, (expires, slot, generation), taken earliest first.
  // Rows mostly arrive in time order, so entries that do go to a queue (O(1)); the few that
  // arrive out of order go to a heap.
  struct Expiry {
    int64_t expires;
    uint32_t slot;
    uint32_t generation;
    bool operator>(const Expiry& other) const { return expires > other.expires; }
  };
  void PushExpiry(const Expiry& entry) {
    if (in_order_head_ == in_order_.size() || entry.expires >= in_order_.back().expires) {
      in_order_.push_back(entry);
    } else {
      out_of_order_.push(entry);
    }
  }
  // The earliest entry, if any.
  const Expiry* NextExpiry() const {
    const Expiry* queued = in_order_head_ < in_order_.size() ? &in_order_[in_order_head_] : nullptr;
    const Expiry* heaped = out_of_order_.empty() ? nullptr : &out_of_order_.top();
    if (queued == nullptr) return heaped;
    if (heaped == nullptr) return queued;
    return heaped->expires < queued->expires ? heaped : queued;
  }
  void PopExpiry(const Expiry* entry) {
    if (entry == (in_order_head_ < in_order_.size() ? &in_order_[in_order_head_] : nullptr)) {
      if (++in_order_head_ == in_order_.size()) {
        in_order_.clear();
        in_order_head_ = 0;
      } else if (in_order_head_ >= 4096 && in_order_head_ * 2 >= in_order_.size()) {
        in_order_.erase(in_order_.begin(), in_order_.begin() + static_cast<std::ptrdiff_t>(in_order_head_));
        in_order_head_ = 0;
      }
    } else {
      out_of_order_.pop();
    }
  }
  size_t expiry_bytes() const {
    return in_order_.capacity() * sizeof(Expiry) + out_of_order_.size() * sizeof(Expiry);
  }

 private:
  std::vector<Expiry> in_order_;
  size_t in_order_head_ = 0;
  std::priority_queue<Expiry, std::vector<Expiry>, std::greater<Expiry>> out_of_order_;
};

// The output rows being built: each a reference per input (a row of the batch being joined, a
// stored slot, or none for NULLs) and a row kind.
class JoinOperator::OutputBuilder {
 public:
  static constexpr uint32_t kNullRef = UINT32_MAX;

  OutputBuilder(const Schema& left, const Schema& right) {
    for (const Schema* schema : {&left, &right}) {
      for (const Field& field : schema->fields()) {
        pools_.push_back(std::make_unique<ColumnPool>(field.type == TypeId::kNull ? TypeId::kString : field.type));
      }
    }
    columns_[kLeft] = left.size();
    columns_[kRight] = right.size();
  }

  size_t size() const { return kinds_.size(); }
  bool empty() const { return kinds_.empty(); }
  uint32_t ref(int side, size_t i) const { return refs_[side][i]; }
  void Add(uint32_t left, uint32_t right, RowKind kind) {
    refs_[kLeft].push_back(left);
    refs_[kRight].push_back(right);
    kinds_.push_back(kind);
    if (kind != RowKind::kInsert) any_kind_ = true;
  }
  void Clear() {
    refs_[kLeft].clear();
    refs_[kRight].clear();
    kinds_.clear();
    any_kind_ = false;
  }

  // The output batch of the rows added: input `batch_side`'s references are rows of `batch`
  // (-1: none is), the others slots of `stores`.
  Batch& Build(const Batch* batch, int batch_side, const RowStore* const* stores) {
    const size_t rows = kinds_.size();
    batch_.Reset(pools_.size(), rows);
    size_t out = 0;
    for (int side : {kLeft, kRight}) {
      const std::vector<uint32_t>& refs = refs_[side];
      for (size_t c = 0; c < columns_[side]; ++c, ++out) {
        std::shared_ptr<Column> column = pools_[out]->Acquire(rows);
        if (side == batch_side) {
          const Column& input = batch->column(c);
          CopyRows(input, refs, *column);
        } else {
          for (size_t i = 0; i < rows; ++i) {
            if (refs[i] == kNullRef) {
              column->SetNull(i);
            } else {
              stores[side]->WriteValue(refs[i], c, *column, i);
            }
          }
        }
        batch_.SetColumn(out, std::move(column));
      }
    }
    if (any_kind_) {
      if (kinds_column_ == nullptr || kinds_column_.use_count() > 1) {
        kinds_column_ = std::make_shared<Column>(TypeId::kBoolean, rows);
      }
      kinds_column_->Resize(rows);
      std::memcpy(kinds_column_->data<uint8_t>(), kinds_.data(), rows);
      batch_.SetRowKinds(kinds_column_);
    } else {
      batch_.SetRowKinds(nullptr);
    }
    return batch_;
  }

 private:
  static void CopyRows(const Column& input, const std::vector<uint32_t>& refs, Column& out) {
    const size_t rows = refs.size();
    uint8_t* valid = out.validity();
    const uint8_t* input_valid = input.validity();
    auto copy = [&](auto* to, const auto* from, auto zero) {
      for (size_t i = 0; i < rows; ++i) {
        const uint32_t r = refs[i];
        const bool present = r != kNullRef && input.type() != TypeId::kNull && input_valid[r] != 0;
        to[i] = present ? from[r] : zero;
        valid[i] = present;
      }
    };
    switch (WordType(out.type())) {
      case TypeId::kString:
        if (input.type() == TypeId::kNull) {
          for (size_t i = 0; i < rows; ++i) out.SetNull(i);
          return;
        }
        copy(out.data<std::string_view>(), input.data<std::string_view>(), std::string_view());
        out.KeepAliveStringsOf(input);
        break;
      case TypeId::kBoolean:
      case TypeId::kNull: copy(out.data<uint8_t>(), input.data<uint8_t>(), uint8_t{0}); break;
      case TypeId::kDouble: copy(out.data<double>(), input.data<double>(), 0.0); break;
      case TypeId::kInt64:
      case TypeId::kTimestamp: copy(out.data<int64_t>(), input.data<int64_t>(), int64_t{0}); break;
    }
  }

  std::vector<std::unique_ptr<ColumnPool>> pools_;
  size_t columns_[2] = {0, 0};
  std::vector<uint32_t> refs_[2];
  std::vector<RowKind> kinds_;
  bool any_kind_ = false;
  std::shared_ptr<Column> kinds_column_;
  Batch batch_;
};

// The right input: hands the join its batches, watermarks and end.
class JoinOperator::RightInput final : public Operator {
 public:
  explicit RightInput(JoinOperator& join) : join_(join) {}
  absl::Status Push(const Batch& batch) override { return join_.PushInput(kRight, batch); }
  absl::Status Finish() override { return join_.FinishInput(kRight); }
  absl::Status OnWatermark(int64_t watermark) override { return join_.InputWatermark(kRight, watermark); }
  bool IsDone() const override { return join_.IsDone(); }
  std::string Describe() const override { return StrCat("right input of ", join_.definition_.text); }

 private:
  JoinOperator& join_;
};

namespace {

std::vector<TypeId> KeyTypes(const JoinDefinition& definition) {
  std::vector<TypeId> types;
  for (const auto& key : definition.left_keys) types.push_back(key->type);
  return types;
}

}  // namespace

JoinOperator::JoinOperator(const JoinDefinition& definition, const Schema& left, const Schema& right)
    : StatefulOperator(/*input_out_of_orderness_millis=*/0, /*dead_letter_late_rows=*/false),
      definition_(definition),
      time_bounded_(definition.time_bound.has_value()),
      ttl_(!definition.time_bound && definition.state_ttl_millis.has_value()),
      semi_(definition.type == JoinType::kSemi),
      anti_(definition.type == JoinType::kAnti),
      keys_(KeyTypes(definition)) {
  column_offset_[kRight] = left.size();
  for (const auto& key : definition.left_keys) key_executors_[kLeft].push_back(std::make_unique<ExpressionExecutor>(*key));
  for (const auto& key : definition.right_keys) {
    key_executors_[kRight].push_back(std::make_unique<ExpressionExecutor>(*key));
  }
  if (time_bounded_) {
    const JoinTimeBound& bound = *definition.time_bound;
    time_executors_[kLeft] = std::make_unique<ExpressionExecutor>(*bound.left_time);
    time_executors_[kRight] = std::make_unique<ExpressionExecutor>(*bound.right_time);
    // No row emitted later is behind the forwarded watermark (see the header).
    hold_back_ = std::max({int64_t{0}, bound.left_lag, bound.right_lag, bound.right_lag - bound.lower,
                           bound.left_lag + bound.upper});
  }
  if (definition.residual) residual_ = std::make_unique<ExpressionExecutor>(*definition.residual);
  if (ttl_) {
    time_executors_[kLeft] = std::make_unique<ExpressionExecutor>(*definition.left_ttl_time);
    time_executors_[kRight] = std::make_unique<ExpressionExecutor>(*definition.right_ttl_time);
  }
  // Only the columns read after the join are kept, but every column of an updating input (a
  // retraction finds its row by all of them).
  std::vector<bool> stored[2];
  if (!definition.used_columns.empty()) {
    const std::vector<bool>& used = definition.used_columns;
    stored[kLeft].assign(used.begin(), used.begin() + std::min(used.size(), left.size()));
    if (used.size() > left.size()) stored[kRight].assign(used.begin() + left.size(), used.end());
  }
  if (definition.left_updating) stored[kLeft].clear();
  if (definition.right_updating) stored[kRight].clear();
  rows_[kLeft] = std::make_unique<RowStore>(left, std::move(stored[kLeft]));
  rows_[kRight] = std::make_unique<RowStore>(right, std::move(stored[kRight]));
  output_ = std::make_unique<OutputBuilder>(left, right);
  right_input_ = std::make_unique<RightInput>(*this);
}

JoinOperator::~JoinOperator() = default;

absl::Status JoinOperator::EmitRows(const Batch& rows) {
  if (!semi_ && !anti_) return Emit(rows);
  // A semi- or anti-join's output is the left input's columns alone.
  const size_t columns = column_offset_[kRight];
  projected_.Reset(columns, rows.num_rows());
  for (size_t c = 0; c < columns; ++c) projected_.SetColumn(c, rows.shared_column(c));
  projected_.SetRowKinds(rows.shared_row_kinds());
  if (rows.has_selection()) {
    std::memcpy(projected_.MutableSelection(), rows.selection(), rows.active_rows() * sizeof(uint32_t));
    projected_.SetSelectionCount(rows.active_rows());
  }
  const absl::Status status = Emit(projected_);
  projected_.Release();
  return status;
}

Operator* JoinOperator::second_input() { return right_input_.get(); }

std::string JoinOperator::Describe() const {
  std::string text = StrCat("Join ", definition_.text);
  if (time_bounded_) {
    StrAppend(&text, " (time-bounded: ", definition_.time_bound->text, "; rows freed as watermarks pass)");
  } else {
    StrAppend(&text, " (regular: ",
              ttl_ ? StrCat("rows kept for 'state.ttl' ", *definition_.state_ttl_millis, " ms of event time")
                   : std::string("every row kept"),
              definition_.output_updating ? "; updating output" : "", ")");
  }
  return text;
}

size_t JoinOperator::retained_rows() const { return rows_[kLeft]->live() + rows_[kRight]->live(); }

StateUsage JoinOperator::state_usage() const {
  StateUsage usage;
  usage.keys = keys_.size();
  usage.bytes = keys_.MemoryBytes() + rows_[kLeft]->bytes() + rows_[kRight]->bytes() +
                (heads_[kLeft].capacity() + heads_[kRight].capacity()) * sizeof(uint32_t);
  for (int side : {kLeft, kRight}) usage.bytes += rows_[side]->expiry_bytes();
  return usage;
}

int64_t JoinOperator::OutputWatermark() const {
  const int64_t lower = std::min(watermark_[kLeft], watermark_[kRight]);
  if (lower == INT64_MIN || lower == kMaxWatermark) return lower;
  return lower - hold_back_;
}

absl::Status JoinOperator::InputWatermark(int side, int64_t watermark) {
  if (watermark <= watermark_[side]) return absl::OkStatus();
  watermark_[side] = watermark;
  if (time_bounded_ || ttl_) SLUICE_RETURN_IF_ERROR(Expire(1 - side, watermark));
  const int64_t output = OutputWatermark();
  if (output <= forwarded_) return ChargeState();
  forwarded_ = output;
  return StatefulOperator::OnWatermark(output);
}

absl::Status JoinOperator::FinishInput(int side) {
  if (finished_[side]) return absl::OkStatus();
  finished_[side] = true;
  if (!IsDone()) return absl::OkStatus();
  return Operator::Finish();
}

absl::Status JoinOperator::PushInput(int side, const Batch& batch) {
  const size_t active = batch.active_rows();
  if (active == 0) return absl::OkStatus();
  const size_t rows = batch.num_rows();
  if (groups_.size() < rows) {
    groups_.resize(rows);
    probe_matches_.resize(rows);
    probe_usable_.resize(rows);
  }
  key_columns_.clear();
  key_pointers_.clear();
  for (auto& executor : key_executors_[side]) {
    key_columns_.push_back(executor->Evaluate(batch));
    key_pointers_.push_back(key_columns_.back().get());
  }
  std::shared_ptr<Column> times;
  if (time_bounded_ || ttl_) times = time_executors_[side]->Evaluate(batch);
  // Usable rows: a key without NULLs and, time-bounded, a time that is not late.
  selection_.clear();
  const int64_t lag = time_bounded_ ? (side == kLeft ? definition_.time_bound->left_lag
                                                     : definition_.time_bound->right_lag)
                                    : 0;
  for (size_t i = 0; i < active; ++i) {
    const uint32_t row = batch.ActiveRow(i);
    bool usable = !KeyIsNull(key_columns_, row);
    if (time_bounded_) {
      if (!times->IsValid(row)) {
        usable = false;
      } else {
        const int64_t time = times->data<int64_t>()[row];
        int64_t reach;
        if (watermark_[side] != INT64_MIN && !__builtin_add_overflow(time, lag, &reach) &&
            reach <= watermark_[side]) {
          SLUICE_RETURN_IF_ERROR(RejectLate(batch, row));
          probe_usable_[row] = 0;
          continue;  // late: not joined, not padded
        }
      }
    }
    probe_usable_[row] = usable;
    if (usable) selection_.push_back(row);
  }
  created_groups_.clear();
  keys_.FindOrInsert(key_pointers_.data(), selection_.data(), selection_.size(), groups_.data(), &created_groups_);
  for (int s : {kLeft, kRight}) {
    if (heads_[s].size() < keys_.id_limit()) heads_[s].resize(keys_.id_limit(), kNoSlot);
  }
  for (uint32_t group : created_groups_) heads_[kLeft][group] = heads_[kRight][group] = kNoSlot;
  current_times_ = times;

  // Rows with a NULL key: never matched, never kept; an outer join keeps them padded.
  auto pad_unusable = [&](const uint32_t* rows_to_check, size_t count, RowKind kind) -> absl::Status {
    if (!Preserves(side)) return absl::OkStatus();
    output_->Clear();
    for (size_t i = 0; i < count; ++i) {
      const uint32_t row = rows_to_check[i];
      if (probe_usable_[row] != 0) continue;
      // A late row was dropped (and counted) above: it is not padded either.
      if (time_bounded_ && times->IsValid(row) && !KeyIsNull(key_columns_, row)) continue;
      if (side == kLeft) {
        output_->Add(row, OutputBuilder::kNullRef, kind);
      } else {
        output_->Add(OutputBuilder::kNullRef, row, kind);
      }
    }
    if (output_->empty()) return absl::OkStatus();
    const RowStore* stores[2] = {rows_[kLeft].get(), rows_[kRight].get()};
    Batch& out = output_->Build(&batch, side, stores);
    const absl::Status status = EmitRows(out);
    output_->Clear();
    return status;
  };

  absl::Status status;
  if (!batch.has_row_kinds()) {
    one_row_.clear();
    for (size_t i = 0; i < active; ++i) one_row_.push_back(batch.ActiveRow(i));
    status = pad_unusable(one_row_.data(), one_row_.size(), RowKind::kInsert);
    if (status.ok()) status = JoinInserts(side, batch, selection_.data(), selection_.size());
  } else {
    // An updating input: row by row, so that a retraction finds a row inserted just before.
    for (size_t i = 0; i < active && status.ok(); ++i) {
      const uint32_t row = batch.ActiveRow(i);
      const RowKind kind = batch.row_kind(row);
      if (probe_usable_[row] == 0) {
        status = pad_unusable(&row, 1, IsRetraction(kind) ? RowKind::kDelete : RowKind::kInsert);
      } else if (IsRetraction(kind)) {
        status = JoinRetraction(side, batch, row);
      } else {
        status = JoinInserts(side, batch, &row, 1);
      }
    }
  }
  // Rows that the other input's watermark has already passed are freed at once (the other
  // input may have ended).
  if (status.ok() && (time_bounded_ || ttl_)) status = Expire(side, watermark_[1 - side]);
  // Groups left without rows (every row of the batch was retracted, or had nothing to keep).
  emptied_groups_.insert(emptied_groups_.end(), created_groups_.begin(), created_groups_.end());
  EraseEmptyGroups();
  current_times_.reset();
  SLUICE_RETURN_IF_ERROR(status);
  return ChargeState();
}

absl::Status JoinOperator::JoinInserts(int side, const Batch& batch, const uint32_t* rows, size_t count) {
  const int other = 1 - side;
  RowStore& others = *rows_[other];
  const int64_t* times = time_bounded_ || ttl_ ? current_times_->data<int64_t>() : nullptr;
  const int64_t lower = time_bounded_ ? definition_.time_bound->lower : 0;
  const int64_t upper = time_bounded_ ? definition_.time_bound->upper : 0;
  output_->Clear();
  changed_slots_.clear();
  for (size_t i = 0; i < count; ++i) {
    const uint32_t row = rows[i];
    probe_matches_[row] = 0;
    const uint32_t group = groups_[row];
    for (uint32_t slot = heads_[other][group]; slot != kNoSlot; slot = others.next[slot]) {
      if (time_bounded_) {
        // left - right in [lower, upper]
        const int64_t difference = side == kLeft ? times[row] - others.time[slot] : others.time[slot] - times[row];
        if (difference < lower || difference > upper) continue;
      }
      if (side == kLeft) {
        output_->Add(row, slot, RowKind::kInsert);
      } else {
        output_->Add(slot, row, RowKind::kInsert);
      }
      if (output_->size() >= kOutputRows) SLUICE_RETURN_IF_ERROR(FlushPairs(side, +1, batch));
    }
  }
  SLUICE_RETURN_IF_ERROR(FlushPairs(side, +1, batch));
  // Stored rows that found their first match: a regular outer (or anti) join's padded rows
  // go, a semi-join's left rows come.
  if (!changed_slots_.empty()) {
    emitting_slots_.swap(changed_slots_);
    const absl::Status emitted =
        EmitStoredPadded(other, emitting_slots_, semi_ ? RowKind::kInsert : RowKind::kDelete);
    emitting_slots_.clear();
    SLUICE_RETURN_IF_ERROR(emitted);
  }
  // Keep the rows; an outer join's unmatched ones are padded now (regular) or when they are
  // freed (time-bounded).
  RowStore& mine = *rows_[side];
  output_->Clear();
  for (size_t i = 0; i < count; ++i) {
    const uint32_t row = rows[i];
    const uint32_t group = groups_[row];
    const uint32_t slot = mine.Add(batch, row);
    mine.group[slot] = group;
    mine.matches[slot] = probe_matches_[row];
    const uint32_t head = heads_[side][group];
    mine.next[slot] = head;
    if (head != kNoSlot) mine.prev[head] = slot;
    heads_[side][group] = slot;
    if (time_bounded_) {
      const JoinTimeBound& bound = *definition_.time_bound;
      const int64_t time = times[row];
      mine.time[slot] = time;
      // A left row is freed when the right watermark reaches time - lower + right_lag; a
      // right row when the left's reaches time + upper + left_lag.
      int64_t expires = 0;
      const bool overflow = side == kLeft
                                ? __builtin_sub_overflow(time, bound.lower, &expires) ||
                                      __builtin_add_overflow(expires, bound.right_lag, &expires)
                                : __builtin_add_overflow(time, bound.upper, &expires) ||
                                      __builtin_add_overflow(expires, bound.left_lag, &expires);
      if (overflow) expires = kMaxWatermark;
      mine.expires[slot] = expires;
      mine.PushExpiry({expires, slot, mine.generation[slot]});
    } else if (ttl_) {
      // 'state.ttl': freed once the other input's watermark is the TTL past the row's time (a
      // row without a time is kept).
      int64_t expires = kMaxWatermark;
      if (current_times_->IsValid(row) &&
          __builtin_add_overflow(times[row], *definition_.state_ttl_millis, &expires)) {
        expires = kMaxWatermark;
      }
      if (expires != kMaxWatermark) {
        mine.time[slot] = times[row];
        mine.expires[slot] = expires;
        mine.PushExpiry({expires, slot, mine.generation[slot]});
      }
    }
    if (semi_ && side == kLeft && probe_matches_[row] > 0) {
      output_->Add(row, OutputBuilder::kNullRef, RowKind::kInsert);
    } else if (!time_bounded_ && Preserves(side) && probe_matches_[row] == 0) {
      if (side == kLeft) {
        output_->Add(row, OutputBuilder::kNullRef, RowKind::kInsert);
      } else {
        output_->Add(OutputBuilder::kNullRef, row, RowKind::kInsert);
      }
    }
  }
  if (output_->empty()) return absl::OkStatus();
  const RowStore* stores[2] = {rows_[kLeft].get(), rows_[kRight].get()};
  const absl::Status status = EmitRows(output_->Build(&batch, side, stores));
  output_->Clear();
  return status;
}

absl::Status JoinOperator::FlushPairs(int side, int delta, const Batch& batch) {
  if (output_->empty()) return absl::OkStatus();
  const int other = 1 - side;
  RowStore& others = *rows_[other];
  const RowStore* stores[2] = {rows_[kLeft].get(), rows_[kRight].get()};
  Batch& out = output_->Build(&batch, side, stores);
  const size_t rows = out.num_rows();
  size_t kept = rows;
  if (residual_ != nullptr) {
    if (pair_selection_.size() < rows) pair_selection_.resize(rows);
    kept = residual_->Select(out, pair_selection_.data());
  }
  // Stored rows whose output changes with their first match or their last: a regular outer
  // (or anti) join's padded rows, a semi-join's left rows.
  const bool tracks = (!time_bounded_ && Preserves(other)) || (semi_ && other == kLeft);
  for (size_t k = 0; k < kept; ++k) {
    const size_t i = residual_ != nullptr ? pair_selection_[k] : k;
    const uint32_t row = output_->ref(side, i);
    const uint32_t slot = output_->ref(other, i);
    probe_matches_[row] += 1;
    uint32_t& matches = others.matches[slot];
    if (delta > 0) {
      if (tracks && matches == 0) changed_slots_.push_back(slot);
      ++matches;
    } else {
      --matches;
      if (tracks && matches == 0) changed_slots_.push_back(slot);
    }
  }
  absl::Status status;
  if (kept > 0 && !semi_ && !anti_) {
    if (residual_ != nullptr) {
      std::memcpy(out.MutableSelection(), pair_selection_.data(), kept * sizeof(uint32_t));
      out.SetSelectionCount(kept);
    }
    status = Emit(out);
  }
  output_->Clear();
  return status;
}

absl::Status JoinOperator::EmitStoredPadded(int side, const std::vector<uint32_t>& slots, RowKind kind) {
  output_->Clear();
  const RowStore* stores[2] = {rows_[kLeft].get(), rows_[kRight].get()};
  for (size_t i = 0; i < slots.size(); ++i) {
    if (side == kLeft) {
      output_->Add(slots[i], OutputBuilder::kNullRef, kind);
    } else {
      output_->Add(OutputBuilder::kNullRef, slots[i], kind);
    }
    if (output_->size() >= kOutputRows || i + 1 == slots.size()) {
      SLUICE_RETURN_IF_ERROR(EmitRows(output_->Build(nullptr, -1, stores)));
      output_->Clear();
    }
  }
  return absl::OkStatus();
}

absl::Status JoinOperator::JoinRetraction(int side, const Batch& batch, uint32_t row) {
  const int other = 1 - side;
  RowStore& mine = *rows_[side];
  const uint32_t group = groups_[row];
  uint32_t found = kNoSlot;
  for (uint32_t slot = heads_[side][group]; slot != kNoSlot; slot = mine.next[slot]) {
    if (mine.Equals(slot, batch, row)) {
      found = slot;
      break;
    }
  }
  if (found == kNoSlot) {
    ++unknown_retractions_;  // a row never inserted: nothing joined it
    return absl::OkStatus();
  }
  // Retract the joined rows it made.
  output_->Clear();
  changed_slots_.clear();
  probe_matches_[row] = 0;
  for (uint32_t slot = heads_[other][group]; slot != kNoSlot; slot = rows_[other]->next[slot]) {
    if (side == kLeft) {
      output_->Add(row, slot, RowKind::kDelete);
    } else {
      output_->Add(slot, row, RowKind::kDelete);
    }
    if (output_->size() >= kOutputRows) SLUICE_RETURN_IF_ERROR(FlushPairs(side, -1, batch));
  }
  SLUICE_RETURN_IF_ERROR(FlushPairs(side, -1, batch));
  if (!changed_slots_.empty()) {
    emitting_slots_.swap(changed_slots_);
    const absl::Status emitted =
        EmitStoredPadded(other, emitting_slots_, semi_ ? RowKind::kDelete : RowKind::kInsert);
    emitting_slots_.clear();
    SLUICE_RETURN_IF_ERROR(emitted);
  }
  // Its own padded row when it had no match; a semi-join's row when it had one.
  if ((Preserves(side) && mine.matches[found] == 0) || (semi_ && side == kLeft && mine.matches[found] > 0)) {
    output_->Clear();
    if (side == kLeft) {
      output_->Add(row, OutputBuilder::kNullRef, RowKind::kDelete);
    } else {
      output_->Add(OutputBuilder::kNullRef, row, RowKind::kDelete);
    }
    const RowStore* stores[2] = {rows_[kLeft].get(), rows_[kRight].get()};
    SLUICE_RETURN_IF_ERROR(EmitRows(output_->Build(&batch, side, stores)));
    output_->Clear();
  }
  Unlink(side, found);
  return absl::OkStatus();
}

void JoinOperator::Unlink(int side, uint32_t slot) {
  RowStore& store = *rows_[side];
  const uint32_t group = store.group[slot];
  const uint32_t next = store.next[slot], prev = store.prev[slot];
  if (prev != kNoSlot) {
    store.next[prev] = next;
  } else {
    heads_[side][group] = next;
  }
  if (next != kNoSlot) store.prev[next] = prev;
  store.Remove(slot);
  // Erased once the batch is done: a later row of the batch may still join this group.
  if (heads_[kLeft][group] == kNoSlot && heads_[kRight][group] == kNoSlot) emptied_groups_.push_back(group);
}

void JoinOperator::EraseEmptyGroups() {
  for (uint32_t group : emptied_groups_) {
    if (keys_.IsLive(group) && heads_[kLeft][group] == kNoSlot && heads_[kRight][group] == kNoSlot) {
      keys_.Erase(group);
    }
  }
  emptied_groups_.clear();
}

absl::Status JoinOperator::Expire(int side, int64_t other_watermark) {
  RowStore& store = *rows_[side];
  expired_slots_.clear();
  padded_slots_.clear();
  for (const RowStore::Expiry* next = store.NextExpiry(); next != nullptr && next->expires <= other_watermark;
       next = store.NextExpiry()) {
    const RowStore::Expiry entry = *next;
    store.PopExpiry(next);
    if (!store.IsLive(entry.slot) || store.generation[entry.slot] != entry.generation) continue;
    // A time bound pads an unmatched row now; a TTL frees a row whose padded row (if any) was
    // emitted when it arrived.
    if (time_bounded_ && Preserves(side) && store.matches[entry.slot] == 0) padded_slots_.push_back(entry.slot);
    expired_slots_.push_back(entry.slot);
  }
  if (!padded_slots_.empty()) SLUICE_RETURN_IF_ERROR(EmitStoredPadded(side, padded_slots_, RowKind::kInsert));
  for (uint32_t slot : expired_slots_) Unlink(side, slot);
  if (ttl_) CountEvicted(expired_slots_.size());
  EraseEmptyGroups();
  return absl::OkStatus();
}

// Snapshot: the common event-time part, the inputs' watermarks, the key table, then each
// input's rows (group, time, expiry, matches, values).
absl::Status JoinOperator::Snapshot(StateWriter& writer) const {
  SnapshotEventTime(writer);
  writer.WriteI64(watermark_[kLeft]);
  writer.WriteI64(watermark_[kRight]);
  writer.WriteI64(forwarded_);
  writer.WriteU64(evicted());
  keys_.Snapshot(writer);
  for (int side : {kLeft, kRight}) {
    const RowStore& store = *rows_[side];
    writer.WriteU64(store.live());
    // Oldest first within a group: walk each chain from its tail so that restore, which pushes
    // at the head, rebuilds the same order.
    for (uint32_t group = 0; group < heads_[side].size(); ++group) {
      if (heads_[side][group] == kNoSlot || !keys_.IsLive(group)) continue;
      uint32_t tail = heads_[side][group];
      while (store.next[tail] != kNoSlot) tail = store.next[tail];
      for (uint32_t slot = tail; slot != kNoSlot; slot = store.prev[slot]) {
        writer.WriteU32(group);
        writer.WriteI64(store.time[slot]);
        writer.WriteI64(store.expires[slot]);
        writer.WriteU32(store.matches[slot]);
        store.Write(writer, slot);
      }
    }
  }
  return absl::OkStatus();
}

absl::Status JoinOperator::Restore(StateReader& reader) {
  SLUICE_RETURN_IF_ERROR(RestoreEventTime(reader));
  SLUICE_ASSIGN_OR_RETURN(watermark_[kLeft], reader.ReadI64());
  SLUICE_ASSIGN_OR_RETURN(watermark_[kRight], reader.ReadI64());
  SLUICE_ASSIGN_OR_RETURN(forwarded_, reader.ReadI64());
  SLUICE_ASSIGN_OR_RETURN(const uint64_t evicted, reader.ReadU64());
  RestoreEvicted(evicted);
  SLUICE_RETURN_IF_ERROR(keys_.Restore(reader));
  for (int side : {kLeft, kRight}) heads_[side].assign(keys_.id_limit(), kNoSlot);
  for (int side : {kLeft, kRight}) {
    RowStore& store = *rows_[side];
    SLUICE_ASSIGN_OR_RETURN(const uint64_t count, reader.ReadU64());
    for (uint64_t i = 0; i < count; ++i) {
      SLUICE_ASSIGN_OR_RETURN(const uint32_t group, reader.ReadU32());
      SLUICE_ASSIGN_OR_RETURN(const int64_t time, reader.ReadI64());
      SLUICE_ASSIGN_OR_RETURN(const int64_t expires, reader.ReadI64());
      SLUICE_ASSIGN_OR_RETURN(const uint32_t matches, reader.ReadU32());
      if (group >= keys_.id_limit() || !keys_.IsLive(group)) {
        return absl::DataLossError("join snapshot: a row of a key group that is not in the snapshot");
      }
      SLUICE_ASSIGN_OR_RETURN(const uint32_t slot, store.Read(reader));
      store.group[slot] = group;
      store.time[slot] = time;
      store.expires[slot] = expires;
      store.matches[slot] = matches;
      const uint32_t head = heads_[side][group];
      store.next[slot] = head;
      if (head != kNoSlot) store.prev[head] = slot;
      heads_[side][group] = slot;
      if (time_bounded_ || (ttl_ && expires != kMaxWatermark)) store.PushExpiry({expires, slot, store.generation[slot]});
    }
  }
  return absl::OkStatus();
}

}  // namespace sluice
