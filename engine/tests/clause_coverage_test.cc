// Nothing the parser accepts is silently ignored: every clause of the grammar is either executed
// or refused with "not supported".
//
// Each case is a query with a clause and a baseline without it, run on one small data set, one
// row per batch (so that EMIT CHANGES shows): the clause is executed or refused when the two
// outcomes differ (their output, or one failing where the other runs, as a refused clause or a
// name that only an alias defines). A clause parsed, bound and then dropped gives the outcome
// of the query without it, and fails its case.
//
// Coverage: AstClauses() walks a parsed job and names every construct in it (each AST field
// that is set, each expression kind and operator). Every name it can produce is in kClauses, and
// the test requires, for each, a case whose query has the construct and whose baseline lacks
// it. The static_asserts on the AST's sizes make most new fields fail the build here until the
// walker names them (a small field may fit in padding: a guard, not a proof).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "common/strings.h"
#include "job_test_harness.h"
#include "sql/ast.h"
#include "sql/parser.h"

namespace sluice::testing {
namespace {

// A new AST field changes these sizes: name it in AstClauses() and give it a case below.
static_assert(sizeof(OverClause) == 152, "OverClause changed: update AstClauses and the cases");
static_assert(sizeof(ParsedExpression) == 288, "ParsedExpression changed: update AstClauses and the cases");
// (TableReference::window_function is never set in a parsed job: the parser moves it into the
// SELECT's window, which the walker names.)
static_assert(sizeof(TableReference) == 208, "TableReference changed: update AstClauses and the cases");
static_assert(sizeof(WindowClause) == 40, "WindowClause changed: update AstClauses and the cases");
static_assert(sizeof(SelectStatement) == 328, "SelectStatement changed: update AstClauses and the cases");
static_assert(sizeof(Statement) == 88, "Statement changed: update AstClauses and the cases");

// Every construct AstClauses() can name.
const std::set<std::string> kClauses = {
    "CREATE STREAM", "CREATE TABLE", "bare SELECT", "WITH properties", "INSERT INTO", "CREATE VIEW",
    // SELECT
    "WITH query", "SELECT DISTINCT", "select item alias", "SELECT *", "WHERE", "GROUP BY", "WINDOW TUMBLING",
    "WINDOW SLIDING", "WINDOW SESSION", "window time column", "HAVING", "ORDER BY", "ORDER BY DESC", "LIMIT",
    "EMIT CHANGES", "EMIT FINAL", "UNION ALL",
    // FROM
    "table alias", "subquery in FROM", "JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN", "JOIN WITHIN",
    "FOR SYSTEM_TIME AS OF",
    // expressions
    "qualified column", "literal", "interval", "qualified *", "COUNT(*)", "unary -", "unary +", "NOT", "+",
    "-", "*", "/", "%", "||", "=", "<>", "<", "<=", ">", ">=", "AND", "OR", "function", "DISTINCT argument",
    "FILTER (WHERE)", "CASE", "CASE operand", "CASE ELSE", "CAST", "BETWEEN", "NOT BETWEEN", "IN", "NOT IN",
    "IS NULL", "IS NOT NULL", "LIKE", "NOT LIKE", "EXTRACT", "subquery expression", "IN subquery",
    "NOT IN subquery", "EXISTS", "CURRENT_TIMESTAMP without parentheses",
    // OVER
    "OVER", "ROWS WINDOW BUFFER", "OVER PARTITION BY", "OVER ORDER BY", "OVER ORDER BY DESC",
    "ROWS BETWEEN n PRECEDING", "ROWS BETWEEN UNBOUNDED PRECEDING", "EXPIRE AFTER"};

class ClauseWalker {
 public:
  std::set<std::string> names;

  void Add(const std::string& name) {
    EXPECT_TRUE(kClauses.count(name)) << "the walker names '" << name << "', which kClauses lacks";
    names.insert(name);
  }

