// Oracle tests of joins and UNION ALL: generated orders and payments joined (or united) by
// Sluice must give the rows SQLite gives on the same data, at batch sizes 1024, 7 and 1 and on
// 1, 2 and 4 workers.
//
// Every join writes a Debezium-style changelog ('changelog.mode' = 'changelog'), which the test
// applies row by row to a table: each retraction ("d", or the "before" of a "u") must take back
// a row that an earlier record inserted and that is still there (a changelog that retracts a
// row never emitted fails the test), and the table left at the end must equal SQLite's result.
// An append-only join's changelog holds inserts only, which the tests that claim it check.
//
// The data: 400 orders and 400 payments over 24 customers (one in 13 with a NULL customer),
// event times 10-200 ms apart with up to 2 s of disorder (under the sources' 5 s watermark
// bound, so no row is late), amounts with ties, and payments whose order ids point at orders
// or at none. For lookup joins, a table of 160 customer rows (file order = seq), read three
// ways: 'profiles' keyed by customer (the last row per customer), 'customers' keyed by
// customer and versioned by ts, 'buckets' keyed by (customer, bucket) and versioned by ts.
// Its times are whole seconds over the orders' time span (so that versions tie, and orders fall
// before a customer's first version) or orders' times; some of its customers have no orders,
// some orders no customer row, some keys are NULL.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <optional>
#include <random>

#include "common/strings.h"
#include "job_test_harness.h"
#include "oracle_rows.h"

namespace sluice::testing {
namespace {

constexpr int64_t kStart = 1767225600000;  // 2026-01-01T00:00:00Z

struct Data {
  std::string orders_path, payments_path, customers_path;
};

class JoinOracleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    directory_ = new TemporaryDirectory();
    data_ = new Data();
    std::mt19937_64 random(20261207);
    auto customer = [&]() -> std::optional<std::string> {
      if (random() % 13 == 0) return std::nullopt;
      const int c = static_cast<int>(random() % 24);
      // Short and long (interned) keys, and one multi-byte UTF-8 key.
      if (c == 23) return std::string("kund\xc3\xa9");
      return c % 3 == 0 ? StrCat("customer-with-a-long-name-", c) : StrCat("c", c);
    };
    auto quote = [](const std::optional<std::string>& text) {
      return text ? StrCat("\"", *text, "\"") : std::string("null");
    };
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    auto exec = [](const std::string& sql) {
      char* error = nullptr;
      ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    };
    exec("CREATE TABLE orders (id INTEGER, customer TEXT, amount REAL, ts INTEGER)");
    exec("CREATE TABLE payments (order_id INTEGER, customer TEXT, paid REAL, ts INTEGER)");
    std::vector<std::pair<int64_t, std::optional<std::string>>> order_rows;  // time, customer
    for (const char* table : {"orders", "payments"}) {
      const bool orders = std::string(table) == "orders";
      std::string json;
      std::vector<std::string> values;
      int64_t time = kStart;
      for (int i = 0; i < 400; ++i) {
        time += 10 + static_cast<int64_t>(random() % 190);
        const int64_t ts = time - static_cast<int64_t>(random() % 2000);  // up to 2 s out of order
        const std::optional<std::string> who = customer();
        if (orders) order_rows.emplace_back(ts, who);
        const int64_t id = orders ? i : static_cast<int64_t>(random() % 500);
        const int64_t quarters = static_cast<int64_t>(random() % 40) * 10;  // amount = quarters / 4
        const std::string amount = StrCat(quarters / 4, ".", quarters % 4 * 25);
        StrAppend(&json, "{\"", orders ? "id" : "order_id", "\":", id, ",\"customer\":", quote(who), ",\"",
                  orders ? "amount" : "paid", "\":", amount, ",\"ts\":", ts, "}\n");
        values.push_back(StrCat("(", id, ",", who ? StrCat("'", *who, "'") : "NULL", ",", amount, ",", ts, ")"));
      }
      const std::string path = directory_->File(StrCat(table, ".jsonl"));
      WriteFile(path, json);
      (orders ? data_->orders_path : data_->payments_path) = path;
      exec(StrCat("INSERT INTO ", table, " VALUES ", StrJoin(values, ",")));
    }
    exec(
        "CREATE TABLE customers (seq INTEGER, customer TEXT, bucket INTEGER, tier TEXT, credit REAL, ts "
        "INTEGER)");
    std::string json;
    std::vector<std::string> values;
    for (int seq = 0; seq < 160; ++seq) {
      // Half the versions are an order's customer at the order's exact time (a lookup as of t
      // sees a version of time t), the others at whole seconds.
      const auto& order = order_rows[random() % order_rows.size()];
      std::optional<std::string> who = seq % 2 == 0 ? order.second : customer();
      // Orders of c1 and c4 find no customer row; some customer rows belong to no order.
      if (seq % 17 == 5 || who == "c1" || who == "c4") who = StrCat("customer-without-orders-", seq % 3);
      const std::optional<int64_t> bucket =
          random() % 11 == 0 ? std::nullopt : std::optional<int64_t>(static_cast<int64_t>(random() % 3));
      const std::optional<std::string> tier =
          random() % 9 == 0 ? std::nullopt : std::optional<std::string>(StrCat("tier-", random() % 4));
      const int64_t credit = static_cast<int64_t>(random() % 12) * 10;
      const int64_t ts =
          seq % 2 == 0 ? order.first : kStart - 3000 + static_cast<int64_t>(random() % 46) * 1000;
      const std::string bucket_text = bucket ? StrCat(*bucket) : "null";
      StrAppend(&json, "{\"seq\":", seq, ",\"customer\":", quote(who), ",\"bucket\":", bucket_text,
                ",\"tier\":", quote(tier), ",\"credit\":", credit, ",\"ts\":", ts, "}\n");
      values.push_back(StrCat("(", seq, ",", who ? StrCat("'", *who, "'") : "NULL", ",",
                              bucket ? bucket_text : "NULL", ",", tier ? StrCat("'", *tier, "'") : "NULL",
                              ",", credit, ",", ts, ")"));
    }
    data_->customers_path = directory_->File("customers.jsonl");
    WriteFile(data_->customers_path, json);
    exec(StrCat("INSERT INTO customers VALUES ", StrJoin(values, ",")));
  }
  static void TearDownTestSuite() {
    sqlite3_close(db_);
    delete data_;
    delete directory_;
  }

