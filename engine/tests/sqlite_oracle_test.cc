// Oracle tests: stateless queries over 10,000 generated rows must give the same rows as SQLite
// (an independent SQL engine) on the same data. Rows are compared as multisets, with the column
// names and types of oracle_rows.h: integers, timestamps and strings exactly, doubles per value
// within a relative 1e-9, a BOOLEAN as SQLite's 0/1 (SQLite has no boolean type). Every
// computed column has the same alias in both queries.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <variant>

#include "common/strings.h"
#include "job_test_harness.h"
#include "oracle_rows.h"
#include "types/number_format.h"

namespace sluice::testing {
namespace {

constexpr int kRows = 10000;

class SqliteOracleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    directory_ = new TemporaryDirectory();
    data_path_ = directory_->File("t.jsonl");
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    Exec("PRAGMA case_sensitive_like = ON");
    Exec(
        "CREATE TABLE t (id INTEGER, a INTEGER, b INTEGER, x REAL, y REAL, s TEXT, w TEXT, flag INTEGER, ts "
        "INTEGER)");
    sqlite3_stmt* insert = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, "INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?)", -1, &insert, nullptr),
              SQLITE_OK);
    Exec("BEGIN");
    std::mt19937_64 random(20261127);
    auto uniform = [&](int64_t low, int64_t high) {
      return std::uniform_int_distribution<int64_t>(low, high)(random);
    };
    static const char* kWords[] = {"alpha", "beta",  "gamma", "delta", "epsilon", "zeta",
                                   "eta",   "theta", "Alpha", "GAMMA", "kappa",   "lambda"};
    std::string jsonl;
    for (int id = 1; id <= kRows; ++id) {
      const bool a_null = uniform(0, 9) == 0, x_null = uniform(0, 9) == 0, s_null = uniform(0, 9) == 0,
                 flag_null = uniform(0, 9) == 0;
      const int64_t a = uniform(-1000, 1000), b = uniform(0, 50);
      const double x = static_cast<double>(uniform(-50000, 50000)) / 100.0;
      const double y = static_cast<double>(uniform(50, 10000)) / 100.0;
      std::string s =
          std::string(uniform(0, 2), ' ') + kWords[uniform(0, 11)] + std::string(uniform(0, 2), ' ');
      const std::string w =
          StrCat(kWords[uniform(0, 11)], "-", kWords[uniform(0, 11)], "-", kWords[uniform(0, 11)]);
      const bool flag = uniform(0, 1) == 1;
      const int64_t ts = 1704067200000 + uniform(0, 366LL * 24 * 3600 * 1000);  // during 2024
      StrAppend(&jsonl, "{\"id\":", id, ",\"a\":", a_null ? std::string("null") : std::to_string(a),
                ",\"b\":", b, ",\"x\":", x_null ? std::string("null") : FormatDouble(x),
                ",\"y\":", FormatDouble(y), ",\"s\":", s_null ? std::string("null") : StrCat("\"", s, "\""),
                ",\"w\":\"", w, "\",\"flag\":", flag_null ? "null" : (flag ? "true" : "false"),
                ",\"ts\":", ts, "}\n");
      sqlite3_bind_int64(insert, 1, id);
      a_null ? sqlite3_bind_null(insert, 2) : sqlite3_bind_int64(insert, 2, a);
      sqlite3_bind_int64(insert, 3, b);
      x_null ? sqlite3_bind_null(insert, 4) : sqlite3_bind_double(insert, 4, x);
      sqlite3_bind_double(insert, 5, y);
      s_null ? sqlite3_bind_null(insert, 6) : sqlite3_bind_text(insert, 6, s.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, 7, w.c_str(), -1, SQLITE_TRANSIENT);
      flag_null ? sqlite3_bind_null(insert, 8) : sqlite3_bind_int64(insert, 8, flag ? 1 : 0);
      sqlite3_bind_int64(insert, 9, ts);
      ASSERT_EQ(sqlite3_step(insert), SQLITE_DONE);
      sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    Exec("COMMIT");
    WriteFile(data_path_, jsonl);
  }

  static void TearDownTestSuite() {
    sqlite3_close(db_);
    delete directory_;
  }

  static void Exec(const char* sql) {
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
  }

  static std::vector<Row> SqliteRows(const std::string& sql) { return QuerySqlite(db_, sql).rows; }

  // Runs `select` over the data file in Sluice and parses the JSON Lines output with simdjson
  // (independent of Sluice's own decoder), typed by the job's declared output schema.
  static Table SluiceTable(const std::string& select, size_t batch_size, int parallelism) {
    const std::string output = directory_->File("out.jsonl");
    const std::string job =
        StrCat("CREATE STREAM result AS ", select,
               " WITH ('t.type' = 'file_source', 't.path' = '${data}', 't.format' = 'json', 't.schema' = "
               "'id BIGINT, a BIGINT, b BIGINT, x DOUBLE, y DOUBLE, s STRING, w STRING, flag BOOLEAN, ts "
               "TIMESTAMP', "
               "'result.type' = 'file_sink', 'result.path' = '${output}')");
    const std::map<std::string, std::string> variables = {{"data", data_path_}, {"output", output}};
    const JobResult result = RunJobText(job, variables, batch_size, /*strict=*/false, parallelism);
    EXPECT_TRUE(result.status.ok()) << result.status.message();
    return ReadJsonLinesTable(output, DeclaredOutputSchema(job, variables));
  }

  static void ExpectSameRows(const std::string& sluice_select, const std::string& sqlite_select) {
    const Table expected = QuerySqlite(db_, sqlite_select);
    // Every query through the one runtime at parallelism 1 (fused), 2 and 4 (worker threads).
    for (int parallelism : {1, 2, 4}) {
      for (size_t batch_size : {1024, 7, 1}) {
        ExpectSameTables(SluiceTable(sluice_select, batch_size, parallelism), expected,
                         StrCat(sluice_select, " (batch size ", batch_size, ", parallelism ", parallelism, ")"));
      }
    }
  }

  static void ExpectSameRows(const std::string& select) { ExpectSameRows(select, select); }

  static TemporaryDirectory* directory_;
  static std::string data_path_;
  static sqlite3* db_;
};

