// KafkaSource: a Kafka consumer-group member that reads one or more topics for a source
// ('<name>.type' = 'kafka_source').
//
// Partitions. The source is ONE SourcePartition that consumes every Kafka partition the
// consumer group assigns to it; several `sluice` processes with the same group.id split a
// topic's partitions between them, and a rebalance moves partitions while the job runs. (The
// runtime's partitions are fixed when a job starts; Kafka's are not, so they live in here.)
//
// Watermarks. One EventTimeTracker per assigned Kafka partition (highest event time seen minus
// the out-of-orderness bound, minus 1 ms). watermark() is the minimum over the assigned
// partitions that can still hold it back: a partition that has delivered nothing for
// 'watermark.idle_timeout' is skipped until it delivers again, a partition at its end in
// bounded mode is skipped, and a revoked partition is dropped once its records are flushed.
// A partition assigned but not yet read holds the watermark at its start (INT64_MIN). The
// watermark never goes backwards; rows of a partition assigned later that are behind it are
// late, as in any Kafka reader. Batches interleave partitions, so operators receive only this
// merged watermark, between batches.
//
// Records. Each message is one record: JSON, CSV (no header line; declared schema) or raw
// (one STRING column 'value'). The declared columns are followed by the system columns _key
// (STRING, NULL without a key), _partition, _offset (BIGINT), _timestamp (TIMESTAMP, the
// record's Kafka timestamp) and _event_time: the event time field when one is set, otherwise
// the Kafka timestamp. A poll batch (up to the job's batch size: a wait of up to 100 ms for
// the first message, then whatever librdkafka has prefetched, taken many at a time) is decoded
// in one call into columnar form (KafkaRecordDecoder, which needs no broker); Sluice allocates
// nothing per record (librdkafka has one message object per record). A message that does not decode goes to
// the source's dead-letter file with topic, partition, offset and reason (--strict: fails the job).
// Prefetching: librdkafka 2.0 pauses fetching for a second whenever its queue is full, so unless the job sets
// them the queue holds up to 1,000,000 messages / 128 MiB (about a second of data).
//
// Offsets (at-least-once). Auto-commit is off. The source remembers, per partition, the
// position after the last record it returned from Next(); PrepareFlushPoint() copies them when
// a barrier leaves the source, and at the flush point (see source.h: every record returned
// before the barrier has been pushed through the job and every sink acknowledged its output)
// it commits those copies, synchronously. Flush points happen every
// 'commit.interval' (default 1 s), at the end of a run that did not fail, and before a
// rebalance revokes partitions: the revocation runs a flush point, commits, and drops the
// records of the revoked partitions that were polled but not yet returned (they were not
// processed; their new owner reads them from the committed offset). When partitions are
// assigned, each starts at the later of its committed offset and the position this process
// already reached on it (so a partition that comes back is neither re-read nor skipped); with
// no committed offset, 'auto.offset.reset' (earliest by default) decides. Without checkpoints,
// operator state (open windows, GROUP BY accumulators) is not kept: after a crash a job restarts
// from the committed offsets with empty state.
//
// Checkpoints (runtime/checkpoint_store.h). Snapshot() records, for every partition assigned
// here, the position after the last record returned and its highest event time; Restore() puts
// them into the job's LocalReaderGroup, pooled over its readers, since the group may assign a
// partition to another worker after the restart. A partition the restored checkpoint holds
// starts at the checkpoint's position, whatever the group committed (the state restored with
// it covers exactly the records before it); others start as above. With durable checkpoints
// (CommitOnCheckpoints) the source asks for no flush points of its own: it commits the group's
// offsets as each checkpoint becomes durable, so they never run ahead of the state saved. A
// partition that moves to another process still moves without its operator state.
//
// Bounded mode ('<name>.stop.at.end' = 'true', for tests and benchmarks): Open() reads the end
// offset (high watermark) of every partition of the topics; records at or past it are not
// returned. Next() returns false once every partition assigned here has been read to its end
// AND every other partition of the topics is done for the group: its committed offset is at
// its end (or the group would start there). So several processes of one group stop together,
// when the whole input has been processed and committed, and a member that gets no partitions
// (or loses them in a rebalance) waits instead of ending early; a member that is killed leaves
// its partitions to the others.
//
// Not thread-safe: every librdkafka callback (rebalance, errors) runs inside this source's own
// calls, on the caller's thread; only log callbacks come from librdkafka's threads (locked).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "batch/batch.h"
#include "catalog/connector_definition.h"
#include "catalog/connector_registry.h"
#include "connectors/dead_letter_writer.h"
#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/kafka_record_decoder.h"
#include "connectors/source.h"
#include "formats/record_format.h"