  // Runs `statements` (SQL ending in a CREATE STREAM result AS ... without WITH) over the two
  // sources at every batch size and parallelism and compares the changelog, applied, with
  // SQLite's `expected`. `append_only`: the changelog must hold inserts only.
  void ExpectJoin(const std::string& statements, const std::string& expected_sql, bool append_only) {
    const Table expected = QuerySqlite(db_, expected_sql);
    ASSERT_FALSE(expected.rows.empty()) << expected_sql;
    const std::string output = directory_->File("result.jsonl");
    const std::string job = StrCat(
        statements,
        " WITH ('orders.type' = 'file_source', 'orders.path' = '${orders}', 'orders.schema' = 'id BIGINT, "
        "customer STRING, amount DOUBLE, ts TIMESTAMP', 'orders.event.time.field' = 'ts', "
        "'payments.type' = 'file_source', 'payments.path' = '${payments}', 'payments.schema' = 'order_id "
        "BIGINT, customer STRING, paid DOUBLE, ts TIMESTAMP', 'payments.event.time.field' = 'ts', "
        "'watermark.strategy' = 'bounded_out_of_orderness', 'watermark.max_out_of_orderness' = '5s', "
        "'result.type' = 'file_sink', 'result.path' = '${output}', 'result.changelog.mode' = 'changelog', ",
        TableProperties("profiles", "customer", false), ", ", TableProperties("customers", "customer", true),
        ", ", TableProperties("buckets", "customer, bucket", true), ")");
    const std::map<std::string, std::string> variables = {{"orders", data_->orders_path},
                                                          {"payments", data_->payments_path},
                                                          {"customers", data_->customers_path},
                                                          {"output", output}};
    const Schema schema = DeclaredOutputSchema(job, variables, "result");
    for (int parallelism : {1, 2, 4}) {
      for (size_t batch_size : {1024, 7, 1}) {
        const std::string context =
            StrCat(statements, " (batch size ", batch_size, ", parallelism ", parallelism, ")");
        std::filesystem::remove(output);
        const JobResult result = RunJobText(job, variables, batch_size, /*strict=*/false, parallelism);
        ASSERT_TRUE(result.status.ok()) << result.status.message() << "\n" << context;
        EXPECT_EQ(result.counters.late_dropped, 0u) << context;
        Table actual = ApplyChangelog(output, schema);
        if (append_only) {
          for (const std::string& line : ReadLines(output)) {
            if (line.find("\"op\":\"c\"") == std::string::npos) {
              ADD_FAILURE() << "an append-only result changed a row: " << line << "\n" << context;
              break;
            }
          }
        }
        ExpectSameTables(std::move(actual), expected, context);
        if (HasFailure()) return;
      }
    }
  }

