// End-to-end tests of the `sluice` binary: flags, exit codes, the README quickstart, and the
// dead-letter behaviour on malformed input.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>

#include "absl/strings/escaping.h"
#include "common/strings.h"
#include "catalog/connector_registry.h"
#include "job_test_harness.h"
#include "runtime/topology.h"

namespace sluice::testing {
namespace {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `sluice arguments` from the source directory with the usual stack limit (8 MiB, scaled
// for sanitizer builds).
CommandResult RunSluice(const std::string& arguments) {
  TemporaryDirectory directory;
  const std::string out = directory.File("stdout"), err = directory.File("stderr");
  const std::string command =
      StrCat("ulimit -s ", kMainThreadStackBytes * kSanitizerStackFactor / 1024, " && cd ", SLUICE_SOURCE_DIR,
             " && ", SLUICE_BINARY, " ", arguments, " >", out, " 2>", err, " </dev/null");
  const int status = std::system(command.c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadFile(out);
  result.err = ReadFile(err);
  return result;
}

bool Contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

std::string Repeat(std::string_view piece, size_t times) {
  std::string out;
  for (size_t i = 0; i < times; ++i) out += piece;
  return out;
}

TEST(CliTest, VersionPrintsVersion) {
  const CommandResult result = RunSluice("--version");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_TRUE(StartsWith(result.out, "sluice ")) << result.out;
}

TEST(CliTest, HelpListsCommands) {
  const CommandResult result = RunSluice("--help");
  EXPECT_EQ(result.exit_code, 0);
  for (const char* command : {"run JOB.sql", "explain JOB.sql", "validate JOB.sql"}) {
    EXPECT_TRUE(Contains(result.out, command)) << result.out;
  }
}

TEST(CliTest, HelpListsTheRegisteredConnectors) {
  const CommandResult result = RunSluice("--help");
  EXPECT_EQ(result.exit_code, 0);
  const ConnectorRegistry& registry = ConnectorRegistry::Default();
  for (const SourceConnector& connector : registry.sources()) {
    EXPECT_TRUE(Contains(result.out, StrCat("  ", connector.type, " "))) << result.out;
    EXPECT_TRUE(Contains(result.out, connector.summary)) << result.out;
  }
  for (const SinkConnector& connector : registry.sinks()) {
    EXPECT_TRUE(Contains(result.out, StrCat("  ", connector.type, " "))) << result.out;
  }
  EXPECT_TRUE(Contains(result.out, "connectors [TYPE]")) << result.out;
}

// `sluice connectors` (and `sluice explain --connectors`, the same listing) shows every
// connector with every key it accepts, its default and its documentation.
TEST(CliTest, ConnectorsListsEveryKeyWithItsDefault) {
  const CommandResult result = RunSluice("connectors");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const ConnectorRegistry& registry = ConnectorRegistry::Default();
  auto expect_keys = [&](const std::string& type, const std::vector<ConnectorKey>& keys) {
    const size_t at = result.out.find(StrCat("  ", type, ": "));
    ASSERT_NE(at, std::string::npos) << result.out;
    for (const ConnectorKey& key : keys) {
      const size_t line = result.out.find(StrCat("    ", key.name, " "), at);
      ASSERT_NE(line, std::string::npos) << type << "." << key.name;
      const std::string text = result.out.substr(line, result.out.find('\n', line) - line);
      EXPECT_TRUE(Contains(text, key.documentation)) << text;
      if (!key.default_value.empty()) {
        EXPECT_TRUE(Contains(text, StrCat("(default: ", key.default_value, ")"))) << text;
      }
    }
  };
  for (const SourceConnector& connector : registry.sources()) {
    if (connector.supported) {
      expect_keys(connector.type, connector.keys);
    } else {
      EXPECT_TRUE(Contains(result.out,
                           StrCat("  ", connector.type, ": ", connector.summary, " (not supported yet)")));
    }
  }
  for (const SinkConnector& connector : registry.sinks()) expect_keys(connector.type, connector.keys);
  EXPECT_TRUE(Contains(result.out, "properties.<key>   any librdkafka consumer property")) << result.out;
  const CommandResult explain = RunSluice("explain --connectors");
  EXPECT_EQ(explain.exit_code, 0) << explain.err;
  EXPECT_EQ(explain.out, result.out);
}

TEST(CliTest, ConnectorsOfOneTypeAndUnknownType) {
  const CommandResult kafka = RunSluice("connectors kafka_source");
  EXPECT_EQ(kafka.exit_code, 0) << kafka.err;
  EXPECT_TRUE(Contains(kafka.out, "  kafka_source: ")) << kafka.out;
  EXPECT_TRUE(Contains(kafka.out, "    group.id ")) << kafka.out;
  EXPECT_FALSE(Contains(kafka.out, "file_source")) << kafka.out;
  EXPECT_EQ(RunSluice("explain --connectors kafka_source").out, kafka.out);
  const CommandResult unknown = RunSluice("connectors kafka");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(Contains(unknown.err, "unknown connector type 'kafka' (sources: file_source, kafka_source"))
      << unknown.err;
  EXPECT_TRUE(Contains(unknown.err, "usage: sluice connectors [TYPE]")) << unknown.err;
}

TEST(CliTest, SubcommandHelp) {
  const CommandResult result = RunSluice("run --help");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_TRUE(Contains(result.out, "--batch-size N")) << result.out;
}

TEST(CliTest, UnknownFlagPrintsUsageAndExitsTwo) {
  const CommandResult result = RunSluice("run --fast examples/high_value_orders.sql");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(Contains(result.err, "unknown option '--fast'")) << result.err;
  EXPECT_TRUE(Contains(result.err, "usage: sluice run")) << result.err;
}

TEST(CliTest, UnknownCommandExitsTwo) {
  const CommandResult result = RunSluice("launch job.sql");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(Contains(result.err, "unknown command 'launch'")) << result.err;
}

TEST(CliTest, BadBatchSizeExitsTwo) {
  const CommandResult result = RunSluice("run --batch-size 0 examples/high_value_orders.sql");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(Contains(result.err, "--batch-size needs a whole number")) << result.err;
}

TEST(CliTest, MissingJobFileExitsTwo) {
  EXPECT_EQ(RunSluice("run").exit_code, 2);
  const CommandResult result = RunSluice("run does/not/exist.sql");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(Contains(result.err, "cannot read job file 'does/not/exist.sql'")) << result.err;
}

TEST(CliTest, ValidateAcceptsExamples) {
  for (const char* example :
       {"examples/high_value_orders.sql", "examples/order_pipeline.sql", "examples/volume_by_symbol.sql",
        "examples/trader_minute_volume.sql", "examples/moving_average.sql", "examples/sliding_volume.sql",
        "examples/trader_sessions.sql", "examples/trades_over_limit.sql"}) {
    const CommandResult result = RunSluice(StrCat("validate ", example));
    EXPECT_EQ(result.exit_code, 0) << example << ": " << result.err;
    EXPECT_TRUE(Contains(result.out, ": ok")) << result.out;
  }
}

// The README's example of an error: `file:line:column: error: message` (the form editors and
// CI annotations parse), the line with a caret under the column, then the count.
TEST(CliTest, ValidateReportsErrorInEditorFormAsTheReadmeShows) {
  TemporaryDirectory directory;
  const std::string job = directory.File("bad.sql");
  WriteFile(job,
            "CREATE STREAM s AS\nSELECT order_id, total_amout FROM orders\nWITH ('orders.type' = "
            "'file_source', 'orders.path' = 'examples/orders.jsonl')\n");
  const CommandResult result = RunSluice(StrCat("validate ", job));
  EXPECT_EQ(result.exit_code, 1);
  const std::string expected =
      "bad.sql:2:18: error: unknown column 'total_amout'; did you mean 'total_amount'?\n"
      "  2 | SELECT order_id, total_amout FROM orders\n"
      "    |                  ^\n"
      "1 error\n";
  EXPECT_EQ(result.err, directory.path() + "/" + expected);
  const std::string readme = ReadFile(StrCat(SLUICE_SOURCE_DIR, "/README.md"));
  EXPECT_TRUE(Contains(readme, "```\n" + expected + "```")) << "README.md does not show this error";
}

// validate reports the first error of every statement (and every syntax error, when there are
// some); run stops at the same errors and prints them alike.
TEST(CliTest, ValidateAndRunReportEveryError) {
  TemporaryDirectory directory;
  const std::string job = directory.File("three.sql");
  WriteFile(job,
            "CREATE STREAM a AS SELECT order_id, total_amout FROM orders;\n"
            "CREATE STREAM b AS SELECT order_id FROM orders WHERE total_amount;\n"
            "CREATE STREAM c AS SELECT UPPPER(customer_id) FROM orders\n"
            "WITH ('orders.type' = 'file_source', 'orders.path' = 'examples/orders.jsonl')\n");
  const std::string expected =
      StrCat(job, ":1:37: error: unknown column 'total_amout'; did you mean 'total_amount'?\n",
             "  1 | CREATE STREAM a AS SELECT order_id, total_amout FROM orders;\n",
             "    |                                     ^\n",  //
             job, ":2:54: error: WHERE must be a BOOLEAN condition, found DOUBLE\n",
             "  2 | CREATE STREAM b AS SELECT order_id FROM orders WHERE total_amount;\n",
             "    |                                                      ^\n",  //
             job, ":3:27: error: unknown function 'UPPPER'; did you mean 'UPPER'?\n",
             "  3 | CREATE STREAM c AS SELECT UPPPER(customer_id) FROM orders\n",
             "    |                           ^\n",  //
             "3 errors\n");
  for (const char* command : {"validate ", "run ", "explain "}) {
    const CommandResult result = RunSluice(StrCat(command, job));
    EXPECT_EQ(result.exit_code, 1) << command;
    EXPECT_EQ(result.err, expected) << command;
    EXPECT_EQ(result.out, "") << command;
  }

  WriteFile(job, "SELECT FROM orders;\nSELECT order_id FROM orders WHERE;\n");
  const CommandResult syntax = RunSluice(StrCat("validate ", job));
  EXPECT_EQ(syntax.exit_code, 1);
  EXPECT_EQ(syntax.err, StrCat(job, ":1:8: error: syntax error: expected an expression, found 'FROM'\n",
                               "  1 | SELECT FROM orders;\n",  //
                               "    |        ^\n",             //
                               job, ":2:34: error: syntax error: expected an expression, found ';'\n",
                               "  2 | SELECT order_id FROM orders WHERE;\n",  //
                               "    |                                  ^\n",  //
                               "2 errors\n"));
}

// Input nested far beyond the limit is a positioned error, not a crash, and its excerpt is cut
// to the neighbourhood of the column.
TEST(CliTest, ValidateRefusesExpressionsNestedTooDeeply) {
  TemporaryDirectory directory;
  const std::string with =
      "\nWITH ('orders.type' = 'file_source', 'orders.path' = 'examples/orders.jsonl')\n";
  struct Case {
    const char* name;
    std::string select;
    size_t column;  // of the token where the limit is crossed
  };
  const Case cases[] = {
      {"parentheses", "SELECT " + Repeat("(", 5000) + "total_amount" + Repeat(")", 5000) + " FROM orders",
       8 + 1000},  // the 1,001st '('
      {"not", "SELECT order_id FROM orders WHERE " + Repeat("NOT ", 20000) + "TRUE",
       35 + 4 * 1000},  // the 1,001st NOT
      {"plus", "SELECT total_amount" + Repeat(" + total_amount", 100000) + " FROM orders",
       21 + 15 * 999},  // the 1,000th '+'
  };
  for (const Case& c : cases) {
    const std::string job = directory.File(StrCat(c.name, ".sql"));
    WriteFile(job, c.select + with);
    const CommandResult result = RunSluice(StrCat("validate ", job));
    EXPECT_EQ(result.exit_code, 1) << c.name << ": " << result.err.substr(0, 300);
    EXPECT_TRUE(StartsWith(
        result.err,
        StrCat(job, ":1:", c.column, ": error: expression nested too deeply (more than 1000 levels)\n")))
        << c.name << ": " << result.err.substr(0, 300);
    EXPECT_LT(result.err.size(), 1000u) << c.name;
    EXPECT_EQ(RunSluice(StrCat("run ", job)).exit_code, 1) << c.name;
  }
}

// 900 levels of nesting, of NOT and of '+' run, on one thread and on two.
TEST(CliTest, RunsExpressionsNineHundredLevelsDeep) {
  TemporaryDirectory directory;
  const std::string job = directory.File("deep.sql");
  WriteFile(job, StrCat("SELECT ", Repeat("(", 899), "order_id", Repeat(")", 899), " AS id, total_amount",
                        Repeat(" + 0", 899), " AS amount\nFROM orders WHERE ", Repeat("NOT ", 898),
                        "(total_amount > 100)\n"
                        "WITH ('orders.type' = 'file_source', 'orders.path' = 'examples/orders.jsonl')\n"));
  for (const char* parallelism : {"1", "2"}) {
    const CommandResult result = RunSluice(StrCat("run --quiet --parallelism ", parallelism, " ", job));
    ASSERT_EQ(result.exit_code, 0) << result.err.substr(0, 300);
    std::vector<std::string> rows;
    for (std::string_view row : StrSplit(result.out, '\n', true)) rows.emplace_back(row);
    std::sort(rows.begin(), rows.end());
    EXPECT_EQ(rows,
              (std::vector<std::string>{"{\"id\":1001,\"amount\":250}", "{\"id\":1004,\"amount\":1200.75}",
                                        "{\"id\":1006,\"amount\":100.01}", "{\"id\":1008,\"amount\":340.2}"}))
        << "parallelism " << parallelism;
  }
}

TEST(CliTest, ExplainPrintsLogicalAndPhysicalPlans) {
  const CommandResult result = RunSluice("explain examples/high_value_orders.sql");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  for (const char* fragment :
       {"logical plan:", "Project", "Filter (total_amount#3 > 100", "Scan orders (source)",
        "physical plan:", "FileSource orders <- examples/orders.jsonl", "StdoutSink"}) {
    EXPECT_TRUE(Contains(result.out, fragment)) << fragment << " missing from:\n" << result.out;
  }
}

// explain names the job's dialect and why, and what a Flink job means that its text does not say.
TEST(CliTest, ExplainPrintsTheDialect) {
  // Nexmark q1's DECIMAL(23, 3) is exact: nothing to note.
  const CommandResult flink = RunSluice("explain --set NEXMARK=/nonexistent scenarios/nexmark/flink/q1.sql");
  EXPECT_EQ(flink.exit_code, 0) << flink.err;
  EXPECT_TRUE(
      StartsWith(flink.out, "dialect: flink (CREATE TABLE with column definitions at 9:1)\nstatement 1"))
      << flink.out;
  EXPECT_TRUE(Contains(flink.out, "FileSink nexmark_q1")) << flink.out;
  EXPECT_TRUE(Contains(flink.out, "(0.908 * CAST(price#2 AS DECIMAL(19, 0))) AS price")) << flink.out;
  // A FLOAT column is read as a DOUBLE: explain notes it, validate and run say it on stderr.
  TemporaryDirectory directory;
  const std::string job = directory.File("float.sql");
  WriteFile(
      job,
      "CREATE TABLE t (id BIGINT,\n  ratio FLOAT) WITH ('connector' = 'filesystem', 'path' = "
      "'examples/orders.jsonl', 'format' = 'json');\n"
      "CREATE TABLE out (id BIGINT) WITH ('connector' = 'blackhole');\nINSERT INTO out SELECT id FROM t;\n");
  const CommandResult explained = RunSluice(StrCat("explain ", job));
  EXPECT_EQ(explained.exit_code, 0) << explained.err;
  EXPECT_TRUE(StartsWith(explained.out,
                         "dialect: flink (CREATE TABLE with column definitions at 1:1)\n"
                         "note: 2:9: column 'ratio' FLOAT is a DOUBLE\n"))
      << explained.out;
  const CommandResult validate = RunSluice(StrCat("validate ", job));
  EXPECT_EQ(validate.exit_code, 0) << validate.err;
  EXPECT_EQ(validate.err, StrCat(job, ":2:9: note: column 'ratio' FLOAT is a DOUBLE\n"));
  const CommandResult ours = RunSluice("explain examples/high_value_orders.sql");
  EXPECT_EQ(ours.exit_code, 0) << ours.err;
  EXPECT_TRUE(StartsWith(ours.out, "dialect: sluice (")) << ours.out;
}

// On 1 and on 2 workers, the physical plan of a two-statement pipeline shows each operator once:
// the second statement under the first one's output (behind the gather on 2 workers).
TEST(CliTest, ExplainShowsEachOperatorOnceAtAnyParallelism) {
  for (const char* parallelism : {"1", "2"}) {
    const CommandResult result =
        RunSluice(StrCat("explain --parallelism ", parallelism, " examples/order_pipeline.sql"));
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const std::string physical = result.out.substr(result.out.find("physical plan:"));
    for (const char* fragment : {"Filter ((amount_with_tax#3 >= 100)", "FileSink taxed_large_orders"}) {
      const size_t first = physical.find(fragment);
      ASSERT_NE(first, std::string::npos) << fragment << " missing from:\n" << physical;
      EXPECT_EQ(physical.find(fragment, first + 1), std::string::npos)
          << fragment << " shown twice at parallelism " << parallelism << ":\n"
          << physical;
    }
  }
}

// A Top-N shows in the logical plan as one TopN node in its derived table's statement, and at
// parallelism 2 behind a keyed exchange on its PARTITION BY columns, like a GROUP BY.
TEST(CliTest, ExplainShowsTopNKeyedByItsPartitionColumns) {
  const CommandResult result = RunSluice("explain --parallelism 2 examples/top_trades.sql");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  for (const char* fragment :
       {"statement 1: top_trades$t (derived table 't' of top_trades)",
        "TopN updating ROW_NUMBER <= 3 partition by [symbol] order by [quantity DESC, trade_id] as rn",
        "Exchange hash(symbol) -> 2 workers",
        "TopN updating ROW_NUMBER <= 3 partition by [#2] order by [#4 DESC, #0]  [each worker, its keys]"}) {
    EXPECT_TRUE(Contains(result.out, fragment)) << fragment << " missing from:\n" << result.out;
  }
  const CommandResult dedup = RunSluice("explain examples/first_trade_per_trader.sql");
  ASSERT_EQ(dedup.exit_code, 0) << dedup.err;
  EXPECT_TRUE(Contains(dedup.out,
                       "TopN dedup keep first ROW_NUMBER <= 1 partition by [trader_id] order by "
                       "[trade_time], no rank column"))
      << dedup.out;
}

// The README's quickstart command prints exactly what the README shows.
TEST(CliTest, QuickstartOutputMatchesReadme) {
  const CommandResult result = RunSluice("run examples/high_value_orders.sql");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string expected =
      ReadFile(StrCat(SLUICE_SOURCE_DIR, "/examples/high_value_orders.expected.jsonl"));
  EXPECT_EQ(result.out, expected);
  EXPECT_TRUE(Contains(result.err, "records in: 8, out: 4, dead-lettered: 0")) << result.err;
  const std::string readme = ReadFile(StrCat(SLUICE_SOURCE_DIR, "/README.md"));
  EXPECT_TRUE(Contains(readme, expected)) << "README.md does not show the quickstart output";
}

TEST(CliTest, MultiStatementPipelineWritesCsv) {
  TemporaryDirectory directory;
  const std::string out = directory.File("taxed.csv");
  const CommandResult result = RunSluice(StrCat("run --set OUT=", out, " examples/order_pipeline.sql"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(ReadFile(out),
            "order_id,customer,amount_with_tax\n1001,CUST100,300\n1003,CUST102,120\n1004,CUST100,1440.9\n"
            "1005,CUST103,119.99\n1006,CUST104,120.01\n1008,CUST105,408.24\n");
}

// 1,000 lines with 3 malformed ones: 997 rows out, 3 dead letters with reason and line number.
TEST(CliTest, MalformedLinesGoToDeadLetterFile) {
  TemporaryDirectory directory;
  std::string input;
  for (int line = 1; line <= 1000; ++line) {
    if (line == 17) {
      input += "{\"id\": 17, \"amount\": \n";  // truncated JSON
    } else if (line == 500) {
      input += "{\"id\": 500, \"amount\": \"lots\"}\n";  // not a number
    } else if (line == 1000) {
      input += "this is not json\n";
    } else {
      StrAppend(&input, "{\"id\": ", line, ", \"amount\": ", line * 2, ".5}\n");
    }
  }
  WriteFile(directory.File("in.jsonl"), input);
  WriteFile(directory.File("job.sql"),
            StrCat("CREATE STREAM out AS SELECT id, amount FROM orders WITH (\n"
                   "'orders.type' = 'file_source', 'orders.path' = '",
                   directory.File("in.jsonl"), "',\n",
                   "'orders.schema' = 'id BIGINT, amount DOUBLE',\n'orders.dead_letter.path' = '",
                   directory.File("bad.jsonl"), "',\n'out.type' = 'file_sink', 'out.path' = '",
                   directory.File("out.jsonl"), "')\n"));
  const CommandResult result = RunSluice(StrCat("run ", directory.File("job.sql")));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(ReadLines(directory.File("out.jsonl")).size(), 997u);
  const std::vector<std::string> dead = ReadLines(directory.File("bad.jsonl"));
  ASSERT_EQ(dead.size(), 3u);
  EXPECT_TRUE(Contains(dead[0], "\"line\":17,\"reason\":\"")) << dead[0];
  EXPECT_TRUE(Contains(dead[1], "\"line\":500,\"reason\":\"")) << dead[1];
  EXPECT_TRUE(Contains(dead[1], "amount")) << dead[1];
  EXPECT_TRUE(Contains(dead[2], "\"line\":1000,")) << dead[2];
  EXPECT_TRUE(Contains(dead[2], "\"record\":\"this is not json\"")) << dead[2];
  EXPECT_TRUE(Contains(result.err, "records in: 1,000, out: 997, dead-lettered: 3")) << result.err;
  EXPECT_TRUE(Contains(result.err, "dead-letter records written to " + directory.File("bad.jsonl")))
      << result.err;

  // --strict stops at the first bad record and names its line.
  const CommandResult strict = RunSluice(StrCat("run --strict ", directory.File("job.sql")));
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_TRUE(Contains(strict.err, "line 17:")) << strict.err;
}

// Invalid UTF-8 in a CSV field never makes invalid JSON: the sink writes U+FFFD for each
// ill-formed sequence and the summary counts them; a dead-lettered record with invalid bytes
// keeps them exactly, in base64.
TEST(CliTest, InvalidUtf8IsReplacedInOutputAndKeptExactInDeadLetters) {
  TemporaryDirectory directory;
  WriteFile(directory.File("in.csv"),
            "name,qty\nc\xff,1\nok,2\n\xed\xa0\x80x,3\nd\xfe,notanumber\n\xc3\xa9t\xc3\xa9,4\n");
  WriteFile(
      directory.File("job.sql"),
      StrCat("SELECT name, qty FROM s WITH ('s.type' = 'file_source', 's.path' = '", directory.File("in.csv"),
             "', 's.schema' = 'name STRING, qty BIGINT', 's.dead_letter.path' = '",
             directory.File("bad.jsonl"), "')"));
  const CommandResult result = RunSluice(StrCat(
      "run --parallelism 1 --summary-json ", directory.File("summary.json"), " ", directory.File("job.sql")));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  simdjson::dom::parser parser;
  simdjson::dom::element summary;
  ASSERT_EQ(parser.load(directory.File("summary.json")).get(summary), simdjson::SUCCESS);
  EXPECT_EQ(summary["invalid_utf8_replaced"].get_uint64().value_unsafe(), 4u);
  // The process's own peak (VmHWM): some megabytes, far below what a forked parent could hold.
  const uint64_t peak = summary["peak_rss_bytes"].get_uint64().value_unsafe();
  EXPECT_GT(peak, uint64_t{1} << 20);
  EXPECT_LT(peak, uint64_t{2} << 30);
  std::vector<std::string> names;
  for (std::string_view line : StrSplit(result.out, '\n', true)) {
    simdjson::dom::element row;
    ASSERT_EQ(parser.parse(line.data(), line.size()).get(row), simdjson::SUCCESS) << line;
    std::string_view name;
    ASSERT_EQ(row["name"].get(name), simdjson::SUCCESS) << line;
    names.emplace_back(name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"c\xef\xbf\xbd", "ok", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx",
                                             "\xc3\xa9t\xc3\xa9"}));
  EXPECT_TRUE(Contains(result.err, "dead-lettered: 1,")) << result.err;
  EXPECT_TRUE(Contains(result.err, ", invalid UTF-8 replaced: 4")) << result.err;
  const std::vector<std::string> dead = ReadLines(directory.File("bad.jsonl"));
  ASSERT_EQ(dead.size(), 1u);
  simdjson::dom::element letter;
  ASSERT_EQ(parser.parse(dead[0]).get(letter), simdjson::SUCCESS) << dead[0];
  std::string_view base64;
  ASSERT_EQ(letter["record_base64"].get(base64), simdjson::SUCCESS) << dead[0];
  std::string record;
  ASSERT_TRUE(absl::Base64Unescape(absl::string_view(base64.data(), base64.size()), &record));
  EXPECT_EQ(record, "d\xfe,notanumber");
}

// A 512 MiB line from a pipe is dead-lettered as too long (16 MiB by default) while it streams
// through, and the records around it are read, with the job's address space limited to
// 512 MiB (it needs about 140 MiB): holding the line would take a buffer of 1 GiB. (Peak RSS
// from wait4() would count the test process's own peak too, which the shared address space
// of posix_spawn passes on to the child.) Sanitizers reserve terabytes of address space, so
// their builds check the rest without the limit.
TEST(CliTest, AHugeLineIsSkippedWithBoundedMemory) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  const std::string address_space_limit;
#else
  const std::string address_space_limit = "ulimit -v 524288; ";
#endif
  TemporaryDirectory directory;
  constexpr uint64_t kLineBytes = 512ull << 20;
  WriteFile(
      directory.File("job.sql"),
      StrCat("SELECT id FROM s WITH ('s.type' = 'file_source', 's.path' = '/dev/stdin', 's.schema' = 'id "
             "BIGINT', 's.dead_letter.path' = '",
             directory.File("bad.jsonl"), "')"));
  const std::string command =
      StrCat("{ printf '{\"id\":1}\\n'; head -c ", kLineBytes,
             " /dev/zero | tr '\\0' x; printf '\\n{\"id\":2}\\n'; } | (", address_space_limit, "exec ",
             SLUICE_BINARY, " run --parallelism 1 ", directory.File("job.sql"), ") >", directory.File("out"),
             " 2>", directory.File("err"));
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadFile(directory.File("err"));
  EXPECT_EQ(ReadFile(directory.File("out")), "{\"id\":1}\n{\"id\":2}\n");
  EXPECT_TRUE(Contains(ReadFile(directory.File("err")), "records in: 3, out: 2, dead-lettered: 1,"))
      << ReadFile(directory.File("err"));
  const std::vector<std::string> dead = ReadLines(directory.File("bad.jsonl"));
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_TRUE(StartsWith(
      dead[0], StrCat("{\"source\":\"s\",\"line\":2,\"reason\":\"record too long: ", kLineBytes,
                      " bytes, over the limit of 16777216 ('s.max.record.bytes')\",\"length\":", kLineBytes,
                      ",\"record_prefix\":\"xxx")))
      << dead[0].substr(0, 300);
  EXPECT_LT(dead[0].size(), 2000u);  // the first 1 KiB of the record, not the record
}

// A pipe can be read once: its schema must be declared, and then every record arrives.
TEST(CliTest, PipeInputNeedsADeclaredSchemaAndLosesNothing) {
  TemporaryDirectory directory;
  auto run_piped = [&](const std::string& job) {
    const std::string out = directory.File("out"), err = directory.File("err");
    const std::string command =
        StrCat("cd ", SLUICE_SOURCE_DIR, " && ", SLUICE_BINARY, " datagen --kind trades --count 100000 | ",
               SLUICE_BINARY, " run ", job, " >", out, " 2>", err);
    const int status = std::system(command.c_str());
    return CommandResult{WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(out), ReadFile(err)};
  };
  const std::string inferred = directory.File("inferred.sql");
  WriteFile(inferred,
            "SELECT symbol FROM trades WITH ('trades.type' = 'file_source', 'trades.path' = '/dev/stdin')");
  const CommandResult refused = run_piped(inferred);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(Contains(refused.err, "is not a regular file (a pipe or device)")) << refused.err;

  const std::string declared = directory.File("declared.sql");
  WriteFile(declared,
            "SELECT COUNT(*) AS n FROM trades EMIT FINAL WITH ('trades.type' = 'file_source', "
            "'trades.path' = '/dev/stdin', 'trades.schema' = 'trade_id BIGINT, symbol STRING')");
  const CommandResult counted = run_piped(declared);
  EXPECT_EQ(counted.exit_code, 0) << counted.err;
  EXPECT_EQ(counted.out, "{\"n\":100000}\n");
}

// The summary counts late rows (here dead-lettered) next to the other counts.
TEST(CliTest, SummaryCountsLateRecords) {
  TemporaryDirectory directory;
  WriteFile(directory.File("in.jsonl"), "{\"ts\":1000}\n{\"ts\":61000}\n{\"ts\":2000}\n{\"ts\":62000}\n");
  WriteFile(
      directory.File("job.sql"),
      StrCat("SELECT COUNT(*) AS n FROM s WINDOW TUMBLING(1m) WITH ('s.type' = 'file_source', 's.path' = '",
             directory.File("in.jsonl"),
             "', 'event.time.field' = 'ts', 'late.data.strategy' = 'dead_letter')"));
  const CommandResult result = RunSluice(StrCat("run ", directory.File("job.sql")));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "{\"n\":1}\n{\"n\":2}\n");
  EXPECT_TRUE(Contains(result.err, "records in: 4, out: 2, dead-lettered: 1,")) << result.err;
  EXPECT_TRUE(Contains(result.err, ", late: 1")) << result.err;
  const std::vector<std::string> dead = ReadLines(directory.File("in.jsonl.dead_letter.jsonl"));
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_TRUE(Contains(dead[0], "\"reason\":\"late: ")) << dead[0];
}

TEST(CliTest, TopologyPrintsMachineAndOneLinePerWorker) {
  const CommandResult result = RunSluice("topology");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  for (const char* fragment : {"cpus: ", "physical cores: ", "NUMA nodes: ", "  node ",
                               "placement: ", ", compact\n", "worker 0 -> cpu "}) {
    EXPECT_TRUE(Contains(result.out, fragment)) << fragment << " missing from:\n" << result.out;
  }
  EXPECT_FALSE(Contains(result.out, "oversubscribed")) << result.out;  // default: one worker per CPU
  EXPECT_TRUE(Contains(RunSluice("--help").out, "topology [--parallelism N]"));
}

TEST(CliTest, TopologyMarksWorkersBeyondTheCpusOversubscribed) {
  auto topology = DetectTopology();
  ASSERT_TRUE(topology.ok()) << topology.status();
  const size_t cpus = topology->cpus.size();
  const CommandResult result = RunSluice(StrCat("topology --parallelism ", cpus + 1, " --placement=spread"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(Contains(result.out, StrCat("placement: ", cpus + 1, " workers on ", cpus, " cpu")))
      << result.out;
  EXPECT_TRUE(Contains(result.out, ", spread (oversubscribed: 1 worker shares a cpu")) << result.out;
  EXPECT_TRUE(Contains(result.out, StrCat("worker ", cpus, " -> cpu ", topology->cpus[0], " (node ",
                                          topology->cpu_node[0], "), oversubscribed: shares cpu ")))
      << result.out;
}

// taskset narrows what the process may use; the topology and the placement follow it.
TEST(CliTest, TopologyRespectsTaskset) {
  auto topology = DetectTopology();
  ASSERT_TRUE(topology.ok()) << topology.status();
  if (std::system("taskset -V >/dev/null 2>&1") != 0) GTEST_SKIP() << "no taskset";
  const int last = topology->cpus.back();
  TemporaryDirectory directory;
  const std::string out = directory.File("stdout");
  const std::string command =
      StrCat("taskset -c ", last, " ", SLUICE_BINARY, " topology --parallelism 2 >", out, " 2>&1");
  ASSERT_EQ(std::system(command.c_str()), 0) << ReadFile(out);
  const std::string text = ReadFile(out);
  EXPECT_TRUE(StartsWith(text, StrCat("cpus: 1 (", last, ")\n"))) << text;
  EXPECT_TRUE(Contains(text, StrCat("worker 0 -> cpu ", last, " (node "))) << text;
  EXPECT_TRUE(Contains(text, StrCat("worker 1 -> cpu ", last, " (node "))) << text;
  EXPECT_TRUE(Contains(text, "oversubscribed")) << text;
}

TEST(CliTest, TopologyBadFlagPrintsUsageAndExitsTwo) {
  struct Case {
    const char* arguments;
    const char* error;
  };
  for (const Case& c :
       {Case{"--placement scatter", "--placement: unknown placement 'scatter' (compact or spread)"},
        Case{"--parallelism 0", "--parallelism needs a whole number from 1 to 1024"},
        Case{"--parallelism many", "--parallelism needs a whole number from 1 to 1024"},
        Case{"--parallelism", "--parallelism needs a value"},
        Case{"--threads 2", "unknown option '--threads'"}, Case{"extra", "unexpected argument 'extra'"}}) {
    const CommandResult result = RunSluice(StrCat("topology ", c.arguments));
    EXPECT_EQ(result.exit_code, 2) << c.arguments;
    EXPECT_TRUE(Contains(result.err, c.error)) << c.arguments << ": " << result.err;
    EXPECT_TRUE(Contains(result.err, "usage: sluice topology")) << c.arguments << ": " << result.err;
    EXPECT_TRUE(result.out.empty()) << c.arguments << ": " << result.out;
  }
}

// A job whose state outgrows 'state.max.bytes' (or --memory-limit) fails with an error that
// names the operator, its keys and bytes and the limit, instead of growing until the kernel
// kills it; with room to spare the same job runs. On one worker and on two.
TEST(CliTest, StateLimitFailsTheJobNamingTheOperator) {
  TemporaryDirectory directory;
  std::string data;
  for (int i = 0; i < 200000; ++i) StrAppend(&data, "{\"k\":\"key-", i, "\",\"v\":", i, "}\n");
  WriteFile(directory.File("in.jsonl"), data);
  const std::string job = directory.File("job.sql");
  WriteFile(job,
            StrCat("CREATE STREAM out AS SELECT k, SUM(v) AS total FROM t GROUP BY k WITH ("
                   "'t.type' = 'file_source', 't.path' = '",
                   directory.File("in.jsonl"), "', 't.format' = 'json', 't.schema' = 'k STRING, v BIGINT', ",
                   "'state.max.bytes' = '${LIMIT}', 'out.type' = 'file_sink', 'out.path' = '",
                   directory.File("out.jsonl"), "')"));
  for (int parallelism : {1, 2}) {
    CommandResult result =
        RunSluice(StrCat("run --quiet --parallelism ", parallelism, " --set LIMIT=4MB ", job));
    EXPECT_EQ(result.exit_code, 1) << result.err;
    EXPECT_TRUE(Contains(result.err, "state limit exceeded")) << result.err;
    EXPECT_TRUE(Contains(result.err, "over 'state.max.bytes' = 4.0 MiB (4194304 bytes)")) << result.err;
    EXPECT_TRUE(Contains(result.err, "operator HashAggregate keys [k#0]")) << result.err;
    EXPECT_TRUE(Contains(result.err, " keys in ")) << result.err;

    result = RunSluice(StrCat("run --quiet --parallelism ", parallelism, " --set LIMIT=1GB ", job));
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(ReadLines(directory.File("out.jsonl")).size(), 200000u);

    // --memory-limit overrides the job's own limit.
    result = RunSluice(
        StrCat("run --quiet --parallelism ", parallelism, " --memory-limit 2MiB --set LIMIT=1GB ", job));
    EXPECT_EQ(result.exit_code, 1) << result.err;
    EXPECT_TRUE(Contains(result.err, "over 'state.max.bytes' = 2.0 MiB")) << result.err;
  }
  const CommandResult bad = RunSluice(StrCat("run --memory-limit lots ", job));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(Contains(bad.err, "--memory-limit needs a size")) << bad.err;
  const CommandResult invalid = RunSluice(StrCat("validate --set LIMIT=lots ", job));
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_TRUE(Contains(invalid.err, "invalid size 'lots' for 'state.max.bytes'")) << invalid.err;
}

// --summary-json writes the summary as one JSON object; SIGTERM stops a job gracefully: its
// sinks are flushed, the summary says so and the exit status is 0 (SIGINT's stays 130).
TEST(CliTest, SigtermStopsGracefullyAndTheSummaryIsWrittenAsJson) {
  TemporaryDirectory directory;
  const std::string job = directory.File("job.sql");
  WriteFile(job,
            StrCat("CREATE STREAM out AS SELECT k, v FROM t WITH ('t.type' = 'file_source', 't.path' = '",
                   directory.File("fifo"), "', 't.format' = 'json', 't.schema' = 'k STRING, v BIGINT', ",
                   "'out.type' = 'file_sink', 'out.path' = '", directory.File("out.jsonl"), "')"));
  // A writer sends ten records and keeps the FIFO open; SIGTERM arrives while the job waits
  // for more.
  WriteFile(
      directory.File("run.sh"),
      StrCat(
          "cd ", directory.path(), "\nmkfifo fifo\n",
          "(for i in 1 2 3 4 5 6 7 8 9 10; do echo \"{\\\"k\\\":\\\"a\\\",\\\"v\\\":$i}\"; done; "
          "sleep 3) > fifo &\nwriter=$!\n",
          SLUICE_BINARY, " run --parallelism 1 --summary-json summary.json ", job, " 2>err &\n",
          "pid=$!\nsleep 0.6\nkill -TERM $pid\nwait $pid\necho $? > code\nkill $writer 2>/dev/null; true\n"));
  ASSERT_EQ(std::system(StrCat("bash ", directory.File("run.sh")).c_str()), 0);
  EXPECT_EQ(ReadFile(directory.File("code")), "0\n") << ReadFile(directory.File("err"));
  EXPECT_TRUE(Contains(ReadFile(directory.File("err")), "stopped by SIGTERM; records in: 10, out: 10"))
      << ReadFile(directory.File("err"));
  const std::string summary = ReadFile(directory.File("summary.json"));
  EXPECT_TRUE(
      Contains(summary, "{\"status\":\"stopped\",\"exit_code\":0,\"records_in\":10,\"records_out\":10,"))
      << summary;
  EXPECT_TRUE(Contains(summary, "\"error\":null}")) << summary;
  EXPECT_EQ(ReadLines(directory.File("out.jsonl")).size(), 10u);

  const CommandResult bad_flag = RunSluice("run --progress sometimes examples/high_value_orders.sql");
  EXPECT_EQ(bad_flag.exit_code, 2);
  EXPECT_TRUE(Contains(bad_flag.err, "--progress needs auto, always or never")) << bad_flag.err;
}

}  // namespace
}  // namespace sluice::testing
