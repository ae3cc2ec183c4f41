// Top-N and deduplication at core level (issue #20: deduplication >= 10M, window Top-N >= 5M
// input records/s on one core): pre-built columnar batches of trades (trader STRING over 1,000
// traders, symbol STRING over 100 symbols, price DOUBLE, trade_time TIMESTAMP ascending, window
// end BIGINT) -> TopNOperator -> counting sink. Items/s is trades in per second on one thread.
// Main() comes from scenario0_benchmark.cc.
#include <benchmark/benchmark.h>

#include <random>

#include "common/strings.h"
#include "ops/top_n_operator.h"

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

const std::vector<TypeId> kTypes = {TypeId::kString, TypeId::kString, TypeId::kDouble, TypeId::kTimestamp,
                                    TypeId::kInt64};

// Trades 1 ms apart from `start`; window ends of 60 s windows.
std::vector<Batch> TradeBatches(size_t batch_size, size_t total_rows, int64_t start) {
  std::mt19937_64 random(42);
  std::vector<std::string> traders, symbols;
  for (int i = 0; i < 1000; ++i) traders.push_back(StrCat("TR", 1000 + i));
  for (int i = 0; i < 100; ++i) symbols.push_back(StrCat("SYM", 100 + i));
  int64_t ts = start;
  std::vector<Batch> batches(std::max<size_t>(1, total_rows / batch_size));
  for (Batch& batch : batches) {
    std::vector<std::shared_ptr<Column>> columns;
    for (TypeId type : kTypes) columns.push_back(std::make_shared<Column>(type, batch_size));
    for (size_t row = 0; row < batch_size; ++row, ++ts) {
      columns[0]->data<std::string_view>()[row] = columns[0]->heap().Add(traders[random() % traders.size()]);
      columns[1]->data<std::string_view>()[row] = columns[1]->heap().Add(symbols[random() % symbols.size()]);
      columns[2]->data<double>()[row] = static_cast<double>(random() % 100000) / 100.0;
      columns[3]->data<int64_t>()[row] = ts;
      columns[4]->data<int64_t>()[row] = ts - ts % 60000 + 60000;
    }
    for (auto& column : columns) column->SetAllValid(batch_size);
    batch.SetColumns(std::move(columns), batch_size);
  }
  return batches;
}

void Run(benchmark::State& state, const TopNSpec& spec) {
  const size_t batch_size = 1024;
  TopNOperator op(spec, kTypes);
  CountingSink sink;
  op.SetOutput(&sink);
  // Several passes over 1M trades, each later in time, so that keep-first keeps deduplicating
  // (its keys are done) and windows keep closing.
  std::vector<Batch> batches = TradeBatches(batch_size, 1 << 20, 1704067200000);
  uint64_t records = 0;
  size_t next = 0;
  for (auto _ : state) {
    if (!op.Push(batches[next]).ok()) state.SkipWithError("push failed");
    records += batches[next].num_rows();
    if (spec.strategy == TopNStrategy::kWindow) {
      // The windowed aggregate fires a window at its end - 1: the watermark follows the input.
      const Batch& batch = batches[next];
      if (!op.OnWatermark(batch.column(3).data<int64_t>()[batch.num_rows() - 1] - 1).ok())
        state.SkipWithError("watermark failed");
    }
    next = next + 1 == batches.size() ? 0 : next + 1;
    if (next == 0) {
      // The next pass is later in event time: times and window ends move on by the pass's span.
      state.PauseTiming();
      for (Batch& batch : batches) {
        for (size_t column : {size_t{3}, size_t{4}}) {
          int64_t* values = batch.mutable_column(column).data<int64_t>();
          for (size_t row = 0; row < batch.num_rows(); ++row) values[row] += int64_t{1} << 20;
        }
      }
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.counters["rows_out"] = static_cast<double>(sink.rows());
  state.counters["keys"] = static_cast<double>(op.state_usage().keys);
  state.counters["state_bytes_per_key"] =
      op.state_usage().keys > 0 ? static_cast<double>(op.state_usage().bytes) / op.state_usage().keys : 0;
}

// Keep the first trade per (trader, symbol): 100,000 keys.
void BM_TopN_DedupKeepFirst_Core(benchmark::State& state) {
  TopNSpec spec;
  spec.strategy = TopNStrategy::kKeepFirst;
  spec.partition_columns = {0, 1};
  spec.order = {TopNOrderKey{3, false}};
  spec.event_time_column = 3;
  spec.input_out_of_orderness_millis = 2000;
  Run(state, spec);
}
BENCHMARK(BM_TopN_DedupKeepFirst_Core);

// Keep the last trade per (trader, symbol): an update per trade.
void BM_TopN_DedupKeepLast_Core(benchmark::State& state) {
  TopNSpec spec;
  spec.strategy = TopNStrategy::kKeepLast;
  spec.partition_columns = {0, 1};
  spec.order = {TopNOrderKey{3, true}};
  Run(state, spec);
}
BENCHMARK(BM_TopN_DedupKeepLast_Core);

// The three highest prices per symbol, with the rank column (updating).
void BM_TopN_Top3PerSymbol_Core(benchmark::State& state) {
  TopNSpec spec;
  spec.strategy = TopNStrategy::kUpdating;
  spec.limit = 3;
  spec.emit_rank = true;
  spec.partition_columns = {1};
  spec.order = {TopNOrderKey{2, true}};
  Run(state, spec);
}
BENCHMARK(BM_TopN_Top3PerSymbol_Core);

// Per 1-minute window, the 10 highest prices per symbol (window Top-N over 100 symbols).
void BM_TopN_WindowTop10PerSymbol_Core(benchmark::State& state) {
  TopNSpec spec;
  spec.strategy = TopNStrategy::kWindow;
  spec.limit = 10;
  spec.emit_rank = true;
  spec.partition_columns = {1, 4};
  spec.order = {TopNOrderKey{2, true}};
  spec.window_end_column = 4;
  Run(state, spec);
}
BENCHMARK(BM_TopN_WindowTop10PerSymbol_Core);

}  // namespace
}  // namespace sluice