  // The customers file declared as table `name` (see the data above).
  static std::string TableProperties(const std::string& name, const std::string& key, bool versioned) {
    return StrCat("'", name, ".type' = 'file_source', '", name, ".path' = '${customers}', '", name,
                  ".schema' = 'seq BIGINT, customer STRING, bucket BIGINT, tier STRING, credit DOUBLE, ts "
                  "TIMESTAMP', '",
                  name, ".primary.key' = '", key, "'",
                  versioned ? StrCat(", '", name, ".event.time.field' = 'ts'") : std::string());
  }

  static sqlite3* db_;
  static TemporaryDirectory* directory_;
  static Data* data_;
};

sqlite3* JoinOracleTest::db_ = nullptr;
TemporaryDirectory* JoinOracleTest::directory_ = nullptr;
Data* JoinOracleTest::data_ = nullptr;

TEST_F(JoinOracleTest, DataHasMatchesAndMisses) {
  // Customers on both sides, NULL customers, and customers on one side only.
  EXPECT_GT(QuerySqlite(db_, "SELECT * FROM orders o JOIN payments p ON o.customer = p.customer").rows.size(), 3000u);
  EXPECT_GT(QuerySqlite(db_, "SELECT * FROM orders WHERE customer IS NULL").rows.size(), 10u);
  EXPECT_GT(QuerySqlite(db_, "SELECT * FROM orders o JOIN payments p ON o.customer = p.customer AND o.ts BETWEEN "
                             "p.ts - 3000 AND p.ts + 3000")
                .rows.size(),
            50u);
}

// A regular inner join of two append-only streams appends.
TEST_F(JoinOracleTest, InnerJoinOnAStringKey) {
  ExpectJoin(
      "CREATE STREAM result AS SELECT o.id, o.customer, p.order_id, p.paid FROM orders o JOIN payments p ON "
      "o.customer = p.customer",
      "SELECT o.id, o.customer, p.order_id, p.paid FROM orders o JOIN payments p ON o.customer = p.customer",
      /*append_only=*/true);
}

// Outer joins emit a row padded with NULLs at once and delete it when its first match comes.
TEST_F(JoinOracleTest, LeftRightAndFullOuterJoins) {
  const std::string columns = "o.id, o.customer AS oc, p.order_id, p.customer AS pc, p.paid";
  for (const char* kind : {"LEFT", "RIGHT", "FULL"}) {
    ExpectJoin(StrCat("CREATE STREAM result AS SELECT ", columns, " FROM orders o ", kind,
                      " JOIN payments p ON o.id = p.order_id"),
               StrCat("SELECT ", columns, " FROM orders o ", kind, " JOIN payments p ON o.id = p.order_id"),
               /*append_only=*/false);
  }
}

