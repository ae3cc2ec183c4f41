// `sluice serve` end to end: the server runs as a child process on a loopback port the system
// picks; the tests talk to it over HTTP(S) with cpp-httplib's client.
//   - Scenario 2 submitted over REST runs to the end; /metrics equals the job's summary at
//     GET /jobs/{id}, and the output equals SQLite's GROUP BY;
//   - bearer tokens (from the configuration or SLUICE_TOKEN): none or a wrong one is 401;
//   - TLS with a certificate made in the test by the openssl command;
//   - an oversize body is 413; bad SQL, and SQL nested 50,000 levels deep, are 400 with the
//     error's line and column, and the server goes on serving;
//   - a restarted server resumes its jobs: one stopped with a savepoint resumes from the
//     savepoint, one whose server was killed (SIGKILL) from its latest checkpoint; either way
//     the output is exactly SQLite's; a Kafka job stopped with a savepoint resumes at its
//     partitions' saved offsets (librdkafka's mock cluster) and its output is exactly SQLite's;
//   - what the web UI reads (a job's graph, rates, snapshots, checkpoint history) and serves
//     (its files without a token, the API only with one); a Kafka job on two workers shows its
//     tasks' and channels' figures growing in GET /jobs/{id} while it runs;
//   - configuration errors (an unknown key, a non-loopback address without a token).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <simdjson.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "child_process.h"
#include "common/strings.h"
#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/kafka_mock_cluster.h"
#include "job_test_harness.h"
#include "oracle_rows.h"
#include "server_test_support.h"
#include "trade_generator.h"

namespace sluice::testing {
namespace {

using std::chrono::seconds;

constexpr uint64_t kTrades = 400'000;
constexpr const char* kTradeSchema =
    "trade_id BIGINT, trader_id STRING, symbol STRING, category STRING, price DOUBLE, quantity BIGINT, "
    "side STRING, venue STRING, trade_time TIMESTAMP";
constexpr const char* kScenario2Oracle =
    "SELECT symbol, COUNT(*) AS trades, SUM(quantity) AS volume, AVG(price) AS avg_price, MIN(price) AS low, "
    "MAX(price) AS high FROM trades GROUP BY symbol";

// Scenario 2 (GROUP BY symbol, its changes as a Debezium changelog) over `trades`.
std::string Scenario2Job(const std::string& trades, const std::string& output,
                         const std::string& interval = "10s") {
  return StrCat(
      "CREATE STREAM volume AS SELECT symbol, COUNT(*) AS trades, SUM(quantity) AS volume, AVG(price) AS "
      "avg_price, MIN(price) AS low, MAX(price) AS high\nFROM trades GROUP BY symbol WITH (\n"
      "'trades.type' = 'file_source', 'trades.path' = '",
      trades, "', 'trades.format' = 'json', 'trades.schema' = '", kTradeSchema,
      "', 'event.time.field' = 'trade_time', 'checkpoint.interval' = '", interval,
      "', 'volume.type' = 'file_sink', 'volume.path' = '", output,
      "', 'volume.changelog.mode' = 'changelog');\n");
}

struct Server {
  Process process;
  std::string url;
};

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    directory_ = new TemporaryDirectory();
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db_, kGeneratedTradesTable, nullptr, nullptr, nullptr), SQLITE_OK);
    TradeGeneratorOptions options;
    options.count = kTrades;
    options.seed = 24;
    options.symbols = 100;
    TradeGenerator text_generator(options), batch_generator(options);
    std::string text;
    Batch batch;
    ASSERT_EQ(sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
    for (uint64_t done = 0; done < options.count;) {
      const size_t chunk = static_cast<size_t>(std::min<uint64_t>(4096, options.count - done));
      const size_t produced = text_generator.AppendJsonLines(chunk, text);
      ASSERT_EQ(batch_generator.FillBatch(chunk, batch), produced);
      InsertGeneratedTrades(db_, batch, produced);
      done += produced;
    }
    ASSERT_EQ(sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    trades_ = new std::string(directory_->File("trades.jsonl"));
    WriteFile(*trades_, text);
    trades_bytes_ = text.size();
  }

  static void TearDownTestSuite() {
    sqlite3_close(db_);
    delete trades_;
    delete directory_;
  }

  void SetUp() override {
    root_ = directory_->File(::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(root_);
  }

  // Starts `sluice serve` with `config` (YAML; `port: 0` and the data directory are added).
  Server Start(const std::string& config, const std::string& name) {
    const std::string path = StrCat(root_, "/", name, ".yaml");
    WriteFile(path, StrCat("port: 0\ndata_dir: ", root_, "/data\n", config));
    Server server;
    server.process = SpawnSluice({"serve", "--config", path}, StrCat(root_, "/", name, ".out"),
                                 StrCat(root_, "/", name, ".err"));
    server.url = WaitForUrl(server.process.err, "listening on ", seconds(60));
    EXPECT_FALSE(server.url.empty()) << ReadFile(server.process.err);
    return server;
  }

  // SIGTERM: the server stops its jobs with savepoints and exits 0.
  void Stop(const Server& server) {
    kill(server.process.pid, SIGTERM);
    EXPECT_EQ(WaitFor(server.process, seconds(60)), 0) << ReadFile(server.process.err);
  }

  static httplib::Client Client(const Server& server, const std::string& token = "") {
    httplib::Client client(UrlHost(server.url), UrlPort(server.url));
    client.set_read_timeout(60, 0);
    if (!token.empty()) client.set_bearer_token_auth(token.c_str());
    return client;
  }

  // GET /jobs/{id} until its state is none of the running ones; the last answer.
  static std::string WaitUntilEnded(httplib::Client& client, const std::string& id) {
    std::string body;
    const auto deadline = std::chrono::steady_clock::now() + seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      const auto response = client.Get(StrCat("/jobs/", id));
      if (!response || response->status != 200) return "";
      body = response->body;
      const std::string state = JsonString(body, "state").value_or("");
      if (state != "running" && state != "stopping" && state != "cancelling") return body;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "job " << id << " still running: " << body;
    return body;
  }

  void ExpectOracleOutput(const std::string& job, const std::string& output, const std::string& context) {
    const Schema declared = DeclaredOutputSchema(job, {}, "volume");
    ExpectSameTables(ApplyChangelog(output, declared), QuerySqlite(db_, kScenario2Oracle), context);
  }

  static TemporaryDirectory* directory_;
  static sqlite3* db_;
  static std::string* trades_;
  static uint64_t trades_bytes_;
  std::string root_;
};

TemporaryDirectory* ServerTest::directory_ = nullptr;
sqlite3* ServerTest::db_ = nullptr;
std::string* ServerTest::trades_ = nullptr;
uint64_t ServerTest::trades_bytes_ = 0;

TEST_F(ServerTest, Scenario2SubmittedOverRestFinishesAndItsMetricsEqualItsSummary) {
  const Server server = Start("", "server");
  httplib::Client client = Client(server);
  const std::string output = StrCat(root_, "/volume.jsonl");
  const std::string job = Scenario2Job(*trades_, output, "50ms");
  const auto submitted = client.Post("/jobs", job, "application/sql");
  ASSERT_TRUE(submitted);
  ASSERT_EQ(submitted->status, 201) << submitted->body;
  const std::string id = JsonString(submitted->body, "id").value_or("");
  ASSERT_EQ(id, "1");
  EXPECT_EQ(submitted->get_header_value("Location"), "/jobs/1");

  const std::string summary = WaitUntilEnded(client, id);
  ASSERT_EQ(JsonString(summary, "state"), "finished") << summary;
  const auto scraped = client.Get("/metrics");
  ASSERT_TRUE(scraped);
  ASSERT_EQ(scraped->status, 200);
  const std::string& metrics = scraped->body;
  const std::string label = "job_id=\"1\"";
  // The summary's counters and the metrics, and both against what is known of the run.
  EXPECT_EQ(JsonNumber(summary, "records_in"), kTrades) << summary;
  EXPECT_EQ(MetricValue(metrics, "sluice_job_numRecordsIn_total", label), kTrades) << metrics;
  // Rows written: in a changelog an update is one line of two rows (before and after).
  double rows_written = 0;
  for (const std::string& line : ReadLines(output)) {
    rows_written += line.find("\"op\":\"u\"}") != std::string::npos ? 2 : 1;
  }
  ASSERT_GT(rows_written, 100);
  EXPECT_EQ(JsonNumber(summary, "records_out"), rows_written) << summary;
  EXPECT_EQ(MetricValue(metrics, "sluice_job_numRecordsOut_total", label), rows_written) << metrics;
  EXPECT_EQ(JsonNumber(summary, "bytes_in"), static_cast<double>(trades_bytes_)) << summary;
  EXPECT_EQ(MetricValue(metrics, "sluice_job_numBytesIn_total", label), static_cast<double>(trades_bytes_));
  EXPECT_EQ(JsonNumber(summary, "state_keys"), 100) << summary;
  EXPECT_EQ(MetricValue(metrics, "sluice_job_stateKeys", label), 100) << metrics;
  EXPECT_EQ(MetricValue(metrics, "sluice_job_stateBytes", label), JsonNumber(summary, "state_bytes"))
      << metrics;
  EXPECT_EQ(MetricValue(metrics, "sluice_job_numRecordsDeadLettered_total", label), 0) << metrics;
  EXPECT_EQ(MetricValue(metrics, "sluice_job_numberOfCompletedCheckpoints_total", label),
            JsonNumber(summary, "checkpoints_completed"))
      << metrics;
  EXPECT_EQ(MetricValue(metrics, "sluice_job_info", "state=\"finished\""), 1) << metrics;
  EXPECT_EQ(MetricValue(metrics, "sluice_jobs", "state=\"finished\""), 1) << metrics;
  EXPECT_TRUE(MetricValue(metrics, "sluice_job_task_busyTime_seconds_total", label).has_value()) << metrics;
  ExpectOracleOutput(job, output, "scenario 2 over REST");

  const auto list = client.Get("/jobs");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200);
  EXPECT_NE(list->body.find("\"id\":\"1\",\"name\":\"volume\",\"state\":\"finished\""), std::string::npos)
      << list->body;
  const auto plan = client.Get("/jobs/1/plan");
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->status, 200);
  EXPECT_NE(plan->body.find("physical plan:"), std::string::npos) << plan->body;
  EXPECT_NE(plan->body.find("Aggregate keys [symbol"), std::string::npos) << plan->body;
  // An ended job cannot be stopped; unknown jobs are 404; DELETE forgets an ended job.
  const auto stop = client.Post("/jobs/1/stop");
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 409) << stop->body;
  const auto missing = client.Get("/jobs/99");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  const auto deleted = client.Delete("/jobs/1");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 200) << deleted->body;
  const auto gone = client.Get("/jobs/1");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
  EXPECT_FALSE(std::filesystem::exists(StrCat(root_, "/data/jobs/1")));
  Stop(server);
}

