// RowsWindowOperator: each window function on hand-checked rows, NULLs, frames, eviction,
// partitions, expiry, LEAD buffering, batch-size independence, snapshot/restore, and an
// oracle comparison with SQLite's window functions on generated data.
#include "ops/rows_window_operator.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "common/strings.h"

namespace sluice {
namespace {

using Kind = RowsWindowFunction::Kind;
using Row = std::vector<Value>;

// --- helpers ---------------------------------------------------------------------------------

void SetValue(Column& column, size_t row, const Value& value) {
  if (value.is_null()) {
    column.SetNull(row);
    return;
  }
  column.validity()[row] = 1;
  switch (column.type()) {
    case TypeId::kInt64:
    case TypeId::kTimestamp: column.data<int64_t>()[row] = value.int64(); break;
    case TypeId::kDouble: column.data<double>()[row] = value.dbl(); break;
    case TypeId::kBoolean:
    case TypeId::kNull: column.data<uint8_t>()[row] = value.boolean() ? 1 : 0; break;
    case TypeId::kString: column.data<std::string_view>()[row] = column.heap().Add(value.str()); break;
  }
}

// Rows [begin, end) of `rows` as one batch with fresh columns.
Batch MakeBatch(const std::vector<TypeId>& types, const std::vector<Row>& rows, size_t begin, size_t end) {
  std::vector<std::shared_ptr<Column>> columns;
  for (size_t c = 0; c < types.size(); ++c) {
    auto column = std::make_shared<Column>(types[c], end - begin);
    for (size_t r = begin; r < end; ++r) SetValue(*column, r - begin, rows[r][c]);
    columns.push_back(std::move(column));
  }
  Batch batch;
  batch.SetColumns(std::move(columns), end - begin);
  return batch;
}

// Records every active output row (copied out as Values) and every watermark, in order.
class CollectingSink final : public Operator {
 public:
  absl::Status Push(const Batch& batch) override {
    ++batches_;
    for (size_t i = 0; i < batch.active_rows(); ++i) {
      Row row;
      for (size_t c = 0; c < batch.num_columns(); ++c)
        row.push_back(batch.column(c).GetValue(batch.ActiveRow(i)));
      rows_.push_back(std::move(row));
    }
    return absl::OkStatus();
  }
  absl::Status OnWatermark(int64_t watermark) override {
    events_.push_back(StrCat("watermark after ", rows_.size(), " rows"));
    return absl::OkStatus();
  }
  absl::Status Finish() override {
    finished_ = true;
    return absl::OkStatus();
  }
  std::string Describe() const override { return "CollectingSink"; }

