// The benchmark harness's own checks: the result fingerprint that every timed run is compared
// with, the latency histogram, and the harness failing a run whose expected result is wrong.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <fstream>
#include <random>

#include "bench_runner.h"
#include "common/strings.h"
#include "dataset.h"
#include "formats/number_format.h"
#include "latency_histogram.h"
#include "result_checksum.h"

namespace sluice::bench {
namespace {

// A batch of (symbol STRING, volume BIGINT, price DOUBLE) rows.
Batch MakeRows(const std::vector<std::tuple<std::string, int64_t, double>>& rows,
               std::vector<std::string>& storage) {
  auto symbol = std::make_shared<Column>(TypeId::kString, rows.size());
  auto volume = std::make_shared<Column>(TypeId::kInt64, rows.size());
  auto price = std::make_shared<Column>(TypeId::kDouble, rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    storage.push_back(std::get<0>(rows[i]));
    symbol->data<std::string_view>()[i] = symbol->heap().Add(std::get<0>(rows[i]));
    volume->data<int64_t>()[i] = std::get<1>(rows[i]);
    price->data<double>()[i] = std::get<2>(rows[i]);
  }
  for (auto* column : {symbol.get(), volume.get(), price.get()}) column->SetAllValid(rows.size());
  Batch batch;
  batch.SetColumns({symbol, volume, price}, rows.size());
  return batch;
}

const std::vector<TypeId> kTypes = {TypeId::kString, TypeId::kInt64, TypeId::kDouble};

ChecksumValue Fingerprint(const std::vector<std::tuple<std::string, int64_t, double>>& rows,
                          std::vector<size_t> key = {}) {
  std::vector<std::string> storage;
  ResultChecksum checksum(kTypes, std::move(key));
  checksum.AddBatch(MakeRows(rows, storage));
  return checksum.Value();
}

TEST(ResultChecksumTest, RowOrderDoesNotMatterButEveryValueDoes) {
  const ChecksumValue base = Fingerprint({{"A", 1, 10.5}, {"B", 2, 20.25}, {"C", 3, 30.0}});
  EXPECT_TRUE(base.Matches(Fingerprint({{"C", 3, 30.0}, {"A", 1, 10.5}, {"B", 2, 20.25}})));
  EXPECT_FALSE(base.Matches(Fingerprint({{"A", 1, 10.5}, {"B", 2, 20.25}})));                    // a row lost
  EXPECT_FALSE(base.Matches(Fingerprint({{"A", 1, 10.5}, {"B", 2, 20.25}, {"C", 4, 30.0}})));    // an integer
  EXPECT_FALSE(base.Matches(Fingerprint({{"A", 1, 10.5}, {"B", 2, 20.25}, {"D", 3, 30.0}})));    // a string
  EXPECT_FALSE(base.Matches(Fingerprint({{"A", 1, 10.5}, {"B", 2, 20.25}, {"C", 3, 30.001}})));  // a double
  // The same doubles on other rows: the weights tell them apart.
  EXPECT_FALSE(base.Matches(Fingerprint({{"A", 1, 20.25}, {"B", 2, 10.5}, {"C", 3, 30.0}})));
}

TEST(ResultChecksumTest, ToleratesOnlyRoundingInDoubles) {
  const ChecksumValue base = Fingerprint({{"A", 1, 0.1 + 0.2}, {"B", 2, 1e6 / 3}});
  EXPECT_TRUE(base.Matches(Fingerprint({{"A", 1, 0.3}, {"B", 2, 333333.33333333331}})));
  EXPECT_FALSE(base.Matches(Fingerprint({{"A", 1, 0.3}, {"B", 2, 333333.334}})));
}

TEST(ResultChecksumTest, SqliteRowsAndBatchesGiveTheSameFingerprint) {
  ResultChecksum rows(kTypes, {});
  for (const auto& [symbol, volume, price] : std::vector<std::tuple<std::string, int64_t, double>>{
           {"A", 1, 10.5}, {"LONGER-THAN-16-BYTES", -7, -2.5}}) {
    std::vector<ResultChecksum::Cell> cells(3);
    cells[0].text = symbol;
    cells[1].integer = volume;
    cells[2].real = price;
    rows.AddRow(cells);
  }
  EXPECT_TRUE(rows.Value().Matches(Fingerprint({{"LONGER-THAN-16-BYTES", -7, -2.5}, {"A", 1, 10.5}})));
}

TEST(ResultChecksumTest, NullsAreValuesOfTheirOwn) {
  ResultChecksum with_null(kTypes, {});
  std::vector<ResultChecksum::Cell> cells(3);
  cells[0].text = "A";
  cells[1].integer = 0;
  cells[2].is_null = true;
  with_null.AddRow(cells);
  ResultChecksum with_zero(kTypes, {});
  cells[2].is_null = false;
  cells[2].real = 0;
  with_zero.AddRow(cells);
  EXPECT_FALSE(with_null.Value().Matches(with_zero.Value()));
}

TEST(ResultChecksumTest, ChangelogKeepsTheLastRowOfEachKey) {
  // EMIT CHANGES: A is updated twice; the final state is A=3, B=5.
  std::vector<std::string> storage;
  ResultChecksum changelog(kTypes, {0});
  changelog.AddBatch(MakeRows({{"A", 1, 1.0}, {"B", 5, 5.0}}, storage));
  changelog.AddBatch(MakeRows({{"A", 2, 2.0}}, storage));
  changelog.AddBatch(MakeRows({{"A", 3, 3.0}}, storage));
  EXPECT_TRUE(changelog.Value().Matches(Fingerprint({{"B", 5, 5.0}, {"A", 3, 3.0}})));
  EXPECT_FALSE(changelog.Value().Matches(Fingerprint({{"B", 5, 5.0}, {"A", 2, 2.0}})));
  // Short keys of different lengths are different keys: none of these replaces another.
  ResultChecksum short_keys(kTypes, {0});
  const std::vector<std::tuple<std::string, int64_t, double>> rows = {
      {"", 0, 0.0}, {"A", 1, 1.0}, {"AAC", 2, 2.0}, {"K0", 3, 3.0}, {"K01", 4, 4.0}, {"K0\x01\x02", 5, 5.0}};
  short_keys.AddBatch(MakeRows(rows, storage));
  EXPECT_TRUE(short_keys.Value().Matches(Fingerprint(rows)));
}

TEST(ResultChecksumTest, TextFormRoundTripsAndRejectsGarbage) {
  const ChecksumValue value = Fingerprint({{"A", 1, 1.0 / 3}, {"B", 2, 2e300}});
  auto parsed = ChecksumValue::Parse(value.ToString());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->ToString(), value.ToString());
  EXPECT_TRUE(parsed->Matches(value, 0.0));
  EXPECT_FALSE(ChecksumValue::Parse("rows=12 exact=xyz sums=[1] scale=[1]").ok());
  EXPECT_FALSE(ChecksumValue::Parse("").ok());
}

TEST(ResultChecksumTest, MergingPartitionsEqualsTheWhole) {
  ChecksumValue merged = Fingerprint({{"A", 1, 1.5}});
  merged.Merge(Fingerprint({{"B", 2, 2.5}, {"C", 3, 3.5}}));
  EXPECT_TRUE(merged.Matches(Fingerprint({{"C", 3, 3.5}, {"A", 1, 1.5}, {"B", 2, 2.5}})));
}

TEST(ResultChecksumTest, AChangelogLogReusesThePoolsBlocksAndStaysExact) {
  // A changelog long enough to span several of the pool's blocks per logged column.
  std::vector<std::string> storage;
  std::vector<std::tuple<std::string, int64_t, double>> rows;
  constexpr int kRows = 3 * static_cast<int>(LogBlockPool::kBlockBytes / sizeof(uint64_t)) + 5;
  for (int i = 0; i < kRows; ++i) rows.emplace_back(StrCat("K", i % 1000), i, i * 0.5);
  std::vector<std::tuple<std::string, int64_t, double>> last(rows.end() - 1000, rows.end());
  std::vector<Batch> batches;  // of 1024 rows, as the lab's
  for (size_t begin = 0; begin < rows.size(); begin += 1024) {
    batches.push_back(
        MakeRows({rows.begin() + begin, rows.begin() + std::min(rows.size(), begin + 1024)}, storage));
  }
  LogBlockPool pool;
  {
    ResultChecksum first(kTypes, {0}, &pool);
    for (const Batch& batch : batches) first.AddBatch(batch);
    EXPECT_TRUE(first.Value().Matches(Fingerprint(last)));
  }
  const size_t blocks = pool.free_blocks();
  EXPECT_GE(blocks, 3u * 4) << "key hashes, row hashes and doubles take 4 blocks each";
  {
    ResultChecksum second(kTypes, {0}, &pool);
    for (const Batch& batch : batches) second.AddBatch(batch);
    EXPECT_EQ(pool.free_blocks(), 0u) << "the second log took every block the first gave back";
    EXPECT_TRUE(second.Value().Matches(Fingerprint(last)));
  }
  EXPECT_EQ(pool.free_blocks(), blocks) << "every block came back";
}

TEST(LatencyHistogramTest, PercentilesWithinTwoPercent) {
  LatencyHistogram histogram;
  std::vector<uint64_t> values;
  std::mt19937_64 random(7);
  for (int i = 0; i < 100000; ++i) values.push_back(random() % 10'000'000);
  for (uint64_t value : values) histogram.Record(value);
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const double exact = static_cast<double>(values[static_cast<size_t>(q * values.size()) - 1]);
    EXPECT_NEAR(static_cast<double>(histogram.Percentile(q)), exact, exact * 0.02) << q;
  }
  EXPECT_EQ(histogram.max(), values.back());
  EXPECT_EQ(histogram.count(), values.size());
  LatencyHistogram small;
  for (uint64_t v = 0; v < 64; ++v) small.Record(v);
  EXPECT_EQ(small.Percentile(0.5), 31u);  // exact below 64
}

