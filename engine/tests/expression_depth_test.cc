// Expressions as deep as the parser accepts (kMaxExpressionDepth) run end to end: parse, bind,
// EXPLAIN's text, execution on the calling thread and on worker threads, destruction. Deeper
// ones are positioned errors (parser_test.cc, cli_test.cc).
//
// Stack: parsing and binding run on the thread that loads the job (for `sluice`, the main
// thread: 8 MiB under the usual `ulimit -s`); the expressions run on worker threads, created
// with glibc's default stack: RLIMIT_STACK (8 MiB), or 2 MiB when it is unlimited. The tests
// run each part on a thread with half of the stack it has at the least.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "common/strings.h"
#include "expr/expression_executor.h"
#include "job_test_harness.h"
#include "plan/binder.h"
#include "sql/parser.h"

namespace sluice::testing {
namespace {

std::string Repeat(std::string_view piece, size_t times) {
  std::string out;
  out.reserve(piece.size() * times);
  for (size_t i = 0; i < times; ++i) out += piece;
  return out;
}

// An expression over the BIGINT column qty, kMaxExpressionDepth levels deep (nesting or tree
// height or both), and what it computes.
struct Shape {
  const char* name;
  std::string expression;
  std::function<int64_t(int64_t qty)> value;
};

std::vector<Shape> DeepestShapes() {
  constexpr size_t n = kMaxExpressionDepth;
  return {
      // The parser's recursion at its limit; a tree of height 1.
      {"parentheses", Repeat("(", n - 1) + "qty" + Repeat(")", n - 1), [](int64_t q) { return q; }},
      // A left-deep tree from a loop: the binder's and executor's recursion at the limit.
      {"left-deep +", "qty" + Repeat(" + 1", n - 1), [](int64_t q) { return q + 999; }},
      // Both at once; the column innermost keeps every level from being folded to a constant.
      {"right-deep +", Repeat("1 + (", n - 1) + "qty" + Repeat(")", n - 1),
       [](int64_t q) { return q + 999; }},
      {"prefix minus", Repeat("- ", n - 1) + "qty", [](int64_t q) { return n % 2 == 1 ? q : -q; }},
      {"function calls", Repeat("ABS(", n - 2) + "qty - 10" + Repeat(")", n - 2),
       [](int64_t q) { return q > 10 ? q - 10 : 10 - q; }},
      // Each CASE level binds to two (CASE, =): the bound tree is twice as tall as the parsed one.
      {"CASE operands", Repeat("CASE ", n - 1) + "qty" + Repeat(" WHEN 3 THEN 3 ELSE qty END", n - 1),
       [](int64_t q) { return q; }},
      {"NOT", "CASE WHEN " + Repeat("NOT ", n - 3) + "(qty > 3) THEN 1 ELSE 0 END",
       [](int64_t q) { return (q > 3) == ((n - 3) % 2 == 0) ? 1 : 0; }},
  };
}

std::vector<int64_t> Quantities() {
  return {1, 3, 4, 10, 25};
}

std::string Input() {
  std::string lines;
  for (int64_t qty : Quantities()) lines += StrCat("{\"qty\":", qty, "}\n");
  return lines;
}

Schema QuantitySchema() {
  return Schema({{"qty", TypeId::kInt64, false}});
}

Batch QuantityBatch() {
  auto qty = std::make_shared<Column>(TypeId::kInt64, Quantities().size());
  for (size_t row = 0; row < Quantities().size(); ++row) {
    qty->data<int64_t>()[row] = Quantities()[row];
    qty->validity()[row] = 1;
  }
  Batch batch;
  batch.SetColumns({qty}, Quantities().size());
  return batch;
}

std::string Job(const Shape& shape) {
  return StrCat("CREATE STREAM out AS SELECT ", shape.expression,
                " AS v FROM t\n"
                "WITH ('t.type' = 'file_source', 't.path' = '${in}', 't.schema' = 'qty BIGINT',"
                " 'out.type' = 'file_sink', 'out.path' = '${out}')");
}

// Parsing, binding (which names an unaliased column after its text), EXPLAIN's text and the
// destruction of both trees fit in half the main thread's stack.
TEST(ExpressionDepthTest, DeepestExpressionsParseAndBindInHalfTheMainStack) {
  for (const Shape& shape : DeepestShapes()) {
    RunOnThreadWithStack(kMainThreadStackBytes / 2, [&] {
      for (const std::string& item : {shape.expression + " AS v", shape.expression}) {
        const std::string job = StrCat("SELECT ", item,
                                       " FROM t WITH ('t.type' = 'file_source', 't.path' = 'unused.jsonl', "
                                       "'t.schema' = 'qty BIGINT')");
        absl::StatusOr<BoundJob> bound = BindJobText(job, {});
        ASSERT_TRUE(bound.ok()) << shape.name << ": " << bound.status().message().substr(0, 300);
        EXPECT_FALSE(bound->statements[0].plan->ToString(0).empty()) << shape.name;
      }
    });
  }
}

// Every shape as a job over the input, at parallelism 1 (the calling thread runs the
// expressions) and 2 (worker threads, with the default stack, do).
TEST(ExpressionDepthTest, DeepestExpressionsRunEndToEnd) {
  TemporaryDirectory directory;
  WriteFile(directory.File("in.jsonl"), Input());
  for (const Shape& shape : DeepestShapes()) {
    for (int parallelism : {1, 2}) {
      const std::string out = directory.File(StrCat("out_", parallelism, ".jsonl"));
      JobResult result;
      RunOnThreadWithStack(kMainThreadStackBytes, [&] {
        result = RunJobText(Job(shape), {{"in", directory.File("in.jsonl")}, {"out", out}}, 1024, false,
                            parallelism);
      });
      ASSERT_TRUE(result.status.ok()) << shape.name << ": " << result.status.message().substr(0, 300);
      std::vector<std::string> expected;
      for (int64_t qty : Quantities()) expected.push_back(StrCat("{\"v\":", shape.value(qty), "}"));
      std::vector<std::string> actual = ReadLines(out);
      std::sort(actual.begin(), actual.end());
      std::sort(expected.begin(), expected.end());
      EXPECT_EQ(actual, expected) << shape.name << " at parallelism " << parallelism;
    }
  }
}

// The executor of the deepest bound expressions (built, run and destroyed) fits in half the
// smallest stack a worker thread gets by default. (Parsing and binding run on a thread with the
// main thread's stack.)
TEST(ExpressionDepthTest, DeepestExpressionsEvaluateInHalfTheSmallestWorkerStack) {
  const Batch batch = QuantityBatch();
  for (const Shape& shape : DeepestShapes()) {
    std::vector<int64_t> values;
    RunOnThreadWithStack(kMainThreadStackBytes, [&] {
      const SourceText source(shape.expression);
      auto parsed = ParseExpression(source);
      ASSERT_TRUE(parsed.ok()) << shape.name << ": " << parsed.status().message().substr(0, 300);
      auto bound = BindExpression(source, **parsed, QuantitySchema());
      ASSERT_TRUE(bound.ok()) << shape.name << ": " << bound.status().message().substr(0, 300);
      RunOnThreadWithStack(kSmallestDefaultThreadStackBytes / 2, [&] {
        ExpressionExecutor executor(**bound);
        const std::shared_ptr<Column> result = executor.Evaluate(batch);
        for (size_t row = 0; row < batch.num_rows(); ++row) values.push_back(result->data<int64_t>()[row]);
      });
    });
    std::vector<int64_t> expected;
    for (int64_t q : Quantities()) expected.push_back(shape.value(q));
    EXPECT_EQ(values, expected) << shape.name;
  }
}

size_t Height(const BoundExpression& e) {
  size_t height = 0;
  for (const auto& child : e.children) height = std::max(height, Height(*child));
  return height + 1;
}

// An IN list is flat in the AST; the binder makes it a balanced OR of equalities, not a chain as
// long as the list, which the executor and the destructor would recurse down.
TEST(ExpressionDepthTest, LongInListBindsToABalancedTree) {
  std::string items = "25";
  for (int i = 100; i < 10100; ++i) StrAppend(&items, ", ", i);
  const SourceText source(StrCat("qty IN (", items, ") OR qty NOT IN (3, ", items, ")"));
  auto parsed = ParseExpression(source);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message().substr(0, 300);
  auto bound = BindExpression(source, **parsed, QuantitySchema());
  ASSERT_TRUE(bound.ok()) << bound.status().message().substr(0, 300);
  EXPECT_LE(Height(**bound), 20u);  // log2(10,001) = 13.3, plus OR, NOT and the comparison
  std::vector<uint8_t> values;
  RunOnThreadWithStack(kSmallestDefaultThreadStackBytes / 2, [&] {
    ExpressionExecutor executor(**bound);
    const Batch batch = QuantityBatch();
    const std::shared_ptr<Column> result = executor.Evaluate(batch);
    for (size_t row = 0; row < batch.num_rows(); ++row) values.push_back(result->data<uint8_t>()[row]);
  });
  EXPECT_EQ(values, (std::vector<uint8_t>{1, 0, 1, 1, 1}));  // qty 1, 3, 4, 10, 25
}

}  // namespace
}  // namespace sluice::testing
