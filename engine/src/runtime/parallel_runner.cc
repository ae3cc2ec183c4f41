#include "runtime/parallel_runner.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "catalog/connector_registry.h"
#include "common/log.h"
#include "common/strings.h"
#include "connectors/sink.h"
#include "ops/aggregate_operator.h"
#include "ops/fan_out_operator.h"
#include "ops/stateful_operator.h"
#include "runtime/exchange.h"
#include "runtime/job_metrics.h"
#include "runtime/partitioning_check.h"
#include "runtime/physical_plan.h"
#include "runtime/task_graph.h"
#include "runtime/topology.h"
#include "time/watermark_merger.h"

namespace sluice {

namespace {

using Clock = std::chrono::steady_clock;

// Messages a task takes from its inputs before it looks at its sources again.
constexpr size_t kPollBudget = 64;
// Longest a sender holds a watermark back while its sources keep delivering.
constexpr auto kWatermarkFlushInterval = std::chrono::milliseconds(5);

// While a task has nothing to do: spins, then yields, then sleeps, each sleep twice the last
// (from 20 us) up to `max_sleep`, so that an idle task costs its core little and a busy one
// notices new input within the bound.
struct Backoff {
  explicit Backoff(std::chrono::microseconds max) : max_sleep(max) {}
  std::chrono::microseconds max_sleep;
  std::chrono::microseconds sleep{20};
  int rounds = 0;
  void Reset() {
    rounds = 0;
    sleep = std::chrono::microseconds(20);
  }
  void Wait() {
    ++rounds;
    if (rounds < 64) return;
    if (rounds < 256) {
      std::this_thread::yield();
      return;
    }
    std::this_thread::sleep_for(sleep);
    sleep = std::min(max_sleep, sleep * 2);
  }
};

absl::Status Annotate(const absl::Status& status, const std::string& context) {
  return absl::Status(status.code(), StrCat(context, ": ", status.message()));
}

// The operators from `head` on, for error messages: "HashAggregate ... -> Gather ...".
std::string ChainText(const Operator& head) {
  std::vector<std::string> parts;
  for (const Operator* op = &head; op != nullptr; op = op->output()) {
    if (const std::vector<Operator*>* consumers = op->consumers()) {  // a fan-out
      for (const Operator* consumer : *consumers) parts.push_back(ChainText(*consumer));
      break;
    }
    std::string text = op->Describe();
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    parts.push_back(text);
  }
  return StrJoin(parts, " -> ");
}

}  // namespace

// Everything shared by the tasks of one run.
struct ParallelRunner::Impl {
  // --- one task with channel inputs: a worker's stateful stages, or the coordinator's gather --
  struct InputGroup {  // the inputs of one statement
    Operator* head = nullptr;
    std::unique_ptr<WatermarkMerger> merger;
    size_t open_inputs = 0;
    bool finished = false;
  };
  struct ChannelInput {
    Channel* channel = nullptr;
    size_t group = 0;
    size_t index = 0;  // within its group's merger
    int64_t watermark = INT64_MIN;
    bool ended = false;
    bool blocked = false;  // delivered the barrier being aligned
  };
  struct InputTask {
    std::string name;
    std::vector<ChannelInput> inputs;
    std::vector<InputGroup> groups;
    // (task name, operator) in a fixed order; a task's name in snapshots names its statement by
    // BoundStatement::operator_id_prefix(), so that a uid keeps it across a rename.
    std::vector<std::pair<std::string, Operator*>> snapshot_ops;
    std::vector<SinkOperator*> sinks;                             // flushed at every barrier
    std::vector<ChannelSender*> forwards;                         // barriers go on here
    uint64_t aligning = 0;
    uint64_t last_aligned = 0;
    size_t next_input = 0;
    Clock::time_point last_advance = Clock::now();

    bool finished() const {
      for (const InputGroup& group : groups) {
        if (!group.finished) return false;
      }
      return true;
    }
    bool all_ended() const {
      for (const ChannelInput& input : inputs) {
        if (!input.ended) return false;
      }
      return true;
    }
  };

  // --- a worker thread ---
  struct LocalPartition {
    SourcePartition* source = nullptr;
    size_t global = 0;  // index in sources_
    size_t source_index = 0;
    size_t local = 0;  // index in its source's merger on this worker
    bool active = true;
    bool paused = false;
  };
  struct PreTask {  // a statement's stateless source-side chain on one worker
    std::string name;
    std::vector<Operator*> ops;
    std::vector<SinkOperator*> sinks;
  };
  struct Worker {
    int index = 0;
    std::vector<LocalPartition> partitions;
    std::vector<std::unique_ptr<FanOutOperator>> source_outputs;  // per job source
    std::vector<std::unique_ptr<WatermarkMerger>> source_mergers;
    std::vector<size_t> source_active;  // local partitions still reading
    std::vector<bool> source_finished;
    std::vector<PreTask> pre_tasks;
    std::vector<ChannelSender*> source_senders;
    std::vector<ChannelSender*> senders;  // every sender this worker drives
    std::unique_ptr<InputTask> stage;     // null when no statement is keyed
    std::vector<SinkOperator*> sinks;     // per-worker sinks
    std::vector<std::unique_ptr<Operator>> owned;
    std::vector<std::unique_ptr<LateRecordSink>> late_sinks;
    uint64_t injected = 0;
    bool stopped_reading = false;  // injected the savepoint barrier: reads nothing more
    uint64_t committed = 0;  // the last completed barrier whose read positions were committed
    std::atomic<uint64_t> acked{0};
    std::atomic<bool> done{false};  // its part of the job is over
    size_t next_partition = 0;
    JobMetrics::WorkerMetrics* metrics = nullptr;  // its clock, records read, first record, placement
    Batch batch;  // what the sources read into
    // The last ReadOne() returned rows or ended a partition; false after a read of nothing.
    bool read_rows = false;
    Clock::time_point last_watermark_flush{};
  };

  // A statement's part of the graph as built: its planned tasks, channels and entry points.
  struct StatementPlan {
    const StatementTasks* tasks = nullptr;  // what PlanTaskGraph decided for it (in `graph`)
    // Forwarding (the source is partitioned by the stage's key): each worker's stage reads its
    // own partitions' rows over one channel, no hashing.
    std::vector<std::vector<std::unique_ptr<Channel>>> exchange;  // [sender][receiver]; forward: [w][0] to w
    std::vector<std::unique_ptr<Channel>> gather;                 // [worker]
    std::atomic<bool> done{false};                                // its gather tail needs no more rows
    Operator* gather_head = nullptr;                              // coordinator: where gathered rows enter
    // For EXPLAIN, worker 0's parts: its source-side task (index in pre_tasks), stage head.
    size_t explain_pre_task = 0;
    const Operator* explain_stage_head = nullptr;
    FanOutOperator* stream_output = nullptr;
    // A ROWS window's event time column, when the exchange carries watermarks computed from it.
    BoundExpressionPtr carried_event_time;
  };

  const BoundJob& job;
  RunOptions options;
  const TaskGraph graph;
  const int workers_count;
  // The whole graph fused into one task on the calling thread (no channels).
  const bool fused;
  std::vector<std::unique_ptr<SourcePartition>> sources;        // one per graph.readers entry
  std::vector<std::shared_ptr<DeadLetterWriter>> dead_letters;  // per job source
  std::vector<std::unique_ptr<StatementPlan>> plans;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<WorkerPlacement> placements;
  std::unique_ptr<InputTask> gather;  // coordinator
  std::vector<std::unique_ptr<Operator>> coordinator_owned;
  std::vector<std::unique_ptr<LateRecordSink>> coordinator_late_sinks;
  std::vector<SinkOperator*> coordinator_sinks;
  std::vector<std::unique_ptr<PartitioningCheck>> partitioning_checks;  // per forwarding statement
  std::unique_ptr<StateBudget> state_budget;                            // 'state.max.bytes', when set

  // Watermark alignment: every partition's latest watermark, published by its worker.
  std::optional<int64_t> max_drift;
  std::unique_ptr<std::atomic<int64_t>[]> partition_watermark;
  std::unique_ptr<std::atomic<int64_t>[]> partition_activity;  // wall ms of its last records
  std::unique_ptr<std::atomic<bool>[]> partition_exhausted;

  std::unique_ptr<JobMetrics> metrics;

  // Run state.
  std::atomic<uint64_t> requested_checkpoint{0};
  std::atomic<uint64_t> completed_checkpoint{0};
  uint64_t handed_checkpoint = 0;             // the coordinator's: the last barrier it completed
  Clock::time_point checkpoint_requested_at;  // the coordinator's: when the one in flight was requested
  // A worker's source wants a flush point (its commit interval elapsed): the coordinator
  // starts a checkpoint barrier, and the worker commits once it completes.
  std::atomic<bool> flush_requested{false};
  std::atomic<bool> stop{false};      // cancelled: stop reading sources
  std::atomic<bool> failed{false};    // a task failed: every task stops now
  std::atomic<bool> shutdown{false};  // the run is over: done workers exit
  std::mutex error_mutex;
  absl::Status error;
  bool cancelled = false;

  Impl(const BoundJob& job_in, const RunOptions& options_in, TaskGraph graph_in)
      : job(job_in),
        options(options_in),
        graph(std::move(graph_in)),
        workers_count(graph.workers),
        fused(graph.fused) {}

