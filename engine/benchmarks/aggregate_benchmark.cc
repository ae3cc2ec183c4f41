// Scenarios 2 and 3a of the brief at core level: pre-built columnar batches of trades in
// memory -> HashAggregate -> counting sink, one thread (items/s = records per second per core).
//   Scenario 2:  SELECT symbol, COUNT(*), SUM(quantity), AVG(price), MIN(price), MAX(price)
//                FROM trades GROUP BY symbol                       (EMIT CHANGES)
//   Scenario 2 with 1,000,000 keys: the same grouped by trader_id over 1M traders.
//   Scenario 3a: GROUP BY trader_id, symbol WINDOW TUMBLING (trade_time, 1 minute) EMIT FINAL
#include <benchmark/benchmark.h>

#include "ops/aggregate_operator.h"
#include "plan/binder.h"
#include "sql/parser.h"

namespace sluice {
namespace {

constexpr const char* kTradeSchema =
    "trade_id BIGINT, trader_id STRING, symbol STRING, price DOUBLE, quantity BIGINT, trade_time TIMESTAMP";

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

BoundJob Bind(const std::string& select) {
  const std::string text =
      "CREATE STREAM out AS " + select +
      " WITH ('trades.type' = 'file_source', 'trades.path' = 'in-memory', 'trades.schema' = '" +
      kTradeSchema + "', 'event.time.field' = 'trade_time')";
  auto parsed = ParseJob(text);
  if (!parsed.ok()) std::abort();
  auto job = BindJob(std::move(*parsed), BindOptions{});
  if (!job.ok()) {
    std::fprintf(stderr, "%s\n", std::string(job.status().message()).c_str());
    std::abort();
  }
  return std::move(*job);
}

const LogicalOperator& AggregateNode(const BoundJob& job) {
  const LogicalOperator* node = job.statements[0].plan.get();
  while (node->kind != LogicalOperatorKind::kAggregate) node = node->input.get();
  return *node;
}

// Batches of trades: `traders` distinct traders, 100 symbols, one trade per 10 ms.
std::vector<Batch> MakeTrades(size_t batches, size_t batch_size, int64_t traders) {
  std::vector<std::string> trader_names, symbol_names;
  for (int64_t i = 0; i < traders; ++i) trader_names.push_back("TR" + std::to_string(100000 + i));
  for (int i = 0; i < 100; ++i) symbol_names.push_back("SYM" + std::to_string(i));
  uint64_t state = 12345;
  auto next = [&state]() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  std::vector<Batch> out(batches);
  int64_t id = 0;
  for (auto& batch : out) {
    auto ids = std::make_shared<Column>(TypeId::kInt64, batch_size);
    auto trader = std::make_shared<Column>(TypeId::kString, batch_size);
    auto symbol = std::make_shared<Column>(TypeId::kString, batch_size);
    auto price = std::make_shared<Column>(TypeId::kDouble, batch_size);
    auto quantity = std::make_shared<Column>(TypeId::kInt64, batch_size);
    auto time = std::make_shared<Column>(TypeId::kTimestamp, batch_size);
    for (size_t i = 0; i < batch_size; ++i, ++id) {
      ids->data<int64_t>()[i] = id;
      trader->data<std::string_view>()[i] = trader->heap().Add(trader_names[next() % traders]);
      symbol->data<std::string_view>()[i] = symbol->heap().Add(symbol_names[next() % 100]);
      price->data<double>()[i] = 100.0 + static_cast<double>(next() % 10000) / 100.0;
      quantity->data<int64_t>()[i] = static_cast<int64_t>(next() % 1000) + 1;
      time->data<int64_t>()[i] = 1767225600000 + id * 10;
    }
    for (auto* column : {ids.get(), trader.get(), symbol.get(), price.get(), quantity.get(), time.get()}) {
      column->SetAllValid(batch_size);
    }
    batch.SetColumns({ids, trader, symbol, price, quantity, time, time}, batch_size);  // + _event_time
  }
  return out;
}

void RunAggregate(benchmark::State& state, const std::string& select, int64_t traders) {
  const BoundJob job = Bind(select);
  const LogicalOperator& node = AggregateNode(job);
  const std::vector<Batch> batches = MakeTrades(512, 1024, traders);
  uint64_t records = 0;
  uint64_t emitted = 0;
  for (auto _ : state) {
    // A fresh operator per pass over the data so that state size stays what the scenario says.
    state.PauseTiming();
    AggregateOperator aggregate(*node.aggregate, node.schema);
    CountingSink sink;
    aggregate.SetOutput(&sink);
    state.ResumeTiming();
    for (const Batch& batch : batches) {
      if (!aggregate.Push(batch).ok()) state.SkipWithError("push failed");
      records += batch.num_rows();
    }
    if (!aggregate.OnWatermark(kMaxWatermark).ok()) state.SkipWithError("watermark failed");
    emitted += sink.rows();
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.counters["rows_out_per_record"] = static_cast<double>(emitted) / static_cast<double>(records);
}

void BM_Scenario2_GroupBySymbol(benchmark::State& state) {
  RunAggregate(state,
               "SELECT symbol, COUNT(*), SUM(quantity), AVG(price), MIN(price), MAX(price) FROM trades GROUP "
               "BY symbol",
               1000);
}
BENCHMARK(BM_Scenario2_GroupBySymbol)->Unit(benchmark::kMillisecond);

void BM_Scenario2_MillionKeys(benchmark::State& state) {
  RunAggregate(state,
               "SELECT trader_id, COUNT(*), SUM(quantity), AVG(price), MIN(price), MAX(price) FROM trades "
               "GROUP BY trader_id",
               1000000);
}
BENCHMARK(BM_Scenario2_MillionKeys)->Unit(benchmark::kMillisecond);

void BM_Scenario3a_TumblingEmitFinal(benchmark::State& state) {
  RunAggregate(
      state,
      "SELECT trader_id, symbol, COUNT(*), SUM(quantity), AVG(price) FROM trades GROUP BY trader_id, symbol "
      "WINDOW TUMBLING (trade_time, INTERVAL '1' MINUTE) EMIT FINAL",
      1000);
}
BENCHMARK(BM_Scenario3a_TumblingEmitFinal)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sluice
