// The partitioned file sink (connectors/file/partitioned_file_sink.h): rows routed to Hive-style
// directories named as Flink names them, without the partition columns in the files; the
// default partition; commits by partition time and at the end of a bounded job; rolling; the
// bound on open files; and the positioned errors of its keys in both dialects.
#include "connectors/file/partitioned_file_sink.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "common/strings.h"
#include "job_test_harness.h"
#include "plan/binder.h"
#include "sql/source_text.h"

namespace sluice::testing {
namespace {

// Every file under `root`, relative to it, sorted.
std::vector<std::string> FilesUnder(const std::string& root) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) files.push_back(std::filesystem::relative(entry.path(), root).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The position and message of binding `text` (a job that must fail).
struct ErrorAt {
  uint32_t line = 0;
  uint32_t column = 0;
  std::string message;
};

ErrorAt BindError(const std::string& text) {
  const absl::StatusOr<BoundJob> bound = BindJobText(text, {});
  EXPECT_FALSE(bound.ok()) << text;
  if (bound.ok()) return {};
  const std::optional<SqlErrorDetail> detail = SqlErrorDetailOf(bound.status());
  EXPECT_TRUE(detail.has_value()) << "no position: " << bound.status().message();
  if (!detail) return {0, 0, std::string(bound.status().message())};
  return {detail->position.line, detail->position.column, detail->message};
}

// A sink of rows (a BIGINT, ts TIMESTAMP, dt STRING, hm STRING) partitioned by dt, hm, writing
// CSV without a header, driven directly (batches, watermarks, a clock).
class PartitionedSinkHarness {
 public:
  explicit PartitionedSinkHarness(const std::string& path, FilePartitioning partitioning = Default()) {
    schema_ = Schema({Field{"a", TypeId::kInt64}, Field{"ts", TypeId::kTimestamp},
                      Field{"dt", TypeId::kString}, Field{"hm", TypeId::kString}});
    SinkDefinition definition;
    definition.name = "out";
    definition.type = "file_sink";
    definition.format = "csv";
    definition.csv_header = false;
    auto settings = std::make_shared<FileSinkSettings>();
    settings->path = path;
    settings->partitioning = std::move(partitioning);
    definition.settings = std::move(settings);
    sink_ = std::make_unique<PartitionedFileSink>(definition, schema_);
    sink_->SetClockForTesting([this] { return now_; });
  }

  static FilePartitioning Default() {
    FilePartitioning partitioning;
    partitioning.columns = {2, 3};
    partitioning.trigger = PartitionCommitTrigger::kPartitionTime;
    partitioning.commit_delay_millis = 60000;
    partitioning.time_pattern = "$dt $hm:00";
    return partitioning;
  }

  struct Row {
    int64_t a;
    std::optional<std::string> dt;
    std::optional<std::string> hm;
  };

  absl::Status Push(const std::vector<Row>& rows) {
    auto a = std::make_shared<Column>(TypeId::kInt64, rows.size());
    auto ts = std::make_shared<Column>(TypeId::kTimestamp, rows.size());
    auto dt = std::make_shared<Column>(TypeId::kString, rows.size());
    auto hm = std::make_shared<Column>(TypeId::kString, rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
      a->validity()[r] = 1;
      a->data<int64_t>()[r] = rows[r].a;
      ts->validity()[r] = 1;
      ts->data<int64_t>()[r] = 1767251700000 + rows[r].a;
      for (auto [column, value] : {std::pair{dt.get(), &rows[r].dt}, std::pair{hm.get(), &rows[r].hm}}) {
        if (!value->has_value()) {
          column->SetNull(r);
        } else {
          column->validity()[r] = 1;
          column->data<std::string_view>()[r] = column->heap().Add(**value);
        }
      }
    }
    Batch batch;
    batch.SetColumns({a, ts, dt, hm}, rows.size());
    return sink_->Push(batch);
  }

  PartitionedFileSink& sink() { return *sink_; }
  int64_t now_ = 1767251700000;

 private:
  Schema schema_;
  std::unique_ptr<PartitionedFileSink> sink_;
};

TEST(PartitionedFileSinkTest, EscapesDirectoryNamesAsFlinkDoes) {
  EXPECT_EQ(EscapePartitionPathName("2026-01-01"), "2026-01-01");
  EXPECT_EQ(EscapePartitionPathName("07:15"), "07%3A15");
  EXPECT_EQ(EscapePartitionPathName("a/b=c%d"), "a%2Fb%3Dc%25d");
  EXPECT_EQ(EscapePartitionPathName("\"#'*?\\{[]^"), "%22%23%27%2A%3F%5C%7B%5B%5D%5E");
  EXPECT_EQ(EscapePartitionPathName(std::string("\x01\n\x7f", 3)), "%01%0A%7F");
  EXPECT_EQ(EscapePartitionPathName("x y-z_~!$&()+,;<>|}"), "x y-z_~!$&()+,;<>|}") << "not escaped by Flink";
  EXPECT_EQ(EscapePartitionPathName("Zürich"), "Zürich") << "non-ASCII stays";
}

TEST(PartitionedFileSinkTest, PartitionTimeFromThePattern) {
  const std::vector<std::string> columns = {"dt", "hm"};
  EXPECT_EQ(ExtractPartitionTime("$dt $hm:00", columns, {"2026-01-01", "07:15"}), 1767251700000);
  EXPECT_EQ(ExtractPartitionTime("", columns, {"2026-01-01", "07:15"}), 1767225600000) << "the first value";
  EXPECT_EQ(ExtractPartitionTime("$dt $hm:00", columns, {"__DEFAULT_PARTITION__", "07:15"}), std::nullopt);
}

TEST(PartitionedFileSinkTest, RoutesRowsToEscapedDirectoriesWithoutThePartitionColumns) {
  TemporaryDirectory directory;
  PartitionedSinkHarness harness(directory.File("out"));
  ASSERT_TRUE(harness.sink().Open().ok());
  ASSERT_TRUE(harness
                  .Push({{1, "2026-01-01", "07:15"},
                         {2, "2026-01-01", "07:16"},
                         {3, "2026-01-01", "07:15"},
                         {4, "a/b", "x=y"}})
                  .ok());
  ASSERT_TRUE(harness.Push({{5, "2026-01-01", "07:16"}}).ok());
  // Not yet visible: the part files are in progress (hidden) until closed.
  for (const std::string& file : FilesUnder(directory.File("out"))) {
    EXPECT_EQ(std::filesystem::path(file).filename().string()[0], '.') << file;
  }
  ASSERT_TRUE(harness.sink().OnWatermark(kMaxWatermark).ok());
  ASSERT_TRUE(harness.sink().Finish().ok());
  EXPECT_EQ(
      FilesUnder(directory.File("out")),
      (std::vector<std::string>{"dt=2026-01-01/hm=07%3A15/_SUCCESS", "dt=2026-01-01/hm=07%3A15/part-0-0.csv",
                                "dt=2026-01-01/hm=07%3A16/_SUCCESS", "dt=2026-01-01/hm=07%3A16/part-0-1.csv",
                                "dt=a%2Fb/hm=x%3Dy/_SUCCESS", "dt=a%2Fb/hm=x%3Dy/part-0-2.csv"}));
  EXPECT_EQ(ReadFile(directory.File("out/dt=2026-01-01/hm=07%3A15/part-0-0.csv")),
            "1,1767251700001\n3,1767251700003\n")
      << "a and ts only, no header";
  EXPECT_EQ(ReadFile(directory.File("out/dt=2026-01-01/hm=07%3A16/part-0-1.csv")),
            "2,1767251700002\n5,1767251700005\n");
  EXPECT_EQ(harness.sink().rows_written(), 5u);
}

TEST(PartitionedFileSinkTest, NullAndEmptyValuesGoToTheDefaultPartition) {
  TemporaryDirectory directory;
  FilePartitioning partitioning = PartitionedSinkHarness::Default();
  PartitionedSinkHarness harness(directory.File("out"), partitioning);
  ASSERT_TRUE(harness.sink().Open().ok());
  ASSERT_TRUE(
      harness.Push({{1, std::nullopt, "07:15"}, {2, "", "07:15"}, {3, "2026-01-01", std::nullopt}}).ok());
  ASSERT_TRUE(harness.sink().OnWatermark(kMaxWatermark).ok());
  ASSERT_TRUE(harness.sink().Finish().ok());
  EXPECT_EQ(FilesUnder(directory.File("out")),
            (std::vector<std::string>{"dt=2026-01-01/hm=__DEFAULT_PARTITION__/_SUCCESS",
                                      "dt=2026-01-01/hm=__DEFAULT_PARTITION__/part-0-1.csv",
                                      "dt=__DEFAULT_PARTITION__/hm=07%3A15/_SUCCESS",
                                      "dt=__DEFAULT_PARTITION__/hm=07%3A15/part-0-0.csv"}))
      << "NULL and '' are one partition; its time is no time, so it is committed when the input ends";

  TemporaryDirectory other;
  partitioning.default_name = "none";
  PartitionedSinkHarness named(other.File("out"), partitioning);
  ASSERT_TRUE(named.sink().Open().ok());
  ASSERT_TRUE(named.Push({{1, std::nullopt, "07:15"}}).ok());
  ASSERT_TRUE(named.sink().Finish().ok());
  EXPECT_EQ(FilesUnder(other.File("out")), (std::vector<std::string>{"dt=none/hm=07%3A15/part-0-0.csv"}))
      << "a cancelled run (no end-of-input watermark) closes its files and commits nothing";
}

TEST(PartitionedFileSinkTest, CommitsAPartitionWhenTheWatermarkPassesItsTimePlusTheDelay) {
  TemporaryDirectory directory;
  PartitionedSinkHarness harness(directory.File("out"));
  ASSERT_TRUE(harness.sink().Open().ok());
  ASSERT_TRUE(harness.Push({{1, "2026-01-01", "07:15"}, {2, "2026-01-01", "07:16"}}).ok());
  const std::string first = directory.File("out/dt=2026-01-01/hm=07%3A15/_SUCCESS");
  const std::string second = directory.File("out/dt=2026-01-01/hm=07%3A16/_SUCCESS");
  const int64_t t0715 = 1767251700000;  // 2026-01-01 07:15:00 UTC
  ASSERT_TRUE(harness.sink().OnWatermark(t0715 + 60000).ok());
  EXPECT_FALSE(std::filesystem::exists(first)) << "the watermark must pass time + delay, not reach it";
  ASSERT_TRUE(harness.sink().OnWatermark(t0715 + 60001).ok());
  EXPECT_TRUE(std::filesystem::exists(first));
  EXPECT_TRUE(std::filesystem::exists(directory.File("out/dt=2026-01-01/hm=07%3A15/part-0-0.csv")))
      << "committing closes the partition's file";
  EXPECT_FALSE(std::filesystem::exists(second));
  EXPECT_EQ(harness.sink().commits(), 1u);
  // A late row for the committed partition goes to a new part file, committed again.
  ASSERT_TRUE(harness.Push({{3, "2026-01-01", "07:15"}}).ok());
  ASSERT_TRUE(harness.sink().OnWatermark(t0715 + 120001).ok());
  EXPECT_TRUE(std::filesystem::exists(second));
  EXPECT_EQ(harness.sink().commits(), 3u);
  ASSERT_TRUE(harness.sink().OnWatermark(kMaxWatermark).ok());
  ASSERT_TRUE(harness.sink().Finish().ok());
  EXPECT_EQ(ReadFile(directory.File("out/dt=2026-01-01/hm=07%3A15/part-0-2.csv")), "3,1767251700003\n");
}

TEST(PartitionedFileSinkTest, ProcessTimeCommitsWhenTheClockPassesCreationPlusDelay) {
  TemporaryDirectory directory;
  FilePartitioning partitioning = PartitionedSinkHarness::Default();
  partitioning.trigger = PartitionCommitTrigger::kProcessTime;
  partitioning.commit_delay_millis = 5000;
  partitioning.rolling_check_interval_millis = 1000;
  PartitionedSinkHarness harness(directory.File("out"), partitioning);
  ASSERT_TRUE(harness.sink().Open().ok());
  ASSERT_TRUE(harness.Push({{1, "2026-01-01", "07:15"}}).ok());
  harness.now_ += 5000;
  ASSERT_TRUE(harness.sink().Flush().ok());
  EXPECT_EQ(harness.sink().commits(), 0u);
  harness.now_ += 1001;
  ASSERT_TRUE(harness.sink().Flush().ok());
  EXPECT_EQ(harness.sink().commits(), 1u);
  EXPECT_TRUE(std::filesystem::exists(directory.File("out/dt=2026-01-01/hm=07%3A15/_SUCCESS")));
  ASSERT_TRUE(harness.sink().Finish().ok());
}

TEST(PartitionedFileSinkTest, RollsFilesByTheRolloverIntervalAndBoundsOpenFiles) {
  TemporaryDirectory directory;
  FilePartitioning partitioning = PartitionedSinkHarness::Default();
  partitioning.rolling_interval_millis = 60000;
  partitioning.rolling_check_interval_millis = 1;
  partitioning.max_open_files = 2;
  PartitionedSinkHarness harness(directory.File("out"), partitioning);
  ASSERT_TRUE(harness.sink().Open().ok());
  ASSERT_TRUE(harness.Push({{1, "d", "1"}}).ok());
  harness.now_ += 59999;
  ASSERT_TRUE(harness.Push({{2, "d", "1"}}).ok());
  EXPECT_EQ(harness.sink().files_closed(), 0u);
  harness.now_ += 1;  // open 60 s
  ASSERT_TRUE(harness.Push({{3, "d", "1"}}).ok());
  EXPECT_EQ(harness.sink().files_closed(), 1u);
  EXPECT_EQ(ReadFile(directory.File("out/dt=d/hm=1/part-0-0.csv")), "1,1767251700001\n2,1767251700002\n");
  // A third partition with two files open closes the least recently written one.
  ASSERT_TRUE(harness.Push({{4, "d", "2"}}).ok());
  ASSERT_TRUE(harness.Push({{5, "d", "1"}}).ok());
  ASSERT_TRUE(harness.Push({{6, "d", "3"}}).ok());
  EXPECT_EQ(harness.sink().files_closed(), 2u);
  EXPECT_EQ(ReadFile(directory.File("out/dt=d/hm=2/part-0-2.csv")), "4,1767251700004\n");
  ASSERT_TRUE(harness.Push({{7, "d", "2"}}).ok());
  ASSERT_TRUE(harness.sink().OnWatermark(kMaxWatermark).ok());
  ASSERT_TRUE(harness.sink().Finish().ok());
  EXPECT_EQ(ReadFile(directory.File("out/dt=d/hm=2/part-0-4.csv")), "7,1767251700007\n");
  EXPECT_EQ(ReadFile(directory.File("out/dt=d/hm=1/part-0-1.csv")), "3,1767251700003\n5,1767251700005\n");
}

// A bounded Flink job: every partition committed at its end, the files hold the columns that
// are not partition columns, and a second run replaces what the first left.
TEST(PartitionedFileSinkTest, FlinkJobCommitsEveryPartitionWhenItsInputEnds) {
  TemporaryDirectory directory;
  std::string lines;
  for (int i = 0; i < 300; ++i) {
    StrAppend(&lines, "{\"k\":", i, ",\"day\":\"2026-01-0", 1 + i % 3, "\",\"ts\":", 1767225600000 + i * 1000,
              "}\n");
  }
  WriteFile(directory.File("in.jsonl"), lines);
  const std::string job =
      "CREATE TABLE events (k BIGINT, `day` STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)\n"
      "WITH ('connector' = 'filesystem', 'path' = '${DIR}/in.jsonl', 'format' = 'json');\n"
      "CREATE TABLE out (k BIGINT, `day` STRING) PARTITIONED BY (`day`) WITH ('connector' = 'filesystem',\n"
      "  'path' = '${DIR}/out', 'format' = 'csv', 'sink.partition-commit.trigger' = 'partition-time',\n"
      "  'sink.partition-commit.delay' = '60 min', 'sink.partition-commit.policy.kind' = 'success-file');\n"
      "INSERT INTO out SELECT k, `day` FROM events;";
  for (int parallelism : {1, 2}) {
    const JobResult result = RunJobText(job, {{"DIR", directory.path()}}, 7, false, parallelism);
    ASSERT_TRUE(result.status.ok()) << result.status.message();
    std::set<int64_t> keys;
    for (int d = 1; d <= 3; ++d) {
      const std::string partition = directory.File(StrCat("out/day=2026-01-0", d));
      EXPECT_TRUE(std::filesystem::exists(partition + "/_SUCCESS")) << partition;
      for (const auto& entry : std::filesystem::directory_iterator(partition)) {
        if (entry.path().filename() == "_SUCCESS") continue;
        for (const std::string& line : ReadLines(entry.path().string())) {
          const int64_t k = std::stoll(line);
          EXPECT_EQ(k % 3, d - 1) << line;
          EXPECT_TRUE(keys.insert(k).second) << "row " << k << " twice";
        }
      }
    }
    EXPECT_EQ(keys.size(), 300u) << "parallelism " << parallelism;
  }
}

// Part files are not yet made visible only when a checkpoint covering them completes: a run
// with checkpoints (or a savepoint) is refused, not run with weaker guarantees.
TEST(PartitionedFileSinkTest, RefusesToRunWithCheckpoints) {
  TemporaryDirectory directory;
  PartitionedSinkHarness harness(directory.File("out"));
  EXPECT_TRUE(harness.sink().EnableTwoPhaseCommit(/*periodic=*/true));
  const absl::Status status = harness.sink().Open();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("does not take part in checkpoints or savepoints yet"), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("'out.partition.by'"), std::string::npos) << status.message();
  EXPECT_FALSE(std::filesystem::exists(directory.File("out"))) << "nothing written";
}

TEST(PartitionedFileSinkTest, RefusalsArePositioned) {
  const std::string source =
      "CREATE TABLE s (a BIGINT, b STRING) WITH ('connector' = 'filesystem', 'path' = 'x', 'format' = "
      "'json');\n";
  struct Case {
    std::string text;
    uint32_t line;
    uint32_t column;
    std::string message;
  };
  const Case cases[] = {
      {"CREATE TABLE t (a BIGINT, b STRING) PARTITIONED BY (c) WITH ('connector' = 'filesystem');", 1, 53,
       "PARTITIONED BY names 'c', which is not a column of table 't'"},
      {"CREATE TABLE t (a BIGINT, b STRING) PARTITIONED BY (b, B) WITH ('connector' = 'filesystem');", 1, 56,
       "PARTITIONED BY names 'B' twice"},
      {"CREATE TABLE t (b STRING) PARTITIONED BY (b) WITH ('connector' = 'filesystem');", 1, 27,
       "PARTITIONED BY names every column of table 't': its files would hold no column"},
      {source + "CREATE TABLE t (a BIGINT, b STRING) PARTITIONED BY (b) WITH ('connector' = 'print');\n" +
           "INSERT INTO t SELECT a, b FROM s",
       2, 37,
       "PARTITIONED BY on table 't', whose connector is 'print': only a 'filesystem' table is partitioned"},
      {"CREATE TABLE s (a BIGINT, b STRING) PARTITIONED BY (b) WITH ('connector' = 'filesystem', 'path' = "
       "'x', "
       "'format' = 'json');\nCREATE TABLE o (a BIGINT) WITH ('connector' = 'blackhole');\n"
       "INSERT INTO o SELECT a FROM s",
       1, 37,
       "not supported yet: PARTITIONED BY on table 's', which is read (Sluice writes partitioned "
       "'filesystem' "
       "tables; it does not read them by partition)"},
      {source + "CREATE TABLE t (a BIGINT, b STRING) PARTITIONED BY (b) WITH ('connector' = 'filesystem', "
                "'path' = "
                "'o',\n  'sink.partition-commit.policy.kind' = 'metastore,success-file');\nINSERT INTO t "
                "SELECT a, b "
                "FROM s",
       3, 41,
       "not supported yet: 'sink.partition-commit.policy.kind' = 'metastore': Sluice has no metastore to add "
       "partitions to (write 'success-file')"},
      {source + "CREATE TABLE t (a BIGINT, b STRING) WITH ('connector' = 'filesystem', 'path' = 'o',\n"
                "  'sink.rolling-policy.rollover-interval' = '1 min');\nINSERT INTO t SELECT a, b FROM s",
       3, 3,
       "not supported yet: the Flink option 'sink.rolling-policy.rollover-interval' of a sink without "
       "PARTITIONED BY (Sluice's unpartitioned 'filesystem' sink writes one file, not rolled part files)"},
      {source + "CREATE TABLE t (a BIGINT, b STRING) PARTITIONED BY (b) WITH ('connector' = 'filesystem', "
                "'path' = "
                "'o',\n  'sink.partition-commit.trigger' = 'sometimes');\nINSERT INTO t SELECT a, b FROM s",
       3, 37,
       "invalid value 'sometimes' for 'sink.partition-commit.trigger' (expected process-time or "
       "partition-time)"},
      {source + "CREATE TABLE t (a BIGINT, b STRING) PARTITIONED BY (b) WITH ('connector' = 'filesystem', "
                "'path' = "
                "'o');\nSET 'execution.checkpointing.dir' = '/ck';\nINSERT INTO t SELECT a, b FROM s",
       3, 5,
       "'checkpoint.dir' with the partitioned sink 't': a partitioned file sink does not take part in "
       "checkpoints yet (its part files would not be exactly once); run without checkpoints, or leave out "
       "'t.partition.by'"},
      // Our dialect.
      {"CREATE STREAM o AS SELECT a, b FROM s WITH ('s.type' = 'file_source', 's.path' = 'x', 's.schema' = "
       "'a BIGINT, b STRING',\n  'o.type' = 'file_sink', 'o.path' = 'd', 'o.partition.by' = 'b, c')",
       2, 62, "'o.partition.by' names 'c', which is not a column of the sink's rows (a, b)"},
      {"CREATE STREAM o AS SELECT a, b FROM s WITH ('s.type' = 'file_source', 's.path' = 'x', 's.schema' = "
       "'a BIGINT, b STRING',\n  'o.type' = 'file_sink', 'o.path' = 'd', 'o.rolling.interval' = '1 min')",
       2, 43, "'o.rolling.interval' is for a partitioned sink: set 'o.partition.by' too, or leave it out"},
      {"CREATE STREAM o AS SELECT a, b FROM s WITH ('s.type' = 'file_source', 's.path' = 'x', 's.schema' = "
       "'a BIGINT, b STRING',\n  'o.type' = 'file_sink', 'o.path' = 'd', 'o.partition.by' = 'b',\n"
       "  'o.partition.commit.trigger' = 'partition_time', 'o.partition.commit.delay' = 'soon')",
       3, 81, "invalid duration 'soon' for 'o.partition.commit.delay' (expected 0 or more, e.g. '1 min')"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    const ErrorAt error = BindError(c.text);
    EXPECT_EQ(error.line, c.line);
    EXPECT_EQ(error.column, c.column);
    EXPECT_EQ(error.message, c.message);
  }
}

// Flink's options become our keys, with their values in our terms.
TEST(PartitionedFileSinkTest, FlinkOptionsMapOntoOurKeys) {
  const absl::StatusOr<BoundJob> bound = BindJobText(
      "CREATE TABLE s (a BIGINT, b STRING, c STRING) WITH ('connector' = 'filesystem', 'path' = 'x', "
      "'format' = "
      "'json');\n"
      "CREATE TABLE t (a BIGINT, b STRING, c STRING) PARTITIONED BY (b, c) WITH ('connector' = "
      "'filesystem',\n"
      "  'path' = 'o', 'format' = 'csv', 'sink.partition-commit.trigger' = 'partition-time',\n"
      "  'sink.partition-commit.delay' = '1 min', 'sink.partition-commit.policy.kind' = 'success-file',\n"
      "  'partition.time-extractor.timestamp-pattern' = '$b $c:00', 'partition.default-name' = 'nothing',\n"
      "  'sink.rolling-policy.rollover-interval' = '2min', 'sink.rolling-policy.check-interval' = '30 s');\n"
      "INSERT INTO t SELECT a, b, c FROM s",
      {});
  ASSERT_TRUE(bound.ok()) << bound.status().message();
  auto value = [&](const std::string& key) {
    const PropertyValue* found = bound->properties.Find(key);
    return found != nullptr ? found->value : std::string("<unset>");
  };
  EXPECT_EQ(value("t.partition.by"), "b, c");
  EXPECT_EQ(value("t.partition.commit.trigger"), "partition_time");
  EXPECT_EQ(value("t.partition.commit.delay"), "60000ms");
  EXPECT_EQ(value("t.partition.commit.policy"), "success_file");
  EXPECT_EQ(value("t.partition.time.pattern"), "$b $c:00");
  EXPECT_EQ(value("t.partition.default.name"), "nothing");
  EXPECT_EQ(value("t.rolling.interval"), "120000ms");
  EXPECT_EQ(value("t.rolling.check.interval"), "30000ms");
  EXPECT_EQ(value("t.csv.header"), "false") << "Flink's CSV has no header line";
  EXPECT_EQ(value("t.csv.timestamp.format"), "sql") << "Flink's CSV writes '2026-01-01 07:15:00.25'";
  const auto& settings = bound->statements[0].sink->SettingsAs<FileSinkSettings>();
  ASSERT_TRUE(settings.partitioning.has_value());
  EXPECT_EQ(settings.partitioning->columns, (std::vector<size_t>{1, 2}));
  EXPECT_EQ(settings.partitioning->trigger, PartitionCommitTrigger::kPartitionTime);
  EXPECT_EQ(settings.partitioning->commit_delay_millis, 60000);
  EXPECT_EQ(settings.partitioning->rolling_interval_millis, 120000);
  EXPECT_EQ(settings.partitioning->rolling_check_interval_millis, 30000);
  EXPECT_EQ(settings.partitioning->default_name, "nothing");

  // Without a policy Flink commits nothing: no _SUCCESS.
  const absl::StatusOr<BoundJob> no_policy = BindJobText(
      "CREATE TABLE s (a BIGINT, b STRING) WITH ('connector' = 'filesystem', 'path' = 'x', 'format' = "
      "'json');\n"
      "CREATE TABLE t (a BIGINT, b STRING) PARTITIONED BY (b) WITH ('connector' = 'filesystem', 'path' = "
      "'o');\n"
      "INSERT INTO t SELECT a, b FROM s",
      {});
  ASSERT_TRUE(no_policy.ok()) << no_policy.status().message();
  EXPECT_FALSE(no_policy->statements[0].sink->SettingsAs<FileSinkSettings>().partitioning->success_file);
}

}  // namespace
}  // namespace sluice::testing
