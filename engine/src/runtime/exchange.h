// Exchange: how batches, watermarks, checkpoint barriers and end-of-input move between the
// tasks of the parallel runtime (runtime/parallel_runner.h).
//
// A Channel joins one sending task to one receiving task: a bounded SPSC ring of Messages, in
// order, plus a ring that returns emptied batches to the sender for reuse, so that the steady
// state allocates nothing (the row kinds of an updating stream excepted: see CopyRows). Batches
// in a channel own their values and row kinds (strings are copied into the batch's own heap):
// nothing in them points into the sender's memory. A channel counts the rows that enter and
// leave it, a batch at a time, for monitoring threads (rows_sent, rows_received, queued).
//
// A ChannelSender is the last operator of a task's chain. It copies each row it receives into
// the channel of the worker owning its key's key group (a keyed exchange; state/key_groups.h:
// the routing hash's top bits name the group), or into its only channel (a gather, or a
// forward to its own worker's keyed stage when the source is partitioned by the key), and
// turns OnWatermark / Finish / barriers into messages on every channel. It never blocks: what
// the rings cannot take waits in the sender (has_pending()), and the task stops reading its
// sources until Drain() has moved it all — that is the backpressure that reaches the sources.
//
// Carried keys (CarryKeys; copy mode, into a GROUP BY whose key table hashes key words): the
// sender encodes each row's grouping key as the key table does (KeyTable::EncodeCarriedKeys),
// routes the row by that hash, and copies the words, the NULL mask and the hash into the
// channel batch's last columns beside the columns the aggregate reads. The receiving aggregate
// (AggregateOperator::UseCarriedKeys) looks its groups up from those: it reads neither the key
// columns nor their strings, and hashes only what the sender could not (the window start). A
// STRING key column travels only for the rows whose string is too long to be a word.
//
// Shared mode (ShareInput): instead of copying rows, the sender hands each channel the input
// batch's columns themselves with a selection of the rows for it. The receiver returns the
// batch after use and the sender drops its references on its own thread (AcquireShell), so
// the producer's ColumnPool sees a column free only once no other thread touches it. Only for
// input whose producer never rewrites a column it handed out while referenced (sources and
// stateless operators, whose columns come from ColumnPools or are kept). A carried watermark
// and carried keys travel in shared mode too: the sender writes them into columns of its own
// (from its own ColumnPools), one value per physical row of the input batch, and every
// channel's batch shares them after the input's columns; no row is copied.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "batch/batch.h"
#include "expr/expression.h"
#include "expr/expression_executor.h"
#include "ops/operator.h"
#include "runtime/spsc_ring.h"
#include "time/event_time.h"

namespace sluice {

enum class MessageKind : uint8_t {
  kBatch,      // `batch` holds rows
  kWatermark,  // `value`: the sender's watermark
  kBarrier,    // `value`: checkpoint id; everything before it belongs to that checkpoint
  kEnd,        // the sender will send nothing more
};

struct Message {
  MessageKind kind = MessageKind::kBatch;
  int64_t value = 0;
  std::unique_ptr<Batch> batch;
};

class Channel {
 public:
  // `types`: the column types of its batches; `batch_rows`: the rows a batch holds at most;
  // `capacity`: messages in flight before the sender sees backpressure.
  Channel(std::vector<TypeId> types, size_t batch_rows, size_t capacity);

  // --- sender side ---
  // A cleared batch with room for batch_rows() rows (a returned one when available).
  std::unique_ptr<Batch> AcquireBatch();
  bool TryPush(Message& message) {
    const uint64_t rows = RowsOf(message);
    if (!messages_.TryPush(message)) return false;
    sender_.rows.store(sender_.rows.load(std::memory_order_relaxed) + rows, std::memory_order_relaxed);
    return true;
  }

  // Shared mode: a batch shell (no columns), reusing one the receiver returned.
  std::unique_ptr<Batch> AcquireShell();

  // --- receiver side ---
  bool TryPop(Message& message) {
    if (!messages_.TryPop(message)) return false;
    receiver_.rows.store(receiver_.rows.load(std::memory_order_relaxed) + RowsOf(message),
                         std::memory_order_relaxed);
    return true;
  }
  // Returns a batch the receiver has finished with to the sender.
  void ReleaseBatch(std::unique_ptr<Batch> batch);

