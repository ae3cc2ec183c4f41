// Data generator speed: trades and market data into columnar batches (what core-level
// benchmarks feed operators) and into JSON Lines / CSV text (what `sluice datagen` writes).
// items_per_second is records generated per second on one core; bytes_per_second for text.
#include <benchmark/benchmark.h>

#include <string>

#include "nexmark_generator.h"
#include "trade_generator.h"

namespace sluice {
namespace {

TradeGeneratorOptions Options(TradeDataKind kind) {
  TradeGeneratorOptions options;
  options.kind = kind;
  return options;
}

void RunFillBatch(benchmark::State& state, const TradeGeneratorOptions& options) {
  TradeGenerator generator(options);
  Batch batch;
  uint64_t records = 0;
  for (auto _ : state) {
    records += generator.FillBatch(static_cast<size_t>(state.range(0)), batch);
    benchmark::DoNotOptimize(batch.column(0).data<char>());
    batch.Release();  // as a consumer would: the pools reuse the columns
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
}

void BM_TradeGenerator_FillBatch(benchmark::State& state) {
  RunFillBatch(state, Options(TradeDataKind::kTrades));
}
BENCHMARK(BM_TradeGenerator_FillBatch)->Arg(1024)->Arg(65536);

// Zipf keys over a million traders: the alias table no longer fits in cache.
void BM_TradeGenerator_FillBatchZipfMillionTraders(benchmark::State& state) {
  TradeGeneratorOptions options = Options(TradeDataKind::kTrades);
  options.traders = 1'000'000;
  options.distribution = KeyDistribution::kZipf;
  RunFillBatch(state, options);
}
BENCHMARK(BM_TradeGenerator_FillBatchZipfMillionTraders)->Arg(1024);

// 10% of events delayed by up to 5 s at 1,000 events/s: about 250 pending at any time.
void BM_TradeGenerator_FillBatchOutOfOrder(benchmark::State& state) {
  TradeGeneratorOptions options = Options(TradeDataKind::kTrades);
  options.out_of_order_fraction = 0.1;
  RunFillBatch(state, options);
}
BENCHMARK(BM_TradeGenerator_FillBatchOutOfOrder)->Arg(1024);

void BM_TradeGenerator_FillBatchMarketData(benchmark::State& state) {
  RunFillBatch(state, Options(TradeDataKind::kMarketData));
}
BENCHMARK(BM_TradeGenerator_FillBatchMarketData)->Arg(1024);

void RunText(benchmark::State& state, TradeDataKind kind, bool json) {
  TradeGenerator generator(Options(kind));
  std::string out;
  uint64_t records = 0, bytes = 0;
  for (auto _ : state) {
    out.clear();
    records += json ? generator.AppendJsonLines(16384, out) : generator.AppendCsv(16384, out, false);
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_TradeGenerator_JsonLines(benchmark::State& state) {
  RunText(state, TradeDataKind::kTrades, true);
}
BENCHMARK(BM_TradeGenerator_JsonLines);

void BM_TradeGenerator_Csv(benchmark::State& state) {
  RunText(state, TradeDataKind::kTrades, false);
}
BENCHMARK(BM_TradeGenerator_Csv);

void BM_TradeGenerator_MarketDataJsonLines(benchmark::State& state) {
  RunText(state, TradeDataKind::kMarketData, true);
}
BENCHMARK(BM_TradeGenerator_MarketDataJsonLines);

// Nexmark's events (persons, auctions and bids 1:3:46) as the three JSON Lines texts of
// `datagen --kind nexmark`, in memory: the generator's cost without the files.
void BM_NexmarkGenerator_JsonLines(benchmark::State& state) {
  NexmarkGeneratorOptions options;
  options.count = NexmarkGeneratorOptions::kMaxCount;
  NexmarkGenerator generator(options);
  std::string persons, auctions, bids;
  uint64_t events = 0, bytes = 0;
  for (auto _ : state) {
    persons.clear();
    auctions.clear();
    bids.clear();
    events += generator.AppendJsonLines(16384, persons, auctions, bids);
    bytes += persons.size() + auctions.size() + bids.size();
    benchmark::DoNotOptimize(bids.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(events));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_NexmarkGenerator_JsonLines);

}  // namespace
}  // namespace sluice
