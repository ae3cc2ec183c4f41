// Rows as an oracle comparison sees them: SQLite query results and Sluice's JSON Lines output
// (parsed with simdjson's DOM API, independently of Sluice's own decoder), compared as
// multisets with doubles equal within a relative 1e-9 and booleans as 0/1.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace sluice::testing {

using Cell = std::variant<std::monostate, int64_t, double, std::string>;
using Row = std::vector<Cell>;

std::string CellKey(const Cell& cell);
std::string RowKey(const Row& row);
std::string RowText(const Row& row);
bool CellsEqual(const Cell& a, const Cell& b);

std::vector<Row> QuerySqlite(sqlite3* db, const std::string& sql);
std::vector<Row> ReadJsonLinesRows(const std::string& path);

// Keeps, for each distinct value of the first `key_columns` cells, the last row (in order):
// what an EMIT CHANGES stream converges to.
std::vector<Row> LastRowPerKey(const std::vector<Row>& rows, size_t key_columns);

// Fails the current test (up to 5 messages) unless both hold the same rows, in any order.
void ExpectSameRowSets(std::vector<Row> actual, std::vector<Row> expected, const std::string& context);

}  // namespace sluice::testing