  std::vector<Row> rows_;
  std::vector<std::string> events_;
  size_t batches_ = 0;
  bool finished_ = false;
};

// A function with the documented result type for its argument.
RowsWindowFunction Function(Kind kind, int column, const std::vector<TypeId>& types, int64_t offset = 1) {
  RowsWindowFunction function;
  function.kind = kind;
  function.argument_column = column;
  function.argument_type = column >= 0 ? types[column] : TypeId::kNull;
  switch (kind) {
    case Kind::kAvg: function.result_type = TypeId::kDouble; break;
    case Kind::kCount:
    case Kind::kCountStar:
    case Kind::kRowNumber: function.result_type = TypeId::kInt64; break;
    default: function.result_type = function.argument_type; break;
  }
  function.offset = offset;
  return function;
}

RowsWindowSpec Spec(std::vector<size_t> partition_columns, int64_t buffer_rows, int64_t frame_rows,
                    std::vector<RowsWindowFunction> functions) {
  RowsWindowSpec spec;
  spec.partition_columns = std::move(partition_columns);
  spec.buffer_rows = buffer_rows;
  spec.frame_rows = frame_rows;
  spec.functions = std::move(functions);
  return spec;
}

// Pushes `rows` in batches of `batch_size`, then the final watermark and Finish.
std::vector<Row> RunWindow(const RowsWindowSpec& spec, const std::vector<TypeId>& types,
                           const std::vector<Row>& rows, size_t batch_size = 1024) {
  RowsWindowOperator window(spec, types);
  CollectingSink sink;
  window.SetOutput(&sink);
  for (size_t begin = 0; begin < rows.size(); begin += batch_size) {
    const Batch batch = MakeBatch(types, rows, begin, std::min(rows.size(), begin + batch_size));
    EXPECT_TRUE(window.Push(batch).ok());
  }
  EXPECT_TRUE(window.OnWatermark(kMaxWatermark).ok());
  EXPECT_TRUE(window.Finish().ok());
  EXPECT_TRUE(sink.finished_);
  return sink.rows_;
}

// Column `column` of every row, space-separated, NULL as NULL, strings quoted.
std::string ColumnText(const std::vector<Row>& rows, size_t column) {
  std::vector<std::string> cells;
  for (const Row& row : rows) cells.push_back(row[column].ToSql());
  return StrJoin(cells, " ");
}

// One partition key column `p`, a value column `x` of `type`.
std::vector<Row> Values(const std::vector<std::optional<double>>& xs, TypeId type,
                        std::string partition = "a") {
  std::vector<Row> rows;
  for (const auto& x : xs) {
    Value value = !x.has_value()            ? Value::Null(type)
                  : type == TypeId::kDouble ? Value::Double(*x)
                                            : Value::Int64(static_cast<int64_t>(*x));
    rows.push_back({Value::String(partition), value});
  }
  return rows;
}

const std::vector<TypeId> kDoubleTypes = {TypeId::kString, TypeId::kDouble};
const std::vector<TypeId> kBigintTypes = {TypeId::kString, TypeId::kInt64};

// --- one hand-checked example per function -----------------------------------------------------

TEST(RowsWindowOperatorTest, AvgSumCountOverFrameOfThree) {
  const auto rows =
      RunWindow(Spec({0}, 3, 3,
                     {Function(Kind::kAvg, 1, kDoubleTypes), Function(Kind::kSum, 1, kDoubleTypes),
                      Function(Kind::kCount, 1, kDoubleTypes), Function(Kind::kCountStar, -1, kDoubleTypes)}),
                kDoubleTypes, Values({1, 2, 3, 4, 5}, TypeId::kDouble));
  EXPECT_EQ(ColumnText(rows, 2), "1 1.5 2 3 4");
  EXPECT_EQ(ColumnText(rows, 3), "1 3 6 9 12");
  EXPECT_EQ(ColumnText(rows, 4), "1 2 3 3 3");
  EXPECT_EQ(ColumnText(rows, 5), "1 2 3 3 3");
}

TEST(RowsWindowOperatorTest, SumAndAvgOfBigint) {
  const auto rows = RunWindow(
      Spec({0}, 2, 2, {Function(Kind::kSum, 1, kBigintTypes), Function(Kind::kAvg, 1, kBigintTypes)}),
      kBigintTypes, Values({1, 2, 4, -10}, TypeId::kInt64));
  EXPECT_EQ(ColumnText(rows, 2), "1 3 6 -6");
  EXPECT_EQ(ColumnText(rows, 3), "1 1.5 3 -3");
  EXPECT_EQ(rows[0][2].type(), TypeId::kInt64);
}

TEST(RowsWindowOperatorTest, SumOfBigintWrapsLikeIntegerPlusButAvgIsExact) {
  std::vector<Row> rows = {{Value::String("a"), Value::Int64(INT64_MAX)},
                           {Value::String("a"), Value::Int64(1)}};
  const auto out = RunWindow(
      Spec({0}, 2, 2, {Function(Kind::kSum, 1, kBigintTypes), Function(Kind::kAvg, 1, kBigintTypes)}),
      kBigintTypes, rows);
  EXPECT_EQ(out[1][2].int64(), INT64_MIN);
  EXPECT_EQ(out[1][3].dbl(), 4611686018427387904.0);
}

TEST(RowsWindowOperatorTest, MinMaxFollowTheSlidingFrame) {
  const auto rows = RunWindow(
      Spec({0}, 3, 3, {Function(Kind::kMin, 1, kDoubleTypes), Function(Kind::kMax, 1, kDoubleTypes)}),
      kDoubleTypes, Values({5, 1, 4, 2, 3, 6, 6, 0}, TypeId::kDouble));
  EXPECT_EQ(ColumnText(rows, 2), "5 1 1 1 2 2 3 0");
  EXPECT_EQ(ColumnText(rows, 3), "5 5 5 4 4 6 6 6");
}

TEST(RowsWindowOperatorTest, MinMaxOfStrings) {
  const std::vector<TypeId> types = {TypeId::kString, TypeId::kString};
  std::vector<Row> rows;
  for (const char* word : {"pear", "apple", "zebra", "kiwi", "fig"}) {
    rows.push_back({Value::String("a"), Value::String(word)});
  }
  const auto out = RunWindow(
      Spec({0}, 2, 2, {Function(Kind::kMin, 1, types), Function(Kind::kMax, 1, types)}), types, rows);
  EXPECT_EQ(ColumnText(out, 2), "'pear' 'apple' 'apple' 'kiwi' 'fig'");
  EXPECT_EQ(ColumnText(out, 3), "'pear' 'pear' 'zebra' 'zebra' 'kiwi'");
}

TEST(RowsWindowOperatorTest, FirstAndLastValueAreTheFrameEnds) {
  const auto rows = RunWindow(
      Spec({0}, 2, 2,
           {Function(Kind::kFirstValue, 1, kBigintTypes), Function(Kind::kLastValue, 1, kBigintTypes)}),
      kBigintTypes, Values({10, 20, 30, 40}, TypeId::kInt64));
  EXPECT_EQ(ColumnText(rows, 2), "10 10 20 30");
  EXPECT_EQ(ColumnText(rows, 3), "10 20 30 40");
}

TEST(RowsWindowOperatorTest, LagLooksBackWithinTheBuffer) {
  const auto rows =
      RunWindow(Spec({0}, 3, 3,
                     {Function(Kind::kLag, 1, kBigintTypes, 1), Function(Kind::kLag, 1, kBigintTypes, 2),
                      Function(Kind::kLag, 1, kBigintTypes, 3), Function(Kind::kLag, 1, kBigintTypes, 0)}),
                kBigintTypes, Values({1, 2, 3, 4, 5}, TypeId::kInt64));
  EXPECT_EQ(ColumnText(rows, 2), "NULL 1 2 3 4");
  EXPECT_EQ(ColumnText(rows, 3), "NULL NULL 1 2 3");
  EXPECT_EQ(ColumnText(rows, 4), "NULL NULL NULL NULL NULL");  // 3 back is outside a 3-row buffer
  EXPECT_EQ(ColumnText(rows, 5), "1 2 3 4 5");
}

TEST(RowsWindowOperatorTest, RowNumberIsNotCappedByTheBuffer) {
  const auto rows = RunWindow(Spec({0}, 2, 2, {Function(Kind::kRowNumber, -1, kBigintTypes)}), kBigintTypes,
                              Values({7, 7, 7, 7, 7}, TypeId::kInt64));
  EXPECT_EQ(ColumnText(rows, 2), "1 2 3 4 5");
}

TEST(RowsWindowOperatorTest, LeadHoldsRowsUntilOffsetRowsArrive) {
  RowsWindowOperator window(Spec({0}, 5, 5, {Function(Kind::kLead, 1, kBigintTypes, 2)}), kBigintTypes);
  CollectingSink sink;
  window.SetOutput(&sink);
  const auto rows = Values({1, 2, 3, 4}, TypeId::kInt64);
  ASSERT_TRUE(window.Push(MakeBatch(kBigintTypes, rows, 0, 2)).ok());
  EXPECT_TRUE(sink.rows_.empty());  // rows 1 and 2 wait for the rows 2 later
  ASSERT_TRUE(window.Push(MakeBatch(kBigintTypes, rows, 2, 3)).ok());
  ASSERT_EQ(sink.rows_.size(), 1u);
  EXPECT_EQ(sink.rows_[0][1].int64(), 1);
  EXPECT_EQ(sink.rows_[0][2].int64(), 3);
  EXPECT_EQ(sink.rows_[0][0].str(), "a");  // held input values were copied
  ASSERT_TRUE(window.Push(MakeBatch(kBigintTypes, rows, 3, 4)).ok());
  ASSERT_EQ(sink.rows_.size(), 2u);
  EXPECT_EQ(sink.rows_[1][2].int64(), 4);
  ASSERT_TRUE(window.Finish().ok());
  EXPECT_EQ(ColumnText(sink.rows_, 1), "1 2 3 4");
  EXPECT_EQ(ColumnText(sink.rows_, 2), "3 4 NULL NULL");
  EXPECT_TRUE(sink.finished_);
}

TEST(RowsWindowOperatorTest, LeadRowsComeOutInTheOrderTheyComplete) {
  // a1 b1 a2 b2 a3: LEAD(x, 1) completes a1 at a2, b1 at b2, a2 at a3; Finish flushes b2, a3.
  std::vector<Row> rows;
  const char* keys[] = {"a", "b", "a", "b", "a"};
  for (int i = 0; i < 5; ++i) rows.push_back({Value::String(keys[i]), Value::Int64(i + 1)});
  const auto out = RunWindow(
      Spec({0}, 3, 3,
           {Function(Kind::kLead, 1, kBigintTypes, 1), Function(Kind::kRowNumber, -1, kBigintTypes)}),
      kBigintTypes, rows, 1);
  EXPECT_EQ(ColumnText(out, 1), "1 2 3 4 5");
  EXPECT_EQ(ColumnText(out, 2), "3 4 5 NULL NULL");
  EXPECT_EQ(ColumnText(out, 3), "1 1 2 2 3");
}

TEST(RowsWindowOperatorTest, LeadRowsAreFlushedWithNullAtFinish) {
  RowsWindowOperator window(Spec({0}, 4, 4, {Function(Kind::kLead, 1, kBigintTypes, 1)}), kBigintTypes);
  CollectingSink sink;
  window.SetOutput(&sink);
  ASSERT_TRUE(window.Push(MakeBatch(kBigintTypes, Values({5}, TypeId::kInt64, "a"), 0, 1)).ok());
  ASSERT_TRUE(window.Push(MakeBatch(kBigintTypes, Values({6}, TypeId::kInt64, "b"), 0, 1)).ok());
  EXPECT_TRUE(sink.rows_.empty());
  ASSERT_TRUE(window.Finish().ok());
  EXPECT_EQ(ColumnText(sink.rows_, 0), "'a' 'b'");  // arrival order
  EXPECT_EQ(ColumnText(sink.rows_, 2), "NULL NULL");
}

TEST(RowsWindowOperatorTest, FinalWatermarkFlushesLeadRowsBeforeForwarding) {
  RowsWindowOperator window(Spec({0}, 4, 4, {Function(Kind::kLead, 1, kBigintTypes, 1)}), kBigintTypes);
  CollectingSink sink;
  window.SetOutput(&sink);
  ASSERT_TRUE(window.Push(MakeBatch(kBigintTypes, Values({5, 6}, TypeId::kInt64), 0, 2)).ok());
  ASSERT_TRUE(window.OnWatermark(kMaxWatermark).ok());
  EXPECT_EQ(sink.events_, std::vector<std::string>{"watermark after 2 rows"});
  EXPECT_EQ(ColumnText(sink.rows_, 2), "6 NULL");
  ASSERT_TRUE(window.Finish().ok());
  EXPECT_EQ(sink.rows_.size(), 2u);
}

// --- NULLs, frames, eviction, partitions ------------------------------------------------------

TEST(RowsWindowOperatorTest, NullArgumentsAreIgnoredByAggregatesAndKeptByValueFunctions) {
  const auto rows =
      RunWindow(Spec({0}, 3, 3,
                     {Function(Kind::kAvg, 1, kDoubleTypes), Function(Kind::kSum, 1, kDoubleTypes),
                      Function(Kind::kCount, 1, kDoubleTypes), Function(Kind::kMin, 1, kDoubleTypes),
                      Function(Kind::kMax, 1, kDoubleTypes), Function(Kind::kFirstValue, 1, kDoubleTypes),
                      Function(Kind::kLastValue, 1, kDoubleTypes), Function(Kind::kLag, 1, kDoubleTypes, 1),
                      Function(Kind::kCountStar, -1, kDoubleTypes)}),
                kDoubleTypes, Values({std::nullopt, std::nullopt, 3, std::nullopt, 5}, TypeId::kDouble));
  EXPECT_EQ(ColumnText(rows, 2), "NULL NULL 3 3 4");        // AVG
  EXPECT_EQ(ColumnText(rows, 3), "NULL NULL 3 3 8");        // SUM
  EXPECT_EQ(ColumnText(rows, 4), "0 0 1 1 2");              // COUNT(x)
  EXPECT_EQ(ColumnText(rows, 5), "NULL NULL 3 3 3");        // MIN
  EXPECT_EQ(ColumnText(rows, 6), "NULL NULL 3 3 5");        // MAX
  EXPECT_EQ(ColumnText(rows, 7), "NULL NULL NULL NULL 3");  // FIRST_VALUE
  EXPECT_EQ(ColumnText(rows, 8), "NULL NULL 3 NULL 5");     // LAST_VALUE
  EXPECT_EQ(ColumnText(rows, 9), "NULL NULL NULL 3 NULL");  // LAG
  EXPECT_EQ(ColumnText(rows, 10), "1 2 3 3 3");             // COUNT(*)
}

TEST(RowsWindowOperatorTest, AggregatesReturnToNullWhenNonNullValuesLeaveTheFrame) {
  const auto rows =
      RunWindow(Spec({0}, 2, 2,
                     {Function(Kind::kAvg, 1, kDoubleTypes), Function(Kind::kCount, 1, kDoubleTypes),
                      Function(Kind::kMin, 1, kDoubleTypes)}),
                kDoubleTypes, Values({0.1, 0.2, std::nullopt, std::nullopt, 7}, TypeId::kDouble));
  EXPECT_EQ(ColumnText(rows, 2), "0.1 0.15000000000000002 0.2 NULL 7");
  EXPECT_EQ(ColumnText(rows, 3), "1 2 1 0 1");
  EXPECT_EQ(ColumnText(rows, 4), "0.1 0.1 0.2 NULL 7");
}

TEST(RowsWindowOperatorTest, FrameSmallerThanBufferUsesOnlyTheFrameButLagSeesTheBuffer) {
  const auto rows = RunWindow(
      Spec({0}, 5, 2,
           {Function(Kind::kAvg, 1, kDoubleTypes), Function(Kind::kMin, 1, kDoubleTypes),
            Function(Kind::kFirstValue, 1, kDoubleTypes), Function(Kind::kCountStar, -1, kDoubleTypes),
            Function(Kind::kLag, 1, kDoubleTypes, 4)}),
      kDoubleTypes, Values({1, 2, 3, 4, 5, 6}, TypeId::kDouble));
  EXPECT_EQ(ColumnText(rows, 2), "1 1.5 2.5 3.5 4.5 5.5");
  EXPECT_EQ(ColumnText(rows, 3), "1 1 2 3 4 5");
  EXPECT_EQ(ColumnText(rows, 4), "1 1 2 3 4 5");
  EXPECT_EQ(ColumnText(rows, 5), "1 2 2 2 2 2");
  EXPECT_EQ(ColumnText(rows, 6), "NULL NULL NULL NULL 1 2");
}

TEST(RowsWindowOperatorTest, BufferEvictionDropsTheOldestRowsAndCutsLongerFrames) {
  // A 10-row frame over a 2-row buffer only sees the buffer.
  const auto rows =
      RunWindow(Spec({0}, 2, 10,
                     {Function(Kind::kSum, 1, kBigintTypes), Function(Kind::kLag, 1, kBigintTypes, 1),
                      Function(Kind::kLag, 1, kBigintTypes, 2), Function(Kind::kRowNumber, -1, kBigintTypes),
                      Function(Kind::kMax, 1, kBigintTypes)}),
                kBigintTypes, Values({9, 2, 3, 1}, TypeId::kInt64));
  EXPECT_EQ(ColumnText(rows, 2), "9 11 5 4");
  EXPECT_EQ(ColumnText(rows, 3), "NULL 9 2 3");
  EXPECT_EQ(ColumnText(rows, 4), "NULL NULL NULL NULL");
  EXPECT_EQ(ColumnText(rows, 5), "1 2 3 4");
  EXPECT_EQ(ColumnText(rows, 6), "9 9 3 3");
}

TEST(RowsWindowOperatorTest, PartitionsAreIndependent) {
  std::vector<Row> rows;
  const char* keys[] = {"a", "b", "a", "b", "a", "c"};
  const int64_t xs[] = {1, 10, 2, 20, 3, 100};
  for (int i = 0; i < 6; ++i) rows.push_back({Value::String(keys[i]), Value::Int64(xs[i])});
  const auto out =
      RunWindow(Spec({0}, 5, 5,
                     {Function(Kind::kSum, 1, kBigintTypes), Function(Kind::kRowNumber, -1, kBigintTypes),
                      Function(Kind::kLag, 1, kBigintTypes, 1), Function(Kind::kMin, 1, kBigintTypes)}),
                kBigintTypes, rows);
  EXPECT_EQ(ColumnText(out, 2), "1 10 3 30 6 100");
  EXPECT_EQ(ColumnText(out, 3), "1 1 2 2 3 1");
  EXPECT_EQ(ColumnText(out, 4), "NULL NULL 1 10 2 NULL");
  EXPECT_EQ(ColumnText(out, 5), "1 10 1 10 1 100");
}

TEST(RowsWindowOperatorTest, CompositeKeysWithNullPartitionTogether) {
  const std::vector<TypeId> types = {TypeId::kString, TypeId::kInt64, TypeId::kInt64};
  std::vector<Row> rows = {
      {Value::String("a"), Value::Null(TypeId::kInt64), Value::Int64(1)},
      {Value::String("a"), Value::Int64(1), Value::Int64(2)},
      {Value::String("a"), Value::Null(TypeId::kInt64), Value::Int64(3)},
      {Value::Null(TypeId::kString), Value::Null(TypeId::kInt64), Value::Int64(4)},
  };
  const auto out = RunWindow(Spec({0, 1}, 4, 4, {Function(Kind::kSum, 2, types)}), types, rows);
  EXPECT_EQ(ColumnText(out, 3), "1 2 4 4");
}

TEST(RowsWindowOperatorTest, NoPartitionColumnsIsOnePartition) {
  std::vector<Row> rows;
  for (int i = 0; i < 4; ++i) rows.push_back({Value::String(i % 2 ? "a" : "b"), Value::Int64(i)});
  const auto out = RunWindow(
      Spec({}, 3, 3, {Function(Kind::kRowNumber, -1, kBigintTypes), Function(Kind::kSum, 1, kBigintTypes)}),
      kBigintTypes, rows);
  EXPECT_EQ(ColumnText(out, 2), "1 2 3 4");
  EXPECT_EQ(ColumnText(out, 3), "0 1 3 6");
}

TEST(RowsWindowOperatorTest, OutputSharesInputColumnsAndKeepsTheSelection) {
  RowsWindowOperator window(
      Spec({0}, 3, 3,
           {Function(Kind::kRowNumber, -1, kBigintTypes), Function(Kind::kLag, 1, kBigintTypes, 1)}),
      kBigintTypes);
  class CheckingSink final : public Operator {
   public:
    absl::Status Push(const Batch& batch) override {
      seen = &batch.column(0);
      selection.assign(batch.selection(), batch.selection() + batch.active_rows());
      row_numbers.clear();
      for (size_t i = 0; i < batch.active_rows(); ++i) {
        row_numbers.push_back(batch.column(2).data<int64_t>()[batch.ActiveRow(i)]);
      }
      lag_of_last = batch.column(3).GetValue(batch.ActiveRow(batch.active_rows() - 1)).ToSql();
      return absl::OkStatus();
    }
    std::string Describe() const override { return "CheckingSink"; }
    const Column* seen = nullptr;
    std::vector<uint32_t> selection;
    std::vector<int64_t> row_numbers;
    std::string lag_of_last;
  } sink;
  window.SetOutput(&sink);
  Batch batch = MakeBatch(kBigintTypes, Values({1, 2, 3, 4, 5}, TypeId::kInt64), 0, 5);
  uint32_t* selection = batch.MutableSelection();
  selection[0] = 1;
  selection[1] = 3;
  batch.SetSelectionCount(2);
  ASSERT_TRUE(window.Push(batch).ok());
  EXPECT_EQ(sink.seen, &batch.column(0));
  EXPECT_EQ(sink.selection, (std::vector<uint32_t>{1, 3}));
  EXPECT_EQ(sink.row_numbers, (std::vector<int64_t>{1, 2}));  // unselected rows are not in the window
  EXPECT_EQ(sink.lag_of_last, "2");
}

TEST(RowsWindowOperatorTest, RejectsBatchWithWrongColumnCount) {
  RowsWindowOperator window(Spec({0}, 3, 3, {Function(Kind::kRowNumber, -1, kBigintTypes)}), kBigintTypes);
  const std::vector<TypeId> one = {TypeId::kString};
  std::vector<Row> rows = {{Value::String("a")}};
  EXPECT_EQ(window.Push(MakeBatch(one, rows, 0, 1)).code(), absl::StatusCode::kInvalidArgument);
}

// --- expiry --------------------------------------------------------------------------------------

const std::vector<TypeId> kTimedTypes = {TypeId::kString, TypeId::kInt64, TypeId::kTimestamp};

Row Timed(const char* key, int64_t x, int64_t millis) {
  return {Value::String(key), Value::Int64(x), Value::Timestamp(millis)};
}

RowsWindowSpec TimedSpec(std::vector<RowsWindowFunction> functions, int64_t expire_after = 1000) {
  RowsWindowSpec spec = Spec({0}, 4, 4, std::move(functions));
  spec.expire_after_millis = expire_after;
  spec.event_time_column = 2;
  return spec;
}

TEST(RowsWindowOperatorTest, WatermarkExpiresIdlePartitionsAndALaterRowStartsFresh) {
  RowsWindowOperator window(
      TimedSpec({Function(Kind::kSum, 1, kTimedTypes), Function(Kind::kRowNumber, -1, kTimedTypes)}),
      kTimedTypes);
  CollectingSink sink;
  window.SetOutput(&sink);
  const std::vector<Row> rows = {Timed("a", 1, 0), Timed("a", 2, 500), Timed("b", 5, 1500),
                                 Timed("a", 3, 2100)};
  ASSERT_TRUE(window.Push(MakeBatch(kTimedTypes, rows, 0, 3)).ok());
  EXPECT_EQ(window.live_partitions(), 2u);
  ASSERT_TRUE(window.OnWatermark(1499).ok());  // a idle 999 ms: kept
  EXPECT_EQ(window.partitions_expired(), 0u);
  ASSERT_TRUE(window.OnWatermark(1500).ok());  // a idle exactly 1000 ms: dropped; b idle 0 ms: kept
  EXPECT_EQ(window.partitions_expired(), 1u);
  EXPECT_EQ(window.live_partitions(), 1u);
  ASSERT_TRUE(window.Push(MakeBatch(kTimedTypes, rows, 3, 4)).ok());
  EXPECT_EQ(ColumnText(sink.rows_, 3), "1 3 5 3");
  EXPECT_EQ(ColumnText(sink.rows_, 4), "1 2 1 1");
  EXPECT_EQ(sink.events_.size(), 2u);  // watermarks are forwarded
}

// Within one batch, with no watermark received: a at 1500 is 1500 ms after a's last row, but
// the watermark before it (-1) has not reached 0 + 1000, so a lives on; b at 2501 moves the
// watermark to 2500, exactly 1000 ms past a's last row, so the out-of-order a at 2400 finds a
// expired and starts it afresh.
TEST(RowsWindowOperatorTest, ARowFindsItsPartitionExpiredByTheWatermarkBeforeIt) {
  const std::vector<Row> rows = {Timed("a", 1, 0), Timed("a", 2, 1500), Timed("b", 4, 2501),
                                 Timed("a", 8, 2400)};
  RowsWindowOperator window(
      TimedSpec({Function(Kind::kSum, 1, kTimedTypes), Function(Kind::kRowNumber, -1, kTimedTypes),
                 Function(Kind::kLag, 1, kTimedTypes, 1)}),
      kTimedTypes);
  CollectingSink sink;
  window.SetOutput(&sink);
  ASSERT_TRUE(window.Push(MakeBatch(kTimedTypes, rows, 0, 4)).ok());
  EXPECT_EQ(ColumnText(sink.rows_, 3), "1 3 4 8");
  EXPECT_EQ(ColumnText(sink.rows_, 4), "1 2 1 1");
  EXPECT_EQ(ColumnText(sink.rows_, 5), "NULL 1 NULL NULL");
  EXPECT_EQ(window.partitions_expired(), 1u);
}

// The same rows a batch each, with the watermark a source would send after each: the same
// output (the rule does not depend on where batches end).
TEST(RowsWindowOperatorTest, ExpiryIsTheSameWithAWatermarkAfterEveryRow) {
  const std::vector<Row> rows = {Timed("a", 1, 0), Timed("a", 2, 1500), Timed("b", 4, 2501),
                                 Timed("a", 8, 2400)};
  RowsWindowOperator window(
      TimedSpec({Function(Kind::kSum, 1, kTimedTypes), Function(Kind::kRowNumber, -1, kTimedTypes)}),
      kTimedTypes);
  CollectingSink sink;
  window.SetOutput(&sink);
  int64_t highest = INT64_MIN;
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_TRUE(window.Push(MakeBatch(kTimedTypes, rows, i, i + 1)).ok());
    highest = std::max(highest, rows[i][2].int64());
    ASSERT_TRUE(window.OnWatermark(highest - 1).ok());
  }
  EXPECT_EQ(ColumnText(sink.rows_, 3), "1 3 4 8");
  EXPECT_EQ(ColumnText(sink.rows_, 4), "1 2 1 1");
  EXPECT_EQ(window.partitions_expired(), 1u);
}

// An input that interleaves several partitions: rows do not advance the watermark, only the
// received one counts.
TEST(RowsWindowOperatorTest, AnInterleavedInputExpiresByTheReceivedWatermarkOnly) {
  const std::vector<Row> rows = {Timed("a", 1, 0), Timed("b", 2, 5000), Timed("a", 4, 5001)};
  RowsWindowOperator window(TimedSpec({Function(Kind::kRowNumber, -1, kTimedTypes)}), kTimedTypes);
  window.SetInputInterleaved(true);
  CollectingSink sink;
  window.SetOutput(&sink);
  ASSERT_TRUE(window.Push(MakeBatch(kTimedTypes, rows, 0, 3)).ok());
  EXPECT_EQ(ColumnText(sink.rows_, 3), "1 1 2");
  EXPECT_EQ(window.partitions_expired(), 0u);
  ASSERT_TRUE(window.OnWatermark(6001).ok());  // a's last row (5001) plus 1000 ms
  EXPECT_EQ(window.partitions_expired(), 2u);
}

TEST(RowsWindowOperatorTest, ExpiryFlushesHeldLeadRowsBeforeTheWatermark) {
  RowsWindowOperator window(TimedSpec({Function(Kind::kLead, 1, kTimedTypes, 1)}), kTimedTypes);
  CollectingSink sink;
  window.SetOutput(&sink);
  const std::vector<Row> rows = {Timed("a", 1, 0), Timed("a", 2, 100), Timed("b", 3, 4000),
                                 Timed("a", 4, 6000)};
  ASSERT_TRUE(window.Push(MakeBatch(kTimedTypes, rows, 0, 3)).ok());
  EXPECT_EQ(sink.rows_.size(), 1u);  // a1 (LEAD 2); a2 and b3 are held
  ASSERT_TRUE(window.OnWatermark(1200).ok());
  EXPECT_EQ(ColumnText(sink.rows_, 3), "2 NULL");  // a expired: a2 comes out with LEAD NULL
  EXPECT_EQ(sink.events_, std::vector<std::string>{"watermark after 2 rows"});
  ASSERT_TRUE(window.Push(MakeBatch(kTimedTypes, rows, 3, 4)).ok());
  ASSERT_TRUE(window.Finish().ok());
  EXPECT_EQ(ColumnText(sink.rows_, 1), "1 2 3 4");
  EXPECT_EQ(ColumnText(sink.rows_, 3), "2 NULL NULL NULL");
}

// b at 5000 moves the watermark past a's last row (100) plus 1000 ms: a at 5001 finds a
// expired, so a's held row comes out (LEAD NULL) before a starts afresh.
TEST(RowsWindowOperatorTest, ArrivalAfterInactivityEmitsHeldLeadRowsFirst) {
  const std::vector<Row> rows = {Timed("a", 1, 0), Timed("a", 2, 100), Timed("b", 3, 5000),
                                 Timed("a", 4, 5001), Timed("a", 5, 5002)};
  const auto out = RunWindow(
      TimedSpec({Function(Kind::kLead, 1, kTimedTypes, 1), Function(Kind::kRowNumber, -1, kTimedTypes)}),
      kTimedTypes, rows, 5);
  EXPECT_EQ(ColumnText(out, 1), "1 2 4 3 5");
  EXPECT_EQ(ColumnText(out, 3), "2 NULL 5 NULL NULL");
  EXPECT_EQ(ColumnText(out, 4), "1 2 1 1 2");
}

// --- generated streams -----------------------------------------------------------------------------

// seq BIGINT, p STRING (partition), x DOUBLE, n BIGINT, s STRING, ts TIMESTAMP; ~10% NULLs in
// x, n and s. Event time advances 0-9 ms per row, with a long pause every 700 rows so that
// partitions expire.
const std::vector<TypeId> kStreamTypes = {TypeId::kInt64, TypeId::kString, TypeId::kDouble,
                                          TypeId::kInt64, TypeId::kString, TypeId::kTimestamp};

std::vector<Row> GenerateStream(size_t count, int partitions, uint64_t seed) {
  static const char* kWords[] = {"alpha", "beta",    "gamma",
                                 "delta", "epsilon", "zeta",
                                 "eta",   "theta",   "a-rather-long-string-value-that-needs-the-heap"};
  std::mt19937_64 random(seed);
  auto uniform = [&](int64_t low, int64_t high) {
    return std::uniform_int_distribution<int64_t>(low, high)(random);
  };
  std::vector<Row> rows;
  int64_t time = 1704067200000;
  for (size_t i = 0; i < count; ++i) {
    time += uniform(0, 9) + (i % 700 == 699 ? 60000 : 0);
    Row row;
    row.push_back(Value::Int64(static_cast<int64_t>(i)));
    row.push_back(Value::String(StrCat("p", uniform(0, partitions - 1))));
    row.push_back(uniform(0, 9) == 0 ? Value::Null(TypeId::kDouble)
                                     : Value::Double(static_cast<double>(uniform(-50000, 50000)) / 100.0));
    row.push_back(uniform(0, 9) == 0 ? Value::Null(TypeId::kInt64) : Value::Int64(uniform(-1000, 1000)));
    row.push_back(uniform(0, 9) == 0 ? Value::Null(TypeId::kString) : Value::String(kWords[uniform(0, 8)]));
    row.push_back(Value::Timestamp(time));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<RowsWindowFunction> AllFunctions() {
  const auto& t = kStreamTypes;
  return {
      Function(Kind::kAvg, 2, t),        Function(Kind::kMin, 2, t),        Function(Kind::kMax, 2, t),
      Function(Kind::kSum, 2, t),        Function(Kind::kCount, 2, t),      Function(Kind::kSum, 3, t),
      Function(Kind::kAvg, 3, t),        Function(Kind::kMin, 3, t),        Function(Kind::kMax, 3, t),
      Function(Kind::kCountStar, -1, t), Function(Kind::kFirstValue, 2, t), Function(Kind::kLastValue, 2, t),
      Function(Kind::kLag, 2, t, 1),     Function(Kind::kLag, 3, t, 5),     Function(Kind::kLead, 2, t, 1),
      Function(Kind::kLead, 4, t, 3),    Function(Kind::kRowNumber, -1, t), Function(Kind::kMin, 4, t),
      Function(Kind::kMax, 4, t),        Function(Kind::kFirstValue, 4, t), Function(Kind::kLag, 4, t, 2),
      Function(Kind::kCount, 4, t),      Function(Kind::kLastValue, 4, t)};
}

RowsWindowSpec StreamSpec(bool with_expiry) {
  RowsWindowSpec spec = Spec({1}, 150, 100, AllFunctions());
  if (with_expiry) {
    spec.expire_after_millis = 30000;
    spec.event_time_column = 5;
  }
  return spec;
}

std::vector<Row> SortedBySeq(std::vector<Row> rows) {
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a[0].int64() < b[0].int64(); });
  return rows;
}

std::string RowText(const Row& row) {
  std::vector<std::string> cells;
  for (const Value& value : row) cells.push_back(value.ToSql());
  return StrJoin(cells, ", ");
}

void ExpectSameRows(const std::vector<Row>& expected, const std::vector<Row>& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(RowText(expected[i]), RowText(actual[i])) << "row " << i;
  }
}

