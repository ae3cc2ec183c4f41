#include "runtime/job_metrics.h"

#include <algorithm>
#include <climits>

#include "common/strings.h"

namespace sluice {
namespace {

// Every source partition's published lag (thread-safe), by topic then partition.
std::vector<PartitionLag> PartitionLagOf(const std::vector<const SourcePartition*>& sources) {
  std::vector<PartitionLag> lag;
  for (const SourcePartition* source : sources) source->AppendPartitionLag(lag);
  std::sort(lag.begin(), lag.end(), [](const PartitionLag& a, const PartitionLag& b) {
    return a.topic != b.topic ? a.topic < b.topic : a.partition < b.partition;
  });
  return lag;
}

}  // namespace

JobMetrics::JobMetrics(int workers, bool fused) : workers_count_(workers), fused_(fused) {
  for (int w = 0; w < workers; ++w) workers_.push_back(std::make_unique<WorkerMetrics>());
}

JobCounters JobMetrics::Live() const {
  if (fused_) {
    // One thread runs the whole graph and calls Live() between two batches: every source, sink,
    // dead-letter writer, operator and the task's clock may be read.
    JobCounters counters = Final();
    counters.elapsed_seconds = Seconds(Clock::now() - start_);
    counters.cancelled = false;
    return counters;
  }
  JobCounters counters;
  counters.complete = false;
  for (const auto& worker : workers_)
    counters.records_in += worker->records_read.load(std::memory_order_relaxed);
  for (const SinkOperator* sink : coordinator_sinks_) {
    counters.records_out += sink->rows_written();
    counters.invalid_utf8_replaced += sink->invalid_utf8_replaced();
  }
  if (fused_) {
    for (const SinkOperator* sink : workers_[0]->sinks) counters.records_out += sink->rows_written();
  }
  counters.elapsed_seconds = Seconds(Clock::now() - start_);
  counters.workers = workers_count_;
  counters.checkpoints_completed = checkpoints_completed;
  counters.checkpoint_seconds = checkpoint_seconds;
  counters.savepoint = savepoint;
  counters.partition_lag = PartitionLagOf(sources_);
  return counters;
}

JobCounters JobMetrics::Final() const {
  JobCounters counters;
  for (const SourcePartition* source : sources_) {
    counters.records_in += source->counters().records_read;
    counters.bytes_in += source->counters().bytes_read;
  }
  for (const DeadLetterWriter* writer : dead_letters_) {
    counters.dead_lettered += writer->count();
    if (writer->count() > 0) counters.dead_letter_files.push_back(writer->path());
  }
  for (const SinkOperator* sink : coordinator_sinks_) {
    counters.records_out += sink->rows_written();
    counters.invalid_utf8_replaced += sink->invalid_utf8_replaced();
  }
  Clock::time_point first{};
  for (size_t w = 0; w < workers_.size(); ++w) {
    const WorkerMetrics& worker = *workers_[w];
    for (const SinkOperator* sink : worker.sinks) {
      counters.records_out += sink->rows_written();
      counters.invalid_utf8_replaced += sink->invalid_utf8_replaced();
    }
    if (worker.first_record != Clock::time_point{} &&
        (first == Clock::time_point{} || worker.first_record < first)) {
      first = worker.first_record;
    }
    JobCounters::TaskTimes times;
    times.task = StrCat("worker ", w);
    times.busy_seconds = Seconds(worker.clock.busy);
    times.idle_seconds = Seconds(worker.clock.idle);
    times.backpressured_seconds = Seconds(worker.clock.backpressured);
    times.placement = worker.placement;
    counters.tasks.push_back(times);
  }
  if (fused_) {
    counters.tasks.back().task = "job (fused, one thread)";
  } else {
    JobCounters::TaskTimes coordinator;
    coordinator.task = "coordinator";
    coordinator.busy_seconds = Seconds(coordinator_clock_.busy);
    coordinator.idle_seconds = Seconds(coordinator_clock_.idle);
    coordinator.placement = "not pinned";
    counters.tasks.push_back(coordinator);
  }
  if (first != Clock::time_point{}) counters.first_record_seconds = Seconds(first - start_);
  for (const SourcePartition* source : sources_) {
    const int64_t watermark = source->watermark();
    if (watermark == INT64_MIN) {
      counters.watermark.reset();
      break;
    }
    counters.watermark = std::min(counters.watermark.value_or(INT64_MAX), watermark);
  }
  StatefulMetrics metrics;
  for (const StatefulOperator* op : stateful_operators_) metrics += op->metrics();
  counters.AddStatefulMetrics(metrics);
  counters.elapsed_seconds = elapsed_seconds_;
  counters.cancelled = cancelled_;
  counters.workers = workers_count_;
  counters.checkpoints_completed = checkpoints_completed;
  counters.checkpoint_seconds = checkpoint_seconds;
  counters.savepoint = savepoint;
  counters.keyed_stages_forwarded = keyed_stages_forwarded_;
  counters.keyed_stages_exchanged = keyed_stages_exchanged_;
  counters.alignment_pauses = alignment_pauses.load();
  counters.alignment_resumes = alignment_resumes.load();
  counters.partition_lag = PartitionLagOf(sources_);
  return counters;
}

}  // namespace sluice