namespace sluice {

class KafkaSource final : public SourcePartition, public KafkaClientCallbacks {
 public:
  // Builds the source without contacting Kafka. REQUIRES: definition.settings is
  // KafkaSourceSettings. `group`: the job's other members of this source (one per worker),
  // or null when this is the only one. A member reads nothing until every member of its group
  // has had its first assignment (partitions assigned before then are paused), so that a
  // partition does not move between two of the job's workers after reading began; after
  // kGroupWaitMillis it reads anyway.
  static std::unique_ptr<KafkaSource> Create(const SourceDefinition& definition,
                                             std::shared_ptr<DeadLetterWriter> dead_letters,
                                             size_t batch_size, bool strict,
                                             std::shared_ptr<LocalReaderGroup> group = nullptr);
  static constexpr int64_t kGroupWaitMillis = 15000;
  ~KafkaSource() override;

  // Creates the consumer, checks within the connect timeout that the brokers answer and every
  // topic exists, and subscribes (the group assigns partitions during the following Next()s).
  absl::Status Open() override;
  absl::StatusOr<bool> Next(Batch& out) override;
  int64_t watermark() const override { return watermark_; }
  const SourceCounters& counters() const override { return counters_; }

  bool SupportsCheckpoints() const override { return true; }
  void CommitOnCheckpoints() override { commit_on_checkpoints_ = true; }
  absl::Status Snapshot(StateWriter& writer) const override;
  absl::Status Restore(StateReader& reader) override;

  void SetFlushHook(FlushHook hook) override { flush_hook_ = std::move(hook); }
  bool flush_due() const override;
  void PrepareFlushPoint() override { prepared_ = returned_; }
  // Commits the positions PrepareFlushPoint() recorded (synchronously).
  absl::Status OnFlushPoint() override;
  // Leaves the consumer group. Called after the final flush point.
  absl::Status Close() override;

  void OnRebalance(rd_kafka_t* handle, rd_kafka_resp_err_t error,
                   rd_kafka_topic_partition_list_t* partitions) override;

  // The consumer lag of each assigned partition: its high watermark as librdkafka's last
  // fetch response reported it (no request of its own) minus the position after the last
  // record returned (or the position it starts from, before any). Published by Next() after a
  // poll batch at most every kLagIntervalMillis (never per record), and by Close().
  void AppendPartitionLag(std::vector<PartitionLag>& out) const override;
  static constexpr int64_t kLagIntervalMillis = 100;

  // Kafka partitions currently assigned, and how many rebalances revoked partitions.
  size_t assigned_partitions() const;
  uint64_t revocations() const { return revocations_; }
  uint64_t commits() const { return commits_; }

 private:
  struct PartitionState {
    std::string topic;
    int32_t partition = 0;
    bool assigned = false;
    int64_t low = 0;              // bounded mode: the log start offset seen at Open()
    int64_t end = INT64_MAX;      // bounded mode: the end offset seen at Open(), not returned
    bool at_end = false;          // bounded mode: read to `end`
    int64_t fetched_to = -1;      // bounded mode: every offset below was delivered by the
                                  // consumer (partition EOF, or a message at or past `end`)
    int64_t start = -1;           // where reading starts since the last assignment, -1: unknown
    int64_t last_activity = 0;    // steady-clock ms of the last record
    EventTimeTracker event_time;  // per partition
    explicit PartitionState(int64_t max_out_of_orderness) : event_time(max_out_of_orderness) {}
  };