  void Walk(const ParsedJob& job) {
    for (const Statement& statement : job.statements) {
      switch (statement.kind) {
        case Statement::Kind::kCreateStream: Add("CREATE STREAM"); break;
        case Statement::Kind::kCreateTable: Add("CREATE TABLE"); break;
        case Statement::Kind::kSelect: Add("bare SELECT"); break;
        case Statement::Kind::kInsert: Add("INSERT INTO"); break;
        case Statement::Kind::kCreateView: Add("CREATE VIEW"); break;
      }
      if (!statement.properties.empty()) Add("WITH properties");
      Walk(*statement.select);
    }
  }

  void Walk(const SelectStatement& select) {
    for (const CommonTableExpression& cte : select.with) {
      Add("WITH query");
      Walk(*cte.query);
    }
    if (select.distinct) Add("SELECT DISTINCT");
    for (const SelectItem& item : select.items) {
      if (!item.alias.empty()) Add("select item alias");
      if (item.expression->kind == ExpressionKind::kStar && item.expression->name_parts.empty()) {
        Add("SELECT *");
      } else {
        Walk(*item.expression);
      }
    }
    if (select.from) Walk(*select.from);
    if (select.where) {
      Add("WHERE");
      Walk(*select.where);
    }
    if (!select.group_by.empty()) Add("GROUP BY");
    for (const auto& key : select.group_by) Walk(*key);
    if (select.window) {
      const WindowClause& window = *select.window;
      Add(window.kind == WindowKind::kTumbling  ? "WINDOW TUMBLING"
          : window.kind == WindowKind::kSliding ? "WINDOW SLIDING"
                                                : "WINDOW SESSION");
      if (window.time_column) {
        Add("window time column");
        Walk(*window.time_column);
      }
    }
    if (select.having) {
      Add("HAVING");
      Walk(*select.having);
    }
    for (const OrderItem& item : select.order_by) {
      Add(item.descending ? "ORDER BY DESC" : "ORDER BY");
      Walk(*item.expression);
    }
    if (select.limit) Add("LIMIT");
    if (select.emit == EmitMode::kChanges) Add("EMIT CHANGES");
    if (select.emit == EmitMode::kFinal) Add("EMIT FINAL");
    for (const auto& branch : select.union_all) {
      Add("UNION ALL");
      Walk(*branch);
    }
  }

  void Walk(const TableReference& table) {
    if (!table.alias.empty()) Add("table alias");
    if (table.system_time) {
      Add("FOR SYSTEM_TIME AS OF");
      Walk(*table.system_time);
    }
    switch (table.kind) {
      case TableReference::Kind::kNamed: break;
      case TableReference::Kind::kSubquery:
        Add("subquery in FROM");
        Walk(*table.subquery);
        break;
      case TableReference::Kind::kJoin:
        Add(table.join_type == JoinType::kInner   ? "JOIN"
            : table.join_type == JoinType::kLeft  ? "LEFT JOIN"
            : table.join_type == JoinType::kRight ? "RIGHT JOIN"
                                                  : "FULL JOIN");
        if (table.within_millis) Add("JOIN WITHIN");
        Walk(*table.left);
        Walk(*table.right);
        if (table.join_condition) Walk(*table.join_condition);
        break;
    }
  }