// Runs the harness in-process on a small Scenario 2 and returns its exit status.
class HarnessRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sluice-harness-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    options_.source_dir = SLUICE_SOURCE_DIR;
    options_.scenarios_dir = StrCat(SLUICE_SOURCE_DIR, "/scenarios");
    options_.results_dir = dir_ + "/results";
    options_.data_dir = dir_ + "/data";
    options_.scenarios = {"s2_group_by"};
    options_.levels = {"core"};
    options_.threads = {1, 2};
    options_.records = 20000;
    options_.warmup_runs = 0;
    options_.runs = 1;
    options_.peer = false;
  }
  void TearDown() override { std::system(StrCat("rm -rf '", dir_, "'").c_str()); }

  std::string ExpectedFile() {
    const std::string listing = dir_ + "/listing";
    std::system(StrCat("ls ", options_.data_dir, "/expected/trades-* > ", listing).c_str());
    std::ifstream in(listing);
    std::string path;
    std::getline(in, path);
    return path;
  }
  std::string ReadAll(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void Write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  }
  // The checksum status of the newest run's one-thread core result.
  std::string StatusOfLastRun() {
    const std::string listing = dir_ + "/runs";
    std::system(StrCat("ls -d ", options_.results_dir, "/*/ | sort | tail -1 > ", listing).c_str());
    std::ifstream in(listing);
    std::string run;
    std::getline(in, run);
    const std::string result = ReadAll(run + "sluice-s2_group_by-core-t1.json");
    const size_t at = result.find("\"status\": \"");
    return at == std::string::npos ? "" : result.substr(at + 11, 4);
  }

  std::string dir_;
  BenchOptions options_;
};