  size_t batch_rows() const { return batch_rows_; }
  const std::vector<TypeId>& types() const { return types_; }
  // Batches the sender had to allocate (the pool grows until the pipeline is full).
  uint64_t batches_allocated() const { return batches_allocated_; }

  // --- any thread (monitoring: JobMetrics reads them while the tasks run) ---
  // Rows that went into the ring, and rows the receiver took out of it. Each side counts with a
  // relaxed load and store per batch (one writer each, no read-modify-write), on a cache line
  // of its own.
  uint64_t rows_sent() const { return sender_.rows.load(std::memory_order_relaxed); }
  uint64_t rows_received() const { return receiver_.rows.load(std::memory_order_relaxed); }
  // Messages in the ring now (approximately), out of capacity(): a full ring is a sender held
  // back by its receiver.
  size_t queued() const { return messages_.ApproximateSize(); }
  size_t capacity() const { return messages_.capacity(); }

 private:
  static uint64_t RowsOf(const Message& message) {
    return message.kind == MessageKind::kBatch && message.batch != nullptr ? message.batch->active_rows() : 0;
  }
  struct alignas(64) RowCount {
    std::atomic<uint64_t> rows{0};
  };

  RowCount sender_;
  RowCount receiver_;
  std::vector<TypeId> types_;
  size_t batch_rows_;
  SpscRing<Message> messages_;
  SpscRing<std::unique_ptr<Batch>> free_;
  uint64_t batches_allocated_ = 0;  // sender side only
  size_t shells_ = 0;               // shared mode: shells made (sender side)
};

class ChannelSender final : public Operator {
 public:
  // One channel: every row goes there (a gather). Several: rows are routed by the hash of
  // the key: `key_expressions` (over the input) or else `key_columns` (input column indexes);
  // without either, every row goes to channel 0.
  ChannelSender(std::vector<Channel*> channels, const std::vector<const BoundExpression*>& key_expressions,
                std::vector<size_t> key_columns, std::string description);

  absl::Status Push(const Batch& batch) override;
  // Holds the watermark back until about a channel batch per channel has been pushed since the
  // last one went out (a watermark seals every open batch, so sending each one at once would
  // cut batches short), or until FlushWatermark().
  absl::Status OnWatermark(int64_t watermark) override;
  // Seals every open batch, then queues the end on every channel.
  absl::Status Finish() override;
  bool IsDone() const override { return done_ != nullptr && done_->load(std::memory_order_relaxed); }
  std::string Describe() const override { return description_; }

  // Appends to every row a BIGINT column (the channels' last type) holding the per-record
  // watermark (time/event_time.h) of this sender's input just before the row, from `time` and
  // `out_of_orderness_millis`; INT64_MIN before any row (see
  // StatefulOperator::UseCarriedWatermarks).
  void CarryWatermarks(const BoundExpression& time, int64_t out_of_orderness_millis);
  // Copies only the input columns marked true; the others arrive NULL (the receiver does not
  // read them). Default: every column.
  void CopyOnly(std::vector<bool> columns) { copied_ = std::move(columns); }
  // Shared mode (see above). With CarryWatermarks or CarryKeys the carried columns are the
  // sender's own; CopyOnly has no effect (every column is shared, none copied).
  void ShareInput() { share_ = true; }
  // Carried keys (see above). `key_columns`: the input columns that are the grouping key, in
  // key order; the channels' types end with one BIGINT per key column (its word), the NULL
  // mask and the hash, after the carried watermark if any. `partial[k]`: key column k (STRING)
  // is read by the receiver only as the key, so it is copied only for rows whose word is
  // KeyTable::kUncarriedWord (NULL elsewhere), whatever CopyOnly says. Rows are routed by the
  // carried hash.
  void CarryKeys(std::vector<size_t> key_columns, std::vector<bool> partial);
  // The running maximum is state: checkpoints keep it.
  absl::Status Snapshot(StateWriter& writer) const override;
  absl::Status Restore(StateReader& reader) override;