  void Walk(const ParsedExpression& e) {
    switch (e.kind) {
      case ExpressionKind::kColumn:
        if (e.name_parts.size() > 1) Add("qualified column");
        break;
      case ExpressionKind::kLiteral: Add("literal"); break;
      case ExpressionKind::kInterval: Add("interval"); break;
      case ExpressionKind::kStar: Add(e.name_parts.empty() ? "SELECT *" : "qualified *"); break;
      case ExpressionKind::kUnary: Add(e.op == "NOT" ? "NOT" : StrCat("unary ", e.op)); break;
      case ExpressionKind::kBinary: Add(e.op); break;
      case ExpressionKind::kFunction:
        Add(e.star_argument ? "COUNT(*)" : "function");
        if (e.bare_keyword) Add("CURRENT_TIMESTAMP without parentheses");
        if (e.distinct) Add("DISTINCT argument");
        if (e.filter) {
          Add("FILTER (WHERE)");
          Walk(*e.filter);
        }
        if (e.over) Walk(*e.over);
        break;
      case ExpressionKind::kCase:
        Add("CASE");
        if (e.case_has_operand) Add("CASE operand");
        if (e.case_has_else) Add("CASE ELSE");
        break;
      case ExpressionKind::kCast: Add("CAST"); break;
      case ExpressionKind::kBetween: Add(e.negated ? "NOT BETWEEN" : "BETWEEN"); break;
      case ExpressionKind::kIn:
        if (e.subquery != nullptr) {
          Add(e.negated ? "NOT IN subquery" : "IN subquery");
          Walk(*e.subquery);
        } else {
          Add(e.negated ? "NOT IN" : "IN");
        }
        break;
      case ExpressionKind::kIsNull: Add(e.negated ? "IS NOT NULL" : "IS NULL"); break;
      case ExpressionKind::kLike: Add(e.negated ? "NOT LIKE" : "LIKE"); break;
      case ExpressionKind::kExtract: Add("EXTRACT"); break;
      case ExpressionKind::kSubquery:
        Add(e.op == "EXISTS" ? "EXISTS" : "subquery expression");
        Walk(*e.subquery);
        break;
    }
    for (const auto& child : e.children) Walk(*child);
  }

