// Oracle tests of GROUP BY, windows, sessions and ROWS windows: generated trades must aggregate
// exactly as SQLite does on the same rows, with the column names and types of oracle_rows.h
// (integers and timestamps exactly, doubles per value within a relative 1e-9; every computed
// column has the same alias in both queries). Every query runs at batch sizes 1024, 7 and 1, on
// the single-threaded runner and on the parallel runtime with 2 and 4 workers, over two data
// sets (the test parameter):
//
//   ordinary     trades with bounded disorder (events up to 4 s late, under the jobs' 5 s
//                watermark bound, so none is late; one trade in 37 shares its symbol and
//                millisecond with the trade before it).
//   adversarial  the same kind of trades with NULLs in every key and value column (as JSON null
//                and as a missing field), events exactly on 30 s boundaries (every window end
//                of every query here), a trader whose events are exactly the session gap
//                apart, exact duplicate records, keys of 100 bytes and more, multi-byte UTF-8
//                keys, thousands of distinct keys longer than 16 bytes (and two 29-byte keys
//                whose hashes agree on the interner's slot and tag bits), extreme numbers
//                (negative, zero, -0.0, 1e150, 1e-300, a subnormal, BIGINTs of 1e14) and rows
//                far beyond the watermark bound, among them rows whose window closes exactly at
//                the watermark before them and rows one millisecond short of that.
//
// Which rows are late is computed by SQLite from arrival order (rowid): the watermark before a
// row is the highest earlier event time minus the bound minus 1 ms (README, "Event time and
// watermarks"), so a row is late when its window's end plus the bound is at or before the
// highest earlier event time (table `arrivals`, column prev_max). Every windowed query checks
// the job's late count against that set, and one checks the dead-letter output row by row.
//
// EMIT CHANGES is checked row by row: each emitted row must be the running aggregate of its
// key at the point in the input that emitted it (see ExpectChangesRowByRow).
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <random>

#include "common/hash.h"
#include "common/strings.h"
#include "job_test_harness.h"
#include "oracle_rows.h"

