#include "ops/rows_window_operator.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>

#include "common/state_vector.h"
#include "common/strings.h"

namespace sluice {
namespace {

using Kind = RowsWindowFunction::Kind;

// 2: ORDER BY values and late rows; 3: the per-record watermark.
constexpr uint32_t kSnapshotVersion = 3;
// Rows per batch when held LEAD rows are flushed together.
constexpr size_t kFlushBatchRows = 4096;

bool IsRunningSum(Kind kind) {
  return kind == Kind::kAvg || kind == Kind::kSum || kind == Kind::kCount;
}

// A partition last touched at `last_event_time` has expired when the watermark has reached
// that time plus `expire_after` (the rule of 'state.ttl' for GROUP BY keys); no overflow.
bool ExpiredBy(int64_t watermark, int64_t last_event_time, int64_t expire_after) {
  return watermark != INT64_MIN &&
         static_cast<__int128>(watermark) - static_cast<__int128>(last_event_time) >=
             static_cast<__int128>(expire_after);
}

// Neumaier's compensated summation: `sum + compensation` is the sum of every added value with
// an error independent of the number of terms (to first order).
inline void CompensatedAdd(double& sum, double& compensation, double value) {
  const double total = sum + value;
  if (std::fabs(sum) >= std::fabs(value)) {
    compensation += (sum - total) + value;
  } else {
    compensation += (value - total) + sum;
  }
  sum = total;
}

// Value bits of non-string types, as stored in rings and held rows.
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

// Per physical type: how values are read from a column, kept in a ring and written out.
enum class SumMode { kCountOnly, kInteger, kFloat };

struct Int64Traits {
  using Value = int64_t;
  using Storage = uint64_t;
  static constexpr SumMode kSum = SumMode::kInteger;
  static Value Input(const Column& column, size_t row) { return column.data<int64_t>()[row]; }
  static Value Load(const Storage* ring, size_t i) { return static_cast<int64_t>(ring[i]); }
  static void Store(Storage* ring, size_t i, Value value) { ring[i] = static_cast<uint64_t>(value); }
  template <typename Target>
  static void Output(const Target& target, size_t row, Value value) {
    static_cast<int64_t*>(target.data)[row] = value;
    target.validity[row] = 1;
  }
};

struct DoubleTraits {
  using Value = double;
  using Storage = uint64_t;
  static constexpr SumMode kSum = SumMode::kFloat;
  static Value Input(const Column& column, size_t row) { return column.data<double>()[row]; }
  static Value Load(const Storage* ring, size_t i) { return std::bit_cast<double>(ring[i]); }
  static void Store(Storage* ring, size_t i, Value value) { ring[i] = std::bit_cast<uint64_t>(value); }
  template <typename Target>
  static void Output(const Target& target, size_t row, Value value) {
    static_cast<double*>(target.data)[row] = value;
    target.validity[row] = 1;
  }
};

// BOOLEAN, and the all-NULL type of a bare NULL argument.
struct ByteTraits {
  using Value = uint8_t;
  using Storage = uint64_t;
  static constexpr SumMode kSum = SumMode::kCountOnly;
  static Value Input(const Column& column, size_t row) { return column.data<uint8_t>()[row]; }
  static Value Load(const Storage* ring, size_t i) { return static_cast<uint8_t>(ring[i]); }
  static void Store(Storage* ring, size_t i, Value value) { ring[i] = value; }
  template <typename Target>
  static void Output(const Target& target, size_t row, Value value) {
    static_cast<uint8_t*>(target.data)[row] = value;
    target.validity[row] = 1;
  }
};

// Ring slots own their bytes (a std::string whose capacity is reused), output strings are
// copied into the output column's heap: nothing downstream points into the operator's state.
struct StringTraits {
  using Value = std::string_view;
  using Storage = std::string;
  static constexpr SumMode kSum = SumMode::kCountOnly;
  static Value Input(const Column& column, size_t row) { return column.data<std::string_view>()[row]; }
  static Value Load(const Storage* ring, size_t i) { return ring[i]; }
  static void Store(Storage* ring, size_t i, Value value) { ring[i].assign(value.data(), value.size()); }
  template <typename Target>
  static void Output(const Target& target, size_t row, Value value) {
    static_cast<std::string_view*>(target.data)[row] = target.column->heap().Add(value);
    target.validity[row] = 1;
  }
};

template <typename Traits, typename Buffer>
typename Traits::Storage* RingOf(Buffer& buffer) {
  if constexpr (std::is_same_v<typename Traits::Storage, std::string>) {
    return buffer.strings.data();
  } else {
    return buffer.words.data();
  }
}

// One step of a sliding-window MIN (kMin) or MAX deque over ring positions of one partition:
// drop the front if it is the row leaving the frame, then push the new value after dropping
// every candidate it beats or ties (a later equal value outlives an earlier one).
template <bool kMin, typename Traits>
inline void UpdateDeque(uint32_t* queue, uint64_t* values, uint32_t& head, uint32_t& size, uint32_t capacity,
                        const typename Traits::Storage* ring, bool evicts, uint32_t evict_position,
                        bool valid, typename Traits::Value value, uint32_t position) {
  constexpr bool kValuesInDeque = std::is_same_v<typename Traits::Storage, uint64_t>;
  if (evicts && size > 0 && queue[head] == evict_position) {
    head = head + 1 == capacity ? 0 : head + 1;
    --size;
  }
  if (!valid) return;
  while (size > 0) {
    uint32_t back = head + size - 1;
    if (back >= capacity) back -= capacity;
    typename Traits::Value candidate;
    if constexpr (kValuesInDeque) {
      candidate = Traits::Load(values, back);
    } else {
      candidate = Traits::Load(ring, queue[back]);
    }
    const bool keep = kMin ? candidate < value : value < candidate;
    if (keep) break;
    --size;
  }
  uint32_t slot = head + size;
  if (slot >= capacity) slot -= capacity;
  queue[slot] = position;
  if constexpr (kValuesInDeque) Traits::Store(values, slot, value);
  ++size;
}

// Position `back` rows before `position` in a ring of `capacity` (back < capacity).
inline size_t RingBack(size_t position, size_t back, size_t capacity) {
  return position >= back ? position - back : position + capacity - back;
}

[[noreturn]] void DieInvalidSpec(const absl::Status& status) {
  std::fprintf(stderr, "internal error: invalid RowsWindowSpec: %s\n", std::string(status.message()).c_str());
  std::abort();
}

RowsWindowSpec CheckedSpec(RowsWindowSpec spec, const std::vector<TypeId>& input_types) {
  const absl::Status status = ValidateRowsWindowSpec(spec, input_types);
  if (!status.ok()) DieInvalidSpec(status);
  return spec;
}

std::vector<TypeId> KeyTypes(const RowsWindowSpec& spec, const std::vector<TypeId>& input_types) {
  std::vector<TypeId> types;
  for (size_t column : spec.partition_columns) types.push_back(input_types[column]);
  return types;
}

}  // namespace

RowsWindowOperator::RowsWindowOperator(RowsWindowSpec spec, std::vector<TypeId> input_types)
    : StatefulOperator(spec.input_out_of_orderness_millis, spec.dead_letter_late_rows),
      spec_(CheckedSpec(std::move(spec), input_types)),
      input_types_(std::move(input_types)),
      buffer_rows_(static_cast<size_t>(spec_.buffer_rows)),
      frame_rows_(static_cast<size_t>(std::min(spec_.frame_rows, spec_.buffer_rows))),
      table_(KeyTypes(spec_, input_types_)) {
  output_types_ = input_types_;
  for (size_t f = 0; f < spec_.functions.size(); ++f) {
    const RowsWindowFunction& function = spec_.functions[f];
    output_types_.push_back(function.result_type);
    result_pools_.emplace_back(function.result_type);
    if (function.kind == Kind::kLead) {
      has_lead_ = true;
      max_lead_offset_ = std::max(max_lead_offset_, function.offset);
      continue;
    }
    if (!RowsWindowFunctionNeedsArgument(function.kind)) continue;
    auto it = std::find_if(arguments_.begin(), arguments_.end(), [&](const ArgumentBuffer& buffer) {
      return buffer.column == function.argument_column;
    });
    if (it == arguments_.end()) {
      arguments_.emplace_back();
      it = arguments_.end() - 1;
      it->column = function.argument_column;
      it->type = function.argument_type;
    }
    ArgumentBuffer::Target target;
    target.function = f;
    target.kind = function.kind;
    target.offset = static_cast<uint64_t>(function.offset);
    it->targets.push_back(target);
    if (IsRunningSum(function.kind)) it->has_sum = true;
    if (function.kind == Kind::kMin) it->min.enabled = true;
    if (function.kind == Kind::kMax) it->max.enabled = true;
  }
  result_columns_.resize(spec_.functions.size());
  key_columns_.resize(spec_.partition_columns.size());
  if (has_lead_) {
    held_slots_ = static_cast<size_t>(max_lead_offset_) + 1;
    held_fields_ = output_types_.size();
    for (TypeId type : output_types_) {
      string_field_index_.push_back(type == TypeId::kString ? static_cast<int>(held_string_fields_++) : -1);
      output_pools_.emplace_back(type);
    }
    output_columns_.resize(output_types_.size());
  }
}

// --- partitions ------------------------------------------------------------------------

void RowsWindowOperator::EnsurePartitionCapacity(size_t partitions) {
  if (partitions <= partition_capacity_) return;
  const size_t capacity = std::max({partitions, partition_capacity_ * 2, size_t{16}});
  partitions_.resize(capacity);
  for (ArgumentBuffer& buffer : arguments_) {
    if (buffer.type == TypeId::kString) {
      buffer.strings.resize(capacity * buffer_rows_);
    } else {
      buffer.words.resize(capacity * buffer_rows_);
    }
    buffer.valid.resize(capacity * buffer_rows_);
    if (buffer.has_sum) buffer.sums.resize(capacity);
    for (MonotonicDeques* deques : {&buffer.min, &buffer.max}) {
      if (!deques->enabled) continue;
      deques->positions.resize(capacity * frame_rows_);
      if (buffer.type != TypeId::kString) deques->values.resize(capacity * frame_rows_);
      deques->heads.resize(capacity);
      deques->sizes.resize(capacity);
    }
  }
  if (has_lead_) {
    held_words_.resize(capacity * held_slots_ * held_fields_);
    held_valid_.resize(capacity * held_slots_ * held_fields_);
    held_strings_.resize(capacity * held_slots_ * held_string_fields_);
    held_arrival_.resize(capacity * held_slots_);
  }
  partition_capacity_ = capacity;
}

void RowsWindowOperator::InitPartition(uint32_t partition) {
  PartitionState& state = partitions_[partition];
  state = PartitionState();
  state.live = true;
  // A partition whose rows carry no event time counts as touched at the current watermark.
  state.last_event_time = event_time().current();
}

void RowsWindowOperator::ListUnlink(uint32_t partition) {
  PartitionState& state = partitions_[partition];
  if (state.older != kNoPartition) {
    partitions_[state.older].newer = state.newer;
  } else {
    oldest_ = state.newer;
  }
  if (state.newer != kNoPartition) {
    partitions_[state.newer].older = state.older;
  } else {
    newest_ = state.older;
  }
  state.older = state.newer = kNoPartition;
  state.listed = false;
}

// Inserts after the newest partition whose time is not later: O(1) when event times arrive in
// order, a short walk for mildly out-of-order ones.
void RowsWindowOperator::ListInsertByTime(uint32_t partition) {
  PartitionState& state = partitions_[partition];
  uint32_t after = newest_;
  while (after != kNoPartition && partitions_[after].last_event_time > state.last_event_time) {
    after = partitions_[after].older;
  }
  state.older = after;
  if (after == kNoPartition) {
    state.newer = oldest_;
    oldest_ = partition;
  } else {
    state.newer = partitions_[after].newer;
    partitions_[after].newer = partition;
  }
  if (state.newer != kNoPartition) {
    partitions_[state.newer].older = partition;
  } else {
    newest_ = partition;
  }
  state.listed = true;
}

// Pass 1, in arrival order: expiry on arrival, the ORDER BY check, then the row's ring
// position and number. Accepted rows fill the first entries of the row_* arrays.
size_t RowsWindowOperator::ComputeRowPositions(const Batch& batch, size_t active) {
  const bool expires = spec_.expire_after_millis.has_value();
  const int64_t expire_after = spec_.expire_after_millis.value_or(0);
  const Column* times = expires ? &batch.column(static_cast<size_t>(spec_.event_time_column)) : nullptr;
  // Only expiry reads the watermark: without it, rows do not advance it.
  const int64_t* carried = expires ? CarriedWatermarks(batch) : nullptr;
  InputWatermark& event_time = this->event_time();
  const Column* order =
      spec_.order_column >= 0 ? &batch.column(static_cast<size_t>(spec_.order_column)) : nullptr;
  const uint32_t buffer_rows = static_cast<uint32_t>(buffer_rows_);
  rejected_rows_.clear();
  size_t accepted = 0;
  for (size_t i = 0; i < active; ++i) {
    const uint32_t row = batch.ActiveRow(i);
    const uint32_t partition = group_ids_[row];
    PartitionState& state = partitions_[partition];
    const bool has_time = expires && times->IsValid(row);
    const int64_t time = expires ? times->data<int64_t>()[row] : 0;
    if (carried != nullptr) event_time.ObserveCarried(carried[row]);
    // The row finds its partition expired by the watermark just before it, as GROUP BY finds
    // a key under 'state.ttl': not by its own time, so that an out-of-order row does not
    // restart a partition the watermark kept, nor where a batch ends change the outcome.
    const bool idle = expires && state.rows_seen > 0 &&
                      ExpiredBy(event_time.current(), state.last_event_time, expire_after);
    if (has_time) event_time.Observe(time);
    if (order != nullptr) {
      const int64_t value = order->IsValid(row) ? order->data<int64_t>()[row] : INT64_MIN;
      if (!idle && state.rows_seen > 0 && value < state.last_order_value) {
        rejected_rows_.push_back(row);  // out of order: leaves the partition untouched
        continue;
      }
      state.last_order_value = value;
    }
    if (expires) {
      if (idle) {
        // Idle too long: the partition starts over (later passes see row number 1).
        state.rows_seen = 0;
        state.head = 0;
        CountEvicted(1);
      }
      if (!state.listed) {
        if (has_time) state.last_event_time = time;
        ListInsertByTime(partition);
      } else if (has_time && time > state.last_event_time) {
        state.last_event_time = time;
        if (newest_ != partition) {
          ListUnlink(partition);
          ListInsertByTime(partition);
        }
      }
    }
    ++state.rows_seen;
    row_physical_[accepted] = row;
    row_partition_[accepted] = partition;
    row_position_[accepted] = state.head;
    row_number_[accepted] = state.rows_seen;
    ++accepted;
    state.head = state.head + 1 == buffer_rows ? 0 : state.head + 1;
  }
  return accepted;
}

void RowsWindowOperator::AcquireResultColumns(size_t rows, bool null_strings_first) {
  for (size_t f = 0; f < spec_.functions.size(); ++f) {
    if (spec_.functions[f].kind == Kind::kLead) continue;
    result_columns_[f] = result_pools_[f].Acquire(rows);
    // Rows outside the selection are never written: give string slots a harmless value.
    if (null_strings_first && spec_.functions[f].result_type == TypeId::kString) {
      Column& column = *result_columns_[f];
      std::fill(column.data<std::string_view>(), column.data<std::string_view>() + rows, std::string_view());
      std::memset(column.validity(), 0, rows);
    }
  }
  for (ArgumentBuffer& buffer : arguments_) {
    for (ArgumentBuffer::Target& target : buffer.targets) {
      target.column = result_columns_[target.function].get();
      target.data = target.column->data<uint8_t>();
      target.validity = target.column->validity();
    }
  }
}

// --- the per-argument pass -------------------------------------------------------------

template <typename Traits>
void RowsWindowOperator::ProcessArgument(ArgumentBuffer& buffer, const Batch& batch, size_t active) {
  using Value = typename Traits::Value;
  const Column& input = batch.column(static_cast<size_t>(buffer.column));
  const uint8_t* input_valid = input.validity();
  typename Traits::Storage* ring = RingOf<Traits>(buffer);
  uint8_t* ring_valid = buffer.valid.data();
  const size_t buffer_rows = buffer_rows_;
  const size_t frame_rows = frame_rows_;
  const uint32_t frame_capacity = static_cast<uint32_t>(frame_rows_);
  const bool has_sum = buffer.has_sum;
  MonotonicDeques& min = buffer.min;
  MonotonicDeques& max = buffer.max;
  const ArgumentBuffer::Target* targets = buffer.targets.data();
  const size_t target_count = buffer.targets.size();

  for (size_t i = 0; i < active; ++i) {
    const size_t row = row_physical_[i];
    const uint32_t partition = row_partition_[i];
    const uint32_t position = row_position_[i];
    const uint64_t number = row_number_[i];
    const size_t base = static_cast<size_t>(partition) * buffer_rows;
    RunningSum* sum = has_sum ? &buffer.sums[partition] : nullptr;
    if (number == 1) {
      // New or expired partition: the ring's old contents are out of range from now on.
      if (sum != nullptr) *sum = RunningSum();
      if (min.enabled) min.heads[partition] = min.sizes[partition] = 0;
      if (max.enabled) max.heads[partition] = max.sizes[partition] = 0;
    }
    const bool valid = input_valid[row] != 0;
    const Value value = Traits::Input(input, row);
    const bool evicts = number > frame_rows;
    const uint32_t evict_position = static_cast<uint32_t>(RingBack(position, frame_rows, buffer_rows));

    if (sum != nullptr) {
      // Remove the row leaving the frame before its slot may be overwritten (frame == buffer).
      if (evicts && ring_valid[base + evict_position]) {
        --sum->count;
        if constexpr (Traits::kSum == SumMode::kInteger) {
          sum->integer_sum -= Traits::Load(ring, base + evict_position);
        } else if constexpr (Traits::kSum == SumMode::kFloat) {
          CompensatedAdd(sum->sum, sum->compensation, -Traits::Load(ring, base + evict_position));
        }
      }
      if (valid) {
        ++sum->count;
        if constexpr (Traits::kSum == SumMode::kInteger) {
          sum->integer_sum += value;
        } else if constexpr (Traits::kSum == SumMode::kFloat) {
          CompensatedAdd(sum->sum, sum->compensation, value);
        }
      }
    }
    Traits::Store(ring, base + position, value);
    ring_valid[base + position] = valid ? 1 : 0;

    if constexpr (Traits::kSum == SumMode::kFloat) {
      if (sum != nullptr) {
        if (sum->count == 0) {
          sum->sum = sum->compensation = 0;
        } else if (evicts && ++sum->rows_since_recompute >= frame_rows) {
          // Every frame_rows evictions, re-add the frame from the ring: the subtract-on-evict
          // error never accumulates beyond one frame's worth of operations.
          sum->rows_since_recompute = 0;
          sum->sum = sum->compensation = 0;
          for (size_t back = frame_rows; back-- > 0;) {
            const size_t slot = base + RingBack(position, back, buffer_rows);
            if (ring_valid[slot]) CompensatedAdd(sum->sum, sum->compensation, Traits::Load(ring, slot));
          }
        }
      }
    }
    const typename Traits::Storage* partition_ring = ring + base;
    if (min.enabled) {
      const size_t at = static_cast<size_t>(partition) * frame_rows;
      UpdateDeque<true, Traits>(&min.positions[at], min.values.data() + (min.values.empty() ? 0 : at),
                                min.heads[partition], min.sizes[partition], frame_capacity, partition_ring,
                                evicts, evict_position, valid, value, position);
    }
    if (max.enabled) {
      const size_t at = static_cast<size_t>(partition) * frame_rows;
      UpdateDeque<false, Traits>(&max.positions[at], max.values.data() + (max.values.empty() ? 0 : at),
                                 max.heads[partition], max.sizes[partition], frame_capacity, partition_ring,
                                 evicts, evict_position, valid, value, position);
    }

    for (size_t j = 0; j < target_count; ++j) {
      const ArgumentBuffer::Target& target = targets[j];
      switch (target.kind) {
        case Kind::kAvg:
          if constexpr (Traits::kSum != SumMode::kCountOnly) {
            if (sum->count == 0) {
              target.column->SetNull(row);
              break;
            }
            const double total = Traits::kSum == SumMode::kInteger ? static_cast<double>(sum->integer_sum)
                                                                   : sum->sum + sum->compensation;
            static_cast<double*>(target.data)[row] = total / static_cast<double>(sum->count);
            target.validity[row] = 1;
          }
          break;
        case Kind::kSum:
          if constexpr (Traits::kSum == SumMode::kInteger) {
            if (sum->count == 0) {
              target.column->SetNull(row);
              break;
            }
            // Two's complement wrap, like the engine's integer +.
            static_cast<int64_t*>(target.data)[row] =
                static_cast<int64_t>(static_cast<uint64_t>(sum->integer_sum));
            target.validity[row] = 1;
          } else if constexpr (Traits::kSum == SumMode::kFloat) {
            if (sum->count == 0) {
              target.column->SetNull(row);
              break;
            }
            static_cast<double*>(target.data)[row] = sum->sum + sum->compensation;
            target.validity[row] = 1;
          }
          break;
        case Kind::kCount:
          static_cast<int64_t*>(target.data)[row] = sum->count;
          target.validity[row] = 1;
          break;
        case Kind::kMin:
        case Kind::kMax: {
          const MonotonicDeques& deques = target.kind == Kind::kMin ? min : max;
          if (deques.sizes[partition] == 0) {
            target.column->SetNull(row);
          } else {
            const size_t front = static_cast<size_t>(partition) * frame_rows + deques.heads[partition];
            if constexpr (std::is_same_v<typename Traits::Storage, uint64_t>) {
              Traits::Output(target, row, Traits::Load(deques.values.data(), front));
            } else {
              Traits::Output(target, row, Traits::Load(partition_ring, deques.positions[front]));
            }
          }
          break;
        }
        case Kind::kFirstValue: {
          const size_t frame = std::min<uint64_t>(number, frame_rows);
          const size_t first = RingBack(position, frame - 1, buffer_rows);
          if (ring_valid[base + first]) {
            Traits::Output(target, row, Traits::Load(partition_ring, first));
          } else {
            target.column->SetNull(row);
          }
          break;
        }
        case Kind::kLastValue:
          if (valid) {
            Traits::Output(target, row, value);
          } else {
            target.column->SetNull(row);
          }
          break;
        case Kind::kLag: {
          if (target.offset < std::min<uint64_t>(number, buffer_rows)) {
            const size_t lagged = RingBack(position, target.offset, buffer_rows);
            if (ring_valid[base + lagged]) {
              Traits::Output(target, row, Traits::Load(partition_ring, lagged));
              break;
            }
          }
          target.column->SetNull(row);
          break;
        }
        case Kind::kCountStar:
        case Kind::kRowNumber:
        case Kind::kLead: break;  // not computed from a buffer
      }
    }
  }
}

// The deque of the frame ending at the partition's latest row, as the streaming updates
// would have left it.
template <typename Traits>
void RowsWindowOperator::RebuildDeques(ArgumentBuffer& buffer, uint32_t partition) {
  const PartitionState& state = partitions_[partition];
  const size_t base = static_cast<size_t>(partition) * buffer_rows_;
  const typename Traits::Storage* ring = RingOf<Traits>(buffer) + base;
  const uint8_t* valid = buffer.valid.data() + base;
  const size_t frame = std::min<uint64_t>(state.rows_seen, frame_rows_);
  const size_t latest = RingBack(state.head, 1, buffer_rows_);
  const uint32_t capacity = static_cast<uint32_t>(frame_rows_);
  for (MonotonicDeques* deques : {&buffer.min, &buffer.max}) {
    if (!deques->enabled) continue;
    const size_t at = static_cast<size_t>(partition) * frame_rows_;
    uint32_t* queue = &deques->positions[at];
    uint64_t* values = deques->values.data() + (deques->values.empty() ? 0 : at);
    uint32_t& head = deques->heads[partition];
    uint32_t& size = deques->sizes[partition];
    head = size = 0;
    for (size_t back = frame; back-- > 0;) {
      const uint32_t position = static_cast<uint32_t>(RingBack(latest, back, buffer_rows_));
      if (deques == &buffer.min) {
        UpdateDeque<true, Traits>(queue, values, head, size, capacity, ring, false, 0, valid[position] != 0,
                                  Traits::Load(ring, position), position);
      } else {
        UpdateDeque<false, Traits>(queue, values, head, size, capacity, ring, false, 0, valid[position] != 0,
                                   Traits::Load(ring, position), position);
      }
    }
  }
}

// --- Push --------------------------------------------------------------------------------

absl::Status RowsWindowOperator::Push(const Batch& batch) {
  // A carried watermark column (StatefulOperator::UseCarriedWatermarks) follows the input's.
  const size_t expected_columns = input_types_.size() + (carries_watermarks() ? 1 : 0);
  if (batch.num_columns() != expected_columns) {
    return absl::InvalidArgumentError(
        StrCat("RowsWindow expects ", expected_columns, " input columns, got ", batch.num_columns()));
  }
  const size_t active = batch.active_rows();
  if (active == 0) return absl::OkStatus();
  if (group_ids_.size() < batch.num_rows()) group_ids_.resize(batch.num_rows());
  if (row_physical_.size() < active) {
    row_physical_.resize(active);
    row_partition_.resize(active);
    row_position_.resize(active);
    row_number_.resize(active);
  }

  for (size_t k = 0; k < key_columns_.size(); ++k)
    key_columns_[k] = &batch.column(spec_.partition_columns[k]);
  created_.clear();
  table_.FindOrInsert(key_columns_.data(), batch.selection(), active, group_ids_.data(), &created_);
  if (key_observer_ != nullptr && !created_.empty()) {
    SLUICE_RETURN_IF_ERROR(key_observer_->OnNewKeys(table_, spec_.partition_columns.size(), created_));
  }
  EnsurePartitionCapacity(table_.id_limit());
  for (uint32_t partition : created_) InitPartition(partition);

  const size_t accepted = ComputeRowPositions(batch, active);
  for (uint32_t row : rejected_rows_) SLUICE_RETURN_IF_ERROR(RejectLate(batch, row));
  if (accepted == 0) return absl::OkStatus();
  // Rejected rows leave the output's selection, like rows outside the input's.
  const bool narrowed = batch.has_selection() || accepted < active;
  AcquireResultColumns(batch.num_rows(), narrowed);
  for (ArgumentBuffer& buffer : arguments_) {
    switch (WordType(buffer.type)) {
      case TypeId::kInt64:
      case TypeId::kTimestamp: ProcessArgument<Int64Traits>(buffer, batch, accepted); break;
      case TypeId::kDouble: ProcessArgument<DoubleTraits>(buffer, batch, accepted); break;
      case TypeId::kBoolean:
      case TypeId::kNull: ProcessArgument<ByteTraits>(buffer, batch, accepted); break;
      case TypeId::kString: ProcessArgument<StringTraits>(buffer, batch, accepted); break;
    }
  }
  for (size_t f = 0; f < spec_.functions.size(); ++f) {
    const Kind kind = spec_.functions[f].kind;
    if (kind != Kind::kCountStar && kind != Kind::kRowNumber) continue;
    int64_t* out = result_columns_[f]->data<int64_t>();
    uint8_t* out_valid = result_columns_[f]->validity();
    const uint64_t frame_rows = frame_rows_;
    for (size_t i = 0; i < accepted; ++i) {
      const uint64_t number = row_number_[i];
      out[row_physical_[i]] =
          static_cast<int64_t>(kind == Kind::kRowNumber ? number : std::min(number, frame_rows));
      out_valid[row_physical_[i]] = 1;
    }
  }

  absl::Status status;
  if (!has_lead_) {
    const size_t inputs = input_types_.size();
    output_batch_.Reset(inputs + spec_.functions.size(), batch.num_rows());
    for (size_t c = 0; c < inputs; ++c) output_batch_.SetColumn(c, batch.shared_column(c));
    for (size_t f = 0; f < spec_.functions.size(); ++f)
      output_batch_.SetColumn(inputs + f, result_columns_[f]);
    if (narrowed) {
      std::copy(row_physical_.data(), row_physical_.data() + accepted, output_batch_.MutableSelection());
      output_batch_.SetSelectionCount(accepted);
    }
    status = Emit(output_batch_);
    output_batch_.Release();
  } else {
    // Every held row and every new row can complete at most once during this call.
    BeginLeadOutput(held_total_ + accepted);
    const uint32_t slots = static_cast<uint32_t>(held_slots_);
    const size_t inputs = input_types_.size();
    for (size_t i = 0; i < accepted; ++i) {
      const uint32_t row = row_physical_[i];
      const uint32_t partition = row_partition_[i];
      PartitionState& state = partitions_[partition];
      if (row_number_[i] == 1) {
        // The partition started over: its held rows get LEAD = NULL, before this row.
        while (state.held_count > 0) {
          AppendHeldRow(HeldSlot(partition, state.held_head));
          state.held_head = state.held_head + 1 == slots ? 0 : state.held_head + 1;
          --state.held_count;
          --held_total_;
        }
      }
      StoreHeldRow(batch, row, partition);
      for (size_t f = 0; f < spec_.functions.size(); ++f) {
        const RowsWindowFunction& function = spec_.functions[f];
        if (function.kind != Kind::kLead) continue;
        const uint64_t offset = static_cast<uint64_t>(function.offset);
        if (offset >= state.held_count) continue;  // the row `offset` back was already emitted
        uint32_t index = state.held_head + state.held_count - 1 - static_cast<uint32_t>(offset);
        if (index >= slots) index -= slots;
        const size_t slot = HeldSlot(partition, index);
        const size_t field = inputs + f;
        const Column& argument = batch.column(static_cast<size_t>(function.argument_column));
        const bool valid = argument.IsValid(row);
        held_valid_[HeldField(slot, field)] = valid ? 1 : 0;
        if (function.result_type == TypeId::kString) {
          held_strings_[slot * held_string_fields_ + string_field_index_[field]].assign(
              valid ? argument.data<std::string_view>()[row] : std::string_view());
        } else {
          held_words_[HeldField(slot, field)] = valid ? ReadWord(argument, function.result_type, row) : 0;
        }
      }
      if (state.held_count > static_cast<uint64_t>(max_lead_offset_)) {
        AppendHeldRow(HeldSlot(partition, state.held_head));
        state.held_head = state.held_head + 1 == slots ? 0 : state.held_head + 1;
        --state.held_count;
        --held_total_;
      }
    }
    status = EmitLeadOutput();
  }
  for (auto& column : result_columns_) column.reset();  // let the pools reuse them
  SLUICE_RETURN_IF_ERROR(status);
  return ChargeState();
}

StateUsage RowsWindowOperator::state_usage() const {
  size_t bytes = table_.MemoryBytes() + CapacityBytes(partitions_) + CapacityBytes(held_words_) +
                 CapacityBytes(held_valid_) + CapacityBytes(held_strings_) + CapacityBytes(held_arrival_);
  for (const ArgumentBuffer& buffer : arguments_) {
    bytes += CapacityBytes(buffer.words) + CapacityBytes(buffer.strings) + CapacityBytes(buffer.valid) +
             CapacityBytes(buffer.sums);
    for (const MonotonicDeques* deques : {&buffer.min, &buffer.max}) {
      bytes += CapacityBytes(deques->positions) + CapacityBytes(deques->values) +
               CapacityBytes(deques->heads) + CapacityBytes(deques->sizes);
    }
  }
  return {table_.size(), bytes};
}

// --- LEAD: held rows ---------------------------------------------------------------------

void RowsWindowOperator::StoreHeldRow(const Batch& batch, size_t row, uint32_t partition) {
  PartitionState& state = partitions_[partition];
  uint32_t index = state.held_head + state.held_count;
  if (index >= held_slots_) index -= static_cast<uint32_t>(held_slots_);
  const size_t slot = HeldSlot(partition, index);
  ++state.held_count;
  ++held_total_;
  held_arrival_[slot] = arrival_sequence_++;
  const size_t inputs = input_types_.size();
  for (size_t field = 0; field < held_fields_; ++field) {
    const bool is_input = field < inputs;
    const Column* source = is_input ? &batch.column(field) : result_columns_[field - inputs].get();
    // LEAD fields start as NULL and are filled when their row arrives.
    const bool valid = source != nullptr && source->IsValid(row);
    const size_t at = HeldField(slot, field);
    held_valid_[at] = valid ? 1 : 0;
    if (output_types_[field] == TypeId::kString) {
      held_strings_[slot * held_string_fields_ + string_field_index_[field]].assign(
          valid ? source->data<std::string_view>()[row] : std::string_view());
    } else {
      held_words_[at] = valid ? ReadWord(*source, output_types_[field], row) : 0;
    }
  }
}

void RowsWindowOperator::BeginLeadOutput(size_t capacity) {
  for (size_t field = 0; field < output_pools_.size(); ++field) {
    output_columns_[field] = output_pools_[field].Acquire(capacity);
  }
  output_rows_ = 0;
}

void RowsWindowOperator::AppendHeldRow(size_t slot) {
  const size_t row = output_rows_++;
  SLUICE_CHECK_LT(row, output_columns_[0]->size());
  for (size_t field = 0; field < held_fields_; ++field) {
    Column& column = *output_columns_[field];
    if (!held_valid_[HeldField(slot, field)]) {
      column.SetNull(row);
    } else if (output_types_[field] == TypeId::kString) {
      column.data<std::string_view>()[row] =
          column.heap().Add(held_strings_[slot * held_string_fields_ + string_field_index_[field]]);
      column.validity()[row] = 1;
    } else {
      WriteWord(column, output_types_[field], row, held_words_[HeldField(slot, field)]);
    }
  }
}

absl::Status RowsWindowOperator::EmitLeadOutput() {
  absl::Status status;
  if (output_rows_ > 0) {
    output_batch_.Reset(output_columns_.size(), output_rows_);
    for (size_t field = 0; field < output_columns_.size(); ++field) {
      output_columns_[field]->Resize(output_rows_);
      output_batch_.SetColumn(field, output_columns_[field]);
    }
    status = Emit(output_batch_);
    output_batch_.Release();
  }
  for (auto& column : output_columns_) column.reset();
  output_rows_ = 0;
  return status;
}

absl::Status RowsWindowOperator::FlushHeld(const std::vector<uint32_t>* partitions) {
  std::vector<std::pair<uint64_t, size_t>> rows;  // (arrival, slot); flushes are rare
  auto collect = [&](uint32_t partition) {
    PartitionState& state = partitions_[partition];
    for (uint32_t j = 0; j < state.held_count; ++j) {
      uint32_t index = state.held_head + j;
      if (index >= held_slots_) index -= static_cast<uint32_t>(held_slots_);
      const size_t slot = HeldSlot(partition, index);
      rows.emplace_back(held_arrival_[slot], slot);
    }
    held_total_ -= state.held_count;
    state.held_count = 0;
    state.held_head = 0;
  };
  if (partitions != nullptr) {
    for (uint32_t partition : *partitions) collect(partition);
  } else {
    for (uint32_t partition = 0; partition < table_.id_limit(); ++partition) {
      if (partitions_[partition].live) collect(partition);
    }
  }
  std::sort(rows.begin(), rows.end());
  for (size_t begin = 0; begin < rows.size(); begin += kFlushBatchRows) {
    const size_t end = std::min(rows.size(), begin + kFlushBatchRows);
    BeginLeadOutput(end - begin);
    for (size_t i = begin; i < end; ++i) AppendHeldRow(rows[i].second);
    SLUICE_RETURN_IF_ERROR(EmitLeadOutput());
  }
  return absl::OkStatus();
}

// --- watermarks, end of input ---------------------------------------------------------------

absl::Status RowsWindowOperator::AdvanceEventTime(int64_t watermark) {
  if (spec_.expire_after_millis.has_value()) {
    const int64_t expire_after = *spec_.expire_after_millis;
    std::vector<uint32_t> expired;
    while (oldest_ != kNoPartition &&
           ExpiredBy(watermark, partitions_[oldest_].last_event_time, expire_after)) {
      const uint32_t partition = oldest_;
      ListUnlink(partition);
      expired.push_back(partition);
    }
    if (has_lead_ && !expired.empty()) SLUICE_RETURN_IF_ERROR(FlushHeld(&expired));
    for (uint32_t partition : expired) {
      table_.Erase(partition);
      partitions_[partition].live = false;
    }
    CountEvicted(expired.size());
  }
  if (has_lead_ && watermark == kMaxWatermark && held_total_ > 0) SLUICE_RETURN_IF_ERROR(FlushHeld(nullptr));
  return absl::OkStatus();
}

absl::Status RowsWindowOperator::Finish() {
  if (has_lead_ && held_total_ > 0) SLUICE_RETURN_IF_ERROR(FlushHeld(nullptr));
  return Operator::Finish();
}

// --- snapshot ------------------------------------------------------------------------------

absl::Status RowsWindowOperator::Snapshot(StateWriter& writer) const {
  writer.WriteU32(kSnapshotVersion);
  writer.WriteU64(buffer_rows_);
  writer.WriteU64(frame_rows_);
  writer.WriteU64(input_types_.size());
  writer.WriteU64(spec_.functions.size());
  writer.WriteU64(held_slots_);
  table_.Snapshot(writer);
  const uint32_t id_limit = table_.id_limit();
  writer.WriteU32(id_limit);
  SnapshotEventTime(writer);
  writer.WriteU64(evicted());
  writer.WriteU64(arrival_sequence_);
  for (uint32_t partition = 0; partition < id_limit; ++partition) {
    const PartitionState& state = partitions_[partition];
    writer.WriteU8(state.live ? 1 : 0);
    if (!state.live) continue;
    writer.WriteU64(state.rows_seen);
    writer.WriteI64(state.last_event_time);
    writer.WriteI64(state.last_order_value);
    writer.WriteU32(state.head);
    // The rows in the buffer, oldest first.
    const size_t rows = std::min<uint64_t>(state.rows_seen, buffer_rows_);
    const size_t base = static_cast<size_t>(partition) * buffer_rows_;
    for (const ArgumentBuffer& buffer : arguments_) {
      for (size_t back = rows; back-- > 0;) {
        const size_t slot = base + RingBack(RingBack(state.head, 1, buffer_rows_), back, buffer_rows_);
        writer.WriteU8(buffer.valid[slot]);
        if (buffer.type == TypeId::kString) {
          writer.WriteBytes(buffer.strings[slot]);
        } else {
          writer.WriteU64(buffer.words[slot]);
        }
      }
      if (buffer.has_sum) {
        const RunningSum& sum = buffer.sums[partition];
        writer.WriteI64(sum.count);
        writer.WriteU32(sum.rows_since_recompute);
        writer.WriteDouble(sum.sum);
        writer.WriteDouble(sum.compensation);
        const unsigned __int128 bits = static_cast<unsigned __int128>(sum.integer_sum);
        writer.WriteU64(static_cast<uint64_t>(bits));
        writer.WriteU64(static_cast<uint64_t>(bits >> 64));
      }
    }
    if (has_lead_) {
      writer.WriteU32(state.held_count);
      for (uint32_t j = 0; j < state.held_count; ++j) {
        uint32_t index = state.held_head + j;
        if (index >= held_slots_) index -= static_cast<uint32_t>(held_slots_);
        const size_t slot = HeldSlot(partition, index);
        writer.WriteU64(held_arrival_[slot]);
        for (size_t field = 0; field < held_fields_; ++field) {
          writer.WriteU8(held_valid_[HeldField(slot, field)]);
          if (output_types_[field] == TypeId::kString) {
            writer.WriteBytes(held_strings_[slot * held_string_fields_ + string_field_index_[field]]);
          } else {
            writer.WriteU64(held_words_[HeldField(slot, field)]);
          }
        }
      }
    }
  }
  // The expiry list, oldest first.
  std::vector<uint32_t> order;
  for (uint32_t partition = oldest_; partition != kNoPartition; partition = partitions_[partition].newer) {
    order.push_back(partition);
  }
  writer.WriteU64(order.size());
  for (uint32_t partition : order) writer.WriteU32(partition);
  return absl::OkStatus();
}

absl::Status RowsWindowOperator::Restore(StateReader& reader) {
  const auto corrupt = [](std::string_view what) {
    return absl::DataLossError(StrCat("rows window snapshot: ", what));
  };
  SLUICE_ASSIGN_OR_RETURN(uint32_t version, reader.ReadU32());
  if (version != kSnapshotVersion) return corrupt(StrCat("unknown version ", version));
  SLUICE_ASSIGN_OR_RETURN(uint64_t buffer_rows, reader.ReadU64());
  SLUICE_ASSIGN_OR_RETURN(uint64_t frame_rows, reader.ReadU64());
  SLUICE_ASSIGN_OR_RETURN(uint64_t inputs, reader.ReadU64());
  SLUICE_ASSIGN_OR_RETURN(uint64_t functions, reader.ReadU64());
  SLUICE_ASSIGN_OR_RETURN(uint64_t held_slots, reader.ReadU64());
  if (buffer_rows != buffer_rows_ || frame_rows != frame_rows_ || inputs != input_types_.size() ||
      functions != spec_.functions.size() || held_slots != held_slots_) {
    return corrupt("written by a different window definition");
  }
  SLUICE_RETURN_IF_ERROR(table_.Restore(reader));
  SLUICE_ASSIGN_OR_RETURN(uint32_t id_limit, reader.ReadU32());
  if (id_limit != table_.id_limit()) return corrupt("partition count does not match its key table");
  EnsurePartitionCapacity(id_limit);
  for (PartitionState& state : partitions_) state = PartitionState();
  oldest_ = newest_ = kNoPartition;
  held_total_ = 0;
  SLUICE_RETURN_IF_ERROR(RestoreEventTime(reader));
  SLUICE_ASSIGN_OR_RETURN(uint64_t evicted, reader.ReadU64());
  RestoreEvicted(evicted);
  SLUICE_ASSIGN_OR_RETURN(arrival_sequence_, reader.ReadU64());
  for (uint32_t partition = 0; partition < id_limit; ++partition) {
    PartitionState& state = partitions_[partition];
    SLUICE_ASSIGN_OR_RETURN(uint8_t live, reader.ReadU8());
    // A partition is live exactly when its key table holds it: a free id is handed out again,
    // and a partition reset then while still on the expiry list would be linked in twice.
    if (live > 1 || (live != 0) != table_.IsLive(partition)) {
      return corrupt("a partition's liveness disagrees with its key table");
    }
    if (!live) continue;
    state.live = true;
    SLUICE_ASSIGN_OR_RETURN(state.rows_seen, reader.ReadU64());
    SLUICE_ASSIGN_OR_RETURN(state.last_event_time, reader.ReadI64());
    SLUICE_ASSIGN_OR_RETURN(state.last_order_value, reader.ReadI64());
    SLUICE_ASSIGN_OR_RETURN(state.head, reader.ReadU32());
    if (state.head != state.rows_seen % buffer_rows_) return corrupt("ring position out of range");
    const size_t rows = std::min<uint64_t>(state.rows_seen, buffer_rows_);
    const size_t base = static_cast<size_t>(partition) * buffer_rows_;
    for (ArgumentBuffer& buffer : arguments_) {
      for (size_t back = rows; back-- > 0;) {
        const size_t slot = base + RingBack(RingBack(state.head, 1, buffer_rows_), back, buffer_rows_);
        SLUICE_ASSIGN_OR_RETURN(buffer.valid[slot], reader.ReadU8());
        if (buffer.type == TypeId::kString) {
          SLUICE_ASSIGN_OR_RETURN(std::string_view text, reader.ReadBytes());
          buffer.strings[slot].assign(text.data(), text.size());
        } else {
          SLUICE_ASSIGN_OR_RETURN(buffer.words[slot], reader.ReadU64());
        }
      }
      if (buffer.has_sum) {
        RunningSum& sum = buffer.sums[partition];
        SLUICE_ASSIGN_OR_RETURN(sum.count, reader.ReadI64());
        SLUICE_ASSIGN_OR_RETURN(sum.rows_since_recompute, reader.ReadU32());
        SLUICE_ASSIGN_OR_RETURN(sum.sum, reader.ReadDouble());
        SLUICE_ASSIGN_OR_RETURN(sum.compensation, reader.ReadDouble());
        SLUICE_ASSIGN_OR_RETURN(uint64_t low, reader.ReadU64());
        SLUICE_ASSIGN_OR_RETURN(uint64_t high, reader.ReadU64());
        sum.integer_sum = static_cast<__int128>((static_cast<unsigned __int128>(high) << 64) | low);
      }
      switch (WordType(buffer.type)) {
        case TypeId::kInt64:
        case TypeId::kTimestamp: RebuildDeques<Int64Traits>(buffer, partition); break;
        case TypeId::kDouble: RebuildDeques<DoubleTraits>(buffer, partition); break;
        case TypeId::kBoolean:
        case TypeId::kNull: RebuildDeques<ByteTraits>(buffer, partition); break;
        case TypeId::kString: RebuildDeques<StringTraits>(buffer, partition); break;
      }
    }
    if (has_lead_) {
      SLUICE_ASSIGN_OR_RETURN(state.held_count, reader.ReadU32());
      if (state.held_count > static_cast<uint64_t>(max_lead_offset_) || state.held_count > state.rows_seen) {
        return corrupt("too many held rows");
      }
      held_total_ += state.held_count;
      for (uint32_t j = 0; j < state.held_count; ++j) {
        const size_t slot = HeldSlot(partition, j);
        SLUICE_ASSIGN_OR_RETURN(held_arrival_[slot], reader.ReadU64());
        for (size_t field = 0; field < held_fields_; ++field) {
          SLUICE_ASSIGN_OR_RETURN(held_valid_[HeldField(slot, field)], reader.ReadU8());
          if (output_types_[field] == TypeId::kString) {
            SLUICE_ASSIGN_OR_RETURN(std::string_view text, reader.ReadBytes());
            held_strings_[slot * held_string_fields_ + string_field_index_[field]].assign(text.data(),
                                                                                          text.size());
          } else {
            SLUICE_ASSIGN_OR_RETURN(held_words_[HeldField(slot, field)], reader.ReadU64());
          }
        }
      }
    }
  }
  SLUICE_ASSIGN_OR_RETURN(uint64_t listed, reader.ReadU64());
  for (uint64_t i = 0; i < listed; ++i) {
    SLUICE_ASSIGN_OR_RETURN(uint32_t partition, reader.ReadU32());
    if (partition >= id_limit || !partitions_[partition].live || partitions_[partition].listed) {
      return corrupt("bad expiry list");
    }
    if (newest_ != kNoPartition &&
        partitions_[partition].last_event_time < partitions_[newest_].last_event_time) {
      return corrupt("expiry list out of time order");
    }
    // Appended in the saved order (which is already ordered by time).
    PartitionState& state = partitions_[partition];
    state.older = newest_;
    if (newest_ != kNoPartition) {
      partitions_[newest_].newer = partition;
    } else {
      oldest_ = partition;
    }
    newest_ = partition;
    state.listed = true;
  }
  return absl::OkStatus();
}

std::string RowsWindowOperator::Describe() const {
  std::vector<std::string> functions;
  for (const RowsWindowFunction& function : spec_.functions)
    functions.push_back(RowsWindowFunctionText(function));
  std::vector<std::string> keys;
  for (size_t column : spec_.partition_columns) keys.push_back(StrCat("#", column));
  std::string text = StrCat("RowsWindow ", StrJoin(functions, ", "));
  if (!keys.empty()) StrAppend(&text, " PARTITION BY ", StrJoin(keys, ", "));
  if (spec_.order_column >= 0)
    StrAppend(&text, " ORDER BY #", spec_.order_column, " (out-of-order rows are late)");
  StrAppend(&text, " BUFFER ", buffer_rows_, " ROWS FRAME ", frame_rows_, " ROWS");
  if (spec_.expire_after_millis.has_value()) {
    StrAppend(&text, " EXPIRE AFTER ", *spec_.expire_after_millis, " ms");
  }
  return text;
}

}  // namespace sluice