// A job of the configuration's `jobs:` list runs from the server's start, with its properties
// and a checkpoint directory of its own; a server restarted on the same data directory does
// not run it twice; one on a new data directory (the old one lost) resumes it from that
// checkpoint directory; a configured job with bad SQL stops the server from starting.
TEST_F(ServerTest, ConfiguredJobsRunFromTheStartAndResumeFromTheirCheckpointDirectory) {
  const std::string output = StrCat(root_, "/volume.jsonl");
  const std::string sql_path = StrCat(root_, "/volume.sql");
  WriteFile(sql_path, Scenario2Job(*trades_, "${out}", "10ms"));
  const std::string jobs =
      StrCat("jobs:\n  - name: volume\n    sql: ", sql_path, "\n    checkpoint_dir: ", root_,
             "/chk\n    properties:\n      out: ", output, "\n");
  Server server = Start(jobs, "first");
  httplib::Client client = Client(server);
  const std::string finished = WaitUntilEnded(client, "1");
  ASSERT_EQ(JsonString(finished, "state"), "finished") << finished;
  EXPECT_EQ(JsonString(finished, "config_job"), "volume") << finished;
  EXPECT_NE(finished.find("\"resumed_from\":null"), std::string::npos) << finished;
  EXPECT_NE(finished.find(StrCat("\"checkpoints\":{\"directory\":\"", root_, "/chk\"")), std::string::npos)
      << finished;
  EXPECT_GT(JsonNumber(finished, "checkpoints_completed").value_or(0), 0) << finished;
  EXPECT_EQ(JsonNumber(finished, "records_in"), kTrades) << finished;
  ExpectOracleOutput(Scenario2Job(*trades_, output), output, "a configured job");
  Stop(server);
  EXPECT_NE(ReadFile(server.process.err).find("configured job 'volume': submitted as job 1"),
            std::string::npos)
      << ReadFile(server.process.err);

  // The same data directory: job 1 is the configured one, finished; it is not run again.
  server = Start(jobs, "second");
  httplib::Client second = Client(server);
  const auto list = second.Get("/jobs");
  ASSERT_TRUE(list);
  EXPECT_NE(list->body.find("\"id\":\"1\""), std::string::npos) << list->body;
  EXPECT_EQ(list->body.find("\"id\":\"2\""), std::string::npos) << list->body;
  Stop(server);
  EXPECT_NE(
      ReadFile(server.process.err).find("configured job 'volume': job 1 is finished: not started again"),
      std::string::npos)
      << ReadFile(server.process.err);

  // Had it failed, a restarted server starts it again, from its newest checkpoint.
  const std::string yaml_path = StrCat(root_, "/data/jobs/1/job.yaml");
  std::string yaml = ReadFile(yaml_path);
  const size_t state_at = yaml.find("state: finished\n");
  ASSERT_NE(state_at, std::string::npos) << yaml;
  yaml.replace(state_at, 15, "state: failed");
  WriteFile(yaml_path, yaml);
  server = Start(jobs, "after_failure");
  httplib::Client after_failure = Client(server);
  const std::string again = WaitUntilEnded(after_failure, "1");
  EXPECT_EQ(JsonString(again, "state"), "finished") << again;
  EXPECT_EQ(JsonString(again, "resumed_from").value_or("").rfind("checkpoint ", 0), 0u) << again;
  EXPECT_EQ(JsonNumber(again, "runs"), 2) << again;
  ExpectOracleOutput(Scenario2Job(*trades_, output), output, "a failed configured job started again");
  Stop(server);
  EXPECT_NE(ReadFile(server.process.err)
                .find("configured job 'volume': job 1 had failed: started again; job 1: "
                      "resumed from checkpoint "),
            std::string::npos)
      << ReadFile(server.process.err);

  // A new data directory: the job is submitted again and resumes from its checkpoint directory.
  std::filesystem::remove_all(StrCat(root_, "/data"));
  server = Start(jobs, "third");
  httplib::Client third = Client(server);
  const std::string resumed = WaitUntilEnded(third, "1");
  EXPECT_EQ(JsonString(resumed, "state"), "finished") << resumed;
  EXPECT_EQ(JsonString(resumed, "resumed_from").value_or("").rfind("checkpoint ", 0), 0u) << resumed;
  EXPECT_LT(JsonNumber(resumed, "records_in").value_or(kTrades), kTrades) << resumed;
  ExpectOracleOutput(Scenario2Job(*trades_, output), output, "a configured job resumed from its checkpoints");
  Stop(server);

  // Bad SQL in a configured job: the server does not start, and says which job and where.
  const std::string bad_sql = StrCat(root_, "/bad.sql");
  WriteFile(bad_sql, "CREATE STREAM s AS SELEC x FROM t;\n");
  const std::string config = StrCat(root_, "/bad.yaml");
  WriteFile(config,
            StrCat("port: 0\ndata_dir: ", root_, "/data\njobs:\n  - name: bad\n    sql: ", bad_sql, "\n"));
  const Process refused =
      SpawnSluice({"serve", "--config", config}, StrCat(root_, "/bad.out"), StrCat(root_, "/bad.err"));
  EXPECT_EQ(WaitFor(refused, seconds(60)), 1) << ReadFile(refused.err);
  EXPECT_NE(ReadFile(refused.err).find(StrCat(config, ":4:5: job 'bad': ")), std::string::npos)
      << ReadFile(refused.err);
  EXPECT_EQ(ReadFile(refused.err).find("listening on"), std::string::npos) << ReadFile(refused.err);
}

