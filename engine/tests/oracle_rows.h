// Results as an oracle comparison sees them: a SQLite query's result and Sluice's JSON Lines
// output (parsed with simdjson's DOM API, independently of Sluice's own decoder), each a table of
// column names and typed cells, compared as multisets of rows.
//
// The comparison is exact except between two doubles:
//   - Column names must be equal, in order: Sluice's output names (its declared schema, and the
//     keys of every JSON object) against SQLite's result column names. An oracle query gives
//     every computed column the same alias as the Sluice query.
//   - Every JSON value must have the JSON type its column's declared type prints as (README,
//     "Output"), else the file is rejected:
//       BIGINT, TIMESTAMP   an integer literal (timestamps as epoch milliseconds)
//       DOUBLE              a number in shortest round-trip form: a whole double prints as an
//                           integer literal ("100" for 100.0), so an integer literal is accepted
//                           exactly when std::to_chars's shortest form of its value has no '.'
//                           and no exponent, and a fractional literal only when it does
//       BOOLEAN             true or false
//       STRING              a string
//       any type            null
//     The declared schema, not the JSON text, decides a cell's type: a DOUBLE column whose value
//     is 3 is the double 3.0, a BIGINT column printing 3.0 is an error.
//   - Each Sluice cell must then match the SQLite cell of the same type, per value:
//       BIGINT, TIMESTAMP   SQLite INTEGER, equal exactly (no conversion through double)
//       DOUBLE              SQLite REAL, equal or within a relative 1e-9 of the larger magnitude
//                           (per value, never summed over a column); a SQLite INTEGER is a type
//                           mismatch: the oracle query must produce a REAL (CAST(... AS REAL))
//       BOOLEAN             SQLite has no boolean type: SQLite INTEGER 0 is false, 1 is true;
//                           any other value, or a REAL or TEXT, is a mismatch
//       STRING              SQLite TEXT, byte for byte
//       NULL                SQLite NULL, and only that
// Rows are matched by sorting both sides on a key in which a double is rounded to 9 significant
// digits; two rows that differ only in doubles within the tolerance of a rounding boundary could
// pair up wrongly and be reported as a mismatch (never hidden).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "batch/batch.h"
#include "types/schema.h"

namespace sluice::testing {

// A SQLite cell is NULL, an int64_t (INTEGER), a double (REAL) or a string (TEXT); a Sluice cell
// also holds a bool (BOOLEAN columns). Which alternative a Sluice cell holds is its declared type.
using Cell = std::variant<std::monostate, int64_t, double, std::string, bool>;
using Row = std::vector<Cell>;

struct Table {
  std::vector<std::string> names;
  std::vector<Row> rows;
};

std::string CellKey(const Cell& cell);
std::string RowKey(const Row& row);
std::string RowText(const Row& row);

// Whether Sluice's `actual` cell matches SQLite's `expected` one under the rules above; when it
// does not, `why` says how (a type mismatch or a different value).
bool CellMatches(const Cell& actual, const Cell& expected, std::string* why);

// The rows and result column names of `sql`; a failed statement fails the current test.
Table QuerySqlite(sqlite3* db, const std::string& sql);

// The SQLite table of the trades TradeGenerator (datagen/src/trade_generator.h) makes, and rows
// [0, rows) of one of its batches inserted into it (within the caller's transaction); a failed
// insert fails the current test.
inline constexpr const char* kGeneratedTradesTable =
    "CREATE TABLE trades (trade_id INTEGER, trader_id TEXT, symbol TEXT, category TEXT, price REAL, "
    "quantity INTEGER, side TEXT, venue TEXT, trade_time INTEGER)";
void InsertGeneratedTrades(sqlite3* db, const Batch& batch, size_t rows);
// The same trades as a Sluice job declares them ('<source>.schema').
inline constexpr const char* kGeneratedTradesSchema =
    "trade_id BIGINT, trader_id STRING, symbol STRING, category STRING, price DOUBLE, quantity BIGINT, "
    "side STRING, venue STRING, trade_time TIMESTAMP";
// Scenario 2 (GROUP BY symbol) and Scenario 3a (1-minute tumbling windows per trader and
// symbol) over that table: what the jobs of scenarios/ must produce.
inline constexpr const char* kScenario2Oracle =
    "SELECT symbol, COUNT(*) AS trades, SUM(quantity) AS volume, AVG(price) AS avg_price, MIN(price) AS low, "
    "MAX(price) AS high FROM trades GROUP BY symbol";
inline constexpr const char* kScenario3aOracle =
    "SELECT trader_id, symbol, trade_time - trade_time % 60000 AS minute_start, COUNT(*) AS trades, "
    "SUM(quantity) AS volume, AVG(price) AS avg_price FROM trades "
    "GROUP BY trader_id, symbol, trade_time - trade_time % 60000";

// The output schema Sluice declares for the stream `stream` of `job_text` (bound with
// `variables`); the last statement's when `stream` is empty. Fails the current test when the
// job does not bind.
Schema DeclaredOutputSchema(const std::string& job_text, const std::map<std::string, std::string>& variables,
                            const std::string& stream = "");

// The JSON Lines file at `path` as a table typed by `declared`: every object must have the
// declared columns, in order, each value of the JSON type its declared type prints as (above);
// any other object fails the current test (up to 5 messages) and its row is kept with the
// offending cells as parsed.
Table ReadJsonLinesTable(const std::string& path, const Schema& declared);

// The table a changelog describes once every record is applied in order: the lines a sink with
// '<sink>.changelog.mode' = 'changelog' writes, Debezium-style records {"before":…,"after":…,
// "op":"c"|"u"|"d"} whose rows are typed by `declared` as in ReadJsonLinesTable. The result is
// a multiset of rows (a row inserted twice is there twice). The changelog must be consistent:
// a "u" or "d" whose before row is not in the table at that point (a retraction of a row never
// emitted, or already retracted), a "c" with a before row or without an after row, a "u" or
// "d" without a before row, an unknown op or a row not typed as declared fails the current
// test (up to 5 messages, prefixed with `context`).
Table ApplyChangelogLines(const std::vector<std::string>& lines, const Schema& declared,
                          const std::string& context);
// ApplyChangelogLines of the file at `path`.
Table ApplyChangelog(const std::string& path, const Schema& declared);

// Keeps, for each distinct value of the first `key_columns` cells, the last row (in order):
// what an EMIT CHANGES stream converges to.
Table LastRowPerKey(const Table& table, size_t key_columns);

// Fails the current test (up to 5 messages) unless `actual` (Sluice's) has the column names of
// `expected` (SQLite's) and the same rows, in any order, cell by cell under CellMatches.
void ExpectSameTables(Table actual, Table expected, const std::string& context);

}  // namespace sluice::testing
