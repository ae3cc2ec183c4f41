#include "connectors/kafka/kafka_source.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "common/log.h"
#include "common/strings.h"

namespace sluice {
namespace {

constexpr int kFirstPollMillis = 100;  // the wait for the first message of a poll batch

bool IsCooperative(rd_kafka_t* handle) {
  return std::string_view(rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE";
}

}  // namespace

KafkaSource::KafkaSource(const SourceDefinition& definition, std::shared_ptr<DeadLetterWriter> dead_letters,
                         size_t batch_size, bool strict, std::shared_ptr<LocalReaderGroup> group)
    : definition_(definition),
      settings_(definition_.SettingsAs<KafkaSourceSettings>()),
      dead_letters_(std::move(dead_letters)),
      group_(std::move(group)),
      restored_(group_ != nullptr ? group_ : std::make_shared<LocalReaderGroup>(1)),
      group_ready_(group_ == nullptr || group_->readers <= 1),
      batch_size_(batch_size),
      strict_(strict),
      description_(StrCat("source '", definition.name, "'")),
      slot_index_(settings_.topics.size()) {
  debug_ = Log(LogComponent::kKafka).should_log(spdlog::level::debug);
}

std::unique_ptr<KafkaSource> KafkaSource::Create(const SourceDefinition& definition,
                                                 std::shared_ptr<DeadLetterWriter> dead_letters,
                                                 size_t batch_size, bool strict,
                                                 std::shared_ptr<LocalReaderGroup> group) {
  return std::unique_ptr<KafkaSource>(
      new KafkaSource(definition, std::move(dead_letters), batch_size, strict, std::move(group)));
}

KafkaSource::~KafkaSource() {
  for (rd_kafka_message_t* message : messages_) rd_kafka_message_destroy(message);
  messages_.clear();
  // Without a final flush point (a failed run) nothing more is committed: the group's next
  // member re-reads from the last committed offsets.
  if (queue_ != nullptr) rd_kafka_queue_destroy(queue_);
  if (consumer_ != nullptr && !closed_) {
    closed_ = true;
    flush_hook_ = nullptr;
    rd_kafka_consumer_close(consumer_.get());
  }
  consumer_.reset();  // while every member its callbacks use is alive
}

int64_t KafkaSource::NowMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_)
      .count();
}