  KafkaSource(const SourceDefinition& definition, std::shared_ptr<DeadLetterWriter> dead_letters,
              size_t batch_size, bool strict, std::shared_ptr<LocalReaderGroup> group);
  // Whether the job's members of this source may read (see Create); resumes the partitions
  // held until then once they may.
  bool GroupReady();
  // The state slot of (topic, partition), created on first use. REQUIRES: a subscribed topic.
  size_t Slot(std::string_view topic, int32_t partition);
  size_t TopicIndex(std::string_view topic) const;   // in settings_.topics, SIZE_MAX if absent
  size_t SlotOf(const rd_kafka_message_t& message);  // per record: no lookup by name
  // Takes a polled message: a record into messages_, or an event (EOF, error) handled here.
  void Accept(rd_kafka_message_t* message);
  void Assign(rd_kafka_topic_partition_list_t* partitions, bool cooperative);
  void Revoke(rd_kafka_topic_partition_list_t* partitions, bool cooperative);
  absl::Status Commit(bool only_changed);
  absl::Status DecodeMessages(Batch& out);
  void UpdateWatermark();
  bool AllAssignedAtEnd() const;
  // Bounded mode: whether every partition not assigned here is done for the group (committed
  // at or past its end, or nothing to read from where the group would start).
  bool OthersDone();
  absl::Status ReadEndOffsets(const std::vector<int>& partition_counts);
  int64_t NowMillis() const;
  // Publishes every assigned partition's lag for AppendPartitionLag.
  void PublishLag();

  SourceDefinition definition_;
  const KafkaSourceSettings& settings_;
  std::shared_ptr<DeadLetterWriter> dead_letters_;
  std::shared_ptr<LocalReaderGroup> group_;  // null: the job's only member
  // Positions restored from a checkpoint: group_'s, or this member's own when it is alone.
  std::shared_ptr<LocalReaderGroup> restored_;
  bool commit_on_checkpoints_ = false;
  bool joined_group_ = false;                // counted into group_
  bool group_ready_ = false;
  std::vector<size_t> held_;                 // slots paused until the group is ready
  size_t batch_size_;
  bool strict_;
  std::string description_;
  KafkaHandle consumer_;
  rd_kafka_queue_t* queue_ = nullptr;  // the consumer queue, for batch polls
  bool closed_ = false;
  FlushHook flush_hook_;
  absl::Status error_;  // a failure inside a librdkafka callback, returned by the next Next()

  std::vector<PartitionState> partitions_;        // by slot
  std::vector<std::vector<int32_t>> slot_index_;  // [topic index][partition] -> slot, -1: none
  const rd_kafka_topic_t* last_topic_ = nullptr;  // SlotOf() cache
  size_t last_topic_index_ = 0;
  size_t last_slot_ = SIZE_MAX;
  std::vector<int64_t> returned_;               // by slot: offset after the last record returned (-1: none)
  std::vector<int64_t> committed_;              // by slot: last committed position (-1: none)
  std::vector<int64_t> prepared_;               // by slot: returned_ at PrepareFlushPoint()
  int64_t last_group_check_millis_ = -1000000;  // long before the start: check at once
  bool debug_ = false;  // log level debug: assignments, revocations and commits logged
  uint64_t revocations_ = 0;
  uint64_t commits_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  int64_t last_commit_millis_ = 0;
  int64_t watermark_ = INT64_MIN;
  int64_t last_lag_millis_ = -kLagIntervalMillis;  // when Next() last ran PublishLag
  mutable std::mutex lag_mutex_;
  std::vector<PartitionLag> lag_;  // guarded by lag_mutex_

  // One poll batch, reused.
  std::vector<rd_kafka_message_t*> polled_;    // what one batch poll returned
  std::vector<rd_kafka_message_t*> messages_;  // the records of the batch
  std::vector<size_t> message_slots_;
  std::vector<KafkaMessageView> views_;  // messages_ as the decoder takes them
  std::vector<RecordError> errors_;
  std::unique_ptr<KafkaRecordDecoder> decoder_;
  SourceCounters counters_;
};

}  // namespace sluice
