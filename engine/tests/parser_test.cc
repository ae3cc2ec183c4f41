// Parser: the dialect's statements and clauses produce the expected AST.
#include "sql/parser.h"

#include <gtest/gtest.h>

#include "job_test_harness.h"

namespace sluice {
namespace {

ParsedJob Parse(const std::string& text) {
  auto job = ParseJob(text);
  EXPECT_TRUE(job.ok()) << job.status().message();
  return job.ok() ? std::move(*job) : ParsedJob{};
}

TEST(ParserTest, CreateStreamWithEmitAndProperties) {
  ParsedJob job = Parse(
      "-- @name: demo\n-- @owner : team-a\n"
      "CREATE STREAM out AS SELECT a, b AS bee FROM src WHERE a > 1 EMIT CHANGES WITH ('src.type' = "
      "'file_source', "
      "'src.path' = '/tmp/x');");
  ASSERT_EQ(job.statements.size(), 1u);
  const Statement& statement = job.statements[0];
  EXPECT_EQ(statement.kind, Statement::Kind::kCreateStream);
  EXPECT_EQ(statement.name, "out");
  EXPECT_EQ(statement.select->emit, EmitMode::kChanges);
  ASSERT_EQ(statement.select->items.size(), 2u);
  EXPECT_EQ(statement.select->items[1].alias, "bee");
  EXPECT_EQ(statement.select->where->ToString(), "a > 1");
  ASSERT_EQ(statement.properties.size(), 2u);
  EXPECT_EQ(statement.properties[1].key, "src.path");
  EXPECT_EQ(statement.properties[1].value, "/tmp/x");
  ASSERT_EQ(job.annotations.size(), 2u);
  EXPECT_EQ(job.annotations[0].name, "name");
  EXPECT_EQ(job.annotations[1].value, "team-a");
}

TEST(ParserTest, SeveralStatements) {
  ParsedJob job =
      Parse("CREATE STREAM a AS SELECT x FROM s; CREATE TABLE b AS SELECT x FROM a; SELECT * FROM b;");
  ASSERT_EQ(job.statements.size(), 3u);
  EXPECT_EQ(job.statements[1].kind, Statement::Kind::kCreateTable);
  EXPECT_EQ(job.statements[2].kind, Statement::Kind::kSelect);
}

TEST(ParserTest, OperatorPrecedence) {
  ParsedJob job = Parse("SELECT a + b * c - d, NOT a = 1 AND b OR c, x || y || z FROM s");
  const auto& items = job.statements[0].select->items;
  // ToString does not print parentheses, so check the tree shape directly.
  const ParsedExpression& arithmetic = *items[0].expression;
  EXPECT_EQ(arithmetic.op, "-");
  EXPECT_EQ(arithmetic.children[0]->op, "+");
  EXPECT_EQ(arithmetic.children[0]->children[1]->op, "*");
  const ParsedExpression& logic = *items[1].expression;
  EXPECT_EQ(logic.op, "OR");
  EXPECT_EQ(logic.children[0]->op, "AND");
  EXPECT_EQ(logic.children[0]->children[0]->op, "NOT");
  EXPECT_EQ(logic.children[0]->children[0]->children[0]->op, "=");
}

TEST(ParserTest, SpecialForms) {
  ParsedJob job = Parse(
      "SELECT CAST(a AS VARCHAR(10)), EXTRACT(HOUR FROM ts), SUBSTRING(s FROM 2 FOR 3), POSITION('x' IN s), "
      "a NOT BETWEEN 1 AND 2, b NOT IN (1, 2), c NOT LIKE 'x%', d IS NOT NULL, "
      "CASE a WHEN 1 THEN 'one' ELSE 'other' END, TIMESTAMP '2024-01-01 00:00:00', -9223372036854775808 FROM "
      "s");
  const auto& items = job.statements[0].select->items;
  ASSERT_EQ(items.size(), 11u);
  EXPECT_EQ(items[0].expression->kind, ExpressionKind::kCast);
  EXPECT_EQ(items[0].expression->cast_type, TypeId::kString);
  EXPECT_EQ(items[1].expression->extract_field, "hour");
  EXPECT_EQ(items[2].expression->children.size(), 3u);
  EXPECT_EQ(items[3].expression->children.size(), 2u);
  EXPECT_TRUE(items[4].expression->negated);
  EXPECT_EQ(items[5].expression->children.size(), 3u);
  EXPECT_TRUE(items[6].expression->negated);
  EXPECT_TRUE(items[7].expression->negated);
  EXPECT_TRUE(items[8].expression->case_has_operand);
  EXPECT_TRUE(items[8].expression->case_has_else);
  EXPECT_EQ(items[9].expression->literal.type(), TypeId::kTimestamp);
  EXPECT_EQ(items[9].expression->literal.int64(), 1704067200000);
  EXPECT_EQ(items[10].expression->literal.int64(), INT64_MIN);
}

TEST(ParserTest, WindowClauseForms) {
  ParsedJob job = Parse(
      "SELECT a FROM s GROUP BY a WINDOW TUMBLING(trade_time, INTERVAL '1' MINUTE);"
      "SELECT a FROM s GROUP BY a WINDOW TUMBLING(5m);"
      "SELECT a FROM s WINDOW SLIDING(ts, 10s, 2s);"
      "SELECT a FROM s WINDOW SESSION(ts, INTERVAL '30 seconds') EMIT FINAL");
  ASSERT_EQ(job.statements.size(), 4u);
  const auto& tumbling = *job.statements[0].select->window;
  EXPECT_EQ(tumbling.kind, WindowKind::kTumbling);
  EXPECT_EQ(tumbling.size_millis, 60000);
  EXPECT_NE(tumbling.time_column, nullptr);
  EXPECT_EQ(job.statements[1].select->window->size_millis, 300000);
  EXPECT_EQ(job.statements[1].select->window->time_column, nullptr);
  EXPECT_EQ(job.statements[2].select->window->kind, WindowKind::kSliding);
  EXPECT_EQ(job.statements[2].select->window->advance_millis, 2000);
  EXPECT_EQ(job.statements[3].select->window->size_millis, 30000);
  EXPECT_EQ(job.statements[3].select->emit, EmitMode::kFinal);
}

TEST(ParserTest, RowsWindowOverClause) {
  ParsedJob job = Parse(
      "SELECT AVG(price) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY symbol ORDER BY ts "
      "ROWS BETWEEN 9 PRECEDING AND CURRENT ROW EXPIRE AFTER INTERVAL '5' MINUTE INACTIVITY) FROM trades");
  const auto& over = *job.statements[0].select->items[0].expression->over;
  EXPECT_EQ(over.buffer_rows, 100);
  ASSERT_EQ(over.partition_by.size(), 1u);
  ASSERT_EQ(over.order_by.size(), 1u);
  EXPECT_EQ(over.preceding_rows, 9);
  EXPECT_EQ(over.expire_after_millis, 300000);
}

TEST(ParserTest, JoinsAndSubqueries) {
  ParsedJob job = Parse(
      "SELECT o.id FROM orders o LEFT JOIN customers c ON o.cid = c.id JOIN (SELECT id FROM x) y ON y.id = "
      "o.id "
      "WITHIN INTERVAL '1' HOUR WHERE o.id IN (1, 2) GROUP BY o.id HAVING COUNT(*) > 1 ORDER BY o.id DESC "
      "LIMIT 10");
  const SelectStatement& select = *job.statements[0].select;
  ASSERT_EQ(select.from->kind, TableReference::Kind::kJoin);
  EXPECT_EQ(select.from->within_millis, 3600000);
  EXPECT_EQ(select.from->left->join_type, JoinType::kLeft);
  EXPECT_EQ(select.from->right->kind, TableReference::Kind::kSubquery);
  EXPECT_EQ(select.limit, 10);
  EXPECT_TRUE(select.order_by[0].descending);
  EXPECT_NE(select.having, nullptr);
}

// FOR SYSTEM_TIME AS OF after a table name, before its alias (Flink's order) or after it; a
// table aliased `for` is still an alias.
TEST(ParserTest, ForSystemTimeAsOf) {
  ParsedJob job = Parse(
      "SELECT o.id FROM orders o JOIN rates FOR SYSTEM_TIME AS OF o.ts + INTERVAL '1' SECOND AS r ON o.c = "
      "r.c");
  const TableReference& flink_order = *job.statements[0].select->from->right;
  EXPECT_EQ(flink_order.alias, "r");
  ASSERT_NE(flink_order.system_time, nullptr);
  EXPECT_EQ(flink_order.system_time->ToString(), "o.ts + INTERVAL '1000' MILLISECOND");
  EXPECT_EQ(flink_order.system_time_position.column, 38u);

  job = Parse("SELECT o.id FROM orders o LEFT JOIN rates r FOR SYSTEM_TIME AS OF o.ts ON o.c = r.c");
  const TableReference& after_alias = *job.statements[0].select->from->right;
  EXPECT_EQ(after_alias.alias, "r");
  ASSERT_NE(after_alias.system_time, nullptr);
  EXPECT_EQ(after_alias.system_time->ToString(), "o.ts");

  job = Parse("SELECT id FROM orders for");
  EXPECT_EQ(job.statements[0].select->from->alias, "for");
  EXPECT_EQ(job.statements[0].select->from->system_time, nullptr);

  auto missing_of = ParseJob("SELECT o.id FROM orders o JOIN rates FOR SYSTEM_TIME AS o.ts ON o.c = rates.c");
  ASSERT_FALSE(missing_of.ok());
  EXPECT_NE(missing_of.status().message().find("line 1, column 57: syntax error: expected OF"),
            std::string::npos)
      << missing_of.status();
}

TEST(ParserTest, QuotedIdentifiersAndEscapedStrings) {
  ParsedJob job = Parse("SELECT \"select\", `from`, 'it''s' FROM \"my source\"");
  const SelectStatement& select = *job.statements[0].select;
  EXPECT_EQ(select.items[0].expression->name_parts[0], "select");
  EXPECT_EQ(select.items[1].expression->name_parts[0], "from");
  EXPECT_EQ(select.items[2].expression->literal.str(), "it's");
  EXPECT_EQ(select.from->name, "my source");
}

// CURRENT_TIMESTAMP without parentheses is the function; quoted, it is a column name.
TEST(ParserTest, BareCurrentTimestampIsTheFunction) {
  ParsedJob job = Parse(
      "SELECT CURRENT_TIMESTAMP, current_timestamp(), \"current_timestamp\", s.current_timestamp FROM s");
  const auto& items = job.statements[0].select->items;
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].expression->kind, ExpressionKind::kFunction);
  EXPECT_TRUE(items[0].expression->children.empty());
  EXPECT_EQ(items[0].expression->ToString(), "CURRENT_TIMESTAMP");
  EXPECT_EQ(items[1].expression->kind, ExpressionKind::kFunction);
  EXPECT_EQ(items[1].expression->ToString(), "CURRENT_TIMESTAMP()");
  EXPECT_EQ(items[2].expression->kind, ExpressionKind::kColumn);
  EXPECT_EQ(items[3].expression->kind, ExpressionKind::kColumn);
  EXPECT_EQ(items[3].expression->ToString(), "s.current_timestamp");
}

