// ExpressionExecutor: vectorized evaluation honours selections, NULLs and zero-copy columns.
#include "expr/expression_executor.h"

#include <gtest/gtest.h>

#include "plan/binder.h"
#include "sql/parser.h"

namespace sluice {
namespace {

Schema TestSchema() {
  return Schema({{"a", TypeId::kInt64, false}, {"s", TypeId::kString, false}});
}

// Rows: a = 1, NULL, 3, 4 ; s = "x", "yy", NULL, "zzzz"
Batch TestBatch() {
  auto a = std::make_shared<Column>(TypeId::kInt64, 4);
  auto s = std::make_shared<Column>(TypeId::kString, 4);
  const int64_t values[] = {1, 0, 3, 4};
  const char* strings[] = {"x", "yy", "", "zzzz"};
  for (size_t i = 0; i < 4; ++i) {
    a->data<int64_t>()[i] = values[i];
    a->validity()[i] = i != 1;
    s->data<std::string_view>()[i] = s->heap().Add(strings[i]);
    s->validity()[i] = i != 2;
  }
  Batch batch;
  batch.SetColumns({a, s}, 4);
  return batch;
}

BoundExpressionPtr BindText(const std::string& text) {
  SourceText source(text);
  auto parsed = ParseExpression(source);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  auto bound = BindExpression(source, **parsed, TestSchema());
  EXPECT_TRUE(bound.ok()) << bound.status().message();
  return std::move(*bound);
}

TEST(ExpressionExecutorTest, ColumnReferenceIsNotCopied) {
  const Batch batch = TestBatch();
  auto expression = BindText("a");
  ExpressionExecutor executor(*expression);
  EXPECT_EQ(executor.Evaluate(batch).get(), &batch.column(0));
}

TEST(ExpressionExecutorTest, ArithmeticPropagatesNull) {
  const Batch batch = TestBatch();
  auto expression = BindText("a * 10 + 1");
  ExpressionExecutor executor(*expression);
  auto result = executor.Evaluate(batch);
  EXPECT_EQ(result->data<int64_t>()[0], 11);
  EXPECT_FALSE(result->IsValid(1));
  EXPECT_EQ(result->data<int64_t>()[3], 41);
}

TEST(ExpressionExecutorTest, SelectKeepsOnlyTrueRows) {
  Batch batch = TestBatch();
  auto expression = BindText("a > 1 OR LENGTH(s) = 1");
  ExpressionExecutor executor(*expression);
  std::vector<uint32_t> selection(4);
  ASSERT_EQ(executor.Select(batch, selection.data()), 3u);
  EXPECT_EQ(selection[0], 0u);
  EXPECT_EQ(selection[1], 2u);
  EXPECT_EQ(selection[2], 3u);
}

TEST(ExpressionExecutorTest, EvaluatesOnlySelectedRows) {
  Batch batch = TestBatch();
  batch.MutableSelection()[0] = 3;
  batch.SetSelectionCount(1);
  auto expression = BindText("CASE WHEN a > 3 THEN s || '!' ELSE 'no' END");
  ExpressionExecutor executor(*expression);
  auto result = executor.Evaluate(batch);
  ASSERT_TRUE(result->IsValid(3));
  EXPECT_EQ(result->data<std::string_view>()[3], "zzzz!");
  std::vector<uint32_t> selection(4);
  auto predicate = BindText("a = 4");
  ExpressionExecutor filter(*predicate);
  ASSERT_EQ(filter.Select(batch, selection.data()), 1u);
  EXPECT_EQ(selection[0], 3u);
}

TEST(ExpressionExecutorTest, CaseChoosesFirstTrueBranch) {
  const Batch batch = TestBatch();
  auto expression = BindText("CASE WHEN a IS NULL THEN -1 WHEN a > 2 THEN 2.5 ELSE a END");
  EXPECT_EQ(expression->type, TypeId::kDouble);
  ExpressionExecutor executor(*expression);
  auto result = executor.Evaluate(batch);
  EXPECT_EQ(result->data<double>()[0], 1.0);
  EXPECT_EQ(result->data<double>()[1], -1.0);
  EXPECT_EQ(result->data<double>()[2], 2.5);
}

TEST(ExpressionExecutorTest, RepeatedEvaluationReusesColumns) {
  const Batch batch = TestBatch();
  auto expression = BindText("UPPER(s) || 'x'");
  ExpressionExecutor executor(*expression);
  const Column* first = executor.Evaluate(batch).get();
  const Column* second = executor.Evaluate(batch).get();
  EXPECT_EQ(first, second) << "the output column should be reused once released";
  EXPECT_EQ(executor.Evaluate(batch)->data<std::string_view>()[1], "YYx");
}

}  // namespace
}  // namespace sluice