  int64_t WallMillis() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - metrics->start()).count();
  }

  void Fail(const std::string& task, const absl::Status& status) {
    std::lock_guard<std::mutex> lock(error_mutex);
    if (error.ok()) {
      error = absl::Status(status.code(), StrCat("task '", task, "' failed: ", status.message()));
    }
    failed.store(true, std::memory_order_release);
  }

  absl::Status Build();
  absl::Status BuildStatement(StatementPlan& plan, std::map<std::string, FanOutOperator*>& streams);
  absl::Status BuildFused(StatementPlan& plan, std::map<std::string, FanOutOperator*>& streams);
  // Feeds `head` (the first operator of a statement that reads streams) from the stream it
  // reads, and its second input from the second stream of a join or UNION ALL.
  absl::Status ConnectStreams(const BoundStatement& statement, Operator* head,
                              std::map<std::string, FanOutOperator*>& streams);
  // Builds chain[begin, end) of `plan` for one task into `ops`, each operator's output set to
  // the next. `interleaved`: rows of several partitions interleave, so the stateful operators
  // take only merged watermarks (not per-record ones).
  void BuildOps(const StatementPlan& plan, size_t begin, size_t end, std::vector<std::unique_ptr<Operator>>& owned,
                std::vector<std::unique_ptr<LateRecordSink>>& late_sinks, std::vector<Operator*>& ops,
                bool interleaved);
  // The sink of `statement`: the embedding's, or the one its definition names.
  // With a checkpoint store, a sink that can commits in two phases (connectors/sink.h).
  std::unique_ptr<SinkOperator> MakeSink(const BoundStatement& statement) const {
    std::unique_ptr<SinkOperator> sink =
        options.make_sink ? options.make_sink(statement)
                          : ConnectorRegistry::Default().FindSink(statement.sink->type)->create(
                                *statement.sink, statement.output_schema);
    if (Snapshotting()) sink->EnableTwoPhaseCommit(/*periodic=*/options.checkpoint_store != nullptr);
    return sink;
  }
  // Checkpoint `checkpoint` is durable: the sinks on this (the coordinator's) thread publish
  // what it covers.
  absl::Status CommitSinks(uint64_t checkpoint);
  // The sinks publish what the newest durable checkpoint covers, if they have not yet (the
  // coordinator's loop, fused or not, calls it every turn: a store may write asynchronously).
  absl::Status CommitDurable();
  uint64_t sinks_committed_through = 0;
  // Some sink cannot finish a commit after a restart: each commit is recorded with its
  // checkpoint (CheckpointStore::RecordCommitted).
  bool commit_records = false;
  // The run ended well (its input ended, or it stopped with a savepoint): every sink publishes
  // the rest (SinkOperator::kEndOfRun), and the commit is recorded.
  absl::Status CommitEndOfRun();
  // Parallelism > 1: worker threads, the coordinator on the calling thread.
  absl::Status RunTaskGraph(const std::function<void(const JobCounters&)>& on_progress);
  absl::Status RunFused(const std::function<void(const JobCounters&)>& on_progress);
  // Fused: every sink delivers what it received, then every source commits its positions.
  absl::Status FusedFlushPoint();
  // A worker's source asks for a flush point from inside a read (a Kafka rebalance revokes its
  // partitions): takes part in a checkpoint barrier until one injected now completes, then
  // commits. Runs the worker's stages meanwhile, but reads no source.
  absl::Status WorkerFlushPoint(Worker& worker);
  // Commits the read positions of the last barrier once it completed.
  absl::Status CommitCompleted(Worker& worker);
  absl::Status RestoreState();
  // Operator ids and state signatures, for snapshots that survive a changed query: a stateful
  // operator's id is its statement's uid (its name, or its `-- @uid:`), its kind and its ordinal among the
  // statement's operators of that kind ("volume/aggregate#1"), so that a new filter or a new output column
  // moves no id; its signature is its line of the logical plan, which names what its state is
  // made of (keys, aggregates, window). A sink's id is "<statement>/sink", its signature what it
  // writes to. Operators without an identity (channels, fan-outs) keep no state.
  struct OperatorIdentity {
    std::string uid;
    std::string signature;
  };
  std::unordered_map<const Operator*, OperatorIdentity> identities;
  // The key groups of each keyed stage fed by a keyed exchange, by its task name ("worker
  // w/<statement>/stateful"): a rescaled restore keeps those keys there.
  std::unordered_map<std::string, KeyGroupRange> keyed_stage_groups;
  // The layout of the checkpoint restored (runtime/job_layout.h), if it recorded one.
  std::optional<JobLayout> restored_layout;
  void NameOperator(const BoundStatement& statement, const std::vector<const LogicalOperator*>& chain,
                    size_t i, const Operator* op);
  // Snapshots `op` of `task` into `store` under "<task>|<uid>": the signature, then the
  // operator's own bytes; nothing for an operator that wrote nothing (stateless).
  absl::Status SnapshotOperator(CheckpointStore& store, uint64_t checkpoint, const std::string& task,
                                const Operator& op);
  void RunWorker(Worker& worker);
  // `did_work`: the step did something (else the loop backs off); `worked`: its time counts as
  // busy (not when all it did was a read that returned no rows, e.g. a Kafka poll that waited
  // for messages: that is waiting for input, idle).
  absl::Status WorkerStep(Worker& worker, bool* did_work, bool* worked, bool* blocked);
  // The worker's stateful stages take what arrived on their channels (and align barriers).
  absl::Status StepStage(Worker& worker, bool* did_work);
  // Reads one batch of one of the worker's partitions (in turns). Sets worker.read_rows.
  absl::Status ReadOne(Worker& worker, bool* did_work);
  absl::Status InjectBarrier(Worker& worker, uint64_t checkpoint);
  absl::Status Poll(InputTask& task, bool* did_work);
  absl::Status Align(InputTask& task, uint64_t checkpoint);
  absl::Status FinishGroup(InputGroup& group);
  // Ends every source output of `worker` not ended yet (cancellation, failure): what was read
  // goes on through the operators and sinks; no window becomes final. Stops at the first error
  // (the source output that failed is marked ended, so a second call goes on with the rest).
  // `*finished_any` (optional): whether it ended one.
  absl::Status FinishSources(Worker& worker, bool* finished_any = nullptr);
  // The job takes checkpoints or a savepoint, or resumes from one: sources must record read
  // positions and sinks commit in two phases.
  bool Snapshotting() const {
    return options.checkpoint_store != nullptr || options.savepoint_store != nullptr ||
           options.restore_store != nullptr;
  }
  // The store barrier `barrier` snapshots into: the savepoint's for the savepoint barrier.
  CheckpointStore* StoreFor(uint64_t barrier) const {
    return barrier != 0 && barrier == savepoint_barrier.load(std::memory_order_acquire) ? options.savepoint_store
                                                                                          : options.checkpoint_store;
  }
  // Cancellation with a savepoint store: the savepoint barrier is requested (once no other is
  // in flight) instead of stopping; `stop` follows its completion.
  std::atomic<uint64_t> savepoint_barrier{0};
  bool savepoint_wanted = false;
  // Whether a checkpoint is due: there is a store and its interval elapsed since `last`.
  bool CheckpointDue(Clock::time_point last) const {
    return options.checkpoint_store != nullptr &&
           Clock::now() - last >= std::chrono::milliseconds(options.checkpoint_interval_millis);
  }
  // Barrier `checkpoint` has passed every task: the store (when there is one) completes it, and
  // workers may commit the read positions they recorded with it (CommitCompleted).
  absl::Status CompleteCheckpoint(uint64_t checkpoint);
  bool PartitionAhead(const LocalPartition& partition) const;
};

ParallelRunner::ParallelRunner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ParallelRunner::~ParallelRunner() = default;

absl::StatusOr<std::unique_ptr<ParallelRunner>> ParallelRunner::Create(const BoundJob& job,
                                                                       const RunOptions& options) {
  // A restored checkpoint's layout: its sources' pieces are read again, and a parallelism that
  // differs from its makes the restore a rescaling one.
  std::optional<JobLayout> restored_layout;
  if (options.restore_checkpoint) {
    CheckpointStore* store =
        options.restore_store != nullptr ? options.restore_store : options.checkpoint_store;
    if (store == nullptr) return absl::InvalidArgumentError("a restore needs a checkpoint store");
    SLUICE_ASSIGN_OR_RETURN(restored_layout, JobLayout::Read(*store, *options.restore_checkpoint));
  }
  SLUICE_ASSIGN_OR_RETURN(TaskGraph graph,
                          PlanTaskGraph(job, options, restored_layout ? &*restored_layout : nullptr));
  auto impl = std::make_unique<Impl>(job, options, std::move(graph));
  impl->restored_layout = std::move(restored_layout);
  SLUICE_RETURN_IF_ERROR(impl->Build());
  return std::unique_ptr<ParallelRunner>(new ParallelRunner(std::move(impl)));
}

absl::Status ParallelRunner::Impl::Build() {
  metrics = std::make_unique<JobMetrics>(workers_count, fused);
  if (const auto limit = options.state_max_bytes ? options.state_max_bytes : job.state_max_bytes) {
    state_budget = std::make_unique<StateBudget>(*limit);
  }
  for (int w = 0; w < workers_count; ++w) {
    auto worker = std::make_unique<Worker>();
    worker->index = w;
    worker->metrics = &metrics->worker(w);
    worker->source_active.assign(job.sources.size(), 0);
    worker->source_finished.assign(job.sources.size(), false);
    workers.push_back(std::move(worker));
  }
  // Sources: one reader per planned reader.
  for (size_t s = 0; s < job.sources.size(); ++s) {
    const SourceDefinition& definition = job.sources[s];
    if (definition.alignment_max_drift_millis) max_drift = *definition.alignment_max_drift_millis;
    dead_letters.push_back(std::make_shared<DeadLetterWriter>(definition.name, definition.dead_letter_path));
    metrics->AddDeadLetters(dead_letters.back().get());
  }
  // The readers of a source whose connector deals its partitions out itself (one per worker,
  // a Kafka consumer group) share a LocalReaderGroup.
  std::vector<std::shared_ptr<LocalReaderGroup>> groups(job.sources.size());
  if (!options.make_source) {
    std::vector<size_t> readers_of(job.sources.size(), 0);
    for (const ReaderPlan& reader : graph.readers) ++readers_of[reader.source];
    for (size_t s = 0; s < job.sources.size(); ++s) {
      if (!ConnectorRegistry::Default().FindSource(job.sources[s].type)->reader_per_worker.empty())
        groups[s] = std::make_shared<LocalReaderGroup>(readers_of[s]);
    }
  }
  for (const ReaderPlan& reader : graph.readers) {
    const SourceDefinition& definition = job.sources[reader.source];
    if (options.make_source) {
      sources.push_back(
          options.make_source(definition, reader.definition_partition, dead_letters[reader.source]));
    } else {
      const SourceConnector& connector = *ConnectorRegistry::Default().FindSource(definition.type);
      sources.push_back(connector.create(
          definition, reader.definition_partition, dead_letters[reader.source],
          SourceReaderOptions{options.batch_size, options.strict, reader.split, groups[reader.source]}));
    }
  }
  partition_watermark = std::make_unique<std::atomic<int64_t>[]>(sources.size());
  partition_activity = std::make_unique<std::atomic<int64_t>[]>(sources.size());
  partition_exhausted = std::make_unique<std::atomic<bool>[]>(sources.size());
  metrics->SetPublishedWatermarks(partition_watermark.get());
  for (size_t g = 0; g < sources.size(); ++g) {
    partition_watermark[g].store(INT64_MIN);
    partition_activity[g].store(0);
    partition_exhausted[g].store(false);
    metrics->AddSource(sources[g].get());
    Worker& worker = *workers[graph.readers[g].worker];
    LocalPartition local;
    local.source = sources[g].get();
    local.global = g;
    local.source_index = graph.readers[g].source;
    local.local = worker.source_active[local.source_index]++;
    worker.partitions.push_back(local);
  }
  for (auto& worker : workers) {
    for (size_t s = 0; s < job.sources.size(); ++s) {
      worker->source_outputs.push_back(std::make_unique<FanOutOperator>());
      worker->source_mergers.push_back(std::make_unique<WatermarkMerger>(
          std::max<size_t>(worker->source_active[s], 1), job.sources[s].idle_timeout_millis, 0));
    }
    worker->stage = std::make_unique<InputTask>();
    worker->stage->name = StrCat("worker ", worker->index, " stateful stages");
  }
  gather = std::make_unique<InputTask>();
  gather->name = "coordinator (gather, sinks)";

  std::map<std::string, FanOutOperator*> streams;  // coordinator: stream name -> its fan-out
  for (const StatementTasks& tasks : graph.statements) {
    auto plan = std::make_unique<StatementPlan>();
    plan->tasks = &tasks;
    SLUICE_RETURN_IF_ERROR(fused ? BuildFused(*plan, streams) : BuildStatement(*plan, streams));
    if (tasks.stateful) metrics->AddKeyedStage(tasks.keyed_input == KeyedInput::kForward);
    plans.push_back(std::move(plan));
  }
  for (auto& worker : workers) {
    if (worker->stage->inputs.empty()) worker->stage.reset();
  }
  // Flush points a source runs itself (a Kafka rebalance revoking partitions).
  for (size_t g = 0; g < sources.size(); ++g) {
    Worker* worker = workers[graph.readers[g].worker].get();
    if (fused) {
      sources[g]->SetFlushHook([this]() { return FusedFlushPoint(); });
    } else {
      sources[g]->SetFlushHook([this, worker]() { return WorkerFlushPoint(*worker); });
    }
  }
  if (Snapshotting()) {
    for (size_t g = 0; g < sources.size(); ++g) {
      if (sources[g]->SupportsCheckpoints()) continue;
      const SourceDefinition& definition = job.sources[graph.readers[g].source];
      return absl::FailedPreconditionError(
          StrCat("source '", definition.name, "' (", definition.type,
                 ") cannot resume from a checkpoint: only file sources reading regular files and Kafka "
                 "sources record their read positions; run this job without a checkpoint directory"));
    }
  }
  if (options.checkpoint_store != nullptr) {
    for (auto& source : sources) source->CommitOnCheckpoints();
  }
  // A sink that cannot finish a commit after a restart (a Kafka transaction): checkpoints are
  // restorable only once their output is committed.
  std::vector<SinkOperator*> all_sinks = coordinator_sinks;
  for (auto& worker : workers) all_sinks.insert(all_sinks.end(), worker->sinks.begin(), worker->sinks.end());
  for (SinkOperator* sink : all_sinks) commit_records = commit_records || !sink->RecommitsOnRestore();
  if (commit_records) {
    for (CheckpointStore* store : {options.checkpoint_store, options.savepoint_store}) {
      if (store != nullptr) store->RequireCommitRecords();
    }
  }
  return options.restore_checkpoint ? RestoreState() : absl::OkStatus();
}