// The server's diagnostics are log lines: JSON lines with `log: {format: json}` (one object
// per line: ts, level, logger, msg), none below warn with `log.level: warn`; "listening on URL"
// is not a log line and comes at every level.
TEST_F(ServerTest, JobEventsAreLoggedAtTheConfiguredLevelAndFormat) {
  const std::string output = StrCat(root_, "/volume.jsonl");
  Server server = Start("log:\n  format: json\n", "json");
  httplib::Client client = Client(server);
  const auto submitted = client.Post("/jobs", Scenario2Job(*trades_, output), "application/sql");
  ASSERT_TRUE(submitted);
  ASSERT_EQ(submitted->status, 201) << submitted->body;
  ASSERT_EQ(JsonString(WaitUntilEnded(client, "1"), "state"), "finished");
  Stop(server);
  const std::string log = ReadFile(server.process.err);
  bool started = false, finished = false;
  for (const std::string& line : ReadLines(server.process.err)) {
    if (line.rfind("sluice serve: listening on ", 0) == 0) continue;
    ASSERT_EQ(line.rfind("{\"ts\":\"", 0), 0u) << "not a JSON log line: " << line;
    EXPECT_NE(line.find("\",\"level\":\""), std::string::npos) << line;
    EXPECT_EQ(line.back(), '}') << line;
    if (JsonString(line, "logger") != "server") continue;
    started = started || JsonString(line, "msg") == "job 1 (volume): started";
    finished =
        finished ||
        JsonString(line, "msg").value_or("").rfind("job 1 (volume): finished (400000 records in", 0) == 0;
  }
  EXPECT_TRUE(started) << log;
  EXPECT_TRUE(finished) << log;

  server = Start("log.level: warn\n", "warn");
  httplib::Client second = Client(server);
  const auto again =
      second.Post("/jobs", Scenario2Job(*trades_, StrCat(root_, "/again.jsonl")), "application/sql");
  ASSERT_TRUE(again);
  ASSERT_EQ(again->status, 201) << again->body;
  ASSERT_EQ(JsonString(WaitUntilEnded(second, "2"), "state"), "finished");
  Stop(server);
  const std::string quiet = ReadFile(server.process.err);
  EXPECT_NE(quiet.find("sluice serve: listening on "), std::string::npos) << quiet;
  EXPECT_EQ(quiet.find(" info [server] "), std::string::npos) << quiet;
  EXPECT_EQ(quiet.find("job 2"), std::string::npos) << quiet;
}

// GET /jobs/{id} and /jobs/{id}/history carry what the web UI draws: the job's graph, its rates,
// its counters' snapshots and its checkpoints.
TEST_F(ServerTest, AJobShowsItsGraphRatesSnapshotsAndCheckpointsForTheWebUi) {
  const Server server = Start("", "server");
  httplib::Client client = Client(server);
  const auto submitted =
      client.Post("/jobs", Scenario2Job(*trades_, StrCat(root_, "/volume.jsonl"), "50ms"), "application/sql");
  ASSERT_TRUE(submitted);
  ASSERT_EQ(submitted->status, 201) << submitted->body;
  const std::string job = WaitUntilEnded(client, "1");
  ASSERT_EQ(JsonString(job, "state"), "finished") << job;
  // Source -> aggregate -> project -> sink.
  EXPECT_NE(
      job.find("\"graph\":{\"nodes\":[{\"id\":0,\"kind\":\"source\",\"label\":\"trades (file_source)\""),
      std::string::npos)
      << job;
  EXPECT_NE(job.find("{\"id\":1,\"kind\":\"operator\",\"label\":\"Aggregate keys [symbol"), std::string::npos)
      << job;
  EXPECT_NE(
      job.find("{\"id\":3,\"kind\":\"sink\",\"label\":\"volume (file_sink)\",\"statement\":\"volume\"}"),
      std::string::npos)
      << job;
  EXPECT_NE(job.find("\"edges\":[{\"from\":0,\"to\":1},{\"from\":1,\"to\":2},{\"from\":2,\"to\":3}]"),
            std::string::npos)
      << job;
  // An ended job's rates are its run's means.
  const double elapsed = JsonNumber(job, "elapsed_seconds").value_or(0);
  ASSERT_GT(elapsed, 0) << job;
  EXPECT_NEAR(JsonNumber(job, "records_in_per_second").value_or(0), kTrades / elapsed,
              kTrades / elapsed * 1e-3)
      << job;
  // A checkpoint completed in the run is in the history, as the latest.
  const double checkpoints = JsonNumber(job, "checkpoints_completed").value_or(0);
  const size_t history = job.find("\"history\":[");
  ASSERT_NE(history, std::string::npos) << job;
  if (checkpoints > 0) {
    const std::optional<double> latest = JsonNumber(job, "latest");
    ASSERT_TRUE(latest.has_value()) << job;
    EXPECT_EQ(JsonNumber(job.substr(history), "id"), latest) << job;
  } else {
    EXPECT_EQ(job.compare(history, 12, "\"history\":[]"), 0) << job;
  }
  // The snapshots end with the final counters.
  const auto samples = client.Get("/jobs/1/history");
  ASSERT_TRUE(samples);
  ASSERT_EQ(samples->status, 200) << samples->body;
  const size_t last = samples->body.rfind("{\"unix_millis\"");
  ASSERT_NE(last, std::string::npos) << samples->body;
  EXPECT_EQ(JsonNumber(samples->body.substr(last), "records_in"), kTrades) << samples->body;
  EXPECT_EQ(JsonNumber(samples->body.substr(last), "records_out"), JsonNumber(job, "records_out"))
      << samples->body;
  const auto missing = client.Get("/jobs/99/history");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  Stop(server);
}