TEST_F(HarnessRunTest, PassesWithTheOracleAndFailsWhenTheExpectedChecksumIsCorrupted) {
  ASSERT_EQ(RunBenchmarks(options_), 0);
  EXPECT_EQ(StatusOfLastRun(), "pass");
  const std::string expected_file = ExpectedFile();
  ASSERT_FALSE(expected_file.empty());
  const std::string good = ReadAll(expected_file);
  ASSERT_NE(good.find("rows=100 "), std::string::npos) << good;  // 100 symbols

  // A wrong value that still parses: every run's check fails, and so does the harness. The row
  // count, one bit of the exact columns' hash sum (a count, a volume or a symbol), and a DOUBLE
  // column's weighted sum off by a relative 1e-6.
  auto expect_caught = [&](const std::string& wrong, const std::string& what) {
    Write(expected_file, wrong);
    sleep(1);  // run folders are named by the second
    EXPECT_EQ(RunBenchmarks(options_), 1) << what;
    EXPECT_EQ(StatusOfLastRun(), "fail") << what;
  };
  std::string wrong = good;
  wrong.replace(wrong.find("rows=100 "), 9, "rows=101 ");
  expect_caught(wrong, "row count");
  wrong = good;
  const size_t exact = wrong.find("exact=") + 6 + 15;  // the hash sum's last hex digit
  wrong[exact] = wrong[exact] == '0' ? '1' : '0';
  expect_caught(wrong, "exact columns' hash");
  wrong = good;
  const size_t sums = wrong.find("sums=[") + 6;
  const size_t sum_end = wrong.find_first_of(",]", sums);
  const double sum = std::strtod(wrong.c_str() + sums, nullptr);
  wrong.replace(sums, sum_end - sums, StrCat(FormatDouble(sum * (1 + 1e-6))));
  expect_caught(wrong, "a DOUBLE column's weighted sum");

  // An unreadable expected value fails the run rather than being silently recomputed.
  Write(expected_file, "garbage\n");
  EXPECT_EQ(RunBenchmarks(options_), 1);

  // Restored, it passes again.
  Write(expected_file, good);
  sleep(1);
  EXPECT_EQ(RunBenchmarks(options_), 0);
  EXPECT_EQ(StatusOfLastRun(), "pass");
}

