// The embedding API of include/sluice/ (Job, JobOptions, Source, Sink), used as an embedding
// uses it: SQL text in, records from memory, rows back as text.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "job_test_harness.h"
#include "sluice/job.h"

namespace sluice::testing {
namespace {

// Hands out the given pieces of text, one per Read(); an empty piece means "nothing yet".
class ScriptedSource final : public Source {
 public:
  explicit ScriptedSource(std::vector<std::string> pieces) : pieces_(pieces.begin(), pieces.end()) {}
  StatusOr<bool> Read(std::string& records) override {
    if (pieces_.empty()) return false;
    records = pieces_.front();
    pieces_.pop_front();
    return true;
  }

 private:
  std::deque<std::string> pieces_;
};

class CollectingSink final : public Sink {
 public:
  explicit CollectingSink(std::string* text, bool* finished) : text_(text), finished_(finished) {}
  Status Write(std::string_view records) override {
    text_->append(records);
    return Status();
  }
  Status Finish() override {
    *finished_ = true;
    return Status();
  }

 private:
  std::string* text_;
  bool* finished_;
};

std::string JobText(const std::string& format, const std::string& extra = "") {
  return "CREATE STREAM big AS SELECT id, name, amount FROM orders WHERE amount > 10\n"
         "WITH ('orders.type' = 'file_source', 'orders.path' = 'memory', 'orders.format' = '" +
         format +
         "',\n"
         "      'orders.schema' = 'id BIGINT, name STRING, amount BIGINT', 'big.type' = 'stdout_sink'" +
         extra + ");";
}

std::vector<std::string> SortedLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t newline = text.find('\n', start);
    lines.push_back(text.substr(start, newline - start));
    start = newline + 1;
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

TEST(EmbeddingApiTest, RecordsSplitAcrossReadsAndPausesReachTheSink) {
  auto job = Job::Compile(JobText("json"));
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ((*job)->source_names(), std::vector<std::string>{"orders"});
  EXPECT_EQ((*job)->stream_names(), std::vector<std::string>{"big"});
  std::string out;
  bool finished = false;
  JobOptions options;
  options.batch_size = 2;
  options.sources["orders"] = [](int partition) {
    EXPECT_EQ(partition, 0);
    return std::make_unique<ScriptedSource>(std::vector<std::string>{
        R"({"id":1,"name":"a","amount":5})"
        "\n"
        R"({"id":2,"na)",
        "",
        R"(me":"b","amount":50})"
        "\n\n",
        R"({"id":3,"name":"c","amount":70})"});  // the last record without its newline
  };
  options.sinks["big"] = [&] { return std::make_unique<CollectingSink>(&out, &finished); };
  auto summary = (*job)->Run(options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(out, "{\"id\":2,\"name\":\"b\",\"amount\":50}\n{\"id\":3,\"name\":\"c\",\"amount\":70}\n");
  EXPECT_TRUE(finished);
  EXPECT_EQ(summary->records_in, 3u);
  EXPECT_EQ(summary->records_out, 2u);
}

TEST(EmbeddingApiTest, CsvHeaderQuotedLineBreakAndBadRecordDeadLettered) {
  TemporaryDirectory directory;
  const std::string dead_letters = directory.File("orders.dead_letter.jsonl");
  auto job = Job::Compile(JobText("csv", ", 'orders.dead_letter.path' = '" + dead_letters + "'"));
  ASSERT_TRUE(job.ok()) << job.status();
  std::string out;
  bool finished = false;
  JobOptions options;
  options.sources["orders"] = [](int) {
    return std::make_unique<ScriptedSource>(
        std::vector<std::string>{"id,name,amount\n1,\"two\nlines\",20\n2,x,not a number\n3,y,30\n"});
  };
  options.sinks["big"] = [&] { return std::make_unique<CollectingSink>(&out, &finished); };
  auto summary = (*job)->Run(options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(out,
            "{\"id\":1,\"name\":\"two\\nlines\",\"amount\":20}\n{\"id\":3,\"name\":\"y\",\"amount\":30}\n");
  EXPECT_EQ(summary->dead_lettered, 1u);
  const std::vector<std::string> letters = ReadLines(dead_letters);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_NE(letters[0].find("\"line\":4"), std::string::npos) << letters[0];

  options.strict = true;
  auto strict = (*job)->Run(options);
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find("line 4"), std::string::npos) << strict.status();
}

TEST(EmbeddingApiTest, SameRowsOnTwoWorkers) {
  auto job = Job::Compile(
      "CREATE STREAM totals AS SELECT name, COUNT(*) AS n, SUM(amount) AS total FROM orders GROUP BY name "
      "EMIT FINAL WITH ('orders.type' = 'file_source', 'orders.path' = 'memory', "
      "'orders.schema' = 'id BIGINT, name STRING, amount BIGINT', 'totals.type' = 'stdout_sink');");
  ASSERT_TRUE(job.ok()) << job.status();
  std::string input;
  for (int i = 0; i < 5000; ++i) {
    input += "{\"id\":" + std::to_string(i) + ",\"name\":\"k" + std::to_string(i % 13) +
             "\",\"amount\":" + std::to_string(i % 7) + "}\n";
  }
  std::vector<std::string> results;
  for (int parallelism : {1, 2}) {
    std::string out;
    bool finished = false;
    JobOptions options;
    options.parallelism = parallelism;
    options.batch_size = 100;
    options.sources["orders"] = [&](int) {
      return std::make_unique<ScriptedSource>(std::vector<std::string>{input});
    };
    options.sinks["totals"] = [&] { return std::make_unique<CollectingSink>(&out, &finished); };
    auto summary = (*job)->Run(options);
    ASSERT_TRUE(summary.ok()) << summary.status();
    EXPECT_EQ(summary->workers, parallelism);
    EXPECT_EQ(SortedLines(out).size(), 13u);
    results.push_back(out);
  }
  EXPECT_EQ(SortedLines(results[0]), SortedLines(results[1]));
}

TEST(EmbeddingApiTest, ErrorsNameTheirPlace) {
  auto bad = Job::Compile(
      "CREATE STREAM s AS SELECT nme FROM orders WITH ('orders.type' = 'file_source', "
      "'orders.path' = 'memory', 'orders.schema' = 'name STRING', 's.type' = 'stdout_sink');");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 1, column 27"), std::string::npos) << bad.status();
  EXPECT_NE(bad.status().message().find("did you mean 'name'"), std::string::npos) << bad.status();

  auto job = Job::Compile(JobText("json"));
  ASSERT_TRUE(job.ok()) << job.status();
  JobOptions unknown_source;
  unknown_source.sources["order"] = [](int) {
    return std::make_unique<ScriptedSource>(std::vector<std::string>{});
  };
  auto run = (*job)->Run(unknown_source);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().message(),
            "JobOptions::sources names 'order', which is no source of the job (its sources: orders)");
  JobOptions unknown_sink;
  unknown_sink.sinks["orders"] = [] { return std::unique_ptr<Sink>(); };
  EXPECT_FALSE((*job)->Run(unknown_sink).ok());
  JobOptions null_source;
  null_source.sources["orders"] = [](int) { return std::unique_ptr<Source>(); };
  auto null_run = (*job)->Run(null_source);
  ASSERT_FALSE(null_run.ok());
  EXPECT_NE(null_run.status().message().find("returned no source"), std::string::npos) << null_run.status();
}

}  // namespace
}  // namespace sluice::testing
