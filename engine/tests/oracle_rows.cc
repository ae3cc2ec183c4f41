#include "oracle_rows.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>

#include "common/strings.h"
#include "job_test_harness.h"
#include "types/number_format.h"

namespace sluice::testing {
namespace {

constexpr double kRelativeTolerance = 1e-9;
constexpr int kMaxMessages = 5;

// Whether the shortest round-trip text of `value` (std::to_chars, what README "Output" promises)
// is an integer literal: no fraction and no exponent.
bool PrintsAsIntegerLiteral(double value) {
  char text[64];
  const auto result = std::to_chars(text, text + sizeof(text), value);
  const std::string_view printed(text, static_cast<size_t>(result.ptr - text));
  return printed.find_first_of(".eEnN") == std::string_view::npos;  // n: nan, inf
}

std::string TypeOfCell(const Cell& cell) {
  switch (cell.index()) {
    case 0: return "NULL";
    case 1: return "integer";
    case 2: return "double";
    case 3: return "string";
    default: return "boolean";
  }
}

}  // namespace

std::string CellKey(const Cell& cell) {
  if (std::holds_alternative<std::monostate>(cell)) return "null";
  if (const auto* b = std::get_if<bool>(&cell)) return *b ? "n:1" : "n:0";  // pairs with SQLite's 0/1
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

std::string RowText(const Row& row) {
  std::vector<std::string> cells;
  for (const auto& cell : row) {
    if (const auto* d = std::get_if<double>(&cell)) {
      char text[64];
      std::snprintf(text, sizeof(text), "%.17g (double)", *d);
      cells.push_back(text);
    } else if (const auto* b = std::get_if<bool>(&cell)) {
      cells.push_back(*b ? "true" : "false");
    } else if (const auto* s = std::get_if<std::string>(&cell)) {
      cells.push_back(StrCat("'", *s, "'"));
    } else {
      cells.push_back(CellKey(cell) == "null" ? "NULL" : CellKey(cell).substr(2));
    }
  }
  return StrCat("(", StrJoin(cells, ", "), ")");
}

bool CellMatches(const Cell& actual, const Cell& expected, std::string* why) {
  auto mismatch = [&](const std::string& text) {
    if (why != nullptr) *why = text;
    return false;
  };
  const bool expected_null = std::holds_alternative<std::monostate>(expected);
  if (std::holds_alternative<std::monostate>(actual) || expected_null) {
    if (actual.index() == expected.index()) return true;
    return mismatch(StrCat("NULL against a ", TypeOfCell(expected_null ? actual : expected)));
  }
  if (const auto* b = std::get_if<bool>(&actual)) {
    const auto* i = std::get_if<int64_t>(&expected);
    if (i == nullptr || (*i != 0 && *i != 1)) {
      return mismatch(StrCat("BOOLEAN against SQLite ", TypeOfCell(expected), " (only INTEGER 0 or 1 maps)"));
    }
    return *b == (*i == 1) ? true : mismatch("different boolean");
  }
  if (actual.index() != expected.index()) {
    return mismatch(StrCat("Sluice ", TypeOfCell(actual), " against SQLite ", TypeOfCell(expected)));
  }
  if (const auto* a = std::get_if<double>(&actual)) {
    const double e = std::get<double>(expected);
    if (*a == e) return true;
    if (std::fabs(*a - e) <= kRelativeTolerance * std::max(std::fabs(*a), std::fabs(e))) return true;
    return mismatch("doubles differ by more than a relative 1e-9");
  }
  return actual == expected ? true : mismatch("different value");
}

void InsertGeneratedTrades(sqlite3* db, const Batch& batch, size_t rows) {
  sqlite3_stmt* insert = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO trades VALUES (?,?,?,?,?,?,?,?,?)", -1, &insert, nullptr), SQLITE_OK);
  for (size_t row = 0; row < rows; ++row) {
    sqlite3_bind_int64(insert, 1, batch.column(0).data<int64_t>()[row]);
    for (int c : {1, 2, 3, 6, 7}) {
      const std::string_view value = batch.column(c).data<std::string_view>()[row];
      sqlite3_bind_text(insert, c + 1, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    }
    sqlite3_bind_double(insert, 5, batch.column(4).data<double>()[row]);
    sqlite3_bind_int64(insert, 6, batch.column(5).data<int64_t>()[row]);
    sqlite3_bind_int64(insert, 9, batch.column(8).data<int64_t>()[row]);
    const int stepped = sqlite3_step(insert);
    if (stepped != SQLITE_DONE) {
      ADD_FAILURE() << "insert into trades: " << sqlite3_errmsg(db);
      break;
    }
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
}

Table QuerySqlite(sqlite3* db, const std::string& sql) {
  Table table;
  sqlite3_stmt* statement = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db) << " in: " << sql;
  if (statement == nullptr) return table;
  for (int c = 0; c < sqlite3_column_count(statement); ++c) table.names.push_back(sqlite3_column_name(statement, c));
  int step = SQLITE_ROW;
  while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
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
    table.rows.push_back(std::move(row));
  }
  EXPECT_EQ(step, SQLITE_DONE) << sqlite3_errmsg(db) << " in: " << sql;
  sqlite3_finalize(statement);
  return table;
}

Schema DeclaredOutputSchema(const std::string& job_text, const std::map<std::string, std::string>& variables,
                            const std::string& stream) {
  absl::StatusOr<BoundJob> job = BindJobText(job_text, variables);
  EXPECT_TRUE(job.ok()) << job.status().message();
  if (!job.ok() || job->statements.empty()) return Schema();
  if (stream.empty()) return job->statements.back().output_schema;
  for (const BoundStatement& statement : job->statements) {
    if (statement.name == stream) return statement.output_schema;
  }
  ADD_FAILURE() << "no stream '" << stream << "' in the job";
  return Schema();
}

// The row of a JSON object typed by `declared` (the rules of ReadJsonLinesTable); every
// deviation goes to `fail(line, text)`.
static Row ObjectRow(const simdjson::dom::object& object, const Schema& declared, const std::string& line,
                     const std::function<void(const std::string&, const std::string&)>& fail) {
  Row row;
  size_t c = 0;
  for (auto field : object) {
    if (c >= declared.size()) {
      fail(line, StrCat("more fields than the ", declared.size(), " declared columns"));
      break;
    }
    const Field& column = declared.field(c++);
    if (field.key != column.name) {
      fail(line, StrCat("field '", std::string(field.key), "' where column '", column.name, "' is declared"));
    }
    const simdjson::dom::element value = field.value;
    const simdjson::dom::element_type kind = value.type();
    const bool integer_literal =
        kind == simdjson::dom::element_type::INT64 || kind == simdjson::dom::element_type::UINT64;
    auto wrong_type = [&] {
      fail(line, StrCat("column '", column.name, "' is declared ", TypeName(column.type), " but holds ",
                        simdjson::to_string(value)));
      row.emplace_back(std::monostate{});
    };
    if (kind == simdjson::dom::element_type::NULL_VALUE) {
      row.emplace_back(std::monostate{});
      continue;
    }
    if (IsDecimal(column.type)) {
      // Exact: the number as written has every digit of the scale and no more, no exponent, and
      // at most the precision's digits; its value is compared as a double with the oracle's.
      const std::string key = StrCat("\"", column.name, "\":");
      const size_t at = line.find(key);
      std::string text;
      if (at != std::string::npos) {
        for (size_t i = at + key.size(); i < line.size() && line[i] != ',' && line[i] != '}'; ++i)
          text += line[i];
      }
      const size_t point = text.find('.');
      const int scale = DecimalScale(column.type);
      const size_t fraction = point == std::string::npos ? 0 : text.size() - point - 1;
      size_t digits = 0;
      for (char ch : text) digits += ch >= '0' && ch <= '9';
      if (!integer_literal && kind != simdjson::dom::element_type::DOUBLE) {
        wrong_type();
      } else if (fraction != static_cast<size_t>(scale) || text.find_first_of("eE") != std::string::npos ||
                 digits > static_cast<size_t>(DecimalPrecision(column.type)) + 1) {
        fail(line, StrCat(TypeName(column.type), " column '", column.name, "' holds ", text,
                          ", not its exact text with ", scale, " digits after the point"));
        row.emplace_back(std::monostate{});
      } else {
        row.emplace_back(ParseDouble(text).value_or(0));
      }
      continue;
    }
    switch (column.type) {
      case TypeId::kInt64:
      case TypeId::kTimestamp:
        if (kind == simdjson::dom::element_type::INT64) {
          row.emplace_back(value.get_int64().value());
        } else {
          wrong_type();
        }
        break;
      case TypeId::kDouble: {
        if (!integer_literal && kind != simdjson::dom::element_type::DOUBLE) {
          wrong_type();
          break;
        }
        const double number =
            kind == simdjson::dom::element_type::INT64    ? static_cast<double>(value.get_int64().value())
            : kind == simdjson::dom::element_type::UINT64 ? static_cast<double>(value.get_uint64().value())
                                                          : value.get_double().value();
        // Shortest round-trip form: an integer literal exactly when the value prints as one
        // (zero may come back from "-0" either way).
        if (number != 0 && integer_literal != PrintsAsIntegerLiteral(number)) {
          fail(line, StrCat("DOUBLE column '", column.name, "' holds ", simdjson::to_string(value),
                            ", not the shortest round-trip form of its value"));
        }
        row.emplace_back(number);
        break;
      }
      case TypeId::kBoolean:
        if (kind == simdjson::dom::element_type::BOOL) {
          row.emplace_back(value.get_bool().value());
        } else {
          wrong_type();
        }
        break;
      case TypeId::kString:
        if (kind == simdjson::dom::element_type::STRING) {
          row.emplace_back(std::string(value.get_string().value()));
        } else {
          wrong_type();
        }
        break;
      default: wrong_type();
    }
  }
  if (c != declared.size()) fail(line, StrCat(c, " fields where ", declared.size(), " columns are declared"));
  row.resize(declared.size());
  return row;
}

Table ReadJsonLinesTable(const std::string& path, const Schema& declared) {
  Table table;
  for (const Field& field : declared.fields()) table.names.push_back(field.name);
  int messages = 0;
  auto fail = [&](const std::string& line, const std::string& text) {
    if (messages++ < kMaxMessages) ADD_FAILURE() << path << ": " << text << "\n  in: " << line;
  };
  simdjson::dom::parser parser;
  for (const std::string& line : ReadLines(path)) {
    simdjson::dom::object object;
    if (parser.parse(line).get(object) != simdjson::SUCCESS) {
      fail(line, "not a JSON object");
      continue;
    }
    Row row = ObjectRow(object, declared, line, fail);
    table.rows.push_back(std::move(row));
  }
  return table;
}

Table ApplyChangelogLines(const std::vector<std::string>& lines, const Schema& declared,
                          const std::string& context) {
  Table table;
  for (const Field& field : declared.fields()) table.names.push_back(field.name);
  int messages = 0;
  auto fail = [&](const std::string& line, const std::string& text) {
    if (messages++ < kMaxMessages) ADD_FAILURE() << context << ": " << text << "\n  in: " << line;
  };
  // The table so far: a multiset of rows by RowKey.
  std::map<std::string, std::pair<Row, int64_t>> rows;
  simdjson::dom::parser parser;
  for (const std::string& line : lines) {
    simdjson::dom::object record;
    if (parser.parse(line).get(record) != simdjson::SUCCESS) {
      fail(line, "not a JSON object");
      continue;
    }
    std::string_view op;
    if (record["op"].get_string().get(op) != simdjson::SUCCESS) {
      fail(line, "no \"op\" string");
      continue;
    }
    simdjson::dom::element before, after;
    const bool has_before = record["before"].get(before) == simdjson::SUCCESS && !before.is_null();
    const bool has_after = record["after"].get(after) == simdjson::SUCCESS && !after.is_null();
    const bool wants_before = op == "u" || op == "d";
    const bool wants_after = op == "u" || op == "c";
    if (op != "c" && op != "u" && op != "d") {
      fail(line, StrCat("unknown op '", std::string(op), "'"));
      continue;
    }
    if (has_before != wants_before || has_after != wants_after) {
      fail(line, StrCat("op '", std::string(op), "' needs ", wants_before ? "a" : "no", " before row and ",
                        wants_after ? "an" : "no", " after row"));
      continue;
    }
    if (has_before) {
      simdjson::dom::object object;
      if (before.get(object) != simdjson::SUCCESS) {
        fail(line, "\"before\" is not an object");
        continue;
      }
      const Row row = ObjectRow(object, declared, line, fail);
      auto found = rows.find(RowKey(row));
      if (found == rows.end()) {
        fail(line, StrCat("retracts ", RowText(row),
                          ", which is not in the table (never emitted, or already "
                          "retracted)"));
      } else if (--found->second.second == 0) {
        rows.erase(found);
      }
    }
    if (has_after) {
      simdjson::dom::object object;
      if (after.get(object) != simdjson::SUCCESS) {
        fail(line, "\"after\" is not an object");
        continue;
      }
      Row row = ObjectRow(object, declared, line, fail);
      auto& entry = rows[RowKey(row)];
      entry.first = std::move(row);
      ++entry.second;
    }
  }
  for (auto& [key, entry] : rows) {
    for (int64_t i = 0; i < entry.second; ++i) table.rows.push_back(entry.first);
  }
  return table;
}

Table ApplyChangelog(const std::string& path, const Schema& declared) {
  return ApplyChangelogLines(ReadLines(path), declared, path);
}

Table LastRowPerKey(const Table& table, size_t key_columns) {
  std::map<std::string, Row> last;
  for (const Row& row : table.rows) {
    std::string key;
    for (size_t c = 0; c < key_columns && c < row.size(); ++c) StrAppend(&key, CellKey(row[c]), "|");
    last[key] = row;
  }
  Table out{table.names, {}};
  for (auto& [key, row] : last) out.rows.push_back(std::move(row));
  return out;
}

void ExpectSameTables(Table actual, Table expected, const std::string& context) {
  EXPECT_EQ(actual.names, expected.names) << context << ": Sluice's column names (left) against SQLite's";
  auto by_key = [](const Row& a, const Row& b) { return RowKey(a) < RowKey(b); };
  std::sort(actual.rows.begin(), actual.rows.end(), by_key);
  std::sort(expected.rows.begin(), expected.rows.end(), by_key);
  ASSERT_EQ(actual.rows.size(), expected.rows.size()) << context;
  int mismatches = 0;
  for (size_t r = 0; r < actual.rows.size() && mismatches < kMaxMessages; ++r) {
    const Row& a = actual.rows[r];
    const Row& e = expected.rows[r];
    std::string why = a.size() == e.size() ? "" : "different numbers of columns";
    for (size_t c = 0; why.empty() && c < a.size(); ++c) {
      if (!CellMatches(a[c], e[c], &why)) {
        why = StrCat("column ", c + 1, (c < expected.names.size() ? StrCat(" '", expected.names[c], "'") : ""),
                     ": ", why);
      }
    }
    if (!why.empty()) {
      ++mismatches;
      ADD_FAILURE() << context << "\n  " << why << "\n  sluice: " << RowText(a) << "\n  sqlite: " << RowText(e);
    }
  }
}

}  // namespace sluice::testing