  // Seals every open batch, then queues barrier `checkpoint` on every channel.
  void InjectBarrier(uint64_t checkpoint);
  // Seals every open batch, then queues the held-back watermark, if any, on every channel. The
  // task calls it when its sources have nothing more for now and every few milliseconds.
  void FlushWatermark();
  // Moves queued messages into the rings; true when nothing is left waiting.
  bool Drain();
  bool has_pending() const { return pending_count_ > 0; }
  // The sender reports done (IsDone) once `*done` is set, e.g. when a LIMIT downstream is met.
  void SetDoneFlag(const std::atomic<bool>* done) { done_ = done; }
  bool finished() const { return finished_; }

 private:
  struct Output {
    Channel* channel;
    std::unique_ptr<Batch> open;  // rows not yet sealed, or null
    size_t rows = 0;              // rows in `open`
    std::vector<Message> queue;   // sealed messages the ring did not take yet, oldest first
    size_t queue_head = 0;
  };
  void Seal(Output& output);
  void SealAll();
  void Enqueue(Output& output, Message message);
  void EnsureOpen(Output& output);
  void ComputeDestinations(const Batch& batch);
  // Copies active rows [begin, end) (at most one channel batch) to their destinations.
  void CopyRows(const Batch& batch, size_t begin, size_t end);
  // Carried keys: whether input `column` is a key column copied only for uncarried rows, and
  // then its words for the batch being pushed (else null).
  bool IsPartialKeyColumn(size_t column) const;
  const uint64_t* PartialKeyWords(size_t column) const;
  // Shared mode: one message per channel with rows, sharing `batch`'s columns (and the
  // carried columns, after them).
  void ShareRows(const Batch& batch);
  // Shared mode: fills carried_columns_ with the carried watermark and keys of `batch`'s active
  // rows, each at its physical row.
  void MakeCarriedColumns(const Batch& batch);
  // The carried watermark of each active row (carried_values_), as of this sender's input.
  void ComputeCarriedWatermarks(const Batch& batch);

  std::vector<Output> outputs_;
  std::unique_ptr<ExpressionExecutor> carried_time_;
  PerRecordWatermark carried_watermark_;
  std::vector<int64_t> carried_values_;  // per active row of the batch being pushed
  // Carried keys: the key's input columns, which of them travel only with uncarried words,
  // and per active row of the batch being pushed, each column's word (carried_words_[k]),
  // the NULL mask and the hash.
  std::vector<size_t> carried_key_columns_;
  std::vector<bool> carried_partial_;
  std::vector<std::vector<uint64_t>> carried_words_;
  std::vector<uint64_t*> carried_word_pointers_;
  std::vector<uint64_t> carried_nulls_;
  std::vector<const Column*> carried_key_inputs_;
  std::vector<std::unique_ptr<ExpressionExecutor>> key_executors_;
  std::vector<size_t> key_column_indexes_;
  std::vector<std::shared_ptr<Column>> key_columns_;
  std::vector<uint32_t> destination_;  // per active row
  std::vector<uint64_t> hashes_;
  std::vector<uint32_t> position_;  // per active row: its row in the destination batch
  std::vector<bool> copied_;        // per input column; empty: all
  bool share_ = false;
  std::vector<std::unique_ptr<Batch>> shells_;  // shared mode: per output, its message's batch
  std::vector<uint32_t*> selections_;           // shared mode: per output, its rows
  std::vector<uint32_t> counts_;
  std::vector<ColumnPool> carried_pools_;                // shared mode: one per carried column
  std::vector<std::shared_ptr<Column>> carried_columns_;  // shared mode: the batch's carried columns
  std::vector<Column*> targets_;  // per output: its open batch's column being copied
  std::vector<uint8_t*> valid_;   // per output: that column's validity and values
  std::vector<char*> data_;
  std::vector<TypeId> types_;
  std::vector<size_t> widths_;
  size_t pending_count_ = 0;
  std::optional<int64_t> held_watermark_;
  size_t rows_since_watermark_ = 0;
  std::string description_;
  const std::atomic<bool>* done_ = nullptr;
  bool finished_ = false;
};

}  // namespace sluice
