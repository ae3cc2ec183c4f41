// The diagnostic log (common/log.h): levels filter, text and JSON lines, librdkafka's own log
// lines forwarded at their level, and `sluice run --log-level/--log-format` end to end.
#include "common/log.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sys/wait.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "common/strings.h"
#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/kafka_mock_cluster.h"
#include "job_test_harness.h"

namespace sluice::testing {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

struct JsonLine {
  std::string ts, level, logger, msg;
};

// Parses one JSON line; fails the test when it is not an object with the four string fields.
JsonLine ParseJsonLine(const std::string& line) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(line);
  JsonLine parsed;
  simdjson::ondemand::document document;
  EXPECT_EQ(parser.iterate(padded).get(document), simdjson::SUCCESS) << line;
  simdjson::ondemand::object object;
  EXPECT_EQ(document.get_object().get(object), simdjson::SUCCESS) << line;
  size_t fields = 0;
  for (auto field : object) {
    std::string_view key, value;
    EXPECT_EQ(field.unescaped_key().get(key), simdjson::SUCCESS) << line;
    EXPECT_EQ(field.value().get_string().get(value), simdjson::SUCCESS) << line;
    const std::string k(key);
    if (k == "ts") parsed.ts = value;
    if (k == "level") parsed.level = value;
    if (k == "logger") parsed.logger = value;
    if (k == "msg") parsed.msg = value;
    ++fields;
  }
  EXPECT_EQ(fields, 4u) << line;
  return parsed;
}

// Captures every log line in a string; the log goes back to stderr at info afterwards.
class LogTest : public ::testing::Test {
 protected:
  void Capture(spdlog::level::level_enum level, LogFormat format) {
    out_.str("");
    ConfigureLogging(level, format, std::make_shared<spdlog::sinks::ostream_sink_mt>(out_));
  }
  void TearDown() override { ConfigureLogging(spdlog::level::info, LogFormat::kText); }
  std::string captured() const { return out_.str(); }

  std::ostringstream out_;
};

TEST_F(LogTest, ParsesLevelsAndFormatsAndRefusesOthers) {
  EXPECT_EQ(*ParseLogLevel("trace"), spdlog::level::trace);
  EXPECT_EQ(*ParseLogLevel("debug"), spdlog::level::debug);
  EXPECT_EQ(*ParseLogLevel("info"), spdlog::level::info);
  EXPECT_EQ(*ParseLogLevel("warn"), spdlog::level::warn);
  EXPECT_EQ(*ParseLogLevel("error"), spdlog::level::err);
  EXPECT_EQ(*ParseLogLevel("off"), spdlog::level::off);
  EXPECT_FALSE(ParseLogLevel("verbose").ok());
  EXPECT_NE(ParseLogLevel("INFO").status().message().find("trace, debug, info, warn, error, off"),
            std::string::npos);
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_FALSE(ParseLogFormat("xml").ok());
}

