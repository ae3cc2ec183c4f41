// Oracle tests of Top-N and deduplication (ops/top_n_operator.h) against SQLite's ROW_NUMBER,
// RANK and DENSE_RANK: generated trades, every query at batch sizes 1024, 7 and 1 and at
// parallelism 1 (fused), 2 and 4 (worker threads behind a keyed exchange).
//
// An updating result (a Top-N without a window, a keep-last deduplication) is written with
// 'result.changelog.mode' = 'changelog' and compared as the table its changelog describes
// once applied (ApplyChangelog, which also fails the test on a retraction of a row that is not
// in the table). An append-only one (a window Top-N, a keep-first deduplication) is written
// with 'result.changelog.mode' = 'append', which the binder refuses for an updating query, and
// compared row for row.
//
// Ties: with ROW_NUMBER which tied rows make the top N is not determined, so those queries
// order by a unique tiebreaker (trade_id) or by the unique event time; RANK and DENSE_RANK
// queries order by a column full of ties (quantity 1 to 8), where the result is determined.
// Event times are distinct and arrive up to 4 s out of order, under the 5 s watermark bound:
// no row is late.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>

#include "common/strings.h"
#include "job_test_harness.h"
#include "oracle_rows.h"

namespace sluice::testing {
namespace {

constexpr int64_t kStart = 1767225600000;  // 2026-01-01T00:00:00Z, a multiple of 30 s
constexpr int kTrades = 3000;

class TopNOracleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    directory_ = new TemporaryDirectory();
    data_path_ = directory_->File("trades.jsonl");
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    Exec(
        "CREATE TABLE trades (trade_id INTEGER, trader_id TEXT, symbol TEXT, side TEXT, price REAL, quantity "
        "INTEGER, trade_time INTEGER)");
    std::mt19937_64 random(20261207);
    auto uniform = [&](int64_t low, int64_t high) {
      return std::uniform_int_distribution<int64_t>(low, high)(random);
    };
    static const char* kSymbols[] = {"AAPL", "MSFT", "GOOG", "AMZN", "a-much-longer-symbol-name-for-keys",
                                     "Z"};
    static const char* kSides[] = {"BUY", "SELL"};
    // Distinct event times 1 s apart (plus a few ms), arriving up to 4 positions early or late.
    std::vector<int> order(kTrades);
    for (int i = 0; i < kTrades; ++i) order[i] = i;
    for (int i = 0; i + 4 < kTrades; i += 5) std::shuffle(order.begin() + i, order.begin() + i + 5, random);
    std::string jsonl;
    Exec("BEGIN");
    for (int i : order) {
      const int64_t id = i + 1;
      const std::string trader = StrCat("trader-", uniform(1, 40));
      // Skewed symbols: the first ones are frequent, the long one rarer.
      const char* symbol = kSymbols[std::min<int64_t>(uniform(0, 7), 5)];
      const char* side = kSides[uniform(0, 1)];
      char price[32];  // quarters: ties happen
      std::snprintf(price, sizeof(price), "%.2f", static_cast<double>(uniform(100, 20000)) / 4.0);
      const int64_t quantity = uniform(1, 8);
      const int64_t time = kStart + i * 1000 + uniform(0, 999);
      StrAppend(&jsonl, "{\"trade_id\":", id, ",\"trader_id\":\"", trader, "\",\"symbol\":\"", symbol,
                "\",\"side\":\"", side, "\",\"price\":", price, ",\"quantity\":", quantity,
                ",\"trade_time\":", time, "}\n");
      Exec(StrCat("INSERT INTO trades VALUES (", id, ", '", trader, "', '", symbol, "', '", side, "', ",
                  price, ", ", quantity, ", ", time, ")"));
    }
    Exec("COMMIT");
    WriteFile(data_path_, jsonl);
  }

  static void TearDownTestSuite() {
    sqlite3_close(db_);
    delete directory_;
  }