// The web UI's files load without the token (they hold no data); the API they call still needs it.
TEST_F(ServerTest, TheWebUiLoadsWithoutATokenButItsApiCallsNeedOne) {
  const Server server = Start("token: s3cret\n", "server");
  httplib::Client anonymous = Client(server);
  for (const std::string name : {"index.html", "app.js", "app.css"}) {
    const auto served = anonymous.Get(name == "index.html" ? "/ui/" : "/ui/" + name);
    ASSERT_TRUE(served);
    EXPECT_EQ(served->status, 200) << name;
    // The files compiled in are the repository's.
    EXPECT_EQ(served->body, ReadFile(StrCat(SLUICE_SOURCE_DIR, "/engine/src/server/ui/", name))) << name;
    EXPECT_NE(served->get_header_value("Content-Security-Policy").find("default-src 'self'"),
              std::string::npos);
  }
  EXPECT_EQ(anonymous.Get("/ui/app.js")->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  const auto root = anonymous.Get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 302);
  EXPECT_EQ(root->get_header_value("Location"), "/ui/");
  for (const std::string path : {"/jobs", "/jobs/1/history", "/metrics", "/ui/nothing.js"}) {
    const auto refused = anonymous.Get(path);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 401) << path;
  }
  const auto jobs = Client(server, "s3cret").Get("/jobs");
  ASSERT_TRUE(jobs);
  EXPECT_EQ(jobs->status, 200) << jobs->body;
  Stop(server);
}

TEST_F(ServerTest, BadSqlIsAPositionedErrorAsJson) {
  const Server server = Start("", "server");
  httplib::Client client = Client(server);
  const std::string job = StrCat(
      "CREATE STREAM s AS SELECT symbol,\n  nope FROM trades WITH ('trades.type' = "
      "'file_source', 'trades.path' = '",
      *trades_, "', 'trades.format' = 'json');\n");
  const auto response = client.Post("/jobs", job, "application/sql");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(response->get_header_value("Content-Type"), "application/json");
  EXPECT_NE(response->body.find("\"errors\":[{\"line\":2,\"column\":3,\"message\":\"unknown column 'nope'"),
            std::string::npos)
      << response->body;
  // Nothing was kept of it.
  const auto list = client.Get("/jobs");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->body, "{\"jobs\":[]}\n");
  const auto empty = client.Post("/jobs", "", "application/sql");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 400) << empty->body;
  const auto parameter = client.Post("/jobs?workers=2", job, "application/sql");
  ASSERT_TRUE(parameter);
  EXPECT_EQ(parameter->status, 400);
  EXPECT_NE(parameter->body.find("unknown parameter 'workers'"), std::string::npos) << parameter->body;
  Stop(server);
}

TEST_F(ServerTest, DeeplyNestedSqlIsAPositionedErrorNotACrash) {
  const Server server = Start("", "server");
  httplib::Client client = Client(server);
  const std::string job =
      StrCat("CREATE STREAM s AS SELECT ", std::string(50'000, '('), "1", std::string(50'000, ')'),
             " AS x FROM trades WITH ('trades.type' = 'file_source', 'trades.path' = '", *trades_, "');\n");
  const auto response = client.Post("/jobs", job, "application/sql");
  ASSERT_TRUE(response) << "the server did not answer: " << ReadFile(server.process.err);
  EXPECT_EQ(response->status, 400);
  EXPECT_NE(response->body.find("\"errors\":[{\"line\":1,\"column\":"), std::string::npos) << response->body;
  EXPECT_NE(response->body.find("nested too deeply"), std::string::npos) << response->body;
  const auto health = client.Get("/healthz");
  ASSERT_TRUE(health) << ReadFile(server.process.err);
  EXPECT_EQ(health->status, 200);
  Stop(server);
}

TEST_F(ServerTest, AnOversizeBodyIs413) {
  const Server server = Start("max_body_bytes: 4096\n", "server");
  httplib::Client client = Client(server);
  const auto large = client.Post("/jobs", std::string(5000, ' ') + "SELECT 1;", "application/sql");
  ASSERT_TRUE(large);
  EXPECT_EQ(large->status, 413) << large->body;
  // Under the limit, the same kind of body is read and judged: bad SQL, 400.
  const auto small = client.Post("/jobs", std::string(100, ' ') + "SELEC 1;", "application/sql");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 400) << small->body;
  Stop(server);
}

TEST_F(ServerTest, ATokenIsRequiredAndComparedExactly) {
  const Server server = Start("token: right-token-123\n", "server");
  for (const std::string& token :
       {std::string(), std::string("wrong-token-123"), std::string("right-token-12")}) {
    httplib::Client client = Client(server, token);
    for (const char* path : {"/jobs", "/metrics", "/jobs/1"}) {
      const auto response = client.Get(path);
      ASSERT_TRUE(response);
      EXPECT_EQ(response->status, 401) << path << " with '" << token << "'";
      EXPECT_EQ(response->get_header_value("WWW-Authenticate"), "Bearer");
    }
    const auto submit =
        client.Post("/jobs", Scenario2Job(*trades_, StrCat(root_, "/x.jsonl")), "application/sql");
    ASSERT_TRUE(submit);
    EXPECT_EQ(submit->status, 401);
  }
  httplib::Client anonymous = Client(server);
  const auto health = anonymous.Get("/healthz");  // probes need no token
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  httplib::Client client = Client(server, "right-token-123");
  const auto list = client.Get("/jobs");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200);
  Stop(server);
}

TEST_F(ServerTest, TheTokenMayComeFromTheEnvironment) {
  setenv("SLUICE_TOKEN", "from-the-environment", 1);
  const Server server = Start("", "server");
  unsetenv("SLUICE_TOKEN");
  const auto refused = Client(server).Get("/jobs");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  const auto allowed = Client(server, "from-the-environment").Get("/jobs");
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200);
  Stop(server);
}

TEST_F(ServerTest, ServesHttpsWithACertificateMadeInTheTest) {
  const std::string certificate = StrCat(root_, "/server.crt");
  const std::string key = StrCat(root_, "/server.key");
  const std::string command = StrCat(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext "
      "subjectAltName=IP:127.0.0.1 -keyout ",
      key, " -out ", certificate, " > ", root_, "/openssl.log 2>&1");
  ASSERT_EQ(std::system(command.c_str()), 0) << ReadFile(StrCat(root_, "/openssl.log"));
  const Server server =
      Start(StrCat("tls_cert: ", certificate, "\ntls_key: ", key, "\ntoken: tls-token\n"), "server");
  ASSERT_EQ(server.url.rfind("https://", 0), 0u) << server.url;
  httplib::SSLClient client(UrlHost(server.url), UrlPort(server.url));
  client.set_ca_cert_path(certificate.c_str());
  client.enable_server_certificate_verification(true);
  client.set_bearer_token_auth("tls-token");
  const auto response = client.Get("/jobs");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "{\"jobs\":[]}\n");
  // Plain HTTP to the TLS port gets no HTTP answer.
  httplib::Client plain(UrlHost(server.url), UrlPort(server.url));
  plain.set_read_timeout(5, 0);
  const auto refused = plain.Get("/healthz");
  EXPECT_TRUE(!refused || refused->status != 200);
  Stop(server);
}

