// Oracle tests of GROUP BY and windows: generated trades with bounded disorder (events up to
// 4 s late, under a 5 s watermark bound, so none is dropped; one trade in 37 shares its
// symbol and millisecond with the trade before it) must aggregate exactly as SQLite's
// GROUP BY does on the same rows, with the column names and types of oracle_rows.h (integers and
// timestamps exactly, doubles per value within a relative 1e-9; every computed column has the
// same alias in both queries). EMIT CHANGES is compared by its last row per key; windows by the
// set of fired rows (SQLite groups by the window start). Every query runs at batch sizes
// 1024, 7 and 1, on the single-threaded runner and on the parallel runtime with 2 and 4 workers.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>

#include "common/strings.h"
#include "formats/number_format.h"
#include "job_test_harness.h"
#include "oracle_rows.h"

namespace sluice::testing {
namespace {

constexpr int kTrades = 12000;

class StatefulOracleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    directory_ = new TemporaryDirectory();
    data_path_ = directory_->File("trades.jsonl");
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    Exec(
        "CREATE TABLE trades (trade_id INTEGER, trader_id TEXT, symbol TEXT, category TEXT, price REAL, "
        "quantity INTEGER, side TEXT, trade_time INTEGER)");
    struct Trade {
      int64_t id, time, arrival, quantity;
      std::string trader, symbol, category, side;
      double price;
    };
    std::mt19937_64 random(7);
    auto uniform = [&](int64_t low, int64_t high) {
      return std::uniform_int_distribution<int64_t>(low, high)(random);
    };
    std::vector<Trade> trades;
    for (int i = 0; i < kTrades; ++i) {
      Trade t;
      t.id = i + 1;
      t.time = 1767225600000 + i * 75 + uniform(0, 40);  // 2026-01-01, about 15 minutes in all
      t.arrival = t.time + (uniform(0, 4) == 0 ? uniform(0, 4000) : 0);
      t.trader = StrCat("T", uniform(1, 20));
      const int64_t symbol = uniform(0, 9);
      t.symbol = StrCat("SYM", symbol);
      t.category = StrCat("C", symbol % 4);
      t.price = static_cast<double>(uniform(10000, 20000)) / 100.0;
      t.quantity = uniform(1, 500);
      t.side = uniform(0, 1) ? "BUY" : "SELL";
      if (i % 37 == 36) {  // a trade of the same symbol at the same millisecond as the one before
        t.time = trades.back().time;
        t.arrival = t.time + (uniform(0, 4) == 0 ? uniform(0, 4000) : 0);
        t.symbol = trades.back().symbol;
        t.category = trades.back().category;
      }
      trades.push_back(std::move(t));
    }
    // Arrival order: bounded disorder in event time.
    std::stable_sort(trades.begin(), trades.end(),
                     [](const Trade& a, const Trade& b) { return a.arrival < b.arrival; });
    std::string jsonl;
    std::string parts[2];  // the same trades split into two files (partitions) by trade_id parity
    Exec("BEGIN");
    sqlite3_stmt* insert = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, "INSERT INTO trades VALUES (?,?,?,?,?,?,?,?)", -1, &insert, nullptr),
              SQLITE_OK);
    for (const Trade& t : trades) {
      const std::string line =
          StrCat("{\"trade_id\":", t.id, ",\"trader_id\":\"", t.trader, "\",\"symbol\":\"", t.symbol,
                 "\",\"category\":\"", t.category, "\",\"price\":", FormatDouble(t.price),
                 ",\"quantity\":", t.quantity, ",\"side\":\"", t.side, "\",\"trade_time\":", t.time, "}\n");
      jsonl += line;
      parts[t.id % 2] += line;
      sqlite3_bind_int64(insert, 1, t.id);
      sqlite3_bind_text(insert, 2, t.trader.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, 3, t.symbol.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, 4, t.category.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_double(insert, 5, t.price);
      sqlite3_bind_int64(insert, 6, t.quantity);
      sqlite3_bind_text(insert, 7, t.side.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(insert, 8, t.time);
      ASSERT_EQ(sqlite3_step(insert), SQLITE_DONE);
      sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    Exec("COMMIT");
    WriteFile(data_path_, jsonl);
    std::filesystem::create_directory(directory_->File("parts"));
    for (int p = 0; p < 2; ++p) WriteFile(directory_->File(StrCat("parts/part-", p, ".jsonl")), parts[p]);
  }

  static void TearDownTestSuite() {
    sqlite3_close(db_);
    delete directory_;
  }

  static void Exec(const char* sql) {
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
  }

  static Table SluiceTable(const std::string& select, size_t batch_size, const std::string& path = data_path_,
                           int parallelism = 1, uint64_t* late_dropped = nullptr) {
    const std::string output = directory_->File("out.jsonl");
    const std::string job = StrCat(
        "CREATE STREAM result AS ", select,
        " WITH ('trades.type' = 'file_source', 'trades.path' = '${data}', 'trades.schema' = 'trade_id "
        "BIGINT, "
        "trader_id STRING, symbol STRING, category STRING, price DOUBLE, quantity BIGINT, side STRING, "
        "trade_time TIMESTAMP', 'event.time.field' = 'trade_time', 'watermark.strategy' = "
        "'bounded_out_of_orderness', 'watermark.max_out_of_orderness' = '5s', "
        "'result.type' = 'file_sink', 'result.path' = '${output}')");
    const std::map<std::string, std::string> variables = {{"data", path}, {"output", output}};
    const JobResult result = RunJobText(job, variables, batch_size, /*strict=*/false, parallelism);
    EXPECT_TRUE(result.status.ok()) << result.status.message();
    if (late_dropped != nullptr) *late_dropped = result.counters.late_dropped;
    return ReadJsonLinesTable(output, DeclaredOutputSchema(job, variables));
  }

  // `changes_key_columns` > 0: the query emits changes; compare its last row per key.
  // `expected_late` >= 0: the number of rows the job must count as late.
  static void ExpectSameRows(const std::string& sluice_select, const std::string& sqlite_select,
                             size_t changes_key_columns = 0, int64_t expected_late = -1) {
    const Table expected = QuerySqlite(db_, sqlite_select);
    ASSERT_FALSE(expected.rows.empty()) << sqlite_select;
    // The single-threaded runner and the parallel runtime on 2 and 4 workers (on 2 cores too).
    for (int parallelism : {1, 2, 4}) {
      for (size_t batch_size : {1024, 7, 1}) {
        uint64_t late = 0;
        Table actual = SluiceTable(sluice_select, batch_size, data_path_, parallelism, &late);
        if (changes_key_columns > 0) actual = LastRowPerKey(actual, changes_key_columns);
        const std::string context =
            StrCat(sluice_select, " (batch size ", batch_size, ", parallelism ", parallelism, ")");
        ExpectSameTables(actual, expected, context);
        if (expected_late >= 0) {
          EXPECT_EQ(late, static_cast<uint64_t>(expected_late)) << "late rows, " << context;
        }
      }
    }
  }

  static TemporaryDirectory* directory_;
  static std::string data_path_;
  static sqlite3* db_;
};

TemporaryDirectory* StatefulOracleTest::directory_ = nullptr;
std::string StatefulOracleTest::data_path_;
sqlite3* StatefulOracleTest::db_ = nullptr;

// Scenario 2 of the brief: pure GROUP BY, EMIT CHANGES (the default).
TEST_F(StatefulOracleTest, Scenario2GroupByEmitChangesConvergesToGroupBy) {
  const std::string select =
      "SELECT symbol, COUNT(*) AS n, SUM(quantity) AS q, AVG(price) AS a, MIN(price) AS lo, MAX(price) AS hi "
      "FROM trades GROUP BY symbol";
  ExpectSameRows(select, select, 1);
}

TEST_F(StatefulOracleTest, Scenario2CategoryVariantEmitFinal) {
  ExpectSameRows(
      "SELECT category, COUNT(*) AS n, SUM(quantity) AS q, AVG(price) AS a, MIN(price) AS lo, MAX(price) AS "
      "hi "
      "FROM trades GROUP BY category EMIT FINAL",
      "SELECT category, COUNT(*) AS n, SUM(quantity) AS q, AVG(price) AS a, MIN(price) AS lo, MAX(price) AS "
      "hi FROM trades GROUP BY category");
}

TEST_F(StatefulOracleTest, SeveralKeysExpressionsAndCountDistinct) {
  ExpectSameRows(
      "SELECT trader_id, side, SUM(price * quantity) AS notional, COUNT(DISTINCT symbol) AS symbols, "
      "SUM(quantity) / COUNT(*) AS avg_lot FROM trades GROUP BY trader_id, side EMIT FINAL",
      "SELECT trader_id, side, SUM(price * quantity) AS notional, COUNT(DISTINCT symbol) AS symbols, "
      "SUM(quantity) / COUNT(*) AS avg_lot FROM trades GROUP BY trader_id, side");
}

TEST_F(StatefulOracleTest, GroupByExpressionKey) {
  ExpectSameRows(
      "SELECT quantity % 10 AS bucket, COUNT(*) AS n, MAX(price) AS hi FROM trades GROUP BY quantity % 10",
      "SELECT quantity % 10 AS bucket, COUNT(*) AS n, MAX(price) AS hi FROM trades GROUP BY quantity % 10",
      1);
}

TEST_F(StatefulOracleTest, Having) {
  ExpectSameRows(
      "SELECT trader_id, COUNT(*) AS n FROM trades GROUP BY trader_id HAVING AVG(quantity) > 250 EMIT FINAL",
      "SELECT trader_id, COUNT(*) AS n FROM trades GROUP BY trader_id HAVING AVG(quantity) > 250");
}

TEST_F(StatefulOracleTest, VarianceAndStandardDeviation) {
  ExpectSameRows(
      "SELECT symbol, VAR_POP(price) AS vp, VAR_SAMP(price) AS vs, STDDEV_POP(price) AS sp, STDDEV(price) AS "
      "ss FROM trades GROUP BY symbol EMIT FINAL",
      "SELECT symbol, (SUM(price * price) - SUM(price) * SUM(price) / COUNT(*)) / COUNT(*) AS vp, "
      "(SUM(price * price) - SUM(price) * SUM(price) / COUNT(*)) / (COUNT(*) - 1) AS vs, "
      "sqrt((SUM(price * price) - SUM(price) * SUM(price) / COUNT(*)) / COUNT(*)) AS sp, "
      "sqrt((SUM(price * price) - SUM(price) * SUM(price) / COUNT(*)) / (COUNT(*) - 1)) AS ss FROM trades "
      "GROUP BY symbol");
}

// Scenario 3a: GROUP BY trader_id, symbol with a 1-minute tumbling window, EMIT FINAL.
TEST_F(StatefulOracleTest, Scenario3aTumblingWindowEmitFinal) {
  ExpectSameRows(
      "SELECT trader_id, symbol, COUNT(*) AS n, SUM(quantity) AS q, AVG(price) AS a, _window_start, "
      "_window_end "
      "FROM trades GROUP BY trader_id, symbol WINDOW TUMBLING (trade_time, INTERVAL '1' MINUTE) EMIT FINAL",
      "SELECT trader_id, symbol, COUNT(*) AS n, SUM(quantity) AS q, AVG(price) AS a, "
      "(trade_time / 60000) * 60000 AS _window_start, (trade_time / 60000) * 60000 + 60000 AS _window_end "
      "FROM trades GROUP BY trader_id, symbol, trade_time / 60000");
}

// Scenario 3b: the same with EMIT CHANGES; the last update per window and key is exact.
TEST_F(StatefulOracleTest, Scenario3bTumblingWindowEmitChanges) {
  ExpectSameRows(
      "SELECT trader_id, symbol, _window_start, COUNT(*) AS n, SUM(quantity) AS q FROM trades "
      "GROUP BY trader_id, symbol WINDOW TUMBLING (trade_time, INTERVAL '1' MINUTE) EMIT CHANGES",
      "SELECT trader_id, symbol, (trade_time / 60000) * 60000 AS _window_start, COUNT(*) AS n, "
      "SUM(quantity) AS q FROM trades GROUP BY trader_id, symbol, trade_time / 60000",
      3);
}

TEST_F(StatefulOracleTest, SlidingWindow) {
  ExpectSameRows(
      "SELECT symbol, COUNT(*) AS n, SUM(quantity) AS q, MIN(price) AS lo, _window_start FROM trades "
      "GROUP BY symbol WINDOW SLIDING (trade_time, INTERVAL '2' MINUTE, INTERVAL '1' MINUTE)",
      "SELECT symbol, COUNT(*) AS n, SUM(quantity) AS q, MIN(price) AS lo, ws AS _window_start FROM ("
      "SELECT symbol, quantity, price, (trade_time / 60000) * 60000 AS ws FROM trades UNION ALL "
      "SELECT symbol, quantity, price, (trade_time / 60000) * 60000 - 60000 AS ws FROM trades) GROUP BY "
      "symbol, ws");
}

TEST_F(StatefulOracleTest, WindowWithoutGroupBy) {
  ExpectSameRows(
      "SELECT COUNT(*) AS n, MAX(price) AS hi, TUMBLE_START(trade_time) AS ws FROM trades "
      "WINDOW TUMBLING (trade_time, 5m)",
      "SELECT COUNT(*) AS n, MAX(price) AS hi, (trade_time / 300000) * 300000 AS ws FROM trades "
      "GROUP BY trade_time / 300000");
}

TEST_F(StatefulOracleTest, FilterBeforeWindow) {
  ExpectSameRows(
      "SELECT side, COUNT(*) AS n, _window_start FROM trades WHERE quantity > 100 AND symbol <> 'SYM3' "
      "GROUP BY side WINDOW TUMBLING (trade_time, INTERVAL '30' SECOND)",
      "SELECT side, COUNT(*) AS n, (trade_time / 30000) * 30000 AS _window_start FROM trades "
      "WHERE quantity > 100 AND symbol <> 'SYM3' GROUP BY side, trade_time / 30000");
}

// Session windows against a gaps-and-islands query: per trader, a new session starts when the
// previous trade (in event time) is more than 3 s before (trades exactly 3 s apart share one).
TEST_F(StatefulOracleTest, SessionWindowMatchesGapsAndIslands) {
  ExpectSameRows(
      "SELECT trader_id, COUNT(*) AS n, SUM(quantity) AS q, MAX(price) AS hi, _window_start, _window_end "
      "FROM trades GROUP BY trader_id WINDOW SESSION (trade_time, INTERVAL '3' SECOND)",
      "WITH marked AS (SELECT trader_id, quantity, price, trade_time, CASE WHEN trade_time - LAG(trade_time) "
      "OVER "
      "(PARTITION BY trader_id ORDER BY trade_time) <= 3000 THEN 0 ELSE 1 END AS starts_session FROM "
      "trades), "
      "numbered AS (SELECT *, SUM(starts_session) OVER (PARTITION BY trader_id ORDER BY trade_time ROWS "
      "UNBOUNDED "
      "PRECEDING) AS session FROM marked) "
      "SELECT trader_id, COUNT(*) AS n, SUM(quantity) AS q, MAX(price) AS hi, MIN(trade_time) AS "
      "_window_start, MAX(trade_time) + 3000 AS _window_end FROM numbered GROUP BY trader_id, session");
}

// Scenario 1 of the brief: a ROWS window over the last 100 trades of each symbol, ORDER BY
// trade_time. The data is out of order within the watermark bound, and the operator does not
// sort: a trade whose time is below the running maximum of trade_time over the earlier trades of
// its symbol (in arrival order, SQLite's rowid) is late, counted and dropped (equal times are
// kept). The kept trades are framed in the query's order, trade_time, ties in arrival order.
TEST_F(StatefulOracleTest, Scenario1RowsWindowBuffer100) {
  const std::string kept =
      "WITH marked AS (SELECT rowid AS arrival, *, MAX(trade_time) OVER (PARTITION BY symbol ORDER BY rowid "
      "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_max FROM trades), "
      "kept AS (SELECT * FROM marked WHERE earlier_max IS NULL OR trade_time >= earlier_max) ";
  const Table late = QuerySqlite(db_, kept + "SELECT (SELECT COUNT(*) FROM trades) - COUNT(*) FROM kept");
  const int64_t late_rows = std::get<int64_t>(late.rows[0][0]);
  ASSERT_GT(late_rows, 0) << "the data must hold out-of-order trades for this test to mean anything";
  // Trades with equal times in one symbol, so that the tie order (arrival) matters.
  const Table ties = QuerySqlite(db_,
                                 "SELECT COUNT(*) FROM (SELECT symbol, trade_time FROM trades GROUP BY symbol, "
                                 "trade_time HAVING COUNT(*) > 1)");
  ASSERT_GT(std::get<int64_t>(ties.rows[0][0]), 0) << "the data must hold equal trade times in a symbol";
  ExpectSameRows(
      "SELECT trade_id, symbol, "
      "AVG(price) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY symbol ORDER BY trade_time) AS avg_price, "
      "MIN(price) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY symbol ORDER BY trade_time) AS low, "
      "MAX(price) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY symbol ORDER BY trade_time) AS high, "
      "FIRST_VALUE(trade_id) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY symbol ORDER BY trade_time) AS "
      "oldest, "
      "LAG(trade_time) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY symbol ORDER BY trade_time) AS "
      "previous_time FROM trades",
      kept +
          "SELECT trade_id, symbol, AVG(price) OVER w AS avg_price, MIN(price) OVER w AS low, "
          "MAX(price) OVER w AS high, FIRST_VALUE(trade_id) OVER w AS oldest, "
          "LAG(trade_time) OVER w AS previous_time FROM kept "
          "WINDOW w AS (PARTITION BY symbol ORDER BY trade_time, arrival ROWS BETWEEN 99 PRECEDING AND CURRENT "
          "ROW)",
      0, late_rows);
}

TEST_F(StatefulOracleTest, RowsWindowLagLeadRowNumber) {
  ExpectSameRows(
      "SELECT trade_id, LAG(quantity, 2) OVER (PARTITION BY trader_id ROWS BETWEEN 9 PRECEDING AND CURRENT "
      "ROW) AS lag2, "
      "LEAD(quantity) OVER (PARTITION BY trader_id ROWS BETWEEN 9 PRECEDING AND CURRENT ROW) AS next, "
      "ROW_NUMBER() OVER (PARTITION BY trader_id ROWS BETWEEN 9 PRECEDING AND CURRENT ROW) AS n, "
      "SUM(quantity) OVER (PARTITION BY trader_id ROWS BETWEEN 9 PRECEDING AND CURRENT ROW) AS total FROM "
      "trades",
      "SELECT trade_id, LAG(quantity, 2) OVER w AS lag2, LEAD(quantity) OVER w AS next, "
      "ROW_NUMBER() OVER w AS n, "
      "SUM(quantity) OVER (PARTITION BY trader_id ORDER BY rowid ROWS BETWEEN 9 PRECEDING AND CURRENT ROW) "
      "AS total FROM trades WINDOW w AS (PARTITION BY trader_id ORDER BY rowid)");
}

// A source whose path is a glob has one partition per file; the files are read in turns and the
// watermark is the minimum over the files still being read, so the file that is behind in event
// time loses nothing, at any batch size.
TEST_F(StatefulOracleTest, GlobSourceMergesPartitionWatermarksAsMinimum) {
  const Table expected =
      QuerySqlite(db_,
                  "SELECT trader_id, COUNT(*) AS n, SUM(quantity) AS q, (trade_time / 60000) * 60000 AS "
                  "_window_start FROM trades GROUP BY trader_id, trade_time / 60000");
  for (int parallelism : {1, 2, 4}) {
    for (size_t batch_size : {1024, 7, 1}) {
      ExpectSameTables(
          SluiceTable("SELECT trader_id, COUNT(*) AS n, SUM(quantity) AS q, _window_start FROM trades "
                      "GROUP BY trader_id WINDOW TUMBLING (trade_time, INTERVAL '1' MINUTE)",
                      batch_size, directory_->File("parts/*.jsonl"), parallelism),
          expected, StrCat("two partitions, batch size ", batch_size, ", parallelism ", parallelism));
    }
  }
}

}  // namespace
}  // namespace sluice::testing
