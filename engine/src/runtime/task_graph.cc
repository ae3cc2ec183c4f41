#include "runtime/task_graph.h"

#include <algorithm>
#include <map>

#include "common/strings.h"
#include "ops/aggregate_operator.h"

namespace sluice {

namespace {

// The readers of every source, reader g on worker g mod N.
absl::Status PlanReaders(const BoundJob& job, const RunOptions& options, const JobLayout* restored,
                         TaskGraph& graph) {
  for (size_t s = 0; s < job.sources.size(); ++s) {
    const SourceDefinition& definition = job.sources[s];
    const SourceConnector& connector = *ConnectorRegistry::Default().FindSource(definition.type);
    size_t partitions = 0;
    auto add = [&](size_t definition_partition, std::optional<SourceSplit> split) {
      ReaderPlan reader;
      reader.source = s;
      reader.partition = partitions++;
      reader.definition_partition = definition_partition;
      reader.split = std::move(split);
      graph.readers.push_back(std::move(reader));
    };
    if (!connector.reader_per_worker.empty() && !options.make_source) {
      // The connector deals its partitions out between its readers (a Kafka consumer group,
      // between these members and those of other processes in the group): one per worker.
      for (int w = 0; w < graph.workers; ++w) {
        add(0, std::nullopt);
        graph.readers.back().per_worker = true;
      }
    } else if (restored != nullptr && std::any_of(restored->readers.begin(), restored->readers.end(),
                                                  [&](const JobLayout::Reader& reader) {
                                                    return reader.source == definition.name;
                                                  })) {
      // The pieces the checkpoint's readers read, each to resume from its own position.
      for (const JobLayout::Reader& reader : restored->readers) {
        if (reader.source != definition.name) continue;
        if (reader.definition_partition >= definition.partitions.size()) {
          return absl::FailedPreconditionError(
              StrCat("the checkpoint read partition ", reader.definition_partition + 1, " of source '",
                     definition.name, "', which now has ", definition.partitions.size(),
                     ": restore it with the inputs it was taken with"));
        }
        std::optional<SourceSplit> split;
        if (reader.split) split = SourceSplit{reader.begin, reader.end, reader.description};
        add(reader.definition_partition, std::move(split));
      }
    } else {
      for (size_t k = 0; k < definition.partitions.size(); ++k) {
        // A partition the connector splits (a large file: one byte range per worker) is read by
        // one reader per split. An embedding's sources are read whole.
        std::vector<SourceSplit> splits;
        if (!options.make_source && connector.split) {
          splits = connector.split(definition, k, graph.workers, options.file_split_bytes);
        }
        if (splits.empty()) add(k, std::nullopt);
        for (SourceSplit& split : splits) add(k, std::move(split));
      }
    }
    graph.source_partitions.push_back(partitions);
  }
  for (size_t g = 0; g < graph.readers.size(); ++g) {
    graph.readers[g].worker = static_cast<int>(g % static_cast<size_t>(graph.workers));
  }
  return absl::OkStatus();
}

// Whether the keyed stage of `tasks` can take each worker's own partitions of `source` (declared
// partitioned by the stage's key) instead of a keyed exchange; if declared but not, `*why_not`.
bool ForwardsByPartition(const BoundJob& job, const TaskGraph& graph, const StatementTasks& tasks,
                         size_t source, std::string* why_not) {
  const SourceDefinition& definition = job.sources[source];
  if (!tasks.stateful || definition.partitioned_by.empty()) return false;
  const std::string declared =
      StrCat("'", definition.name, ".partitioned.by' (", StrJoin(definition.partitioned_by, ", "), ")");
  if (graph.SourceIsSplit(source)) {
    *why_not = StrCat(
        declared, " not used: its large files are read in byte-range splits, which do not keep keys whole");
    return false;
  }
  if (graph.source_partitions[source] < static_cast<size_t>(graph.workers)) {
    *why_not = StrCat(declared, " not used: ", graph.source_partitions[source], " partition(s) for ",
                      graph.workers, " workers would leave workers without keys");
    return false;
  }
  // The source columns the stage's key passes on unchanged: each key column traced back through
  // the filters (which keep columns) and projections (which must pass it as a plain column).
  auto source_column = [&tasks](size_t column) -> std::optional<size_t> {
    for (size_t i = tasks.pre_end; i-- > 0;) {
      const LogicalOperator& node = *tasks.chain[i];
      if (node.kind == LogicalOperatorKind::kFilter) continue;
      if (node.kind != LogicalOperatorKind::kProject) return std::nullopt;
      const BoundExpression& projected = *node.projections[column];
      if (projected.kind != BoundExpressionKind::kColumn) return std::nullopt;
      column = projected.column_index;
    }
    return column;
  };
  std::vector<size_t> stage_columns = tasks.key.columns;
  for (const BoundExpression* expression : tasks.key.expressions) {
    if (expression->kind == BoundExpressionKind::kColumn) stage_columns.push_back(expression->column_index);
  }
  std::vector<std::string> key_columns;  // source column names
  for (size_t column : stage_columns) {
    if (const std::optional<size_t> traced = source_column(column)) {
      key_columns.push_back(tasks.chain.front()->input->schema.field(*traced).name);
    }
  }
  for (const std::string& column : definition.partitioned_by) {
    if (std::find(key_columns.begin(), key_columns.end(), column) == key_columns.end()) {
      *why_not = StrCat(declared, " not used: the key ", tasks.key.text, " does not hold ", column,
                        " as the source gives it");
      return false;
    }
  }
  return true;
}

// How the keyed stage of `tasks` (on workers, reading job source `source`) is fed, and what its
// exchange carries.
void PlanKeyedInput(const BoundJob& job, const TaskGraph& graph, size_t source, StatementTasks& tasks) {
  const bool forward = ForwardsByPartition(job, graph, tasks, source, &tasks.forward_not_used);
  tasks.keyed_input = forward ? KeyedInput::kForward : KeyedInput::kExchange;
  if (forward) return;
  const LogicalOperator& stateful = *tasks.chain[*tasks.stateful];
  // A single ordered input keeps per-record lateness and expiry exact: the exchange carries
  // each row's watermark (see StatefulOperator::UseCarriedWatermarks).
  if (graph.source_partitions[source] == 1 && !job.sources[source].interleaves_partitions()) {
    if (stateful.kind == LogicalOperatorKind::kAggregate) {
      const AggregateDefinition& aggregate = *stateful.aggregate;
      tasks.carries_watermarks =
          aggregate.window ? aggregate.window->time != nullptr : aggregate.ttl_time != nullptr;
    } else if (stateful.kind == LogicalOperatorKind::kRowsWindow &&
               stateful.rows_window->expire_after_millis) {
      // Expiry reads the watermark; nothing else in a ROWS window does.
      tasks.carries_watermarks = true;
    } else if (stateful.kind == LogicalOperatorKind::kTopN) {
      tasks.carries_watermarks = TopNReadsWatermark(*stateful.top_n);
    }
  }
  // A keyed exchange into a GROUP BY over plain columns carries each row's key words and hash,
  // so the receiving aggregate reads neither key columns nor strings.
  if (graph.workers > 1 && stateful.kind == LogicalOperatorKind::kAggregate &&
      !LateRowsDeadLettered(stateful) && AggregateOperator::CarriesKeys(*stateful.aggregate)) {
    for (const BoundExpression* key : tasks.key.expressions) {
      if (key->kind != BoundExpressionKind::kColumn) {
        tasks.carried_key_columns.clear();
        break;
      }
      tasks.carried_key_columns.push_back(key->column_index);
    }
  }
}

}  // namespace

bool TopNReadsWatermark(const TopNSpec& spec) {
  // A keep-first deduplication judges rows by the per-record watermark of the column it
  // orders by. (A window Top-N fires on received watermarks: it reads the stream of a windowed
  // aggregate, and its rows carry no event time of their own.)
  return spec.strategy == TopNStrategy::kKeepFirst && spec.event_time_column >= 0;
}

std::string SingleThreadReason(const BoundJob& job) {
  const ConnectorRegistry& registry = ConnectorRegistry::Default();
  for (const auto& source : job.sources) {
    const SourceConnector* connector = registry.FindSource(source.type);
    if (connector->single_thread_reason) {
      std::string reason = connector->single_thread_reason(source);
      if (!reason.empty()) return reason;
    }
  }
  for (const auto& statement : job.statements) {
    if (!statement.sink) continue;
    const SinkConnector* connector = registry.FindSink(statement.sink->type);
    if (connector->single_thread_reason) {
      std::string reason = connector->single_thread_reason(*statement.sink);
      if (!reason.empty()) return reason;
    }
  }
  return "";
}

std::vector<size_t> TaskGraph::ReadersOf(int worker) const {
  std::vector<size_t> out;
  for (size_t g = 0; g < readers.size(); ++g) {
    if (readers[g].worker == worker) out.push_back(g);
  }
  return out;
}

bool TaskGraph::SourceIsSplit(size_t source) const {
  for (const ReaderPlan& reader : readers) {
    if (reader.source == source && reader.split) return true;
  }
  return false;
}

JobLayout LayoutOf(const BoundJob& job, const TaskGraph& graph) {
  JobLayout layout;
  layout.workers = static_cast<uint32_t>(graph.workers);
  for (const ReaderPlan& plan : graph.readers) {
    if (plan.per_worker) continue;
    JobLayout::Reader& reader = layout.readers.emplace_back();
    reader.source = job.sources[plan.source].name;
    reader.definition_partition = plan.definition_partition;
    if (plan.split) {
      reader.split = true;
      reader.begin = plan.split->begin;
      reader.end = plan.split->end;
      reader.description = plan.split->description;
    }
  }
  return layout;
}

absl::StatusOr<TaskGraph> PlanTaskGraph(const BoundJob& job, const RunOptions& options,
                                        const JobLayout* restored) {
  if (options.parallelism < 1) return absl::InvalidArgumentError("parallelism must be at least 1");
  TaskGraph graph;
  graph.requested_parallelism = options.parallelism;
  graph.workers = options.parallelism;
  if (options.parallelism > 1) {
    graph.single_thread_reason = SingleThreadReason(job);
    if (!graph.single_thread_reason.empty()) graph.workers = 1;
  }
  graph.fused = graph.workers == 1;
  SLUICE_RETURN_IF_ERROR(PlanReaders(job, options, restored, graph));

  // Which statements are read by later ones.
  std::map<std::string, bool> read_as_stream;
  for (const auto& statement : job.statements) {
    if (statement.input_is_stream) read_as_stream[statement.input_name] = true;
    if (!statement.second_input_name.empty()) read_as_stream[statement.second_input_name] = true;
  }
  for (const auto& statement : job.statements) {
    StatementTasks tasks;
    tasks.statement = &statement;
    tasks.chain = StatementChain(statement);
    tasks.reads_stream = statement.input_is_stream;
    tasks.read_as_stream = read_as_stream[statement.name];
    if (!tasks.reads_stream) {
      for (size_t s = 0; s < job.sources.size(); ++s) {
        if (job.sources[s].name == statement.input_name) tasks.source = s;
      }
      if (!tasks.source) return absl::InternalError(StrCat("no source '", statement.input_name, "'"));
    }
    size_t limit = tasks.chain.size();
    for (size_t i = 0; i < tasks.chain.size(); ++i) {
      if (tasks.chain[i]->kind == LogicalOperatorKind::kLimit) {
        limit = i;
        break;
      }
    }
    const std::optional<size_t> stateful = StatefulIndex(tasks.chain);
    if (stateful && *stateful < limit) {
      tasks.stateful = stateful;
      tasks.pre_end = *stateful;
      tasks.key = ExchangeKeyOf(*tasks.chain[*stateful]);
    } else {
      tasks.pre_end = limit;
    }
    tasks.gather_begin = limit;
    const bool worker_sinks = !tasks.reads_stream && options.make_worker_sink && statement.sink &&
                              limit == tasks.chain.size() && !tasks.read_as_stream;
    if (statement.sink) {
      tasks.sink = graph.fused    ? SinkPlacement::kFused
                   : worker_sinks ? SinkPlacement::kEachWorker
                                  : SinkPlacement::kCoordinator;
    }
    tasks.gathered = !graph.fused && !tasks.reads_stream && !worker_sinks;
    if (!graph.fused && !tasks.reads_stream && tasks.stateful)
      PlanKeyedInput(job, graph, *tasks.source, tasks);
    graph.statements.push_back(std::move(tasks));
  }
  return graph;
}

}  // namespace sluice
