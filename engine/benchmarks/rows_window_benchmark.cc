// Scenario 1 of the brief at core level:
//   SELECT symbol, price, ts, AVG(price) OVER w, MIN(price) OVER w, MAX(price) OVER w FROM trades
//   w = (ROWS WINDOW BUFFER 100 ROWS PARTITION BY symbol ORDER BY ts)
// Pre-built columnar batches of trades (symbol STRING over 100 symbols, price DOUBLE as a random
// walk per symbol, ts TIMESTAMP) -> RowsWindowOperator -> counting sink. Items/s is trades in
// per second on one thread, i.e. per core. Main() comes from scenario0_benchmark.cc.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>

#include "common/strings.h"
#include "ops/rows_window_operator.h"

namespace sluice {
namespace {

constexpr int kSymbols = 100;

// Counts rows and reads one window result per batch so nothing is optimised away.
class CountingSink final : public Operator {
 public:
  explicit CountingSink(size_t checked_column) : checked_column_(checked_column) {}
  absl::Status Push(const Batch& batch) override {
    rows_ += batch.active_rows();
    if (batch.active_rows() > 0)
      checksum_ += batch.column(checked_column_).data<double>()[batch.ActiveRow(0)];
    return absl::OkStatus();
  }
  std::string Describe() const override { return "CountingSink"; }
  uint64_t rows() const { return rows_; }

 private:
  size_t checked_column_;
  uint64_t rows_ = 0;
  double checksum_ = 0;
};

std::vector<Batch> TradeBatches(size_t batch_size, size_t total_rows) {
  std::mt19937_64 random(42);
  std::uniform_int_distribution<int> symbol(0, kSymbols - 1);
  std::normal_distribution<double> step(0.0, 0.05);
  std::vector<std::string> names;
  std::vector<double> prices;
  for (int i = 0; i < kSymbols; ++i) {
    names.push_back(StrCat("SYM", 100 + i));
    prices.push_back(50.0 + i);
  }
  int64_t ts = 1704067200000;
  std::vector<Batch> batches(std::max<size_t>(1, total_rows / batch_size));
  for (Batch& batch : batches) {
    auto symbols = std::make_shared<Column>(TypeId::kString, batch_size);
    auto price = std::make_shared<Column>(TypeId::kDouble, batch_size);
    auto time = std::make_shared<Column>(TypeId::kTimestamp, batch_size);
    for (size_t row = 0; row < batch_size; ++row) {
      const int s = symbol(random);
      prices[s] = std::max(1.0, prices[s] + step(random));
      symbols->data<std::string_view>()[row] = symbols->heap().Add(names[s]);
      price->data<double>()[row] = std::round(prices[s] * 100) / 100;
      time->data<int64_t>()[row] = ts++;
    }
    symbols->SetAllValid(batch_size);
    price->SetAllValid(batch_size);
    time->SetAllValid(batch_size);
    batch.SetColumns({symbols, price, time}, batch_size);
  }
  return batches;
}

void BM_Scenario1_RowsWindow_Core(benchmark::State& state) {
  const size_t batch_size = static_cast<size_t>(state.range(0));
  const std::vector<TypeId> types = {TypeId::kString, TypeId::kDouble, TypeId::kTimestamp};
  RowsWindowSpec spec;
  spec.partition_columns = {0};
  spec.buffer_rows = 100;
  spec.frame_rows = 100;
  spec.event_time_column = 2;
  for (auto kind :
       {RowsWindowFunction::Kind::kAvg, RowsWindowFunction::Kind::kMin, RowsWindowFunction::Kind::kMax}) {
    RowsWindowFunction function;
    function.kind = kind;
    function.argument_column = 1;
    function.argument_type = TypeId::kDouble;
    function.result_type = TypeId::kDouble;
    spec.functions.push_back(function);
  }
  RowsWindowOperator window(spec, types);
  CountingSink sink(/*checked_column=*/3);  // AVG(price)
  window.SetOutput(&sink);
  const std::vector<Batch> batches = TradeBatches(batch_size, 1 << 20);
  uint64_t records = 0;
  size_t next = 0;
  for (auto _ : state) {
    if (!window.Push(batches[next]).ok()) state.SkipWithError("push failed");
    records += batches[next].num_rows();
    next = next + 1 == batches.size() ? 0 : next + 1;
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.counters["partitions"] = static_cast<double>(window.live_partitions());
}
BENCHMARK(BM_Scenario1_RowsWindow_Core)->Arg(1024)->Arg(4096);

}  // namespace
}  // namespace sluice