  void Walk(const OverClause& over) {
    Add("OVER");
    if (over.buffer_rows) Add("ROWS WINDOW BUFFER");
    if (!over.partition_by.empty()) Add("OVER PARTITION BY");
    for (const auto& key : over.partition_by) Walk(*key);
    for (size_t i = 0; i < over.order_by.size(); ++i) {
      Add(over.order_descending[i] ? "OVER ORDER BY DESC" : "OVER ORDER BY");
      Walk(*over.order_by[i]);
    }
    if (over.preceding_rows) Add("ROWS BETWEEN n PRECEDING");
    if (over.unbounded_preceding) Add("ROWS BETWEEN UNBOUNDED PRECEDING");
    if (over.expire_after_millis) Add("EXPIRE AFTER");
  }
};

std::set<std::string> ClausesOf(const std::string& job_text) {
  auto parsed = ParseJob(job_text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message() << "\n" << job_text;
  ClauseWalker walker;
  if (parsed.ok()) walker.Walk(*parsed);
  return walker.names;
}

constexpr const char* kData =
    R"({"k":"a","a":1,"b":1.5,"s":"apple","ts":0,"f":true}
{"k":"b","a":2,"b":null,"s":"banana","ts":1000}
{"k":"a","a":3,"b":-2.25,"s":null,"ts":61000,"f":false}
{"k":"c","a":null,"b":4,"s":"cherry","ts":62000,"f":true}
{"k":"a","a":5,"b":0.5,"s":"avocado","ts":125000,"f":false}
{"k":"b","a":6,"b":7,"s":"blueberry","ts":130000,"f":true}
)";

constexpr const char* kWith =
    " WITH ('t.type' = 'file_source', 't.path' = '${data}', 't.format' = 'json', 't.schema' = 'k STRING, a "
    "BIGINT, b DOUBLE, s STRING, ts TIMESTAMP, f BOOLEAN', 'event.time.field' = 'ts', "
    "'out.type' = 'file_sink', 'out.path' = '${output}')";

// kWith, and t's file read as a table v keyed by k, versioned by ts.
constexpr const char* kWithVersionedTable =
    " WITH ('t.type' = 'file_source', 't.path' = '${data}', 't.format' = 'json', 't.schema' = 'k STRING, a "
    "BIGINT, b DOUBLE, s STRING, ts TIMESTAMP, f BOOLEAN', 'event.time.field' = 'ts', "
    "'out.type' = 'file_sink', 'out.path' = '${output}', 'v.type' = 'file_source', 'v.path' = '${data}', "
    "'v.format' = 'json', 'v.schema' = 'k STRING, a BIGINT, b DOUBLE, s STRING, ts TIMESTAMP, f BOOLEAN', "
    "'v.primary.key' = 'k', 'v.event.time.field' = 'ts')";

// t and out in Flink's dialect (as kWith declares them).
constexpr const char* kFlinkTables =
    "CREATE TABLE t (k STRING, a BIGINT, b DOUBLE, s STRING, ts TIMESTAMP(3), f BOOLEAN, WATERMARK FOR ts AS "
    "ts) "
    "WITH ('connector' = 'filesystem', 'path' = '${data}', 'format' = 'json'); "
    "CREATE TABLE out (k STRING) WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = "
    "'json'); ";

struct Outcome {
  absl::Status status;
  std::vector<std::string> rows;  // sorted
};

// A case: the query with the clause, and the baseline without it. A query is a SELECT (run as
// CREATE STREAM out AS <query> WITH (...)), or a job: "CREATE ..." (given the WITH clause),
// "BARE <select>" (a bare SELECT, given the WITH clause) or "NOWITH <job>" (as is).
struct Case {
  std::string with_clause;
  std::string without_clause;
  // When the query with the clause fails and the baseline runs: what its error must say.
  std::string refusal = "not supported";
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      // Statements
      // CREATE TABLE over a GROUP BY is the stream of the table's changes, as CREATE STREAM;
      // over anything else (a table without a key) it is refused.
      {"CREATE TABLE out AS SELECT k FROM t", "CREATE STREAM out AS SELECT k FROM t"},
      {"BARE SELECT k FROM t", "CREATE STREAM out AS SELECT k FROM t"},  // to stdout, not the file
      {"CREATE STREAM out AS SELECT k FROM t", "BARE SELECT k FROM t"},
      {"CREATE STREAM out AS SELECT k FROM t", "NOWITH CREATE STREAM out AS SELECT k FROM t"},
      // Flink's dialect: INSERT INTO writes the table's file; without it the query goes to
      // stdout. A view's query runs before the INSERT that reads it.
      {StrCat("NOWITH ", kFlinkTables, "INSERT INTO out SELECT k FROM t"),
       StrCat("NOWITH ", kFlinkTables, "SELECT k FROM t")},
      {StrCat("NOWITH ", kFlinkTables,
              "CREATE VIEW big AS SELECT k FROM t WHERE a > 2; INSERT INTO out SELECT k FROM big"),
       StrCat("NOWITH ", kFlinkTables, "INSERT INTO out SELECT k FROM t")},
      // SELECT
      {"SELECT DISTINCT k FROM t", "SELECT k FROM t"},
      {"SELECT k AS key FROM t", "SELECT k FROM t"},
      {"SELECT * FROM t", "SELECT k FROM t"},
      {"SELECT k FROM t WHERE a > 2", "SELECT k FROM t"},
      {"SELECT k, COUNT(*) AS n FROM t GROUP BY k", "SELECT COUNT(*) AS n FROM t"},
      {"SELECT COUNT(*) AS n FROM t WINDOW TUMBLING(ts, INTERVAL '1' MINUTE)", "SELECT COUNT(*) AS n FROM t"},
      {"SELECT COUNT(*) AS n FROM t WINDOW SLIDING(ts, 2m, 1m)", "SELECT COUNT(*) AS n FROM t"},
      {"SELECT k, COUNT(*) AS n FROM t GROUP BY k WINDOW SESSION(ts, 2s)",
       "SELECT k, COUNT(*) AS n FROM t GROUP BY k"},
      {"SELECT k, COUNT(*) AS n FROM t GROUP BY k HAVING COUNT(*) > 1",
       "SELECT k, COUNT(*) AS n FROM t GROUP BY k"},
      {"SELECT k FROM t ORDER BY a", "SELECT k FROM t"},
      {"SELECT k FROM t ORDER BY a DESC", "SELECT k FROM t"},
      {"SELECT k FROM t LIMIT 2", "SELECT k FROM t"},
      {"SELECT k FROM t UNION ALL SELECT s FROM t", "SELECT k FROM t"},
      {"SELECT COUNT(*) AS n FROM t WINDOW TUMBLING(ts, 1m) EMIT CHANGES",
       "SELECT COUNT(*) AS n FROM t WINDOW TUMBLING(ts, 1m)"},
      {"SELECT k, COUNT(*) AS n FROM t GROUP BY k EMIT FINAL", "SELECT k, COUNT(*) AS n FROM t GROUP BY k"},
      // FROM
      {"SELECT k FROM t AS x WHERE x.a > 2", "SELECT k FROM t WHERE x.a > 2"},
      {"SELECT u.k FROM t", "SELECT k FROM t", "unknown"},  // a qualifier is checked
      {"SELECT k FROM (SELECT k FROM t WHERE a > 2) AS s", "SELECT k FROM t"},
      {"WITH q AS (SELECT k FROM t WHERE a > 2) SELECT k FROM q", "SELECT k FROM t"},
      {"SELECT x.k FROM t x JOIN t y ON x.k = y.k", "SELECT k FROM t"},
      {"SELECT x.k FROM t x LEFT JOIN t y ON x.k = y.k", "SELECT k FROM t"},
      {"SELECT x.k FROM t x RIGHT JOIN t y ON x.k = y.k", "SELECT k FROM t"},
      {"SELECT x.k FROM t x FULL OUTER JOIN t y ON x.k = y.k", "SELECT k FROM t"},
      {"SELECT x.k FROM t x JOIN t y ON x.k = y.k WITHIN INTERVAL '1' MINUTE",
       "SELECT x.k FROM t x JOIN t y ON x.k = y.k"},
      // A lookup join of a table versioned by ts (t's own rows): as of each row's time it finds
      // the row itself, without FOR SYSTEM_TIME the key's last row.
      {StrCat("NOWITH CREATE STREAM out AS SELECT t.k, l.a ",
              "FROM t JOIN v FOR SYSTEM_TIME AS OF t.ts AS l ON t.k = l.k", kWithVersionedTable),
       StrCat("NOWITH CREATE STREAM out AS SELECT t.k, l.a FROM t JOIN v AS l ON t.k = l.k",
              kWithVersionedTable)},
      // Expressions
      {"SELECT k, 7 AS seven FROM t", "SELECT k FROM t"},
      {"SELECT k, ts + INTERVAL '1' SECOND AS later FROM t", "SELECT k FROM t"},
      {"SELECT x.* FROM t x", "SELECT k FROM t"},
      {"SELECT -a AS a FROM t", "SELECT a FROM t"},
      {"SELECT +s AS s FROM t", "SELECT s FROM t", "unary + cannot be applied to STRING"},  // numbers only
      {"SELECT NOT f AS f FROM t", "SELECT f FROM t"},
      {"SELECT a + 1 AS a FROM t", "SELECT a FROM t"},
      {"SELECT a - 1 AS a FROM t", "SELECT a FROM t"},
      {"SELECT a * 3 AS a FROM t", "SELECT a FROM t"},
      {"SELECT a / 2 AS a FROM t", "SELECT a FROM t"},
      {"SELECT a % 2 AS a FROM t", "SELECT a FROM t"},
      {"SELECT s || '!' AS s FROM t", "SELECT s FROM t"},
      {"SELECT a = 2 AS a FROM t", "SELECT a FROM t"},
      {"SELECT a <> 2 AS a FROM t", "SELECT a FROM t"},
      {"SELECT a < 2 AS a FROM t", "SELECT a FROM t"},
      {"SELECT a <= 2 AS a FROM t", "SELECT a FROM t"},
      {"SELECT a > 2 AS a FROM t", "SELECT a FROM t"},
      {"SELECT a >= 2 AS a FROM t", "SELECT a FROM t"},
      {"SELECT f AND a > 2 AS f FROM t", "SELECT f FROM t"},
      {"SELECT f OR a > 2 AS f FROM t", "SELECT f FROM t"},
      {"SELECT UPPER(s) AS s FROM t", "SELECT s FROM t"},
      {"SELECT k, CURRENT_TIMESTAMP > TIMESTAMP '2020-01-01 00:00:00' AS later FROM t", "SELECT k FROM t"},
      {"SELECT COUNT(DISTINCT k) AS n FROM t", "SELECT COUNT(k) AS n FROM t"},
      {"SELECT COUNT(*) FILTER (WHERE a > 1) AS n FROM t", "SELECT COUNT(*) AS n FROM t"},
      {"SELECT COUNT(*) AS n FROM t", "SELECT COUNT(a) AS n FROM t"},
      {"SELECT CASE WHEN a > 2 THEN 'big' END AS c FROM t", "SELECT a FROM t"},
      {"SELECT CASE k WHEN 'a' THEN 1 ELSE 0 END AS c FROM t", "SELECT a FROM t"},
      {"SELECT CAST(b AS BIGINT) AS b FROM t", "SELECT b FROM t"},
      {"SELECT a BETWEEN 2 AND 5 AS a FROM t", "SELECT a FROM t"},
      {"SELECT a NOT BETWEEN 2 AND 5 AS a FROM t", "SELECT a FROM t"},
      {"SELECT k IN ('a', 'c') AS k FROM t", "SELECT k FROM t"},
      {"SELECT k NOT IN ('a', 'c') AS k FROM t", "SELECT k FROM t"},
      {"SELECT s IS NULL AS s FROM t", "SELECT s FROM t"},
      {"SELECT s IS NOT NULL AS s FROM t", "SELECT s FROM t"},
      {"SELECT s LIKE 'b%' AS s FROM t", "SELECT s FROM t"},
      {"SELECT s NOT LIKE 'b%' AS s FROM t", "SELECT s FROM t"},
      {"SELECT EXTRACT(MINUTE FROM ts) AS m FROM t", "SELECT ts AS m FROM t"},
      {"SELECT k FROM t WHERE a > (SELECT 1 FROM t)", "SELECT k FROM t"},
      {"SELECT k FROM t WHERE k IN (SELECT s FROM t)", "SELECT k FROM t"},
      {"SELECT k FROM t WHERE k NOT IN (SELECT s FROM t)", "SELECT k FROM t"},
      {"SELECT k FROM t x WHERE EXISTS (SELECT * FROM t y WHERE y.s = x.k)", "SELECT k FROM t"},
      // OVER
      {"SELECT k, a, ROW_NUMBER() OVER (ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS n FROM t",
       "SELECT k, a FROM t"},
      {"SELECT k, SUM(a) OVER (ROWS WINDOW BUFFER 2 ROWS) AS n FROM t",
       "SELECT k, SUM(a) OVER (ROWS BETWEEN 5 PRECEDING AND CURRENT ROW) AS n FROM t"},
      {"SELECT k, SUM(a) OVER (ROWS WINDOW BUFFER 10 ROWS PARTITION BY k) AS n FROM t",
       "SELECT k, SUM(a) OVER (ROWS WINDOW BUFFER 10 ROWS) AS n FROM t"},
      // a's NULL (sorting first) comes after 3: out of ORDER BY order, that row is late.
      {"SELECT k, SUM(a) OVER (ROWS WINDOW BUFFER 10 ROWS ORDER BY a) AS n FROM t",
       "SELECT k, SUM(a) OVER (ROWS WINDOW BUFFER 10 ROWS) AS n FROM t"},
      {"SELECT k, SUM(a) OVER (ROWS WINDOW BUFFER 10 ROWS ORDER BY ts DESC) AS n FROM t",
       "SELECT k, SUM(a) OVER (ROWS WINDOW BUFFER 10 ROWS) AS n FROM t"},
      {"SELECT k, SUM(a) OVER (ROWS WINDOW BUFFER 10 ROWS ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS n "
       "FROM t",
       "SELECT k, SUM(a) OVER (ROWS WINDOW BUFFER 10 ROWS) AS n FROM t"},
      {"SELECT k, SUM(a) OVER (ROWS WINDOW BUFFER 3 ROWS ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) "
       "AS n "
       "FROM t",
       "SELECT k, SUM(a) OVER (ROWS WINDOW BUFFER 3 ROWS ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS n FROM "
       "t"},
      // Expiry is by the watermark (the rule of 'state.ttl'): key b, idle from 1000 until the
      // watermark passes 31000, starts afresh at 130000.
      {"SELECT k, COUNT(*) OVER (ROWS WINDOW BUFFER 10 ROWS PARTITION BY k EXPIRE AFTER INTERVAL '30' SECOND "
       "INACTIVITY) AS n FROM t",
       "SELECT k, COUNT(*) OVER (ROWS WINDOW BUFFER 10 ROWS PARTITION BY k) AS n FROM t"},
  };
  return cases;
}

class ClauseCoverageTest : public ::testing::Test {
 protected:
  static std::string JobText(const std::string& query) {
    if (StartsWith(query, "NOWITH ")) return query.substr(7);
    if (StartsWith(query, "BARE ")) return query.substr(5) + kWith;
    return StartsWith(query, "CREATE") ? query + kWith : StrCat("CREATE STREAM out AS ", query, kWith);
  }
  Outcome Run(const std::string& query) {
    const std::string output = directory_.File("out.jsonl");
    std::remove(output.c_str());
    Outcome outcome;
    outcome.status =
        RunJobText(JobText(query), {{"data", data_}, {"output", output}}, /*batch_size=*/1).status;
    if (outcome.status.ok()) {
      outcome.rows = ReadLines(output);
      std::sort(outcome.rows.begin(), outcome.rows.end());
    }
    return outcome;
  }