absl::Status KafkaSource::Open() {
  SLUICE_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf,
                          MakeKafkaConf(settings_.client, KafkaClientRole::kConsumer, this, description_));
  absl::Status status = SetKafkaConf(conf, "group.id", settings_.group_id, description_);
  if (status.ok())
    status = SetKafkaConf(conf, "auto.offset.reset", settings_.auto_offset_reset, description_);
  if (status.ok()) status = SetKafkaConf(conf, "enable.auto.commit", "false", description_);
  if (status.ok()) status = SetKafkaConf(conf, "enable.auto.offset.store", "false", description_);
  if (status.ok() && settings_.stop_at_end)
    status = SetKafkaConf(conf, "enable.partition.eof", "true", description_);
  // librdkafka 2.0 stops fetching for a whole second whenever its prefetch queue is full: let
  // the queue hold about a second of data at a million records per second (unless the job
  // sets these itself).
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"queued.min.messages", "1000000"},
                                   {"queued.max.messages.kbytes", "131072"}}) {
    bool set_by_job = false;
    for (const auto& property : settings_.client.properties) set_by_job = set_by_job || property.first == key;
    if (status.ok() && !set_by_job) status = SetKafkaConf(conf, key, value, description_);
  }
  if (!status.ok()) {
    rd_kafka_conf_destroy(conf);
    return status;
  }
  char error[512];
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
  if (handle == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(StrCat(description_, ": cannot create the Kafka consumer: ", error));
  }
  consumer_.reset(handle);
  rd_kafka_poll_set_consumer(handle);
  queue_ = rd_kafka_queue_get_consumer(handle);
  SLUICE_ASSIGN_OR_RETURN(std::vector<int> partition_counts,
                          WaitForKafka(handle, settings_.topics, settings_.client.connect_timeout_millis,
                                       description_, settings_.client.bootstrap_servers, *this));
  if (settings_.stop_at_end) SLUICE_RETURN_IF_ERROR(ReadEndOffsets(partition_counts));
  KafkaPartitionList topics(rd_kafka_topic_partition_list_new(static_cast<int>(settings_.topics.size())));
  for (const std::string& topic : settings_.topics) {
    rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  if (rd_kafka_resp_err_t e = rd_kafka_subscribe(handle, topics.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(StrCat(description_, ": cannot subscribe: ", rd_kafka_err2str(e)));
  }
  SLUICE_ASSIGN_OR_RETURN(decoder_, KafkaRecordDecoder::Create(definition_));
  messages_.reserve(batch_size_);
  polled_.resize(batch_size_);
  message_slots_.reserve(batch_size_);
  views_.reserve(batch_size_);
  last_commit_millis_ = NowMillis();
  return absl::OkStatus();
}

absl::Status KafkaSource::ReadEndOffsets(const std::vector<int>& partition_counts) {
  const int timeout = static_cast<int>(std::max<int64_t>(settings_.client.connect_timeout_millis, 1000));
  for (size_t t = 0; t < settings_.topics.size(); ++t) {
    for (int32_t partition = 0; partition < partition_counts[t]; ++partition) {
      PartitionState& p = partitions_[Slot(settings_.topics[t], partition)];
      const rd_kafka_resp_err_t error = rd_kafka_query_watermark_offsets(
          consumer_.get(), settings_.topics[t].c_str(), partition, &p.low, &p.end, timeout);
      if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return absl::UnavailableError(StrCat(description_, ": cannot read the end offset of ",
                                             settings_.topics[t], "[", partition,
                                             "]: ", rd_kafka_err2str(error)));
      }
    }
  }
  return absl::OkStatus();
}

size_t KafkaSource::TopicIndex(std::string_view topic) const {
  for (size_t t = 0; t < settings_.topics.size(); ++t) {
    if (settings_.topics[t] == topic) return t;
  }
  return SIZE_MAX;
}

size_t KafkaSource::Slot(std::string_view topic, int32_t partition) {
  const size_t topic_index = TopicIndex(topic);
  SLUICE_CHECK(topic_index != SIZE_MAX && partition >= 0);  // only subscribed topics are assigned
  std::vector<int32_t>& index = slot_index_[topic_index];
  if (static_cast<size_t>(partition) < index.size() && index[partition] >= 0) return index[partition];
  if (static_cast<size_t>(partition) >= index.size()) index.resize(partition + 1, -1);
  const size_t slot = partitions_.size();
  partitions_.emplace_back(definition_.max_out_of_orderness_millis);
  partitions_.back().topic = settings_.topics[topic_index];
  partitions_.back().partition = partition;
  returned_.push_back(-1);
  committed_.push_back(-1);
  index[partition] = static_cast<int32_t>(slot);
  return slot;
}

size_t KafkaSource::SlotOf(const rd_kafka_message_t& message) {
  // Messages arrive in runs of one partition: check the previous answer first, comparing the
  // topic handle rather than the name; otherwise index by (topic, partition). No allocation.
  if (message.rkt == last_topic_ && last_slot_ < partitions_.size() &&
      partitions_[last_slot_].partition == message.partition) {
    return last_slot_;
  }
  if (message.rkt != last_topic_) {
    last_topic_ = message.rkt;
    last_topic_index_ = TopicIndex(rd_kafka_topic_name(message.rkt));
    SLUICE_CHECK(last_topic_index_ != SIZE_MAX);  // the consumer only returns subscribed topics
  }
  const std::vector<int32_t>& index = slot_index_[last_topic_index_];
  if (static_cast<size_t>(message.partition) < index.size() && index[message.partition] >= 0) {
    last_slot_ = index[message.partition];
  } else {
    last_slot_ = Slot(settings_.topics[last_topic_index_], message.partition);
  }
  return last_slot_;
}

