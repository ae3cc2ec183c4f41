// Tests of the task-graph planning (runtime/task_graph.h): which operators of each statement run
// in which task, how the keyed stage is fed, where sinks sit, how many workers run the job (or
// why it runs fused on one thread) and which worker reads which source partition. Planning runs
// nothing: no thread, channel, reader or operator is created.
#include "runtime/task_graph.h"

#include <gtest/gtest.h>

#include "common/strings.h"
#include "job_test_harness.h"

namespace sluice::testing {
namespace {

constexpr const char* kSource =
    "WITH ('src.type' = 'file_source', 'src.path' = '${dir}/part*.jsonl', 'src.format' = 'json', "
    "'src.schema' = 'k STRING, v BIGINT, ts TIMESTAMP', 'event.time.field' = 'ts'EXTRA, "
    "'result.type' = 'file_sink', 'result.path' = '${dir}/out.jsonl')";

constexpr const char* kStatelessQuery = "CREATE STREAM result AS SELECT k, v FROM src WHERE v > 500 ";
constexpr const char* kGroupByQuery =
    "CREATE STREAM result AS SELECT k, COUNT(*) AS n, SUM(v) AS s, _window_start FROM src "
    "GROUP BY k WINDOW TUMBLING (ts, INTERVAL '1' SECOND) EMIT FINAL ";
constexpr const char* kLimitQuery = "CREATE STREAM result AS SELECT k, v FROM src WHERE v > 500 LIMIT 5 ";

// Binds `query` over a file source of `files` empty files (part0.jsonl, ...), with `extra`
// WITH properties.
struct PlannedJob {
  TemporaryDirectory directory;
  BoundJob job;

  absl::Status Bind(const std::string& query, size_t files, const std::string& extra = "",
                    const std::string& path = "") {
    for (size_t f = 0; f < files; ++f) WriteFile(directory.File(StrCat("part", f, ".jsonl")), "");
    std::string text = StrCat(query, kSource);
    text.replace(text.find("EXTRA"), 5, extra);
    if (!path.empty()) text.replace(text.find("${dir}/part*.jsonl"), 18, path);
    SLUICE_ASSIGN_OR_RETURN(job, BindJobText(text, {{"dir", directory.path()}}));
    return absl::OkStatus();
  }