// --- depth ----------------------------------------------------------------------------------

std::string Repeat(std::string_view piece, size_t times) {
  std::string out;
  out.reserve(piece.size() * times);
  for (size_t i = 0; i < times; ++i) out += piece;
  return out;
}

// The parser recurses as deep as the limit: the depth tests run on a thread with the stack the
// main thread has under the usual `ulimit -s` (scaled for sanitizer builds).
void OnMainThreadStack(const std::function<void()>& body) {
  testing::RunOnThreadWithStack(testing::kMainThreadStackBytes, body);
}

// The column (1-based) where the n-th (1-based) occurrence of `piece` starts in one-line `text`.
size_t ColumnOfOccurrence(const std::string& text, std::string_view piece, size_t n) {
  size_t at = text.find(piece);
  for (size_t i = 1; i < n && at != std::string::npos; ++i) at = text.find(piece, at + piece.size());
  return at + 1;
}

// Parses `text`, which must fail with the depth error at line 1, `column`.
void ExpectTooDeep(const std::string& text, size_t column, std::string_view what = "expression") {
  auto job = ParseJob(text);
  ASSERT_FALSE(job.ok()) << "parsed a job nested too deeply";
  const std::string message(job.status().message());
  const std::string expected = "line 1, column " + std::to_string(column) + ": " + std::string(what) +
                               " nested too deeply (more than 1000 levels)";
  EXPECT_EQ(message.substr(0, message.find('\n')), expected);
}