size_t KafkaSource::assigned_partitions() const {
  size_t count = 0;
  for (const PartitionState& p : partitions_) count += p.assigned ? 1 : 0;
  return count;
}

bool KafkaSource::AllAssignedAtEnd() const {
  for (const PartitionState& p : partitions_) {
    if (p.assigned && !p.at_end) return false;
  }
  return true;
}

bool KafkaSource::OthersDone() {
  KafkaPartitionList others(rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size())));
  std::vector<size_t> slots;
  for (size_t slot = 0; slot < partitions_.size(); ++slot) {
    const PartitionState& p = partitions_[slot];
    if (p.assigned || p.end == INT64_MAX) continue;
    rd_kafka_topic_partition_list_add(others.get(), p.topic.c_str(), p.partition);
    slots.push_back(slot);
  }
  if (slots.empty()) return true;
  // Other members commit at their flush points: ask at most every 200 ms.
  const int64_t now = NowMillis();
  if (now - last_group_check_millis_ < 200) return false;
  last_group_check_millis_ = now;
  const int timeout = static_cast<int>(std::max<int64_t>(settings_.client.connect_timeout_millis, 1000));
  if (rd_kafka_committed(consumer_.get(), others.get(), timeout) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  for (int i = 0; i < others->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = others->elems[i];
    const PartitionState& p = partitions_[slots[i]];
    if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    // Where the group starts (or resumes) reading this partition.
    const int64_t start = tp.offset >= 0                            ? tp.offset
                          : settings_.auto_offset_reset == "latest" ? p.end
                                                                    : p.low;
    if (start < p.end) return false;
  }
  return true;
}

void KafkaSource::OnRebalance(rd_kafka_t* handle, rd_kafka_resp_err_t error,
                              rd_kafka_topic_partition_list_t* partitions) {
  const bool cooperative = IsCooperative(handle);
  if (error == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    Assign(partitions, cooperative);
  } else if (error == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    Revoke(partitions, cooperative);
  } else {
    if (error_.ok()) {
      error_ = absl::UnavailableError(
          StrCat(description_, ": consumer group rebalance failed: ", rd_kafka_err2str(error)));
    }
    rd_kafka_assign(handle, nullptr);
  }
}