TEST_F(LogTest, LevelFiltersLowerLevelsOfEveryComponent) {
  Capture(spdlog::level::warn, LogFormat::kText);
  Log(LogComponent::kServer).debug("server debug");
  Log(LogComponent::kServer).info("server info");
  Log(LogComponent::kServer).warn("server warn");
  Log(LogComponent::kRuntime).info("runtime info");
  Log(LogComponent::kRuntime).error("runtime error");
  const std::vector<std::string> lines = Lines(captured());
  ASSERT_EQ(lines.size(), 2u) << captured();
  EXPECT_NE(lines[0].find(" warn [server] server warn"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(" error [runtime] runtime error"), std::string::npos) << lines[1];
  // 2026-12-07T18:30:00.123Z: a UTC timestamp with milliseconds first.
  ASSERT_GE(lines[0].size(), 24u);
  EXPECT_EQ(lines[0][10], 'T');
  EXPECT_EQ(lines[0][19], '.');
  EXPECT_EQ(lines[0][23], 'Z');

  Capture(spdlog::level::debug, LogFormat::kText);
  Log(LogComponent::kServer).trace("server trace");
  Log(LogComponent::kServer).debug("server debug");
  EXPECT_EQ(Lines(captured()).size(), 1u) << captured();

  Capture(spdlog::level::off, LogFormat::kText);
  Log(LogComponent::kServer).critical("nothing at off");
  EXPECT_EQ(captured(), "");
}

TEST_F(LogTest, JsonFormatWritesOneParsableObjectPerLine) {
  Capture(spdlog::level::info, LogFormat::kJson);
  Log(LogComponent::kServer).info("job {}: started", 7);
  Log(LogComponent::kKafka).warn("a \"quoted\" \\ text\nwith a newline,\ta tab and \x01");
  Log(LogComponent::kRuntime).debug("filtered out");
  const std::vector<std::string> lines = Lines(captured());
  ASSERT_EQ(lines.size(), 2u) << captured();
  const JsonLine first = ParseJsonLine(lines[0]);
  EXPECT_EQ(first.level, "info");
  EXPECT_EQ(first.logger, "server");
  EXPECT_EQ(first.msg, "job 7: started");
  EXPECT_EQ(first.ts.size(), 24u) << first.ts;
  EXPECT_EQ(first.ts.back(), 'Z') << first.ts;
  const JsonLine second = ParseJsonLine(lines[1]);
  EXPECT_EQ(second.level, "warn");
  EXPECT_EQ(second.logger, "kafka");
  EXPECT_EQ(second.msg, "a \"quoted\" \\ text\nwith a newline,\ta tab and \x01");
}

TEST_F(LogTest, SyslogSeveritiesMapToLevels) {
  EXPECT_EQ(LevelOfSyslog(0), spdlog::level::critical);
  EXPECT_EQ(LevelOfSyslog(2), spdlog::level::critical);
  EXPECT_EQ(LevelOfSyslog(3), spdlog::level::err);
  EXPECT_EQ(LevelOfSyslog(4), spdlog::level::warn);
  EXPECT_EQ(LevelOfSyslog(5), spdlog::level::info);
  EXPECT_EQ(LevelOfSyslog(6), spdlog::level::info);
  EXPECT_EQ(LevelOfSyslog(7), spdlog::level::debug);
}

// librdkafka's own lines reach the log as component "librdkafka" at their level: a producer
// given a consumer property warns about it (CONFWARN, syslog 4), and 'debug' output comes at
// debug level, shown only when the log level lets it through.
TEST_F(LogTest, ForwardsLibrdkafkaLogLinesAtTheirLevel) {
  absl::StatusOr<std::unique_ptr<KafkaMockCluster>> cluster = KafkaMockCluster::Start(1);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->CreateTopic("logged", 1).ok());
  auto produce = [&](std::vector<std::pair<std::string, std::string>> properties) {
    KafkaProducerOptions options;
    options.client.bootstrap_servers = (*cluster)->bootstrap_servers();
    for (auto& [key, value] : properties) options.client.properties.emplace_back(key, value);
    options.topic = "logged";
    options.description = "sink 'logged'";
    absl::StatusOr<std::unique_ptr<KafkaProducer>> producer = KafkaProducer::Create(options);
    ASSERT_TRUE(producer.ok()) << producer.status();
    ASSERT_TRUE((*producer)->Connect().ok());
    ASSERT_TRUE((*producer)->Produce("k", 1, "v", 1).ok());
    ASSERT_TRUE((*producer)->Flush().ok());
  };

  // A consumer property on a producer: librdkafka warns at rd_kafka_new.
  Capture(spdlog::level::warn, LogFormat::kJson);
  produce({{"group.id", "not-for-producers"}});
  bool warned = false;
  for (const std::string& line : Lines(captured())) {
    const JsonLine parsed = ParseJsonLine(line);
    if (parsed.logger == "librdkafka" && parsed.level == "warn" &&
        parsed.msg.find("group.id") != std::string::npos &&
        parsed.msg.find("CONFWARN") != std::string::npos) {
      warned = true;
    }
    EXPECT_NE(parsed.level, "debug") << line;
    EXPECT_NE(parsed.level, "info") << line;
  }
  EXPECT_TRUE(warned) << captured();

  // 'debug' output: nothing at level info, debug lines at level debug.
  Capture(spdlog::level::info, LogFormat::kJson);
  produce({{"debug", "broker,topic,msg"}});
  for (const std::string& line : Lines(captured())) {
    EXPECT_NE(ParseJsonLine(line).level, "debug") << line;
  }
  Capture(spdlog::level::debug, LogFormat::kJson);
  produce({{"debug", "broker,topic,msg"}});
  size_t debug_lines = 0;
  for (const std::string& line : Lines(captured())) {
    const JsonLine parsed = ParseJsonLine(line);
    if (parsed.logger == "librdkafka" && parsed.level == "debug") ++debug_lines;
  }
  EXPECT_GT(debug_lines, 0u) << captured();
}

struct CommandResult {
  int exit_code = -1;
  std::string err;
};

CommandResult RunSluice(const std::string& arguments) {
  TemporaryDirectory directory;
  const std::string err = directory.File("stderr");
  const std::string command =
      StrCat("ulimit -s ", kMainThreadStackBytes * kSanitizerStackFactor / 1024, " && cd ", SLUICE_SOURCE_DIR,
             " && ", SLUICE_BINARY, " ", arguments, " >/dev/null 2>", err, " </dev/null");
  const int status = std::system(command.c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.err = ReadFile(err);
  return result;
}

// `sluice run`: the checkpoint diagnostics are log lines (JSON with --log-format json, gone at
// --log-level warn); the summary is not a log line and stays at every level. (The job is too
// short to take a checkpoint: each run starts from the beginning.)
TEST(LogCommandTest, RunLogsDiagnosticsAtTheChosenLevelAndFormat) {
  TemporaryDirectory directory;
  const std::string run =
      StrCat("run examples/high_value_orders.sql --parallelism 1 --checkpoint-dir ", directory.File("chk"));
  const CommandResult json = RunSluice(run + " --log-format json --log-level debug");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  bool no_checkpoint = false;
  for (const std::string& line : Lines(json.err)) {
    if (line.empty() || line[0] != '{') continue;
    const JsonLine parsed = ParseJsonLine(line);
    if (parsed.logger == "runtime" && parsed.level == "info" &&
        parsed.msg.find("no checkpoint to resume from") != std::string::npos) {
      no_checkpoint = true;
    }
  }
  EXPECT_TRUE(no_checkpoint) << json.err;
  EXPECT_NE(json.err.find("records in: "), std::string::npos) << json.err;  // the summary

  const CommandResult text = RunSluice(run + " --log-level info");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.err.find(" info [runtime] no checkpoint to resume from in "), std::string::npos) << text.err;

  const CommandResult quiet = RunSluice(run + " --log-level warn");
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.err.find("checkpoint to resume from"), std::string::npos) << quiet.err;
  EXPECT_NE(quiet.err.find("records in: "), std::string::npos) << quiet.err;

  const CommandResult bad = RunSluice("run examples/high_value_orders.sql --log-level loud");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--log-level needs trace, debug, info, warn, error or off"), std::string::npos)
      << bad.err;
  const CommandResult bad_format = RunSluice("run examples/high_value_orders.sql --log-format xml");
  EXPECT_EQ(bad_format.exit_code, 2);
  EXPECT_NE(bad_format.err.find("--log-format needs text or json"), std::string::npos) << bad_format.err;
}

}  // namespace
}  // namespace sluice::testing
