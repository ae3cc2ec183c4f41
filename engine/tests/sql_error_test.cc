// Every user error names its line and column and underlines the offending token.
#include <gtest/gtest.h>

#include "common/strings.h"
#include "plan/binder.h"
#include "sql/parser.h"

namespace sluice {
namespace {

// A job over a source with a declared schema, so binding needs no file.
std::string Job(const std::string& select, const std::string& extra_properties = "") {
  return "CREATE STREAM out AS\n" + select +
         "\nWITH ('trades.type' = 'file_source', 'trades.path' = 'unused.jsonl',\n"
         "      'trades.schema' = 'id BIGINT, symbol STRING, price DOUBLE, qty BIGINT, ts TIMESTAMP'" +
         extra_properties + ")";
}

absl::Status Bind(const std::string& text) {
  auto parsed = ParseJob(text);
  if (!parsed.ok()) return parsed.status();
  return BindJob(std::move(*parsed), BindOptions{}).status();
}

void ExpectError(const std::string& text, const std::string& message, int line, int column) {
  const absl::Status status = Bind(text);
  ASSERT_FALSE(status.ok()) << text;
  const std::string actual(status.message());
  EXPECT_NE(actual.find(message), std::string::npos) << "message: " << actual;
  const std::string position = "line " + std::to_string(line) + ", column " + std::to_string(column) + ":";
  EXPECT_EQ(actual.rfind(position, 0), 0u) << "expected it to start with '" << position << "': " << actual;
  // The caret sits under the reported column.
  const size_t caret_line = actual.rfind('\n');
  ASSERT_NE(caret_line, std::string::npos) << actual;
  const size_t bar = actual.find("| ", caret_line);
  ASSERT_NE(bar, std::string::npos) << actual;
  EXPECT_EQ(actual.size() - (bar + 2), static_cast<size_t>(column)) << "caret misplaced:\n" << actual;
}

TEST(SqlErrorTest, ValidJobBinds) {
  EXPECT_TRUE(Bind(Job("SELECT id, price * qty AS notional FROM trades")).ok());
}

TEST(SqlErrorTest, SyntaxErrorNamesExpectedToken) {
  ExpectError(Job("SELECT id price qty FROM trades"),
              "expected ',' or FROM after the select list, found 'qty'", 2, 17);
}

TEST(SqlErrorTest, MissingFromSource) {
  ExpectError(Job("SELECT id FROM"), "expected the name of a source or stream", 3, 1);
}

TEST(SqlErrorTest, UnknownColumnSuggestsNearest) {
  ExpectError(Job("SELECT id, prise FROM trades"), "unknown column 'prise'; did you mean 'price'?", 2, 12);
}

TEST(SqlErrorTest, UnknownQualifier) {
  ExpectError(Job("SELECT t.id FROM trades x"), "unknown source or alias 't'", 2, 8);
}

TEST(SqlErrorTest, TypeMismatchInArithmetic) {
  ExpectError(Job("SELECT symbol + 1 FROM trades"), "type mismatch: cannot apply + to STRING and BIGINT", 2,
              15);
}

TEST(SqlErrorTest, WhereMustBeBoolean) {
  ExpectError(Job("SELECT id FROM trades WHERE price + 1"), "WHERE must be a BOOLEAN condition, found DOUBLE",
              2, 35);
}

TEST(SqlErrorTest, UnknownFunctionSuggestsNearest) {
  ExpectError(Job("SELECT UPPPER(symbol) FROM trades"), "unknown function 'UPPPER'; did you mean 'UPPER'?", 2,
              8);
}

TEST(SqlErrorTest, WrongArgumentTypes) {
  ExpectError(Job("SELECT LENGTH(price) FROM trades"), "no version of LENGTH takes (DOUBLE)", 2, 8);
}

TEST(SqlErrorTest, UnknownWithKeySuggestsNearest) {
  ExpectError(Job("SELECT id FROM trades", ",\n      'trades.formt' = 'json'"),
              "unknown property 'trades.formt'; did you mean 'trades.format'?", 5, 7);
}

TEST(SqlErrorTest, UnknownJobWideKey) {
  ExpectError(Job("SELECT id FROM trades", ",\n      'event.time.feild' = 'ts'"),
              "unknown property 'event.time.feild'; did you mean 'event.time.field'?", 5, 7);
}

TEST(SqlErrorTest, BadIntervalUnit) {
  ExpectError(Job("SELECT id FROM trades WHERE ts > ts - INTERVAL '5' FORTNIGHT"),
              "invalid interval unit 'FORTNIGHT'", 2, 52);
}

TEST(SqlErrorTest, BadIntervalAmount) {
  ExpectError(Job("SELECT id FROM trades WHERE ts > ts - INTERVAL 'five' SECOND"),
              "invalid interval amount 'five'", 2, 48);
}

TEST(SqlErrorTest, BadWindowDuration) {
  ExpectError(Job("SELECT id FROM trades WINDOW TUMBLING(5x)"), "invalid duration unit 'x'", 2, 40);
}

TEST(SqlErrorTest, UnterminatedString) {
  ExpectError("SELECT id,\n  'abc FROM trades", "unterminated string", 2, 3);
}

TEST(SqlErrorTest, UnknownSource) {
  ExpectError(Job("SELECT id FROM orders"), "unknown source or stream 'orders'", 2, 16);
}

TEST(SqlErrorTest, InvalidPropertyValue) {
  ExpectError(Job("SELECT id FROM trades", ", 'trades.format' = 'xml'"),
              "invalid value 'xml' for 'trades.format' (expected json, csv)", 4, 111);
}

TEST(SqlErrorTest, MaxRecordBytesIsAPositiveWholeNumber) {
  auto parsed = ParseJob(Job("SELECT id FROM trades", ", 'trades.max.record.bytes' = '100'"));
  ASSERT_TRUE(parsed.ok());
  auto bound = BindJob(std::move(*parsed), BindOptions{});
  ASSERT_TRUE(bound.ok()) << bound.status().message();
  EXPECT_EQ(bound->sources[0].max_record_bytes, 100u);
  for (const char* value : {"0", "-5", "abc", "16MiB", "1.5", ""}) {
    ExpectError(
        Job("SELECT id FROM trades", StrCat(", 'trades.max.record.bytes' = '", value, "'")),
        StrCat("invalid value '", value,
               "' for 'trades.max.record.bytes' (expected a whole number of bytes above 0, e.g. 16777216)"),
        4, 121);
  }
  ExpectError(Job("SELECT id FROM trades", ", 'trades.max.record.byte' = '10'"),
              "unknown property 'trades.max.record.byte'; did you mean 'trades.max.record.bytes'?", 4, 93);
}

TEST(SqlErrorTest, EventTimeFieldMustExist) {
  ExpectError(Job("SELECT id FROM trades", ", 'event.time.field' = 'trade_time'"),
              "event time field 'trade_time' is not a column of source 'trades'", 4, 114);
}

TEST(SqlErrorTest, PartitionedByNamesSourceColumnsOnce) {
  EXPECT_TRUE(Bind(Job("SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol",
                       ", 'trades.partitioned.by' = 'symbol, id'"))
                  .ok());
  ExpectError(Job("SELECT id FROM trades", ", 'trades.partitioned.by' = 'sector'"),
              "'trades.partitioned.by' names 'sector', which is not a column of source 'trades'", 4, 119);
  ExpectError(Job("SELECT id FROM trades", ", 'trades.partitioned.by' = 'symbol, symbol'"),
              "'trades.partitioned.by' names 'symbol' twice", 4, 119);
  ExpectError(Job("SELECT id FROM trades", ", 'trades.partitioned.by' = 'symbol,'"),
              "'trades.partitioned.by' names '', which is not a column", 4, 119);
}

TEST(SqlErrorTest, UnknownCastType) {
  ExpectError(Job("SELECT CAST(id AS MONEY) FROM trades"), "unknown type 'MONEY'", 2, 19);
}

TEST(SqlErrorTest, DuplicateOutputColumn) {
  ExpectError(Job("SELECT id, qty AS id FROM trades"), "duplicate output column 'id'", 2, 12);
}

TEST(SqlErrorTest, UnsetVariableWithoutDefault) {
  ExpectError(Job("SELECT id FROM trades", ", 'out.path' = '${OUT_DIR_THAT_IS_NOT_SET}/x'"),
              "variable 'OUT_DIR_THAT_IS_NOT_SET' is not set", 4, 106);
}

// Clauses of later issues parse, bind, and then fail clearly with their position.
TEST(SqlErrorTest, UngroupedColumnInAggregateQuery) {
  ExpectError(Job("SELECT symbol, price, COUNT(*) FROM trades GROUP BY symbol"),
              "column 'price' must appear in GROUP BY or be used in an aggregate function", 2, 16);
}

TEST(SqlErrorTest, AggregateInWhere) {
  ExpectError(Job("SELECT symbol FROM trades WHERE SUM(qty) > 1 GROUP BY symbol"),
              "aggregate function SUM is not allowed here", 2, 33);
}

TEST(SqlErrorTest, OverInWhereIsRejected) {
  ExpectError(
      Job("SELECT id FROM trades WHERE AVG(price) OVER (PARTITION BY symbol ROWS BETWEEN 2 PRECEDING AND "
          "CURRENT ROW) > 1"),
      "AVG(...) OVER (...) is only allowed in the select list", 2, 40);
}

TEST(SqlErrorTest, LeadOffsetBeyondTheBuffer) {
  ExpectError(Job("SELECT LEAD(price, 5) OVER (ROWS WINDOW BUFFER 3 ROWS PARTITION BY symbol) FROM trades"),
              "LEAD(price, 5) OVER (...): the offset (5) must be less than the window's buffer (3 rows)", 2,
              23);
}

TEST(SqlErrorTest, UnboundedOverWindowNeedsABuffer) {
  ExpectError(Job("SELECT AVG(price) OVER (PARTITION BY symbol ORDER BY ts) FROM trades"),
              "an unbounded OVER window keeps every row", 2, 19);
}

TEST(SqlErrorTest, JoinNotSupportedYet) {
  const absl::Status status = Bind(Job("SELECT t.id FROM trades t JOIN trades u ON t.id = u.id"));
  EXPECT_TRUE(absl::IsUnimplemented(status));
  EXPECT_NE(std::string(status.message()).find("not supported yet: JOIN"), std::string::npos)
      << status.message();
}

}  // namespace
}  // namespace sluice