void KafkaSource::Assign(rd_kafka_topic_partition_list_t* partitions, bool cooperative) {
  const int timeout = static_cast<int>(std::max<int64_t>(settings_.client.connect_timeout_millis, 1000));
  // Start each partition at the later of its committed offset and the position this process
  // already reached on it (a partition that comes back after a rebalance). If the committed
  // offsets cannot be read now, librdkafka reads them itself (offset INVALID).
  const bool have_committed =
      rd_kafka_committed(consumer_.get(), partitions, timeout) == RD_KAFKA_RESP_ERR_NO_ERROR;
  std::string log;
  for (int i = 0; i < partitions->cnt; ++i) {
    rd_kafka_topic_partition_t& tp = partitions->elems[i];
    const size_t slot = Slot(tp.topic, tp.partition);
    PartitionState& p = partitions_[slot];
    int64_t start = RD_KAFKA_OFFSET_INVALID;
    bool start_known = false;
    if (have_committed && tp.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      start_known = true;
      if (tp.offset >= 0) {
        start = tp.offset;
      } else if (settings_.stop_at_end && p.end != INT64_MAX) {
        start = settings_.auto_offset_reset == "latest" ? p.end : p.low;
      }
    }
    if (returned_[slot] >= 0 && returned_[slot] > start) {
      start = returned_[slot];
      start_known = true;
    }
    p.event_time = EventTimeTracker(definition_.max_out_of_orderness_millis);
    {
      // The restored checkpoint's position wins over the group's: the state restored with it
      // covers exactly the records before it. Once only: later assignments go by returned_.
      std::lock_guard<std::mutex> lock(restored_->mutex);
      auto it = restored_->restored.find(StrCat(tp.topic, "/", tp.partition));
      if (it != restored_->restored.end()) {
        start = it->second.offset;
        start_known = true;
        returned_[slot] = start;
        p.event_time.Restore(it->second.highest_event_time);
        restored_->restored.erase(it);
      }
    }
    p.assigned = true;
    p.at_end = settings_.stop_at_end && start_known && start >= 0 && start >= p.end;
    p.fetched_to = -1;
    p.start = start >= 0 ? start : -1;
    p.last_activity = NowMillis();
    tp.offset = start;
    tp.err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (debug_) StrAppend(&log, " ", tp.topic, "[", tp.partition, "]@", start, p.at_end ? " (at end)" : "");
  }
  if (debug_) Log(LogComponent::kKafka).debug("{}: assigned:{}", description_, log);
  if (cooperative) {
    if (rd_kafka_error_t* e = rd_kafka_incremental_assign(consumer_.get(), partitions)) {
      if (error_.ok()) error_ = absl::UnavailableError(StrCat(description_, ": ", rd_kafka_error_string(e)));
      rd_kafka_error_destroy(e);
    }
  } else {
    rd_kafka_assign(consumer_.get(), partitions);
  }
  if (group_ != nullptr && !joined_group_) {
    joined_group_ = true;
    group_->joined.fetch_add(1, std::memory_order_acq_rel);
  }
  if (!GroupReady() && partitions->cnt > 0) {
    // Held until every member of the job has joined: a later member's join may move them.
    rd_kafka_pause_partitions(consumer_.get(), partitions);
    for (int i = 0; i < partitions->cnt; ++i)
      held_.push_back(Slot(partitions->elems[i].topic, partitions->elems[i].partition));
    if (debug_) Log(LogComponent::kKafka).debug("{}: held until the job's members have joined", description_);
  }
}

bool KafkaSource::GroupReady() {
  if (group_ready_) return true;
  if (!group_->complete() && NowMillis() < kGroupWaitMillis) return false;
  group_ready_ = true;
  if (held_.empty() || consumer_ == nullptr) return true;
  KafkaPartitionList resume(rd_kafka_topic_partition_list_new(static_cast<int>(held_.size())));
  for (size_t slot : held_) {
    if (partitions_[slot].assigned)
      rd_kafka_topic_partition_list_add(resume.get(), partitions_[slot].topic.c_str(), partitions_[slot].partition);
  }
  held_.clear();
  if (resume->cnt > 0) rd_kafka_resume_partitions(consumer_.get(), resume.get());
  if (debug_) Log(LogComponent::kKafka).debug("{}: the job's members have joined: reading", description_);
  return true;
}

