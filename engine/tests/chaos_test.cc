// The kill -9 campaign: `sluice run` with a checkpoint directory, killed with SIGKILL at random
// moments and restarted until it finishes, over Scenario 2 (GROUP BY symbol, its changes written
// as a Debezium changelog) and Scenario 3a (1-minute tumbling windows per trader and symbol,
// EMIT FINAL), file -> file, at parallelism 1 and 2. After every finished job:
//   - Scenario 2's changelog must be consistent (ApplyChangelog: no update or delete of a row
//     not in the table, so a replayed record fails) and, applied, equal SQLite's GROUP BY;
//   - Scenario 3a's rows must equal SQLite's, as multisets (a duplicated or lost window fails).
// Kills land anywhere: while records are read, while a checkpoint or its MANIFEST is written,
// while a sink appends a committed part. `make test` runs 20 kills (SLUICE_CHAOS_KILLS
// overrides), `make chaos` 200. The random moments come from SLUICE_CHAOS_SEED (printed), so a
// failing campaign can be replayed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "child_process.h"
#include "common/strings.h"
#include "job_test_harness.h"
#include "oracle_rows.h"
#include "trade_generator.h"

namespace sluice::testing {
namespace {

constexpr const char* kTradeSchema =
    "trade_id BIGINT, trader_id STRING, symbol STRING, category STRING, price DOUBLE, quantity BIGINT, "
    "side STRING, venue STRING, trade_time TIMESTAMP";

std::string SourceAndCheckpoints() {
  return StrCat(
      "'trades.type' = 'file_source', 'trades.path' = '${TRADES}', 'trades.format' = 'json', "
      "'trades.schema' = '",
      kTradeSchema,
      "', 'event.time.field' = 'trade_time', 'watermark.strategy' = 'bounded_out_of_orderness', "
      "'watermark.max_out_of_orderness' = '2s', 'checkpoint.dir' = '${CHECKPOINTS}', "
      "'checkpoint.interval' = '40ms', 'checkpoint.retained' = '2'");
}

std::string Scenario2Job() {
  return StrCat(
      "CREATE STREAM volume AS SELECT symbol, COUNT(*) AS trades, SUM(quantity) AS volume, AVG(price) AS "
      "avg_price, MIN(price) AS low, MAX(price) AS high FROM trades GROUP BY symbol WITH (",
      SourceAndCheckpoints(),
      ", 'volume.type' = 'file_sink', 'volume.path' = '${OUTPUT}', 'volume.changelog.mode' = 'changelog');\n");
}

std::string Scenario3aJob() {
  return StrCat(
      "CREATE STREAM trader_minute AS SELECT trader_id, symbol, _window_start AS minute_start, COUNT(*) AS "
      "trades, SUM(quantity) AS volume, AVG(price) AS avg_price FROM trades GROUP BY trader_id, symbol "
      "WINDOW TUMBLING (trade_time, INTERVAL '1' MINUTE) EMIT FINAL WITH (",
      SourceAndCheckpoints(), ", 'trader_minute.type' = 'file_sink', 'trader_minute.path' = '${OUTPUT}');\n");
}

constexpr const char* kScenario2Oracle =
    "SELECT symbol, COUNT(*) AS trades, SUM(quantity) AS volume, AVG(price) AS avg_price, MIN(price) AS low, "
    "MAX(price) AS high FROM trades GROUP BY symbol";
constexpr const char* kScenario3aOracle =
    "SELECT trader_id, symbol, trade_time - trade_time % 60000 AS minute_start, COUNT(*) AS trades, "
    "SUM(quantity) AS volume, AVG(price) AS avg_price FROM trades "
    "GROUP BY trader_id, symbol, trade_time - trade_time % 60000";

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::strtoull(value, nullptr, 10) : fallback;
}

class ChaosTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    directory_ = new TemporaryDirectory();
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    Exec(kGeneratedTradesTable);
    TradeGeneratorOptions options;
    options.count = 400'000;
    options.seed = 11;
    options.symbols = 100;
    options.traders = 50;
    options.events_per_second = 200;  // 2,000 s of event time: windows close all through a run
    options.out_of_order_fraction = 0.05;
    options.max_delay_millis = 1500;
    TradeGenerator text_generator(options), batch_generator(options);
    std::string text;
    Batch batch;
    Exec("BEGIN");
    for (uint64_t done = 0; done < options.count;) {
      const size_t chunk = static_cast<size_t>(std::min<uint64_t>(4096, options.count - done));
      const size_t produced = text_generator.AppendJsonLines(chunk, text);
      ASSERT_EQ(batch_generator.FillBatch(chunk, batch), produced);
      InsertGeneratedTrades(db_, batch, produced);
      done += produced;
    }
    Exec("COMMIT");
    trades_ = new std::string(directory_->File("trades.jsonl"));
    WriteFile(*trades_, text);
  }

  static void TearDownTestSuite() {
    sqlite3_close(db_);
    delete trades_;
    delete directory_;
  }

  static void Exec(const char* sql) {
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
  }

  struct Episode {
    int kills = 0;
    int resumed = 0;         // runs that resumed from a checkpoint
    int skipped_notes = 0;   // checkpoints passed over as torn or corrupt
  };

  // Runs `job` (at `parallelism`) from an empty checkpoint directory, killing each run after a
  // random delay from `delays` until a run exits by itself; at most `max_kills` kills.
  Episode RunKilled(const std::string& name, const std::string& job, int parallelism, std::mt19937_64& random,
                    std::uniform_int_distribution<int>& delays, int max_kills, const std::string& output) {
    Episode episode;
    const std::string root = directory_->File(name);
    std::filesystem::remove_all(root);
    std::filesystem::create_directories(root);
    const std::string job_path = StrCat(root, "/job.sql");
    WriteFile(job_path, job);
    const std::vector<std::string> arguments = {
        "run",   job_path, "--parallelism", StrCat(parallelism),      "--quiet",
        "--set", StrCat("TRADES=", *trades_),  "--set", StrCat("OUTPUT=", output), "--set",
        StrCat("CHECKPOINTS=", root, "/checkpoints")};
    for (int run = 0;; ++run) {
      const std::string err = StrCat(root, "/err", run);
      Process process = SpawnSluice(arguments, StrCat(root, "/out", run), err);
      const bool kill_it = episode.kills < max_kills;
      const int delay = delays(random);
      int code = -2;
      if (kill_it) {
        // Not WaitFor's own kill: the exit code must tell a finished run from a killed one.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay);
        int status = 0;
        pid_t done = 0;
        while ((done = waitpid(process.pid, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(std::chrono::microseconds(500));
        }
        if (done == 0) {
          kill(process.pid, SIGKILL);
          waitpid(process.pid, &status, 0);
          ++episode.kills;
          code = -3;
        } else {
          code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
      } else {
        code = WaitFor(process, std::chrono::seconds(120));
      }
      const std::string log = ReadFile(err);
      if (log.find("resuming from checkpoint") != std::string::npos) ++episode.resumed;
      for (size_t at = log.find("is not used:"); at != std::string::npos; at = log.find("is not used:", at + 1)) {
        ++episode.skipped_notes;
      }
      if (code == -3) continue;  // killed: restart
      EXPECT_EQ(code, 0) << name << " run " << run << ": " << log;
      return episode;
    }
  }

  static TemporaryDirectory* directory_;
  static sqlite3* db_;
  static std::string* trades_;
};

TemporaryDirectory* ChaosTest::directory_ = nullptr;
sqlite3* ChaosTest::db_ = nullptr;
std::string* ChaosTest::trades_ = nullptr;

TEST_F(ChaosTest, KilledAtRandomMomentsAndRestartedTheOutputIsExactlyOnce) {
  const uint64_t target = EnvNumber("SLUICE_CHAOS_KILLS", 20);
  const uint64_t seed = EnvNumber("SLUICE_CHAOS_SEED", 20261207);
  std::printf("[ chaos    ] %llu kills, seed %llu (SLUICE_CHAOS_KILLS, SLUICE_CHAOS_SEED)\n",
              static_cast<unsigned long long>(target), static_cast<unsigned long long>(seed));
  std::mt19937_64 random(seed);
  // Kills from 20 ms after the start (binding, restoring) to about a whole run's length.
  std::uniform_int_distribution<int> delays(20, 250);
  struct Kind {
    std::string name;
    std::string job;
    std::string stream;
    int parallelism;
  };
  const std::vector<Kind> kinds = {{"s2_p1", Scenario2Job(), "volume", 1},
                                   {"s3a_p1", Scenario3aJob(), "trader_minute", 1},
                                   {"s2_p2", Scenario2Job(), "volume", 2},
                                   {"s3a_p2", Scenario3aJob(), "trader_minute", 2}};
  const Table s2_expected = QuerySqlite(db_, kScenario2Oracle);
  const Table s3a_expected = QuerySqlite(db_, kScenario3aOracle);
  uint64_t kills = 0;
  int episodes = 0, resumed = 0, skipped = 0;
  while (kills < target && !HasFailure()) {
    const Kind& kind = kinds[static_cast<size_t>(episodes) % kinds.size()];
    const std::string name = StrCat(kind.name, "_", episodes);
    const std::string output = directory_->File(StrCat(name, ".jsonl"));
    // Up to 8 kills per job, so that every kind is killed within a short campaign.
    const int max_kills = static_cast<int>(std::min<uint64_t>(8, target - kills));
    const Episode episode = RunKilled(name, kind.job, kind.parallelism, random, delays, max_kills, output);
    kills += static_cast<uint64_t>(episode.kills);
    resumed += episode.resumed;
    skipped += episode.skipped_notes;
    ++episodes;
    const Schema declared =
        DeclaredOutputSchema(kind.job, {{"TRADES", *trades_}, {"OUTPUT", output}, {"CHECKPOINTS", "x"}}, kind.stream);
    const std::string context = StrCat(name, " after ", episode.kills, " kills");
    if (kind.stream == "volume") {
      ExpectSameTables(ApplyChangelog(output, declared), s2_expected, context);
    } else {
      ExpectSameTables(ReadJsonLinesTable(output, declared), s3a_expected, context);
    }
    // No staging file or part is left once the job finished.
    for (const auto& entry : std::filesystem::directory_iterator(directory_->path())) {
      const std::string file = entry.path().filename().string();
      EXPECT_FALSE(file.rfind(StrCat(".", name, ".jsonl."), 0) == 0) << "left behind: " << file;
    }
  }
  std::printf("[ chaos    ] %llu kills over %d jobs; %d runs resumed from a checkpoint, %d torn or corrupt "
              "checkpoints passed over\n",
              static_cast<unsigned long long>(kills), episodes, resumed, skipped);
  RecordProperty("kills", static_cast<int>(kills));
  EXPECT_GE(kills, target);
  EXPECT_GT(resumed, 0);
}

// What `sluice run` says around checkpoints: a resumed run names its checkpoint, a finished job
// run again from its directory rewrites the same output, another parallelism or a source that
// cannot resume is refused, and bad settings get usage or positioned errors.
TEST_F(ChaosTest, TheCommandLineResumesRefusesAndExplains) {
  const std::string root = directory_->File("cli");
  std::filesystem::create_directories(root);
  const std::string job = StrCat(root, "/job.sql");
  WriteFile(job, Scenario3aJob());
  const std::string output = StrCat(root, "/out.jsonl");
  auto run = [&](std::vector<std::string> extra, const std::string& name) {
    std::vector<std::string> arguments = {"run",   job, "--set", StrCat("TRADES=", *trades_), "--set",
                                          StrCat("OUTPUT=", output), "--set", StrCat("CHECKPOINTS=", root, "/ck")};
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    const Process process = SpawnSluice(arguments, StrCat(root, "/", name, ".out"), StrCat(root, "/", name, ".err"));
    const int code = WaitFor(process, std::chrono::seconds(60));
    return std::make_pair(code, ReadFile(process.err));
  };
  auto [code, log] = run({"--parallelism", "1"}, "first");
  ASSERT_EQ(code, 0) << log;
  EXPECT_NE(log.find("no checkpoint to resume from"), std::string::npos) << log;
  EXPECT_NE(log.find("checkpoints: "), std::string::npos) << log;
  const std::string first_output = ReadFile(output);
  std::tie(code, log) = run({"--parallelism", "1"}, "again");
  ASSERT_EQ(code, 0) << log;
  EXPECT_NE(log.find("resuming from checkpoint"), std::string::npos) << log;
  const Schema declared =
      DeclaredOutputSchema(Scenario3aJob(), {{"TRADES", *trades_}, {"OUTPUT", output}, {"CHECKPOINTS", "x"}}, "trader_minute");
  ExpectSameTables(ReadJsonLinesTable(output, declared), QuerySqlite(db_, kScenario3aOracle),
                   "a finished job run again from its checkpoints");
  EXPECT_EQ(ReadFile(output).size(), first_output.size());

  std::tie(code, log) = run({"--parallelism", "2"}, "rescaled");
  EXPECT_EQ(code, 1) << log;
  EXPECT_NE(log.find("was taken at parallelism 1 and this run has parallelism 2"), std::string::npos) << log;

  std::tie(code, log) = run({"--checkpoint-interval", "soon"}, "bad_flag");
  EXPECT_EQ(code, 2) << log;
  EXPECT_NE(log.find("--checkpoint-interval needs a positive duration"), std::string::npos) << log;

  // A bad 'checkpoint.interval' in the job: its line and column.
  std::string bad = Scenario3aJob();
  bad.replace(bad.find("'40ms'"), 6, "'soon'");
  WriteFile(job, bad);
  std::tie(code, log) = run({}, "bad_property");
  EXPECT_EQ(code, 1) << log;
  EXPECT_NE(log.find("job.sql:1:"), std::string::npos) << log;
  EXPECT_NE(log.find("invalid duration 'soon' for 'checkpoint.interval'"), std::string::npos) << log;

  // Standard input cannot be read again: a job reading it cannot take checkpoints.
  std::string piped = Scenario3aJob();
  piped.replace(piped.find("'${TRADES}'"), 11, "'-'");
  WriteFile(job, piped);
  std::tie(code, log) = run({"--checkpoint-dir", StrCat(root, "/ck_stdin")}, "stdin");
  EXPECT_EQ(code, 1) << log;
  EXPECT_NE(log.find("cannot resume from a checkpoint"), std::string::npos) << log;
}

// Stop with a savepoint, resume from it: SIGTERM during the run takes a savepoint (exit 0), and
// the run resumed with --from-savepoint finishes with exactly the oracle's output, at
// parallelism 1 and 2; the savepoint of one job does not restore another.
TEST_F(ChaosTest, StopWithASavepointAndResumeFromIt) {
  struct Kind {
    std::string name;
    std::string job;
    std::string stream;
    int parallelism;
  };
  // Without a checkpoint directory: the savepoint is the only snapshot the job takes.
  auto without_checkpoints = [](std::string job) {
    const std::string key = ", 'checkpoint.dir' = '${CHECKPOINTS}', 'checkpoint.interval' = '40ms', "
                            "'checkpoint.retained' = '2'";
    job.erase(job.find(key), key.size());
    return job;
  };
  const std::vector<Kind> kinds = {{"sp_s2_p1", without_checkpoints(Scenario2Job()), "volume", 1},
                                   {"sp_s3a_p2", without_checkpoints(Scenario3aJob()), "trader_minute", 2},
                                   {"sp_s3a_p1_checkpointed", Scenario3aJob(), "trader_minute", 1}};
  for (const Kind& kind : kinds) {
    const std::string root = directory_->File(kind.name);
    std::filesystem::create_directories(root);
    const std::string job = StrCat(root, "/job.sql");
    WriteFile(job, kind.job);
    const std::string output = StrCat(root, "/out.jsonl");
    const std::string savepoints = StrCat(root, "/savepoints");
    const std::vector<std::string> common = {"run",   job, "--parallelism", StrCat(kind.parallelism), "--set",
                                             StrCat("TRADES=", *trades_), "--set", StrCat("OUTPUT=", output),
                                             "--set", StrCat("CHECKPOINTS=", root, "/checkpoints")};
    std::vector<std::string> first_arguments = common;
    first_arguments.insert(first_arguments.end(), {"--savepoint-on-stop", savepoints});
    const Process first = SpawnSluice(first_arguments, StrCat(root, "/out1"), StrCat(root, "/err1"));
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
    kill(first.pid, SIGTERM);
    ASSERT_EQ(WaitFor(first, std::chrono::seconds(60)), 0) << ReadFile(first.err);
    const std::string first_log = ReadFile(first.err);
    ASSERT_NE(first_log.find("stopped by SIGTERM"), std::string::npos)
        << kind.name << ": the run ended before the signal; " << first_log;
    // Numbered as the run numbers its barriers (after its checkpoints, when it takes them).
    const size_t written = first_log.find(" written to " + savepoints + "/chk-");
    ASSERT_NE(written, std::string::npos) << first_log;
    const size_t number = first_log.rfind("savepoint ", written) + 10;
    const std::string savepoint = first_log.substr(number, written - number);

    std::vector<std::string> second_arguments = common;
    second_arguments.insert(second_arguments.end(), {"--from-savepoint", savepoints});
    const Process second = SpawnSluice(second_arguments, StrCat(root, "/out2"), StrCat(root, "/err2"));
    ASSERT_EQ(WaitFor(second, std::chrono::seconds(60)), 0) << ReadFile(second.err);
    const std::string second_log = ReadFile(second.err);
    EXPECT_NE(second_log.find(StrCat("resuming from savepoint ", savepoint, " (")), std::string::npos) << second_log;
    // The two runs read every record once between them.
    EXPECT_EQ(RecordsIn(first_log) + RecordsIn(second_log), 400'000u) << first_log << second_log;
    const Schema declared = DeclaredOutputSchema(
        kind.job, {{"TRADES", *trades_}, {"OUTPUT", output}, {"CHECKPOINTS", "x"}}, kind.stream);
    if (kind.stream == "volume") {
      ExpectSameTables(ApplyChangelog(output, declared), QuerySqlite(db_, kScenario2Oracle), kind.name);
    } else {
      ExpectSameTables(ReadJsonLinesTable(output, declared), QuerySqlite(db_, kScenario3aOracle), kind.name);
    }
  }
  // Another job (here: another output column) is refused, naming why.
  const std::string root = directory_->File("sp_s2_p1");
  std::string changed = without_checkpoints(Scenario2Job());
  changed.replace(changed.find("MAX(price) AS high"), 18, "MAX(price) AS highest");
  WriteFile(StrCat(root, "/job.sql"), changed);
  const Process refused = SpawnSluice({"run", StrCat(root, "/job.sql"), "--parallelism", "1", "--set",
                                       StrCat("TRADES=", *trades_), "--set", StrCat("OUTPUT=", root, "/x.jsonl"),
                                       "--from-savepoint", StrCat(root, "/savepoints")},
                                      StrCat(root, "/out3"), StrCat(root, "/err3"));
  EXPECT_EQ(WaitFor(refused, std::chrono::seconds(30)), 1);
  EXPECT_NE(ReadFile(refused.err).find("belongs to another job"), std::string::npos) << ReadFile(refused.err);
}

}  // namespace
}  // namespace sluice::testing
