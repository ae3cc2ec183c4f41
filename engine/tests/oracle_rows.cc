#include "oracle_rows.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "common/strings.h"
#include "job_test_harness.h"

namespace sluice::testing {

std::string CellKey(const Cell& cell) {
  if (std::holds_alternative<std::monostate>(cell)) return "null";
  if (const auto* i = std::get_if<int64_t>(&cell)) return StrCat("n:", *i);
  if (const auto* d = std::get_if<double>(&cell)) {
    // Integral doubles sort with integers; others by value rounded to 9 significant digits.
    if (std::nearbyint(*d) == *d && std::fabs(*d) < 1e15) return StrCat("n:", static_cast<int64_t>(*d));
    char text[64];
    std::snprintf(text, sizeof(text), "n:%.9g", *d);
    return text;
  }
  return "s:" + std::get<std::string>(cell);
}

std::string RowKey(const Row& row) {
  std::string key;
  for (const auto& cell : row) StrAppend(&key, CellKey(cell), "|");
  return key;
}

bool CellsEqual(const Cell& a, const Cell& b) {
  auto number = [](const Cell& c) -> std::optional<double> {
    if (const auto* i = std::get_if<int64_t>(&c)) return static_cast<double>(*i);
    if (const auto* d = std::get_if<double>(&c)) return *d;
    return std::nullopt;
  };
  const auto na = number(a), nb = number(b);
  if (na && nb) return std::fabs(*na - *nb) <= 1e-9 * std::max({1.0, std::fabs(*na), std::fabs(*nb)});
  return a == b;
}

std::string RowText(const Row& row) {
  std::vector<std::string> cells;
  for (const auto& cell : row) cells.push_back(CellKey(cell));
  return StrCat("(", StrJoin(cells, ", "), ")");
}

std::vector<Row> QuerySqlite(sqlite3* db, const std::string& sql) {
  std::vector<Row> rows;
  sqlite3_stmt* statement = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db) << " in: " << sql;
  if (statement == nullptr) return rows;
  while (sqlite3_step(statement) == SQLITE_ROW) {
    Row row;
    for (int c = 0; c < sqlite3_column_count(statement); ++c) {
      switch (sqlite3_column_type(statement, c)) {
        case SQLITE_NULL: row.emplace_back(std::monostate{}); break;
        case SQLITE_INTEGER:
          row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(statement, c)));
          break;
        case SQLITE_FLOAT: row.emplace_back(sqlite3_column_double(statement, c)); break;
        default:
          row.emplace_back(std::string(reinterpret_cast<const char*>(sqlite3_column_text(statement, c)),
                                       sqlite3_column_bytes(statement, c)));
      }
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(statement);
  return rows;
}

std::vector<Row> ReadJsonLinesRows(const std::string& path) {
  std::vector<Row> rows;
  simdjson::dom::parser parser;
  for (const std::string& line : ReadLines(path)) {
    simdjson::dom::object object;
    EXPECT_EQ(parser.parse(line).get(object), simdjson::SUCCESS) << line;
    Row row;
    for (auto field : object) {
      const simdjson::dom::element value = field.value;
      switch (value.type()) {
        case simdjson::dom::element_type::NULL_VALUE: row.emplace_back(std::monostate{}); break;
        case simdjson::dom::element_type::BOOL:
          row.emplace_back(static_cast<int64_t>(value.get_bool().value()));
          break;
        case simdjson::dom::element_type::INT64: row.emplace_back(value.get_int64().value()); break;
        case simdjson::dom::element_type::UINT64:
          row.emplace_back(static_cast<int64_t>(value.get_uint64().value()));
          break;
        case simdjson::dom::element_type::DOUBLE: row.emplace_back(value.get_double().value()); break;
        case simdjson::dom::element_type::STRING:
          row.emplace_back(std::string(value.get_string().value()));
          break;
        default: ADD_FAILURE() << "unexpected JSON value in " << line;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<Row> LastRowPerKey(const std::vector<Row>& rows, size_t key_columns) {
  std::map<std::string, Row> last;
  for (const Row& row : rows) {
    std::string key;
    for (size_t c = 0; c < key_columns && c < row.size(); ++c) StrAppend(&key, CellKey(row[c]), "|");
    last[key] = row;
  }
  std::vector<Row> out;
  for (auto& [key, row] : last) out.push_back(std::move(row));
  return out;
}

void ExpectSameRowSets(std::vector<Row> actual, std::vector<Row> expected, const std::string& context) {
  auto by_key = [](const Row& a, const Row& b) { return RowKey(a) < RowKey(b); };
  std::sort(actual.begin(), actual.end(), by_key);
  std::sort(expected.begin(), expected.end(), by_key);
  ASSERT_EQ(actual.size(), expected.size()) << context;
  int mismatches = 0;
  for (size_t r = 0; r < actual.size() && mismatches < 5; ++r) {
    bool equal = actual[r].size() == expected[r].size();
    for (size_t c = 0; equal && c < actual[r].size(); ++c) equal = CellsEqual(actual[r][c], expected[r][c]);
    if (!equal) {
      ++mismatches;
      ADD_FAILURE() << context << "\n  sluice: " << RowText(actual[r])
                    << "\n  sqlite: " << RowText(expected[r]);
    }
  }
}

}  // namespace sluice::testing
