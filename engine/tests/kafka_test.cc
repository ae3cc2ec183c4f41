// Kafka source and sink against librdkafka's mock cluster on loopback, started and stopped by
// each test: Scenario 2 and 3a Kafka -> Sluice -> Kafka equal to the SQLite oracle, two `sluice`
// processes in one consumer group, a rebalance while running, a broker going down and injected
// request errors, a process killed mid-run and restarted, a refused delivery, malformed
// messages to the dead-letter file, raw format, system columns and a transactional CSV sink,
// binding errors and the CLI commands (kafka-mock, datagen --kafka, unreachable brokers).
// At-least-once tests compare the distinct output rows with the oracle and print the number
// of duplicates.
//
// Every consumer group's first join waits for the mock's initial rebalance delay (3 s, like a
// real broker's group.initial.rebalance.delay.ms), so each job takes at least that long.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include "common/strings.h"
#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/kafka_mock_cluster.h"
#include "child_process.h"
#include "job_test_harness.h"
#include "oracle_rows.h"
#include "trade_generator.h"

extern char** environ;

namespace sluice::testing {
namespace {

// The WITH properties of the Kafka trades source used by every job here.
std::string TradesSource() {
  return StrCat(
      "'trades.type' = 'kafka_source', 'trades.topic' = 'trades', 'trades.bootstrap.servers' = "
      "'${bootstrap}', "
      "'trades.group.id' = '${group:sluice-test}', 'trades.stop.at.end' = '${stop:true}', "
      "'trades.commit.interval' = '${commit:1s}', 'trades.schema' = '",
      kGeneratedTradesSchema,
      "', 'trades.properties.session.timeout.ms' = '6000', 'trades.properties.heartbeat.interval.ms' = "
      "'500', "
      "'trades.dead_letter.path' = '${dead_letters:trades.dead_letter.jsonl}', "
      "'event.time.field' = 'trade_time', 'watermark.strategy' = 'bounded_out_of_orderness', "
      "'watermark.max_out_of_orderness' = '2s'");
}

std::string KafkaSink(const std::string& name, const std::string& key) {
  return StrCat("'", name, ".type' = 'kafka_sink', '", name, ".topic' = '", name, "', '", name,
                ".bootstrap.servers' = '${bootstrap}', '", name, ".key.field' = '", key, "'");
}

// Scenario 2 (GROUP BY symbol, EMIT CHANGES) and Scenario 3a (GROUP BY trader_id, symbol,
// 1-minute TUMBLING, EMIT FINAL) as in scenarios/, reading Kafka and writing Kafka.
std::string ScenarioJob() {
  return StrCat(
      "CREATE STREAM volume AS SELECT symbol, COUNT(*) AS trades, SUM(quantity) AS volume, AVG(price) AS "
      "avg_price, MIN(price) AS low, MAX(price) AS high FROM trades GROUP BY symbol WITH (",
      TradesSource(), ", ", KafkaSink("volume", "symbol"),
      ");\n"
      "CREATE STREAM trader_minute AS SELECT trader_id, symbol, _window_start AS minute_start, COUNT(*) AS "
      "trades, SUM(quantity) AS volume, AVG(price) AS avg_price FROM trades GROUP BY trader_id, symbol "
      "WINDOW TUMBLING (trade_time, INTERVAL '1' MINUTE) EMIT FINAL WITH (",
      KafkaSink("trader_minute", "symbol"), ");\n");
}

constexpr const char* kNotionalOracle = "SELECT trade_id, symbol, price * quantity AS notional FROM trades";

// The output schema Sluice declares for `stream` of `job` (binding needs no broker).
Schema JobStreamSchema(const std::string& job, const std::string& stream) {
  return DeclaredOutputSchema(job, {{"bootstrap", "localhost:1"}}, stream);
}

// What the notional jobs below declare: trade_id, symbol, price * quantity AS notional.
Schema NotionalSchema() {
  return JobStreamSchema(StrCat("CREATE STREAM notional AS SELECT trade_id, symbol, price * quantity AS "
                                "notional FROM trades WITH (",
                                TradesSource(), ", ", KafkaSink("notional", "symbol"), ")"),
                         "notional");
}

TradeGeneratorOptions TradeOptions(uint64_t count) {
  TradeGeneratorOptions options;
  options.count = count;
  options.seed = 7;
  options.symbols = 100;
  options.traders = 50;
  options.events_per_second = 200;  // 100,000 trades span about 8 minutes of event time
  options.out_of_order_fraction = 0.05;
  options.max_delay_millis = 1500;
  return options;
}

// Every Kafka test runs at parallelism 1 (the task graph fused on one thread, one consumer-group
// member) and 2 (two workers, a member each, flush points as barriers through the graph).
class KafkaTest : public ::testing::TestWithParam<int> {
 protected:
  int parallelism() const { return GetParam(); }
  // Runs a job in this process; `cancel` (optional) stops an unbounded one.
  JobResult RunJob(const std::string& text, const std::map<std::string, std::string>& variables,
                   const std::atomic<bool>* cancel = nullptr, size_t batch_size = 1024, bool strict = false) {
    return RunJobText(text, variables, batch_size, strict, parallelism(), cancel);
  }

  void SetUp() override {
    auto cluster = KafkaMockCluster::Start(3);
    ASSERT_TRUE(cluster.ok()) << cluster.status().message();
    cluster_ = std::move(*cluster);
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    Exec(kGeneratedTradesTable);
  }
  void TearDown() override {
    sqlite3_close(db_);
    cluster_.reset();
  }

  void Exec(const char* sql) {
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
  }

  const std::string& bootstrap() const { return cluster_->bootstrap_servers(); }