TEST(RowsWindowOperatorTest, SameOutputAtBatchSizes1And7And1024) {
  const auto rows = GenerateStream(3000, 12, 7);
  const RowsWindowSpec spec = StreamSpec(/*with_expiry=*/true);
  const auto reference = RunWindow(spec, kStreamTypes, rows, 1024);
  ASSERT_EQ(reference.size(), rows.size());
  for (size_t batch_size : {1, 7}) {
    SCOPED_TRACE(StrCat("batch size ", batch_size));
    ExpectSameRows(reference, RunWindow(spec, kStreamTypes, rows, batch_size));
  }
  // With a watermark after every batch, expiry may flush held LEAD rows earlier, which moves
  // them in the output order but changes no value.
  for (size_t batch_size : {1, 7, 1024}) {
    SCOPED_TRACE(StrCat("batch size ", batch_size, " with watermarks"));
    RowsWindowOperator window(spec, kStreamTypes);
    CollectingSink sink;
    window.SetOutput(&sink);
    for (size_t begin = 0; begin < rows.size(); begin += batch_size) {
      const size_t end = std::min(rows.size(), begin + batch_size);
      ASSERT_TRUE(window.Push(MakeBatch(kStreamTypes, rows, begin, end)).ok());
      ASSERT_TRUE(window.OnWatermark(rows[end - 1][5].int64() - 1).ok());
    }
    ASSERT_TRUE(window.Finish().ok());
    EXPECT_GT(window.partitions_expired(), 0u);
    ExpectSameRows(SortedBySeq(reference), SortedBySeq(sink.rows_));
  }
}