// Gate mode (`make gate` runs it under callgrind) checks its one run against SQLite like any
// run: a wrong expected value fails it instead of being reported as passed.
TEST_F(HarnessRunTest, TheGateRunIsCheckedToo) {
  options_.gate = true;
  ASSERT_EQ(RunBenchmarks(options_), 0);
  const std::string expected_file = ExpectedFile();
  ASSERT_FALSE(expected_file.empty()) << "the gate computed no expected result";
  const std::string good = ReadAll(expected_file);
  std::string wrong = good;
  ASSERT_NE(wrong.find("rows=100 "), std::string::npos) << wrong;
  wrong.replace(wrong.find("rows=100 "), 9, "rows=99 ");
  Write(expected_file, wrong);
  EXPECT_EQ(RunBenchmarks(options_), 1);
  Write(expected_file, good);
  EXPECT_EQ(RunBenchmarks(options_), 0);
}

// The oracle query must name every column as the job does and return each value in the type
// the job outputs it (SQLite INTEGER for BIGINT, REAL for DOUBLE, ...): a wrong alias, or a
// value SQLite returns as REAL where the job's column is BIGINT, fails the run instead of being
// converted or ignored.
TEST_F(HarnessRunTest, AnOracleColumnWithAnotherNameOrTypeFailsTheRun) {
  const std::string scenarios = dir_ + "/scenarios";
  ASSERT_EQ(std::system(StrCat("mkdir -p '", scenarios, "' && cp -r '", SLUICE_SOURCE_DIR,
                               "/scenarios/s2_group_by' '", scenarios, "/'")
                            .c_str()),
            0);
  options_.scenarios_dir = scenarios;
  options_.threads = {1};
  const std::string oracle_path = scenarios + "/s2_group_by/oracle.sql";
  const std::string oracle = ReadAll(oracle_path);
  ASSERT_EQ(RunBenchmarks(options_), 0);
  auto expect_refused = [&](const std::string& from, const std::string& to) {
    std::string text = oracle;
    ASSERT_NE(text.find(from), std::string::npos) << from;
    text.replace(text.find(from), from.size(), to);
    Write(oracle_path, text);
    sleep(1);  // run folders are named by the second
    EXPECT_NE(RunBenchmarks(options_), 0) << to;
  };
  expect_refused("SUM(quantity) AS volume", "SUM(quantity) AS volumes");                  // a name
  expect_refused("COUNT(*) AS trades", "CAST(COUNT(*) AS REAL) AS trades");               // a type
  expect_refused("AVG(price) AS avg_price", "CAST(AVG(price) AS INTEGER) AS avg_price");  // a type
  Write(oracle_path, oracle);
  sleep(1);
  EXPECT_EQ(RunBenchmarks(options_), 0);
}

// The number after `"key": ` in a result file, or -1.
double NumberIn(const std::string& json, const std::string& key) {
  const size_t at = json.find(StrCat("\"", key, "\": "));
  return at == std::string::npos ? -1 : std::strtod(json.c_str() + at + key.size() + 4, nullptr);
}