void ParallelRunner::Impl::BuildOps(const StatementPlan& plan, size_t begin, size_t end,
                                    std::vector<std::unique_ptr<Operator>>& owned,
                                    std::vector<std::unique_ptr<LateRecordSink>>& late_sinks,
                                    std::vector<Operator*>& ops, bool interleaved) {
  const StatementTasks& tasks = *plan.tasks;
  const BoundStatement& statement = *tasks.statement;
  for (size_t i = begin; i < end; ++i) {
    const LogicalOperator& node = *tasks.chain[i];
    LateRecordSink* late_sink = nullptr;
    if (LateRowsDeadLettered(node)) {
      // Late rows go to the dead-letter output of the source the statement reads.
      const std::string origin = OriginSource(job, statement);
      for (size_t s = 0; s < job.sources.size(); ++s) {
        if (job.sources[s].name == origin) {
          late_sinks.push_back(MakeDeadLetterLateSink(node, *dead_letters[s]));
          late_sink = late_sinks.back().get();
        }
      }
    }
    std::unique_ptr<Operator> op = MakeOperator(node, late_sink);
    NameOperator(statement, tasks.chain, i, op.get());
    op->SetStateBudget(state_budget.get());
    if (StatefulOperator* stateful = op->stateful()) {
      stateful->SetInputInterleaved(interleaved);
      metrics->AddStatefulOperator(stateful);
    }
    if (!ops.empty()) ops.back()->SetOutput(op.get());
    ops.push_back(op.get());
    owned.push_back(std::move(op));
  }
}

absl::Status ParallelRunner::Impl::ConnectStreams(const BoundStatement& statement, Operator* head,
                                                  std::map<std::string, FanOutOperator*>& streams) {
  auto upstream = streams.find(statement.input_name);
  if (upstream == streams.end()) return absl::InternalError(StrCat("no stream '", statement.input_name, "'"));
  upstream->second->AddConsumer(head);
  if (statement.second_input_name.empty()) return absl::OkStatus();
  Operator* second = head->second_input();
  auto other = streams.find(statement.second_input_name);
  if (second == nullptr || other == streams.end()) {
    return absl::InternalError(StrCat("no second input '", statement.second_input_name, "'"));
  }
  other->second->AddConsumer(second);
  return absl::OkStatus();
}

absl::Status ParallelRunner::Impl::BuildFused(StatementPlan& plan, std::map<std::string, FanOutOperator*>& streams) {
  const StatementTasks& tasks = *plan.tasks;
  const BoundStatement& statement = *tasks.statement;
  Worker& worker = *workers[0];
  PreTask task;
  task.name = StrCat("task/", statement.operator_id_prefix());
  // The whole chain on the calling thread: per-record watermarks unless the origin source's
  // rows interleave several partitions (files, Kafka partitions) in its batches.
  BuildOps(plan, 0, tasks.chain.size(), worker.owned, worker.late_sinks, task.ops,
           InputInterleaves(job, statement));
  auto fan_out = std::make_unique<FanOutOperator>();
  plan.stream_output = fan_out.get();
  if (!task.ops.empty()) task.ops.back()->SetOutput(fan_out.get());
  task.ops.push_back(fan_out.get());
  worker.owned.push_back(std::move(fan_out));
  streams[statement.name] = plan.stream_output;
  if (statement.sink) {
    std::unique_ptr<SinkOperator> sink = MakeSink(statement);
    identities[sink.get()] = {StrCat(statement.operator_id_prefix(), "/sink"), sink->StateSignature()};
    plan.stream_output->AddConsumer(sink.get());
    task.ops.push_back(sink.get());  // snapshotted with the task's operators
    task.sinks.push_back(sink.get());
    worker.sinks.push_back(sink.get());
    worker.metrics->sinks.push_back(sink.get());
    worker.owned.push_back(std::move(sink));
  }
  Operator* head = task.ops.front();
  plan.gather_head = head;
  if (statement.input_is_stream) {
    SLUICE_RETURN_IF_ERROR(ConnectStreams(statement, head, streams));
  } else {
    worker.source_outputs[*tasks.source]->AddConsumer(head);
  }
  plan.explain_pre_task = worker.pre_tasks.size();
  worker.pre_tasks.push_back(std::move(task));
  return absl::OkStatus();
}