// Runs `rows` in batches of 7 with a watermark after each batch; when `cut` is set, snapshots
// after that many batches, restores into a fresh operator and continues there.
struct CutRun {
  std::vector<Row> rows;
  uint64_t expired = 0;
};
CutRun RunWithCut(const RowsWindowSpec& spec, const std::vector<Row>& rows, std::optional<size_t> cut) {
  constexpr size_t kBatch = 7;
  auto window = std::make_unique<RowsWindowOperator>(spec, kStreamTypes);
  CollectingSink sink;
  window->SetOutput(&sink);
  size_t batches = 0;
  for (size_t begin = 0; begin < rows.size(); begin += kBatch) {
    if (cut.has_value() && batches++ == *cut) {
      StateWriter writer;
      EXPECT_TRUE(window->Snapshot(writer).ok());
      const std::string bytes = writer.Release();
      window = std::make_unique<RowsWindowOperator>(spec, kStreamTypes);
      window->SetOutput(&sink);
      StateReader reader(bytes);
      const absl::Status status = window->Restore(reader);
      EXPECT_TRUE(status.ok()) << status.message();
      EXPECT_TRUE(reader.AtEnd());
      // The restored operator holds exactly the state that was saved.
      StateWriter again;
      EXPECT_TRUE(window->Snapshot(again).ok());
      EXPECT_TRUE(again.bytes() == bytes);
    }
    const size_t end = std::min(rows.size(), begin + kBatch);
    EXPECT_TRUE(window->Push(MakeBatch(kStreamTypes, rows, begin, end)).ok());
    EXPECT_TRUE(window->OnWatermark(rows[end - 1][5].int64() - 2000).ok());
  }
  EXPECT_TRUE(window->OnWatermark(kMaxWatermark).ok());
  EXPECT_TRUE(window->Finish().ok());
  return {sink.rows_, window->partitions_expired()};
}