// Several keys, an expression key, a residual condition, and conditions on one input (pushed
// before the join for an inner join; part of the join condition for an outer one).
TEST_F(JoinOracleTest, SeveralKeysExpressionsAndResidualConditions) {
  ExpectJoin(
      "CREATE STREAM result AS SELECT o.id, p.order_id, o.amount, p.paid FROM orders o JOIN payments p ON "
      "o.customer = p.customer AND o.id % 7 = p.order_id % 7 AND o.amount > p.paid WHERE p.paid < 60",
      "SELECT o.id, p.order_id, o.amount, p.paid FROM orders o JOIN payments p ON o.customer = p.customer AND "
      "o.id % 7 = p.order_id % 7 AND o.amount > p.paid WHERE p.paid < 60",
      /*append_only=*/true);
  ExpectJoin(
      "CREATE STREAM result AS SELECT o.id, p.order_id, o.amount, p.paid FROM orders o LEFT JOIN payments p ON "
      "o.id = p.order_id AND p.paid > 20 AND o.amount < p.paid + 30",
      "SELECT o.id, p.order_id, o.amount, p.paid FROM orders o LEFT JOIN payments p ON o.id = p.order_id AND "
      "p.paid > 20 AND o.amount < p.paid + 30",
      /*append_only=*/false);
}

// The comma form: the equality in WHERE is the join's key.
TEST_F(JoinOracleTest, CommaJoinWithEqualityInWhere) {
  ExpectJoin(
      "CREATE STREAM result AS SELECT o.id, p.paid FROM orders o, payments p WHERE o.id = p.order_id AND "
      "o.amount >= 10",
      "SELECT o.id, p.paid FROM orders o, payments p WHERE o.id = p.order_id AND o.amount >= 10",
      /*append_only=*/true);
}

// Interval joins: each row is kept only while the other input's watermark allows a match, and
// the output appends, also for an outer join (its padded rows come when their rows are freed).
TEST_F(JoinOracleTest, IntervalJoins) {
  ExpectJoin(
      "CREATE STREAM result AS SELECT o.id, p.order_id, o.ts AS ots, p.ts AS pts FROM orders o JOIN payments p "
      "ON o.customer = p.customer AND o.ts BETWEEN p.ts - INTERVAL '3' SECOND AND p.ts + INTERVAL '1' SECOND",
      "SELECT o.id, p.order_id, o.ts AS ots, p.ts AS pts FROM orders o JOIN payments p ON o.customer = "
      "p.customer AND o.ts BETWEEN p.ts - 3000 AND p.ts + 1000",
      /*append_only=*/true);
  ExpectJoin(
      "CREATE STREAM result AS SELECT o.id, p.order_id FROM orders o JOIN payments p ON o.customer = p.customer "
      "AND p._event_time >= o._event_time AND p._event_time < o._event_time + INTERVAL '2' SECOND",
      "SELECT o.id, p.order_id FROM orders o JOIN payments p ON o.customer = p.customer AND p.ts >= o.ts AND "
      "p.ts < o.ts + 2000",
      /*append_only=*/true);
  for (const char* kind : {"LEFT", "RIGHT", "FULL"}) {
    ExpectJoin(StrCat("CREATE STREAM result AS SELECT o.id, p.order_id FROM orders o ", kind,
                      " JOIN payments p ON o.customer = p.customer AND o.ts BETWEEN p.ts - INTERVAL '2' SECOND AND "
                      "p.ts + INTERVAL '2' SECOND"),
               StrCat("SELECT o.id, p.order_id FROM orders o ", kind,
                      " JOIN payments p ON o.customer = p.customer AND o.ts BETWEEN p.ts - 2000 AND p.ts + 2000"),
               /*append_only=*/true);
  }
}

// JOIN ... WITHIN: the inputs' event times at most the interval apart.
TEST_F(JoinOracleTest, WithinBoundsTheEventTimes) {
  ExpectJoin(
      "CREATE STREAM result AS SELECT o.id, p.order_id FROM orders o JOIN payments p ON o.customer = p.customer "
      "WITHIN INTERVAL '1' SECOND",
      "SELECT o.id, p.order_id FROM orders o JOIN payments p ON o.customer = p.customer AND abs(o.ts - p.ts) <= "
      "1000",
      /*append_only=*/true);
}

