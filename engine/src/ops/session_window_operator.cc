#include "ops/session_window_operator.h"

#include <algorithm>

#include "common/strings.h"

namespace sluice {
namespace {

std::vector<TypeId> KeyTypes(const AggregateDefinition& definition) {
  std::vector<TypeId> types;
  for (const auto& key : definition.keys) types.push_back(key->type);
  return types;
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t out = 0;
  return __builtin_add_overflow(a, b, &out) ? INT64_MAX : out;
}

}  // namespace

SessionWindowOperator::SessionWindowOperator(const AggregateDefinition& definition,
                                             const Schema& output_schema)
    : StatefulOperator(definition.input_out_of_orderness_millis,
                       definition.late_data == LateDataStrategy::kDeadLetter),
      definition_(definition),
      output_schema_(output_schema),
      gap_(definition.window->size_millis),
      keys_(KeyTypes(definition)),
      output_(output_schema),
      retracting_(definition.emit == EmitMode::kChanges || definition.allowed_lateness_millis > 0) {
  for (const auto& key : definition.keys)
    key_executors_.push_back(std::make_unique<ExpressionExecutor>(*key));
  for (const auto& call : definition.aggregates) {
    argument_executors_.push_back(call.argument ? std::make_unique<ExpressionExecutor>(*call.argument)
                                                : nullptr);
    accumulators_.push_back(MakeAccumulator(call.kind, call.argument ? call.argument->type : TypeId::kNull,
                                            call.result_type, state_rows_));
  }
  time_executor_ = std::make_unique<ExpressionExecutor>(*definition.window->time);
  key_columns_.resize(definition.keys.size());
  key_pointers_.resize(definition.keys.size());
  argument_columns_.resize(definition.aggregates.size());
}

uint32_t SessionWindowOperator::NewGroup(uint32_t key, int64_t start, int64_t end) {
  uint32_t group;
  if (!free_groups_.empty()) {
    group = free_groups_.back();
    free_groups_.pop_back();
  } else {
    group = group_limit_++;
    group_key_.push_back(0);
    group_start_.push_back(0);
    group_end_.push_back(0);
    group_live_.push_back(0);
    fired_.push_back(0);
    dirty_.push_back(0);
    redirect_.push_back(group);
    if (retracting_) {
      emitted_.push_back(0);
      emitted_start_.push_back(0);
      before_.push_back(AggregateOutput::kNoBefore);
    }
    state_rows_.Resize(group_limit_);
    for (auto& accumulator : accumulators_) accumulator->Resize(group_limit_);
  }
  group_key_[group] = key;
  group_start_[group] = start;
  group_end_[group] = end;
  group_live_[group] = 1;
  fired_[group] = 0;
  redirect_[group] = group;
  if (retracting_) {
    emitted_[group] = 0;
    before_[group] = AggregateOutput::kNoBefore;
  }
  by_end_.emplace(end, group);
  return group;
}

void SessionWindowOperator::CaptureBefore(uint32_t group) {
  if (!emitted_[group] || before_[group] != AggregateOutput::kNoBefore) return;
  capture_one_.assign(1, group);
  before_[group] =
      output_.Capture(capture_one_, definition_.keys.size(), accumulators_,
                      [this](uint32_t g, size_t row, Batch& batch) { WriteKeys(g, row, batch); });
  ++captured_;
}

uint32_t SessionWindowOperator::Resolve(uint32_t group) const {
  while (redirect_[group] != group) group = redirect_[group];
  return group;
}

void SessionWindowOperator::MarkDirty(uint32_t group) {
  const bool final_mode = definition_.emit == EmitMode::kFinal;
  if (!dirty_[group] && (!final_mode || fired_[group])) {
    dirty_[group] = 1;
    dirty_list_.push_back(group);
  }
}

uint32_t SessionWindowOperator::Assign(uint32_t key, int64_t time) {
  if (sessions_.size() <= key) sessions_.resize(key + 1);
  std::vector<Session>& sessions = sessions_[key];
  const int64_t start = time;
  const int64_t end = SaturatingAdd(time, gap_);
  // Sessions overlapping or touching [start, end) are contiguous in start order. Touching
  // windows merge (Flink's rule): an event exactly `gap` after a session's last one extends it.
  size_t first = 0;
  while (first < sessions.size() && sessions[first].end < start) ++first;
  size_t last = first;
  while (last < sessions.size() && sessions[last].start <= end) ++last;
  if (retracting_) {
    for (size_t s = first; s < last; ++s) CaptureBefore(sessions[s].group);
  }
  if (first == last) {
    const uint32_t group = NewGroup(key, start, end);
    sessions.insert(sessions.begin() + static_cast<ptrdiff_t>(first), Session{start, end, group});
    return group;
  }
  Session& into = sessions[first];
  into.start = std::min(into.start, start);
  into.end = std::max(into.end, end);
  for (size_t s = first + 1; s < last; ++s) {
    const Session& from = sessions[s];
    into.end = std::max(into.end, from.end);
    for (auto& accumulator : accumulators_) accumulator->Merge(into.group, from.group);
    fired_[into.group] = fired_[into.group] || fired_[from.group];
    redirect_[from.group] = into.group;
    group_live_[from.group] = 0;
    if (retracting_ && before_[from.group] != AggregateOutput::kNoBefore) {
      retired_.push_back(before_[from.group]);  // its row is deleted at the next emission
      before_[from.group] = AggregateOutput::kNoBefore;
    }
    pending_free_.push_back(from.group);
  }
  sessions.erase(sessions.begin() + static_cast<ptrdiff_t>(first) + 1,
                 sessions.begin() + static_cast<ptrdiff_t>(last));
  const uint32_t group = into.group;
  if (group_end_[group] != into.end) by_end_.emplace(into.end, group);
  group_start_[group] = into.start;
  group_end_[group] = into.end;
  return group;
}

absl::Status SessionWindowOperator::Flush() {
  if (!segment_.empty()) {
    for (uint32_t row : segment_) row_groups_[row] = Resolve(row_groups_[row]);
    for (size_t a = 0; a < accumulators_.size(); ++a) {
      accumulators_[a]->Update(argument_columns_[a].get(), segment_.data(), segment_.size(),
                               row_groups_.data());
    }
    for (uint32_t row : segment_) MarkDirty(row_groups_[row]);
    segment_.clear();
  }
  for (uint32_t group : pending_free_) {
    for (auto& accumulator : accumulators_) accumulator->Reset(group);
    redirect_[group] = group;
    dirty_[group] = 0;
    free_groups_.push_back(group);
  }
  pending_free_.clear();
  // Drop merged-away groups from the pending output.
  dirty_list_.erase(std::remove_if(dirty_list_.begin(), dirty_list_.end(),
                                   [this](uint32_t group) { return !group_live_[group]; }),
                    dirty_list_.end());
  return absl::OkStatus();
}

absl::Status SessionWindowOperator::Push(const Batch& batch) {
  const size_t active = batch.active_rows();
  if (active == 0) return absl::OkStatus();
  const size_t rows = batch.num_rows();
  for (size_t k = 0; k < key_executors_.size(); ++k) {
    key_columns_[k] = key_executors_[k]->Evaluate(batch);
    key_pointers_[k] = key_columns_[k].get();
  }
  for (size_t a = 0; a < argument_executors_.size(); ++a) {
    argument_columns_[a] = argument_executors_[a] ? argument_executors_[a]->Evaluate(batch) : nullptr;
  }
  const std::shared_ptr<Column> time = time_executor_->Evaluate(batch);
  const int64_t* times = time->data<int64_t>();
  const int64_t* carried = CarriedWatermarks(batch);
  InputWatermark& event_time = this->event_time();
  const uint8_t* time_valid = time->validity();
  if (key_ids_.size() < rows) key_ids_.resize(rows);
  if (row_groups_.size() < rows) row_groups_.resize(rows);
  created_keys_.clear();
  keys_.FindOrInsert(key_pointers_.data(), batch.selection(), active, key_ids_.data(),
                     key_observer_ != nullptr ? &created_keys_ : nullptr);
  if (!created_keys_.empty()) {
    SLUICE_RETURN_IF_ERROR(key_observer_->OnNewKeys(keys_, definition_.keys.size(), created_keys_));
  }
  const int64_t lateness = definition_.allowed_lateness_millis;
  // Fires the sessions whose end the watermark passed, after applying the rows before.
  auto fire_if_due = [&]() -> absl::Status {
    if (by_end_.empty() || by_end_.begin()->first - 1 > event_time.current()) return absl::OkStatus();
    SLUICE_RETURN_IF_ERROR(Flush());
    return Fire(event_time.current());
  };
  for (size_t i = 0; i < active; ++i) {
    const uint32_t row = batch.ActiveRow(i);
    if (!time_valid[row]) {
      SLUICE_RETURN_IF_ERROR(RejectLate(batch, row));
      continue;
    }
    const int64_t t = times[row];
    if (carried != nullptr && event_time.ObserveCarried(carried[row])) SLUICE_RETURN_IF_ERROR(fire_if_due());
    const int64_t row_watermark = event_time.current();
    if (row_watermark != INT64_MIN && SaturatingAdd(SaturatingAdd(t, gap_ - 1), lateness) <= row_watermark) {
      SLUICE_RETURN_IF_ERROR(RejectLate(batch, row));
      continue;
    }
    row_groups_[row] = Assign(key_ids_[row], t);
    segment_.push_back(row);
    if (event_time.Observe(t)) SLUICE_RETURN_IF_ERROR(fire_if_due());
  }
  SLUICE_RETURN_IF_ERROR(Flush());
  for (auto& column : key_columns_) column.reset();
  for (auto& column : argument_columns_) column.reset();
  if (definition_.emit == EmitMode::kChanges && !dirty_list_.empty()) {
    SLUICE_RETURN_IF_ERROR(EmitGroups(dirty_list_));
    for (uint32_t group : dirty_list_) dirty_[group] = 0;
    dirty_list_.clear();
  }
  return ChargeState();
}

StateUsage SessionWindowOperator::state_usage() const {
  size_t bytes =
      keys_.MemoryBytes() + state_rows_.MemoryBytes() + sessions_.capacity() * sizeof(sessions_[0]);
  for (const auto& accumulator : accumulators_) bytes += accumulator->MemoryBytes();
  bytes += static_cast<size_t>(group_limit_) *
           (sizeof(Session) + sizeof(uint32_t) * 2 + sizeof(int64_t) * 2 + sizeof(uint8_t) * 3);
  return {keys_.size(), bytes};
}

void SessionWindowOperator::FreeGroup(uint32_t group) {
  if (!group_live_[group]) return;  // a duplicate end-index entry of a reused group id
  std::vector<Session>& sessions = sessions_[group_key_[group]];
  sessions.erase(std::remove_if(sessions.begin(), sessions.end(),
                                [group](const Session& s) { return s.group == group; }),
                 sessions.end());
  for (auto& accumulator : accumulators_) accumulator->Reset(group);
  group_live_[group] = 0;
  fired_[group] = 0;
  dirty_[group] = 0;
  if (retracting_ && before_[group] != AggregateOutput::kNoBefore) {
    before_[group] = AggregateOutput::kNoBefore;
    --captured_;
  }
  free_groups_.push_back(group);
}

absl::Status SessionWindowOperator::Fire(int64_t watermark) {
  const bool final_mode = definition_.emit == EmitMode::kFinal;
  // Pending updates first: changes (EMIT CHANGES) or corrections of fired sessions.
  if (!dirty_list_.empty()) {
    std::vector<uint32_t> pending;
    pending.swap(dirty_list_);
    for (uint32_t group : pending) dirty_[group] = 0;
    SLUICE_RETURN_IF_ERROR(EmitGroups(pending));
  }
  std::vector<uint32_t> firing, closing;
  for (auto it = by_end_.begin(); it != by_end_.end() && it->first - 1 <= watermark;) {
    const uint32_t group = it->second;
    if (!group_live_[group] || group_end_[group] != it->first) {
      it = by_end_.erase(it);  // stale: merged away or extended
      continue;
    }
    if (final_mode && !fired_[group]) {
      fired_[group] = 1;
      firing.push_back(group);
    }
    if (SaturatingAdd(it->first - 1, definition_.allowed_lateness_millis) <= watermark) {
      closing.push_back(group);
      it = by_end_.erase(it);
    } else {
      ++it;
    }
  }
  SLUICE_RETURN_IF_ERROR(EmitGroups(firing));
  for (uint32_t group : closing) FreeGroup(group);
  return absl::OkStatus();
}

absl::Status SessionWindowOperator::AdvanceEventTime(int64_t watermark) {
  return Fire(watermark);
}

void SessionWindowOperator::WriteKeys(uint32_t group, size_t row, Batch& batch) const {
  const size_t key_count = definition_.keys.size();
  const size_t window_column = key_count + accumulators_.size();
  for (size_t k = 0; k < key_count; ++k) keys_.ReadKey(group_key_[group], k, batch.mutable_column(k), row);
  Column& starts = batch.mutable_column(window_column);
  Column& ends = batch.mutable_column(window_column + 1);
  starts.validity()[row] = 1;
  starts.data<int64_t>()[row] = group_start_[group];
  ends.validity()[row] = 1;
  ends.data<int64_t>()[row] = group_end_[group];
}

absl::Status SessionWindowOperator::EmitGroups(const std::vector<uint32_t>& groups) {
  if (retracting_) return EmitChanges(groups);
  return output_.Emit(
      groups, definition_.keys.size(), accumulators_, [](const uint32_t*, size_t) {},
      [this](uint32_t group, size_t row, Batch& batch) { WriteKeys(group, row, batch); },
      [this](const Batch& batch) { return Emit(batch); });
}

absl::Status SessionWindowOperator::EmitChanges(const std::vector<uint32_t>& groups) {
  changes_.clear();
  for (uint32_t image : retired_) changes_.push_back({RowKind::kDelete, 0, image});
  captured_ -= retired_.size();
  retired_.clear();
  for (uint32_t group : groups) {
    const uint32_t before = before_[group];
    if (!emitted_[group] || before == AggregateOutput::kNoBefore) {
      // Never emitted, or emitted and unchanged since (a FINAL firing of a corrected session).
      changes_.push_back(
          {emitted_[group] ? RowKind::kUpdateAfter : RowKind::kInsert, group, AggregateOutput::kNoBefore});
    } else if (emitted_start_[group] != group_start_[group]) {
      // Its start moved: the row last emitted named another session.
      changes_.insert(changes_.begin(), {RowKind::kDelete, group, before});
      changes_.push_back({RowKind::kInsert, group, AggregateOutput::kNoBefore});
    } else {
      if (definition_.emit_update_before) changes_.push_back({RowKind::kUpdateBefore, group, before});
      changes_.push_back({RowKind::kUpdateAfter, group, AggregateOutput::kNoBefore});
    }
    emitted_[group] = 1;
    emitted_start_[group] = group_start_[group];
    if (before != AggregateOutput::kNoBefore) {
      before_[group] = AggregateOutput::kNoBefore;
      --captured_;
    }
  }
  absl::Status status = output_.EmitChanges(
      changes_, definition_.keys.size(), accumulators_, [](const uint32_t*, size_t) {},
      [this](uint32_t group, size_t row, Batch& batch) { WriteKeys(group, row, batch); },
      [this](const Batch& batch) { return Emit(batch); });
  if (captured_ == 0) output_.ClearBefore();
  return status;
}

absl::Status SessionWindowOperator::Snapshot(StateWriter& writer) const {
  writer.WriteU32(1);  // format version
  keys_.Snapshot(writer);
  writer.WriteU32(group_limit_);
  for (const auto& accumulator : accumulators_) accumulator->Snapshot(writer, group_limit_);
  writer.WriteRaw(group_key_.data(), group_limit_ * sizeof(uint32_t));
  writer.WriteRaw(group_start_.data(), group_limit_ * sizeof(int64_t));
  writer.WriteRaw(group_end_.data(), group_limit_ * sizeof(int64_t));
  writer.WriteRaw(group_live_.data(), group_limit_);
  writer.WriteRaw(fired_.data(), group_limit_);
  writer.WriteU64(dirty_list_.size());
  writer.WriteRaw(dirty_list_.data(), dirty_list_.size() * sizeof(uint32_t));
  SnapshotEventTime(writer);
  if (retracting_) {
    writer.WriteRaw(emitted_.data(), group_limit_);
    writer.WriteRaw(emitted_start_.data(), group_limit_ * sizeof(int64_t));
    // Rows last emitted of sessions changed since (a correction waiting for the next watermark).
    output_.SnapshotBefore(writer);
    writer.WriteRaw(before_.data(), group_limit_ * sizeof(uint32_t));
    writer.WriteU64(retired_.size());
    writer.WriteRaw(retired_.data(), retired_.size() * sizeof(uint32_t));
  }
  return absl::OkStatus();
}

absl::Status SessionWindowOperator::Restore(StateReader& reader) {
  SLUICE_ASSIGN_OR_RETURN(uint32_t version, reader.ReadU32());
  if (version != 1) return absl::DataLossError("unknown session window snapshot version");
  SLUICE_RETURN_IF_ERROR(keys_.Restore(reader));
  SLUICE_ASSIGN_OR_RETURN(group_limit_, reader.ReadU32());
  // Each group takes at least its key, start, end, live and fired bytes (below).
  SLUICE_RETURN_IF_ERROR(reader.CheckCount(group_limit_, sizeof(uint32_t) + 2 * sizeof(int64_t) + 2));
  state_rows_.Resize(group_limit_);
  for (auto& accumulator : accumulators_) {
    accumulator->Resize(group_limit_);
    SLUICE_RETURN_IF_ERROR(accumulator->Restore(reader, group_limit_));
  }
  group_key_.resize(group_limit_);
  group_start_.resize(group_limit_);
  group_end_.resize(group_limit_);
  group_live_.resize(group_limit_);
  fired_.resize(group_limit_);
  dirty_.assign(group_limit_, 0);
  redirect_.resize(group_limit_);
  SLUICE_RETURN_IF_ERROR(reader.ReadRaw(group_key_.data(), group_limit_ * sizeof(uint32_t)));
  SLUICE_RETURN_IF_ERROR(reader.ReadRaw(group_start_.data(), group_limit_ * sizeof(int64_t)));
  SLUICE_RETURN_IF_ERROR(reader.ReadRaw(group_end_.data(), group_limit_ * sizeof(int64_t)));
  SLUICE_RETURN_IF_ERROR(reader.ReadRaw(group_live_.data(), group_limit_));
  SLUICE_RETURN_IF_ERROR(reader.ReadRaw(fired_.data(), group_limit_));
  SLUICE_ASSIGN_OR_RETURN(uint64_t dirty, reader.ReadCount(sizeof(uint32_t)));
  dirty_list_.resize(dirty);
  SLUICE_RETURN_IF_ERROR(reader.ReadRaw(dirty_list_.data(), dirty * sizeof(uint32_t)));
  for (uint32_t group = 0; group < group_limit_; ++group) {
    if (group_live_[group] > 1 || fired_[group] > 1)
      return absl::DataLossError("session snapshot: a flag is not 0 or 1");
  }
  // A changed group is one in use, listed once (its key is read to emit it).
  for (uint32_t group : dirty_list_) {
    if (group >= group_limit_) return absl::DataLossError("session snapshot: a group id out of range");
    if (!group_live_[group] || dirty_[group])
      return absl::DataLossError("session snapshot: a changed group is free or repeated");
    dirty_[group] = 1;
  }
  SLUICE_RETURN_IF_ERROR(RestoreEventTime(reader));
  if (retracting_) {
    emitted_.resize(group_limit_);
    emitted_start_.resize(group_limit_);
    before_.resize(group_limit_);
    SLUICE_RETURN_IF_ERROR(reader.ReadRaw(emitted_.data(), group_limit_));
    SLUICE_RETURN_IF_ERROR(reader.ReadRaw(emitted_start_.data(), group_limit_ * sizeof(int64_t)));
    SLUICE_RETURN_IF_ERROR(output_.RestoreBefore(reader));
    SLUICE_RETURN_IF_ERROR(reader.ReadRaw(before_.data(), group_limit_ * sizeof(uint32_t)));
    SLUICE_ASSIGN_OR_RETURN(uint64_t retired, reader.ReadCount(sizeof(uint32_t)));
    retired_.resize(retired);
    SLUICE_RETURN_IF_ERROR(reader.ReadRaw(retired_.data(), retired * sizeof(uint32_t)));
    // Each before image belongs to one changed session or one retired row.
    std::vector<uint8_t> used(output_.before_images(), 0);
    captured_ = 0;
    auto use = [&](uint32_t image) {
      if (image >= used.size() || used[image]) return false;
      used[image] = 1;
      ++captured_;
      return true;
    };
    for (uint32_t group = 0; group < group_limit_; ++group) {
      if (emitted_[group] > 1) return absl::DataLossError("session snapshot: a flag is not 0 or 1");
      if (before_[group] == AggregateOutput::kNoBefore) continue;
      if (!group_live_[group] || !emitted_[group] || !use(before_[group]))
        return absl::DataLossError("session snapshot: a before image is out of range, repeated or stray");
    }
    for (uint32_t image : retired_) {
      if (!use(image))
        return absl::DataLossError("session snapshot: a before image is out of range or repeated");
    }
  }
  // Rebuild the per-key session lists, the end index and the free list from the groups.
  sessions_.assign(keys_.id_limit(), {});
  by_end_.clear();
  free_groups_.clear();
  for (uint32_t group = 0; group < group_limit_; ++group) {
    redirect_[group] = group;
    if (!group_live_[group]) {
      free_groups_.push_back(group);
      continue;
    }
    // A session in use belongs to a key the table holds and spans at least the gap (its
    // window is [first event, last event + gap)).
    if (group_key_[group] >= sessions_.size() || !keys_.IsLive(group_key_[group]))
      return absl::DataLossError("session snapshot is corrupt");
    if (group_end_[group] < SaturatingAdd(group_start_[group], gap_))
      return absl::DataLossError("session snapshot: a session shorter than the gap");
    sessions_[group_key_[group]].push_back(Session{group_start_[group], group_end_[group], group});
    by_end_.emplace(group_end_[group], group);
  }
  for (auto& sessions : sessions_) {
    std::sort(sessions.begin(), sessions.end(),
              [](const Session& a, const Session& b) { return a.start < b.start; });
    // A key's sessions neither overlap nor touch: those would have merged.
    for (size_t s = 1; s < sessions.size(); ++s) {
      if (sessions[s - 1].end >= sessions[s].start)
        return absl::DataLossError("session snapshot: a key's sessions overlap");
    }
  }
  return absl::OkStatus();
}

std::string SessionWindowOperator::Describe() const {
  std::vector<std::string> keys, calls;
  for (const auto& key : definition_.keys) keys.push_back(key->ToString());
  for (const auto& call : definition_.aggregates) calls.push_back(call.text);
  return StrCat("SessionAggregate keys [", StrJoin(keys, ", "), "] aggregates [", StrJoin(calls, ", "),
                "] gap ", gap_, " ms",
                definition_.emit == EmitMode::kFinal ? " EMIT FINAL" : " EMIT CHANGES");
}

}  // namespace sluice