TEST(RowsWindowOperatorTest, SnapshotRestoreMidStreamContinuesIdentically) {
  const auto rows = GenerateStream(2500, 9, 11);
  const RowsWindowSpec spec = StreamSpec(/*with_expiry=*/true);
  const CutRun uninterrupted = RunWithCut(spec, rows, std::nullopt);
  ASSERT_GT(uninterrupted.expired, 0u);
  for (size_t cut : {0, 1, 50, 101, 250}) {
    SCOPED_TRACE(StrCat("snapshot after batch ", cut));
    const CutRun resumed = RunWithCut(spec, rows, cut);
    ExpectSameRows(uninterrupted.rows, resumed.rows);
    EXPECT_EQ(uninterrupted.expired, resumed.expired);
  }
}

TEST(RowsWindowOperatorTest, SnapshotRestoreWithoutLeadOrExpiry) {
  const auto rows = GenerateStream(1500, 5, 3);
  RowsWindowSpec spec = Spec({1}, 40, 25, {});
  for (const auto& function : AllFunctions()) {
    if (function.kind != Kind::kLead) spec.functions.push_back(function);
  }
  const CutRun uninterrupted = RunWithCut(spec, rows, std::nullopt);
  ExpectSameRows(uninterrupted.rows, RunWithCut(spec, rows, 100).rows);
}