// 5,000 nested parentheses: the parser's recursion stops at level 1,001, at the parenthesis
// that opens it (level 1 is the whole expression), instead of overflowing the stack.
TEST(ParserTest, NestedParenthesesBeyondTheLimitAreAnError) {
  OnMainThreadStack([&] {
    const std::string text = "SELECT " + Repeat("(", 5000) + "a" + Repeat(")", 5000) + " FROM s";
    ExpectTooDeep(text, ColumnOfOccurrence(text, "(", 1001));
  });
}

TEST(ParserTest, ChainedNotBeyondTheLimitIsAnError) {
  OnMainThreadStack([&] {
    const std::string text = "SELECT a FROM s WHERE " + Repeat("NOT ", 20000) + "a";
    ExpectTooDeep(text, ColumnOfOccurrence(text, "NOT", 1001));
  });
}

// `a + a + ...` parses in a loop, without recursion, but builds a left-deep tree: its height is
// bounded where the 1,000th '+' would make it 1,001 nodes tall.
TEST(ParserTest, LongOperatorChainBeyondTheLimitIsAnError) {
  OnMainThreadStack([&] {
    const std::string text = "SELECT a" + Repeat(" + a", 100000) + " FROM s";
    ExpectTooDeep(text, ColumnOfOccurrence(text, "+", 1000));
  });
}

