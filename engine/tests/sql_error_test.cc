// Every user error names its line and column and underlines the offending token.
#include <gtest/gtest.h>

#include "common/strings.h"
#include "connectors/file/file_connector.h"
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

TEST(SqlErrorTest, UpdatingQueryIntoAppendSinkPointsAtTheStatement) {
  ExpectError(
      Job("SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol EMIT CHANGES",
          ",\n      'out.type' = 'file_sink', 'out.path' = 'x.jsonl', 'out.changelog.mode' = 'append'"),
      "statement 'out' is an updating query (GROUP BY symbol EMIT CHANGES); sink 'out' with "
      "changelog.mode 'append' accepts inserts only; use 'upsert' or 'changelog'",
      1, 1);
  // The same query into the default mode (upsert) binds.
  EXPECT_TRUE(Bind(Job("SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol EMIT CHANGES",
                       ",\n      'out.type' = 'file_sink', 'out.path' = 'x.jsonl'"))
                  .ok());
}

TEST(SqlErrorTest, AggregateThatCannotRetractOverAnUpdatingStreamPointsAtTheFunction) {
  ExpectError(
      "CREATE STREAM totals AS SELECT symbol, SUM(qty) AS qty FROM trades GROUP BY symbol;\n"
      "CREATE STREAM out AS SELECT MIN(qty) AS low FROM totals EMIT FINAL\n"
      "WITH ('trades.type' = 'file_source', 'trades.path' = 'unused.jsonl',\n"
      "      'trades.schema' = 'symbol STRING, qty BIGINT')",
      "MIN(qty) cannot read an updating stream: stream 'totals' is an updating stream (GROUP BY symbol "
      "EMIT CHANGES), and MIN cannot take a value back out",
      2, 29);
}

TEST(SqlErrorTest, ChangelogModeValueIsChecked) {
  ExpectError(Job("SELECT id FROM trades",
                  ", 'out.type' = 'file_sink', 'out.path' = 'x.jsonl',\n"
                  "      'out.changelog.mode' = 'retract'"),
              "invalid value 'retract' for 'out.changelog.mode' (expected append, changelog, upsert)", 5, 30);
}

TEST(SqlErrorTest, RestartStrategyPropertiesAreChecked) {
  EXPECT_TRUE(Bind(Job("SELECT id FROM trades",
                       ",\n      'restart.strategy' = 'fixed-delay', 'restart.attempts' = '2'"))
                  .ok());
  ExpectError(Job("SELECT id FROM trades", ",\n      'restart.strategy' = 'exponential'"),
              "unknown restart strategy 'exponential' for 'restart.strategy' (none, fixed-delay)", 5, 28);
  ExpectError(Job("SELECT id FROM trades", ",\n      'restart.attempts' = '2'"),
              "'restart.attempts' needs 'restart.strategy' = 'fixed-delay'", 5, 7);
  ExpectError(
      Job("SELECT id FROM trades", ",\n      'restart.strategy' = 'fixed-delay', 'restart.delay' = 'soon'"),
      "invalid duration 'soon' for 'restart.delay'", 5, 61);
  ExpectError(
      Job("SELECT id FROM trades", ",\n      'restart.strategy' = 'fixed-delay', 'restart.attempts' = '0'"),
      "invalid count '0' for 'restart.attempts' (a whole number from 1 to 1000000)", 5, 64);
}