// A window join: two tumbling windows' results joined on their key and window start, freed as
// the windows' watermark passes.
TEST_F(JoinOracleTest, WindowJoinOnTheWindowStart) {
  ExpectJoin(
      "CREATE STREAM o AS SELECT customer, COUNT(*) AS n, SUM(amount) AS total, _window_start FROM orders GROUP "
      "BY customer WINDOW TUMBLING (ts, INTERVAL '5' SECOND);\n"
      "CREATE STREAM p AS SELECT customer, COUNT(*) AS n, _window_start FROM payments GROUP BY customer WINDOW "
      "TUMBLING (ts, INTERVAL '5' SECOND);\n"
      "CREATE STREAM result AS SELECT o.customer, o.n AS orders, p.n AS payments, o.total, o._window_start AS ws "
      "FROM o JOIN p ON o.customer = p.customer AND o._window_start = p._window_start",
      "WITH o AS (SELECT customer, COUNT(*) AS n, SUM(amount) AS total, ts / 5000 * 5000 AS ws FROM orders GROUP "
      "BY customer, ts / 5000), p AS (SELECT customer, COUNT(*) AS n, ts / 5000 * 5000 AS ws FROM payments GROUP "
      "BY customer, ts / 5000) SELECT o.customer, o.n AS orders, p.n AS payments, o.total, o.ws FROM o JOIN p ON "
      "o.customer = p.customer AND o.ws = p.ws",
      /*append_only=*/true);
}

// A join over an updating stream (a GROUP BY under EMIT CHANGES): each update retracts the
// joined rows of the old row and joins the new one.
TEST_F(JoinOracleTest, JoinOverAnUpdatingStream) {
  ExpectJoin(
      "CREATE STREAM totals AS SELECT customer, COUNT(*) AS n, SUM(paid) AS paid FROM payments GROUP BY "
      "customer;\n"
      "CREATE STREAM result AS SELECT o.id, t.n, t.paid FROM orders o JOIN totals t ON o.customer = t.customer",
      "SELECT o.id, t.n, t.paid FROM orders o JOIN (SELECT customer, COUNT(*) AS n, SUM(paid) AS paid FROM "
      "payments GROUP BY customer) t ON o.customer = t.customer",
      /*append_only=*/false);
  ExpectJoin(
      "CREATE STREAM totals AS SELECT customer, COUNT(*) AS n FROM payments GROUP BY customer;\n"
      "CREATE STREAM result AS SELECT t.customer, t.n, o.id FROM totals t LEFT JOIN orders o ON t.customer = "
      "o.customer AND o.amount > 90",
      "SELECT t.customer, t.n, o.id FROM (SELECT customer, COUNT(*) AS n FROM payments GROUP BY customer) t LEFT "
      "JOIN orders o ON t.customer = o.customer AND o.amount > 90",
      /*append_only=*/false);
}

// A GROUP BY over a join's result (Nexmark q4's shape), and a join in a WITH query.
TEST_F(JoinOracleTest, AggregateOverAJoin) {
  ExpectJoin(
      "CREATE STREAM result AS SELECT o.customer, COUNT(*) AS n, SUM(p.paid) AS paid FROM orders o JOIN "
      "payments p ON o.id = p.order_id GROUP BY o.customer",
      "SELECT o.customer, COUNT(*) AS n, SUM(p.paid) AS paid FROM orders o JOIN payments p ON o.id = p.order_id "
      "GROUP BY o.customer",
      /*append_only=*/false);
  ExpectJoin(
      "CREATE STREAM result AS WITH j AS (SELECT o.customer, p.paid FROM orders o JOIN payments p ON o.id = "
      "p.order_id) SELECT customer, MAX(paid) AS top FROM j GROUP BY customer",
      "SELECT o.customer, MAX(p.paid) AS top FROM orders o JOIN payments p ON o.id = p.order_id GROUP BY "
      "o.customer",
      /*append_only=*/false);
}