// Exactly at the limit every shape parses; one level more does not.
TEST(ParserTest, DepthLimitIsExactlyOneThousandLevels) {
  OnMainThreadStack([&] {
    struct Shape {
      const char* name;
      std::string (*text)(size_t levels);  // an expression `levels` deep
    };
    const Shape shapes[] = {
        {"parentheses", [](size_t n) { return Repeat("(", n - 1) + "a" + Repeat(")", n - 1); }},
        {"NOT", [](size_t n) { return Repeat("NOT ", n - 1) + "a"; }},
        {"minus", [](size_t n) { return Repeat("- ", n - 1) + "a"; }},
        {"left-deep +", [](size_t n) { return "a" + Repeat(" + a", n - 1); }},
        {"right-deep +", [](size_t n) { return Repeat("a + (", n - 1) + "a" + Repeat(")", n - 1); }},
        {"|| chain", [](size_t n) { return "a" + Repeat(" || a", n - 1); }},
        {"comparison chain", [](size_t n) { return "a" + Repeat(" = a", n - 1); }},
        {"IS NULL chain", [](size_t n) { return "a" + Repeat(" IS NULL", n - 1); }},
        {"function calls", [](size_t n) { return Repeat("ABS(", n - 1) + "a" + Repeat(")", n - 1); }},
        {"CASE operands",
         [](size_t n) { return Repeat("CASE ", n - 1) + "a" + Repeat(" WHEN 1 THEN 1 END", n - 1); }},
    };
    for (const Shape& shape : shapes) {
      auto at_limit = ParseExpression(SourceText(shape.text(kMaxExpressionDepth)));
      ASSERT_TRUE(at_limit.ok()) << shape.name << ": " << at_limit.status().message().substr(0, 200);
      EXPECT_LE((*at_limit)->height, kMaxExpressionDepth) << shape.name;
      auto beyond = ParseExpression(SourceText(shape.text(kMaxExpressionDepth + 1)));
      ASSERT_FALSE(beyond.ok()) << shape.name;
      EXPECT_NE(beyond.status().message().find("expression nested too deeply (more than 1000 levels)"),
                std::string::npos)
          << shape.name << ": " << beyond.status().message().substr(0, 200);
    }
  });
}

// Subqueries in FROM recurse without any expression; joins build a left-deep tree.
TEST(ParserTest, NestedSubqueriesAndJoinsBeyondTheLimitAreErrors) {
  OnMainThreadStack([&] {
    const std::string subqueries = Repeat("SELECT * FROM (", 1000) + "SELECT * FROM s" + Repeat(")", 1000);
    ExpectTooDeep(subqueries, ColumnOfOccurrence(subqueries, "SELECT", 1001), "query");
    EXPECT_TRUE(ParseJob(Repeat("SELECT * FROM (", 999) + "SELECT * FROM s" + Repeat(")", 999)).ok());

    const std::string joins = "SELECT * FROM s" + Repeat(" JOIN s ON TRUE", 1001);
    auto job = ParseJob(joins);
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.status().message().find("line 1, column " +
                                          std::to_string(ColumnOfOccurrence(joins, "JOIN", 1001)) +
                                          ": too many joins in one FROM clause (more than 1000)"),
              std::string::npos)
        << job.status().message().substr(0, 200);
    EXPECT_TRUE(ParseJob("SELECT * FROM s" + Repeat(" JOIN s ON TRUE", 1000)).ok());
  });
}

// --- every syntax error -------------------------------------------------------------------