void KafkaSource::Revoke(rd_kafka_topic_partition_list_t* partitions, bool cooperative) {
  ++revocations_;
  if (debug_) {
    std::string log;
    for (int i = 0; i < partitions->cnt; ++i) {
      StrAppend(&log, " ", partitions->elems[i].topic, "[", partitions->elems[i].partition, "]");
    }
    Log(LogComponent::kKafka)
        .debug("{}: revoked:{}{}", description_, log,
               rd_kafka_assignment_lost(consumer_.get()) ? " (assignment lost)" : "");
  }
  // Clean revocation: every record returned so far is pushed through and acknowledged by the
  // sinks, and its offset committed, before the partitions go to another member. When the
  // assignment was lost (this member was evicted) another member may own them already:
  // committing would fail, so skip the flush point.
  if (!rd_kafka_assignment_lost(consumer_.get()) && flush_hook_ && error_.ok()) {
    absl::Status flushed = flush_hook_();
    if (!flushed.ok()) error_ = flushed;
  }
  std::vector<size_t> revoked;
  for (int i = 0; i < partitions->cnt; ++i) {
    const size_t slot = Slot(partitions->elems[i].topic, partitions->elems[i].partition);
    partitions_[slot].assigned = false;
    revoked.push_back(slot);
  }
  if (!held_.empty()) {
    // Held partitions leave unpaused, so that they are not still paused if they come back.
    rd_kafka_resume_partitions(consumer_.get(), partitions);
    held_.erase(std::remove_if(held_.begin(), held_.end(),
                               [&](size_t slot) { return !partitions_[slot].assigned; }),
                held_.end());
  }
  // Records polled but not returned yet were not processed: drop them; the partition's next
  // owner reads them from the committed offset.
  size_t kept = 0;
  for (size_t i = 0; i < messages_.size(); ++i) {
    if (!partitions_[message_slots_[i]].assigned) {
      rd_kafka_message_destroy(messages_[i]);
      continue;
    }
    messages_[kept] = messages_[i];
    message_slots_[kept] = message_slots_[i];
    ++kept;
  }
  messages_.resize(kept);
  message_slots_.resize(kept);
  if (cooperative) {
    if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(consumer_.get(), partitions))
      rd_kafka_error_destroy(e);
  } else {
    rd_kafka_assign(consumer_.get(), nullptr);
  }
  UpdateWatermark();
}

absl::Status KafkaSource::Snapshot(StateWriter& writer) const {
  struct Entry {
    std::string_view topic;
    int32_t partition;
    int64_t offset, highest;
  };
  std::vector<Entry> entries;
  for (size_t slot = 0; slot < partitions_.size(); ++slot) {
    const PartitionState& p = partitions_[slot];
    if (p.assigned && returned_[slot] >= 0)
      entries.push_back({p.topic, p.partition, returned_[slot], p.event_time.highest()});
  }
  // Positions restored but not assigned to anyone yet (the group has not assigned them since
  // the restart) stay in every checkpoint until a reader takes them over; every reader of the
  // job writes them, and Restore() keeps one.
  std::lock_guard<std::mutex> lock(restored_->mutex);
  for (const auto& [name, position] : restored_->restored) {
    const size_t slash = name.rfind('/');
    entries.push_back({std::string_view(name).substr(0, slash), std::stoi(name.substr(slash + 1)),
                       position.offset, position.highest_event_time});
  }
  writer.WriteU8(1);  // version
  writer.WriteU64(entries.size());
  for (const Entry& entry : entries) {
    writer.WriteBytes(entry.topic);
    writer.WriteU32(static_cast<uint32_t>(entry.partition));
    writer.WriteI64(entry.offset);
    writer.WriteI64(entry.highest);
  }
  return absl::OkStatus();
}

absl::Status KafkaSource::Restore(StateReader& reader) {
  SLUICE_ASSIGN_OR_RETURN(const uint8_t version, reader.ReadU8());
  if (version != 1)
    return absl::DataLossError(StrCat("Kafka source snapshot version ", version, " is unknown"));
  SLUICE_ASSIGN_OR_RETURN(const uint64_t count, reader.ReadCount(24));
  std::lock_guard<std::mutex> lock(restored_->mutex);
  for (uint64_t i = 0; i < count; ++i) {
    SLUICE_ASSIGN_OR_RETURN(const std::string_view topic, reader.ReadBytes());
    SLUICE_ASSIGN_OR_RETURN(const uint32_t partition, reader.ReadU32());
    SLUICE_ASSIGN_OR_RETURN(const int64_t offset, reader.ReadI64());
    SLUICE_ASSIGN_OR_RETURN(const int64_t highest, reader.ReadI64());
    if (TopicIndex(topic) == SIZE_MAX) {
      return absl::FailedPreconditionError(StrCat(description_, ": the checkpoint read topic '", topic,
                                                  "', which this job does not subscribe to"));
    }
    LocalReaderGroup::RestoredPosition& position = restored_->restored[StrCat(topic, "/", partition)];
    position.offset = std::max(position.offset, offset);
    position.highest_event_time = std::max(position.highest_event_time, highest);
  }
  return absl::OkStatus();
}