// IN (SELECT ...) and EXISTS as semi-joins, NOT EXISTS as an anti-join: each left row once,
// however many rows match it; correlated conditions of EXISTS join; a subquery over an updating
// aggregate retracts; with a time bound, both append.
TEST_F(JoinOracleTest, InAndExistsSubqueries) {
  ExpectJoin(
      "CREATE STREAM result AS SELECT id, customer FROM orders WHERE customer IN (SELECT customer FROM payments "
      "WHERE paid > 60) AND amount < 50",
      "SELECT id, customer FROM orders WHERE customer IN (SELECT customer FROM payments WHERE paid > 60) AND "
      "amount < 50",
      /*append_only=*/true);
  ExpectJoin(
      "CREATE STREAM result AS SELECT id, amount FROM orders o WHERE EXISTS (SELECT * FROM payments p WHERE "
      "p.customer = o.customer AND p.paid >= o.amount AND p.paid < 70)",
      "SELECT id, amount FROM orders o WHERE EXISTS (SELECT * FROM payments p WHERE p.customer = o.customer AND "
      "p.paid >= o.amount AND p.paid < 70)",
      /*append_only=*/true);
  ExpectJoin(
      "CREATE STREAM result AS SELECT id, customer FROM orders o WHERE NOT EXISTS (SELECT 1 FROM payments p "
      "WHERE p.customer = o.customer AND p.paid > 85)",
      "SELECT id, customer FROM orders o WHERE NOT EXISTS (SELECT 1 FROM payments p WHERE p.customer = "
      "o.customer AND p.paid > 85)",
      /*append_only=*/false);
  ExpectJoin(
      "CREATE STREAM result AS SELECT id FROM orders WHERE customer IN (SELECT customer FROM (SELECT customer, "
      "COUNT(*) AS n FROM payments GROUP BY customer) AS c WHERE n > 17)",
      "SELECT id FROM orders WHERE customer IN (SELECT customer FROM (SELECT customer, COUNT(*) AS n FROM "
      "payments GROUP BY customer) AS c WHERE n > 17)",
      /*append_only=*/false);
  for (const char* exists : {"EXISTS", "NOT EXISTS"}) {
    ExpectJoin(StrCat("CREATE STREAM result AS SELECT id FROM orders o WHERE ", exists,
                      " (SELECT * FROM payments p WHERE p.customer = o.customer AND p.ts BETWEEN o.ts - INTERVAL "
                      "'1' SECOND AND o.ts + INTERVAL '1' SECOND)"),
               StrCat("SELECT id FROM orders o WHERE ", exists,
                      " (SELECT * FROM payments p WHERE p.customer = o.customer AND p.ts BETWEEN o.ts - 1000 AND "
                      "o.ts + 1000)"),
               /*append_only=*/true);
  }
}

