#include "ops/rocksdb_aggregate_operator.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "common/strings.h"

namespace sluice {

namespace {

std::vector<TypeId> KeyTypes(const AggregateDefinition& definition) {
  std::vector<TypeId> types;
  for (const auto& key : definition.keys) types.push_back(key->type);
  return types;
}

// The snapshot format's version: distinct from the in-memory operator's, so that a checkpoint
// of one backend restored into the other is refused by name.
constexpr uint32_t kSnapshotVersion = 0x524B0001;  // "RK" 1

// Rows per chunk of EMIT FINAL's pass over the store.
constexpr size_t kEmitChunk = 1024;

void AppendBigEndian(uint64_t value, std::string& out) {
  value = __builtin_bswap64(value);
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

uint64_t ReadBigEndian(const char* bytes) {
  uint64_t value;
  std::memcpy(&value, bytes, sizeof value);
  return __builtin_bswap64(value);
}

}  // namespace

absl::Status RocksDbAggregateOperator::OpenStore() {
  if (store_ != nullptr) return absl::OkStatus();
  SLUICE_CHECK(definition_.rocksdb.has_value());
  RocksDbStore::Options options;
  options.parent_dir = definition_.rocksdb->dir;
  options.memory_bytes = definition_.rocksdb->memory_bytes;
  SLUICE_ASSIGN_OR_RETURN(store_, RocksDbStore::Open(options));
  return absl::OkStatus();
}

RocksDbAggregateOperator::RocksDbAggregateOperator(const AggregateDefinition& definition,
                                                   const Schema& output_schema)
    : StatefulOperator(definition.input_out_of_orderness_millis,
                       definition.late_data == LateDataStrategy::kDeadLetter),
      definition_(definition),
      output_schema_(output_schema),
      batch_keys_(KeyTypes(definition), KeyTable::Erasure::kAllowed),
      output_(output_schema) {
  for (const auto& key : definition.keys)
    key_executors_.push_back(std::make_unique<ExpressionExecutor>(*key));
  for (const auto& call : definition.aggregates) {
    argument_executors_.push_back(call.argument ? std::make_unique<ExpressionExecutor>(*call.argument)
                                                : nullptr);
    accumulators_.push_back(MakeAccumulator(call.kind, call.argument ? call.argument->type : TypeId::kNull,
                                            call.result_type, state_rows_));
    SLUICE_CHECK(accumulators_.back()->state_in_rows());
  }
  key_columns_.resize(definition.keys.size());
  key_pointers_.resize(definition.keys.size());
  argument_columns_.resize(definition.aggregates.size());
}

void RocksDbAggregateOperator::EnsureCapacity(size_t groups) {
  if (groups <= capacity_) return;
  const size_t capacity = std::max(groups, capacity_ * 2);
  state_rows_.Resize(capacity);
  for (auto& accumulator : accumulators_) accumulator->Resize(capacity);
  capacity_ = capacity;
}

void RocksDbAggregateOperator::EncodeKey(size_t row, std::string& out) const {
  for (const Column* column : key_pointers_) {
    const bool valid = column->IsValid(row);
    out.push_back(valid ? 1 : 0);
    if (!valid) continue;
    switch (WordType(column->type())) {
      case TypeId::kInt64:
      case TypeId::kTimestamp:
        AppendBigEndian(static_cast<uint64_t>(column->data<int64_t>()[row]) ^ (uint64_t{1} << 63), out);
        break;
      case TypeId::kDouble: {
        double value = column->data<double>()[row];
        if (value == 0.0) value = 0.0;  // -0.0 groups with 0.0, as in GROUP BY
        AppendBigEndian(std::bit_cast<uint64_t>(value), out);
        break;
      }
      case TypeId::kBoolean: out.push_back(static_cast<char>(column->data<uint8_t>()[row] != 0)); break;
      case TypeId::kString: {
        const std::string_view text = column->data<std::string_view>()[row];
        const uint32_t length = static_cast<uint32_t>(text.size());
        out.append(reinterpret_cast<const char*>(&length), sizeof length);
        out.append(text.data(), text.size());
        break;
      }
      case TypeId::kNull: break;
    }
  }
}

absl::Status RocksDbAggregateOperator::DecodeKey(std::string_view key, size_t row, Batch& batch) const {
  const auto corrupt = [] { return absl::DataLossError("RocksDB state: a key that does not decode"); };
  size_t at = 0;
  for (size_t k = 0; k < definition_.keys.size(); ++k) {
    Column& column = batch.mutable_column(k);
    if (at >= key.size() || static_cast<uint8_t>(key[at]) > 1) return corrupt();
    const bool valid = key[at++] == 1;
    if (!valid) {
      column.SetNull(row);
      continue;
    }
    column.validity()[row] = 1;
    switch (WordType(definition_.keys[k]->type)) {
      case TypeId::kInt64:
      case TypeId::kTimestamp:
        if (key.size() - at < 8) return corrupt();
        column.data<int64_t>()[row] =
            static_cast<int64_t>(ReadBigEndian(key.data() + at) ^ (uint64_t{1} << 63));
        at += 8;
        break;
      case TypeId::kDouble:
        if (key.size() - at < 8) return corrupt();
        column.data<double>()[row] = std::bit_cast<double>(ReadBigEndian(key.data() + at));
        at += 8;
        break;
      case TypeId::kBoolean:
        if (key.size() - at < 1) return corrupt();
        column.data<uint8_t>()[row] = static_cast<uint8_t>(key[at++] != 0);
        break;
      case TypeId::kString: {
        uint32_t length;
        if (key.size() - at < sizeof length) return corrupt();
        std::memcpy(&length, key.data() + at, sizeof length);
        at += sizeof length;
        if (key.size() - at < length) return corrupt();
        column.data<std::string_view>()[row] = column.heap().Add(key.substr(at, length));
        at += length;
        break;
      }
      case TypeId::kNull: column.SetNull(row); break;
    }
  }
  if (at != key.size()) return corrupt();
  return absl::OkStatus();
}

absl::Status RocksDbAggregateOperator::Push(const Batch& batch) {
  const size_t active = batch.active_rows();
  if (active == 0) return absl::OkStatus();
  SLUICE_RETURN_IF_ERROR(OpenStore());
  const size_t rows = batch.num_rows();
  for (size_t k = 0; k < key_executors_.size(); ++k) {
    key_columns_[k] = key_executors_[k]->Evaluate(batch);
    key_pointers_[k] = key_columns_[k].get();
  }
  for (size_t a = 0; a < argument_executors_.size(); ++a) {
    argument_columns_[a] = argument_executors_[a] ? argument_executors_[a]->Evaluate(batch) : nullptr;
  }
  if (group_ids_.size() < rows) group_ids_.resize(rows);

  // The batch's groups, in the order of their first rows. The table holds no other keys: a
  // batch that failed half-way leaves its groups in created_.
  if (!created_.empty()) batch_keys_.Erase(created_);
  created_.clear();
  batch_keys_.FindOrInsert(key_pointers_.data(), batch.selection(), active, group_ids_.data(), &created_);
  const size_t groups = created_.size();
  EnsureCapacity(batch_keys_.id_limit());
  if (first_row_.size() < batch_keys_.id_limit()) first_row_.resize(batch_keys_.id_limit());
  for (uint32_t group : created_) first_row_[group] = UINT32_MAX;
  ForEachActiveRow(batch.selection(), active, [&](size_t row) {
    uint32_t& first = first_row_[group_ids_[row]];
    if (first == UINT32_MAX) first = static_cast<uint32_t>(row);
  });

  // Their state: one lookup for the batch.
  encoded_.clear();
  key_ends_.resize(groups);
  for (size_t i = 0; i < groups; ++i) {
    EncodeKey(first_row_[created_[i]], encoded_);
    key_ends_[i] = encoded_.size();
  }
  key_slices_.resize(groups);
  for (size_t i = 0; i < groups; ++i) {
    const size_t begin = i == 0 ? 0 : key_ends_[i - 1];
    key_slices_[i] = rocksdb::Slice(encoded_.data() + begin, key_ends_[i] - begin);
  }
  // In key order: the store's memtable finds and inserts a run of ascending keys from where the
  // previous one ended, instead of from its top (a third of the time, measured, in random order).
  order_.resize(groups);
  for (size_t i = 0; i < groups; ++i) order_[i] = static_cast<uint32_t>(i);
  std::sort(order_.begin(), order_.end(),
            [this](uint32_t a, uint32_t b) { return key_slices_[a].compare(key_slices_[b]) < 0; });
  sorted_slices_.resize(groups);
  for (size_t i = 0; i < groups; ++i) sorted_slices_[i] = key_slices_[order_[i]];
  SLUICE_RETURN_IF_ERROR(store_->MultiGet(sorted_slices_, values_, found_, /*sorted=*/true));
  const size_t stride = state_rows_.stride();
  known_.assign(groups, 0);
  for (size_t i = 0; i < groups; ++i) {
    const uint32_t group = created_[order_[i]];
    if (found_[i]) {
      if (values_[i].size() != stride) return absl::DataLossError("RocksDB state: a value of the wrong size");
      std::memcpy(state_rows_.Row(group), values_[i].data(), stride);
      known_[order_[i]] = 1;
    } else {
      for (auto& accumulator : accumulators_) accumulator->Reset(group);
    }
  }
  new_groups_.clear();
  known_groups_.clear();
  for (size_t i = 0; i < groups; ++i) (known_[i] ? known_groups_ : new_groups_).push_back(created_[i]);
  keys_ += new_groups_.size();
  if (key_observer_ != nullptr && !new_groups_.empty()) {
    absl::Status observed = key_observer_->OnNewKeys(batch_keys_, definition_.keys.size(), new_groups_);
    if (!observed.ok()) return observed;
  }

  const size_t key_count = definition_.keys.size();
  const size_t window_column = key_count + accumulators_.size();
  const auto write_keys = [&](uint32_t group, size_t row, Batch& out) {
    for (size_t k = 0; k < key_count; ++k) batch_keys_.ReadKey(group, k, out.mutable_column(k), row);
    out.mutable_column(window_column).SetNull(row);
    out.mutable_column(window_column + 1).SetNull(row);
  };
  // A changelog: the rows the known keys showed (every key in the store was emitted when its
  // batch ended) are their update-before rows.
  const bool changelog = definition_.emit_update_before && definition_.emit == EmitMode::kChanges;
  uint32_t first_before = 0;
  if (changelog && !known_groups_.empty())
    first_before = output_.Capture(known_groups_, key_count, accumulators_, write_keys);

  for (size_t a = 0; a < accumulators_.size(); ++a) {
    accumulators_[a]->Update(argument_columns_[a].get(), batch.selection(), active, group_ids_.data());
  }
  write_batch_.Clear();
  for (size_t i = 0; i < groups; ++i) {
    write_batch_.Put(
        sorted_slices_[i],
        rocksdb::Slice(reinterpret_cast<const char*>(state_rows_.Row(created_[order_[i]])), stride));
  }
  SLUICE_RETURN_IF_ERROR(store_->Write(write_batch_));

  absl::Status status = absl::OkStatus();
  const auto emit = [this](const Batch& out) { return Emit(out); };
  if (changelog) {
    changes_.clear();
    uint32_t before = first_before;
    for (size_t i = 0; i < groups; ++i) {
      const uint32_t group = created_[i];
      if (known_[i]) {
        changes_.push_back({RowKind::kUpdateBefore, group, before++});
        changes_.push_back({RowKind::kUpdateAfter, group, AggregateOutput::kNoBefore});
      } else {
        changes_.push_back({RowKind::kInsert, group, AggregateOutput::kNoBefore});
      }
    }
    status = output_.EmitChanges(
        changes_, key_count, accumulators_, [](const uint32_t*, size_t) {}, write_keys, emit);
    output_.ClearBefore();
  } else if (definition_.emit == EmitMode::kChanges) {
    status = output_.Emit(
        created_, key_count, accumulators_, [](const uint32_t*, size_t) {}, write_keys, emit);
  }
  batch_keys_.Erase(created_);
  created_.clear();
  for (auto& column : key_columns_) column.reset();
  for (auto& column : argument_columns_) column.reset();
  SLUICE_RETURN_IF_ERROR(status);
  return ChargeState();
}

absl::Status RocksDbAggregateOperator::AdvanceEventTime(int64_t watermark) {
  if (definition_.emit == EmitMode::kFinal && watermark == kMaxWatermark) {
    SLUICE_RETURN_IF_ERROR(OpenStore());
    return EmitAll();
  }
  return absl::OkStatus();
}

absl::Status RocksDbAggregateOperator::EmitAll() {
  EnsureCapacity(kEmitChunk);
  const size_t stride = state_rows_.stride();
  const size_t key_count = definition_.keys.size();
  const size_t window_column = key_count + accumulators_.size();
  std::vector<uint32_t> chunk;
  chunk_keys_.resize(kEmitChunk);
  absl::Status decode_status = absl::OkStatus();
  auto emit_chunk = [&]() -> absl::Status {
    if (chunk.empty()) return absl::OkStatus();
    SLUICE_RETURN_IF_ERROR(output_.Emit(
        chunk, key_count, accumulators_, [](const uint32_t*, size_t) {},
        [&](uint32_t group, size_t row, Batch& out) {
          absl::Status status = DecodeKey(chunk_keys_[group], row, out);
          if (!status.ok() && decode_status.ok()) decode_status = status;
          out.mutable_column(window_column).SetNull(row);
          out.mutable_column(window_column + 1).SetNull(row);
        },
        [&](const Batch& out) { return decode_status.ok() ? Emit(out) : decode_status; }));
    chunk.clear();
    return absl::OkStatus();
  };
  std::unique_ptr<rocksdb::Iterator> it = store_->NewIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const uint32_t group = static_cast<uint32_t>(chunk.size());
    if (it->value().size() != stride) return absl::DataLossError("RocksDB state: a value of the wrong size");
    std::memcpy(state_rows_.Row(group), it->value().data(), stride);
    chunk_keys_[group].assign(it->key().data(), it->key().size());
    chunk.push_back(group);
    if (chunk.size() == kEmitChunk) SLUICE_RETURN_IF_ERROR(emit_chunk());
  }
  if (!it->status().ok()) return absl::InternalError(StrCat("RocksDB state: ", it->status().ToString()));
  return emit_chunk();
}

absl::Status RocksDbAggregateOperator::Snapshot(StateWriter& writer) const {
  writer.WriteU32(kSnapshotVersion);
  writer.WriteU64(state_rows_.stride());
  SnapshotEventTime(writer);
  writer.WriteU64(keys_);
  if (store_ == nullptr) return absl::OkStatus();  // nothing pushed yet: no keys
  std::unique_ptr<rocksdb::Iterator> it = store_->NewIterator();
  uint64_t written = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    writer.WriteBytes(std::string_view(it->key().data(), it->key().size()));
    writer.WriteBytes(std::string_view(it->value().data(), it->value().size()));
    ++written;
  }
  if (!it->status().ok()) return absl::InternalError(StrCat("RocksDB state: ", it->status().ToString()));
  if (written != keys_) {
    return absl::InternalError(StrCat("RocksDB state: ", written, " keys in the store, ", keys_, " counted"));
  }
  return absl::OkStatus();
}