TEST(RowsWindowOperatorTest, RestoreRejectsTruncatedOrForeignSnapshots) {
  const RowsWindowSpec spec = StreamSpec(/*with_expiry=*/true);
  RowsWindowOperator window(spec, kStreamTypes);
  const auto rows = GenerateStream(300, 4, 5);
  ASSERT_TRUE(window.Push(MakeBatch(kStreamTypes, rows, 0, rows.size())).ok());
  StateWriter writer;
  ASSERT_TRUE(window.Snapshot(writer).ok());
  const std::string bytes = writer.Release();
  for (size_t length : {size_t{0}, size_t{10}, bytes.size() / 2, bytes.size() - 1}) {
    RowsWindowOperator fresh(spec, kStreamTypes);
    StateReader reader(std::string_view(bytes).substr(0, length));
    EXPECT_EQ(fresh.Restore(reader).code(), absl::StatusCode::kDataLoss) << "length " << length;
  }
  RowsWindowSpec other = spec;
  other.buffer_rows = 99;
  RowsWindowOperator foreign(other, kStreamTypes);
  StateReader reader(bytes);
  EXPECT_EQ(foreign.Restore(reader).code(), absl::StatusCode::kDataLoss);
}

// A naive running sum with subtract-on-evict loses the small values next to large ones; the
// compensated, periodically recomputed sum must stay within 1e-12 of the exact frame sum.
TEST(RowsWindowOperatorTest, AvgStaysAccurateWhenLargeValuesLeaveTheFrame) {
  std::vector<Row> rows;
  std::mt19937_64 random(5);
  std::uniform_real_distribution<double> small(0, 1), large(1e11, 1e13);
  for (int i = 0; i < 100000; ++i) {
    const bool big_block = (i / 100) % 2 == 0;
    rows.push_back({Value::String("a"), Value::Double(big_block ? large(random) : small(random))});
  }
  const auto out =
      RunWindow(Spec({0}, 100, 100, {Function(Kind::kAvg, 1, kDoubleTypes)}), kDoubleTypes, rows);
  ASSERT_EQ(out.size(), rows.size());
  double worst = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    long double exact = 0;
    const size_t first = i >= 99 ? i - 99 : 0;
    for (size_t j = first; j <= i; ++j) exact += rows[j][1].dbl();
    exact /= static_cast<long double>(i - first + 1);
    const double error = std::fabs(static_cast<double>(exact) - out[i][2].dbl()) /
                         std::max(1.0, std::fabs(static_cast<double>(exact)));
    worst = std::max(worst, error);
  }
  EXPECT_LT(worst, 1e-12);
}

