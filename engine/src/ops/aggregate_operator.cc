#include "ops/aggregate_operator.h"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "common/floor_division.h"
#include "common/strings.h"

namespace sluice {
namespace {

// Groups of closed windows freed by a watermark that arrives with no row since the previous
// one (FreeClosing): an idle input still releases closed windows' keys.
constexpr size_t kFreedPerIdleWatermark = 1024;

// The clock of processing-time windows: wall-clock epoch milliseconds, as PROCTIME() reads it.
int64_t ProcessingTimeMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<TypeId> KeyTypes(const AggregateDefinition& definition) {
  std::vector<TypeId> types;
  for (const auto& key : definition.keys) types.push_back(key->type);
  if (definition.window) types.push_back(TypeId::kInt64);  // window start
  return types;
}

}  // namespace

AggregateOperator::AggregateOperator(const AggregateDefinition& definition, const Schema& output_schema)
    : StatefulOperator(definition.input_out_of_orderness_millis,
                       definition.late_data == LateDataStrategy::kDeadLetter),
      definition_(definition),
      output_schema_(output_schema),
      windowed_(definition.window.has_value()),
      // Groups are freed only when windows close, keys expire (TTL) or, with a retracting input,
      // a group's rows are all retracted.
      table_(KeyTypes(definition), definition.window || definition.ttl_time || definition.retract_input
                                       ? KeyTable::Erasure::kAllowed
                                       : KeyTable::Erasure::kNever),
      output_(output_schema),
      changelog_(definition.retract_input || definition.emit_update_before),
      first_emission_only_(definition.distinct_rows && !definition.retract_input &&
                           !definition.emit_update_before && definition.emit == EmitMode::kChanges &&
                           !definition.window) {
  for (const auto& key : definition.keys)
    key_executors_.push_back(std::make_unique<ExpressionExecutor>(*key));
  for (const auto& call : definition.aggregates) {
    argument_executors_.push_back(call.argument ? std::make_unique<ExpressionExecutor>(*call.argument)
                                                : nullptr);
    accumulators_.push_back(MakeAccumulator(call.kind, call.argument ? call.argument->type : TypeId::kNull,
                                            call.result_type, state_rows_, definition.retract_input));
  }
  if (windowed_) {
    time_executor_ = std::make_unique<ExpressionExecutor>(*definition.window->time);
    const WindowDefinition& window = *definition.window;
    window_advance_millis_ = window.kind == WindowKind::kSliding ? window.advance_millis : window.size_millis;
    windows_per_row_ = window.size_millis / window_advance_millis_;
  }
  if (definition.ttl_time) ttl_time_executor_ = std::make_unique<ExpressionExecutor>(*definition.ttl_time);
  key_columns_.resize(definition.keys.size());
  key_pointers_.resize(KeyTypes(definition).size());
  argument_columns_.resize(definition.aggregates.size());
}

void AggregateOperator::EnsureCapacity() {
  const size_t needed = table_.id_limit();
  if (needed <= capacity_) return;
  const size_t capacity = std::max<size_t>(needed, capacity_ * 2);
  state_rows_.Resize(capacity);
  for (auto& accumulator : accumulators_) accumulator->Resize(capacity);
  dirty_.resize(capacity, 0);
  fired_.resize(capacity, 0);
  live_.resize(capacity, 0);
  if (ttl_time_executor_) {
    last_touch_.resize(capacity, INT64_MIN);
    touched_.resize(capacity, 0);
  }
  if (first_emission_only_) emitted_.resize(capacity, 0);
  if (changelog_) {
    emitted_.resize(capacity, 0);
    before_.resize(capacity, AggregateOutput::kNoBefore);
    if (definition_.retract_input) row_count_.resize(capacity, 0);
  }
  capacity_ = capacity;
}

void AggregateOperator::ResetCreated() {
  for (auto& accumulator : accumulators_) {
    for (uint32_t group : created_) accumulator->Reset(group);
  }
  if (definition_.retract_input) {
    for (uint32_t group : created_) row_count_[group] = 0;
  }
}

void AggregateOperator::CaptureBefore(const uint32_t* selection, size_t count) {
  capture_list_.clear();
  ForEachActiveRow(selection, count, [&](size_t row) {
    const uint32_t group = group_ids_[row];
    if (emitted_[group] && before_[group] == AggregateOutput::kNoBefore) {
      before_[group] = 0;  // numbered below
      capture_list_.push_back(group);
    }
  });
  if (capture_list_.empty()) return;
  const uint32_t first =
      output_.Capture(capture_list_, definition_.keys.size(), accumulators_,
                      [this](uint32_t group, size_t row, Batch& batch) { WriteKeys(group, row, batch); });
  for (size_t i = 0; i < capture_list_.size(); ++i)
    before_[capture_list_[i]] = first + static_cast<uint32_t>(i);
  captured_ += capture_list_.size();
}

void AggregateOperator::FreeClosing(size_t budget) {
  const size_t end = std::min(closing_.size(), closing_freed_ + budget);
  FreeGroups(std::span<const uint32_t>(closing_).subspan(closing_freed_, end - closing_freed_));
  closing_freed_ = end;
  // Dropping the freed prefix once it is half the list keeps the list within twice the groups
  // still to free, even if it never empties (freeing keeps pace with creation, no faster).
  if (closing_freed_ > 0 && 2 * closing_freed_ >= closing_.size()) {
    closing_.erase(closing_.begin(), closing_.begin() + static_cast<ptrdiff_t>(closing_freed_));
    closing_freed_ = 0;
  }
}

void AggregateOperator::ObserveCreated() {
  if (key_observer_ == nullptr || created_.empty() || !observer_error_.ok()) return;
  observer_error_ = key_observer_->OnNewKeys(table_, definition_.keys.size(), created_);
}

int64_t AggregateOperator::WindowStartOf(uint32_t group) const {
  return table_.IntegerKey(group, definition_.keys.size());
}

void AggregateOperator::FreeGroups(std::span<const uint32_t> groups) {
  // Accumulators are reset when an id is handed out again (ResetCreated), not here: closing a
  // window frees all its groups at once, and this keeps that burst to the key table.
  table_.Erase(groups);
  for (uint32_t group : groups) {
    fired_[group] = 0;
    live_[group] = 0;
  }
  if (first_emission_only_) {
    for (uint32_t group : groups) emitted_[group] = 0;
  }
  if (changelog_) {
    for (uint32_t group : groups) {
      emitted_[group] = 0;
      if (before_[group] != AggregateOutput::kNoBefore) --captured_;
      before_[group] = AggregateOutput::kNoBefore;
    }
  }
}

size_t AggregateOperator::state_bytes() const {
  size_t bytes = table_.MemoryBytes() + state_rows_.MemoryBytes();
  for (const auto& accumulator : accumulators_) bytes += accumulator->MemoryBytes();
  // The operator's own per-group arrays, the windows' group lists (open, kept for reuse and
  // closed but not yet freed), and the state TTL's touch queue.
  bytes += CapacityBytes(dirty_) + CapacityBytes(fired_) + CapacityBytes(live_) + CapacityBytes(last_touch_) +
           CapacityBytes(touched_) + CapacityBytes(expiry_) + CapacityBytes(evicted_);
  bytes += CapacityBytes(windows_) + CapacityBytes(spare_group_lists_) + CapacityBytes(closing_);
  for (const OpenWindow& window : windows_) bytes += CapacityBytes(window.groups);
  for (const auto& groups : spare_group_lists_) bytes += CapacityBytes(groups);
  return bytes;
}

std::vector<uint32_t>& AggregateOperator::FindOrOpenWindow(int64_t start) {
  // Sliding windows keep size / slide of them open.
  auto it = windows_.end();
  if (!windows_.empty() && windows_.back().start > start) {
    it = std::lower_bound(windows_.begin(), windows_.end(), start,
                          [](const OpenWindow& window, int64_t value) { return window.start < value; });
    if (it->start == start) return it->groups;
  }
  std::vector<uint32_t> groups;
  if (!spare_group_lists_.empty()) {
    groups = std::move(spare_group_lists_.back());
    spare_group_lists_.pop_back();
  }
  return windows_.insert(it, OpenWindow{start, std::move(groups)})->groups;
}

bool AggregateOperator::CarriesKeys(const AggregateDefinition& definition) {
  // A SESSION window is a SessionWindowOperator, which keeps its own state.
  if (definition.window && definition.window->kind == WindowKind::kSession) return false;
  // A RocksDbAggregateOperator looks its keys up by their values.
  if (definition.rocksdb) return false;
  return !definition.keys.empty() && KeyTable::HashesKeyWords(KeyTypes(definition));
}

void AggregateOperator::FindGroups(const uint32_t* selection, size_t count) {
  if (carried_keys_column_) {
    table_.FindOrInsertCarried(carried_keys_, key_pointers_.data(), selection, count, group_ids_.data(),
                               &created_);
  } else {
    table_.FindOrInsert(key_pointers_.data(), selection, count, group_ids_.data(), &created_);
  }
}

absl::Status AggregateOperator::Push(const Batch& batch) {
  const size_t active = batch.active_rows();
  if (active == 0) return absl::OkStatus();
  const size_t rows = batch.num_rows();
  if (carried_keys_column_) {
    const size_t keys = definition_.keys.size();
    carried_words_.resize(keys);
    for (size_t k = 0; k < keys; ++k)
      carried_words_[k] = batch.column(*carried_keys_column_ + k).data<uint64_t>();
    carried_keys_.columns = keys;
    carried_keys_.words = carried_words_.data();
    carried_keys_.nulls = batch.column(*carried_keys_column_ + keys).data<uint64_t>();
    carried_keys_.hashes = batch.column(*carried_keys_column_ + keys + 1).data<uint64_t>();
  }
  for (size_t k = 0; k < key_executors_.size(); ++k) {
    key_columns_[k] = key_executors_[k]->Evaluate(batch);
    key_pointers_[k] = key_columns_[k].get();
  }
  for (size_t a = 0; a < argument_executors_.size(); ++a) {
    argument_columns_[a] = argument_executors_[a] ? argument_executors_[a]->Evaluate(batch) : nullptr;
  }
  if (group_ids_.size() < rows) group_ids_.resize(rows);
  if (selection_.size() < rows) selection_.resize(rows);
  // Row kinds matter only to an aggregate that retracts; others read every row as an insert.
  const RowKind* kinds = definition_.retract_input ? batch.row_kinds() : nullptr;

  auto aggregate_rows = [&](const uint32_t* selection, size_t count) {
    created_.clear();
    FindGroups(selection, count);
    ObserveCreated();
    EnsureCapacity();
    ResetCreated();
    for (uint32_t group : created_) {
      live_[group] = 1;
      if (windowed_) WindowGroups(WindowStartOf(group)).push_back(group);
    }
    if (changelog_) CaptureBefore(selection, count);
    if (kinds == nullptr) {
      for (size_t a = 0; a < accumulators_.size(); ++a) {
        accumulators_[a]->Update(argument_columns_[a].get(), selection, count, group_ids_.data());
      }
      if (definition_.retract_input) {
        ForEachActiveRow(selection, count, [&](size_t row) { ++row_count_[group_ids_[row]]; });
      }
    } else {
      // An updating input: inserts and update-afters add, update-befores and deletes retract.
      positive_.clear();
      negative_.clear();
      ForEachActiveRow(selection, count, [&](size_t row) {
        const bool retraction = IsRetraction(kinds[row]);
        (retraction ? negative_ : positive_).push_back(static_cast<uint32_t>(row));
        row_count_[group_ids_[row]] += retraction ? -1 : 1;
      });
      for (size_t a = 0; a < accumulators_.size(); ++a) {
        accumulators_[a]->Update(argument_columns_[a].get(), positive_.data(), positive_.size(),
                                 group_ids_.data());
        accumulators_[a]->Retract(argument_columns_[a].get(), negative_.data(), negative_.size(),
                                  group_ids_.data());
      }
    }
    const bool final_mode = definition_.emit == EmitMode::kFinal;
    ForEachActiveRow(selection, count, [&](size_t row) {
      const uint32_t group = group_ids_[row];
      // EMIT CHANGES: every touched group; EMIT FINAL: fired windows corrected by late rows.
      if (!dirty_[group] && (!final_mode || fired_[group]) && !(first_emission_only_ && emitted_[group])) {
        dirty_[group] = 1;
        dirty_list_.push_back(group);
      }
    });
  };

  const int64_t* carried = CarriedWatermarks(batch);
  InputWatermark& event_time = this->event_time();
  if (!windowed_ && !ttl_time_executor_) {
    aggregate_rows(batch.selection(), active);
  } else if (!windowed_) {
    // State TTL, decided per record so that results do not depend on batch boundaries: a row
    // whose group was last touched at least the TTL before the row's watermark finds the group
    // expired; the group is emitted (EMIT FINAL), counted and restarted before the row counts.
    const std::shared_ptr<Column> time = ttl_time_executor_->Evaluate(batch);
    const int64_t* times = time->data<int64_t>();
    const int64_t ttl = *definition_.state_ttl_millis;
    created_.clear();
    FindGroups(batch.selection(), active);
    ObserveCreated();
    EnsureCapacity();
    ResetCreated();
    for (uint32_t group : created_) live_[group] = 1;
    segment_.clear();
    auto apply_segment = [&]() {
      if (segment_.empty()) return;
      if (changelog_) CaptureBefore(segment_.data(), segment_.size());
      for (size_t a = 0; a < accumulators_.size(); ++a) {
        accumulators_[a]->Update(argument_columns_[a].get(), segment_.data(), segment_.size(),
                                 group_ids_.data());
      }
      for (uint32_t row : segment_) {
        const uint32_t group = group_ids_[row];
        if (!dirty_[group] && definition_.emit == EmitMode::kChanges &&
            !(first_emission_only_ && emitted_[group])) {
          dirty_[group] = 1;
          dirty_list_.push_back(group);
        }
      }
      segment_.clear();
    };
    for (size_t i = 0; i < active; ++i) {
      const uint32_t row = batch.ActiveRow(i);
      const uint32_t group = group_ids_[row];
      if (carried != nullptr) event_time.ObserveCarried(carried[row]);
      const int64_t row_watermark = event_time.current();
      if (last_touch_[group] != INT64_MIN && row_watermark != INT64_MIN &&
          last_touch_[group] <= row_watermark - ttl) {
        apply_segment();
        if (changelog_) CaptureBefore(&row, 1);  // the row it showed, before it restarts
        if (definition_.emit == EmitMode::kFinal) {
          evicted_.assign(1, group);
          SLUICE_RETURN_IF_ERROR(EmitGroups(evicted_));
        }
        if (first_emission_only_) {
          // Its first appearance, if still waiting for the end of the batch, goes out now; the
          // row starts it afresh, to be emitted again.
          if (dirty_[group]) {
            evicted_.assign(1, group);
            SLUICE_RETURN_IF_ERROR(EmitGroups(evicted_));
          }
          emitted_[group] = 0;
        }
        for (auto& accumulator : accumulators_) accumulator->Reset(group);
        CountEvicted(1);
      }
      if (times[row] > last_touch_[group] || last_touch_[group] == INT64_MIN) last_touch_[group] = times[row];
      if (!touched_[group]) {
        touched_[group] = 1;
        touched_list_.push_back(group);
      }
      segment_.push_back(row);
      event_time.Observe(times[row]);
    }
    apply_segment();
    for (uint32_t group : touched_list_) {
      touched_[group] = 0;
      expiry_.emplace_back(last_touch_[group], group);
    }
    touched_list_.clear();
  } else if (definition_.window->processing_time) {
    // Processing time: the windows the clock has passed fire first, then every row falls in the
    // window(s) of the clock's reading now, so that no row is late.
    const int64_t now = ProcessingTimeMillis();
    SLUICE_RETURN_IF_ERROR(FireWindows(now - 1));
    window_start_column_.Resize(rows);
    window_start_column_.SetAllValid(rows);
    int64_t* starts = window_start_column_.data<int64_t>();
    key_pointers_.back() = &window_start_column_;
    size_t count = 0;
    for (size_t i = 0; i < active; ++i) selection_[count++] = batch.ActiveRow(i);
    const int64_t newest_start = FloorDivide(now, window_advance_millis_) * window_advance_millis_;
    for (int64_t j = 0; j < windows_per_row_; ++j) {
      const int64_t start = newest_start - j * window_advance_millis_;
      for (size_t i = 0; i < count; ++i) starts[selection_[i]] = start;
      aggregate_rows(selection_.data(), count);
    }
  } else {
    // Rows are taken in arrival order with a watermark that advances per record (the highest
    // window time seen so far minus the input's out-of-orderness bound, or the watermark
    // received, whichever is higher). A row is late when its window closed under the
    // watermark before it; windows fire as soon as the watermark passes their end. Results
    // therefore do not depend on where batches begin and end.
    const WindowDefinition& window = *definition_.window;
    const std::shared_ptr<Column> time = time_executor_->Evaluate(batch);
    const int64_t* times = time->data<int64_t>();
    const uint8_t* time_valid = time->validity();
    window_start_column_.Resize(rows);
    window_start_column_.SetAllValid(rows);
    int64_t* starts = window_start_column_.data<int64_t>();
    key_pointers_.back() = &window_start_column_;
    const int64_t advance = window_advance_millis_;
    const int64_t lateness = definition_.allowed_lateness_millis;
    if (row_watermarks_.size() < rows) row_watermarks_.resize(rows);
    segment_.clear();
    auto closed = [&](int64_t start, int64_t watermark) {
      int64_t close = 0;
      if (__builtin_add_overflow(start + window.size_millis - 1, lateness, &close)) return false;
      return watermark != INT64_MIN && close <= watermark;
    };
    // Row times and the running watermark each advance through windows in near order: a
    // divider apiece answers most rows from the window of the row before.
    FloorDivider row_window(advance);
    FloorDivider watermark_window(advance);
    auto crosses_window_end = [&](int64_t before, int64_t after) {
      return after > before && watermark_window.Quotient(after + 1) != watermark_window.Quotient(before + 1);
    };
    // A segment row's starts[] holds its newest window's start; pass j aggregates the rows
    // into the window j advances before it, stepping starts[] back one advance per pass.
    auto flush_segment = [&]() {
      for (int64_t j = 0; j < windows_per_row_; ++j) {
        size_t count = 0;
        for (uint32_t row : segment_) {
          if (j > 0) {
            starts[row] -= advance;
            if (closed(starts[row], row_watermarks_[row])) continue;  // an older window, already closed
          }
          selection_[count++] = row;
        }
        if (count > 0) aggregate_rows(selection_.data(), count);
      }
      segment_.clear();
    };
    for (size_t i = 0; i < active; ++i) {
      const uint32_t row = batch.ActiveRow(i);
      if (!time_valid[row]) {
        SLUICE_RETURN_IF_ERROR(RejectLate(batch, row));
        continue;
      }
      // The watermark moved (carried, or by the row before): a window end (a multiple of the
      // advance) crossed means aggregating what came before, then firing.
      if (carried != nullptr && event_time.ObserveCarried(carried[row]) &&
          crosses_window_end(event_time.previous(), event_time.current())) {
        flush_segment();
        SLUICE_RETURN_IF_ERROR(FireWindows(event_time.current()));
      }
      const int64_t row_watermark = event_time.current();
      const int64_t newest_start = row_window.Floor(times[row]);
      if (closed(newest_start, row_watermark)) {
        SLUICE_RETURN_IF_ERROR(RejectLate(batch, row));
        continue;
      }
      starts[row] = newest_start;
      row_watermarks_[row] = row_watermark;
      segment_.push_back(row);
      if (event_time.Observe(times[row]) && crosses_window_end(event_time.previous(), event_time.current())) {
        flush_segment();
        SLUICE_RETURN_IF_ERROR(FireWindows(event_time.current()));
      }
    }
    flush_segment();
  }
  for (auto& column : key_columns_) column.reset();
  for (auto& column : argument_columns_) column.reset();
  if (!observer_error_.ok()) return observer_error_;

  if (definition_.emit == EmitMode::kChanges && !dirty_list_.empty()) {
    SLUICE_RETURN_IF_ERROR(EmitGroups(dirty_list_));
    if (first_emission_only_) {
      for (uint32_t group : dirty_list_) emitted_[group] = 1;
    }
    for (uint32_t group : dirty_list_) dirty_[group] = 0;
    dirty_list_.clear();
  }
  // As many per row as a row can create: closed windows are freed as fast as groups are
  // created, so those not yet freed never hold more than a window's worth.
  FreeClosing(active * static_cast<size_t>(windows_per_row_));
  rows_since_watermark_ += active;
  return ChargeState();
}

absl::Status AggregateOperator::AdvanceEventTime(int64_t watermark) {
  if (windowed_ && definition_.window->processing_time) {
    // The input's watermark is event time, which processing-time windows do not follow: it
    // only ticks the clock, and its final value ends every window.
    SLUICE_RETURN_IF_ERROR(
        FireWindows(watermark == kMaxWatermark ? kMaxWatermark : ProcessingTimeMillis() - 1));
    if (rows_since_watermark_ == 0) FreeClosing(kFreedPerIdleWatermark);
  } else if (windowed_) {
    SLUICE_RETURN_IF_ERROR(FireWindows(watermark));
    if (rows_since_watermark_ == 0) FreeClosing(kFreedPerIdleWatermark);
  } else if (definition_.state_ttl_millis) {
    SLUICE_RETURN_IF_ERROR(EvictExpired(watermark));
  }
  if (!windowed_ && definition_.emit == EmitMode::kFinal && watermark == kMaxWatermark) {
    std::vector<uint32_t> groups;
    for (uint32_t group = 0; group < table_.id_limit(); ++group) {
      if (live_[group]) groups.push_back(group);
    }
    SLUICE_RETURN_IF_ERROR(EmitGroups(groups));
  }
  rows_since_watermark_ = 0;
  return absl::OkStatus();
}

absl::Status AggregateOperator::EvictExpired(int64_t watermark) {
  const int64_t ttl = *definition_.state_ttl_millis;
  if (watermark == INT64_MIN) return absl::OkStatus();
  evicted_.clear();
  while (expiry_head_ < expiry_.size() && watermark != kMaxWatermark &&
         expiry_[expiry_head_].first <= watermark - ttl) {
    const auto [touch, group] = expiry_[expiry_head_++];
    // Only the newest entry of a group counts; a freed and reused id has a newer touch. A group
    // touched in two batches without a newer event time (out-of-order rows) has two entries with
    // the same touch: clearing it here keeps the second from evicting the group again.
    if (live_[group] && last_touch_[group] == touch) {
      evicted_.push_back(group);
      last_touch_[group] = INT64_MIN;
    }
  }
  if (expiry_head_ > 0 && 2 * expiry_head_ >= expiry_.size()) {
    expiry_.erase(expiry_.begin(), expiry_.begin() + static_cast<ptrdiff_t>(expiry_head_));
    expiry_head_ = 0;
  }
  if (evicted_.empty()) return absl::OkStatus();
  if (definition_.emit == EmitMode::kFinal) SLUICE_RETURN_IF_ERROR(EmitGroups(evicted_));
  FreeGroups(evicted_);
  CountEvicted(evicted_.size());
  return absl::OkStatus();
}

absl::Status AggregateOperator::FireWindows(int64_t watermark) {
  const bool final_mode = definition_.emit == EmitMode::kFinal;
  const int64_t size = definition_.window->size_millis;
  const int64_t lateness = definition_.allowed_lateness_millis;
  std::vector<uint32_t>& firing = firing_;
  // Pending updates go out before any group is freed: late corrections of windows that
  // fired before (EMIT FINAL), or the changes of the rows aggregated so far (EMIT CHANGES).
  if (!dirty_list_.empty()) {
    firing.swap(dirty_list_);
    for (uint32_t group : firing) dirty_[group] = 0;
    SLUICE_RETURN_IF_ERROR(EmitGroups(firing));
    firing.clear();
  }
  // Closing times grow with the start: the windows that close are a prefix of windows_.
  size_t closed = 0;
  for (auto it = windows_.begin(); it != windows_.end() && it->start + size - 1 <= watermark; ++it) {
    std::vector<uint32_t>& groups = it->groups;
    if (final_mode) {
      for (uint32_t group : groups) {
        if (!fired_[group]) {
          fired_[group] = 1;
          firing.push_back(group);
        }
      }
    }
    if (!firing.empty()) {
      SLUICE_RETURN_IF_ERROR(EmitGroups(firing));
      firing.clear();
    }
    int64_t close_time = 0;
    if (__builtin_add_overflow(it->start + size - 1, lateness, &close_time)) close_time = INT64_MAX;
    if (close_time <= watermark) {
      closing_.insert(closing_.end(), groups.begin(), groups.end());
      groups.clear();
      spare_group_lists_.push_back(std::move(groups));
      ++closed;
    }
  }
  windows_.erase(windows_.begin(), windows_.begin() + static_cast<ptrdiff_t>(closed));
  return absl::OkStatus();
}

void AggregateOperator::WriteKeys(uint32_t group, size_t row, Batch& batch) const {
  const size_t key_count = definition_.keys.size();
  const size_t window_column = key_count + accumulators_.size();
  for (size_t k = 0; k < key_count; ++k) table_.ReadKey(group, k, batch.mutable_column(k), row);
  Column& starts = batch.mutable_column(window_column);
  Column& ends = batch.mutable_column(window_column + 1);
  if (windowed_) {
    table_.ReadKey(group, key_count, starts, row);
    ends.validity()[row] = 1;
    ends.data<int64_t>()[row] = starts.data<int64_t>()[row] + definition_.window->size_millis;
  } else {
    starts.SetNull(row);
    ends.SetNull(row);
  }
}

absl::Status AggregateOperator::EmitGroups(const std::vector<uint32_t>& groups) {
  if (changelog_) return EmitChanges(groups);
  // The append and upsert path, once per output row: WriteKeys inlined by hand, with the
  // column indexes and window size hoisted out of the row loop.
  const size_t key_count = definition_.keys.size();
  const size_t window_column = key_count + accumulators_.size();
  const int64_t size = windowed_ ? definition_.window->size_millis : 0;
  return output_.Emit(
      groups, key_count, accumulators_,
      [this](const uint32_t* chunk, size_t n) { table_.PrefetchKeys(std::span<const uint32_t>(chunk, n)); },
      [&](uint32_t group, size_t row, Batch& batch) {
        for (size_t k = 0; k < key_count; ++k) table_.ReadKey(group, k, batch.mutable_column(k), row);
        Column& starts = batch.mutable_column(window_column);
        Column& ends = batch.mutable_column(window_column + 1);
        if (windowed_) {
          table_.ReadKey(group, key_count, starts, row);
          ends.validity()[row] = 1;
          ends.data<int64_t>()[row] = starts.data<int64_t>()[row] + size;
        } else {
          starts.SetNull(row);
          ends.SetNull(row);
        }
      },
      [this](const Batch& batch) { return Emit(batch); });
}

absl::Status AggregateOperator::EmitChanges(const std::vector<uint32_t>& groups) {
  changes_.clear();
  deleted_.clear();
  for (uint32_t group : groups) {
    const uint32_t before = before_[group];
    if (definition_.retract_input && row_count_[group] == 0) {
      // Every row of the group was retracted: it leaves the table.
      if (emitted_[group] && before != AggregateOutput::kNoBefore)
        changes_.push_back({RowKind::kDelete, group, before});
      deleted_.push_back(group);
      continue;
    }
    if (!emitted_[group]) {
      changes_.push_back({RowKind::kInsert, group, AggregateOutput::kNoBefore});
    } else {
      if (definition_.emit_update_before && before != AggregateOutput::kNoBefore)
        changes_.push_back({RowKind::kUpdateBefore, group, before});
      changes_.push_back({RowKind::kUpdateAfter, group, AggregateOutput::kNoBefore});
    }
    emitted_[group] = 1;
  }
  absl::Status status = output_.EmitChanges(
      changes_, definition_.keys.size(), accumulators_,
      [this](const uint32_t* chunk, size_t n) { table_.PrefetchKeys(std::span<const uint32_t>(chunk, n)); },
      [this](uint32_t group, size_t row, Batch& batch) { WriteKeys(group, row, batch); },
      [this](const Batch& batch) { return Emit(batch); });
  for (uint32_t group : groups) {
    if (before_[group] != AggregateOutput::kNoBefore) {
      before_[group] = AggregateOutput::kNoBefore;
      --captured_;
    }
  }
  if (captured_ == 0) output_.ClearBefore();
  if (!deleted_.empty()) {
    // Deleted groups stay listed where the caller found them (the dirty list) until it clears
    // their flags; freeing only erases their key and resets their per-group state on reuse.
    for (uint32_t group : deleted_) dirty_[group] = 0;
    FreeGroups(deleted_);
  }
  return status;
}

absl::Status AggregateOperator::Snapshot(StateWriter& writer) const {
  writer.WriteU32(2);  // format version
  table_.Snapshot(writer);
  const size_t groups = table_.id_limit();
  for (const auto& accumulator : accumulators_) accumulator->Snapshot(writer, groups);
  writer.WriteRaw(fired_.data(), groups);
  writer.WriteRaw(live_.data(), groups);
  writer.WriteU64(dirty_list_.size());
  writer.WriteRaw(dirty_list_.data(), dirty_list_.size() * sizeof(uint32_t));
  writer.WriteU64(windows_.size());
  for (const OpenWindow& window : windows_) {
    writer.WriteI64(window.start);
    writer.WriteU64(window.groups.size());
    writer.WriteRaw(window.groups.data(), window.groups.size() * sizeof(uint32_t));
  }
  writer.WriteU64(closing_.size() - closing_freed_);
  writer.WriteRaw(closing_.data() + closing_freed_, (closing_.size() - closing_freed_) * sizeof(uint32_t));
  SnapshotEventTime(writer);
  if (ttl_time_executor_) {
    writer.WriteRaw(last_touch_.data(), groups * sizeof(int64_t));
    writer.WriteU64(expiry_.size() - expiry_head_);
    for (size_t e = expiry_head_; e < expiry_.size(); ++e) {
      const auto [touch, group] = expiry_[e];
      writer.WriteI64(touch);
      writer.WriteU32(group);
    }
    writer.WriteU64(evicted());
  }
  if (first_emission_only_) writer.WriteRaw(emitted_.data(), groups);
  if (changelog_) {
    writer.WriteRaw(emitted_.data(), groups);
    if (definition_.retract_input) writer.WriteRaw(row_count_.data(), groups * sizeof(int64_t));
    // Rows last emitted of groups changed since (a correction waiting for the next watermark).
    output_.SnapshotBefore(writer);
    writer.WriteRaw(before_.data(), groups * sizeof(uint32_t));
  }
  return absl::OkStatus();
}

absl::Status AggregateOperator::Restore(StateReader& reader) {
  SLUICE_ASSIGN_OR_RETURN(uint32_t version, reader.ReadU32());
  if (version != 2) return absl::DataLossError("unknown aggregate snapshot version");
  SLUICE_RETURN_IF_ERROR(table_.Restore(reader));
  const size_t groups = table_.id_limit();
  EnsureCapacity();
  for (auto& accumulator : accumulators_) SLUICE_RETURN_IF_ERROR(accumulator->Restore(reader, groups));
  SLUICE_RETURN_IF_ERROR(reader.ReadRaw(fired_.data(), groups));
  SLUICE_RETURN_IF_ERROR(reader.ReadRaw(live_.data(), groups));
  // Lists of group ids: each count is checked before it sizes its list, each id before it
  // indexes a per-group array.
  const auto read_groups = [&reader, groups](std::vector<uint32_t>& list) -> absl::Status {
    SLUICE_ASSIGN_OR_RETURN(uint64_t count, reader.ReadCount(sizeof(uint32_t)));
    list.resize(count);
    SLUICE_RETURN_IF_ERROR(reader.ReadRaw(list.data(), count * sizeof(uint32_t)));
    for (uint32_t group : list) {
      if (group >= groups) return absl::DataLossError("aggregate snapshot: a group id out of range");
    }
    return absl::OkStatus();
  };
  SLUICE_RETURN_IF_ERROR(read_groups(dirty_list_));
  for (uint32_t group : dirty_list_) dirty_[group] = 1;
  SLUICE_ASSIGN_OR_RETURN(uint64_t windows, reader.ReadU64());
  windows_.clear();
  for (uint64_t w = 0; w < windows; ++w) {
    SLUICE_ASSIGN_OR_RETURN(int64_t start, reader.ReadI64());
    if (!windows_.empty() && windows_.back().start >= start)
      return absl::DataLossError("aggregate snapshot: windows out of order");
    SLUICE_RETURN_IF_ERROR(read_groups(WindowGroups(start)));
  }
  SLUICE_RETURN_IF_ERROR(read_groups(closing_));
  closing_freed_ = 0;
  SLUICE_RETURN_IF_ERROR(RestoreEventTime(reader));
  if (ttl_time_executor_) {
    SLUICE_RETURN_IF_ERROR(reader.ReadRaw(last_touch_.data(), groups * sizeof(int64_t)));
    SLUICE_ASSIGN_OR_RETURN(uint64_t entries, reader.ReadU64());
    expiry_.clear();
    expiry_head_ = 0;
    for (uint64_t e = 0; e < entries; ++e) {
      SLUICE_ASSIGN_OR_RETURN(int64_t touch, reader.ReadI64());
      SLUICE_ASSIGN_OR_RETURN(uint32_t group, reader.ReadU32());
      if (group >= groups) return absl::DataLossError("aggregate snapshot: a group id out of range");
      expiry_.emplace_back(touch, group);
    }
    SLUICE_ASSIGN_OR_RETURN(uint64_t evicted, reader.ReadU64());
    RestoreEvicted(evicted);
  }
  if (first_emission_only_) {
    // Which groups were emitted (SELECT DISTINCT): each only while it lives.
    SLUICE_RETURN_IF_ERROR(reader.ReadRaw(emitted_.data(), groups));
    for (uint32_t group = 0; group < groups; ++group) {
      if (emitted_[group] > 1 || (emitted_[group] && !live_[group]))
        return absl::DataLossError("aggregate snapshot: a group's emitted flag disagrees with its state");
    }
  }
  if (changelog_) {
    SLUICE_RETURN_IF_ERROR(reader.ReadRaw(emitted_.data(), groups));
    if (definition_.retract_input)
      SLUICE_RETURN_IF_ERROR(reader.ReadRaw(row_count_.data(), groups * sizeof(int64_t)));
    SLUICE_RETURN_IF_ERROR(output_.RestoreBefore(reader));
    SLUICE_RETURN_IF_ERROR(reader.ReadRaw(before_.data(), groups * sizeof(uint32_t)));
    std::vector<uint8_t> used(output_.before_images(), 0);
    captured_ = 0;
    for (uint32_t group = 0; group < groups; ++group) {
      if (emitted_[group] > 1 || (emitted_[group] && !live_[group]))
        return absl::DataLossError("aggregate snapshot: a group's emitted flag disagrees with its state");
      const uint32_t image = before_[group];
      if (image == AggregateOutput::kNoBefore) continue;
      if (!emitted_[group] || image >= used.size() || used[image])
        return absl::DataLossError("aggregate snapshot: a before image is out of range, repeated or stray");
      used[image] = 1;
      ++captured_;
    }
  }
  return CheckRestoredGroups();
}

absl::Status AggregateOperator::RestoreRescaled(std::span<StateReader* const> parts, KeyGroupRange keep,
                                                bool counters) {
  if (table_.id_limit() != 0)
    return absl::InternalError("a rescaled restore into an aggregate holding state");
  bool first = true;
  for (StateReader* part : parts) {
    AggregateOperator twin(definition_, output_schema_);
    SLUICE_RETURN_IF_ERROR(twin.Restore(*part));
    SLUICE_RETURN_IF_ERROR(Absorb(twin, keep));
    AbsorbEventTime(twin, first, counters);
    first = false;
  }
  // Each part's expiry queue is in touch order; the merged one must be too.
  std::stable_sort(expiry_.begin() + static_cast<ptrdiff_t>(expiry_head_), expiry_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return CheckRestoredGroups();
}

absl::Status AggregateOperator::Absorb(const AggregateOperator& part, KeyGroupRange keep) {
  const uint32_t limit = part.table_.id_limit();
  std::vector<uint8_t> closing(limit, 0);
  for (size_t i = part.closing_freed_; i < part.closing_.size(); ++i) closing[part.closing_[i]] = 1;
  std::vector<uint32_t> groups;
  for (uint32_t group = 0; group < limit; ++group) {
    if (part.live_[group] && !closing[group]) groups.push_back(group);
  }
  const size_t n = groups.size();
  if (n == 0) return absl::OkStatus();
  // The groups' keys as columns: the grouping keys, then the window start.
  const std::vector<TypeId> types = KeyTypes(definition_);
  std::vector<std::unique_ptr<Column>> keys;
  std::vector<const Column*> pointers;
  for (size_t k = 0; k < types.size(); ++k) {
    Column& column = *keys.emplace_back(std::make_unique<Column>(types[k], n));
    for (size_t i = 0; i < n; ++i) part.table_.ReadKey(groups[i], k, column, i);
    pointers.push_back(&column);
  }
  std::vector<uint32_t> selection;
  if (keep.all()) {
    selection.resize(n);
    std::iota(selection.begin(), selection.end(), 0);
  } else {
    // The routing hash of the grouping keys (the window start does not route).
    std::vector<uint64_t> hashes(n);
    RoutingScratch scratch;
    RoutingHashes(pointers.data(), definition_.keys.size(), carried_keys_column_.has_value(), nullptr, n,
                  hashes.data(), scratch);
    for (uint32_t i = 0; i < n; ++i) {
      if (keep.Contains(KeyGroupOf(hashes[i]))) selection.push_back(i);
    }
  }
  if (selection.empty()) return absl::OkStatus();
  group_ids_.resize(n);
  created_.clear();
  table_.FindOrInsert(pointers.data(), selection.data(), selection.size(), group_ids_.data(), &created_);
  if (created_.size() != selection.size())
    return absl::DataLossError("aggregate snapshot: two parts of a rescaled restore hold the same key");
  EnsureCapacity();
  ResetCreated();
  std::vector<uint32_t> mapped(limit, UINT32_MAX);
  for (uint32_t i : selection) {
    const uint32_t from = groups[i];
    const uint32_t into = group_ids_[i];
    mapped[from] = into;
    for (size_t a = 0; a < accumulators_.size(); ++a)
      accumulators_[a]->MergeFrom(into, *part.accumulators_[a], from);
    live_[into] = 1;
    fired_[into] = part.fired_[from];
    if (part.dirty_[from]) {
      dirty_[into] = 1;
      dirty_list_.push_back(into);
    }
    if (windowed_) WindowGroups(WindowStartOf(into)).push_back(into);
    if (ttl_time_executor_) last_touch_[into] = part.last_touch_[from];
    if (first_emission_only_ || changelog_) emitted_[into] = part.emitted_[from];
    if (changelog_) {
      if (definition_.retract_input) row_count_[into] = part.row_count_[from];
      if (part.before_[from] != AggregateOutput::kNoBefore) {
        before_[into] = output_.CopyBefore(part.output_, part.before_[from]);
        ++captured_;
      }
    }
  }
  if (ttl_time_executor_) {
    for (size_t e = part.expiry_head_; e < part.expiry_.size(); ++e) {
      const auto [touch, group] = part.expiry_[e];
      if (mapped[group] != UINT32_MAX) expiry_.emplace_back(touch, mapped[group]);
    }
  }
  return absl::OkStatus();
}

absl::Status AggregateOperator::CheckRestoredGroups() const {
  // Ids in range are not enough: a group freed twice (listed in two windows, or in use by the
  // operator but free in the key table) fails the key table's checks when its window closes.
  const uint32_t groups = table_.id_limit();
  for (uint32_t group = 0; group < groups; ++group) {
    if (live_[group] > 1 || fired_[group] > 1 || (live_[group] != 0) != table_.IsLive(group)) {
      return absl::DataLossError("aggregate snapshot: a group's flags disagree with the key table");
    }
  }
  // Changed groups are in use and listed once; so is every group of a window, in one window
  // (the one its key names) or among those of closed windows not yet freed, and, with a
  // window, every group in use is in one of those lists.
  std::vector<uint8_t> listed(groups, 0);
  const auto list_once = [&](const std::vector<uint32_t>& list) {
    for (uint32_t group : list) {
      if (!live_[group] || listed[group]) return false;
      listed[group] = 1;
    }
    return true;
  };
  if (!list_once(dirty_list_))
    return absl::DataLossError("aggregate snapshot: a changed group is free or repeated");
  std::fill(listed.begin(), listed.end(), 0);
  if (!windowed_) {
    if (windows_.empty() && closing_.empty()) return absl::OkStatus();
    return absl::DataLossError("aggregate snapshot: windows in an aggregate without a window");
  }
  for (const OpenWindow& window : windows_) {
    if (!list_once(window.groups))
      return absl::DataLossError("aggregate snapshot: a window's group is free or repeated");
    for (uint32_t group : window.groups) {
      if (WindowStartOf(group) != window.start)
        return absl::DataLossError("aggregate snapshot: a window lists a group of another window");
    }
  }
  if (!list_once(closing_))
    return absl::DataLossError("aggregate snapshot: a closed window's group is free or repeated");
  for (uint32_t group = 0; group < groups; ++group) {
    if (live_[group] && !listed[group])
      return absl::DataLossError("aggregate snapshot: a group in use is in no window");
  }
  return absl::OkStatus();
}

std::string AggregateOperator::Describe() const {
  std::vector<std::string> keys, calls;
  for (const auto& key : definition_.keys) keys.push_back(key->ToString());
  for (const auto& call : definition_.aggregates) calls.push_back(call.text);
  std::string out =
      StrCat("HashAggregate keys [", StrJoin(keys, ", "), "] aggregates [", StrJoin(calls, ", "), "]");
  if (windowed_) {
    const auto& window = *definition_.window;
    StrAppend(&out, window.kind == WindowKind::kSliding ? " SLIDING " : " TUMBLING ", window.size_millis,
              " ms");
    if (window.kind == WindowKind::kSliding) StrAppend(&out, " every ", window.advance_millis, " ms");
  }
  StrAppend(&out, definition_.emit == EmitMode::kFinal ? " EMIT FINAL" : " EMIT CHANGES");
  return out;
}

}  // namespace sluice