  void SetUp() override {
    data_ = directory_.File("t.jsonl");
    WriteFile(data_, kData);
  }

  TemporaryDirectory directory_;
  std::string data_;
};

TEST_F(ClauseCoverageTest, EveryClauseIsExecutedOrRefused) {
  for (const Case& c : Cases()) {
    const Outcome with = Run(c.with_clause);
    const Outcome without = Run(c.without_clause);
    const bool differ = with.status.ok() != without.status.ok() || with.rows != without.rows;
    EXPECT_TRUE(differ) << c.with_clause << "\nhas the outcome of\n"
                        << c.without_clause << "\n(" << with.status << "): the clause is ignored";
    // Failing is right only for a refused clause, or where the baseline is the one that fails.
    if (!with.status.ok() && without.status.ok()) {
      const std::string message(with.status.message());
      EXPECT_NE(message.find(c.refusal), std::string::npos)
          << c.with_clause << "\nfails without saying '" << c.refusal << "': " << message;
    }
  }
}

TEST_F(ClauseCoverageTest, TheCasesCoverEveryClauseTheParserKnows) {
  std::set<std::string> covered;
  for (const Case& c : Cases()) {
    const std::set<std::string> with = ClausesOf(JobText(c.with_clause));
    const std::set<std::string> without = ClausesOf(JobText(c.without_clause));
    for (const std::string& clause : with) {
      if (!without.count(clause)) covered.insert(clause);
    }
  }
  for (const std::string& clause : kClauses) {
    EXPECT_TRUE(covered.count(clause)) << "no case has '" << clause << "' that its baseline lacks";
  }
}

}  // namespace
}  // namespace sluice::testing