namespace sluice::testing {
namespace {

constexpr int64_t kStart = 1767225600000;  // 2026-01-01T00:00:00Z: a multiple of every window size
constexpr int64_t kBound = 5000;           // the jobs' 'watermark.max_out_of_orderness'
// The file source reads 4 MiB at a time and ends a batch early where a read ends; below that
// size every batch but the last holds exactly the batch size's records, which the row-by-row
// EMIT CHANGES check relies on.
constexpr size_t kFileSourceReadBytes = 4 << 20;

struct Trade {
  int64_t id = 0, time = 0, arrival = 0;
  std::optional<std::string> trader, symbol, category, side;
  std::optional<double> price;
  std::optional<int64_t> quantity;
  bool bounded = true;  // false: crafted to arrive beyond the watermark bound
  int edge = 0;         // adversarial pins: 1 or 2, the boundary row that follows it (see below)
};

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string JsonDouble(double value) {
  char text[64];
  const auto result = std::to_chars(text, text + sizeof(text), value);
  return std::string(text, result.ptr);
}

// A JSON Lines record; a NULL is written as null for odd ids and left out for even ones.
std::string TradeLine(const Trade& t) {
  std::string line = StrCat("{\"trade_id\":", t.id);
  auto put = [&](const char* name, const std::optional<std::string>& json) {
    if (json) {
      StrAppend(&line, ",\"", name, "\":", *json);
    } else if (t.id % 2 == 1) {
      StrAppend(&line, ",\"", name, "\":null");
    }
  };
  auto text = [](const std::optional<std::string>& s) -> std::optional<std::string> {
    return s ? std::optional<std::string>(JsonString(*s)) : std::nullopt;
  };
  put("trader_id", text(t.trader));
  put("symbol", text(t.symbol));
  put("category", text(t.category));
  put("price", t.price ? std::optional<std::string>(JsonDouble(*t.price)) : std::nullopt);
  put("quantity", t.quantity ? std::optional<std::string>(StrCat(*t.quantity)) : std::nullopt);
  put("side", text(t.side));
  StrAppend(&line, ",\"trade_time\":", t.time, "}\n");
  return line;
}

std::vector<Trade> OrdinaryTrades() {
  std::mt19937_64 random(7);
  auto uniform = [&](int64_t low, int64_t high) {
    return std::uniform_int_distribution<int64_t>(low, high)(random);
  };
  std::vector<Trade> trades;
  for (int i = 0; i < 12000; ++i) {
    Trade t;
    t.id = i + 1;
    t.time = kStart + i * 75 + uniform(0, 40);  // about 15 minutes in all
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
  return trades;
}

// Two 29-byte keys whose HashString agrees on bits 0..19 and 32..63: in a StringInterner of up
// to 2^20 slots they probe the same slots with the same tag, so only a byte comparison tells
// them apart (found by a rho search over "long-trader-key-%013x"). Checked in SetUpTestSuite.
constexpr const char* kCollidingKeys[2] = {"long-trader-key-a5703184ae154", "long-trader-key-b93fdb65dade3"};

std::vector<Trade> AdversarialTrades() {
  std::mt19937_64 random(26);
  auto uniform = [&](int64_t low, int64_t high) {
    return std::uniform_int_distribution<int64_t>(low, high)(random);
  };
  auto one_in = [&](int64_t n) { return uniform(0, n - 1) == 0; };
  const std::string filler(95, 'x');
  const std::vector<std::string> long_keys = {
      "trader-" + filler + "-1",
      "trader-" + filler + "-2",  // the same length, differing only at the end
      "2-trader-" + filler,       // and at the start
      "трейдер с очень длинным именем, которое занимает больше ста байт в UTF-8, Ω≈ç√∫",
      "交易员的名字很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长",
  };
  const std::vector<std::string> utf8_keys = {"é", "e\xCC\x81", "Ω", "交易员七号", "😀 \"quoted\" \\ trader",
                                              "ключ-трейдера-длиннее-16"};
  const std::string long_symbol = "SYMBOL-" + filler + "-Σύμβολο";
  const std::string extreme_symbol = "EXTREMES-ΔΔ";
  const std::vector<double> extreme_prices = {1.5e150, 2.5e150, 1e-300, 4.9e-324, -0.0, 0.0, 1e15, -123.5, 7.25};
  std::vector<Trade> trades;
  int64_t next_id = 1;
  auto random_trade = [&](int64_t time) {
    Trade t;
    t.id = next_id++;
    t.time = t.arrival = time;
    const int64_t k = uniform(0, 99);
    if (k < 3) {
      t.trader = std::nullopt;
    } else if (k < 45) {
      t.trader = StrCat("T", uniform(1, 20));
    } else if (k < 85) {
      t.trader = StrCat("trader-with-a-longer-id-", uniform(0, 7999));  // 25 to 28 bytes
    } else if (k < 90) {
      t.trader = long_keys[uniform(0, static_cast<int64_t>(long_keys.size()) - 1)];
    } else if (k < 97) {
      t.trader = utf8_keys[uniform(0, static_cast<int64_t>(utf8_keys.size()) - 1)];
    } else {
      t.trader = kCollidingKeys[uniform(0, 1)];
    }
    const int64_t s = uniform(0, 99);
    if (s < 3) {
      t.symbol = std::nullopt;
    } else if (s < 6) {
      t.symbol = long_symbol;
      t.category = "C-long";
    } else if (s < 9) {
      t.symbol = "Σύμβολο-Ж";
      t.category = "C-ω";
    } else {
      const int64_t n = uniform(0, 9);
      t.symbol = StrCat("SYM", n);
      t.category = StrCat("C", n % 4);
    }
    if (one_in(40)) t.category = std::nullopt;
    if (one_in(30)) {
      t.price = std::nullopt;
    } else if (one_in(40)) {
      t.price = -static_cast<double>(uniform(1, 20000)) / 100.0;
    } else if (one_in(60)) {
      t.price = one_in(2) ? -0.0 : 0.0;
    } else {
      t.price = static_cast<double>(uniform(10000, 20000)) / 100.0;
    }
    if (one_in(30)) {
      t.quantity = std::nullopt;
    } else if (one_in(40)) {
      t.quantity = -uniform(1, 500);
    } else if (one_in(60)) {
      t.quantity = 0;
    } else if (one_in(200)) {
      t.quantity = uniform(10000000000000, 100000000000000);  // 1e13 to 1e14: sums stay below 2^63
    } else {
      t.quantity = uniform(1, 500);
    }
    if (!one_in(30)) t.side = uniform(0, 1) ? "BUY" : "SELL";
    return t;
  };
  // Session trader: events exactly the 3 s gap apart (one session), and 1 ms more (a new one).
  const std::string gap_trader = "session-gap-exact-ключ";
  const int64_t gap_steps[] = {3000, 3000, 3001, 3000, 2999, 4000, 3000};
  int64_t gap_time = kStart + 1000;
  size_t gap_step = 0;
  int64_t previous = kStart - 1;
  for (int i = 0; i < 14000; ++i) {
    const int64_t time = kStart + i * 60 + uniform(0, 40);  // about 14 minutes in all
    // Rows exactly on each 30 s boundary (the end of every window of these queries) and 1 ms
    // before it; and at each minute B, pins that put the highest event time at B + 4999 and
    // then B + 5000, each followed by a crafted boundary row (below).
    for (int64_t boundary = (previous / 30000 + 1) * 30000; boundary <= time; boundary += 30000) {
      for (int r = 0; r < 3; ++r) trades.push_back(random_trade(boundary));
      trades.push_back(random_trade(boundary - 1));
    }
    for (int64_t minute = (previous - 4999) / 60000 + 1; minute * 60000 + 4999 <= time; ++minute) {
      const int64_t pin = minute * 60000 + 4999;
      if (pin <= previous || minute * 60000 <= kStart) continue;
      for (int edge = 1; edge <= 2; ++edge) {
        Trade t = random_trade(pin + edge - 1);
        t.symbol = "SYM1";  // passes FilterBeforeWindow's WHERE: the filtered rows see the pin too
        t.category = "C1";
        t.quantity = 200;
        t.edge = edge;
        trades.push_back(std::move(t));
      }
    }
    while (gap_time <= time) {
      Trade t = random_trade(gap_time);
      t.trader = gap_trader;
      // Every third arrives after the next (3.5 s late, within the bound): an event exactly the
      // gap before a session's start, which must join it.
      if (gap_step % 3 == 1) t.arrival = gap_time + 3500;
      trades.push_back(std::move(t));
      gap_time += gap_steps[gap_step++ % std::size(gap_steps)];
    }
    previous = time;
    Trade t = random_trade(time);
    if (i % 250 == 125) {  // under 100 rows in all, so they never leave a ROWS buffer of 100
      t.symbol = extreme_symbol;
      t.category = "C-extreme";
      t.price = extreme_prices[uniform(0, static_cast<int64_t>(std::size(extreme_prices)) - 1)];
      t.quantity = uniform(1, 500);
    }
    if (i % 37 == 36 && !trades.empty()) {  // same symbol and millisecond as the trade before
      t.time = trades.back().time;
      t.symbol = trades.back().symbol;
      t.category = trades.back().category;
    }
    t.arrival = t.time + (one_in(5) ? uniform(0, 4000) : 0);
    const bool duplicate = one_in(50);
    trades.push_back(t);
    if (duplicate) {  // an exact duplicate record, arriving up to 1 s later
      t.arrival += uniform(0, 1000);
      trades.push_back(t);
    }
  }
  std::stable_sort(trades.begin(), trades.end(),
                   [](const Trade& a, const Trade& b) { return a.arrival < b.arrival; });
  // Rows beyond the bound, placed in arrival order with the highest earlier event time known:
  //  - after a pin at B + 4999 (B a minute), a row of the minute before B: its window
  //    [B - 60 s, B) closes at B - 1 ms, and the watermark is B - 2 ms: on time by 1 ms;
  //  - after the pin at B + 5000, another: the watermark is B - 1 ms, its window closes exactly
  //    at the watermark: late. Then a row of a trader of its own 7999 ms behind: within a 3 s
  //    session's reach (on time for sessions), late for the minute;
  //  - one row in 120, 130 to 400 s behind the highest event time.
  // Except for the last two kinds (at least 8 s behind), these rows are late for a 3 s session.
  std::vector<Trade> placed;
  int64_t highest = INT64_MIN;
  for (Trade& t : trades) {
    const int edge = t.edge;
    const int64_t time = t.time;
    placed.push_back(std::move(t));
    highest = std::max(highest, time);
    if (edge != 0) {
      const int64_t minute = (time - 4999) / 60000 * 60000;
      const bool exact = uniform(0, 2) == 0;  // exactly 8 s behind: late for a session at its bound
      Trade row = random_trade(minute - 3001 - (exact ? 0 : uniform(0, 20000)));
      row.bounded = false;
      placed.push_back(row);
      if (edge == 2) {
        Trade session = random_trade(highest - 7999);
        session.trader = StrCat("session-edge-", minute);
        session.bounded = false;
        placed.push_back(session);
      }
    } else if (one_in(120) && highest - 400000 > kStart) {
      Trade row = random_trade(highest - uniform(130000, 400000));
      row.bounded = false;
      placed.push_back(row);
    }
  }
  return placed;
}

// The queries' SQL for a row of `arrivals` being on time in a window of `size` ms whose start
// is `start` (an expression), or in a session of gap `gap` ms starting at the row.
std::string WindowOpen(const std::string& start, int64_t size) {
  return StrCat("(prev_max IS NULL OR ", start, " + ", size + kBound, " > prev_max)");
}
std::string TumblingOnTime(int64_t size) {
  return WindowOpen(StrCat("(trade_time / ", size, ") * ", size), size);
}

class StatefulOracleTest : public ::testing::TestWithParam<std::string> {
 protected:
  struct DataSet {
    sqlite3* db = nullptr;
    std::string path;   // the trades in arrival order
    std::string parts;  // a glob: the trades within the bound, in two files by trade_id parity
  };

  static void SetUpTestSuite() {
    directory_ = new TemporaryDirectory();
    // The colliding keys are what they claim to be (or the hash changed: find a new pair).
    const uint64_t a = HashString(kCollidingKeys[0]);
    const uint64_t b = HashString(kCollidingKeys[1]);
    ASSERT_EQ(a & 0xFFFFF, b & 0xFFFFF);
    ASSERT_EQ(a >> 32, b >> 32);
    MakeDataSet("ordinary", OrdinaryTrades());
    MakeDataSet("adversarial", AdversarialTrades());
  }

  static void MakeDataSet(const std::string& name, const std::vector<Trade>& trades) {
    DataSet& set = (*sets_)[name];
    ASSERT_EQ(sqlite3_open(":memory:", &set.db), SQLITE_OK);
    Exec(set.db,
         "CREATE TABLE trades (trade_id INTEGER, trader_id TEXT, symbol TEXT, category TEXT, price REAL, "
         "quantity INTEGER, side TEXT, trade_time INTEGER, bounded INTEGER)");
    std::string jsonl;
    std::string parts[2];
    Exec(set.db, "BEGIN");
    sqlite3_stmt* insert = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(set.db, "INSERT INTO trades VALUES (?,?,?,?,?,?,?,?,?)", -1, &insert, nullptr),
              SQLITE_OK);
    auto bind_text = [&](int column, const std::optional<std::string>& value) {
      if (value) {
        sqlite3_bind_text(insert, column, value->data(), static_cast<int>(value->size()), SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(insert, column);
      }
    };
    for (const Trade& t : trades) {
      const std::string line = TradeLine(t);
      jsonl += line;
      if (t.bounded) parts[t.id % 2] += line;
      sqlite3_bind_int64(insert, 1, t.id);
      bind_text(2, t.trader);
      bind_text(3, t.symbol);
      bind_text(4, t.category);
      t.price ? sqlite3_bind_double(insert, 5, *t.price) : sqlite3_bind_null(insert, 5);
      t.quantity ? sqlite3_bind_int64(insert, 6, *t.quantity) : sqlite3_bind_null(insert, 6);
      bind_text(7, t.side);
      sqlite3_bind_int64(insert, 8, t.time);
      sqlite3_bind_int64(insert, 9, t.bounded ? 1 : 0);
      ASSERT_EQ(sqlite3_step(insert), SQLITE_DONE);
      sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    Exec(set.db, "COMMIT");
    // Each row with the highest event time before it (prev_max) and through it (max_through).
    Exec(set.db,
         "CREATE TABLE arrivals AS SELECT rowid AS arrival, trades.*, MAX(trade_time) OVER (ORDER BY rowid "
         "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_max, MAX(trade_time) OVER (ORDER BY rowid "
         "ROWS UNBOUNDED PRECEDING) AS max_through FROM trades ORDER BY rowid");
    ASSERT_LT(jsonl.size(), kFileSourceReadBytes);
    set.path = directory_->File(name + ".jsonl");
    WriteFile(set.path, jsonl);
    std::filesystem::create_directory(directory_->File(name));
    for (int p = 0; p < 2; ++p) WriteFile(directory_->File(StrCat(name, "/part-", p, ".jsonl")), parts[p]);
    set.parts = directory_->File(name + "/*.jsonl");
  }

  static void TearDownTestSuite() {
    for (auto& [name, set] : *sets_) sqlite3_close(set.db);
    sets_->clear();
    delete directory_;
  }

  static void Exec(sqlite3* db, const std::string& sql) {
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
  }

  const DataSet& data() const { return sets_->at(GetParam()); }
  sqlite3* db() const { return data().db; }
  bool adversarial() const { return GetParam() == "adversarial"; }

  int64_t Count(const std::string& sql) const {
    const Table table = QuerySqlite(db(), sql);
    if (table.rows.size() != 1 || !std::holds_alternative<int64_t>(table.rows[0][0])) {
      ADD_FAILURE() << "not a count: " << sql;
      return -1;
    }
    return std::get<int64_t>(table.rows[0][0]);
  }

  struct Run {
    Table table;
    JobResult result;
  };

  static Run SluiceRun(const std::string& select, size_t batch_size, const std::string& path, int parallelism,
                       const std::string& extra_properties = "") {
    const std::string output = directory_->File("out.jsonl");
    const std::string job = StrCat(
        "CREATE STREAM result AS ", select,
        " WITH ('trades.type' = 'file_source', 'trades.path' = '${data}', 'trades.schema' = 'trade_id "
        "BIGINT, trader_id STRING, symbol STRING, category STRING, price DOUBLE, quantity BIGINT, side STRING, "
        "trade_time TIMESTAMP', 'event.time.field' = 'trade_time', 'watermark.strategy' = "
        "'bounded_out_of_orderness', 'watermark.max_out_of_orderness' = '5s', ",
        extra_properties, "'result.type' = 'file_sink', 'result.path' = '${output}')");
    const std::map<std::string, std::string> variables = {{"data", path}, {"output", output}};
    std::filesystem::remove(output);
    Run run;
    run.result = RunJobText(job, variables, batch_size, /*strict=*/false, parallelism);
    EXPECT_TRUE(run.result.status.ok()) << run.result.status.message();
    run.table = ReadJsonLinesTable(output, DeclaredOutputSchema(job, variables));
    return run;
  }

  // `changes_key_columns` > 0: the query emits changes; compare its last row per key.
  // `expected_late` >= 0: the number of rows the job must count as late.
  // `extra_properties`: job properties added to the WITH clause ("'k' = 'v', ").
  void ExpectSameRows(const std::string& sluice_select, const std::string& sqlite_select,
                      size_t changes_key_columns = 0, int64_t expected_late = -1,
                      const std::string& extra_properties = "") const {
    const Table expected = QuerySqlite(db(), sqlite_select);
    ASSERT_FALSE(expected.rows.empty()) << sqlite_select;
    // The single-threaded runner and the parallel runtime on 2 and 4 workers (on 2 cores too).
    for (int parallelism : {1, 2, 4}) {
      for (size_t batch_size : {1024, 7, 1}) {
        Run run = SluiceRun(sluice_select, batch_size, data().path, parallelism, extra_properties);
        if (changes_key_columns > 0) run.table = LastRowPerKey(run.table, changes_key_columns);
        const std::string context = StrCat(sluice_select, " (", GetParam(), " data, batch size ", batch_size,
                                           ", parallelism ", parallelism, ")");
        ExpectSameTables(run.table, expected, context);
        if (expected_late >= 0) {
          EXPECT_EQ(run.result.counters.late_dropped, static_cast<uint64_t>(expected_late))
              << "late rows, " << context;
        }
      }
    }
  }

  // Rows per key (the first `key_columns` cells), each key's rows in table order.
  static std::map<std::string, std::vector<Row>> RowsPerKey(const Table& table, size_t key_columns) {
    std::map<std::string, std::vector<Row>> keys;
    for (const Row& row : table.rows) {
      std::string key;
      for (size_t c = 0; c < key_columns && c < row.size(); ++c) StrAppend(&key, CellKey(row[c]), "|");
      keys[key].push_back(row);
    }
    return keys;
  }

  static bool RowMatches(const Row& actual, const Row& expected) {
    if (actual.size() != expected.size()) return false;
    for (size_t c = 0; c < actual.size(); ++c) {
      if (!CellMatches(actual[c], expected[c], nullptr)) return false;
    }
    return true;
  }

  // EMIT CHANGES, row by row. The operator emits, after each batch, the current row of every
  // key the batch touched (and, in a window, also when the watermark passes a window end inside
  // a batch: FireWindows sends the pending changes first). A single file below 4 MiB is cut into
  // batches of exactly the batch size, so at parallelism 1 the emitted sequence is known:
  // `emissions(b)` (SQLite) gives it for batch size b, in arrival order of the row that last
  // touched each key before its emission point, and each key's emitted rows must equal it row
  // for row. On several workers a worker's batches are not the source's, so each key's rows must
  // be `running` values (SQLite's running aggregate after each on-time row of the key, in arrival
  // order) in order, every one at a later row than the one before, the last at the key's last
  // row.
  void ExpectChangesRowByRow(const std::string& sluice_select, size_t key_columns,
                             const std::function<std::string(size_t)>& emissions, const std::string& running,
                             int64_t expected_late, const std::string& extra_properties = "") const {
    const Table running_rows = QuerySqlite(db(), running);
    ASSERT_FALSE(running_rows.rows.empty()) << running;
    const auto running_per_key = RowsPerKey(running_rows, key_columns);
    for (int parallelism : {1, 2, 4}) {
      for (size_t batch_size : {1024, 7, 1}) {
        const std::string context = StrCat(sluice_select, " (", GetParam(), " data, batch size ", batch_size,
                                           ", parallelism ", parallelism, ")");
        const Run run = SluiceRun(sluice_select, batch_size, data().path, parallelism, extra_properties);
        EXPECT_EQ(run.table.names, running_rows.names) << context;
        EXPECT_EQ(run.result.counters.late_dropped, static_cast<uint64_t>(expected_late))
            << "late rows, " << context;
        const auto actual = RowsPerKey(run.table, key_columns);
        int messages = 0;
        auto fail = [&](const std::string& key, const std::string& text) {
          if (messages++ < 5) ADD_FAILURE() << context << "\n  key " << key << ": " << text;
        };
        if (parallelism == 1) {
          const Table expected_rows = QuerySqlite(db(), emissions(batch_size));
          ASSERT_EQ(run.table.rows.size(), expected_rows.rows.size()) << "rows emitted, " << context;
          const auto expected = RowsPerKey(expected_rows, key_columns);
          ASSERT_EQ(actual.size(), expected.size()) << "keys, " << context;
          for (const auto& [key, rows] : expected) {
            const auto found = actual.find(key);
            if (found == actual.end()) {
              fail(key, "never emitted");
              continue;
            }
            if (found->second.size() != rows.size()) {
              fail(key, StrCat(found->second.size(), " rows emitted, ", rows.size(), " expected"));
              continue;
            }
            for (size_t r = 0; r < rows.size(); ++r) {
              if (!RowMatches(found->second[r], rows[r])) {
                fail(key, StrCat("emission ", r + 1, " of ", rows.size(), "\n  sluice: ", RowText(found->second[r]),
                                 "\n  sqlite: ", RowText(rows[r])));
                break;
              }
            }
          }
        } else {
          ASSERT_EQ(actual.size(), running_per_key.size()) << "keys, " << context;
          for (const auto& [key, rows] : running_per_key) {
            const auto found = actual.find(key);
            if (found == actual.end()) {
              fail(key, "never emitted");
              continue;
            }
            size_t next = 0;  // the first running value the next emitted row may match
            for (size_t r = 0; r < found->second.size(); ++r) {
              while (next < rows.size() && !RowMatches(found->second[r], rows[next])) ++next;
              if (next == rows.size()) {
                fail(key, StrCat("emission ", r + 1, " is no later running aggregate: ", RowText(found->second[r])));
                break;
              }
              ++next;
            }
            if (!RowMatches(found->second.back(), rows.back())) {
              fail(key, StrCat("last emission ", RowText(found->second.back()), " is not the final aggregate ",
                               RowText(rows.back())));
            }
          }
        }
      }
    }
  }

  // Scenario 2 (see the tests that call it), with `extra_properties`.
  void ExpectScenario2RowByRow(const std::string& extra_properties) const {
    const std::string aggregates =
        "COUNT(*) OVER w AS n, SUM(quantity) OVER w AS q, AVG(price) OVER w AS a, MIN(price) OVER w AS lo, "
        "MAX(price) OVER w AS hi";
    const std::string running = StrCat("SELECT symbol, ", aggregates,
                                       " FROM arrivals WINDOW w AS (PARTITION BY symbol ORDER BY arrival) "
                                       "ORDER BY arrival");
    auto emissions = [&](size_t batch) {
      return StrCat("WITH points AS (SELECT *, COALESCE(SUM(arrival % ", batch,
                    " = 0) OVER (ORDER BY arrival ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS "
                    "segment FROM "
                    "arrivals), running AS (SELECT arrival, segment, symbol, ",
                    aggregates,
                    " FROM points WINDOW w AS (PARTITION BY symbol ORDER BY arrival)), "
                    "last AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY symbol, segment ORDER BY arrival "
                    "DESC) AS k FROM "
                    "running) SELECT symbol, n, q, a, lo, hi FROM last WHERE k = 1 ORDER BY arrival");
    };
    ExpectChangesRowByRow(
        "SELECT symbol, COUNT(*) AS n, SUM(quantity) AS q, AVG(price) AS a, MIN(price) AS lo, MAX(price) AS "
        "hi "
        "FROM trades GROUP BY symbol",
        1, emissions, running, 0, extra_properties);
  }

  static TemporaryDirectory* directory_;
  static std::map<std::string, DataSet>* sets_;
};

TemporaryDirectory* StatefulOracleTest::directory_ = nullptr;
std::map<std::string, StatefulOracleTest::DataSet>* StatefulOracleTest::sets_ =
    new std::map<std::string, StatefulOracleTest::DataSet>();

// The data sets hold what their comments promise.
TEST_P(StatefulOracleTest, DataSetHoldsItsCases) {
  if (!adversarial()) {
    EXPECT_EQ(Count("SELECT COUNT(*) FROM arrivals WHERE prev_max - trade_time > 4000"), 0);
    return;
  }
  const std::pair<const char*, int64_t> cases[] = {
      {"SELECT COUNT(*) FROM trades WHERE trader_id IS NULL", 100},
      {"SELECT COUNT(*) FROM trades WHERE symbol IS NULL", 100},
      {"SELECT COUNT(*) FROM trades WHERE price IS NULL", 100},
      {"SELECT COUNT(*) FROM trades WHERE quantity IS NULL", 100},
      {"SELECT COUNT(*) FROM trades WHERE side IS NULL", 100},
      {"SELECT COUNT(*) FROM trades WHERE trade_time % 30000 = 0", 50},
      {"SELECT COUNT(*) FROM (SELECT 1 FROM trades GROUP BY trade_id, trader_id, symbol, category, price, quantity, "
       "side, trade_time HAVING COUNT(*) > 1)",
       100},
      {"SELECT COUNT(DISTINCT trader_id) FROM trades WHERE length(CAST(trader_id AS BLOB)) > 16", 3000},
      {"SELECT COUNT(*) FROM trades WHERE length(CAST(trader_id AS BLOB)) >= 100", 200},
      {"SELECT COUNT(*) FROM trades WHERE length(CAST(trader_id AS BLOB)) > length(trader_id)", 300},
      {"SELECT COUNT(*) FROM trades WHERE trader_id IN ('long-trader-key-a5703184ae154', "
       "'long-trader-key-b93fdb65dade3') GROUP BY trader_id ORDER BY 1 LIMIT 1",
       50},
      {"SELECT COUNT(*) FROM trades WHERE price < 0 OR price = 0 OR abs(price) > 1e100 OR abs(price) < 1e-200", 100},
      {"SELECT COUNT(*) FROM trades WHERE quantity <= 0 OR quantity > 1e12", 100},
      // Late for a minute window exactly at the watermark, and on time by 1 ms.
      {"SELECT COUNT(*) FROM arrivals WHERE (trade_time / 60000) * 60000 + 60000 + 5000 = prev_max", 10},
      {"SELECT COUNT(*) FROM arrivals WHERE (trade_time / 60000) * 60000 + 60000 + 5000 = prev_max + 1", 10},
      // Late for a 3 s session exactly at the watermark.
      {"SELECT COUNT(*) FROM arrivals WHERE trade_time + 3000 + 5000 = prev_max", 3},
      {"SELECT COUNT(*) FROM arrivals WHERE prev_max - trade_time > 100000", 50},
      {"SELECT COUNT(*) FROM trades t JOIN trades u ON t.trader_id = u.trader_id AND u.trade_time = t.trade_time + "
       "3000 WHERE t.trader_id = 'session-gap-exact-ключ'",
       100},
  };
  for (const auto& [sql, at_least] : cases) {
    const int64_t count = Count(sql);
    EXPECT_GE(count, at_least) << sql;
    std::cout << "  " << count << "\t" << sql << "\n";
  }
  // For the record (printed, not checked): the size of the data and the late rows of each query.
  const std::string informational[] = {
      "SELECT COUNT(*) FROM trades",
      "SELECT COUNT(*) FROM trades WHERE bounded = 0",
      StrCat("SELECT COUNT(*) FROM arrivals WHERE NOT ", TumblingOnTime(60000)),
      StrCat("SELECT COUNT(*) FROM arrivals WHERE NOT ", TumblingOnTime(30000)),
      StrCat("SELECT COUNT(*) FROM arrivals WHERE NOT ", TumblingOnTime(300000)),
      StrCat("SELECT COUNT(*) FROM arrivals WHERE NOT ", WindowOpen("(trade_time / 60000) * 60000", 120000)),
      "SELECT COUNT(*) FROM arrivals WHERE trade_time + 8000 <= prev_max",
      "SELECT COUNT(*) FROM (SELECT trade_time < MAX(trade_time) OVER (PARTITION BY symbol ORDER BY rowid ROWS "
      "BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS late FROM trades) WHERE late",
  };
  for (const std::string& sql : informational) std::cout << "  " << Count(sql) << "\t" << sql << "\n";
}

// Scenario 2 of the brief: pure GROUP BY, EMIT CHANGES (the default), row by row; with the
// in-memory state backend and with RocksDB (ops/rocksdb_aggregate_operator.h), which must emit
// the same rows in the same order.
TEST_P(StatefulOracleTest, Scenario2GroupByEmitChangesRowByRow) {
  ExpectScenario2RowByRow("");
}

TEST_P(StatefulOracleTest, RocksDbStateScenario2EmitChangesRowByRow) {
  ExpectScenario2RowByRow("'state.backend' = 'rocksdb', 'state.rocksdb.memory' = '16MiB', ");
}

// RocksDB state: several keys of every type (a string, a BIGINT expression with NULLs, a
// BOOLEAN, a DOUBLE: one key each way the store encodes them), expression arguments, EMIT FINAL (every key
// read back from the store at the end of the input and decoded), against SQLite.
TEST_P(StatefulOracleTest, RocksDbStateSeveralKeyTypesEmitFinal) {
  ExpectSameRows(
      "SELECT trader_id, quantity % 7 AS bucket, side = 'BUY' AS buy, CAST(quantity AS DOUBLE) / 4 AS "
      "quarter, "
      "COUNT(*) AS n, SUM(price * quantity) AS notional, SUM(quantity) / COUNT(*) AS avg_lot, MIN(price) AS "
      "lo, "
      "COUNT(price) AS priced FROM trades GROUP BY trader_id, quantity % 7, side = 'BUY', CAST(quantity AS "
      "DOUBLE) / 4 EMIT FINAL",
      "SELECT trader_id, quantity % 7 AS bucket, side = 'BUY' AS buy, CAST(quantity AS REAL) / 4 AS quarter, "
      "COUNT(*) AS n, SUM(price * quantity) AS notional, SUM(quantity) / COUNT(*) AS avg_lot, MIN(price) AS "
      "lo, "
      "COUNT(price) AS priced FROM trades GROUP BY trader_id, quantity % 7, side = 'BUY', CAST(quantity AS "
      "REAL) / 4",
      0, 0, "'state.backend' = 'rocksdb', 'state.rocksdb.memory' = '16MiB', ");
}

TEST_P(StatefulOracleTest, Scenario2CategoryVariantEmitFinal) {
  ExpectSameRows(
      "SELECT category, COUNT(*) AS n, SUM(quantity) AS q, AVG(price) AS a, MIN(price) AS lo, MAX(price) AS "
      "hi "
      "FROM trades GROUP BY category EMIT FINAL",
      "SELECT category, COUNT(*) AS n, SUM(quantity) AS q, AVG(price) AS a, MIN(price) AS lo, MAX(price) AS "
      "hi FROM trades GROUP BY category",
      0, 0);
}

TEST_P(StatefulOracleTest, SeveralKeysExpressionsAndCountDistinct) {
  ExpectSameRows(
      "SELECT trader_id, side, SUM(price * quantity) AS notional, COUNT(DISTINCT symbol) AS symbols, "
      "SUM(quantity) / COUNT(*) AS avg_lot FROM trades GROUP BY trader_id, side EMIT FINAL",
      "SELECT trader_id, side, SUM(price * quantity) AS notional, COUNT(DISTINCT symbol) AS symbols, "
      "SUM(quantity) / COUNT(*) AS avg_lot FROM trades GROUP BY trader_id, side");
}

// FILTER (WHERE ...) on each aggregate that takes it, SQLite running the same clause: a
// condition that is NULL (a NULL price or side) rejects the row, as FALSE does.
TEST_P(StatefulOracleTest, AggregateFilterClause) {
  const char* query =
      "SELECT symbol, COUNT(*) FILTER (WHERE side = 'BUY') AS buys, COUNT(price) FILTER (WHERE quantity > "
      "100) "
      "AS big, COUNT(DISTINCT trader_id) FILTER (WHERE price > 50) AS rich_traders, SUM(quantity) FILTER "
      "(WHERE side = 'SELL') AS sold, MIN(price) FILTER (WHERE side = 'BUY') AS low_buy, MAX(trader_id) "
      "FILTER "
      "(WHERE quantity < 10) AS last_small, AVG(price) FILTER (WHERE quantity BETWEEN 10 AND 500) AS mid "
      "FROM trades GROUP BY symbol";
  ExpectSameRows(StrCat(query, " EMIT FINAL"), query);
}

TEST_P(StatefulOracleTest, GroupByExpressionKey) {
  ExpectSameRows(
      "SELECT quantity % 10 AS bucket, COUNT(*) AS n, MAX(price) AS hi FROM trades GROUP BY quantity % 10",
      "SELECT quantity % 10 AS bucket, COUNT(*) AS n, MAX(price) AS hi FROM trades GROUP BY quantity % 10",
      1);
}

TEST_P(StatefulOracleTest, Having) {
  ExpectSameRows(
      "SELECT trader_id, COUNT(*) AS n FROM trades GROUP BY trader_id HAVING AVG(quantity) > 250 EMIT FINAL",
      "SELECT trader_id, COUNT(*) AS n FROM trades GROUP BY trader_id HAVING AVG(quantity) > 250");
}

// Variances against SQLite's two-pass formula over the non-NULL prices (a one-pass formula
// cancels catastrophically on the extreme prices).
TEST_P(StatefulOracleTest, VarianceAndStandardDeviation) {
  ExpectSameRows(
      "SELECT symbol, VAR_POP(price) AS vp, VAR_SAMP(price) AS vs, STDDEV_POP(price) AS sp, STDDEV(price) AS "
      "ss FROM trades GROUP BY symbol EMIT FINAL",
      "WITH m AS (SELECT symbol, AVG(price) AS mean, COUNT(price) AS c FROM trades GROUP BY symbol), "
      "d AS (SELECT t.symbol, SUM((t.price - m.mean) * (t.price - m.mean)) AS s, m.c FROM trades t JOIN m ON "
      "t.symbol IS m.symbol GROUP BY t.symbol) "
      "SELECT symbol, s / c AS vp, s / (c - 1) AS vs, sqrt(s / c) AS sp, sqrt(s / (c - 1)) AS ss FROM d");
}

// An aggregate over an updating derived GROUP BY (EMIT CHANGES): it retracts every row the
// derived table supersedes, so its final rows are SQLite's aggregate of the aggregate.
TEST_P(StatefulOracleTest, AggregateOverAnUpdatingDerivedGroupBy) {
  const std::string per_trader =
      "SELECT category, trader_id, COUNT(*) AS n, SUM(quantity) AS q FROM trades GROUP BY category, "
      "trader_id";
  ExpectSameRows(StrCat("SELECT category, COUNT(*) AS traders, SUM(n) AS n, SUM(q) AS q, AVG(n) AS a FROM (",
                        per_trader, ") AS t GROUP BY category EMIT FINAL"),
                 StrCat("SELECT category, COUNT(*) AS traders, SUM(n) AS n, SUM(q) AS q, AVG(n) AS a FROM (",
                        per_trader, ") AS t GROUP BY category"));
}

// A derived tumbling window filtered by the query, and the same through a WITH query.
TEST_P(StatefulOracleTest, FilterOverADerivedWindow) {
  const std::string on_time = TumblingOnTime(60000);
  const std::string expected = StrCat(
      "SELECT symbol, n, (trade_time / 60000) * 60000 AS ws FROM (SELECT symbol, COUNT(*) AS n, "
      "MIN(trade_time) AS trade_time FROM arrivals WHERE ",
      on_time, " GROUP BY symbol, trade_time / 60000) WHERE n > 2");
  const std::string window =
      "SELECT symbol, COUNT(*) AS n, _window_start FROM trades GROUP BY symbol WINDOW TUMBLING (trade_time, "
      "INTERVAL '1' MINUTE)";
  const int64_t late = Count(StrCat("SELECT COUNT(*) FROM arrivals WHERE NOT ", on_time));
  ExpectSameRows(StrCat("SELECT symbol, n, _window_start AS ws FROM (", window, ") AS w WHERE n > 2"),
                 expected, 0, late);
  ExpectSameRows(
      StrCat("WITH w AS (", window, ") SELECT w.symbol, w.n, w._window_start AS ws FROM w WHERE w.n > 2"),
      expected, 0, late);
}

// SELECT DISTINCT under EMIT CHANGES emits each distinct row exactly once, whatever the batch
// size and number of workers: the output is SQLite's DISTINCT, NULLs included, as a multiset.
TEST_P(StatefulOracleTest, SelectDistinctEmitsEachRowOnce) {
  ExpectSameRows("SELECT DISTINCT symbol, side FROM trades", "SELECT DISTINCT symbol, side FROM trades");
  ExpectSameRows("SELECT DISTINCT trader_id, quantity % 3 AS m FROM trades WHERE price > 100",
                 "SELECT DISTINCT trader_id, quantity % 3 AS m FROM trades WHERE price > 100");
}

// Scenario 3a: GROUP BY trader_id, symbol with a 1-minute tumbling window, EMIT FINAL.
TEST_P(StatefulOracleTest, Scenario3aTumblingWindowEmitFinal) {
  const std::string on_time = TumblingOnTime(60000);
  ExpectSameRows(
      "SELECT trader_id, symbol, COUNT(*) AS n, SUM(quantity) AS q, AVG(price) AS a, _window_start, "
      "_window_end "
      "FROM trades GROUP BY trader_id, symbol WINDOW TUMBLING (trade_time, INTERVAL '1' MINUTE) EMIT FINAL",
      StrCat("SELECT trader_id, symbol, COUNT(*) AS n, SUM(quantity) AS q, AVG(price) AS a, "
             "(trade_time / 60000) * 60000 AS _window_start, (trade_time / 60000) * 60000 + 60000 AS _window_end "
             "FROM arrivals WHERE ",
             on_time, " GROUP BY trader_id, symbol, trade_time / 60000"),
      0, Count(StrCat("SELECT COUNT(*) FROM arrivals WHERE NOT ", on_time)));
}

// Scenario 3b: the same with EMIT CHANGES, row by row. Emission points: every batch end, and
// every row after which the watermark (the highest event time so far minus 5001 ms) passes a
// window end, i.e. (max_through - 5000) / 60000 moves (the first row counts: the watermark
// starts below every window).
TEST_P(StatefulOracleTest, Scenario3bTumblingWindowEmitChangesRowByRow) {
  const std::string on_time = TumblingOnTime(60000);
  const std::string aggregates = "COUNT(*) OVER w AS n, SUM(quantity) OVER w AS q";
  const std::string window =
      " WINDOW w AS (PARTITION BY trader_id, symbol, trade_time / 60000 ORDER BY arrival)";
  const std::string running =
      StrCat("SELECT trader_id, symbol, (trade_time / 60000) * 60000 AS _window_start, ", aggregates,
             " FROM arrivals WHERE ", on_time, window, " ORDER BY arrival");
  auto emissions = [&](size_t batch) {
    return StrCat(
        "WITH points AS (SELECT *, COALESCE(SUM(arrival % ", batch,
        " = 0 OR prev_max IS NULL OR (max_through - 5000) / 60000 <> (prev_max - 5000) / 60000) "
        "OVER (ORDER BY arrival ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS segment FROM arrivals), "
        "running AS (SELECT arrival, segment, trader_id, symbol, (trade_time / 60000) * 60000 AS _window_start, ",
        aggregates, " FROM points WHERE ", on_time, window,
        "), last AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY trader_id, symbol, _window_start, segment "
        "ORDER BY arrival DESC) AS k FROM running) "
        "SELECT trader_id, symbol, _window_start, n, q FROM last WHERE k = 1 ORDER BY arrival");
  };
  ExpectChangesRowByRow(
      "SELECT trader_id, symbol, _window_start, COUNT(*) AS n, SUM(quantity) AS q FROM trades "
      "GROUP BY trader_id, symbol WINDOW TUMBLING (trade_time, INTERVAL '1' MINUTE) EMIT CHANGES",
      3, emissions, running, Count(StrCat("SELECT COUNT(*) FROM arrivals WHERE NOT ", on_time)));
}

// A row is late when its newest window (the one starting in the row's own minute) has closed;
// an older window of the row that has closed is skipped.
TEST_P(StatefulOracleTest, SlidingWindow) {
  const std::string newest = "(trade_time / 60000) * 60000";
  ExpectSameRows(
      "SELECT symbol, COUNT(*) AS n, SUM(quantity) AS q, MIN(price) AS lo, _window_start FROM trades "
      "GROUP BY symbol WINDOW SLIDING (trade_time, INTERVAL '2' MINUTE, INTERVAL '1' MINUTE)",
      StrCat("SELECT symbol, COUNT(*) AS n, SUM(quantity) AS q, MIN(price) AS lo, ws AS _window_start FROM ("
             "SELECT symbol, quantity, price, prev_max, ",
             newest, " AS ws FROM arrivals UNION ALL SELECT symbol, quantity, price, prev_max, ", newest,
             " - 60000 AS ws FROM arrivals) WHERE ", WindowOpen("ws", 120000), " GROUP BY symbol, ws"),
      0, Count(StrCat("SELECT COUNT(*) FROM arrivals WHERE NOT ", WindowOpen(newest, 120000))));
}

TEST_P(StatefulOracleTest, WindowWithoutGroupBy) {
  const std::string on_time = TumblingOnTime(300000);
  ExpectSameRows(
      "SELECT COUNT(*) AS n, MAX(price) AS hi, TUMBLE_START(trade_time) AS ws FROM trades "
      "WINDOW TUMBLING (trade_time, 5m)",
      StrCat("SELECT COUNT(*) AS n, MAX(price) AS hi, (trade_time / 300000) * 300000 AS ws FROM arrivals WHERE ",
             on_time, " GROUP BY trade_time / 300000"),
      0, Count(StrCat("SELECT COUNT(*) FROM arrivals WHERE NOT ", on_time)));
}

// Behind a WHERE, the watermark before a row comes from the rows the WHERE keeps (within a
// batch) and from all rows (between batches): README, "Event time and watermarks". So lateness
// may depend on batch boundaries; this data keeps the two verdicts equal (asserted), and the
// late count is then exact: the late rows the WHERE keeps.
TEST_P(StatefulOracleTest, FilterBeforeWindow) {
  const std::string where = "quantity > 100 AND symbol <> 'SYM3'";
  const std::string filtered_max = StrCat(
      "(SELECT *, MAX(CASE WHEN ", where,
      " THEN trade_time END) OVER (ORDER BY arrival ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS "
      "filtered_max FROM arrivals)");
  const std::string late_all = StrCat("NOT ", TumblingOnTime(30000));
  const std::string late_filtered = StrCat("(filtered_max IS NOT NULL AND (trade_time / 30000) * 30000 + 35000 <= "
                                           "filtered_max)");
  ASSERT_EQ(Count(StrCat("SELECT COUNT(*) FROM ", filtered_max, " WHERE ", where, " AND (", late_all, ") <> ",
                         late_filtered)),
            0)
      << "a row of this data is late or not depending on batch boundaries";
  ExpectSameRows(
      StrCat("SELECT side, COUNT(*) AS n, _window_start FROM trades WHERE ", where,
             " GROUP BY side WINDOW TUMBLING (trade_time, INTERVAL '30' SECOND)"),
      StrCat("SELECT side, COUNT(*) AS n, (trade_time / 30000) * 30000 AS _window_start FROM arrivals "
             "WHERE ",
             where, " AND ", TumblingOnTime(30000), " GROUP BY side, trade_time / 30000"),
      0, Count(StrCat("SELECT COUNT(*) FROM arrivals WHERE ", where, " AND ", late_all)));
}

// Session windows against a gaps-and-islands query: per trader, a new session starts when the
// previous trade (in event time) is more than 3 s before (trades exactly 3 s apart share one).
// A row is late when its own window [t, t + 3 s) closed: t + 3000 + 5000 <= prev_max. The
// engine closes a session by the watermark, as Flink does, so a later on-time row that would
// have touched it starts a new one; gaps-and-islands cannot see that, so the data holds no
// on-time row 5 s or more behind the highest earlier time that has another row of its trader
// within the gap (asserted).
TEST_P(StatefulOracleTest, SessionWindowMatchesGapsAndIslands) {
  const std::string on_time = "(prev_max IS NULL OR trade_time + 8000 > prev_max)";
  ASSERT_EQ(Count(StrCat("SELECT COUNT(*) FROM arrivals r WHERE ", on_time,
                         " AND prev_max - trade_time >= 5000 AND EXISTS (SELECT 1 FROM trades q WHERE q.trader_id IS "
                         "r.trader_id AND q.rowid <> r.arrival AND abs(q.trade_time - r.trade_time) <= 3000)")),
            0);
  ExpectSameRows(
      "SELECT trader_id, COUNT(*) AS n, SUM(quantity) AS q, MAX(price) AS hi, _window_start, _window_end "
      "FROM trades GROUP BY trader_id WINDOW SESSION (trade_time, INTERVAL '3' SECOND)",
      StrCat("WITH kept AS (SELECT * FROM arrivals WHERE ", on_time,
             "), marked AS (SELECT trader_id, quantity, price, trade_time, CASE WHEN trade_time - LAG(trade_time) "
             "OVER (PARTITION BY trader_id ORDER BY trade_time) <= 3000 THEN 0 ELSE 1 END AS starts_session FROM "
             "kept), "
             "numbered AS (SELECT *, SUM(starts_session) OVER (PARTITION BY trader_id ORDER BY trade_time ROWS "
             "UNBOUNDED PRECEDING) AS session FROM marked) "
             "SELECT trader_id, COUNT(*) AS n, SUM(quantity) AS q, MAX(price) AS hi, MIN(trade_time) AS "
             "_window_start, MAX(trade_time) + 3000 AS _window_end FROM numbered GROUP BY trader_id, session"),
      0, Count(StrCat("SELECT COUNT(*) FROM arrivals WHERE NOT ", on_time)));
}

// Scenario 1 of the brief: a ROWS window over the last 100 trades of each symbol, ORDER BY
// trade_time. The operator does not sort: a trade whose time is below the running maximum of
// trade_time over the earlier trades of its symbol (in arrival order, SQLite's rowid) is late,
// counted and dropped (equal times are kept). The kept trades are framed in the query's order,
// trade_time, ties in arrival order.
TEST_P(StatefulOracleTest, Scenario1RowsWindowBuffer100) {
  const std::string kept =
      "WITH marked AS (SELECT rowid AS arrival, *, MAX(trade_time) OVER (PARTITION BY symbol ORDER BY rowid "
      "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_max FROM trades), "
      "kept AS (SELECT * FROM marked WHERE earlier_max IS NULL OR trade_time >= earlier_max) ";
  const Table late = QuerySqlite(db(), kept + "SELECT (SELECT COUNT(*) FROM trades) - COUNT(*) FROM kept");
  const int64_t late_rows = std::get<int64_t>(late.rows[0][0]);
  ASSERT_GT(late_rows, 0) << "the data must hold out-of-order trades for this test to mean anything";
  // Trades with equal times in one symbol, so that the tie order (arrival) matters.
  ASSERT_GT(Count("SELECT COUNT(*) FROM (SELECT symbol, trade_time FROM trades GROUP BY symbol, "
                  "trade_time HAVING COUNT(*) > 1)"),
            0)
      << "the data must hold equal trade times in a symbol";
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

TEST_P(StatefulOracleTest, RowsWindowLagLeadRowNumber) {
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
      "AS total FROM trades WINDOW w AS (PARTITION BY trader_id ORDER BY rowid)",
      0, 0);
}

// Late rows with 'late.data.strategy' = 'dead_letter': the dead-letter output holds exactly
// SQLite's late rows (trade id and time of each, as a multiset), each with the reason "late".
TEST_P(StatefulOracleTest, LateRowsGoToTheDeadLetterOutput) {
  const Table late = QuerySqlite(
      db(), StrCat("SELECT trade_id, trade_time FROM arrivals WHERE NOT ", TumblingOnTime(60000), " ORDER BY 1, 2"));
  const std::string dead_letters = directory_->File("late.jsonl");
  for (int parallelism : {1, 2, 4}) {
    for (size_t batch_size : {1024, 7, 1}) {
      const std::string context = StrCat(GetParam(), " data, batch size ", batch_size, ", parallelism ", parallelism);
      std::filesystem::remove(dead_letters);
      const Run run = SluiceRun(
          "SELECT trader_id, COUNT(*) AS n, MAX(trade_id) AS last_id, _window_start FROM trades GROUP BY trader_id "
          "WINDOW TUMBLING (trade_time, INTERVAL '1' MINUTE)",
          batch_size, data().path, parallelism,
          StrCat("'late.data.strategy' = 'dead_letter', 'trades.dead_letter.path' = '", dead_letters, "', "));
      EXPECT_EQ(run.result.counters.late_dropped, late.rows.size()) << context;
      Table actual{late.names, {}};
      simdjson::dom::parser outer_parser, inner_parser;
      const std::vector<std::string> lines =
          std::filesystem::exists(dead_letters) ? ReadLines(dead_letters) : std::vector<std::string>{};
      for (const std::string& line : lines) {
        simdjson::dom::object letter;
        ASSERT_EQ(outer_parser.parse(line).get(letter), simdjson::SUCCESS) << line;
        std::string_view reason, record;
        ASSERT_EQ(letter["reason"].get(reason), simdjson::SUCCESS) << line;
        EXPECT_EQ(reason.substr(0, 4), "late") << line;
        ASSERT_EQ(letter["record"].get(record), simdjson::SUCCESS) << line;
        simdjson::dom::object row;
        ASSERT_EQ(inner_parser.parse(std::string(record)).get(row), simdjson::SUCCESS) << record;
        int64_t id = 0, time = 0;
        ASSERT_EQ(row["trade_id"].get(id), simdjson::SUCCESS) << record;
        ASSERT_EQ(row["trade_time"].get(time), simdjson::SUCCESS) << record;
        actual.rows.push_back({id, time});
      }
      ExpectSameTables(actual, late, "dead letters, " + context);
    }
  }
}

// A source whose path is a glob has one partition per file; the files are read in turns and the
// watermark is the minimum over the files still being read, so the file that is behind in event
// time loses nothing, at any batch size. Lateness is then judged on the merged watermark between
// batches (README, "Parallel execution"), so the files hold only the rows within the bound.
TEST_P(StatefulOracleTest, GlobSourceMergesPartitionWatermarksAsMinimum) {
  const Table expected =
      QuerySqlite(db(),
                  "SELECT trader_id, COUNT(*) AS n, SUM(quantity) AS q, (trade_time / 60000) * 60000 AS "
                  "_window_start FROM trades WHERE bounded = 1 GROUP BY trader_id, trade_time / 60000");
  for (int parallelism : {1, 2, 4}) {
    for (size_t batch_size : {1024, 7, 1}) {
      const Run run = SluiceRun("SELECT trader_id, COUNT(*) AS n, SUM(quantity) AS q, _window_start FROM trades "
                                "GROUP BY trader_id WINDOW TUMBLING (trade_time, INTERVAL '1' MINUTE)",
                                batch_size, data().parts, parallelism);
      const std::string context =
          StrCat("two partitions, ", GetParam(), " data, batch size ", batch_size, ", parallelism ", parallelism);
      ExpectSameTables(run.table, expected, context);
      EXPECT_EQ(run.result.counters.late_dropped, 0u) << context;
    }
  }
}

// An empty input: every kind of stateful query outputs nothing, counts nothing late, and
// succeeds.
TEST_P(StatefulOracleTest, EmptyInputOutputsNothing) {
  if (adversarial()) GTEST_SKIP() << "one data-independent run is enough";
  const std::string empty = directory_->File("empty.jsonl");
  WriteFile(empty, "");
  const char* selects[] = {
      "SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol",
      "SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol EMIT FINAL",
      "SELECT COUNT(*) AS n FROM trades WINDOW TUMBLING (trade_time, 5m)",
      "SELECT trader_id, COUNT(*) AS n FROM trades GROUP BY trader_id WINDOW TUMBLING (trade_time, INTERVAL '1' "
      "MINUTE) EMIT CHANGES",
      "SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol WINDOW SLIDING (trade_time, INTERVAL '2' MINUTE, "
      "INTERVAL '1' MINUTE)",
      "SELECT trader_id, COUNT(*) AS n FROM trades GROUP BY trader_id WINDOW SESSION (trade_time, INTERVAL '3' "
      "SECOND)",
      "SELECT trade_id, LEAD(quantity) OVER (PARTITION BY trader_id ROWS BETWEEN 9 PRECEDING AND CURRENT ROW) AS "
      "next FROM trades",
  };
  for (const char* select : selects) {
    for (int parallelism : {1, 2, 4}) {
      for (size_t batch_size : {1024, 1}) {
        const Run run = SluiceRun(select, batch_size, empty, parallelism);
        EXPECT_TRUE(run.table.rows.empty()) << select;
        EXPECT_EQ(run.result.counters.late_dropped, 0u) << select;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(StatefulOracle, StatefulOracleTest, ::testing::Values("ordinary", "adversarial"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace sluice::testing