TemporaryDirectory* SqliteOracleTest::directory_ = nullptr;
std::string SqliteOracleTest::data_path_;
sqlite3* SqliteOracleTest::db_ = nullptr;

TEST_F(SqliteOracleTest, DataIsNotTrivial) {
  EXPECT_EQ(SqliteRows("SELECT COUNT(*) FROM t")[0][0], Cell(int64_t{kRows}));
  EXPECT_GT(std::get<int64_t>(SqliteRows("SELECT COUNT(*) FROM t WHERE a IS NULL")[0][0]), 500);
  EXPECT_GT(std::get<int64_t>(SqliteRows("SELECT COUNT(*) FROM t WHERE a > 100")[0][0]), 3000);
}

TEST_F(SqliteOracleTest, FilterOnInteger) {
  ExpectSameRows("SELECT id, a, x FROM t WHERE a > 100");
}
TEST_F(SqliteOracleTest, SelectStar) {
  ExpectSameRows("SELECT * FROM t WHERE id <= 500",
                 "SELECT id, a, b, x, y, s, w, flag, ts FROM t WHERE id <= 500");
}
TEST_F(SqliteOracleTest, IntegerArithmetic) {
  ExpectSameRows("SELECT id, a + b AS total, a - b AS difference, a * b AS product, -a AS negated FROM t");
}
TEST_F(SqliteOracleTest, IntegerDivisionAndModulo) {
  ExpectSameRows("SELECT id, a / 7 AS q, a % 7 AS r, a / -3 AS q3 FROM t");
}
TEST_F(SqliteOracleTest, IntegerDivisionByZeroIsNull) {
  ExpectSameRows("SELECT id, a / (b - 25) AS q, a % (b - 25) AS r FROM t");
}
TEST_F(SqliteOracleTest, DoubleArithmetic) {
  ExpectSameRows("SELECT id, x / y AS ratio, x * 2.5 - 1 AS scaled, -x AS negated FROM t");
}
TEST_F(SqliteOracleTest, MixedArithmeticWidensToDouble) {
  ExpectSameRows("SELECT id, a + x AS total, b * y AS product, a / y AS ratio FROM t");
}
TEST_F(SqliteOracleTest, DoubleDivisionByZeroIsNull) {
  ExpectSameRows("SELECT id, x / (b - 25) AS ratio FROM t");
}
TEST_F(SqliteOracleTest, AndFilter) {
  ExpectSameRows("SELECT id FROM t WHERE x > 0 AND a < 0");
}
TEST_F(SqliteOracleTest, OrFilterWithNulls) {
  ExpectSameRows("SELECT id FROM t WHERE x > 0 OR a IS NULL");
}
TEST_F(SqliteOracleTest, ThreeValuedLogicValues) {
  ExpectSameRows(
      "SELECT id, (a > 0) AND (x > 0) AS both_positive, (a > 0) OR (x > 0) AS either_positive, "
      "NOT (a > 0) AS not_positive, flag AND (b > 20) AS flag_and FROM t");
}
TEST_F(SqliteOracleTest, NotOverNullableCondition) {
  ExpectSameRows("SELECT id FROM t WHERE NOT (a > 0 OR x < 0)");
}
TEST_F(SqliteOracleTest, IsNullAndIsNotNull) {
  ExpectSameRows("SELECT id, a IS NULL AS a_null, x IS NOT NULL AS x_set, s IS NULL AS s_null FROM t");
}
TEST_F(SqliteOracleTest, BooleanColumnFilter) {
  ExpectSameRows("SELECT id, flag FROM t WHERE flag");
}
TEST_F(SqliteOracleTest, Between) {
  ExpectSameRows("SELECT id FROM t WHERE a BETWEEN -100 AND 100");
}
TEST_F(SqliteOracleTest, NotBetween) {
  ExpectSameRows("SELECT id, b FROM t WHERE b NOT BETWEEN 10 AND 40");
}
TEST_F(SqliteOracleTest, InList) {
  ExpectSameRows("SELECT id FROM t WHERE b IN (1, 2, 3, 5, 8)");
}
TEST_F(SqliteOracleTest, NotInListWithNulls) {
  ExpectSameRows("SELECT id, s FROM t WHERE TRIM(s) NOT IN ('alpha', 'beta')");
}
TEST_F(SqliteOracleTest, LikePrefix) {
  ExpectSameRows("SELECT id, s FROM t WHERE s LIKE 'a%'");
}
TEST_F(SqliteOracleTest, LikeUnderscoreAndNotLike) {
  ExpectSameRows("SELECT id FROM t WHERE w LIKE '%_amma%' AND w NOT LIKE 'beta%'");
}
TEST_F(SqliteOracleTest, SearchedCase) {
  ExpectSameRows(
      "SELECT id, CASE WHEN a > 0 THEN 'pos' WHEN a < 0 THEN 'neg' ELSE 'zero' END AS sign FROM t");
}
TEST_F(SqliteOracleTest, SimpleCaseWithoutElseIsNull) {
  ExpectSameRows("SELECT id, CASE b WHEN 1 THEN 'one' WHEN 2 THEN 'two' END AS label FROM t");
}
// Sluice widens the CASE to DOUBLE; SQLite keeps each branch's type, so its ELSE branch is made
// REAL explicitly.
TEST_F(SqliteOracleTest, CaseWithMixedNumericBranches) {
  ExpectSameRows("SELECT id, CASE WHEN x > 0 THEN x ELSE a END AS v FROM t",
                 "SELECT id, CASE WHEN x > 0 THEN x ELSE CAST(a AS REAL) END AS v FROM t");
}
TEST_F(SqliteOracleTest, Casts) {
  ExpectSameRows(
      "SELECT id, CAST(x AS BIGINT) AS xi, CAST(a AS DOUBLE) AS ad, CAST(a AS STRING) AS a_text, "
      "CAST(b AS STRING) AS b_text FROM t",
      "SELECT id, CAST(x AS INTEGER) AS xi, CAST(a AS REAL) AS ad, CAST(a AS TEXT) AS a_text, "
      "CAST(b AS TEXT) AS b_text FROM t");
}
TEST_F(SqliteOracleTest, CastStringToNumber) {
  ExpectSameRows("SELECT id, CAST(CAST(b AS STRING) AS BIGINT) + 1 AS v FROM t",
                 "SELECT id, CAST(CAST(b AS TEXT) AS INTEGER) + 1 AS v FROM t");
}
TEST_F(SqliteOracleTest, Coalesce) {
  ExpectSameRows("SELECT id, COALESCE(a, b, 0) AS n, COALESCE(s, 'none') AS joined FROM t");
}
TEST_F(SqliteOracleTest, NullIf) {
  ExpectSameRows("SELECT id, NULLIF(b, 7) AS n, NULLIF(TRIM(s), 'alpha') AS joined FROM t");
}
TEST_F(SqliteOracleTest, UpperLower) {
  ExpectSameRows("SELECT id, UPPER(s) AS upper_s, LOWER(w) AS lower_w FROM t");
}
TEST_F(SqliteOracleTest, ConcatTreatsNullAsEmpty) {
  ExpectSameRows("SELECT id, CONCAT(s, '-', w) AS joined FROM t",
                 "SELECT id, COALESCE(s, '') || '-' || w AS joined FROM t");
}
TEST_F(SqliteOracleTest, ConcatOperatorPropagatesNull) {
  ExpectSameRows("SELECT id, s || w AS sw, w || '!' AS loud FROM t");
}
TEST_F(SqliteOracleTest, Substring) {
  ExpectSameRows(
      "SELECT id, SUBSTRING(w, 2, 5) AS s1, SUBSTRING(w, 3) AS s2, SUBSTRING(w FROM 4 FOR 2) AS s3 FROM t",
      "SELECT id, substr(w, 2, 5) AS s1, substr(w, 3) AS s2, substr(w, 4, 2) AS s3 FROM t");
}
TEST_F(SqliteOracleTest, Trims) {
  ExpectSameRows("SELECT id, TRIM(s) AS both_ends, LTRIM(s) AS left_end, RTRIM(s) AS right_end FROM t");
}
TEST_F(SqliteOracleTest, Length) {
  ExpectSameRows("SELECT id, LENGTH(s) AS ls, LENGTH(w) AS lw FROM t");
}
TEST_F(SqliteOracleTest, Replace) {
  ExpectSameRows("SELECT id, REPLACE(w, '-', '_') AS r1, REPLACE(s, 'a', 'AA') AS r2 FROM t");
}
TEST_F(SqliteOracleTest, LeftRight) {
  ExpectSameRows("SELECT id, LEFT(w, 3) AS head, RIGHT(w, 4) AS tail FROM t",
                 "SELECT id, substr(w, 1, 3) AS head, substr(w, -4) AS tail FROM t");
}
TEST_F(SqliteOracleTest, SplitPart) {
  ExpectSameRows("SELECT id, SPLIT_PART(w, '-', 1) AS part1, SPLIT_PART(w, '-', 3) AS part3 FROM t",
                 "SELECT id, substr(w, 1, instr(w, '-') - 1) AS part1, "
                 "substr(substr(w, instr(w, '-') + 1), instr(substr(w, instr(w, '-') + 1), '-') + 1) AS part3 "
                 "FROM t");
}
TEST_F(SqliteOracleTest, Position) {
  ExpectSameRows("SELECT id, POSITION('-' IN w) AS dash, POSITION('ta' IN w) AS ta FROM t",
                 "SELECT id, instr(w, '-') AS dash, instr(w, 'ta') AS ta FROM t");
}
TEST_F(SqliteOracleTest, Abs) {
  ExpectSameRows("SELECT id, ABS(a) AS abs_a, ABS(x) AS abs_x FROM t");
}
TEST_F(SqliteOracleTest, Round) {
  ExpectSameRows("SELECT id, ROUND(x) AS r0, ROUND(x / 7, 2) AS r2, ROUND(y, 1) AS r1 FROM t");
}
TEST_F(SqliteOracleTest, FloorCeil) {
  ExpectSameRows("SELECT id, FLOOR(x) AS fx, CEIL(x) AS cx, FLOOR(a) AS fa, CEIL(y) AS cy FROM t");
}
TEST_F(SqliteOracleTest, SqrtPower) {
  ExpectSameRows(
      "SELECT id, SQRT(y) AS root, POWER(y, 2) AS square, POWER(y, 0.5) AS half, SQRT(x) AS root_x FROM t");
}
TEST_F(SqliteOracleTest, Mod) {
  ExpectSameRows("SELECT id, MOD(a, 7) AS m7, MOD(b, 4) AS m4 FROM t",
                 "SELECT id, a % 7 AS m7, b % 4 AS m4 FROM t");
}
TEST_F(SqliteOracleTest, GreatestLeast) {
  ExpectSameRows("SELECT id, GREATEST(a, b) AS g, LEAST(a, b, 10) AS l, GREATEST(x, y) AS gd FROM t",
                 "SELECT id, max(a, b) AS g, min(a, b, 10) AS l, max(x, y) AS gd FROM t");
}
TEST_F(SqliteOracleTest, ExtractDateParts) {
  ExpectSameRows(
      "SELECT id, EXTRACT(YEAR FROM ts) AS y, EXTRACT(MONTH FROM ts) AS mo, EXTRACT(DAY FROM ts) AS d, "
      "EXTRACT(HOUR FROM ts) AS h, EXTRACT(MINUTE FROM ts) AS mi, EXTRACT(SECOND FROM ts) AS sec FROM t",
      "SELECT id, CAST(strftime('%Y', ts / 1000, 'unixepoch') AS INTEGER) AS y, "
      "CAST(strftime('%m', ts / 1000, 'unixepoch') AS INTEGER) AS mo, "
      "CAST(strftime('%d', ts / 1000, 'unixepoch') AS INTEGER) AS d, "
      "CAST(strftime('%H', ts / 1000, 'unixepoch') AS INTEGER) AS h, "
      "CAST(strftime('%M', ts / 1000, 'unixepoch') AS INTEGER) AS mi, "
      "CAST(strftime('%S', ts / 1000, 'unixepoch') AS INTEGER) AS sec FROM t");
}
TEST_F(SqliteOracleTest, ExtractDayOfWeekAndYear) {
  ExpectSameRows("SELECT id, EXTRACT(DOW FROM ts) AS dow, EXTRACT(DOY FROM ts) AS doy FROM t",
                 "SELECT id, CAST(strftime('%w', ts / 1000, 'unixepoch') AS INTEGER) AS dow, "
                 "CAST(strftime('%j', ts / 1000, 'unixepoch') AS INTEGER) AS doy FROM t");
}
TEST_F(SqliteOracleTest, UnixTimestampRoundTrip) {
  ExpectSameRows("SELECT id, UNIX_TIMESTAMP(ts) AS seconds, FROM_UNIXTIME(UNIX_TIMESTAMP(ts)) AS whole FROM t",
                 "SELECT id, ts / 1000 AS seconds, (ts / 1000) * 1000 AS whole FROM t");
}
TEST_F(SqliteOracleTest, DateTrunc) {
  ExpectSameRows(
      "SELECT id, DATE_TRUNC('hour', ts) AS hour_start, DATE_TRUNC('day', ts) AS day_start, DATE_TRUNC('month', ts) AS "
      "month_start FROM t",
      "SELECT id, (ts / 3600000) * 3600000 AS hour_start, (ts / 86400000) * 86400000 AS day_start, "
      "CAST(strftime('%s', ts / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000 AS month_start FROM t");
}
TEST_F(SqliteOracleTest, TimestampLiteralComparison) {
  ExpectSameRows("SELECT id FROM t WHERE ts >= TIMESTAMP '2024-06-01 00:00:00' AND ts < '2024-07-01'",
                 "SELECT id FROM t WHERE ts >= 1717200000000 AND ts < 1719792000000");
}
TEST_F(SqliteOracleTest, FunctionsInFilter) {
  ExpectSameRows("SELECT id, s FROM t WHERE UPPER(TRIM(s)) = 'ALPHA' AND LENGTH(w) > 14");
}
TEST_F(SqliteOracleTest, StringComparison) {
  ExpectSameRows("SELECT id, w FROM t WHERE w < 'delta' AND s >= 'b'");
}
TEST_F(SqliteOracleTest, NestedExpressions) {
  ExpectSameRows(
      "SELECT id, ABS(a - b) * 2 + COALESCE(a, 0) % 5 AS n, ROUND(SQRT(ABS(x)) + y, 3) AS d FROM t "
      "WHERE b > 10");
}

