// LookupJoinOperator and its shared table (connectors/lookup_table_source.h): several instances
// (workers) share one table, read once; with '<t>.reload.interval' the table is read again once
// its file changed, and every instance takes the new one at its next batch; without it a
// changed file is not looked at. Lookups themselves are checked against SQLite in
// join_oracle_test.cc and by hand in sql/lookup_joins.test.
#include "ops/lookup_join_operator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "common/strings.h"
#include "connectors/lookup_table_source.h"
#include "job_test_harness.h"
#include "plan/binder.h"
#include "sql/parser.h"

namespace sluice::testing {
namespace {

class CollectingSink final : public Operator {
 public:
  absl::Status Push(const Batch& batch) override {
    for (size_t i = 0; i < batch.active_rows(); ++i) {
      const uint32_t row = batch.ActiveRow(i);
      std::string line;
      for (size_t c = 0; c < batch.num_columns(); ++c) {
        if (c > 0) line += " ";
        line += batch.column(c).GetValue(row).ToSql();
      }
      rows.push_back(line);
    }
    return absl::OkStatus();
  }
  std::string Describe() const override { return "CollectingSink"; }
  std::vector<std::string> rows;
};

// A bound job whose statement is SELECT o.id, r.rate FROM orders o JOIN rates r ON ...: its
// lookup join node, for operators made from it.
class LookupJob {
 public:
  LookupJob(const std::string& table_path, const std::string& extra_properties) {
    const std::string text = StrCat(
        "SELECT o.id, o.currency, r.rate FROM orders o LEFT JOIN rates r ON o.currency = r.currency WITH ("
        "'orders.type' = 'file_source', 'orders.path' = 'unread.jsonl', 'orders.schema' = 'id BIGINT, "
        "currency "
        "STRING', 'rates.type' = 'file_source', 'rates.path' = '",
        table_path, "', 'rates.format' = 'json', 'rates.schema' = 'currency STRING, rate DOUBLE', ",
        "'rates.primary.key' = 'currency'", extra_properties, ")");
    auto parsed = ParseJob(text);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    auto bound = BindJob(std::move(*parsed), BindOptions{});
    EXPECT_TRUE(bound.ok()) << bound.status();
    job_ = std::move(*bound);
    for (const LogicalOperator* node = job_.statements.back().plan.get(); node != nullptr;
         node = node->input.get()) {
      if (node->kind == LogicalOperatorKind::kLookupJoin) node_ = node;
    }
    EXPECT_NE(node_, nullptr);
  }
  std::unique_ptr<LookupJoinOperator> MakeOperator() const {
    return std::make_unique<LookupJoinOperator>(*node_->lookup_join, node_->input->schema);
  }
  LookupTableProvider& table() const { return *node_->lookup_join->table; }

