#include "runtime/job_runner.h"

#include <chrono>
#include <map>

#include "common/strings.h"
#include "connectors/registry.h"
#include "ops/aggregate_operator.h"
#include "ops/rows_window_operator.h"
#include "ops/session_window_operator.h"
#include "runtime/parallel_runner.h"
#include "runtime/physical_plan.h"
#include "time/watermark_merger.h"

namespace sluice {

JobRunner::JobRunner(const BoundJob& job, const RunOptions& options) : job_(job), options_(options) {}
JobRunner::~JobRunner() = default;

absl::StatusOr<std::unique_ptr<JobRunner>> JobRunner::Create(const BoundJob& job, const RunOptions& options) {
  std::unique_ptr<JobRunner> runner(new JobRunner(job, options));
  const bool wants_task_graph = options.parallelism > 1 || options.checkpoint_store != nullptr;
  const std::string unsupported = ParallelRunner::Unsupported(job);
  if (wants_task_graph && unsupported.empty()) {
    SLUICE_ASSIGN_OR_RETURN(runner->parallel_, ParallelRunner::Create(job, options));
    return runner;
  }
  if (wants_task_graph) {
    if (options.checkpoint_store != nullptr || options.restore_checkpoint) {
      return absl::InvalidArgumentError(
          StrCat("checkpoints need the parallel runtime, which cannot run this job yet: ", unsupported));
    }
    runner->single_thread_reason_ = StrCat("runs on one thread: ", unsupported,
                                           " (Kafka jobs and streams run on the parallel runtime once "
                                           "read positions commit at checkpoints)");
  }
  SLUICE_RETURN_IF_ERROR(runner->Build());
  return runner;
}

absl::Status JobRunner::Build() {
  std::map<std::string, FanOutOperator*> outputs;  // source or stream name -> its fan-out
  if (const auto limit = options_.state_max_bytes ? options_.state_max_bytes : job_.state_max_bytes) {
    state_budget_ = std::make_unique<StateBudget>(*limit);
  }
  for (size_t s = 0; s < job_.sources.size(); ++s) {
    const SourceDefinition& definition = job_.sources[s];
    dead_letters_.push_back(std::make_shared<DeadLetterWriter>(definition.name, definition.dead_letter_path));
    for (size_t k = 0; k < definition.partitions.size(); ++k) {
      if (options_.make_source) {
        sources_.push_back(options_.make_source(definition, k, dead_letters_.back()));
      } else {
        sources_.push_back(ConnectorRegistry::Default()
                               .FindSource(definition.type)
                               ->create(definition, k, dead_letters_.back(),
                                        SourceReaderOptions{options_.batch_size, options_.strict, {}}));
      }
      partition_source_.push_back(s);
      partition_index_.push_back(k);
    }
    source_outputs_.push_back(std::make_unique<FanOutOperator>());
    outputs[definition.name] = source_outputs_.back().get();
  }
  for (const auto& statement : job_.statements) {
    Operator* head = nullptr;
    Operator* tail = nullptr;
    auto append = [&](std::unique_ptr<Operator> op) {
      Operator* raw = op.get();
      operators_.push_back(std::move(op));
      if (tail != nullptr) tail->SetOutput(raw);
      if (head == nullptr) head = raw;
      tail = raw;
    };
    for (const LogicalOperator* node : StatementChain(statement)) {
      LateRecordSink* late_sink = nullptr;
      if (LateRowsDeadLettered(*node)) {
        // Late rows go to the dead-letter output of the source the statement reads.
        const std::string origin = OriginSource(job_, statement);
        for (size_t s = 0; s < job_.sources.size(); ++s) {
          if (job_.sources[s].name == origin) {
            late_sinks_.push_back(MakeDeadLetterLateSink(*node, *dead_letters_[s]));
            late_sink = late_sinks_.back().get();
          }
        }
      }
      std::unique_ptr<Operator> op = MakeOperator(*node, late_sink);
      op->SetStateBudget(state_budget_.get());
      if (auto* aggregate = dynamic_cast<const AggregateOperator*>(op.get()))
        aggregates_.push_back(aggregate);
      if (auto* session = dynamic_cast<const SessionWindowOperator*>(op.get()))
        session_windows_.push_back(session);
      if (auto* rows = dynamic_cast<const RowsWindowOperator*>(op.get())) rows_windows_.push_back(rows);
      append(std::move(op));
    }
    auto fan_out = std::make_unique<FanOutOperator>();
    FanOutOperator* stream_output = fan_out.get();
    append(std::move(fan_out));
    outputs[statement.name] = stream_output;
    if (statement.sink) {
      std::unique_ptr<SinkOperator> sink;
      if (options_.make_sink) {
        sink = options_.make_sink(statement);
      } else {
        sink = ConnectorRegistry::Default()
                   .FindSink(statement.sink->type)
                   ->create(*statement.sink, statement.output_schema);
      }
      sinks_.push_back(sink.get());
      stream_output->AddConsumer(sink.get());
      operators_.push_back(std::move(sink));
    }
    auto input = outputs.find(statement.input_name);
    SLUICE_CHECK(input != outputs.end());
    input->second->AddConsumer(head);
  }
  for (auto& source : sources_) source->SetFlushHook([this]() { return FlushPoint(); });
  return absl::OkStatus();
}

absl::Status JobRunner::FlushPoint() {
  // Everything pushed so far is in the sinks: have them deliver it, then let the sources
  // commit what they returned.
  for (SinkOperator* sink : sinks_) SLUICE_RETURN_IF_ERROR(sink->Flush());
  for (auto& source : sources_) SLUICE_RETURN_IF_ERROR(source->OnFlushPoint());
  return absl::OkStatus();
}

absl::Status JobRunner::Run(const std::function<void(const JobCounters&)>& on_progress) {
  if (parallel_) return parallel_->Run(on_progress);
  for (SinkOperator* sink : sinks_) SLUICE_RETURN_IF_ERROR(sink->Open());
  for (auto& source : sources_) SLUICE_RETURN_IF_ERROR(source->Open());
  const auto start = std::chrono::steady_clock::now();
  auto last_progress = start;
  // Per partition: still reading. Per source: a WatermarkMerger over its partitions.
  auto wall_millis = [&start]() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)
        .count();
  };
  std::vector<bool> active(sources_.size(), true);
  std::vector<WatermarkMerger> mergers;
  for (const auto& definition : job_.sources) {
    mergers.emplace_back(definition.partitions.size(), definition.idle_timeout_millis, 0);
  }
  size_t remaining = sources_.size();
  // Watermark alignment: a partition that runs more than the drift ahead of the slowest one
  // of the job that can hold it back (not exhausted, not idle: the mergers know) sits out its
  // turns until the slowest catches up.
  std::optional<int64_t> max_drift;
  for (const auto& definition : job_.sources) {
    if (definition.alignment_max_drift_millis) max_drift = definition.alignment_max_drift_millis;
  }
  std::vector<bool> paused(sources_.size(), false);
  auto runs_ahead = [&](size_t i) {
    if (!max_drift || sources_.size() == 1) return false;
    const int64_t now = wall_millis();
    int64_t slowest = INT64_MAX;
    for (size_t s = 0; s < mergers.size(); ++s) {
      const std::optional<size_t> self =
          s == partition_source_[i] ? std::optional<size_t>(partition_index_[i]) : std::nullopt;
      slowest = std::min(slowest, mergers[s].Slowest(now, self).value_or(INT64_MAX));
    }
    const WatermarkMerger& mine = mergers[partition_source_[i]];
    return RunsAhead(mine.watermark(partition_index_[i]), slowest, *max_drift);
  };
  auto advance_watermark = [&](size_t source) -> absl::Status {
    const std::optional<int64_t> merged = mergers[source].Advance(wall_millis());
    return merged ? source_outputs_[source]->OnWatermark(*merged) : absl::OkStatus();
  };
  Batch batch;
  absl::Status status;
  while (remaining > 0 && status.ok()) {
    if (options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed)) {
      cancelled_ = true;
      break;
    }
    for (size_t i = 0; i < sources_.size() && status.ok(); ++i) {
      if (!active[i]) continue;
      const size_t source = partition_source_[i];
      if (source_outputs_[source]->IsDone()) {
        active[i] = false;
        --remaining;
        mergers[source].OnExhausted(partition_index_[i]);  // holds no partition back any more
        continue;
      }
      if (runs_ahead(i)) {
        if (!paused[i]) ++alignment_pauses_;
        paused[i] = true;
        continue;
      }
      if (paused[i]) ++alignment_resumes_;
      paused[i] = false;
      absl::StatusOr<bool> more = sources_[i]->Next(batch);
      if (!more.ok()) {
        status = more.status();
        break;
      }
      if (!*more) {
        active[i] = false;
        --remaining;
        mergers[source].OnExhausted(partition_index_[i]);
        status = advance_watermark(source);
        continue;
      }
      if (first_record_seconds_ == 0 && sources_[i]->counters().records_read > 0) {
        first_record_seconds_ =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      }
      // An unbounded source returns an empty batch when nothing arrived; its watermark may
      // still have moved (one of its Kafka partitions went idle).
      if (batch.num_rows() > 0) status = source_outputs_[source]->Push(batch);
      batch.Release();
      mergers[source].OnRecords(partition_index_[i], sources_[i]->watermark(), wall_millis());
      if (status.ok()) status = advance_watermark(source);
    }
    if (status.ok()) {
      bool flush_due = false;
      for (const auto& source : sources_) flush_due = flush_due || source->flush_due();
      if (flush_due) status = FlushPoint();
    }
    if (on_progress) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_progress >= std::chrono::seconds(1)) {
        last_progress = now;
        elapsed_seconds_ = std::chrono::duration<double>(now - start).count();
        on_progress(counters());
      }
    }
  }
  // End of input (or cancellation): flush every pipeline and sink, even after an error, so
  // that what was produced is not lost.
  for (size_t s = 0; s < source_outputs_.size(); ++s) {
    // A bounded input that ended makes every window final; a cancelled or failed run does not.
    if (status.ok() && !cancelled_) status = source_outputs_[s]->OnWatermark(kMaxWatermark);
    absl::Status finish = source_outputs_[s]->Finish();
    if (status.ok()) status = finish;
    absl::Status close = dead_letters_[s]->Flush();
    if (status.ok()) status = close;
  }
  // Every sink has finished (delivered everything): the last flush point, unless the run
  // failed, in which case nothing more is committed and the input is read again next time.
  for (auto& source : sources_) {
    if (status.ok()) status = source->OnFlushPoint();
  }
  for (auto& source : sources_) {
    absl::Status closed = source->Close();
    if (status.ok()) status = closed;
  }
  elapsed_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return status;
}