  // Produces the next `count` generated trades (key: symbol) of a stream of `total` to `topic`
  // and inserts the same trades into the SQLite table.
  void ProduceTrades(const std::string& topic, uint64_t count, uint64_t total = 0) {
    if (text_generator_ == nullptr) {
      const TradeGeneratorOptions options = TradeOptions(total > 0 ? total : count);
      text_generator_ = std::make_unique<TradeGenerator>(options);
      batch_generator_ = std::make_unique<TradeGenerator>(options);
    }
    TradeGenerator& text_generator = *text_generator_;
    TradeGenerator& batch_generator = *batch_generator_;
    KafkaProducerOptions producer_options;
    producer_options.client.bootstrap_servers = bootstrap();
    producer_options.topic = topic;
    producer_options.description = "test producer";
    auto producer = KafkaProducer::Create(producer_options);
    ASSERT_TRUE(producer.ok()) << producer.status().message();
    ASSERT_TRUE((*producer)->Connect().ok());
    Exec("BEGIN");
    std::string text;
    Batch batch;
    for (uint64_t done = 0; done < count;) {
      text.clear();
      const size_t chunk = static_cast<size_t>(std::min<uint64_t>(4096, count - done));
      const size_t produced = text_generator.AppendJsonLines(chunk, text);
      ASSERT_EQ(batch_generator.FillBatch(chunk, batch), produced);
      ASSERT_GT(produced, 0u);
      std::string_view rest = text;
      for (size_t row = 0; row < produced; ++row) {
        const size_t newline = rest.find('\n');
        const std::string_view line = rest.substr(0, newline);
        rest.remove_prefix(newline + 1);
        const std::string_view symbol = batch.column(2).data<std::string_view>()[row];
        ASSERT_TRUE((*producer)->Produce(symbol.data(), symbol.size(), line.data(), line.size()).ok());
      }
      InsertGeneratedTrades(db_, batch, produced);
      done += produced;
    }
    Exec("COMMIT");
    ASSERT_TRUE((*producer)->Flush(false).ok());
  }

  // The mock keeps at most 5 MiB per partition and drops older messages beyond that: a test
  // whose input was trimmed would fail for the wrong reason.
  void ExpectNothingTrimmed(const std::string& topic) {
    auto records = ReadKafkaTopic(bootstrap(), topic);
    ASSERT_TRUE(records.ok()) << records.status().message();
    std::map<int32_t, int64_t> first;
    for (const KafkaRecord& record : *records) first.emplace(record.partition, record.offset);
    for (const auto& [partition, offset] : first) {
      ASSERT_EQ(offset, 0) << topic << "[" << partition
                           << "] lost its first messages to the mock's 5 MiB limit";
    }
  }