  static void Exec(const std::string& sql) {
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error ? error : "") << sql;
  }

  // Runs `statements` (CREATE STREAM ... ; the last one is `result`) over the trades with the
  // sink's changelog mode `mode`; returns the table (applied changelog or plain rows).
  static Table Run(const std::string& statements, const std::string& mode, size_t batch_size, int parallelism,
                   const std::string& context) {
    const std::string output = directory_->File("out.jsonl");
    const std::string job = StrCat(
        statements,
        " WITH ('trades.type' = 'file_source', 'trades.path' = '${data}', 'trades.schema' = 'trade_id "
        "BIGINT, "
        "trader_id STRING, symbol STRING, side STRING, price DOUBLE, quantity BIGINT, trade_time TIMESTAMP', "
        "'event.time.field' = 'trade_time', 'watermark.strategy' = 'bounded_out_of_orderness', "
        "'watermark.max_out_of_orderness' = '5s', 'result.type' = 'file_sink', 'result.path' = '${output}', "
        "'result.changelog.mode' = '",
        mode, "')");
    const std::map<std::string, std::string> variables = {{"data", data_path_}, {"output", output}};
    std::filesystem::remove(output);
    const JobResult result = RunJobText(job, variables, batch_size, /*strict=*/false, parallelism);
    EXPECT_TRUE(result.status.ok()) << result.status.message() << "\n" << context;
    EXPECT_EQ(result.counters.late_dropped, 0u) << context;
    const Schema declared = DeclaredOutputSchema(job, variables, "result");
    return mode == "changelog" ? ApplyChangelogLines(ReadLines(output), declared, context)
                               : ReadJsonLinesTable(output, declared);
  }

  // `sluice` (statements ending in CREATE STREAM result AS ...) must give SQLite's `sqlite`.
  static void ExpectSame(const std::string& sluice, const std::string& sqlite, const std::string& mode) {
    const Table expected = QuerySqlite(db_, sqlite);
    ASSERT_FALSE(expected.rows.empty()) << sqlite;
    for (int parallelism : {1, 2, 4}) {
      for (size_t batch_size : {1024, 7, 1}) {
        const std::string context =
            StrCat(sluice, " (batch size ", batch_size, ", parallelism ", parallelism, ")");
        ExpectSameTables(Run(sluice, mode, batch_size, parallelism, context), expected, context);
      }
    }
  }

  // A Top-N query over trades as one statement: `select` for both engines.
  static void ExpectSameQuery(const std::string& select, const std::string& mode) {
    ExpectSame(StrCat("CREATE STREAM result AS ", select), select, mode);
  }

  static TemporaryDirectory* directory_;
  static std::string data_path_;
  static sqlite3* db_;
};

TemporaryDirectory* TopNOracleTest::directory_ = nullptr;
std::string TopNOracleTest::data_path_;
sqlite3* TopNOracleTest::db_ = nullptr;

TEST_F(TopNOracleTest, RowNumberTopNWithRankColumnEqualsSqlite) {
  ExpectSameQuery(
      "SELECT symbol, trade_id, price, rn FROM (SELECT symbol, trade_id, price, ROW_NUMBER() OVER (PARTITION "
      "BY "
      "symbol ORDER BY price DESC, trade_id) AS rn FROM trades) AS t WHERE rn <= 3",
      "changelog");
}

TEST_F(TopNOracleTest, RowNumberTopNWithoutRankColumnEqualsSqlite) {
  ExpectSameQuery(
      "SELECT symbol, trade_id, price FROM (SELECT symbol, trade_id, price, ROW_NUMBER() OVER (PARTITION BY "
      "symbol ORDER BY price, trade_id DESC) AS rn FROM trades) AS t WHERE rn < 6",
      "changelog");
}