TEST_F(ServerTest, ConfigurationErrorsNameTheirKey) {
  const std::string path = StrCat(root_, "/bad.yaml");
  WriteFile(path, StrCat("data_dir: ", root_, "/data\nport: 0\nmax_jobs: 3\n"));
  Process unknown = SpawnSluice({"serve", "--config", path}, StrCat(root_, "/o1"), StrCat(root_, "/e1"));
  EXPECT_EQ(WaitFor(unknown, seconds(30)), 1);
  EXPECT_NE(ReadFile(unknown.err).find("bad.yaml:3:1: unknown key 'max_jobs'"), std::string::npos)
      << ReadFile(unknown.err);
  WriteFile(path, StrCat("data_dir: ", root_, "/data\nport: 0\naddress: 0.0.0.0\n"));
  Process open_address = SpawnSluice({"serve", "--config", path}, StrCat(root_, "/o2"), StrCat(root_, "/e2"));
  EXPECT_EQ(WaitFor(open_address, seconds(30)), 1);
  EXPECT_NE(ReadFile(open_address.err).find("without a token"), std::string::npos)
      << ReadFile(open_address.err);
  Process missing = SpawnSluice({"serve"}, StrCat(root_, "/o3"), StrCat(root_, "/e3"));
  EXPECT_EQ(WaitFor(missing, seconds(30)), 2);
}

// A job over a FIFO (a source that cannot record read positions) runs without checkpoints and
// says why; its live counters at /metrics follow what is written; it stops when asked.
TEST_F(ServerTest, AJobOverAStreamRunsWithoutCheckpointsAndIsScrapedLive) {
  const std::string fifo = StrCat(root_, "/trades.fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const Server server = Start("", "server");
  httplib::Client client = Client(server);
  const auto submitted =
      client.Post("/jobs", Scenario2Job(fifo, StrCat(root_, "/volume.jsonl")), "application/sql");
  ASSERT_TRUE(submitted);
  ASSERT_EQ(submitted->status, 201) << submitted->body;
  const auto job = client.Get("/jobs/1");
  ASSERT_TRUE(job);
  EXPECT_NE(job->body.find("\"disabled\":\"source 'trades' (file_source) cannot resume from a checkpoint"),
            std::string::npos)
      << job->body;
  int fd = -1;
  const auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while ((fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0 && errno == ENXIO &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(fd, 0);
  ASSERT_EQ(fcntl(fd, F_SETFL, 0), 0);
  TradeGeneratorOptions options;
  options.count = 3000;
  options.symbols = 30;
  TradeGenerator generator(options);
  std::string text;
  generator.AppendJsonLines(options.count, text);
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  std::string metrics;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto scraped = client.Get("/metrics");
    ASSERT_TRUE(scraped);
    metrics = scraped->body;
    if (MetricValue(metrics, "sluice_job_numRecordsIn_total", "job_id=\"1\"") == 3000) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(MetricValue(metrics, "sluice_job_numRecordsIn_total", "job_id=\"1\""), 3000) << metrics;
  EXPECT_EQ(MetricValue(metrics, "sluice_job_stateKeys", "job_id=\"1\""), 30) << metrics;
  EXPECT_EQ(MetricValue(metrics, "sluice_jobs", "state=\"running\""), 1) << metrics;
  const auto stop = client.Post("/jobs/1/stop");
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 202) << stop->body;
  const std::string stopped = WaitUntilEnded(client, "1");
  EXPECT_EQ(JsonString(stopped, "state"), "stopped") << stopped;
  EXPECT_EQ(JsonNumber(stopped, "records_in"), 3000) << stopped;
  close(fd);
  Stop(server);
}

TEST_F(ServerTest, AJobStoppedWithASavepointResumesFromItWhenTheServerRestarts) {
  const std::string output = StrCat(root_, "/volume.jsonl");
  const std::string job = Scenario2Job(*trades_, output);
  Server server = Start("", "first");
  httplib::Client client = Client(server);
  const auto submitted = client.Post("/jobs", job, "application/sql");
  ASSERT_TRUE(submitted);
  ASSERT_EQ(submitted->status, 201) << submitted->body;
  // At once: the job has just started reading 400,000 records.
  const auto stop = client.Post("/jobs/1/stop");
  ASSERT_TRUE(stop);
  ASSERT_EQ(stop->status, 202) << stop->body;
  const std::string stopped = WaitUntilEnded(client, "1");
  ASSERT_EQ(JsonString(stopped, "state"), "stopped") << stopped;
  const double first_records = JsonNumber(stopped, "records_in").value_or(-1);
  ASSERT_LT(first_records, kTrades) << stopped;
  EXPECT_NE(stopped.find("\"savepoints\":{\"directory\":\""), std::string::npos);
  EXPECT_EQ(
      stopped.find("\"savepoints\":{\"directory\":\"" + root_ + "/data/jobs/1/savepoints\",\"latest\":null"),
      std::string::npos)
      << stopped;
  Stop(server);

  server = Start("", "second");
  httplib::Client second = Client(server);
  const std::string resumed = WaitUntilEnded(second, "1");
  EXPECT_EQ(JsonString(resumed, "state"), "finished") << resumed;
  EXPECT_EQ(JsonString(resumed, "resumed_from").value_or("").rfind("savepoint ", 0), 0u) << resumed;
  EXPECT_EQ(JsonNumber(resumed, "runs"), 2) << resumed;
  // The two runs read every record once between them.
  EXPECT_EQ(first_records + JsonNumber(resumed, "records_in").value_or(-1), kTrades) << stopped << resumed;
  ExpectOracleOutput(job, output, "stopped, then resumed from the savepoint");
  EXPECT_NE(ReadFile(server.process.err).find("job 1: resumed from savepoint"), std::string::npos)
      << ReadFile(server.process.err);
  Stop(server);
}

// SIGTERM: the server stops its running jobs with savepoints; the next one resumes them.
TEST_F(ServerTest, ASigtermedServersJobsResumeFromTheirSavepoints) {
  const std::string output = StrCat(root_, "/volume.jsonl");
  const std::string job = Scenario2Job(*trades_, output);
  Server server = Start("", "first");
  httplib::Client client = Client(server);
  const auto submitted = client.Post("/jobs", job, "application/sql");
  ASSERT_TRUE(submitted);
  ASSERT_EQ(submitted->status, 201) << submitted->body;
  Stop(server);  // at once: the job has just started reading 400,000 records
  EXPECT_NE(ReadFile(server.process.err).find("every running job with a savepoint"), std::string::npos);
  // What the first run read (none, when the savepoint came before its first batch).
  const std::string persisted = ReadFile(StrCat(root_, "/data/jobs/1/job.yaml"));
  EXPECT_NE(persisted.find("state: running\n"), std::string::npos) << persisted;
  const size_t at = persisted.find("records_in: ");
  ASSERT_NE(at, std::string::npos) << persisted;
  const double first_records = std::strtod(persisted.c_str() + at + 12, nullptr);

  server = Start("", "second");
  httplib::Client second = Client(server);
  const std::string resumed = WaitUntilEnded(second, "1");
  EXPECT_EQ(JsonString(resumed, "state"), "finished") << resumed;
  EXPECT_EQ(JsonString(resumed, "resumed_from").value_or("").rfind("savepoint ", 0), 0u) << resumed;
  EXPECT_EQ(JsonNumber(resumed, "runs"), 2) << resumed;
  // The two runs read every record once between them.
  EXPECT_EQ(first_records + JsonNumber(resumed, "records_in").value_or(-1), kTrades) << persisted << resumed;
  ExpectOracleOutput(job, output, "stopped by SIGTERM, then resumed from the savepoint");
  Stop(server);
}

TEST_F(ServerTest, ASubmissionBeyondMaxRunningJobsIs429) {
  const std::string fifo = StrCat(root_, "/trades.fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const Server server = Start("max_running_jobs: 1\n", "server");
  httplib::Client client = Client(server);
  const auto first = client.Post("/jobs", Scenario2Job(fifo, StrCat(root_, "/a.jsonl")), "application/sql");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 201) << first->body;  // runs until its FIFO ends
  const auto second =
      client.Post("/jobs", Scenario2Job(*trades_, StrCat(root_, "/b.jsonl")), "application/sql");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 429) << second->body;
  EXPECT_NE(second->body.find("max_running_jobs"), std::string::npos) << second->body;
  const auto cancel = client.Delete("/jobs/1");
  ASSERT_TRUE(cancel);
  EXPECT_EQ(cancel->status, 202) << cancel->body;
  EXPECT_EQ(JsonString(WaitUntilEnded(client, "1"), "state"), "cancelled");
  const auto third =
      client.Post("/jobs", Scenario2Job(*trades_, StrCat(root_, "/c.jsonl")), "application/sql");
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, 201) << third->body;
  EXPECT_EQ(JsonString(WaitUntilEnded(client, "2"), "state"), "finished");
  Stop(server);
}