  // Waits up to `seconds` until `topic` holds at least `rows` distinct messages; false if it
  // does not by then. Distinct, because at-least-once retries write duplicates: a count of all
  // messages could end a test before the job has read its last input.
  bool WaitForDistinctMessages(const std::string& topic, size_t rows, int seconds) {
    for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
         std::chrono::steady_clock::now() < deadline;) {
      auto records = ReadKafkaTopic(bootstrap(), topic);
      if (records.ok()) {
        std::set<std::string> values;
        for (const KafkaRecord& record : *records) values.insert(record.value);
        if (values.size() >= rows) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }

  // The messages of `topic` as an oracle table (JSON objects typed by `declared`), by partition
  // and offset.
  Table TopicTable(const std::string& topic, const Schema& declared) {
    auto records = ReadKafkaTopic(bootstrap(), topic);
    EXPECT_TRUE(records.ok()) << records.status().message();
    if (!records.ok()) return {};
    std::string text;
    for (const KafkaRecord& record : *records) StrAppend(&text, record.value, "\n");
    const std::string path = directory_.File(StrCat(topic, ".jsonl"));
    WriteFile(path, text);
    return ReadJsonLinesTable(path, declared);
  }

  void ExpectScenarioOutputs(const std::string& context) {
    ExpectSameTables(LastRowPerKey(TopicTable("volume", JobStreamSchema(ScenarioJob(), "volume")), 1),
                     QuerySqlite(db_, kScenario2Oracle), StrCat("Scenario 2, ", context));
    ExpectSameTables(TopicTable("trader_minute", JobStreamSchema(ScenarioJob(), "trader_minute")),
                     QuerySqlite(db_, kScenario3aOracle), StrCat("Scenario 3a, ", context));
  }

  std::unique_ptr<KafkaMockCluster> cluster_;
  std::unique_ptr<TradeGenerator> text_generator_, batch_generator_;  // one stream per test
  sqlite3* db_ = nullptr;
  TemporaryDirectory directory_;
};

TEST_P(KafkaTest, Scenario2And3aKafkaToKafkaEqualTheOracle) {
  ASSERT_TRUE(cluster_->CreateTopic("trades", 4).ok());
  ASSERT_TRUE(cluster_->CreateTopic("volume", 4).ok());
  ASSERT_TRUE(cluster_->CreateTopic("trader_minute", 4).ok());
  ProduceTrades("trades", 100000);
  ExpectNothingTrimmed("trades");
  const JobResult result =
      RunJob(ScenarioJob(), {{"bootstrap", bootstrap()}, {"dead_letters", directory_.File("dead.jsonl")}});
  ASSERT_TRUE(result.status.ok()) << result.status.message();
  EXPECT_EQ(result.counters.workers, parallelism());
  EXPECT_EQ(result.counters.records_in, 100000u);
  EXPECT_EQ(result.counters.dead_lettered, 0u);
  EXPECT_EQ(result.counters.late_dropped, 0u);
  ExpectScenarioOutputs("one process, 4 partitions");
}

// Scenario 3a written in Flink's dialect, as a Flink user would copy it: Kafka tables with
// Flink's options, a window table function, INSERT INTO. Its topic equals the oracle.
TEST_P(KafkaTest, FlinkDialectKafkaToKafkaEqualsTheOracle) {
  ASSERT_TRUE(cluster_->CreateTopic("trades", 4).ok());
  ASSERT_TRUE(cluster_->CreateTopic("trader_minute", 2).ok());
  ProduceTrades("trades", 20000);
  const std::string job =
      "CREATE TABLE trades (trade_id BIGINT, trader_id STRING, symbol STRING, category STRING, price "
      "DOUBLE,\n"
      "  quantity BIGINT, side STRING, venue STRING, trade_time TIMESTAMP(3),\n"
      "  WATERMARK FOR trade_time AS trade_time - INTERVAL '2' SECOND\n"
      ") WITH ('connector' = 'kafka', 'topic' = 'trades', 'properties.bootstrap.servers' = '${bootstrap}',\n"
      "  'properties.group.id' = 'flink-dialect', 'scan.startup.mode' = 'earliest-offset',\n"
      "  'scan.bounded.mode' = 'latest-offset', 'format' = 'json',\n"
      "  'properties.session.timeout.ms' = '6000', 'properties.heartbeat.interval.ms' = '500');\n"
      "CREATE TABLE trader_minute (trader_id STRING, symbol STRING, minute_start TIMESTAMP(3), trades "
      "BIGINT,\n"
      "  volume BIGINT, avg_price DOUBLE\n"
      ") WITH ('connector' = 'kafka', 'topic' = 'trader_minute',\n"
      "  'properties.bootstrap.servers' = '${bootstrap}', 'format' = 'json');\n"
      "INSERT INTO trader_minute\n"
      "SELECT trader_id, symbol, window_start, COUNT(*), SUM(quantity), AVG(price)\n"
      "FROM TABLE(TUMBLE(TABLE trades, DESCRIPTOR(trade_time), INTERVAL '1' MINUTE))\n"
      "GROUP BY trader_id, symbol, window_start, window_end;\n";
  const JobResult result = RunJob(job, {{"bootstrap", bootstrap()}});
  ASSERT_TRUE(result.status.ok()) << result.status.message();
  EXPECT_EQ(result.counters.records_in, 20000u);
  EXPECT_EQ(result.counters.dead_lettered, 0u);
  EXPECT_EQ(result.counters.late_dropped, 0u);
  ExpectSameTables(TopicTable("trader_minute", JobStreamSchema(job, "trader_minute")),
                   QuerySqlite(db_, kScenario3aOracle), "Scenario 3a in Flink's dialect");
}

// A topic keyed by symbol declared 'partitioned.by' symbol: every symbol's messages are in one
// Kafka partition, read by one worker, so both GROUP BYs (which include symbol) need no exchange.
TEST_P(KafkaTest, PartitionedByTheMessageKeyNeedsNoExchange) {
  ASSERT_TRUE(cluster_->CreateTopic("trades", 4).ok());
  ASSERT_TRUE(cluster_->CreateTopic("volume", 4).ok());
  ASSERT_TRUE(cluster_->CreateTopic("trader_minute", 4).ok());
  ProduceTrades("trades", 20000);
  std::string job = ScenarioJob();
  const std::string source = TradesSource();
  job.replace(job.find(source), source.size(), StrCat(source, ", 'trades.partitioned.by' = 'symbol'"));
  const JobResult result =
      RunJob(job, {{"bootstrap", bootstrap()}, {"dead_letters", directory_.File("dead.jsonl")}});
  ASSERT_TRUE(result.status.ok()) << result.status.message();
  EXPECT_EQ(result.counters.records_in, 20000u);
  if (parallelism() > 1) {
    EXPECT_EQ(result.counters.keyed_stages_forwarded, 2);
    EXPECT_EQ(result.counters.keyed_stages_exchanged, 0);
  }
  ExpectScenarioOutputs("partitioned by symbol");
}

// The same job at batch size 7: poll batches, partitions and flush points cut differently.
TEST_P(KafkaTest, SmallBatchesGiveTheSameResults) {
  ASSERT_TRUE(cluster_->CreateTopic("trades", 3).ok());
  ASSERT_TRUE(cluster_->CreateTopic("volume", 2).ok());
  ASSERT_TRUE(cluster_->CreateTopic("trader_minute", 1).ok());
  ProduceTrades("trades", 5000);
  const JobResult result = RunJob(
      ScenarioJob(),
      {{"bootstrap", bootstrap()}, {"commit", "50ms"}, {"dead_letters", directory_.File("dead.jsonl")}},
      nullptr, 7);
  ASSERT_TRUE(result.status.ok()) << result.status.message();
  EXPECT_EQ(result.counters.records_in, 5000u);
  ExpectScenarioOutputs("batch size 7");
}

// Two processes in one consumer group split a 4-partition topic keyed by symbol: each symbol
// is aggregated by one of them, and together their outputs equal the oracle.
TEST_P(KafkaTest, TwoProcessesInOneGroupTogetherEqualTheOracle) {
  ASSERT_TRUE(cluster_->CreateTopic("trades", 4).ok());
  ASSERT_TRUE(cluster_->CreateTopic("volume", 4).ok());
  ASSERT_TRUE(cluster_->CreateTopic("trader_minute", 4).ok());
  ProduceTrades("trades", 100000);
  ExpectNothingTrimmed("trades");
  const std::string job = directory_.File("job.sql");
  WriteFile(job, ScenarioJob());
  std::vector<Process> processes;
  for (int i = 0; i < 2; ++i) {
    processes.push_back(SpawnSluice({"run", job, "--parallelism", StrCat(parallelism()), "--set", StrCat("bootstrap=", bootstrap()), "--set",
                                     StrCat("dead_letters=", directory_.File(StrCat("dead", i, ".jsonl")))},
                                    directory_.File(StrCat("out", i)), directory_.File(StrCat("err", i))));
  }
  uint64_t total = 0;
  for (const Process& process : processes) {
    const int code = WaitFor(process, std::chrono::seconds(90));
    const std::string err = ReadFile(process.err);
    EXPECT_EQ(code, 0) << err;
    const uint64_t records = RecordsIn(err);
    EXPECT_GT(records, 0u) << "each process gets partitions: " << err;
    total += records;
  }
  EXPECT_EQ(total, 100000u);
  ExpectScenarioOutputs("two processes in one group");
}

// At-least-once through failures: a broker goes down and comes back while the job runs, and
// Produce, Fetch and OffsetCommit requests fail now and then. Nothing is lost; duplicates (from
// retries) are counted and reported.
TEST_P(KafkaTest, BrokerDownAndRequestErrorsLoseNothing) {
  ASSERT_TRUE(cluster_->CreateTopic("trades", 4).ok());
  ASSERT_TRUE(cluster_->CreateTopic("notional", 4).ok());
  const std::string job = StrCat(
      "CREATE STREAM notional AS SELECT trade_id, symbol, price * quantity AS notional FROM trades "
      "WHERE quantity > 20 WITH (",
      TradesSource(), ", ", KafkaSink("notional", "symbol"), ")");
  std::atomic<bool> cancel{false};
  JobResult result;
  std::thread runner([&] {
    result = RunJob(job,
                    {{"bootstrap", bootstrap()},
                     {"stop", "false"},
                     {"commit", "200ms"},
                     {"dead_letters", directory_.File("dead.jsonl")}},
                    &cancel);
  });
  constexpr uint64_t kTrades = 40000;
  ProduceTrades("trades", kTrades / 2, kTrades);
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));  // the group has formed
  ASSERT_TRUE(cluster_->SetBrokerDown(1).ok());
  std::thread recovery([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(2000));
    EXPECT_TRUE(cluster_->SetBrokerUp(1).ok());
  });
  // Transient errors on both clients of the job and on the test's producer.
  cluster_->PushRequestErrors(0, {6, 7, 6, 7, 6});  // Produce: NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT
  cluster_->PushRequestErrors(1, {6, 7, 6, 7, 6});  // Fetch
  cluster_->PushRequestErrors(8,
                              {15, 16, 15, 16});  // OffsetCommit: COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR
  ProduceTrades("trades", kTrades / 2);           // while broker 1 is down (waits for it)
  recovery.join();
  const Table expected = QuerySqlite(db_, StrCat(kNotionalOracle, " WHERE quantity > 20"));
  // Wait until the output covers every expected row, then stop the job.
  EXPECT_TRUE(WaitForDistinctMessages("notional", expected.rows.size(), 90))
      << "the output did not cover the input within 90 s";
  cancel = true;
  runner.join();
  ASSERT_TRUE(result.status.ok()) << result.status.message();
  const Table actual = TopicTable("notional", NotionalSchema());
  std::map<std::string, int> seen;
  for (const Row& row : actual.rows) ++seen[RowKey(row)];
  Table distinct{actual.names, {}};
  uint64_t duplicates = 0;
  for (const Row& row : actual.rows) {
    int& count = seen[RowKey(row)];
    if (count > 0) {
      distinct.rows.push_back(row);
      duplicates += count - 1;
      count = 0;
    }
  }
  std::printf(
      "[ kafka    ] broker down/up + request errors: %zu output rows, %zu expected, %llu duplicates\n",
      actual.rows.size(), expected.rows.size(), static_cast<unsigned long long>(duplicates));
  RecordProperty("duplicates", static_cast<int>(duplicates));
  ExpectSameTables(distinct, expected, "every expected row is in the output, once or more");
}