TEST_F(TopNOracleTest, RankWithTiesEqualsSqlite) {
  ExpectSameQuery(
      "SELECT symbol, trade_id, quantity, rk FROM (SELECT symbol, trade_id, quantity, RANK() OVER (PARTITION "
      "BY "
      "symbol, side ORDER BY quantity DESC) AS rk FROM trades) AS t WHERE rk <= 2",
      "changelog");
}

TEST_F(TopNOracleTest, RankWithTiesWithoutRankColumnEqualsSqlite) {
  ExpectSameQuery(
      "SELECT trader_id, trade_id FROM (SELECT trader_id, trade_id, RANK() OVER (PARTITION BY trader_id "
      "ORDER BY "
      "quantity) AS rk FROM trades) AS t WHERE rk <= 4",
      "changelog");
}

TEST_F(TopNOracleTest, DenseRankWithTiesEqualsSqlite) {
  ExpectSameQuery(
      "SELECT symbol, trade_id, quantity, dr FROM (SELECT symbol, trade_id, quantity, DENSE_RANK() OVER "
      "(PARTITION BY symbol ORDER BY quantity DESC) AS dr FROM trades) AS t WHERE dr < 3",
      "changelog");
}

TEST_F(TopNOracleTest, TopNWithoutPartitionAndComputedKeysEqualsSqlite) {
  ExpectSameQuery(
      "SELECT trade_id, notional, rn FROM (SELECT trade_id, price * quantity AS notional, ROW_NUMBER() OVER "
      "(ORDER BY price * quantity DESC, trade_id) AS rn FROM trades) AS t WHERE rn <= 10",
      "changelog");
  ExpectSameQuery(
      "SELECT side, trader_id, trade_id, rn FROM (SELECT side, trader_id, trade_id, ROW_NUMBER() OVER "
      "(PARTITION BY LOWER(side) ORDER BY trader_id DESC, trade_id) AS rn FROM trades) AS t WHERE 7 >= rn",
      "changelog");
}

TEST_F(TopNOracleTest, TopNOfWithQueryWithOuterFilterEqualsSqlite) {
  ExpectSameQuery(
      "WITH ranked AS (SELECT symbol, trade_id, price, quantity, ROW_NUMBER() OVER (PARTITION BY symbol "
      "ORDER BY "
      "price DESC, trade_id) AS rn FROM trades WHERE side = 'BUY') SELECT symbol, trade_id, rn FROM ranked "
      "WHERE "
      "rn <= 4 AND quantity > 2",
      "changelog");
}

TEST_F(TopNOracleTest, DeduplicationKeepFirstIsAppendOnlyAndEqualsSqlite) {
  ExpectSameQuery(
      "SELECT symbol, trade_id, trade_time FROM (SELECT symbol, trade_id, trade_time, ROW_NUMBER() OVER "
      "(PARTITION BY symbol ORDER BY trade_time) AS rn FROM trades) AS t WHERE rn = 1",
      "append");
  ExpectSame(
      "CREATE STREAM result AS SELECT trader_id, trade_id FROM (SELECT trader_id, trade_id, ROW_NUMBER() "
      "OVER "
      "(PARTITION BY trader_id ORDER BY _event_time ASC) AS rn FROM trades) AS t WHERE rn <= 1",
      "SELECT trader_id, trade_id FROM (SELECT trader_id, trade_id, ROW_NUMBER() OVER (PARTITION BY "
      "trader_id "
      "ORDER BY trade_time ASC) AS rn FROM trades) AS t WHERE rn <= 1",
      "append");
}

TEST_F(TopNOracleTest, DeduplicationKeepLastEqualsSqlite) {
  ExpectSameQuery(
      "SELECT trader_id, trade_id, price, rn FROM (SELECT trader_id, trade_id, price, ROW_NUMBER() OVER "
      "(PARTITION BY trader_id ORDER BY trade_time DESC) AS rn FROM trades) AS t WHERE rn = 1",
      "changelog");
}