JobCounters JobRunner::counters() const {
  if (parallel_) return parallel_->counters();
  JobCounters counters;
  for (const auto& source : sources_) {
    counters.records_in += source->counters().records_read;
    counters.bytes_in += source->counters().bytes_read;
  }
  for (const auto& writer : dead_letters_) {
    counters.dead_lettered += writer->count();  // bad records and late rows
    if (writer->count() > 0) counters.dead_letter_files.push_back(writer->path());
  }
  for (const SinkOperator* sink : sinks_) {
    counters.records_out += sink->rows_written();
    counters.invalid_utf8_replaced += sink->invalid_utf8_replaced();
  }
  for (const auto* op : aggregates_) {
    counters.late_dropped += op->late_records_dropped();
    counters.state_evicted += op->keys_evicted();
    counters.state_keys += op->group_count();
    counters.state_bytes += op->state_bytes();
    counters.state_key_string_bytes += op->key_string_bytes();
  }
  for (const auto* op : session_windows_) counters.late_dropped += op->late_records_dropped();
  for (const auto* op : rows_windows_) {
    counters.state_evicted += op->partitions_expired();
    counters.state_keys += op->live_partitions();
    counters.late_dropped += op->late_records_dropped();
  }
  counters.elapsed_seconds = elapsed_seconds_;
  counters.first_record_seconds = first_record_seconds_;
  counters.cancelled = cancelled_;
  counters.alignment_pauses = alignment_pauses_;
  counters.alignment_resumes = alignment_resumes_;
  return counters;
}

std::string JobRunner::Explain() const {
  if (parallel_) return parallel_->Explain();
  std::string out;
  if (!single_thread_reason_.empty())
    StrAppend(&out, "Parallelism ", options_.parallelism, " requested; ", single_thread_reason_, "\n");
  for (size_t s = 0; s < job_.sources.size(); ++s) {
    const SourceDefinition& definition = job_.sources[s];
    const SourceDescription description =
        ConnectorRegistry::Default().FindSource(definition.type)->describe(definition);
    std::vector<std::string> details = description.details;
    details.push_back(StrCat("batch ", options_.batch_size));
    details.insert(details.end(), description.notes.begin(), description.notes.end());
    StrAppend(&out, description.what, " (", StrJoin(details, ", "), ")\n");
    out += DescribeOperators(source_outputs_[s].get(), 1);
  }
  return out;
}

}  // namespace sluice
