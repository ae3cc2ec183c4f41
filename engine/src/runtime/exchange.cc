#include "runtime/exchange.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "common/hash.h"
#include "common/strings.h"
#include "state/key_groups.h"
#include "state/key_table.h"

namespace sluice {

namespace {

// Free batches a channel keeps: more than can ever be in flight (the ring, one queued behind
// it, one open, one at the receiver), so that returning one never finds the ring full.
constexpr size_t kFreeBatchSlack = 8;

}  // namespace

Channel::Channel(std::vector<TypeId> types, size_t batch_rows, size_t capacity)
    : types_(std::move(types)),
      batch_rows_(batch_rows),
      messages_(capacity),
      free_(2 * messages_.capacity() + kFreeBatchSlack) {}

std::unique_ptr<Batch> Channel::AcquireBatch() {
  std::unique_ptr<Batch> batch;
  if (free_.TryPop(batch)) {
    for (size_t c = 0; c < batch->num_columns(); ++c) {
      Column& column = batch->mutable_column(c);
      column.Clear();
      column.Resize(batch_rows_);
    }
    batch->SetNumRows(0);
    batch->ClearSelection();
    batch->SetRowKinds(nullptr);
    return batch;
  }
  ++batches_allocated_;
  batch = std::make_unique<Batch>();
  std::vector<std::shared_ptr<Column>> columns;
  columns.reserve(types_.size());
  for (TypeId type : types_) columns.push_back(std::make_shared<Column>(type, batch_rows_));
  batch->SetColumns(std::move(columns), 0);
  return batch;
}

std::unique_ptr<Batch> Channel::AcquireShell() {
  std::unique_ptr<Batch> batch;
  if (free_.TryPop(batch)) {
    batch->Release();  // here, on the sender's thread: the columns' pools may reuse them now
    return batch;
  }
  // The sender reads its sources only when nothing waits to be sent, so shells in existence
  // stay below the ring plus one batch per channel; the free ring has room for all of them,
  // so a receiver never has to drop a shell (and its references) itself.
  SLUICE_CHECK(shells_ < free_.capacity());
  ++shells_;
  return std::make_unique<Batch>();
}

void Channel::ReleaseBatch(std::unique_ptr<Batch> batch) {
  // The pool holds more slots than batches can exist unless the sender allocated past it;
  // then the extra batch is simply freed.
  free_.TryPush(batch);
}

ChannelSender::ChannelSender(std::vector<Channel*> channels,
                             const std::vector<const BoundExpression*>& key_expressions,
                             std::vector<size_t> key_columns, std::string description)
    : key_column_indexes_(std::move(key_columns)), description_(std::move(description)) {
  SLUICE_CHECK(!channels.empty());
  types_ = channels[0]->types();
  for (TypeId type : types_) widths_.push_back(PhysicalSize(type));
  valid_.resize(channels.size());
  data_.resize(channels.size());
  for (Channel* channel : channels) {
    Output output;
    output.channel = channel;
    outputs_.push_back(std::move(output));
  }
  if (outputs_.size() > 1) {
    for (const BoundExpression* key : key_expressions) {
      key_executors_.push_back(std::make_unique<ExpressionExecutor>(*key));
    }
    key_columns_.resize(key_executors_.size());
  }
}

void ChannelSender::EnsureOpen(Output& output) {
  if (output.open == nullptr) {
    output.open = output.channel->AcquireBatch();
    output.rows = 0;
  }
}

void ChannelSender::Enqueue(Output& output, Message message) {
  if (output.queue_head == output.queue.size()) {
    output.queue.clear();
    output.queue_head = 0;
    if (output.channel->TryPush(message)) return;
  }
  output.queue.push_back(std::move(message));
  ++pending_count_;
}

void ChannelSender::Seal(Output& output) {
  if (output.open == nullptr || output.rows == 0) return;
  output.open->SetNumRows(output.rows);
  for (size_t c = 0; c < copied_.size(); ++c) {
    if (!copied_[c] && !IsPartialKeyColumn(c))
      std::memset(output.open->mutable_column(c).validity(), 0, output.rows);
  }
  Message message;
  message.kind = MessageKind::kBatch;
  message.batch = std::move(output.open);
  output.rows = 0;
  Enqueue(output, std::move(message));
}

void ChannelSender::SealAll() {
  for (Output& output : outputs_) Seal(output);
}

bool ChannelSender::Drain() {
  for (Output& output : outputs_) {
    while (output.queue_head < output.queue.size()) {
      if (!output.channel->TryPush(output.queue[output.queue_head])) break;
      ++output.queue_head;
      --pending_count_;
    }
    if (output.queue_head == output.queue.size()) {
      output.queue.clear();
      output.queue_head = 0;
    }
  }
  return pending_count_ == 0;
}

void ChannelSender::CarryKeys(std::vector<size_t> key_columns, std::vector<bool> partial) {
  SLUICE_CHECK(!key_columns.empty());
  SLUICE_CHECK_EQ(key_columns.size(), partial.size());
  SLUICE_CHECK(types_.size() >= key_columns.size() + 2);
  carried_key_columns_ = std::move(key_columns);
  carried_partial_ = std::move(partial);
  carried_words_.resize(carried_key_columns_.size());
  carried_word_pointers_.resize(carried_key_columns_.size());
  carried_key_inputs_.resize(carried_key_columns_.size());
}

bool ChannelSender::IsPartialKeyColumn(size_t column) const {
  for (size_t k = 0; k < carried_key_columns_.size(); ++k) {
    if (carried_key_columns_[k] == column && carried_partial_[k]) return true;
  }
  return false;
}

const uint64_t* ChannelSender::PartialKeyWords(size_t column) const {
  for (size_t k = 0; k < carried_key_columns_.size(); ++k) {
    if (carried_key_columns_[k] == column && carried_partial_[k]) return carried_words_[k].data();
  }
  return nullptr;
}

void ChannelSender::ComputeDestinations(const Batch& batch) {
  const size_t count = batch.active_rows();
  destination_.resize(count);
  if (!carried_key_columns_.empty()) {
    // The key table's own words and hash, computed here while the rows are in this core's
    // cache; the hash routes the row too.
    for (size_t k = 0; k < carried_key_columns_.size(); ++k) {
      carried_words_[k].resize(count);
      carried_word_pointers_[k] = carried_words_[k].data();
      carried_key_inputs_[k] = &batch.column(carried_key_columns_[k]);
    }
    carried_nulls_.resize(count);
    hashes_.resize(count);
    KeyTable::EncodeCarriedKeys(carried_key_inputs_.data(), carried_key_inputs_.size(), batch.selection(),
                                count, carried_word_pointers_.data(), carried_nulls_.data(), hashes_.data());
    const uint32_t n = static_cast<uint32_t>(outputs_.size());
    for (size_t i = 0; i < count; ++i) destination_[i] = WorkerOfKeyGroup(KeyGroupOf(hashes_[i]), n);
    return;
  }
  if (outputs_.size() == 1 || (key_executors_.empty() && key_column_indexes_.empty())) {
    std::fill(destination_.begin(), destination_.end(), 0);
    return;
  }
  // The routing hash of RoutingHashes (uncarried), folded column by column as they are
  // evaluated.
  hashes_.assign(count, 0);
  for (size_t k = 0; k < key_executors_.size(); ++k) {
    key_columns_[k] = key_executors_[k]->Evaluate(batch);
    FoldKeyColumn(*key_columns_[k], batch.selection(), count, hashes_.data());
  }
  for (size_t column : key_column_indexes_) {
    FoldKeyColumn(batch.column(column), batch.selection(), count, hashes_.data());
  }
  const uint32_t n = static_cast<uint32_t>(outputs_.size());
  for (size_t i = 0; i < count; ++i) destination_[i] = WorkerOfKeyGroup(KeyGroupOf(HashMix64(hashes_[i])), n);
  for (auto& column : key_columns_) column.reset();
}

void ChannelSender::CarryWatermarks(const BoundExpression& time, int64_t out_of_orderness_millis) {
  SLUICE_CHECK(!types_.empty() && types_.back() == TypeId::kInt64);
  carried_time_ = std::make_unique<ExpressionExecutor>(time);
  carried_watermark_ = PerRecordWatermark(out_of_orderness_millis);
}

absl::Status ChannelSender::Snapshot(StateWriter& writer) const {
  writer.WriteU32(1);  // format version
  writer.WriteI64(carried_watermark_.value());
  return absl::OkStatus();
}

absl::Status ChannelSender::Restore(StateReader& reader) {
  SLUICE_ASSIGN_OR_RETURN(uint32_t version, reader.ReadU32());
  if (version != 1) return absl::DataLossError(StrCat("exchange snapshot version ", version, " is unknown"));
  SLUICE_ASSIGN_OR_RETURN(int64_t carried, reader.ReadI64());
  carried_watermark_.Reset(carried);
  return absl::OkStatus();
}

void ChannelSender::MakeCarriedColumns(const Batch& batch) {
  carried_columns_.clear();
  const size_t count = batch.active_rows();
  const size_t rows = batch.num_rows();
  const uint32_t* selection = batch.selection();
  auto add = [&](const uint64_t* values) {
    if (carried_pools_.size() == carried_columns_.size()) carried_pools_.emplace_back(TypeId::kInt64);
    std::shared_ptr<Column> column = carried_pools_[carried_columns_.size()].Acquire(rows);
    std::memset(column->validity(), 1, rows);
    uint64_t* to = column->data<uint64_t>();
    if (selection == nullptr) {
      std::memcpy(to, values, count * sizeof(uint64_t));
    } else {
      for (size_t i = 0; i < count; ++i) to[selection[i]] = values[i];
    }
    carried_columns_.push_back(std::move(column));
  };
  if (carried_time_) add(reinterpret_cast<const uint64_t*>(carried_values_.data()));
  if (!carried_key_columns_.empty()) {
    for (const auto& words : carried_words_) add(words.data());
    add(carried_nulls_.data());
    add(hashes_.data());
  }
}

void ChannelSender::ShareRows(const Batch& batch) {
  const size_t count = batch.active_rows();
  const size_t n = outputs_.size();
  if (n == 1) {  // every row to the one channel: the batch as it is, selection and all
    std::unique_ptr<Batch> shell = outputs_[0].channel->AcquireShell();
    shell->ShareColumns(batch);
    for (const auto& column : carried_columns_) shell->AddColumn(column);
    if (batch.has_selection()) {
      std::memcpy(shell->MutableSelection(), batch.selection(), count * sizeof(uint32_t));
      shell->SetSelectionCount(count);
    }
    Message message;
    message.kind = MessageKind::kBatch;
    message.batch = std::move(shell);
    Enqueue(outputs_[0], std::move(message));
    return;
  }
  counts_.assign(n, 0);
  for (size_t i = 0; i < count; ++i) ++counts_[destination_[i]];
  shells_.resize(n);
  selections_.assign(n, nullptr);
  for (size_t d = 0; d < n; ++d) {
    if (counts_[d] == 0) continue;
    shells_[d] = outputs_[d].channel->AcquireShell();
    shells_[d]->ShareColumns(batch);
    for (const auto& column : carried_columns_) shells_[d]->AddColumn(column);
    selections_[d] = shells_[d]->MutableSelection();
  }
  std::fill(counts_.begin(), counts_.end(), 0);
  for (size_t i = 0; i < count; ++i) {
    const uint32_t d = destination_[i];
    selections_[d][counts_[d]++] = batch.ActiveRow(i);
  }
  for (size_t d = 0; d < n; ++d) {
    if (shells_[d] == nullptr) continue;
    shells_[d]->SetSelectionCount(counts_[d]);
    Message message;
    message.kind = MessageKind::kBatch;
    message.batch = std::move(shells_[d]);
    Enqueue(outputs_[d], std::move(message));
  }
}

absl::Status ChannelSender::Push(const Batch& batch) {
  const size_t count = batch.active_rows();
  if (count == 0) return absl::OkStatus();
  SLUICE_CHECK_EQ(batch.num_columns() + (carried_time_ ? 1 : 0) +
                      (carried_key_columns_.empty() ? 0 : carried_key_columns_.size() + 2),
                  types_.size());
  if (carried_time_) ComputeCarriedWatermarks(batch);
  if (share_) {
    if (outputs_.size() > 1 || !carried_key_columns_.empty()) ComputeDestinations(batch);
    if (carried_time_ || !carried_key_columns_.empty()) MakeCarriedColumns(batch);
    rows_since_watermark_ += count;
    ShareRows(batch);
    return absl::OkStatus();
  }
  ComputeDestinations(batch);
  rows_since_watermark_ += count;
  const size_t slice = outputs_[0].channel->batch_rows();
  const RowKind* kinds = batch.row_kinds();
  for (size_t begin = 0; begin < count;) {
    size_t end = std::min(count, begin + slice);
    // An update-before row travels in the batch of its update-after row, which follows it, so
    // that a sink downstream sees the pair together.
    if (kinds != nullptr && end < count && end - begin > 1 &&
        kinds[batch.ActiveRow(end - 1)] == RowKind::kUpdateBefore) {
      --end;
    }
    CopyRows(batch, begin, end);
    begin = end;
  }
  return absl::OkStatus();
}

void ChannelSender::ComputeCarriedWatermarks(const Batch& batch) {
  const size_t count = batch.active_rows();
  const std::shared_ptr<Column> time = carried_time_->Evaluate(batch);
  const int64_t* times = time->data<int64_t>();
  const uint8_t* valid = time->validity();
  carried_values_.resize(count);
  PerRecordWatermark running = carried_watermark_;
  for (size_t i = 0; i < count; ++i) {
    const size_t row = batch.ActiveRow(i);
    carried_values_[i] = running.value();
    if (valid[row]) running.Observe(times[row]);
  }
  carried_watermark_ = running;
}

void ChannelSender::CopyRows(const Batch& batch, size_t begin, size_t end) {
  const size_t count = end - begin;
  // Each destination's open batch must take all of these rows for it; seal the ones that
  // might not (so a sealed batch holds between batch_rows - count and batch_rows rows).
  for (Output& output : outputs_) {
    if (output.open != nullptr && output.rows + count > output.channel->batch_rows()) Seal(output);
  }
  position_.resize(end);
  for (size_t i = begin; i < end; ++i) {
    Output& output = outputs_[destination_[i]];
    EnsureOpen(output);
    position_[i] = static_cast<uint32_t>(output.rows++);
  }
  const uint32_t* selection = batch.selection();
  if (const RowKind* kinds = batch.row_kinds()) {
    // Row kinds travel in a column of their own, made when an open batch first receives one
    // (updating streams only); rows copied without kinds are inserts.
    for (size_t i = begin; i < end; ++i) {
      Batch& open = *outputs_[destination_[i]].open;
      if (!open.has_row_kinds()) {
        const size_t capacity = outputs_[destination_[i]].channel->batch_rows();
        auto column = std::make_shared<Column>(TypeId::kBoolean, capacity);
        std::memset(column->data<uint8_t>(), static_cast<int>(RowKind::kInsert), capacity);
        open.SetRowKinds(std::move(column));
      }
      const size_t row = selection != nullptr ? selection[i] : i;
      open.shared_row_kinds()->data<uint8_t>()[position_[i]] = static_cast<uint8_t>(kinds[row]);
    }
  }
  for (size_t c = 0; c < types_.size(); ++c) {
    targets_.clear();
    for (Output& output : outputs_) {
      targets_.push_back(output.open != nullptr ? &output.open->mutable_column(c) : nullptr);
    }
    if (c >= batch.num_columns()) {  // the carried watermark, then the carried keys
      size_t extra = c - batch.num_columns();
      const uint64_t* values = nullptr;
      if (carried_time_ && extra == 0) {
        values = reinterpret_cast<const uint64_t*>(carried_values_.data());
      } else {
        if (carried_time_) --extra;
        const size_t keys = carried_key_columns_.size();
        values = extra < keys    ? carried_words_[extra].data()
                 : extra == keys ? carried_nulls_.data()
                                 : hashes_.data();
      }
      for (size_t i = begin; i < end; ++i) {
        Column& to = *targets_[destination_[i]];
        to.validity()[position_[i]] = 1;
        to.data<uint64_t>()[position_[i]] = values[i];
      }
      continue;
    }
    if (const uint64_t* words = PartialKeyWords(c)) {
      // A STRING key column the receiver needs only where its word is uncarried.
      const std::string_view* values = batch.column(c).data<std::string_view>();
      const uint8_t* from_valid = batch.column(c).validity();
      for (size_t i = begin; i < end; ++i) {
        Column& to = *targets_[destination_[i]];
        std::string_view& value = to.data<std::string_view>()[position_[i]];
        if (words[i] == KeyTable::kUncarriedWord) [[unlikely]] {
          const size_t row = selection != nullptr ? selection[i] : i;
          to.validity()[position_[i]] = from_valid[row];
          value = to.heap().Add(values[row]);
        } else {
          to.validity()[position_[i]] = 0;
          value = {};
        }
      }
      continue;
    }
    if (c < copied_.size() && !copied_[c]) continue;
    const Column& from = batch.column(c);
    const uint8_t* from_valid = from.validity();
    const char* from_data = from.data<char>();
    for (size_t d = 0; d < outputs_.size(); ++d) {
      Column* to = targets_[d];
      valid_[d] = to != nullptr ? to->validity() : nullptr;
      data_[d] = to != nullptr ? to->data<char>() : nullptr;
    }
    uint8_t* const* valid = valid_.data();
    char* const* data = data_.data();
    const uint32_t* destination = destination_.data();
    const uint32_t* position = position_.data();
    switch (widths_[c] == 1 ? 1 : types_[c] == TypeId::kString ? 2 : widths_[c]) {
      case 2: {
        const std::string_view* values = from.data<std::string_view>();
        for (size_t i = begin; i < end; ++i) {
          const size_t row = selection != nullptr ? selection[i] : i;
          const uint32_t d = destination[i];
          valid[d][position[i]] = from_valid[row];
          reinterpret_cast<std::string_view*>(data[d])[position[i]] = targets_[d]->heap().Add(values[row]);
        }
        break;
      }
      case 8:
        for (size_t i = begin; i < end; ++i) {
          const size_t row = selection != nullptr ? selection[i] : i;
          const uint32_t d = destination[i];
          valid[d][position[i]] = from_valid[row];
          std::memcpy(data[d] + position[i] * 8, from_data + row * 8, 8);
        }
        break;
      case 16:  // a DECIMAL of more than 18 digits
        for (size_t i = begin; i < end; ++i) {
          const size_t row = selection != nullptr ? selection[i] : i;
          const uint32_t d = destination[i];
          valid[d][position[i]] = from_valid[row];
          std::memcpy(data[d] + position[i] * 16, from_data + row * 16, 16);
        }
        break;
      default:
        for (size_t i = begin; i < end; ++i) {
          const size_t row = selection != nullptr ? selection[i] : i;
          const uint32_t d = destination[i];
          valid[d][position[i]] = from_valid[row];
          data[d][position[i]] = from_data[row];
        }
        break;
    }
  }
}

absl::Status ChannelSender::OnWatermark(int64_t watermark) {
  held_watermark_ = watermark;
  if (rows_since_watermark_ >= outputs_[0].channel->batch_rows() * outputs_.size() / 2) FlushWatermark();
  return absl::OkStatus();
}

void ChannelSender::FlushWatermark() {
  if (!held_watermark_) return;
  SealAll();
  for (Output& output : outputs_) {
    Message message;
    message.kind = MessageKind::kWatermark;
    message.value = *held_watermark_;
    Enqueue(output, std::move(message));
  }
  held_watermark_.reset();
  rows_since_watermark_ = 0;
}

absl::Status ChannelSender::Finish() {
  if (finished_) return absl::OkStatus();
  FlushWatermark();
  finished_ = true;
  SealAll();
  for (Output& output : outputs_) {
    Message message;
    message.kind = MessageKind::kEnd;
    Enqueue(output, std::move(message));
  }
  return absl::OkStatus();
}

void ChannelSender::InjectBarrier(uint64_t checkpoint) {
  if (finished_) return;
  FlushWatermark();
  SealAll();
  for (Output& output : outputs_) {
    Message message;
    message.kind = MessageKind::kBarrier;
    message.value = static_cast<int64_t>(checkpoint);
    Enqueue(output, std::move(message));
  }
}

}  // namespace sluice