absl::Status ParallelRunner::Impl::BuildStatement(StatementPlan& plan,
                                                  std::map<std::string, FanOutOperator*>& streams) {
  const StatementTasks& tasks = *plan.tasks;
  const BoundStatement& statement = *tasks.statement;
  const size_t n = static_cast<size_t>(workers_count);
  const bool forward = tasks.keyed_input == KeyedInput::kForward;
  const bool worker_sinks = tasks.sink == SinkPlacement::kEachWorker;
  auto build_ops = [&](size_t begin, size_t end, std::vector<std::unique_ptr<Operator>>& owned,
                       std::vector<std::unique_ptr<LateRecordSink>>& late_sinks, std::vector<Operator*>& ops,
                       bool interleaved) { BuildOps(plan, begin, end, owned, late_sinks, ops, interleaved); };
  auto types_of = [](const Schema& schema) {
    std::vector<TypeId> types;
    for (const auto& field : schema.fields()) types.push_back(field.type);
    return types;
  };
  auto schema_before = [&](size_t index) -> const Schema& {
    return tasks.chain.empty() || index >= tasks.chain.size() ? statement.output_schema
                                                              : tasks.chain[index]->input->schema;
  };
  const size_t channel_rows = 2 * std::max<size_t>(options.batch_size, 1);
  const size_t capacity = std::max<size_t>(options.channel_capacity, 2);
  auto make_sink = [&](int worker) -> std::unique_ptr<SinkOperator> {
    if (worker >= 0) return options.make_worker_sink(statement, worker);
    return MakeSink(statement);
  };

  // --- coordinator part: the gather tail, or the whole chain for a statement reading a stream.
  std::vector<Operator*> tail;
  const size_t tail_begin = tasks.reads_stream ? 0 : tasks.gather_begin;
  build_ops(tail_begin, tasks.chain.size(), coordinator_owned, coordinator_late_sinks, tail,
            /*interleaved=*/true);
  for (Operator* op : tail)
    gather->snapshot_ops.emplace_back(StrCat("coordinator/", statement.operator_id_prefix()), op);
  auto fan_out = std::make_unique<FanOutOperator>();
  plan.stream_output = fan_out.get();
  if (!tail.empty()) tail.back()->SetOutput(fan_out.get());
  coordinator_owned.push_back(std::move(fan_out));
  streams[statement.name] = plan.stream_output;
  if (statement.sink && !worker_sinks) {
    std::unique_ptr<SinkOperator> sink = make_sink(-1);
    coordinator_sinks.push_back(sink.get());
    metrics->AddCoordinatorSink(sink.get());
    gather->sinks.push_back(sink.get());
    identities[sink.get()] = {StrCat(statement.operator_id_prefix(), "/sink"), sink->StateSignature()};
    gather->snapshot_ops.emplace_back(StrCat("coordinator/", statement.operator_id_prefix()), sink.get());
    plan.stream_output->AddConsumer(sink.get());
    coordinator_owned.push_back(std::move(sink));
  }
  Operator* coordinator_head = tail.empty() ? static_cast<Operator*>(plan.stream_output) : tail.front();
  plan.gather_head = coordinator_head;
  if (tasks.reads_stream) return ConnectStreams(statement, coordinator_head, streams);
  const std::optional<size_t> source = tasks.source;

  // --- gather channels: worker -> coordinator.
  const Schema& gathered_schema = schema_before(tasks.gather_begin);
  if (tasks.gathered) {
    InputGroup group;
    group.head = coordinator_head;
    group.merger = std::make_unique<WatermarkMerger>(n, job.sources[*source].idle_timeout_millis, 0);
    group.open_inputs = n;
    const size_t group_index = gather->groups.size();
    gather->groups.push_back(std::move(group));
    for (size_t w = 0; w < n; ++w) {
      plan.gather.push_back(std::make_unique<Channel>(types_of(gathered_schema), channel_rows, capacity));
      metrics->AddChannel(plan.gather.back().get(), statement.name, "gather", w, n);
      ChannelInput input;
      input.channel = plan.gather.back().get();
      input.group = group_index;
      input.index = w;
      gather->inputs.push_back(input);
    }
  }
  // --- keyed exchange channels: worker -> worker.
  const Schema& exchanged_schema = schema_before(tasks.pre_end);
  PartitioningCheck* partitioning_check = nullptr;
  if (forward) {
    // The declaration spares the exchange; each stage checks it as keys arrive.
    const SourceDefinition& definition = job.sources[*source];
    std::vector<std::string> worker_partitions(n);
    for (const ReaderPlan& reader : graph.readers) {
      if (reader.source != *source) continue;
      std::string& text = worker_partitions[reader.worker];
      const size_t k = reader.partition;
      StrAppend(&text, text.empty() ? "" : ", ", "partition ", k);
      if (!options.make_source && k < definition.partitions.size())
        StrAppend(&text, " (", definition.partitions[k], ")");
    }
    partitioning_checks.push_back(std::make_unique<PartitioningCheck>(
        StrCat("'", definition.name, ".partitioned.by' (", StrJoin(definition.partitioned_by, ", "), ")"),
        std::move(worker_partitions)));
    partitioning_check = partitioning_checks.back().get();
  }
  // The exchange carries each row's watermark (see StatefulOperator::UseCarriedWatermarks).
  const BoundExpression* carried_time = nullptr;
  if (tasks.carries_watermarks) {
    const LogicalOperator& stateful = *tasks.chain[*tasks.stateful];
    if (stateful.kind == LogicalOperatorKind::kAggregate) {
      const AggregateDefinition& aggregate = *stateful.aggregate;
      carried_time = aggregate.window ? aggregate.window->time.get() : aggregate.ttl_time.get();
    } else if (stateful.kind == LogicalOperatorKind::kTopN) {
      // A keep-first deduplication: the event time column it orders by (TopNReadsWatermark).
      const TopNSpec& top_n = *stateful.top_n;
      plan.carried_event_time = MakeColumnReference(static_cast<size_t>(top_n.event_time_column),
                                                    TypeId::kTimestamp, kEventTimeColumn);
      carried_time = plan.carried_event_time.get();
    } else {
      const RowsWindowSpec& rows = *stateful.rows_window;
      plan.carried_event_time = MakeColumnReference(static_cast<size_t>(rows.event_time_column),
                                                    TypeId::kTimestamp, kEventTimeColumn);
      carried_time = plan.carried_event_time.get();
    }
    SLUICE_CHECK(carried_time != nullptr);
  }
  std::vector<TypeId> exchanged_types = types_of(exchanged_schema);
  if (carried_time != nullptr) exchanged_types.push_back(TypeId::kInt64);
  // Into a GROUP BY over plain columns, each row's key words and hash (ChannelSender::CarryKeys).
  const std::vector<size_t>& carried_key_columns = tasks.carried_key_columns;
  const size_t carried_keys_column = exchanged_types.size();
  if (!carried_key_columns.empty())
    exchanged_types.insert(exchanged_types.end(), carried_key_columns.size() + 2, TypeId::kInt64);
  if (tasks.stateful) {
    plan.exchange.resize(n);
    for (size_t from = 0; from < n; ++from) {
      for (size_t to = 0; to < (forward ? 1 : n); ++to) {
        plan.exchange[from].push_back(std::make_unique<Channel>(exchanged_types, channel_rows, capacity));
        metrics->AddChannel(plan.exchange[from].back().get(), statement.name,
                            forward ? "forward" : "exchange", from, forward ? from : to);
      }
    }
  }
  // --- per worker: the source-side chain and the stateful stage.
  for (size_t w = 0; w < n; ++w) {
    Worker& worker = *workers[w];
    // What the worker-side chain ends in: the gather channel or its own sink.
    auto terminal = [&](std::vector<Operator*>& ops, std::vector<SinkOperator*>& sinks,
                        std::vector<std::pair<std::string, Operator*>>* snapshot, const std::string& task) {
      std::unique_ptr<Operator> end;
      if (worker_sinks) {
        std::unique_ptr<SinkOperator> sink = make_sink(static_cast<int>(w));
        identities[sink.get()] = {StrCat(statement.operator_id_prefix(), "/sink"), sink->StateSignature()};
        sinks.push_back(sink.get());
        worker.sinks.push_back(sink.get());
        worker.metrics->sinks.push_back(sink.get());
        end = std::move(sink);
      } else {
        auto sender = std::make_unique<ChannelSender>(
            std::vector<Channel*>{plan.gather[w].get()}, std::vector<const BoundExpression*>{},
            std::vector<size_t>{}, StrCat("Gather -> coordinator (", statement.name, ")"));
        sender->SetDoneFlag(&plan.done);
        worker.senders.push_back(sender.get());
        end = std::move(sender);
      }
      if (!ops.empty()) ops.back()->SetOutput(end.get());
      ops.push_back(end.get());
      if (snapshot != nullptr) snapshot->emplace_back(task, end.get());
      worker.owned.push_back(std::move(end));
    };
    PreTask pre;
    pre.name = StrCat("worker ", w, "/", statement.operator_id_prefix(), "/source side");
    build_ops(0, tasks.pre_end, worker.owned, worker.late_sinks, pre.ops, /*interleaved=*/false);
    if (tasks.stateful) {
      std::vector<Channel*> outgoing;
      for (const auto& channel : plan.exchange[w]) outgoing.push_back(channel.get());
      std::unique_ptr<ChannelSender> sender;
      if (forward) {
        const SourceDefinition& definition = job.sources[*source];
        sender = std::make_unique<ChannelSender>(
            std::move(outgoing), std::vector<const BoundExpression*>{}, std::vector<size_t>{},
            StrCat("Forward to this worker's keyed stage (no exchange: ", definition.name,
                   " is partitioned by ", StrJoin(definition.partitioned_by, ", "), ")"));
      } else {
        sender = std::make_unique<ChannelSender>(
            std::move(outgoing), tasks.key.expressions, tasks.key.columns,
            StrCat("Exchange ", tasks.key.text, " -> ", n, " workers",
                   tasks.forward_not_used.empty() ? "" : StrCat(" (", tasks.forward_not_used, ")")));
      }
      // Rows go by reference (no copy), the carried watermark and keys in columns of the
      // sender's own: on 2 workers this measured 5-15% faster than copying the rows out. A
      // source whose batches are what arrived (Kafka polls) has them copied, which gathers
      // them into full channel batches: sharing slices of small batches measured slower.
      const bool fills_batches =
          options.make_source != nullptr ||
          ConnectorRegistry::Default().FindSource(job.sources[*source].type)->fills_batches;
      if (fills_batches) sender->ShareInput();
      if (carried_key_columns.empty()) {
        sender->CopyOnly(ColumnsReadBy(*tasks.chain[*tasks.stateful]));
      } else {
        // A key column read only as the key travels as words (a STRING one for long strings).
        std::vector<bool> copied = ColumnsReadBy(*tasks.chain[*tasks.stateful], /*keys=*/false);
        std::vector<bool> partial;
        for (size_t column : carried_key_columns) {
          partial.push_back(!copied[column] && exchanged_schema.field(column).type == TypeId::kString);
        }
        sender->CopyOnly(std::move(copied));
        sender->CarryKeys(carried_key_columns, std::move(partial));
      }
      if (carried_time != nullptr) {
        sender->CarryWatermarks(*carried_time, job.sources[*source].max_out_of_orderness_millis);
      }
      worker.senders.push_back(sender.get());
      worker.source_senders.push_back(sender.get());
      if (!pre.ops.empty()) pre.ops.back()->SetOutput(sender.get());
      pre.ops.push_back(sender.get());
      worker.owned.push_back(std::move(sender));

      // The stateful stage: chain[stateful, gather_begin), fed by every worker's sender.
      InputTask& stage = *worker.stage;
      std::vector<Operator*> ops;
      build_ops(*tasks.stateful, tasks.gather_begin, worker.owned, worker.late_sinks, ops,
                /*interleaved=*/carried_time == nullptr);
      if (partitioning_check != nullptr && !ops.front()->ObserveNewKeys(partitioning_check->ForWorker(w))) {
        return absl::InternalError(StrCat("the keyed stage of '", statement.name, "' reports no keys"));
      }
      if (!carried_key_columns.empty()) {
        StatefulOperator* stateful = ops.front()->stateful();
        SLUICE_CHECK(stateful != nullptr && stateful->UseCarriedKeys(carried_keys_column));
      }
      if (carried_time != nullptr) {
        StatefulOperator* stateful = ops.front()->stateful();
        if (stateful == nullptr) {
          return absl::InternalError(StrCat("the keyed stage of '", statement.name, "' keeps no state"));
        }
        stateful->UseCarriedWatermarks(exchanged_schema.fields().size());
      }
      const std::string task = StrCat("worker ", w, "/", statement.operator_id_prefix(), "/stateful");
      if (!forward)
        keyed_stage_groups[task] = KeyGroupRangeOf(static_cast<uint32_t>(w), static_cast<uint32_t>(n));
      for (Operator* op : ops) stage.snapshot_ops.emplace_back(task, op);
      std::vector<SinkOperator*> sinks;
      terminal(ops, sinks, &stage.snapshot_ops, task);
      if (!worker_sinks) stage.forwards.push_back(static_cast<ChannelSender*>(ops.back()));
      for (SinkOperator* sink : sinks) stage.sinks.push_back(sink);
      InputGroup group;
      group.head = ops.front();
      // Its inputs: every worker's sender, or with forwarding only its own.
      std::vector<Channel*> incoming;
      if (forward) {
        incoming.push_back(plan.exchange[w][0].get());
      } else {
        for (size_t from = 0; from < n; ++from) incoming.push_back(plan.exchange[from][w].get());
      }
      group.merger =
          std::make_unique<WatermarkMerger>(incoming.size(), job.sources[*source].idle_timeout_millis, 0);
      group.open_inputs = incoming.size();
      if (w == 0) plan.explain_stage_head = group.head;
      const size_t stage_group = stage.groups.size();
      stage.groups.push_back(std::move(group));
      for (size_t index = 0; index < incoming.size(); ++index) {
        ChannelInput input;
        input.channel = incoming[index];
        input.group = stage_group;
        input.index = index;
        stage.inputs.push_back(input);
      }
    } else {
      terminal(pre.ops, pre.sinks, nullptr, pre.name);
      if (!worker_sinks) worker.source_senders.push_back(static_cast<ChannelSender*>(pre.ops.back()));
    }
    worker.source_outputs[*source]->AddConsumer(pre.ops.front());
    if (w == 0) plan.explain_pre_task = worker.pre_tasks.size();
    worker.pre_tasks.push_back(std::move(pre));
  }
  return absl::OkStatus();
}