TEST_F(ServerTest, AKilledServersJobResumesFromItsLatestCheckpoint) {
  // The server is killed once the job has a durable checkpoint and is still running; a job
  // that finishes first is submitted again (each with its own output), a few times at most.
  Server server;
  std::string job, output, id;
  bool killed = false;
  for (int attempt = 1; attempt <= 5 && !killed; ++attempt) {
    server = Start("", StrCat("first", attempt));
    httplib::Client client = Client(server);
    output = StrCat(root_, "/volume", attempt, ".jsonl");
    job = Scenario2Job(*trades_, output, "10ms");
    const auto submitted = client.Post("/jobs", job, "application/sql");
    ASSERT_TRUE(submitted);
    ASSERT_EQ(submitted->status, 201) << submitted->body;
    id = JsonString(submitted->body, "id").value_or("");
    for (;;) {
      const auto response = client.Get(StrCat("/jobs/", id));
      ASSERT_TRUE(response);
      if (JsonString(response->body, "state") != "running") break;
      // The first "latest" is the checkpoints' (null before the first one completes).
      if (JsonNumber(response->body, "latest").has_value()) {
        kill(server.process.pid, SIGKILL);
        WaitFor(server.process, seconds(30));
        killed = true;
        break;
      }
    }
    if (!killed) Stop(server);
  }
  ASSERT_TRUE(killed) << "five jobs finished before a checkpoint of theirs was seen";
  server = Start("", "second");
  httplib::Client client = Client(server);
  const std::string resumed = WaitUntilEnded(client, id);
  EXPECT_EQ(JsonString(resumed, "state"), "finished") << resumed;
  EXPECT_EQ(JsonString(resumed, "resumed_from").value_or("").rfind("checkpoint ", 0), 0u) << resumed;
  EXPECT_LT(JsonNumber(resumed, "records_in").value_or(kTrades), kTrades) << resumed;
  ExpectOracleOutput(job, output, "killed, then resumed from a checkpoint");
  Stop(server);
}

// A job reading Kafka (librdkafka's mock cluster, in this process; the server connects to it
// over loopback): its savepoint holds each partition's offset, so a job stopped with a
// savepoint and resumed by a restarted server reads exactly the messages produced after the
// stop, and its output is exactly SQLite's over every message.
class KafkaServerTest : public ServerTest {
 protected:
  static constexpr uint64_t kKafkaTrades = 20'000;  // half before the stop, half after