TEST(RowsWindowOperatorTest, ValidateRejectsBadSpecs) {
  const auto& t = kStreamTypes;
  auto check = [&](RowsWindowSpec spec, std::string_view fragment) {
    const absl::Status status = ValidateRowsWindowSpec(spec, t);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << fragment;
    EXPECT_NE(std::string(status.message()).find(fragment), std::string::npos) << status.message();
  };
  check(Spec({1}, 0, 1, {}), "BUFFER");
  check(Spec({1}, 10, 0, {}), "frame");
  check(Spec({9}, 10, 10, {}), "PARTITION BY");
  check(Spec({1}, 10, 10, {Function(Kind::kAvg, 4, t)}), "AVG(#4) needs a BIGINT or DOUBLE");
  check(Spec({1}, 10, 10, {Function(Kind::kLead, 2, t, 10)}), "less than the window buffer");
  check(Spec({1}, 10, 10, {Function(Kind::kLag, 2, t, -1)}), "must not be negative");
  RowsWindowFunction wrong = Function(Kind::kSum, 3, t);
  wrong.result_type = TypeId::kDouble;
  check(Spec({1}, 10, 10, {wrong}), "result type must be BIGINT");
  RowsWindowSpec expiring = Spec({1}, 10, 10, {});
  expiring.expire_after_millis = 1000;
  check(expiring, "event time column");
  EXPECT_TRUE(ValidateRowsWindowSpec(StreamSpec(true), t).ok());
}