// UNION ALL of two and three branches, with conditions and a WITH query; an aggregate over a
// union; a union with an updating branch (its retractions pass through).
TEST_F(JoinOracleTest, UnionAll) {
  ExpectJoin(
      "CREATE STREAM result AS SELECT id, customer, amount FROM orders UNION ALL SELECT order_id, customer, paid "
      "FROM payments WHERE paid > 50",
      "SELECT id, customer, amount FROM orders UNION ALL SELECT order_id, customer, paid FROM payments WHERE "
      "paid > 50",
      /*append_only=*/true);
  ExpectJoin(
      "CREATE STREAM result AS WITH big AS (SELECT id, customer FROM orders WHERE amount > 80) SELECT customer, "
      "id FROM big UNION ALL SELECT customer, order_id FROM payments UNION ALL SELECT customer, id + 1000 FROM big",
      "WITH big AS (SELECT id, customer FROM orders WHERE amount > 80) SELECT customer, id FROM big UNION ALL "
      "SELECT customer, order_id FROM payments UNION ALL SELECT customer, id + 1000 FROM big",
      /*append_only=*/true);
  ExpectJoin(
      "CREATE STREAM result AS SELECT customer, COUNT(*) AS n, SUM(x) AS total FROM (SELECT customer, amount AS x "
      "FROM orders UNION ALL SELECT customer, paid FROM payments) AS u GROUP BY customer",
      "SELECT customer, COUNT(*) AS n, SUM(x) AS total FROM (SELECT customer, amount AS x FROM orders UNION ALL "
      "SELECT customer, paid FROM payments) AS u GROUP BY customer",
      /*append_only=*/false);
  ExpectJoin(
      "CREATE STREAM totals AS SELECT customer, COUNT(*) AS n FROM payments GROUP BY customer;\n"
      "CREATE STREAM result AS SELECT customer, n FROM totals UNION ALL SELECT customer, id FROM orders WHERE "
      "amount > 90",
      "SELECT customer, COUNT(*) AS n FROM payments GROUP BY customer UNION ALL SELECT customer, id FROM orders "
      "WHERE amount > 90",
      /*append_only=*/false);
  // A window over a union closes on the lower of its inputs' watermarks: no row is late.
  ExpectJoin(
      "CREATE STREAM result AS SELECT customer, COUNT(*) AS n, _window_start FROM (SELECT customer, ts FROM "
      "orders UNION ALL SELECT customer, ts FROM payments) AS u GROUP BY customer WINDOW TUMBLING (ts, INTERVAL "
      "'5' SECOND)",
      "SELECT customer, COUNT(*) AS n, ts / 5000 * 5000 AS _window_start FROM (SELECT customer, ts FROM orders "
      "UNION ALL SELECT customer, ts FROM payments) GROUP BY customer, ts / 5000",
      /*append_only=*/true);
}

// The SQLite form of a lookup in the customers table: the row of the key's latest version (of
// equal times, the one written last), or with `as_of` the latest at or before it.
std::string VersionOf(const std::string& key_condition, const std::string& as_of = "") {
  return StrCat("(SELECT seq FROM customers x WHERE ", key_condition,
                as_of.empty() ? "" : StrCat(" AND x.ts <= ", as_of),
                " ORDER BY x.ts DESC, x.seq DESC LIMIT 1)");
}

// The data has what lookups must get right: orders before their customer's first version,
// versions with equal times, customers without a row, rows with a NULL key.
TEST_F(JoinOracleTest, LookupDataHasEarlyOrdersTiesAndMisses) {
  EXPECT_GT(
      QuerySqlite(db_,
                  StrCat("SELECT * FROM orders o WHERE o.customer IN (SELECT customer FROM customers) AND ",
                         VersionOf("x.customer = o.customer", "o.ts"), " IS NULL"))
          .rows.size(),
      10u);
  EXPECT_GT(
      QuerySqlite(db_, "SELECT * FROM orders o JOIN customers c ON c.customer = o.customer AND c.ts = o.ts")
          .rows.size(),
      3u);
  EXPECT_GT(QuerySqlite(db_, "SELECT customer, ts FROM customers GROUP BY customer, ts HAVING COUNT(*) > 1")
                .rows.size(),
            3u);
  EXPECT_GT(QuerySqlite(db_,
                        "SELECT * FROM orders WHERE customer NOT IN (SELECT customer FROM customers WHERE "
                        "customer IS NOT NULL)")
                .rows.size(),
            3u);
  EXPECT_GT(QuerySqlite(db_, "SELECT * FROM customers WHERE customer IS NULL OR bucket IS NULL").rows.size(),
            10u);
  // The latest version by time is not the last row in the file for some customers.
  EXPECT_GT(QuerySqlite(db_, StrCat("SELECT * FROM (SELECT DISTINCT customer FROM customers) k WHERE ",
                                    VersionOf("x.customer = k.customer"),
                                    " <> (SELECT MAX(seq) FROM customers x WHERE x.customer = k.customer)"))
                .rows.size(),
            5u);
}