  absl::StatusOr<TaskGraph> Plan(int parallelism, RunOptions options = RunOptions()) const {
    options.parallelism = parallelism;
    return PlanTaskGraph(job, options);
  }
};

TEST(TaskGraphTest, StatelessJobAtParallelismOneIsOneFusedTask) {
  PlannedJob planned;
  ASSERT_TRUE(planned.Bind(kStatelessQuery, 2).ok());
  absl::StatusOr<TaskGraph> graph = planned.Plan(1);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  EXPECT_TRUE(graph->fused);
  EXPECT_EQ(graph->workers, 1);
  EXPECT_EQ(graph->requested_parallelism, 1);
  EXPECT_EQ(graph->single_thread_reason, "");
  ASSERT_EQ(graph->readers.size(), 2u);
  EXPECT_EQ(graph->source_partitions, std::vector<size_t>{2});
  for (size_t g = 0; g < 2; ++g) {
    EXPECT_EQ(graph->readers[g].source, 0u);
    EXPECT_EQ(graph->readers[g].partition, g);
    EXPECT_EQ(graph->readers[g].definition_partition, g);
    EXPECT_FALSE(graph->readers[g].split.has_value());
    EXPECT_EQ(graph->readers[g].worker, 0);
  }
  ASSERT_EQ(graph->statements.size(), 1u);
  const StatementTasks& tasks = graph->statements[0];
  EXPECT_EQ(tasks.source, std::optional<size_t>(0));
  EXPECT_FALSE(tasks.reads_stream);
  EXPECT_FALSE(tasks.stateful.has_value());
  EXPECT_EQ(tasks.pre_end, tasks.chain.size());
  EXPECT_EQ(tasks.keyed_input, KeyedInput::kNone);
  EXPECT_EQ(tasks.sink, SinkPlacement::kFused);
  EXPECT_FALSE(tasks.gathered);
}

TEST(TaskGraphTest, StatelessJobAtParallelismTwoRunsOnEachWorkerAndIsGathered) {
  PlannedJob planned;
  ASSERT_TRUE(planned.Bind(kStatelessQuery, 3).ok());
  absl::StatusOr<TaskGraph> graph = planned.Plan(2);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  EXPECT_FALSE(graph->fused);
  EXPECT_EQ(graph->workers, 2);
  EXPECT_EQ(graph->single_thread_reason, "");
  // Partition g is read by worker g mod 2.
  ASSERT_EQ(graph->readers.size(), 3u);
  EXPECT_EQ(graph->ReadersOf(0), (std::vector<size_t>{0, 2}));
  EXPECT_EQ(graph->ReadersOf(1), (std::vector<size_t>{1}));
  const StatementTasks& tasks = graph->statements[0];
  EXPECT_FALSE(tasks.stateful.has_value());
  // The whole chain on the source side; nothing behind the gather but the sink.
  EXPECT_EQ(tasks.pre_end, tasks.chain.size());
  EXPECT_EQ(tasks.gather_begin, tasks.chain.size());
  EXPECT_EQ(tasks.keyed_input, KeyedInput::kNone);
  EXPECT_TRUE(tasks.gathered);
  EXPECT_EQ(tasks.sink, SinkPlacement::kCoordinator);
}

TEST(TaskGraphTest, PerWorkerSinksSpareTheGather) {
  PlannedJob planned;
  ASSERT_TRUE(planned.Bind(kStatelessQuery, 2).ok());
  RunOptions options;
  options.make_worker_sink = [](const BoundStatement&, int) -> std::unique_ptr<SinkOperator> {
    return nullptr;
  };
  absl::StatusOr<TaskGraph> graph = planned.Plan(2, options);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  EXPECT_EQ(graph->statements[0].sink, SinkPlacement::kEachWorker);
  EXPECT_FALSE(graph->statements[0].gathered);
}

TEST(TaskGraphTest, GroupByAtParallelismTwoIsFedByAKeyedExchange) {
  PlannedJob planned;
  ASSERT_TRUE(planned.Bind(kGroupByQuery, 2).ok());
  absl::StatusOr<TaskGraph> graph = planned.Plan(2);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  const StatementTasks& tasks = graph->statements[0];
  ASSERT_TRUE(tasks.stateful.has_value());
  EXPECT_EQ(tasks.chain[*tasks.stateful]->kind, LogicalOperatorKind::kAggregate);
  EXPECT_EQ(tasks.pre_end, *tasks.stateful);
  EXPECT_EQ(tasks.gather_begin, tasks.chain.size());
  EXPECT_EQ(tasks.keyed_input, KeyedInput::kExchange);
  EXPECT_EQ(tasks.key.text, "hash(k#0)");
  EXPECT_EQ(tasks.forward_not_used, "");
  // Two partitions interleave on the exchange: only merged watermarks, none carried per row.
  EXPECT_FALSE(tasks.carries_watermarks);
  EXPECT_TRUE(tasks.gathered);
  EXPECT_EQ(tasks.sink, SinkPlacement::kCoordinator);
}

// A Top-N runs keyed by its PARTITION BY columns, as a GROUP BY by its keys: its derived
// table's statement has the keyed stage; the query reading it runs on the coordinator.
TEST(TaskGraphTest, TopNAtParallelismTwoIsFedByAKeyedExchangeOnItsPartitionColumns) {
  PlannedJob planned;
  ASSERT_TRUE(
      planned
          .Bind("CREATE STREAM result AS SELECT k, v, rn FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION "
                "BY k ORDER BY v DESC) AS rn FROM src) AS t WHERE rn <= 3 ",
                2)
          .ok());
  absl::StatusOr<TaskGraph> graph = planned.Plan(2);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  ASSERT_EQ(graph->statements.size(), 2u);
  const StatementTasks& tasks = graph->statements[0];
  ASSERT_TRUE(tasks.stateful.has_value());
  EXPECT_EQ(tasks.chain[*tasks.stateful]->kind, LogicalOperatorKind::kTopN);
  EXPECT_EQ(tasks.keyed_input, KeyedInput::kExchange);
  EXPECT_EQ(tasks.key.text, "hash(k)");
  EXPECT_FALSE(tasks.carries_watermarks);
  EXPECT_TRUE(graph->statements[1].reads_stream);
}

// A keep-first deduplication over one ordered partition: the exchange carries each row's
// watermark, which the operator emits on.
TEST(TaskGraphTest, KeepFirstDeduplicationExchangeCarriesWatermarks) {
  PlannedJob planned;
  ASSERT_TRUE(
      planned
          .Bind("CREATE STREAM result AS SELECT k, v FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k "
                "ORDER BY _event_time) AS rn FROM src) AS t WHERE rn = 1 ",
                1)
          .ok());
  absl::StatusOr<TaskGraph> graph = planned.Plan(2);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  const StatementTasks& tasks = graph->statements[0];
  ASSERT_TRUE(tasks.stateful.has_value());
  ASSERT_EQ(tasks.chain[*tasks.stateful]->kind, LogicalOperatorKind::kTopN);
  EXPECT_EQ(tasks.chain[*tasks.stateful]->top_n->strategy, TopNStrategy::kKeepFirst);
  EXPECT_EQ(tasks.key.text, "hash(k)");
  EXPECT_TRUE(tasks.carries_watermarks);
}

TEST(TaskGraphTest, GroupByAtParallelismOneIsFusedWithoutExchange) {
  PlannedJob planned;
  ASSERT_TRUE(planned.Bind(kGroupByQuery, 2).ok());
  absl::StatusOr<TaskGraph> graph = planned.Plan(1);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  const StatementTasks& tasks = graph->statements[0];
  EXPECT_TRUE(tasks.stateful.has_value());
  EXPECT_EQ(tasks.keyed_input, KeyedInput::kNone);
  EXPECT_EQ(tasks.sink, SinkPlacement::kFused);
}

TEST(TaskGraphTest, SourcePartitionedByTheKeyIsForwardedToEachWorkersStage) {
  PlannedJob planned;
  ASSERT_TRUE(planned.Bind(kGroupByQuery, 4, ", 'src.partitioned.by' = 'k'").ok());
  absl::StatusOr<TaskGraph> graph = planned.Plan(2);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  const StatementTasks& tasks = graph->statements[0];
  EXPECT_EQ(tasks.keyed_input, KeyedInput::kForward);
  EXPECT_EQ(tasks.forward_not_used, "");
  EXPECT_TRUE(tasks.carried_key_columns.empty());
}

TEST(TaskGraphTest, PartitionedByAColumnOutsideTheKeyKeepsTheExchangeAndSaysWhy) {
  PlannedJob planned;
  ASSERT_TRUE(planned.Bind(kGroupByQuery, 4, ", 'src.partitioned.by' = 'v'").ok());
  absl::StatusOr<TaskGraph> graph = planned.Plan(2);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  const StatementTasks& tasks = graph->statements[0];
  EXPECT_EQ(tasks.keyed_input, KeyedInput::kExchange);
  EXPECT_EQ(tasks.forward_not_used,
            "'src.partitioned.by' (v) not used: the key hash(k#0) does not hold v as the source gives it");
}

TEST(TaskGraphTest, PartitionedByWithFewerPartitionsThanWorkersKeepsTheExchange) {
  PlannedJob planned;
  ASSERT_TRUE(planned.Bind(kGroupByQuery, 1, ", 'src.partitioned.by' = 'k'").ok());
  absl::StatusOr<TaskGraph> graph = planned.Plan(2);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  const StatementTasks& tasks = graph->statements[0];
  EXPECT_EQ(tasks.keyed_input, KeyedInput::kExchange);
  EXPECT_EQ(
      tasks.forward_not_used,
      "'src.partitioned.by' (k) not used: 1 partition(s) for 2 workers would leave workers without keys");
  // One ordered partition: the exchange carries each row's watermark.
  EXPECT_TRUE(tasks.carries_watermarks);
}

TEST(TaskGraphTest, LargeFileIsReadInOneSplitPerWorker) {
  PlannedJob planned;
  WriteFile(planned.directory.File("big.jsonl"), std::string(100, '\n'));
  ASSERT_TRUE(planned.Bind(kGroupByQuery, 0, ", 'src.partitioned.by' = 'k'", "${dir}/big.jsonl").ok());
  RunOptions options;
  options.file_split_bytes = 16;
  absl::StatusOr<TaskGraph> graph = planned.Plan(2, options);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  ASSERT_EQ(graph->readers.size(), 2u);
  EXPECT_TRUE(graph->SourceIsSplit(0));
  for (size_t g = 0; g < 2; ++g) {
    EXPECT_EQ(graph->readers[g].definition_partition, 0u);
    ASSERT_TRUE(graph->readers[g].split.has_value());
    EXPECT_EQ(graph->readers[g].worker, static_cast<int>(g));
  }
  EXPECT_EQ(graph->readers[0].split->begin, 0u);
  EXPECT_EQ(graph->readers[1].split->begin, 50u);
  EXPECT_EQ(graph->statements[0].keyed_input, KeyedInput::kExchange);
  EXPECT_NE(graph->statements[0].forward_not_used.find("read in byte-range splits"), std::string::npos);
}

TEST(TaskGraphTest, StdinRunsFusedOnOneThreadAndSaysWhy) {
  PlannedJob planned;
  ASSERT_TRUE(planned.Bind(kGroupByQuery, 0, "", "-").ok());
  absl::StatusOr<TaskGraph> graph = planned.Plan(2);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  EXPECT_TRUE(graph->fused);
  EXPECT_EQ(graph->workers, 1);
  EXPECT_EQ(graph->requested_parallelism, 2);
  EXPECT_EQ(graph->single_thread_reason,
            "source 'src' reads a stream (stdin), which one thread reads as it arrives and cannot be split");
  EXPECT_EQ(SingleThreadReason(planned.job), graph->single_thread_reason);
  EXPECT_EQ(graph->statements[0].keyed_input, KeyedInput::kNone);
  EXPECT_EQ(graph->statements[0].sink, SinkPlacement::kFused);
}

TEST(TaskGraphTest, LimitRunsOnTheCoordinatorBehindTheGather) {
  PlannedJob planned;
  ASSERT_TRUE(planned.Bind(kLimitQuery, 2).ok());
  RunOptions options;  // per-worker sinks are offered, but a LIMIT needs every row in one place
  options.make_worker_sink = [](const BoundStatement&, int) -> std::unique_ptr<SinkOperator> {
    return nullptr;
  };
  absl::StatusOr<TaskGraph> graph = planned.Plan(2, options);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  const StatementTasks& tasks = graph->statements[0];
  EXPECT_FALSE(tasks.stateful.has_value());
  ASSERT_LT(tasks.gather_begin, tasks.chain.size());
  EXPECT_EQ(tasks.chain[tasks.gather_begin]->kind, LogicalOperatorKind::kLimit);
  EXPECT_EQ(tasks.pre_end, tasks.gather_begin);
  EXPECT_TRUE(tasks.gathered);
  EXPECT_EQ(tasks.sink, SinkPlacement::kCoordinator);
}

TEST(TaskGraphTest, ParallelismBelowOneIsRefused) {
  PlannedJob planned;
  ASSERT_TRUE(planned.Bind(kStatelessQuery, 1).ok());
  absl::StatusOr<TaskGraph> graph = planned.Plan(0);
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().message(), "parallelism must be at least 1");
}

}  // namespace
}  // namespace sluice::testing