// Derived tables and WITH queries: each level filters and computes; the same text in SQLite.
TEST_F(SqliteOracleTest, NestedDerivedTables) {
  ExpectSameRows(
      "SELECT id, total, half FROM (SELECT id, total, x / 2 AS half FROM (SELECT id, a + b AS total, x "
      "FROM t WHERE b > 10) AS inner_t WHERE x IS NOT NULL) AS outer_t WHERE total > 0 AND half < 100");
}
TEST_F(SqliteOracleTest, SelectStarAndQualifiedColumnsOverADerivedTable) {
  ExpectSameRows(
      "SELECT * FROM (SELECT id, UPPER(TRIM(s)) AS word, flag FROM t WHERE a < 0) AS d WHERE d.flag",
      "SELECT * FROM (SELECT id, UPPER(TRIM(s)) AS word, flag FROM t WHERE a < 0) AS d WHERE d.flag = 1");
}
TEST_F(SqliteOracleTest, WithQueriesReadEachOther) {
  ExpectSameRows(
      "WITH f AS (SELECT id, a, s FROM t WHERE a > 0), g AS (SELECT id, a * 2 AS doubled, LOWER(s) AS s "
      "FROM f WHERE s IS NOT NULL) SELECT g.id, g.doubled, g.s FROM g WHERE g.doubled < 1000");
}
// SELECT DISTINCT, one row per distinct combination (NULL as one value), at the end of the input.
TEST_F(SqliteOracleTest, SelectDistinct) {
  ExpectSameRows("SELECT DISTINCT b, flag FROM t EMIT FINAL", "SELECT DISTINCT b, flag FROM t");
  ExpectSameRows("SELECT DISTINCT s, a % 3 AS m FROM t WHERE b < 5 EMIT FINAL",
                 "SELECT DISTINCT s, a % 3 AS m FROM t WHERE b < 5");
}
TEST_F(SqliteOracleTest, AggregateOverADistinctDerivedTable) {
  ExpectSameRows("SELECT COUNT(*) AS n, SUM(b) AS total FROM (SELECT DISTINCT b, s FROM t) AS d EMIT FINAL",
                 "SELECT COUNT(*) AS n, SUM(b) AS total FROM (SELECT DISTINCT b, s FROM t) AS d");
}

}  // namespace
}  // namespace sluice::testing