bool KafkaSource::flush_due() const {
  return !commit_on_checkpoints_ && consumer_ != nullptr && !closed_ &&
         NowMillis() - last_commit_millis_ >= settings_.commit_interval_millis;
}

absl::Status KafkaSource::OnFlushPoint() {
  last_commit_millis_ = NowMillis();
  if (consumer_ == nullptr || closed_) return absl::OkStatus();
  return Commit(true);
}

absl::Status KafkaSource::Commit(bool only_changed) {
  KafkaPartitionList offsets(rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size())));
  std::vector<size_t> slots;
  for (size_t slot = 0; slot < partitions_.size(); ++slot) {
    const PartitionState& p = partitions_[slot];
    // A slot created after the last PrepareFlushPoint() has nothing prepared.
    const int64_t position = slot < prepared_.size() ? prepared_[slot] : -1;
    if (!p.assigned || position < 0 || (only_changed && position == committed_[slot])) continue;
    rd_kafka_topic_partition_list_add(offsets.get(), p.topic.c_str(), p.partition)->offset = position;
    slots.push_back(slot);
  }
  if (slots.empty()) return absl::OkStatus();
  // A failed commit loses nothing (the records stay uncommitted and would be read again after
  // a restart); librdkafka retries retriable errors, so only keep the reason.
  const rd_kafka_resp_err_t error = rd_kafka_commit(consumer_.get(), offsets.get(), 0);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    Log(LogComponent::kKafka).warn("{}: offset commit failed: {}", description_, rd_kafka_err2str(error));
    RecordProblem(StrCat("offset commit failed: ", rd_kafka_err2str(error)));
    return absl::OkStatus();
  }
  ++commits_;
  std::string log;
  for (int i = 0; i < offsets->cnt; ++i) {
    if (offsets->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) committed_[slots[i]] = offsets->elems[i].offset;
    if (debug_)
      StrAppend(&log, " ", offsets->elems[i].topic, "[", offsets->elems[i].partition, "]@",
                offsets->elems[i].offset);
  }
  if (debug_) Log(LogComponent::kKafka).debug("{}: committed:{}", description_, log);
  return absl::OkStatus();
}

absl::Status KafkaSource::Close() {
  if (consumer_ == nullptr || closed_) return absl::OkStatus();
  PublishLag();  // where the run ended
  closed_ = true;
  flush_hook_ = nullptr;  // the run is over: a revocation while leaving commits nothing more
  if (queue_ != nullptr) {
    rd_kafka_queue_destroy(queue_);
    queue_ = nullptr;
  }
  const rd_kafka_resp_err_t error = rd_kafka_consumer_close(consumer_.get());
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    Log(LogComponent::kKafka)
        .warn("{}: leaving the consumer group: {}", description_, rd_kafka_err2str(error));
    RecordProblem(StrCat("leaving the consumer group: ", rd_kafka_err2str(error)));
  }
  return absl::OkStatus();
}

void KafkaSource::UpdateWatermark() {
  const int64_t now = NowMillis();
  int64_t merged = INT64_MAX;
  bool any = false;
  for (const PartitionState& p : partitions_) {
    if (!p.assigned || p.at_end) continue;
    if (definition_.idle_timeout_millis && now - p.last_activity > *definition_.idle_timeout_millis) continue;
    any = true;
    merged = std::min(merged, p.event_time.watermark());
  }
  if (any && merged > watermark_) watermark_ = merged;
}