// Lookups without FOR SYSTEM_TIME: an unversioned table's last row per key, a versioned
// table's latest version; an inner lookup join of an append-only stream appends.
TEST_F(JoinOracleTest, LookupJoinAtTheLatestVersion) {
  ExpectJoin(
      "CREATE STREAM result AS SELECT o.id, o.customer, c.seq, c.tier FROM orders o JOIN profiles c ON "
      "o.customer "
      "= c.customer",
      "SELECT o.id, o.customer, c.seq, c.tier FROM orders o JOIN customers c ON c.seq = (SELECT MAX(seq) "
      "FROM "
      "customers x WHERE x.customer = o.customer)",
      /*append_only=*/true);
  ExpectJoin(
      "CREATE STREAM result AS SELECT o.id, c.seq, c.credit FROM orders o LEFT JOIN customers c ON "
      "c.customer = "
      "o.customer",
      StrCat("SELECT o.id, c.seq, c.credit FROM orders o LEFT JOIN customers c ON c.seq = ",
             VersionOf("x.customer = o.customer")),
      /*append_only=*/true);
}

// FOR SYSTEM_TIME AS OF: each order sees its customer as of the order's time; a residual on
// the version found (LEFT: a version that fails it pads the row); a key of two columns, one an
// expression of the stream.
TEST_F(JoinOracleTest, LookupJoinAsOfEventTime) {
  ExpectJoin(
      "CREATE STREAM result AS SELECT o.id, o.amount, c.seq, c.credit FROM orders o LEFT JOIN customers FOR "
      "SYSTEM_TIME AS OF o.ts AS c ON o.customer = c.customer AND c.credit >= o.amount",
      StrCat("SELECT o.id, o.amount, c.seq, c.credit FROM orders o LEFT JOIN customers c ON c.seq = ",
             VersionOf("x.customer = o.customer", "o.ts"), " AND c.credit >= o.amount"),
      /*append_only=*/true);
  ExpectJoin(
      "CREATE STREAM result AS SELECT o.id, b.seq, b.tier FROM orders o JOIN buckets FOR SYSTEM_TIME AS OF "
      "o._event_time AS b ON b.customer = o.customer AND b.bucket = o.id % 3 WHERE b.tier <> 'tier-0'",
      StrCat("SELECT o.id, b.seq, b.tier FROM orders o JOIN customers b ON b.seq = ",
             VersionOf("x.customer = o.customer AND x.bucket = o.id % 3", "o.ts"),
             " WHERE b.tier <> 'tier-0'"),
      /*append_only=*/true);
}

// The stream side may be a stream of an earlier statement, and an updating one (its
// retractions find what their rows found); a GROUP BY after a lookup join.
TEST_F(JoinOracleTest, LookupJoinOfStreamsAndUnderAnAggregate) {
  ExpectJoin(
      "CREATE STREAM big AS SELECT id, customer, amount, ts FROM orders WHERE amount > 30;\n"
      "CREATE STREAM result AS SELECT c.tier, COUNT(*) AS n, SUM(g.amount) AS total FROM big g JOIN "
      "customers FOR "
      "SYSTEM_TIME AS OF g.ts AS c ON g.customer = c.customer GROUP BY c.tier",
      StrCat(
          "SELECT c.tier, COUNT(*) AS n, SUM(o.amount) AS total FROM orders o JOIN customers c ON c.seq = ",
          VersionOf("x.customer = o.customer", "o.ts"), " WHERE o.amount > 30 GROUP BY c.tier"),
      /*append_only=*/false);
  ExpectJoin(
      "CREATE STREAM totals AS SELECT customer, COUNT(*) AS n FROM payments GROUP BY customer;\n"
      "CREATE STREAM result AS SELECT t.customer, t.n, c.tier FROM totals t LEFT JOIN profiles c ON "
      "t.customer = "
      "c.customer",
      "SELECT t.customer, t.n, c.tier FROM (SELECT customer, COUNT(*) AS n FROM payments GROUP BY customer) "
      "t LEFT "
      "JOIN customers c ON c.seq = (SELECT MAX(seq) FROM customers x WHERE x.customer = t.customer)",
      /*append_only=*/false);
}

}  // namespace
}  // namespace sluice::testing
