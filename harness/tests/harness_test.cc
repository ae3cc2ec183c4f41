// The benchmark harness's own checks: the result record that every timed run is compared with
// (value by value), the JSON read-back check of the codec and e2e levels, the latency
// histogram, and the harness failing a run whose expected result is wrong.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include "bench_runner.h"
#include "common/strings.h"
#include "dataset.h"
#include "formats/record_format.h"
#include "json_output_check.h"
#include "latency_histogram.h"
#include "result_checksum.h"
#include "state_backend_level.h"
#include "types/number_format.h"

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

TEST(ResultChecksumTest, BinaryFormRoundTripsAndRejectsCorruption) {
  ChecksumValue value = Fingerprint({{"A", 1, 1.0 / 3}, {"B", 2, 2e300}});
  value.Sort();
  const std::string bytes = value.Serialize();
  auto parsed = ChecksumValue::Deserialize(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_TRUE(parsed->has_value());
  EXPECT_EQ((*parsed)->words, value.words);
  EXPECT_TRUE((*parsed)->Matches(value, 0.0));
  EXPECT_FALSE(ChecksumValue::Deserialize("garbage").ok());
  EXPECT_FALSE(ChecksumValue::Deserialize(bytes.substr(0, bytes.size() - 8)).ok());  // truncated
  std::string hash_flipped = bytes;
  hash_flipped[32] ^= 1;  // the first row's hash no longer adds up to the header's sum
  EXPECT_FALSE(ChecksumValue::Deserialize(hash_flipped).ok());
  std::string other_version = bytes;
  other_version[7] = '0';
  auto stale = ChecksumValue::Deserialize(other_version);
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(stale->has_value()) << "another version's file is stale: recomputed, not an error";
}

// The tolerance is between two doubles, never summed over a column: in a million rows, one
// value off by a relative 1e-6 fails (a tolerance on a column's weighted sum let this pass:
// 1e-6 of one value is far below 1e-9 of the sum of a million), while every value off by
// summation-order noise passes.
TEST(ResultChecksumTest, OneDoubleOffInAMillionRowsFailsButRoundingNoisePasses) {
  constexpr size_t kRows = 1'000'000;
  std::vector<std::tuple<std::string, int64_t, double>> rows;
  rows.reserve(kRows);
  for (size_t i = 0; i < kRows; ++i) {
    rows.emplace_back(StrCat("S", i % 1000), static_cast<int64_t>(i), 100 + static_cast<double>(i) * 0.001);
  }
  auto record = [](const std::vector<std::tuple<std::string, int64_t, double>>& all) {
    std::vector<std::string> storage;
    ResultChecksum checksum(kTypes, {});
    for (size_t begin = 0; begin < all.size(); begin += 1024) {
      checksum.AddBatch(
          MakeRows({all.begin() + begin, all.begin() + std::min(all.size(), begin + 1024)}, storage));
    }
    ChecksumValue value = checksum.Value();
    value.Sort();
    return value;
  };
  const ChecksumValue expected = record(rows);
  ASSERT_EQ(expected.rows, kRows);
  std::vector<std::tuple<std::string, int64_t, double>> noisy = rows;
  for (size_t i = 0; i < kRows; ++i) {
    double& price = std::get<2>(noisy[i]);
    price *= i % 2 == 0 ? 1 + 1e-15 : 1 - 1e-15;
  }
  EXPECT_EQ(record(noisy).Difference(expected, {"price"}), "");
  std::vector<std::tuple<std::string, int64_t, double>> wrong = rows;
  std::get<2>(wrong[777'777]) *= 1 + 1e-6;
  const std::string difference = record(wrong).Difference(expected, {"price"});
  EXPECT_NE(difference.find("price expected " + FormatDouble(std::get<2>(rows[777'777]))), std::string::npos)
      << difference;
  EXPECT_NE(difference.find("output " + FormatDouble(std::get<2>(wrong[777'777]))), std::string::npos)
      << difference;
  // A value moved to another row is two differences, not noise.
  std::vector<std::tuple<std::string, int64_t, double>> swapped = rows;
  std::swap(std::get<2>(swapped[10]), std::get<2>(swapped[20]));
  EXPECT_NE(record(swapped).Difference(expected), "");
}

// Rows whose exact columns are equal pair up by their doubles; rounding noise that swaps their
// order still pairs each with its partner.
TEST(ResultChecksumTest, DuplicateExactColumnsPairUpDespiteNoise) {
  const double a = 1.0;
  const double a_noisy = std::nextafter(a, 2.0);
  const ChecksumValue expected = Fingerprint({{"A", 1, a_noisy}, {"A", 1, a}});
  // The output's order by value is (a, a_noisy) on the same rows: same multiset within tolerance.
  EXPECT_EQ(Fingerprint({{"A", 1, a}, {"A", 1, a_noisy}}).Difference(expected), "");
  EXPECT_NE(Fingerprint({{"A", 1, a}, {"A", 1, a}, {"A", 1, a}}).Difference(expected), "");
  EXPECT_NE(Fingerprint({{"A", 1, a}, {"A", 1, 2.0}}).Difference(expected), "");
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
  EXPECT_GE(blocks, 4u + 7) << "key hashes take 4 blocks, rows (hash and double) 7";
  {
    ResultChecksum second(kTypes, {0}, &pool);
    for (const Batch& batch : batches) second.AddBatch(batch);
    EXPECT_EQ(pool.free_blocks(), 0u) << "the second log took every block the first gave back";
    EXPECT_TRUE(second.Value().Matches(Fingerprint(last)));
  }
  EXPECT_EQ(pool.free_blocks(), blocks) << "every block came back";
}

Schema RowsSchema() {
  Schema schema;
  schema.Add(Field{"symbol", TypeId::kString});
  schema.Add(Field{"volume", TypeId::kInt64});
  schema.Add(Field{"price", TypeId::kDouble});
  return schema;
}

// The rows and first problem of JSON Lines text read back by the codec level's check.
std::pair<ChecksumValue, std::string> ReadBack(const std::string& text) {
  JsonOutputCheck check(RowsSchema(), {});
  check.AddLines(text);
  return {check.Value(), check.error()};
}

TEST(JsonOutputCheckTest, TheEncodersOutputParsesBackToTheBatchExactly) {
  const std::vector<std::tuple<std::string, int64_t, double>> rows = {
      {"A", 1, 10.5},
      {"quote\" back\\slash \x01 tab\t é", -7, 0.1 + 0.2},
      {"C", INT64_MIN, 100.0},
      {"", 0, 1e300}};
  std::vector<std::string> storage;
  const Batch batch = MakeRows(rows, storage);
  std::string text;
  MakeJsonEncoder(RowsSchema())->Encode(batch, text);
  const auto [value, error] = ReadBack(text);
  EXPECT_EQ(error, "");
  EXPECT_EQ(value.Difference(Fingerprint(rows), {"price"}, /*relative_tolerance=*/0.0), "") << text;
}

// Each of these encodings is wrong in one way, and the check fails: a wrong value (as rows
// that differ from the expected ones), or a wrong JSON type, key or syntax (as an error).
TEST(JsonOutputCheckTest, AWrongValueTypeKeyOrEscapeFails) {
  const ChecksumValue expected = Fingerprint({{"A", 3, 2.5}});
  auto [good, good_error] = ReadBack("{\"symbol\":\"A\",\"volume\":3,\"price\":2.5}\n");
  EXPECT_EQ(good_error, "");
  EXPECT_EQ(good.Difference(expected), "");
  // A DOUBLE with an integral value is written without a fraction (shortest round trip).
  EXPECT_EQ(ReadBack("{\"symbol\":\"A\",\"volume\":3,\"price\":100}\n").second, "");
  EXPECT_EQ(ReadBack("{\"symbol\":\"A\",\"volume\":3,\"price\":100}\n")
                .first.Difference(Fingerprint({{"A", 3, 100.0}})),
            "");
  EXPECT_EQ(ReadBack("{\"symbol\":null,\"volume\":null,\"price\":null}\n").second, "");

  // Wrong values parse but differ.
  EXPECT_NE(ReadBack("{\"symbol\":\"A\",\"volume\":3,\"price\":2.5000001}\n").first.Difference(expected), "");
  EXPECT_NE(ReadBack("{\"symbol\":\"A\",\"volume\":4,\"price\":2.5}\n").first.Difference(expected), "");
  EXPECT_NE(ReadBack("{\"symbol\":\"a\",\"volume\":3,\"price\":2.5}\n").first.Difference(expected), "");

  // Wrong types, keys, shapes and syntax are errors.
  for (const char* wrong : {
           "{\"symbol\":\"A\",\"volume\":\"3\",\"price\":2.5}\n",                // "3" for an integer
           "{\"symbol\":\"A\",\"volume\":3.0,\"price\":2.5}\n",                  // 3.0 for an integer
           "{\"symbol\":\"A\",\"volume\":3,\"price\":\"2.5\"}\n",                // a string for a double
           "{\"symbol\":1,\"volume\":3,\"price\":2.5}\n",                        // a number for a string
           "{\"symbol\":\"A\",\"volume\":true,\"price\":2.5}\n",                 // a boolean for an integer
           "{\"symbol\":\"A\",\"volume\":9223372036854775808,\"price\":2.5}\n",  // beyond int64
           "{\"symbol\":\"A\\q\",\"volume\":3,\"price\":2.5}\n",                 // a malformed escape
           "{\"symbol\":\"A\\u12\",\"volume\":3,\"price\":2.5}\n",               // a short \u escape
           "{\"symbol\":\"A\xff\",\"volume\":3,\"price\":2.5}\n",                // invalid UTF-8
           "{\"symbol\":\"A\",\"volume\":3,\"price\":2.5\n",                     // unterminated
           "{\"symbol\":\"A\",\"volume\":3,\"price\":2.5}}\n",                   // trailing garbage
           "{\"symbol\":\"A\",\"volume\":3,\"price\":2.5}{\"symbol\":\"B\",\"volume\":3,\"price\":2.5}\n",
           "{\"symbol\":\"A\",\"volume\":3,\"price\":2.5}",            // no final newline
           "{\"symbol\":\"A\",\"price\":2.5,\"volume\":3}\n",          // keys out of order
           "{\"symbol\":\"A\",\"volume\":3}\n",                        // a key missing
           "{\"symbol\":\"A\",\"volume\":3,\"price\":2.5,\"x\":1}\n",  // a key too many
           "{\"symbol\":\"A\",\"volumes\":3,\"price\":2.5}\n",         // a key misnamed
           "[\"A\",3,2.5]\n",                                          // not an object
           "{\"symbol\":\"A\",\"volume\":3,\"price\":NaN}\n",          // not JSON
       }) {
    EXPECT_NE(ReadBack(wrong).second, "") << wrong;
  }
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
    std::ofstream(path, std::ios::trunc | std::ios::binary) << text;
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

TEST_F(HarnessRunTest, PassesWithTheOracleAndFailsWhenTheExpectedResultIsCorrupted) {
  ASSERT_EQ(RunBenchmarks(options_), 0);
  EXPECT_EQ(StatusOfLastRun(), "pass");
  const std::string expected_file = ExpectedFile();
  ASSERT_FALSE(expected_file.empty());
  const std::string good = ReadAll(expected_file);
  auto parsed = ChecksumValue::Deserialize(good);
  ASSERT_TRUE(parsed.ok() && parsed->has_value()) << parsed.status();
  const ChecksumValue expected = **parsed;
  ASSERT_EQ(expected.rows, 100u);           // 100 symbols
  ASSERT_EQ(expected.doubles_per_row, 3u);  // avg_price, low, high

  // A wrong value that still reads: every run's check fails, and so does the harness. One
  // DOUBLE of one row off by a relative 1e-6, then a row left out (header and sum made to agree).
  auto expect_caught = [&](const ChecksumValue& wrong, const std::string& what) {
    Write(expected_file, wrong.Serialize());
    sleep(1);  // run folders are named by the second
    EXPECT_EQ(RunBenchmarks(options_), 1) << what;
    EXPECT_EQ(StatusOfLastRun(), "fail") << what;
  };
  ChecksumValue wrong = expected;
  const double value = wrong.value(42, 0);
  const double changed = value * (1 + 1e-6);
  std::memcpy(&wrong.words[42 * 4 + 1], &changed, sizeof changed);
  expect_caught(wrong, "one row's average off by 1e-6");
  wrong = expected;
  wrong.exact -= wrong.hash(99);
  wrong.words.resize(99 * 4);
  wrong.rows = 99;
  expect_caught(wrong, "a row missing");

  // An unreadable expected value fails the run rather than being silently recomputed.
  Write(expected_file, "garbage\n");
  EXPECT_EQ(RunBenchmarks(options_), 1);
  Write(expected_file, good.substr(0, good.size() - 8));
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
  auto parsed = ChecksumValue::Deserialize(good);
  ASSERT_TRUE(parsed.ok() && parsed->has_value()) << parsed.status();
  ChecksumValue wrong = **parsed;
  ASSERT_EQ(wrong.rows, 100u);
  wrong.exact -= wrong.hash(99);  // a row left out, header and sum made to agree
  wrong.words.resize(99 * (1 + wrong.doubles_per_row));
  wrong.rows = 99;
  Write(expected_file, wrong.Serialize());
  EXPECT_EQ(RunBenchmarks(options_), 1);
  Write(expected_file, good);
  EXPECT_EQ(RunBenchmarks(options_), 0);
}

// The codec level's extra run parses the encoded JSON back and passes on a correct encoder.
TEST_F(HarnessRunTest, TheCodecLevelParsesItsJsonBack) {
  options_.levels = {"codec"};
  std::string run;
  ASSERT_EQ(RunBenchmarks(options_, &run), 0);
  const std::string result = ReadAll(run + "/sluice-s2_group_by-codec-t1.json");
  EXPECT_NE(result.find("simdjson's DOM API: passed"), std::string::npos) << result;
  EXPECT_NE(result.find("\"status\": \"pass\""), std::string::npos) << result;
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

// The state level's oracle: a correct output passes; a wrong aggregate, a key twice, a missing
// key and a key never written each fail, named.
TEST(StateLevelOracleTest, PassesTheRightRowsAndNamesEveryKindOfWrongOne) {
  const uint64_t keys = 50, records = 70;  // keys 0-19 hold two records, the others one
  std::vector<std::string> rows;
  for (uint64_t number = 0; number < keys; ++number) {
    int64_t n = 0, total = 0, low = INT64_MAX, high = INT64_MIN;
    for (uint64_t record = number; record < records; record += keys) {
      const int64_t q = StateLevelQuantity(record);
      ++n;
      total += q;
      low = std::min(low, q);
      high = std::max(high, q);
    }
    rows.push_back(StrCat("{\"k\":", StateLevelKey(number), ",\"n\":", n, ",\"total\":", total,
                          ",\"low\":", low, ",\"high\":", high, "}"));
  }
  const std::string path = StrCat(::testing::TempDir(), "/state_level_output.jsonl");
  auto check = [&](const std::vector<std::string>& lines, bool* ok) {
    std::ofstream out(path, std::ios::trunc);
    for (const std::string& line : lines) out << line << "\n";
    out.close();
    uint64_t read = 0;
    return CheckStateLevelOutput(path, keys, records, &read, ok);
  };
  bool ok = false;
  EXPECT_NE(check(rows, &ok).find("every one of the 50 keys once"), std::string::npos);
  EXPECT_TRUE(ok);

  std::vector<std::string> wrong = rows;
  wrong[3].replace(wrong[3].find("\"n\":2"), 5, "\"n\":3");
  EXPECT_NE(check(wrong, &ok).find("expected 2"), std::string::npos);
  EXPECT_FALSE(ok);
  wrong = rows;
  wrong.push_back(rows[7]);
  EXPECT_NE(check(wrong, &ok).find("a second time"), std::string::npos);
  EXPECT_FALSE(ok);
  wrong = rows;
  wrong.pop_back();
  EXPECT_NE(check(wrong, &ok).find("49 rows, 50 keys"), std::string::npos);
  EXPECT_FALSE(ok);
  wrong = rows;
  wrong[0] = StrCat("{\"k\":", StateLevelKey(keys), ",\"n\":1,\"total\":1,\"low\":1,\"high\":1}");
  EXPECT_NE(check(wrong, &ok).find("was never written"), std::string::npos);
  EXPECT_FALSE(ok);
}

}  // namespace
}  // namespace sluice::bench