void KafkaSource::Accept(rd_kafka_message_t* message) {
  if (!error_.ok()) {
    rd_kafka_message_destroy(message);
    return;
  }
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const rd_kafka_resp_err_t error = message->err;
    if (error == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (message->rkt != nullptr) {
        PartitionState& p = partitions_[SlotOf(*message)];
        // Everything below the EOF offset was delivered (control records of transactions
        // included, which a message offset does not show).
        if (p.assigned) p.fetched_to = std::max(p.fetched_to, message->offset);
      }
    } else if (error == RD_KAFKA_RESP_ERR__FATAL) {
      char reason[512];
      rd_kafka_fatal_error(consumer_.get(), reason, sizeof(reason));
      error_ = absl::UnavailableError(StrCat(description_, ": Kafka consumer failed: ", reason));
      Log(LogComponent::kKafka).error("{}", std::string(error_.message()));
    } else if (error == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
               error == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
               error == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
               error == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED) {
      error_ = absl::UnavailableError(StrCat(description_, ": ", rd_kafka_message_errstr(message)));
    } else {
      // Broker down, timeouts, ...: librdkafka reconnects and retries by itself.
      Log(LogComponent::kKafka).warn("{}: {}", description_, rd_kafka_message_errstr(message));
      RecordProblem(rd_kafka_message_errstr(message));
    }
    rd_kafka_message_destroy(message);
    return;
  }
  const size_t slot = SlotOf(*message);
  PartitionState& p = partitions_[slot];
  if (!p.assigned || message->offset >= p.end || message->offset < returned_[slot]) {
    // Past the end of a bounded read (stop fetching it), a straggler of a revoked partition,
    // or a message fetched before a rebalance and already returned: not returned again.
    if (p.assigned && message->offset >= p.end && p.fetched_to < p.end) {
      p.fetched_to = p.end;
      KafkaPartitionList pause(rd_kafka_topic_partition_list_new(1));
      rd_kafka_topic_partition_list_add(pause.get(), p.topic.c_str(), p.partition);
      rd_kafka_pause_partitions(consumer_.get(), pause.get());
    }
    rd_kafka_message_destroy(message);
    return;
  }
  messages_.push_back(message);
  message_slots_.push_back(slot);
}

absl::StatusOr<bool> KafkaSource::Next(Batch& out) {
  if (!error_.ok()) return error_;
  if (consumer_ == nullptr || closed_) return false;
  if (settings_.stop_at_end && AllAssignedAtEnd() && OthersDone()) return false;
  // Wait up to 100 ms for the first message, then take what is ready, many at a time (one
  // lock round per call instead of one per message). Rebalance callbacks run inside both.
  rd_kafka_message_t* first = rd_kafka_consumer_poll(consumer_.get(), kFirstPollMillis);
  if (first != nullptr) Accept(first);
  if (!GroupReady()) {
    // Not yet: what a held partition delivered before its pause took effect waits here (a
    // revocation drops it with the partition), and the batch is empty.
    views_.clear();
    errors_.clear();
    decoder_->Decode(views_, out, errors_);
    return true;
  }
  while (first != nullptr && error_.ok() && messages_.size() < batch_size_) {
    const size_t want = batch_size_ - messages_.size();
    const ssize_t got = rd_kafka_consume_batch_queue(queue_, 0, polled_.data(), want);
    if (got <= 0) break;
    for (ssize_t i = 0; i < got; ++i) Accept(polled_[i]);
  }
  absl::Status decoded = error_.ok() ? DecodeMessages(out) : error_;
  for (rd_kafka_message_t* message : messages_) rd_kafka_message_destroy(message);
  messages_.clear();
  message_slots_.clear();
  SLUICE_RETURN_IF_ERROR(decoded);
  if (settings_.stop_at_end) {
    // The batch is returned: a partition whose consumer delivered everything up to its end is
    // at its end, and its position moves past any control records up to that end.
    for (size_t slot = 0; slot < partitions_.size(); ++slot) {
      PartitionState& p = partitions_[slot];
      if (!p.assigned) continue;
      if (p.fetched_to >= 0) returned_[slot] = std::max(returned_[slot], std::min(p.fetched_to, p.end));
      if (returned_[slot] >= p.end) p.at_end = true;
    }
  }
  UpdateWatermark();
  if (const int64_t now = NowMillis(); now - last_lag_millis_ >= kLagIntervalMillis) {
    last_lag_millis_ = now;
    PublishLag();
  }
  return true;
}

