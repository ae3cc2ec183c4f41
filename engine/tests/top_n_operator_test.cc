// TopNOperator at operator level: snapshots restore to the same output (every strategy, a cut
// after every row), a truncated snapshot is an error and not a crash, state is freed when a
// window closes, and the row kinds of each strategy. Results against SQLite are in
// top_n_oracle_test.cc.
#include "ops/top_n_operator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "common/strings.h"

namespace sluice {
namespace {

// (key STRING, value BIGINT, time TIMESTAMP, window_end BIGINT)
const std::vector<TypeId> kTypes = {TypeId::kString, TypeId::kInt64, TypeId::kTimestamp, TypeId::kInt64};

struct InputRow {
  std::string key;
  int64_t value;
  int64_t time;
  int64_t window_end;
};

Batch MakeBatch(const std::vector<InputRow>& rows, size_t begin, size_t end) {
  std::vector<std::shared_ptr<Column>> columns;
  for (TypeId type : kTypes) columns.push_back(std::make_shared<Column>(type, end - begin));
  for (size_t r = begin; r < end; ++r) {
    const size_t i = r - begin;
    columns[0]->data<std::string_view>()[i] = columns[0]->heap().Add(rows[r].key);
    columns[1]->data<int64_t>()[i] = rows[r].value;
    columns[2]->data<int64_t>()[i] = rows[r].time;
    columns[3]->data<int64_t>()[i] = rows[r].window_end;
    for (auto& column : columns) column->validity()[i] = 1;
  }
  Batch batch;
  batch.SetColumns(std::move(columns), end - begin);
  return batch;
}

// Every output row as text with its row kind.
class CollectingSink final : public Operator {
 public:
  absl::Status Push(const Batch& batch) override {
    for (size_t i = 0; i < batch.active_rows(); ++i) {
      const uint32_t row = batch.ActiveRow(i);
      std::string text(RowKindName(batch.row_kind(row)));
      for (size_t c = 0; c < batch.num_columns(); ++c)
        StrAppend(&text, " ", batch.column(c).GetValue(row).ToSql());
      rows_.push_back(std::move(text));
    }
    return absl::OkStatus();
  }
  std::string Describe() const override { return "CollectingSink"; }
  std::vector<std::string> rows_;
};

TopNSpec Spec(TopNStrategy strategy, RankFunction function, int64_t limit, bool descending) {
  TopNSpec spec;
  spec.strategy = strategy;
  spec.function = function;
  spec.limit = limit;
  spec.emit_rank = true;
  spec.partition_columns = {0};
  const bool dedup = strategy == TopNStrategy::kKeepFirst || strategy == TopNStrategy::kKeepLast;
  spec.order = {TopNOrderKey{dedup ? size_t{2} : size_t{1}, descending}};
  if (strategy == TopNStrategy::kWindow) {
    spec.partition_columns = {0, 3};
    spec.window_end_column = 3;
  }
  if (strategy == TopNStrategy::kKeepFirst) spec.event_time_column = 2;
  return spec;
}

std::vector<InputRow> Rows() {
  std::mt19937_64 random(7);
  std::vector<InputRow> rows;
  for (int i = 0; i < 200; ++i) {
    const int64_t time = 1000 * i + static_cast<int64_t>(random() % 900);
    rows.push_back(InputRow{StrCat("k", random() % 5), static_cast<int64_t>(random() % 20), time,
                            (time / 10000 + 1) * 10000});
  }
  return rows;
}

// Runs `rows` through a fresh operator, in batches of `batch`; with `cut` >= 0, snapshots
// after row `cut` and continues on a fresh operator restored from it.
std::vector<std::string> RunOperator(const TopNSpec& spec, const std::vector<InputRow>& rows, size_t batch,
                                     int64_t cut = -1) {
  CollectingSink sink;
  auto op = std::make_unique<TopNOperator>(spec, kTypes);
  op->SetOutput(&sink);
  for (size_t begin = 0; begin < rows.size();) {
    size_t end = std::min(rows.size(), begin + batch);
    if (cut >= 0 && begin < static_cast<size_t>(cut)) end = std::min(end, static_cast<size_t>(cut));
    EXPECT_TRUE(op->Push(MakeBatch(rows, begin, end)).ok());
    EXPECT_TRUE(op->OnWatermark(rows[end - 1].time - 3000).ok());
    if (cut >= 0 && end == static_cast<size_t>(cut)) {
      StateWriter writer;
      EXPECT_TRUE(op->Snapshot(writer).ok());
      op = std::make_unique<TopNOperator>(spec, kTypes);
      op->SetOutput(&sink);
      StateReader reader(writer.bytes());
      const absl::Status restored = op->Restore(reader);
      EXPECT_TRUE(restored.ok()) << restored;
    }
    begin = end;
  }
  EXPECT_TRUE(op->OnWatermark(kMaxWatermark).ok());
  return sink.rows_;
}

struct Case {
  const char* name;
  TopNSpec spec;
};

std::vector<Case> Cases() {
  return {{"row_number", Spec(TopNStrategy::kUpdating, RankFunction::kRowNumber, 3, true)},
          {"rank", Spec(TopNStrategy::kUpdating, RankFunction::kRank, 2, false)},
          {"dense_rank", Spec(TopNStrategy::kUpdating, RankFunction::kDenseRank, 2, true)},
          {"window", Spec(TopNStrategy::kWindow, RankFunction::kRank, 2, true)},
          {"keep_first", Spec(TopNStrategy::kKeepFirst, RankFunction::kRowNumber, 1, false)},
          {"keep_last", Spec(TopNStrategy::kKeepLast, RankFunction::kRowNumber, 1, true)}};
}

TEST(TopNOperatorTest, RestoredSnapshotContinuesWithTheSameOutput) {
  const std::vector<InputRow> rows = Rows();
  for (const Case& c : Cases()) {
    // Windows closed by one watermark come out in group-id order, and a restored key table may
    // hand out freed ids in another order: a window Top-N's rows are compared as a set.
    const bool as_set = c.spec.strategy == TopNStrategy::kWindow;
    auto run = [&](int64_t cut) {
      std::vector<std::string> out = RunOperator(c.spec, rows, 7, cut);
      if (as_set) std::sort(out.begin(), out.end());
      return out;
    };
    const std::vector<std::string> uninterrupted = run(-1);
    ASSERT_FALSE(uninterrupted.empty()) << c.name;
    for (int64_t cut = 1; cut < static_cast<int64_t>(rows.size()); cut += 13) {
      EXPECT_EQ(run(cut), uninterrupted) << c.name << ", cut after row " << cut;
    }
  }
}

TEST(TopNOperatorTest, TruncatedSnapshotIsAnErrorNotACrash) {
  const std::vector<InputRow> rows = Rows();
  for (const Case& c : Cases()) {
    TopNOperator op(c.spec, kTypes);
    CollectingSink sink;
    op.SetOutput(&sink);
    ASSERT_TRUE(op.Push(MakeBatch(rows, 0, 100)).ok());
    StateWriter writer;
    ASSERT_TRUE(op.Snapshot(writer).ok());
    const std::string bytes(writer.bytes());
    for (size_t length = 0; length < bytes.size(); length += 1 + bytes.size() / 50) {
      TopNOperator fresh(c.spec, kTypes);
      StateReader reader(std::string_view(bytes).substr(0, length));
      EXPECT_FALSE(fresh.Restore(reader).ok())
          << c.name << ", " << length << " of " << bytes.size() << " bytes";
    }
  }
}

// A window's rows and key are freed when the watermark closes it; the output then is
// append-only (no row kinds), in rank order.
TEST(TopNOperatorTest, WindowStateIsFreedWhenTheWindowCloses) {
  TopNOperator op(Spec(TopNStrategy::kWindow, RankFunction::kRowNumber, 2, true), kTypes);
  CollectingSink sink;
  op.SetOutput(&sink);
  const std::vector<InputRow> rows = {{"a", 5, 1000, 10000},
                                      {"a", 7, 2000, 10000},
                                      {"a", 6, 3000, 10000},
                                      {"b", 1, 4000, 10000},
                                      {"a", 9, 11000, 20000}};
  ASSERT_TRUE(op.Push(MakeBatch(rows, 0, rows.size())).ok());
  EXPECT_TRUE(sink.rows_.empty());
  EXPECT_EQ(op.state_usage().keys, 3u);
  EXPECT_EQ(op.rows_held(), 4u);  // a: 7, 6 (5 left the top 2); b: 1; the next window's a: 9
  ASSERT_TRUE(op.OnWatermark(9998).ok());
  EXPECT_TRUE(sink.rows_.empty());
  const size_t bytes_before = op.state_usage().bytes;
  ASSERT_TRUE(op.OnWatermark(9999).ok());
  EXPECT_EQ(sink.rows_, (std::vector<std::string>{"+I 'a' 7 TIMESTAMP '1970-01-01T00:00:02Z' 10000 1",
                                                  "+I 'a' 6 TIMESTAMP '1970-01-01T00:00:03Z' 10000 2",
                                                  "+I 'b' 1 TIMESTAMP '1970-01-01T00:00:04Z' 10000 1"}));
  EXPECT_EQ(op.state_usage().keys, 1u);
  EXPECT_EQ(op.rows_held(), 1u);
  // The closed windows' row vectors are freed (slots and key slots stay for reuse).
  EXPECT_LT(op.state_usage().bytes, bytes_before);
  // A row of the closed window is late.
  ASSERT_TRUE(op.Push(MakeBatch({{"a", 100, 5000, 10000}}, 0, 1)).ok());
  EXPECT_EQ(op.metrics().late_dropped, 1u);
}

// Keep-first holds a key's earliest row until the watermark reaches it, then emits it once;
// keep-last updates with update-before / update-after.
TEST(TopNOperatorTest, DeduplicationRowKinds) {
  {
    TopNSpec spec = Spec(TopNStrategy::kKeepFirst, RankFunction::kRowNumber, 1, false);
    spec.input_out_of_orderness_millis = 5000;
    TopNOperator op(spec, kTypes);
    CollectingSink sink;
    op.SetOutput(&sink);
    // Out of order within the bound (5 s): the 1000 row arrives after the 2000 one and wins.
    const std::vector<InputRow> rows = {{"a", 1, 2000, 0}, {"a", 2, 1000, 0}, {"a", 3, 3000, 0}};
    ASSERT_TRUE(op.Push(MakeBatch(rows, 0, rows.size())).ok());
    EXPECT_TRUE(sink.rows_.empty());
    ASSERT_TRUE(op.OnWatermark(1000).ok());
    EXPECT_EQ(sink.rows_, (std::vector<std::string>{"+I 'a' 2 TIMESTAMP '1970-01-01T00:00:01Z' 0 1"}));
    ASSERT_TRUE(op.Push(MakeBatch({{"a", 4, 500000, 0}}, 0, 1)).ok());
    ASSERT_TRUE(op.OnWatermark(kMaxWatermark).ok());
    EXPECT_EQ(sink.rows_.size(), 1u);
  }
  {
    TopNOperator op(Spec(TopNStrategy::kKeepLast, RankFunction::kRowNumber, 1, true), kTypes);
    CollectingSink sink;
    op.SetOutput(&sink);
    const std::vector<InputRow> rows = {{"a", 1, 2000, 0}, {"a", 2, 1000, 0}, {"a", 3, 3000, 0}};
    ASSERT_TRUE(op.Push(MakeBatch(rows, 0, rows.size())).ok());
    EXPECT_EQ(sink.rows_, (std::vector<std::string>{"+I 'a' 1 TIMESTAMP '1970-01-01T00:00:02Z' 0 1",
                                                    "-U 'a' 1 TIMESTAMP '1970-01-01T00:00:02Z' 0 1",
                                                    "+U 'a' 3 TIMESTAMP '1970-01-01T00:00:03Z' 0 1"}));
  }
}

}  // namespace
}  // namespace sluice
