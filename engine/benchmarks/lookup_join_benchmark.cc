// Lookup joins at core level: pre-built columnar batches of trades (trader STRING over 110,000
// traders, a tenth of them without a row in the table, price DOUBLE, trade_time TIMESTAMP
// ascending) -> LookupJoinOperator -> counting sink, against a table of 100,000 traders read
// from a JSON Lines file once before timing: unversioned (one row per trader), or versioned
// with 4 versions per trader and looked up FOR SYSTEM_TIME AS OF the trade's time. Items/s is
// trades in per second on one thread. Main() comes from scenario0_benchmark.cc.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/strings.h"
#include "ops/lookup_join_operator.h"
#include "plan/binder.h"
#include "sql/parser.h"

namespace sluice {
namespace {

class CountingSink final : public Operator {
 public:
  absl::Status Push(const Batch& batch) override {
    rows_ += batch.active_rows();
    return absl::OkStatus();
  }
  std::string Describe() const override { return "CountingSink"; }
  uint64_t rows() const { return rows_; }

 private:
  uint64_t rows_ = 0;
};

constexpr int kTableKeys = 100000;
constexpr int64_t kStart = 1704067200000;

std::string TraderName(int i) {
  return StrCat("TR", 1000000 + i);
}

// The table file: per trader `versions` rows, valid from kStart + v * 250 s.
std::string WriteTable(int versions) {
  const std::string path =
      (std::filesystem::temp_directory_path() / StrCat("sluice_lookup_benchmark_", versions, ".jsonl"))
          .string();
  std::ofstream out(path);
  for (int v = 0; v < versions; ++v) {
    for (int i = 0; i < kTableKeys; ++i) {
      out << "{\"trader\":\"" << TraderName(i) << "\",\"desk\":\"desk-" << i % 50
          << "\",\"max_notional\":" << 1000 + v << ",\"valid_from\":" << kStart + v * 250000 << "}\n";
    }
  }
  return path;
}

// Trades 1 ms apart from kStart (1M of them span 1,000 s: all four versions are seen).
std::vector<Batch> TradeBatches(size_t batch_size, size_t total_rows) {
  std::mt19937_64 random(42);
  std::vector<std::string> traders;
  for (int i = 0; i < kTableKeys * 11 / 10; ++i) traders.push_back(TraderName(i));
  int64_t ts = kStart;
  std::vector<Batch> batches(total_rows / batch_size);
  for (Batch& batch : batches) {
    std::vector<std::shared_ptr<Column>> columns;
    // The source's columns: trader, price, trade_time and _event_time (the same times).
    for (TypeId type : {TypeId::kString, TypeId::kDouble, TypeId::kTimestamp, TypeId::kTimestamp}) {
      columns.push_back(std::make_shared<Column>(type, batch_size));
    }
    for (size_t row = 0; row < batch_size; ++row, ++ts) {
      columns[0]->data<std::string_view>()[row] = columns[0]->heap().Add(traders[random() % traders.size()]);
      columns[1]->data<double>()[row] = static_cast<double>(random() % 100000) / 100.0;
      columns[2]->data<int64_t>()[row] = ts;
      columns[3]->data<int64_t>()[row] = ts;
    }
    for (auto& column : columns) column->SetAllValid(batch_size);
    batch.SetColumns(std::move(columns), batch_size);
  }
  return batches;
}

void Run(benchmark::State& state, bool versioned) {
  const std::string table_path = WriteTable(versioned ? 4 : 1);
  const std::string job = StrCat(
      "SELECT t.trader, t.price, l.desk, l.max_notional FROM trades t JOIN limits ",
      versioned ? "FOR SYSTEM_TIME AS OF t.trade_time " : "",
      "AS l ON t.trader = l.trader WITH ('trades.type' = ",
      "'file_source', 'trades.path' = 'unused.jsonl', 'trades.schema' = 'trader STRING, price DOUBLE, "
      "trade_time ",
      "TIMESTAMP', 'limits.type' = 'file_source', 'limits.path' = '", table_path,
      "', 'limits.schema' = 'trader STRING, desk STRING, max_notional BIGINT, valid_from TIMESTAMP', ",
      "'limits.primary.key' = 'trader'", versioned ? ", 'limits.event.time.field' = 'valid_from'" : "", ")");
  auto parsed = ParseJob(job);
  if (!parsed.ok()) return state.SkipWithError(std::string(parsed.status().message()).c_str());
  BindOptions options;
  options.read_files = false;
  auto bound = BindJob(std::move(*parsed), options);
  if (!bound.ok()) return state.SkipWithError(std::string(bound.status().message()).c_str());
  const LogicalOperator* node = bound->statements.back().plan.get();
  while (node != nullptr && node->kind != LogicalOperatorKind::kLookupJoin) node = node->input.get();
  if (node == nullptr) return state.SkipWithError("no lookup join in the plan");
  LookupJoinOperator op(*node->lookup_join, node->input->schema);
  CountingSink sink;
  op.SetOutput(&sink);
  const std::vector<Batch> batches = TradeBatches(1024, 1 << 20);
  if (!op.Push(batches[0]).ok()) return state.SkipWithError("loading the table failed");  // before timing
  uint64_t records = 0;
  size_t next = 0;
  for (auto _ : state) {
    if (!op.Push(batches[next]).ok()) state.SkipWithError("push failed");
    records += batches[next].num_rows();
    next = next + 1 == batches.size() ? 0 : next + 1;
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.counters["rows_out"] = static_cast<double>(sink.rows());
  std::filesystem::remove(table_path);
}

// One row per trader, looked up at its latest version.
void BM_LookupJoin_Latest_Core(benchmark::State& state) {
  Run(state, /*versioned=*/false);
}
BENCHMARK(BM_LookupJoin_Latest_Core);

// Four versions per trader, looked up as of each trade's time.
void BM_LookupJoin_AsOfEventTime_Core(benchmark::State& state) {
  Run(state, /*versioned=*/true);
}
BENCHMARK(BM_LookupJoin_AsOfEventTime_Core);

}  // namespace
}  // namespace sluice