TEST(SqlErrorTest, StateBackendPropertiesAreChecked) {
  const std::string rocksdb = ",\n      'state.backend' = 'rocksdb'";
  EXPECT_TRUE(
      Bind(Job("SELECT symbol, COUNT(*) AS n, SUM(qty) AS q, MAX(price) AS hi FROM trades GROUP BY symbol",
               rocksdb + ", 'state.rocksdb.memory' = '64MiB'"))
          .ok());
  ExpectError(Job("SELECT id FROM trades", ",\n      'state.backend' = 'disk'"),
              "unknown state backend 'disk' for 'state.backend' (memory, rocksdb)", 5, 25);
  ExpectError(Job("SELECT id FROM trades", ",\n      'state.rocksdb.dir' = '/tmp'"),
              "'state.rocksdb.dir' needs 'state.backend' = 'rocksdb'", 5, 7);
  ExpectError(Job("SELECT id FROM trades", rocksdb + ", 'state.rocksdb.memory' = '1MiB'"),
              "invalid size '1MiB' for 'state.rocksdb.memory' (at least 16MiB: 64MiB, 1GiB)", 5, 61);
  // What RocksDB cannot hold yet is refused by name, at the statement.
  ExpectError(
      Job("SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol WINDOW TUMBLING (ts, INTERVAL '1' "
          "MINUTE)",
          rocksdb + ", 'event.time.field' = 'ts'"),
      "'state.backend' = 'rocksdb' for this GROUP BY: it has a TUMBLING window", 1, 1);
  ExpectError(
      Job("SELECT symbol, COUNT(DISTINCT id) AS n FROM trades GROUP BY symbol", rocksdb),
      "'state.backend' = 'rocksdb' for this GROUP BY: its aggregate COUNT(DISTINCT id) keeps a set per key",
      1, 1);
  ExpectError(Job("SELECT qty, MIN(symbol) AS s FROM trades GROUP BY qty", rocksdb),
              "its aggregate MIN(symbol) keeps a string per key", 1, 1);
  ExpectError(Job("SELECT id, SUM(qty) OVER (PARTITION BY symbol ORDER BY ts ROWS BETWEEN 2 PRECEDING AND "
                  "CURRENT ROW) AS q FROM trades",
                  rocksdb + ", 'event.time.field' = 'ts'"),
              "'state.backend' = 'rocksdb' for a ROWS window", 1, 1);
}

