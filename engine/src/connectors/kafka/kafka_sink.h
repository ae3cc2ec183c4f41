// KafkaSink: the last operator of a statement whose stream goes to a Kafka topic
// ('<stream>.type' = 'kafka_sink').
//
// Each output row is one message: its JSON object, or its CSV record (no header line), encoded
// a batch at a time. The message key is the text of the '<stream>.key.field' column (a string
// as is, a number in decimal; NULL: no key), so that every update of one key lands in one
// partition in order; without key.field messages have no key.
//
// Changelog modes (plan/changelog_mode.h): 'changelog' writes each change as a Debezium-style
// record and 'upsert' (JSON) each insert or update as the row and each delete as a tombstone,
// a message with a null value (connectors/change_encoder.h). Their messages are keyed by
// 'key.field' when set; otherwise an upsert's by its row key as a JSON object, e.g.
// {"trader":"T1"}, so that a compacted topic keeps the last row per key. A CSV 'upsert' (only
// for statements that never delete) drops update-before rows.
//
// Delivery. The producer is idempotent unless the pass-through properties turn it off
// ('<stream>.properties.enable.idempotence' = 'false'): retries after broker errors do not
// duplicate or reorder messages within a partition. Push() enqueues; Flush() (every flush
// point, see connectors/source.h) and Finish() wait until the brokers have acknowledged every
// message enqueued so far. A delivery that fails (after librdkafka's retries, within
// 'message.timeout.ms') fails the job with the broker's error at the next Push(), Flush() or
// Finish(); nothing is dropped silently.
//
// 'delivery.guarantee' = 'exactly_once': a transactional producer (transactional.id
// '<stream>.transactional.id', default 'sluice-<stream>'). Readers with
// isolation.level=read_committed see only committed transactions.
//   - Without checkpoints: one transaction per flush point, committed there before the sources
//     commit their offsets. Operator state is not kept, so after a crash the job is
//     at-least-once end to end.
//   - With durable checkpoints (two-phase commit, EnableTwoPhaseCommit(periodic)): one
//     transaction per checkpoint. At barrier N the sink awaits delivery of everything sent and
//     seals the open transaction as N's (PreCommit); rows that arrive before N is durable are
//     held in memory; Commit(N), once N is durable, commits the transaction, begins the next and
//     sends the held rows into it. librdkafka cannot resume a transaction after a restart (the
//     new producer's init_transactions aborts it), so RecommitsOnRestore() is false: the runtime
//     records each finished commit with its checkpoint, and recovery resumes from the newest
//     checkpoint whose transaction committed; the aborted output is produced again. The one gap:
//     a crash after the broker committed N but before the record of it is durable resumes from
//     N - 1 and writes N's rows a second time.
//   - Under librdkafka's mock cluster (the tests) EndTxn writes no markers and read_committed
//     is ignored: aborted transactions stay visible, so readers there see at-least-once output.
//
// Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/change_encoder.h"
#include "catalog/connector_definition.h"
#include "connectors/kafka/kafka_client.h"
#include "connectors/sink.h"
#include "formats/record_format.h"

namespace sluice {

class KafkaSink final : public SinkOperator {
 public:
  // Builds the sink without contacting Kafka (EXPLAIN builds plans too). REQUIRES:
  // definition.settings (KafkaSinkSettings).
  static std::unique_ptr<KafkaSink> Create(const SinkDefinition& definition, const Schema& schema);
  ~KafkaSink() override;

  // Creates the producer and checks, within the connect timeout, that the brokers answer and
  // the topic exists (a transactional producer also initializes its transactions).
  absl::Status Open() override;
  absl::Status Push(const Batch& batch) override;
  absl::Status Flush() override;
  // Flushes (commits the last transaction; with two-phase commit only delivers, and
  // Commit(kEndOfRun) commits) and closes. Idempotent.
  absl::Status Finish() override;
  std::string Describe() const override { return Describe(definition_.name); }
  std::string StateSignature() const override { return Describe(""); }

  // Two-phase commit with durable checkpoints ('delivery.guarantee' = 'exactly_once' only).
  bool EnableTwoPhaseCommit(bool periodic) override;
  absl::Status PreCommit(uint64_t checkpoint) override;
  absl::Status Commit(uint64_t checkpoint) override;
  bool RecommitsOnRestore() const override { return !two_phase_; }
  // The changelog encoder's pending update-before and its message key.
  absl::Status Snapshot(StateWriter& writer) const override;
  absl::Status Restore(StateReader& reader) override;

  // Messages acknowledged by the brokers.
  uint64_t rows_written() const override { return producer_ != nullptr ? producer_->delivered() : 0; }
  uint64_t invalid_utf8_replaced() const override { return encoder_->invalid_utf8_replaced(); }

 private:
  // Describe(), naming the stream `name` (empty: no name; StateSignature).
  std::string Describe(std::string_view name) const;
  KafkaSink(const SinkDefinition& definition, const Schema& schema);
  // The message key of `row` from the key.field column `keys` (null when NULL).
  void KeyText(const Column& keys, uint32_t row, const char*& key, size_t& key_size);
  absl::Status PushChanges(const Batch& batch);
  // Every active row as a message (the append format).
  absl::Status PushRows(const Batch& batch);
  // Produces records_ (text in text_); `batch` (null at the end) is the batch they describe.
  absl::Status ProduceChanges(const Batch* batch);
  // Sends one message, or holds it while a sealed transaction waits for its Commit().
  absl::Status Send(const char* key, size_t key_size, const char* value, size_t value_size);
  absl::Status SendHeld();

  SinkDefinition definition_;
  const KafkaSinkSettings& settings_;
  TypeId key_type_ = TypeId::kNull;
  std::string key_name_;
  std::unique_ptr<RecordEncoder> encoder_;
  std::unique_ptr<KafkaProducer> producer_;
  bool csv_header_pending_ = false;  // the CSV encoder's header line is not a message
  bool finished_ = false;
  std::string text_;                               // encoded rows of the current batch
  std::string key_text_;                           // a number key as text
  std::unique_ptr<ChangeEncoder> change_encoder_;  // 'changelog', or 'upsert' in JSON
  std::vector<ChangeEncoder::Record> records_;
  std::string pending_key_;  // the key.field text of an update-before waiting for the next batch
  bool pending_has_key_ = false;
  Batch kept_rows_;  // scratch: the rows a CSV upsert writes

  // Two-phase commit.
  bool two_phase_ = false;
  uint64_t sealed_ = 0;  // the checkpoint whose transaction awaits Commit(); 0: none
  struct HeldMessage {
    size_t key_begin = 0, key_size = 0, value_begin = 0, value_size = 0;
    bool has_key = false, tombstone = false;
  };
  std::vector<HeldMessage> held_;  // their bytes in held_bytes_
  std::string held_bytes_;
};

}  // namespace sluice