// The first line of each error held: "line L, column C: message".
std::vector<std::string> FirstLines(const SqlErrorList& errors) {
  std::vector<std::string> lines;
  for (const absl::Status& error : errors.errors()) {
    const std::string message(error.message());
    lines.push_back(message.substr(0, message.find('\n')));
  }
  return lines;
}

// After a syntax error the parser skips past the next ';' and reports the next statement's
// error too; the statements without errors are kept.
TEST(ParserTest, ReportsTheSyntaxErrorOfEveryStatement) {
  SqlErrorList errors;
  const ParsedJob job = ParseJob(
      "CREATE STREAM a AS SELECT x y z FROM s;\n"
      "CREATE STREAM b AS SELECT x FROM s;\n"
      "CREATE STREAM c AS SELECT (x FROM s;\n"
      "SELECT x FROM s WHERE;",
      errors);
  EXPECT_EQ(FirstLines(errors),
            (std::vector<std::string>{
                "line 1, column 31: syntax error: expected ',' or FROM after the select list, found 'z'",
                "line 3, column 30: syntax error: expected ')', found 'FROM'",
                "line 4, column 22: syntax error: expected an expression, found ';'"}));
  ASSERT_EQ(job.statements.size(), 1u);
  EXPECT_EQ(job.statements[0].name, "b");
}

// A missing ';' is reported once: parsing resumes at the CREATE that starts the next statement.
TEST(ParserTest, MissingSemicolonResumesAtTheNextCreate) {
  SqlErrorList errors;
  const ParsedJob job = ParseJob(
      "CREATE STREAM a AS SELECT x FROM s\n"
      "CREATE STREAM b AS SELECT x FROM a",
      errors);
  EXPECT_EQ(FirstLines(errors),
            (std::vector<std::string>{"line 2, column 1: syntax error: expected ';' or the end of the job "
                                      "after the statement, found 'CREATE'"}));
  ASSERT_EQ(job.statements.size(), 1u);
  EXPECT_EQ(job.statements[0].name, "b");
}

// A job with more errors than the list holds stops at the limit; a lexical error ends parsing.
TEST(ParserTest, StopsAtTheErrorLimitAndAtALexicalError) {
  SqlErrorList errors(/*limit=*/3);
  ParseJob(Repeat("SELECT FROM s;\n", 10), errors);
  EXPECT_EQ(errors.size(), 3u);
  EXPECT_TRUE(errors.full());

  SqlErrorList lexical;
  ParseJob("SELECT FROM s;\nSELECT 'unterminated FROM s;\nSELECT FROM s;", lexical);
  EXPECT_EQ(FirstLines(lexical), (std::vector<std::string>{"line 2, column 8: unterminated string"}));
}

TEST(ParserTest, EmptyJobIsAnError) {
  auto job = ParseJob("-- nothing here\n");
  ASSERT_FALSE(job.ok());
  EXPECT_NE(std::string(job.status().message()).find("the job has no statement"), std::string::npos);
}

// Numbers beyond their type are positioned errors, not an exception (std::stod threw
// out_of_range for 1E1111 and aborted the process; found by fuzz_sql) or a signed overflow.
TEST(ParserTest, NumbersOutOfRangeArePositionedErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"SELECT 1111111111111E1111 FROM s",
       "line 1, column 8: number out of range for DOUBLE: 1111111111111E1111"},
      {"SELECT 1.5e400 FROM s", "line 1, column 8: number out of range for DOUBLE: 1.5e400"},
      {"SELECT 99999999999999999999999999999999999999" + std::string(300, '9') + " FROM s",
       "line 1, column 8: number out of range for DOUBLE: 999"},
      {"SELECT x FROM s WINDOW TUMBLING(ts, 99999999999999999999s)",
       "duration out of range: 99999999999999999999s"},
      {"SELECT x FROM s WINDOW TUMBLING(ts, 9999999999999999d)", "duration out of range: 9999999999999999d"},
      {"SELECT x FROM s WINDOW TUMBLING(ts, INTERVAL '9223372036854775807' DAY)",
       "interval out of range: 9223372036854775807 DAY"},
  };
  for (const auto& [sql, message] : cases) {
    auto job = ParseJob(sql);
    ASSERT_FALSE(job.ok()) << sql;
    EXPECT_NE(std::string(job.status().message()).find(message), std::string::npos) << sql << "\n"
                                                                                    << job.status().message();
  }
  // Underflow reads as zero, as in SQLite and DuckDB.
  EXPECT_TRUE(ParseJob("SELECT 1e-400 FROM s").ok());
}

}  // namespace
}  // namespace sluice
