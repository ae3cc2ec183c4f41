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
#include <functional>
#include <random>
#include <set>
#include <thread>

#include "child_process.h"
#include "common/strings.h"
#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/kafka_mock_cluster.h"
#include "job_test_harness.h"
#include "oracle_rows.h"
#include "trade_generator.h"

namespace sluice::testing {
namespace {

std::string SourceAndCheckpoints() {
  return StrCat(
      "'trades.type' = 'file_source', 'trades.path' = '${TRADES}', 'trades.format' = 'json', "
      "'trades.schema' = '",
      kGeneratedTradesSchema,
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

// `job` (one of the above, or SourceAndCheckpoints()) without its checkpoint directory.
std::string WithoutCheckpoints(std::string job) {
  const std::string keys =
      ", 'checkpoint.dir' = '${CHECKPOINTS}', 'checkpoint.interval' = '40ms', 'checkpoint.retained' = '2'";
  job.erase(job.find(keys), keys.size());
  return job;
}

std::string Scenario3aJob() {
  return StrCat(
      "CREATE STREAM trader_minute AS SELECT trader_id, symbol, _window_start AS minute_start, COUNT(*) AS "
      "trades, SUM(quantity) AS volume, AVG(price) AS avg_price FROM trades GROUP BY trader_id, symbol "
      "WINDOW TUMBLING (trade_time, INTERVAL '1' MINUTE) EMIT FINAL WITH (",
      SourceAndCheckpoints(), ", 'trader_minute.type' = 'file_sink', 'trader_minute.path' = '${OUTPUT}');\n");
}

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::strtoull(value, nullptr, 10) : fallback;
}

// `run` was started with --savepoint-on-stop: sends it SIGTERM after 120 ms and waits for it. It
// must exit 0, stopped by the signal (not finished before it); its log goes to `*log`.
void StopWithSigterm(const Process& run, const std::string& context, std::string* log) {
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  kill(run.pid, SIGTERM);
  ASSERT_EQ(WaitFor(run, std::chrono::seconds(60)), 0) << context << ": " << ReadFile(run.err);
  *log = ReadFile(run.err);
  ASSERT_NE(log->find("stopped by SIGTERM"), std::string::npos)
      << context << ": the run ended before the signal; " << *log;
}

struct Episode {
  int kills = 0;
  int resumed = 0;        // runs that resumed from a checkpoint
  int skipped_notes = 0;  // checkpoints passed over (torn, corrupt, or their output not committed)
};

// Writes `job` to <root>/job.sql and runs it with `arguments` and the checkpoint directory
// <root>/checkpoints (${CHECKPOINTS}), from an empty root, killing each run with SIGKILL after a
// random delay from `delays` until a run exits by itself; at most `max_kills` kills. A run that
// exits by itself must succeed.
// `started` (optional) is called after each start, before the delay begins: it may wait for a
// moment of the run's own (and returns early if the run ends).
Episode RunUntilDone(const std::string& root, const std::string& job,
                     const std::vector<std::string>& arguments, std::mt19937_64& random,
                     std::uniform_int_distribution<int>& delays, int max_kills,
                     const std::function<void(std::mt19937_64&)>& started = nullptr) {
  Episode episode;
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  const std::string job_path = StrCat(root, "/job.sql");
  WriteFile(job_path, job);
  std::vector<std::string> all = {"run", job_path, "--quiet", "--set",
                                  StrCat("CHECKPOINTS=", root, "/checkpoints")};
  all.insert(all.end(), arguments.begin(), arguments.end());
  for (int run = 0;; ++run) {
    const std::string err = StrCat(root, "/err", run);
    Process process = SpawnSluice(all, StrCat(root, "/out", run), err);
    const bool kill_it = episode.kills < max_kills;
    int code = -2;
    if (kill_it && started) started(random);
    const int delay = delays(random);
    if (kill_it) {
      // Not WaitFor's own kill: the exit code must tell a finished run from a killed one.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay);
      int status = 0;
      pid_t done = 0;
      while ((done = waitpid(process.pid, &status, WNOHANG)) == 0 &&
             std::chrono::steady_clock::now() < deadline) {
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
    for (size_t at = log.find("is not used:"); at != std::string::npos;
         at = log.find("is not used:", at + 1)) {
      ++episode.skipped_notes;
    }
    if (code == -3) continue;  // killed: restart
    EXPECT_EQ(code, 0) << root << " run " << run << ": " << log;
    return episode;
  }
}

class ChaosTest : public ::testing::Test {
 public:
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

  static sqlite3* db() { return db_; }
  static const TemporaryDirectory& directory() { return *directory_; }
  static const std::string& trades() { return *trades_; }

  // Runs `job` (at `parallelism`) from an empty checkpoint directory, killing each run after a
  // random delay from `delays` until a run exits by itself; at most `max_kills` kills.
  Episode RunKilled(const std::string& name, const std::string& job, int parallelism, std::mt19937_64& random,
                    std::uniform_int_distribution<int>& delays, int max_kills, const std::string& output) {
    const std::string root = directory_->File(name);
    return RunUntilDone(root, job,
                        {"--parallelism", StrCat(parallelism), "--set", StrCat("TRADES=", *trades_), "--set",
                         StrCat("OUTPUT=", output)},
                        random, delays, max_kills);
  }

  static TemporaryDirectory* directory_;
  static sqlite3* db_;
  static std::string* trades_;
};

TemporaryDirectory* ChaosTest::directory_ = nullptr;
sqlite3* ChaosTest::db_ = nullptr;
std::string* ChaosTest::trades_ = nullptr;

// One kind of job in a kill campaign: its text, the stream its sink writes, its parallelism.
struct CampaignKind {
  std::string name;
  std::string job;
  std::string stream;
  int parallelism;
};

// Kills jobs of `kinds` in turn (each from an empty checkpoint directory, at most 8 kills per
// job) until `target` kills, checking every finished job's output against SQLite: Scenario 2's
// changelog (stream "volume") consistent and, applied, equal to the GROUP BY; Scenario 3a's rows
// equal as multisets. Returns the number of runs resumed from a checkpoint.
int RunCampaign(ChaosTest& test, const std::vector<CampaignKind>& kinds, uint64_t target, uint64_t seed);

TEST_F(ChaosTest, KilledAtRandomMomentsAndRestartedTheOutputIsExactlyOnce) {
  const uint64_t target = EnvNumber("SLUICE_CHAOS_KILLS", 20);
  const uint64_t seed = EnvNumber("SLUICE_CHAOS_SEED", 20261207);
  const std::vector<CampaignKind> kinds = {{"s2_p1", Scenario2Job(), "volume", 1},
                                           {"s3a_p1", Scenario3aJob(), "trader_minute", 1},
                                           {"s2_p2", Scenario2Job(), "volume", 2},
                                           {"s3a_p2", Scenario3aJob(), "trader_minute", 2}};
  EXPECT_GT(RunCampaign(*this, kinds, target, seed), 0);
}

// The same with Scenario 2's state in RocksDB ('state.backend' = 'rocksdb'): a killed run's
// store is lost with it, and the checkpoint (which holds the store's pairs) rebuilds it.
TEST_F(ChaosTest, RocksDbStateKilledAndRestartedTheOutputIsExactlyOnce) {
  const uint64_t target = EnvNumber("SLUICE_CHAOS_ROCKSDB_KILLS", 10);
  const uint64_t seed = EnvNumber("SLUICE_CHAOS_SEED", 20261207) + 1;
  std::string job = Scenario2Job();
  const std::string checkpoint_dir = "'checkpoint.dir'";
  job.insert(job.find(checkpoint_dir), "'state.backend' = 'rocksdb', 'state.rocksdb.memory' = '16MiB', ");
  const std::vector<CampaignKind> kinds = {{"s2_rocksdb_p1", job, "volume", 1},
                                           {"s2_rocksdb_p2", job, "volume", 2}};
  EXPECT_GT(RunCampaign(*this, kinds, target, seed), 0);
}

int RunCampaign(ChaosTest& test, const std::vector<CampaignKind>& kinds, uint64_t target, uint64_t seed) {
  std::printf("[ chaos    ] %llu kills, seed %llu (SLUICE_CHAOS_KILLS, SLUICE_CHAOS_SEED)\n",
              static_cast<unsigned long long>(target), static_cast<unsigned long long>(seed));
  std::mt19937_64 random(seed);
  // Kills from 20 ms after the start (binding, restoring) to about a whole run's length.
  std::uniform_int_distribution<int> delays(20, 250);
  const Table s2_expected = QuerySqlite(ChaosTest::db(), kScenario2Oracle);
  const Table s3a_expected = QuerySqlite(ChaosTest::db(), kScenario3aOracle);
  uint64_t kills = 0;
  int episodes = 0, resumed = 0, skipped = 0;
  while (kills < target && !::testing::Test::HasFailure()) {
    const CampaignKind& kind = kinds[static_cast<size_t>(episodes) % kinds.size()];
    const std::string name = StrCat(kind.name, "_", episodes);
    const std::string output = ChaosTest::directory().File(StrCat(name, ".jsonl"));
    // Up to 8 kills per job, so that every kind is killed within a short campaign.
    const int max_kills = static_cast<int>(std::min<uint64_t>(8, target - kills));
    const Episode episode =
        test.RunKilled(name, kind.job, kind.parallelism, random, delays, max_kills, output);
    kills += static_cast<uint64_t>(episode.kills);
    resumed += episode.resumed;
    skipped += episode.skipped_notes;
    ++episodes;
    const Schema declared = DeclaredOutputSchema(
        kind.job, {{"TRADES", ChaosTest::trades()}, {"OUTPUT", output}, {"CHECKPOINTS", "x"}}, kind.stream);
    const std::string context = StrCat(name, " after ", episode.kills, " kills");
    if (kind.stream == "volume") {
      ExpectSameTables(ApplyChangelog(output, declared), s2_expected, context);
    } else {
      ExpectSameTables(ReadJsonLinesTable(output, declared), s3a_expected, context);
    }
    // No staging file or part is left once the job finished.
    for (const auto& entry : std::filesystem::directory_iterator(ChaosTest::directory().path())) {
      const std::string file = entry.path().filename().string();
      EXPECT_FALSE(file.rfind(StrCat(".", name, ".jsonl."), 0) == 0) << "left behind: " << file;
    }
  }
  std::printf("[ chaos    ] %llu kills over %d jobs; %d runs resumed from a checkpoint, %d torn or corrupt "
              "checkpoints passed over\n",
              static_cast<unsigned long long>(kills), episodes, resumed, skipped);
  ::testing::Test::RecordProperty("kills", static_cast<int>(kills));
  EXPECT_GE(kills, target);
  return resumed;
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

  // The same directory at another parallelism: the checkpoint is rescaled (its keyed state moves
  // to its key groups' workers), and the output rewritten is the same.
  std::tie(code, log) = run({"--parallelism", "2"}, "rescaled");
  ASSERT_EQ(code, 0) << log;
  EXPECT_NE(log.find("rescaling: taken at parallelism 1, restored at parallelism 2"), std::string::npos)
      << log;
  ExpectSameTables(ReadJsonLinesTable(output, declared), QuerySqlite(db_, kScenario3aOracle),
                   "a finished job run again from its checkpoints at another parallelism");
  EXPECT_EQ(ReadFile(output).size(), first_output.size());

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
  const std::vector<Kind> kinds = {{"sp_s2_p1", WithoutCheckpoints(Scenario2Job()), "volume", 1},
                                   {"sp_s3a_p2", WithoutCheckpoints(Scenario3aJob()), "trader_minute", 2},
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
    std::string first_log;
    ASSERT_NO_FATAL_FAILURE(StopWithSigterm(first, kind.name, &first_log));
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
  // A change its state does not survive (here: one more aggregate) is refused, naming the
  // operator and what its state was built for.
  const std::string root = directory_->File("sp_s2_p1");
  std::string changed = WithoutCheckpoints(Scenario2Job());
  changed.replace(changed.find("MAX(price) AS high"), 18, "MAX(price) AS high, SUM(price) AS turnover");
  WriteFile(StrCat(root, "/job.sql"), changed);
  const Process refused = SpawnSluice(
      {"run", StrCat(root, "/job.sql"), "--parallelism", "1", "--set", StrCat("TRADES=", *trades_), "--set",
       StrCat("OUTPUT=", root, "/out.jsonl"), "--from-savepoint", StrCat(root, "/savepoints")},
      StrCat(root, "/out3"), StrCat(root, "/err3"));
  EXPECT_EQ(WaitFor(refused, std::chrono::seconds(30)), 1);
  const std::string refusal = ReadFile(refused.err);
  EXPECT_NE(refusal.find("operator 'volume/aggregate#1': its state in savepoint"), std::string::npos)
      << refusal;
  EXPECT_NE(refusal.find(
                "was built for `Aggregate keys [symbol#2] aggregates [COUNT(*), SUM(quantity), AVG(price), "
                "MIN(price), MAX(price)] EMIT CHANGES`"),
            std::string::npos)
      << refusal;
  // A query with a stateful operator fewer (the aggregate gone) is refused too: its state would be dropped.
  WriteFile(StrCat(root, "/job.sql"),
            StrCat("CREATE STREAM volume AS SELECT symbol, quantity FROM trades WITH (",
                   WithoutCheckpoints(SourceAndCheckpoints()),
                   ", 'volume.type' = 'file_sink', 'volume.path' = '${OUTPUT}', 'volume.changelog.mode' = "
                   "'changelog');\n"));
  const Process dropped = SpawnSluice(
      {"run", StrCat(root, "/job.sql"), "--parallelism", "1", "--set", StrCat("TRADES=", *trades_), "--set",
       StrCat("OUTPUT=", root, "/out.jsonl"), "--from-savepoint", StrCat(root, "/savepoints")},
      StrCat(root, "/out4"), StrCat(root, "/err4"));
  EXPECT_EQ(WaitFor(dropped, std::chrono::seconds(30)), 1);
  EXPECT_NE(ReadFile(dropped.err)
                .find("holds state for operator 'volume/aggregate#1', which this query no longer has"),
            std::string::npos)
      << ReadFile(dropped.err);
}

// Rescaling: a savepoint taken at parallelism 2 restores at 1 and at 4 with the oracle's results.
// Keyed state moves by key group (state/key_groups.h): each restored instance keeps, of both old
// instances' state, the keys the exchange now sends it. The resumed runs each rewrite the output
// from the savepoint's committed length, so both restore the same savepoint in turn.
TEST_F(ChaosTest, ASavepointTakenAtParallelismTwoRestoresAtOneAndFour) {
  struct Kind {
    std::string name;
    std::string job;
    std::string stream;
  };
  const std::vector<Kind> kinds = {{"rescale_s2", WithoutCheckpoints(Scenario2Job()), "volume"},
                                   {"rescale_s3a", WithoutCheckpoints(Scenario3aJob()), "trader_minute"}};
  for (const Kind& kind : kinds) {
    const std::string root = directory_->File(kind.name);
    std::filesystem::create_directories(root);
    const std::string job = StrCat(root, "/job.sql");
    WriteFile(job, kind.job);
    const std::string output = StrCat(root, "/out.jsonl");
    const std::string savepoints = StrCat(root, "/savepoints");
    auto arguments = [&](int parallelism, std::vector<std::string> extra) {
      std::vector<std::string> all = {"run",           job,
                                      "--parallelism", StrCat(parallelism),
                                      "--set",         StrCat("TRADES=", *trades_),
                                      "--set",         StrCat("OUTPUT=", output)};
      all.insert(all.end(), extra.begin(), extra.end());
      return all;
    };
    const Process first = SpawnSluice(arguments(2, {"--savepoint-on-stop", savepoints}),
                                      StrCat(root, "/out1"), StrCat(root, "/err1"));
    std::string first_log;
    ASSERT_NO_FATAL_FAILURE(StopWithSigterm(first, kind.name, &first_log));
    const Schema declared =
        DeclaredOutputSchema(kind.job, {{"TRADES", *trades_}, {"OUTPUT", output}}, kind.stream);
    for (const int parallelism : {1, 4}) {
      const std::string name = StrCat(kind.name, " restored at parallelism ", parallelism);
      const Process resumed =
          SpawnSluice(arguments(parallelism, {"--from-savepoint", savepoints}),
                      StrCat(root, "/out_p", parallelism), StrCat(root, "/err_p", parallelism));
      ASSERT_EQ(WaitFor(resumed, std::chrono::seconds(60)), 0) << ReadFile(resumed.err);
      const std::string log = ReadFile(resumed.err);
      EXPECT_NE(log.find(StrCat("rescaling: taken at parallelism 2, restored at parallelism ", parallelism)),
                std::string::npos)
          << log;
      // The two runs read every record once between them.
      EXPECT_EQ(RecordsIn(first_log) + RecordsIn(log), 400'000u) << name << "\n" << first_log << log;
      if (kind.stream == "volume") {
        ExpectSameTables(ApplyChangelog(output, declared), QuerySqlite(db_, kScenario2Oracle), name);
      } else {
        ExpectSameTables(ReadJsonLinesTable(output, declared), QuerySqlite(db_, kScenario3aOracle), name);
      }
    }
  }
  // An operator whose state cannot move between instances yet (a ROWS window's partitions) is
  // refused by name, with the parallelism to restore it at.
  const std::string root = directory_->File("rescale_rows");
  std::filesystem::create_directories(root);
  const std::string job = StrCat(root, "/job.sql");
  WriteFile(job,
            StrCat("CREATE STREAM moving AS SELECT symbol, price, AVG(price) OVER (PARTITION BY symbol ORDER "
                   "BY trade_time ROWS BETWEEN 9 PRECEDING AND CURRENT ROW) AS average FROM trades WITH (",
                   WithoutCheckpoints(SourceAndCheckpoints()),
                   ", 'moving.type' = 'file_sink', 'moving.path' = '${OUTPUT}');\n"));
  auto rows_run = [&](int parallelism, const std::string& flag, const std::string& name) {
    return SpawnSluice(
        {"run", job, "--parallelism", StrCat(parallelism), "--set", StrCat("TRADES=", *trades_), "--set",
         StrCat("OUTPUT=", root, "/out.jsonl"), flag, StrCat(root, "/savepoints")},
        StrCat(root, "/", name, ".out"), StrCat(root, "/", name, ".err"));
  };
  const Process rows_first = rows_run(2, "--savepoint-on-stop", "first");
  std::string rows_log;
  ASSERT_NO_FATAL_FAILURE(StopWithSigterm(rows_first, "rows", &rows_log));
  const Process refused = rows_run(1, "--from-savepoint", "refused");
  EXPECT_EQ(WaitFor(refused, std::chrono::seconds(30)), 1);
  const std::string refusal = ReadFile(refused.err);
  EXPECT_NE(refusal.find("operator 'moving/rowswindow#1'"), std::string::npos) << refusal;
  EXPECT_NE(refusal.find("was taken with 2 worker(s) and this run has 1: restore it at parallelism 2"),
            std::string::npos)
      << refusal;
}

// `-- @uid:` keeps a statement's operator ids when it is renamed: Scenario 2 stopped with a
// savepoint resumes as a statement of another name with the same uid (its aggregate's and sink's
// state found by id), with SQLite's result; renamed without the uid, the restore is refused.
TEST_F(ChaosTest, AnOperatorIdAnnotationSurvivesARenamedStatement) {
  const std::string root = directory_->File("uid_renamed");
  std::filesystem::create_directories(root);
  const std::string original = WithoutCheckpoints(Scenario2Job());
  auto renamed = [&original]() {
    std::string job = original;
    for (size_t at = job.find("volume"); at != std::string::npos; at = job.find("volume", at + 9)) {
      if (job.compare(at, 7, "volume.") == 0 || job.compare(at, 10, "volume AS ") == 0)
        job.replace(at, 6, "totals_");
    }
    return job;
  };
  const std::string job = StrCat(root, "/job.sql");
  const std::string output = StrCat(root, "/out.jsonl");
  const std::string savepoints = StrCat(root, "/savepoints");
  auto run = [&](const std::string& text, const std::string& flag, const std::string& name) {
    WriteFile(job, text);
    return SpawnSluice({"run", job, "--parallelism", "2", "--set", StrCat("TRADES=", *trades_), "--set",
                        StrCat("OUTPUT=", output), flag, savepoints},
                       StrCat(root, "/", name, ".out"), StrCat(root, "/", name, ".err"));
  };
  const Process first = run("-- @uid: trade-volume\n" + original, "--savepoint-on-stop", "first");
  std::string first_log;
  ASSERT_NO_FATAL_FAILURE(StopWithSigterm(first, "first run", &first_log));
  ASSERT_NE(renamed().find("CREATE STREAM totals_ AS"), std::string::npos) << renamed();
  // Renamed without the uid: its operators' ids changed, and their state is not found.
  const Process refused = run(renamed(), "--from-savepoint", "refused");
  EXPECT_EQ(WaitFor(refused, std::chrono::seconds(30)), 1);
  EXPECT_NE(ReadFile(refused.err).find("operator 'totals_/aggregate#1'"), std::string::npos)
      << ReadFile(refused.err);
  // Renamed with it: resumed.
  const Process resumed = run("-- @uid: trade-volume\n" + renamed(), "--from-savepoint", "resumed");
  ASSERT_EQ(WaitFor(resumed, std::chrono::seconds(60)), 0) << ReadFile(resumed.err);
  EXPECT_EQ(RecordsIn(ReadFile(first.err)) + RecordsIn(ReadFile(resumed.err)), 400'000u);
  const Schema declared =
      DeclaredOutputSchema(original, {{"TRADES", *trades_}, {"OUTPUT", output}}, "volume");
  ExpectSameTables(ApplyChangelog(output, declared), QuerySqlite(db_, kScenario2Oracle),
                   "a renamed statement resumed by its uid");
}

// A savepoint restores a compatibly changed query: a new filter (here one every trade passes) and
// a new output column. Scenario 3a stopped with a savepoint mid-run, resumed with the changed
// query: the windows open at the savepoint carry their state over, so that the two runs' rows
// together are SQLite's (the resumed run's rows have the new column, equal to `symbol`).
TEST_F(ChaosTest, ASavepointRestoresACompatiblyChangedQuery) {
  const std::string root = directory_->File("sp_changed");
  std::filesystem::create_directories(root);
  const std::string original = WithoutCheckpoints(Scenario3aJob());
  std::string changed = original;
  changed.replace(changed.find("FROM trades GROUP BY"), 20, "FROM trades WHERE price > 0 GROUP BY");
  changed.replace(changed.find("SELECT trader_id, symbol,"), 25,
                  "SELECT trader_id, symbol, symbol AS symbol_again,");
  const std::string job = StrCat(root, "/job.sql");
  const std::string output = StrCat(root, "/out.jsonl");
  const std::string savepoints = StrCat(root, "/savepoints");
  const std::vector<std::string> common = {"run",           job,
                                           "--parallelism", "1",
                                           "--set",         StrCat("TRADES=", *trades_),
                                           "--set",         StrCat("OUTPUT=", output)};
  WriteFile(job, original);
  std::vector<std::string> first_arguments = common;
  first_arguments.insert(first_arguments.end(), {"--savepoint-on-stop", savepoints});
  const Process first = SpawnSluice(first_arguments, StrCat(root, "/out1"), StrCat(root, "/err1"));
  std::string first_log;
  ASSERT_NO_FATAL_FAILURE(StopWithSigterm(first, "first run", &first_log));
  const std::string first_output = ReadFile(output);
  WriteFile(StrCat(root, "/first.jsonl"), first_output);

  WriteFile(job, changed);
  std::vector<std::string> second_arguments = common;
  second_arguments.insert(second_arguments.end(), {"--from-savepoint", savepoints});
  const Process second = SpawnSluice(second_arguments, StrCat(root, "/out2"), StrCat(root, "/err2"));
  ASSERT_EQ(WaitFor(second, std::chrono::seconds(60)), 0) << ReadFile(second.err);
  EXPECT_NE(ReadFile(second.err).find("resuming from savepoint"), std::string::npos) << ReadFile(second.err);
  EXPECT_EQ(RecordsIn(ReadFile(first.err)) + RecordsIn(ReadFile(second.err)), 400'000u);

  // The first run's rows (what its savepoint covers), then the resumed run's, with the new column.
  const std::string both = ReadFile(output);
  ASSERT_LE(first_output.size(), both.size());
  ASSERT_EQ(both.compare(0, first_output.size(), first_output), 0);
  WriteFile(StrCat(root, "/second.jsonl"), both.substr(first_output.size()));
  const std::map<std::string, std::string> variables = {{"TRADES", *trades_}, {"OUTPUT", output}};
  Table rows = ReadJsonLinesTable(StrCat(root, "/first.jsonl"),
                                  DeclaredOutputSchema(original, variables, "trader_minute"));
  Table resumed = ReadJsonLinesTable(StrCat(root, "/second.jsonl"),
                                     DeclaredOutputSchema(changed, variables, "trader_minute"));
  ASSERT_EQ(resumed.names[2], "symbol_again");
  for (Row& row : resumed.rows) {
    EXPECT_EQ(CellKey(row[2]), CellKey(row[1]));
    row.erase(row.begin() + 2);
    rows.rows.push_back(std::move(row));
  }
  EXPECT_GT(resumed.rows.size(), 0u);
  ExpectSameTables(rows, QuerySqlite(db_, kScenario3aOracle), "a savepoint restored into a changed query");
}

// The campaign with the trades in a Kafka topic: librdkafka's mock cluster runs in this process,
// and each `sluice run` (a process of its own) reaches it over loopback. The Kafka source resumes
// from the offsets its checkpoint holds, whatever the consumer group committed.
//   - Kafka -> file: the output must equal SQLite's exactly, as for files (Scenario 2's
//     changelog consistent and converged, Scenario 3a's windows neither lost nor repeated).
//   - Kafka -> Kafka with 'delivery.guarantee' = 'exactly_once' (a transaction per checkpoint):
//     the mock writes no transaction markers and ignores read_committed, so a reader here sees
//     the aborted transactions of killed runs too. What holds under the mock, and is checked:
//     Scenario 2's last row per symbol equals SQLite's, Scenario 3a has every window with
//     SQLite's values and no other, and the duplicates the aborted transactions left are
//     counted and printed.
// `make test` runs 6 kills (SLUICE_CHAOS_KAFKA_KILLS overrides), `make chaos` 40.
class KafkaChaosTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kTrades = 60'000;  // the mock keeps 5 MiB per partition

  static void SetUpTestSuite() {
    directory_ = new TemporaryDirectory();
    auto cluster = KafkaMockCluster::Start(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status().message();
    cluster_ = cluster->release();
    ASSERT_TRUE(cluster_->CreateTopic("trades", 4).ok());
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db_, kGeneratedTradesTable, nullptr, nullptr, nullptr), SQLITE_OK);
    TradeGeneratorOptions options;
    options.count = kTrades;
    options.seed = 13;
    options.symbols = 100;
    options.traders = 50;
    options.events_per_second = 200;  // 300 s of event time: windows close all through a run
    options.out_of_order_fraction = 0.05;
    options.max_delay_millis = 1500;
    TradeGenerator text_generator(options), batch_generator(options);
    KafkaProducerOptions producer_options;
    producer_options.client.bootstrap_servers = cluster_->bootstrap_servers();
    producer_options.topic = "trades";
    producer_options.description = "test producer";
    auto producer = KafkaProducer::Create(producer_options);
    ASSERT_TRUE(producer.ok()) << producer.status().message();
    ASSERT_TRUE((*producer)->Connect().ok());
    ASSERT_EQ(sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
    std::string text;
    Batch batch;
    for (uint64_t done = 0; done < kTrades;) {
      text.clear();
      const size_t chunk = static_cast<size_t>(std::min<uint64_t>(4096, kTrades - done));
      const size_t produced = text_generator.AppendJsonLines(chunk, text);
      ASSERT_EQ(batch_generator.FillBatch(chunk, batch), produced);
      std::string_view rest = text;
      for (size_t row = 0; row < produced; ++row) {
        const size_t newline = rest.find('\n');
        const std::string_view symbol = batch.column(2).data<std::string_view>()[row];
        ASSERT_TRUE((*producer)->Produce(symbol.data(), symbol.size(), rest.data(), newline).ok());
        rest.remove_prefix(newline + 1);
      }
      InsertGeneratedTrades(db_, batch, produced);
      done += produced;
    }
    ASSERT_EQ(sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    ASSERT_TRUE((*producer)->Flush(false).ok());
  }

  static void TearDownTestSuite() {
    sqlite3_close(db_);
    delete cluster_;
    delete directory_;
  }

  // Scenario `scenario` ("s2" or "s3a") reading the trades topic as consumer group `group`,
  // writing `sink` (its WITH properties; the stream is named `stream`).
  static std::string Job(const std::string& scenario, const std::string& group, const std::string& sink) {
    const std::string source =
        StrCat("'trades.type' = 'kafka_source', 'trades.topic' = 'trades', 'trades.bootstrap.servers' = '",
               cluster_->bootstrap_servers(), "', 'trades.group.id' = '", group,
               "', 'trades.stop.at.end' = 'true', 'trades.schema' = '", kGeneratedTradesSchema,
               "', 'trades.properties.session.timeout.ms' = '6000', "
               "'trades.properties.heartbeat.interval.ms' = '500', "
               "'event.time.field' = 'trade_time', 'watermark.strategy' = 'bounded_out_of_orderness', "
               "'watermark.max_out_of_orderness' = '2s', 'checkpoint.dir' = '${CHECKPOINTS}', "
               "'checkpoint.interval' = '40ms', 'checkpoint.retained' = '2'");
    if (scenario == "s2") {
      return StrCat(
          "CREATE STREAM volume AS SELECT symbol, COUNT(*) AS trades, SUM(quantity) AS volume, AVG(price) AS "
          "avg_price, MIN(price) AS low, MAX(price) AS high FROM trades GROUP BY symbol WITH (",
          source, ", ", sink, ");\n");
    }
    return StrCat(
        "CREATE STREAM trader_minute AS SELECT trader_id, symbol, _window_start AS minute_start, COUNT(*) AS "
        "trades, SUM(quantity) AS volume, AVG(price) AS avg_price FROM trades GROUP BY trader_id, symbol "
        "WINDOW TUMBLING (trade_time, INTERVAL '1' MINUTE) EMIT FINAL WITH (",
        source, ", ", sink, ");\n");
  }

  // The messages of `topic` as a table typed by `declared`, by partition and offset.
  static Table TopicTable(const std::string& topic, const Schema& declared) {
    auto records = ReadKafkaTopic(cluster_->bootstrap_servers(), topic);
    EXPECT_TRUE(records.ok()) << records.status().message();
    std::string text;
    if (records.ok()) {
      for (const KafkaRecord& record : *records) StrAppend(&text, record.value, "\n");
    }
    const std::string path = directory_->File(StrCat(topic, ".jsonl"));
    WriteFile(path, text);
    return ReadJsonLinesTable(path, declared);
  }

  static TemporaryDirectory* directory_;
  static KafkaMockCluster* cluster_;
  static sqlite3* db_;
};

// The offsets consumer group `group` committed on the trades topic, summed (-1: none yet). A
// checkpointed Kafka source commits them as each checkpoint becomes durable, so they move once a
// run reads.
class CommittedOffsets {
 public:
  CommittedOffsets(const std::string& bootstrap, const std::string& group) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char error[512];
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof(error));
    rd_kafka_conf_set(conf, "group.id", group.c_str(), error, sizeof(error));
    handle_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error)));
  }
  int64_t Total() {
    if (handle_ == nullptr) return -1;
    KafkaPartitionList list(rd_kafka_topic_partition_list_new(4));
    for (int32_t partition = 0; partition < 4; ++partition)
      rd_kafka_topic_partition_list_add(list.get(), "trades", partition);
    if (rd_kafka_committed(handle_.get(), list.get(), 2000) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
    int64_t total = -1;
    for (int i = 0; i < list->cnt; ++i) {
      if (list->elems[i].offset >= 0) total = std::max<int64_t>(total, 0) + list->elems[i].offset;
    }
    return total;
  }

 private:
  KafkaHandle handle_;
};

TemporaryDirectory* KafkaChaosTest::directory_ = nullptr;
KafkaMockCluster* KafkaChaosTest::cluster_ = nullptr;
sqlite3* KafkaChaosTest::db_ = nullptr;

TEST_F(KafkaChaosTest, KafkaSourcesResumeFromTheirCheckpointedOffsets) {
  const uint64_t target = EnvNumber("SLUICE_CHAOS_KAFKA_KILLS", 6);
  const uint64_t seed = EnvNumber("SLUICE_CHAOS_SEED", 20261207);
  std::printf("[ chaos    ] Kafka: %llu kills, seed %llu (SLUICE_CHAOS_KAFKA_KILLS, SLUICE_CHAOS_SEED)\n",
              static_cast<unsigned long long>(target), static_cast<unsigned long long>(seed));
  std::mt19937_64 random(seed);
  // A quarter of the kills at a random moment from the start, most of them while the run joins
  // the consumer group (seconds, under the mock: after a kill, until the killed member's session
  // expires); the others once the run reads (the group's committed offsets move), within about
  // a run's length of reading.
  std::uniform_int_distribution<int> delays(0, 400);
  std::uniform_int_distribution<int> early(200, 4000);
  std::uniform_int_distribution<int> quarter(0, 3);
  struct Kind {
    std::string scenario;
    bool kafka_sink;
    int parallelism;
  };
  const std::vector<Kind> kinds = {{"s2", false, 1}, {"s3a", false, 2}, {"s2", true, 2}, {"s3a", true, 1}};
  const Table s2_expected = QuerySqlite(db_, kScenario2Oracle);
  const Table s3a_expected = QuerySqlite(db_, kScenario3aOracle);
  uint64_t kills = 0, kafka_duplicates = 0;
  int episodes = 0, resumed = 0, skipped = 0;
  while ((kills < target || episodes < static_cast<int>(kinds.size())) && !HasFailure()) {
    const Kind& kind = kinds[static_cast<size_t>(episodes) % kinds.size()];
    const std::string name = StrCat("k_", kind.scenario, kind.kafka_sink ? "_kafka" : "_file", "_p",
                                    kind.parallelism, "_", episodes);
    const std::string stream = kind.scenario == "s2" ? "volume" : "trader_minute";
    const std::string output = directory_->File(StrCat(name, ".jsonl"));
    const std::string sink =
        kind.kafka_sink
            ? StrCat("'", stream, ".type' = 'kafka_sink', '", stream, ".topic' = '", name, "', '", stream,
                     ".bootstrap.servers' = '", cluster_->bootstrap_servers(), "', '", stream,
                     ".key.field' = 'symbol', '", stream, ".delivery.guarantee' = 'exactly_once', '", stream,
                     ".transactional.id' = '", name, "'")
            : StrCat("'", stream, ".type' = 'file_sink', '", stream, ".path' = '", output, "'",
                     kind.scenario == "s2" ? StrCat(", '", stream, ".changelog.mode' = 'changelog'") : "");
    const std::string job = Job(kind.scenario, name, sink);
    if (kind.kafka_sink) {
      ASSERT_TRUE(cluster_->CreateTopic(name, 4).ok());
    }
    const int max_kills = static_cast<int>(std::min<uint64_t>(3, target > kills ? target - kills : 0));
    CommittedOffsets committed(cluster_->bootstrap_servers(), name);
    auto kill_moment = [&](std::mt19937_64& random) {
      if (quarter(random) == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(early(random)));
        return;
      }
      const int64_t before = committed.Total();
      for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
           std::chrono::steady_clock::now() < deadline && committed.Total() == before;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    };
    const Episode episode =
        RunUntilDone(directory_->File(name), job, {"--parallelism", StrCat(kind.parallelism)}, random, delays,
                     max_kills, kill_moment);
    kills += static_cast<uint64_t>(episode.kills);
    resumed += episode.resumed;
    skipped += episode.skipped_notes;
    ++episodes;
    const Schema declared = DeclaredOutputSchema(job, {{"CHECKPOINTS", "x"}}, stream);
    const std::string context = StrCat(name, " after ", episode.kills, " kills");
    if (!kind.kafka_sink) {
      if (kind.scenario == "s2") {
        ExpectSameTables(ApplyChangelog(output, declared), s2_expected, context);
      } else {
        ExpectSameTables(ReadJsonLinesTable(output, declared), s3a_expected, context);
      }
      continue;
    }
    const Table topic = TopicTable(name, declared);
    if (kind.scenario == "s2") {
      ExpectSameTables(LastRowPerKey(topic, 1), s2_expected, context);
      continue;
    }
    std::set<std::string> seen;
    Table distinct{topic.names, {}};
    for (const Row& row : topic.rows) {
      if (seen.insert(RowKey(row)).second) distinct.rows.push_back(row);
    }
    kafka_duplicates += topic.rows.size() - distinct.rows.size();
    ExpectSameTables(distinct, s3a_expected, context);
    if (episode.kills == 0) {
      EXPECT_EQ(topic.rows.size(), distinct.rows.size()) << context;
    }
  }
  std::printf(
      "[ chaos    ] Kafka: %llu kills over %d jobs; %d runs resumed from a checkpoint, %d checkpoints "
      "passed over; %llu windows written twice by aborted transactions (visible under the mock)\n",
      static_cast<unsigned long long>(kills), episodes, resumed, skipped,
      static_cast<unsigned long long>(kafka_duplicates));
  RecordProperty("kills", static_cast<int>(kills));
  EXPECT_GE(kills, target);
  if (target > 0) {
    EXPECT_GT(resumed, 0);
  }
}

// 'restart.strategy' = 'fixed-delay': the broker refuses the sink's first deliveries (Produce
// fails with TOPIC_AUTHORIZATION_FAILED, which librdkafka does not retry), the run fails, and
// `sluice run` restarts it in the same process from its latest checkpoint until it finishes;
// the topic's last row per symbol is SQLite's. With fewer attempts than refusals the run fails,
// naming the broker's error, after its last restart.
TEST_F(KafkaChaosTest, AFixedDelayRestartStrategyRidesOutRefusedDeliveries) {
  struct Attempt {
    std::string name;
    int refusals;
    int attempts;
  };
  for (const Attempt& attempt : {Attempt{"restart_ok", 3, 6}, Attempt{"restart_exhausted", 1000, 2}}) {
    const std::string root = directory_->File(attempt.name);
    std::filesystem::create_directories(root);
    ASSERT_TRUE(cluster_->CreateTopic(attempt.name, 4).ok());
    const std::string sink =
        StrCat("'volume.type' = 'kafka_sink', 'volume.topic' = '", attempt.name,
               "', 'volume.bootstrap.servers' = '", cluster_->bootstrap_servers(),
               "', 'volume.key.field' = 'symbol', 'restart.strategy' = 'fixed-delay', ",
               "'restart.attempts' = '", attempt.attempts, "', 'restart.delay' = '100ms'");
    const std::string job = Job("s2", attempt.name, sink);
    WriteFile(StrCat(root, "/job.sql"), job);
    // The exhausted case is refused from the first delivery; the other once a checkpoint is
    // durable (the group's committed offsets move), so that its restarts resume from one.
    const bool exhausted = attempt.attempts <= 2;
    if (exhausted)
      cluster_->PushRequestErrors(0, std::vector<int>(static_cast<size_t>(attempt.refusals), 29));
    CommittedOffsets committed(cluster_->bootstrap_servers(), attempt.name);
    const Process run = SpawnSluice({"run", StrCat(root, "/job.sql"), "--parallelism", "2", "--set",
                                     StrCat("CHECKPOINTS=", root, "/checkpoints")},
                                    StrCat(root, "/out"), StrCat(root, "/err"));
    if (!exhausted) {
      for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
           std::chrono::steady_clock::now() < deadline && committed.Total() <= 0;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      cluster_->PushRequestErrors(0, std::vector<int>(static_cast<size_t>(attempt.refusals), 29));
    }
    const int code = WaitFor(run, std::chrono::seconds(120));
    const std::string log = ReadFile(run.err);
    EXPECT_NE(log.find("restarting in 100 ms (restart 1 of "), std::string::npos) << log;
    EXPECT_NE(log.find("uthorization"), std::string::npos) << log;
    int restarts = 0;
    for (size_t at = log.find("restarting in"); at != std::string::npos;
         at = log.find("restarting in", at + 1))
      ++restarts;
    const size_t failed = log.find("the run failed: ");
    const std::string first_failure =
        failed == std::string::npos ? "" : log.substr(failed, log.find('\n', failed) - failed);
    std::printf("[ chaos    ] %s: %d refusals, %d restarts, exit %d; %s\n", attempt.name.c_str(),
                attempt.refusals, restarts, code, first_failure.c_str());
    if (!exhausted) {
      ASSERT_EQ(code, 0) << log;
      EXPECT_NE(log.find("resuming from checkpoint"), std::string::npos) << log;
      const Schema declared = DeclaredOutputSchema(job, {{"CHECKPOINTS", "x"}}, "volume");
      ExpectSameTables(LastRowPerKey(TopicTable(attempt.name, declared), 1),
                       QuerySqlite(db_, kScenario2Oracle), "a run restarted after refused deliveries");
    } else {
      EXPECT_EQ(code, 1) << log;
      EXPECT_NE(log.find("(restart 2 of 2)"), std::string::npos) << log;
      EXPECT_EQ(log.find("(restart 3 of"), std::string::npos) << log;
      // The refusals left over must not reach the next test's producers.
      cluster_->ClearRequestErrors(0);
    }
  }
}

}  // namespace
}  // namespace sluice::testing