TEST_F(TopNOracleTest, WindowTopNIsAppendOnlyAndEqualsSqlite) {
  const std::string sqlite_volumes =
      "WITH v AS (SELECT symbol, SUM(quantity) AS volume, (trade_time / 30000) * 30000 AS ws FROM trades "
      "GROUP BY "
      "symbol, ws) ";
  ExpectSame(
      "CREATE STREAM volumes AS SELECT symbol, SUM(quantity) AS volume, _window_start, _window_end FROM "
      "trades "
      "GROUP BY symbol WINDOW TUMBLING(trade_time, 30s); CREATE STREAM result AS SELECT symbol, volume, ws, "
      "rk "
      "FROM (SELECT symbol, volume, _window_start AS ws, _window_end, RANK() OVER (PARTITION BY "
      "_window_start "
      "ORDER BY volume DESC) AS rk FROM volumes) AS t WHERE rk <= 2",
      StrCat(sqlite_volumes,
             "SELECT symbol, volume, ws, rk FROM (SELECT symbol, volume, ws, RANK() OVER (PARTITION BY ws "
             "ORDER BY "
             "volume DESC) AS rk FROM v) AS t WHERE rk <= 2"),
      "append");
  ExpectSame(
      "CREATE STREAM volumes AS SELECT symbol, SUM(quantity) AS volume, _window_start, _window_end FROM "
      "trades "
      "GROUP BY symbol WINDOW TUMBLING(trade_time, 30s); CREATE STREAM result AS SELECT symbol, ws FROM "
      "(SELECT symbol, _window_start AS ws, _window_end, ROW_NUMBER() OVER (PARTITION BY _window_start ORDER "
      "BY "
      "volume, symbol) AS rn FROM volumes) AS t WHERE rn = 1",
      StrCat(sqlite_volumes,
             "SELECT symbol, ws FROM (SELECT symbol, ws, ROW_NUMBER() OVER (PARTITION BY ws ORDER BY volume, "
             "symbol) AS rn FROM v) AS t WHERE rn = 1"),
      "append");
}

// The changelog checker itself: a retraction of a row never emitted (or already retracted)
// fails the test, and the applied table is what the changes leave.
TEST(ApplyChangelogTest, AppliesChangesAndRejectsRetractionsOfAbsentRows) {
  Schema schema;
  schema.Add(Field{"k", TypeId::kString, false});
  schema.Add(Field{"n", TypeId::kInt64, false});
  const Table table = ApplyChangelogLines({R"({"before":null,"after":{"k":"a","n":1},"op":"c"})",
                                           R"({"before":null,"after":{"k":"b","n":1},"op":"c"})",
                                           R"({"before":{"k":"a","n":1},"after":{"k":"a","n":2},"op":"u"})",
                                           R"({"before":{"k":"b","n":1},"after":null,"op":"d"})",
                                           R"({"before":null,"after":{"k":"c","n":3},"op":"c"})",
                                           R"({"before":null,"after":{"k":"c","n":3},"op":"c"})"},
                                          schema, "changes");
  EXPECT_EQ(table.rows.size(), 3u);
  EXPECT_EQ(RowText(table.rows[0]), RowText(Row{std::string("a"), int64_t{2}}));
  EXPECT_NONFATAL_FAILURE(
      ApplyChangelogLines({R"({"before":{"k":"a","n":1},"after":null,"op":"d"})"}, schema, "x"),
      "not in the table");
  EXPECT_NONFATAL_FAILURE(
      ApplyChangelogLines({R"({"before":null,"after":{"k":"a","n":1},"op":"c"})",
                           R"({"before":{"k":"a","n":1},"after":null,"op":"d"})",
                           R"({"before":{"k":"a","n":1},"after":{"k":"a","n":5},"op":"u"})"},
                          schema, "x"),
      "not in the table");
  EXPECT_NONFATAL_FAILURE(ApplyChangelogLines({R"({"before":null,"after":null,"op":"c"})"}, schema, "x"),
                          "needs no before row and an after row");
}

}  // namespace
}  // namespace sluice::testing