void ParallelRunner::Impl::NameOperator(const BoundStatement& statement,
                                        const std::vector<const LogicalOperator*>& chain, size_t i,
                                        const Operator* op) {
  const std::string plan_line = chain[i]->ToString();
  std::string signature = plan_line.substr(0, plan_line.find('\n'));
  // The kind: the line's first word, e.g. "Aggregate".
  std::string kind = signature.substr(0, signature.find(' '));
  int ordinal = 0;
  for (size_t j = 0; j <= i; ++j) ordinal += chain[j]->kind == chain[i]->kind;
  for (char& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  identities[op] = {StrCat(statement.operator_id_prefix(), "/", kind, "#", ordinal), std::move(signature)};
}

absl::Status ParallelRunner::Impl::SnapshotOperator(CheckpointStore& store, uint64_t checkpoint,
                                                    const std::string& task, const Operator& op) {
  auto it = identities.find(&op);
  if (it == identities.end()) return absl::OkStatus();  // plumbing: no state
  const std::string key = StrCat(task, "|", it->second.uid);
  StateWriter writer(store.TakeBuffer(key, 0));
  writer.WriteBytes(it->second.signature);
  const size_t header = writer.size();
  SLUICE_RETURN_IF_ERROR(op.Snapshot(writer));
  if (writer.size() == header) return absl::OkStatus();  // stateless
  return store.Put(checkpoint, key, 0, writer.Release());
}

absl::Status ParallelRunner::Impl::RestoreState() {
  CheckpointStore* store = options.restore_store != nullptr ? options.restore_store : options.checkpoint_store;
  if (store == nullptr) return absl::InvalidArgumentError("a restore needs a checkpoint store");
  const uint64_t checkpoint = *options.restore_checkpoint;
  const char* what = options.restore_store != nullptr ? "savepoint" : "checkpoint";
  // Taken at another parallelism: state moves between instances (rescaling).
  const uint32_t taken_workers =
      restored_layout ? restored_layout->workers : static_cast<uint32_t>(workers_count);
  const bool rescaled = taken_workers != static_cast<uint32_t>(workers_count);
  std::unordered_set<std::string> claimed = {JobLayout::kLayoutTask};
  // The operators' snapshots in the checkpoint by operator id: "<task>|<uid>" keys.
  std::unordered_map<std::string, std::vector<std::string>> snapshots_of;
  for (const std::string& task : store->TasksOf(checkpoint)) {
    const size_t bar = task.find('|');
    if (bar != std::string::npos) snapshots_of[task.substr(bar + 1)].push_back(task);
  }
  auto restore_source = [&](const std::string& task, SourcePartition& source) -> absl::Status {
    claimed.insert(task);
    SLUICE_ASSIGN_OR_RETURN(std::string bytes, store->Get(checkpoint, task, 0));
    StateReader reader(bytes);
    absl::Status status = source.Restore(reader);
    if (!status.ok()) {
      return absl::Status(status.code(),
                          StrCat("restoring ", what, " ", checkpoint, ", ", task, ": ", status.message()));
    }
    return absl::OkStatus();
  };
  // An operator finds its state by its id; one whose state is missing or was built for another
  // operator (its signature differs) refuses the restore, naming it. Rescaled, it takes every
  // snapshot of its id, and keeps what its place holds: `keyed`, the key groups of a keyed
  // stage; `whole`, the one instance of the operator (fused, or on the coordinator), all of it.
  // An operator of a source-side task or of a stage fed by its worker's own partitions keeps
  // state that follows the sources' partitions, not keys: it restores only as taken.
  auto restore = [&](const std::string& task, Operator& op, std::optional<KeyGroupRange> keyed,
                     bool whole) -> absl::Status {
    auto it = identities.find(&op);
    if (it == identities.end()) return absl::OkStatus();
    const OperatorIdentity& identity = it->second;
    std::vector<std::string> keys;
    if (auto found = snapshots_of.find(identity.uid); found != snapshots_of.end()) {
      if (rescaled) {
        keys = found->second;
      } else if (const std::string key = StrCat(task, "|", identity.uid);
                 std::find(found->second.begin(), found->second.end(), key) != found->second.end()) {
        keys.push_back(key);
      }
    }
    if (keys.empty()) {
      StateReader nothing(std::string_view{});
      if (op.Restore(nothing).ok()) return absl::OkStatus();  // it keeps no state
      return absl::FailedPreconditionError(StrCat(
          "operator '", identity.uid, "' (", identity.signature, ") has no state in ", what, " ", checkpoint,
          ": the query changed so that its state cannot be restored (a new stateful operator, or a "
          "renamed statement); restore this query from the beginning, or restore the query that took it"));
    }
    std::vector<std::string> bytes;
    std::vector<StateReader> readers;
    bytes.reserve(keys.size());
    readers.reserve(keys.size());
    for (const std::string& key : keys) {
      claimed.insert(key);
      SLUICE_ASSIGN_OR_RETURN(bytes.emplace_back(), store->Get(checkpoint, key, 0));
      StateReader& reader = readers.emplace_back(bytes.back());
      SLUICE_ASSIGN_OR_RETURN(const std::string_view signature, reader.ReadBytes());
      if (signature != identity.signature) {
        return absl::FailedPreconditionError(StrCat(
            "operator '", identity.uid, "': its state in ", what, " ", checkpoint, " was built for `",
            signature, "` and this query has `", identity.signature,
            "`: the change is not compatible with its state (a compatible change adds a filter or an output "
            "column computed from the same aggregates)"));
      }
    }
    absl::Status status;
    if (!rescaled || (whole && readers.size() == 1)) {
      status = op.Restore(readers[0]);
    } else if (whole || keyed) {
      std::vector<StateReader*> parts;
      for (StateReader& reader : readers) parts.push_back(&reader);
      // One new instance takes the counters over: the one holding key group 0.
      const KeyGroupRange keep = whole ? KeyGroupRange{} : *keyed;
      status = op.RestoreRescaled(parts, keep, keep.first == 0);
      if (absl::IsUnimplemented(status)) {
        return absl::FailedPreconditionError(
            StrCat("operator '", identity.uid, "' (", identity.signature, "): ", status.message(), "; ", what,
                   " ", checkpoint, " was taken with ", taken_workers, " worker(s) and this run has ",
                   workers_count, ": restore it at parallelism ", taken_workers));
      }
    } else {
      return absl::FailedPreconditionError(StrCat(
          "operator '", identity.uid, "' (", identity.signature, ") keeps state per source partition (", task,
          "), which cannot move between workers; ", what, " ", checkpoint, " was taken with ", taken_workers,
          " worker(s) and this run has ", workers_count, ": restore it at parallelism ", taken_workers));
    }
    if (!status.ok()) {
      return absl::Status(status.code(), StrCat("restoring ", what, " ", checkpoint, ", operator '",
                                                identity.uid, "' (", task, "): ", status.message()));
    }
    return absl::OkStatus();
  };
  for (size_t g = 0; g < sources.size(); ++g) {
    const ReaderPlan& reader = graph.readers[g];
    const std::string prefix = StrCat("source/", job.sources[reader.source].name, "/");
    if (rescaled && reader.per_worker) {
      // A connector that deals its partitions out (a Kafka group) pools the positions its
      // readers restore: the old readers' snapshots are shared out among the new ones.
      const size_t readers_now = graph.source_partitions[reader.source];
      for (size_t old = reader.partition; old < taken_workers; old += readers_now) {
        SLUICE_RETURN_IF_ERROR(restore_source(StrCat(prefix, old), *sources[g]));
      }
      continue;
    }
    SLUICE_RETURN_IF_ERROR(restore_source(StrCat(prefix, reader.partition), *sources[g]));
  }
  for (auto& worker : workers) {
    for (PreTask& pre : worker->pre_tasks) {
      for (Operator* op : pre.ops)
        SLUICE_RETURN_IF_ERROR(restore(pre.name, *op, std::nullopt, /*whole=*/fused));
    }
    if (worker->stage) {
      for (auto& [task, op] : worker->stage->snapshot_ops) {
        auto keyed = keyed_stage_groups.find(task);
        SLUICE_RETURN_IF_ERROR(
            restore(task, *op,
                    keyed != keyed_stage_groups.end() ? std::optional(keyed->second) : std::nullopt, false));
      }
    }
  }
  for (auto& [task, op] : gather->snapshot_ops)
    SLUICE_RETURN_IF_ERROR(restore(task, *op, std::nullopt, true));
  // State no operator of this query claimed: the query lost a stateful operator.
  for (const std::string& task : store->TasksOf(checkpoint)) {
    if (claimed.count(task) != 0) continue;
    const size_t bar = task.find('|');
    return absl::FailedPreconditionError(StrCat(
        what, " ", checkpoint, " holds state for ",
        bar == std::string::npos ? StrCat("'", task, "'") : StrCat("operator '", task.substr(bar + 1), "'"),
        ", which this query no longer has: restoring would drop it; restore the query that took it"));
  }
  Log(LogComponent::kRuntime)
      .info("{} {} restored{}", what, checkpoint,
            rescaled ? StrCat(" (taken with ", taken_workers, " worker(s), restored on ", workers_count, ")")
                     : "");
  return absl::OkStatus();
}

absl::Status ParallelRunner::Impl::FinishGroup(InputGroup& group) {
  group.finished = true;
  // All inputs ended: a bounded input makes every window final; a cancelled or failed run not.
  if (!stop.load(std::memory_order_relaxed) && !failed.load(std::memory_order_relaxed)) {
    SLUICE_RETURN_IF_ERROR(group.head->OnWatermark(kMaxWatermark));
  }
  return group.head->Finish();
}

absl::Status ParallelRunner::Impl::FinishSources(Worker& worker, bool* finished_any) {
  for (size_t s = 0; s < worker.source_finished.size(); ++s) {
    if (worker.source_finished[s]) continue;
    worker.source_finished[s] = true;
    if (finished_any != nullptr) *finished_any = true;
    SLUICE_RETURN_IF_ERROR(worker.source_outputs[s]->Finish());
  }
  return absl::OkStatus();
}

absl::Status ParallelRunner::Impl::CommitSinks(uint64_t checkpoint) {
  for (SinkOperator* sink : fused ? workers[0]->sinks : coordinator_sinks) {
    SLUICE_RETURN_IF_ERROR(sink->Commit(checkpoint));
  }
  return absl::OkStatus();
}

absl::Status ParallelRunner::Impl::CommitDurable() {
  CheckpointStore* store = options.checkpoint_store;
  if (store == nullptr) return absl::OkStatus();
  const uint64_t durable = store->durable_checkpoint();
  if (durable <= sinks_committed_through) return absl::OkStatus();
  sinks_committed_through = durable;
  SLUICE_RETURN_IF_ERROR(CommitSinks(durable));
  if (commit_records) SLUICE_RETURN_IF_ERROR(store->RecordCommitted(durable));
  // Only now may sources commit the positions the checkpoint holds (CommitCompleted), and the
  // next barrier start: the sinks' next part begins after this commit.
  if (durable > completed_checkpoint.load(std::memory_order_relaxed))
    completed_checkpoint.store(durable, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status ParallelRunner::Impl::CommitEndOfRun() {
  SLUICE_RETURN_IF_ERROR(CommitDurable());
  std::vector<SinkOperator*> all_sinks = coordinator_sinks;
  if (fused) all_sinks = workers[0]->sinks;
  for (SinkOperator* sink : all_sinks) SLUICE_RETURN_IF_ERROR(sink->Commit(SinkOperator::kEndOfRun));
  if (!commit_records) return absl::OkStatus();
  if (metrics->savepoint != 0)
    SLUICE_RETURN_IF_ERROR(options.savepoint_store->RecordCommitted(metrics->savepoint));
  return absl::OkStatus();
}

absl::Status ParallelRunner::Impl::CompleteCheckpoint(uint64_t checkpoint) {
  if (CheckpointStore* store = StoreFor(checkpoint)) {
    SLUICE_RETURN_IF_ERROR(store->Put(checkpoint, JobLayout::kLayoutTask, 0, LayoutOf(job, graph).Encode()));
  }
  if (checkpoint == savepoint_barrier.load(std::memory_order_acquire)) {
    // The savepoint: durable before the run stops.
    SLUICE_RETURN_IF_ERROR(options.savepoint_store->Complete(checkpoint));
    SLUICE_RETURN_IF_ERROR(options.savepoint_store->WaitDurable());
    metrics->savepoint = checkpoint;
    Log(LogComponent::kRuntime).info("savepoint {} taken", checkpoint);
    completed_checkpoint.store(checkpoint, std::memory_order_release);
    stop.store(true, std::memory_order_release);
    return absl::OkStatus();
  }
  if (CheckpointStore* store = options.checkpoint_store) {
    SLUICE_RETURN_IF_ERROR(store->Complete(checkpoint));
    ++metrics->checkpoints_completed;
    const double seconds = std::chrono::duration<double>(Clock::now() - checkpoint_requested_at).count();
    metrics->checkpoint_seconds += seconds;
    Log(LogComponent::kRuntime).debug("checkpoint {} taken in {:.1f} ms", checkpoint, 1000 * seconds);
    // Completed once durable and committed (CommitDurable, now or on a later turn).
    return CommitDurable();
  }
  completed_checkpoint.store(checkpoint, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status ParallelRunner::Impl::Align(InputTask& task, uint64_t checkpoint) {
  CheckpointStore* store = StoreFor(checkpoint);
  for (SinkOperator* sink : task.sinks) {
    SLUICE_RETURN_IF_ERROR(sink->Flush());
    if (store != nullptr) SLUICE_RETURN_IF_ERROR(sink->PreCommit(checkpoint));
  }
  for (size_t i = 0; store != nullptr && i < task.snapshot_ops.size(); ++i) {
    SLUICE_RETURN_IF_ERROR(
        SnapshotOperator(*store, checkpoint, task.snapshot_ops[i].first, *task.snapshot_ops[i].second));
  }
  for (ChannelSender* sender : task.forwards) sender->InjectBarrier(checkpoint);
  for (ChannelInput& input : task.inputs) input.blocked = false;
  task.aligning = 0;
  task.last_aligned = checkpoint;
  return absl::OkStatus();
}

absl::Status ParallelRunner::Impl::Poll(InputTask& task, bool* did_work) {
  const size_t count = task.inputs.size();
  size_t budget = kPollBudget;
  for (size_t scanned = 0; scanned < count && budget > 0;) {
    ChannelInput& input = task.inputs[task.next_input];
    Message message;
    if (input.ended || input.blocked || !input.channel->TryPop(message)) {
      task.next_input = (task.next_input + 1) % count;
      ++scanned;
      continue;
    }
    scanned = 0;
    --budget;
    *did_work = true;
    InputGroup& group = task.groups[input.group];
    switch (message.kind) {
      case MessageKind::kBatch:
        if (!group.finished) {
          absl::Status pushed = group.head->Push(*message.batch);
          if (!pushed.ok()) return Annotate(pushed, ChainText(*group.head));
        }
        input.channel->ReleaseBatch(std::move(message.batch));
        group.merger->OnRecords(input.index, input.watermark, WallMillis());
        break;
      case MessageKind::kWatermark: {
        input.watermark = message.value;
        group.merger->OnRecords(input.index, input.watermark, WallMillis());
        const std::optional<int64_t> merged = group.merger->Advance(WallMillis());
        if (merged && !group.finished) SLUICE_RETURN_IF_ERROR(group.head->OnWatermark(*merged));
        break;
      }
      case MessageKind::kBarrier:
        input.blocked = true;
        task.aligning = static_cast<uint64_t>(message.value);
        break;
      case MessageKind::kEnd: {
        input.ended = true;
        group.merger->OnExhausted(input.index);
        if (--group.open_inputs == 0) {
          SLUICE_RETURN_IF_ERROR(FinishGroup(group));
        } else if (const std::optional<int64_t> merged = group.merger->Advance(WallMillis())) {
          SLUICE_RETURN_IF_ERROR(group.head->OnWatermark(*merged));
        }
        break;
      }
    }
    if (task.aligning != 0) {
      bool aligned = true;
      for (const ChannelInput& other : task.inputs) aligned = aligned && (other.blocked || other.ended);
      if (aligned) SLUICE_RETURN_IF_ERROR(Align(task, task.aligning));
    }
    task.next_input = (task.next_input + 1) % count;
    // Output that the ring did not take: stop taking input until it has moved.
    bool output_waiting = false;
    for (ChannelSender* forward : task.forwards) output_waiting = output_waiting || forward->has_pending();
    if (output_waiting) break;
  }
  // Time alone can exclude an idle input and so advance a merged watermark.
  const Clock::time_point now = Clock::now();
  if (now - task.last_advance > std::chrono::milliseconds(10)) {
    task.last_advance = now;
    for (InputGroup& group : task.groups) {
      if (group.finished) continue;
      if (const std::optional<int64_t> merged = group.merger->Advance(WallMillis())) {
        SLUICE_RETURN_IF_ERROR(group.head->OnWatermark(*merged));
      }
    }
  }
  return absl::OkStatus();
}

bool ParallelRunner::Impl::PartitionAhead(const LocalPartition& partition) const {
  if (!max_drift) return false;
  const int64_t mine = partition_watermark[partition.global].load(std::memory_order_relaxed);
  const int64_t now = WallMillis();
  int64_t slowest = INT64_MAX;
  for (size_t g = 0; g < sources.size(); ++g) {
    if (partition_exhausted[g].load(std::memory_order_relaxed)) continue;
    const std::optional<int64_t>& idle = job.sources[graph.readers[g].source].idle_timeout_millis;
    if (idle && g != partition.global && now - partition_activity[g].load(std::memory_order_relaxed) > *idle)
      continue;
    slowest = std::min(slowest, partition_watermark[g].load(std::memory_order_relaxed));
  }
  return RunsAhead(mine, slowest, *max_drift);
}

absl::Status ParallelRunner::Impl::InjectBarrier(Worker& worker, uint64_t checkpoint) {
  CheckpointStore* store = StoreFor(checkpoint);
  for (const LocalPartition& partition : worker.partitions) {
    // The positions to commit once this barrier completes (every record before it delivered).
    partition.source->PrepareFlushPoint();
    if (store == nullptr) continue;  // a barrier for a flush point only: no state to write
    const std::string task = StrCat("source/", job.sources[partition.source_index].name, "/",
                                    graph.readers[partition.global].partition);
    StateWriter writer(store->TakeBuffer(task, 0));
    SLUICE_RETURN_IF_ERROR(partition.source->Snapshot(writer));
    SLUICE_RETURN_IF_ERROR(store->Put(checkpoint, task, 0, writer.Release()));
  }
  for (PreTask& pre : worker.pre_tasks) {
    for (SinkOperator* sink : pre.sinks) {
      SLUICE_RETURN_IF_ERROR(sink->Flush());
      if (store != nullptr) SLUICE_RETURN_IF_ERROR(sink->PreCommit(checkpoint));
    }
    if (store == nullptr) continue;
    for (size_t i = 0; i < pre.ops.size(); ++i) {
      SLUICE_RETURN_IF_ERROR(SnapshotOperator(*store, checkpoint, pre.name, *pre.ops[i]));
    }
  }
  for (ChannelSender* sender : worker.source_senders) sender->InjectBarrier(checkpoint);
  worker.injected = checkpoint;
  // The savepoint: nothing read after it may reach the output.
  if (checkpoint == savepoint_barrier.load(std::memory_order_acquire)) worker.stopped_reading = true;
  return absl::OkStatus();
}

absl::Status ParallelRunner::Impl::ReadOne(Worker& worker, bool* did_work) {
  worker.read_rows = false;
  const size_t count = worker.partitions.size();
  for (size_t tried = 0; tried < count; ++tried) {
    LocalPartition& partition = worker.partitions[worker.next_partition];
    worker.next_partition = (worker.next_partition + 1) % count;
    if (!partition.active) continue;
    const size_t s = partition.source_index;
    FanOutOperator& output = *worker.source_outputs[s];
    WatermarkMerger& merger = *worker.source_mergers[s];
    auto exhaust = [&]() -> absl::Status {
      partition.active = false;
      partition_exhausted[partition.global].store(true, std::memory_order_relaxed);
      merger.OnExhausted(partition.local);
      if (--worker.source_active[s] == 0) {
        worker.source_finished[s] = true;
        // Fused, the source's end is the end of the statements' input: every window becomes
        // final (with channels, the receiving task does this once all its inputs ended).
        if (fused) SLUICE_RETURN_IF_ERROR(output.OnWatermark(kMaxWatermark));
        return output.Finish();
      }
      if (const std::optional<int64_t> merged = merger.Advance(WallMillis())) {
        return output.OnWatermark(*merged);
      }
      return absl::OkStatus();
    };
    if (output.IsDone()) {
      *did_work = true;
      worker.read_rows = true;
      return exhaust();
    }
    if (PartitionAhead(partition)) {
      if (!partition.paused) {
        partition.paused = true;
        metrics->alignment_pauses.fetch_add(1, std::memory_order_relaxed);
      }
      continue;
    }
    if (partition.paused) {
      partition.paused = false;
      metrics->alignment_resumes.fetch_add(1, std::memory_order_relaxed);
    }
    Batch& batch = worker.batch;
    absl::StatusOr<bool> more = partition.source->Next(batch);
    const auto where = [&]() {
      return StrCat("source '", job.sources[s].name, "' partition ",
                    graph.readers[partition.global].partition);
    };
    if (!more.ok()) return Annotate(more.status(), StrCat("reading ", where()));
    *did_work = true;
    worker.read_rows = !*more || batch.num_rows() > 0;
    if (!*more) return exhaust();
    const int64_t now = WallMillis();
    if (batch.num_rows() > 0) {
      if (worker.metrics->first_record == Clock::time_point{}) worker.metrics->first_record = Clock::now();
      partition_activity[partition.global].store(now, std::memory_order_relaxed);
      absl::Status pushed = output.Push(batch);
      if (!pushed.ok())
        return Annotate(pushed, StrCat("processing rows of ", where(), " (", ChainText(output), ")"));
    }
    batch.Release();
    uint64_t read = 0;
    for (const LocalPartition& p : worker.partitions) read += p.source->counters().records_read;
    worker.metrics->records_read.store(read, std::memory_order_relaxed);
    // A source whose commit interval elapsed asks for a flush point (one at a time per worker).
    if (partition.source->flush_due()) {
      if (fused) {
        SLUICE_RETURN_IF_ERROR(FusedFlushPoint());
      } else if (worker.committed == worker.injected) {
        flush_requested.store(true, std::memory_order_relaxed);
      }
    }
    const int64_t watermark = partition.source->watermark();
    partition_watermark[partition.global].store(watermark, std::memory_order_relaxed);
    merger.OnRecords(partition.local, watermark, now);
    if (const std::optional<int64_t> merged = merger.Advance(now)) {
      SLUICE_RETURN_IF_ERROR(output.OnWatermark(*merged));
    }
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status ParallelRunner::Impl::StepStage(Worker& worker, bool* did_work) {
  if (worker.stage) {
    // The stateful stages take input only while their output to the coordinator has moved on
    // (the coordinator always drains, so this cannot close a cycle): backpressure from the
    // sinks reaches the exchanges, and through them the sources.
    bool output_moving = true;
    for (ChannelSender* forward : worker.stage->forwards) output_moving = output_moving && forward->Drain();
    if (output_moving) SLUICE_RETURN_IF_ERROR(Poll(*worker.stage, did_work));
    // Every input ended: nothing can bring the barrier; align on our own.
    if (worker.stage->last_aligned < worker.injected && worker.stage->all_ended()) {
      SLUICE_RETURN_IF_ERROR(Align(*worker.stage, worker.injected));
    }
    // A stage whose inputs all ended can align before this worker injected the barrier at its
    // sources: the worker has passed a checkpoint once both sides have.
    const uint64_t passed = std::min(worker.stage->last_aligned, worker.injected);
    if (passed > worker.acked.load(std::memory_order_relaxed))
      worker.acked.store(passed, std::memory_order_release);
  } else if (worker.injected > worker.acked.load(std::memory_order_relaxed)) {
    worker.acked.store(worker.injected, std::memory_order_release);
  }
  return absl::OkStatus();
}

absl::Status ParallelRunner::Impl::WorkerStep(Worker& worker, bool* did_work, bool* worked, bool* blocked) {
  // Checkpoint barrier requested by the coordinator.
  const uint64_t requested = requested_checkpoint.load(std::memory_order_acquire);
  // Read after `requested`: a barrier is requested only once the previous one completed.
  SLUICE_RETURN_IF_ERROR(CommitCompleted(worker));
  if (requested > worker.injected) {
    SLUICE_RETURN_IF_ERROR(InjectBarrier(worker, requested));
    *did_work = true;
  }
  SLUICE_RETURN_IF_ERROR(StepStage(worker, did_work));
  bool drained = true;
  for (ChannelSender* sender : worker.senders) drained = sender->Drain() && drained;
  if (!drained) {
    *blocked = true;
    *worked = *did_work;
    return absl::OkStatus();
  }
  // Sources: stop reading on cancellation; otherwise one batch. After the savepoint barrier,
  // read nothing until the savepoint completes and the run stops.
  if (stop.load(std::memory_order_relaxed)) {
    const absl::Status finished = FinishSources(worker, did_work);
    *worked = *did_work;
    return finished;
  }
  *worked = *did_work;
  if (worker.stopped_reading) return absl::OkStatus();
  bool read = false;
  SLUICE_RETURN_IF_ERROR(ReadOne(worker, &read));
  *worked = *worked || (read && worker.read_rows);
  // Nothing to read for now, or a while since the last: let held-back watermarks go.
  const Clock::time_point now = Clock::now();
  if (!read || now - worker.last_watermark_flush > kWatermarkFlushInterval) {
    worker.last_watermark_flush = now;
    for (ChannelSender* sender : worker.senders) sender->FlushWatermark();
  }
  *did_work = *did_work || read;
  return absl::OkStatus();
}

absl::Status ParallelRunner::Impl::CommitCompleted(Worker& worker) {
  if (worker.committed == worker.injected) return absl::OkStatus();
  if (completed_checkpoint.load(std::memory_order_acquire) < worker.injected) return absl::OkStatus();
  // Every record read before the barrier is delivered by every sink: commit those positions.
  for (LocalPartition& partition : worker.partitions) SLUICE_RETURN_IF_ERROR(partition.source->OnFlushPoint());
  worker.committed = worker.injected;
  return absl::OkStatus();
}

absl::Status ParallelRunner::Impl::WorkerFlushPoint(Worker& worker) {
  // A barrier injected after this point covers every record the worker's sources returned.
  const uint64_t target = worker.injected + 1;
  Backoff backoff(std::chrono::microseconds(200));
  while (true) {
    if (failed.load(std::memory_order_acquire)) return absl::AbortedError("the job failed during a flush point");
    // Cancelled: commit nothing more; what was read is read again by the next run.
    if (stop.load(std::memory_order_relaxed)) return absl::OkStatus();
    const uint64_t requested = requested_checkpoint.load(std::memory_order_acquire);
    SLUICE_RETURN_IF_ERROR(CommitCompleted(worker));
    if (worker.committed >= target) return absl::OkStatus();
    bool did_work = false;
    if (requested > worker.injected) {
      SLUICE_RETURN_IF_ERROR(InjectBarrier(worker, requested));
      did_work = true;
    } else if (worker.committed == worker.injected) {
      flush_requested.store(true, std::memory_order_relaxed);
    }
    // Keep this worker's stages and channels moving (other workers' barriers pass through
    // them); read no source.
    SLUICE_RETURN_IF_ERROR(StepStage(worker, &did_work));
    for (ChannelSender* sender : worker.senders) did_work = sender->Drain() || did_work;
    for (ChannelSender* sender : worker.senders) sender->FlushWatermark();
    if (did_work) {
      backoff.Reset();
    } else {
      backoff.Wait();
    }
  }
}

absl::Status ParallelRunner::Impl::FusedFlushPoint() {
  Worker& worker = *workers[0];
  for (SinkOperator* sink : worker.sinks) SLUICE_RETURN_IF_ERROR(sink->Flush());
  for (LocalPartition& partition : worker.partitions) {
    partition.source->PrepareFlushPoint();
    SLUICE_RETURN_IF_ERROR(partition.source->OnFlushPoint());
  }
  return absl::OkStatus();
}

absl::Status ParallelRunner::Impl::RunFused(const std::function<void(const JobCounters&)>& on_progress) {
  Worker& worker = *workers[0];
  worker.metrics->placement = "the calling thread";
  absl::Status status;
  // A source with no partition ends at once.
  for (size_t s = 0; s < worker.source_finished.size() && status.ok(); ++s) {
    if (worker.source_active[s] == 0) {
      worker.source_finished[s] = true;
      status = worker.source_outputs[s]->OnWatermark(kMaxWatermark);
      if (status.ok()) status = worker.source_outputs[s]->Finish();
    }
  }
  Clock::time_point last_checkpoint = Clock::now();
  Clock::time_point last_progress = Clock::now();
  Backoff backoff(std::chrono::microseconds(200));
  worker.metrics->clock.last = Clock::now();
  while (status.ok()) {
    if (options.task_hook) options.task_hook(0);
    status = CommitDurable();
    if (status.ok()) status = CommitCompleted(worker);
    if (!status.ok()) break;
    if (options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed) && !cancelled) {
      cancelled = true;
      if (options.savepoint_store != nullptr) {
        // Between two batches nothing is in flight: the savepoint is taken here, and then the
        // run stops (CompleteCheckpoint sets `stop`).
        const uint64_t savepoint = requested_checkpoint.load(std::memory_order_relaxed) + 1;
        savepoint_barrier.store(savepoint, std::memory_order_release);
        checkpoint_requested_at = Clock::now();
        requested_checkpoint.store(savepoint, std::memory_order_relaxed);
        status = InjectBarrier(worker, savepoint);
        if (status.ok()) status = CompleteCheckpoint(savepoint);
        if (!status.ok()) break;
      }
      stop.store(true, std::memory_order_relaxed);
    }
    bool did_work = false;
    // A checkpoint is a barrier between two batches: nothing is in flight.
    // One checkpoint at a time: the next once the last is durable and committed.
    if (!stop.load(std::memory_order_relaxed) && CheckpointDue(last_checkpoint) &&
        completed_checkpoint.load(std::memory_order_relaxed) ==
            requested_checkpoint.load(std::memory_order_relaxed)) {
      const uint64_t checkpoint = requested_checkpoint.load(std::memory_order_relaxed) + 1;
      checkpoint_requested_at = Clock::now();
      requested_checkpoint.store(checkpoint, std::memory_order_relaxed);
      status = InjectBarrier(worker, checkpoint);
      if (status.ok()) status = CompleteCheckpoint(checkpoint);
      if (!status.ok()) break;
      worker.acked.store(checkpoint, std::memory_order_relaxed);
      status = CommitCompleted(worker);
      if (!status.ok()) break;
      last_checkpoint = Clock::now();
      did_work = true;
    }
    // Busy unless all the turn did was a read of nothing (a Kafka poll that waited: idle).
    bool worked = did_work;
    if (stop.load(std::memory_order_relaxed)) {
      // Cancelled: stop reading; what was read is flushed through (no window becomes final).
      status = FinishSources(worker);
    } else {
      bool read = false;
      status = ReadOne(worker, &read);
      did_work = did_work || read;
      worked = worked || (read && worker.read_rows);
    }
    worker.metrics->clock.Tick(worked, false);
    if (!status.ok()) break;
    bool done = true;
    for (bool finished : worker.source_finished) done = done && finished;
    if (done) break;
    if (on_progress &&
        Clock::now() - last_progress >= std::chrono::milliseconds(options.progress_interval_millis)) {
      last_progress = Clock::now();
      on_progress(metrics->Live());
    }
    if (did_work) {
      backoff.Reset();
    } else {
      backoff.Wait();
      worker.metrics->clock.Tick(false, false);
    }
  }
  if (!status.ok()) {
    failed.store(true, std::memory_order_relaxed);
    // Still finish what the pipelines hold so that it is not lost, whatever fails on the way.
    while (!FinishSources(worker).ok()) {
    }
  }
  return status;
}

void ParallelRunner::Impl::RunWorker(Worker& worker) {
  // "sluice-w3" in top -H, perf and debuggers (the kernel keeps 15 characters).
  pthread_setname_np(pthread_self(), StrCat("sluice-w", worker.index).substr(0, 15).c_str());
  if (options.pin_workers && static_cast<size_t>(worker.index) < placements.size()) {
    const absl::Status pinned = PinCurrentThread(placements[worker.index]);
    worker.metrics->placement = pinned.ok() ? StrCat("cpu ", placements[worker.index].cpu, " (node ",
                                                     placements[worker.index].numa_node, ")")
                                            : StrCat("not pinned: ", pinned.message());
  } else {
    worker.metrics->placement = "not pinned";
  }
  worker.metrics->placed.store(true, std::memory_order_release);
  const std::string task = StrCat("worker ", worker.index);
  absl::Status status;
  // A source with no partition on this worker ends at once.
  for (size_t s = 0; s < worker.source_finished.size() && status.ok(); ++s) {
    if (worker.source_active[s] == 0) {
      worker.source_finished[s] = true;
      status = worker.source_outputs[s]->Finish();
    }
  }
  Backoff backoff(std::chrono::microseconds(200));
  worker.metrics->clock.last = Clock::now();
  while (status.ok() && !failed.load(std::memory_order_acquire)) {
    if (options.task_hook) options.task_hook(worker.index);
    bool did_work = false;
    bool worked = false;
    bool blocked = false;
    status = WorkerStep(worker, &did_work, &worked, &blocked);
    worker.metrics->clock.Tick(worked, blocked);
    worker.metrics->Publish();
    if (!status.ok()) break;
    bool sources_done = true;
    for (bool finished : worker.source_finished) sources_done = sources_done && finished;
    bool senders_done = true;
    for (ChannelSender* sender : worker.senders) senders_done = senders_done && !sender->has_pending();
    // Done: everything sent and every input ended. The worker stays (asleep between polls) to
    // take part in checkpoints, with its final state, until the coordinator ends the run.
    const bool done = sources_done && senders_done && (!worker.stage || worker.stage->finished());
    if (done && !worker.done.load(std::memory_order_relaxed))
      worker.done.store(true, std::memory_order_release);
    if (done && shutdown.load(std::memory_order_acquire)) break;
    if (did_work) {
      backoff.Reset();
    } else {
      backoff.Wait();
      worker.metrics->clock.Tick(false, blocked);  // the wait itself: idle, or backpressured
      worker.metrics->Publish();
    }
  }
  if (!status.ok()) {
    Fail(task, status);
  }
}

absl::Status ParallelRunner::Impl::RunTaskGraph(const std::function<void(const JobCounters&)>& on_progress) {
  Impl& impl = *this;
  if (impl.options.pin_workers) {
    absl::StatusOr<CpuTopology> topology = DetectTopology();
    if (topology.ok()) impl.placements = PlaceWorkers(*topology, impl.workers_count, impl.options.placement);
  }
  impl.metrics->Start();
  std::vector<std::thread> threads;
  for (auto& worker : impl.workers) {
    Impl::Worker* raw = worker.get();
    threads.emplace_back([&impl, raw]() { impl.RunWorker(*raw); });
  }
  // The coordinator: gather, sinks, checkpoints, progress, cancellation.
  Clock::time_point last_checkpoint = Clock::now();
  Clock::time_point last_progress = Clock::now();
  // The coordinator with nothing to gather (sinks on the workers) only watches for the end,
  // checkpoints and Ctrl-C: it may sleep longer.
  Backoff backoff(std::chrono::microseconds(impl.gather->inputs.empty() ? 1000 : 200));
  absl::Status status;
  impl.metrics->coordinator_clock().last = Clock::now();
  while (!impl.failed.load(std::memory_order_acquire)) {
    if (impl.options.task_hook) impl.options.task_hook(-1);
    if (impl.options.cancel != nullptr && impl.options.cancel->load(std::memory_order_relaxed) &&
        !impl.cancelled) {
      impl.cancelled = true;
      // With a savepoint store the savepoint barrier is requested below; its completion stops.
      if (impl.options.savepoint_store != nullptr) {
        impl.savepoint_wanted = true;
      } else {
        impl.stop.store(true, std::memory_order_release);
      }
    }
    bool did_work = false;
    status = impl.Poll(*impl.gather, &did_work);
    if (!status.ok()) {
      impl.Fail(impl.gather->name, status);
      break;
    }
    status = impl.CommitDurable();
    if (!status.ok()) {
      impl.Fail("checkpoint coordinator", status);
      break;
    }
    // Barriers: a checkpoint every interval (with a store), or a flush point a worker's source
    // asked for (its read positions commit once the barrier completes); one at a time.
    const uint64_t requested = impl.requested_checkpoint.load(std::memory_order_relaxed);
    const uint64_t completed = impl.completed_checkpoint.load(std::memory_order_relaxed);
    if (requested > completed) {
      if (impl.gather->last_aligned < requested && impl.gather->all_ended()) {
        status = impl.Align(*impl.gather, requested);
        if (!status.ok()) {
          impl.Fail(impl.gather->name, status);
          break;
        }
      }
      bool complete = impl.gather->last_aligned >= requested;
      for (const auto& worker : impl.workers) {
        complete = complete && worker->acked.load(std::memory_order_acquire) >= requested;
      }
      // With a store the checkpoint stays in flight until durable and committed: hand it over once.
      if (complete && requested > impl.handed_checkpoint) {
        impl.handed_checkpoint = requested;
        status = impl.CompleteCheckpoint(requested);
        if (!status.ok()) {
          impl.Fail("checkpoint coordinator", status);
          break;
        }
        last_checkpoint = Clock::now();
        did_work = true;
      }
    } else if (impl.savepoint_wanted && impl.savepoint_barrier.load(std::memory_order_relaxed) == 0) {
      impl.savepoint_barrier.store(requested + 1, std::memory_order_release);
      impl.checkpoint_requested_at = Clock::now();
      impl.requested_checkpoint.store(requested + 1, std::memory_order_release);
    } else if (!impl.stop.load(std::memory_order_relaxed) && !impl.savepoint_wanted &&
               (impl.CheckpointDue(last_checkpoint) ||
                impl.flush_requested.load(std::memory_order_relaxed))) {
      impl.flush_requested.store(false, std::memory_order_relaxed);
      impl.checkpoint_requested_at = Clock::now();
      impl.requested_checkpoint.store(requested + 1, std::memory_order_release);
    }
    // LIMIT met downstream: tell the workers' senders.
    for (auto& plan : impl.plans) {
      if (plan->tasks->gathered && !plan->done.load(std::memory_order_relaxed) &&
          plan->gather_head != nullptr && plan->gather_head->IsDone()) {
        plan->done.store(true, std::memory_order_relaxed);
      }
    }
    impl.metrics->coordinator_clock().Tick(did_work, false);
    bool workers_done = true;
    for (const auto& worker : impl.workers)
      workers_done = workers_done && worker->done.load(std::memory_order_acquire);
    if (workers_done && (impl.gather->finished() || impl.gather->inputs.empty())) break;
    if (on_progress &&
        Clock::now() - last_progress >= std::chrono::milliseconds(impl.options.progress_interval_millis)) {
      last_progress = Clock::now();
      on_progress(impl.metrics->Live());
    }
    if (did_work) {
      backoff.Reset();
    } else {
      backoff.Wait();
      impl.metrics->coordinator_clock().Tick(false, false);
    }
  }
  impl.shutdown.store(true, std::memory_order_release);
  for (auto& thread : threads) thread.join();
  // After a failure, still finish what reached the coordinator so that it is not lost.
  if (impl.failed.load()) {
    for (auto& group : impl.gather->groups) {
      if (!group.finished) {
        group.finished = true;
        (void)group.head->Finish();
      }
    }
    for (auto& worker : impl.workers) {
      for (SinkOperator* sink : worker->sinks) (void)sink->Finish();
    }
  }
  std::lock_guard<std::mutex> lock(impl.error_mutex);
  return impl.error;
}

absl::Status ParallelRunner::Run(const std::function<void(const JobCounters&)>& on_progress) {
  Impl& impl = *impl_;
  for (SinkOperator* sink : impl.coordinator_sinks) SLUICE_RETURN_IF_ERROR(sink->Open());
  for (auto& worker : impl.workers) {
    for (SinkOperator* sink : worker->sinks) SLUICE_RETURN_IF_ERROR(sink->Open());
  }
  for (auto& source : impl.sources) SLUICE_RETURN_IF_ERROR(source->Open());
  absl::Status result;
  if (impl.fused) {
    impl.metrics->Start();
    result = impl.RunFused(on_progress);
  } else {
    result = impl.RunTaskGraph(on_progress);
  }
  // The last checkpoints finish writing (a store may write them on a thread of its own).
  for (CheckpointStore* store : {impl.options.checkpoint_store, impl.options.savepoint_store}) {
    if (store == nullptr) continue;
    absl::Status durable = store->WaitDurable();
    if (result.ok()) result = durable;
  }
  for (auto& writer : impl.dead_letters) {
    absl::Status flushed = writer->Flush();
    if (result.ok()) result = flushed;
  }
  // Cancelled while taking checkpoints, without a savepoint: what the sinks received after the
  // last checkpoint is not published (a Kafka transaction is aborted) and the next run, resumed
  // from that checkpoint, reads it again; the sources commit nothing more either.
  const bool ended_well = !impl.cancelled || impl.metrics->savepoint != 0;
  if (result.ok() && (ended_well || impl.options.checkpoint_store == nullptr)) result = impl.CommitEndOfRun();
  // Every sink finished (delivered everything): the last flush point, unless the run failed,
  // in which case nothing more is committed and the input is read again next time.
  for (auto& source : impl.sources) {
    if (!result.ok() || (!ended_well && impl.options.checkpoint_store != nullptr)) break;
    source->PrepareFlushPoint();
    result = source->OnFlushPoint();
  }
  for (auto& source : impl.sources) {
    absl::Status closed = source->Close();
    if (result.ok()) result = closed;
  }
  impl.metrics->Finish(impl.cancelled);
  return result;
}

JobCounters ParallelRunner::counters() const {
  return impl_->metrics->Final();
}

std::string ParallelRunner::Explain() const {
  const Impl& impl = *impl_;
  const Impl::Worker& worker = *impl.workers[0];
  if (impl.fused) {
    // One task on the calling thread: each source and, below it, the operators it feeds.
    std::string out;
    if (!impl.graph.single_thread_reason.empty()) {
      StrAppend(&out, "Parallelism ", impl.graph.requested_parallelism,
                " requested; runs on one thread: ", impl.graph.single_thread_reason, "\n");
    }
    for (size_t s = 0; s < impl.job.sources.size(); ++s) {
      const SourceDefinition& definition = impl.job.sources[s];
      const SourceDescription description =
          ConnectorRegistry::Default().FindSource(definition.type)->describe(definition);
      std::vector<std::string> parts = description.details;
      parts.push_back(StrCat("batch ", impl.options.batch_size));
      parts.insert(parts.end(), description.notes.begin(), description.notes.end());
      StrAppend(&out, description.what, " (", StrJoin(parts, ", "), ")\n");
      out += DescribeOperators(worker.source_outputs[s].get(), 1);
    }
    return out;
  }
  std::string out =
      StrCat("Parallel runtime: ", impl.workers_count, " workers; channels of up to ",
             2 * impl.options.batch_size, " rows, ", impl.options.channel_capacity,
             " batches deep; the coordinator thread gathers worker output and runs the sinks\n");
  for (size_t s = 0; s < impl.job.sources.size(); ++s) {
    const SourceDefinition& definition = impl.job.sources[s];
    const SourceConnector& connector = *ConnectorRegistry::Default().FindSource(definition.type);
    const SourceDescription description = connector.describe(definition);
    if (!connector.reader_per_worker.empty()) {
      StrAppend(&out, description.what, " (", StrJoin(description.details, ", "), ", batch ",
                impl.options.batch_size, ", ", impl.graph.source_partitions[s], " ",
                connector.reader_per_worker, "s, one per worker", description.notes.empty() ? "" : ", ",
                StrJoin(description.notes, ", "), ")\n");
    } else {
      StrAppend(&out, description.what, " (", StrJoin(description.details, ", "), ", batch ",
                impl.options.batch_size, ", ", impl.graph.source_partitions[s],
                " partition(s), partition g read by worker g mod ", impl.workers_count, ")\n");
    }
    for (const ReaderPlan& reader : impl.graph.readers) {
      if (reader.source == s && reader.split) StrAppend(&out, "  split: ", reader.split->description, "\n");
    }
    for (size_t p = 0; p < impl.plans.size(); ++p) {
      const Impl::StatementPlan& plan = *impl.plans[p];
      if (plan.tasks->reads_stream || plan.tasks->statement->input_name != definition.name) continue;
      int indent = 1;
      for (const Operator* op : worker.pre_tasks[plan.explain_pre_task].ops) {
        StrAppend(&out, std::string(indent * 2, ' '), op->Describe(), "  [each worker, source side]\n");
        ++indent;
      }
      for (const Operator* op = plan.explain_stage_head; op != nullptr; op = op->output()) {
        StrAppend(&out, std::string(indent * 2, ' '), op->Describe(), "  [each worker, its keys]\n");
        ++indent;
      }
      // A statement that reads this one's stream runs on the coordinator behind the gather
      // (a stream that is read again is always gathered), so it is printed here, once.
      if (plan.tasks->gathered) out += DescribeOperators(plan.gather_head, indent, "  [coordinator]");
    }
  }
  return out;
}

}  // namespace sluice