absl::Status RocksDbAggregateOperator::Restore(StateReader& reader) {
  SLUICE_ASSIGN_OR_RETURN(uint32_t version, reader.ReadU32());
  if (version != kSnapshotVersion) {
    return absl::DataLossError(
        "the snapshot of this GROUP BY was not taken with 'state.backend' = 'rocksdb' (state backends "
        "cannot be switched across a restore yet)");
  }
  SLUICE_ASSIGN_OR_RETURN(uint64_t stride, reader.ReadU64());
  if (stride != state_rows_.stride())
    return absl::DataLossError("RocksDB state: the snapshot's aggregates differ from the query's");
  SLUICE_RETURN_IF_ERROR(RestoreEventTime(reader));
  // Each pair takes at least its two 8-byte lengths.
  SLUICE_ASSIGN_OR_RETURN(uint64_t keys, reader.ReadCount(16));
  SLUICE_RETURN_IF_ERROR(OpenStore());
  SLUICE_RETURN_IF_ERROR(store_->Clear());
  write_batch_.Clear();
  for (uint64_t i = 0; i < keys; ++i) {
    SLUICE_ASSIGN_OR_RETURN(std::string_view key, reader.ReadBytes());
    SLUICE_ASSIGN_OR_RETURN(std::string_view value, reader.ReadBytes());
    if (value.size() != stride) return absl::DataLossError("RocksDB state: a value of the wrong size");
    write_batch_.Put(rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size()));
    if (write_batch_.Count() >= 4096) {
      SLUICE_RETURN_IF_ERROR(store_->Write(write_batch_));
      write_batch_.Clear();
    }
  }
  SLUICE_RETURN_IF_ERROR(store_->Write(write_batch_));
  write_batch_.Clear();
  keys_ = keys;
  return absl::OkStatus();
}

std::string RocksDbAggregateOperator::Describe() const {
  std::vector<std::string> keys, calls;
  for (const auto& key : definition_.keys) keys.push_back(key->ToString());
  for (const auto& call : definition_.aggregates) calls.push_back(call.text);
  return StrCat("HashAggregate keys [", StrJoin(keys, ", "), "] aggregates [", StrJoin(calls, ", "),
                "] state RocksDB", definition_.emit == EmitMode::kFinal ? " EMIT FINAL" : " EMIT CHANGES");
}

}  // namespace sluice