TEST_F(HarnessRunTest, EveryConfigurationGetsItsTimedRunsAndLatencyReportsTheMedianOfThree) {
  options_.levels = {"core", "latency"};
  options_.runs = 2;
  ASSERT_EQ(RunBenchmarks(options_), 0);
  const std::string listing = dir_ + "/runs";
  std::system(StrCat("ls -d ", options_.results_dir, "/*/ | sort | tail -1 > ", listing).c_str());
  std::ifstream in(listing);
  std::string run;
  std::getline(in, run);
  for (const char* file : {"sluice-s2_group_by-core-t1.json", "sluice-s2_group_by-core-t2-p2.json"}) {
    const std::string result = ReadAll(run + file);
    EXPECT_EQ(NumberIn(result, "runs"), 2) << file;
    EXPECT_NE(result.find("\"status\": \"pass\""), std::string::npos) << file;
  }
  const std::string latency = ReadAll(run + "sluice-s2_group_by-latency-t1.json");
  EXPECT_EQ(NumberIn(latency, "runs"), 3);
  const double p99 = NumberIn(latency, "p99");
  EXPECT_GT(p99, 0);
  EXPECT_LE(NumberIn(latency, "p99_min"), p99);
  EXPECT_GE(NumberIn(latency, "p99_max"), p99);
}

// A job that declares its source partitioned by one column runs without an exchange, which is
// right only over input split by that column: the lab refuses a declaration that differs from
// its split (scenario.json's partition_key) and runs one that matches.
TEST_F(HarnessRunTest, AJobMayDeclareOnlyThePartitioningTheLabSplitsBy) {
  const std::string scenarios = dir_ + "/scenarios";
  ASSERT_EQ(std::system(StrCat("mkdir -p '", scenarios, "' && cp -r '", SLUICE_SOURCE_DIR,
                               "/scenarios/s2_group_by' '", scenarios, "/'")
                            .c_str()),
            0);
  options_.scenarios_dir = scenarios;
  const std::string job_path = scenarios + "/s2_group_by/job.sql";
  // The job without its own declaration (Scenario 2's declares symbol).
  std::string job;
  {
    std::ifstream in(job_path);
    for (std::string line; std::getline(in, line);) {
      if (line.find("'trades.partitioned.by'") == std::string::npos) job += line + "\n";
    }
  }
  const std::string anchor = "'trades.type' = 'file_source',";
  ASSERT_NE(job.find(anchor), std::string::npos);
  auto declare = [&](const std::string& column) {
    std::string text = job;
    text.insert(text.find(anchor) + anchor.size(), StrCat("\n  'trades.partitioned.by' = '", column, "',"));
    Write(job_path, text);
  };
  declare("trader_id");  // scenario.json splits by symbol
  EXPECT_NE(RunBenchmarks(options_), 0);
  declare("symbol");
  sleep(1);  // run folders are named by the second
  std::string run;
  EXPECT_EQ(RunBenchmarks(options_, &run), 0);
  EXPECT_EQ(StatusOfLastRun(), "pass");
  // Two workers took their own partitions' rows; without the declaration they exchange them.
  EXPECT_NE(ReadAll(run + "/sluice-s2_group_by-core-t2-p2.json").find("\"keyed_stage\": \"forward\""),
            std::string::npos);
  Write(job_path, job);
  sleep(1);
  EXPECT_EQ(RunBenchmarks(options_, &run), 0);
  EXPECT_NE(ReadAll(run + "/sluice-s2_group_by-core-t2-p2.json").find("\"keyed_stage\": \"exchange\""),
            std::string::npos);
}

TEST_F(HarnessRunTest, GeneratedDataFilesAreIdenticalForTheSameProfile) {
  DataProfile profile;
  profile.trades.out_of_order_fraction = 0.1;
  profile.trades.max_delay_millis = 100;
  const std::string first = dir_ + "/a.csv";
  const std::string second = dir_ + "/b.csv";
  ASSERT_TRUE(WriteDataFile(profile, 5000, /*csv=*/true, first).ok());
  ASSERT_TRUE(WriteDataFile(profile, 5000, /*csv=*/true, second).ok());
  EXPECT_EQ(ReadAll(first), ReadAll(second));
  profile.trades.seed = 43;
  const std::string other = dir_ + "/c.csv";
  ASSERT_TRUE(WriteDataFile(profile, 5000, /*csv=*/true, other).ok());
  EXPECT_NE(ReadAll(first), ReadAll(other));
}

}  // namespace
}  // namespace sluice::bench
