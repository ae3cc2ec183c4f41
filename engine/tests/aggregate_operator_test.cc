// AggregateOperator unit tests: snapshot/restore mid-stream continues exactly where an
// uninterrupted run would be, for GROUP BY and for windows in both emit modes.
#include "ops/aggregate_operator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "ops/session_window_operator.h"
#include "plan/binder.h"
#include "sql/parser.h"

namespace sluice {
namespace {

// Encodes every row it receives as a JSON line.
class CollectingSink final : public Operator {
 public:
  explicit CollectingSink(const Schema& schema) : encoder_(MakeJsonEncoder(schema)) {}
  absl::Status Push(const Batch& batch) override {
    encoder_->Encode(batch, text_);
    return absl::OkStatus();
  }
  std::string Describe() const override { return "CollectingSink"; }
  const std::string& text() const { return text_; }

 private:
  std::unique_ptr<RecordEncoder> encoder_;
  std::string text_;
};

BoundJob Bind(const std::string& select) {
  auto parsed = ParseJob("CREATE STREAM out AS " + select +
                         " WITH ('t.type' = 'file_source', 't.path' = 'unused', 't.schema' = 'k STRING, "
                         "v BIGINT, x DOUBLE, ts TIMESTAMP', 'event.time.field' = 'ts', "
                         "'watermark.max_out_of_orderness' = '2s')");
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  auto job = BindJob(std::move(*parsed), BindOptions{});
  EXPECT_TRUE(job.ok()) << job.status().message();
  return std::move(*job);
}

const LogicalOperator& AggregateNode(const BoundJob& job) {
  const LogicalOperator* node = job.statements[0].plan.get();
  while (node->kind != LogicalOperatorKind::kAggregate) node = node->input.get();
  return *node;
}

// 40 batches of 25 rows: 7 keys, event time 1 s apart with some disorder, some NULLs.
std::vector<Batch> MakeBatches() {
  std::vector<Batch> batches(40);
  int64_t row_number = 0;
  for (auto& batch : batches) {
    auto k = std::make_shared<Column>(TypeId::kString, 25);
    auto v = std::make_shared<Column>(TypeId::kInt64, 25);
    auto x = std::make_shared<Column>(TypeId::kDouble, 25);
    auto ts = std::make_shared<Column>(TypeId::kTimestamp, 25);
    for (size_t i = 0; i < 25; ++i, ++row_number) {
      k->data<std::string_view>()[i] = k->heap().Add("key" + std::to_string(row_number * 7 % 11 % 7));
      k->validity()[i] = 1;
      v->data<int64_t>()[i] = row_number % 13;
      v->validity()[i] = 1;
      if (row_number % 9 == 0) {
        x->SetNull(i);
      } else {
        x->data<double>()[i] = static_cast<double>(row_number % 17) / 4.0;
        x->validity()[i] = 1;
      }
      ts->data<int64_t>()[i] = row_number * 1000 - (row_number % 3) * 700;
      ts->validity()[i] = 1;
    }
    batch.SetColumns({k, v, x, ts, ts}, 25);
  }
  return batches;
}

std::unique_ptr<Operator> MakeOperator(const LogicalOperator& node) {
  if (node.aggregate->window && node.aggregate->window->kind == WindowKind::kSession) {
    return std::make_unique<SessionWindowOperator>(*node.aggregate, node.schema);
  }
  return std::make_unique<AggregateOperator>(*node.aggregate, node.schema);
}

// Runs all batches through one operator, or through two with a snapshot/restore after `cut`.
std::string Run(const std::string& select, size_t cut) {
  const BoundJob job = Bind(select);
  const LogicalOperator& node = AggregateNode(job);
  const std::vector<Batch> batches = MakeBatches();
  CollectingSink sink(node.schema);
  std::unique_ptr<Operator> current = MakeOperator(node);
  current->SetOutput(&sink);
  int64_t watermark = INT64_MIN;
  for (size_t b = 0; b < batches.size(); ++b) {
    if (b == cut) {
      StateWriter writer;
      EXPECT_TRUE(current->Snapshot(writer).ok());
      current = MakeOperator(node);  // the old instance is gone, as after a crash
      current->SetOutput(&sink);
      StateReader reader(writer.bytes());
      EXPECT_TRUE(current->Restore(reader).ok());
      EXPECT_TRUE(reader.AtEnd());
    }
    EXPECT_TRUE(current->Push(batches[b]).ok());
    watermark = std::max<int64_t>(watermark, (static_cast<int64_t>(b) + 1) * 25000 - 5000);
    EXPECT_TRUE(current->OnWatermark(watermark).ok());
  }
  EXPECT_TRUE(current->OnWatermark(kMaxWatermark).ok());
  return sink.text();
}

void ExpectRestoreContinuesExactly(const std::string& select) {
  const std::string uninterrupted = Run(select, SIZE_MAX);
  ASSERT_FALSE(uninterrupted.empty());
  for (size_t cut : {1, 13, 27, 39})
    EXPECT_EQ(Run(select, cut), uninterrupted) << select << " cut at batch " << cut;
}

TEST(AggregateOperatorTest, GroupByEmitChangesSurvivesSnapshotRestore) {
  ExpectRestoreContinuesExactly(
      "SELECT k, COUNT(*), SUM(v), AVG(x), MIN(x), MAX(k), STDDEV(x), COUNT(DISTINCT v), FIRST_VALUE(x), "
      "LAST_VALUE(k) FROM t GROUP BY k");
}

TEST(AggregateOperatorTest, GroupByEmitFinalSurvivesSnapshotRestore) {
  ExpectRestoreContinuesExactly("SELECT k, COUNT(*), SUM(x) FROM t GROUP BY k EMIT FINAL");
}

TEST(AggregateOperatorTest, TumblingWindowSurvivesSnapshotRestore) {
  ExpectRestoreContinuesExactly(
      "SELECT k, COUNT(*), SUM(v), MAX(x), _window_start FROM t GROUP BY k WINDOW TUMBLING(ts, 10s) EMIT "
      "FINAL");
}

TEST(AggregateOperatorTest, SlidingWindowChangesSurviveSnapshotRestore) {
  ExpectRestoreContinuesExactly(
      "SELECT k, COUNT(DISTINCT v), _window_start FROM t GROUP BY k WINDOW SLIDING(ts, 20s, 5s) EMIT "
      "CHANGES");
}

TEST(AggregateOperatorTest, SessionWindowSurvivesSnapshotRestore) {
  ExpectRestoreContinuesExactly(
      "SELECT k, COUNT(*), SUM(v), MIN(x), COUNT(DISTINCT v), _window_start, _window_end FROM t GROUP BY k "
      "WINDOW SESSION(ts, 3s) EMIT FINAL");
}

TEST(AggregateOperatorTest, CorruptSnapshotIsAnErrorNotACrash) {
  const BoundJob job = Bind("SELECT k, COUNT(*) FROM t GROUP BY k");
  const LogicalOperator& node = AggregateNode(job);
  AggregateOperator aggregate(*node.aggregate, node.schema);
  StateWriter writer;
  ASSERT_TRUE(aggregate.Snapshot(writer).ok());
  const std::string truncated = writer.bytes().substr(0, writer.bytes().size() / 2);
  AggregateOperator restored(*node.aggregate, node.schema);
  StateReader reader(truncated);
  EXPECT_TRUE(absl::IsDataLoss(restored.Restore(reader)));
}

// The aggregate operator of `select`, with a collecting sink behind it.
struct AggregateUnderTest {
  explicit AggregateUnderTest(const std::string& select)
      : job(Bind(select)),
        node(AggregateNode(job)),
        aggregate(*node.aggregate, node.schema),
        sink(node.schema) {
    aggregate.SetOutput(&sink);
  }
  const BoundJob job;
  const LogicalOperator& node;
  AggregateOperator aggregate;
  CollectingSink sink;
};

TEST(AggregateOperatorTest, LateRowsAreCountedAndDropped) {
  AggregateUnderTest test("SELECT COUNT(*) FROM t WINDOW TUMBLING(ts, 10s)");
  AggregateOperator& aggregate = test.aggregate;
  auto ts = std::make_shared<Column>(TypeId::kTimestamp, 4);
  // 30 s advances the watermark to 27.999 s (2 s bound): the 5 s and 9 s rows arrive after
  // their window [0, 10 s) fired and are dropped; 25 s is within the bound.
  const int64_t times[] = {30000, 5000, 25000, 9000};
  for (size_t i = 0; i < 4; ++i) {
    ts->data<int64_t>()[i] = times[i];
    ts->validity()[i] = 1;
  }
  Batch batch;
  batch.SetColumns({ts, ts, ts, ts, ts}, 4);
  ASSERT_TRUE(aggregate.Push(batch).ok());
  ASSERT_TRUE(aggregate.OnWatermark(kMaxWatermark).ok());
  EXPECT_EQ(aggregate.metrics().late_dropped, 2u);
  EXPECT_EQ(test.sink.text(),
            "{\"COUNT(*)\":1,\"_window_start\":20000,\"_window_end\":30000}\n"
            "{\"COUNT(*)\":1,\"_window_start\":30000,\"_window_end\":40000}\n");
}

// Every row a new key: closed windows' groups are freed a few per row, and that must keep pace
// with the groups new rows create, or the groups still to free (and the operator's memory)
// grow without bound. Freeing half as fast fails this test.
TEST(AggregateOperatorTest, StateStaysBoundedWhenEveryRowIsANewKey) {
  AggregateUnderTest test("SELECT v, COUNT(*) FROM t GROUP BY v WINDOW TUMBLING(ts, 1s)");
  AggregateOperator& aggregate = test.aggregate;
  constexpr size_t kRows = 700;  // not a divisor of the 1,000 rows of a window
  auto k = std::make_shared<Column>(TypeId::kString, kRows);
  auto v = std::make_shared<Column>(TypeId::kInt64, kRows);
  auto x = std::make_shared<Column>(TypeId::kDouble, kRows);
  auto ts = std::make_shared<Column>(TypeId::kTimestamp, kRows);
  v->SetAllValid(kRows);
  ts->SetAllValid(kRows);
  for (size_t i = 0; i < kRows; ++i) {
    k->SetNull(i);
    x->SetNull(i);
  }
  Batch batch;
  batch.SetColumns({k, v, x, ts, ts}, kRows);
  size_t bytes_after_warmup = 0;
  int64_t row_number = 0;
  for (int b = 0; b < 1000; ++b) {
    for (size_t i = 0; i < kRows; ++i, ++row_number) {
      v->data<int64_t>()[i] = row_number;
      ts->data<int64_t>()[i] = row_number;  // a millisecond apart: 1,000 keys per window
    }
    ASSERT_TRUE(aggregate.Push(batch).ok());
    if (b == 100) bytes_after_warmup = aggregate.state_bytes();
  }
  EXPECT_LE(aggregate.state_bytes(), bytes_after_warmup);
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// A batch of `rows` rows for `schema`: keys "a" and "b" in turn, the clock for timestamps.
Batch RowsFor(const Schema& schema, size_t rows) {
  std::vector<std::shared_ptr<Column>> columns;
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (size_t c = 0; c < schema.size(); ++c) {
    auto column = std::make_shared<Column>(schema.field(c).type, rows);
    for (size_t i = 0; i < rows; ++i) {
      switch (schema.field(c).type) {
        case TypeId::kString:
          column->data<std::string_view>()[i] = column->heap().Add(i % 2 ? "b" : "a");
          break;
        case TypeId::kTimestamp: column->data<int64_t>()[i] = now; break;
        case TypeId::kInt64: column->data<int64_t>()[i] = static_cast<int64_t>(i); break;
        default: break;
      }
      column->validity()[i] = 1;
    }
    columns.push_back(std::move(column));
  }
  Batch batch;
  batch.SetColumns(std::move(columns), rows);
  return batch;
}

// The sum of the COUNT(*) column of the aggregate's rows.
int64_t CountsIn(const std::string& json_lines) {
  constexpr std::string_view kField = "\"COUNT(*)\":";
  int64_t total = 0;
  for (size_t at = json_lines.find(kField); at != std::string::npos; at = json_lines.find(kField, at + 1)) {
    total += std::stoll(json_lines.substr(at + kField.size()));
  }
  return total;
}

// A window over Flink's processing-time attribute fires as the clock passes its end, while the
// input still flows and whatever the event-time watermark says: the rows of the first batch come
// out when a batch arrives after their window's end, not only at the end of the input.
TEST(AggregateOperatorTest, ProcessingTimeWindowFiresOnTheClock) {
  const BoundJob job = Bind(
      "SELECT k, COUNT(*) AS n FROM (SELECT k, PROCTIME() AS p FROM t) AS v GROUP BY k "
      "WINDOW TUMBLING (p, INTERVAL '1' SECOND)");
  const LogicalOperator* node = job.statements.back().plan.get();
  while (node->kind != LogicalOperatorKind::kAggregate) node = node->input.get();
  ASSERT_TRUE(node->aggregate->window->processing_time);
  const Schema& input = node->input->schema;
  CollectingSink sink(node->schema);
  AggregateOperator aggregate(*node->aggregate, node->schema);
  aggregate.SetOutput(&sink);
  ASSERT_TRUE(aggregate.Push(RowsFor(input, 25)).ok());
  ASSERT_TRUE(aggregate.OnWatermark(0).ok());  // an event-time watermark: no window closes on it
  EXPECT_EQ(sink.text(), "");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_TRUE(aggregate.Push(RowsFor(input, 10)).ok());
  EXPECT_EQ(CountsIn(sink.text()), 25) << sink.text();
  ASSERT_TRUE(aggregate.OnWatermark(kMaxWatermark).ok());  // the end of the input ends every window
  EXPECT_EQ(CountsIn(sink.text()), 35) << sink.text();
  EXPECT_EQ(aggregate.metrics().late_dropped, 0u);
}

TEST(AggregateOperatorTest, ProcessingTimeSessionWindowIsRefused) {
  auto parsed = ParseJob(
      "CREATE STREAM out AS SELECT k, COUNT(*) AS n FROM (SELECT k, PROCTIME() AS p FROM t) AS v GROUP BY k "
      "WINDOW SESSION (p, INTERVAL '1' SECOND) WITH ('t.type' = 'file_source', 't.path' = 'unused', "
      "'t.schema' = 'k STRING')");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  auto job = BindJob(std::move(*parsed), BindOptions{});
  ASSERT_FALSE(job.ok());
  EXPECT_NE(job.status().message().find("not supported yet: a SESSION window over processing time"),
            std::string::npos)
      << job.status().message();
}

}  // namespace
}  // namespace sluice