// A process killed with SIGKILL while it consumes a live stream commits nothing after its last
// flush point; a second process of the same group resumes from the committed offsets: the
// output covers every trade, and only what followed the last commit is produced twice.
TEST_P(KafkaTest, KilledProcessLosesNothingAfterRestart) {
  constexpr uint64_t kTrades = 60000;
  ASSERT_TRUE(cluster_->CreateTopic("trades", 4).ok());
  ASSERT_TRUE(cluster_->CreateTopic("notional", 2).ok());
  const std::string job = directory_.File("job.sql");
  WriteFile(job,
            StrCat("CREATE STREAM notional AS SELECT trade_id, symbol, price * quantity AS notional FROM "
                   "trades WITH (",
                   TradesSource(), ", ", KafkaSink("notional", "symbol"), ")"));
  const std::vector<std::string> common = {
      "run", job, "--parallelism", StrCat(parallelism()), "--set", StrCat("bootstrap=", bootstrap()), "--set", "commit=200ms", "--batch-size", "64"};
  std::vector<std::string> first_args = common;
  // Unbounded (it is killed), committing once a second: the kill leaves uncommitted output.
  first_args.insert(first_args.end(), {"--set", "stop=false", "--set", "commit=1s"});
  Process first = SpawnSluice(first_args, directory_.File("out1"), directory_.File("err1"));
  ProduceTrades("trades", kTrades / 2, kTrades);
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       std::chrono::steady_clock::now() < deadline;) {
    auto records = ReadKafkaTopic(bootstrap(), "notional");
    if (records.ok() && records->size() >= 10000) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // A live stream: the process consumes while trades arrive, and dies in the middle of it.
  for (int piece = 0; piece < 30; ++piece) {
    ProduceTrades("trades", kTrades / 4 / 30);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(first.pid, SIGKILL);
  EXPECT_EQ(WaitFor(first, std::chrono::seconds(10)), 128 + SIGKILL);
  ProduceTrades("trades", kTrades / 4);
  ExpectNothingTrimmed("trades");
  const size_t before_restart = ReadKafkaTopic(bootstrap(), "notional")->size();
  Process second = SpawnSluice(common, directory_.File("out2"), directory_.File("err2"));
  EXPECT_EQ(WaitFor(second, std::chrono::seconds(60)), 0) << ReadFile(second.err);
  const Table actual = TopicTable("notional", NotionalSchema());
  std::set<std::string> distinct_keys;
  Table distinct{actual.names, {}};
  for (const Row& row : actual.rows) {
    if (distinct_keys.insert(RowKey(row)).second) distinct.rows.push_back(row);
  }
  const uint64_t duplicates = actual.rows.size() - distinct.rows.size();
  std::printf(
      "[ kafka    ] kill -9 after %zu output rows; the restart read %llu trades; %zu rows, %llu "
      "duplicates\n",
      before_restart, static_cast<unsigned long long>(RecordsIn(ReadFile(second.err))), actual.rows.size(),
      static_cast<unsigned long long>(duplicates));
  RecordProperty("duplicates", static_cast<int>(duplicates));
  EXPECT_LT(before_restart, kTrades);  // the kill came before the end of the input
  EXPECT_LE(duplicates, before_restart);
  ExpectSameTables(distinct, QuerySqlite(db_, kNotionalOracle),
                   "output after a kill and a restart covers every trade");
}

// A second process joins the group while the first consumes a live stream: the rebalance
// revokes half of the first one's partitions (it flushes and commits before giving them up),
// the second resumes them from the committed offsets, and together they lose nothing.
TEST_P(KafkaTest, RebalanceWhileRunningRevokesCleanlyAndLosesNothing) {
  constexpr uint64_t kTrades = 40000;
  ASSERT_TRUE(cluster_->CreateTopic("trades", 4).ok());
  ASSERT_TRUE(cluster_->CreateTopic("notional", 4).ok());
  const std::string job = directory_.File("job.sql");
  WriteFile(job,
            StrCat("CREATE STREAM notional AS SELECT trade_id, symbol, price * quantity AS notional FROM "
                   "trades WITH (",
                   TradesSource(), ", ", KafkaSink("notional", "symbol"), ")"));
  const std::vector<std::string> arguments = {"run",           job,
                                              "--parallelism", StrCat(parallelism()),
                                              "--set",         StrCat("bootstrap=", bootstrap()),
                                              "--set",         "stop=false",
                                              "--set",         "commit=300ms",
                                              "--log-level",   "debug"};
  Process first = SpawnSluice(arguments, directory_.File("out1"), directory_.File("err1"));
  ProduceTrades("trades", kTrades / 4, kTrades);
  WaitForDistinctMessages("notional", kTrades / 4, 30);
  Process second = SpawnSluice(arguments, directory_.File("out2"), directory_.File("err2"));
  for (int piece = 0; piece < 60; ++piece) {  // a live stream during the rebalance
    ProduceTrades("trades", kTrades * 3 / 4 / 60);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ExpectNothingTrimmed("trades");
  EXPECT_TRUE(WaitForDistinctMessages("notional", kTrades, 90)) << "the output did not cover the input";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let a last commit happen
  kill(first.pid, SIGTERM);
  kill(second.pid, SIGTERM);
  // SIGTERM is a graceful stop: sinks flushed, offsets committed, exit 0.
  EXPECT_EQ(WaitFor(first, std::chrono::seconds(20)), 0) << ReadFile(first.err);
  EXPECT_EQ(WaitFor(second, std::chrono::seconds(20)), 0) << ReadFile(second.err);
  const std::string first_log = ReadFile(first.err), second_log = ReadFile(second.err);
  EXPECT_NE(first_log.find("revoked:"), std::string::npos) << first_log;
  EXPECT_GT(RecordsIn(second_log), 0u) << second_log;
  const Table actual = TopicTable("notional", NotionalSchema());
  std::set<std::string> distinct_keys;
  Table distinct{actual.names, {}};
  for (const Row& row : actual.rows) {
    if (distinct_keys.insert(RowKey(row)).second) distinct.rows.push_back(row);
  }
  std::printf("[ kafka    ] rebalance while running: %llu + %llu trades read, %zu rows, %zu duplicates\n",
              static_cast<unsigned long long>(RecordsIn(first_log)),
              static_cast<unsigned long long>(RecordsIn(second_log)), actual.rows.size(),
              actual.rows.size() - distinct.rows.size());
  RecordProperty("duplicates", static_cast<int>(actual.rows.size() - distinct.rows.size()));
  ExpectSameTables(distinct, QuerySqlite(db_, kNotionalOracle),
                   "two processes with a rebalance in the middle cover every trade");
}

// Malformed messages go to the dead-letter file with topic, partition, offset and reason; the
// good ones go through.
TEST_P(KafkaTest, MalformedMessagesGoToTheDeadLetterFileWithTheirPosition) {
  ASSERT_TRUE(cluster_->CreateTopic("trades", 1).ok());
  KafkaProducerOptions options;
  options.client.bootstrap_servers = bootstrap();
  options.topic = "trades";
  options.description = "test producer";
  auto producer = KafkaProducer::Create(options);
  ASSERT_TRUE(producer.ok());
  ASSERT_TRUE((*producer)->Connect().ok());
  const std::vector<std::string> messages = {
      R"({"trade_id":1,"symbol":"A","quantity":5,"price":1.5,"trade_time":1767225600000})",
      R"({"trade_id":2,"symbol":"B","quantity":"many","price":2.5,"trade_time":1767225601000})",
      R"(not json at all)",
      R"({"trade_id":4,"symbol":"C","quantity":7,"price":3.5,"trade_time":1767225602000})",
      R"({"trade_id":5,"symbol":"D","quantity":8,"price":4.5})",
  };
  for (const std::string& message : messages) {
    ASSERT_TRUE((*producer)->Produce("k", 1, message.data(), message.size()).ok());
  }
  ASSERT_TRUE((*producer)->Flush(false).ok());
  const std::string dead = directory_.File("dead.jsonl"), out = directory_.File("out.jsonl");
  const JobResult result =
      RunJob(StrCat("CREATE STREAM good AS SELECT trade_id, quantity FROM trades WITH (", TradesSource(),
                    ", 'good.type' = 'file_sink', 'good.path' = '${out}')"),
             {{"bootstrap", bootstrap()}, {"dead_letters", dead}, {"out", out}});
  ASSERT_TRUE(result.status.ok()) << result.status.message();
  EXPECT_EQ(result.counters.records_in, 5u);
  EXPECT_EQ(result.counters.dead_lettered, 3u);
  EXPECT_EQ(ReadLines(out),
            (std::vector<std::string>{R"({"trade_id":1,"quantity":5})", R"({"trade_id":4,"quantity":7})"}));
  const std::vector<std::string> lines = ReadLines(dead);
  ASSERT_EQ(lines.size(), 3u) << ReadFile(dead);
  EXPECT_TRUE(
      StartsWith(lines[0], R"({"source":"trades","topic":"trades","partition":0,"offset":1,"reason":")"))
      << lines[0];
  EXPECT_NE(lines[0].find("quantity"), std::string::npos) << lines[0];
  EXPECT_TRUE(StartsWith(
      lines[1], R"({"source":"trades","topic":"trades","partition":0,"offset":2,"reason":"malformed JSON)"))
      << lines[1];
  EXPECT_NE(lines[1].find(R"("record":"not json at all")"), std::string::npos) << lines[1];
  EXPECT_TRUE(
      StartsWith(lines[2], R"({"source":"trades","topic":"trades","partition":0,"offset":4,"reason":")"))
      << lines[2];
  EXPECT_NE(lines[2].find("trade_time"), std::string::npos) << lines[2];
  // --strict: the first bad message fails the job and names its position.
  const JobResult strict =
      RunJob(StrCat("CREATE STREAM good AS SELECT trade_id FROM trades WITH (", TradesSource(),
                    ", 'good.type' = 'file_sink', 'good.path' = '${out}')"),
             {{"bootstrap", bootstrap()}, {"group", "strict"}, {"dead_letters", dead}, {"out", out}}, nullptr,
             1024, true);
  EXPECT_FALSE(strict.status.ok());
  EXPECT_NE(std::string(strict.status.message()).find("topic trades partition 0 offset 1:"),
            std::string::npos)
      << strict.status.message();
}

// raw format, the system columns, event time from the Kafka timestamp, a CSV sink and a
// transactional (exactly_once) sink read back with read_committed.
TEST_P(KafkaTest, RawFormatSystemColumnsAndTransactionalCsvSink) {
  ASSERT_TRUE(cluster_->CreateTopic("lines", 2).ok());
  ASSERT_TRUE(cluster_->CreateTopic("copy", 1).ok());
  KafkaProducerOptions options;
  options.client.bootstrap_servers = bootstrap();
  options.topic = "lines";
  options.description = "test producer";
  auto producer = KafkaProducer::Create(options);
  ASSERT_TRUE(producer.ok());
  ASSERT_TRUE((*producer)->Connect().ok());
  for (int i = 0; i < 6; ++i) {
    const std::string key = StrCat("key", i % 3), value = StrCat("line, \"", i, "\"");
    ASSERT_TRUE((*producer)->Produce(key.data(), key.size(), value.data(), value.size()).ok());
  }
  ASSERT_TRUE((*producer)->Produce(nullptr, 0, "no key", 6).ok());
  ASSERT_TRUE((*producer)->Flush(false).ok());
  const JobResult result = RunJob(
      "CREATE STREAM copy AS SELECT value, _key, _partition, _offset, _timestamp, _event_time FROM lines "
      "WITH ("
      "'lines.type' = 'kafka_source', 'lines.topic' = 'lines', 'lines.bootstrap.servers' = '${bootstrap}', "
      "'lines.format' = 'raw', 'lines.stop.at.end' = 'true', "
      "'copy.type' = 'kafka_sink', 'copy.topic' = 'copy', 'copy.bootstrap.servers' = '${bootstrap}', "
      "'copy.format' = 'csv', 'copy.key.field' = '_partition', 'copy.delivery.guarantee' = 'exactly_once')",
      {{"bootstrap", bootstrap()}});
  ASSERT_TRUE(result.status.ok()) << result.status.message();
  EXPECT_EQ(result.counters.records_out, 7u);
  auto input = ReadKafkaTopic(bootstrap(), "lines");
  auto output = ReadKafkaTopic(bootstrap(), "copy");
  ASSERT_TRUE(input.ok() && output.ok());
  std::set<std::string> expected, actual;
  for (const KafkaRecord& r : *input) {
    // CSV: the value quoted (it holds the delimiter and quotes), a NULL key as an empty field.
    std::string quoted = "\"";
    for (char c : r.value) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    quoted += "\"";
    if (r.value == "no key") quoted = "no key";
    expected.insert(StrCat(quoted, ",", r.key.value_or(""), ",", r.partition, ",", r.offset, ",", r.timestamp,
                           ",", r.timestamp));
  }
  for (const KafkaRecord& r : *output) {
    actual.insert(r.value);
    // The key is the _partition field: the 4th from the end.
    size_t comma = r.value.size();
    for (int k = 0; k < 4; ++k) comma = r.value.rfind(',', comma - 1);
    const std::string partition = r.value.substr(comma + 1, r.value.find(',', comma + 1) - comma - 1);
    EXPECT_EQ(r.key, std::optional<std::string>(partition)) << r.value;
  }
  EXPECT_EQ(actual, expected);
}

// An upsert stream's delete is a tombstone: a message with the row's key and a null value. The
// session event at 30000 merges u's two emitted sessions: the later one's row is deleted.
TEST_P(KafkaTest, UpsertDeleteIsATombstone) {
  ASSERT_TRUE(cluster_->CreateTopic("sessions", 1).ok());
  const std::string clicks = directory_.File("clicks.jsonl");
  WriteFile(clicks,
            "{\"user\":\"u\",\"ts\":0}\n{\"user\":\"u\",\"ts\":60000}\n{\"user\":\"u\",\"ts\":30000}\n");
  const JobResult result = RunJob(
      "CREATE STREAM sessions AS SELECT user, COUNT(*) AS n, _window_start FROM clicks "
      "GROUP BY user WINDOW SESSION (ts, INTERVAL '30' SECOND) EMIT CHANGES WITH ("
      "'clicks.type' = 'file_source', 'clicks.path' = '${clicks}', 'clicks.format' = 'json', "
      "'clicks.schema' = 'user STRING, ts TIMESTAMP', 'clicks.event.time.field' = 'ts', "
      "'late.data.allowed_lateness' = '60s', 'sessions.type' = 'kafka_sink', 'sessions.topic' = 'sessions', "
      "'sessions.bootstrap.servers' = '${bootstrap}', 'sessions.changelog.mode' = 'upsert')",
      {{"bootstrap", bootstrap()}, {"clicks", clicks}});
  ASSERT_TRUE(result.status.ok()) << result.status.message();
  auto records = ReadKafkaTopic(bootstrap(), "sessions");
  ASSERT_TRUE(records.ok()) << records.status().message();
  std::vector<std::string> actual;
  for (const KafkaRecord& r : *records) actual.push_back(StrCat(r.key.value_or("(none)"), " -> ", r.value));
  const std::vector<std::string> expected = {
      R"({"user":"u","_window_start":0} -> {"user":"u","n":1,"_window_start":0})",
      R"({"user":"u","_window_start":60000} -> {"user":"u","n":1,"_window_start":60000})",
      R"({"user":"u","_window_start":60000} -> )",  // the tombstone
      R"({"user":"u","_window_start":0} -> {"user":"u","n":3,"_window_start":0})",
  };
  EXPECT_EQ(actual, expected);
}

// A delivery the broker refuses fails the job with the broker's error; nothing is silently
// dropped. (A file source: no consumer group to wait for.)
TEST_P(KafkaTest, RefusedDeliveryFailsTheJobWithTheBrokersError) {
  ASSERT_TRUE(cluster_->CreateTopic("out", 1).ok());
  const std::string input = directory_.File("in.jsonl");
  WriteFile(input, "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
  // Every Produce request fails with TOPIC_AUTHORIZATION_FAILED (29), which is not retriable.
  cluster_->PushRequestErrors(0, std::vector<int>(100, 29));
  const JobResult result = RunJob(
      "CREATE STREAM out AS SELECT a FROM t WITH ('t.type' = 'file_source', 't.path' = '${input}', "
      "'out.type' = 'kafka_sink', 'out.topic' = 'out', 'out.bootstrap.servers' = '${bootstrap}')",
      {{"input", input}, {"bootstrap", bootstrap()}});
  ASSERT_FALSE(result.status.ok());
  const std::string message(result.status.message());
  EXPECT_NE(message.find("sink 'out'"), std::string::npos) << message;
  EXPECT_NE(message.find("uthorization"), std::string::npos) << message;
  EXPECT_EQ(result.counters.records_out, 0u);
  std::printf("[ kafka    ] refused delivery: %s\n", message.c_str());
}

// --- binding ------------------------------------------------------------------------------

absl::Status Bind(const std::string& text) {
  return BindJobText(text, {}).status();
}

void ExpectBindError(const std::string& text, const std::string& message) {
  const absl::Status status = Bind(text);
  ASSERT_FALSE(status.ok()) << text;
  EXPECT_NE(std::string(status.message()).find(message), std::string::npos) << status.message();
}

INSTANTIATE_TEST_SUITE_P(Parallelism, KafkaTest, ::testing::Values(1, 2),
                         [](const ::testing::TestParamInfo<int>& info) { return StrCat("p", info.param); });

TEST(KafkaBindTest, ErrorsNameThePropertyAndItsPosition) {
  const std::string source =
      "'t.type' = 'kafka_source', 't.topic' = 'trades', 't.bootstrap.servers' = 'localhost:9092', "
      "'t.schema' = 'a BIGINT, s STRING'";
  EXPECT_TRUE(Bind(StrCat("SELECT a FROM t WITH (", source, ")")).ok());
  ExpectBindError(
      "SELECT a FROM t WITH ('t.type' = 'kafka_source', 't.bootstrap.servers' = 'x:1', 't.schema' = 'a "
      "BIGINT')",
      "line 1, column 23: source 't' needs 't.topic'");
  ExpectBindError("SELECT a FROM t WITH ('t.type' = 'kafka_source', 't.topic' = 'x')",
                  "'t' needs 't.bootstrap.servers'");
  ExpectBindError(
      "SELECT a FROM t WITH ('t.type' = 'kafka_source', 't.topic' = 'x', 't.bootstrap.servers' = 'h:1')",
      "source 't' needs 't.schema'");
  ExpectBindError(StrCat("SELECT a FROM t WITH (", source, ", 't.properties.fetch.min.bytez' = '1')"),
                  "invalid Kafka property 't.properties.fetch.min.bytez': No such configuration property");
  ExpectBindError(StrCat("SELECT a FROM t WITH (", source, ", 't.properties.enable.auto.commit' = 'true')"),
                  "'enable.auto.commit' is set by Sluice");
  ExpectBindError(StrCat("SELECT a FROM t WITH (", source, ", 't.groupid' = 'g')"),
                  "unknown property 't.groupid'; did you mean 't.group.id'?");
  ExpectBindError(StrCat("SELECT a FROM t WITH (", source, ", 't.path' = 'x.jsonl')"),
                  "property 't.path' does not apply to a kafka_source");
  ExpectBindError(StrCat("SELECT a FROM t WITH (", source, ", 't.auto.offset.reset' = 'smallest')"),
                  "invalid value 'smallest' for 't.auto.offset.reset' (expected earliest, latest)");
  ExpectBindError(StrCat("CREATE STREAM o AS SELECT a, s FROM t WITH (", source,
                         ", 'o.type' = 'kafka_sink', 'o.topic' = 'out', 'o.bootstrap.servers' = 'h:1', "
                         "'o.key.field' = 'ss')"),
                  "key field 'ss' is not a column of stream 'o' (a BIGINT, s STRING); did you mean 's'?");
  ExpectBindError(StrCat("CREATE STREAM o AS SELECT a FROM t WITH (", source,
                         ", 'o.type' = 'kafka_sink', 'o.topic' = 'out', 'o.bootstrap.servers' = 'h:1', "
                         "'o.delivery.guarantee' = 'exactly-once')"),
                  "(expected at_least_once, exactly_once)");
  ExpectBindError(StrCat("CREATE STREAM o AS SELECT a FROM t WITH (", source,
                         ", 'o.type' = 'kafka_sink', 'o.topic' = 'a,b', 'o.bootstrap.servers' = 'h:1')"),
                  "'o.topic' must name exactly one topic");
  // The Kafka timestamp as event time, and the system columns in queries.
  EXPECT_TRUE(
      Bind(StrCat("SELECT _key, _partition, _offset, _timestamp, COUNT(*) FROM t GROUP BY _key, _partition, "
                  "_offset, _timestamp WITH (",
                  source, ", 't.event.time.field' = '_timestamp')"))
          .ok());
}

// --- the command line -------------------------------------------------------------------------

TEST(KafkaCliTest, KafkaMockPrintsBootstrapServersFirstAndStopsOnSigterm) {
  TemporaryDirectory directory;
  const Process mock = SpawnSluice({"kafka-mock", "--brokers", "2", "--topic", "trades:3", "--topic", "out"},
                                   directory.File("out"), directory.File("err"));
  std::string first_line;
  for (int i = 0; i < 100 && first_line.find('\n') == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    first_line = ReadFile(directory.File("out"));
  }
  ASSERT_TRUE(StartsWith(first_line, "bootstrap.servers=127.0.0.1:")) << first_line;
  const std::string servers = first_line.substr(18, first_line.find('\n') - 18);
  // datagen --kafka produces keyed trades to it; the topic has the partitions asked for.
  const Process datagen = SpawnSluice({"datagen", "--kind", "trades", "--count", "1000", "--symbols", "5",
                                       "--kafka", servers, "--topic", "trades"},
                                      directory.File("datagen.out"), directory.File("datagen.err"));
  EXPECT_EQ(WaitFor(datagen, std::chrono::seconds(30)), 0) << ReadFile(directory.File("datagen.err"));
  auto records = ReadKafkaTopic(servers, "trades");
  ASSERT_TRUE(records.ok()) << records.status().message();
  ASSERT_EQ(records->size(), 1000u);
  std::map<std::string, std::set<int32_t>> partitions_of_key;
  for (const KafkaRecord& record : *records) {
    ASSERT_TRUE(record.key.has_value());
    EXPECT_NE(record.value.find(StrCat("\"symbol\":\"", *record.key, "\"")), std::string::npos)
        << record.value;
    partitions_of_key[*record.key].insert(record.partition);
  }
  EXPECT_EQ(partitions_of_key.size(), 5u);
  for (const auto& [key, partitions] : partitions_of_key) EXPECT_EQ(partitions.size(), 1u) << key;
  kill(mock.pid, SIGTERM);
  EXPECT_EQ(WaitFor(mock, std::chrono::seconds(10)), 0);
}

TEST(KafkaCliTest, KafkaExamplesValidateAndExplain) {
  TemporaryDirectory directory;
  for (const char* example :
       {"examples/kafka_trader_minute_volume.sql", "examples/kafka_volume_by_symbol.sql"}) {
    const Process validate = SpawnSluice({"validate", StrCat(SLUICE_SOURCE_DIR, "/", example)},
                                         directory.File("out"), directory.File("err"));
    EXPECT_EQ(WaitFor(validate, std::chrono::seconds(10)), 0)
        << example << ": " << ReadFile(directory.File("err"));
    const Process explain =
        SpawnSluice({"explain", StrCat(SLUICE_SOURCE_DIR, "/", example), "--set", "BOOTSTRAP=127.0.0.1:1"},
                    directory.File("out"), directory.File("err"));
    EXPECT_EQ(WaitFor(explain, std::chrono::seconds(10)), 0)
        << example << ": " << ReadFile(directory.File("err"));
    const std::string plan = ReadFile(directory.File("out"));
    EXPECT_NE(plan.find("KafkaSource trades <- topic trades @ 127.0.0.1:1"), std::string::npos) << plan;
    EXPECT_NE(plan.find("KafkaSink"), std::string::npos) << plan;
    // At parallelism 2 each worker is a member of the consumer group.
    const Process parallel = SpawnSluice({"explain", StrCat(SLUICE_SOURCE_DIR, "/", example), "--set",
                                          "BOOTSTRAP=127.0.0.1:1", "--parallelism", "2"},
                                         directory.File("out"), directory.File("err"));
    EXPECT_EQ(WaitFor(parallel, std::chrono::seconds(10)), 0) << example << ": " << ReadFile(directory.File("err"));
    const std::string parallel_plan = ReadFile(directory.File("out"));
    EXPECT_NE(parallel_plan.find("Parallel runtime: 2 workers"), std::string::npos) << parallel_plan;
    EXPECT_NE(parallel_plan.find("2 consumer-group members, one per worker"), std::string::npos) << parallel_plan;
  }
}

TEST(KafkaCliTest, UnreachableBrokerFailsWithinTheConnectTimeout) {
  TemporaryDirectory directory;
  const std::string job = directory.File("job.sql");
  WriteFile(job,
            "SELECT a FROM t WITH ('t.type' = 'kafka_source', 't.topic' = 'x', 't.bootstrap.servers' = "
            "'127.0.0.1:1', 't.schema' = 'a BIGINT', 't.connect.timeout' = '1s')");
  const auto start = std::chrono::steady_clock::now();
  const Process run = SpawnSluice({"run", job}, directory.File("out"), directory.File("err"));
  // datagen too (its connect timeout is 10 s), and bad flags are usage errors.
  const Process datagen =
      SpawnSluice({"datagen", "--kind", "trades", "--count", "10", "--kafka", "127.0.0.1:1", "--topic", "t"},
                  directory.File("out2"), directory.File("err2"));
  EXPECT_EQ(WaitFor(run, std::chrono::seconds(20)), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
  const std::string err = ReadFile(directory.File("err"));
  EXPECT_NE(err.find("source 't': cannot reach Kafka at 127.0.0.1:1 within 1 s"), std::string::npos) << err;
  EXPECT_EQ(WaitFor(datagen, std::chrono::seconds(30)), 1);
  EXPECT_NE(ReadFile(directory.File("err2")).find("cannot reach Kafka at 127.0.0.1:1"), std::string::npos)
      << ReadFile(directory.File("err2"));
  const Process bad =
      SpawnSluice({"kafka-mock", "--topic", "t:zero"}, directory.File("out3"), directory.File("err3"));
  EXPECT_EQ(WaitFor(bad, std::chrono::seconds(10)), 2);
  EXPECT_NE(ReadFile(directory.File("err3")).find("--topic needs NAME or NAME:PARTITIONS"),
            std::string::npos);
}

}  // namespace
}  // namespace sluice::testing