 private:
  BoundJob job_;
  const LogicalOperator* node_ = nullptr;
};

// Orders (id, currency, _event_time): one per currency given.
Batch Orders(const std::vector<std::string>& currencies) {
  const size_t rows = currencies.size();
  auto ids = std::make_shared<Column>(TypeId::kInt64, rows);
  auto names = std::make_shared<Column>(TypeId::kString, rows);
  auto times = std::make_shared<Column>(TypeId::kTimestamp, rows);
  for (size_t row = 0; row < rows; ++row) {
    ids->data<int64_t>()[row] = static_cast<int64_t>(row + 1);
    names->data<std::string_view>()[row] = names->heap().Add(currencies[row]);
    times->data<int64_t>()[row] = 0;
  }
  for (auto* column : {ids.get(), names.get(), times.get()}) column->SetAllValid(rows);
  Batch batch;
  batch.SetColumns({ids, names, times}, rows);
  return batch;
}

// The rate column of what `op` emits for `batch` (the output: id, currency, _event_time, then
// the table's currency and rate).
std::vector<std::string> RatesOf(LookupJoinOperator& op, const Batch& batch) {
  CollectingSink sink;
  op.SetOutput(&sink);
  const absl::Status status = op.Push(batch);
  EXPECT_TRUE(status.ok()) << status;
  op.SetOutput(nullptr);
  std::vector<std::string> rates;
  for (const std::string& row : sink.rows) rates.push_back(row.substr(row.rfind(' ') + 1));
  return rates;
}

// Rewrites `path` and moves its modification time on, so that a change shows even on a file
// system whose clock is coarse.
void Rewrite(const std::string& path, const std::string& contents) {
  const auto before = std::filesystem::last_write_time(path);
  WriteFile(path, contents);
  std::filesystem::last_write_time(path, before + std::chrono::seconds(2));
}

TEST(LookupJoinOperatorTest, WorkersShareTheTableAndTakeItAgainOnceTheFileChanged) {
  TemporaryDirectory directory;
  const std::string path = directory.File("rates.jsonl");
  WriteFile(path, "{\"currency\":\"EUR\",\"rate\":1.1}\n");
  LookupJob job(path, ", 'rates.reload.interval' = '20ms'");
  auto worker_1 = job.MakeOperator();
  auto worker_2 = job.MakeOperator();
  const Batch orders = Orders({"EUR", "USD"});
  EXPECT_EQ(RatesOf(*worker_1, orders), (std::vector<std::string>{"1.1", "NULL"}));
  EXPECT_EQ(RatesOf(*worker_2, orders), (std::vector<std::string>{"1.1", "NULL"}));

  // The interval passes with the file as it was: nothing is read again.
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  EXPECT_EQ(RatesOf(*worker_1, orders), (std::vector<std::string>{"1.1", "NULL"}));
  EXPECT_EQ(job.table().reloads(), 0u);

  // The file changes: the next batch after the interval sees the new rows, on every worker.
  Rewrite(path, "{\"currency\":\"EUR\",\"rate\":2.5}\n{\"currency\":\"USD\",\"rate\":1.0}\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  EXPECT_EQ(RatesOf(*worker_1, orders), (std::vector<std::string>{"2.5", "1"}));
  EXPECT_EQ(RatesOf(*worker_2, orders), (std::vector<std::string>{"2.5", "1"}));
  EXPECT_EQ(job.table().reloads(), 1u);
}

TEST(LookupJoinOperatorTest, WithoutAReloadIntervalAChangedFileIsNotReadAgain) {
  TemporaryDirectory directory;
  const std::string path = directory.File("rates.jsonl");
  WriteFile(path, "{\"currency\":\"EUR\",\"rate\":1.1}\n");
  LookupJob job(path, "");
  auto op = job.MakeOperator();
  const Batch orders = Orders({"EUR"});
  EXPECT_EQ(RatesOf(*op, orders), (std::vector<std::string>{"1.1"}));
  Rewrite(path, "{\"currency\":\"EUR\",\"rate\":2.5}\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  EXPECT_EQ(RatesOf(*op, orders), (std::vector<std::string>{"1.1"}));
  EXPECT_EQ(job.table().reloads(), 0u);
}

// A table that cannot be read again fails the job: a lookup against a table it cannot vouch for
// would be wrong.
TEST(LookupJoinOperatorTest, AFailedReReadFailsTheNextBatch) {
  TemporaryDirectory directory;
  const std::string path = directory.File("rates.jsonl");
  WriteFile(path, "{\"currency\":\"EUR\",\"rate\":1.1}\n");
  LookupJob job(path, ", 'rates.reload.interval' = '20ms'");
  auto op = job.MakeOperator();
  const Batch orders = Orders({"EUR"});
  EXPECT_EQ(RatesOf(*op, orders), (std::vector<std::string>{"1.1"}));
  std::filesystem::remove(path);
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  CollectingSink sink;
  op->SetOutput(&sink);
  const absl::Status status = op->Push(orders);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("reading table 'rates'"), std::string::npos) << status;
  EXPECT_TRUE(sink.rows.empty());
}

}  // namespace
}  // namespace sluice::testing