void KafkaSource::PublishLag() {
  std::vector<PartitionLag> lag;
  if (consumer_ != nullptr) {
    for (size_t slot = 0; slot < partitions_.size(); ++slot) {
      const PartitionState& p = partitions_[slot];
      if (!p.assigned) continue;
      int64_t low = RD_KAFKA_OFFSET_INVALID, high = RD_KAFKA_OFFSET_INVALID;
      // The cached offsets of the latest fetch response: no request to the broker.
      if (rd_kafka_get_watermark_offsets(consumer_.get(), p.topic.c_str(), p.partition, &low, &high) !=
              RD_KAFKA_RESP_ERR_NO_ERROR ||
          high < 0) {
        continue;
      }
      int64_t position = returned_[slot] >= 0 ? returned_[slot] : p.start;
      // Nothing read yet, from no committed offset: 'earliest' starts at the log start.
      if (position < 0 && settings_.auto_offset_reset == "earliest") position = low;
      if (position < 0) continue;  // not known yet
      lag.push_back(PartitionLag{p.topic, p.partition, std::max<int64_t>(0, high - position)});
    }
  }
  std::lock_guard<std::mutex> lock(lag_mutex_);
  lag_ = std::move(lag);
}

void KafkaSource::AppendPartitionLag(std::vector<PartitionLag>& out) const {
  std::lock_guard<std::mutex> lock(lag_mutex_);
  out.insert(out.end(), lag_.begin(), lag_.end());
}

absl::Status KafkaSource::DecodeMessages(Batch& out) {
  const size_t count = messages_.size();
  views_.clear();
  errors_.clear();
  uint64_t bytes = 0;
  for (const rd_kafka_message_t* message : messages_) {
    views_.push_back(KafkaMessageView{
        static_cast<const char*>(message->payload), message->len, static_cast<const char*>(message->key),
        message->key_len, message->partition, message->offset, rd_kafka_message_timestamp(message, nullptr)});
    bytes += message->len;
  }
  decoder_->Decode(views_, out, errors_);
  if (count == 0) return absl::OkStatus();
  // Dead letters first: --strict stops before anything of the batch is used.
  for (const RecordError& error : errors_) {
    const rd_kafka_message_t* message = messages_[error.line];
    const PartitionState& p = partitions_[message_slots_[error.line]];
    if (strict_) {
      return absl::InvalidArgumentError(StrCat(description_, ", topic ", p.topic, " partition ", p.partition,
                                               " offset ", message->offset, ": ", error.reason,
                                               " (--strict)"));
    }
    SLUICE_RETURN_IF_ERROR(dead_letters_->WriteMessage(p.topic, p.partition, message->offset, error));
  }

  // Per-partition watermarks and positions.
  const std::vector<uint32_t>& good = decoder_->rows();
  const Column& event_time = out.column(out.num_columns() - 1);
  const int64_t* times = event_time.data<int64_t>();
  const uint8_t* time_valid = event_time.validity();
  for (size_t r = 0; r < good.size(); ++r) {
    if (time_valid[r]) partitions_[message_slots_[good[r]]].event_time.ObserveValue(times[r]);
  }
  const int64_t now = NowMillis();
  for (size_t i = 0; i < count; ++i) {
    PartitionState& p = partitions_[message_slots_[i]];
    p.last_activity = now;
    returned_[message_slots_[i]] = messages_[i]->offset + 1;
  }
  counters_.records_read += count;
  counters_.records_decoded += good.size();
  counters_.records_rejected += errors_.size();
  counters_.bytes_read += bytes;
  return absl::OkStatus();
}

}  // namespace sluice
