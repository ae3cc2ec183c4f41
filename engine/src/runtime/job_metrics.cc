#include "runtime/job_metrics.h"

#include <algorithm>
#include <climits>

#include "common/status.h"
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
  // The lowest of the partitions' watermarks, as Final() takes it; none while one has none.
  for (size_t g = 0; published_watermarks_ != nullptr && g < sources_.size(); ++g) {
    const int64_t watermark = published_watermarks_[g].load(std::memory_order_relaxed);
    if (watermark == INT64_MIN) {
      counters.watermark.reset();
      break;
    }
    counters.watermark = std::min(counters.watermark.value_or(INT64_MAX), watermark);
  }
  // The tasks as their threads last published them.
  for (size_t w = 0; w < workers_.size(); ++w) {
    const WorkerMetrics& worker = *workers_[w];
    JobCounters::TaskTimes times;
    times.task = StrCat("worker ", w);
    times.busy_seconds = Seconds(Clock::duration(worker.busy_nanos.load(std::memory_order_relaxed)));
    times.idle_seconds = Seconds(Clock::duration(worker.idle_nanos.load(std::memory_order_relaxed)));
    times.backpressured_seconds =
        Seconds(Clock::duration(worker.backpressured_nanos.load(std::memory_order_relaxed)));
    if (worker.placed.load(std::memory_order_acquire)) times.placement = worker.placement;
    times.records_in = worker.records_read.load(std::memory_order_relaxed);
    times.records_out = worker.sink_rows.load(std::memory_order_relaxed);
    counters.tasks.push_back(times);
  }
  counters.tasks.push_back(CoordinatorTask());
  AddChannelFigures(counters);
  return counters;
}

JobCounters::TaskTimes JobMetrics::CoordinatorTask() const {
  JobCounters::TaskTimes coordinator;
  coordinator.task = "coordinator";
  coordinator.busy_seconds = Seconds(coordinator_clock_.busy);
  coordinator.idle_seconds = Seconds(coordinator_clock_.idle);
  coordinator.placement = "not pinned";
  for (const SinkOperator* sink : coordinator_sinks_) coordinator.records_out += sink->rows_written();
  return coordinator;
}

void JobMetrics::AddChannelFigures(JobCounters& counters) const {
  SLUICE_CHECK_EQ(counters.tasks.size(), workers_.size() + 1);
  for (const ChannelEntry& entry : channels_) {
    JobCounters::ChannelFigures figures;
    figures.statement = entry.statement;
    figures.kind = entry.kind;
    figures.from_task = entry.from;
    figures.to_task = entry.to;
    figures.records_sent = entry.channel->rows_sent();
    figures.records_received = entry.channel->rows_received();
    figures.queued = entry.channel->queued();
    figures.capacity = entry.channel->capacity();
    counters.tasks[entry.from].records_out += figures.records_sent;
    counters.tasks[entry.to].records_in += figures.records_received;
    counters.channels.push_back(std::move(figures));
  }
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
    times.records_in = worker.records_read.load(std::memory_order_relaxed);
    for (const SinkOperator* sink : worker.sinks) times.records_out += sink->rows_written();
    counters.tasks.push_back(times);
  }
  if (fused_) {
    // One task runs everything: the job's records are its own.
    counters.tasks.back().task = "job (fused, one thread)";
    counters.tasks.back().records_in = counters.records_in;
    counters.tasks.back().records_out = counters.records_out;
  } else {
    counters.tasks.push_back(CoordinatorTask());
    AddChannelFigures(counters);
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
