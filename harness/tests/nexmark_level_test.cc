// The nexmark level's own logic: reading Flink's published figures (the committed file and
// malformed ones), the median and the ratio, listing the queries in numeric order, and a small
// run of the level in which a query that binds runs, one that does not bind is skipped with its
// message, and one that fails at run time fails the level.
#include "nexmark_level.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/strings.h"

namespace sluice::bench {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void Write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

class TemporaryFolder {
 public:
  TemporaryFolder() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sluice_nexmark_level_XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TemporaryFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const std::string kFiguresPath = StrCat(SLUICE_SOURCE_DIR, "/scenarios/nexmark/flink_published.json");

// Every row of the committed table gives, as events / (cores x seconds), the per-core figure
// the table itself prints (within its rounding); q6, which Flink does not run, has none and
// says why; the source names the repository and commit.
TEST(NexmarkLevelTest, TheCommittedFlinkFiguresMatchTheTablesOwnPerCoreColumn) {
  auto published = ParseFlinkPublished(ReadAll(kFiguresPath));
  ASSERT_TRUE(published.ok()) << published.status().message();
  EXPECT_NE(published->source.find("github.com/nexmark/nexmark"), std::string::npos) << published->source;
  EXPECT_NE(published->source.find("0c6d9cf08c9c86485b062d6565cdc06024368558"), std::string::npos);
  EXPECT_NE(published->flink_version.find("1.13"), std::string::npos);
  EXPECT_EQ(published->queries.size(), 22u) << "q0 to q22 but q6";
  EXPECT_EQ(published->queries.count("q6"), 0u);
  ASSERT_EQ(published->not_published.count("q6"), 1u);
  EXPECT_NE(published->not_published["q6"].find("FLINK-19059"), std::string::npos);
  for (const auto& [name, figure] : published->queries) {
    ASSERT_FALSE(figure.printed_per_core.empty()) << name;
    const double printed = std::stod(figure.printed_per_core);  // "155.02 K/s"
    ASSERT_NE(figure.printed_per_core.find(" K/s"), std::string::npos) << name;
    EXPECT_NEAR(figure.PerCore() / (printed * 1e3), 1.0, 0.005) << name << ": " << figure.printed_per_core;
    EXPECT_EQ(figure.events, 100'000'000u) << name;
  }
  EXPECT_NEAR(published->queries["q5"].PerCore(), 100e6 / (10.8 * 418.242), 1e-6);
}

TEST(NexmarkLevelTest, AFiguresFileWithoutItsSourceOrWithAnEmptyRowIsRefused) {
  EXPECT_FALSE(ParseFlinkPublished("not json").ok());
  EXPECT_FALSE(ParseFlinkPublished(R"({"queries": {}})").ok()) << "no source";
  EXPECT_FALSE(ParseFlinkPublished(R"({"source": {"repository": "r"}, "queries": {}})").ok()) << "no commit";
  const std::string source = R"("source": {"repository": "r", "commit": "c"})";
  EXPECT_TRUE(ParseFlinkPublished(StrCat("{", source, R"(, "queries": {}})")).ok());
  EXPECT_FALSE(ParseFlinkPublished(
                   StrCat("{", source, R"(, "queries": {"q0": {"events": 100, "cores": 0, "seconds": 1}}})"))
                   .ok())
      << "zero cores";
  EXPECT_FALSE(
      ParseFlinkPublished(StrCat("{", source, R"(, "queries": {"q0": {"events": 100, "cores": 2}}})")).ok())
      << "no seconds";
  auto one = ParseFlinkPublished(
      StrCat("{", source, R"(, "queries": {"q0": {"events": 100, "cores": 2, "seconds": 5}}})"));
  ASSERT_TRUE(one.ok()) << one.status().message();
  EXPECT_DOUBLE_EQ(one->queries["q0"].PerCore(), 10.0);
}

TEST(NexmarkLevelTest, MedianAndRatio) {
  EXPECT_EQ(Median({}), 0);
  EXPECT_EQ(Median({3}), 3);
  EXPECT_EQ(Median({5, 1, 3}), 3);
  EXPECT_EQ(Median({4, 1, 3, 2}), 2.5);
  FlinkFigure flink;
  flink.events = 1000;
  flink.cores = 2;
  flink.seconds = 5;  // 100 events/s per core
  ASSERT_TRUE(RatioToFlink(2500, &flink).has_value());
  EXPECT_DOUBLE_EQ(*RatioToFlink(2500, &flink), 25.0);
  EXPECT_FALSE(RatioToFlink(2500, nullptr).has_value()) << "no published figure, no ratio";
  EXPECT_FALSE(RatioToFlink(2500, &(flink = FlinkFigure{})).has_value()) << "an empty figure";
}

TEST(NexmarkLevelTest, QueriesAreListedInNumericOrderAndOnlyQnFiles) {
  TemporaryFolder folder;
  for (const char* name : {"q10.sql", "q2.sql", "q0.sql", "q1x.sql", "README.md", "q3.txt", "notes.sql"})
    Write(StrCat(folder.path(), "/", name), "");
  auto names = ListNexmarkQueries(folder.path());
  ASSERT_TRUE(names.ok()) << names.status().message();
  EXPECT_EQ(*names, (std::vector<std::string>{"q0", "q2", "q10"}));
  EXPECT_FALSE(ListNexmarkQueries(StrCat(folder.path(), "/missing")).ok());

  auto committed = ListNexmarkQueries(StrCat(SLUICE_SOURCE_DIR, "/scenarios/nexmark/flink"));
  ASSERT_TRUE(committed.ok()) << committed.status().message();
  ASSERT_EQ(committed->size(), 23u);
  EXPECT_EQ(committed->front(), "q0");
  EXPECT_EQ(committed->back(), "q22");
}

// A source tree with three queries: Nexmark's q0 as committed (binds and runs), a GROUP BY over
// the bids whose state outgrows its 'state.max.bytes' (binds, fails in the run) and text that
// does not parse (refused). The level measures the first, fails on the second (so does the
// level) and lists the third with the parser's message.
TEST(NexmarkLevelTest, ARefusedQueryIsSkippedAndARunTimeFailureFailsTheLevel) {
  TemporaryFolder folder;
  const std::string nexmark = StrCat(folder.path(), "/source/scenarios/nexmark");
  Write(StrCat(nexmark, "/flink_published.json"), ReadAll(kFiguresPath));
  Write(StrCat(nexmark, "/flink/q0.sql"),
        ReadAll(StrCat(SLUICE_SOURCE_DIR, "/scenarios/nexmark/flink/q0.sql")));
  Write(StrCat(nexmark, "/flink/q1.sql"),
        "CREATE STREAM out AS SELECT bidder, COUNT(*) AS bids FROM bid GROUP BY bidder WITH ("
        "'bid.type' = 'file_source', 'bid.path' = '${NEXMARK}/bids.jsonl', 'bid.format' = 'json', "
        "'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, "
        "dateTime TIMESTAMP, extra STRING', 'bid.event.time.field' = 'dateTime', "
        "'state.max.bytes' = '1KB', 'out.type' = 'file_sink', 'out.path' = '${OUTPUT}')");
  Write(StrCat(nexmark, "/flink/q2.sql"), "SELEC nothing");
  NexmarkLevelOptions options;
  options.source_dir = StrCat(folder.path(), "/source");
  options.work_dir = StrCat(folder.path(), "/work");
  options.events = 5000;
  options.runs = 3;
  options.warmup_runs = 1;
  auto level = RunNexmarkLevel(options);
  ASSERT_TRUE(level.ok()) << level.status().message();
  ASSERT_EQ(level->queries.size(), 3u);
  EXPECT_FALSE(level->ok());

  const NexmarkQueryResult& q0 = level->queries[0];
  EXPECT_EQ(q0.outcome, "ran") << q0.message;
  EXPECT_EQ(q0.events, q0.output_rows) << "q0 passes every bid through";
  EXPECT_GT(q0.events, 4000u);
  EXPECT_LT(q0.events, 5000u) << "bids only";
  for (const NexmarkRate* rate : {&q0.file, &q0.memory}) {
    EXPECT_EQ(rate->seconds.size(), 3u);
    EXPECT_GT(rate->median, 0);
    EXPECT_LE(rate->min, rate->median);
    EXPECT_LE(rate->median, rate->max);
    ASSERT_TRUE(rate->ratio.has_value());
    EXPECT_DOUBLE_EQ(*rate->ratio, rate->median / q0.flink->PerCore());
  }

  EXPECT_EQ(level->queries[1].outcome, "failed");
  EXPECT_NE(level->queries[1].message.find("state limit exceeded"), std::string::npos)
      << level->queries[1].message;
  EXPECT_EQ(level->queries[2].outcome, "refused");
  EXPECT_NE(level->queries[2].message.find("syntax error"), std::string::npos) << level->queries[2].message;

  // The results file: every query with its outcome, Flink's figure or its absence.
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const std::string json = NexmarkLevelJson(*level, "run");
  ASSERT_FALSE(parser.parse(json).get(doc)) << json;
  simdjson::dom::array queries;
  ASSERT_FALSE(doc["queries"].get_array().get(queries));
  EXPECT_EQ(queries.size(), 3u);
  double ratio = 0;
  EXPECT_FALSE(doc["queries"].at(0)["file"]["ratio_to_flink"].get_double().get(ratio)) << json;
  EXPECT_NEAR(ratio / *q0.file.ratio, 1.0, 1e-9) << "written with 10 significant digits";
  std::string_view outcome;
  EXPECT_FALSE(doc["queries"].at(2)["outcome"].get_string().get(outcome));
  EXPECT_EQ(outcome, "refused");
}

}  // namespace
}  // namespace sluice::bench