TEST(RowsWindowOperatorTest, DescribeNamesFunctionsAndWindow) {
  RowsWindowSpec spec = Spec({0}, 100, 100,
                             {Function(Kind::kAvg, 1, kTimedTypes), Function(Kind::kLag, 1, kTimedTypes, 2),
                              Function(Kind::kCountStar, -1, kTimedTypes)});
  spec.expire_after_millis = 60000;
  spec.event_time_column = 2;
  EXPECT_EQ(
      RowsWindowOperator(spec, kTimedTypes).Describe(),
      "RowsWindow AVG(#1), LAG(#1, 2), COUNT(*) PARTITION BY #0 BUFFER 100 ROWS FRAME 100 ROWS EXPIRE AFTER "
      "60000 ms");
}

// --- SQLite oracle -----------------------------------------------------------------------------

bool SameAsSqlite(const Value& value, sqlite3_stmt* statement, int column) {
  const int type = sqlite3_column_type(statement, column);
  if (value.is_null() || type == SQLITE_NULL) return value.is_null() && type == SQLITE_NULL;
  switch (value.type()) {
    case TypeId::kString:
      return type == SQLITE_TEXT &&
             value.str() == reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
    case TypeId::kInt64:
      return type == SQLITE_INTEGER && value.int64() == sqlite3_column_int64(statement, column);
    case TypeId::kDouble: {
      const double expected = sqlite3_column_double(statement, column);
      return std::fabs(expected - value.dbl()) <=
             1e-9 * std::max({1.0, std::fabs(expected), std::fabs(value.dbl())});
    }
    default: return false;
  }
}

std::string SqliteCellText(sqlite3_stmt* statement, int column) {
  if (sqlite3_column_type(statement, column) == SQLITE_NULL) return "NULL";
  return reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
}

TEST(RowsWindowOperatorTest, MatchesSqliteWindowFunctions) {
  const auto rows = GenerateStream(5000, 20, 20261127);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t (seq INTEGER, p TEXT, x REAL, n INTEGER, s TEXT); BEGIN",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_stmt* insert = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?,?,?,?,?)", -1, &insert, nullptr), SQLITE_OK);
  for (const Row& row : rows) {
    sqlite3_bind_int64(insert, 1, row[0].int64());
    sqlite3_bind_text(insert, 2, row[1].str().c_str(), -1, SQLITE_TRANSIENT);
    row[2].is_null() ? sqlite3_bind_null(insert, 3) : sqlite3_bind_double(insert, 3, row[2].dbl());
    row[3].is_null() ? sqlite3_bind_null(insert, 4) : sqlite3_bind_int64(insert, 4, row[3].int64());
    row[4].is_null() ? sqlite3_bind_null(insert, 5)
                     : sqlite3_bind_text(insert, 5, row[4].str().c_str(), -1, SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(insert), SQLITE_DONE);
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  ASSERT_EQ(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);

  // Same functions, in the same order, as AllFunctions(); buffer 150 > frame 100 > LAG offsets.
  const char* query =
      "SELECT seq, AVG(x) OVER w, MIN(x) OVER w, MAX(x) OVER w, SUM(x) OVER w, COUNT(x) OVER w, "
      "SUM(n) OVER w, AVG(n) OVER w, MIN(n) OVER w, MAX(n) OVER w, COUNT(*) OVER w, "
      "FIRST_VALUE(x) OVER w, LAST_VALUE(x) OVER w, LAG(x, 1) OVER o, LAG(n, 5) OVER o, LEAD(x, 1) OVER o, "
      "LEAD(s, 3) OVER o, ROW_NUMBER() OVER o, MIN(s) OVER w, MAX(s) OVER w, FIRST_VALUE(s) OVER w, "
      "LAG(s, 2) OVER o, COUNT(s) OVER w, LAST_VALUE(s) OVER w FROM t "
      "WINDOW w AS (PARTITION BY p ORDER BY seq ROWS BETWEEN 99 PRECEDING AND CURRENT ROW), "
      "o AS (PARTITION BY p ORDER BY seq) ORDER BY seq";
  sqlite3_stmt* statement = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, query, -1, &statement, nullptr), SQLITE_OK) << sqlite3_errmsg(db);

  const auto ours = SortedBySeq(RunWindow(StreamSpec(/*with_expiry=*/false), kStreamTypes, rows, 64));
  ASSERT_EQ(ours.size(), rows.size());
  const size_t inputs = kStreamTypes.size();
  const int functions = static_cast<int>(AllFunctions().size());
  size_t index = 0, mismatches = 0;
  while (sqlite3_step(statement) == SQLITE_ROW) {
    ASSERT_LT(index, ours.size());
    const Row& row = ours[index++];
    ASSERT_EQ(row[0].int64(), sqlite3_column_int64(statement, 0));
    for (int f = 0; f < functions; ++f) {
      if (!SameAsSqlite(row[inputs + f], statement, f + 1) && ++mismatches <= 10) {
        ADD_FAILURE() << "seq " << row[0].int64() << ", function " << f << ": sluice "
                      << row[inputs + f].ToSql() << ", sqlite " << SqliteCellText(statement, f + 1);
      }
    }
  }
  EXPECT_EQ(index, ours.size());
  EXPECT_EQ(mismatches, 0u);
  sqlite3_finalize(statement);
  sqlite3_close(db);
}

}  // namespace
}  // namespace sluice