  static void SetUpTestSuite() {
    ServerTest::SetUpTestSuite();
    auto cluster = KafkaMockCluster::Start(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status().message();
    cluster_ = cluster->release();
    ASSERT_TRUE(cluster_->CreateTopic("trades", 2).ok());
    ASSERT_EQ(sqlite3_open(":memory:", &kafka_db_), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(kafka_db_, kGeneratedTradesTable, nullptr, nullptr, nullptr), SQLITE_OK);
    // The oracle's table: every trade the test produces, in two halves.
    TradeGenerator generator(Trades(kKafkaTrades));
    Batch batch;
    ASSERT_EQ(sqlite3_exec(kafka_db_, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
    for (uint64_t done = 0; done < kKafkaTrades;) {
      const size_t produced =
          generator.FillBatch(static_cast<size_t>(std::min<uint64_t>(4096, kKafkaTrades - done)), batch);
      InsertGeneratedTrades(kafka_db_, batch, produced);
      done += produced;
    }
    ASSERT_EQ(sqlite3_exec(kafka_db_, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  }

  static void TearDownTestSuite() {
    sqlite3_close(kafka_db_);
    delete cluster_;
    ServerTest::TearDownTestSuite();
  }

  static TradeGeneratorOptions Trades(uint64_t count) {
    TradeGeneratorOptions options;
    options.count = count;
    options.seed = 7;
    options.symbols = 50;
    return options;
  }

  // Produces trades [first, first + count) of the generated stream, keyed by symbol.
  static void ProduceTrades(uint64_t first, uint64_t count) {
    TradeGenerator text_generator(Trades(first + count)), batch_generator(Trades(first + count));
    KafkaProducerOptions producer_options;
    producer_options.client.bootstrap_servers = cluster_->bootstrap_servers();
    producer_options.topic = "trades";
    producer_options.description = "test producer";
    auto producer = KafkaProducer::Create(producer_options);
    ASSERT_TRUE(producer.ok()) << producer.status().message();
    ASSERT_TRUE((*producer)->Connect().ok());
    std::string text;
    Batch batch;
    for (uint64_t done = 0; done < first + count;) {
      text.clear();
      const size_t chunk = static_cast<size_t>(std::min<uint64_t>(4096, first + count - done));
      const size_t produced = text_generator.AppendJsonLines(chunk, text);
      ASSERT_EQ(batch_generator.FillBatch(chunk, batch), produced);
      std::string_view rest = text;
      for (size_t row = 0; row < produced; ++row) {
        const size_t newline = rest.find('\n');
        if (done + row >= first) {
          const std::string_view symbol = batch.column(2).data<std::string_view>()[row];
          ASSERT_TRUE((*producer)->Produce(symbol.data(), symbol.size(), rest.data(), newline).ok());
        }
        rest.remove_prefix(newline + 1);
      }
      done += produced;
    }
    ASSERT_TRUE((*producer)->Flush(false).ok());
  }

  static std::string KafkaJob(const std::string& output, const std::string& group = "server-test") {
    return StrCat(
        "CREATE STREAM volume AS SELECT symbol, COUNT(*) AS trades, SUM(quantity) AS volume, AVG(price) AS "
        "avg_price, MIN(price) AS low, MAX(price) AS high\nFROM trades GROUP BY symbol WITH (\n"
        "'trades.type' = 'kafka_source', 'trades.topic' = 'trades', 'trades.bootstrap.servers' = '",
        cluster_->bootstrap_servers(), "', 'trades.group.id' = '", group, "', 'trades.schema' = '",
        kGeneratedTradesSchema,
        "', 'trades.properties.session.timeout.ms' = '6000', 'trades.properties.heartbeat.interval.ms' = "
        "'500', 'event.time.field' = 'trade_time', 'checkpoint.interval' = '200ms', "
        "'volume.type' = 'file_sink', 'volume.path' = '",
        output, "', 'volume.changelog.mode' = 'changelog');\n");
  }

  // GET /jobs/{id} until its records_in reaches `records` (or 60 s); the last answer.
  static std::string WaitForRecordsIn(httplib::Client& client, const std::string& id, double records) {
    std::string body;
    const auto deadline = std::chrono::steady_clock::now() + seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      const auto response = client.Get(StrCat("/jobs/", id));
      if (!response || response->status != 200) return "";
      body = response->body;
      if (JsonNumber(body, "records_in").value_or(0) >= records) return body;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "job " << id << " did not read " << records << " records: " << body;
    return body;
  }

  static KafkaMockCluster* cluster_;
  static sqlite3* kafka_db_;
};

KafkaMockCluster* KafkaServerTest::cluster_ = nullptr;
sqlite3* KafkaServerTest::kafka_db_ = nullptr;

TEST_F(KafkaServerTest, AKafkaJobsSavepointsLeaveItRunningAndResumeItOnARestartedServer) {
  ProduceTrades(0, kKafkaTrades / 2);
  const std::string output = StrCat(root_, "/volume.jsonl");
  const std::string job = KafkaJob(output);
  const Server server = Start("", "first");
  httplib::Client client = Client(server);
  const auto submitted = client.Post("/jobs", job, "application/sql");
  ASSERT_TRUE(submitted);
  ASSERT_EQ(submitted->status, 201) << submitted->body;
  // A Kafka source records its partitions' offsets: the job has checkpoints.
  std::string state = WaitForRecordsIn(client, "1", kKafkaTrades / 2);
  EXPECT_NE(state.find("\"disabled\":null"), std::string::npos) << state;
  EXPECT_EQ(JsonString(state, "state"), "running") << state;
  // Everything produced is read: each partition's consumer lag comes to 0, in GET /jobs/{id}
  // and in /metrics (the live snapshot is handed over once a second).
  const std::string caught_up =
      "\"kafka_consumer_lag\":[{\"topic\":\"trades\",\"partition\":0,\"lag\":0},"
      "{\"topic\":\"trades\",\"partition\":1,\"lag\":0}]";
  for (const auto deadline = std::chrono::steady_clock::now() + seconds(30);
       state.find(caught_up) == std::string::npos && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto response = client.Get("/jobs/1");
    ASSERT_TRUE(response);
    state = response->body;
  }
  EXPECT_NE(state.find(caught_up), std::string::npos) << state;
  const auto scraped = client.Get("/metrics");
  ASSERT_TRUE(scraped);
  for (const char* partition : {"partition=\"0\"", "partition=\"1\""}) {
    EXPECT_EQ(MetricValue(scraped->body, "sluice_job_kafkaConsumerLag_records", partition), 0)
        << scraped->body;
  }
  EXPECT_NE(scraped->body.find(
                "sluice_job_kafkaConsumerLag_records{job_id=\"1\",job_name=\"volume\",topic=\"trades\""),
            std::string::npos)
      << scraped->body;

  // A savepoint on demand: the job goes on as a new run resumed from it, and reads exactly what
  // is produced after it.
  const auto savepoint = client.Post("/jobs/1/savepoints");
  ASSERT_TRUE(savepoint);
  ASSERT_EQ(savepoint->status, 201) << savepoint->body;
  EXPECT_EQ(JsonString(savepoint->body, "state"), "running") << savepoint->body;
  const std::optional<double> first = JsonNumber(savepoint->body, "savepoint");
  ASSERT_TRUE(first.has_value()) << savepoint->body;
  ProduceTrades(kKafkaTrades / 2, kKafkaTrades / 4);
  state = WaitForRecordsIn(client, "1", kKafkaTrades / 4);
  EXPECT_EQ(JsonString(state, "state"), "running") << state;
  EXPECT_EQ(JsonString(state, "resumed_from"), StrCat("savepoint ", static_cast<uint64_t>(*first))) << state;
  EXPECT_EQ(JsonNumber(state, "runs"), 2) << state;

  // Stopped with a savepoint, resumed by the next server at its offsets.
  const auto stop = client.Post("/jobs/1/stop");
  ASSERT_TRUE(stop);
  ASSERT_EQ(stop->status, 202) << stop->body;
  const std::string stopped = WaitUntilEnded(client, "1");
  ASSERT_EQ(JsonString(stopped, "state"), "stopped") << stopped;
  EXPECT_EQ(JsonNumber(stopped, "records_in"), kKafkaTrades / 4) << stopped;
  const size_t savepoints = stopped.find("\"savepoints\":");
  ASSERT_NE(savepoints, std::string::npos) << stopped;
  const std::optional<double> taken = JsonNumber(stopped.substr(savepoints), "latest");
  ASSERT_TRUE(taken.has_value()) << stopped;
  EXPECT_GT(*taken, *first) << stopped;
  const auto not_running = client.Post("/jobs/1/savepoints");
  ASSERT_TRUE(not_running);
  EXPECT_EQ(not_running->status, 409) << not_running->body;
  Stop(server);

  // More messages while no server runs; the next server resumes the job from its savepoint and
  // reads exactly those.
  ProduceTrades(kKafkaTrades * 3 / 4, kKafkaTrades / 4);
  const Server second = Start("", "second");
  httplib::Client second_client = Client(second);
  state = WaitForRecordsIn(second_client, "1", kKafkaTrades / 4);
  EXPECT_EQ(JsonString(state, "resumed_from"), StrCat("savepoint ", static_cast<uint64_t>(*taken))) << state;
  EXPECT_EQ(JsonNumber(state, "runs"), 3) << state;
  const auto stop_again = second_client.Post("/jobs/1/stop");
  ASSERT_TRUE(stop_again);
  ASSERT_EQ(stop_again->status, 202) << stop_again->body;
  const std::string ended = WaitUntilEnded(second_client, "1");
  ASSERT_EQ(JsonString(ended, "state"), "stopped") << ended;
  EXPECT_EQ(JsonNumber(ended, "records_in"), kKafkaTrades / 4) << ended;
  Stop(second);
  const Schema declared = DeclaredOutputSchema(job, {}, "volume");
  ExpectSameTables(ApplyChangelog(output, declared), QuerySqlite(kafka_db_, kScenario2Oracle),
                   "a Kafka job with an on-demand savepoint, stopped with another and resumed by a restarted "
                   "server");
}

// What GET /jobs/{id} shows of the runtime's tasks and channels (simdjson, apart from the
// server's own writer).
struct LiveFigures {
  std::string state;
  bool complete = true;
  uint64_t records_in = 0;
  bool has_watermark = false;
  std::vector<std::string> tasks;
  std::vector<uint64_t> task_records_in;
  std::vector<double> task_busy_seconds;
  std::vector<std::string> channel_kinds;
  std::vector<uint64_t> channel_sent;
  std::vector<uint64_t> channel_received;
  double exchanged() const {
    uint64_t rows = 0;
    for (size_t c = 0; c < channel_kinds.size(); ++c)
      rows += channel_kinds[c] == "exchange" ? channel_sent[c] : 0;
    return static_cast<double>(rows);
  }
};

LiveFigures ParseLiveFigures(const std::string& body) {
  LiveFigures figures;
  simdjson::dom::parser parser;
  simdjson::dom::element job;
  EXPECT_EQ(parser.parse(body).get(job), simdjson::SUCCESS) << body;
  figures.state = std::string(std::string_view(job["state"]));
  figures.complete = bool(job["counters"]["complete"]);
  figures.records_in = uint64_t(job["counters"]["records_in"]);
  figures.has_watermark = job["watermark_unix_millis"].is_int64();
  for (simdjson::dom::element task : simdjson::dom::array(job["tasks"])) {
    figures.tasks.emplace_back(std::string_view(task["task"]));
    figures.task_records_in.push_back(uint64_t(task["records_in"]));
    figures.task_busy_seconds.push_back(double(task["busy_seconds"]));
    EXPECT_GE(double(task["records_in_per_second"]), 0) << body;
    EXPECT_GE(double(task["busy_share"]), 0) << body;
  }
  for (simdjson::dom::element channel : simdjson::dom::array(job["channels"])) {
    figures.channel_kinds.emplace_back(std::string_view(channel["kind"]));
    figures.channel_sent.push_back(uint64_t(channel["records_sent"]));
    figures.channel_received.push_back(uint64_t(channel["records_received"]));
    EXPECT_LE(uint64_t(channel["queued"]), uint64_t(channel["capacity"])) << body;
  }
  return figures;
}

// While a job runs on two workers, GET /jobs/{id} carries each task's records and busy time
// and each channel's rows, growing from one snapshot to the next (not only once it ended).
TEST_F(KafkaServerTest, ARunningParallelJobsTasksAndChannelsGrowInItsLiveSnapshot) {
  const Server server = Start("", "server");
  httplib::Client client = Client(server);
  const auto submitted = client.Post(
      "/jobs?parallelism=2", KafkaJob(StrCat(root_, "/volume.jsonl"), "live-tasks"), "application/sql");
  ASSERT_TRUE(submitted);
  ASSERT_EQ(submitted->status, 201) << submitted->body;
  ProduceTrades(0, kKafkaTrades / 4);
  const LiveFigures before = ParseLiveFigures(WaitForRecordsIn(client, "1", kKafkaTrades / 4));
  ProduceTrades(kKafkaTrades / 4, kKafkaTrades / 4);
  const LiveFigures after = ParseLiveFigures(
      WaitForRecordsIn(client, "1", static_cast<double>(before.records_in + kKafkaTrades / 4)));

  const std::vector<std::string> tasks = {"worker 0", "worker 1", "coordinator"};
  for (const LiveFigures* snapshot : {&before, &after}) {
    EXPECT_EQ(snapshot->state, "running");
    EXPECT_FALSE(snapshot->complete) << "a live snapshot of a run on several workers";
    ASSERT_EQ(snapshot->tasks, tasks);
    // A keyed exchange (worker to worker) and a gather (worker to coordinator) per worker.
    ASSERT_EQ(snapshot->channel_kinds,
              (std::vector<std::string>{"gather", "gather", "exchange", "exchange", "exchange", "exchange"}));
  }
  for (size_t w = 0; w < 2; ++w) {
    EXPECT_GT(after.task_records_in[w], before.task_records_in[w]) << tasks[w];
    EXPECT_GT(after.task_busy_seconds[w], before.task_busy_seconds[w]) << tasks[w];
  }
  EXPECT_GT(after.exchanged(), before.exchanged());
  EXPECT_TRUE(after.has_watermark) << "the workers publish their partitions' watermarks";
  // /metrics has them live too.
  const auto scraped = client.Get("/metrics");
  ASSERT_TRUE(scraped);
  for (size_t w = 0; w < 2; ++w) {
    const std::string task = StrCat("task=\"worker ", w, "\"");
    EXPECT_GE(MetricValue(scraped->body, "sluice_job_task_numRecordsIn_total", task).value_or(0),
              static_cast<double>(after.task_records_in[w]))
        << scraped->body;
    EXPECT_GT(MetricValue(scraped->body, "sluice_job_task_busyTime_seconds_total", task).value_or(0), 0)
        << scraped->body;
  }

  const auto stop = client.Post("/jobs/1/stop");
  ASSERT_TRUE(stop);
  ASSERT_EQ(stop->status, 202) << stop->body;
  const LiveFigures ended = ParseLiveFigures(WaitUntilEnded(client, "1"));
  EXPECT_EQ(ended.state, "stopped");
  EXPECT_TRUE(ended.complete);
  ASSERT_EQ(ended.tasks, tasks);
  // Every channel delivered what it was given, and every row read went through the exchange.
  EXPECT_EQ(ended.channel_received, ended.channel_sent);
  EXPECT_EQ(ended.exchanged(), static_cast<double>(ended.records_in));
  Stop(server);
}

// A job without checkpoints (over a FIFO) has no savepoint to take: 409, and it goes on running.
TEST_F(ServerTest, ASavepointOfAJobWithoutCheckpointsIs409) {
  const std::string fifo = StrCat(root_, "/trades.fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const Server server = Start("", "server");
  httplib::Client client = Client(server);
  const auto submitted =
      client.Post("/jobs", Scenario2Job(fifo, StrCat(root_, "/volume.jsonl")), "application/sql");
  ASSERT_TRUE(submitted);
  ASSERT_EQ(submitted->status, 201) << submitted->body;
  const auto savepoint = client.Post("/jobs/1/savepoints");
  ASSERT_TRUE(savepoint);
  EXPECT_EQ(savepoint->status, 409) << savepoint->body;
  EXPECT_NE(savepoint->body.find("runs without checkpoints and savepoints"), std::string::npos)
      << savepoint->body;
  const auto missing = client.Post("/jobs/9/savepoints");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404) << missing->body;
  EXPECT_EQ(JsonString(client.Get("/jobs/1")->body, "state"), "running");
  const auto cancel = client.Delete("/jobs/1");
  ASSERT_TRUE(cancel);
  EXPECT_EQ(cancel->status, 202) << cancel->body;
  // A reader still waiting for a writer: open and close one so that it sees the end.
  const int fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);  // none: no reader left
  if (fd >= 0) close(fd);
  WaitUntilEnded(client, "1");
  Stop(server);
}

}  // namespace
}  // namespace sluice::testing