TEST(SqlErrorTest, OperatorIdAnnotationsAreChecked) {
  EXPECT_TRUE(Bind("-- @uid: volume-v1\n" + Job("SELECT id FROM trades")).ok());
  ExpectError("-- @uid: volume/v1\n" + Job("SELECT id FROM trades"),
              "invalid operator id 'volume/v1' in -- @uid: (letters, digits, '_', '-' and '.'; not empty)", 1,
              1);
  ExpectError("-- @uid: a\n-- @uid: b\n" + Job("SELECT id FROM trades"),
              "a second -- @uid: for one statement (it has 'a')", 2, 1);
  ExpectError(Job("SELECT id FROM trades") + ";\n-- @uid: late", "-- @uid: is followed by no statement", 5,
              1);
  ExpectError(
      "-- @uid: other\n" + Job("SELECT id FROM trades") + ";\nCREATE STREAM other AS SELECT id FROM trades",
      "operator id 'other' (-- @uid:) is the name of statement 'other'", 2, 1);
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
  EXPECT_EQ(bound->sources[0].SettingsAs<FileSourceSettings>().max_record_bytes, 100u);
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

// An aggregate the engine does not have names itself, with or without GROUP BY, rather than
// complaining about its argument.
TEST(SqlErrorTest, UnknownAggregateNamesItself) {
  ExpectError(Job("SELECT symbol, MEDIAN(price) FROM trades GROUP BY symbol"), "unknown function 'MEDIAN'", 2,
              16);
  ExpectError(Job("SELECT MEDIAN(price) FROM trades"), "unknown function 'MEDIAN'", 2, 8);
  ExpectError(Job("SELECT symbol FROM trades GROUP BY symbol HAVING MEDIAN(price) > 1"),
              "unknown function 'MEDIAN'", 2, 50);
  ExpectError(Job("SELECT MEDIAN(price) OVER (ROWS WINDOW BUFFER 3 ROWS PARTITION BY symbol) FROM trades"),
              "unknown function 'MEDIAN'", 2, 8);
  // A near miss of an aggregate or a scalar function is suggested.
  ExpectError(Job("SELECT symbol, SUMM(qty) FROM trades GROUP BY symbol"),
              "unknown function 'SUMM'; did you mean 'SUM'?", 2, 16);
  ExpectError(Job("SELECT symbol, COUNT(*), UPPPER(symbol) FROM trades GROUP BY symbol"),
              "unknown function 'UPPPER'; did you mean 'UPPER'?", 2, 26);
}

// --- every error of a job ---------------------------------------------------------------------

const char kTradesProperties[] =
    "WITH ('trades.type' = 'file_source', 'trades.path' = 'unused.jsonl',\n"
    "      'trades.schema' = 'id BIGINT, symbol STRING, price DOUBLE, qty BIGINT, ts TIMESTAMP')";

// Parses and binds `text`, collecting every error; returns the first line of each.
std::vector<std::string> AllErrors(const std::string& text, size_t limit = SqlErrorList::kDefaultLimit) {
  SqlErrorList errors(limit);
  ParsedJob parsed = ParseJob(text, errors);
  if (errors.empty()) {
    EXPECT_FALSE(BindJob(std::move(parsed), BindOptions{}, errors).has_value());
  }
  std::vector<std::string> lines;
  for (const absl::Status& error : errors.errors()) {
    const std::string message(error.message());
    lines.push_back(message.substr(0, message.find('\n')));
  }
  return lines;
}

TEST(SqlErrorTest, ReportsTheFirstErrorOfEveryStatement) {
  EXPECT_EQ(AllErrors(std::string("CREATE STREAM a AS SELECT id, prise FROM trades;\n"
                                  "CREATE STREAM b AS SELECT symbol + 1 AS x, nope FROM trades;\n"
                                  "CREATE STREAM c AS SELECT id FROM trades;\n"
                                  "CREATE STREAM d AS SELECT id FROM trades WHERE qty\n") +
                      kTradesProperties),
            (std::vector<std::string>{"line 1, column 31: unknown column 'prise'; did you mean 'price'?",
                                      "line 2, column 34: type mismatch: cannot apply + to STRING and BIGINT",
                                      "line 4, column 48: WHERE must be a BOOLEAN condition, found BIGINT"}));
}

// A statement that reads the stream of a failed statement is not bound: its errors would only
// follow from the first. Statements that do not read it still are.
TEST(SqlErrorTest, SkipsStatementsThatReadAFailedStream) {
  EXPECT_EQ(AllErrors(std::string("CREATE STREAM a AS SELECT id, prise FROM trades;\n"
                                  "CREATE STREAM b AS SELECT price FROM a;\n"
                                  "CREATE STREAM c AS SELECT nope FROM b;\n"
                                  "CREATE STREAM d AS SELECT qtty FROM trades\n") +
                      kTradesProperties),
            (std::vector<std::string>{"line 1, column 31: unknown column 'prise'; did you mean 'price'?",
                                      "line 4, column 27: unknown column 'qtty'; did you mean 'qty'?"}));
}

// Every unknown WITH key is reported, in the order of the text, and binding goes on.
TEST(SqlErrorTest, ReportsEveryBadPropertyThenBinds) {
  EXPECT_EQ(AllErrors(Job("SELECT id, prise FROM trades",
                          ",\n      'trades.formt' = 'json', 'event.time.feild' = 'ts'")),
            (std::vector<std::string>{
                "line 5, column 7: unknown property 'trades.formt'; did you mean 'trades.format'?",
                "line 5, column 32: unknown property 'event.time.feild'; did you mean 'event.time.field'?",
                "line 2, column 12: unknown column 'prise'; did you mean 'price'?"}));
}

// Every unset variable is reported; then binding stops, since a property left out would only
// cause more errors.
TEST(SqlErrorTest, ReportsEveryUnsetVariableThenStops) {
  EXPECT_EQ(AllErrors(Job("SELECT id, prise FROM trades",
                          ",\n      'out.type' = 'file_sink', 'out.path' = '${NOT_SET_1}/${NOT_SET_2}',\n"
                          "      'out.format' = '${NOT_SET_3}'")),
            (std::vector<std::string>{
                "line 5, column 46: variable 'NOT_SET_1' is not set; pass --set NOT_SET_1=VALUE, set it in "
                "the environment, or write ${NOT_SET_1:default}",
                "line 6, column 22: variable 'NOT_SET_3' is not set; pass --set NOT_SET_3=VALUE, set it in "
                "the environment, or write ${NOT_SET_3:default}"}));
}

// Two statements reading a source whose definition fails make one error, not two.
TEST(SqlErrorTest, ReportsAnErrorOnce) {
  EXPECT_EQ(AllErrors(Job("SELECT id FROM trades; CREATE STREAM more AS SELECT qty FROM trades",
                          ", 'trades.format' = 'xml'")),
            (std::vector<std::string>{
                "line 4, column 111: invalid value 'xml' for 'trades.format' (expected json, csv)"}));
}

TEST(SqlErrorTest, StopsAtTheErrorLimit) {
  std::string job;
  for (int i = 0; i < 25; ++i)
    job += "CREATE STREAM s" + std::to_string(i) + " AS SELECT nope FROM trades;\n";
  job.resize(job.size() - 2);  // the last statement ends with its WITH
  job += "\n";
  job += kTradesProperties;
  EXPECT_EQ(AllErrors(job).size(), SqlErrorList::kDefaultLimit);
  EXPECT_EQ(AllErrors(job, 3).size(), 3u);
}

// Every error in the editor form, then their count.
TEST(SqlErrorTest, ListFormatsEveryErrorThenTheCount) {
  const std::string text = std::string("CREATE STREAM a AS\nSELECT id, prise FROM trades;\n") +
                           "CREATE STREAM b AS SELECT qtty FROM trades\n" + kTradesProperties;
  SqlErrorList errors;
  ParsedJob parsed = ParseJob(text, errors);
  ASSERT_TRUE(errors.empty());
  EXPECT_FALSE(BindJob(std::move(parsed), BindOptions{}, errors).has_value());
  EXPECT_EQ(errors.Format(SourceText(text), "jobs/two.sql"),
            "jobs/two.sql:2:12: error: unknown column 'prise'; did you mean 'price'?\n"
            "  2 | SELECT id, prise FROM trades;\n"
            "    |            ^\n"
            "jobs/two.sql:3:27: error: unknown column 'qtty'; did you mean 'qty'?\n"
            "  3 | CREATE STREAM b AS SELECT qtty FROM trades\n"
            "    |                           ^\n"
            "2 errors\n");
  // A full list says that there may be more.
  const SourceText source("SELECT a");
  SqlErrorList two(/*limit=*/2);
  for (int i = 0; i < 3; ++i) two.Add(source.Error({1, 8}, "error " + std::to_string(i)));
  EXPECT_EQ(two.size(), 2u);
  EXPECT_TRUE(EndsWith(two.Format(source, "f.sql"), "\n2 errors (stopped at 2; there may be more)\n"))
      << two.Format(source, "f.sql");
}

// The form editors and CI annotations parse: file:line:column: error: message, then the line
// and a caret (after the line's tabs, so that it stays under the column).
TEST(SqlErrorTest, FormatsForAFile) {
  const SourceText source("CREATE STREAM a AS\nSELECT\tprise FROM trades");
  EXPECT_EQ(source.FormatForFile("jobs/one.sql", source.Error({2, 8}, "unknown column 'prise'")),
            "jobs/one.sql:2:8: error: unknown column 'prise'\n"
            "  2 | SELECT\tprise FROM trades\n"
            "    |       \t^");
  // An error without a position keeps the plain form.
  EXPECT_EQ(source.FormatForFile("jobs/one.sql", absl::NotFoundError("cannot read it")),
            "jobs/one.sql: error: cannot read it");
}

// A line of megabytes (a generated expression) is shown cut around the column.
TEST(SqlErrorTest, LongLinesAreCutAroundTheColumn) {
  const std::string text = "SELECT " + std::string(300, 'x') + " + nope" + std::string(300, ' ') + "FROM t";
  const absl::Status error = SourceText(text).Error({1, 311}, "unknown column 'nope'");
  const std::string message(error.message());
  EXPECT_EQ(message,
            "line 1, column 311: unknown column 'nope'\n"
            "  1 | ..." +
                std::string(77, 'x') + " + nope" + std::string(76, ' ') +
                "...\n"
                "    |    " +
                std::string(80, ' ') + "^");
}

TEST(SqlErrorTest, DetailCarriesPositionAndBareMessage) {
  const SourceText source("SELECT 1");
  const std::optional<SqlErrorDetail> detail = SqlErrorDetailOf(source.NotSupported({1, 8}, "this"));
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ(detail->position.line, 1u);
  EXPECT_EQ(detail->position.column, 8u);
  EXPECT_EQ(detail->message, "not supported yet: this");
  EXPECT_FALSE(SqlErrorDetailOf(absl::InvalidArgumentError("line 1, column 8: no detail")).has_value());
}

TEST(SqlErrorTest, JoinOfThreeInputsNotSupportedYet) {
  const absl::Status status =
      Bind(Job("SELECT t.id FROM trades t JOIN trades u ON t.id = u.id JOIN trades v ON u.id = v.id"));
  EXPECT_TRUE(absl::IsUnimplemented(status));
  EXPECT_NE(std::string(status.message()).find("not supported yet: a join of more than two inputs"),
            std::string::npos)
      << status.message();
}

TEST(SqlErrorTest, JoinErrorsNameTheFault) {
  ExpectError(Job("SELECT id FROM trades t JOIN trades u ON t.id = u.id"),
              "ambiguous column 'id': t and u both have it; qualify it (t.id)", 2, 8);
  ExpectError(Job("SELECT t.id FROM trades JOIN trades ON trades.id = trades.id"),
              "both inputs of the join are named 'trades'; give one an alias", 2, 30);
  ExpectError(Job("SELECT t.id FROM trades t JOIN trades u ON t.price > u.price"),
              "not supported yet: a join without an equality between its inputs", 2, 27);
  ExpectError(Job("SELECT t.id FROM trades t JOIN trades u ON t.id = u.symbol"),
              "join keys of different types: t.id is BIGINT, u.symbol is STRING; CAST one of them", 2, 49);
  ExpectError(Job("SELECT t.id FROM trades t JOIN trades u ON t.id = u.id AND t._event_time BETWEEN "
                  "u._event_time + INTERVAL '5' SECOND AND u._event_time - INTERVAL '5' SECOND"),
              "the join's time bound is empty", 2, 27);
  ExpectError(Job("SELECT t.id, COUNT(*) AS n FROM trades t JOIN trades u ON t.id = u.id GROUP BY t.id "
                  "WINDOW TUMBLING(INTERVAL '1' MINUTE)"),
              "over a join, name the window's time column", 2, 85);
}

TEST(SqlErrorTest, DerivedTableNeedsAnAlias) {
  ExpectError(Job("SELECT id FROM (SELECT id FROM trades) WHERE id > 1"),
              "a derived table needs a name: write (SELECT ...) AS name", 2, 16);
}

TEST(SqlErrorTest, UnknownColumnOfADerivedTableSuggestsItsColumns) {
  ExpectError(Job("SELECT t.notionl FROM (SELECT id, price * qty AS notional FROM trades) AS t"),
              "unknown column 'notionl'; did you mean 'notional'?", 2, 8);
}

TEST(SqlErrorTest, UnknownColumnInsideADerivedTableAtAnyDepth) {
  ExpectError(Job("SELECT id FROM (SELECT id FROM (SELECT id, prize FROM trades) AS a) AS b"),
              "unknown column 'prize'; did you mean 'price'?", 2, 44);
}

TEST(SqlErrorTest, DerivedTableIsKnownByItsAliasOnly) {
  ExpectError(Job("SELECT trades.id FROM (SELECT id FROM trades) AS t"),
              "unknown source or alias 'trades' (this query reads t)", 2, 8);
}

TEST(SqlErrorTest, WithQueryDefinedTwice) {
  ExpectError(Job("WITH a AS (SELECT id FROM trades),\n     A AS (SELECT id FROM trades)\nSELECT id FROM a"),
              "WITH query 'A' is defined twice", 3, 6);
}

TEST(SqlErrorTest, WithQueryNotUsed) {
  ExpectError(Job("WITH a AS (SELECT id FROM trades) SELECT id FROM trades"), "WITH query 'a' is not used", 2,
              6);
}

TEST(SqlErrorTest, SelectDistinctWithGroupByIsRefused) {
  ExpectError(Job("SELECT DISTINCT symbol, COUNT(*) AS n FROM trades GROUP BY symbol"),
              "not supported yet: SELECT DISTINCT with GROUP BY", 2, 8);
}

// A derived table or WITH query becomes a statement of its own whose hidden name collides with
// no stream of the job, and which says what it was lowered from.
TEST(SqlErrorTest, DerivedTablesBindToHiddenStatementsBeforeTheirQuery) {
  const std::string text =
      "CREATE STREAM \"out$t\" AS SELECT id FROM trades\n"
      "WITH ('trades.type' = 'file_source', 'trades.path' = 'unused.jsonl',\n"
      "      'trades.schema' = 'id BIGINT, symbol STRING, price DOUBLE, qty BIGINT, ts TIMESTAMP');\n"
      "CREATE STREAM out AS WITH w AS (SELECT id, qty FROM trades WHERE qty > 1)\n"
      "SELECT n FROM (SELECT COUNT(*) AS n FROM (SELECT id FROM w) AS t) AS t";
  auto parsed = ParseJob(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  auto job = BindJob(std::move(*parsed), BindOptions{});
  ASSERT_TRUE(job.ok()) << job.status().message();
  std::vector<std::string> names, lowered_from, inputs;
  for (const auto& statement : job->statements) {
    names.push_back(statement.name);
    lowered_from.push_back(statement.lowered_from);
    inputs.push_back(statement.input_name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"out$t", "out$w", "out$t$2$t", "out$t$2", "out"}));
  EXPECT_EQ(lowered_from,
            (std::vector<std::string>{"", "WITH query 'w' of out", "derived table 't' of out$t$2",
                                      "derived table 't' of out", ""}));
  EXPECT_EQ(inputs, (std::vector<std::string>{"trades", "trades", "out$w", "out$t$2$t", "out$t$2"}));
  // Only the statements of the job have sinks; "out$t" reads nothing later, so it has one.
  EXPECT_TRUE(job->statements[0].sink.has_value());
  for (size_t i = 1; i < 4; ++i) EXPECT_FALSE(job->statements[i].sink.has_value()) << names[i];
}

// BindOptions::read_files = false (the fuzz targets): nothing is read, stat'ed or listed.
absl::StatusOr<BoundJob> BindWithoutFiles(const std::string& text) {
  auto parsed = ParseJob(text);
  if (!parsed.ok()) return parsed.status();
  BindOptions options;
  options.read_files = false;
  return BindJob(std::move(*parsed), options);
}

TEST(SqlErrorTest, WithoutFilesASourceNeedsADeclaredSchema) {
  const std::string examples = SLUICE_SOURCE_DIR "/examples/orders.jsonl";
  const auto job =
      BindWithoutFiles("SELECT * FROM o WITH ('o.type' = 'file_source', 'o.path' = '" + examples + "')");
  ASSERT_FALSE(job.ok());
  EXPECT_NE(std::string(job.status().message()).find("source 'o' needs 'o.schema' here"), std::string::npos)
      << job.status().message();
}

TEST(SqlErrorTest, WithoutFilesAGlobIsOneFileNeverExpanded) {
  const auto job =
      BindWithoutFiles("SELECT * FROM o WITH ('o.type' = 'file_source', 'o.path' = '" SLUICE_SOURCE_DIR
                       "/examples/*.jsonl', 'o.schema' = 'a BIGINT')");
  ASSERT_TRUE(job.ok()) << job.status().message();
  EXPECT_EQ(job->sources[0].partitions, std::vector<std::string>{SLUICE_SOURCE_DIR "/examples/*.jsonl"});
}

}  // namespace
}  // namespace sluice
